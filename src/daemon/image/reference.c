/* Image reference parsing and normalisation; see reference.h. */
#include "daemon/image/reference.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define NAME_MAX_LEN 255
#define DEFAULT_DOMAIN "docker.io"

static bool is_alnum_lower(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static bool component_is_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (len == 0 || !is_alnum_lower(s[0]) || !is_alnum_lower(s[len - 1]))
        return false;
    while (i < len) {
        if (is_alnum_lower(s[i])) {
            i++;
            continue;
        }
        if (s[i] == '.' || (s[i] == '_' && s[i + 1] != '_')) {
            i++;
        } else if (s[i] == '_' && s[i + 1] == '_') {
            i += 2;
        } else if (s[i] == '-') {
            while (i < len && s[i] == '-')
                i++;
        } else {
            return false;
        }
        if (i >= len || !is_alnum_lower(s[i]))
            return false;
    }
    return true;
}

static bool path_is_valid(const char *p)
{
    const char *start = p;
    for (;;) {
        const char *slash = strchr(start, '/');
        size_t len = slash != NULL ? (size_t)(slash - start) : strlen(start);
        if (!component_is_valid(start, len))
            return false;
        if (slash == NULL)
            return true;
        start = slash + 1;
    }
}

static bool domain_is_valid(const char *d)
{
    if (d[0] == '\0' || d[0] == '-' || d[0] == '.')
        return false;
    for (const char *p = d; *p; p++) {
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != ':' && *p != '[' && *p != ']')
            return false;
    }
    return true;
}

bool reference_tag_is_valid(const char *tag)
{
    size_t len = tag != NULL ? strlen(tag) : 0;
    if (len == 0 || len > 128 || !(isalnum((unsigned char)tag[0]) || tag[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++) {
        if (!(isalnum((unsigned char)tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-'))
            return false;
    }
    return true;
}

static bool digest_is_valid(const char *d)
{
    const char *colon = strchr(d, ':');
    if (colon == NULL || colon == d || strlen(colon + 1) < 32)
        return false;
    for (const char *p = colon + 1; *p; p++) {
        if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
            return false;
    }
    return true;
}

void reference_free(struct reference *r)
{
    if (r == NULL)
        return;
    free(r->domain);
    free(r->path);
    free(r->tag);
    free(r->digest);
    free(r);
}

/* Splits "name[:tag][@digest]" parts off rest (modified in place). */
static bool split_tag_digest(char *rest, struct reference *r)
{
    char *at = strchr(rest, '@');
    char *slash, *colon;
    if (at != NULL) {
        *at = '\0';
        if (!digest_is_valid(at + 1))
            return false;
        r->digest = xstrdup(at + 1);
    }
    slash = strrchr(rest, '/');
    colon = strrchr(slash != NULL ? slash : rest, ':');
    if (colon != NULL) {
        *colon = '\0';
        if (!reference_tag_is_valid(colon + 1))
            return false;
        r->tag = xstrdup(colon + 1);
    }
    return true;
}

static bool split_domain(const char *name, struct reference *r)
{
    const char *slash = strchr(name, '/');
    if (slash != NULL) {
        size_t n = (size_t)(slash - name);
        bool is_domain = memchr(name, '.', n) != NULL || memchr(name, ':', n) != NULL ||
                         (n == 9 && strncmp(name, "localhost", 9) == 0);
        for (size_t i = 0; i < n && !is_domain; i++)
            is_domain = isupper((unsigned char)name[i]);
        if (is_domain) {
            r->domain = xstrndup(name, n);
            r->path = xstrdup(slash + 1);
            if (!domain_is_valid(r->domain))
                return false;
        }
    }
    if (r->domain == NULL) {
        r->domain = xstrdup(DEFAULT_DOMAIN);
        r->path = xstrdup(name);
    }
    if (strcmp(r->domain, "index.docker.io") == 0) {
        free(r->domain);
        r->domain = xstrdup(DEFAULT_DOMAIN);
    }
    if (strcmp(r->domain, DEFAULT_DOMAIN) == 0 && strchr(r->path, '/') == NULL) {
        char *p = xasprintf("library/%s", r->path);
        free(r->path);
        r->path = p;
    }
    return path_is_valid(r->path);
}

struct reference *reference_parse(const char *s, struct isd_error **err)
{
    struct reference *r = xcalloc(1, sizeof(*r));
    cleanup_free char *rest = xstrdup(s != NULL ? s : "");
    if (rest[0] == '\0' || strlen(rest) > NAME_MAX_LEN + 200 || !split_tag_digest(rest, r) ||
        strlen(rest) > NAME_MAX_LEN || !split_domain(rest, r)) {
        reference_free(r);
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid reference format: `%s`", s != NULL ? s : "");
        return NULL;
    }
    return r;
}

char *reference_familiar_name(const struct reference *r)
{
    if (strcmp(r->domain, DEFAULT_DOMAIN) == 0) {
        if (str_has_prefix(r->path, "library/") && strchr(r->path + 8, '/') == NULL)
            return xstrdup(r->path + 8);
        return xstrdup(r->path);
    }
    return xasprintf("%s/%s", r->domain, r->path);
}

char *reference_full_name(const struct reference *r)
{
    return xasprintf("%s/%s", r->domain, r->path);
}

char *reference_familiar_string(const struct reference *r)
{
    cleanup_free char *name = reference_familiar_name(r);
    if (r->tag == NULL && r->digest != NULL)
        return xasprintf("%s@%s", name, r->digest);
    return xasprintf("%s:%s", name, r->tag != NULL ? r->tag : "latest");
}

char *reference_normalize(const char *s, struct isd_error **err)
{
    struct reference *r = reference_parse(s, err);
    char *out;
    if (r == NULL)
        return NULL;
    out = reference_familiar_string(r);
    reference_free(r);
    return out;
}
