/*
 * SizeRw and SizeRootFs (ps -s, ?size=1, inspect -s, system df, prune): the bytes of a container's upper
 * directory, plus its image's for SizeRootFs. The walk runs without the container's lock, and its result is
 * kept for as long as the container stays inactive and nothing copies into its rootfs (container.h rw_epoch):
 * a stopped container is walked once, a running one on every request (as Docker does), a plain ps never.
 */
#include <stdlib.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/service/internal.h"
#include "daemon/storage/layer_store.h"

/* Nothing can write the upper directory meanwhile: no process of the container, no copy into it. */
static bool size_rw_cacheable(const struct container *c)
{
    return !container_is_active(c) && c->rootfs_users == 0 && !c->removed;
}

long long service_container_size_rw(struct daemon *d, struct container *c)
{
    unsigned long epoch;
    bool cacheable;
    long long n;
    pthread_mutex_lock(&c->lock);
    if (c->external_rootfs != NULL || (c->size_rw >= 0 && c->size_rw_epoch == c->rw_epoch && size_rw_cacheable(c))) {
        n = c->external_rootfs != NULL ? 0 : c->size_rw;
        pthread_mutex_unlock(&c->lock);
        return n;
    }
    epoch = c->rw_epoch;
    cacheable = size_rw_cacheable(c);
    pthread_mutex_unlock(&c->lock);
    n = rootfs_rw_size(d->layers, c->id);
    if (n < 0)
        n = 0;
    pthread_mutex_lock(&c->lock);
    /* inactive before and after the walk with no start or copy between: nothing wrote meanwhile */
    if (cacheable && c->rw_epoch == epoch && size_rw_cacheable(c)) {
        c->size_rw = n;
        c->size_rw_epoch = epoch;
    }
    pthread_mutex_unlock(&c->lock);
    return n;
}

void service_container_sizes(struct daemon *d, struct container *c, json_t *j)
{
    long long rw = service_container_size_rw(d, c), image = 0;
    cleanup_free char *image_id = NULL;
    struct image *img;
    pthread_mutex_lock(&c->lock);
    image_id = c->image_id != NULL ? xstrdup(c->image_id) : NULL;
    pthread_mutex_unlock(&c->lock);
    img = image_id != NULL ? image_store_lookup(d->images, image_id, NULL) : NULL;
    if (img != NULL)
        image = img->size;
    image_free(img);
    json_object_set_new(j, "SizeRw", json_integer(rw));
    json_object_set_new(j, "SizeRootFs", json_integer(rw + image));
}

static void add_sizes_one(struct daemon *d, json_t *j)
{
    cleanup_container struct container *c = service_lookup_locked(d, json_get_str(j, "Id"), NULL);
    if (c == NULL)
        return;
    pthread_mutex_unlock(&c->lock);
    service_container_sizes(d, c, j);
}

void service_container_add_sizes(struct daemon *d, json_t *j)
{
    size_t i;
    json_t *e;
    if (json_is_object(j)) {
        add_sizes_one(d, j);
        return;
    }
    json_array_foreach(j, i, e) add_sizes_one(d, e);
}

int service_container_rw_usage(struct daemon *d, const char *ref, char **ret_dir, long long *ret_bytes,
                               long long *ret_inodes, struct isd_error **err)
{
    cleanup_container struct container *c = service_lookup_locked(d, ref, err);
    cleanup_free char *id = NULL;
    if (c == NULL)
        return -1;
    id = c->external_rootfs == NULL ? xstrdup(c->id) : NULL;
    pthread_mutex_unlock(&c->lock);
    char *dir = id != NULL ? rootfs_rw_dir(d->layers, id) : NULL;
    if (dir == NULL)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "container %s has no writable layer", ref);
    *ret_bytes = dir_usage(dir, ret_inodes);
    *ret_dir = dir;
    return 0;
}
