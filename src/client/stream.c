/*
 * Stream pumping for attach/exec/logs; see stream.h. The saved termios and the resize flag are
 * process-wide (a CLI process runs one stream).
 */
#include "client/stream.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "client/stdcopy.h"
#include "common/fs.h"
#include "common/util.h"

static struct termios saved_termios;
static int saved_fd = -1;
static volatile sig_atomic_t resize_pending;
/* Detach keys (docker's ctrl-p,ctrl-q by default), matched in the forwarded stdin of a tty stream. */
static unsigned char detach_keys[16] = {0x10, 0x11};
static size_t detach_len = 2, detach_matched;
static bool detached;
static volatile sig_atomic_t signals_pending[NSIG];
static const int proxied_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void term_restore(void)
{
    if (saved_fd >= 0) {
        tcsetattr(saved_fd, TCSADRAIN, &saved_termios);
        saved_fd = -1;
    }
}

int term_make_raw(int fd)
{
    static bool registered;
    struct termios t;
    if (saved_fd >= 0)
        return 0; /* raw already; saved_termios holds the user's settings */
    if (!isatty(fd) || tcgetattr(fd, &saved_termios) < 0)
        return -1;
    t = saved_termios;
    /* docker's raw mode, output included: the container's pty already turned \n into \r\n */
    cfmakeraw(&t);
    if (tcsetattr(fd, TCSADRAIN, &t) < 0)
        return -1;
    saved_fd = fd;
    if (!registered) {
        atexit(term_restore);
        registered = true;
    }
    return 0;
}

int term_size(int fd, int *ret_rows, int *ret_cols)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
        return -1;
    *ret_rows = ws.ws_row;
    *ret_cols = ws.ws_col;
    return 0;
}

static void on_winch(int sig)
{
    resize_pending = 1;
}

static void on_proxied(int sig)
{
    if (sig > 0 && sig < NSIG)
        signals_pending[sig] = 1;
}

void stream_watch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_proxied};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(proxied_signals); i++)
        sigaction(proxied_signals[i], &sa, NULL);
}

static void deliver_signals(const struct stream_opts *o)
{
    for (size_t i = 0; i < ARRAY_SIZE(proxied_signals); i++) {
        int sig = proxied_signals[i];
        if (signals_pending[sig]) {
            signals_pending[sig] = 0;
            if (o->on_signal != NULL)
                o->on_signal(sig, o->ctx);
        }
    }
}

void stream_watch_resize(void)
{
    struct sigaction sa = {.sa_handler = on_winch};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, NULL);
}

/* The payloads of one read, gathered per destination: one write for a run of frames of the same stream
 * instead of one a frame (a log of short lines is a frame a line), flushed before the next read so that
 * nothing waits for more input. */
#define SINK_BATCH 65536
struct sink_ctx {
    int out_fd, err_fd;
    int fd; /* where pending goes */
    size_t len;
    char pending[SINK_BATCH];
};

static int sink_flush(struct sink_ctx *s)
{
    size_t n = s->len;
    s->len = 0;
    if (n > 0 && fd_write_all(s->fd, s->pending, n) < 0 && errno != EPIPE)
        return -1;
    return 0;
}

static int demux_sink(int stream, const char *data, size_t len, void *ctx)
{
    struct sink_ctx *s = ctx;
    int fd = stream == STDCOPY_STDERR || stream == STDCOPY_SYSTEMERR ? s->err_fd : s->out_fd;
    if ((fd != s->fd || s->len + len > sizeof(s->pending)) && sink_flush(s) < 0)
        return -1;
    s->fd = fd;
    if (len > sizeof(s->pending))
        return fd_write_all(fd, data, len) < 0 && errno != EPIPE ? -1 : 0;
    memcpy(s->pending + s->len, data, len);
    s->len += len;
    return 0;
}

static int deliver(struct stdcopy *dec, bool tty, int out_fd, int err_fd, const char *data, size_t n)
{
    static struct sink_ctx s; /* one stream a process (see the top); too big for the stack of every caller */
    int rc;
    if (tty)
        return fd_write_all(out_fd, data, n) < 0 && errno != EPIPE ? -1 : 0;
    s.out_fd = out_fd;
    s.err_fd = err_fd;
    s.fd = out_fd;
    s.len = 0;
    rc = stdcopy_feed(dec, data, n, demux_sink, &s);
    if (sink_flush(&s) < 0)
        rc = -1;
    return rc;
}

/* Stdin read but not yet taken by the daemon. It is sent without blocking, so that the output keeps being read
 * while the container does not read its input (the daemon and the shim hold stdin back meanwhile). */
struct stdin_pending {
    char buf[8192];
    size_t off, len;
    bool eof; /* shut the write side once buf is sent */
};

/* Returns -1 on a send error, 0 otherwise. */
static int stdin_flush(struct http_conn *c, struct stdin_pending *q)
{
    while (q->off < q->len) {
        ssize_t w = http_conn_send_some(c, q->buf + q->off, q->len - q->off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (w < 0)
            return -1;
        q->off += (size_t)w;
    }
    q->off = q->len = 0;
    if (q->eof)
        http_conn_close_write(c);
    return 0;
}

int stream_set_detach_keys(const char *spec, struct isd_error **err)
{
    cleanup_free char *copy = xstrdup(spec);
    char *save = NULL;
    size_t n = 0;
    for (char *k = strtok_r(copy, ",", &save); k != NULL; k = strtok_r(NULL, ",", &save)) {
        const char *ctrl = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
        const char *at = str_has_prefix(k, "ctrl-") && strlen(k) == 6 ? strchr(ctrl, k[5]) : NULL;
        if (n == sizeof(detach_keys) || (at == NULL && strlen(k) != 1) || (at != NULL && k[5] == '\0'))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid detach keys (%s) provided", spec);
        detach_keys[n++] = at != NULL ? (unsigned char)(at - ctrl) : (unsigned char)k[0];
    }
    if (n == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid detach keys (%s) provided", spec);
    detach_len = n;
    return 0;
}

bool stream_detached(void)
{
    return detached;
}

/* Copies in to q->buf minus the detach keys: a partial match is held back (and sent when the next byte does not
 * continue it), a whole one ends the stream. */
static void filter_detach(struct stdin_pending *q, const char *in, size_t n)
{
    for (size_t i = 0; i < n && !detached; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == detach_keys[detach_matched]) {
            detached = ++detach_matched == detach_len;
            continue;
        }
        memcpy(q->buf + q->len, detach_keys, detach_matched);
        q->len += detach_matched;
        detach_matched = 0;
        if (ch == detach_keys[0]) {
            detached = ++detach_matched == detach_len;
            continue;
        }
        q->buf[q->len++] = (char)ch;
    }
}

/* Reads one chunk of stdin; returns 0 on data, 1 at EOF (write side half-closed once sent), 2 when the detach
 * keys were typed, -1 on error. */
static int forward_stdin(struct http_conn *c, int in_fd, bool tty, struct stdin_pending *q)
{
    char in[sizeof(q->buf) - sizeof(detach_keys)];
    ssize_t r = read(in_fd, tty ? in : q->buf, tty ? sizeof(in) : sizeof(q->buf));
    if (r < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (r <= 0) {
        q->eof = true;
        return stdin_flush(c, q) < 0 ? -1 : 1;
    }
    if (tty)
        filter_detach(q, in, (size_t)r);
    else
        q->len = (size_t)r;
    if (stdin_flush(c, q) < 0)
        return -1;
    return detached ? 2 : 0;
}

int stream_pump(struct http_conn *c, const struct stream_opts *o, struct isd_error **err)
{
    struct stdcopy dec = {0};
    struct stdin_pending q = {.len = 0};
    int in_fd = o->in_fd;
    char buf[16384];
    for (;;) {
        struct pollfd p[2] = {{.fd = c->fd, .events = (short)(POLLIN | (q.len > 0 ? POLLOUT : 0))},
                              {.fd = q.len > 0 ? -1 : in_fd, .events = POLLIN}};
        int n = in_fd >= 0 ? 2 : 1;
        ssize_t r;
        if (resize_pending && o->on_resize != NULL) {
            resize_pending = 0;
            o->on_resize(o->ctx);
        }
        deliver_signals(o);
        if (!http_conn_has_buffered(c) && poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            return isd_error_errno(err, "poll");
        }
        if ((p[0].revents & POLLOUT) && stdin_flush(c, &q) < 0)
            return isd_error_errno(err, "send stdin");
        if (n == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) && !http_conn_has_buffered(c)) {
            int f = forward_stdin(c, in_fd, o->tty, &q);
            if (f < 0)
                return isd_error_errno(err, "send stdin");
            if (f == 2)
                return 0; /* detached: the container keeps running */
            if (f == 1)
                in_fd = -1;
        }
        if (!http_conn_has_buffered(c) && !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        r = http_conn_read(c, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == ECONNRESET)
            return 0;
        if (r < 0)
            return isd_error_errno(err, "read stream");
        if (r == 0)
            return 0;
        if (deliver(&dec, o->tty, o->out_fd, o->err_fd, buf, (size_t)r) < 0)
            return isd_error_set(err, ISD_ERR_INTERNAL, 0, "malformed stream from the daemon");
    }
}

int stream_copy_body(struct http_conn *c, struct http_response *resp, bool tty, int out_fd, int err_fd,
                     struct isd_error **err)
{
    struct stdcopy dec = {0};
    static char buf[SINK_BATCH]; /* a read's payloads fit the sink's batch */
    ssize_t r;
    while ((r = http_read_body(c, resp, buf, sizeof(buf), err)) > 0) {
        if (deliver(&dec, tty, out_fd, err_fd, buf, (size_t)r) < 0)
            return isd_error_set(err, ISD_ERR_INTERNAL, 0, "malformed stream from the daemon");
    }
    return r < 0 ? -1 : 0;
}
