#include "daemon/api/rest/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/authz.h"
#include "daemon/api/rest/metrics.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"

struct rest_server {
    struct daemon *d;
    struct MHD_Daemon *mhd;
    rest_peer_name_fn peer_name;
    struct rest_authz *authz; /* NULL: no authorization plugin */
};

void rest_server_set_peer_name_fn(struct rest_server *s, rest_peer_name_fn fn)
{
    s->peer_name = fn;
}

void rest_server_take_connection(int fd, const struct sockaddr *peer, socklen_t peer_len, void *ctx)
{
    struct rest_server *s = ctx;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    /* libmicrohttpd wants an IP peer address; unix clients are presented as loopback. A TLS client's fd is the
     * listener's plaintext end of its TLS proxy; peer is still the client's address. */
    if (peer->sa_family == AF_INET && peer_len >= sizeof(addr))
        memcpy(&addr, peer, sizeof(addr));
    if (MHD_add_connection(s->mhd, fd, (struct sockaddr *)&addr, sizeof(addr)) != MHD_YES)
        close(fd);
}

static void request_free(struct request *rq)
{
    if (rq == NULL)
        return;
    if (rq->body_fd >= 0)
        close(rq->body_fd);
    if (rq->body_path != NULL)
        unlink(rq->body_path);
    free(rq->body_path);
    free(rq->method);
    free(rq->path);
    free(rq->arg);
    free(rq->authz_user);
    buf_free(&rq->body);
    free(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode code)
{
    struct request *rq = *req_cls;
    if (rq != NULL && !rq->observed && code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        rest_metrics_observe(rq->method, rq->path, (double)(now_ns() - rq->start_ns) / 1e9);
    request_free(*req_cls);
    *req_cls = NULL;
}

static struct request *request_new(struct rest_server *s, struct MHD_Connection *conn, const char *url,
                                   const char *method)
{
    struct request *rq = xcalloc(1, sizeof(*rq));
    const char *p = url;
    rq->d = s->d;
    rq->conn = conn;
    rq->body_fd = -1;
    rq->start_ns = now_ns();
    rq->method = xstrdup(method);
    /* Strip the /v1.41 style version prefix. */
    if (p[0] == '/' && p[1] == 'v' && p[2] >= '0' && p[2] <= '9') {
        const char *slash = strchr(p + 1, '/'), *dot = strchr(p, '.');
        if (dot != NULL && (slash == NULL || dot < slash))
            rq->api_minor = atoi(dot + 1);
        p = slash ? slash : "/";
    }
    rq->path = xstrdup(p);
    routes_match(rq);
    if (rq->stream_body) {
        cleanup_free char *dir = xasprintf("%s/tmp", s->d->cfg->graph);
        mkdir_p(dir, 0700, NULL);
        rq->body_path = xasprintf("%s/upload-XXXXXX", dir);
        rq->body_fd = mkostemp(rq->body_path, O_CLOEXEC);
    }
    return rq;
}

static void take_upload(struct request *rq, const char *data, size_t size)
{
    if (rq->stream_body) {
        if (rq->body_fd >= 0 && write(rq->body_fd, data, size) != (ssize_t)size) {
            close(rq->body_fd);
            rq->body_fd = -1;
        }
        return;
    }
    if (rq->body.len + size > REST_MAX_JSON_BODY) {
        rq->too_large = true;
        return;
    }
    buf_append(&rq->body, data, size);
}

static void add_common_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Api-Version", ISD_API_VERSION);
    MHD_add_response_header(r, "Server", "isulad/" ISD_VERSION " (linux)");
    MHD_add_response_header(r, "Ostype", "linux");
    MHD_add_response_header(r, "Docker-Experimental", "false");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **req_cls)
{
    struct rest_server *s = cls;
    struct request *rq = *req_cls;
    enum MHD_Result ret;
    if (rq == NULL) {
        *req_cls = request_new(s, conn, url, method);
        return MHD_YES;
    }
    if (*upload_size > 0) {
        take_upload(rq, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->too_large)
        rq_reply_msg(rq, MHD_HTTP_CONTENT_TOO_LARGE, "request body is larger than 1 MiB");
    else if (rq->handler == NULL && routes_is_unserved(rq->method, rq->path)) {
        cleanup_free char *msg = xasprintf("%s %s is not implemented by isulad", rq->method, rq->path);
        rq_reply_msg(rq, MHD_HTTP_NOT_IMPLEMENTED, msg);
    } else if (rq->handler == NULL)
        rq_reply_msg(rq, MHD_HTTP_NOT_FOUND, "page not found");
    else if (rq->stream_body && rq->body_fd < 0)
        rq_reply_msg(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot store the request body");
    else if (s->authz == NULL || rest_authz_request(s->authz, rq, url, s->peer_name)) {
        if (rq->stream_body)
            lseek(rq->body_fd, 0, SEEK_SET);
        rq->handler(rq, rq->arg);
        if (rq->response == NULL)
            rq_reply_msg(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "no response");
        add_common_headers(rq->response);
        if (s->authz != NULL)
            rest_authz_response(s->authz, rq, url);
    }
    if (rq->response == NULL)
        rq_reply_msg(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "no response");
    if (MHD_get_response_header(rq->response, "Api-Version") == NULL)
        add_common_headers(rq->response);
    log_debug("%s %s -> %u", method, url, rq->status);
    if (!rq->observed && rq->status != MHD_HTTP_SWITCHING_PROTOCOLS) { /* hijacked: when the stream ends */
        rest_metrics_observe(rq->method, rq->path, (double)(now_ns() - rq->start_ns) / 1e9);
        rq->observed = true;
    }
    ret = MHD_queue_response(conn, rq->status, rq->response);
    MHD_destroy_response(rq->response);
    rq->response = NULL;
    return ret;
}

struct rest_server *rest_server_start(struct daemon *d, struct isd_error **err)
{
    struct rest_server *s = xcalloc(1, sizeof(*s));
    s->d = d;
    if (d->cfg->authorization_plugins != NULL &&
        (s->authz = rest_authz_new(d->cfg->authorization_plugins, d->cfg->plugin_dirs, err)) == NULL)
        goto fail;
    s->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_ALLOW_UPGRADE |
                                  MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
                              0, NULL, NULL, on_request, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)0, MHD_OPTION_THREAD_STACK_SIZE,
                              (size_t)(256 * 1024), MHD_OPTION_END);
    if (s->mhd == NULL) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "start the HTTP server");
        goto fail;
    }
    return s;
fail:
    if (s->mhd != NULL)
        MHD_stop_daemon(s->mhd);
    rest_authz_free(s->authz);
    free(s);
    return NULL;
}

void rest_server_stop(struct rest_server *s)
{
    /* Connection threads may be blocked in long requests (wait, logs -f): the process is exiting, so the
     * daemon is not stopped here; its threads end with the process. */
    free(s);
}
