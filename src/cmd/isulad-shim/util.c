/*
 * Small libc-only helpers of the shim: allocation that aborts on OOM, a growable byte buffer,
 * JSON string encoding, RFC 3339 time stamps and atomic file writes. Not thread-safe (the shim
 * has one thread).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/isulad-shim/shim.h"

void *shim_xrealloc(void *p, size_t n)
{
    void *r = realloc(p, n ? n : 1);
    if (r == NULL)
        abort();
    return r;
}

char *shim_xstrdup(const char *s)
{
    char *r = strdup(s);
    if (r == NULL)
        abort();
    return r;
}

char *shim_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *r = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&r, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    return r;
}

static void sbuf_reserve(struct sbuf *b, size_t n)
{
    if (b->off > 0 && (b->off >= b->len / 2 || b->len + n > b->cap)) {
        memmove(b->data, b->data + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap *= 2;
    b->data = shim_xrealloc(b->data, cap);
    b->cap = cap;
}

void sbuf_append(struct sbuf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    sbuf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void sbuf_appends(struct sbuf *b, const char *s)
{
    sbuf_append(b, s, strlen(s));
}

size_t sbuf_size(const struct sbuf *b)
{
    return b->len - b->off;
}

const char *sbuf_head(const struct sbuf *b)
{
    return b->data + b->off;
}

void sbuf_consume(struct sbuf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len) {
        b->off = 0;
        b->len = 0;
    }
}

void sbuf_free(struct sbuf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0 when invalid or truncated. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned min;
    unsigned cp;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        len = 2, min = 0x80, cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, min = 0x800, cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, min = 0x10000, cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

size_t shim_utf8_incomplete_tail(const char *data, size_t n)
{
    const unsigned char *s = (const unsigned char *)data;
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = s[n - back];
        if ((c & 0xc0) == 0x80)
            continue; /* continuation byte: keep looking for the lead byte */
        size_t need = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        return need > back ? back : 0;
    }
    return 0;
}

void shim_json_string(struct sbuf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    sbuf_append(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t start = i;
        while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
            i++;
        sbuf_append(b, s + start, i - start);
        if (i >= n)
            break;
        c = s[i];
        if (c >= 0x80) {
            size_t len = utf8_seq_len(s + i, n - i);
            if (len == 0) {
                sbuf_appends(b, "\\ufffd");
                i++;
            } else {
                sbuf_append(b, s + i, len);
                i += len;
            }
            continue;
        }
        char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
        const char *e = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                        : c == '\b' ? "\\b"
                        : c == '\f' ? "\\f"
                                    : esc;
        sbuf_appends(b, e);
        i++;
    }
    sbuf_append(b, "\"", 1);
}

void shim_time_now(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;
    char base[32];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%09ldZ", base, (long)ts.tv_nsec);
}

long long shim_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int shim_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Temp file and rename, so readers never see half a file. No fsync: these files live in the state dir
 * (a tmpfs under /var/run normally), which a reboot empties anyway; a crash of isulad loses no page. */
int shim_write_atomic(const char *path, const char *data, size_t len)
{
    char *tmp = shim_xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ret = -1;
    if (fd < 0)
        goto out;
    if (shim_write_all(fd, data, len) < 0) {
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        unlink(tmp);
        goto out;
    }
    ret = 0;
out:
    free(tmp);
    return ret;
}
