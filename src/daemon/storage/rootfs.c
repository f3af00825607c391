/*
 * Container rootfs: a read-write overlay layer (diff, work, merged) on top of an image's top layer.
 * See layer_store.h; records are overlay/<cid>/container.json.
 */
#include "daemon/storage/layer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

static char *cdir(struct layer_store *ls, const char *cid)
{
    return xasprintf("%s/%s", ls->overlay, cid);
}

static int check_cid(const char *cid, struct isd_error **err)
{
    if (!id_is_safe(cid))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid container id `%s`", cid ? cid : "");
    return 0;
}

bool rootfs_exists(struct layer_store *ls, const char *container_id)
{
    cleanup_free char *dir = cdir(ls, container_id);
    cleanup_free char *rec = xasprintf("%s/container.json", dir);
    return id_is_safe(container_id) && path_exists(rec);
}

static int take_top(struct layer_store *ls, const char *cid, const char *top, char **ret_lower, struct isd_error **err)
{
    cleanup_free char *dir = cdir(ls, cid);
    cleanup_free char *bad = NULL;
    struct layer *l = NULL;
    int r = 0;
    store_lock(ls->table);
    if (path_exists(dir))
        r = isd_error_set(err, ISD_ERR_CONFLICT, 0, "rootfs of `%s` already exists", cid);
    else if (top != NULL && (l = layer_find_locked(ls, top)) == NULL)
        r = isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "layer `%s` not found", top);
    else if (top != NULL && (bad = layer_chain_damaged_locked(ls, top)) != NULL)
        r = isd_error_set(err, ISD_ERR_INVALID, 0,
                          "image layer `%s` is damaged (image-layer-check failed): the image is unusable", bad);
    if (r == 0 && l != NULL)
        l->rootfs_refs++; /* in memory: the rootfs record is the durable side of it */
    if (r == 0)
        *ret_lower = layer_lower_locked(ls, top);
    store_unlock(ls->table);
    return r;
}

/* Drops the rootfs hold on its top layer; an image removed meanwhile takes its layers with it now. */
static void release_top(struct layer_store *ls, const char *top)
{
    layer_release_id(ls, top, HOLD_ROOTFS);
}

static int build_rootfs_dir(const char *staging, const char *cid, const char *top, const char *lower,
                            const char *short_id, struct isd_error **err)
{
    static const char *const subdirs[] = {"diff", "work", "merged", "empty"};
    cleanup_json json_t *rec = json_pack("{s:s, s:s?, s:s}", "id", cid, "parent", top, "short_id", short_id);
    cleanup_free char *recpath = xasprintf("%s/container.json", staging);
    cleanup_free char *lowerpath = xasprintf("%s/lower", staging);
    cleanup_free char *linkpath = xasprintf("%s/link", staging);
    for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
        cleanup_free char *p = xasprintf("%s/%s", staging, subdirs[i]);
        if (mkdir(p, i == 0 ? 0755 : 0700) < 0)
            return isd_error_errno(err, "mkdir `%s`", p);
    }
    if (write_file_atomic(lowerpath, lower, strlen(lower), 0600, false, err) < 0 ||
        write_file_atomic(linkpath, short_id, strlen(short_id), 0600, false, err) < 0)
        return -1;
    return json_write_path(recpath, rec, true, err);
}

int rootfs_create(struct layer_store *ls, const char *container_id, const char *top_layer_chain_id,
                  struct isd_error **err)
{
    cleanup_free char *lower = NULL, *staging = NULL, *short_id = short_id_new();
    cleanup_free char *dir = NULL, *link = NULL, *target = NULL;
    const char *top = top_layer_chain_id != NULL ? digest_strip(top_layer_chain_id) : NULL;
    if (check_cid(container_id, err) < 0)
        return -1;
    if (top_layer_chain_id != NULL && top == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid layer id `%s`", top_layer_chain_id);
    if (take_top(ls, container_id, top, &lower, err) < 0)
        return -1;
    dir = cdir(ls, container_id);
    link = xasprintf("%s/l/%s", ls->overlay, short_id);
    target = xasprintf("../%s/diff", container_id);
    staging = staging_dir_new(ls, err);
    if (staging == NULL || build_rootfs_dir(staging, container_id, top, lower, short_id, err) < 0)
        goto fail;
    if (rename(staging, dir) < 0) {
        isd_error_set(err, errno == EEXIST || errno == ENOTEMPTY ? ISD_ERR_CONFLICT : ISD_ERR_INTERNAL, errno,
                      "rootfs of `%s`: rename: %s", container_id, strerror(errno));
        goto fail;
    }
    if (symlink(target, link) < 0 && errno != EEXIST) {
        isd_error_errno(err, "rootfs of `%s`: link", container_id);
        rename(dir, staging);
        goto fail;
    }
    return 0;
fail:
    if (staging != NULL)
        remove_dirs(strv_dup((char *[]){staging, NULL}));
    if (top != NULL)
        release_top(ls, top);
    return -1;
}

bool path_is_mount_root(const char *path)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
        return false;
    if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
        return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
    return false;
}

static json_t *read_record(struct layer_store *ls, const char *cid, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("%s/%s/container.json", ls->overlay, cid);
    json_t *j = json_load_path(path, 64 * 1024, err);
    if (j == NULL && *err != NULL && (*err)->code == ISD_ERR_NOT_FOUND) {
        isd_error_free(*err);
        *err = NULL;
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "rootfs of `%s` not found", cid);
    }
    return j;
}

/* "l/A:l/B" -> "<overlay>/l/A:<overlay>/l/B"; frees lower. */
static char *lower_absolute(struct layer_store *ls, char *lower)
{
    struct buf b = {0};
    buf_append(&b, "", 0);
    for (char *save = NULL, *p = strtok_r(lower, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
        buf_printf(&b, "%s%s/%s", b.len > 0 ? ":" : "", ls->overlay, p);
    free(lower);
    return buf_steal(&b);
}

/* lowerdir=... as absolute short-link paths (empty rootfs: its own empty dir). */
static char *mount_options(struct layer_store *ls, const char *cid, struct isd_error **err)
{
    cleanup_json json_t *rec = read_record(ls, cid, err);
    cleanup_free char *lower = NULL;
    struct buf b = {0};
    if (rec == NULL)
        return NULL;
    store_lock(ls->table);
    lower = layer_lower_locked(ls, json_get_str(rec, "parent"));
    store_unlock(ls->table);
    buf_append(&b, "lowerdir=", 9);
    if (lower[0] == '\0')
        buf_printf(&b, "%s/%s/empty", ls->overlay, cid);
    for (char *save = NULL, *p = strtok_r(lower, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
        buf_printf(&b, "%s%s/%s", b.len > 9 ? ":" : "", ls->overlay, p);
    buf_printf(&b, ",upperdir=%s/%s/diff,workdir=%s/%s/work", ls->overlay, cid, ls->overlay, cid);
    if (b.len >= (size_t)sysconf(_SC_PAGESIZE)) {
        buf_free(&b);
        isd_error_set(err, ISD_ERR_INVALID, 0, "rootfs of `%s`: too many layers for the overlay options", cid);
        return NULL;
    }
    return buf_steal(&b);
}

char *rootfs_overlay_options(struct layer_store *ls, const char *container_id, struct isd_error **err)
{
    return check_cid(container_id, err) < 0 ? NULL : mount_options(ls, container_id, err);
}

int rootfs_mount(struct layer_store *ls, const char *container_id, char **ret_merged_path, struct isd_error **err)
{
    cleanup_free char *merged = NULL, *opts = NULL;
    if (check_cid(container_id, err) < 0)
        return -1;
    merged = xasprintf("%s/%s/merged", ls->overlay, container_id);
    if (!path_is_mount_root(merged)) {
        opts = mount_options(ls, container_id, err);
        if (opts == NULL)
            return -1;
        if (mount("overlay", merged, "overlay", 0, opts) < 0 && !(errno == EBUSY && path_is_mount_root(merged)))
            return isd_error_errno(err, "mount rootfs of `%s`", container_id);
    }
    if (ret_merged_path != NULL)
        *ret_merged_path = TAKE_PTR(merged);
    return 0;
}

int rootfs_umount(struct layer_store *ls, const char *container_id, struct isd_error **err)
{
    cleanup_free char *merged = NULL;
    if (check_cid(container_id, err) < 0)
        return -1;
    merged = xasprintf("%s/%s/merged", ls->overlay, container_id);
    for (int i = 0; i < 8 && path_is_mount_root(merged); i++) {
        if (umount2(merged, 0) < 0 && errno != EINVAL && umount2(merged, MNT_DETACH) < 0 && errno != EINVAL)
            return isd_error_errno(err, "umount rootfs of `%s`", container_id);
    }
    return 0;
}

int rootfs_remove(struct layer_store *ls, const char *container_id, struct isd_error **err)
{
    cleanup_free char *dir = NULL, *gone = NULL, *rnd = random_hex(8), *link = NULL, *parent = NULL;
    cleanup_json json_t *rec = NULL;
    struct isd_error *e = NULL;
    if (rootfs_umount(ls, container_id, err) < 0)
        return -1;
    dir = cdir(ls, container_id);
    gone = xasprintf("%s/" STAGING_PREFIX "del-%s-%s", ls->overlay, container_id, rnd);
    store_lock(ls->table);
    rec = read_record(ls, container_id, &e);
    if (rec != NULL && json_get_str(rec, "short_id") != NULL) {
        link = xasprintf("%s/l/%s", ls->overlay, json_get_str(rec, "short_id"));
        unlink(link);
    }
    if (rename(dir, gone) < 0 && errno != ENOENT) {
        store_unlock(ls->table);
        isd_error_free(e);
        return isd_error_errno(err, "remove rootfs of `%s`", container_id);
    }
    store_unlock(ls->table);
    isd_error_free(e);
    /* Out of the store's view already (the staging name is cleaned at start if we die): delete it behind. */
    rm_rf_in_background(gone);
    if (rec != NULL && json_get_str(rec, "parent") != NULL)
        release_top(ls, json_get_str(rec, "parent"));
    return 0;
}

long long rootfs_rw_size(struct layer_store *ls, const char *container_id)
{
    cleanup_free char *diff = NULL;
    if (!id_is_safe(container_id))
        return -1;
    diff = xasprintf("%s/%s/diff", ls->overlay, container_id);
    return path_exists(diff) ? dir_size(diff) : -1;
}

char *rootfs_rw_dir(struct layer_store *ls, const char *container_id)
{
    if (!id_is_safe(container_id))
        return NULL;
    char *diff = xasprintf("%s/%s/diff", ls->overlay, container_id);
    if (path_exists(diff))
        return diff;
    free(diff);
    return NULL;
}

char *layer_store_lowerdir(struct layer_store *ls, const char *id, struct isd_error **err)
{
    char *opts;
    char *comma;
    if (layer_store_exists(ls, id)) {
        struct layer *l;
        char *r;
        store_lock(ls->table);
        l = layer_find_locked(ls, id);
        r = layer_lower_locked(ls, l != NULL ? l->parent : NULL);
        store_unlock(ls->table);
        return lower_absolute(ls, r);
    }
    if (check_cid(id, err) < 0 || (opts = mount_options(ls, id, err)) == NULL)
        return NULL;
    comma = strchr(opts, ',');
    if (comma != NULL)
        *comma = '\0';
    memmove(opts, opts + 9, strlen(opts + 9) + 1);
    return opts;
}
