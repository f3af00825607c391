/*
 * What the exit of a container's shim means (the supervisor of container/supervisor.h reports it): state and
 * events (service_container_exited), then the auto-remove and restart policies, which run in short-lived
 * threads so the supervisor never blocks on them.
 */
#include <stdlib.h>
#include <time.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/service/internal.h"

struct after_exit {
    struct daemon *d;
    struct container *c;
    bool remove;
    long long delay_ns;
};

static void *after_exit_main(void *arg)
{
    struct after_exit *a = arg;
    struct isd_error *err = NULL;
    if (a->delay_ns > 0) {
        struct timespec ts = {a->delay_ns / 1000000000LL, a->delay_ns % 1000000000LL};
        nanosleep(&ts, NULL);
    }
    if (a->remove) {
        long long t0 = now_ns();
        service_container_remove(a->d, a->c->id, true, true, &err);
        log_debug("auto-remove `%s`: %.1f ms", a->c->id, (double)(now_ns() - t0) / 1e6);
    } else {
        pthread_mutex_lock(&a->c->lock);
        if (!a->c->removed && a->c->status == CT_RESTARTING) {
            a->c->status = CT_EXITED;
            if (service_container_start_locked(a->d, a->c, &err) < 0)
                container_save(a->c, false, NULL);
        }
        pthread_mutex_unlock(&a->c->lock);
    }
    if (err != NULL)
        log_error("container `%s`: %s: %s", a->c->id, a->remove ? "auto-remove" : "restart", err->msg);
    isd_error_free(err);
    container_unref(a->c);
    free(a);
    return NULL;
}

static void schedule(struct daemon *d, struct container *c, bool remove, long long delay_ns)
{
    struct after_exit *a = xcalloc(1, sizeof(*a));
    a->d = d;
    a->c = container_ref(c);
    a->remove = remove;
    a->delay_ns = delay_ns;
    if (thread_start_detached(after_exit_main, a) < 0) {
        container_unref(a->c);
        free(a);
    }
}

/* Docker's back-off: 100 ms, doubled at each restart, at most a minute, back to 100 ms after a run of 10 s. */
static long long next_delay(struct container *c)
{
    bool ran_long = c->finished_ns - c->started_ns >= 10LL * 1000000000LL;
    if (c->restart_delay_ns <= 0 || ran_long)
        c->restart_delay_ns = 100000000LL;
    else if (c->restart_delay_ns < 60LL * 1000000000LL)
        c->restart_delay_ns *= 2;
    if (c->restart_delay_ns > 60LL * 1000000000LL)
        c->restart_delay_ns = 60LL * 1000000000LL;
    return c->restart_delay_ns;
}

bool service_container_restart_policy(struct daemon *d, struct container *c)
{
    long long delay;
    if (json_get_bool(c->host_config, "AutoRemove", false) ||
        !restart_policy_wants(c->host_config, c->exit_code, c->restart_count, c->manually_stopped))
        return false;
    c->restart_count++;
    c->status = CT_RESTARTING;
    delay = next_delay(c);
    container_save(c, false, NULL);
    container_changed(c);
    schedule(d, c, false, delay);
    return true;
}

void service_container_exit_handle(void *ctx, struct container *c)
{
    struct daemon *d = ctx;
    service_container_exited(d, c);
    log_debug("container `%s` exited with %d", c->id, c->exit_code);
    if (json_get_bool(c->host_config, "AutoRemove", false))
        schedule(d, c, true, 0);
    else
        service_container_restart_policy(d, c);
}
