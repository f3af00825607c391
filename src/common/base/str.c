#include "common/base/str.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "common/base/xalloc.h"

char *random_hex(size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[128];
    char *s = xmalloc(n + 1);
    size_t want = (n + 1) / 2;
    if (want > sizeof(raw))
        want = sizeof(raw);
    if (getrandom(raw, want, 0) != (ssize_t)want) {
        for (size_t i = 0; i < want; i++)
            raw[i] = (unsigned char)rand();
    }
    for (size_t i = 0; i < n; i++)
        s[i] = hex[(raw[i / 2] >> ((i % 2) ? 0 : 4)) & 0xf];
    s[n] = '\0';
    return s;
}

int parse_int64(const char *s, long long *ret)
{
    char *end = NULL;
    long long v;
    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *ret = v;
    return 0;
}
