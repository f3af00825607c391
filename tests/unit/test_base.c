/* Unit tests of common/base/, the libc-only helpers the daemon and the shim share. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/base/buf.h"
#include "common/base/io.h"
#include "common/base/str.h"
#include "common/base/timestamp.h"
#include "common/base/xalloc.h"

TEST(buf_consume_and_compact)
{
    struct buf b = {0};
    for (int i = 0; i < 1000; i++)
        buf_append(&b, "0123456789", 10);
    buf_consume(&b, 9995);
    ASSERT_INT_EQ(buf_size(&b), 5);
    buf_append(&b, "xy", 2);
    ASSERT_TRUE(memcmp(buf_head(&b), "56789xy", 7) == 0);
    buf_free(&b);
}

TEST(buf_stays_a_string)
{
    struct buf b = {0};
    cleanup_free char *s = NULL;
    ASSERT_STR_EQ(buf_head(&b), "");
    buf_appends(&b, "hello ");
    buf_printf(&b, "%s %d", "world", 42);
    ASSERT_STR_EQ(buf_head(&b), "hello world 42");
    buf_consume(&b, 6);
    ASSERT_STR_EQ(buf_head(&b), "world 42");
    s = buf_steal(&b);
    ASSERT_STR_EQ(s, "world 42");
    ASSERT_TRUE(b.data == NULL && buf_size(&b) == 0);
    buf_consume(&b, 0);
}

TEST(time_stamp_format)
{
    char t[48];
    cleanup_free char *s = time_rfc3339_nano(1700000000000000042LL);
    time_format_rfc3339_nano(1700000000123456789LL, t, sizeof(t));
    ASSERT_STR_EQ(t, "2023-11-14T22:13:20.123456789Z");
    ASSERT_STR_EQ(s, "2023-11-14T22:13:20.000000042Z");
    time_format_rfc3339_nano(now_ns(), t, sizeof(t));
    ASSERT_INT_EQ(strlen(t), 30);
}

TEST(atomic_write_replaces_whole_file)
{
    const char *step = NULL;
    char back[16] = {0};
    struct stat st;
    int fd;
    ASSERT_INT_EQ(file_write_atomic("f", "first version", 13, 0600, false, &step), 0);
    ASSERT_INT_EQ(file_write_atomic("f", "second", 6, 0640, true, &step), 0);
    ASSERT_INT_EQ(stat("f", &st), 0);
    ASSERT_INT_EQ(st.st_size, 6);
    ASSERT_INT_EQ(st.st_mode & 0777, 0640);
    fd = open("f", O_RDONLY | O_CLOEXEC);
    ASSERT_INT_EQ(fd_read_full(fd, back, 6), 0);
    ASSERT_INT_EQ(fd_read_full(fd, back, 1), -1); /* early EOF */
    close(fd);
    ASSERT_STR_EQ(back, "second");
    ASSERT_INT_EQ(system("test $(ls -A | wc -l) -eq 1"), 0); /* no temp file left */
    ASSERT_INT_EQ(file_write_atomic("missing/f", "x", 1, 0600, false, &step), -1);
    ASSERT_INT_EQ(errno, ENOENT);
    ASSERT_STR_EQ(step, "create");
}

TEST(rotate_shifts_and_keeps_max_files)
{
    ASSERT_INT_EQ(file_write_atomic("log", "3", 1, 0600, false, NULL), 0);
    file_rotate("log", 3); /* log -> log.1 */
    ASSERT_INT_EQ(file_write_atomic("log", "2", 1, 0600, false, NULL), 0);
    file_rotate("log", 3); /* log.1 -> log.2, log -> log.1 */
    ASSERT_INT_EQ(file_write_atomic("log", "1", 1, 0600, false, NULL), 0);
    file_rotate("log", 3); /* log.2 replaced by log.1: the oldest is gone */
    ASSERT_INT_EQ(system("test ! -e log && test $(cat log.1) = 1 && test $(cat log.2) = 2 && test ! -e log.3"), 0);
    file_rotate("log.1", 1); /* one file: nothing moves */
    ASSERT_INT_EQ(system("test -e log.1"), 0);
}

TEST(parse_int64_is_strict)
{
    long long v = 0;
    ASSERT_INT_EQ(parse_int64("-42", &v), 0);
    ASSERT_INT_EQ(v, -42);
    ASSERT_INT_EQ(parse_int64("9223372036854775807", &v), 0);
    ASSERT_INT_EQ(parse_int64("9223372036854775808", &v), -1);
    ASSERT_INT_EQ(parse_int64("12x", &v), -1);
    ASSERT_INT_EQ(parse_int64("", &v), -1);
    ASSERT_INT_EQ(v, 9223372036854775807LL); /* untouched by failures */
}

TEST(random_hex_shape)
{
    cleanup_free char *a = random_hex(16), *b = random_hex(16);
    ASSERT_INT_EQ(strlen(a), 16);
    ASSERT_INT_EQ(strspn(a, "0123456789abcdef"), 16);
    ASSERT_TRUE(strcmp(a, b) != 0);
}

RUN_TESTS()
