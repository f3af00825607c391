#include "harness.h"

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

TEST(parse_size_units)
{
    long long v;
    ASSERT_INT_EQ(parse_size("30KB", &v), 0);
    ASSERT_INT_EQ(v, 30 * 1024);
    ASSERT_INT_EQ(parse_size("1m", &v), 0);
    ASSERT_INT_EQ(v, 1024 * 1024);
    ASSERT_INT_EQ(parse_size("10", &v), 0);
    ASSERT_INT_EQ(v, 10);
    ASSERT_INT_EQ(parse_size("-1", &v), -1);
    ASSERT_INT_EQ(parse_size("12x", &v), -1);
}

TEST(parse_duration_forms)
{
    long long v;
    ASSERT_INT_EQ(parse_duration_ns("2m", &v), 0);
    ASSERT_INT_EQ(v, 120LL * 1000000000LL);
    ASSERT_INT_EQ(parse_duration_ns("1h30m", &v), 0);
    ASSERT_INT_EQ(v, 5400LL * 1000000000LL);
    ASSERT_INT_EQ(parse_duration_ns("500ms", &v), 0);
    ASSERT_INT_EQ(v, 500000000LL);
    ASSERT_INT_EQ(parse_duration_ns("5", &v), -1);
}

TEST(rfc3339_round_trip)
{
    long long ns = 1700000000123456789LL, back = 0;
    cleanup_free char *s = time_rfc3339_nano(ns);
    ASSERT_STR_EQ(s, "2023-11-14T22:13:20.123456789Z");
    ASSERT_INT_EQ(time_parse_rfc3339(s, &back), 0);
    ASSERT_INT_EQ(back, ns);
    ASSERT_INT_EQ(time_parse_rfc3339("2023-11-14T22:13:20+01:00", &back), 0);
    ASSERT_INT_EQ(back, 1699996400LL * 1000000000LL);
    ASSERT_INT_EQ(time_parse_rfc3339("yesterday", &back), -1);
}

TEST(atomic_write_and_bounded_read)
{
    struct isd_error *err = NULL;
    size_t len = 0;
    char *s;
    ASSERT_INT_EQ(write_file_atomic("f", "hello", 5, 0600, true, &err), 0);
    s = read_file("f", 100, &len, &err);
    ASSERT_STR_EQ(s, "hello");
    free(s);
    ASSERT_TRUE(read_file("f", 3, &len, &err) == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_TOO_LARGE);
    isd_error_free(err);
}

TEST(rm_rf_removes_tree_not_symlink_target)
{
    struct isd_error *err = NULL;
    ASSERT_INT_EQ(mkdir_p("keep/inner", 0755, &err), 0);
    ASSERT_INT_EQ(write_file_atomic("keep/inner/x", "x", 1, 0600, false, &err), 0);
    ASSERT_INT_EQ(mkdir_p("gone/a/b", 0755, &err), 0);
    ASSERT_INT_EQ(symlink("../../keep", "gone/a/link"), 0);
    ASSERT_INT_EQ(rm_rf("gone", &err), 0);
    ASSERT_TRUE(!path_exists("gone"));
    ASSERT_TRUE(path_exists("keep/inner/x"));
}

TEST(json_rejects_malformed)
{
    struct isd_error *err = NULL;
    json_t *j = json_parse("{\"a\":", 5, &err);
    ASSERT_TRUE(j == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    isd_error_free(err);
}

RUN_TESTS()
