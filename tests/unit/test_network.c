#include "harness.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/network/cni.h"
#include "daemon/network/netns.h"

static void put(const char *path, const char *text)
{
    struct isd_error *e = NULL;
    if (write_file_atomic(path, text, strlen(text), 0755, false, &e) < 0) {
        fprintf(stderr, "write %s: %s\n", path, e->msg);
        isd_error_free(e);
    }
}

static bool skipped_has(char *const *v, const char *file, const char *reason)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        if (strstr(v[i], file) != NULL && strstr(v[i], reason) != NULL)
            return true;
    return false;
}

TEST(name_rules)
{
    ASSERT_TRUE(cni_name_valid("mynet"));
    ASSERT_TRUE(cni_name_valid("my-net.1"));
    ASSERT_TRUE(!cni_name_valid("MyNet"));
    ASSERT_TRUE(!cni_name_valid("-net"));
    ASSERT_TRUE(!cni_name_valid("net."));
    ASSERT_TRUE(!cni_name_valid("a..b"));
    ASSERT_TRUE(!cni_name_valid("a/b"));
    ASSERT_TRUE(!cni_name_valid("a_b"));
    ASSERT_TRUE(!cni_name_valid(""));
    char long_name[202];
    memset(long_name, 'a', 201);
    long_name[201] = '\0';
    ASSERT_TRUE(!cni_name_valid(long_name));
    long_name[200] = '\0';
    ASSERT_TRUE(cni_name_valid(long_name));
}

TEST(versions)
{
    ASSERT_TRUE(cni_version_supported("0.3.0"));
    ASSERT_TRUE(cni_version_supported("0.3.1"));
    ASSERT_TRUE(cni_version_supported("0.4.0"));
    ASSERT_TRUE(cni_version_supported("1.0.0"));
    ASSERT_TRUE(!cni_version_supported("0.2.0"));
    ASSERT_TRUE(!cni_version_supported("1.1.0"));
    ASSERT_INT_EQ(cni_version_cmp("0.3.1", "0.4.0"), -1);
    ASSERT_INT_EQ(cni_version_cmp("1.0.0", "0.4.0"), 1);
    ASSERT_INT_EQ(cni_version_cmp("0.4", "0.4.0"), 0);
}

TEST(parse_conf_becomes_list)
{
    const char *t = "{\"cniVersion\":\"0.3.1\",\"name\":\"n1\",\"type\":\"bridge\",\"bridge\":\"br9\"}";
    struct isd_error *e = NULL;
    struct cni_net *n = cni_net_parse(t, strlen(t), false, true, &e);
    ASSERT_TRUE(n != NULL);
    ASSERT_STR_EQ(n->name, "n1");
    ASSERT_STR_EQ(n->cni_version, "0.3.1");
    json_t *plugins = json_object_get(n->conf, "plugins");
    ASSERT_INT_EQ(json_array_size(plugins), 1);
    ASSERT_STR_EQ(json_get_str(json_array_get(plugins, 0), "bridge"), "br9");
    cni_net_free(n);
}

TEST(parse_errors)
{
    struct {
        const char *text;
        bool list;
        const char *want;
    } cases[] = {
        {"{\"cniVersion\":\"0.3.1\",\"name\":\"n\"", false, ""},
        {"[]", false, "not a JSON object"},
        {"{\"cniVersion\":\"0.3.1\",\"type\":\"bridge\"}", false, "no network \"name\""},
        {"{\"cniVersion\":\"0.3.1\",\"name\":\"../x\",\"type\":\"bridge\"}", false, "invalid network name"},
        {"{\"cniVersion\":\"0.2.0\",\"name\":\"n\",\"type\":\"bridge\"}", false, "not supported"},
        {"{\"name\":\"n\",\"type\":\"bridge\"}", false, "no \"cniVersion\""},
        {"{\"cniVersion\":\"0.3.1\",\"name\":\"n\"}", false, "no \"type\""},
        {"{\"cniVersion\":\"0.3.1\",\"name\":\"n\",\"type\":\"../bin/sh\"}", false, "invalid type"},
        {"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[]}", true, "non-empty array"},
        {"{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"},3]}", true, "not an object"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct isd_error *e = NULL;
        struct cni_net *n = cni_net_parse(cases[i].text, strlen(cases[i].text), cases[i].list, true, &e);
        if (n != NULL || e == NULL || strstr(e->msg, cases[i].want) == NULL)
            FAIL_AT("case %zu: got %s", i, e ? e->msg : "success");
        isd_error_free(e);
    }
}

TEST(dir_load_skips_bad_files)
{
    struct isd_error *e = NULL;
    char **skipped = NULL;
    mkdir_p("conf", 0755, &e);
    put("conf/10-good.conflist",
        "{\"cniVersion\":\"1.0.0\",\"name\":\"good\",\"plugins\":[{\"type\":\"bridge\"},{\"type\":\"portmap\"}]}");
    put("conf/20-single.conf", "{\"cniVersion\":\"0.3.0\",\"name\":\"single\",\"type\":\"loopback\"}");
    put("conf/30-badjson.json", "{\"cniVersion\":");
    put("conf/40-dup.conf", "{\"cniVersion\":\"0.3.0\",\"name\":\"good\",\"type\":\"loopback\"}");
    put("conf/50-dots.conf", "{\"cniVersion\":\"0.3.0\",\"name\":\"a..b\",\"type\":\"loopback\"}");
    put("conf/README.txt", "not a config");
    {
        size_t big_len = CNI_MAX_CONF_SIZE + 10;
        char *big = xmalloc(big_len + 1);
        memset(big, ' ', big_len);
        big[big_len] = '\0';
        memcpy(big, "{\"cniVersion\":\"0.3.0\",\"name\":\"big\",\"type\":\"loopback\"}", 52);
        put("conf/60-big.conf", big);
        free(big);
    }
    struct cni_net **nets = cni_dir_load("conf", true, &skipped, &e);
    ASSERT_TRUE(nets != NULL);
    ASSERT_TRUE(nets[0] != NULL && nets[1] != NULL && nets[2] == NULL);
    ASSERT_STR_EQ(nets[0]->name, "good");
    ASSERT_INT_EQ(json_array_size(json_object_get(nets[0]->conf, "plugins")), 2);
    ASSERT_STR_EQ(nets[1]->name, "single");
    ASSERT_INT_EQ(strv_len(skipped), 4);
    ASSERT_TRUE(skipped_has(skipped, "30-badjson.json", ""));
    ASSERT_TRUE(skipped_has(skipped, "40-dup.conf", "already defined"));
    ASSERT_TRUE(skipped_has(skipped, "50-dots.conf", "invalid network name"));
    ASSERT_TRUE(skipped_has(skipped, "60-big.conf", "larger than"));
    cni_net_list_free(nets);
    strv_free(skipped);
}

TEST(dir_load_file_limit)
{
    struct isd_error *e = NULL;
    char **skipped = NULL;
    mkdir_p("many", 0755, &e);
    for (int i = 0; i < CNI_MAX_CONF_FILES + 3; i++) {
        char path[64], text[128];
        snprintf(path, sizeof(path), "many/%03d.conf", i);
        snprintf(text, sizeof(text), "{\"cniVersion\":\"0.3.1\",\"name\":\"n%03d\",\"type\":\"loopback\"}", i);
        put(path, text);
    }
    struct cni_net **nets = cni_dir_load("many", true, &skipped, &e);
    size_t n = 0;
    while (nets[n] != NULL)
        n++;
    ASSERT_INT_EQ(n, CNI_MAX_CONF_FILES);
    ASSERT_INT_EQ(strv_len(skipped), 3);
    ASSERT_TRUE(skipped_has(skipped, "202.conf", "more than 200"));
    cni_net_list_free(nets);
    strv_free(skipped);
    nets = cni_dir_load("missing-dir", true, NULL, &e);
    ASSERT_TRUE(nets != NULL && nets[0] == NULL);
    cni_net_list_free(nets);
}

/* A fake plugin: records its environment and stdin, answers ADD with a result naming itself. */
static const char fake_plugin[] = "#!/bin/sh\n"
                                  "in=$(cat)\n"
                                  "n=$(basename $0)\n"
                                  "printf '%s\\n' \"$in\" > \"$n.$CNI_COMMAND.in\"\n"
                                  "env | grep ^CNI_ | sort > \"$n.$CNI_COMMAND.env\"\n"
                                  "echo $n >> order\n"
                                  "case \"$CNI_COMMAND\" in\n"
                                  "ADD) printf '{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.9.0.2/24\"}],"
                                  "\"by\":\"%s\"}' $n ;;\n"
                                  "esac\n";

static const char failing_plugin[] = "#!/bin/sh\ncat >/dev/null\n"
                                     "printf '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no luck\","
                                     "\"details\":\"really\"}'\nexit 1\n";

static json_t *read_json(const char *path)
{
    return json_load_path(path, 1 << 20, NULL);
}

TEST(add_chains_and_del_reverses)
{
    struct isd_error *e = NULL;
    mkdir_p("bin", 0755, &e);
    put("bin/first", fake_plugin);
    put("bin/second", fake_plugin);
    char *bins[] = {"missing", "bin", NULL};
    struct cni_env env = {.bin_dirs = bins, .cache_dir = "cache", .timeout_ns = 5000000000LL};
    const char *t = "{\"cniVersion\":\"1.0.0\",\"name\":\"chain\",\"plugins\":[{\"type\":\"first\"},"
                    "{\"type\":\"second\",\"capabilities\":{\"portMappings\":true}}]}";
    struct cni_net *n = cni_net_parse(t, strlen(t), true, true, &e);
    ASSERT_TRUE(n != NULL);
    json_t *caps = json_pack("{s:[{s:i,s:i,s:s}], s:s}", "portMappings", "hostPort", 8080, "containerPort", 80,
                             "protocol", "tcp", "mac", "02:00:00:00:00:01");
    struct cni_runtime rt = {.container_id = "c1",
                             .netns = "/proc/self/ns/net",
                             .ifname = "eth0",
                             .args = "IgnoreUnknown=1",
                             .capabilities = caps};
    json_t *res = cni_net_add(&env, n, &rt, &e);
    if (res == NULL)
        FAIL_AT("add: %s", e->msg);
    ASSERT_STR_EQ(json_get_str(res, "by"), "second");
    json_t *in1 = read_json("first.ADD.in"), *in2 = read_json("second.ADD.in");
    ASSERT_TRUE(in1 != NULL && in2 != NULL);
    ASSERT_STR_EQ(json_get_str(in1, "name"), "chain");
    ASSERT_STR_EQ(json_get_str(in1, "cniVersion"), "1.0.0");
    ASSERT_TRUE(json_object_get(in1, "prevResult") == NULL);
    ASSERT_TRUE(json_object_get(in1, "runtimeConfig") == NULL);
    ASSERT_STR_EQ(json_get_str(json_object_get(in2, "prevResult"), "by"), "first");
    json_t *rc = json_object_get(in2, "runtimeConfig");
    ASSERT_INT_EQ(json_array_size(json_object_get(rc, "portMappings")), 1);
    ASSERT_TRUE(json_object_get(rc, "mac") == NULL);
    cleanup_free char *envtext = read_file("first.ADD.env", 4096, NULL, &e);
    ASSERT_TRUE(envtext != NULL && strstr(envtext, "CNI_COMMAND=ADD\n") && strstr(envtext, "CNI_CONTAINERID=c1\n") &&
                strstr(envtext, "CNI_IFNAME=eth0\n") && strstr(envtext, "CNI_NETNS=/proc/self/ns/net\n") &&
                strstr(envtext, "CNI_ARGS=IgnoreUnknown=1\n") && strstr(envtext, "CNI_PATH=missing:bin\n"));
    json_decref(in1);
    json_decref(in2);

    /* The cache survives the process: DEL from the cache alone, without the network. */
    json_t *entry = cni_cache_get(&env, "chain", "c1", "eth0");
    ASSERT_TRUE(entry != NULL);
    ASSERT_STR_EQ(json_get_str(json_object_get(entry, "result"), "by"), "second");
    json_decref(entry);
    unlink("order");
    struct cni_runtime del_rt = {.container_id = "c1", .ifname = "eth0"};
    ASSERT_INT_EQ(cni_net_del(&env, NULL, &del_rt, "chain", &e), 0);
    cleanup_free char *order = read_file("order", 4096, NULL, &e);
    ASSERT_STR_EQ(order, "second\nfirst\n");
    json_t *din = read_json("first.DEL.in");
    ASSERT_STR_EQ(json_get_str(json_object_get(din, "prevResult"), "by"), "second");
    json_decref(din);
    cleanup_free char *denv = read_file("first.DEL.env", 4096, NULL, &e);
    ASSERT_TRUE(denv != NULL && strstr(denv, "CNI_NETNS=/proc/self/ns/net\n"));
    ASSERT_TRUE(cni_cache_get(&env, "chain", "c1", "eth0") == NULL);
    ASSERT_TRUE(!path_exists("cache/c1"));
    /* Nothing cached, no network: nothing to do. */
    ASSERT_INT_EQ(cni_net_del(&env, NULL, &del_rt, "chain", &e), 0);
    json_decref(res);
    json_decref(caps);
    cni_net_free(n);
}

TEST(plugin_errors)
{
    struct isd_error *e = NULL;
    mkdir_p("bin", 0755, &e);
    put("bin/failing", failing_plugin);
    put("bin/slow", "#!/bin/sh\nexec sleep 10\n");
    char *bins[] = {"bin", NULL};
    struct cni_env env = {.bin_dirs = bins, .cache_dir = "cache", .timeout_ns = 300000000LL};
    struct cni_runtime rt = {.container_id = "c2", .netns = "/x", .ifname = "eth0"};
    json_t *conf = json_pack("{s:s,s:s,s:s}", "cniVersion", "1.0.0", "name", "n", "type", "failing");
    ASSERT_TRUE(cni_plugin_exec(&env, "failing", "ADD", &rt, conf, &e) == NULL);
    ASSERT_TRUE(e != NULL && strstr(e->msg, "plugin `failing` ADD failed (code 11): no luck: really") != NULL);
    isd_error_free(e);
    e = NULL;
    ASSERT_TRUE(cni_plugin_exec(&env, "nosuch", "ADD", &rt, conf, &e) == NULL);
    ASSERT_TRUE(e != NULL && strstr(e->msg, "failed to find plugin `nosuch`") != NULL);
    isd_error_free(e);
    e = NULL;
    long long t0 = now_ns();
    ASSERT_TRUE(cni_plugin_exec(&env, "slow", "ADD", &rt, conf, &e) == NULL);
    ASSERT_TRUE(now_ns() - t0 < 5000000000LL);
    ASSERT_TRUE(e != NULL && strstr(e->msg, "timed out") != NULL);
    isd_error_free(e);
    json_decref(conf);
}

TEST(netns_pin_and_remove)
{
    struct isd_error *e = NULL;
    char *path = NULL;
    struct stat mine, pinned;
    if (geteuid() != 0)
        SKIP("network namespaces need root");
    ASSERT_INT_EQ(netns_create("ns", "c1", &path, &e), 0);
    ASSERT_TRUE(stat("/proc/self/ns/net", &mine) == 0 && stat(path, &pinned) == 0);
    ASSERT_TRUE(mine.st_ino != pinned.st_ino);
    ASSERT_TRUE(mine.st_dev == pinned.st_dev); /* both on nsfs: the pin is a namespace, not the empty file */
    {
        cleanup_free char *cmd = xasprintf("nsenter --net=%s ip -o link show lo", path);
        const char *argv[] = {"sh", "-c", cmd, NULL};
        cleanup_free char *out = NULL;
        ASSERT_INT_EQ(spawn_run(argv, NULL, &out, NULL, &e), 0);
        ASSERT_TRUE(strstr(out, "LOOPBACK,UP") != NULL);
    }
    char *again = NULL;
    ASSERT_INT_EQ(netns_create("ns", "c1", &again, &e), -1);
    ASSERT_INT_EQ(e->code, ISD_ERR_CONFLICT);
    isd_error_free(e);
    e = NULL;
    ASSERT_INT_EQ(netns_remove(path, &e), 0);
    ASSERT_TRUE(!path_exists(path));
    ASSERT_INT_EQ(netns_remove(path, &e), 0);
    free(path);
}

int main(void)
{
    return run_tests();
}
