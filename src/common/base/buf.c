#include "common/base/buf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/xalloc.h"

/* Room for n more bytes and the NUL; consumed space is reclaimed first when that avoids growing, or when
 * it is at least half of what is held (so a queue does not creep forward forever). */
static void buf_reserve(struct buf *b, size_t n)
{
    size_t cap;
    if (b->off > 0 && (b->off >= b->len / 2 || b->len + n + 1 > b->cap)) {
        memmove(b->data, b->data + b->off, b->len - b->off + 1);
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n + 1 <= b->cap)
        return;
    cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

char *buf_append_space(struct buf *b, size_t n)
{
    buf_reserve(b, n);
    return b->data + b->len;
}

void buf_append_done(struct buf *b, size_t k)
{
    b->len += k;
    b->data[b->len] = '\0';
}

void buf_appends(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s));
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

size_t buf_size(const struct buf *b)
{
    return b->len - b->off;
}

const char *buf_head(const struct buf *b)
{
    return b->data != NULL ? b->data + b->off : "";
}

void buf_consume(struct buf *b, size_t n)
{
    b->off += n;
    if (b->off >= b->len) {
        b->off = 0;
        b->len = 0;
        if (b->data != NULL)
            b->data[0] = '\0';
    }
}

void buf_free(struct buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

char *buf_steal(struct buf *b)
{
    char *s;
    if (b->data == NULL)
        return xstrdup("");
    if (b->off > 0)
        memmove(b->data, b->data + b->off, b->len - b->off + 1);
    s = b->data;
    memset(b, 0, sizeof(*b));
    return s;
}
