/*
 * Files in and out of a container (`isula cp`, Docker's /containers/{id}/archive): the container's root
 * filesystem as the storage module sees it (not its volumes or /etc/hosts binds, as the guide says, C-cp-02),
 * mounted for the copy when the container is stopped and unmounted afterwards unless it was started
 * meanwhile. The copy itself never leaves the rootfs (storage/copy.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/service/internal.h"
#include "daemon/storage/copy.h"
#include "daemon/storage/layer_store.h"

struct rootfs_use {
    struct container *c;
    char *root;
    bool frozen;
    bool writes; /* a copy into the rootfs: the SizeRw cache is stale after it */
};

/* The guide's freeze for the copy (C-cp-04, asked for by isula): the runtime pauses the processes without the
 * container changing state (no pause event, still `running`); a user's pause meanwhile keeps it paused. */
static void freeze(struct daemon *d, struct container *c, bool on, bool *frozen)
{
    struct runtime rt;
    cleanup_free char *root = NULL;
    struct isd_error *e = NULL;
    if (c->status != CT_RUNNING || service_runtime(d, c->runtime, &rt, &root, &e) < 0) {
        isd_error_free(e);
        return;
    }
    if (on)
        *frozen = rt.ops->pause(&rt, c->id, &e) == 0;
    else if (*frozen)
        rt.ops->resume(&rt, c->id, &e);
    isd_error_free(e);
}

static int rootfs_use_begin(struct daemon *d, const char *ref, bool frz, struct rootfs_use *u, struct isd_error **err)
{
    *u = (struct rootfs_use){0};
    u->c = service_lookup_locked(d, ref, err);
    if (u->c == NULL)
        return -1;
    if (frz)
        freeze(d, u->c, true, &u->frozen);
    if (u->c->external_rootfs != NULL) {
        u->root = xstrdup(u->c->external_rootfs);
    } else {
        u->c->rootfs_users++;
        if (rootfs_mount(d->layers, u->c->id, &u->root, err) < 0) {
            u->c->rootfs_users--;
            freeze(d, u->c, false, &u->frozen);
            pthread_mutex_unlock(&u->c->lock);
            container_unref(u->c);
            u->c = NULL;
            return -1;
        }
    }
    pthread_mutex_unlock(&u->c->lock);
    return 0;
}

/* The last copy unmounts the rootfs, unless the container runs (its start mounted it, its exit unmounts it). */
static void rootfs_use_end(struct daemon *d, struct rootfs_use *u)
{
    if (u->c == NULL)
        return;
    pthread_mutex_lock(&u->c->lock);
    freeze(d, u->c, false, &u->frozen);
    if (u->writes)
        u->c->rw_epoch++;
    if (u->c->external_rootfs == NULL && --u->c->rootfs_users == 0 && !container_is_active(u->c) && !u->c->removed)
        rootfs_umount(d->layers, u->c->id, NULL);
    pthread_mutex_unlock(&u->c->lock);
    container_unref(u->c);
    free(u->root);
}

json_t *service_container_archive_stat(struct daemon *d, const char *ref, const char *path, struct isd_error **err)
{
    struct rootfs_use u;
    json_t *st;
    if (rootfs_use_begin(d, ref, false, &u, err) < 0)
        return NULL;
    st = copy_stat(u.root, path, err);
    if (st == NULL && (*err)->code == ISD_ERR_NOT_FOUND)
        isd_error_wrap(err, "container %s", u.c->id);
    rootfs_use_end(d, &u);
    return st;
}

int service_container_archive_get(struct daemon *d, const char *ref, const char *path, bool frz, int out_fd,
                                  struct isd_error **err)
{
    struct rootfs_use u;
    int r;
    if (rootfs_use_begin(d, ref, frz, &u, err) < 0)
        return -1;
    r = copy_out(u.root, path, out_fd, err);
    rootfs_use_end(d, &u);
    return r;
}

int service_container_archive_put(struct daemon *d, const char *ref, const char *path, int in_fd,
                                  const struct archive_put_opts *o, struct isd_error **err)
{
    struct rootfs_use u;
    struct copy_in_opts co = {.keep_owner = o->keep_owner, .no_dir_overwrite = o->no_dir_overwrite};
    struct byte_source src = {.read = byte_source_fd_read, .ctx = &in_fd};
    int r = -1;
    if (rootfs_use_begin(d, ref, o->freeze, &u, err) < 0)
        return -1;
    u.writes = true;
    if (json_get_bool(u.c->host_config, "ReadonlyRootfs", false))
        isd_error_set(err, ISD_ERR_INVALID, 0, "container rootfs is marked read-only");
    else
        r = copy_in(u.root, path, &src, &co, err);
    rootfs_use_end(d, &u);
    return r;
}
