/*
 * JSON string encoding for the shim's log and sync lines (it links no JSON library), the UTF-8 rules it
 * needs, and its monotonic clock. Not thread-safe (the shim has one thread).
 */
#include <string.h>
#include <time.h>

#include "cmd/isulad-shim/shim.h"

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

void shim_json_string(struct buf *b, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    buf_append(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t start = i;
        while (i < n && s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' && s[i] != '\\')
            i++;
        buf_append(b, s + start, i - start);
        if (i >= n)
            break;
        c = s[i];
        if (c >= 0x80) {
            size_t len = utf8_seq_len(s + i, n - i);
            if (len == 0) {
                buf_appends(b, "\\ufffd");
                i++;
            } else {
                buf_append(b, s + i, len);
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
        buf_appends(b, e);
        i++;
    }
    buf_append(b, "\"", 1);
}

long long shim_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
