/* Unit tests of embedded images, the layer integrity check and the quota size rules. */
#include "harness.h"

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/embedded.h"
#include "daemon/image/image_store.h"
#include "daemon/image/layer_check.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"
#include "daemon/storage/quota.h"
#include "test_storage_util.h"

static char *file_sha(const char *path)
{
    size_t len = 0;
    cleanup_free char *data = read_file(path, 1 << 24, &len, NULL);
    char hex[DIGEST_HEX_LEN + 1];
    if (data == NULL)
        return xstrdup("");
    sha256_hex(data, len, hex);
    return xasprintf("sha256:%s", hex);
}

/* Writes m/base.tar.gz, m/app.tar and m/test.manifest (digest of app.tar replaced by bad_digest if set). */
static char *make_bundle(const char *bad_digest, const char *app_path)
{
    const struct t_entry base[] = {{T_DIR, "etc", NULL}, {T_FILE, "etc/marker", "base"}};
    const struct t_entry app[] = {{T_FILE, "etc/app", "app"}};
    char cwd[PATH_MAX];
    cleanup_free char *dbase = NULL, *dapp = NULL, *text = NULL;
    cleanup_json json_t *m = NULL;
    mkdir("m", 0755);
    if (t_write_tar("m/base.tar.gz", base, 2, "gzip") < 0 || t_write_tar("m/app.tar", app, 1, NULL) < 0 ||
        getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    dbase = file_sha("m/base.tar.gz");
    dapp = file_sha("m/app.tar");
    m = json_pack("{s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}], s:{s:[s], s:s}}", "name", "emb:v1", "created",
                  "2018-03-01T15:55:44Z", "layers", "path", "base.tar.gz", "digest", dbase, "path",
                  app_path ? app_path : "app.tar", "digest", bad_digest ? bad_digest : dapp, "config", "Cmd", "/bin/sh",
                  "WorkingDir", "/etc");
    text = json_dumps(m, 0);
    if (write_file_atomic("m/test.manifest", text, strlen(text), 0644, false, NULL) < 0)
        return NULL;
    return xasprintf("%s/m/test.manifest", cwd);
}

TEST(embedded_load_and_inspect)
{
    struct stores st;
    struct isd_error *err = NULL;
    cleanup_free char *path = make_bundle(NULL, NULL), *name = NULL;
    struct image *img;
    ASSERT_TRUE(path != NULL);
    ASSERT_INT_EQ(open_stores("s", &st), 0);
    ASSERT_INT_EQ(image_store_load_embedded(st.is, path, &name, &err), 0);
    ASSERT_STR_EQ(name, "emb:v1");
    img = image_store_lookup(st.is, "emb:v1", &err);
    ASSERT_TRUE(img != NULL);
    ASSERT_INT_EQ((int)strv_len(img->diff_ids), 2);
    ASSERT_STR_EQ(json_get_str(json_object_get(img->config, "config"), "WorkingDir"), "/etc");
    ASSERT_TRUE(img->created_ns > 0);
    image_free(img);
    close_stores(&st);
}

TEST(embedded_refuses_bad_digest_escape_and_missing)
{
    struct stores st;
    size_t n = 99;
    static const char *const bad_paths[] = {"../outside.tar", "/etc/passwd", "link.tar", "nope.tar"};
    ASSERT_INT_EQ(open_stores("s", &st), 0);
    {
        struct isd_error *err = NULL;
        cleanup_free char *path =
            make_bundle("sha256:0000000000000000000000000000000000000000000000000000000000000000", NULL);
        ASSERT_INT_EQ(image_store_load_embedded(st.is, path, NULL, &err), -1);
        ASSERT_TRUE(err != NULL && strstr(err->msg, "digest mismatch") != NULL);
        isd_error_free(err);
    }
    ASSERT_INT_EQ(symlink("/etc/passwd", "m/link.tar"), 0);
    for (size_t i = 0; i < ARRAY_SIZE(bad_paths); i++) {
        struct isd_error *err = NULL;
        cleanup_free char *path = make_bundle(NULL, bad_paths[i]);
        ASSERT_INT_EQ(image_store_load_embedded(st.is, path, NULL, &err), -1);
        ASSERT_TRUE(err != NULL);
        isd_error_free(err);
    }
    {
        struct isd_error *err = NULL;
        ASSERT_INT_EQ(image_store_load_embedded(st.is, "relative.manifest", NULL, &err), -1);
        isd_error_free(err);
    }
    {
        struct image **v = image_store_list(st.is, &n);
        for (size_t i = 0; i < n; i++)
            image_free(v[i]);
        free(v);
    }
    ASSERT_INT_EQ((int)n, 0);
    /* every layer applied before the failure was released */
    {
        cleanup_strv char **ids = layer_store_list_ids(st.ls);
        ASSERT_INT_EQ((int)strv_len(ids), 0);
    }
    close_stores(&st);
}

TEST(layer_check_flags_damage)
{
    struct stores st;
    struct isd_error *err = NULL;
    cleanup_free char *path = make_bundle(NULL, NULL), *bad = NULL, *marker = NULL;
    cleanup_strv char **ids = NULL;
    struct image *img;
    FILE *f;
    ASSERT_INT_EQ(open_stores("s", &st), 0);
    ASSERT_INT_EQ(image_store_load_embedded(st.is, path, NULL, &err), 0);
    ASSERT_INT_EQ(image_store_check_layers(st.is), 0);
    img = image_store_lookup(st.is, "emb:v1", &err);
    ASSERT_TRUE(img != NULL);
    ids = layer_store_list_ids(st.ls);
    ASSERT_INT_EQ((int)strv_len(ids), 2);
    /* damage the base layer: the image's chain is damaged, rootfs_create refuses it */
    marker = xasprintf("s/overlay/%s/diff/etc/marker", digest_strip(img->diff_ids[0]));
    f = fopen(marker, "r+");
    ASSERT_TRUE(f != NULL);
    fputs("BASE", f);
    fclose(f);
    ASSERT_INT_EQ(image_store_check_layers(st.is), 1);
    bad = layer_store_chain_damaged(st.ls, img->top_layer);
    ASSERT_STR_EQ(bad, digest_strip(img->diff_ids[0]));
    ASSERT_INT_EQ(
        rootfs_create(st.ls, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", img->top_layer, &err),
        -1);
    ASSERT_TRUE(err != NULL && strstr(err->msg, "damaged") != NULL);
    isd_error_free(err);
    image_free(img);
    close_stores(&st);
}

TEST(quota_sizes)
{
    long long v = -1;
    struct isd_error *err = NULL;
    ASSERT_INT_EQ(quota_parse_size("10M", &v, NULL), 0);
    ASSERT_TRUE(v == 10LL * 1024 * 1024);
    ASSERT_INT_EQ(quota_parse_size("1.5GiB", &v, NULL), 0);
    ASSERT_TRUE(v == 1536LL * 1024 * 1024);
    ASSERT_INT_EQ(quota_parse_size("4096", &v, NULL), 0);
    ASSERT_TRUE(v == 4096);
    ASSERT_INT_EQ(quota_parse_size("4k", &v, NULL), 0);
    ASSERT_INT_EQ(quota_parse_size("2tb", &v, NULL), 0);
    ASSERT_TRUE(v == 2LL << 40);
    ASSERT_INT_EQ(quota_parse_size("0", &v, NULL), 0);
    ASSERT_TRUE(v == 0);
    ASSERT_INT_EQ(quota_parse_size("0.1", &v, NULL), 0); /* fractions of a byte dropped: unlimited */
    ASSERT_TRUE(v == 0);
    ASSERT_INT_EQ(quota_parse_size("4095", &v, &err), -1);
    ASSERT_TRUE(err != NULL && strstr(err->msg, "4096") != NULL);
    isd_error_free(err);
    ASSERT_INT_EQ(quota_parse_size("1x", &v, NULL), -1);
    ASSERT_INT_EQ(quota_parse_size("-1M", &v, NULL), -1);
    ASSERT_INT_EQ(quota_parse_size("", &v, NULL), -1);
    ASSERT_INT_EQ(quota_parse_size("10MBB", &v, NULL), -1);
    ASSERT_INT_EQ(quota_parse_size("99999999P", &v, NULL), -1);
    ASSERT_INT_EQ(
        quota_default_size((char *[]){"overlay2.override_kernel_check=true", "overlay2.basesize=128M", NULL}, &v, NULL),
        0);
    ASSERT_TRUE(v == 128LL * 1024 * 1024);
    ASSERT_INT_EQ(quota_default_size(NULL, &v, NULL), 0);
    ASSERT_TRUE(v == 0);
}

TEST(quota_unsupported_is_clear)
{
    struct isd_error *err = NULL;
    struct quota_ctl *q;
    mkdir("d", 0700);
    q = quota_ctl_open("d", &err);
    if (q != NULL) { /* this file system enforces project quotas: nothing to check here */
        quota_ctl_free(q);
        SKIP("this file system enforces project quotas");
    }
    ASSERT_TRUE(err != NULL);
    ASSERT_STR_EQ(err->msg, QUOTA_UNSUPPORTED_MSG);
    isd_error_free(err);
}

RUN_TESTS()
