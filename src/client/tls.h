/*
 * Client TLS for tcp hosts (isula --tls/--tlsverify, guide D-94). GnuTLS is loaded with dlopen on the first TLS
 * connection only, so an isula talking to the unix socket never maps it. Modes: tlsverify checks the daemon's
 * certificate against the CA and the host name (IP SANs for addresses); tls alone encrypts without checking the
 * daemon (as Docker's --tls). A client certificate is sent when both its files exist (mode 1); with only the CA
 * the daemon is verified and the client is anonymous (mode 2). Defaults: $HOME/.iSulad/{ca,cert,key}.pem (D-72).
 * TLS 1.2+ only. Configuration is global (set once by the command line); sessions belong to one connection.
 */
#ifndef ISD_CLIENT_TLS_H
#define ISD_CLIENT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct client_tls_opts {
    bool tls, verify;
    const char *ca, *cert, *key; /* NULL: the defaults */
};

struct client_tls;

/* Sets the options used by http_conn_open for tcp hosts (copied). Not thread-safe; call before connecting. */
void client_tls_configure(const struct client_tls_opts *o);
bool client_tls_enabled(void);
/* Handshakes over the connected fd (not owned); host: the name or address connected to; addr: the daemon's
 * address as given (host:port), the key of the resumable session kept for the next connection (in memory and in
 * $HOME/.iSulad/tls-sessions/, mode 0600). */
struct client_tls *client_tls_connect(int fd, const char *host, const char *addr, struct isd_error **err);
/* -1 with errno (EAGAIN when nothing can be read/written now, EIO on a TLS error); 0 at close_notify/EOF. */
ssize_t client_tls_read(struct client_tls *t, void *dst, size_t n);
ssize_t client_tls_write(struct client_tls *t, const void *src, size_t n);
/* Decrypted bytes are waiting (poll on the fd would not show them). */
bool client_tls_pending(struct client_tls *t);
/* Sends close_notify (the write side's end; reading goes on). */
void client_tls_close_write(struct client_tls *t);
void client_tls_free(struct client_tls *t);
/* Why the last read failed (e.g. the alert the daemon sent when it refused our certificate), or NULL. */
const char *client_tls_error(const struct client_tls *t);

#endif
