#include "harness.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cdi_name.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_cdi.h"

static void put(const char *path, const char *text)
{
    struct isd_error *err = NULL;
    write_file_atomic(path, text, strlen(text), 0644, false, &err);
    isd_error_free(err);
}

TEST(names)
{
    const char *good[] = {"vendor.com/class=name", "a/b=0", "foo.bar.baz/foo-bar123.B_az=dev:0.1", "v/c=a_b-c.d"};
    const char *bad[] = {"vendor.com/class=*",
                         "vendor.com/class",
                         "/dev/null",
                         "v/c/d=x",
                         "1v/c=x",
                         "v/c-=x",
                         "v/c=-x",
                         "v/c=x-",
                         "v/=x",
                         "/c=x",
                         "v/c=",
                         "v/c=a b"};
    char *kind = NULL, *name = NULL;
    struct isd_error *err = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(good); i++)
        ASSERT_TRUE(cdi_name_is_qualified(good[i]));
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        ASSERT_TRUE(!cdi_name_is_qualified(bad[i]));
    ASSERT_INT_EQ(cdi_name_parse("vendor.com/gpu=gpu0", &kind, &name, NULL), 0);
    ASSERT_STR_EQ(kind, "vendor.com/gpu");
    ASSERT_STR_EQ(name, "gpu0");
    free(kind);
    free(name);
    ASSERT_INT_EQ(cdi_name_parse("vendor.com/gpu=*", &kind, &name, &err), -1);
    ASSERT_STR_EQ(err->msg, "invalid CDI device name `vendor.com/gpu=*`: the name must start with a letter or digit");
    isd_error_free(err);
}

TEST(yaml_scalars)
{
    const char *y = "a: 0644\nb: 0x10\nc: '0644'\nd: true\ne: ~\nf: 1.5\ng: text\nh: [1, \"2\"]\ni: -3\n";
    struct isd_error *err = NULL;
    cleanup_json json_t *j = spec_cdi_yaml_parse(y, strlen(y), &err);
    ASSERT_TRUE(j != NULL);
    ASSERT_INT_EQ(json_get_int(j, "a", 0), 0644);
    ASSERT_INT_EQ(json_get_int(j, "b", 0), 16);
    ASSERT_STR_EQ(json_get_str(j, "c"), "0644");
    ASSERT_TRUE(json_is_true(json_object_get(j, "d")) && json_is_null(json_object_get(j, "e")));
    ASSERT_TRUE(json_is_real(json_object_get(j, "f")));
    ASSERT_STR_EQ(json_get_str(j, "g"), "text");
    ASSERT_TRUE(json_is_integer(json_array_get(json_object_get(j, "h"), 0)));
    ASSERT_TRUE(json_is_string(json_array_get(json_object_get(j, "h"), 1)));
    ASSERT_INT_EQ(json_get_int(j, "i", 0), -3);
    ASSERT_TRUE(spec_cdi_yaml_parse("a: &x 1\nb: *x\n", strlen("a: &x 1\nb: *x\n"), &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "aliases are not supported") != NULL);
    isd_error_free(err);
}

#define SPEC(kind, env)                                                                                                \
    "{\"cdiVersion\":\"0.6.0\",\"kind\":\"" kind "\",\"devices\":[{\"name\":\"d\",\"containerEdits\":"                 \
    "{\"env\":[\"" env "\"],\"deviceNodes\":[{\"path\":\"/dev/n\",\"hostPath\":\"/dev/null\"}]}}]}"

TEST(registry_priority_cache_and_edits)
{
    char *dirs[] = {"low", "high", NULL};
    char cwd[4096];
    struct cdi_registry *r;
    struct isd_error *err = NULL;
    cleanup_json json_t *names = json_pack("[s]", "v.com/c=d");
    cleanup_json json_t *edits = NULL, *spec = json_object();
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    mkdir("low", 0755);
    mkdir("high", 0755);
    put("low/a.json", SPEC("v.com/c", "W=low"));
    r = cdi_registry_new(dirs);
    edits = cdi_registry_resolve(r, names, &err);
    ASSERT_TRUE(edits != NULL);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(json_array_get(edits, 0), "env"), 0)), "W=low");
    json_decref(edits);
    put("high/b.yaml", "cdiVersion: 0.6.0\nkind: v.com/c\ndevices: [{name: d, containerEdits: {env: [W=high]}}]\n");
    edits = cdi_registry_resolve(r, names, &err);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(json_array_get(edits, 0), "env"), 0)), "W=high");
    json_decref(edits);
    unlink("high/b.yaml");
    edits = cdi_registry_resolve(r, names, &err);
    ASSERT_INT_EQ(cdi_edits_apply(spec, edits, &err), 0);
    {
        const json_t *dev = json_array_get(json_object_get(json_object_get(spec, "linux"), "devices"), 0);
        const json_t *rule =
            json_array_get(json_object_get(json_object_get(json_object_get(spec, "linux"), "resources"), "devices"), 0);
        ASSERT_STR_EQ(json_get_str(dev, "path"), "/dev/n");
        ASSERT_INT_EQ(json_get_int(dev, "major", -1), 1);
        ASSERT_INT_EQ(json_get_int(dev, "minor", -1), 3);
        ASSERT_STR_EQ(json_get_str(rule, "access"), "rwm");
        ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(json_object_get(spec, "process"), "env"), 0)),
                      "W=low");
    }
    put("low/z.json", SPEC("v.com/c", "W=dup"));
    ASSERT_TRUE(cdi_registry_resolve(r, names, &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "is defined in both") != NULL);
    isd_error_free(err);
    err = NULL;
    put("low/z.json", "{\"cdiVersion\":\"0.6.0\"");
    json_decref(names);
    names = json_pack("[s]", "v.com/c=other");
    ASSERT_TRUE(cdi_registry_resolve(r, names, &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "unresolvable CDI device `v.com/c=other`") != NULL);
    ASSERT_TRUE(strstr(err->msg, "CDI spec file `low/z.json`: invalid JSON") != NULL);
    isd_error_free(err);
    cdi_registry_free(r);
}

RUN_TESTS()
