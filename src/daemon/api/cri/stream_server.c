/* The streaming server's listener and the HTTP upgrade (stream_internal.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/api/cri/stream_internal.h"

#define REQUEST_MAX 16384
#define MAX_HEADERS 64
#define MAX_CONNS 512

static struct {
    pthread_mutex_t lock;
    pthread_cond_t idle;
    struct daemon *d;
    int fd;
    int port;
    bool running;
    pthread_t acceptor;
    int conns;     /* connection threads alive */
    int *conn_fds; /* their sockets, shut down by stream_server_stop */
    size_t n_conn_fds;
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER, .fd = -1};

static const char *const kind_paths[] = {
    [STREAM_EXEC] = "exec", [STREAM_ATTACH] = "attach", [STREAM_PORTFORWARD] = "portforward"};

/* ---- the HTTP request ---- */

struct http_request {
    char *head; /* the request line and headers, split in place */
    char *method, *path, *query;
    struct spdy_header h[MAX_HEADERS];
    size_t nh;
    const char *rest; /* bytes after the headers (in head's allocation) */
    size_t n_rest;
};

static const char *header_get(const struct http_request *q, const char *name)
{
    for (size_t i = 0; i < q->nh; i++)
        if (strcasecmp(q->h[i].name, name) == 0)
            return q->h[i].value;
    return NULL;
}

/* True when any `name` header lists token (comma-separated, case-insensitive). */
static bool header_has(const struct http_request *q, const char *name, const char *token)
{
    size_t tl = strlen(token);
    for (size_t i = 0; i < q->nh; i++) {
        const char *v = q->h[i].value;
        if (strcasecmp(q->h[i].name, name) != 0)
            continue;
        while (*v != '\0') {
            size_t n;
            v += strspn(v, " \t,");
            n = strcspn(v, ",");
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n == tl && strncasecmp(v, token, n) == 0)
                return true;
            v += strcspn(v, ",");
        }
    }
    return false;
}

static int parse_head(struct http_request *q, char *head)
{
    char *save = NULL, *line = strtok_r(head, "\r\n", &save), *sp1, *sp2;
    if (line == NULL || (sp1 = strchr(line, ' ')) == NULL || (sp2 = strchr(sp1 + 1, ' ')) == NULL)
        return -1;
    *sp1 = *sp2 = '\0';
    q->method = line;
    q->path = sp1 + 1;
    if ((q->query = strchr(q->path, '?')) != NULL)
        *q->query++ = '\0';
    while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
        char *colon = strchr(line, ':');
        if (colon == NULL || q->nh == MAX_HEADERS)
            return -1;
        *colon = '\0';
        q->h[q->nh].name = line;
        q->h[q->nh].value = colon + 1 + strspn(colon + 1, " \t");
        q->nh++;
    }
    return 0;
}

/* Reads the request head (bounded, and not for ever: a silent client is dropped after 30 s). */
static int read_request(int fd, struct http_request *q)
{
    struct timeval tv = {.tv_sec = 30};
    struct buf b = {0};
    char *end;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    while ((end = strstr(buf_head(&b) != NULL ? buf_head(&b) : "", "\r\n\r\n")) == NULL) {
        char chunk[4096];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || buf_size(&b) + (size_t)n > REQUEST_MAX || memchr(chunk, '\0', (size_t)n) != NULL) {
            buf_free(&b);
            return -1;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    tv.tv_sec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t head_len = (size_t)(end - buf_head(&b)), total = buf_size(&b);
    q->head = buf_steal(&b);
    q->rest = q->head + head_len + 4;
    q->n_rest = total - head_len - 4;
    q->head[head_len] = '\0';
    return parse_head(q, q->head);
}

static void respond(int fd, int status, const char *reason, const char *msg)
{
    cleanup_free char *r = xasprintf("HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
                                     status, reason, strlen(msg) + 1, msg);
    stream_write_all(fd, r, strlen(r));
}

/* ---- the upgrade ---- */

/* The protocols offered, best first, with the remotecommand version each means. */
struct proto {
    const char *name;
    int version;
    bool base64;
    bool tunnel; /* SPDY inside the WebSocket */
};
static const struct proto spdy_exec[] = {{"v4.channel.k8s.io", 4, false},
                                         {"v3.channel.k8s.io", 3, false},
                                         {"v2.channel.k8s.io", 2, false},
                                         {"channel.k8s.io", 1, false},
                                         {NULL, 0, false}};
static const struct proto spdy_pf[] = {{"portforward.k8s.io", 1, false}, {NULL, 0, false}};
static const struct proto ws_exec[] = {{"v5.channel.k8s.io", 5, false},       {"v4.channel.k8s.io", 4, false},
                                       {"v4.base64.channel.k8s.io", 4, true}, {"channel.k8s.io", 1, false},
                                       {"base64.channel.k8s.io", 1, true},    {NULL, 0, false}};
/* kubectl 1.30+ asks first for SPDY tunnelled in WebSocket binary messages (client-go's tunneling dialer; API servers
 * translate it to SPDY for kubelets): the SPDY port forward then runs over the WebSocket's byte stream. */
static const struct proto ws_pf[] = {{"SPDY/3.1+portforward.k8s.io", 1, false, true},
                                     {"v4.channel.k8s.io", 4, false, false},
                                     {"v4.base64.channel.k8s.io", 4, true, false},
                                     {"portforward.k8s.io", 1, false, false},
                                     {"channel.k8s.io", 1, false, false},
                                     {"base64.channel.k8s.io", 1, true, false},
                                     {NULL, 0, false, false}};

/* The first protocol of the client's list (header `name`) that is served; the default (first entry with version
 * 1) when the client names none; NULL when it names only others. */
static const struct proto *negotiate(const struct http_request *q, const char *name, const struct proto *served)
{
    bool named = header_get(q, name) != NULL;
    for (size_t i = 0; i < q->nh && named; i++) {
        char *save = NULL, *copy, *tok;
        if (strcasecmp(q->h[i].name, name) != 0)
            continue;
        copy = xstrdup(q->h[i].value);
        for (tok = strtok_r(copy, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
            for (const struct proto *p = served; p->name != NULL; p++) {
                if (strcmp(p->name, tok) == 0) {
                    free(copy);
                    return p;
                }
            }
        }
        free(copy);
    }
    if (named)
        return NULL;
    for (const struct proto *p = served; p->name != NULL; p++)
        if (p->version == 1 && !p->tunnel) /* a tunnel only when asked for */
            return p;
    return NULL;
}

/* Ports of a WebSocket port forward without ports in its CRI request: the URL's `port` parameters. */
static int query_ports(const char *query, struct stream_request *r)
{
    cleanup_free char *copy = xstrdup(query != NULL ? query : "");
    char *save = NULL;
    for (char *kv = strtok_r(copy, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save)) {
        long long port;
        if (strncmp(kv, "port=", 5) != 0)
            continue;
        if (parse_int64(kv + 5, &port) < 0 || port < 1 || port > 65535 || r->n_ports == MUX_MAX_CH / 2)
            return -1;
        r->ports = xrealloc(r->ports, (r->n_ports + 1) * sizeof(int));
        r->ports[r->n_ports++] = (int)port;
    }
    return r->n_ports > 0 ? 0 : -1;
}

static void serve_session(struct stream_request *r, struct mux *m, int version)
{
    if (r->kind == STREAM_PORTFORWARD)
        stream_portforward_serve(srv.d, r, m);
    else
        stream_exec_serve(srv.d, r, m, version);
}

static void upgrade_spdy(int fd, struct http_request *q, struct stream_request *r)
{
    const struct proto *p =
        negotiate(q, "X-Stream-Protocol-Version", r->kind == STREAM_PORTFORWARD ? spdy_pf : spdy_exec);
    struct mux m;
    if (p == NULL) {
        respond(fd, 403, "Forbidden",
                "unable to upgrade: unable to negotiate protocol: no protocol of the client's is served");
        stream_request_free(r);
        return;
    }
    cleanup_free char *resp =
        xasprintf("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                  "X-Stream-Protocol-Version: %s\r\n\r\n",
                  p->name);
    if (stream_write_all(fd, resp, strlen(resp)) < 0) {
        stream_request_free(r);
        return;
    }
    mux_init(&m, MUX_SPDY, fd, NULL, NULL, q->rest, q->n_rest);
    serve_session(r, &m, p->version);
    mux_free(&m);
}

static void upgrade_ws(int fd, struct http_request *q, struct stream_request *r)
{
    const char *key = header_get(q, "Sec-WebSocket-Key");
    const struct proto *p = negotiate(q, "Sec-WebSocket-Protocol", r->kind == STREAM_PORTFORWARD ? ws_pf : ws_exec);
    struct mux m;
    if (key == NULL || !header_has(q, "Sec-WebSocket-Version", "13") || p == NULL ||
        (r->kind == STREAM_PORTFORWARD && !p->tunnel && r->n_ports == 0 && query_ports(q->query, r) < 0)) {
        respond(fd, 400, "Bad Request",
                key == NULL || p == NULL
                    ? "unable to upgrade: bad websocket handshake or no protocol of the client's is served"
                    : "unable to upgrade: bad websocket version or ports");
        stream_request_free(r);
        return;
    }
    cleanup_free char *accept = ws_accept_key(key);
    cleanup_free char *proto_hdr = header_get(q, "Sec-WebSocket-Protocol") != NULL
                                       ? xasprintf("Sec-WebSocket-Protocol: %s\r\n", p->name)
                                       : xstrdup("");
    cleanup_free char *resp =
        xasprintf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Accept: %s\r\n%s\r\n",
                  accept, proto_hdr);
    if (stream_write_all(fd, resp, strlen(resp)) < 0) {
        stream_request_free(r);
        return;
    }
    mux_init(&m, p->tunnel ? MUX_SPDY : MUX_WS, fd, NULL, NULL, q->rest, q->n_rest);
    if (p->tunnel)
        mux_set_tunnel(&m); /* the SPDY session's ports come in its streams' headers, as with plain SPDY */
    m.base64 = p->base64;
    m.v5 = p->version == 5;
    serve_session(r, &m, p->version);
    mux_free(&m);
}

/* /exec/<token>, /attach/<token>, /portforward/<token> */
static struct stream_request *route(const struct http_request *q)
{
    for (int k = STREAM_EXEC; k <= STREAM_PORTFORWARD; k++) {
        size_t n = strlen(kind_paths[k]);
        struct stream_request *r;
        if (q->path[0] != '/' || strncmp(q->path + 1, kind_paths[k], n) != 0 || q->path[1 + n] != '/')
            continue;
        r = stream_token_take(q->path + 2 + n, now_ns());
        if (r != NULL && r->kind != (enum stream_kind)k) {
            stream_request_free(r);
            return NULL;
        }
        return r;
    }
    return NULL;
}

static void serve_connection(int fd)
{
    struct http_request q = {0};
    struct stream_request *r = NULL;
    if (read_request(fd, &q) < 0)
        respond(fd, 400, "Bad Request", "malformed request");
    else if (strcmp(q.method, "GET") != 0 && strcmp(q.method, "POST") != 0)
        respond(fd, 405, "Method Not Allowed", "only GET and POST are served");
    else if ((r = route(&q)) == NULL)
        respond(fd, 404, "Not Found", "unknown, used or expired streaming token");
    else if (!header_has(&q, "Connection", "upgrade"))
        respond(fd, 400, "Bad Request", "unable to upgrade: missing upgrade headers in request");
    else if (header_has(&q, "Upgrade", "websocket"))
        upgrade_ws(fd, &q, TAKE_PTR(r));
    else if (header_has(&q, "Upgrade", "SPDY/3.1"))
        upgrade_spdy(fd, &q, TAKE_PTR(r));
    else
        respond(fd, 400, "Bad Request", "unable to upgrade: the upgrade is neither SPDY/3.1 nor websocket");
    stream_request_free(r);
    free(q.head);
}

int stream_idle_left_ms(struct daemon *d, long long last_ns)
{
    long long left = (last_ns + d->cfg->stream_idle_timeout_ns - now_ns()) / 1000000LL;
    if (left <= 0)
        return 0;
    return left > 60000 ? 60000 : (int)left; /* a minute at most: the loop looks again */
}

/* Closes after the client has read everything: a close with unread input (window updates the client still sends)
 * answers with a reset, and a reset makes the client's kernel drop what it had not read yet, the exit status included.
 * The client gets a few seconds to finish. */
static void linger_close(int fd)
{
    char sink[4096];
    long long deadline = now_ns() + 5000000000LL;
    shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd pf = {fd, POLLIN, 0};
        long long left = (deadline - now_ns()) / 1000000LL;
        if (left <= 0 || poll(&pf, 1, (int)left) <= 0 || read(fd, sink, sizeof(sink)) <= 0)
            break;
    }
    close(fd);
}

/* With srv.lock held. */
static void conn_forget(int fd)
{
    for (size_t i = 0; i < srv.n_conn_fds; i++) {
        if (srv.conn_fds[i] == fd) {
            srv.conn_fds[i] = srv.conn_fds[--srv.n_conn_fds];
            break;
        }
    }
}

static void *connection_thread(void *arg)
{
    int fd = (int)(intptr_t)arg;
    serve_connection(fd);
    pthread_mutex_lock(&srv.lock);
    conn_forget(fd);
    pthread_mutex_unlock(&srv.lock);
    linger_close(fd);
    pthread_mutex_lock(&srv.lock);
    if (--srv.conns == 0)
        pthread_cond_broadcast(&srv.idle);
    pthread_mutex_unlock(&srv.lock);
    return NULL;
}

static void *acceptor_thread(void *arg)
{
    (void)arg;
    for (;;) {
        int fd = accept4(srv.fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0 && (errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE))
            continue;
        if (fd < 0)
            return NULL;
        /* a client that vanished without a word (a dead node) is found out by TCP in the end */
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &(int){1}, sizeof(int));
        pthread_mutex_lock(&srv.lock);
        if (srv.conns >= MAX_CONNS) { /* a thread each: a flood is turned away, not served */
            pthread_mutex_unlock(&srv.lock);
            close(fd);
            continue;
        }
        srv.conns++;
        srv.conn_fds = xrealloc(srv.conn_fds, (srv.n_conn_fds + 1) * sizeof(int));
        srv.conn_fds[srv.n_conn_fds++] = fd;
        pthread_mutex_unlock(&srv.lock);
        if (thread_start_detached(connection_thread, (void *)(intptr_t)fd) != 0) {
            pthread_mutex_lock(&srv.lock);
            conn_forget(fd);
            srv.conns--;
            pthread_mutex_unlock(&srv.lock);
            close(fd);
        }
    }
}

/* With srv.lock held. */
static int server_start(struct daemon *d, struct isd_error **err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->cfg->websocket_port)};
    int one = 1;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (srv.fd < 0)
        return isd_error_errno(err, "streaming server: socket");
    setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(srv.fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(srv.fd, 128) < 0) {
        isd_error_errno(err, "streaming server: listen on 127.0.0.1:%d", d->cfg->websocket_port);
        close(srv.fd);
        srv.fd = -1;
        return -1;
    }
    /* before the accept thread: its connections read them */
    srv.d = d;
    srv.port = d->cfg->websocket_port;
    if (pthread_create(&srv.acceptor, NULL, acceptor_thread, NULL) != 0) {
        close(srv.fd);
        srv.fd = -1;
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "streaming server: cannot start a thread");
    }
    srv.running = true;
    log_info("CRI streaming server listening on 127.0.0.1:%d", srv.port);
    return 0;
}

int stream_server_url(struct daemon *d, struct stream_request *r, char **ret_url, struct isd_error **err)
{
    cleanup_free char *token = NULL;
    int port;
    enum stream_kind kind = r->kind;
    pthread_mutex_lock(&srv.lock);
    if (!srv.running && server_start(d, err) < 0) {
        pthread_mutex_unlock(&srv.lock);
        stream_request_free(r);
        return -1;
    }
    port = srv.port;
    pthread_mutex_unlock(&srv.lock);
    token = stream_token_put(r, now_ns(), err);
    if (token == NULL)
        return -1;
    *ret_url = xasprintf("http://127.0.0.1:%d/%s/%s", port, kind_paths[kind], token);
    return 0;
}

void stream_server_stop(void)
{
    pthread_mutex_lock(&srv.lock);
    if (!srv.running) {
        pthread_mutex_unlock(&srv.lock);
        return;
    }
    srv.running = false;
    shutdown(srv.fd, SHUT_RDWR);
    pthread_mutex_unlock(&srv.lock);
    pthread_join(srv.acceptor, NULL);
    close(srv.fd);
    srv.fd = -1;
    stream_tokens_clear();
    pthread_mutex_lock(&srv.lock);
    /* the sessions end when their clients' sockets do (an exec's own thread goes on until its process ends) */
    for (size_t i = 0; i < srv.n_conn_fds; i++)
        shutdown(srv.conn_fds[i], SHUT_RDWR);
    while (srv.conns > 0)
        pthread_cond_wait(&srv.idle, &srv.lock);
    free(srv.conn_fds);
    srv.conn_fds = NULL;
    srv.n_conn_fds = 0;
    pthread_mutex_unlock(&srv.lock);
}
