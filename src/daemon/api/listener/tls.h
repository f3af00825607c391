/*
 * TLS termination for the listener's tcp connections (--tls, --tlsverify). Each TLS connection gets a proxy:
 * the handshake runs in its own thread, then two threads pump bytes between the TLS session and one end of a
 * socketpair whose other end is handed to the transport as a plain connection. Half-closes are carried both
 * ways (a client's close_notify becomes EOF for the transport, the transport's EOF a close_notify), so hijacked
 * streams (attach, exec) behave as on the unix socket.
 *
 * Server modes (guide D-93): verify (--tlsverify) requires a client certificate that chains to the CA and is
 * valid now, checked in the handshake; tls alone encrypts and does not ask for one. TLS 1.2 and 1.3 only, ECDHE
 * key exchange and AEAD ciphers only.
 *
 * Thread-safety: listener_tls_new/free from one thread; listener_tls_serve from any (the credentials are
 * shared read-only by the proxy threads).
 */
#ifndef ISD_DAEMON_API_LISTENER_TLS_H
#define ISD_DAEMON_API_LISTENER_TLS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "common/error.h"
#include "daemon/api/listener/listener.h"

/* The GnuTLS priority string: TLS 1.2+, ECDHE key exchange (X25519 first, no finite-field groups), AEAD ciphers
 * (AES-GCM, ChaCha20-Poly1305). */
#define LISTENER_TLS_PRIORITIES                                                                                        \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:"          \
    "-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA:-MAC-ALL:+AEAD:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:"       \
    "%SERVER_PRECEDENCE"

struct listener_tls;

/* Loads the key, certificate and (verify) CA; errors name the file. */
struct listener_tls *listener_tls_new(const struct listener_tls_config *c, struct isd_error **err);
void listener_tls_free(struct listener_tls *t);
/* Takes fd: handshakes in a new thread, then hands the plaintext end to handle(…, peer, ctx). */
void listener_tls_serve(struct listener_tls *t, int fd, const struct sockaddr *peer, socklen_t peer_len,
                        listener_handle_fn handle, void *ctx);

#endif
