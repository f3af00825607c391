/* Attach and resize: the use cases over the shim's attach socket (runtime/attach.h). */
#include <stdlib.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/runtime/attach.h"
#include "daemon/service/internal.h"

struct attach_ticket {
    struct container *c;
    struct attach_opts o;
    bool tty, in;
    bool pending;             /* counted in c->pending_attach: waiting for the next start */
    unsigned long generation; /* shim generation seen at begin */
};

struct attach_ticket *service_container_attach_begin(struct daemon *d, const char *ref, const struct attach_opts *o,
                                                     struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    struct attach_ticket *t;
    if (c == NULL)
        return NULL;
    if (c->status == CT_DEAD || c->status == CT_REMOVING || c->status == CT_PAUSED) {
        isd_error_set(err, ISD_ERR_CONFLICT, 0,
                      c->status == CT_PAUSED ? "You cannot attach to a paused container, unpause it first"
                                             : "You cannot attach to a stopped container, start it first");
        pthread_mutex_unlock(&c->lock);
        container_unref(c);
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    t->c = c;
    t->o = *o;
    t->tty = json_get_bool(c->config, "Tty", false);
    t->in = o->in && json_get_bool(c->config, "OpenStdin", false);
    t->generation = c->shim_generation;
    if (c->status == CT_CREATED || c->status == CT_EXITED) { /* Docker's start -a of a stopped container */
        t->pending = true;
        c->pending_attach++;
    }
    pthread_mutex_unlock(&c->lock);
    return t;
}

static void ticket_release(struct attach_ticket *t)
{
    if (t->pending) {
        t->c->pending_attach--;
        container_changed(t->c);
        t->pending = false;
    }
}

void service_container_attach_cancel(struct attach_ticket *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->c->lock);
    ticket_release(t);
    pthread_mutex_unlock(&t->c->lock);
    container_unref(t->c);
    free(t);
}

/* Connects to the container's shim, waiting for the next start when the container was not running. */
static int ticket_connect(struct attach_ticket *t, struct isd_error **err)
{
    struct container *c = t->c;
    int fd = -1;
    pthread_mutex_lock(&c->lock);
    if (t->pending) {
        while (c->shim_generation == t->generation && !c->removed &&
               (c->status == CT_CREATED || c->status == CT_EXITED))
            pthread_cond_wait(&c->changed, &c->lock);
        if (c->shim_generation == t->generation)
            isd_error_set(err, ISD_ERR_CONFLICT, 0, "container %s went away before it started", c->id);
        else
            fd = container_take_handoff(c); /* connected to the shim since its start */
    } else if (!container_is_active(c)) {
        isd_error_set(err, ISD_ERR_CONFLICT, 0, "You cannot attach to a stopped container, start it first");
    }
    if (fd < 0 && (err == NULL || *err == NULL))
        fd = runtime_attach_connect(c->state_dir, err);
    ticket_release(t);
    pthread_mutex_unlock(&c->lock);
    return fd;
}

int service_container_attach_run(struct attach_ticket *t, int client_fd, struct isd_error **err)
{
    int shim_fd = ticket_connect(t, err);
    int code, rc = -1;
    if (shim_fd >= 0) {
        rc = runtime_attach_proxy(client_fd, shim_fd, t->tty, t->in, false, t->o.out, t->o.err, &code);
        close(shim_fd);
    }
    container_unref(t->c);
    free(t);
    return rc;
}

/* The attach socket of a running container's shim; not_running is the error's format (one %s: the id). */
static int shim_control_connect(struct daemon *d, const char *ref, const char *not_running, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    int fd = -1;
    if (c == NULL)
        return -1;
    if (container_is_active(c))
        fd = runtime_attach_connect(c->state_dir, err);
    else
        isd_error_set(err, ISD_ERR_CONFLICT, 0, not_running, c->id);
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return fd;
}

int service_container_resize(struct daemon *d, const char *ref, int height, int width, struct isd_error **err)
{
    cleanup_close int fd = shim_control_connect(d, ref, "Container %s is not running", err);
    if (fd < 0)
        return -1;
    return runtime_attach_send_resize(fd, height, width, err);
}

int service_container_reopen_log(struct daemon *d, const char *ref, struct isd_error **err)
{
    cleanup_close int fd = shim_control_connect(d, ref, "container %s is not running", err);
    if (fd < 0)
        return -1;
    return runtime_attach_send_reopen_log(fd, err);
}
