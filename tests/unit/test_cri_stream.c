/* Unit tests of the CRI streaming server's framings (stream_spdy.c, stream_ws.c) on a socketpair: header blocks
 * compressed as a client does, replies read back, channels and ends dispatched, broken input refused. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "daemon/api/cri/cri_internal.h"
#include "daemon/api/cri/stream_internal.h"
#include "harness.h"

struct seen {
    int opened;
    char type[32];
    struct buf data[MUX_MAX_CH];
    bool eof[MUX_MAX_CH];
};

static int t_open(void *ctx, struct mux *m, const struct spdy_header *h, size_t n)
{
    struct seen *s = ctx;
    (void)m;
    for (size_t i = 0; i < n; i++)
        if (strcmp(h[i].name, "streamtype") == 0)
            snprintf(s->type, sizeof(s->type), "%s", h[i].value);
    return strcmp(s->type, "refused") == 0 ? -1 : s->opened++;
}

static void t_data(void *ctx, int ch, const unsigned char *p, size_t n)
{
    buf_append(&((struct seen *)ctx)->data[ch], p, n);
}

static void t_eof(void *ctx, int ch)
{
    ((struct seen *)ctx)->eof[ch] = true;
}

static const struct mux_handler handler = {t_open, t_data, t_eof, NULL};

static void put32(unsigned char *p, uint32_t v)
{
    v = htonl(v);
    memcpy(p, &v, 4);
}

/* A SYN_STREAM as a client sends it: one header, the block deflated with the dictionary. */
static size_t syn_stream(z_stream *z, uint32_t sid, const char *name, const char *value, unsigned char *out)
{
    unsigned char block[256];
    size_t bl = 0, dl;
    const unsigned char *dict = spdy_dictionary(&dl);
    if (z->state == NULL) {
        deflateInit(z, Z_DEFAULT_COMPRESSION);
        deflateSetDictionary(z, dict, (uInt)dl);
    }
    put32(block, 1);
    put32(block + 4, (uint32_t)strlen(name));
    memcpy(block + 8, name, strlen(name));
    bl = 8 + strlen(name);
    put32(block + bl, (uint32_t)strlen(value));
    memcpy(block + bl + 4, value, strlen(value));
    bl += 4 + strlen(value);
    z->next_in = block;
    z->avail_in = (uInt)bl;
    z->next_out = out + 18;
    z->avail_out = 512;
    deflate(z, Z_SYNC_FLUSH);
    size_t len = 10 + (512 - z->avail_out);
    unsigned char hdr[8] = {
        0x80, 3, 0, 1, 0, (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len};
    memcpy(out, hdr, 8);
    put32(out + 8, sid);
    memset(out + 12, 0, 6);
    return 8 + len;
}

TEST(spdy_dictionary_has_the_drafts_size)
{
    size_t n;
    const unsigned char *d = spdy_dictionary(&n);
    ASSERT_INT_EQ(n, 1423);
    ASSERT_TRUE(memcmp(d, "\0\0\0\7options\0\0\0\4head", 15) == 0);
    ASSERT_TRUE(memcmp(d + n - 7, ",enq=0.", 7) == 0);
}

TEST(spdy_streams_data_and_ends)
{
    int sp[2];
    struct seen s = {0};
    struct mux m;
    z_stream z = {0};
    unsigned char frame[600], reply[64];
    ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    mux_init(&m, MUX_SPDY, sp[0], &handler, &s, NULL, 0);
    size_t n = syn_stream(&z, 1, "streamType", "stdout", frame);
    buf_append(&m.in, frame, n);
    n = syn_stream(&z, 3, "streamtype", "refused", frame);
    buf_append(&m.in, frame, n);
    unsigned char data[8 + 5] = {0, 0, 0, 1, 1, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'}; /* stream 1, FIN */
    buf_append(&m.in, data, sizeof(data));
    while (spdy_parse_frame(&m) == 1)
        ;
    ASSERT_INT_EQ(s.opened, 1);
    ASSERT_INT_EQ(m.ch_sid[0], 1);
    ASSERT_INT_EQ(buf_size(&s.data[0]), 5);
    ASSERT_TRUE(memcmp(buf_head(&s.data[0]), "hello", 5) == 0 && s.eof[0]);
    /* SYN_REPLY for stream 1, RST_STREAM (REFUSED) for stream 3 */
    ASSERT_TRUE(read(sp[1], reply, 8) == 8);
    ASSERT_INT_EQ(reply[3], 2);
    ASSERT_TRUE(read(sp[1], reply + 8, (size_t)reply[7]) == reply[7]);
    ASSERT_TRUE(read(sp[1], reply, 16) == 16);
    ASSERT_INT_EQ(reply[3], 3);
    ASSERT_INT_EQ(reply[15], 3);
    /* a frame of another version is a protocol error */
    unsigned char v2[8] = {0x80, 2, 0, 6, 0, 0, 0, 0};
    buf_append(&m.in, v2, 8);
    ASSERT_INT_EQ(spdy_parse_frame(&m), -1);
    deflateEnd(&z);
    mux_free(&m);
    for (int i = 0; i < MUX_MAX_CH; i++)
        buf_free(&s.data[i]);
    close(sp[0]);
    close(sp[1]);
}

TEST(websocket_accept_key_of_rfc_6455)
{
    char *k = ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==");
    ASSERT_STR_EQ(k, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    free(k);
}

TEST(websocket_channels_fragments_and_close_signal)
{
    int sp[2];
    struct seen s = {0};
    struct mux m;
    ASSERT_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
    mux_init(&m, MUX_WS, sp[0], &handler, &s, NULL, 0);
    m.v5 = true;
    /* masked binary "\x01ab" in two fragments, then [255, 0] */
    const unsigned char mask[4] = {1, 2, 3, 4};
    unsigned char f1[] = {0x02, 0x82, 1, 2, 3, 4, 0x01 ^ 1, 'a' ^ 2};
    unsigned char f2[] = {0x80, 0x81, 1, 2, 3, 4, 'b' ^ 1};
    unsigned char close_sig[] = {0x82, 0x82, 1, 2, 3, 4, 0xff ^ 1, 0x00 ^ 2};
    (void)mask;
    buf_append(&m.in, f1, sizeof(f1));
    buf_append(&m.in, f2, sizeof(f2));
    buf_append(&m.in, close_sig, sizeof(close_sig));
    while (ws_parse_frame(&m) == 1)
        ;
    ASSERT_INT_EQ(buf_size(&s.data[1]), 2);
    ASSERT_TRUE(memcmp(buf_head(&s.data[1]), "ab", 2) == 0);
    ASSERT_TRUE(s.eof[0]);
    /* our frames: unmasked, the channel first */
    ASSERT_INT_EQ(ws_send(&m, 3, "xy", 2), 0);
    unsigned char out[5];
    ASSERT_TRUE(read(sp[1], out, 5) == 5);
    ASSERT_TRUE(out[0] == 0x82 && out[1] == 3 && out[2] == 3 && out[3] == 'x');
    /* a continuation without a message, and a frame over the limit, are refused */
    unsigned char cont[] = {0x80, 0x00};
    buf_append(&m.in, cont, 2);
    ASSERT_INT_EQ(ws_parse_frame(&m), -1);
    mux_free(&m);
    mux_init(&m, MUX_WS, sp[0], &handler, &s, NULL, 0);
    unsigned char huge[] = {0x82, 0x7f, 0, 0, 0, 0, 0x10, 0, 0, 0};
    buf_append(&m.in, huge, sizeof(huge));
    ASSERT_INT_EQ(ws_parse_frame(&m), -1);
    mux_free(&m);
    for (int i = 0; i < MUX_MAX_CH; i++)
        buf_free(&s.data[i]);
    close(sp[0]);
    close(sp[1]);
}

static struct stream_request *request(const char *id)
{
    struct stream_request *r = xcalloc(1, sizeof(*r));
    r->kind = STREAM_ATTACH;
    r->id = xstrdup(id);
    return r;
}

TEST(tokens_are_single_use_and_expire_after_a_minute)
{
    const long long t0 = 1000000000000LL;
    struct isd_error *err = NULL;
    char *a = stream_token_put(request("a"), t0, &err);
    char *b = stream_token_put(request("b"), t0, &err);
    ASSERT_TRUE(a != NULL && b != NULL && strcmp(a, b) != 0 && strlen(a) == 32);
    struct stream_request *r = stream_token_take(a, t0 + STREAM_TOKEN_TTL_NS - 1);
    ASSERT_TRUE(r != NULL);
    ASSERT_STR_EQ(r->id, "a");
    stream_request_free(r);
    ASSERT_TRUE(stream_token_take(a, t0) == NULL);                       /* used */
    ASSERT_TRUE(stream_token_take(b, t0 + STREAM_TOKEN_TTL_NS) == NULL); /* expired */
    ASSERT_TRUE(stream_token_take("nope", t0) == NULL);
    free(a);
    free(b);
    /* at most STREAM_TOKEN_MAX in flight; expired ones make room */
    for (int i = 0; i < STREAM_TOKEN_MAX; i++)
        free(stream_token_put(request("x"), t0, &err));
    ASSERT_TRUE(err == NULL);
    ASSERT_TRUE(stream_token_put(request("y"), t0, &err) == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_UNAVAILABLE);
    isd_error_free(err);
    err = NULL;
    char *c = stream_token_put(request("z"), t0 + STREAM_TOKEN_TTL_NS, &err);
    ASSERT_TRUE(c != NULL);
    free(c);
    stream_tokens_clear();
}

TEST(streaming_methods_are_served)
{
    const char *p = "/runtime.v1alpha2.RuntimeService/PortForward";
    ASSERT_TRUE(cri_method_lookup(p, strlen(p))->fn == cri_port_forward);
    p = "/runtime.v1.RuntimeService/Exec";
    ASSERT_TRUE(cri_method_lookup(p, strlen(p))->fn == cri_exec);
    p = "/runtime.v1.RuntimeService/Attach";
    ASSERT_TRUE(cri_method_lookup(p, strlen(p))->fn == cri_attach);
}

RUN_TESTS()
