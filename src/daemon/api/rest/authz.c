/* The authorization plugin client: one HTTP/1.0 POST per request over the plugin's unix socket. */
#include "daemon/api/rest/authz.h"

#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"

#define AUTHZ_MAX_REPLY (1 << 20)

static char *plugin_socket(const char *name)
{
    cleanup_free char *spec = xasprintf("/etc/docker/plugins/%s.spec", name);
    cleanup_free char *text = read_file(spec, 4096, NULL, NULL);
    if (text != NULL) {
        text[strcspn(text, "\r\n")] = '\0';
        if (str_has_prefix(text, "unix://"))
            return xstrdup(text + 7);
    }
    return xasprintf("/run/docker/plugins/%s.sock", name);
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

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
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

static json_t *authz_body(struct request *rq, const char *uri, char *(*tcp_name)(int fd))
{
    const char *authn;
    cleanup_free char *user = peer_user(rq, &authn, tcp_name);
    cleanup_free char *body = base64((const unsigned char *)rq->body.data, rq->body.len);
    json_t *headers = json_object();
    MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, add_header, headers);
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "User", user, "UserAuthNMethod", authn, "RequestMethod",
                     rq->method, "RequestURI", uri, "RequestHeaders", headers, "RequestBody", body);
}

static int plugin_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = 30};
    int fd;
    if (strlen(path) >= sizeof(sa.sun_path))
        return -1;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* POSTs body to the plugin; the reply's JSON body, or NULL with *why set. */
static json_t *plugin_call(const char *name, const char *endpoint, const char *body, char **why)
{
    cleanup_free char *path = plugin_socket(name);
    cleanup_free char *head = xasprintf("POST /%s HTTP/1.0\r\nHost: plugin\r\nContent-Type: "
                                        "application/vnd.docker.plugins.v1.2+json\r\nContent-Length: %zu\r\n\r\n",
                                        endpoint, strlen(body));
    struct buf in = {0};
    char chunk[8192], *sep;
    ssize_t n;
    json_t *j = NULL;
    int fd = plugin_connect(path);
    if (fd < 0) {
        *why = xasprintf("plugin %s not found or not reachable at %s: %s", name, path, strerror(errno));
        return NULL;
    }
    if (write(fd, head, strlen(head)) == (ssize_t)strlen(head) &&
        write(fd, body, strlen(body)) == (ssize_t)strlen(body))
        while (in.len < AUTHZ_MAX_REPLY && (n = read(fd, chunk, sizeof(chunk))) > 0)
            buf_append(&in, chunk, (size_t)n);
    close(fd);
    buf_append(&in, "", 1);
    sep = in.data != NULL ? strstr(in.data, "\r\n\r\n") : NULL;
    if (sep == NULL || strncmp(in.data, "HTTP/1.", 7) != 0 || strncmp(in.data + 9, "200", 3) != 0 ||
        (j = json_parse(sep + 4, strlen(sep + 4), NULL)) == NULL)
        *why = xasprintf("plugin %s failed with a malformed or non-200 answer", name);
    buf_free(&in);
    return j;
}

bool rest_authz_request(struct request *rq, const char *plugin, const char *uri, char *(*tcp_name)(int fd))
{
    json_t *req = authz_body(rq, uri, tcp_name);
    cleanup_free char *text = json_to_string(req);
    cleanup_free char *why = NULL, *msg = NULL;
    json_t *res;
    json_decref(req);
    res = plugin_call(plugin, "AuthZPlugin.AuthZReq", text, &why);
    if (res != NULL && json_get_bool(res, "Allow", false)) {
        json_decref(res);
        return true;
    }
    if (res != NULL) {
        const char *err = json_get_str(res, "Err"), *m = json_get_str(res, "Msg");
        why = xstrdup(err != NULL && *err ? err : m != NULL ? m : "");
    }
    msg = xasprintf("authorization denied by plugin %s: %s", plugin, why);
    log_info("%s %s: %s", rq->method, uri, msg);
    rq_reply_msg(rq, MHD_HTTP_FORBIDDEN, msg);
    json_decref(res);
    return false;
}
