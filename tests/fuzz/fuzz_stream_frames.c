/* Frames a streaming client sends (CRI streaming server): the first byte picks SPDY/3.1 (with its top bit: tunnelled
 * in WebSocket binary messages), WebSocket binary, base64 or v5; the rest is the connection's input, parsed frame by
 * frame. Replies go to /dev/null (their writes fail). */
#include <fcntl.h>
#include <unistd.h>

#include "daemon/api/cri/stream_internal.h"
#include "fuzz.h"

static int f_open(void *ctx, struct mux *m, const struct spdy_header *h, size_t n)
{
    (void)ctx;
    (void)m;
    return n > 0 ? (int)(h[0].name[0] % 8) : -1;
}

static void f_data(void *ctx, int ch, const unsigned char *p, size_t n)
{
    (void)ctx;
    (void)ch;
    (void)p;
    (void)n;
}

static void f_eof(void *ctx, int ch)
{
    (void)ctx;
    (void)ch;
}

static const struct mux_handler handler = {f_open, f_data, f_eof, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mux m;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (size == 0 || fd < 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    mux_init(&m, data[0] % 4 == 0 ? MUX_SPDY : MUX_WS, fd, &handler, NULL, data + 1, size - 1);
    m.base64 = data[0] % 4 == 2;
    m.v5 = data[0] % 4 == 3;
    if (data[0] % 4 == 0 && (data[0] & 0x80)) { /* SPDY tunnelled in WebSocket: unwrap every frame first */
        mux_set_tunnel(&m);
        while (!m.ended && ws_parse_frame(&m) == 1)
            ;
    }
    for (;;) {
        int r = m.proto == MUX_SPDY ? spdy_parse_frame(&m) : ws_parse_frame(&m);
        if (r != 1 || m.ended)
            break;
    }
    mux_free(&m);
    close(fd);
    return 0;
}
