/* The challenge flow (Basic, Bearer), the ping and manifest requests of the registry client; see registry.h. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/registry/curl_lazy.h"
#include "daemon/image/registry/registry_internal.h"

#define ACCEPT_ALL MT_DOCKER_MANIFEST ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_OCI_INDEX
#define TOKEN_MAX (1 << 20)

static char *basic_authz(const struct registry_client *c)
{
    cleanup_free char *plain = NULL;
    char *b64, *out;
    if (c->username == NULL || c->password == NULL)
        return NULL;
    plain = xasprintf("%s:%s", c->username, c->password);
    b64 = registry_base64_encode(plain, strlen(plain));
    explicit_bzero(plain, strlen(plain));
    out = xasprintf("Basic %s", b64);
    free(b64);
    return out;
}

char *registry_error_text(const struct http_resp *r)
{
    cleanup_json json_t *j = r->body.len > 0 ? json_parse(r->body.data, r->body.len, NULL) : NULL;
    json_t *first = json_array_get(json_object_get(j, "errors"), 0);
    const char *msg = json_get_str(first, "message");
    const char *code = json_get_str(first, "code");
    if (msg != NULL)
        return code != NULL ? xasprintf("%s: %s", code, msg) : xstrdup(msg);
    return xasprintf("HTTP status %ld", r->status);
}

static char *token_url(const struct registry_client *c, const struct auth_challenge *ch)
{
    cleanup_free char *scope =
        c->repo != NULL ? xasprintf("repository:%s:pull", c->repo) : (ch->scope != NULL ? xstrdup(ch->scope) : NULL);
    struct buf b = {0};
    buf_printf(&b, "%s%c", ch->realm, strchr(ch->realm, '?') != NULL ? '&' : '?');
    if (ch->service != NULL) {
        char *e = curl_easy_escape(NULL, ch->service, 0);
        buf_printf(&b, "service=%s&", e);
        curl_free(e);
    }
    if (scope != NULL) {
        char *e = curl_easy_escape(NULL, scope, 0);
        buf_printf(&b, "scope=%s", e);
        curl_free(e);
    }
    return buf_steal(&b);
}

static int unauthorized(struct isd_error **err, const char *host, const char *why)
{
    return isd_error_set(err, ISD_ERR_UNAUTHORIZED, 0, "unauthorized: %s (registry `%s`)", why, host);
}

static int fetch_token(struct registry_client *c, const struct auth_challenge *ch, char **ret_token,
                       struct isd_error **err)
{
    cleanup_free char *url = NULL, *basic = basic_authz(c);
    cleanup_json json_t *j = NULL;
    struct http_resp r = {.fd = -1, .max = TOKEN_MAX};
    const char *tok;
    int rc;
    if (ch->realm == NULL || !(str_has_prefix(ch->realm, "https://") || str_has_prefix(ch->realm, "http://")))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "registry `%s` sent a bearer challenge without a realm", c->host);
    url = token_url(c, ch);
    rc = http_perform(c, url, "application/json", basic, &r, err);
    if (rc == 0 && (r.status == 401 || r.status == 403))
        rc = unauthorized(err, c->host, basic != NULL ? "incorrect username or password" : "authentication required");
    else if (rc == 0 && r.status != 200)
        rc = isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "token server of `%s` answered %ld", c->host, r.status);
    if (rc == 0) {
        j = json_parse(r.body.data != NULL ? r.body.data : "", r.body.len, NULL);
        tok = json_get_str(j, "token");
        if (tok == NULL || *tok == '\0')
            tok = json_get_str(j, "access_token");
        if (tok == NULL || *tok == '\0')
            rc = isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "token server of `%s` sent no token", c->host);
        else
            *ret_token = xstrdup(tok);
    }
    http_resp_clear(&r);
    return rc;
}

/* Answers a challenge: sets c->authz. */
static int authenticate(struct registry_client *c, const char *www_auth, struct isd_error **err)
{
    struct auth_challenge ch = {0};
    char *authz = NULL, *tok = NULL;
    if (registry_challenge_parse(www_auth, &ch, err) < 0)
        return -1;
    if (strcmp(ch.scheme, "basic") == 0) {
        authz = basic_authz(c);
        if (authz == NULL) {
            registry_challenge_clear(&ch);
            return unauthorized(err, c->host, "authentication required");
        }
    } else if (strcmp(ch.scheme, "bearer") == 0) {
        if (fetch_token(c, &ch, &tok, err) < 0) {
            registry_challenge_clear(&ch);
            return -1;
        }
        authz = xasprintf("Bearer %s", tok);
        free(tok);
    } else {
        isd_error_set(err, ISD_ERR_INVALID, 0, "registry `%s` asks for unsupported auth `%s`", c->host, ch.scheme);
        registry_challenge_clear(&ch);
        return -1;
    }
    registry_challenge_clear(&ch);
    pthread_mutex_lock(&c->lock);
    free(c->authz);
    c->authz = authz;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

int registry_request(struct registry_client *c, const char *path, const char *accept, struct http_resp *r,
                     struct isd_error **err)
{
    for (int attempt = 0;; attempt++) {
        cleanup_free char *authz = NULL, *url = NULL, *challenge = NULL;
        pthread_mutex_lock(&c->lock);
        authz = c->authz != NULL ? xstrdup(c->authz) : NULL;
        url = xasprintf("%s://%s%s", c->scheme, c->host, path);
        pthread_mutex_unlock(&c->lock);
        if (http_perform(c, url, accept, authz, r, err) < 0)
            return -1;
        if (r->status != 401 || attempt > 0 || r->www_auth == NULL)
            return 0;
        challenge = TAKE_PTR(r->www_auth);
        http_resp_clear(r);
        if (authenticate(c, challenge, err) < 0)
            return -1;
    }
}

static int ping_scheme(struct registry_client *c, const char *scheme, struct isd_error **err)
{
    struct http_resp r = {.fd = -1, .max = 1 << 16};
    char *copy = xstrdup(scheme); /* scheme may be c->scheme itself */
    int rc;
    pthread_mutex_lock(&c->lock);
    free(c->scheme);
    c->scheme = copy;
    pthread_mutex_unlock(&c->lock);
    rc = registry_request(c, "/v2/", NULL, &r, err);
    if (rc == 0 && r.status == 401)
        rc = unauthorized(err, c->host,
                          c->username != NULL ? "incorrect username or password" : "authentication required");
    else if (rc == 0 && r.status >= 500)
        rc = isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "registry `%s` answered %ld", c->host, r.status);
    http_resp_clear(&r);
    return rc;
}

int registry_client_ping(struct registry_client *c, struct isd_error **err)
{
    struct isd_error *first = NULL;
    if (strcmp(c->scheme, "http") == 0 || !c->insecure)
        return ping_scheme(c, c->scheme, err);
    if (ping_scheme(c, "https", &first) == 0)
        return 0;
    if (first->code == ISD_ERR_UNAUTHORIZED) {
        *err = first;
        return -1;
    }
    isd_error_free(first);
    return ping_scheme(c, "http", err);
}

static int manifest_status_error(struct registry_client *c, const char *ref, const struct http_resp *r,
                                 struct isd_error **err)
{
    cleanup_free char *text = registry_error_text(r);
    if (r->status == 404)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "manifest for `%s/%s:%s` not found: %s", c->host, c->repo, ref,
                             text);
    if (r->status == 401 || r->status == 403)
        return isd_error_set(err, ISD_ERR_UNAUTHORIZED, 0,
                             "pull access denied for `%s/%s`, repository does not exist or may require login: %s",
                             c->host, c->repo, text);
    return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "fetch manifest `%s` from `%s`: %s", ref, c->host, text);
}

char *registry_client_get_manifest(struct registry_client *c, const char *ref, size_t *ret_len, char **ret_content_type,
                                   struct isd_error **err)
{
    cleanup_free char *path = xasprintf("/v2/%s/manifests/%s", c->repo, ref);
    struct http_resp r = {.fd = -1, .max = REGISTRY_MAX_MANIFEST};
    char *body;
    if (registry_request(c, path, ACCEPT_ALL, &r, err) < 0 ||
        (r.status != 200 && manifest_status_error(c, ref, &r, err) < 0)) {
        http_resp_clear(&r);
        return NULL;
    }
    *ret_len = r.body.len;
    *ret_content_type = TAKE_PTR(r.content_type);
    buf_append(&r.body, "", 0);
    body = buf_steal(&r.body);
    http_resp_clear(&r);
    return body;
}
