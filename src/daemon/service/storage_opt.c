/*
 * Storage use cases at start-up and create: the daemon's default rootfs quota (overlay2.size/basesize),
 * the per-container HostConfig.StorageOpt {"size": "..."} (R-45..R-53), and the image-layer-check at start
 * (D-33). Thread-safety: no state of its own.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/image/layer_check.h"
#include "daemon/service/internal.h"
#include "daemon/storage/quota.h"

int service_storage_init(struct daemon *d, struct isd_error **err)
{
    long long dflt = 0;
    if (quota_default_size(d->cfg->storage_opts, &dflt, err) < 0)
        return -1;
    /* Docker refuses to start when a default quota is asked for on a file system without project quotas. */
    if (dflt > 0 && layer_store_quota_check(d->layers, err) < 0)
        return isd_error_wrap(err, "storage option overlay2.size/basesize (`%s`)", d->storage_root);
    if (d->cfg->image_layer_check)
        image_store_check_layers(d->images);
    return 0;
}

/* The container's quota: StorageOpt.size when given (0 = none), else the daemon's default. */
static int container_quota(struct daemon *d, const json_t *hc, long long *ret, struct isd_error **err)
{
    json_t *opts = json_object_get(hc, "StorageOpt"), *v;
    const char *key;
    bool have = false;
    if (opts != NULL && !json_is_null(opts) && !json_is_object(opts))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "StorageOpt must be an object of strings");
    json_object_foreach(opts, key, v)
    {
        if (strcmp(key, "size") != 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Unknown option %s", key);
        if (!json_is_string(v))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "StorageOpt must be an object of strings");
        if (quota_parse_size(json_string_value(v), ret, err) < 0)
            return isd_error_wrap(err, "storage-opt size");
        have = true;
    }
    if (!have)
        return quota_default_size(d->cfg->storage_opts, ret, err);
    return 0;
}

int service_rootfs_quota(struct daemon *d, const char *container_id, const json_t *hc, struct isd_error **err)
{
    long long size = 0;
    if (container_quota(d, hc, &size, err) < 0)
        return -1;
    if (size > 0 && rootfs_set_quota(d->layers, container_id, size, err) < 0)
        return isd_error_wrap(err, "Failed to prepare rootfs with error");
    return 0;
}
