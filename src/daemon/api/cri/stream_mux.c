/* The numbered channels of an upgraded streaming connection, over SPDY/3.1 or WebSocket (stream_internal.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/api/cri/stream_internal.h"

#define MUX_CHUNK 16384

int stream_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

void mux_init(struct mux *m, enum mux_proto proto, int fd, const struct mux_handler *h, void *ctx, const void *pending,
              size_t n_pending)
{
    memset(m, 0, sizeof(*m));
    m->fd = fd;
    m->proto = proto;
    m->h = h;
    m->ctx = ctx;
    if (n_pending > 0)
        buf_append(&m->in, pending, n_pending);
    if (proto == MUX_SPDY)
        spdy_init(m);
}

void mux_free(struct mux *m)
{
    if (m->proto == MUX_SPDY)
        spdy_free(m);
    buf_free(&m->in);
    buf_free(&m->raw);
    buf_free(&m->frag);
}

void mux_set_tunnel(struct mux *m)
{
    m->tunnel = true;
    m->raw = m->in;
    m->in = (struct buf){0};
}

int mux_write(struct mux *m, const void *p1, size_t n1, const void *p2, size_t n2)
{
    if (m->tunnel)
        return ws_send_binary(m, p1, n1, p2, n2);
    if (n1 > 0 && stream_write_all(m->fd, p1, n1) < 0)
        return -1;
    return n2 > 0 ? stream_write_all(m->fd, p2, n2) : 0;
}

/* The tunnel: every whole WebSocket frame of raw, binary payloads appended to in (ping, close handled). */
static int unwrap_all(struct mux *m)
{
    while (!m->ended) {
        int r = ws_parse_frame(m);
        if (r < 0) {
            log_warn("streaming connection: the client broke the WebSocket protocol of its SPDY tunnel");
            return -1;
        }
        if (r == 0)
            break;
    }
    return 0;
}

static int parse_all(struct mux *m)
{
    for (;;) {
        int r = m->proto == MUX_SPDY ? spdy_parse_frame(m) : ws_parse_frame(m);
        if (r < 0) {
            log_warn("streaming connection: the client broke the %s protocol",
                     m->proto == MUX_SPDY ? "SPDY" : "WebSocket");
            return -1;
        }
        if (r == 0 || m->ended)
            return m->ended ? -1 : 0;
    }
}

int mux_pump(struct mux *m)
{
    char chunk[32768];
    ssize_t n;
    /* frames that came with the upgrade request */
    if (m->tunnel && buf_size(&m->raw) > 0 && unwrap_all(m) < 0)
        return -1;
    if (buf_size(&m->in) > 0 && parse_all(m) < 0)
        return -1;
    do
        n = read(m->fd, chunk, sizeof(chunk));
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        m->ended = true;
        return -1;
    }
    buf_append(m->tunnel ? &m->raw : &m->in, chunk, (size_t)n);
    if (m->tunnel && unwrap_all(m) < 0)
        return -1;
    return parse_all(m);
}

/* SPDY: how much of n the windows let through now, waiting for updates from a peer that keeps to them. A peer
 * that never spoke of windows (spdystream sends no WINDOW_UPDATE) is not waited for. */
static long long spdy_allowance(struct mux *m, int ch, size_t n)
{
    while (m->peer_flow && (m->ch_window[ch] <= 0 || m->session_window <= 0)) {
        if (m->ended || mux_pump(m) < 0)
            return -1;
        if (m->ch_sid[ch] == 0)
            return -1;
    }
    if (!m->peer_flow)
        return (long long)n;
    long long w = m->ch_window[ch] < m->session_window ? m->ch_window[ch] : m->session_window;
    return w < (long long)n ? w : (long long)n;
}

int mux_send(struct mux *m, int ch, const void *p, size_t n)
{
    const char *c = p;
    if (ch < 0 || ch >= MUX_MAX_CH)
        return -1;
    if (m->proto == MUX_WS)
        return ws_send(m, ch, p, n);
    if (m->ch_sid[ch] == 0 || m->ch_fin[ch])
        return 0; /* the client did not open this stream: nobody reads it */
    while (n > 0) {
        long long k = spdy_allowance(m, ch, n < MUX_CHUNK ? n : MUX_CHUNK);
        if (k < 0 || spdy_send_data(m, m->ch_sid[ch], c, (size_t)k, false) < 0)
            return -1;
        m->ch_window[ch] -= k;
        m->session_window -= k;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

void mux_finish(struct mux *m, int ch)
{
    if (m->proto != MUX_SPDY || ch < 0 || ch >= MUX_MAX_CH || m->ch_sid[ch] == 0 || m->ch_fin[ch])
        return;
    m->ch_fin[ch] = true;
    spdy_send_data(m, m->ch_sid[ch], NULL, 0, true);
}

void mux_goaway(struct mux *m)
{
    if (m->proto == MUX_SPDY)
        spdy_goaway(m);
    if (m->proto == MUX_WS || m->tunnel)
        ws_close(m);
}
