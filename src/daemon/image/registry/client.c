/*
 * The HTTP side of the registry client: one curl easy handle per request, TLS material per registry,
 * deadlines, and the WWW-Authenticate challenge flow (Basic, Bearer token). See registry.h.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/registry/curl_lazy.h"
#include "daemon/image/registry/registry_internal.h"
#include "daemon/storage/digest.h"

static char *certs_file(const char *certs_dir, const char *host, const char *const *names)
{
    cleanup_free char *bare = xstrdup(host);
    char *colon = strrchr(bare, ':');
    const char *dirs[2] = {host, bare};
    if (certs_dir == NULL)
        return NULL;
    if (colon != NULL)
        *colon = '\0';
    for (size_t d = 0; d < 2; d++) {
        for (size_t i = 0; names[i] != NULL; i++) {
            char *p = xasprintf("%s/%s/%s", certs_dir, dirs[d], names[i]);
            if (access(p, R_OK) == 0)
                return p;
            free(p);
        }
    }
    return NULL;
}

#define PASSPHRASE_MAX 4096

/* An encrypted PEM key says so: "ENCRYPTED PRIVATE KEY" (PKCS#8) or "Proc-Type: 4,ENCRYPTED". */
static bool key_is_encrypted(const char *path)
{
    cleanup_free char *pem = read_file(path, 1 << 20, NULL, NULL);
    return pem != NULL && strstr(pem, "ENCRYPTED") != NULL;
}

/* use-decrypted-key (D-35): true, the default, takes tls.key as an unencrypted key and refuses an encrypted
 * one with a message (never letting the TLS library prompt for a passphrase); false also accepts an
 * encrypted key, whose passphrase is read from tls.key.passphrase next to it (one line, a file only root can
 * read). */
static void load_key(struct registry_client *c, bool use_decrypted_key)
{
    cleanup_free char *dir = NULL, *pass_path = NULL;
    struct stat st;
    char *pass, *slash;
    if (c->key == NULL || !key_is_encrypted(c->key))
        return;
    if (use_decrypted_key) {
        c->tls_error = xasprintf("client key `%s` is encrypted: start isulad with --use-decrypted-key=false and put "
                                 "its passphrase in tls.key.passphrase next to it",
                                 c->key);
        return;
    }
    dir = xstrdup(c->key);
    slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    pass_path = xasprintf("%s/tls.key.passphrase", slash != NULL ? dir : ".");
    if (stat(pass_path, &st) < 0) {
        c->tls_error = xasprintf("client key `%s` is encrypted and `%s` is missing", c->key, pass_path);
        return;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 || st.st_uid != 0) {
        c->tls_error =
            xasprintf("`%s` must be a regular file owned by root, not readable by group or others", pass_path);
        return;
    }
    pass = read_file(pass_path, PASSPHRASE_MAX, NULL, NULL);
    if (pass == NULL) {
        c->tls_error = xasprintf("cannot read `%s`", pass_path);
        return;
    }
    pass[strcspn(pass, "\r\n")] = '\0';
    c->key_passphrase = pass;
}

struct registry_client *registry_client_new(const struct registry_endpoint *ep, const char *repo,
                                            const struct registry_client_opts *o)
{
    struct registry_client *c = xcalloc(1, sizeof(*c));
    c->host = xstrdup(ep->host);
    c->scheme = xstrdup(ep->scheme);
    c->insecure = ep->insecure;
    c->repo = repo != NULL ? xstrdup(repo) : NULL;
    c->skip_verify_host = o->skip_verify_host;
    c->deadline_ns = o->deadline_ns;
    c->username = o->username != NULL ? xstrdup(o->username) : NULL;
    c->password = o->password != NULL ? xstrdup(o->password) : NULL;
    c->ca = certs_file(o->certs_dir, ep->host, (const char *const[]){"ca.crt", NULL});
    c->cert = certs_file(o->certs_dir, ep->host, (const char *const[]){"tls.cert", "client.cert", NULL});
    c->key = certs_file(o->certs_dir, ep->host, (const char *const[]){"tls.key", "client.key", NULL});
    if (c->cert != NULL)
        load_key(c, o->use_decrypted_key);
    pthread_mutex_init(&c->lock, NULL);
    return c;
}

void registry_client_free(struct registry_client *c)
{
    if (c == NULL)
        return;
    free(c->host), free(c->scheme), free(c->repo), free(c->ca), free(c->cert), free(c->key), free(c->tls_error);
    if (c->key_passphrase != NULL)
        explicit_bzero(c->key_passphrase, strlen(c->key_passphrase));
    free(c->key_passphrase);
    if (c->password != NULL)
        explicit_bzero(c->password, strlen(c->password));
    free(c->username), free(c->password);
    free(c->authz);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void registry_client_set_cancel(struct registry_client *c, const int *flag)
{
    c->cancel = flag;
}

bool registry_client_cancelled(const struct registry_client *c)
{
    return c->cancel != NULL && __atomic_load_n(c->cancel, __ATOMIC_SEQ_CST) != 0;
}

const char *registry_client_host(const struct registry_client *c)
{
    return c->host;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    struct http_resp *r = ud;
    size_t len = size * n;
    cleanup_free char *line = xstrndup(data, len);
    char *colon = strchr(line, ':'), *v;
    if (str_has_prefix(line, "HTTP/")) {
        /* a new response (after a redirect): forget the previous headers */
        free(r->www_auth), free(r->content_type);
        r->www_auth = r->content_type = NULL;
        r->range_start = -1;
        return len;
    }
    if (colon == NULL)
        return len;
    *colon = '\0';
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
        ;
    v[strcspn(v, "\r\n")] = '\0';
    if (strcasecmp(line, "www-authenticate") == 0 && r->www_auth == NULL)
        r->www_auth = xstrdup(v);
    else if (strcasecmp(line, "content-type") == 0) {
        free(r->content_type);
        r->content_type = xstrndup(v, strcspn(v, ";"));
    } else if (strcasecmp(line, "content-range") == 0) {
        long long start;
        if (sscanf(v, "bytes %lld-", &start) == 1)
            r->range_start = start;
    }
    return len;
}

/* The first bytes of a resumed download: a 206 from the offset continues the file and its hash; a 200 (the
 * server ignored Range) starts them over. */
static int check_resume(struct http_resp *r, long status)
{
    r->resume_checked = true;
    if (status == 206 && r->range_start == r->offset)
        return 0;
    if (status == 206) {
        isd_error_set(&r->sink_err, ISD_ERR_UNAVAILABLE, 0, "resumed blob starts at byte %lld, not %lld",
                      r->range_start, r->offset);
        return -1;
    }
    if (ftruncate(r->fd, 0) < 0 || lseek(r->fd, 0, SEEK_SET) < 0) {
        isd_error_errno(&r->sink_err, "truncate blob file");
        return -1;
    }
    sha256_free(r->sha);
    r->sha = sha256_new();
    r->got = 0;
    return 0;
}

static long long g_bytes_received;

long long registry_bytes_received(void)
{
    return __atomic_load_n(&g_bytes_received, __ATOMIC_RELAXED);
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    struct http_resp *r = ud;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200 || status == 206)
        __atomic_fetch_add(&g_bytes_received, (long long)len, __ATOMIC_RELAXED);
    if (r->fd >= 0 && r->offset > 0 && (status == 200 || status == 206) && !r->resume_checked &&
        check_resume(r, status) < 0)
        return 0;
    if (r->fd < 0 || !(status == 200 || (status == 206 && r->offset > 0))) {
        /* error bodies and small documents go to memory, bounded */
        if (r->body.len + len > r->max) {
            r->too_large = true;
            return 0;
        }
        buf_append(&r->body, data, len);
        return len;
    }
    return http_sink_write(r, data, len);
}

/* curl calls this often while data flows and about once a second when it does not. */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    struct http_resp *r = ud;
    if (registry_client_cancelled(r->client))
        return 1;
    if (r->progress != NULL && r->fd >= 0)
        r->progress(r->progress_ctx, r->got, r->expect);
    return 0;
}

static void set_tls(struct registry_client *c, CURL *e)
{
    if (c->ca != NULL) {
        curl_easy_setopt(e, CURLOPT_CAINFO, c->ca);
        curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    if (c->cert != NULL && c->key != NULL) {
        curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
        curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
        if (c->key_passphrase != NULL)
            curl_easy_setopt(e, CURLOPT_KEYPASSWD, c->key_passphrase);
    }
    if (c->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->skip_verify_host)
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
}

static int set_timeouts(struct registry_client *c, CURL *e, struct isd_error **err)
{
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
    /* a registry that stops sending fails instead of hanging */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
    if (c->deadline_ns > 0) {
        long long left_ms = (c->deadline_ns - now_ns()) / 1000000;
        if (left_ms <= 0)
            return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "image operation timed out");
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)left_ms);
    }
    return 0;
}

/* One request with the given Authorization (may be NULL). Fills r->status; -1 only on transport errors. */
int http_perform(struct registry_client *c, const char *url, const char *accept, const char *authz, struct http_resp *r,
                 struct isd_error **err)
{
    CURL *e = curl_easy_init();
    struct curl_slist *h = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;
    cleanup_free char *ah = authz != NULL ? xasprintf("Authorization: %s", authz) : NULL;
    cleanup_free char *acc = accept != NULL ? xasprintf("Accept: %s", accept) : NULL;
    if (e == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "cannot start an HTTP request: %s",
                             curl_lazy_error() ? curl_lazy_error() : "curl_easy_init failed");
    if (registry_client_cancelled(c)) {
        curl_easy_cleanup(e);
        return isd_error_set(err, ISD_ERR_INTERNAL, ECANCELED, "cancelled: the client went away");
    }
    if (c->tls_error != NULL && str_has_prefix(url, "https:")) {
        curl_easy_cleanup(e);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s", c->tls_error);
    }
    if (set_timeouts(c, e, err) < 0) {
        curl_easy_cleanup(e);
        return -1;
    }
    r->range_start = -1;
    r->resume_checked = false;
    if (r->offset > 0) {
        char range[32];
        snprintf(range, sizeof(range), "%lld-", r->offset);
        curl_easy_setopt(e, CURLOPT_RANGE, range);
    }
    if (ah != NULL)
        h = curl_slist_append(h, ah);
    if (acc != NULL)
        h = curl_slist_append(h, acc);
    r->easy = e;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "isulad/" ISD_VERSION);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    r->client = c;
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    set_tls(c, e);
    rc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    r->easy = NULL;
    if (r->too_large)
        return isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "response from `%s` exceeds %zu bytes", c->host, r->max);
    if (r->sink_err != NULL) {
        if (err != NULL && *err == NULL)
            *err = TAKE_PTR(r->sink_err);
        return -1;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK || (rc != CURLE_OK && registry_client_cancelled(c)))
        return isd_error_set(err, ISD_ERR_INTERNAL, ECANCELED, "cancelled: the client went away");
    if (rc != CURLE_OK)
        return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "request to `%s` failed: %s", c->host,
                             errbuf[0] ? errbuf : curl_easy_strerror(rc));
    return 0;
}

void http_resp_clear(struct http_resp *r)
{
    free(r->www_auth);
    free(r->content_type);
    buf_free(&r->body);
    r->www_auth = r->content_type = NULL;
    r->status = 0;
    r->too_large = false;
}
