/*
 * Layer table, records and start-up recovery of the layer store; see layer_store.h and
 * docs/design/storage.md. Applying tars lives in layer_apply.c, container rootfs in rootfs.c.
 */
#include "daemon/storage/layer_internal.h"
#include "daemon/storage/quota.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"

#define RECORD_MAX (64 * 1024)

static void layer_free(struct layer *l)
{
    if (l == NULL)
        return;
    free(l->chain_id);
    free(l->diff_id);
    free(l->parent);
    free(l->short_id);
    free(l);
}

static const char *layer_id(const void *item)
{
    return ((const struct layer *)item)->chain_id;
}

static void layer_release(void *item)
{
    layer_free(item);
}

static const struct store_ops layer_table_ops = {.id = layer_id, .release = layer_release};

struct layer *layer_find_locked(struct layer_store *ls, const char *chain_id)
{
    return store_find_id_locked(ls->table, digest_strip(chain_id));
}

int layer_persist_locked(struct layer_store *ls, const struct layer *l, struct isd_error **err)
{
    cleanup_json json_t *j =
        json_pack("{s:s, s:s+, s:s?, s:s, s:I, s:I, s:i, s:b}", "chain_id", l->chain_id, "diff_id",
                  "sha256:", l->diff_id, "parent", l->parent, "short_id", l->short_id, "size", (json_int_t)l->size,
                  "tar_size", (json_int_t)l->tar_size, "refcount", l->refcount, "refcount_without_rootfs", true);
    cleanup_free char *path = xasprintf("%s/%s.json", ls->layers, l->chain_id);
    return json_write_path(path, j, true, err);
}

/* Unregisters l: record, short link and directory (renamed to a staging name, removed later). */
static struct layer *layer_delete_locked(struct layer_store *ls, struct layer *l, char ***removed, char ***dirs)
{
    cleanup_free char *rec = xasprintf("%s/%s.json", ls->layers, l->chain_id);
    cleanup_free char *link = xasprintf("%s/l/%s", ls->overlay, l->short_id);
    cleanup_free char *dir = xasprintf("%s/%s", ls->overlay, l->chain_id);
    cleanup_free char *rnd = random_hex(8);
    cleanup_free char *gone = xasprintf("%s/" STAGING_PREFIX "del-%s-%s", ls->overlay, l->chain_id, rnd);
    struct layer *parent = l->parent != NULL ? layer_find_locked(ls, l->parent) : NULL;
    unlink(rec);
    unlink(link);
    if (rename(dir, gone) == 0)
        strv_append(dirs, gone);
    layer_remap_dirs_locked(ls, l->short_id, dirs);
    if (removed != NULL)
        strv_append(removed, l->chain_id);
    store_remove_locked(ls->table, l);
    layer_free(l);
    return parent;
}

void layer_release_locked(struct layer_store *ls, struct layer *l, enum layer_hold kind, char ***removed, char ***dirs)
{
    while (l != NULL) {
        int *count = kind == HOLD_PIN ? &l->pins : kind == HOLD_ROOTFS ? &l->rootfs_refs : &l->refcount;
        if (*count > 0)
            (*count)--;
        if (l->refcount > 0 || l->pins > 0 || l->rootfs_refs > 0) {
            struct isd_error *e = NULL;
            if (kind == HOLD_REF && layer_persist_locked(ls, l, &e) < 0)
                log_warn("layer `%s`: %s", l->chain_id, e->msg);
            isd_error_free(e);
            return;
        }
        l = layer_delete_locked(ls, l, removed, dirs);
        kind = HOLD_REF; /* a child layer is a persisted reference of its parent */
    }
}

void layer_release_id(struct layer_store *ls, const char *chain_id, enum layer_hold kind)
{
    char **dirs = NULL;
    struct layer *l;
    store_lock(ls->table);
    l = layer_find_locked(ls, chain_id);
    if (l != NULL)
        layer_release_locked(ls, l, kind, NULL, &dirs);
    store_unlock(ls->table);
    remove_dirs(dirs);
}

char *layer_lower_locked(struct layer_store *ls, const char *chain_id)
{
    struct buf b = {0};
    buf_append(&b, "", 0);
    for (struct layer *l = layer_find_locked(ls, chain_id); l != NULL; l = layer_find_locked(ls, l->parent)) {
        buf_printf(&b, "%sl/%s", b.len > 0 ? ":" : "", l->short_id);
        if (l->parent == NULL)
            break;
    }
    return buf_steal(&b);
}

void remove_dirs(char **dirs)
{
    for (size_t i = 0; dirs != NULL && dirs[i] != NULL; i++) {
        struct isd_error *e = NULL;
        if (rm_rf(dirs[i], &e) < 0)
            log_warn("remove `%s`: %s", dirs[i], e->msg);
        isd_error_free(e);
    }
    strv_free(dirs);
}

char *staging_dir_new(struct layer_store *ls, struct isd_error **err)
{
    char *path = xasprintf("%s/" STAGING_PREFIX "XXXXXX", ls->overlay);
    if (mkdtemp(path) == NULL) {
        isd_error_errno(err, "create staging dir in `%s`", ls->overlay);
        free(path);
        return NULL;
    }
    return path;
}

char *short_id_new(void)
{
    cleanup_free char *hex = random_hex(SHORT_ID_LEN);
    char *s = xstrdup(hex);
    for (char *p = s; *p; p++) {
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    }
    return s;
}

bool id_is_safe(const char *id)
{
    if (id == NULL || id[0] == '\0' || id[0] == '.' || strlen(id) > 128 || strcmp(id, "l") == 0)
        return false;
    for (const char *p = id; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-' ||
              *p == '_' || *p == '.'))
            return false;
    }
    return true;
}

static struct layer *layer_load(const char *path)
{
    struct isd_error *e = NULL;
    cleanup_json json_t *j = json_load_path(path, RECORD_MAX, &e);
    struct layer *l;
    const char *diff = j != NULL ? digest_strip(json_get_str(j, "diff_id")) : NULL;
    const char *chain = j != NULL ? json_get_str(j, "chain_id") : NULL;
    const char *short_id = j != NULL ? json_get_str(j, "short_id") : NULL;
    if (j == NULL || diff == NULL || !digest_is_hex(chain) || short_id == NULL) {
        log_warn("ignoring layer record `%s`: %s", path, e != NULL ? e->msg : "missing fields");
        isd_error_free(e);
        return NULL;
    }
    l = xcalloc(1, sizeof(*l));
    l->chain_id = xstrdup(chain);
    l->diff_id = xstrdup(diff);
    l->parent = json_get_str(j, "parent") != NULL ? xstrdup(json_get_str(j, "parent")) : NULL;
    l->short_id = xstrdup(short_id);
    l->size = json_get_int(j, "size", 0);
    l->tar_size = json_get_int(j, "tar_size", 0);
    l->refcount = (int)json_get_int(j, "refcount", 0);
    /* Records written before rootfs references were kept in memory counted them in refcount:
     * count_rootfs_refs takes them out again. */
    l->legacy_refcount = !json_get_bool(j, "refcount_without_rootfs", false);
    return l;
}

static void load_records(struct layer_store *ls)
{
    DIR *d = opendir(ls->layers);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *path = xasprintf("%s/%s", ls->layers, de->d_name);
        cleanup_free char *dir = NULL;
        struct layer *l;
        if (strstr(de->d_name, ".tmp-") != NULL) {
            unlink(path);
            continue;
        }
        if (!str_has_suffix(de->d_name, ".json") || (l = layer_load(path)) == NULL)
            continue;
        dir = xasprintf("%s/%s/diff", ls->overlay, l->chain_id);
        if (!path_exists(dir)) {
            log_warn("layer `%s` has no directory, dropping its record", l->chain_id);
            unlink(path);
            layer_free(l);
            continue;
        }
        if (store_add_locked(ls->table, l) < 0)
            layer_free(l); /* two records of one chain: the first wins */
    }
    if (d != NULL)
        closedir(d);
}

/* Container rootfs hold their layer in memory only: the count comes back from the rootfs records, so a crash
 * between the two can neither leak nor lose a reference. */
static void count_rootfs_refs(struct layer_store *ls)
{
    DIR *d = opendir(ls->overlay);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *path = NULL;
        cleanup_json json_t *rec = NULL;
        struct layer *l;
        if (de->d_name[0] == '.' || strcmp(de->d_name, "l") == 0 || layer_find_locked(ls, de->d_name) != NULL)
            continue;
        path = xasprintf("%s/%s/container.json", ls->overlay, de->d_name);
        rec = json_load_path(path, RECORD_MAX, NULL);
        if (rec != NULL && json_get_str(rec, "parent") != NULL &&
            (l = layer_find_locked(ls, json_get_str(rec, "parent"))) != NULL)
            l->rootfs_refs++;
    }
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < store_count_locked(ls->table); i++) {
        struct layer *l = store_at_locked(ls->table, i);
        struct isd_error *e = NULL;
        if (!l->legacy_refcount)
            continue;
        l->refcount = l->refcount > l->rootfs_refs ? l->refcount - l->rootfs_refs : 0;
        l->legacy_refcount = false;
        if (layer_persist_locked(ls, l, &e) < 0)
            log_warn("layer `%s`: %s", l->chain_id, e->msg);
        isd_error_free(e);
    }
}

/* Removes staging dirs, temp files and directories that no record or container owns (a crash mid-apply). */
static void sweep_overlay(struct layer_store *ls)
{
    DIR *d = opendir(ls->overlay);
    struct dirent *de;
    char **dirs = NULL;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *path = xasprintf("%s/%s", ls->overlay, de->d_name);
        cleanup_free char *cjson = xasprintf("%s/container.json", path);
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || strcmp(de->d_name, "l") == 0)
            continue;
        if (str_has_prefix(de->d_name, ROOTFS_IDMAP_PREFIX)) {
            rootfs_idmap_sweep(path); /* never removed recursively: it may hold image layers' mounts */
            continue;
        }
        if (str_has_prefix(de->d_name, STAGING_PREFIX) || strstr(de->d_name, ".tmp-") != NULL ||
            (layer_find_locked(ls, de->d_name) == NULL && !path_exists(cjson))) {
            log_info("removing leftover `%s`", path);
            strv_append(&dirs, path);
        }
    }
    if (d != NULL)
        closedir(d);
    remove_dirs(dirs);
}

static void sweep_links(struct layer_store *ls)
{
    cleanup_free char *ldir = xasprintf("%s/l", ls->overlay);
    cleanup_close int lfd = open(ldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = lfd >= 0 ? fdopendir(dup(lfd)) : NULL;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        if (fstatat(lfd, de->d_name, &st, 0) < 0 && errno == ENOENT)
            unlinkat(lfd, de->d_name, 0);
    }
    if (d != NULL)
        closedir(d);
}

struct layer_store *layer_store_open(const char *root, struct isd_error **err)
{
    struct layer_store *ls = xcalloc(1, sizeof(*ls));
    cleanup_free char *ldir = NULL;
    ls->root = xstrdup(root);
    ls->overlay = path_join(root, "overlay");
    ls->layers = path_join(root, "layers");
    ldir = path_join(ls->overlay, "l");
    ls->table = store_new(&layer_table_ops);
    if (mkdir_p(ldir, 0700, err) < 0 || mkdir_p(ls->layers, 0700, err) < 0) {
        isd_error_wrap(err, "open layer store `%s`", root);
        layer_store_free(ls);
        return NULL;
    }
    load_records(ls);
    count_rootfs_refs(ls);
    sweep_overlay(ls);
    sweep_links(ls);
    {
        char **dirs = NULL;
        store_lock(ls->table);
        rootfs_remap_sweep_locked(ls, &dirs);
        store_unlock(ls->table);
        remove_dirs(dirs);
    }
    return ls;
}

void layer_store_free(struct layer_store *ls)
{
    if (ls == NULL)
        return;
    store_free(ls->table);
    quota_ctl_free(ls->quota);
    free(ls->root);
    free(ls->overlay);
    free(ls->layers);
    free(ls);
}

int layer_store_ref(struct layer_store *ls, const char *chain_id, struct isd_error **err)
{
    struct layer *l;
    int r;
    store_lock(ls->table);
    l = layer_find_locked(ls, chain_id);
    if (l == NULL) {
        store_unlock(ls->table);
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "layer `%s` not found", chain_id);
    }
    l->refcount++;
    r = layer_persist_locked(ls, l, err);
    store_unlock(ls->table);
    return r;
}

int layer_store_unref(struct layer_store *ls, const char *chain_id, char ***ret_removed, struct isd_error **err)
{
    char **dirs = NULL, **removed = NULL;
    struct layer *l;
    store_lock(ls->table);
    l = layer_find_locked(ls, chain_id);
    if (l == NULL) {
        store_unlock(ls->table);
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "layer `%s` not found", chain_id);
    }
    layer_release_locked(ls, l, HOLD_REF, &removed, &dirs);
    store_unlock(ls->table);
    remove_dirs(dirs);
    if (ret_removed != NULL)
        *ret_removed = removed;
    else
        strv_free(removed);
    return 0;
}

int layer_store_get(struct layer_store *ls, const char *chain_id, struct layer_info *ret, struct isd_error **err)
{
    struct layer *l;
    store_lock(ls->table);
    l = layer_find_locked(ls, chain_id);
    if (l != NULL) {
        ret->chain_id = xstrdup(l->chain_id);
        ret->diff_id = xasprintf("sha256:%s", l->diff_id);
        ret->parent = l->parent != NULL ? xstrdup(l->parent) : NULL;
        ret->size = l->size;
        ret->tar_size = l->tar_size;
        ret->refcount = l->refcount + l->rootfs_refs;
    }
    store_unlock(ls->table);
    if (l == NULL)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "layer `%s` not found", chain_id);
    return 0;
}

void layer_info_clear(struct layer_info *li)
{
    free(li->chain_id);
    free(li->diff_id);
    free(li->parent);
    memset(li, 0, sizeof(*li));
}

bool layer_store_exists(struct layer_store *ls, const char *chain_id)
{
    bool r;
    store_lock(ls->table);
    r = layer_find_locked(ls, chain_id) != NULL;
    store_unlock(ls->table);
    return r;
}

char *layer_store_diff_path(struct layer_store *ls, const char *id)
{
    return xasprintf("%s/%s/diff", ls->overlay, id);
}

struct blob_reader *layer_store_open_tar(struct layer_store *ls, const char *chain_id, long long *ret_size,
                                         struct isd_error **err)
{
    struct layer_info li = {0};
    cleanup_free char *path = NULL;
    struct blob_reader *r;
    if (layer_store_get(ls, chain_id, &li, err) < 0)
        return NULL;
    path = xasprintf("%s/%s/layer.tar.zst", ls->overlay, li.chain_id);
    r = blob_reader_open(path, err);
    if (r != NULL && ret_size != NULL)
        *ret_size = li.tar_size;
    layer_info_clear(&li);
    return r;
}
