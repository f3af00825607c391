#include "common/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <ctype.h>
#include <pthread.h>

void cleanup_strvp(char ***v)
{
    strv_free(*v);
}

bool str_has_suffix(const char *s, const char *suffix)
{
    size_t ls, lx;
    if (s == NULL || suffix == NULL)
        return false;
    ls = strlen(s);
    lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

size_t strv_len(char *const *v)
{
    size_t n = 0;
    while (v != NULL && v[n] != NULL)
        n++;
    return n;
}

void strv_free(char **v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

char **strv_dup(char *const *v)
{
    size_t n = strv_len(v);
    char **r = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        r[i] = xstrdup(v[i]);
    return r;
}

void strv_append(char ***v, const char *s)
{
    size_t n = strv_len(*v);
    *v = xrealloc(*v, (n + 2) * sizeof(char *));
    (*v)[n] = xstrdup(s);
    (*v)[n + 1] = NULL;
}

bool strv_contains(char *const *v, const char *s)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        if (strcmp(v[i], s) == 0)
            return true;
    return false;
}

char *strv_join(char *const *v, const char *sep)
{
    struct buf b = {0};
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        if (i > 0)
            buf_append(&b, sep, strlen(sep));
        buf_append(&b, v[i], strlen(v[i]));
    }
    return buf_steal(&b);
}

int time_parse_rfc3339(const char *s, long long *ret_ns)
{
    struct tm tm = {0};
    const char *p;
    long long frac = 0;
    int digits = 0;
    long off = 0;
    time_t secs;

    if (s == NULL)
        return -1;
    p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (p == NULL)
        return -1;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (digits < 9) {
                frac = frac * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        while (digits < 9) {
            frac *= 10;
            digits++;
        }
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int hh, mm;
        if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
            return -1;
        off = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p != '\0')
        return -1;
    secs = timegm(&tm) - off;
    *ret_ns = (long long)secs * 1000000000LL + frac;
    return 0;
}

int parse_size(const char *s, long long *ret)
{
    char *end = NULL;
    double v;
    long long mult = 1;
    if (s == NULL || *s == '\0' || *s == '-')
        return -1;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s)
        return -1;
    switch (tolower((unsigned char)*end)) {
    case '\0':
        break;
    case 'b':
        end++;
        break;
    case 'k':
        mult = 1024LL;
        end++;
        break;
    case 'm':
        mult = 1024LL * 1024;
        end++;
        break;
    case 'g':
        mult = 1024LL * 1024 * 1024;
        end++;
        break;
    case 't':
        mult = 1024LL * 1024 * 1024 * 1024;
        end++;
        break;
    default:
        return -1;
    }
    if (mult > 1 && (*end == 'b' || *end == 'B'))
        end++;
    if (mult > 1 && (*end == 'i' || *end == 'I')) {
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
    }
    if (*end != '\0' || v < 0 || v * (double)mult > 9.0e18)
        return -1;
    *ret = (long long)(v * (double)mult);
    return 0;
}

int parse_duration_ns(const char *s, long long *ret)
{
    long long total = 0;
    const char *p = s;
    if (s == NULL || *s == '\0')
        return -1;
    if (strcmp(s, "0") == 0) {
        *ret = 0;
        return 0;
    }
    while (*p != '\0') {
        char *end = NULL;
        double v;
        long long unit;
        errno = 0;
        v = strtod(p, &end);
        if (errno != 0 || end == p || v < 0)
            return -1;
        p = end;
        if (strncmp(p, "ns", 2) == 0) {
            unit = 1;
            p += 2;
        } else if (strncmp(p, "us", 2) == 0) {
            unit = 1000;
            p += 2;
        } else if (strncmp(p, "ms", 2) == 0) {
            unit = 1000000;
            p += 2;
        } else if (*p == 's') {
            unit = 1000000000LL;
            p++;
        } else if (*p == 'm') {
            unit = 60LL * 1000000000LL;
            p++;
        } else if (*p == 'h') {
            unit = 3600LL * 1000000000LL;
            p++;
        } else {
            return -1;
        }
        total += (long long)(v * (double)unit);
    }
    *ret = total;
    return 0;
}

char *human_duration(long long s)
{
    long long m = s / 60, h = (long long)((double)s / 3600.0 + 0.5);
    if (s < 1)
        return xstrdup("Less than a second");
    if (s == 1)
        return xstrdup("1 second");
    if (s < 60)
        return xasprintf("%lld seconds", s);
    if (m == 1)
        return xstrdup("About a minute");
    if (m < 60)
        return xasprintf("%lld minutes", m);
    if (h == 1)
        return xstrdup("About an hour");
    if (h < 48)
        return xasprintf("%lld hours", h);
    if (h < 24 * 7 * 2)
        return xasprintf("%lld days", h / 24);
    if (h < 24 * 30 * 2)
        return xasprintf("%lld weeks", h / 24 / 7);
    if (h < 24 * 365 * 2)
        return xasprintf("%lld months", h / 24 / 30);
    return xasprintf("%lld years", h / 24 / 365);
}

void thread_lower_priority(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);
}

int thread_start_detached(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t t;
    int r;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    r = pthread_create(&t, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return r == 0 ? 0 : -1;
}
