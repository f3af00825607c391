/* WWW-Authenticate parsing, base64, endpoint lists and credential keys; see registry.h. Pure functions. */
#include <ctype.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/image/registry/registry.h"

void registry_challenge_clear(struct auth_challenge *c)
{
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    memset(c, 0, sizeof(*c));
}

/* Reads a token or quoted string at *p (advancing it); NULL when malformed. */
static char *param_value(const char **p)
{
    const char *s = *p;
    struct buf b = {0};
    if (*s == '"') {
        for (s++; *s != '\0' && *s != '"'; s++) {
            if (*s == '\\' && s[1] != '\0')
                s++;
            buf_append(&b, s, 1);
        }
        if (*s != '"') {
            buf_free(&b);
            return NULL;
        }
        s++;
    } else {
        for (; *s != '\0' && *s != ',' && !isspace((unsigned char)*s); s++)
            buf_append(&b, s, 1);
    }
    *p = s;
    buf_append(&b, "", 0);
    return buf_steal(&b);
}

static void set_param(struct auth_challenge *c, const char *key, size_t klen, char *val)
{
    char **slot = NULL;
    if (klen == 5 && strncasecmp(key, "realm", 5) == 0)
        slot = &c->realm;
    else if (klen == 7 && strncasecmp(key, "service", 7) == 0)
        slot = &c->service;
    else if (klen == 5 && strncasecmp(key, "scope", 5) == 0)
        slot = &c->scope;
    if (slot == NULL) {
        free(val);
        return;
    }
    free(*slot);
    *slot = val;
}

int registry_challenge_parse(const char *header, struct auth_challenge *ret, struct isd_error **err)
{
    struct auth_challenge c = {0};
    const char *p = header, *start;
    while (isspace((unsigned char)*p))
        p++;
    for (start = p; isalpha((unsigned char)*p); p++)
        ;
    if (p == start)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "malformed WWW-Authenticate header");
    c.scheme = xstrndup(start, (size_t)(p - start));
    for (char *s = c.scheme; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    for (;;) {
        size_t klen;
        char *val;
        while (isspace((unsigned char)*p) || *p == ',')
            p++;
        if (*p == '\0')
            break;
        for (start = p; *p != '\0' && *p != '=' && !isspace((unsigned char)*p); p++)
            ;
        klen = (size_t)(p - start);
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '=')
            for (p++; isspace((unsigned char)*p); p++)
                ;
        else
            klen = 0;
        if (klen == 0 || (val = param_value(&p)) == NULL) {
            registry_challenge_clear(&c);
            return isd_error_set(err, ISD_ERR_INVALID, 0, "malformed WWW-Authenticate header");
        }
        set_param(&c, start, klen, val);
    }
    *ret = c;
    return 0;
}

char *registry_base64_encode(const void *data, size_t len)
{
    char *out = xmalloc(BASE64_ENCODE_RAW_LENGTH(len) + 1);
    base64_encode_raw(out, len, data);
    out[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
    return out;
}

/* Standard or URL alphabet, padded or not (docker's X-Registry-Auth is base64url without padding). */
char *registry_base64_decode(const char *s, size_t *ret_len)
{
    size_t n = strlen(s), out_len = 0;
    cleanup_free char *std = xmalloc(n + 4);
    struct base64_decode_ctx ctx;
    uint8_t *out;
    for (size_t i = 0; i < n; i++)
        std[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
    while (n % 4 != 0)
        std[n++] = '=';
    out = xmalloc(BASE64_DECODE_LENGTH(n) + 1);
    base64_decode_init(&ctx);
    if (!base64_decode_update(&ctx, &out_len, out, n, std) || !base64_decode_final(&ctx)) {
        free(out);
        return NULL;
    }
    out[out_len] = '\0';
    if (ret_len != NULL)
        *ret_len = out_len;
    return (char *)out;
}

static bool is_docker_hub(const char *host)
{
    return streq(host, "docker.io") || streq(host, "index.docker.io") || streq(host, "registry-1.docker.io") ||
           streq(host, "registry.hub.docker.com");
}

char *registry_auth_key(const char *server_address)
{
    const char *s = server_address;
    const char *slash;
    char *host;
    if (s == NULL || *s == '\0')
        return xstrdup("docker.io");
    if (str_has_prefix(s, "https://"))
        s += 8;
    else if (str_has_prefix(s, "http://"))
        s += 7;
    slash = strchr(s, '/');
    host = slash != NULL ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
    if (is_docker_hub(host)) {
        free(host);
        return xstrdup("docker.io");
    }
    return host;
}

/* Compares hosts ignoring a URL scheme and trailing slash on list entries. */
bool registry_host_matches(const char *host, char *const *list)
{
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        cleanup_free char *k = registry_auth_key(list[i]);
        cleanup_free char *h = registry_auth_key(host);
        if (strcmp(k, h) == 0)
            return true;
    }
    return false;
}

static void endpoint_add(struct registry_endpoint **v, size_t *n, const char *spec, bool is_mirror,
                         char *const *insecure)
{
    struct registry_endpoint *e;
    cleanup_free char *key = registry_auth_key(spec);
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    e = &(*v)[(*n)++];
    e->host = xstrdup(streq(key, "docker.io") ? "registry-1.docker.io" : key);
    e->scheme = xstrdup(str_has_prefix(spec, "http://") ? "http" : "https");
    e->insecure = registry_host_matches(key, insecure) || str_has_prefix(spec, "http://");
    e->is_mirror = is_mirror;
}

struct registry_endpoint *registry_endpoints(const char *domain, char *const *mirrors, char *const *insecure,
                                             size_t *ret_n)
{
    struct registry_endpoint *v = NULL;
    size_t n = 0;
    if (streq(domain, "docker.io")) {
        for (size_t i = 0; mirrors != NULL && mirrors[i] != NULL; i++) {
            cleanup_free char *k = registry_auth_key(mirrors[i]);
            if (!streq(k, "docker.io"))
                endpoint_add(&v, &n, mirrors[i], true, insecure);
        }
    }
    endpoint_add(&v, &n, domain, false, insecure);
    *ret_n = n;
    return v;
}

void registry_endpoints_free(struct registry_endpoint *v, size_t n)
{
    for (size_t i = 0; v != NULL && i < n; i++) {
        free(v[i].host);
        free(v[i].scheme);
    }
    free(v);
}
