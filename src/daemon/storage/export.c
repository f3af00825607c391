/* rootfs_export: a plain tar of a container's merged filesystem; see layer_store.h. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/storage/layer_internal.h"

static int copy_data(struct archive *disk, struct archive *w)
{
    char buf[64 * 1024];
    la_ssize_t n;
    while ((n = archive_read_data(disk, buf, sizeof(buf))) > 0) {
        if (archive_write_data(w, buf, (size_t)n) != n)
            return -1;
    }
    return n < 0 ? -1 : 0;
}

/* Rewrites "<merged>/x/y" to "x/y"; returns false for the root itself. */
static bool relative_name(struct archive_entry *e, size_t prefix_len)
{
    const char *p = archive_entry_pathname(e);
    cleanup_free char *rel = NULL;
    if (p == NULL || strlen(p) <= prefix_len)
        return false;
    rel = xstrdup(p + prefix_len + (p[prefix_len] == '/' ? 1 : 0));
    if (rel[0] == '\0')
        return false;
    archive_entry_set_pathname(e, rel);
    return true;
}

static int walk_tree(struct archive *disk, struct archive *w, const char *merged, struct isd_error **err)
{
    struct archive_entry *e = archive_entry_new();
    int r;
    while ((r = archive_read_next_header2(disk, e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        archive_read_disk_descend(disk);
        if (!relative_name(e, strlen(merged)))
            continue;
        if (archive_write_header(w, e) < ARCHIVE_WARN) {
            r = ARCHIVE_FATAL;
            break;
        }
        if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0 && copy_data(disk, w) < 0) {
            r = ARCHIVE_FATAL;
            break;
        }
    }
    archive_entry_free(e);
    if (r != ARCHIVE_EOF)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "export `%s`: %s / %s", merged, archive_error_string(disk),
                             archive_error_string(w));
    return 0;
}

static int write_tar(const char *merged, int out_fd, struct isd_error **err)
{
    struct archive *disk = archive_read_disk_new();
    struct archive *w = archive_write_new();
    int r = -1;
    archive_read_disk_set_symlink_physical(disk);
    archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
    archive_write_set_format_pax_restricted(w);
    archive_write_set_bytes_in_last_block(w, 1);
    if (archive_write_open_fd(w, out_fd) != ARCHIVE_OK || archive_read_disk_open(disk, merged) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "export `%s`: %s", merged, archive_error_string(disk));
        goto out;
    }
    if (walk_tree(disk, w, merged, err) < 0)
        goto out;
    if (archive_write_close(w) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "export `%s`: %s", merged, archive_error_string(w));
        goto out;
    }
    r = 0;
out:
    archive_read_free(disk);
    archive_write_free(w);
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
