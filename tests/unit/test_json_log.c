/* The json-file log reader (runtime/json_log.h): rotated files in order, stream and time filters, tail,
 * stdcopy framing and the raw tty form. */
#include "harness.h"

#include <fcntl.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/runtime/json_log.h"
#include "daemon/runtime/json_log_line.h"

#include <jansson.h>
#include <stdlib.h>

#define LINE(text, stream, time) "{\"log\":\"" text "\\n\",\"stream\":\"" stream "\",\"time\":\"" time "\"}\n"

static void write_logs(void)
{
    FILE *f = fopen("c-json.log.1", "w");
    fputs(LINE("one", "stdout", "2024-01-01T00:00:01.000000000Z"), f);
    fputs(LINE("two", "stderr", "2024-01-01T00:00:02.000000000Z"), f);
    fclose(f);
    f = fopen("c-json.log", "w");
    fputs(LINE("three", "stdout", "2024-01-01T00:00:03.000000000Z"), f);
    fputs("{\"log\":\"partial", f); /* a line still being written is not read */
    fclose(f);
}

static bool never(void *ctx)
{
    (void)ctx;
    return false;
}

/* Runs the reader into a file and returns what it wrote (length in *ret_n). */
static char *copy(const struct json_log_opts *o, size_t *ret_n)
{
    int fd = open("out", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    char *text;
    json_log_copy("c-json.log", o, fd, never, NULL);
    close(fd);
    text = read_file("out", 1 << 20, ret_n, NULL);
    return text;
}

TEST(raw_with_tty_in_order_across_rotation)
{
    struct json_log_opts o = {.out = true, .err = true, .tty = true, .tail = -1};
    cleanup_free char *text = NULL;
    size_t n;
    write_logs();
    text = copy(&o, &n);
    ASSERT_STR_EQ(text, "one\ntwo\nthree\n");
}

TEST(tail_and_stream_filters)
{
    struct json_log_opts o = {.out = true, .err = true, .tty = true, .tail = 2};
    cleanup_free char *a = NULL;
    cleanup_free char *b = NULL;
    cleanup_free char *c = NULL;
    size_t n;
    write_logs();
    a = copy(&o, &n);
    ASSERT_STR_EQ(a, "two\nthree\n");
    o.tail = -1;
    o.err = false;
    b = copy(&o, &n);
    ASSERT_STR_EQ(b, "one\nthree\n");
    o.err = true;
    o.since_ns = 2000000000LL + 1704067200LL * 1000000000LL; /* 2024-01-01T00:00:02Z */
    c = copy(&o, &n);
    ASSERT_STR_EQ(c, "two\nthree\n");
}

TEST(stdcopy_frames_without_tty)
{
    struct json_log_opts o = {.out = true, .err = true, .tail = 1};
    cleanup_free char *text = NULL;
    size_t n = 0;
    write_logs();
    text = copy(&o, &n);
    ASSERT_INT_EQ(n, 8 + 6);
    ASSERT_INT_EQ(text[0], 1); /* stdout */
    ASSERT_INT_EQ(text[7], 6); /* big-endian length */
    ASSERT_TRUE(memcmp(text + 8, "three\n", 6) == 0);
}

/* The text of a line as jansson decodes it (NUL allowed, as the shim writes \u0000); NULL when it refuses. */
static char *jansson_text(const char *line, size_t *ret_len)
{
    json_t *j = json_loadb(line, strlen(line), JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, NULL);
    json_t *t = json_object_get(j, "log");
    char *out = NULL;
    if (json_is_string(t)) {
        *ret_len = json_string_length(t);
        out = malloc(*ret_len + 1);
        memcpy(out, json_string_value(t), *ret_len + 1);
    }
    json_decref(j);
    return out;
}

/* The fast decoder's text, NULL when it refuses the line. */
static char *fast_text(const char *line, size_t *ret_len)
{
    struct json_log_line l;
    char *out;
    if (!json_log_line_split(line, strlen(line), &l))
        return NULL;
    out = malloc(l.log_len + 1);
    *ret_len = json_log_line_text(&l, out);
    return out;
}

TEST(line_split_shapes)
{
    struct json_log_line l;
    const char *ok = "{\"log\":\"a\\\"b\\n\",\"stream\":\"stderr\",\"time\":\"2024-01-01T00:00:01.5Z\"}";
    static const char *const refused[] = {
        "{\"stream\":\"stdout\",\"log\":\"x\",\"time\":\"t\"}",              /* another order */
        "{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"t\",\"attrs\":{}}", /* another member */
        "{\"log\": \"x\",\"stream\":\"stdout\",\"time\":\"t\"}",             /* white space */
        "{\"log\":\"x\",\"stream\":\"other\",\"time\":\"t\"}",               /* another stream */
        "{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"t\"} ",             /* trailing bytes */
        "{\"log\":\"x\\q\",\"stream\":\"stdout\",\"time\":\"t\"}",           /* bad escape */
        "{\"log\":\"\\ud800\",\"stream\":\"stdout\",\"time\":\"t\"}",        /* lone high surrogate */
        "{\"log\":\"\\udc00\",\"stream\":\"stdout\",\"time\":\"t\"}",        /* lone low surrogate */
        "{\"log\":\"\\u12\",\"stream\":\"stdout\",\"time\":\"t\"}",          /* short \u */
        "{\"log\":\"a\tb\",\"stream\":\"stdout\",\"time\":\"t\"}",           /* raw control character */
        "{\"log\":\"\xff\",\"stream\":\"stdout\",\"time\":\"t\"}",           /* not UTF-8 */
        "{\"log\":\"\xc0\xaf\",\"stream\":\"stdout\",\"time\":\"t\"}",       /* overlong */
        "{\"log\":\"\xed\xa0\x80\",\"stream\":\"stdout\",\"time\":\"t\"}",   /* an encoded surrogate */
        "{\"log\":\"x\",\"stream\":\"stdout\",\"time\":\"t\\\"\"}",          /* escape in the time */
        "{\"log\":\"unterminated,\"stream\":\"stdout\",\"time\":\"t\"}",
    };
    ASSERT_TRUE(json_log_line_split(ok, strlen(ok), &l));
    ASSERT_INT_EQ(l.stream, 2);
    ASSERT_INT_EQ(l.time_len, strlen("2024-01-01T00:00:01.5Z"));
    ASSERT_TRUE(memcmp(l.time, "2024-01-01T00:00:01.5Z", l.time_len) == 0);
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        ASSERT_TRUE(!json_log_line_split(refused[i], strlen(refused[i]), &l));
}

/* Random string bodies made of escapes, UTF-8 sequences (valid and not) and plain bytes: wherever the fast
 * decoder accepts a line, jansson decodes the same bytes, and it refuses every line jansson refuses. */
TEST(line_text_decodes_as_jansson)
{
    static const char *const parts[] = {"a",
                                        "Z",
                                        " ",
                                        "\\n",
                                        "\\t",
                                        "\\\"",
                                        "\\\\",
                                        "\\/",
                                        "\\b",
                                        "\\f",
                                        "\\r",
                                        "\\u0000",
                                        "\\u0001",
                                        "\\u00e9",
                                        "\\u20AC",
                                        "\\uffff",
                                        "\\ud83d\\ude00",
                                        "\\ud83d",
                                        "\\ude00",
                                        "\\u12G4",
                                        "\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80",
                                        "\xff",
                                        "\xc3",
                                        "\xe0\x80\x80",
                                        "\xf4\x90\x80\x80",
                                        "\x01",
                                        "\\x",
                                        "\""};
    const size_t np = sizeof(parts) / sizeof(parts[0]);
    size_t accepted = 0;
    srand(13);
    for (int round = 0; round < 20000; round++) {
        char line[512] = "{\"log\":\"";
        int k = rand() % 8;
        size_t fl = 0, jl = 0;
        for (int i = 0; i < k; i++)
            strcat(line, parts[(size_t)rand() % np]);
        strcat(line, "\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:00Z\"}");
        char *f = fast_text(line, &fl), *j = jansson_text(line, &jl);
        if (f != NULL) {
            accepted++;
            ASSERT_TRUE(j != NULL);
            ASSERT_INT_EQ(fl, jl);
            ASSERT_TRUE(memcmp(f, j, fl) == 0);
        } else {
            ASSERT_TRUE(j == NULL);
        }
        free(f);
        free(j);
    }
    ASSERT_TRUE(accepted > 1000);
}

/* A NUL byte (the shim writes \u0000) and a line of another writer's shape both reach the output. */
TEST(nul_bytes_and_other_shapes_are_read)
{
    struct json_log_opts o = {.out = true, .err = true, .tty = true, .tail = -1};
    cleanup_free char *text = NULL;
    size_t n = 0;
    FILE *f = fopen("c-json.log", "w");
    fputs("{\"log\":\"a\\u0000b\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:01Z\"}\n", f);
    fputs("{\"stream\":\"stdout\",\"log\":\"other order\\n\",\"time\":\"2024-01-01T00:00:02Z\"}\n", f);
    fputs("not json\n", f);
    fclose(f);
    text = copy(&o, &n);
    ASSERT_INT_EQ(n, 4 + 12);
    ASSERT_TRUE(memcmp(text, "a\0b\nother order\n", 16) == 0);
    o.tail = 2;
    free(text);
    text = copy(&o, &n);
    ASSERT_INT_EQ(n, 4 + 12);
    ASSERT_TRUE(memcmp(text, "a\0b\nother order\n", 16) == 0);
}

RUN_TESTS()
