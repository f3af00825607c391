/* Port forwarding on the streaming server. SPDY (portforward.k8s.io): the client opens a data and an error stream
 * per forwarded connection, both with headers `port` and `requestID`; each pair is connected to 127.0.0.1:port in the
 * pod's network namespace. WebSocket: two channels per port of the request (data 2i, error 2i+1), each starting with
 * the port as a little-endian uint16, one connection per port for the life of the socket. Pair k uses channels 2k and
 * 2k+1 in both cases. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/api/cri/stream_internal.h"

#define PF_PAIRS (MUX_MAX_CH / 2)
#define PF_QUEUE_MAX (16u << 20)

struct pf_pair {
    bool used;
    char *request_id;
    int port;
    bool has_data, has_error;
    int fd; /* the connection in the pod; -1 before it is made */
    bool tried, client_eof, shut;
    bool reset;   /* the client reset a stream of the pair: released by the loop */
    struct buf q; /* the client's bytes on their way to the pod (before the connection, or not taken yet) */
};

struct pf_session {
    struct daemon *d;
    struct stream_request *r;
    struct mux *m;
    struct pf_pair p[PF_PAIRS];
};

static const char *header(const struct spdy_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static int pf_open(void *ctx, struct mux *m, const struct spdy_header *h, size_t n)
{
    struct pf_session *s = ctx;
    const char *type = header(h, n, "streamtype"), *port = header(h, n, "port"), *id = header(h, n, "requestid");
    long long portnum;
    int k, free_k = -1;
    (void)m;
    if (type == NULL || port == NULL || parse_int64(port, &portnum) < 0 || portnum < 1 || portnum > 65535)
        return -1;
    id = id != NULL ? id : "";
    for (k = 0; k < PF_PAIRS; k++) {
        if (s->p[k].used && strcmp(s->p[k].request_id, id) == 0)
            break;
        if (!s->p[k].used && free_k < 0)
            free_k = k;
    }
    if (k == PF_PAIRS) {
        if (free_k < 0)
            return -1;
        k = free_k;
        s->p[k] = (struct pf_pair){.used = true, .request_id = xstrdup(id), .port = (int)portnum, .fd = -1};
    }
    if (strcmp(type, "data") == 0 && !s->p[k].has_data) {
        s->p[k].has_data = true;
        return 2 * k;
    }
    if (strcmp(type, "error") == 0 && !s->p[k].has_error) {
        s->p[k].has_error = true;
        return 2 * k + 1;
    }
    return -1;
}

/* Writes what the pod takes now: the connection's thread never blocks on a pod that is not reading (it may be
 * writing to us). The client's FIN becomes a half-close once everything went. */
static void pair_flush(struct pf_pair *pair)
{
    while (pair->fd >= 0 && buf_size(&pair->q) > 0) {
        ssize_t w = send(pair->fd, buf_head(&pair->q), buf_size(&pair->q), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (w <= 0) {
            buf_consume(&pair->q, buf_size(&pair->q));
            break;
        }
        buf_consume(&pair->q, (size_t)w);
    }
    if (pair->fd >= 0 && pair->client_eof && !pair->shut && buf_size(&pair->q) == 0) {
        pair->shut = true;
        shutdown(pair->fd, SHUT_WR);
    }
}

static void pf_data(void *ctx, int ch, const unsigned char *p, size_t n)
{
    struct pf_session *s = ctx;
    struct pf_pair *pair = &s->p[ch / 2];
    if (ch % 2 != 0 || !pair->used || pair->client_eof || (pair->tried && pair->fd < 0))
        return;
    buf_append(&pair->q, p, n);
    if (buf_size(&pair->q) > PF_QUEUE_MAX) /* a client that keeps to no window: drop it */
        s->m->ended = true;
    pair_flush(pair);
}

static void pf_eof(void *ctx, int ch)
{
    struct pf_session *s = ctx;
    struct pf_pair *pair = &s->p[ch / 2];
    if (ch % 2 != 0 || !pair->used || pair->client_eof)
        return;
    pair->client_eof = true;
    pair_flush(pair);
}

static void pair_release(struct pf_session *s, int k);

/* A reset stream (kubectl resets a pair it is done with) ends the pair and its connection to the pod. */
static void pf_reset(void *ctx, int ch)
{
    struct pf_session *s = ctx;
    if (s->p[ch / 2].used)
        s->p[ch / 2].reset = true;
}

static const struct mux_handler pf_handler = {pf_open, pf_data, pf_eof, pf_reset};

/* Frees pair k and its channels (SPDY may open them again for another request). */
static void pair_release(struct pf_session *s, int k)
{
    struct pf_pair *pair = &s->p[k];
    mux_finish(s->m, 2 * k);
    mux_finish(s->m, 2 * k + 1);
    if (pair->fd >= 0)
        close(pair->fd);
    free(pair->request_id);
    buf_free(&pair->q);
    for (int ch = 2 * k; ch <= 2 * k + 1; ch++) {
        s->m->ch_sid[ch] = 0;
        s->m->ch_fin[ch] = false;
        s->m->ch_window[ch] = 0;
    }
    *pair = (struct pf_pair){.fd = -1};
}

static void pair_connect(struct pf_session *s, int k)
{
    struct pf_pair *pair = &s->p[k];
    struct isd_error *err = NULL;
    pair->tried = true;
    if (service_pod_port_connect(s->d, s->r->id, pair->port, &pair->fd, &err) < 0) {
        mux_send(s->m, 2 * k + 1, err->msg, strlen(err->msg));
        isd_error_free(err);
        if (s->m->proto == MUX_SPDY)
            pair_release(s, k);
        return;
    }
    pair_flush(pair);
}

/* Bytes from the pod; at its end the pair is done. Returns -1 when the client is gone. */
static int pair_read(struct pf_session *s, int k)
{
    struct pf_pair *pair = &s->p[k];
    char chunk[32768];
    ssize_t n = read(pair->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (n > 0)
        return mux_send(s->m, 2 * k, chunk, (size_t)n);
    if (s->m->proto == MUX_SPDY) {
        pair_release(s, k);
    } else {
        close(pair->fd);
        pair->fd = -1; /* a WebSocket pair is not used again */
    }
    return 0;
}

static bool ws_all_done(struct pf_session *s)
{
    for (int k = 0; k < PF_PAIRS; k++)
        if (s->p[k].used && (s->p[k].fd >= 0 || !s->p[k].tried))
            return false;
    return true;
}

static void serve_loop(struct pf_session *s)
{
    long long last = now_ns();
    for (;;) {
        struct pollfd pf[PF_PAIRS + 1] = {{s->m->fd, POLLIN, 0}};
        int idx[PF_PAIRS + 1], n = 1;
        for (int k = 0; k < PF_PAIRS; k++) {
            struct pf_pair *pair = &s->p[k];
            if (pair->used && pair->reset)
                pair_release(s, k);
            if (pair->used && !pair->tried && pair->has_data && pair->has_error)
                pair_connect(s, k);
            if (pair->used && pair->fd >= 0) {
                pf[n] = (struct pollfd){pair->fd, (short)(POLLIN | (buf_size(&pair->q) > 0 ? POLLOUT : 0)), 0};
                idx[n++] = k;
            }
        }
        if (s->m->proto == MUX_WS && ws_all_done(s))
            return;
        int left = stream_idle_left_ms(s->d, last), ready = left > 0 ? poll(pf, (nfds_t)n, left) : 0;
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (ready == 0) {
            if (stream_idle_left_ms(s->d, last) > 0)
                continue;
            log_info("streaming port-forward of `%s`: no traffic for the idle timeout, connection closed", s->r->id);
            return; /* the caller says goodbye and closes the pairs */
        }
        last = now_ns();
        for (int i = 1; i < n; i++) {
            if (pf[i].revents & POLLOUT)
                pair_flush(&s->p[idx[i]]);
            if ((pf[i].revents & ~POLLOUT) && s->p[idx[i]].fd >= 0 && pair_read(s, idx[i]) < 0)
                return;
        }
        if (pf[0].revents != 0 && mux_pump(s->m) < 0)
            return;
    }
}

/* WebSocket: the pairs are the request's ports, announced on both channels and connected at once. */
static int ws_setup(struct pf_session *s)
{
    for (size_t i = 0; i < s->r->n_ports && i < PF_PAIRS; i++) {
        unsigned char le[2] = {(unsigned char)(s->r->ports[i] & 0xff), (unsigned char)(s->r->ports[i] >> 8)};
        s->p[i] = (struct pf_pair){.used = true,
                                   .request_id = xstrdup(""),
                                   .port = s->r->ports[i],
                                   .fd = -1,
                                   .has_data = true,
                                   .has_error = true};
        if (mux_send(s->m, 2 * (int)i, le, 2) < 0 || mux_send(s->m, 2 * (int)i + 1, le, 2) < 0)
            return -1;
    }
    return 0;
}

void stream_portforward_serve(struct daemon *d, struct stream_request *r, struct mux *m)
{
    struct pf_session *s = xcalloc(1, sizeof(*s));
    s->d = d;
    s->r = r;
    s->m = m;
    for (int k = 0; k < PF_PAIRS; k++)
        s->p[k].fd = -1;
    m->h = &pf_handler;
    m->ctx = s;
    if (m->proto == MUX_SPDY || ws_setup(s) == 0)
        serve_loop(s);
    if (!m->ended)
        mux_goaway(m);
    for (int k = 0; k < PF_PAIRS; k++)
        if (s->p[k].used)
            pair_release(s, k);
    free(s);
    stream_request_free(r);
}
