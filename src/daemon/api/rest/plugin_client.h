/*
 * A client of Docker's plugin protocol, as the authorization plugins need it: discovery of a plugin by name in the
 * plugin directories (<dir>/<name>.sock, <dir>/<name>/<name>.sock, <dir>/<name>.spec holding its address,
 * <dir>/<name>.json holding {"Addr": ...}; addresses unix:///path or tcp://ip:port, plain HTTP, or HTTP over TLS
 * (1.2+, GnuTLS) to a tcp address whose .json has Docker's "TLSConfig": {"InsecureSkipVerify", "CAFile", "CertFile",
 * "KeyFile"}: the plugin's certificate checked against CAFile (the system's CAs without it) and the address's host,
 * ours offered when given), the
 * POST /Plugin.Activate handshake (the plugin says which subsystems it implements) and one JSON POST per call
 * (HTTP/1.0, one connection per call, 30 s timeout).
 * A plugin is activated once and its address kept; a failed activation is retried on the next call, so a plugin
 * that starts after the daemon is picked up. Thread-safe.
 */
#ifndef ISD_DAEMON_API_REST_PLUGIN_CLIENT_H
#define ISD_DAEMON_API_REST_PLUGIN_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

struct plugin_client;

/* dirs: NULL-terminated directories searched in order (borrowed for the client's lifetime). */
struct plugin_client *plugin_client_new(const char *name, char *const *dirs);
void plugin_client_free(struct plugin_client *p);
const char *plugin_client_name(const struct plugin_client *p);

/* Finds and activates the plugin (once). 0 when it implements `kind`; -1 with *why (malloc'd): not found,
 * unreachable, a bad answer, or it does not implement `kind` (then *not_kind is true). */
int plugin_client_activate(struct plugin_client *p, const char *kind, bool *not_kind, char **why);

/* POSTs body (JSON text) to /<method> of the activated plugin; its JSON answer (new reference), or NULL with
 * *why (malloc'd). */
json_t *plugin_client_call(struct plugin_client *p, const char *method, const char *body, char **why);

#endif
