/* Discovery, activation and calls of a Docker-protocol plugin (see plugin_client.h). */
#include "daemon/api/rest/plugin_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

#define PLUGIN_MAX_REPLY (1 << 20)
#define PLUGIN_CONTENT_TYPE "application/vnd.docker.plugins.v1.2+json"
/* TLS 1.2 and 1.3 only, as the daemon's own listener */
#define PLUGIN_TLS_PRIORITIES "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

static char *const g_default_dirs[] = {"/run/docker/plugins", "/etc/docker/plugins", "/usr/lib/docker/plugins", NULL};

/* A .json spec's TLSConfig (Docker's plugin spec): the plugin is then reached over TLS. */
struct plugin_tls {
    bool insecure; /* InsecureSkipVerify: the plugin's certificate is not checked */
    char *ca, *cert, *key;
};

/* Where an activated plugin is: its address and, for a tcp one with a TLSConfig, its TLS settings. */
struct plugin_addr {
    char *addr; /* "unix:///path" or "tcp://ip:port" */
    struct plugin_tls *tls;
};

struct plugin_client {
    char *name;
    char *const *dirs;
    pthread_mutex_t lock;
    struct plugin_addr where; /* addr NULL until activated */
};

static void plugin_tls_free(struct plugin_tls *t)
{
    if (t == NULL)
        return;
    free(t->ca);
    free(t->cert);
    free(t->key);
    free(t);
}

static struct plugin_tls *plugin_tls_dup(const struct plugin_tls *t)
{
    struct plugin_tls *c;
    if (t == NULL)
        return NULL;
    c = xcalloc(1, sizeof(*c));
    c->insecure = t->insecure;
    c->ca = t->ca != NULL ? xstrdup(t->ca) : NULL;
    c->cert = t->cert != NULL ? xstrdup(t->cert) : NULL;
    c->key = t->key != NULL ? xstrdup(t->key) : NULL;
    return c;
}

static void plugin_addr_clear(struct plugin_addr *a)
{
    free(a->addr);
    plugin_tls_free(a->tls);
    a->addr = NULL;
    a->tls = NULL;
}

struct plugin_client *plugin_client_new(const char *name, char *const *dirs)
{
    struct plugin_client *p = xcalloc(1, sizeof(*p));
    p->name = xstrdup(name);
    p->dirs = dirs != NULL ? dirs : g_default_dirs;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void plugin_client_free(struct plugin_client *p)
{
    if (p == NULL)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->name);
    plugin_addr_clear(&p->where);
    free(p);
}

const char *plugin_client_name(const struct plugin_client *p)
{
    return p->name;
}

static bool is_socket(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

static char *tls_file(const json_t *tc, const char *key)
{
    const char *v = json_get_str(tc, key);
    return v != NULL && *v != '\0' ? xstrdup(v) : NULL;
}

/* The address in a .spec file (its first line) or a .json file ("Addr", and "TLSConfig" into *tls); NULL when
 * absent or malformed. */
static char *spec_addr(const char *path, bool json, struct plugin_tls **tls)
{
    cleanup_free char *text = read_file(path, 64 * 1024, NULL, NULL);
    cleanup_json json_t *j = NULL;
    const char *a;
    json_t *tc;
    if (text == NULL)
        return NULL;
    if (!json) {
        text[strcspn(text, "\r\n")] = '\0';
        return xstrdup(text);
    }
    j = json_parse(text, strlen(text), NULL);
    a = json_get_str(j, "Addr");
    if (a != NULL && json_is_object(tc = json_object_get(j, "TLSConfig"))) {
        *tls = xcalloc(1, sizeof(**tls));
        (*tls)->insecure = json_get_bool(tc, "InsecureSkipVerify", false);
        (*tls)->ca = tls_file(tc, "CAFile");
        (*tls)->cert = tls_file(tc, "CertFile");
        (*tls)->key = tls_file(tc, "KeyFile");
    }
    return a != NULL ? xstrdup(a) : NULL;
}

/* Docker's lookup order: sockets first (flat, then in a directory of the plugin's name), then spec files. */
static char *plugin_find(const struct plugin_client *p, struct plugin_tls **tls, char **why)
{
    for (char *const *d = p->dirs; *d != NULL; d++) {
        cleanup_free char *flat = xasprintf("%s/%s.sock", *d, p->name);
        cleanup_free char *nested = xasprintf("%s/%s/%s.sock", *d, p->name, p->name);
        if (is_socket(flat))
            return xasprintf("unix://%s", flat);
        if (is_socket(nested))
            return xasprintf("unix://%s", nested);
    }
    for (char *const *d = p->dirs; *d != NULL; d++) {
        cleanup_free char *spec = xasprintf("%s/%s.spec", *d, p->name);
        cleanup_free char *json = xasprintf("%s/%s.json", *d, p->name);
        char *a = spec_addr(spec, false, tls);
        if (a == NULL)
            a = spec_addr(json, true, tls);
        if (a != NULL && *tls != NULL && !str_has_prefix(a, "tcp://")) {
            *why = xasprintf("plugin %s: a TLSConfig needs a tcp:// address, not `%s`", p->name, a);
        } else if (a != NULL && *tls != NULL && ((*tls)->cert == NULL) != ((*tls)->key == NULL)) {
            *why = xasprintf("plugin %s: TLSConfig needs both CertFile and KeyFile, or neither", p->name);
        } else if (a != NULL && (str_has_prefix(a, "unix:///") || str_has_prefix(a, "tcp://"))) {
            return a;
        } else if (a != NULL) {
            *why = xasprintf("plugin %s: unsupported address `%s` (unix:///path or tcp://ip:port)", p->name, a);
        }
        if (a != NULL) {
            free(a);
            plugin_tls_free(*tls);
            *tls = NULL;
            return NULL;
        }
    }
    cleanup_strv char **dirs = NULL;
    for (char *const *d = p->dirs; *d != NULL; d++)
        strv_append(&dirs, *d);
    cleanup_free char *list = strv_join(dirs, ", ");
    *why = xasprintf("plugin %s not found (no %s.sock, .spec or .json in %s)", p->name, p->name, list);
    return NULL;
}

/* fd connected to sa, or -1 with errno kept and fd closed (also for fd < 0 from socket()). */
static int connect_or_close(int fd, const struct sockaddr *sa, socklen_t len)
{
    if (fd >= 0 && connect(fd, sa, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    return connect_or_close(fd, (struct sockaddr *)&sa, sizeof(sa));
}

static int connect_tcp(const char *hostport)
{
    cleanup_free char *host = xstrdup(hostport);
    char *colon = strrchr(host, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd;
    if (colon == NULL) {
        errno = EINVAL;
        return -1;
    }
    *colon = '\0';
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) /* the TLS handshake's flights and the request are small writes: none waits for a delayed ACK */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
    return connect_or_close(fd, (struct sockaddr *)&sa, sizeof(sa));
}

static int plugin_connect(const char *addr)
{
    struct timeval tv = {.tv_sec = 30};
    int fd = str_has_prefix(addr, "unix://") ? connect_unix(addr + 7) : connect_tcp(addr + 6);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

/* One connection to a plugin: plain, or TLS when s is set. */
struct plugin_conn {
    int fd;
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
    char *tls_error; /* why TLS failed after the handshake */
};

static void conn_close(struct plugin_conn *c)
{
    if (c->s != NULL)
        gnutls_deinit(c->s);
    if (c->cred != NULL)
        gnutls_certificate_free_credentials(c->cred);
    if (c->fd >= 0)
        close(c->fd);
    free(c->tls_error);
}

/* The TLS handshake with the plugin at host (its certificate checked against tls->ca, or the system's CAs, and
 * host unless InsecureSkipVerify; our certificate offered when given). 0, or -1 with *why. */
static int conn_tls(struct plugin_conn *c, const struct plugin_tls *tls, const char *host, char **why)
{
    int rc;
    if ((rc = gnutls_certificate_allocate_credentials(&c->cred)) < 0)
        goto fail;
    if (!tls->insecure) {
        rc = tls->ca != NULL ? gnutls_certificate_set_x509_trust_file(c->cred, tls->ca, GNUTLS_X509_FMT_PEM)
                             : gnutls_certificate_set_x509_system_trust(c->cred);
        if (rc <= 0) {
            *why = xasprintf("cannot load the CA certificates %s: %s", tls->ca != NULL ? tls->ca : "of the system",
                             rc < 0 ? gnutls_strerror(rc) : "none in it");
            return -1;
        }
    }
    if (tls->cert != NULL &&
        (rc = gnutls_certificate_set_x509_key_file(c->cred, tls->cert, tls->key, GNUTLS_X509_FMT_PEM)) < 0) {
        *why = xasprintf("cannot load the certificate %s and key %s: %s", tls->cert, tls->key, gnutls_strerror(rc));
        return -1;
    }
    if ((rc = gnutls_init(&c->s, GNUTLS_CLIENT)) < 0 ||
        (rc = gnutls_priority_set_direct(c->s, PLUGIN_TLS_PRIORITIES, NULL)) < 0 ||
        (rc = gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->cred)) < 0)
        goto fail;
    if (!tls->insecure)
        gnutls_session_set_verify_cert(c->s, host, 0);
    gnutls_transport_set_int(c->s, c->fd);
    do {
        rc = gnutls_handshake(c->s);
    } while (rc < 0 && rc != GNUTLS_E_AGAIN && !gnutls_error_is_fatal(rc));
    if (rc >= 0)
        return 0;
    if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
        gnutls_datum_t out = {0};
        if (gnutls_certificate_verification_status_print(gnutls_session_get_verify_cert_status(c->s), GNUTLS_CRT_X509,
                                                         &out, 0) == 0) {
            *why = xasprintf("TLS handshake failed: %s", (const char *)out.data);
            gnutls_free(out.data);
            for (size_t n = strlen(*why); n > 0 && (*why)[n - 1] == ' '; n--)
                (*why)[n - 1] = '\0';
            return -1;
        }
    }
fail:
    *why = xasprintf("TLS handshake failed: %s", gnutls_strerror(rc));
    return -1;
}

static bool conn_write(struct plugin_conn *c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = c->s != NULL ? gnutls_record_send(c->s, p, n) : write(c->fd, p, n);
        if ((c->s == NULL && w < 0 && errno == EINTR) || w == GNUTLS_E_INTERRUPTED)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Bytes read, 0 at the end (a TLS peer closing without close_notify too: the reply is length-checked by its
 * parser), -1 on an error or the timeout. GNUTLS_E_AGAIN on the blocking fd is the receive timeout when the
 * socket said so (errno), else a post-handshake message (a TLS 1.3 session ticket) taken in instead of data. */
static ssize_t conn_read(struct plugin_conn *c, char *p, size_t n)
{
    ssize_t r;
    for (;;) {
        errno = 0;
        r = c->s != NULL ? gnutls_record_recv(c->s, p, n) : read(c->fd, p, n);
        if ((c->s == NULL && r < 0 && errno == EINTR) || r == GNUTLS_E_INTERRUPTED ||
            (r == GNUTLS_E_AGAIN && errno != EAGAIN && errno != EWOULDBLOCK))
            continue;
        break;
    }
    if (r == GNUTLS_E_PREMATURE_TERMINATION)
        return 0;
    if (r < 0 && c->s != NULL && c->tls_error == NULL) /* TLS 1.3: a refused client certificate shows here */
        c->tls_error = r == GNUTLS_E_FATAL_ALERT_RECEIVED ? xasprintf("the plugin sent the TLS alert `%s`",
                                                                      gnutls_alert_get_name(gnutls_alert_get(c->s)))
                                                          : xasprintf("TLS: %s", gnutls_strerror((int)r));
    return r < 0 ? -1 : r;
}

/* One POST over a new connection to the plugin; the JSON body of a 200 answer, or NULL with *why. */
static json_t *post(const char *name, const struct plugin_addr *where, const char *method, const char *body, char **why)
{
    /* head and body in one write: one TLS record, one segment */
    cleanup_free char *req = xasprintf("POST /%s HTTP/1.0\r\nHost: plugin\r\nAccept: " PLUGIN_CONTENT_TYPE
                                       "\r\nContent-Type: " PLUGIN_CONTENT_TYPE "\r\nContent-Length: %zu\r\n\r\n%s",
                                       method, strlen(body), body);
    struct buf in = {0};
    char chunk[8192], *sep;
    ssize_t n;
    json_t *j = NULL;
    const char *addr = where->addr;
    struct plugin_conn c = {.fd = plugin_connect(addr)};
    if (c.fd < 0) {
        *why = xasprintf("plugin %s not reachable at %s: %s", name, addr, strerror(errno));
        return NULL;
    }
    if (where->tls != NULL) {
        cleanup_free char *host = xstrdup(addr + 6), *tls_why = NULL;
        *strrchr(host, ':') = '\0'; /* checked by plugin_connect */
        if (conn_tls(&c, where->tls, host, &tls_why) < 0) {
            *why = xasprintf("plugin %s not reachable at %s: %s", name, addr, tls_why);
            conn_close(&c);
            return NULL;
        }
    }
    if (conn_write(&c, req, strlen(req)))
        while (in.len < PLUGIN_MAX_REPLY && (n = conn_read(&c, chunk, sizeof(chunk))) > 0)
            buf_append(&in, chunk, (size_t)n);
    else if (c.s != NULL && conn_read(&c, chunk, sizeof(chunk)) >= 0 && c.tls_error == NULL)
        /* refused after the handshake (TLS 1.3): its alert, read above, says why; else the write's error */
        c.tls_error = xstrdup("TLS: the plugin closed the connection");
    buf_append(&in, "", 1);
    sep = strstr(in.data, "\r\n\r\n");
    if (in.len == 1 && c.tls_error != NULL)
        *why = xasprintf("plugin %s not reachable at %s: %s", name, addr, c.tls_error);
    else if (sep == NULL || strncmp(in.data, "HTTP/1.", 7) != 0 || strncmp(in.data + 8, " 200", 4) != 0)
        *why = xasprintf("plugin %s failed: %s answer to %s", name, sep == NULL ? "no" : "a non-200", method);
    else if ((j = json_parse(sep + 4, strlen(sep + 4), NULL)) == NULL)
        *why = xasprintf("plugin %s failed: malformed JSON answer to %s", name, method);
    conn_close(&c);
    buf_free(&in);
    return j;
}

static bool implements(const json_t *res, const char *kind)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(res, "Implements"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), kind) == 0)
            return true;
    }
    return false;
}

int plugin_client_activate(struct plugin_client *p, const char *kind, bool *not_kind, char **why)
{
    struct plugin_addr where = {0};
    cleanup_json json_t *res = NULL;
    *not_kind = false;
    pthread_mutex_lock(&p->lock);
    if (p->where.addr != NULL) {
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    pthread_mutex_unlock(&p->lock);
    if ((where.addr = plugin_find(p, &where.tls, why)) == NULL ||
        (res = post(p->name, &where, "Plugin.Activate", "{}", why)) == NULL) {
        plugin_addr_clear(&where);
        return -1;
    }
    if (!implements(res, kind)) {
        cleanup_free char *list = json_to_string(json_object_get(res, "Implements"));
        *not_kind = true;
        *why = xasprintf("plugin %s does not implement %s (it implements %s)", p->name, kind,
                         list != NULL ? list : "nothing");
        plugin_addr_clear(&where);
        return -1;
    }
    pthread_mutex_lock(&p->lock);
    if (p->where.addr == NULL)
        p->where = where;
    else
        plugin_addr_clear(&where);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

json_t *plugin_client_call(struct plugin_client *p, const char *method, const char *body, char **why)
{
    struct plugin_addr where = {0};
    pthread_mutex_lock(&p->lock);
    if (p->where.addr != NULL) {
        where.addr = xstrdup(p->where.addr);
        where.tls = plugin_tls_dup(p->where.tls);
    }
    pthread_mutex_unlock(&p->lock);
    if (where.addr == NULL) {
        *why = xasprintf("plugin %s is not activated", p->name);
        return NULL;
    }
    json_t *res = post(p->name, &where, method, body, why);
    plugin_addr_clear(&where);
    if (res == NULL) { /* a restarted plugin is found and activated again on the next call */
        pthread_mutex_lock(&p->lock);
        plugin_addr_clear(&p->where);
        pthread_mutex_unlock(&p->lock);
    }
    return res;
}
