/*
 * Unit tests of the shim's libc-only helpers: JSON string escaping, UTF-8 handling and the json-file
 * log writer with rotation (the byte buffer and time stamps it shares with common/: test_base.c). The shim is an
 * executable, so its sources are included here directly.
 */
#include "harness.h"

#include <sys/stat.h>

#include "cmd/isulad-shim/logfile.c"
#include "cmd/isulad-shim/util.c"

static char *escape(const char *s, size_t n)
{
    struct buf b = {0};
    shim_json_string(&b, s, n);
    return buf_steal(&b);
}

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    return buf;
}

static int count_lines(const char *path)
{
    int n = 0;
    for (const char *p = slurp(path); *p; p++)
        n += *p == '\n';
    return n;
}

TEST(json_escapes_specials)
{
    char *s = escape("a\"b\\c\n\t\x01/", 9);
    ASSERT_STR_EQ(s, "\"a\\\"b\\\\c\\n\\t\\u0001/\"");
    free(s);
}

TEST(json_keeps_utf8_replaces_invalid)
{
    char *s = escape("\xc3\xa9x\xff\xe2\x82", 6);
    ASSERT_STR_EQ(s, "\"\xc3\xa9x\\ufffd\\ufffd\\ufffd\"");
    free(s);
    s = escape("\xed\xa0\x80", 3); /* a surrogate is not valid UTF-8 */
    ASSERT_STR_EQ(s, "\"\\ufffd\\ufffd\\ufffd\"");
    free(s);
}

TEST(utf8_incomplete_tail)
{
    ASSERT_INT_EQ(shim_utf8_incomplete_tail("ab", 2), 0);
    ASSERT_INT_EQ(shim_utf8_incomplete_tail("a\xe2\x82", 3), 2);
    ASSERT_INT_EQ(shim_utf8_incomplete_tail("a\xe2\x82\xac", 4), 0);
    ASSERT_INT_EQ(shim_utf8_incomplete_tail("\xf0", 1), 1);
}

/* A line read in pieces is one entry (docker's json-file does not split short lines); what has no newline at
 * the end is written at close. */
TEST(log_splits_lines_and_holds_partial_lines)
{
    struct shim_log l;
    ASSERT_INT_EQ(shim_log_open(&l, "c.log", 0, 1), 0);
    shim_log_write(&l, SHIM_FRAME_STDOUT, "a\nb", 3);
    shim_log_write(&l, SHIM_FRAME_STDERR, "x\xe2\x82", 3);
    shim_log_write(&l, SHIM_FRAME_STDERR, "\xac\n", 2);
    shim_log_write(&l, SHIM_FRAME_STDOUT, "18", 2);
    shim_log_write(&l, SHIM_FRAME_STDOUT, "91", 2);
    shim_log_write(&l, SHIM_FRAME_STDOUT, "8\nend", 5);
    shim_log_close(&l);
    const char *s = slurp("c.log");
    ASSERT_TRUE(strstr(s, "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"") == s);
    ASSERT_TRUE(strstr(s, "{\"log\":\"x\xe2\x82\xac\\n\",\"stream\":\"stderr\"") != NULL);
    ASSERT_TRUE(strstr(s, "{\"log\":\"b18918\\n\",\"stream\":\"stdout\"") != NULL);
    ASSERT_TRUE(strstr(s, "{\"log\":\"end\",\"stream\":\"stdout\"") != NULL);
    ASSERT_INT_EQ(count_lines("c.log"), 4);
    struct stat st;
    ASSERT_INT_EQ(stat("c.log", &st), 0);
    ASSERT_INT_EQ(st.st_mode & 0777, 0600);
}

/* A line longer than the hold (16 KiB) is written as partial entries, never cutting a UTF-8 character. */
TEST(log_long_line_partial_entries_keep_utf8)
{
    struct shim_log l;
    char piece[4096];
    memset(piece, 'y', sizeof(piece));
    piece[sizeof(piece) - 2] = '\xe2'; /* a 3-byte character cut after its second byte */
    piece[sizeof(piece) - 1] = '\x82';
    ASSERT_INT_EQ(shim_log_open(&l, "p.log", 0, 1), 0);
    for (int i = 0; i < 3; i++) {
        shim_log_write(&l, SHIM_FRAME_STDOUT, piece, sizeof(piece) - 2);
        shim_log_write(&l, SHIM_FRAME_STDOUT, "\xe2\x82\xac", 3);
    }
    ASSERT_INT_EQ(count_lines("p.log"), 0); /* 12291 bytes without a newline: held */
    shim_log_write(&l, SHIM_FRAME_STDOUT, piece, sizeof(piece));
    ASSERT_INT_EQ(count_lines("p.log"), 1); /* past 16 KiB: written, the cut character held back */
    shim_log_write(&l, SHIM_FRAME_STDOUT, "\xac\n", 2);
    shim_log_close(&l);
    const char *s = slurp("p.log");
    ASSERT_INT_EQ(count_lines("p.log"), 2);
    ASSERT_TRUE(strstr(s, "y\",\"stream\":\"stdout\"") != NULL);
    ASSERT_TRUE(strstr(s, "{\"log\":\"\xe2\x82\xac\\n\",\"stream\":\"stdout\"") != NULL);
    ASSERT_TRUE(strstr(s, "\\ufffd") == NULL);
}

TEST(log_rotation_keeps_max_files)
{
    struct shim_log l;
    ASSERT_INT_EQ(shim_log_open(&l, "r.log", 300, 3), 0);
    for (int i = 0; i < 40; i++)
        shim_log_write(&l, SHIM_FRAME_STDOUT, "some line of text\n", 18);
    shim_log_close(&l);
    ASSERT_TRUE(access("r.log", F_OK) == 0);
    ASSERT_TRUE(access("r.log.1", F_OK) == 0);
    ASSERT_TRUE(access("r.log.2", F_OK) == 0);
    ASSERT_TRUE(access("r.log.3", F_OK) != 0);
    ASSERT_INT_EQ(count_lines("r.log.1"), 4); /* 4 entries of ~80 bytes reach 300 */
}

TEST(log_rotation_single_file_truncates)
{
    struct shim_log l;
    ASSERT_INT_EQ(shim_log_open(&l, "t.log", 300, 1), 0);
    for (int i = 0; i < 40; i++)
        shim_log_write(&l, SHIM_FRAME_STDOUT, "some line of text\n", 18);
    shim_log_close(&l);
    ASSERT_TRUE(access("t.log.1", F_OK) != 0);
    ASSERT_TRUE(count_lines("t.log") <= 4);
}

RUN_TESTS()
