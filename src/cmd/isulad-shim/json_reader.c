#include "cmd/isulad-shim/json_reader.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

struct cursor {
    const char *p, *end;
};

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hex4(const char *p, const char *end, unsigned *ret)
{
    unsigned v = 0;
    if (end - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char h = p[i];
        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f')
            v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
            v |= (unsigned)(h - 'A' + 10);
        else
            return -1;
    }
    *ret = v;
    return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* \uXXXX at c->p (after the backslash and 'u'), with a following low surrogate when it is a high one;
 * lone surrogates become U+FFFD, as Go's decoder does. */
static int unicode_escape(struct cursor *c, unsigned *ret)
{
    unsigned hi, lo;
    if (hex4(c->p, c->end, &hi) < 0)
        return -1;
    c->p += 4;
    *ret = hi;
    if (hi >= 0xdc00 && hi <= 0xdfff)
        *ret = 0xfffd;
    if (hi < 0xd800 || hi > 0xdbff)
        return 0;
    *ret = 0xfffd;
    if (c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u' && hex4(c->p + 2, c->end, &lo) == 0 && lo >= 0xdc00 &&
        lo <= 0xdfff) {
        *ret = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
        c->p += 6;
    }
    return 0;
}

static int escape(struct cursor *c, char *out, size_t *n)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k;
    unsigned cp;
    if (c->p >= c->end)
        return -1;
    if (*c->p == 'u') {
        c->p++;
        if (unicode_escape(c, &cp) < 0)
            return -1;
        if (out != NULL)
            *n += put_utf8(out + *n, cp);
        return 0;
    }
    k = strchr(from, *c->p);
    if (*c->p == '\0' || k == NULL)
        return -1;
    if (out != NULL)
        out[(*n)++] = to[k - from];
    c->p++;
    return 0;
}

/* A string at c->p (its opening quote); decoded into out (NULL: validate only; else as large as the text). */
static int string(struct cursor *c, char *out, size_t *ret_n)
{
    size_t n = 0;
    if (c->p >= c->end || *c->p != '"')
        return -1;
    for (c->p++; c->p < c->end;) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            if (out != NULL)
                out[n] = '\0';
            if (ret_n != NULL)
                *ret_n = n;
            return 0;
        }
        if (ch < 0x20)
            return -1;
        c->p++;
        if (ch == '\\') {
            if (escape(c, out, &n) < 0)
                return -1;
        } else if (out != NULL) {
            out[n++] = (char)ch;
        }
    }
    return -1;
}

static int literal(struct cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static size_t digits(struct cursor *c)
{
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return (size_t)(c->p - start);
}

/* JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct cursor *c)
{
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (digits(c) == 0)
        return -1;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (digits(c) == 0)
            return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (digits(c) == 0)
            return -1;
    }
    return 0;
}

static int value(struct cursor *c, int depth);

/* The members or elements of an object or array at c->p (its opening bracket). */
static int container(struct cursor *c, int depth, bool object)
{
    char close = object ? '}' : ']';
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close) {
        c->p++;
        return 0;
    }
    for (;;) {
        if (object) {
            skip_ws(c);
            if (string(c, NULL, NULL) < 0)
                return -1;
            skip_ws(c);
            if (c->p >= c->end || *c->p++ != ':')
                return -1;
        }
        if (value(c, depth + 1) < 0)
            return -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == close) {
            c->p++;
            return 0;
        }
        return -1;
    }
}

static int value(struct cursor *c, int depth)
{
    skip_ws(c);
    if (c->p >= c->end || depth > MAX_DEPTH)
        return -1;
    switch (*c->p) {
    case '{':
        return container(c, depth, true);
    case '[':
        return container(c, depth, false);
    case '"':
        return string(c, NULL, NULL);
    case 't':
        return literal(c, "true");
    case 'f':
        return literal(c, "false");
    case 'n':
        return literal(c, "null");
    default:
        return number(c);
    }
}

int shim_json_string_decode(const char *p, size_t len, char **ret, size_t *ret_used)
{
    struct cursor c = {p, p + len};
    char *out;
    if (string(&c, NULL, NULL) < 0)
        return -1;
    out = malloc(len + 1); /* decoding never grows the text */
    if (out == NULL)
        return -1;
    c.p = p;
    string(&c, out, NULL);
    *ret = out;
    if (ret_used != NULL)
        *ret_used = (size_t)(c.p - p);
    return 0;
}

/* Whether the key string at p (validated) spells key. */
static bool key_is(const char *p, size_t len, const char *key)
{
    char *k = NULL;
    bool same;
    if (shim_json_string_decode(p, len, &k, NULL) < 0)
        return false;
    same = strcmp(k, key) == 0;
    free(k);
    return same;
}

/* Walks the top-level members: returns the position of key's value (NULL when absent). */
static int find_member(struct cursor *c, const char *key, const char **ret_value)
{
    const char *k, *v;
    *ret_value = NULL;
    skip_ws(c);
    if (c->p >= c->end || *c->p != '{')
        return -1;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    for (;;) {
        skip_ws(c);
        k = c->p;
        if (string(c, NULL, NULL) < 0)
            return -1;
        skip_ws(c);
        if (c->p >= c->end || *c->p++ != ':')
            return -1;
        skip_ws(c);
        v = c->p;
        if (value(c, 1) < 0)
            return -1;
        if (key_is(k, (size_t)(c->end - k), key))
            *ret_value = v; /* the last one wins, as in Go */
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return 0;
        }
        return -1;
    }
}

int shim_json_object_string(const char *text, size_t len, const char *key, char **ret)
{
    struct cursor c = {text, text + len};
    const char *v;
    if (find_member(&c, key, &v) < 0)
        return -1;
    skip_ws(&c);
    if (c.p != c.end)
        return -1;
    if (v == NULL || *v != '"')
        return 0;
    return shim_json_string_decode(v, (size_t)(c.end - v), ret, NULL) < 0 ? -1 : 1;
}
