/* The cgroup module: which hierarchy each controller of this process is on (v1, v2 or hybrid hosts). */
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"
#include "harness.h"

static bool is_dir(const char *p)
{
    struct stat st;
    return p != NULL && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether word is one of the words of the file (cgroup.controllers). */
static bool file_has_word(const char *path, const char *word)
{
    cleanup_free char *text = read_file(path, 1 << 16, NULL, NULL);
    char *save = NULL;
    for (char *w = text ? strtok_r(text, " \n", &save) : NULL; w != NULL; w = strtok_r(NULL, " \n", &save))
        if (streq(w, word))
            return true;
    return false;
}

TEST(every_controller_dir_exists)
{
    struct cgroup_paths cg;
    cgroup_paths_resolve(getpid(), &cg);
    for (int i = 0; i < CGROUP_N; i++) {
        bool v2 = true;
        const char *dir = cgroup_controller_dir(&cg, (enum cgroup_controller)i, &v2);
        if (dir == NULL)
            continue;
        if (!is_dir(dir)) {
            cgroup_paths_clear(&cg);
            FAIL_AT("controller %d: `%s` is not a directory", i, dir);
        }
        if (v2 != (cg.v1[i] == NULL)) {
            cgroup_paths_clear(&cg);
            FAIL_AT("controller %d: v2 flag %d for `%s`", i, v2, dir);
        }
    }
    cgroup_paths_clear(&cg);
}

/* A hybrid host with hugetlb on the unified hierarchy (this project's machines): hugetlb's files are there,
 * the memory controller's on its v1 hierarchy. */
TEST(hybrid_controller_on_the_unified_hierarchy)
{
    struct cgroup_paths cg;
    bool v2 = false;
    const char *dir;
    if (!file_has_word("/sys/fs/cgroup/unified/cgroup.controllers", "hugetlb"))
        return; /* not such a host: the case has nothing to check */
    cgroup_paths_resolve(getpid(), &cg);
    dir = cgroup_controller_dir(&cg, CGROUP_HUGETLB, &v2);
    ASSERT_TRUE(dir != NULL && str_has_prefix(dir, "/sys/fs/cgroup/unified") && v2);
    dir = cgroup_controller_dir(&cg, CGROUP_MEMORY, &v2);
    ASSERT_TRUE(dir != NULL && str_has_prefix(dir, "/sys/fs/cgroup/memory") && !v2);
    ASSERT_TRUE(cgroup_controller_dir(&cg, CGROUP_DEVICES, &v2) != NULL && !v2);
    cgroup_paths_clear(&cg);
}

TEST(read_numbers_and_key_values)
{
    json_t *kv;
    ASSERT_TRUE(write_file_atomic("./n", "42\n", 3, 0600, false, NULL) == 0);
    ASSERT_TRUE(write_file_atomic("./max", "max\n", 4, 0600, false, NULL) == 0);
    ASSERT_TRUE(write_file_atomic("./kv", "user 3\nsystem 4\n", 17, 0600, false, NULL) == 0);
    ASSERT_INT_EQ(cgroup_read_ll(".", "n", 0), 42);
    ASSERT_INT_EQ(cgroup_read_ll(".", "max", -1), -1);
    ASSERT_INT_EQ(cgroup_read_ll(NULL, "x", -7), -7);
    ASSERT_INT_EQ(cgroup_read_ll(".", "absent", 5), 5);
    kv = cgroup_read_kv(".", "kv");
    ASSERT_INT_EQ(json_integer_value(json_object_get(kv, "system")), 4);
    json_decref(kv);
    kv = cgroup_read_kv(".", "absent");
    ASSERT_TRUE(json_is_object(kv) && json_object_size(kv) == 0);
    json_decref(kv);
}

/* openEuler's files cgroup on a directory tree standing in for /sys/fs/cgroup/files (neither this host nor the VM
 * has the controller): the kernel would make the container directory's files, the test makes them. */
TEST(files_limit_on_a_fake_hierarchy)
{
    cleanup_free char *cwd = getcwd(NULL, 0);
    cleanup_free char *root = xasprintf("%s/files", cwd);
    cleanup_free char *limit = NULL, *procs = NULL;
    struct isd_error *err = NULL;

    ASSERT_TRUE(mkdir_p("files/isulad/c1", 0755, NULL) == 0);
    ASSERT_TRUE(!cgroup_files_supported(root));
    ASSERT_TRUE(cgroup_files_limit_apply(root, "/isulad/c1", 1024, 4242, &err) < 0);
    ASSERT_TRUE(err != NULL && strstr(err->msg, "does not support files limit") != NULL);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(write_file_atomic("files/cgroup.procs", "", 0, 0644, false, NULL) == 0);
    ASSERT_TRUE(write_file_atomic("files/isulad/c1/files.limit", "", 0, 0644, false, NULL) == 0);
    ASSERT_TRUE(write_file_atomic("files/isulad/c1/cgroup.procs", "", 0, 0644, false, NULL) == 0);
    ASSERT_TRUE(cgroup_files_supported(root));
    ASSERT_TRUE(cgroup_files_limit_apply(root, "/isulad/c1", 1024, 4242, &err) == 0);
    limit = read_file("files/isulad/c1/files.limit", 64, NULL, NULL);
    procs = read_file("files/isulad/c1/cgroup.procs", 64, NULL, NULL);
    ASSERT_STR_EQ(limit, "1024");
    ASSERT_STR_EQ(procs, "4242");
    /* a path that is not absolute or climbs out of the hierarchy is refused */
    ASSERT_TRUE(cgroup_files_limit_apply(root, "isulad/c1", 1, 1, &err) < 0 && err->code == ISD_ERR_INVALID);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(cgroup_files_limit_apply(root, "/isulad/../../x", 1, 1, &err) < 0);
    isd_error_free(err);
    ASSERT_TRUE(!is_dir("x"));
    /* removal: rmdir, which the kernel allows once the cgroup has no process */
    ASSERT_TRUE(mkdir_p("files/isulad/c2", 0755, NULL) == 0);
    cgroup_files_remove(root, "/isulad/c2");
    ASSERT_TRUE(!is_dir("files/isulad/c2") && is_dir("files/isulad/c1"));
}

RUN_TESTS()
