/*
 * `diff` (the changes of a container's read-write layer) and `commit` (that layer as a new image on top of the
 * container's image). Commit pauses a running container for the layer by default, as docker does.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/service/internal.h"
#include "daemon/storage/layer_store.h"

json_t *service_container_changes(struct daemon *d, const char *ref, struct isd_error **err)
{
    cleanup_container struct container *c = container_store_lookup(d->containers, ref, err);
    if (c == NULL)
        return NULL;
    if (c->external_rootfs != NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "container %s uses an external rootfs: no changes to show", c->id);
        return NULL;
    }
    return rootfs_changes(d->layers, c->id, err);
}

/* Writes the read-write layer of c to an unlinked temp file; returns its fd at offset 0. */
static int spool_layer(struct daemon *d, const char *id, struct isd_error **err)
{
    cleanup_free char *dir = xasprintf("%s/tmp", d->cfg->graph);
    int fd;
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return isd_error_errno(err, "commit: temp file in `%s`", dir);
    if (rootfs_diff_tar(d->layers, id, fd, err) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool pause_for_commit(struct daemon *d, struct container *c, bool pause)
{
    bool running;
    pthread_mutex_lock(&c->lock);
    running = c->status == CT_RUNNING;
    pthread_mutex_unlock(&c->lock);
    return pause && running && service_container_pause(d, c->id, NULL) == 0;
}

int service_container_commit(struct daemon *d, const struct commit_opts *o, char **ret_id, struct isd_error **err)
{
    cleanup_container struct container *c = container_store_lookup(d->containers, o->container, err);
    cleanup_json json_t *config = NULL;
    cleanup_free char *image = NULL;
    struct image_commit ic = {
        .author = o->author, .comment = o->comment, .repo_tag = o->repo_tag, .changes = o->changes};
    bool paused;
    int fd, r;
    if (c == NULL)
        return -1;
    if (c->image_id == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "container %s uses an external rootfs: cannot commit", c->id);
    pthread_mutex_lock(&c->lock);
    config = json_deep_copy(o->config != NULL && json_object_size(o->config) > 0 ? o->config : c->config);
    image = xstrdup(c->image_id);
    pthread_mutex_unlock(&c->lock);
    ic.config = config;
    ic.container_id = c->id;
    paused = pause_for_commit(d, c, o->pause);
    fd = spool_layer(d, c->id, err);
    if (paused)
        service_container_unpause(d, c->id, NULL);
    if (fd < 0)
        return -1;
    r = image_store_commit(d->images, image, fd, &ic, ret_id, err);
    close(fd);
    return r;
}
