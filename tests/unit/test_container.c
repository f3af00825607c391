#include "harness.h"

#include <limits.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/container/container.h"

static struct container *make(const char *id, const char *name)
{
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    return container_new(id, name, cwd, cwd);
}

TEST(lookup_by_id_prefix_and_name)
{
    struct container_store *s = container_store_new();
    struct isd_error *err = NULL;
    struct container *a = make("aaaa1111", "web");
    struct container *b = make("aaaa2222", "db");
    struct container *c;
    ASSERT_INT_EQ(container_store_add(s, a, &err), 0);
    ASSERT_INT_EQ(container_store_add(s, b, &err), 0);
    c = container_store_lookup(s, "aaaa1", &err);
    ASSERT_TRUE(c == a);
    container_unref(c);
    c = container_store_lookup(s, "/db", &err);
    ASSERT_TRUE(c == b);
    container_unref(c);
    ASSERT_TRUE(container_store_lookup(s, "aaaa", &err) == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(container_store_lookup(s, "nope", &err) == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_NOT_FOUND);
    isd_error_free(err);
    container_unref(a);
    container_unref(b);
    container_store_free(s);
}

TEST(name_conflict_and_rename)
{
    struct container_store *s = container_store_new();
    struct isd_error *err = NULL;
    struct container *a = make("aaaa", "one");
    struct container *b = make("bbbb", "one");
    struct container *c = make("cccc", "two");
    ASSERT_INT_EQ(container_store_add(s, a, &err), 0);
    ASSERT_INT_EQ(container_store_add(s, b, &err), -1);
    ASSERT_INT_EQ(err->code, ISD_ERR_CONFLICT);
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(container_store_add(s, c, &err), 0);
    ASSERT_INT_EQ(container_store_rename(s, c, "one", &err), -1);
    ASSERT_INT_EQ(err->code, ISD_ERR_CONFLICT);
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(container_store_rename(s, c, "bad name!", &err), -1);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(container_store_rename(s, c, "three", &err), 0);
    ASSERT_STR_EQ(c->name, "three");
    container_unref(a);
    container_unref(b);
    container_unref(c);
    container_store_free(s);
}

TEST(name_rules)
{
    ASSERT_TRUE(container_name_valid("web-1.a_b"));
    ASSERT_TRUE(!container_name_valid("-web"));
    ASSERT_TRUE(!container_name_valid("a"));
    ASSERT_TRUE(!container_name_valid("a/b"));
    ASSERT_TRUE(!container_name_valid(""));
}

TEST(save_and_load_round_trip)
{
    struct isd_error *err = NULL;
    struct container *a = make("abcdef", "round");
    struct container *b;
    char cwd[PATH_MAX];
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    ASSERT_INT_EQ(mkdir_p(a->dir, 0700, &err), 0);
    a->status = CT_EXITED;
    a->exit_code = 7;
    a->created_ns = 1700000000000000000LL;
    a->finished_ns = 1700000001500000000LL;
    a->restart_count = 2;
    a->runtime = xstrdup("runc");
    a->image_ref = xstrdup("busybox");
    a->config = json_pack("{s:[s,s]}", "Cmd", "sleep", "1");
    a->host_config = json_pack("{s:b}", "AutoRemove", 1);
    pthread_mutex_lock(&a->lock);
    ASSERT_INT_EQ(container_save(a, true, &err), 0);
    pthread_mutex_unlock(&a->lock);
    b = container_load(a->dir, cwd, cwd, &err);
    ASSERT_TRUE(b != NULL);
    ASSERT_STR_EQ(b->name, "round");
    ASSERT_INT_EQ(b->status, CT_EXITED);
    ASSERT_INT_EQ(b->exit_code, 7);
    ASSERT_INT_EQ(b->finished_ns, a->finished_ns);
    ASSERT_INT_EQ(b->restart_count, 2);
    ASSERT_STR_EQ(b->runtime, "runc");
    ASSERT_TRUE(json_get_bool(b->host_config, "AutoRemove", false));
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(b->config, "Cmd"), 0)), "sleep");
    container_unref(a);
    container_unref(b);
}

TEST(status_words)
{
    ASSERT_STR_EQ(container_status_isula(CT_CREATED), "inited");
    ASSERT_STR_EQ(container_status_docker(CT_CREATED), "created");
    ASSERT_STR_EQ(container_status_docker(CT_EXITED), "exited");
}

RUN_TESTS()
