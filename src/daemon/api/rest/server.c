#include "daemon/api/rest/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/request.h"

#define MAX_LISTEN 16

struct rest_server {
    struct daemon *d;
    struct MHD_Daemon *mhd;
    int fds[MAX_LISTEN];
    size_t n_fds;
    int stop_pipe[2];
    pthread_t accept_thread;
};

static int listen_unix(const char *path, const char *group, struct isd_error **err)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    cleanup_free char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    struct group *gr;
    int fd;
    if (strlen(path) >= sizeof(addr.sun_path))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "socket path `%s` is too long", path);
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        if (mkdir_p(dir, 0755, err) < 0)
            return -1;
    }
    strcpy(addr.sun_path, path);
    /* a stale socket file is replaced, a live one belongs to another daemon: never steal it */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
        close(fd);
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "another daemon is listening on `unix://%s`", path);
    }
    if (fd >= 0)
        close(fd);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1024) < 0) {
        isd_error_errno(err, "listen on `unix://%s`", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    chmod(path, 0660);
    gr = group != NULL ? getgrnam(group) : NULL;
    if (gr != NULL && chown(path, 0, gr->gr_gid) < 0)
        log_warn("chown `%s` to group `%s`: %s", path, group, strerror(errno));
    return fd;
}

static int listen_tcp(const char *hostport, struct isd_error **err)
{
    cleanup_free char *host = xstrdup(hostport);
    char *colon = strrchr(host, ':');
    struct sockaddr_in addr = {.sin_family = AF_INET};
    long long port;
    int fd, one = 1;
    if (colon == NULL || parse_int64(colon + 1, &port) < 0 || port < 0 || port > 65535)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid tcp host `%s`", hostport);
    *colon = '\0';
    if (inet_pton(AF_INET, *host ? host : "0.0.0.0", &addr.sin_addr) != 1)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid tcp address `%s`", hostport);
    addr.sin_port = htons((uint16_t)port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1024) < 0) {
        isd_error_errno(err, "listen on `tcp://%s`", hostport);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void *accept_main(void *arg)
{
    struct rest_server *s = arg;
    struct pollfd pf[MAX_LISTEN + 1];
    for (size_t i = 0; i < s->n_fds; i++)
        pf[i] = (struct pollfd){s->fds[i], POLLIN, 0};
    pf[s->n_fds] = (struct pollfd){s->stop_pipe[0], POLLIN, 0};
    for (;;) {
        if (poll(pf, s->n_fds + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            return NULL;
        }
        if (pf[s->n_fds].revents != 0)
            return NULL;
        for (size_t i = 0; i < s->n_fds; i++) {
            struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
            struct sockaddr_storage ss;
            socklen_t len = sizeof(ss);
            int fd;
            if (pf[i].revents == 0)
                continue;
            fd = accept4(pf[i].fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
            if (fd < 0)
                continue;
            /* libmicrohttpd wants an IP peer address; unix clients are presented as loopback. */
            if (ss.ss_family == AF_INET)
                memcpy(&peer, &ss, sizeof(peer));
            if (MHD_add_connection(s->mhd, fd, (struct sockaddr *)&peer, sizeof(peer)) != MHD_YES)
                close(fd);
        }
    }
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
    buf_free(&rq->body);
    free(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls, enum MHD_RequestTerminationCode code)
{
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
    rq->method = xstrdup(method);
    /* Strip the /v1.41 style version prefix. */
    if (p[0] == '/' && p[1] == 'v' && p[2] >= '0' && p[2] <= '9') {
        const char *slash = strchr(p + 1, '/');
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
    else if (rq->handler == NULL)
        rq_reply_msg(rq, MHD_HTTP_NOT_FOUND, "page not found");
    else if (rq->stream_body && rq->body_fd < 0)
        rq_reply_msg(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot store the request body");
    else {
        if (rq->stream_body)
            lseek(rq->body_fd, 0, SEEK_SET);
        rq->handler(rq, rq->arg);
    }
    if (rq->response == NULL)
        rq_reply_msg(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "no response");
    add_common_headers(rq->response);
    log_debug("%s %s -> %u", method, url, rq->status);
    ret = MHD_queue_response(conn, rq->status, rq->response);
    MHD_destroy_response(rq->response);
    rq->response = NULL;
    return ret;
}

static int open_listeners(struct rest_server *s, struct isd_error **err)
{
    const struct isd_config *cfg = s->d->cfg;
    /* Serving plain HTTP when the user asked for TLS would hand the daemon to anyone: refuse instead. */
    if (cfg->tls || cfg->tls_verify)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "--tls/--tlsverify are not supported yet by this isulad");
    for (size_t i = 0; cfg->hosts[i] != NULL && s->n_fds < MAX_LISTEN; i++) {
        const char *h = cfg->hosts[i];
        int fd;
        if (str_has_prefix(h, "unix://"))
            fd = listen_unix(h + 7, cfg->group, err);
        else if (str_has_prefix(h, "tcp://")) {
            fd = listen_tcp(h + 6, err);
            if (fd >= 0)
                log_warn("listening on `%s` without TLS: anyone who can reach it controls isulad", h);
        } else
            fd = isd_error_set(err, ISD_ERR_INVALID, 0, "invalid host `%s`", h);
        if (fd < 0)
            return -1;
        s->fds[s->n_fds++] = fd;
    }
    return 0;
}

struct rest_server *rest_server_start(struct daemon *d, struct isd_error **err)
{
    struct rest_server *s = xcalloc(1, sizeof(*s));
    s->d = d;
    if (open_listeners(s, err) < 0 || pipe2(s->stop_pipe, O_CLOEXEC) < 0)
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
    if (pthread_create(&s->accept_thread, NULL, accept_main, s) != 0) {
        isd_error_errno(err, "start the accept thread");
        goto fail;
    }
    return s;
fail:
    for (size_t i = 0; i < s->n_fds; i++)
        close(s->fds[i]);
    if (s->mhd != NULL)
        MHD_stop_daemon(s->mhd);
    free(s);
    return NULL;
}

void rest_server_stop(struct rest_server *s)
{
    if (s == NULL)
        return;
    if (write(s->stop_pipe[1], "x", 1) == 1)
        pthread_join(s->accept_thread, NULL);
    for (size_t i = 0; i < s->n_fds; i++)
        close(s->fds[i]);
    for (size_t i = 0; s->d->cfg->hosts[i] != NULL; i++)
        if (str_has_prefix(s->d->cfg->hosts[i], "unix://"))
            unlink(s->d->cfg->hosts[i] + 7);
    /* Connection threads may be blocked in long requests (wait, logs -f): the process is exiting, so the
     * daemon is not stopped here; its threads end with the process. */
    close(s->stop_pipe[0]);
    close(s->stop_pipe[1]);
    free(s);
}
