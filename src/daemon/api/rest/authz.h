/*
 * Docker's authorization plugin protocol (--authorization-plugin NAME): before a request reaches a handler, the
 * plugin at /run/docker/plugins/NAME.sock (or the unix:// address in /etc/docker/plugins/NAME.spec) gets
 * POST /AuthZPlugin.AuthZReq with {User, UserAuthNMethod, RequestMethod, RequestURI, RequestHeaders,
 * RequestBody (base64)} and answers {Allow, Msg, Err}. A denial (or an unreachable plugin) is a 403 with the
 * plugin's message and the request never reaches the engine. The user is the unix peer's user name
 * (SO_PEERCRED, method "unix"); a tcp client's is its verified TLS certificate's common name (method "TLS"), empty
 * without one.
 * Blocking; called from the connection's thread.
 */
#ifndef ISD_DAEMON_API_REST_AUTHZ_H
#define ISD_DAEMON_API_REST_AUTHZ_H

#include <stdbool.h>

#include "daemon/api/rest/request.h"

/* true: go on. false: rq has its 403 reply. */
/* tcp_name: the tcp client's TLS certificate name from its fd (NULL: none known). */
bool rest_authz_request(struct request *rq, const char *plugin, const char *uri, char *(*tcp_name)(int fd));

#endif
