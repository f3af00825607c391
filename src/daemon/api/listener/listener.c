/* The daemon's sockets and the accept thread: peek at a new connection's first bytes, hand it to a transport. */
#include "daemon/api/listener/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/api/listener/tls.h"

#define MAX_LISTEN 16
#define MAX_TRANSPORTS 8
#define MAX_PENDING 64
#define STALL_POLL_MS 10 /* re-peek interval for a client that sent part of a prefix */

struct transport {
    listener_match_fn match;
    listener_handle_fn handle;
    void *ctx;
};

struct pending {
    int fd;
    struct sockaddr_storage peer;
    socklen_t peer_len;
    long long deadline_ns;
    size_t stalled_n; /* bytes peeked without a verdict: readable stays set, so it is re-peeked on a timer */
};

struct listener {
    struct transport t[MAX_TRANSPORTS];
    size_t n_t;
    int dflt; /* index of the default transport, -1 */
    bool peeks;
    struct listener_tls *tls; /* NULL: plain tcp */
    int fds[MAX_LISTEN];
    size_t n_fds;
    char **unix_paths;
    int stop_pipe[2];
    pthread_t thread;
    bool started;
    struct pending pend[MAX_PENDING];
    size_t n_pend;
};

struct listener *listener_new(void)
{
    struct listener *l = xcalloc(1, sizeof(*l));
    l->dflt = -1;
    l->stop_pipe[0] = l->stop_pipe[1] = -1;
    return l;
}

int listener_add_transport(struct listener *l, listener_match_fn match, listener_handle_fn handle, void *ctx,
                           struct isd_error **err)
{
    if (l->started || l->n_t >= MAX_TRANSPORTS || (match == NULL && l->dflt >= 0))
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "listener: cannot add this transport");
    if (match == NULL)
        l->dflt = (int)l->n_t;
    else
        l->peeks = true;
    l->t[l->n_t++] = (struct transport){match, handle, ctx};
    return 0;
}

int listener_set_tls(struct listener *l, const struct listener_tls_config *c, struct isd_error **err)
{
    listener_tls_free(l->tls);
    l->tls = listener_tls_new(c, err);
    return l->tls != NULL ? 0 : -1;
}

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

static int open_hosts(struct listener *l, char *const *hosts, const char *group, struct isd_error **err)
{
    for (size_t i = 0; hosts[i] != NULL && l->n_fds < MAX_LISTEN; i++) {
        const char *h = hosts[i];
        int fd;
        if (str_has_prefix(h, "unix://")) {
            fd = listen_unix(h + 7, group, err);
            if (fd >= 0)
                strv_append(&l->unix_paths, h + 7);
        } else if (str_has_prefix(h, "tcp://")) {
            fd = listen_tcp(h + 6, err);
            if (fd >= 0 && l->tls == NULL)
                log_warn("listening on `%s` without TLS: anyone who can reach it controls isulad (use --tlsverify)", h);
        } else {
            fd = isd_error_set(err, ISD_ERR_INVALID, 0, "invalid host `%s`", h);
        }
        if (fd < 0)
            return -1;
        l->fds[l->n_fds++] = fd;
    }
    return 0;
}

static void hand_over(struct listener *l, size_t t, int fd, const struct sockaddr_storage *peer, socklen_t len)
{
    if (l->tls != NULL && peer->ss_family != AF_UNIX) {
        listener_tls_serve(l->tls, fd, (const struct sockaddr *)peer, len, l->t[l->dflt].handle, l->t[l->dflt].ctx);
        return;
    }
    l->t[t].handle(fd, (const struct sockaddr *)peer, len, l->t[t].ctx);
}

/* Peeks at pending connection i and hands it over once a transport claims it or nothing more can be
 * learned (EOF, error, a full head, the deadline). Returns true when it left the pending set. */
static bool try_dispatch(struct listener *l, size_t i, long long now)
{
    struct pending *p = &l->pend[i];
    unsigned char head[LISTENER_PEEK_MAX];
    ssize_t n = recv(p->fd, head, sizeof(head), MSG_PEEK | MSG_DONTWAIT);
    bool final =
        n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || n == (ssize_t)sizeof(head) || now >= p->deadline_ns;
    size_t got = n > 0 ? (size_t)n : 0, t = (size_t)l->dflt;
    bool undecided = false;
    if (n < 0 && !final)
        return false;
    for (size_t k = 0; k < l->n_t; k++) {
        enum listener_match m = l->t[k].match != NULL ? l->t[k].match(head, got, l->t[k].ctx) : LISTENER_NO;
        if (m == LISTENER_YES) {
            t = k;
            undecided = false;
            break;
        }
        undecided = undecided || m == LISTENER_MORE;
    }
    if (undecided && !final) {
        p->stalled_n = got;
        return false;
    }
    hand_over(l, t, p->fd, &p->peer, p->peer_len);
    l->pend[i] = l->pend[--l->n_pend];
    return true;
}

static void admit(struct listener *l, int fd, const struct sockaddr_storage *peer, socklen_t len)
{
    struct pending *p;
    /* a TLS client's first bytes are a ClientHello: TLS connections go to the default transport */
    if (!l->peeks || l->n_pend >= MAX_PENDING || (l->tls != NULL && peer->ss_family != AF_UNIX)) {
        hand_over(l, (size_t)l->dflt, fd, peer, len);
        return;
    }
    p = &l->pend[l->n_pend++];
    *p = (struct pending){.fd = fd, .peer = *peer, .peer_len = len};
    p->deadline_ns = now_ns() + LISTENER_PEEK_TIMEOUT_MS * 1000000LL;
    try_dispatch(l, l->n_pend - 1, now_ns());
}

static void accept_ready(struct listener *l, int lfd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC), one = 1;
    /* Small writes must not wait for the peer's delayed ACK: 40 ms per request over TLS, where the answer's head
     * and body leave as separate records. */
    if (fd >= 0 && ss.ss_family != AF_UNIX)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd >= 0)
        admit(l, fd, &ss, len);
}

/* The poll set: listening sockets, the stop pipe, then the pending connections; returns the timeout. */
static int poll_set(struct listener *l, struct pollfd *pf, size_t *ret_n)
{
    size_t n = 0;
    long long next = -1, now = now_ns();
    for (size_t i = 0; i < l->n_fds; i++)
        pf[n++] = (struct pollfd){l->fds[i], POLLIN, 0};
    pf[n++] = (struct pollfd){l->stop_pipe[0], POLLIN, 0};
    for (size_t i = 0; i < l->n_pend; i++) {
        long long wait_ms = (l->pend[i].deadline_ns - now) / 1000000LL + 1;
        if (l->pend[i].stalled_n > 0 && wait_ms > STALL_POLL_MS)
            wait_ms = STALL_POLL_MS;
        pf[n++] = (struct pollfd){l->pend[i].fd, l->pend[i].stalled_n > 0 ? 0 : POLLIN, 0};
        if (next < 0 || wait_ms < next)
            next = wait_ms > 0 ? wait_ms : 0;
    }
    *ret_n = n;
    return (int)next;
}

static void *accept_main(void *arg)
{
    struct listener *l = arg;
    struct pollfd pf[MAX_LISTEN + 1 + MAX_PENDING];
    for (;;) {
        size_t n, np = l->n_pend;
        int timeout = poll_set(l, pf, &n);
        if (poll(pf, n, timeout) < 0 && errno != EINTR)
            return NULL;
        if (pf[l->n_fds].revents != 0)
            return NULL;
        /* pending ones first (back to front: a dispatch moves the last entry into its slot) */
        for (size_t i = np; i-- > 0;)
            try_dispatch(l, i, now_ns());
        for (size_t i = 0; i < l->n_fds; i++)
            if (pf[i].revents != 0)
                accept_ready(l, l->fds[i]);
    }
}

int listener_start(struct listener *l, char *const *hosts, const char *group, struct isd_error **err)
{
    if (l->dflt < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "listener: no default transport");
    if (open_hosts(l, hosts, group, err) < 0)
        return -1;
    if (pipe2(l->stop_pipe, O_CLOEXEC) < 0)
        return isd_error_errno(err, "pipe");
    if (pthread_create(&l->thread, NULL, accept_main, l) != 0)
        return isd_error_errno(err, "start the accept thread");
    l->started = true;
    return 0;
}

void listener_free(struct listener *l)
{
    if (l == NULL)
        return;
    if (l->started && write(l->stop_pipe[1], "x", 1) == 1)
        pthread_join(l->thread, NULL);
    for (size_t i = 0; i < l->n_fds; i++)
        close(l->fds[i]);
    for (size_t i = 0; l->unix_paths != NULL && l->unix_paths[i] != NULL; i++)
        unlink(l->unix_paths[i]);
    for (size_t i = 0; i < l->n_pend; i++)
        close(l->pend[i].fd);
    if (l->stop_pipe[0] >= 0) {
        close(l->stop_pipe[0]);
        close(l->stop_pipe[1]);
    }
    strv_free(l->unix_paths);
    listener_tls_free(l->tls);
    free(l);
}

enum listener_match listener_match_http2_preface(const unsigned char *head, size_t n, void *ctx)
{
    static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    size_t len = sizeof(preface) - 1;
    (void)ctx;
    if (memcmp(head, preface, n < len ? n : len) != 0)
        return LISTENER_NO;
    return n >= len ? LISTENER_YES : LISTENER_MORE;
}
