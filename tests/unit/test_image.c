#include "harness.h"

#include <errno.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/image/reference.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"
#include "test_storage_util.h"

static int import_file(struct stores *st, const char *tar, const char *tag, char *const *changes, char **id)
{
    int fd = open(tar, O_RDONLY | O_CLOEXEC);
    int r = image_store_import(st->is, fd, tag, changes, id, NULL);
    close(fd);
    return r;
}

TEST(reference_rules)
{
    struct isd_error *err = NULL;
    const char *ok[][2] = {
        {"busybox", "busybox:latest"},
        {"docker.io/library/busybox:1.36", "busybox:1.36"},
        {"index.docker.io/user/app", "user/app:latest"},
        {"localhost:5000/a/b:v1.0_x", "localhost:5000/a/b:v1.0_x"},
        {"reg.example.com/x__y-z.w", "reg.example.com/x__y-z.w:latest"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        cleanup_free char *n = reference_normalize(ok[i][0], NULL);
        ASSERT_STR_EQ(n, ok[i][1]);
    }
    const char *bad[] = {"Busybox", "a::b", "-x", "a/", "a:-tag", "a b", "x_-y", ""};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ASSERT_TRUE(reference_normalize(bad[i], &err) == NULL);
        ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
        ASSERT_TRUE(strstr(err->msg, "invalid reference format") != NULL);
        isd_error_free(err);
        err = NULL;
    }
}

TEST(builtin_reproducible_and_lookup)
{
    struct stores a, b;
    struct isd_error *err = NULL;
    struct image *i1, *i2, *x;
    cleanup_free char *sid = NULL, *prefix = NULL;
    if (access("/bin/busybox", X_OK) != 0)
        SKIP("no /bin/busybox");
    ASSERT_INT_EQ(open_stores("a", &a), 0);
    ASSERT_INT_EQ(open_stores("b", &b), 0);
    ASSERT_INT_EQ(image_store_ensure_builtin(a.is, "/bin/busybox", &err), 0);
    ASSERT_INT_EQ(image_store_ensure_builtin(a.is, "/bin/busybox", &err), 0);
    ASSERT_INT_EQ(image_store_ensure_builtin(b.is, "/bin/busybox", &err), 0);
    i1 = image_store_lookup(a.is, "busybox", &err);
    i2 = image_store_lookup(b.is, "docker.io/library/busybox:latest", &err);
    ASSERT_TRUE(i1 != NULL && i2 != NULL);
    ASSERT_STR_EQ(i1->id, i2->id);
    ASSERT_STR_EQ(i1->repo_tags[0], "busybox:latest");
    ASSERT_TRUE(i1->size > 0);
    sid = xasprintf("sha256:%s", i1->id);
    prefix = xstrndup(i1->id, 5);
    x = image_store_lookup(a.is, sid, &err);
    ASSERT_TRUE(x != NULL);
    image_free(x);
    x = image_store_lookup(a.is, prefix, &err);
    ASSERT_TRUE(x != NULL);
    image_free(x);
    ASSERT_TRUE(image_store_lookup(a.is, "nothere:1", &err) == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_NOT_FOUND);
    isd_error_free(err);
    json_t *j = image_inspect_json(i1);
    ASSERT_STR_EQ(json_get_str(json_object_get(j, "RootFS"), "Type"), "layers");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(json_object_get(j, "Config"), "Cmd"), 0)), "sh");
    json_decref(j);
    j = image_summary_json(i1);
    ASSERT_INT_EQ(json_get_int(j, "Containers", 0), -1);
    json_decref(j);
    image_free(i1);
    image_free(i2);
    close_stores(&a);
    close_stores(&b);
}

TEST(import_tag_rmi)
{
    const struct t_entry ents[] = {{T_FILE, "hello", "world"}};
    char *const changes[] = {"CMD [\"/hello\"]", "ENV A=b", "WORKDIR /w", NULL};
    struct stores st;
    struct isd_error *err = NULL;
    cleanup_free char *id = NULL;
    cleanup_strv char **untagged = NULL, **deleted = NULL;
    struct image *img;
    ASSERT_INT_EQ(open_stores("s", &st), 0);
    ASSERT_INT_EQ(t_write_tar("r.tar.gz", ents, 1, "gzip"), 0);
    ASSERT_INT_EQ(import_file(&st, "r.tar.gz", "a:1", changes, &id), 0);
    img = image_store_lookup(st.is, "a:1", &err);
    ASSERT_TRUE(img != NULL);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(json_object_get(img->config, "config"), "Cmd"), 0)),
                  "/hello");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(json_object_get(img->config, "config"), "Env"), 0)),
                  "A=b");
    image_free(img);
    ASSERT_INT_EQ(image_store_tag(st.is, "a:1", "b/c:2", &err), 0);
    ASSERT_INT_EQ(image_store_tag(st.is, id, "Bad:x", &err), -1);
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(image_store_remove(st.is, "a:1", &untagged, &deleted, &err), 0);
    ASSERT_STR_EQ(untagged[0], "a:1");
    ASSERT_INT_EQ(strv_len(deleted), 0);
    ASSERT_TRUE(image_store_lookup(st.is, "a:1", NULL) == NULL);
    strv_free(untagged);
    untagged = NULL;
    ASSERT_INT_EQ(image_store_remove(st.is, "b/c:2", &untagged, &deleted, &err), 0);
    ASSERT_STR_EQ(untagged[0], "b/c:2");
    ASSERT_TRUE(strv_len(deleted) == 2); /* image + its layer */
    ASSERT_INT_EQ(count_dir("s/images"), 0);
    ASSERT_INT_EQ(count_dir("s/overlay"), 1);
    ASSERT_INT_EQ(count_dir("s/layers"), 0);
    close_stores(&st);
}

static int save_to(struct stores *st, char *const *refs, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int r = image_store_save(st->is, refs, fd, NULL);
    close(fd);
    return r;
}

TEST(save_load_roundtrip_and_truncated)
{
    const struct t_entry ents[] = {{T_DIR, "d", NULL}, {T_FILE, "d/f", "content"}};
    struct stores a, b;
    struct isd_error *err = NULL;
    cleanup_free char *id = NULL;
    cleanup_strv char **loaded = NULL;
    char *const refs[] = {"x:1", NULL};
    struct image *img;
    FILE *p;
    struct stat sb;
    ASSERT_INT_EQ(open_stores("a", &a), 0);
    ASSERT_INT_EQ(open_stores("b", &b), 0);
    ASSERT_INT_EQ(t_write_tar("r.tar", ents, 2, NULL), 0);
    ASSERT_INT_EQ(import_file(&a, "r.tar", "x:1", NULL, &id), 0);
    ASSERT_INT_EQ(save_to(&a, refs, "save.tar"), 0);
    /* truncated: fails cleanly, nothing kept */
    ASSERT_INT_EQ(stat("save.tar", &sb), 0);
    ASSERT_INT_EQ(system("head -c $(( $(stat -c %s save.tar) / 2 )) save.tar > half.tar"), 0);
    int fd = open("half.tar", O_RDONLY | O_CLOEXEC);
    ASSERT_INT_EQ(image_store_load(b.is, fd, NULL, &loaded, &err), -1);
    close(fd);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(count_dir("b/images"), 0);
    ASSERT_INT_EQ(count_dir("b/overlay"), 1);
    /* from a pipe */
    p = popen("cat save.tar", "r");
    ASSERT_INT_EQ(image_store_load(b.is, fileno(p), NULL, &loaded, &err), 0);
    pclose(p);
    ASSERT_STR_EQ(loaded[0], "x:1");
    img = image_store_lookup(b.is, "x:1", &err);
    ASSERT_TRUE(img != NULL);
    ASSERT_STR_EQ(img->id, id);
    image_free(img);
    ASSERT_INT_EQ(count_dir("b/images"), 1);
    close_stores(&a);
    close_stores(&b);
}

static void put(struct archive *w, const char *name, const char *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_write_header(w, e);
    archive_write_data(w, data, len);
    archive_entry_free(e);
}

static char *put_blob(struct archive *w, const char *data, size_t len)
{
    char hex[65];
    cleanup_free char *name = NULL;
    sha256_hex(data, len, hex);
    name = xasprintf("blobs/sha256/%s", hex);
    put(w, name, data, len);
    return xasprintf("sha256:%s", hex);
}

TEST(load_oci_layout)
{
    const struct t_entry ents[] = {{T_FILE, "oci-file", "oci"}};
    struct stores st;
    struct isd_error *err = NULL;
    cleanup_free char *gz = NULL, *plain = NULL, *cfg = NULL, *man = NULL, *idx = NULL;
    cleanup_free char *ldig = NULL, *cdig = NULL, *mdig = NULL;
    cleanup_strv char **loaded = NULL;
    char diff[65];
    size_t gzlen = 0, plen = 0;
    struct archive *w = archive_write_new();
    struct image *img;
    int fd;
    ASSERT_INT_EQ(t_write_tar("l.tar", ents, 1, NULL), 0);
    ASSERT_INT_EQ(t_write_tar("l.tar.gz", ents, 1, "gzip"), 0);
    plain = read_file("l.tar", 1 << 20, &plen, NULL);
    gz = read_file("l.tar.gz", 1 << 20, &gzlen, NULL);
    sha256_hex(plain, plen, diff);
    archive_write_set_format_pax_restricted(w);
    ASSERT_INT_EQ(archive_write_open_filename(w, "oci.tar"), ARCHIVE_OK);
    put(w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
    ldig = put_blob(w, gz, gzlen);
    cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
                    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
                    diff);
    cdig = put_blob(w, cfg, strlen(cfg));
    man = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                    "\"config\":{\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
                    "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":%zu}]}",
                    cdig, strlen(cfg), ldig, gzlen);
    mdig = put_blob(w, man, strlen(man));
    idx = xasprintf("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                    "\"digest\":\"%s\",\"size\":%zu,\"annotations\":{\"org.opencontainers.image.ref.name\":"
                    "\"example.com/oci/img:1.0\"}}]}",
                    mdig, strlen(man));
    put(w, "index.json", idx, strlen(idx));
    archive_write_close(w);
    archive_write_free(w);
    ASSERT_INT_EQ(open_stores("s", &st), 0);
    fd = open("oci.tar", O_RDONLY | O_CLOEXEC);
    if (image_store_load(st.is, fd, NULL, &loaded, &err) < 0)
        FAIL_AT("load: %s", err->msg);
    close(fd);
    ASSERT_STR_EQ(loaded[0], "example.com/oci/img:1.0");
    img = image_store_lookup(st.is, "example.com/oci/img:1.0", &err);
    ASSERT_TRUE(img != NULL);
    ASSERT_STR_EQ(img->id, digest_strip(cdig));
    image_free(img);
    close_stores(&st);
}

RUN_TESTS()
