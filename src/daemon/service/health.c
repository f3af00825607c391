/*
 * Health checks' scheduler: ONE thread for every container of the daemon. It keeps a probe per container with
 * a health check (its next due time, or the pidfds of the probe running now) and sleeps in poll() on an eventfd
 * and those pidfds until the earliest due time or deadline. A due probe is started as an exec through its own
 * isulad-shim (health_probe.c); its end is the shim's pidfd becoming readable; a probe past its timeout is
 * killed. Other threads only add probes and mark them cancelled (under the scheduler's lock, which is taken
 * after a container's lock, never before); only the scheduler thread changes a probe's run state or frees it,
 * and it takes a container's lock only with the scheduler's lock released.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/service/health_internal.h"

struct health_sched {
    pthread_mutex_t lock;
    pthread_t thread;
    int wakefd;
    bool stop;
    struct health_probe **v;
    size_t n, cap;
};

static void wake(struct health_sched *s)
{
    uint64_t one = 1;
    if (write(s->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_warn("health: wake: %s", strerror(errno));
}

/* Drops the cancelled probes (killing one still running); scheduler lock held, scheduler thread only. */
static void sweep(struct health_sched *s)
{
    size_t j = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct health_probe *p = s->v[i];
        if (p->cancelled)
            health_probe_free(p);
        else
            s->v[j++] = p;
    }
    s->n = j;
}

/* The poll set (the eventfd, then one pidfd per running probe) and the ms until the earliest due time. */
static int prepare(struct health_sched *s, struct pollfd **fds, struct health_probe ***owners, size_t *nfds)
{
    long long now = now_ns(), next = now + 3600LL * 1000000000LL;
    *fds = xcalloc(s->n + 1, sizeof(**fds));
    *owners = xcalloc(s->n + 1, sizeof(**owners));
    (*fds)[0] = (struct pollfd){.fd = s->wakefd, .events = POLLIN};
    *nfds = 1;
    for (size_t i = 0; i < s->n; i++) {
        struct health_probe *p = s->v[i];
        long long t = p->shim_pidfd >= 0 ? p->deadline_ns : p->due_ns;
        if (p->shim_pidfd >= 0) {
            (*owners)[*nfds] = p;
            (*fds)[(*nfds)++] = (struct pollfd){.fd = p->shim_pidfd, .events = POLLIN};
        }
        if (t < next)
            next = t;
    }
    return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

/* The probes with something to do now: finished, past their timeout, or due. */
static size_t collect(struct health_sched *s, struct pollfd *fds, struct health_probe **owners, size_t nfds,
                      struct health_probe ***ret)
{
    long long now = now_ns();
    size_t n = 0;
    *ret = xcalloc(s->n + 1, sizeof(**ret));
    for (size_t i = 1; i < nfds; i++)
        owners[i]->exited = (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    for (size_t i = 0; i < s->n; i++) {
        struct health_probe *p = s->v[i];
        if (p->cancelled)
            continue;
        if (p->shim_pidfd >= 0 ? (p->exited || now >= p->deadline_ns) : now >= p->due_ns)
            (*ret)[n++] = p;
    }
    return n;
}

static void *sched_main(void *arg)
{
    struct health_sched *s = arg;
    pthread_setname_np(pthread_self(), "isulad-health");
    for (;;) {
        cleanup_free struct pollfd *fds = NULL;
        cleanup_free struct health_probe **owners = NULL;
        cleanup_free struct health_probe **todo = NULL;
        size_t nfds, n;
        uint64_t v;
        int ms;
        pthread_mutex_lock(&s->lock);
        if (s->stop) {
            pthread_mutex_unlock(&s->lock);
            return NULL;
        }
        sweep(s);
        ms = prepare(s, &fds, &owners, &nfds);
        pthread_mutex_unlock(&s->lock);
        if (poll(fds, nfds, ms) < 0 && errno != EINTR)
            log_warn("health: poll: %s", strerror(errno));
        if (read(s->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
            log_warn("health: read eventfd: %s", strerror(errno));
        pthread_mutex_lock(&s->lock);
        n = collect(s, fds, owners, nfds, &todo);
        pthread_mutex_unlock(&s->lock);
        /* only this thread frees probes: the pointers stay valid without the lock */
        for (size_t i = 0; i < n; i++)
            health_probe_step(todo[i]);
    }
}

struct health_sched *health_sched_new(struct isd_error **err)
{
    struct health_sched *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wakefd < 0 || pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        isd_error_errno(err, "start the health check scheduler");
        if (s->wakefd >= 0)
            close(s->wakefd);
        free(s);
        return NULL;
    }
    return s;
}

void health_sched_free(struct health_sched *s)
{
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_mutex_unlock(&s->lock);
    wake(s);
    pthread_join(s->thread, NULL);
    for (size_t i = 0; i < s->n; i++)
        health_probe_free(s->v[i]);
    free(s->v);
    close(s->wakefd);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void health_sched_add(struct health_sched *s, struct health_probe *p)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i]->c == p->c)
            s->v[i]->cancelled = true; /* the probe of an earlier run */
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = p;
    pthread_mutex_unlock(&s->lock);
    wake(s);
}

void health_sched_cancel(struct health_sched *s, const struct container *c)
{
    bool any = false;
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i]->c == c) {
            s->v[i]->cancelled = true;
            any = true;
        }
    pthread_mutex_unlock(&s->lock);
    if (any)
        wake(s);
}
