/* SPDY/3.1 framing (draft-mbelshe-httpbis-spdy-00 with the 3.1 session flow control) for the streaming server:
 * the server side of what client-go's spdystream speaks. Header blocks are zlib streams primed with the SPDY/3
 * dictionary, one compression context per direction for the life of the connection. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api/cri/stream_internal.h"

enum {
    SPDY_SYN_STREAM = 1,
    SPDY_SYN_REPLY = 2,
    SPDY_RST_STREAM = 3,
    SPDY_SETTINGS = 4,
    SPDY_PING = 6,
    SPDY_GOAWAY = 7,
    SPDY_HEADERS = 8,
    SPDY_WINDOW_UPDATE = 9,
};
#define SPDY_FLAG_FIN 0x01
#define SPDY_MAX_FRAME (1u << 20)
#define SPDY_MAX_HEADERS (64u << 10)
#define SPDY_SETTING_INITIAL_WINDOW 7
#define SPDY_RST_PROTOCOL_ERROR 1
#define SPDY_RST_REFUSED 3

/* The dictionary of the SPDY/3 draft (section 2.6.10.1): length-prefixed header names and values, then a run of
 * common fragments. Built once from these parts (1423 bytes). */
static const char *const dict_words[] = {"options",
                                         "head",
                                         "post",
                                         "put",
                                         "delete",
                                         "trace",
                                         "accept",
                                         "accept-charset",
                                         "accept-encoding",
                                         "accept-language",
                                         "accept-ranges",
                                         "age",
                                         "allow",
                                         "authorization",
                                         "cache-control",
                                         "connection",
                                         "content-base",
                                         "content-encoding",
                                         "content-language",
                                         "content-length",
                                         "content-location",
                                         "content-md5",
                                         "content-range",
                                         "content-type",
                                         "date",
                                         "etag",
                                         "expect",
                                         "expires",
                                         "from",
                                         "host",
                                         "if-match",
                                         "if-modified-since",
                                         "if-none-match",
                                         "if-range",
                                         "if-unmodified-since",
                                         "last-modified",
                                         "location",
                                         "max-forwards",
                                         "pragma",
                                         "proxy-authenticate",
                                         "proxy-authorization",
                                         "range",
                                         "referer",
                                         "retry-after",
                                         "server",
                                         "te",
                                         "trailer",
                                         "transfer-encoding",
                                         "upgrade",
                                         "user-agent",
                                         "vary",
                                         "via",
                                         "warning",
                                         "www-authenticate",
                                         "method",
                                         "get",
                                         "status",
                                         "200 OK",
                                         "version",
                                         "HTTP/1.1",
                                         "url",
                                         "public",
                                         "set-cookie",
                                         "keep-alive",
                                         "origin"};
static const char dict_tail[] =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
static unsigned char dict[1536];
static size_t dict_len;
static pthread_once_t dict_once = PTHREAD_ONCE_INIT;

static void dict_build(void)
{
    for (size_t i = 0; i < sizeof(dict_words) / sizeof(dict_words[0]); i++) {
        uint32_t be = htonl((uint32_t)strlen(dict_words[i]));
        memcpy(dict + dict_len, &be, 4);
        memcpy(dict + dict_len + 4, dict_words[i], strlen(dict_words[i]));
        dict_len += 4 + strlen(dict_words[i]);
    }
    memcpy(dict + dict_len, dict_tail, sizeof(dict_tail) - 1);
    dict_len += sizeof(dict_tail) - 1;
}

const unsigned char *spdy_dictionary(size_t *ret_len)
{
    pthread_once(&dict_once, dict_build);
    *ret_len = dict_len;
    return dict;
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

void spdy_init(struct mux *m)
{
    pthread_once(&dict_once, dict_build);
    inflateInit(&m->zin);
    deflateInit(&m->zout, Z_DEFAULT_COMPRESSION);
    deflateSetDictionary(&m->zout, dict, (uInt)dict_len);
    m->z_ready = true;
    m->session_window = 65536;
}

void spdy_free(struct mux *m)
{
    if (!m->z_ready)
        return;
    inflateEnd(&m->zin);
    deflateEnd(&m->zout);
    m->z_ready = false;
}

static int send_control(struct mux *m, int type, int flags, const void *payload, size_t n)
{
    unsigned char hdr[8] = {0x80, 3, (unsigned char)(type >> 8), (unsigned char)type, (unsigned char)flags};
    hdr[5] = (unsigned char)(n >> 16);
    hdr[6] = (unsigned char)(n >> 8);
    hdr[7] = (unsigned char)n;
    return mux_write(m, hdr, 8, payload, n);
}

int spdy_send_data(struct mux *m, uint32_t sid, const void *p, size_t n, bool fin)
{
    unsigned char hdr[8];
    put32(hdr, sid & 0x7fffffffu);
    hdr[4] = fin ? SPDY_FLAG_FIN : 0;
    hdr[5] = (unsigned char)(n >> 16);
    hdr[6] = (unsigned char)(n >> 8);
    hdr[7] = (unsigned char)n;
    return mux_write(m, hdr, 8, p, n);
}

/* SYN_REPLY with an empty header block (what spdystream's servers answer). */
int spdy_reply(struct mux *m, uint32_t sid)
{
    unsigned char block[4] = {0};
    unsigned char out[4 + 64];
    put32(out, sid);
    m->zout.next_in = block;
    m->zout.avail_in = sizeof(block);
    m->zout.next_out = out + 4;
    m->zout.avail_out = sizeof(out) - 4;
    if (deflate(&m->zout, Z_SYNC_FLUSH) != Z_OK || m->zout.avail_in != 0)
        return -1;
    return send_control(m, SPDY_SYN_REPLY, 0, out, sizeof(out) - m->zout.avail_out);
}

void spdy_reset(struct mux *m, uint32_t sid, uint32_t status)
{
    unsigned char p[8];
    put32(p, sid);
    put32(p + 4, status);
    send_control(m, SPDY_RST_STREAM, 0, p, 8);
}

void spdy_goaway(struct mux *m)
{
    unsigned char p[8];
    put32(p, m->last_sid);
    put32(p + 4, 0);
    send_control(m, SPDY_GOAWAY, 0, p, 8);
}

static void send_window_update(struct mux *m, uint32_t sid, uint32_t delta)
{
    unsigned char p[8];
    put32(p, sid);
    put32(p + 4, delta);
    send_control(m, SPDY_WINDOW_UPDATE, 0, p, 8);
}

/* Inflates a header block (the connection's inflate context goes on across blocks). */
static int inflate_block(struct mux *m, const unsigned char *p, size_t n, struct buf *out)
{
    unsigned char chunk[4096];
    m->zin.next_in = (unsigned char *)p;
    m->zin.avail_in = (uInt)n;
    while (m->zin.avail_in > 0) {
        m->zin.next_out = chunk;
        m->zin.avail_out = sizeof(chunk);
        int r = inflate(&m->zin, Z_SYNC_FLUSH);
        if (r == Z_NEED_DICT && inflateSetDictionary(&m->zin, dict, (uInt)dict_len) == Z_OK)
            r = Z_OK;
        if (r != Z_OK && r != Z_BUF_ERROR)
            return -1;
        buf_append(out, chunk, sizeof(chunk) - m->zin.avail_out);
        if (buf_size(out) > SPDY_MAX_HEADERS)
            return -1;
        if (r == Z_BUF_ERROR && m->zin.avail_out != 0)
            break;
    }
    return 0;
}

/* Name/value pairs of an inflated block; a value with several NUL-separated parts keeps the first. */
static struct spdy_header *parse_block(const unsigned char *p, size_t n, size_t *ret_n)
{
    struct spdy_header *h;
    size_t off = 4, count;
    if (n < 4 || (count = get32(p)) > 256)
        return NULL;
    h = xcalloc(count + 1, sizeof(*h));
    for (size_t i = 0; i < count; i++) {
        char *fields[2];
        for (int k = 0; k < 2; k++) {
            uint32_t len;
            if (off + 4 > n || (len = get32(p + off)) > n - off - 4) {
                for (size_t j = 0; j < i; j++)
                    free(h[j].name), free(h[j].value);
                if (k == 1)
                    free(fields[0]);
                free(h);
                return NULL;
            }
            fields[k] = xstrndup((const char *)p + off + 4, len);
            off += 4 + len;
        }
        for (char *c = fields[0]; *c != '\0'; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
        h[i] = (struct spdy_header){fields[0], fields[1]};
    }
    *ret_n = count;
    return h;
}

static int channel_of(struct mux *m, uint32_t sid)
{
    for (int ch = 0; ch < MUX_MAX_CH; ch++)
        if (m->ch_sid[ch] == sid)
            return ch;
    return -1;
}

static int on_syn_stream(struct mux *m, const unsigned char *p, size_t n, int flags)
{
    struct buf block = {0};
    struct spdy_header *h;
    size_t nh = 0;
    uint32_t sid;
    int ch;
    if (n < 10)
        return -1;
    sid = get32(p) & 0x7fffffffu;
    if (inflate_block(m, p + 10, n - 10, &block) < 0 ||
        (h = parse_block((const unsigned char *)buf_head(&block), buf_size(&block), &nh)) == NULL) {
        buf_free(&block);
        return -1;
    }
    buf_free(&block);
    if (sid > m->last_sid)
        m->last_sid = sid;
    ch = m->h->open(m->ctx, m, h, nh);
    for (size_t i = 0; i < nh; i++)
        free(h[i].name), free(h[i].value);
    free(h);
    if (ch < 0 || ch >= MUX_MAX_CH || m->ch_sid[ch] != 0) {
        spdy_reset(m, sid, SPDY_RST_REFUSED);
        return 1;
    }
    m->ch_sid[ch] = sid;
    m->ch_window[ch] = m->ch_window[ch] > 0 ? m->ch_window[ch] : 65536;
    if (spdy_reply(m, sid) < 0)
        return -1;
    if (flags & SPDY_FLAG_FIN)
        m->h->eof(m->ctx, ch);
    return 1;
}

static void on_settings(struct mux *m, const unsigned char *p, size_t n)
{
    uint32_t count = n >= 4 ? get32(p) : 0;
    for (uint32_t i = 0; i < count && 4 + (size_t)(i + 1) * 8 <= n; i++) {
        const unsigned char *e = p + 4 + (size_t)i * 8;
        if ((get32(e) & 0xffffff) != SPDY_SETTING_INITIAL_WINDOW)
            continue;
        /* a client announcing its window size keeps to windows: honour them too */
        m->peer_flow = true;
        for (int ch = 0; ch < MUX_MAX_CH; ch++)
            m->ch_window[ch] = get32(e + 4);
    }
}

static int on_control(struct mux *m, int type, int flags, const unsigned char *p, size_t n)
{
    switch (type) {
    case SPDY_SYN_STREAM:
        return on_syn_stream(m, p, n, flags);
    case SPDY_RST_STREAM: {
        int ch = n >= 8 ? channel_of(m, get32(p) & 0x7fffffffu) : -1;
        if (ch < 0)
            return 1;
        m->ch_fin[ch] = true; /* nothing more may be sent on it */
        if (m->h->reset != NULL)
            m->h->reset(m->ctx, ch);
        else
            m->h->eof(m->ctx, ch);
        return 1;
    }
    case SPDY_SETTINGS:
        on_settings(m, p, n);
        return 1;
    case SPDY_PING:
        return n == 4 && send_control(m, SPDY_PING, 0, p, 4) == 0 ? 1 : -1;
    case SPDY_GOAWAY:
        m->ended = true;
        return 1;
    case SPDY_HEADERS: { /* nothing to act on, but the inflate context must see the block */
        struct buf block = {0};
        int r = n >= 4 && inflate_block(m, p + 4, n - 4, &block) == 0 ? 1 : -1;
        buf_free(&block);
        return r;
    }
    case SPDY_WINDOW_UPDATE: {
        uint32_t sid = n >= 8 ? get32(p) & 0x7fffffffu : 0;
        int64_t delta = n >= 8 ? (int64_t)(get32(p + 4) & 0x7fffffffu) : 0;
        int ch = sid != 0 ? channel_of(m, sid) : -1;
        m->peer_flow = true;
        if (sid == 0)
            m->session_window += delta;
        else if (ch >= 0)
            m->ch_window[ch] += delta;
        return 1;
    }
    default: /* SYN_REPLY (we open no streams), unknown types: ignored as the draft says */
        return 1;
    }
}

static int on_data(struct mux *m, uint32_t sid, int flags, const unsigned char *p, size_t n)
{
    int ch = channel_of(m, sid);
    if (ch < 0) {
        spdy_reset(m, sid, SPDY_RST_PROTOCOL_ERROR);
        return 1;
    }
    if (n > 0) {
        m->h->data(m->ctx, ch, p, n);
        /* consumed at once: give the client its window back */
        send_window_update(m, sid, (uint32_t)n);
        send_window_update(m, 0, (uint32_t)n);
    }
    if (flags & SPDY_FLAG_FIN)
        m->h->eof(m->ctx, ch);
    return 1;
}

int spdy_parse_frame(struct mux *m)
{
    const unsigned char *p = (const unsigned char *)buf_head(&m->in);
    size_t have = buf_size(&m->in), len;
    int r;
    if (have < 8)
        return 0;
    len = (size_t)p[5] << 16 | (size_t)p[6] << 8 | p[7];
    if (len > SPDY_MAX_FRAME)
        return -1;
    if (have < 8 + len)
        return 0;
    /* the frame leaves the input buffer first: a handler may read more of the connection */
    cleanup_free unsigned char *f = xmalloc(8 + len);
    memcpy(f, p, 8 + len);
    buf_consume(&m->in, 8 + len);
    if (f[0] & 0x80) {
        if (((f[0] & 0x7f) << 8 | f[1]) != 3)
            return -1;
        r = on_control(m, f[2] << 8 | f[3], f[4], f + 8, len);
    } else {
        r = on_data(m, get32(f) & 0x7fffffffu, f[4], f + 8, len);
    }
    return r;
}
