/*
 * The exit supervisor: one thread waits on pidfds of the shims (a shim exits right after its container and
 * its exit file are done). A shim that is already gone when watched is queued for handling at once.
 * Auto-remove and restart policies run in short-lived threads so the supervisor never blocks on them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/service/internal.h"

struct watch {
    struct watch *next;
    int pidfd;
    struct container *c;
    unsigned long shim_generation;
};

struct supervisor {
    struct daemon *d;
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

struct supervisor *supervisor_new(struct daemon *d, struct isd_error **err)
{
    struct supervisor *s = xcalloc(1, sizeof(*s));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    s->d = d;
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

int supervisor_watch(struct supervisor *s, struct container *c, pid_t shim_pid, struct isd_error **err)
{
    struct watch *w = xcalloc(1, sizeof(*w));
    struct epoll_event ev = {.events = EPOLLIN};
    w->c = container_ref(c);
    w->shim_generation = c->shim_generation;
    w->pidfd = shim_pid > 0 ? (int)syscall(SYS_pidfd_open, shim_pid, 0) : -1;
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

static void handle_exit(struct supervisor *s, struct watch *w)
{
    struct container *c = w->c;
    bool remove = false, restart = false;
    long long delay = 0;
    pthread_mutex_lock(&c->lock);
    if (!c->removed && c->shim_generation == w->shim_generation && container_is_active(c)) {
        service_container_exited(s->d, c);
        log_debug("container `%s` exited with %d", c->id, c->exit_code);
        remove = json_get_bool(c->host_config, "AutoRemove", false);
        restart = !remove && restart_policy_wants(c->host_config, c->exit_code, c->restart_count, c->manually_stopped);
        if (restart) {
            c->restart_count++;
            c->status = CT_RESTARTING;
            delay = 100000000LL << (c->restart_count < 8 ? c->restart_count - 1 : 7);
            container_save(c, false, NULL);
            container_changed(c);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (remove || restart)
        schedule(s->d, c, remove, delay);
    if (w->pidfd >= 0)
        close(w->pidfd);
    container_unref(c);
    free(w);
}
