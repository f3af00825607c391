/* rootfs_export: a plain tar of a container's merged filesystem; see layer_store.h. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/storage/layer_internal.h"

/*
 * The tree is walked in byte order of names (as Docker's archive does), every name opened O_NOFOLLOW below its
 * directory's fd; mounts inside the tree are listed but not descended into. The second and later names of a
 * hard-linked file are written as hard-link entries naming the first, as Docker's export does (the link
 * resolver keeps the first name per device and inode).
 */
struct export_walk {
    struct archive *disk, *w;
    struct archive_entry_linkresolver *links;
    const char *merged;
    dev_t dev;
    struct isd_error **err;
};

static int copy_data(struct export_walk *x, int fd, const char *rel)
{
    char buf[128 * 1024];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (archive_write_data(x->w, buf, (size_t)n) != n)
            return isd_error_set(x->err, ISD_ERR_INTERNAL, 0, "export: %s", archive_error_string(x->w));
    }
    return n < 0 ? isd_error_errno(x->err, "export: read `%s`", rel) : 0;
}

static int walk_dir(struct export_walk *x, int dfd, const char *rel);

static int export_entry(struct export_walk *x, int dfd, const char *name, const char *rel, const struct stat *st)
{
    struct archive_entry *e = archive_entry_new(), *spare = NULL;
    cleanup_free char *src = xasprintf("%s/%s", x->merged, rel);
    cleanup_close int fd = -1;
    bool has_data;
    int r = 0;
    if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode)) {
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st->st_mode) ? O_DIRECTORY : 0));
        if (fd < 0) {
            archive_entry_free(e);
            return isd_error_errno(x->err, "export: open `%s`", rel);
        }
    }
    archive_entry_copy_pathname(e, rel);
    archive_entry_copy_sourcepath(e, src);
    if (archive_read_disk_entry_from_file(x->disk, e, fd, st) < ARCHIVE_WARN) {
        r = isd_error_set(x->err, ISD_ERR_INTERNAL, 0, "export `%s`: %s", rel, archive_error_string(x->disk));
        archive_entry_free(e);
        return r;
    }
    archive_entry_linkify(x->links, &e, &spare);
    has_data = S_ISREG(st->st_mode) && archive_entry_hardlink(e) == NULL && archive_entry_size(e) > 0;
    if (archive_write_header(x->w, e) < ARCHIVE_WARN)
        r = isd_error_set(x->err, ISD_ERR_INTERNAL, 0, "export `%s`: %s", rel, archive_error_string(x->w));
    archive_entry_free(e);
    if (r == 0 && has_data)
        r = copy_data(x, fd, rel);
    if (r == 0 && S_ISDIR(st->st_mode) && st->st_dev == x->dev) {
        r = walk_dir(x, fd, rel);
        fd = -1; /* walk_dir closed it */
    }
    return r;
}

static int walk_dir(struct export_walk *x, int dfd, const char *rel)
{
    char **names = dir_names_sorted(dfd);
    int r = 0;
    if (names == NULL) {
        r = isd_error_errno(x->err, "export: read `%s`", rel[0] ? rel : "/");
        close(dfd);
        return r;
    }
    for (size_t i = 0; r == 0 && names[i] != NULL; i++) {
        struct stat st;
        cleanup_free char *child = rel[0] ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
        if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
            r = isd_error_errno(x->err, "export: stat `%s`", child);
        else
            r = export_entry(x, dfd, names[i], child, &st);
    }
    strv_free(names);
    close(dfd);
    return r;
}

static int write_tar(const char *merged, int out_fd, struct isd_error **err)
{
    struct export_walk x = {.disk = archive_read_disk_new(),
                            .w = archive_write_new(),
                            .links = archive_entry_linkresolver_new(),
                            .merged = merged,
                            .err = err};
    struct stat st;
    int fd = open(merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = -1;
    archive_entry_linkresolver_set_strategy(x.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    archive_write_set_format_pax_restricted(x.w);
    archive_write_set_bytes_in_last_block(x.w, 1);
    if (fd < 0 || fstat(fd, &st) < 0) {
        isd_error_errno(err, "export: open `%s`", merged);
        if (fd >= 0)
            close(fd);
        goto out;
    }
    x.dev = st.st_dev;
    if (archive_write_open_fd(x.w, out_fd) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "export `%s`: %s", merged, archive_error_string(x.w));
        close(fd);
        goto out;
    }
    if (walk_dir(&x, fd, "") < 0)
        goto out;
    if (archive_write_close(x.w) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "export `%s`: %s", merged, archive_error_string(x.w));
        goto out;
    }
    r = 0;
out:
    archive_read_free(x.disk);
    archive_write_free(x.w);
    archive_entry_linkresolver_free(x.links);
    return r;
}

int rootfs_export(struct layer_store *ls, const char *container_id, int out_fd, struct isd_error **err)
{
    cleanup_free char *merged = NULL;
    bool was_mounted;
    int r;
    if (!rootfs_exists(ls, container_id))
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "rootfs of `%s` not found", container_id);
    merged = xasprintf("%s/%s/merged", ls->overlay, container_id);
    was_mounted = path_is_mount_root(merged);
    free(merged);
    merged = NULL;
    if (rootfs_mount(ls, container_id, &merged, err) < 0)
        return -1;
    r = write_tar(merged, out_fd, err);
    if (!was_mounted)
        rootfs_umount(ls, container_id, NULL);
    return r;
}
