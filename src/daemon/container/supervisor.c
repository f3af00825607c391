/*
 * The exit supervisor: one thread waits on pidfds of the shims (a shim exits right after its container and
 * its exit file are done). A shim that is already gone when watched is queued for handling at once.
 * What an exit means (state, events, restart and auto-remove policies) is the callback's business.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/container/supervisor.h"

struct watch {
    struct watch *next;
    int pidfd;
    struct container *c;
    unsigned long shim_generation;
};

struct supervisor {
    void (*exited)(void *ctx, struct container *c);
    void *ctx;
    int epfd;
    int wakefd;
    pthread_t thread;
    pthread_mutex_t lock;
    struct watch *ready; /* gone before they could be watched */
    bool stop;
};

static void handle_exit(struct supervisor *s, struct watch *w);

static void *supervisor_main(void *arg)
{
    struct supervisor *s = arg;
    struct epoll_event evs[32];
    for (;;) {
        int n = epoll_wait(s->epfd, evs, 32, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        for (int i = 0; i < n; i++) {
            struct watch *w = evs[i].data.ptr;
            if (w == NULL) {
                uint64_t v;
                struct watch *list;
                if (read(s->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
                    log_warn("supervisor: read eventfd: %s", strerror(errno));
                pthread_mutex_lock(&s->lock);
                list = s->ready;
                s->ready = NULL;
                if (s->stop) {
                    pthread_mutex_unlock(&s->lock);
                    return NULL;
                }
                pthread_mutex_unlock(&s->lock);
                while (list != NULL) {
                    struct watch *next = list->next;
                    handle_exit(s, list);
                    list = next;
                }
                continue;
            }
            epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
            handle_exit(s, w);
        }
    }
    return NULL;
}

struct supervisor *supervisor_new(void (*exited)(void *ctx, struct container *c), void *ctx, struct isd_error **err)
{
    struct supervisor *s = xcalloc(1, sizeof(*s));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    s->exited = exited;
    s->ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    s->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->epfd < 0 || s->wakefd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->wakefd, &ev) < 0 ||
        pthread_create(&s->thread, NULL, supervisor_main, s) != 0) {
        isd_error_errno(err, "start the exit supervisor");
        free(s);
        return NULL;
    }
    return s;
}

void supervisor_free(struct supervisor *s)
{
    uint64_t one = 1;
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_mutex_unlock(&s->lock);
    if (write(s->wakefd, &one, sizeof(one)) < 0)
        log_warn("supervisor: wake: %s", strerror(errno));
    pthread_join(s->thread, NULL);
    close(s->epfd);
    close(s->wakefd);
    free(s);
}

int supervisor_watch(struct supervisor *s, struct container *c, int fd, struct isd_error **err)
{
    struct watch *w = xcalloc(1, sizeof(*w));
    struct epoll_event ev = {.events = EPOLLIN};
    w->c = container_ref(c);
    w->shim_generation = c->shim_generation;
    w->pidfd = fd;
    ev.data.ptr = w;
    if (w->pidfd >= 0 && epoll_ctl(s->epfd, EPOLL_CTL_ADD, w->pidfd, &ev) == 0)
        return 0;
    /* The shim is already gone: its exit file says how the container ended. */
    uint64_t one = 1;
    pthread_mutex_lock(&s->lock);
    w->next = s->ready;
    s->ready = w;
    pthread_mutex_unlock(&s->lock);
    if (write(s->wakefd, &one, sizeof(one)) < 0)
        return isd_error_errno(err, "wake the exit supervisor");
    return 0;
}

static void handle_exit(struct supervisor *s, struct watch *w)
{
    struct container *c = w->c;
    pthread_mutex_lock(&c->lock);
    if (!c->removed && c->shim_generation == w->shim_generation && container_is_active(c))
        s->exited(s->ctx, c);
    pthread_mutex_unlock(&c->lock);
    if (w->pidfd >= 0)
        close(w->pidfd);
    container_unref(c);
    free(w);
}
