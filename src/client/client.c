/* Docker Engine API calls over http.c; see client.h. No global state. */
#include "client/client.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>

#include "common/json.h"
#include "common/util.h"

const char *client_host_resolve(const char *flag_value)
{
    const char *env;
    if (flag_value != NULL && flag_value[0] != '\0')
        return flag_value;
    env = getenv("ISULAD_HOST");
    if (env != NULL && env[0] != '\0')
        return env;
    return CLIENT_DEFAULT_HOST;
}

static char *escape(const char *s, const char *keep)
{
    struct buf b = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || strchr(keep, *p) != NULL)
            buf_append(&b, p, 1);
        else
            buf_printf(&b, "%%%02X", *p);
    }
    return buf_steal(&b);
}

char *client_query_escape(const char *s)
{
    return escape(s, "-_.~");
}

char *client_path_escape(const char *s)
{
    return escape(s, "-_.~/:@");
}

bool client_error_is_daemon(const struct isd_error *e)
{
    return e != NULL && e->remote;
}

bool client_error_is_connect(const struct isd_error *e)
{
    return e != NULL && !e->remote && e->code == ISD_ERR_UNREACHABLE;
}

int client_error_daemon(struct isd_error **err, enum isd_error_code code, const char *msg)
{
    if (err == NULL || *err != NULL)
        return -1;
    isd_error_set(err, code, 0, "%s", msg);
    (*err)->remote = true;
    return -1;
}

void client_error_from_body(int status, const char *body, struct isd_error **err)
{
    cleanup_json json_t *j = NULL;
    cleanup_free char *text = NULL;
    const char *msg = NULL;
    enum isd_error_code code = 0;
    size_t n;
    if (body != NULL && body[0] != '\0') {
        j = json_parse(body, strlen(body), NULL);
        msg = json_is_object(j) ? json_get_str(j, "message") : NULL;
        code = json_is_object(j) ? isd_error_code_from_name(json_get_str(j, "code")) : 0;
        if (msg == NULL) {
            text = xstrdup(body);
            n = strlen(text);
            while (n > 0 && isspace((unsigned char)text[n - 1]))
                text[--n] = '\0';
            msg = text;
        }
    }
    if (code == 0)
        code = isd_error_from_http_status(status);
    if (msg != NULL && msg[0] != '\0') {
        client_error_daemon(err, code, msg);
        return;
    }
    free(text);
    text = xasprintf("HTTP status %d", status);
    client_error_daemon(err, code, text);
}

static int connect_error(const char *host, struct isd_error **err)
{
    struct isd_error *e = *err;
    if (e == NULL || e->code != ISD_ERR_UNREACHABLE)
        return -1;
    free(e->msg);
    if (e->errnum == EACCES)
        e->msg = xasprintf("Got permission denied while trying to connect to the isulad daemon socket at %s: you "
                           "need to be root or in the daemon's socket group",
                           host);
    else
        e->msg = xasprintf("Cannot connect to the isulad daemon at %s. Is the isulad daemon running?", host);
    return -1;
}

int client_request(const char *host, const struct http_request *req, struct http_conn *conn, struct http_response *resp,
                   struct isd_error **err)
{
    struct http_request r = *req;
    cleanup_free char *path = xasprintf(CLIENT_API_PREFIX "%s", req->path);
    cleanup_free char *body = NULL;
    r.path = path;
    if (http_conn_open(conn, host, err) < 0)
        return connect_error(host, err);
    if (http_send_request(conn, &r, err) < 0 || http_read_response_head(conn, resp, err) < 0) {
        http_conn_close(conn);
        http_response_free(resp);
        return -1;
    }
    if (resp->status < 400)
        return 0;
    if (resp->upgraded)
        resp->upgraded = false;
    /* a HEAD answer announces the length of a body it does not send */
    if (strcmp(req->method, "HEAD") != 0)
        body = http_read_body_all(conn, resp, 1 << 20, NULL, NULL);
    client_error_from_body(resp->status, body, err);
    http_conn_close(conn);
    http_response_free(resp);
    return -1;
}

int client_call(const char *host, const char *method, const char *path, const json_t *body, json_t **ret_json,
                struct isd_error **err)
{
    struct http_request req = {.method = method, .path = path, .body_fd = -1};
    struct http_conn conn;
    struct http_response resp;
    cleanup_free char *text = NULL, *out = NULL;
    size_t len = 0;
    int status;
    if (body != NULL) {
        text = json_to_string(body);
        req.body = text;
        req.body_len = strlen(text);
        req.content_type = "application/json";
    }
    if (client_request(host, &req, &conn, &resp, err) < 0)
        return -1;
    status = resp.status;
    out = http_read_body_all(&conn, &resp, CLIENT_MAX_BODY, &len, err);
    http_conn_close(&conn);
    http_response_free(&resp);
    if (out == NULL)
        return -1;
    if (ret_json != NULL) {
        *ret_json = NULL;
        if (len > 0) {
            *ret_json = json_parse(out, len, err);
            if (*ret_json == NULL)
                return isd_error_wrap(err, "decode response of %s %s", method, path);
        }
    }
    return status;
}
