/* The json-file log reader (runtime/json_log.h): rotated files in order, stream and time filters, tail,
 * stdcopy framing and the raw tty form. */
#include "harness.h"

#include <fcntl.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/runtime/json_log.h"

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

RUN_TESTS()
