#include "harness.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"
#include "test_storage_util.h"

static char cwd_buf[4096];

static const char *cwd(void)
{
    return getcwd(cwd_buf, sizeof(cwd_buf));
}

static int apply_file(struct layer_store *ls, const char *parent, const char *tar, const char *expect, char **chain,
                      char **diff, struct isd_error **err)
{
    int fd = open(tar, O_RDONLY | O_CLOEXEC);
    int r = layer_store_apply_tar(ls, parent, fd, expect, chain, diff, err);
    close(fd);
    return r;
}

static void file_sha(const char *path, char out[65])
{
    size_t len = 0;
    char *data = read_file(path, 1 << 24, &len, NULL);
    sha256_hex(data, len, out);
    free(data);
}

TEST(apply_basic_and_reuse)
{
    const struct t_entry ents[] = {
        {T_DIR, "etc", NULL},       {T_FILE, "etc/hosts", "127.0.0.1 localhost\n"},
        {T_SYMLINK, "l", "etc"},    {T_HARDLINK, "etc/hosts2", "etc/hosts"},
        {T_FILE, "./a/b/c", "abc"}, {T_CHAR, "dev0", NULL},
    };
    struct isd_error *err = NULL;
    char sha[65];
    cleanup_free char *chain = NULL, *diff = NULL, *chain2 = NULL, *diff2 = NULL, *dp = NULL, *p = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    struct layer_info li = {0};
    struct stat st;
    ASSERT_TRUE(ls != NULL);
    ASSERT_INT_EQ(t_write_tar("l.tar", ents, ARRAY_SIZE(ents), NULL), 0);
    ASSERT_INT_EQ(t_write_tar("l.tar.gz", ents, ARRAY_SIZE(ents), "gzip"), 0);
    ASSERT_INT_EQ(apply_file(ls, NULL, "l.tar", NULL, &chain, &diff, &err), 0);
    file_sha("l.tar", sha);
    p = xasprintf("sha256:%s", sha);
    ASSERT_STR_EQ(diff, p);
    ASSERT_STR_EQ(chain, sha);
    dp = layer_store_diff_path(ls, chain);
    free(p);
    p = xasprintf("%s/etc/hosts", dp);
    ASSERT_STR_EQ(t_read_file(p), "127.0.0.1 localhost\n");
    ASSERT_INT_EQ(stat(p, &st), 0);
    ASSERT_INT_EQ(st.st_nlink, 2);
    ASSERT_INT_EQ(st.st_mtime, 1000000);
    free(p);
    p = xasprintf("%s/a/b/c", dp);
    ASSERT_STR_EQ(t_read_file(p), "abc");
    ASSERT_INT_EQ(apply_file(ls, NULL, "l.tar.gz", diff, &chain2, &diff2, &err), 0);
    ASSERT_STR_EQ(chain2, chain);
    ASSERT_INT_EQ(layer_store_get(ls, chain, &li, &err), 0);
    ASSERT_INT_EQ(li.refcount, 2);
    layer_info_clear(&li);
    ASSERT_INT_EQ(layer_store_unref(ls, chain, NULL, &err), 0);
    ASSERT_INT_EQ(layer_store_unref(ls, chain, NULL, &err), 0);
    ASSERT_TRUE(!layer_store_exists(ls, chain));
    ASSERT_INT_EQ(count_dir("st/overlay"), 1); /* only l/ */
    layer_store_free(ls);
}

TEST(diff_id_mismatch_keeps_nothing)
{
    const struct t_entry ents[] = {{T_FILE, "x", "1"}};
    struct isd_error *err = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    char *chain = NULL;
    ASSERT_INT_EQ(t_write_tar("l.tar.zst", ents, 1, "zstd"), 0);
    ASSERT_INT_EQ(apply_file(ls, NULL, "l.tar.zst",
                             "sha256:0000000000000000000000000000000000000000000000000000000000000000", &chain, NULL,
                             &err),
                  -1);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    isd_error_free(err);
    ASSERT_INT_EQ(count_dir("st/overlay"), 1);
    ASSERT_INT_EQ(count_dir("st/layers"), 0);
    layer_store_free(ls);
}

static void expect_hostile(const struct t_entry *ents, size_t n, const char *outside)
{
    struct isd_error *err = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    char *chain = NULL;
    int r;
    ASSERT_INT_EQ(t_write_tar("h.tar", ents, n, NULL), 0);
    r = apply_file(ls, NULL, "h.tar", NULL, &chain, NULL, &err);
    if (r == 0) {
        layer_store_unref(ls, chain, NULL, NULL);
        free(chain);
    }
    isd_error_free(err);
    ASSERT_TRUE(outside == NULL || !path_exists(outside));
    ASSERT_INT_EQ(count_dir("st/overlay"), 1);
    layer_store_free(ls);
}

TEST(hostile_dotdot)
{
    cleanup_free char *out = xasprintf("%s/escape", cwd());
    const struct t_entry ents[] = {{T_FILE, "a/../../../escape", "x"}, {T_FILE, "../escape", "x"}};
    expect_hostile(ents, 1, out);
    expect_hostile(ents + 1, 1, out);
}

TEST(hostile_absolute_and_symlink)
{
    cleanup_free char *outside = xasprintf("%s/outside", cwd());
    cleanup_free char *pwned = xasprintf("%s/outside/pwned", cwd());
    cleanup_free char *abs = xasprintf("%s/abs-file", cwd());
    const struct t_entry abs_ents[] = {{T_FILE, abs, "x"}, {T_FILE, "/etc/isd-test-x", "x"}};
    const struct t_entry sym_ents[] = {{T_SYMLINK, "evil", outside}, {T_FILE, "evil/pwned", "x"}};
    const struct t_entry wh_ents[] = {
        {T_SYMLINK, "evil", outside}, {T_FILE, "evil/.wh.victim", ""}, {T_FILE, "evil/.wh..wh..opq", ""}};
    cleanup_free char *victim = xasprintf("%s/outside/victim", cwd());
    ASSERT_INT_EQ(mkdir("outside", 0755), 0);
    ASSERT_INT_EQ(write_file_atomic("outside/victim", "v", 1, 0644, false, NULL), 0);
    expect_hostile(abs_ents, 2, abs);
    ASSERT_TRUE(!path_exists("/etc/isd-test-x"));
    expect_hostile(sym_ents, 2, pwned);
    expect_hostile(wh_ents, 3, NULL);
    ASSERT_STR_EQ(t_read_file(victim), "v");
    ASSERT_TRUE(getxattr(outside, "trusted.overlay.opaque", NULL, 0) < 0);
}

TEST(hostile_hardlink)
{
    struct stat before, after;
    const struct t_entry ents[] = {{T_HARDLINK, "passwd", "/etc/passwd"}, {T_HARDLINK, "p2", "../../etc/passwd"}};
    ASSERT_INT_EQ(stat("/etc/passwd", &before), 0);
    expect_hostile(ents, 1, NULL);
    expect_hostile(ents + 1, 1, NULL);
    ASSERT_INT_EQ(stat("/etc/passwd", &after), 0);
    ASSERT_INT_EQ(after.st_nlink, before.st_nlink);
}

static void check_merged(const char *merged)
{
    cleanup_free char *a = xasprintf("%s/a", merged), *b = xasprintf("%s/b", merged);
    cleanup_free char *dx = xasprintf("%s/d/x", merged), *dy = xasprintf("%s/d/y", merged);
    ASSERT_TRUE(!path_exists(a));
    ASSERT_STR_EQ(t_read_file(b), "b");
    ASSERT_TRUE(!path_exists(dx));
    ASSERT_STR_EQ(t_read_file(dy), "y");
}

TEST(whiteouts_in_overlay_mount)
{
    const struct t_entry l1[] = {{T_FILE, "a", "a"}, {T_FILE, "b", "b"}, {T_DIR, "d", NULL}, {T_FILE, "d/x", "x"}};
    const struct t_entry l2[] = {
        {T_FILE, ".wh.a", ""}, {T_DIR, "d", NULL}, {T_FILE, "d/.wh..wh..opq", ""}, {T_FILE, "d/y", "y"}};
    struct isd_error *err = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    cleanup_free char *c1 = NULL, *c2 = NULL, *merged = NULL, *wh = NULL;
    char **removed = NULL;
    struct stat st;
    ASSERT_INT_EQ(t_write_tar("l1.tar", l1, ARRAY_SIZE(l1), NULL), 0);
    ASSERT_INT_EQ(t_write_tar("l2.tar", l2, ARRAY_SIZE(l2), "xz"), 0);
    ASSERT_INT_EQ(apply_file(ls, NULL, "l1.tar", NULL, &c1, NULL, &err), 0);
    ASSERT_INT_EQ(apply_file(ls, c1, "l2.tar", NULL, &c2, NULL, &err), 0);
    ASSERT_INT_EQ(layer_store_unref(ls, c1, NULL, &err), 0); /* c2 keeps c1 */
    wh = xasprintf("st/overlay/%s/diff/a", c2);
    ASSERT_INT_EQ(lstat(wh, &st), 0);
    ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    ASSERT_INT_EQ(rootfs_create(ls, "ctr1", c2, &err), 0);
    ASSERT_INT_EQ(rootfs_create(ls, "ctr1", c2, &err), -1);
    ASSERT_INT_EQ(err->code, ISD_ERR_CONFLICT);
    isd_error_free(err);
    err = NULL;
    if (rootfs_mount(ls, "ctr1", &merged, &err) < 0) {
        fprintf(stderr, "mount: %s\n", err->msg);
        ASSERT_TRUE(0);
    }
    ASSERT_INT_EQ(rootfs_mount(ls, "ctr1", NULL, &err), 0);
    check_merged(merged);
    ASSERT_INT_EQ(rootfs_umount(ls, "ctr1", &err), 0);
    ASSERT_INT_EQ(rootfs_umount(ls, "ctr1", &err), 0);
    ASSERT_INT_EQ(layer_store_unref(ls, c2, &removed, &err), 0);
    ASSERT_INT_EQ(strv_len(removed), 0); /* the container holds it */
    ASSERT_INT_EQ(rootfs_remove(ls, "ctr1", &err), 0);
    ASSERT_INT_EQ(rootfs_remove(ls, "ctr1", &err), 0);
    ASSERT_TRUE(!layer_store_exists(ls, c1) && !layer_store_exists(ls, c2));
    ASSERT_INT_EQ(count_dir_settled("st/overlay", 1), 1);
    ASSERT_INT_EQ(count_dir("st/overlay/l"), 0);
    layer_store_free(ls);
}

TEST(export_and_empty_rootfs)
{
    const struct t_entry l1[] = {{T_FILE, "hello", "world"}};
    struct isd_error *err = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    cleanup_free char *c1 = NULL, *merged = NULL;
    int fd;
    ASSERT_INT_EQ(t_write_tar("l1.tar", l1, 1, NULL), 0);
    ASSERT_INT_EQ(apply_file(ls, NULL, "l1.tar", NULL, &c1, NULL, &err), 0);
    ASSERT_INT_EQ(rootfs_create(ls, "c1", c1, &err), 0);
    fd = open("out.tar", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_INT_EQ(rootfs_export(ls, "c1", fd, &err), 0);
    close(fd);
    ASSERT_INT_EQ(system("tar -tf out.tar | grep -qx hello"), 0);
    ASSERT_INT_EQ(system("tar -xOf out.tar hello | grep -qx world"), 0);
    ASSERT_INT_EQ(rootfs_create(ls, "empty1", NULL, &err), 0);
    ASSERT_INT_EQ(rootfs_mount(ls, "empty1", &merged, &err), 0);
    ASSERT_INT_EQ(count_dir(merged), 0);
    ASSERT_INT_EQ(rootfs_remove(ls, "empty1", &err), 0);
    ASSERT_INT_EQ(rootfs_remove(ls, "c1", &err), 0);
    ASSERT_INT_EQ(layer_store_unref(ls, c1, NULL, &err), 0);
    ASSERT_INT_EQ(count_dir_settled("st/overlay", 1), 1);
    layer_store_free(ls);
}

static int layer_refs(struct layer_store *ls, const char *chain)
{
    struct layer_info li = {0};
    int n = layer_store_get(ls, chain, &li, NULL) == 0 ? li.refcount : -1;
    layer_info_clear(&li);
    return n;
}

/* A pull's path: layers staged independently (no parent yet), committed in chain order; a compressed download
 * in an unnamed temp file becomes the stored blob by a hard link, not a copy. */
TEST(stage_then_commit_links_the_download)
{
    const struct t_entry l1[] = {{T_FILE, "a", "1"}};
    const struct t_entry l2[] = {{T_FILE, "b", "2"}};
    struct isd_error *err = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    cleanup_free char *c1 = NULL, *c2 = NULL, *d2 = NULL, *blob = NULL, *bad = NULL;
    struct layer_staged *s1, *s2;
    struct stat tmp_st, blob_st;
    size_t len = 0;
    cleanup_free char *gz = NULL;
    int fd;
    struct byte_source src = {byte_source_fd_read, &fd};
    ASSERT_INT_EQ(t_write_tar("l1.tar.gz", l1, 1, "gzip"), 0);
    ASSERT_INT_EQ(t_write_tar("l2.tar", l2, 1, NULL), 0);
    gz = read_file("l1.tar.gz", 1 << 20, &len, NULL);
    fd = open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    ASSERT_TRUE(fd >= 0);
    ASSERT_INT_EQ(fd_write_all(fd, gz, len), 0);
    ASSERT_INT_EQ(lseek(fd, 0, SEEK_SET), 0);
    ASSERT_INT_EQ(fstat(fd, &tmp_st), 0);
    s1 = layer_store_stage(ls, &src, fd, &err);
    ASSERT_TRUE(s1 != NULL);
    close(fd);
    fd = open("l2.tar", O_RDONLY | O_CLOEXEC);
    s2 = layer_store_stage(ls, &src, -1, &err); /* a plain tar: stored compressed, as before */
    ASSERT_TRUE(s2 != NULL);
    close(fd);
    ASSERT_INT_EQ(layer_store_commit(ls, NULL, s1, NULL, &c1, NULL, &err), 0);
    blob = xasprintf("st/overlay/%s/layer.tar.zst", c1);
    ASSERT_INT_EQ(stat(blob, &blob_st), 0);
    ASSERT_TRUE(blob_st.st_ino == tmp_st.st_ino && blob_st.st_size == (off_t)len);
    ASSERT_INT_EQ(layer_store_commit(ls, c1, s2, NULL, &c2, &d2, &err), 0);
    ASSERT_STR_EQ(layer_store_lowerdir(ls, c2, NULL) != NULL ? "ok" : "", "ok");
    ASSERT_INT_EQ(layer_refs(ls, c1), 2); /* the caller's and the child's */
    /* a diff id that does not match is refused and leaves nothing */
    fd = open("l2.tar", O_RDONLY | O_CLOEXEC);
    s2 = layer_store_stage(ls, &src, -1, &err);
    close(fd);
    bad = xasprintf("sha256:%064d", 0);
    ASSERT_INT_EQ(layer_store_commit(ls, c2, s2, bad, NULL, NULL, &err), -1);
    ASSERT_TRUE(err != NULL && strstr(err->msg, "diff id mismatch") != NULL);
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(count_dir("st/overlay"), 3); /* l/, c1, c2: no staging left */
    ASSERT_INT_EQ(layer_store_unref(ls, c2, NULL, &err), 0);
    ASSERT_INT_EQ(layer_store_unref(ls, c1, NULL, &err), 0);
    ASSERT_INT_EQ(count_dir("st/overlay"), 1);
    layer_store_free(ls);
}

/* A rootfs holds its layer in memory only: the hold comes back from the rootfs record at open, and a record
 * of the older format (refcount counting the rootfs too) is corrected once. */
TEST(rootfs_holds_are_counted_at_open)
{
    const struct t_entry l1[] = {{T_FILE, "f", "1"}};
    struct isd_error *err = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    cleanup_free char *c1 = NULL, *rec = NULL, *legacy = NULL;
    char **removed = NULL;
    ASSERT_INT_EQ(t_write_tar("l1.tar", l1, 1, NULL), 0);
    ASSERT_INT_EQ(apply_file(ls, NULL, "l1.tar", NULL, &c1, NULL, &err), 0);
    ASSERT_INT_EQ(rootfs_create(ls, "a1", c1, &err), 0);
    ASSERT_INT_EQ(rootfs_create(ls, "a2", c1, &err), 0);
    ASSERT_INT_EQ(layer_refs(ls, c1), 3);
    rec = xasprintf("st/layers/%s.json", c1);
    ASSERT_TRUE(strstr(t_read_file(rec), "\"refcount\":1") != NULL); /* the image only */
    layer_store_free(ls);

    ls = layer_store_open("st", &err);
    ASSERT_INT_EQ(layer_refs(ls, c1), 3);
    ASSERT_INT_EQ(layer_store_unref(ls, c1, &removed, &err), 0); /* the image goes, the containers hold it */
    ASSERT_INT_EQ(strv_len(removed), 0);
    strv_free(removed);
    ASSERT_INT_EQ(rootfs_remove(ls, "a1", &err), 0);
    ASSERT_TRUE(layer_store_exists(ls, c1));
    layer_store_free(ls);

    /* older format: refcount 2 = the image + rootfs a2 */
    legacy = xasprintf("{\"chain_id\":\"%s\",\"diff_id\":\"sha256:%s\",\"short_id\":\"%s\",\"refcount\":2}", c1, c1,
                       "LEGACYSHORTID0000000000000");
    ASSERT_INT_EQ(write_file_atomic(rec, legacy, strlen(legacy), 0600, false, NULL), 0);
    ls = layer_store_open("st", &err);
    ASSERT_INT_EQ(layer_refs(ls, c1), 2);
    ASSERT_TRUE(strstr(t_read_file(rec), "\"refcount\":1") != NULL);
    ASSERT_INT_EQ(rootfs_remove(ls, "a2", &err), 0);
    ASSERT_INT_EQ(layer_store_unref(ls, c1, NULL, &err), 0);
    ASSERT_TRUE(!layer_store_exists(ls, c1));
    layer_store_free(ls);
}

TEST(reopen_keeps_layers_and_sweeps_leftovers)
{
    const struct t_entry l1[] = {{T_FILE, "f", "1"}};
    struct isd_error *err = NULL;
    struct layer_store *ls = layer_store_open("st", &err);
    cleanup_free char *c1 = NULL;
    struct layer_info li = {0};
    ASSERT_INT_EQ(t_write_tar("l1.tar", l1, 1, NULL), 0);
    ASSERT_INT_EQ(apply_file(ls, NULL, "l1.tar", NULL, &c1, NULL, &err), 0);
    layer_store_free(ls);
    ASSERT_INT_EQ(mkdir("st/overlay/.staging-abc", 0700), 0);
    ASSERT_INT_EQ(mkdir("st/overlay/.staging-abc/diff", 0700), 0);
    ASSERT_INT_EQ(mkdir("st/overlay/deadbeef", 0700), 0);
    ASSERT_INT_EQ(write_file_atomic("st/layers/x.json.tmp-1234", "{", 1, 0600, false, NULL), 0);
    ls = layer_store_open("st", &err);
    ASSERT_TRUE(ls != NULL);
    ASSERT_INT_EQ(layer_store_get(ls, c1, &li, &err), 0);
    ASSERT_INT_EQ(li.refcount, 1);
    layer_info_clear(&li);
    ASSERT_TRUE(!path_exists("st/overlay/.staging-abc") && !path_exists("st/overlay/deadbeef"));
    ASSERT_TRUE(!path_exists("st/layers/x.json.tmp-1234"));
    layer_store_free(ls);
}

RUN_TESTS()
