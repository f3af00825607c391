/*
 * Docker's authorization plugin protocol (--authorization-plugin NAME, repeatable; daemon.json
 * "authorization-plugin": "NAME" or a list). The plugins are found and activated through plugin_client.h (a plugin
 * whose /Plugin.Activate answer does not list "authz" is refused: the daemon does not start when it is reachable then,
 * and requests are denied when it shows up later). The guide's `authz-broker` is simply a plugin of that name.
 *
 * Request phase, before the handler: each plugin in order gets POST /AuthZPlugin.AuthZReq with {User,
 * UserAuthNMethod, RequestMethod, RequestURI, RequestHeaders, RequestBody (base64)} and answers {Allow, Msg, Err};
 * the first denial (or an unreachable plugin: fail closed) is a 403 with the plugin's message and the request never
 * reaches the engine.
 * Response phase, after the handler: each plugin gets POST /AuthZPlugin.AuthZRes with the same fields plus
 * ResponseStatusCode, ResponseHeaders and ResponseBody (base64); a denial replaces the response by a 403 with the
 * plugin's message. As Docker does, bodies are sent only when JSON (Content-Type application/json) and never for
 * /auth (registry credentials); streamed responses are judged on status and headers, hijacked (attach, exec) ones
 * only in the request phase.
 *
 * The user is the unix peer's user name (SO_PEERCRED, method "unix"); a tcp client's is its verified TLS
 * certificate's common name (method "TLS"), empty without one.
 * Blocking; called from the connection's thread; thread-safe.
 */
#ifndef ISD_DAEMON_API_REST_AUTHZ_H
#define ISD_DAEMON_API_REST_AUTHZ_H

#include <stdbool.h>

#include "daemon/api/rest/request.h"

struct rest_authz;

/* names, dirs: NULL-terminated, borrowed for the lifetime of the result (dirs NULL: Docker's directories).
 * NULL with *err when a reachable plugin does not implement authz. */
struct rest_authz *rest_authz_new(char *const *names, char *const *dirs, struct isd_error **err);
void rest_authz_free(struct rest_authz *a);

/* true: go on. false: rq has its 403 reply. tcp_name: the tcp client's TLS certificate name from its fd (NULL:
 * none known). */
bool rest_authz_request(struct rest_authz *a, struct request *rq, const char *uri, char *(*tcp_name)(int fd));
/* After the handler: may replace rq's response by a 403. */
void rest_authz_response(struct rest_authz *a, struct request *rq, const char *uri);

#endif
