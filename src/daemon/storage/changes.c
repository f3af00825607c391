/*
 * A container's changes against its image, read from the overlay upper directory (`diff`): docker diff's
 * list (a whiteout is a deletion, a name present in a lower layer a change, anything else an addition) and
 * commit's layer tar (overlay whiteouts back to OCI `.wh.` entries, opaque directories to `.wh..wh..opq`,
 * the second and later names of a hard-linked file as tar hard-link entries naming the first).
 * Every name is opened O_NOFOLLOW below the upper directory's fd. See layer_store.h.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/storage/layer_internal.h"

struct upper_walk {
    int (*visit)(struct upper_walk *w, int dfd, const char *name, const char *rel, const struct stat *st);
    char **lowers; /* absolute lower directories, top first */
    json_t *list;
    struct archive *tar;
    struct archive_entry_linkresolver *links; /* later names of a hard-linked file become link entries */
    struct isd_error **err;
};

static bool is_whiteout(const struct stat *st)
{
    return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **dir_names_sorted(int fd)
{
    int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0), saved;
    DIR *d = dup_fd < 0 ? NULL : fdopendir(dup_fd);
    struct dirent *de;
    size_t n = 0, cap = 16;
    char **v = xcalloc(cap + 1, sizeof(*v));
    if (d == NULL) {
        saved = errno;
        if (dup_fd >= 0)
            close(dup_fd);
        free(v);
        errno = saved;
        return NULL;
    }
    rewinddir(d);
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        if (streq(de->d_name, ".") || streq(de->d_name, "..")) {
            errno = 0;
            continue;
        }
        if (n == cap) {
            cap *= 2;
            v = xrealloc(v, (cap + 1) * sizeof(*v));
        }
        v[n++] = xstrdup(de->d_name);
        v[n] = NULL;
        errno = 0;
    }
    saved = errno;
    closedir(d);
    if (saved != 0) {
        strv_free(v);
        errno = saved;
        return NULL;
    }
    qsort(v, n, sizeof(*v), by_name);
    return v;
}

static int walk_dir(struct upper_walk *w, int fd, const char *rel)
{
    char **names = dir_names_sorted(fd);
    int r = 0;
    if (names == NULL) {
        r = isd_error_errno(w->err, "read `%s`", rel);
        close(fd);
        return r;
    }
    for (size_t i = 0; r == 0 && names[i] != NULL; i++) {
        struct stat st;
        cleanup_free char *child = xasprintf("%s/%s", rel, names[i]);
        if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
            r = isd_error_errno(w->err, "stat `%s`", child);
            break;
        }
        r = w->visit(w, fd, names[i], child, &st);
        if (r == 0 && S_ISDIR(st.st_mode)) {
            int cfd = openat(fd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            r = cfd < 0 ? isd_error_errno(w->err, "open `%s`", child) : walk_dir(w, cfd, child);
        }
    }
    strv_free(names);
    close(fd);
    return r;
}

static bool in_lower(struct upper_walk *w, const char *rel)
{
    struct stat st;
    for (size_t i = 0; w->lowers != NULL && w->lowers[i] != NULL; i++) {
        cleanup_free char *p = xasprintf("%s%s", w->lowers[i], rel);
        if (fstatat(AT_FDCWD, p, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return !is_whiteout(&st);
    }
    return false;
}

static int visit_change(struct upper_walk *w, int dfd, const char *name, const char *rel, const struct stat *st)
{
    int kind = is_whiteout(st) ? 2 : in_lower(w, rel) ? 0 : 1;
    (void)dfd, (void)name;
    json_array_append_new(w->list, json_pack("{s:s, s:i}", "Path", rel, "Kind", kind));
    return 0;
}

static int walk_upper(struct layer_store *ls, const char *cid, struct upper_walk *w, struct isd_error **err)
{
    cleanup_free char *upper = NULL, *lower = NULL;
    int fd;
    if (!id_is_safe(cid) || !rootfs_exists(ls, cid))
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "rootfs of `%s` not found", cid ? cid : "");
    lower = layer_store_lowerdir(ls, cid, err);
    if (lower == NULL)
        return -1;
    for (char *save = NULL, *t = strtok_r(lower, ":", &save); t != NULL; t = strtok_r(NULL, ":", &save))
        strv_append(&w->lowers, t);
    w->err = err;
    upper = xasprintf("%s/%s/diff", ls->overlay, cid);
    fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return isd_error_errno(err, "open `%s`", upper);
    return walk_dir(w, fd, "");
}

static int by_path(const void *a, const void *b)
{
    return strcmp(json_get_str(*(json_t *const *)a, "Path"), json_get_str(*(json_t *const *)b, "Path"));
}

json_t *rootfs_changes(struct layer_store *ls, const char *container_id, struct isd_error **err)
{
    struct upper_walk w = {.visit = visit_change, .list = json_array()};
    json_t *sorted;
    size_t n;
    json_t **items;
    int r = walk_upper(ls, container_id, &w, err);
    strv_free(w.lowers);
    if (r < 0) {
        json_decref(w.list);
        return NULL;
    }
    n = json_array_size(w.list);
    items = xcalloc(n + 1, sizeof(*items));
    for (size_t i = 0; i < n; i++)
        items[i] = json_array_get(w.list, i);
    qsort(items, n, sizeof(*items), by_path);
    sorted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append(sorted, items[i]);
    free(items);
    json_decref(w.list);
    return sorted;
}

static int tar_header(struct upper_walk *w, struct archive_entry *e)
{
    if (archive_write_header(w->tar, e) < ARCHIVE_WARN)
        return isd_error_set(w->err, ISD_ERR_INTERNAL, 0, "%s", archive_error_string(w->tar));
    return 0;
}

/* An empty regular file entry named dir/.wh.<name>. */
static int tar_marker(struct upper_walk *w, const char *rel, const char *mark, const struct stat *st)
{
    const char *slash = strrchr(rel, '/');
    cleanup_free char *name =
        mark[0] == '\0' ? xasprintf("%.*s/.wh.%s", (int)(slash - rel), rel, slash + 1) : xasprintf("%s/%s", rel, mark);
    struct archive_entry *e = archive_entry_new();
    int r;
    archive_entry_set_pathname(e, name + 1);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
    r = tar_header(w, e);
    archive_entry_free(e);
    return r;
}

static int tar_file_data(struct upper_walk *w, int dfd, const char *name, const char *rel)
{
    cleanup_close int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    char buf[128 * 1024];
    ssize_t n;
    if (fd < 0)
        return isd_error_errno(w->err, "open `%s`", rel);
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (archive_write_data(w->tar, buf, (size_t)n) != n)
            return isd_error_set(w->err, ISD_ERR_INTERNAL, 0, "%s", archive_error_string(w->tar));
    }
    return n < 0 ? isd_error_errno(w->err, "read `%s`", rel) : 0;
}

static int visit_tar(struct upper_walk *w, int dfd, const char *name, const char *rel, const struct stat *st)
{
    struct archive_entry *e, *spare = NULL;
    char target[PATH_MAX], opq = 0;
    bool has_data;
    ssize_t n;
    int r;
    if (is_whiteout(st))
        return tar_marker(w, rel, "", st);
    e = archive_entry_new();
    archive_entry_copy_stat(e, st);
    archive_entry_set_pathname(e, rel + 1);
    if (S_ISLNK(st->st_mode) && (n = readlinkat(dfd, name, target, sizeof(target) - 1)) >= 0) {
        target[n] = '\0';
        archive_entry_set_symlink(e, target);
    }
    archive_entry_linkify(w->links, &e, &spare);
    has_data = S_ISREG(st->st_mode) && archive_entry_hardlink(e) == NULL && archive_entry_size(e) > 0;
    r = tar_header(w, e);
    archive_entry_free(e);
    if (r == 0 && has_data)
        r = tar_file_data(w, dfd, name, rel);
    if (r == 0 && S_ISDIR(st->st_mode)) {
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && fgetxattr(fd, "trusted.overlay.opaque", &opq, 1) == 1 && opq == 'y')
            r = tar_marker(w, rel, ".wh..wh..opq", st);
        if (fd >= 0)
            close(fd);
    }
    return r;
}

int rootfs_diff_tar(struct layer_store *ls, const char *container_id, int out_fd, struct isd_error **err)
{
    struct upper_walk w = {.visit = visit_tar, .tar = archive_write_new(), .links = archive_entry_linkresolver_new()};
    int r;
    archive_entry_linkresolver_set_strategy(w.links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
    archive_write_set_format_pax_restricted(w.tar);
    archive_write_set_bytes_in_last_block(w.tar, 1);
    if (archive_write_open_fd(w.tar, out_fd) != ARCHIVE_OK) {
        r = isd_error_set(err, ISD_ERR_INTERNAL, 0, "diff tar: %s", archive_error_string(w.tar));
        archive_write_free(w.tar);
        archive_entry_linkresolver_free(w.links);
        return r;
    }
    r = walk_upper(ls, container_id, &w, err);
    if (r == 0 && archive_write_close(w.tar) != ARCHIVE_OK)
        r = isd_error_set(err, ISD_ERR_INTERNAL, 0, "diff tar: %s", archive_error_string(w.tar));
    archive_write_free(w.tar);
    archive_entry_linkresolver_free(w.links);
    strv_free(w.lowers);
    return r;
}
