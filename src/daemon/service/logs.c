/* Container logs: the use case; the json-file log itself is read by the runtime module (json_log.h). */
#include <stdlib.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/runtime/json_log.h"
#include "daemon/service/internal.h"

int service_container_logs_check(struct daemon *d, const char *ref, bool *ret_tty, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    int rc = 0;
    if (c == NULL)
        return -1;
    *ret_tty = json_get_bool(c->config, "Tty", false);
    if (service_container_log_disabled(c))
        rc = isd_error_set(err, ISD_ERR_INVALID, 0,
                           "container %s records no log: it was created with --log-opt disable-log=true", c->id);
    else if (container_log_type_none(c)) /* LogConfig.Type none: Docker's words and class (501) */
        rc = isd_error_set(err, ISD_ERR_NOT_IMPLEMENTED, 0, "configured logging driver does not support reading");
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}

static bool still_running(void *ctx)
{
    struct container *c = ctx;
    bool r;
    pthread_mutex_lock(&c->lock);
    r = container_is_active(c) && !c->removed;
    pthread_mutex_unlock(&c->lock);
    return r;
}

int service_container_logs(struct daemon *d, const char *ref, const struct logs_opts *o, int out_fd,
                           struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    struct json_log_opts jo = {.out = o->out,
                               .err = o->err,
                               .timestamps = o->timestamps,
                               .follow = o->follow,
                               .since_ns = o->since_ns,
                               .until_ns = o->until_ns,
                               .tail = o->tail};
    cleanup_free char *path = NULL;
    if (c == NULL)
        return -1;
    jo.tty = json_get_bool(c->config, "Tty", false);
    path = xstrdup(c->log_path);
    pthread_mutex_unlock(&c->lock);
    json_log_copy(path, &jo, out_fd, still_running, c);
    container_unref(c);
    return 0;
}
