/*
 * The REST adapter: HTTP/1.1 on the connections the listener (daemon/api/listener) hands it, following the Docker
 * Engine API v1.41. It decodes a request, calls one service function, and encodes the result: no logic of its own. One
 * thread per connection (libmicrohttpd), so a handler may block (wait, logs -f, attach); attach and exec streams are
 * hijacked connections served by their own thread.
 */
#ifndef ISD_DAEMON_API_REST_SERVER_H
#define ISD_DAEMON_API_REST_SERVER_H

#include <sys/socket.h>

#include "common/error.h"
#include "daemon/service/service.h"

struct rest_server;

/* Starts the HTTP server (no socket of its own: see rest_server_take_connection). */
struct rest_server *rest_server_start(struct daemon *d, struct isd_error **err);
/* The listener's transport handler (ctx: the server): serves the accepted connection fd. */
void rest_server_take_connection(int fd, const struct sockaddr *peer, socklen_t peer_len, void *ctx);
/* Who a tcp client is (its TLS certificate's name, malloc'd, or NULL) from its connection fd; for authz. */
typedef char *(*rest_peer_name_fn)(int fd);
void rest_server_set_peer_name_fn(struct rest_server *s, rest_peer_name_fn fn);
/* Frees s once the listener has stopped; connections being served end with the process. */
void rest_server_stop(struct rest_server *s);

#endif
