#include "common/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <ctype.h>
#include <pthread.h>

static void oom(void)
{
    fputs("out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *xrealloc(void *old, size_t size)
{
    void *p = realloc(old, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    char *p;
    if (s == NULL)
        return NULL;
    p = strdup(s);
    if (p == NULL)
        oom();
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (p == NULL)
        oom();
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    char *p = NULL;
    if (vasprintf(&p, fmt, ap) < 0)
        oom();
    return p;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    va_start(ap, fmt);
    p = xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

void cleanup_freep(void *p)
{
    free(*(void **)p);
}

void cleanup_closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}

void cleanup_fclosep(FILE **f)
{
    if (*f != NULL)
        fclose(*f);
}

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

void buf_append(struct buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = xvasprintf(fmt, ap);
    va_end(ap);
    buf_append(b, s, strlen(s));
    free(s);
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *buf_steal(struct buf *b)
{
    char *s;
    if (b->data == NULL)
        return xstrdup("");
    s = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return s;
}

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

long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *time_rfc3339_nano(long long ns)
{
    struct tm tm;
    time_t secs = (time_t)(ns / 1000000000LL);
    long frac = (long)(ns % 1000000000LL);
    char date[64];
    gmtime_r(&secs, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%09ldZ", date, frac);
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
