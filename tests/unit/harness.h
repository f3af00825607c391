/*
 * A small in-tree unit test harness: TEST(name) defines a case, RUN_TESTS() in main runs them,
 * each in a fresh mkdtemp directory (cwd). A failed ASSERT stops the case; SKIP("reason") ends the case
 * as skipped (it returns, so use it in the case body, not in a helper).
 *
 * Each case ends ok, FAIL or SKIP (a case that failed before it skipped counts as failed). The executable's
 * status: 1 when any case failed (a failure always wins, whatever else skipped), else 77 (CTest's "skipped")
 * when every case skipped, else 0; the cases skipped in a passing run are listed with their reasons on
 * stdout and counted in the summary line. Never call exit(77) from a case: it would end the run and turn the
 * failures of earlier cases into a skip.
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
static int test_skipped_flag;

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

#define SKIP(...)                                                                                                      \
    do {                                                                                                               \
        printf("skip: ");                                                                                              \
        printf(__VA_ARGS__);                                                                                           \
        putchar('\n');                                                                                                 \
        test_skipped_flag = 1;                                                                                         \
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

/* The status of a whole run from its counts; see the rule at the top. */
static inline int test_exit_status(int failed, int skipped, int total)
{
    if (failed > 0)
        return 1;
    return total > 0 && skipped == total ? 77 : 0;
}

static inline int run_tests(void)
{
    int failed = 0, skipped = 0;
    for (int i = 0; i < test_count; i++) {
        char tmpl[] = "/tmp/isd-unit-XXXXXX";
        char *dir = mkdtemp(tmpl);
        char cmd[300];
        if (dir == NULL || chdir(dir) != 0)
            return 1;
        test_failed_flag = 0;
        test_skipped_flag = 0;
        test_cases[i].fn();
        printf("%s %s\n", test_failed_flag ? "FAIL" : test_skipped_flag ? "SKIP" : "ok  ", test_cases[i].name);
        failed += test_failed_flag;
        skipped += !test_failed_flag && test_skipped_flag;
        if (chdir("/") != 0)
            return 1;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", dir);
    }
    printf("%d passed, %d skipped, %d failed\n", test_count - failed - skipped, skipped, failed);
    return test_exit_status(failed, skipped, test_count);
}

#define RUN_TESTS()                                                                                                    \
    int main(void)                                                                                                     \
    {                                                                                                                  \
        return run_tests();                                                                                            \
    }

#endif
