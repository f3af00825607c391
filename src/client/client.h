/*
 * Typed calls to isulad's Docker Engine API (v1.41) over HTTP: one connection per call, paths relative
 * to the /v1.41 prefix, JSON bodies in and out, daemon errors as `struct isd_error` carrying the
 * daemon's message. Thread-safe (no shared state); returned objects belong to the caller.
 */
#ifndef ISD_CLIENT_CLIENT_H
#define ISD_CLIENT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

#include "client/http.h"
#include "common/error.h"

#define CLIENT_DEFAULT_HOST "unix:///var/run/isulad.sock"
#define CLIENT_API_PREFIX "/v1.41"
#define CLIENT_MAX_BODY (64u << 20)

/* The endpoint to use: explicit flag, else $ISULAD_HOST, else the default. Borrowed or static. */
const char *client_host_resolve(const char *flag_value);

/* Percent-encodes s for a query string (caller frees). */
char *client_query_escape(const char *s);
/* Percent-encodes s for a path, keeping '/', ':' and '@' (image references), as the docker CLI does. */
char *client_path_escape(const char *s);

/*
 * Opens a connection, sends req (req->path relative to the API prefix) and reads the response head.
 * An error status (>= 400) is turned into an error (the body is consumed); otherwise the caller reads
 * the body from conn/resp and then closes both.
 */
int client_request(const char *host, const struct http_request *req, struct http_conn *conn, struct http_response *resp,
                   struct isd_error **err);

/* One JSON call: returns the HTTP status (< 400) or -1. ret_json (optional) gets the parsed body
 * (NULL when empty). body may be NULL. */
int client_call(const char *host, const char *method, const char *path, const json_t *body, json_t **ret_json,
                struct isd_error **err);

/* Builds the error for an error response body: JSON {"message": ..., "code": ...} (the code named as in
 * common/error.h; derived from the status when absent, as from other Docker-API servers) or text. */
void client_error_from_body(int status, const char *body, struct isd_error **err);
/* An error the daemon reported inside a stream (pull progress, load, attach): remote, with its message. */
int client_error_daemon(struct isd_error **err, enum isd_error_code code, const char *msg);

/* The daemon answered with this error (remote; msg = its message). */
bool client_error_is_daemon(const struct isd_error *e);
/* The daemon could not be reached (ISD_ERR_UNREACHABLE; msg = a full sentence). */
bool client_error_is_connect(const struct isd_error *e);

#endif
