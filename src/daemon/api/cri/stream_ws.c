/* WebSocket framing (RFC 6455) for the streaming server, with Kubernetes' channel protocols: every message starts
 * with its channel number (a byte; with the base64 protocols an ASCII digit followed by base64 text), and v5 adds
 * channel 255, whose message [255, ch] closes ch. */
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api/cri/stream_internal.h"

#define WS_MAX_MESSAGE (1u << 20)
#define WS_CLOSE_CHANNEL 255

enum { WS_CONT = 0, WS_TEXT = 1, WS_BINARY = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

char *ws_accept_key(const char *key)
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    struct sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];
    char *out = xcalloc(1, BASE64_ENCODE_RAW_LENGTH(SHA1_DIGEST_SIZE) + 1);
    sha1_init(&ctx);
    sha1_update(&ctx, strlen(key), (const uint8_t *)key);
    sha1_update(&ctx, sizeof(guid) - 1, (const uint8_t *)guid);
    sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
    base64_encode_raw(out, SHA1_DIGEST_SIZE, digest);
    return out;
}

static int send_frame(struct mux *m, int op, const void *p1, size_t n1, const void *p2, size_t n2)
{
    unsigned char hdr[10];
    size_t n = n1 + n2, hl = 2;
    hdr[0] = (unsigned char)(0x80 | op);
    if (n < 126) {
        hdr[1] = (unsigned char)n;
    } else if (n <= 0xffff) {
        hdr[1] = 126;
        hdr[2] = (unsigned char)(n >> 8);
        hdr[3] = (unsigned char)n;
        hl = 4;
    } else {
        hdr[1] = 127;
        for (int i = 0; i < 8; i++)
            hdr[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    if (stream_write_all(m->fd, hdr, hl) < 0 || (n1 > 0 && stream_write_all(m->fd, p1, n1) < 0))
        return -1;
    return n2 > 0 ? stream_write_all(m->fd, p2, n2) : 0;
}

int ws_send(struct mux *m, int ch, const void *p, size_t n)
{
    if (!m->base64) {
        unsigned char c = (unsigned char)ch;
        return send_frame(m, WS_BINARY, &c, 1, p, n);
    }
    cleanup_free char *text = xmalloc(BASE64_ENCODE_RAW_LENGTH(n) + 2);
    text[0] = (char)('0' + ch);
    base64_encode_raw(text + 1, n, p);
    return send_frame(m, WS_TEXT, text, 1 + BASE64_ENCODE_RAW_LENGTH(n), NULL, 0);
}

int ws_send_binary(struct mux *m, const void *p1, size_t n1, const void *p2, size_t n2)
{
    return send_frame(m, WS_BINARY, p1, n1, p2, n2);
}

void ws_close(struct mux *m)
{
    unsigned char code[2] = {1000 >> 8, 1000 & 0xff};
    send_frame(m, WS_CLOSE, code, 2, NULL, 0);
}

static int dispatch_binary(struct mux *m, const unsigned char *p, size_t n)
{
    if (n == 0)
        return 1;
    if (m->v5 && p[0] == WS_CLOSE_CHANNEL) {
        if (n >= 2 && p[1] < MUX_MAX_CH)
            m->h->eof(m->ctx, p[1]);
        return 1;
    }
    if (p[0] < MUX_MAX_CH && n > 1)
        m->h->data(m->ctx, p[0], p + 1, n - 1);
    return 1;
}

static int dispatch_text(struct mux *m, const unsigned char *p, size_t n)
{
    struct base64_decode_ctx ctx;
    size_t out_len;
    int ch;
    if (n == 0)
        return 1;
    if (p[0] < '0' || p[0] > '9')
        return -1;
    ch = p[0] - '0';
    cleanup_free uint8_t *out = xmalloc(BASE64_DECODE_LENGTH(n) + 1);
    out_len = BASE64_DECODE_LENGTH(n);
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &out_len, out, n - 1, (const char *)p + 1) || !base64_decode_final(&ctx))
        return -1;
    if (out_len > 0)
        m->h->data(m->ctx, ch, out, out_len);
    return 1;
}

static int on_message(struct mux *m, int op, const unsigned char *p, size_t n)
{
    switch (op) {
    case WS_BINARY:
        if (m->tunnel) { /* the tunnel's byte stream: message boundaries mean nothing */
            buf_append(&m->in, p, n);
            return 1;
        }
        return dispatch_binary(m, p, n);
    case WS_TEXT:
        if (m->tunnel)
            return -1; /* a tunnel carries binary messages only */
        return m->base64 ? dispatch_text(m, p, n) : dispatch_binary(m, p, n);
    case WS_CLOSE:
        ws_close(m);
        m->ended = true;
        return 1;
    case WS_PING:
        return send_frame(m, WS_PONG, p, n, NULL, 0) == 0 ? 1 : -1;
    default:
        return 1;
    }
}

/* One frame of m->in: returns its total size and fills the header fields, 0 when incomplete, -1 when too big. */
static long long frame_size(const unsigned char *p, size_t have, bool *ret_fin, int *ret_op, size_t *ret_len,
                            const unsigned char **ret_mask, size_t *ret_hl)
{
    size_t hl = 2;
    uint64_t len;
    if (have < 2)
        return 0;
    len = p[1] & 0x7f;
    if (len == 126) {
        if (have < 4)
            return 0;
        len = (uint64_t)p[2] << 8 | p[3];
        hl = 4;
    } else if (len == 127) {
        if (have < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        hl = 10;
    }
    if (len > WS_MAX_MESSAGE)
        return -1;
    *ret_mask = (p[1] & 0x80) ? p + hl : NULL;
    hl += (p[1] & 0x80) ? 4 : 0;
    if (have < hl + len)
        return 0;
    *ret_fin = (p[0] & 0x80) != 0;
    *ret_op = p[0] & 0x0f;
    *ret_len = (size_t)len;
    *ret_hl = hl;
    return (long long)(hl + len);
}

int ws_parse_frame(struct mux *m)
{
    struct buf *in = m->tunnel ? &m->raw : &m->in;
    const unsigned char *p = (const unsigned char *)buf_head(in), *mask;
    bool fin;
    int op, r = 1;
    size_t len, hl;
    long long total = frame_size(p, buf_size(in), &fin, &op, &len, &mask, &hl);
    if (total <= 0)
        return (int)total;
    cleanup_free unsigned char *payload = xmalloc(len + 1);
    for (size_t i = 0; i < len; i++)
        payload[i] = (unsigned char)(p[hl + i] ^ (mask != NULL ? mask[i % 4] : 0));
    buf_consume(in, (size_t)total);
    if (op >= WS_CLOSE) /* control frames come whole, also between the fragments of a message */
        return on_message(m, op, payload, len);
    if (op != WS_CONT) {
        buf_free(&m->frag);
        m->frag_op = op;
    } else if (m->frag_op == 0) {
        return -1;
    }
    buf_append(&m->frag, payload, len);
    if (buf_size(&m->frag) > WS_MAX_MESSAGE)
        return -1;
    if (fin) {
        struct buf msg = m->frag;
        m->frag = (struct buf){0};
        r = on_message(m, m->frag_op, (const unsigned char *)buf_head(&msg), buf_size(&msg));
        m->frag_op = 0;
        buf_free(&msg);
    }
    return r;
}
