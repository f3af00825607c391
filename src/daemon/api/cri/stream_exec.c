/* Exec and attach on the streaming server: Kubernetes' remotecommand protocols (channel.k8s.io up to v4 over SPDY,
 * and up to v5 over WebSocket). The process's stdio comes from the same service calls as `isula exec` / attach,
 * through a socketpair: stdcopy frames without a tty, raw bytes with one. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api/cri/stream_internal.h"

enum { CH_STDIN, CH_STDOUT, CH_STDERR, CH_ERROR, CH_RESIZE, CH_COUNT };
static const char *const ch_names[CH_COUNT] = {"stdin", "stdout", "stderr", "error", "resize"};

#define STREAMS_TIMEOUT_MS 30000 /* kubelet waits as long for a client's streams */
#define STDIN_QUEUE_MAX (16u << 20)
#define FIRST_SIZE_WAIT_MS 2000

/* The service call, in a thread of its own: it blocks until the process ends, whether or not the client stays. */
struct job {
    pthread_mutex_t lock;
    int refs;
    struct daemon *d;
    enum stream_kind kind;
    char *exec_id;
    struct attach_ticket *ticket;
    int fd;
    int exit_code;
    char *error;
};

static void job_unref(struct job *j)
{
    pthread_mutex_lock(&j->lock);
    int left = --j->refs;
    pthread_mutex_unlock(&j->lock);
    if (left > 0)
        return;
    pthread_mutex_destroy(&j->lock);
    free(j->exec_id);
    free(j->error);
    free(j);
}

static void *job_thread(void *arg)
{
    struct job *j = arg;
    struct isd_error *err = NULL;
    int code = 0, rc;
    if (j->kind == STREAM_EXEC) {
        rc = service_exec_start(j->d, j->exec_id, j->fd, &err);
        cleanup_json json_t *info = service_exec_inspect(j->d, j->exec_id, NULL);
        if (json_is_integer(json_object_get(info, "ExitCode")))
            code = (int)json_integer_value(json_object_get(info, "ExitCode"));
        service_exec_drop(j->d, j->exec_id);
    } else {
        rc = service_container_attach_run(j->ticket, j->fd, &err);
    }
    pthread_mutex_lock(&j->lock);
    j->exit_code = code;
    if (rc < 0)
        j->error = xstrdup(err != NULL ? err->msg : "failed");
    pthread_mutex_unlock(&j->lock);
    isd_error_free(err);
    close(j->fd); /* the connection's thread sees the end */
    job_unref(j);
    return NULL;
}

struct session {
    struct daemon *d;
    struct stream_request *r;
    struct mux *m;
    int version;
    bool opened[CH_COUNT];
    int local; /* our end of the socketpair; -1 before the start */
    bool stdin_eof, stdin_shut;
    struct buf stdin_q; /* stdin on its way to the process (written without blocking: see flush_stdin) */
    struct buf resize;
    struct buf out; /* stdcopy frames not complete yet */
    struct job *job;
    int size_h, size_w; /* the latest terminal size (exec: kept for the start when it comes first) */
};

static int session_open(void *ctx, struct mux *m, const struct spdy_header *h, size_t n)
{
    struct session *s = ctx;
    (void)m;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(h[i].name, "streamtype") != 0)
            continue;
        for (int ch = 0; ch < CH_COUNT; ch++) {
            if (strcmp(h[i].value, ch_names[ch]) == 0 && !s->opened[ch]) {
                s->opened[ch] = true;
                return ch;
            }
        }
    }
    return -1;
}

static void apply_resize(struct session *s, const char *text, size_t n)
{
    cleanup_json json_t *j = json_loadb(text, n, 0, NULL);
    json_t *w = json_object_get(j, "Width"), *h = json_object_get(j, "Height");
    if (!json_is_integer(w) || !json_is_integer(h) || json_integer_value(w) <= 0 || json_integer_value(h) <= 0 ||
        json_integer_value(w) > 65535 || json_integer_value(h) > 65535)
        return;
    s->size_h = (int)json_integer_value(h);
    s->size_w = (int)json_integer_value(w);
    if (s->r->kind == STREAM_EXEC && s->job != NULL)
        service_exec_resize(s->d, s->job->exec_id, s->size_h, s->size_w, NULL);
    else if (s->r->kind == STREAM_ATTACH)
        service_container_resize(s->d, s->r->id, s->size_h, s->size_w, NULL);
}

/* Resize messages: JSON objects, one per line from client-go's encoder (SPDY), one per message (WebSocket). */
static void on_resize(struct session *s, const unsigned char *p, size_t n)
{
    const char *nl;
    buf_append(&s->resize, p, n);
    while ((nl = memchr(buf_head(&s->resize), '\n', buf_size(&s->resize))) != NULL) {
        size_t len = (size_t)(nl - buf_head(&s->resize));
        apply_resize(s, buf_head(&s->resize), len);
        buf_consume(&s->resize, len + 1);
    }
    if (buf_size(&s->resize) > 4096)
        buf_consume(&s->resize, buf_size(&s->resize));
    if (s->m->proto == MUX_WS && buf_size(&s->resize) > 0) {
        apply_resize(s, buf_head(&s->resize), buf_size(&s->resize));
        buf_consume(&s->resize, buf_size(&s->resize));
    }
}

/* Stdin never blocks the connection's thread: while it waits for the client (a window update), the process may be
 * waiting for its output to be read and not read its input. Returns -1 when the process's side is gone. */
static int flush_stdin(struct session *s)
{
    while (s->local >= 0 && buf_size(&s->stdin_q) > 0) {
        ssize_t w = send(s->local, buf_head(&s->stdin_q), buf_size(&s->stdin_q), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (w <= 0) {
            buf_consume(&s->stdin_q, buf_size(&s->stdin_q));
            return -1;
        }
        buf_consume(&s->stdin_q, (size_t)w);
    }
    if (s->local >= 0 && s->stdin_eof && !s->stdin_shut) {
        s->stdin_shut = true;
        shutdown(s->local, SHUT_WR);
    }
    return 0;
}

static void session_data(void *ctx, int ch, const unsigned char *p, size_t n)
{
    struct session *s = ctx;
    if (ch == CH_RESIZE) {
        on_resize(s, p, n);
    } else if (ch == CH_STDIN && s->r->in && !s->stdin_eof) {
        buf_append(&s->stdin_q, p, n);
        if (buf_size(&s->stdin_q) > STDIN_QUEUE_MAX) /* a client that keeps to no window: drop it */
            s->m->ended = true;
        flush_stdin(s);
    }
}

static void session_eof(void *ctx, int ch)
{
    struct session *s = ctx;
    if (ch != CH_STDIN || s->stdin_eof)
        return;
    s->stdin_eof = true;
    flush_stdin(s);
}

static const struct mux_handler session_handler = {session_open, session_data, session_eof, NULL};

/* SPDY: the client opens its streams first (error, then stdin, stdout, stderr or resize as asked). */
static int wait_streams(struct session *s)
{
    bool want[CH_COUNT] = {[CH_ERROR] = true,
                           [CH_STDIN] = s->r->in,
                           [CH_STDOUT] = s->r->out,
                           [CH_STDERR] = s->r->err && !s->r->tty,
                           [CH_RESIZE] = s->r->tty && s->version >= 3};
    long long deadline = now_ns() + STREAMS_TIMEOUT_MS * 1000000LL;
    for (;;) {
        bool all = true;
        for (int ch = 0; ch < CH_COUNT; ch++)
            all = all && (!want[ch] || s->opened[ch]);
        if (all)
            return 0;
        struct pollfd pf = {s->m->fd, POLLIN, 0};
        long long left = (deadline - now_ns()) / 1000000LL;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0 || mux_pump(s->m) < 0)
            return -1;
    }
}

/* A tty exec starts with the client's terminal size when the client sends it at once (client-go sends the size of
 * its terminal right after opening the streams): a process that asks for its size at start (`stty size`, a
 * full-screen program) would otherwise see 0x0. A client that sends none costs this wait only. */
static void wait_first_size(struct session *s)
{
    long long deadline = now_ns() + FIRST_SIZE_WAIT_MS * 1000000LL;
    if (s->m->proto == MUX_SPDY && !s->opened[CH_RESIZE])
        return;
    while (s->size_h == 0 && !s->m->ended) {
        struct pollfd pf = {s->m->fd, POLLIN, 0};
        long long left = (deadline - now_ns()) / 1000000LL;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0 || mux_pump(s->m) < 0)
            return;
    }
}

static int start_job(struct session *s, struct isd_error **err)
{
    struct job *j = xcalloc(1, sizeof(*j));
    int sp[2];
    pthread_mutex_init(&j->lock, NULL);
    j->refs = 2;
    j->d = s->d;
    j->kind = s->r->kind;
    if (s->r->kind == STREAM_EXEC) {
        cleanup_json json_t *body =
            json_pack("{s:o, s:b, s:b, s:b, s:b}", "Cmd", json_array(), "Tty", s->r->tty, "AttachStdin", s->r->in,
                      "AttachStdout", s->r->out, "AttachStderr", s->r->err);
        for (size_t i = 0; s->r->cmd[i] != NULL; i++)
            json_array_append_new(json_object_get(body, "Cmd"), json_string(s->r->cmd[i]));
        if (s->size_h > 0)
            json_object_set_new(body, "ConsoleSize", json_pack("[i, i]", s->size_h, s->size_w));
        if (service_exec_create(s->d, s->r->id, body, &j->exec_id, err) < 0)
            goto fail;
        if (s->r->tty && s->r->in) /* the client closing its stdin is the end of the terminal's input */
            service_exec_end_tty_input(s->d, j->exec_id);
        if (s->size_h > 0) /* kept by the exec and set once its terminal exists */
            service_exec_resize(s->d, j->exec_id, s->size_h, s->size_w, NULL);
    } else {
        struct attach_opts o = {.in = s->r->in, .out = s->r->out, .err = s->r->err};
        if ((j->ticket = service_container_attach_begin(s->d, s->r->id, &o, err)) == NULL)
            goto fail;
    }
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        isd_error_errno(err, "socketpair");
        goto fail;
    }
    j->fd = sp[1];
    s->local = sp[0];
    s->job = j;
    if (thread_start_detached(job_thread, j) != 0) {
        /* as if the process had failed at once */
        j->error = xstrdup("cannot start a thread");
        close(j->fd);
        j->refs = 1;
        service_container_attach_cancel(TAKE_PTR(j->ticket));
    }
    flush_stdin(s);
    return 0;
fail:
    if (j->exec_id != NULL)
        service_exec_drop(s->d, j->exec_id);
    service_container_attach_cancel(j->ticket);
    pthread_mutex_destroy(&j->lock);
    free(j->exec_id);
    free(j);
    return -1;
}

/* Without a tty the output comes as stdcopy frames (type, 3 zero bytes, big-endian length). */
static int forward_output(struct session *s, const char *p, size_t n)
{
    if (s->r->tty)
        return mux_send(s->m, CH_STDOUT, p, n);
    buf_append(&s->out, p, n);
    while (buf_size(&s->out) >= 8) {
        const unsigned char *h = (const unsigned char *)buf_head(&s->out);
        size_t len = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
        if (buf_size(&s->out) < 8 + len)
            break;
        if ((h[0] == 1 || h[0] == 2) && mux_send(s->m, h[0] == 1 ? CH_STDOUT : CH_STDERR, h + 8, len) < 0)
            return -1;
        buf_consume(&s->out, 8 + len);
    }
    return 0;
}

/* Returns 1 when the process's side ended, 0 when the client left. */
static int pump(struct session *s)
{
    long long last = now_ns();
    for (;;) {
        struct pollfd pf[2] = {{s->m->fd, POLLIN, 0},
                               {s->local, (short)(POLLIN | (buf_size(&s->stdin_q) > 0 ? POLLOUT : 0)), 0}};
        int left = stream_idle_left_ms(s->d, last), n = left > 0 ? poll(pf, 2, left) : 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return 0;
        }
        if (n == 0) {
            if (stream_idle_left_ms(s->d, last) > 0)
                continue;
            log_info("streaming %s of `%s`: no traffic for the idle timeout, connection closed",
                     s->r->kind == STREAM_EXEC ? "exec" : "attach", s->r->id);
            mux_goaway(s->m);
            return 0;
        }
        if ((pf[0].revents | (pf[1].revents & ~POLLOUT)) != 0)
            last = now_ns();
        if (pf[1].revents & POLLOUT)
            flush_stdin(s);
        if (pf[1].revents & ~POLLOUT) {
            char chunk[32768];
            ssize_t n = read(s->local, chunk, sizeof(chunk));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return 1;
            if (forward_output(s, chunk, (size_t)n) < 0)
                return 0;
        }
        if (pf[0].revents != 0 && mux_pump(s->m) < 0)
            return 0;
    }
}

/* The error stream: v4 and later carry a metav1.Status (with the exit code); older ones an error text only. */
static void send_status(struct session *s, int code, const char *error)
{
    cleanup_json json_t *st = NULL;
    cleanup_free char *msg = NULL;
    if (code == 0 && error == NULL) {
        st = json_pack("{s:{}, s:s}", "metadata", "status", "Success");
    } else if (code != 0) {
        msg = error != NULL ? xstrdup(error)
                            : xasprintf("command terminated with non-zero exit code: exit status %d", code);
        cleanup_free char *c = xasprintf("%d", code);
        st = json_pack("{s:{}, s:s, s:s, s:s, s:{s:[{s:s, s:s}]}}", "metadata", "status", "Failure", "message", msg,
                       "reason", "NonZeroExitCode", "details", "causes", "reason", "ExitCode", "message", c);
    } else {
        msg = xstrdup(error);
        st = json_pack("{s:{}, s:s, s:s, s:s}", "metadata", "status", "Failure", "message", msg, "reason",
                       "InternalError");
    }
    if (s->version >= 4) {
        cleanup_free char *text = json_dumps(st, JSON_COMPACT);
        mux_send(s->m, CH_ERROR, text, strlen(text));
    } else if (msg != NULL) {
        mux_send(s->m, CH_ERROR, msg, strlen(msg));
    }
}

static void finish(struct session *s, int code, const char *error)
{
    send_status(s, code, error);
    for (int ch = 0; ch < CH_COUNT; ch++)
        mux_finish(s->m, ch);
    mux_goaway(s->m);
}

void stream_exec_serve(struct daemon *d, struct stream_request *r, struct mux *m, int version)
{
    struct session s = {.d = d, .r = r, .m = m, .version = version, .local = -1};
    struct isd_error *err = NULL;
    m->h = &session_handler;
    m->ctx = &s;
    if (m->proto == MUX_WS) {
        for (int ch = 0; ch < CH_COUNT; ch++)
            s.opened[ch] = true;
    } else if (wait_streams(&s) < 0) {
        log_warn("streaming %s of `%s`: the client did not open its streams",
                 r->kind == STREAM_EXEC ? "exec" : "attach", r->id);
        goto out;
    }
    if (r->tty && r->kind == STREAM_EXEC)
        wait_first_size(&s);
    if (start_job(&s, &err) < 0) {
        log_warn("streaming %s in `%s`: %s", r->kind == STREAM_EXEC ? "exec" : "attach", r->id, err->msg);
        finish(&s, 0, err->msg);
        goto out;
    }
    if (pump(&s) == 1) {
        pthread_mutex_lock(&s.job->lock);
        int code = s.job->exit_code;
        cleanup_free char *error = s.job->error != NULL ? xstrdup(s.job->error) : NULL;
        pthread_mutex_unlock(&s.job->lock);
        finish(&s, code, error);
    }
    close(s.local);
    job_unref(s.job);
out:
    isd_error_free(err);
    buf_free(&s.stdin_q);
    buf_free(&s.resize);
    buf_free(&s.out);
    stream_request_free(r);
}
