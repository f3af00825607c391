/* storage/copy.c: docker cp's stat, tar out and tar in never leave the root through a symlink pointing at /,
 * .. or a host directory, and a hostile tar writes nothing outside the target directory. Runs in the cwd
 * (a fresh mkdtemp directory per case). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "daemon/storage/copy.h"
#include "harness.h"
#include "test_storage_util.h"

static char *abs_path(const char *rel)
{
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        abort();
    return xasprintf("%s/%s", cwd, rel);
}

/* root/ with links to /, to .. (several levels) and to the absolute path of the sibling dir `outside`. */
static char *make_root(void)
{
    cleanup_free char *outside = abs_path("outside");
    mkdir("outside", 0755);
    mkdir("root", 0755);
    mkdir("root/etc", 0755);
    if (symlink("/", "root/tolink") < 0 || symlink("../../../../..", "root/up") < 0 ||
        symlink(outside, "root/host") < 0 || symlink("/etc", "root/etclink") < 0)
        abort();
    return abs_path("root");
}

static bool dir_empty(const char *p)
{
    cleanup_free char *cmd = xasprintf("test -z \"$(ls -A %s)\"", p);
    return system(cmd) == 0;
}

static int put(const char *root, const char *dir, const struct t_entry *ents, size_t n, struct isd_error **err)
{
    cleanup_close int fd = -1;
    struct byte_source src = {.read = byte_source_fd_read, .ctx = &fd};
    struct copy_in_opts o = {0};
    if (t_write_tar("in.tar", ents, n, NULL) < 0)
        abort();
    fd = open("in.tar", O_RDONLY | O_CLOEXEC);
    return copy_in(root, dir, &src, &o, err);
}

TEST(copy_in_through_links_stays_in_root)
{
    cleanup_free char *root = make_root();
    struct t_entry f = {T_FILE, "f", "x"};
    struct isd_error *err = NULL;
    ASSERT_TRUE(put(root, "/tolink", &f, 1, &err) == 0);
    ASSERT_TRUE(path_exists("root/f"));
    ASSERT_TRUE(put(root, "/up", &f, 1, &err) == 0);
    ASSERT_TRUE(put(root, "/etclink", &f, 1, &err) == 0);
    ASSERT_TRUE(path_exists("root/etc/f"));
    /* the host path does not exist inside the root: not found, nothing written on the host */
    ASSERT_TRUE(put(root, "/host", &f, 1, &err) < 0 && err->code == ISD_ERR_NOT_FOUND);
    isd_error_free(err);
    ASSERT_TRUE(dir_empty("outside"));
}

TEST(hostile_tars_write_nothing_outside)
{
    cleanup_free char *root = make_root();
    cleanup_free char *outside = abs_path("outside");
    struct t_entry through[] = {{T_SYMLINK, "esc", outside}, {T_FILE, "esc/pwned", "x"}};
    struct t_entry dotdot[] = {{T_FILE, "../../outside/pwned", "x"}};
    struct t_entry hard[] = {{T_HARDLINK, "h", "../outside"}};
    struct isd_error *err = NULL;
    ASSERT_TRUE(put(root, "/", through, 2, &err) < 0 && err->code == ISD_ERR_INVALID);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(put(root, "/etc", dotdot, 1, &err) < 0);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(put(root, "/etc", hard, 1, &err) < 0);
    isd_error_free(err);
    ASSERT_TRUE(dir_empty("outside"));
}

TEST(stat_and_out_do_not_follow_to_the_host)
{
    cleanup_free char *root = make_root();
    struct isd_error *err = NULL;
    cleanup_json json_t *st = copy_stat(root, "/tolink", &err);
    cleanup_json json_t *st2 = NULL;
    cleanup_close int fd = open("out.tar", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_TRUE(st != NULL);
    ASSERT_STR_EQ(json_get_str(st, "name"), "tolink");
    ASSERT_STR_EQ(json_get_str(st, "linkTarget"), "/");
    ASSERT_TRUE(((unsigned long long)json_get_int(st, "mode", 0) & (1u << 27)) != 0);
    st2 = copy_stat(root, "/host/anything", &err);
    ASSERT_TRUE(st2 == NULL && err->code == ISD_ERR_NOT_FOUND);
    isd_error_free(err);
    err = NULL;
    /* the tar of a link is the link itself */
    ASSERT_TRUE(copy_out(root, "/etclink", fd, &err) == 0);
    ASSERT_TRUE(system("tar -tvf out.tar | grep -q 'etclink -> /etc'") == 0);
}

RUN_TESTS()
