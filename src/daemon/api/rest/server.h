/*
 * The REST adapter: HTTP/1.1 on the daemon's sockets, following the Docker Engine API v1.41. It decodes a
 * request, calls one service function, and encodes the result: no logic of its own. One thread per
 * connection (libmicrohttpd), so a handler may block (wait, logs -f, attach); attach and exec streams are
 * hijacked connections served by their own thread.
 */
#ifndef ISD_DAEMON_API_REST_SERVER_H
#define ISD_DAEMON_API_REST_SERVER_H

#include "common/error.h"
#include "daemon/service/service.h"

struct rest_server;

/* Listens on every host of the configuration ("unix://path", "tcp://ip:port"). */
struct rest_server *rest_server_start(struct daemon *d, struct isd_error **err);
void rest_server_stop(struct rest_server *s);

#endif
