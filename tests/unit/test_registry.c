/* Unit tests of the registry client's pure parts: challenges, manifests, platform selection, endpoints,
 * credential keys, base64, progress lines and the stored logins file. */
#include "harness.h"

#include <sys/stat.h>

#include "common/util.h"
#include "daemon/image/registry/registry.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

TEST(challenge_bearer)
{
    struct auth_challenge c = {0};
    ASSERT_INT_EQ(
        registry_challenge_parse(
            "Bearer realm=\"https://auth.example/token\",service=\"reg\",scope=\"repository:a/b:pull,push\"", &c, NULL),
        0);
    ASSERT_STR_EQ(c.scheme, "bearer");
    ASSERT_STR_EQ(c.realm, "https://auth.example/token");
    ASSERT_STR_EQ(c.service, "reg");
    ASSERT_STR_EQ(c.scope, "repository:a/b:pull,push");
    registry_challenge_clear(&c);
    ASSERT_INT_EQ(registry_challenge_parse("Basic realm=\"Registry Realm\"", &c, NULL), 0);
    ASSERT_STR_EQ(c.scheme, "basic");
    ASSERT_STR_EQ(c.realm, "Registry Realm");
    ASSERT_TRUE(c.service == NULL);
    registry_challenge_clear(&c);
    ASSERT_INT_EQ(registry_challenge_parse("bearer realm=x , service = \"a\\\"b\"", &c, NULL), 0);
    ASSERT_STR_EQ(c.realm, "x");
    ASSERT_STR_EQ(c.service, "a\"b");
    registry_challenge_clear(&c);
    ASSERT_INT_EQ(registry_challenge_parse("Bearer realm=\"unterminated", &c, NULL), -1);
    ASSERT_INT_EQ(registry_challenge_parse("", &c, NULL), -1);
}

TEST(manifest_docker_and_oci)
{
    const char *m =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"digest\":\"" D1
        "\",\"size\":7},\"layers\":[{\"digest\":\"" D2 "\",\"size\":10},{\"digest\":\"" D3 "\",\"size\":0}]}";
    struct registry_manifest *r = registry_manifest_parse(m, strlen(m), NULL, NULL);
    ASSERT_TRUE(r != NULL && !r->is_index);
    ASSERT_STR_EQ(r->config.digest, D1);
    ASSERT_INT_EQ(r->n_layers, 2);
    ASSERT_INT_EQ(r->layers[0].size, 10);
    registry_manifest_free(r);
    /* OCI without mediaType: the Content-Type decides */
    const char *o = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":7},\"layers\":[]}";
    r = registry_manifest_parse(o, strlen(o), MT_OCI_MANIFEST, NULL);
    ASSERT_TRUE(r != NULL && r->n_layers == 0);
    registry_manifest_free(r);
}

TEST(manifest_rejects_bad_input)
{
    struct isd_error *err = NULL;
    const char *bad[] = {
        "{\"schemaVersion\":1,\"fsLayers\":[]}",
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"digest\":\"md5:00\",\"size\":1},"
        "\"layers\":[]}",
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_DOCKER_MANIFEST "\",\"config\":{\"digest\":\"" D1
        "\",\"size\":-1},\"layers\":[]}",
        "{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}",
        "[1,2]",
        "{not json",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ASSERT_TRUE(registry_manifest_parse(bad[i], strlen(bad[i]), NULL, &err) == NULL);
        ASSERT_TRUE(err != NULL);
        isd_error_free(err);
        err = NULL;
    }
}

static struct registry_manifest *index_of(const char *plats)
{
    const char *j = plats;
    return registry_manifest_parse(j, strlen(j), MT_OCI_INDEX, NULL);
}

TEST(index_platform_selection)
{
    struct registry_manifest *m =
        index_of("{\"schemaVersion\":2,\"manifests\":["
                 "{\"digest\":\"" D1
                 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
                 "{\"digest\":\"" D2 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
                 "{\"digest\":\"" D3 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}");
    ASSERT_TRUE(m != NULL && m->is_index && m->n_layers == 3);
    ASSERT_STR_EQ(registry_index_select(m, "linux", "amd64", NULL)->digest, D3);
    /* arm64 with variant v8 accepts an entry without variant */
    ASSERT_STR_EQ(registry_index_select(m, "linux", "arm64", "v8")->digest, D2);
    /* arm v7 runs v6, but v5 does not */
    ASSERT_STR_EQ(registry_index_select(m, "linux", "arm", "v7")->digest, D1);
    ASSERT_TRUE(registry_index_select(m, "linux", "arm", "v5") == NULL);
    ASSERT_TRUE(registry_index_select(m, "windows", "amd64", NULL) == NULL);
    ASSERT_TRUE(registry_index_select(m, "linux", "s390x", NULL) == NULL);
    registry_manifest_free(m);
}

TEST(host_platform)
{
    const char *os, *arch, *variant;
    registry_host_platform(&os, &arch, &variant);
    ASSERT_STR_EQ(os, "linux");
#if defined(__x86_64__)
    ASSERT_STR_EQ(arch, "amd64");
    ASSERT_TRUE(variant == NULL);
#endif
}

TEST(endpoints_and_mirrors)
{
    char *mirrors[] = {"https://mirror.a:5000", "http://mirror.b", "docker.io", NULL};
    char *insecure[] = {"mirror.a:5000", "reg.local:5000", NULL};
    size_t n = 0;
    struct registry_endpoint *e = registry_endpoints("docker.io", mirrors, insecure, &n);
    ASSERT_INT_EQ(n, 3);
    ASSERT_STR_EQ(e[0].host, "mirror.a:5000");
    ASSERT_STR_EQ(e[0].scheme, "https");
    ASSERT_TRUE(e[0].insecure && e[0].is_mirror);
    ASSERT_STR_EQ(e[1].host, "mirror.b");
    ASSERT_STR_EQ(e[1].scheme, "http");
    ASSERT_STR_EQ(e[2].host, "registry-1.docker.io");
    ASSERT_TRUE(!e[2].insecure && !e[2].is_mirror);
    registry_endpoints_free(e, n);
    /* qualified names never use mirrors */
    e = registry_endpoints("reg.local:5000", mirrors, insecure, &n);
    ASSERT_INT_EQ(n, 1);
    ASSERT_STR_EQ(e[0].host, "reg.local:5000");
    ASSERT_TRUE(e[0].insecure);
    registry_endpoints_free(e, n);
    e = registry_endpoints("other:5000", NULL, insecure, &n);
    ASSERT_TRUE(n == 1 && !e[0].insecure);
    registry_endpoints_free(e, n);
}

TEST(auth_keys)
{
    const char *hub[] = {NULL, "", "docker.io", "https://index.docker.io/v1/", "registry-1.docker.io"};
    for (size_t i = 0; i < ARRAY_SIZE(hub); i++) {
        cleanup_free char *k = registry_auth_key(hub[i]);
        ASSERT_STR_EQ(k, "docker.io");
    }
    cleanup_free char *k = registry_auth_key("https://127.0.0.1:5000/v2/");
    ASSERT_STR_EQ(k, "127.0.0.1:5000");
}

TEST(base64_round_trip)
{
    cleanup_free char *e = registry_base64_encode("user:pa ss?>", 12);
    cleanup_free char *d = registry_base64_decode(e, NULL);
    ASSERT_STR_EQ(d, "user:pa ss?>");
    /* docker's X-Registry-Auth: URL-safe alphabet */
    cleanup_free char *u = registry_base64_decode("eyJ1c2VybmFtZSI6ImEifQ", NULL);
    ASSERT_STR_EQ(u, "{\"username\":\"a\"}");
    cleanup_free char *s = registry_base64_decode("Pz8_", NULL);
    ASSERT_STR_EQ(s, "???");
    ASSERT_TRUE(registry_base64_decode("@@@@", NULL) == NULL);
}

TEST(progress_lines)
{
    cleanup_free char *bar = registry_progress_bar(500, 1000);
    cleanup_free char *j = registry_progress_json("Downloading", "abc", 500, 1000);
    cleanup_free char *e = registry_progress_error_json("boom");
    ASSERT_TRUE(str_has_prefix(bar, "[========================>                         ]"));
    ASSERT_TRUE(strstr(bar, "500B/1kB") != NULL);
    ASSERT_TRUE(strstr(j, "\"progressDetail\":{\"current\":500,\"total\":1000}") != NULL);
    ASSERT_TRUE(strstr(j, "\"id\":\"abc\"") != NULL);
    ASSERT_STR_EQ(e, "{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}");
}

TEST(auths_file)
{
    char *u = NULL, *p = NULL;
    struct stat st;
    ASSERT_INT_EQ(registry_auths_get("auths.json", "reg:5000", &u, &p, NULL), 0);
    ASSERT_TRUE(u == NULL && p == NULL);
    ASSERT_INT_EQ(registry_auths_set("auths.json", "https://reg:5000", "me", "p:w", NULL), 0);
    ASSERT_INT_EQ(stat("auths.json", &st), 0);
    ASSERT_INT_EQ(st.st_mode & 0777, 0600);
    ASSERT_INT_EQ(registry_auths_get("auths.json", "reg:5000", &u, &p, NULL), 0);
    ASSERT_STR_EQ(u, "me");
    ASSERT_STR_EQ(p, "p:w");
    free(u), free(p);
    ASSERT_INT_EQ(registry_auths_remove("auths.json", "reg:5000", NULL), 0);
    ASSERT_INT_EQ(registry_auths_remove("auths.json", "reg:5000", NULL), -1);
}

RUN_TESTS()
