/* TLS termination: credentials, the handshake thread and the two pump threads of each TLS connection. */
#include "daemon/api/listener/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define HANDSHAKE_TIMEOUT_S 10
#define PUMP_BUF 16384

struct listener_tls {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    gnutls_datum_t ticket_key; /* session tickets: a client resumes without certificates and signatures */
    bool verify;
    int refs; /* the listener's and one per connection (atomic) */
};

/* Client certificate names by the inode of the transport's socketpair end (an fd number could be reused
 * between the transport's close and ours). */
#define MAX_NAMES 1024
static pthread_mutex_t g_names_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    ino_t ino;
    char *cn;
} g_names[MAX_NAMES];

struct tls_conn {
    struct listener_tls *t;
    gnutls_session_t s;
    int fd;    /* the client's tcp socket */
    int sp[2]; /* sp[0] ours, sp[1] the transport's */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    listener_handle_fn handle;
    void *ctx;
    ino_t ino; /* of sp[1], 0 when no name is registered */
};

static int tls_fail(struct isd_error **err, int rc, const char *what, const char *path)
{
    return isd_error_set(err, ISD_ERR_INVALID, 0, "TLS: cannot load the %s `%s`: %s", what, path, gnutls_strerror(rc));
}

static int tls_load(struct listener_tls *t, const struct listener_tls_config *c, struct isd_error **err)
{
    int rc = gnutls_certificate_allocate_credentials(&t->cred);
    if (rc < 0)
        return tls_fail(err, rc, "credentials", "");
    rc = gnutls_certificate_set_x509_key_file(t->cred, c->cert, c->key, GNUTLS_X509_FMT_PEM);
    if (rc < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "TLS: cannot load the certificate `%s` and key `%s`: %s", c->cert,
                             c->key, gnutls_strerror(rc));
    if (c->verify) {
        rc = gnutls_certificate_set_x509_trust_file(t->cred, c->ca, GNUTLS_X509_FMT_PEM);
        if (rc <= 0)
            return tls_fail(err, rc < 0 ? rc : GNUTLS_E_NO_CERTIFICATE_FOUND, "CA certificate", c->ca);
    }
    rc = gnutls_session_ticket_key_generate(&t->ticket_key);
    if (rc < 0)
        return tls_fail(err, rc, "session ticket key", "");
    rc = gnutls_priority_init(&t->prio, LISTENER_TLS_PRIORITIES, NULL);
    if (rc < 0)
        return tls_fail(err, rc, "priorities", LISTENER_TLS_PRIORITIES);
    return 0;
}

static void tls_unref(struct listener_tls *t)
{
    if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) > 0)
        return;
    if (t->prio != NULL)
        gnutls_priority_deinit(t->prio);
    if (t->cred != NULL)
        gnutls_certificate_free_credentials(t->cred);
    if (t->ticket_key.data != NULL) {
        gnutls_memset(t->ticket_key.data, 0, t->ticket_key.size);
        gnutls_free(t->ticket_key.data);
    }
    free(t);
}

struct listener_tls *listener_tls_new(const struct listener_tls_config *c, struct isd_error **err)
{
    struct listener_tls *t = xcalloc(1, sizeof(*t));
    t->refs = 1;
    t->verify = c->verify;
    if (tls_load(t, c, err) < 0) {
        tls_unref(t);
        return NULL;
    }
    return t;
}

void listener_tls_free(struct listener_tls *t)
{
    tls_unref(t);
}

static ino_t fd_ino(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void names_set(ino_t ino, char *cn)
{
    size_t free_slot = MAX_NAMES;
    pthread_mutex_lock(&g_names_lock);
    for (size_t i = 0; i < MAX_NAMES; i++) {
        if (g_names[i].cn != NULL && g_names[i].ino == ino) {
            free(g_names[i].cn);
            g_names[i].cn = NULL;
        }
        if (g_names[i].cn == NULL && free_slot == MAX_NAMES)
            free_slot = i;
    }
    if (cn != NULL && free_slot < MAX_NAMES) {
        g_names[free_slot].ino = ino;
        g_names[free_slot].cn = cn;
    } else {
        free(cn);
    }
    pthread_mutex_unlock(&g_names_lock);
}

char *listener_tls_peer_name(int fd)
{
    ino_t ino = fd_ino(fd);
    char *ret = NULL;
    pthread_mutex_lock(&g_names_lock);
    for (size_t i = 0; ino != 0 && i < MAX_NAMES && ret == NULL; i++)
        if (g_names[i].cn != NULL && g_names[i].ino == ino)
            ret = xstrdup(g_names[i].cn);
    pthread_mutex_unlock(&g_names_lock);
    return ret;
}

/* The verified client certificate's common name, or NULL. */
static char *cert_cn(gnutls_session_t s)
{
    unsigned int n = 0;
    const gnutls_datum_t *list = gnutls_certificate_get_peers(s, &n);
    gnutls_x509_crt_t crt;
    char cn[256];
    size_t len = sizeof(cn);
    char *ret = NULL;
    if (list == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
        return NULL;
    if (gnutls_x509_crt_import(crt, &list[0], GNUTLS_X509_FMT_DER) == 0 &&
        gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) == 0)
        ret = xstrdup(cn);
    gnutls_x509_crt_deinit(crt);
    return ret;
}

static void conn_free(struct tls_conn *c)
{
    if (c->ino != 0)
        names_set(c->ino, NULL);
    if (c->s != NULL)
        gnutls_deinit(c->s);
    close(c->fd);
    close(c->sp[0]);
    tls_unref(c->t);
    free(c);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int tls_write_all(gnutls_session_t s, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = gnutls_record_send(s, p, n);
        if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* transport -> client; its EOF becomes a close_notify and a tcp half-close */
static void *pump_down(void *arg)
{
    struct tls_conn *c = arg;
    char buf[PUMP_BUF];
    for (;;) {
        ssize_t n = read(c->sp[0], buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0) {
            gnutls_bye(c->s, GNUTLS_SHUT_WR);
            shutdown(c->fd, SHUT_WR);
            return NULL;
        }
        if (n < 0 || tls_write_all(c->s, buf, (size_t)n) < 0) {
            shutdown(c->fd, SHUT_RDWR);
            shutdown(c->sp[0], SHUT_RDWR);
            return NULL;
        }
    }
}

/* client -> transport; a close_notify (or EOF) becomes a half-close, an error a full close */
static void pump_up(struct tls_conn *c)
{
    char buf[PUMP_BUF];
    for (;;) {
        ssize_t n = gnutls_record_recv(c->s, buf, sizeof(buf));
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
            continue;
        if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION) {
            shutdown(c->sp[0], SHUT_WR);
            return;
        }
        if (n < 0 || write_all(c->sp[0], buf, (size_t)n) < 0) {
            shutdown(c->sp[0], SHUT_RDWR);
            shutdown(c->fd, SHUT_RDWR);
            return;
        }
    }
}

static int set_timeout(int fd, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) |
           setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static const char *peer_name(const struct tls_conn *c, char *buf, size_t len)
{
    const struct sockaddr_in *in4 = (const struct sockaddr_in *)&c->peer;
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&c->peer;
    const void *a = c->peer.ss_family == AF_INET6 ? (const void *)&in6->sin6_addr : (const void *)&in4->sin_addr;
    if (inet_ntop(c->peer.ss_family, a, buf, (socklen_t)len) == NULL)
        snprintf(buf, len, "a tcp client");
    return buf;
}

/* The handshake, bounded in time; with verify, the client's certificate must chain to the CA and be valid. */
static int handshake(struct tls_conn *c)
{
    char who[80];
    unsigned int status = 0;
    int rc;
    if (gnutls_init(&c->s, GNUTLS_SERVER) < 0)
        return -1;
    gnutls_priority_set(c->s, c->t->prio);
    gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->t->cred);
    /* A resumed session keeps the client certificate of the first one (its name for authz); it is verified
     * again below, so an expired one is refused at resumption too. */
    gnutls_session_ticket_enable_server(c->s, &c->t->ticket_key);
    if (c->t->verify) {
        gnutls_certificate_server_set_request(c->s, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_cert(c->s, NULL, 0);
    }
    gnutls_transport_set_int(c->s, c->fd);
    set_timeout(c->fd, HANDSHAKE_TIMEOUT_S);
    do {
        rc = gnutls_handshake(c->s);
    } while (rc < 0 && !gnutls_error_is_fatal(rc));
    if (rc == 0 && c->t->verify && (gnutls_certificate_verify_peers2(c->s, &status) < 0 || status != 0))
        rc = GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
    if (rc < 0) {
        gnutls_alert_send_appropriate(c->s, rc);
        log_warn("TLS handshake with %s refused: %s", peer_name(c, who, sizeof(who)), gnutls_strerror(rc));
        return -1;
    }
    set_timeout(c->fd, 0);
    if (gnutls_session_is_resumed(c->s))
        log_debug("TLS session of %s resumed", peer_name(c, who, sizeof(who)));
    return 0;
}

static void *conn_main(void *arg)
{
    struct tls_conn *c = arg;
    pthread_t down;
    if (handshake(c) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->sp) < 0) {
        conn_free(c);
        return NULL;
    }
    if (c->t->verify) {
        c->ino = fd_ino(c->sp[1]);
        names_set(c->ino, cert_cn(c->s));
    }
    c->handle(c->sp[1], (const struct sockaddr *)&c->peer, c->peer_len, c->ctx);
    if (pthread_create(&down, NULL, pump_down, c) != 0) {
        conn_free(c);
        return NULL;
    }
    pump_up(c);
    pthread_join(down, NULL);
    conn_free(c);
    return NULL;
}

void listener_tls_serve(struct listener_tls *t, int fd, const struct sockaddr *peer, socklen_t peer_len,
                        listener_handle_fn handle, void *ctx)
{
    struct tls_conn *c = xcalloc(1, sizeof(*c));
    pthread_attr_t attr;
    pthread_t th;
    c->t = t;
    __atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
    c->fd = fd;
    c->sp[0] = c->sp[1] = -1;
    c->peer_len = peer_len <= sizeof(c->peer) ? peer_len : sizeof(c->peer);
    memcpy(&c->peer, peer, c->peer_len);
    c->handle = handle;
    c->ctx = ctx;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    if (pthread_create(&th, &attr, conn_main, c) != 0)
        conn_free(c);
    pthread_attr_destroy(&attr);
}
