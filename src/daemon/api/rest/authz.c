/* The authorization plugins' two phases (authz.h) over plugin_client.h. */
#include "daemon/api/rest/authz.h"

#include <netinet/in.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/plugin_client.h"

#define AUTHZ_MAX_BODY (1 << 20) /* larger bodies are not sent to the plugins (Docker's maxBodySize) */

struct rest_authz {
    struct plugin_client **plugins;
    size_t n;
};

struct rest_authz *rest_authz_new(char *const *names, char *const *dirs, struct isd_error **err)
{
    struct rest_authz *a = xcalloc(1, sizeof(*a));
    a->plugins = xcalloc(strv_len((char **)names) + 1, sizeof(*a->plugins));
    for (char *const *n = names; n != NULL && *n != NULL; n++) {
        cleanup_free char *why = NULL;
        bool not_authz;
        a->plugins[a->n] = plugin_client_new(*n, dirs);
        if (plugin_client_activate(a->plugins[a->n++], "authz", &not_authz, &why) == 0)
            continue;
        if (not_authz) {
            isd_error_set(err, ISD_ERR_INVALID, 0, "authorization-plugin: %s", why);
            rest_authz_free(a);
            return NULL;
        }
        log_warn("authorization-plugin: %s; requests are denied until it answers", why);
    }
    return a;
}

void rest_authz_free(struct rest_authz *a)
{
    if (a == NULL)
        return;
    for (size_t i = 0; i < a->n; i++)
        plugin_client_free(a->plugins[i]);
    free(a->plugins);
    free(a);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64(const unsigned char *p, size_t n)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        *o++ = b64[v >> 18 & 63];
        *o++ = b64[v >> 12 & 63];
        *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

/* Docker's rule: a body goes to the plugins only when it is JSON, small enough and not of /auth. */
static bool send_body(const char *uri, const char *content_type, size_t len)
{
    size_t ulen = strcspn(uri, "?");
    if (len == 0 || len > AUTHZ_MAX_BODY || (ulen >= 5 && strncmp(uri + ulen - 5, "/auth", 5) == 0))
        return false;
    return content_type != NULL && strncasecmp(content_type, "application/json", 16) == 0 &&
           (content_type[16] == '\0' || content_type[16] == ';');
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    if (json_object_get(cls, key) == NULL) /* the first of repeated headers, as Docker's map */
        json_object_set_new(cls, key, json_string(value != NULL ? value : ""));
    return MHD_YES;
}

/* The unix peer's user name (uid as text when unknown). Unix clients are handed to libmicrohttpd as 127.0.0.1
 * port 0 (server.c); a tcp client has a real port, and its connection fd may be the listener's TLS socketpair,
 * whose peer credentials are isulad's own: those are never used. */
static char *peer_user(struct request *rq, const char **method, char *(*tcp_name)(int fd))
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ai = MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct passwd pw, *res = NULL;
    char buf[1024];
    char *cn;
    *method = "";
    if (ci == NULL || ai == NULL || ai->client_addr->sa_family != AF_INET)
        return xstrdup("");
    if (((const struct sockaddr_in *)ai->client_addr)->sin_port != 0) {
        cn = tcp_name != NULL ? tcp_name(ci->connect_fd) : NULL;
        *method = cn != NULL ? "TLS" : "";
        return cn != NULL ? cn : xstrdup("");
    }
    if (getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return xstrdup("");
    *method = "unix";
    if (getpwuid_r(cred.uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL)
        return xstrdup(pw.pw_name);
    return xasprintf("%u", (unsigned)cred.uid);
}

static json_t *request_fields(struct request *rq, const char *uri)
{
    json_t *headers = json_object();
    const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
    cleanup_free char *body =
        send_body(uri, ct, rq->body.len) ? base64((const unsigned char *)rq->body.data, rq->body.len) : xstrdup("");
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, add_header, headers);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "User", rq->authz_user, "UserAuthNMethod", rq->authz_method,
                     "RequestMethod", rq->method, "RequestURI", uri, "RequestHeaders", headers, "RequestBody", body);
}

/* Asks every plugin in order; NULL when all allow, else the 403 message. */
static char *ask_plugins(struct rest_authz *a, const char *method, const json_t *fields)
{
    cleanup_free char *text = json_to_string(fields);
    for (size_t i = 0; i < a->n; i++) {
        struct plugin_client *p = a->plugins[i];
        cleanup_free char *why = NULL;
        cleanup_json json_t *res = NULL;
        bool not_authz;
        if (plugin_client_activate(p, "authz", &not_authz, &why) == 0)
            res = plugin_client_call(p, method, text, &why);
        if (res != NULL && json_get_bool(res, "Allow", false))
            continue;
        if (res != NULL) {
            const char *err = json_get_str(res, "Err"), *m = json_get_str(res, "Msg");
            free(why);
            why = xstrdup(err != NULL && *err ? err : m != NULL ? m : "");
        }
        return xasprintf("authorization denied by plugin %s: %s", plugin_client_name(p), why);
    }
    return NULL;
}

bool rest_authz_request(struct rest_authz *a, struct request *rq, const char *uri, char *(*tcp_name)(int fd))
{
    cleanup_json json_t *fields = NULL;
    cleanup_free char *msg = NULL;
    free(rq->authz_user);
    rq->authz_user = peer_user(rq, &rq->authz_method, tcp_name);
    fields = request_fields(rq, uri);
    if ((msg = ask_plugins(a, "AuthZPlugin.AuthZReq", fields)) == NULL)
        return true;
    log_info("%s %s: %s", rq->method, uri, msg);
    rq_reply_msg(rq, MHD_HTTP_FORBIDDEN, msg);
    return false;
}

static enum MHD_Result add_response_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    return add_header(cls, kind, key, value);
}

void rest_authz_response(struct rest_authz *a, struct request *rq, const char *uri)
{
    cleanup_json json_t *fields = NULL;
    cleanup_free char *msg = NULL, *body = NULL;
    json_t *headers;
    if (rq->authz_user == NULL || rq->status == MHD_HTTP_SWITCHING_PROTOCOLS || rq->response == NULL)
        return;
    fields = request_fields(rq, uri);
    headers = json_object();
    MHD_get_response_headers(rq->response, add_response_header, headers);
    body = send_body(uri, MHD_get_response_header(rq->response, "Content-Type"), rq->resp_body_len)
               ? base64((const unsigned char *)rq->resp_body, rq->resp_body_len)
               : xstrdup("");
    json_object_set_new(fields, "ResponseStatusCode", json_integer(rq->status));
    json_object_set_new(fields, "ResponseHeaders", headers);
    json_object_set_new(fields, "ResponseBody", json_string(body));
    if ((msg = ask_plugins(a, "AuthZPlugin.AuthZRes", fields)) == NULL)
        return;
    log_info("%s %s: response: %s", rq->method, uri, msg);
    MHD_destroy_response(rq->response);
    rq->response = NULL;
    rq->resp_body = NULL;
    rq->resp_body_len = 0;
    rq_reply_msg(rq, MHD_HTTP_FORBIDDEN, msg);
}
