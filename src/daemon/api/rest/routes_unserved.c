/* Docker Engine API v1.41 endpoints isulad does not serve: they answer 501 naming the endpoint (a path that is
 * no Docker endpoint at all stays a 404 "page not found"). docs/api.md lists the same. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api/rest/routes.h"

/* Patterns: `*` is one path segment, a trailing `**` any rest (or none). */
static const struct {
    const char *method;
    const char *pattern;
} unserved[] = {
    {"GET", "/containers/*/attach/ws"},
    {"POST", "/build"},
    {"POST", "/build/prune"},
    {"GET", "/images/search"},
    {"POST", "/images/**/push"},
    {"GET", "/distribution/**"},
    {"POST", "/session"},
    {"*", "/swarm/**"},
    {"*", "/swarm"},
    {"*", "/nodes/**"},
    {"*", "/nodes"},
    {"*", "/services/**"},
    {"*", "/services"},
    {"*", "/tasks/**"},
    {"*", "/tasks"},
    {"*", "/secrets/**"},
    {"*", "/secrets"},
    {"*", "/configs/**"},
    {"*", "/configs"},
    {"*", "/plugins/**"},
    {"*", "/plugins"},
};

static bool segments_match(const char *pat, const char *path)
{
    while (*pat == '/' && *path == '/') {
        const char *pe = strchrnul(pat + 1, '/'), *se = strchrnul(path + 1, '/');
        size_t pl = (size_t)(pe - pat - 1), sl = (size_t)(se - path - 1);
        if (pl == 2 && strncmp(pat + 1, "**", 2) == 0) {
            if (*pe == '\0')
                return true;
            /* `**` then a suffix: the suffix must end the path */
            size_t tail = strlen(pe), n = strlen(path);
            return n > tail && strcmp(path + n - tail, pe) == 0;
        }
        if (sl == 0 || !((pl == 1 && pat[1] == '*') || (pl == sl && strncmp(pat + 1, path + 1, pl) == 0)))
            return false;
        pat = pe;
        path = se;
    }
    return *pat == '\0' && *path == '\0';
}

bool routes_is_unserved(const char *method, const char *path)
{
    for (size_t i = 0; i < ARRAY_SIZE(unserved); i++) {
        if ((streq(unserved[i].method, "*") || streq(unserved[i].method, method)) &&
            segments_match(unserved[i].pattern, path))
            return true;
    }
    return false;
}
