/* Helpers of every use case on containers: the runtime driver of a container and the locked lookup. */
#include "common/util.h"
#include "daemon/service/internal.h"

void service_runtime_driver(struct daemon *d, struct runtime *rt)
{
    *rt = (struct runtime){.ops = d->runtime_ops != NULL ? d->runtime_ops : &runtime_oci_ops, .ctx = d->runtime_ctx};
}

int service_runtime(struct daemon *d, const char *name, struct runtime *rt, char **ret_root, struct isd_error **err)
{
    const struct isd_runtime_conf *r = isd_config_runtime(d->cfg, name);
    if (r == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown or invalid runtime name: %s", name);
    *ret_root = xasprintf("%s/runtime/%s", d->cfg->state, r->name);
    service_runtime_driver(d, rt);
    rt->name = r->name;
    rt->path = r->path;
    rt->args = r->args;
    rt->root = *ret_root;
    rt->shim = d->shim_path;
    return 0;
}

struct container *service_lookup_locked(struct daemon *d, const char *ref, struct isd_error **err)
{
    struct container *c = container_store_lookup(d->containers, ref, err);
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    if (c->removed) {
        pthread_mutex_unlock(&c->lock);
        container_unref(c);
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such container: %s", ref);
        return NULL;
    }
    return c;
}
