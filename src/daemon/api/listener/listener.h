/*
 * The listener: owns the daemon's sockets ("unix://path", created 0660 with the configured group; "tcp://ip:port")
 * and one accept thread, and hands each accepted connection to a transport (the REST adapter today; the CRI
 * adapter's gRPC server next, on the same sockets).
 *
 * Transports are registered before listener_start, in order. A transport with a match function is chosen by
 * the first bytes the client sends (peeked with MSG_PEEK: nothing is consumed, the transport reads them
 * itself); the first registered without one is the default, which gets every connection no matcher claims.
 * When no transport has a matcher, connections are handed over at once, without waiting for a byte. With a
 * matcher, the accept thread waits for the client's first bytes without blocking on it (a client silent for
 * LISTENER_PEEK_TIMEOUT_MS, or one that closes, goes to the default transport).
 *
 * Thread-safety: registration and start/stop from one thread; match and handle are called from the accept
 * thread and must not block (a transport that serves a connection long starts a thread of its own).
 */
#ifndef ISD_DAEMON_API_LISTENER_H
#define ISD_DAEMON_API_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "common/error.h"

#define LISTENER_PEEK_MAX 64
#define LISTENER_PEEK_TIMEOUT_MS 5000

enum listener_match {
    LISTENER_NO,   /* not this transport's protocol */
    LISTENER_YES,  /* this transport's */
    LISTENER_MORE, /* cannot tell from the n bytes so far */
};

/* head: the first n bytes the client sent (n <= LISTENER_PEEK_MAX; fewer once the client stops sending). */
typedef enum listener_match (*listener_match_fn)(const unsigned char *head, size_t n, void *ctx);
/* Takes the connection (fd is the transport's to close). peer: the client's address (AF_UNIX for unix sockets). */
typedef void (*listener_handle_fn)(int fd, const struct sockaddr *peer, socklen_t peer_len, void *ctx);

struct listener;

struct listener *listener_new(void);
/* match NULL: the default transport (one only). At most 8 transports. */
int listener_add_transport(struct listener *l, listener_match_fn match, listener_handle_fn handle, void *ctx,
                           struct isd_error **err);
struct listener_tls_config {
    const char *ca, *cert, *key; /* PEM files; ca read only when verify */
    bool verify;                 /* --tlsverify: clients need a certificate signed by ca */
};
/* TLS on every tcp host (the unix sockets stay plain): the listener terminates TLS and hands the transports
 * plaintext (daemon/api/listener/tls.h). Before listener_start. */
int listener_set_tls(struct listener *l, const struct listener_tls_config *c, struct isd_error **err);
/* The common name of the verified client certificate behind fd, a transport's end of a TLS connection
 * (malloc'd), or NULL (not a TLS connection, or no client certificate). Thread-safe. */
char *listener_tls_peer_name(int fd);
/* Listens on every host ("unix://path", "tcp://ip:port"; group: the unix sockets' group, NULL to keep root's)
 * and starts accepting. Needs a default transport. */
int listener_start(struct listener *l, char *const *hosts, const char *group, struct isd_error **err);
/* Stops accepting, closes the sockets and removes the unix socket files; connections already handed over
 * stay with their transports. Frees l (NULL-safe). */
void listener_free(struct listener *l);

/* The HTTP/2 connection preface a gRPC client opens with (RFC 9113 3.4: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"):
 * a matcher for a gRPC transport. */
enum listener_match listener_match_http2_preface(const unsigned char *head, size_t n, void *ctx);

#endif
