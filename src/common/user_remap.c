/* "<uid>:<gid>:<offset>" user namespace mappings (user_remap.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/user_remap.h"
#include "common/util.h"

#define ID_LIMIT 4294967295ULL /* 2^32 - 1 */
#define OFFSET_LIMIT 65536ULL

static bool parse_u64(const char *s, size_t n, unsigned long long *ret)
{
    unsigned long long v = 0;
    if (n == 0 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long long)(s[i] - '0');
    }
    *ret = v;
    return true;
}

static int invalid(struct isd_error **err, const char *s, const char *why)
{
    return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid user remap `%s`: %s", s, why);
}

static int parse_limited(const char *s, unsigned long long size_limit, struct user_remap *ret, struct isd_error **err)
{
    const char *c1, *c2;
    struct user_remap m = {0, 0, 0};

    *ret = m;
    if (s == NULL || s[0] == '\0')
        return 0;
    c1 = strchr(s, ':');
    c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL || strchr(c2 + 1, ':') != NULL)
        return invalid(err, s, "want <uid>:<gid>:<offset>");
    if (!parse_u64(s, (size_t)(c1 - s), &m.uid) || !parse_u64(c1 + 1, (size_t)(c2 - c1 - 1), &m.gid) ||
        !parse_u64(c2 + 1, strlen(c2 + 1), &m.size))
        return invalid(err, s, "uid, gid and offset must be integers >= 0");
    if (m.size == 0 || m.size >= size_limit)
        return size_limit == OFFSET_LIMIT ? invalid(err, s, "offset must be greater than 0 and less than 65536")
                                          : invalid(err, s, "offset must be greater than 0");
    if (m.uid + m.size > ID_LIMIT || m.gid + m.size > ID_LIMIT)
        return invalid(err, s, "uid + offset and gid + offset must not exceed 2^32-1");
    if (m.uid == 0 || m.gid == 0)
        m.size = 0; /* the guide: a uid or gid of 0 leaves the container unmapped */
    *ret = m;
    return 0;
}

int user_remap_parse(const char *s, struct user_remap *ret, struct isd_error **err)
{
    return parse_limited(s, OFFSET_LIMIT, ret, err);
}

int user_remap_parse_wide(const char *s, struct user_remap *ret, struct isd_error **err)
{
    return parse_limited(s, ID_LIMIT, ret, err);
}
