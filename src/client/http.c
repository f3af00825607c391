/*
 * HTTP/1.1 client framing. Owns: connection setup for unix/tcp endpoints, request heads and bodies
 * (including chunked uploads), response heads and the three body framings. No global state.
 */
#include "client/http.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client/tls.h"
#include "common/util.h"

static int open_unix(const char *path, struct isd_error **err)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;
    if (strlen(path) >= sizeof(sa.sun_path))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "socket path `%s` is too long", path);
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return isd_error_errno(err, "socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        return isd_error_set(err, ISD_ERR_UNREACHABLE, e, "connect `%s`: %s", path, strerror(e));
    }
    return fd;
}

static int open_tcp(const char *hostport, struct isd_error **err)
{
    cleanup_free char *host = xstrdup(hostport);
    char *colon = strrchr(host, ':');
    const char *port = "2375";
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL, *ai;
    int fd = -1, e = ECONNREFUSED;
    if (colon != NULL) {
        *colon = '\0';
        port = colon + 1;
    }
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    if (getaddrinfo(host[0] ? host : "127.0.0.1", port, &hints, &res) != 0)
        return isd_error_set(err, ISD_ERR_UNREACHABLE, EHOSTUNREACH, "cannot resolve `%s`", hostport);
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            int one = 1; /* the request's TLS records must not wait for a delayed ACK */
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            break;
        }
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return isd_error_set(err, ISD_ERR_UNREACHABLE, e, "connect `%s`: %s", hostport, strerror(e));
    return fd;
}

static int start_tls(struct http_conn *c, const char *hostport, struct isd_error **err)
{
    cleanup_free char *name = xstrdup(hostport);
    char *colon = strrchr(name, ':');
    if (colon != NULL)
        *colon = '\0';
    if (name[0] == '[' && name[strlen(name) - 1] == ']') {
        memmove(name, name + 1, strlen(name));
        name[strlen(name) - 1] = '\0';
    }
    c->tls = client_tls_connect(c->fd, name[0] ? name : "127.0.0.1", hostport, err);
    if (c->tls != NULL)
        return 0;
    http_conn_close(c);
    return -1;
}

int http_conn_open(struct http_conn *c, const char *host, struct isd_error **err)
{
    int fd;
    if (str_has_prefix(host, "unix://"))
        fd = open_unix(host + 7, err);
    else if (str_has_prefix(host, "tcp://"))
        fd = open_tcp(host + 6, err);
    else if (host[0] == '/')
        fd = open_unix(host, err);
    else
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid host `%s`: use unix:///path or tcp://host:port", host);
    if (fd < 0)
        return -1;
    http_conn_init(c, fd);
    if (str_has_prefix(host, "tcp://") && client_tls_enabled())
        return start_tls(c, host + 6, err);
    return 0;
}

void http_conn_init(struct http_conn *c, int fd)
{
    c->fd = fd;
    c->tls = NULL;
    c->off = c->len = 0;
}

void http_conn_close(struct http_conn *c)
{
    client_tls_free(c->tls);
    c->tls = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int http_conn_write_all(struct http_conn *c, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = c->tls != NULL ? client_tls_write(c->tls, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == ENOTSOCK)
            w = write(c->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int send_chunked_fd(struct http_conn *c, int fd, struct isd_error **err)
{
    static char data[65536];
    char hdr[32];
    for (;;) {
        ssize_t r = read(fd, data, sizeof(data));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return isd_error_errno(err, "read upload");
        if (r == 0)
            break;
        snprintf(hdr, sizeof(hdr), "%zx\r\n", (size_t)r);
        if (http_conn_write_all(c, hdr, strlen(hdr)) < 0 || http_conn_write_all(c, data, (size_t)r) < 0 ||
            http_conn_write_all(c, "\r\n", 2) < 0)
            return isd_error_errno(err, "send upload");
    }
    if (http_conn_write_all(c, "0\r\n\r\n", 5) < 0)
        return isd_error_errno(err, "send upload");
    return 0;
}

int http_send_request(struct http_conn *c, const struct http_request *req, struct isd_error **err)
{
    struct buf b = {0};
    int rc;
    buf_printf(&b, "%s %s HTTP/1.1\r\nHost: isulad\r\nUser-Agent: isula/" ISD_VERSION "\r\n", req->method, req->path);
    if (req->upgrade)
        buf_printf(&b, "Connection: Upgrade\r\nUpgrade: tcp\r\n");
    if (req->content_type != NULL && (req->body != NULL || req->body_fd >= 0))
        buf_printf(&b, "Content-Type: %s\r\n", req->content_type);
    if (req->body_fd >= 0)
        buf_printf(&b, "Transfer-Encoding: chunked\r\n");
    else if (req->body != NULL || streq(req->method, "POST") || streq(req->method, "PUT"))
        buf_printf(&b, "Content-Length: %zu\r\n", req->body != NULL ? req->body_len : 0);
    buf_printf(&b, "\r\n");
    if (req->body != NULL && req->body_fd < 0)
        buf_append(&b, req->body, req->body_len);
    rc = http_conn_write_all(c, b.data, b.len);
    buf_free(&b);
    if (rc < 0)
        return isd_error_set(err, ISD_ERR_UNAVAILABLE, errno, "send request: %s",
                             client_tls_error(c->tls) != NULL ? client_tls_error(c->tls) : strerror(errno));
    if (req->body_fd >= 0)
        return send_chunked_fd(c, req->body_fd, err);
    return 0;
}

/* Reads more bytes into the buffer; returns bytes read, 0 at EOF, -1 on error. */
static ssize_t conn_fill(struct http_conn *c)
{
    ssize_t r;
    if (c->off == c->len)
        c->off = c->len = 0;
    if (c->len == sizeof(c->buf) && c->off > 0) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    if (c->len == sizeof(c->buf)) {
        errno = EMSGSIZE;
        return -1;
    }
    do {
        r = c->tls != NULL ? client_tls_read(c->tls, c->buf + c->len, sizeof(c->buf) - c->len)
                           : read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
    } while (r < 0 && errno == EINTR);
    if (r > 0)
        c->len += (size_t)r;
    return r;
}

/* Returns a NUL-terminated line (CRLF stripped) inside the buffer, or NULL at EOF/error/too long. */
static char *conn_read_line(struct http_conn *c)
{
    for (;;) {
        char *start = c->buf + c->off;
        char *nl = memchr(start, '\n', c->len - c->off);
        if (nl != NULL) {
            *nl = '\0';
            if (nl > start && nl[-1] == '\r')
                nl[-1] = '\0';
            c->off = (size_t)(nl + 1 - c->buf);
            return start;
        }
        if (conn_fill(c) <= 0)
            return NULL;
    }
}

static int parse_status_line(const char *line, struct http_response *resp, struct isd_error **err)
{
    int major, minor, status;
    if (sscanf(line, "HTTP/%d.%d %d", &major, &minor, &status) != 3 || status < 100 || status > 999)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "malformed response status line");
    resp->status = status;
    return 0;
}

static void set_framing(struct http_response *resp)
{
    const char *te = http_response_header(resp, "Transfer-Encoding");
    const char *cl = http_response_header(resp, "Content-Length");
    const char *ct = http_response_header(resp, "Content-Type");
    long long n;
    resp->content_len = -1;
    if (resp->status == 101 || (resp->status == 200 && ct != NULL && str_has_prefix(ct, "application/vnd.docker.") &&
                                str_has_suffix(ct, "-stream") && te == NULL && cl == NULL)) {
        resp->upgraded = true;
        return;
    }
    if (te != NULL && strcasestr(te, "chunked") != NULL)
        resp->chunked = true;
    else if (cl != NULL && parse_int64(cl, &n) == 0 && n >= 0)
        resp->content_len = n;
    else if (resp->status == 204 || resp->status == 304)
        resp->content_len = 0;
    if (resp->content_len == 0)
        resp->eof = true;
}

int http_read_response_head(struct http_conn *c, struct http_response *resp, struct isd_error **err)
{
    char *line;
    memset(resp, 0, sizeof(*resp));
    do {
        size_t total = 0;
        strv_free(resp->headers);
        resp->headers = NULL;
        line = conn_read_line(c);
        if (line == NULL && client_tls_error(c->tls) != NULL)
            return isd_error_set(err, ISD_ERR_UNAVAILABLE, EIO, "connection closed before a response: %s",
                                 client_tls_error(c->tls));
        if (line == NULL)
            return isd_error_set(err, ISD_ERR_UNAVAILABLE, errno, "connection closed before a response");
        if (parse_status_line(line, resp, err) < 0)
            return -1;
        while ((line = conn_read_line(c)) != NULL && line[0] != '\0') {
            total += strlen(line);
            if (total > HTTP_MAX_HEAD)
                return isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "response head too large");
            strv_append(&resp->headers, line);
        }
        if (line == NULL)
            return isd_error_set(err, ISD_ERR_UNAVAILABLE, errno, "truncated response head");
    } while (resp->status >= 100 && resp->status < 200 && resp->status != 101);
    set_framing(resp);
    return 0;
}

const char *http_response_header(const struct http_response *resp, const char *name)
{
    size_t n = strlen(name);
    for (char **h = resp->headers; h != NULL && *h != NULL; h++) {
        if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':') {
            const char *v = *h + n + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            return v;
        }
    }
    return NULL;
}

void http_response_free(struct http_response *resp)
{
    strv_free(resp->headers);
    resp->headers = NULL;
}

bool http_conn_has_buffered(const struct http_conn *c)
{
    return c->off < c->len || client_tls_pending(c->tls);
}

ssize_t http_conn_send_some(struct http_conn *c, const void *data, size_t n)
{
    ssize_t w;
    if (c->tls != NULL)
        return client_tls_write(c->tls, data, n);
    w = send(c->fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno == ENOTSOCK)
        w = write(c->fd, data, n);
    return w;
}

void http_conn_close_write(struct http_conn *c)
{
    if (c->tls != NULL)
        client_tls_close_write(c->tls);
    else
        shutdown(c->fd, SHUT_WR);
}

ssize_t http_conn_read(struct http_conn *c, void *dst, size_t n)
{
    ssize_t r;
    if (c->off < c->len) {
        size_t k = c->len - c->off < n ? c->len - c->off : n;
        memcpy(dst, c->buf + c->off, k);
        c->off += k;
        return (ssize_t)k;
    }
    do {
        r = c->tls != NULL ? client_tls_read(c->tls, dst, n) : read(c->fd, dst, n);
    } while (r < 0 && errno == EINTR);
    return r;
}

static int next_chunk(struct http_conn *c, struct http_response *resp, struct isd_error **err)
{
    char *line = conn_read_line(c), *end;
    unsigned long long size;
    if (line == NULL)
        return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "truncated chunked body");
    errno = 0;
    size = strtoull(line, &end, 16);
    if (end == line || errno != 0 || size > (1ULL << 40))
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "malformed chunk size");
    if (size == 0) {
        while ((line = conn_read_line(c)) != NULL && line[0] != '\0')
            ; /* trailers */
        resp->eof = true;
        return 0;
    }
    resp->chunk_left = (long long)size;
    return 0;
}

ssize_t http_read_body(struct http_conn *c, struct http_response *resp, void *dst, size_t n, struct isd_error **err)
{
    ssize_t r;
    if (resp->eof || n == 0)
        return 0;
    if (resp->chunked && resp->chunk_left == 0) {
        if (next_chunk(c, resp, err) < 0)
            return -1;
        if (resp->eof)
            return 0;
    }
    if (resp->chunked && (long long)n > resp->chunk_left)
        n = (size_t)resp->chunk_left;
    if (!resp->chunked && resp->content_len >= 0 && (long long)n > resp->content_len)
        n = (size_t)resp->content_len;
    r = http_conn_read(c, dst, n);
    if (r < 0)
        return isd_error_set(err, ISD_ERR_UNAVAILABLE, errno, "read response: %s", strerror(errno));
    if (r == 0) {
        resp->eof = true;
        if (resp->chunked || resp->content_len > 0)
            return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "connection closed in the middle of a response");
        return 0;
    }
    if (resp->chunked) {
        resp->chunk_left -= r;
        if (resp->chunk_left == 0 && conn_read_line(c) == NULL)
            return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "truncated chunked body");
    } else if (resp->content_len > 0) {
        resp->content_len -= r;
        if (resp->content_len == 0)
            resp->eof = true;
    }
    return r;
}

char *http_read_body_all(struct http_conn *c, struct http_response *resp, size_t max, size_t *ret_len,
                         struct isd_error **err)
{
    struct buf b = {0};
    char tmp[8192];
    ssize_t r;
    while ((r = http_read_body(c, resp, tmp, sizeof(tmp), err)) > 0) {
        if (b.len + (size_t)r > max) {
            buf_free(&b);
            isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "response body larger than %zu bytes", max);
            return NULL;
        }
        buf_append(&b, tmp, (size_t)r);
    }
    if (r < 0) {
        buf_free(&b);
        return NULL;
    }
    if (ret_len != NULL)
        *ret_len = b.len;
    return buf_steal(&b);
}
