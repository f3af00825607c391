/*
 * The CRI streaming server (docs/design/cri.md, "Streaming"): the Exec, Attach and PortForward calls answer a URL
 * of this server holding a one-time token; the client (kubelet's proxy, crictl, kubectl through the API server)
 * opens it with an HTTP upgrade to SPDY/3.1 or WebSocket (for a port forward also SPDY tunnelled in WebSocket binary
 * messages) and gets the process's streams.
 *
 * Files: stream_server.c (listener, the HTTP request and the upgrade), stream_tokens.c (one-time tokens), stream_spdy.c
 * and stream_ws.c (the two framings behind one `struct mux` of numbered channels), stream_exec.c (exec and attach: the
 * remotecommand protocols), stream_portforward.c (port forwarding).
 *
 * Threads: one accept thread (started by the first Exec/Attach/PortForward call); one thread per connection,
 * which owns its mux; exec and attach run the service call in a detached thread of their own (it blocks until the
 * process ends, also when the client has left).
 */
#ifndef ISD_DAEMON_API_CRI_STREAM_INTERNAL_H
#define ISD_DAEMON_API_CRI_STREAM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "common/util.h"
#include "common/error.h"
#include "daemon/service/service.h"

enum stream_kind { STREAM_EXEC, STREAM_ATTACH, STREAM_PORTFORWARD };

/* What a token stands for: the CRI request that made it. */
struct stream_request {
    enum stream_kind kind;
    char *id;   /* container (exec, attach) or pod sandbox (port forward) */
    char **cmd; /* exec */
    bool tty, in, out, err;
    int *ports; /* port forward; none: the URL's `port` parameters */
    size_t n_ports;
};
void stream_request_free(struct stream_request *r);

/* One-time tokens (stream_tokens.c), kubelet's streaming cache: a request is kept for a minute, at most 1000. put
 * takes r (also on failure) and answers a new token; take answers the request of a token and forgets it (NULL when
 * unknown, used or expired). now: now_ns() but for tests. */
#define STREAM_TOKEN_TTL_NS (60LL * 1000000000LL)
#define STREAM_TOKEN_MAX 1000
char *stream_token_put(struct stream_request *r, long long now, struct isd_error **err);
struct stream_request *stream_token_take(const char *token, long long now);
void stream_tokens_clear(void);

/* Registers r (taken) under a new one-time token and answers its URL, starting the server at the first call. */
int stream_server_url(struct daemon *d, struct stream_request *r, char **ret_url, struct isd_error **err);
void stream_server_stop(void);

/* ---- the multiplexed connection ---- */

#define MUX_MAX_CH 64

/* Header block of a SPDY stream (names lower-case). */
struct spdy_header {
    char *name, *value;
};

struct mux;
struct mux_handler {
    /* SPDY: a stream the client opened; returns its channel (it is answered with SYN_REPLY) or -1 (RST_STREAM). */
    int (*open)(void *ctx, struct mux *m, const struct spdy_header *h, size_t n);
    void (*data)(void *ctx, int ch, const unsigned char *p, size_t n);
    /* The client closed its side of the channel (SPDY FIN; WebSocket v5 close). */
    void (*eof)(void *ctx, int ch);
    /* SPDY RST_STREAM: the stream is gone both ways (NULL: taken as eof). */
    void (*reset)(void *ctx, int ch);
};

enum mux_proto { MUX_SPDY, MUX_WS };

struct mux {
    int fd;
    enum mux_proto proto;
    const struct mux_handler *h;
    void *ctx;
    struct buf in; /* bytes read, not parsed yet */
    bool ended;    /* connection closed, GOAWAY or close frame */
    /* SPDY */
    z_stream zin, zout;
    bool z_ready;
    uint32_t ch_sid[MUX_MAX_CH]; /* 0: no stream */
    bool ch_fin[MUX_MAX_CH];     /* we closed our side */
    int64_t ch_window[MUX_MAX_CH];
    int64_t session_window;
    bool peer_flow; /* the peer sends WINDOW_UPDATE: honour the windows */
    uint32_t last_sid;
    /* SPDY tunnelled in WebSocket binary messages (kubectl's `SPDY/3.1+portforward.k8s.io`): the WebSocket frames
     * read go to raw, their payloads to in; every SPDY write leaves as one binary message. */
    bool tunnel;
    struct buf raw;
    /* WebSocket */
    bool base64;
    bool v5; /* channel 255 closes channels */
    struct buf frag;
    int frag_op;
};

/* Sets up m on the upgraded connection fd (not taken); pending: bytes already read after the request. */
void mux_init(struct mux *m, enum mux_proto proto, int fd, const struct mux_handler *h, void *ctx, const void *pending,
              size_t n_pending);
void mux_free(struct mux *m);
/* Turns an m set up for SPDY into SPDY tunnelled in WebSocket (the pending bytes were WebSocket frames). */
void mux_set_tunnel(struct mux *m);
/* Writes the bytes of one SPDY frame (two parts): raw, or as one WebSocket binary message when tunnelled. */
int mux_write(struct mux *m, const void *p1, size_t n1, const void *p2, size_t n2);
/* Reads what the connection has (blocking for at least one byte) and dispatches every complete frame; -1 when the
 * connection ended or broke the protocol. */
int mux_pump(struct mux *m);
/* Sends data on channel ch (blocking; under SPDY flow control it waits for window updates). */
int mux_send(struct mux *m, int ch, const void *p, size_t n);
/* Closes our side of ch (SPDY FIN; nothing under WebSocket). */
void mux_finish(struct mux *m, int ch);
/* Ends the connection politely (GOAWAY, close frame). */
void mux_goaway(struct mux *m);

/* Framings (stream_spdy.c, stream_ws.c): parse one frame from m->in; 1 when one was handled, 0 when more bytes are
 * needed, -1 on a protocol error. */
int spdy_parse_frame(struct mux *m);
int spdy_send_data(struct mux *m, uint32_t sid, const void *p, size_t n, bool fin);
int spdy_reply(struct mux *m, uint32_t sid);
void spdy_reset(struct mux *m, uint32_t sid, uint32_t status);
void spdy_goaway(struct mux *m);
/* The SPDY/3 header dictionary (1423 bytes). */
const unsigned char *spdy_dictionary(size_t *ret_len);
void spdy_init(struct mux *m);
void spdy_free(struct mux *m);
int ws_parse_frame(struct mux *m);
int ws_send(struct mux *m, int ch, const void *p, size_t n);
/* One binary message of the two parts, without a channel byte (the SPDY tunnel). */
int ws_send_binary(struct mux *m, const void *p1, size_t n1, const void *p2, size_t n2);
void ws_close(struct mux *m);
/* Sec-WebSocket-Accept for a key (RFC 6455 4.2.2). */
char *ws_accept_key(const char *key);

/* Blocking write of the whole buffer to a socket (no SIGPIPE). */
int stream_write_all(int fd, const void *p, size_t n);

/* The idle timeout of a session (--stream-idle-timeout, kubelet's 4h by default): the poll timeout in ms left
 * when its last traffic in either direction was at last_ns (now_ns clock), 0 when it is idle. */
int stream_idle_left_ms(struct daemon *d, long long last_ns);

/* ---- the sessions (one per upgraded connection; r taken) ---- */

/* Remote command protocol versions: 1 channel.k8s.io, 2 v2, 3 v3 (resize), 4 v4 (Status JSON on the error stream),
 * 5 v5 (WebSocket close signal). */
void stream_exec_serve(struct daemon *d, struct stream_request *r, struct mux *m, int version);
void stream_portforward_serve(struct daemon *d, struct stream_request *r, struct mux *m);

#endif
