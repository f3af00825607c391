/*
 * The attach socket: a listening AF_UNIX stream socket, any number of clients, Docker stdcopy
 * framing both ways ([type][0][0][0][len BE u32] payload). Output is queued per client and
 * written without blocking; a client with SHIM_CLIENT_OUT_HIGH queued holds the container's output back
 * (loop.c stops reading it) until it catches up, so no byte is lost to a slow reader. A client that goes away
 * is dropped at once; after the process exited, one that takes nothing for --client-stall-ms is dropped.
 * Not thread-safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <poll.h>
#include <stdio.h>

#include "cmd/isulad-shim/shim.h"

#define SHIM_ATTACH_WAIT_MAX 64 /* clients waited on per poll in the final flush; the rest on later rounds */

int shim_attach_listen(struct shim *s)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", s->attach_path);
    unlink(s->attach_path);
    mode_t old = umask(0177);
    int r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
    umask(old);
    if (r < 0 || chmod(s->attach_path, 0600) < 0 || listen(fd, 64) < 0) {
        close(fd);
        return -1;
    }
    s->attach_fd = fd;
    return 0;
}

void shim_attach_adopt(struct shim *s, int fd)
{
    struct shim_client *c = xrealloc(NULL, sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->fd = fd;
    c->progress_ms = shim_now_ms();
    s->clients = xrealloc(s->clients, (s->n_clients + 1) * sizeof(*s->clients));
    s->clients[s->n_clients++] = c;
}

int shim_attach_accept(struct shim *s)
{
    int n = 0;
    for (;;) {
        int fd = accept4(s->attach_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
            return n;
        shim_attach_adopt(s, fd);
        n++;
    }
}

void shim_attach_client_flush(struct shim_client *c)
{
    while (!c->dead && buf_size(&c->out) > 0) {
        ssize_t w = send(c->fd, buf_head(&c->out), buf_size(&c->out), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) {
            c->dead = true;
            return;
        }
        buf_consume(&c->out, (size_t)w);
        c->progress_ms = shim_now_ms();
    }
}

static void client_queue(struct shim_client *c, int type, const char *data, size_t n)
{
    uint8_t hdr[SHIM_FRAME_HEADER] = {(uint8_t)type,     0,         0, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16),
                                      (uint8_t)(n >> 8), (uint8_t)n};
    if (c->dead)
        return;
    if (buf_size(&c->out) == 0)
        c->progress_ms = shim_now_ms(); /* a stall counts from the first byte it was given and did not take */
    buf_append(&c->out, hdr, sizeof(hdr));
    buf_append(&c->out, data, n);
    shim_attach_client_flush(c);
}

void shim_attach_broadcast(struct shim *s, int type, const char *data, size_t n)
{
    for (size_t i = 0; i < s->n_clients; i++)
        client_queue(s->clients[i], type, data, n);
}

bool shim_attach_blocked(const struct shim *s)
{
    for (size_t i = 0; i < s->n_clients; i++)
        if (!s->clients[i]->dead && buf_size(&s->clients[i]->out) >= SHIM_CLIENT_OUT_HIGH)
            return true;
    return false;
}

void shim_attach_drop_stalled(struct shim *s, long long now)
{
    for (size_t i = 0; i < s->n_clients; i++) {
        struct shim_client *c = s->clients[i];
        if (buf_size(&c->out) > 0 && now - c->progress_ms >= s->args.client_stall_ms)
            c->dead = true;
    }
}

/* Consumes payload bytes of the current frame. */
static void client_payload(struct shim *s, struct shim_client *c, const char *p, size_t n)
{
    c->remain -= (uint32_t)n;
    if (c->type == SHIM_FRAME_STDIN) {
        shim_stdin_data(s, p, n);
    } else if (c->type == SHIM_FRAME_RESIZE) {
        size_t take = n < sizeof(c->ctl) - c->ctl_len ? n : sizeof(c->ctl) - c->ctl_len;
        memcpy(c->ctl + c->ctl_len, p, take);
        c->ctl_len += take;
    }
    if (c->remain == 0 && c->type == SHIM_FRAME_RESIZE && c->ctl_len == sizeof(c->ctl))
        shim_resize(s, (unsigned)c->ctl[0] << 8 | c->ctl[1], (unsigned)c->ctl[2] << 8 | c->ctl[3]);
}

static void client_header_done(struct shim *s, struct shim_client *c)
{
    c->type = c->hdr[0];
    c->remain = (uint32_t)c->hdr[4] << 24 | (uint32_t)c->hdr[5] << 16 | (uint32_t)c->hdr[6] << 8 | c->hdr[7];
    c->hdr_len = 0;
    c->ctl_len = 0;
    if (c->type == SHIM_FRAME_CLOSE_STDIN)
        shim_stdin_close(s);
    if (c->type == SHIM_FRAME_END_STDIN)
        shim_stdin_end(s);
    if (c->type == SHIM_FRAME_REOPEN_LOG && s->has_log)
        shim_log_reopen(&s->log);
}

/* Feeds bytes read from a client through the frame parser. */
static void client_feed(struct shim *s, struct shim_client *c, const char *p, size_t n)
{
    while (n > 0) {
        if (c->remain > 0) {
            size_t take = n < c->remain ? n : c->remain;
            client_payload(s, c, p, take);
            p += take;
            n -= take;
            continue;
        }
        size_t take = SHIM_FRAME_HEADER - c->hdr_len;
        take = take < n ? take : n;
        memcpy(c->hdr + c->hdr_len, p, take);
        c->hdr_len += take;
        p += take;
        n -= take;
        if (c->hdr_len == SHIM_FRAME_HEADER)
            client_header_done(s, c);
    }
}

void shim_attach_client_read(struct shim *s, struct shim_client *c)
{
    char buf[16384];
    /* a client whose output failed (it closed) may still have sent frames, e.g. a resize: read them anyway */
    for (int round = 0; round < 8; round++) {
        ssize_t r = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) {
            c->dead = true;
            return;
        }
        client_feed(s, c, buf, (size_t)r);
    }
}

void shim_attach_reap_dead(struct shim *s)
{
    size_t j = 0;
    for (size_t i = 0; i < s->n_clients; i++) {
        struct shim_client *c = s->clients[i];
        if (!c->dead) {
            s->clients[j++] = c;
            continue;
        }
        close(c->fd);
        buf_free(&c->out);
        free(c);
    }
    s->n_clients = j;
}

/* Sends the exit frame and waits until every client has taken its data, went away or stalled; closes them. */
void shim_attach_finish(struct shim *s, int exit_code)
{
    char code[16];
    int n = snprintf(code, sizeof(code), "%d", exit_code);
    shim_attach_broadcast(s, SHIM_FRAME_EXIT, code, (size_t)n);
    for (;;) {
        struct pollfd p[SHIM_ATTACH_WAIT_MAX];
        size_t np = 0;
        shim_attach_drop_stalled(s, shim_now_ms());
        for (size_t i = 0; i < s->n_clients && np < SHIM_ATTACH_WAIT_MAX; i++) {
            struct shim_client *c = s->clients[i];
            shim_attach_client_flush(c);
            if (!c->dead && buf_size(&c->out) > 0)
                p[np++] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
        }
        if (np == 0)
            break;
        poll(p, np, 1000);
    }
    for (size_t i = 0; i < s->n_clients; i++)
        s->clients[i]->dead = true;
    shim_attach_reap_dead(s);
    if (s->attach_fd >= 0)
        close(s->attach_fd);
    s->attach_fd = -1;
    unlink(s->attach_path);
}
