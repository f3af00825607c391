/* Client TLS through a GnuTLS loaded on first use (dlopen), so plain isula commands never map it. */
#include "client/tls.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* X25519 first and no finite-field groups: the key shares of the ClientHello are the cheap ones. */
#define CLIENT_TLS_PRIORITIES                                                                                          \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1"
#define SESSION_MAX (32 * 1024)

/* The GnuTLS calls used, resolved by dlsym. */
struct gnutls_api {
    int (*global_init)(void);
    int (*cred_alloc)(gnutls_certificate_credentials_t *);
    int (*trust_file)(gnutls_certificate_credentials_t, const char *, gnutls_x509_crt_fmt_t);
    int (*key_file)(gnutls_certificate_credentials_t, const char *, const char *, gnutls_x509_crt_fmt_t);
    int (*init)(gnutls_session_t *, unsigned int);
    int (*priority_set_direct)(gnutls_session_t, const char *, const char **);
    int (*credentials_set)(gnutls_session_t, gnutls_credentials_type_t, void *);
    void (*transport_set_int2)(gnutls_session_t, int, int);
    int (*server_name_set)(gnutls_session_t, gnutls_server_name_type_t, const void *, size_t);
    void (*set_verify_cert)(gnutls_session_t, const char *, unsigned);
    int (*handshake)(gnutls_session_t);
    int (*error_is_fatal)(int);
    const char *(*strerror)(int);
    ssize_t (*record_send)(gnutls_session_t, const void *, size_t);
    ssize_t (*record_recv)(gnutls_session_t, void *, size_t);
    size_t (*record_check_pending)(gnutls_session_t);
    int (*bye)(gnutls_session_t, gnutls_close_request_t);
    void (*deinit)(gnutls_session_t);
    gnutls_alert_description_t (*alert_get)(gnutls_session_t);
    const char *(*alert_get_name)(gnutls_alert_description_t);
    int (*get_data)(gnutls_session_t, void *, size_t *);
    int (*set_data)(gnutls_session_t, const void *, size_t);
    int (*is_resumed)(gnutls_session_t);
    unsigned (*get_flags)(gnutls_session_t);
    void (*cred_set_flags)(gnutls_certificate_credentials_t, unsigned int);
};

#define SYM(field, name)                                                                                               \
    {                                                                                                                  \
        offsetof(struct gnutls_api, field), name                                                                       \
    }
static const struct {
    size_t off;
    const char *name;
} g_syms[] = {
    SYM(global_init, "gnutls_global_init"),
    SYM(cred_alloc, "gnutls_certificate_allocate_credentials"),
    SYM(trust_file, "gnutls_certificate_set_x509_trust_file"),
    SYM(key_file, "gnutls_certificate_set_x509_key_file"),
    SYM(init, "gnutls_init"),
    SYM(priority_set_direct, "gnutls_priority_set_direct"),
    SYM(credentials_set, "gnutls_credentials_set"),
    SYM(transport_set_int2, "gnutls_transport_set_int2"),
    SYM(server_name_set, "gnutls_server_name_set"),
    SYM(set_verify_cert, "gnutls_session_set_verify_cert"),
    SYM(handshake, "gnutls_handshake"),
    SYM(error_is_fatal, "gnutls_error_is_fatal"),
    SYM(strerror, "gnutls_strerror"),
    SYM(record_send, "gnutls_record_send"),
    SYM(record_recv, "gnutls_record_recv"),
    SYM(record_check_pending, "gnutls_record_check_pending"),
    SYM(bye, "gnutls_bye"),
    SYM(deinit, "gnutls_deinit"),
    SYM(alert_get, "gnutls_alert_get"),
    SYM(alert_get_name, "gnutls_alert_get_name"),
    SYM(get_data, "gnutls_session_get_data"),
    SYM(set_data, "gnutls_session_set_data"),
    SYM(is_resumed, "gnutls_session_is_resumed"),
    SYM(get_flags, "gnutls_session_get_flags"),
    SYM(cred_set_flags, "gnutls_certificate_set_flags"),
};

struct client_tls {
    gnutls_session_t s;
    char *error; /* the last failure, for messages */
};

/* The last resumable session of this daemon address and these credentials: kept for the next connection of the
 * command and in $HOME/.iSulad/tls-sessions/ (0600, like the key beside it) for the next command. A resumed
 * handshake skips the certificates and their signatures on both sides. */
static struct {
    char *key;  /* what the session belongs to: address, mode, files */
    char *path; /* its file, NULL when $HOME is unusable */
    unsigned char *data;
    size_t len;
    bool loaded;
} g_session;

static struct gnutls_api g_api;
static const char *g_load_error;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static struct client_tls_opts g_opts;
static gnutls_certificate_credentials_t g_cred;

static void load(void)
{
    void *h = dlopen("libgnutls.so.30", RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        g_load_error = "cannot load libgnutls.so.30 (install libgnutls30)";
        return;
    }
    for (size_t i = 0; i < ARRAY_SIZE(g_syms); i++) {
        void *f = dlsym(h, g_syms[i].name);
        if (f == NULL) {
            g_load_error = "libgnutls.so.30 lacks a needed function";
            return;
        }
        memcpy((char *)&g_api + g_syms[i].off, &f, sizeof(f));
    }
    if (g_api.global_init() < 0)
        g_load_error = "cannot initialise GnuTLS";
}

void client_tls_configure(const struct client_tls_opts *o)
{
    g_opts = *o;
    g_opts.tls = o->tls || o->verify;
}

bool client_tls_enabled(void)
{
    return g_opts.tls;
}

/* An explicit path, or $HOME/.iSulad/<name> (D-72). */
static char *tls_path(const char *given, const char *name)
{
    const char *home = getenv("HOME");
    if (given != NULL)
        return xstrdup(given);
    return xasprintf("%s/.iSulad/%s", home != NULL && home[0] ? home : "/root", name);
}

static int load_credentials(bool resuming, struct isd_error **err)
{
    cleanup_free char *ca = tls_path(g_opts.ca, "ca.pem"), *cert = tls_path(g_opts.cert, "cert.pem"),
                      *key = tls_path(g_opts.key, "key.pem");
    bool have_pair = access(cert, R_OK) == 0 && access(key, R_OK) == 0;
    int rc;
    if (g_cred != NULL)
        return 0;
    if (g_api.cred_alloc(&g_cred) < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "TLS: cannot allocate credentials");
    if (resuming) /* the key was checked against the certificate when the session was made: no test signature */
        g_api.cred_set_flags(g_cred, GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH);
    if (g_opts.verify && (rc = g_api.trust_file(g_cred, ca, GNUTLS_X509_FMT_PEM)) <= 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "TLS: cannot load the CA certificate `%s`: %s", ca,
                             rc < 0 ? g_api.strerror(rc) : "no certificate in it");
    if ((have_pair || g_opts.cert != NULL || g_opts.key != NULL) &&
        (rc = g_api.key_file(g_cred, cert, key, GNUTLS_X509_FMT_PEM)) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "TLS: cannot load the certificate `%s` and key `%s`: %s", cert,
                             key, g_api.strerror(rc));
    return 0;
}

static unsigned long long fnv1a(const char *s)
{
    unsigned long long h = 1469598103934665603ULL;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* Reads the cached session of addr (once per process). */
static void session_load(const char *addr)
{
    const char *home = getenv("HOME");
    cleanup_free char *ca = tls_path(g_opts.ca, "ca.pem"), *cert = tls_path(g_opts.cert, "cert.pem");
    struct stat st;
    int fd;
    if (g_session.loaded)
        return;
    g_session.loaded = true;
    long long ca_mtime = stat(ca, &st) == 0 ? (long long)st.st_mtime : 0;
    long long cert_mtime = stat(cert, &st) == 0 ? (long long)st.st_mtime : 0;
    /* a new CA or certificate (same path, new file) starts a new session */
    g_session.key =
        xasprintf("isula-tls-session-v1 %s %d %s %lld %s %lld", addr, g_opts.verify, ca, ca_mtime, cert, cert_mtime);
    if (home == NULL || home[0] != '/')
        return;
    g_session.path = xasprintf("%s/.iSulad/tls-sessions/%016llx", home, fnv1a(g_session.key));
    fd = open(g_session.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    /* ours only: a session file someone else could write would let them pick our session */
    if (fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 077) == 0 && st.st_size > 0 &&
        st.st_size <= SESSION_MAX) {
        g_session.data = xmalloc((size_t)st.st_size);
        if (read(fd, g_session.data, (size_t)st.st_size) == st.st_size)
            g_session.len = (size_t)st.st_size;
    }
    close(fd);
}

/* Keeps the session's resumption data when the daemon gave a ticket (after the first answer was read). */
static void session_save(gnutls_session_t s)
{
    cleanup_free unsigned char *data = NULL;
    cleanup_free char *dir = NULL, *tmp = NULL;
    size_t len = SESSION_MAX;
    int fd;
    if (g_session.key == NULL || !(g_api.get_flags(s) & GNUTLS_SFLAGS_SESSION_TICKET))
        return;
    data = xmalloc(len);
    if (g_api.get_data(s, data, &len) < 0 || len == 0 ||
        (len == g_session.len && memcmp(data, g_session.data, len) == 0))
        return;
    free(g_session.data);
    g_session.data = TAKE_PTR(data);
    g_session.len = len;
    if (g_session.path == NULL)
        return;
    dir = xstrdup(g_session.path);
    *strrchr(dir, '/') = '\0';
    *strrchr(dir, '/') = '\0';
    mkdir(dir, 0700); /* $HOME/.iSulad, then its tls-sessions */
    dir[strlen(dir)] = '/';
    mkdir(dir, 0700);
    tmp = xasprintf("%s.%d", g_session.path, (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return;
    if (write(fd, g_session.data, len) != (ssize_t)len || close(fd) < 0 || rename(tmp, g_session.path) < 0)
        unlink(tmp);
}

static int session_setup(struct client_tls *t, int fd, const char *host, struct isd_error **err)
{
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
    if (g_api.init(&t->s, GNUTLS_CLIENT) < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "TLS: cannot start a session");
    g_api.priority_set_direct(t->s, CLIENT_TLS_PRIORITIES, NULL);
    g_api.credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, g_cred);
    if (!is_ip)
        g_api.server_name_set(t->s, GNUTLS_NAME_DNS, host, strlen(host));
    if (g_opts.verify)
        g_api.set_verify_cert(t->s, host, 0);
    if (g_session.len > 0)
        g_api.set_data(t->s, g_session.data, g_session.len);
    g_api.transport_set_int2(t->s, fd, fd);
    return 0;
}

struct client_tls *client_tls_connect(int fd, const char *host, const char *addr, struct isd_error **err)
{
    struct client_tls *t;
    int rc;
    pthread_once(&g_once, load);
    if (g_load_error != NULL) {
        isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "TLS: %s", g_load_error);
        return NULL;
    }
    session_load(addr);
    if (load_credentials(g_session.len > 0, err) < 0)
        return NULL;
    t = xcalloc(1, sizeof(*t));
    if (session_setup(t, fd, host, err) < 0) {
        client_tls_free(t);
        return NULL;
    }
    do {
        rc = g_api.handshake(t->s);
    } while (rc < 0 && !g_api.error_is_fatal(rc));
    if (rc < 0) {
        isd_error_set(err, ISD_ERR_UNAVAILABLE, ECONNREFUSED, "TLS handshake with `%s` failed: %s", host,
                      g_api.strerror(rc));
        client_tls_free(t);
        return NULL;
    }
    return t;
}

ssize_t client_tls_read(struct client_tls *t, void *dst, size_t n)
{
    ssize_t r;
    /* The fd is blocking: GNUTLS_E_AGAIN only says that a post-handshake message (the daemon's session ticket)
     * was taken in instead of data. */
    do {
        r = g_api.record_recv(t->s, dst, n);
    } while (r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_AGAIN);
    if (r == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
    if (r < 0 && r != GNUTLS_E_AGAIN) {
        free(t->error);
        t->error = r == GNUTLS_E_FATAL_ALERT_RECEIVED
                       ? xasprintf("the daemon sent the TLS alert `%s`", g_api.alert_get_name(g_api.alert_get(t->s)))
                       : xstrdup(g_api.strerror((int)r));
    }
    if (r < 0)
        errno = r == GNUTLS_E_AGAIN ? EAGAIN : EIO;
    return r < 0 ? -1 : r;
}

ssize_t client_tls_write(struct client_tls *t, const void *src, size_t n)
{
    ssize_t w;
    do {
        w = g_api.record_send(t->s, src, n);
    } while (w == GNUTLS_E_INTERRUPTED);
    if (w < 0 && w != GNUTLS_E_AGAIN) {
        /* the daemon refused us after the handshake (TLS 1.3): its alert explains why */
        char b[64];
        client_tls_read(t, b, sizeof(b));
    }
    if (w < 0)
        errno = w == GNUTLS_E_AGAIN ? EAGAIN : EPIPE;
    return w < 0 ? -1 : w;
}

bool client_tls_pending(struct client_tls *t)
{
    return t != NULL && g_api.record_check_pending(t->s) > 0;
}

void client_tls_close_write(struct client_tls *t)
{
    g_api.bye(t->s, GNUTLS_SHUT_WR);
}

void client_tls_free(struct client_tls *t)
{
    if (t == NULL)
        return;
    if (t->s != NULL) {
        session_save(t->s);
        g_api.deinit(t->s);
    }
    free(t->error);
    free(t);
}

const char *client_tls_error(const struct client_tls *t)
{
    return t != NULL ? t->error : NULL;
}
