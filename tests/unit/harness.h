/*
 * A small in-tree unit test harness: TEST(name) defines a case, RUN_TESTS() in main runs them,
 * each in a fresh mkdtemp directory (cwd). A failed ASSERT stops the case. Exit 77 = skipped.
 */
#ifndef ISD_TEST_HARNESS_H
#define ISD_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

static struct test_case test_cases[256];
static int test_count;
static int test_failed_flag;

#define TEST(tname)                                                                                                    \
    static void test_##tname(void);                                                                                    \
    __attribute__((constructor)) static void register_##tname(void)                                                    \
    {                                                                                                                  \
        test_cases[test_count].name = #tname;                                                                          \
        test_cases[test_count++].fn = test_##tname;                                                                    \
    }                                                                                                                  \
    static void test_##tname(void)

#define FAIL_AT(...)                                                                                                   \
    do {                                                                                                               \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                                                \
        fprintf(stderr, __VA_ARGS__);                                                                                  \
        fputc('\n', stderr);                                                                                           \
        test_failed_flag = 1;                                                                                          \
        return;                                                                                                        \
    } while (0)

#define ASSERT_TRUE(c)                                                                                                 \
    do {                                                                                                               \
        if (!(c))                                                                                                      \
            FAIL_AT("assertion failed: %s", #c);                                                                       \
    } while (0)
#define ASSERT_INT_EQ(a, b)                                                                                            \
    do {                                                                                                               \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                            \
        if (a_ != b_)                                                                                                  \
            FAIL_AT("%s == %lld, expected %lld", #a, a_, b_);                                                          \
    } while (0)
#define ASSERT_STR_EQ(a, b)                                                                                            \
    do {                                                                                                               \
        const char *a_ = (a), *b_ = (b);                                                                               \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                                           \
            FAIL_AT("%s == \"%s\", expected \"%s\"", #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                      \
    } while (0)

static inline int run_tests(void)
{
    int failed = 0;
    for (int i = 0; i < test_count; i++) {
        char tmpl[] = "/tmp/isd-unit-XXXXXX";
        char *dir = mkdtemp(tmpl);
        char cmd[300];
        if (dir == NULL || chdir(dir) != 0)
            return 1;
        test_failed_flag = 0;
        test_cases[i].fn();
        printf("%s %s\n", test_failed_flag ? "FAIL" : "ok  ", test_cases[i].name);
        failed += test_failed_flag;
        if (chdir("/") != 0)
            return 1;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
    printf("%d passed, %d failed\n", test_count - failed, failed);
    return failed ? 1 : 0;
}

#define RUN_TESTS()                                                                                                    \
    int main(void)                                                                                                     \
    {                                                                                                                  \
        return run_tests();                                                                                            \
    }

#endif
