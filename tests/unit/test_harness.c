/* The harness's own rule: a failure always wins over skips; 77 only when every case skipped. */
#include "harness.h"

TEST(failure_wins_over_skips)
{
    ASSERT_INT_EQ(test_exit_status(1, 0, 1), 1);
    ASSERT_INT_EQ(test_exit_status(1, 3, 4), 1);
    ASSERT_INT_EQ(test_exit_status(2, 0, 5), 1);
}

TEST(all_skipped_is_77)
{
    ASSERT_INT_EQ(test_exit_status(0, 1, 1), 77);
    ASSERT_INT_EQ(test_exit_status(0, 4, 4), 77);
}

TEST(some_skipped_passes)
{
    ASSERT_INT_EQ(test_exit_status(0, 1, 3), 0);
    ASSERT_INT_EQ(test_exit_status(0, 0, 3), 0);
    ASSERT_INT_EQ(test_exit_status(0, 0, 0), 0);
}

static int after_skip;

static void skipping_case(void)
{
    SKIP("on purpose, %d", 1);
    after_skip = 1;
}

TEST(skip_returns_and_marks_the_case)
{
    int skipped;
    skipping_case();
    skipped = test_skipped_flag;
    test_skipped_flag = 0; /* this case itself passes */
    ASSERT_INT_EQ(skipped, 1);
    ASSERT_INT_EQ(after_skip, 0);
}

RUN_TESTS()
