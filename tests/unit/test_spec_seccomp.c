#include "harness.h"

#include <limits.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/spec/spec.h"

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static json_t *J(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (j == NULL)
        fprintf(stderr, "bad test JSON: %s\n", je.text);
    return j;
}

/* Generates a spec with HostConfig hc and daemon default profile dflt (JSON text or NULL). */
static json_t *gen(const char *hc, const char *dflt, bool selinux, struct isd_error **err)
{
    cleanup_json json_t *c = J("{\"Cmd\":[\"sh\"]}");
    cleanup_json json_t *h = J(hc);
    cleanup_json json_t *d = dflt ? J(dflt) : NULL;
    char cwd[PATH_MAX];
    cleanup_free char *root = NULL;
    struct spec_input in = {
        .id = ID, .config = c, .host_config = h, .umask = "secure", .seccomp_default = d, .selinux_enabled = selinux};
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    root = xasprintf("%s/rootfs", cwd);
    mkdir(root, 0755);
    in.rootfs = root;
    return spec_generate(&in, err);
}

static const json_t *seccomp(const json_t *spec)
{
    return json_object_get(json_object_get(spec, "linux"), "seccomp");
}

/* The syscall rule naming name, or NULL. */
static const json_t *rule_of(const json_t *sc, const char *name)
{
    size_t i, j;
    json_t *r, *n;
    json_array_foreach(json_object_get(sc, "syscalls"), i, r)
    {
        json_array_foreach(json_object_get(r, "names"), j, n) if (streq(json_string_value(n), name)) return r;
    }
    return NULL;
}

static bool is_x86_64(void)
{
    struct utsname u;
    return uname(&u) == 0 && streq(u.machine, "x86_64");
}

TEST(default_profile_builtin_and_conditions)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *p = spec_seccomp_default_load("/nonexistent/seccomp.json", &err);
    cleanup_free char *text = json_to_string(p);
    cleanup_json json_t *s = gen("{}", text, false, &err);
    cleanup_json json_t *admin = gen("{\"CapAdd\":[\"SYS_ADMIN\"]}", text, false, &err);
    const json_t *sc = seccomp(s);
    ASSERT_TRUE(p != NULL && s != NULL && admin != NULL);
    ASSERT_STR_EQ(json_get_str(sc, "defaultAction"), "SCMP_ACT_ERRNO");
    ASSERT_INT_EQ(json_get_int(sc, "defaultErrnoRet", 0), 1);
    ASSERT_TRUE(rule_of(sc, "read") != NULL && rule_of(sc, "keyctl") == NULL && rule_of(sc, "kexec_load") == NULL);
    /* caps: chroot with CAP_SYS_CHROOT (a default), mount/unshare only with CAP_SYS_ADMIN */
    ASSERT_TRUE(rule_of(sc, "chroot") != NULL && rule_of(sc, "mount") == NULL && rule_of(sc, "unshare") == NULL);
    ASSERT_TRUE(rule_of(seccomp(admin), "mount") != NULL && rule_of(seccomp(admin), "unshare") != NULL);
    /* clone without CAP_SYS_ADMIN: only without namespace flags; clone3 ENOSYS */
    ASSERT_TRUE(json_array_size(json_object_get(rule_of(sc, "clone"), "args")) == 1);
    ASSERT_INT_EQ(json_get_int(rule_of(sc, "clone3"), "errnoRet", 0), 38);
    if (is_x86_64()) {
        const json_t *arch = json_object_get(sc, "architectures");
        ASSERT_INT_EQ(json_array_size(arch), 3);
        ASSERT_STR_EQ(json_string_value(json_array_get(arch, 0)), "SCMP_ARCH_X86_64");
        ASSERT_TRUE(rule_of(sc, "arch_prctl") != NULL && rule_of(sc, "s390_runtime_instr") == NULL);
    }
    /* no filter: privileged, unconfined, or no default profile */
    {
        cleanup_json json_t *a = gen("{\"Privileged\":true}", text, false, &err);
        cleanup_json json_t *b = gen("{\"SecurityOpt\":[\"seccomp=unconfined\"]}", text, false, &err);
        cleanup_json json_t *c = gen("{}", NULL, false, &err);
        cleanup_json json_t *d = gen("{\"SecurityOpt\":[\"seccomp=builtin\"]}", text, false, &err);
        ASSERT_TRUE(a && b && c && !seccomp(a) && !seccomp(b) && !seccomp(c));
        ASSERT_TRUE(d != NULL && seccomp(d) != NULL);
    }
}

TEST(inline_profile_args_and_errors)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *s = gen(
        "{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"architectures\\\":["
        "\\\"SCMP_ARCH_X86_64\\\"],\\\"syscalls\\\":[{\\\"name\\\":\\\"chmod\\\",\\\"action\\\":\\\"SCMP_ACT_ERRNO\\\","
        "\\\"args\\\":[{\\\"index\\\":1,\\\"value\\\":448,\\\"value_two\\\":0,\\\"op\\\":\\\"SCMP_CMP_EQ\\\"}]}]}\"]}",
        NULL, false, &err);
    const json_t *r = rule_of(seccomp(s), "chmod");
    const json_t *a = json_array_get(json_object_get(r, "args"), 0);
    ASSERT_TRUE(s != NULL && r != NULL);
    ASSERT_STR_EQ(json_get_str(r, "action"), "SCMP_ACT_ERRNO");
    ASSERT_INT_EQ(json_get_int(a, "value", 0), 448);
    ASSERT_STR_EQ(json_get_str(a, "op"), "SCMP_CMP_EQ");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(seccomp(s), "architectures"), 0)),
                  "SCMP_ARCH_X86_64");
    ASSERT_TRUE(gen("{\"SecurityOpt\":[\"seccomp=rel.json\"]}", NULL, false, &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "absolute") != NULL);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(gen("{\"SecurityOpt\":[\"seccomp={\\\"defaultAction\\\":\\\"SCMP_ACT_ALLOW\\\",\\\"syscalls\\\":[{"
                    "\\\"name\\\":\\\"a\\\",\\\"names\\\":[\\\"b\\\"],\\\"action\\\":\\\"SCMP_ACT_ERRNO\\\"}]}\"]}",
                    NULL, false, &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "'name' or 'names'") != NULL);
    isd_error_free(err);
}

TEST(security_opt_forms)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *a = gen("{\"SecurityOpt\":[\"no-new-privileges:true\",\"label=disable\","
                                 "\"apparmor=unconfined\",\"systempaths=unconfined\"],"
                                 "\"DeviceCgroupRules\":[\"c 1:11 r\",\"b *:* m\"]}",
                                 NULL, false, &err);
    const json_t *devs = json_object_get(json_object_get(json_object_get(a, "linux"), "resources"), "devices");
    const json_t *last = json_array_get(devs, json_array_size(devs) - 1);
    ASSERT_TRUE(a != NULL);
    ASSERT_TRUE(json_get_bool(json_object_get(a, "process"), "noNewPrivileges", false));
    ASSERT_TRUE(json_object_get(json_object_get(a, "linux"), "maskedPaths") == NULL);
    ASSERT_STR_EQ(json_get_str(last, "type"), "b");
    ASSERT_TRUE(json_object_get(last, "major") == NULL && streq(json_get_str(last, "access"), "m"));
    ASSERT_TRUE(gen("{\"SecurityOpt\":[\"label=type:container_t\"]}", NULL, false, &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "selinux-enabled") != NULL);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(gen("{\"SecurityOpt\":[\"nope=1\"]}", NULL, false, &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "Invalid --security-opt") != NULL);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(gen("{\"DeviceCgroupRules\":[\"c 1:x rwm\"]}", NULL, false, &err) == NULL);
    ASSERT_TRUE(strstr(err->msg, "invalid device cgroup rule") != NULL);
    isd_error_free(err);
}

/* The built-in AppArmor profile compiles (apparmor_parser -Q: no kernel load), also on hosts without AppArmor. */
TEST(apparmor_default_profile_compiles)
{
    static const char *const argv[] = {"apparmor_parser", "-QK", NULL};
    cleanup_free char *out = NULL, *errout = NULL;
    struct isd_error *err = NULL;
    int rc;
    if (!path_exists("/usr/sbin/apparmor_parser") && !path_exists("/sbin/apparmor_parser"))
        SKIP("needs apparmor_parser (Debian's apparmor)");
    ASSERT_TRUE(strstr(spec_apparmor_default_profile(), "profile " SPEC_APPARMOR_DEFAULT " ") != NULL);
    rc = spawn_run(argv, spec_apparmor_default_profile(), &out, &errout, &err);
    if (rc != 0)
        fprintf(stderr, "apparmor_parser: %s\n", errout != NULL ? errout : "");
    ASSERT_INT_EQ(rc, 0);
}

/* Without AppArmor on the host no profile is set, a named one is refused, unconfined is accepted. */
TEST(apparmor_without_apparmor)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *s = NULL;
    if (spec_apparmor_enabled())
        SKIP("the host has AppArmor (tests/integration/test_quota_vm.py covers it)");
    s = gen("{\"SecurityOpt\":[\"apparmor=unconfined\"]}", NULL, false, &err);
    ASSERT_TRUE(s != NULL);
    ASSERT_TRUE(json_object_get(json_object_get(s, "process"), "apparmorProfile") == NULL);
    json_decref(s);
    s = gen("{}", NULL, false, &err);
    ASSERT_TRUE(s != NULL && json_object_get(json_object_get(s, "process"), "apparmorProfile") == NULL);
    json_decref(s);
    s = gen("{\"SecurityOpt\":[\"apparmor=" SPEC_APPARMOR_DEFAULT "\"]}", NULL, false, &err);
    ASSERT_TRUE(s == NULL && err != NULL);
    ASSERT_STR_EQ(err->msg, "apparmor=isulad-default: AppArmor is not enabled on this host");
    isd_error_free(err);
}

RUN_TESTS()
