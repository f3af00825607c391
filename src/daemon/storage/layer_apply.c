/*
 * Applying a tar as a new layer: extract into a staging dir without the lock, then register under the
 * lock (reuse an existing chain, or rename staging into place). See layer_store.h.
 */
#include "daemon/storage/layer_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

static int pin_parent(struct layer_store *ls, const char *parent, struct isd_error **err)
{
    struct layer *p;
    if (parent == NULL)
        return 0;
    store_lock(ls->table);
    p = layer_find_locked(ls, parent);
    if (p != NULL)
        p->pins++;
    store_unlock(ls->table);
    if (p == NULL)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "parent layer `%s` not found", parent);
    return 0;
}

static void unpin_parent(struct layer_store *ls, const char *parent)
{
    if (parent != NULL)
        layer_release_id(ls, parent, HOLD_PIN);
}

static int write_small(const char *dir, const char *name, const char *text, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, name);
    return write_file_atomic(path, text, strlen(text), 0600, false, err);
}

/* Moves a complete staging dir into place as layer `chain`; requires the lock. */
static int install_locked(struct layer_store *ls, struct layer *parent, const char *staging, const char *chain,
                          const struct tar_apply_result *res, struct isd_error **err)
{
    struct layer *l = xcalloc(1, sizeof(*l));
    cleanup_free char *lower = layer_lower_locked(ls, parent != NULL ? parent->chain_id : NULL);
    cleanup_free char *dir = xasprintf("%s/%s", ls->overlay, chain);
    cleanup_free char *link = NULL, *target = xasprintf("../%s/diff", chain);
    l->chain_id = xstrdup(chain);
    l->diff_id = xstrdup(res->diff_id);
    l->parent = parent != NULL ? xstrdup(parent->chain_id) : NULL;
    l->short_id = short_id_new();
    l->size = res->size;
    l->tar_size = res->tar_size;
    l->refcount = 1;
    link = xasprintf("%s/l/%s", ls->overlay, l->short_id);
    if (write_small(staging, "link", l->short_id, err) < 0 || write_small(staging, "lower", lower, err) < 0)
        goto fail;
    if (rename(staging, dir) < 0) {
        isd_error_errno(err, "rename `%s` to `%s`", staging, dir);
        goto fail;
    }
    if (symlink(target, link) < 0 || layer_persist_locked(ls, l, err) < 0) {
        isd_error_errno(err, "register layer `%s`", chain);
        unlink(link);
        rename(dir, staging); /* the caller removes staging */
        goto fail;
    }
    if (parent != NULL) {
        /* the pin becomes the new child's reference */
        parent->pins--;
        parent->refcount++;
        (void)layer_persist_locked(ls, parent, NULL);
    }
    store_add_locked(ls->table, l); /* a new chain: register_layer found none with this id */
    return 0;
fail:
    free(l->chain_id), free(l->diff_id), free(l->parent), free(l->short_id), free(l);
    return -1;
}

/* Registers the extracted layer; *ret_pin_used tells whether the parent pin was consumed. */
static int register_layer(struct layer_store *ls, const char *parent_id, const char *staging,
                          const struct tar_apply_result *res, char chain[DIGEST_HEX_LEN + 1], bool *ret_pin_used,
                          struct isd_error **err)
{
    struct layer *parent, *existing;
    int r = 0;
    store_lock(ls->table);
    parent = parent_id != NULL ? layer_find_locked(ls, parent_id) : NULL;
    chain_id_compute(parent != NULL ? parent->chain_id : NULL, res->diff_id, chain);
    existing = layer_find_locked(ls, chain);
    if (existing != NULL) {
        existing->refcount++;
        r = layer_persist_locked(ls, existing, err);
        *ret_pin_used = false;
    } else {
        r = install_locked(ls, parent, staging, chain, res, err);
        *ret_pin_used = r == 0;
    }
    store_unlock(ls->table);
    return r;
}

static int extract(const char *staging, const struct byte_source *src, int src_file, struct tar_apply_result *res,
                   struct isd_error **err)
{
    cleanup_free char *diff = xasprintf("%s/diff", staging);
    cleanup_free char *blob = xasprintf("%s/layer.tar.zst", staging);
    cleanup_close int dfd = -1;
    if (mkdir(diff, 0755) < 0)
        return isd_error_errno(err, "mkdir `%s`", diff);
    dfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return isd_error_errno(err, "open `%s`", diff);
    return tar_apply(src, src_file, dfd, blob, res, err);
}

struct layer_staged {
    char *dir;
    struct tar_apply_result res;
};

struct layer_staged *layer_store_stage(struct layer_store *ls, const struct byte_source *src, int src_file,
                                       struct isd_error **err)
{
    struct layer_staged *st = xcalloc(1, sizeof(*st));
    st->dir = staging_dir_new(ls, err);
    if (st->dir != NULL && extract(st->dir, src, src_file, &st->res, err) == 0)
        return st;
    layer_staged_discard(st);
    return NULL;
}

void layer_staged_discard(struct layer_staged *st)
{
    if (st == NULL)
        return;
    if (st->dir != NULL && path_exists(st->dir))
        remove_dirs(strv_dup((char *[]){st->dir, NULL}));
    free(st->dir);
    free(st);
}

int layer_store_commit(struct layer_store *ls, const char *parent_chain_id, struct layer_staged *st,
                       const char *expected_diff_id, char **ret_chain_id, char **ret_diff_id, struct isd_error **err)
{
    char chain[DIGEST_HEX_LEN + 1];
    bool pin_used = false;
    int r = -1;
    if (expected_diff_id != NULL && digest_strip(expected_diff_id) == NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid diff id `%s`", expected_diff_id);
        goto out;
    }
    if (expected_diff_id != NULL && strcmp(digest_strip(expected_diff_id), st->res.diff_id) != 0) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "layer diff id mismatch: expected `%s`, got `sha256:%s`",
                      expected_diff_id, st->res.diff_id);
        goto out;
    }
    /* the pin turns into the new child's reference on its parent when the layer is installed */
    if (pin_parent(ls, parent_chain_id, err) < 0)
        goto out;
    if (register_layer(ls, parent_chain_id, st->dir, &st->res, chain, &pin_used, err) < 0)
        goto unpin;
    if (ret_chain_id != NULL)
        *ret_chain_id = xstrdup(chain);
    if (ret_diff_id != NULL)
        *ret_diff_id = xasprintf("sha256:%s", st->res.diff_id);
    r = 0;
unpin:
    if (!pin_used)
        unpin_parent(ls, parent_chain_id);
out:
    layer_staged_discard(st);
    return r;
}

int layer_store_apply_source(struct layer_store *ls, const char *parent_chain_id, const struct byte_source *src,
                             const char *expected_diff_id, char **ret_chain_id, char **ret_diff_id,
                             struct isd_error **err)
{
    struct layer_staged *st;
    int r;
    if (expected_diff_id != NULL && digest_strip(expected_diff_id) == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid diff id `%s`", expected_diff_id);
    /* pinned across the extraction too, so a concurrent rmi cannot take the parent meanwhile */
    if (pin_parent(ls, parent_chain_id, err) < 0)
        return -1;
    st = layer_store_stage(ls, src, -1, err);
    r = st != NULL ? layer_store_commit(ls, parent_chain_id, st, expected_diff_id, ret_chain_id, ret_diff_id, err) : -1;
    unpin_parent(ls, parent_chain_id);
    return r;
}

int layer_store_apply_tar(struct layer_store *ls, const char *parent_chain_id, int fd, const char *expected_diff_id,
                          char **ret_chain_id, char **ret_diff_id, struct isd_error **err)
{
    struct byte_source src = {byte_source_fd_read, &fd};
    return layer_store_apply_source(ls, parent_chain_id, &src, expected_diff_id, ret_chain_id, ret_diff_id, err);
}
