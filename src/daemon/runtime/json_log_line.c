/* The shim's json-file lines split and decoded by hand; see json_log_line.h. */
#include "daemon/runtime/json_log_line.h"

#include <string.h>

static int hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid: no overlong form, no
 * surrogate, nothing above U+10FFFF (what jansson accepts). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned cp;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2, cp = s[0] & 0x1F;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3, cp = s[0] & 0x0F;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return len;
}

/* The byte of a one-letter escape (\n ...), -1 for any other letter. */
static int simple_escape(char c)
{
    switch (c) {
    case '"':
    case '\\':
    case '/':
        return c;
    case 'b':
        return '\b';
    case 'f':
        return '\f';
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return -1;
    }
}

/* One escape at p (after the backslash, end e): the bytes it takes, 0 when invalid. A \u high surrogate must
 * be followed by a \u low one, and a low one never stands alone. */
static size_t escape_len(const char *p, const char *e)
{
    int v, lo;
    if (p >= e)
        return 0;
    if (simple_escape(*p) >= 0)
        return 1;
    if (*p != 'u' || e - p < 5 || (v = hex4(p + 1)) < 0)
        return 0;
    if (v >= 0xDC00 && v <= 0xDFFF)
        return 0;
    if (v < 0xD800 || v > 0xDBFF)
        return 5;
    if (e - p < 11 || p[5] != '\\' || p[6] != 'u' || (lo = hex4(p + 7)) < 0 || lo < 0xDC00 || lo > 0xDFFF)
        return 0;
    return 11;
}

/* The end of the JSON string body starting at p (just after its opening quote), at its closing quote; NULL
 * when the string is not valid or not closed before e. */
static const char *string_end(const char *p, const char *e)
{
    while (p < e) {
        unsigned char c = (unsigned char)*p;
        size_t k;
        if (c == '"')
            return p;
        if (c < 0x20)
            return NULL;
        if (c == '\\') {
            if ((k = escape_len(p + 1, e)) == 0)
                return NULL;
            p += 1 + k;
        } else if (c >= 0x80) {
            if ((k = utf8_len((const unsigned char *)p, (size_t)(e - p))) == 0)
                return NULL;
            p += k;
        } else {
            p++;
        }
    }
    return NULL;
}

static bool skip(const char **p, const char *e, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(e - *p) < n || memcmp(*p, lit, n) != 0)
        return false;
    *p += n;
    return true;
}

bool json_log_line_split(const char *line, size_t n, struct json_log_line *ret)
{
    const char *p = line, *e = line + n, *end;
    struct json_log_line l;
    if (!skip(&p, e, "{\"log\":\"") || (end = string_end(p, e)) == NULL)
        return false;
    l.log = p;
    l.log_len = (size_t)(end - p);
    p = end + 1;
    if (skip(&p, e, ",\"stream\":\"stdout\""))
        l.stream = 1;
    else if (skip(&p, e, ",\"stream\":\"stderr\""))
        l.stream = 2;
    else
        return false;
    if (!skip(&p, e, ",\"time\":\"") || (end = memchr(p, '"', (size_t)(e - p))) == NULL)
        return false;
    l.time = p;
    l.time_len = (size_t)(end - p);
    for (const char *t = l.time; t < end; t++)
        if (*t == '\\' || (unsigned char)*t < 0x20 || (unsigned char)*t >= 0x80)
            return false;
    p = end + 1;
    if (!skip(&p, e, "}") || p != e)
        return false;
    *ret = l;
    return true;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The escape at p (after the backslash; validated by the split) into d; *ret_d the bytes written. */
static size_t unescape_one(const char *p, char *d, size_t *ret_d)
{
    int c = simple_escape(*p);
    unsigned cp;
    if (c >= 0) {
        d[0] = (char)c;
        *ret_d = 1;
        return 1;
    }
    cp = (unsigned)hex4(p + 1);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)hex4(p + 7) - 0xDC00);
        *ret_d = put_utf8(d, cp);
        return 11;
    }
    *ret_d = put_utf8(d, cp);
    return 5;
}

size_t json_log_line_text(const struct json_log_line *l, char *dst)
{
    const char *p = l->log, *e = l->log + l->log_len;
    char *d = dst;
    while (p < e) {
        const char *bs = memchr(p, '\\', (size_t)(e - p));
        size_t run = (size_t)((bs != NULL ? bs : e) - p), w;
        memcpy(d, p, run);
        d += run;
        p += run;
        if (p < e) {
            p += 1 + unescape_one(p + 1, d, &w);
            d += w;
        }
    }
    return (size_t)(d - dst);
}
