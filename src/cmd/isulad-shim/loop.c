/*
 * The shim's main loop: one poll() over the SIGCHLD signalfd, a pidfd of the container process,
 * the attach socket and its clients, and the container's stdio. While an attach client is behind
 * (shim_attach_blocked), the container's output is not read: its writes block, nothing is lost. The loop
 * ends once the container process has exited and its output is drained (EOF, or 100 ms without data, or
 * 5 s at most; time spent waiting for slow clients does not count).
 * Not thread-safe.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd/isulad-shim/shim.h"

#define DRAIN_IDLE_MS 100
#define DRAIN_MAX_MS 5000
#define FIXED_FDS 6

void shim_reap_children(struct shim *s)
{
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
        if (p != s->init_pid || s->exited)
            continue;
        s->exited = true;
        s->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static size_t build_pollfds(struct shim *s, struct pollfd *p, int pidfd, bool blocked)
{
    bool take_stdin = buf_size(&s->in_buf) < SHIM_STDIN_MAX;
    p[0] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
    p[1] = (struct pollfd){.fd = pidfd, .events = POLLIN};
    p[2] = (struct pollfd){.fd = s->attach_fd, .events = POLLIN};
    p[3] = (struct pollfd){.fd = blocked ? -1 : s->out_fd, .events = POLLIN};
    p[4] = (struct pollfd){.fd = blocked ? -1 : s->err_fd, .events = POLLIN};
    p[5] = (struct pollfd){.fd = buf_size(&s->in_buf) > 0 ? s->in_fd : -1, .events = POLLOUT};
    for (size_t i = 0; i < s->n_clients; i++) {
        struct shim_client *c = s->clients[i];
        short ev = (short)((take_stdin ? POLLIN : 0) | (buf_size(&c->out) > 0 ? POLLOUT : 0));
        p[FIXED_FDS + i] = (struct pollfd){.fd = c->fd, .events = ev};
    }
    return FIXED_FDS + s->n_clients;
}

static void handle_events(struct shim *s, struct pollfd *p, size_t n, int *pidfd)
{
    if (p[0].revents) {
        struct signalfd_siginfo si;
        while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si)) {
        }
    }
    shim_reap_children(s);
    if (p[1].revents && !s->exited) {
        siginfo_t si;
        if (waitid(P_PID, (id_t)s->init_pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) {
            s->exited = true; /* gone but not our child (should not happen): status unknown */
            s->exit_code = 255;
        }
    }
    if (p[1].revents)
        close_fd(pidfd);
    if (p[3].revents && shim_output_read(s, s->out_fd, SHIM_FRAME_STDOUT) < 0)
        close_fd(&s->out_fd);
    if (p[4].revents && shim_output_read(s, s->err_fd, SHIM_FRAME_STDERR) < 0)
        close_fd(&s->err_fd);
    if (p[5].revents)
        shim_stdin_flush(s);
    for (size_t i = FIXED_FDS; i < n && i - FIXED_FDS < s->n_clients; i++) {
        struct shim_client *c = s->clients[i - FIXED_FDS];
        if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) || c->dead)
            shim_attach_client_read(s, c);
        if (p[i].revents & POLLOUT)
            shim_attach_client_flush(c);
    }
    shim_attach_reap_dead(s);
    if (p[2].revents)
        shim_attach_accept(s);
}

/* The drain clocks after the exit: they stand still while slow clients hold the output back. */
struct drain {
    long long started, last_data, tick;
    bool blocked;
};

static bool drain_done(struct shim *s, struct drain *dr, bool blocked)
{
    long long now = shim_now_ms();
    if (!s->exited)
        return false;
    if (dr->started == 0)
        dr->started = dr->last_data = now;
    else if (dr->blocked) {
        dr->started += now - dr->tick;
        dr->last_data += now - dr->tick;
    }
    dr->tick = now;
    dr->blocked = blocked;
    if (s->out_fd < 0 && s->err_fd < 0)
        return true;
    if (blocked) {
        shim_attach_drop_stalled(s, now);
        return false;
    }
    return now - dr->last_data >= DRAIN_IDLE_MS || now - dr->started >= DRAIN_MAX_MS;
}

int shim_loop_run(struct shim *s)
{
    struct pollfd *p = NULL;
    struct drain dr = {0};
    int pidfd = (int)syscall(SYS_pidfd_open, s->init_pid, 0);
    shim_reap_children(s);
    for (;;) {
        bool blocked = shim_attach_blocked(s);
        if (drain_done(s, &dr, blocked))
            break;
        p = xrealloc(p, (FIXED_FDS + s->n_clients) * sizeof(*p));
        size_t n = build_pollfds(s, p, s->exited ? -1 : pidfd, blocked);
        int r = poll(p, n, s->exited ? (blocked ? 1000 : DRAIN_IDLE_MS) : -1);
        if (r < 0 && errno != EINTR)
            break;
        if (r > 0 && s->exited && (p[3].revents || p[4].revents))
            dr.last_data = shim_now_ms();
        if (r > 0)
            handle_events(s, p, n, &pidfd);
    }
    free(p);
    close_fd(&pidfd);
    close_fd(&s->out_fd);
    close_fd(&s->err_fd);
    close_fd(&s->in_fd);
    return s->exit_code;
}
