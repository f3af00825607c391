#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "common/user_remap.h"
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

static bool json_has_str(const json_t *a, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (streq(json_string_value(e), s))
            return true;
    }
    return false;
}

static const json_t *find_mount(const json_t *spec, const char *dst)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(spec, "mounts"), i, m)
    {
        if (streq(json_get_str(m, "destination"), dst))
            return m;
    }
    return NULL;
}

static bool has_ns(const json_t *spec, const char *type)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, n)
    {
        if (streq(json_get_str(n, "type"), type))
            return true;
    }
    return false;
}

static void write_text(const char *path, const char *text)
{
    struct isd_error *err = NULL;
    if (write_file_atomic(path, text, strlen(text), 0644, false, &err) < 0) {
        fprintf(stderr, "write %s: %s\n", path, err->msg);
        isd_error_free(err);
    }
}

/* A minimal rootfs in ./rootfs with etc/passwd and etc/group; returns its absolute path. */
static char *make_rootfs(void)
{
    char cwd[PATH_MAX];
    char *root;
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    root = xasprintf("%s/rootfs", cwd);
    mkdir(root, 0755);
    mkdir("rootfs/etc", 0755);
    write_text("rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
                                    "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n");
    write_text("rootfs/etc/group", "root:x:0:\nwheel:x:10:alice,bob\nstaff:x:50:alice\nalice:x:1000:\n");
    mkdir("ctr", 0700);
    return root;
}

/* Generates a spec for config/host_config JSON texts; NULL and *ret_err set on failure. */
static json_t *gen(const char *root, const char *config, const char *hc, struct isd_error **ret_err)
{
    cleanup_json json_t *c = J(config);
    cleanup_json json_t *h = hc ? J(hc) : NULL;
    char cwd[PATH_MAX];
    cleanup_free char *ctr = NULL;
    struct spec_input in = {
        .id = ID, .config = c, .host_config = h, .rootfs = root, .cgroup_parent = NULL, .umask = "secure"};
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    ctr = xasprintf("%s/ctr", cwd);
    in.container_dir = ctr;
    return spec_generate(&in, ret_err);
}

TEST(merge_env_override_and_hostname)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *img = J("{\"config\":{\"Env\":[\"PATH=/bin\",\"A=1\",\"B=2\"],\"Cmd\":[\"sh\"],"
                                 "\"WorkingDir\":\"/w\",\"Labels\":{\"x\":\"1\"}}}");
    cleanup_json json_t *body = J("{\"Image\":\"busybox\",\"Env\":[\"B=3\",\"C=4\"],\"Labels\":{\"y\":\"2\"}}");
    cleanup_json json_t *c = spec_merge_config(img, body, ID, &err);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(json_array_size(json_object_get(c, "Env")), 4);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(c, "Env"), 2)), "B=3");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(c, "Env"), 3)), "C=4");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(c, "Cmd"), 0)), "sh");
    ASSERT_STR_EQ(json_get_str(c, "Hostname"), "0123456789ab");
    ASSERT_STR_EQ(json_get_str(c, "WorkingDir"), "/w");
    ASSERT_STR_EQ(json_get_str(c, "Image"), "busybox");
    ASSERT_INT_EQ(json_object_size(json_object_get(c, "Labels")), 2);
}

TEST(merge_host_network_takes_host_name)
{
    struct isd_error *err = NULL;
    char host[256] = "";
    cleanup_json json_t *body = J("{\"Cmd\":[\"sh\"],\"HostConfig\":{\"NetworkMode\":\"host\"}}");
    cleanup_json json_t *body2 =
        J("{\"Cmd\":[\"sh\"],\"Hostname\":\"mine\",\"HostConfig\":{\"NetworkMode\":\"host\"}}");
    cleanup_json json_t *c = spec_merge_config(NULL, body, ID, &err);
    cleanup_json json_t *c2 = spec_merge_config(NULL, body2, ID, &err);
    ASSERT_INT_EQ(gethostname(host, sizeof(host) - 1), 0);
    ASSERT_STR_EQ(json_get_str(c, "Hostname"), host);
    ASSERT_STR_EQ(json_get_str(c2, "Hostname"), "mine");
}

TEST(merge_entrypoint_drops_image_cmd)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *img = J("{\"Entrypoint\":[\"/init\"],\"Cmd\":[\"--serve\"]}");
    cleanup_json json_t *body = J("{\"Entrypoint\":[\"/bin/echo\"]}");
    cleanup_json json_t *c = spec_merge_config(img, body, ID, &err);
    cleanup_json json_t *body2 = J("{\"Cmd\":\"top\"}");
    cleanup_json json_t *c2 = spec_merge_config(img, body2, ID, &err);
    ASSERT_TRUE(c != NULL && c2 != NULL);
    ASSERT_TRUE(json_is_null(json_object_get(c, "Cmd")));
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(c, "Entrypoint"), 0)), "/bin/echo");
    /* A user Cmd alone keeps the image Entrypoint; a string Cmd is a one-element slice. */
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(c2, "Entrypoint"), 0)), "/init");
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(c2, "Cmd"), 0)), "top");
}

TEST(merge_no_command_is_an_error)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *img = J("{\"config\":{\"Env\":[\"A=1\"]}}");
    cleanup_json json_t *body = J("{\"Image\":\"x\"}");
    cleanup_json json_t *reset = J("{\"Entrypoint\":[\"\"]}");
    cleanup_json json_t *img2 = J("{\"Entrypoint\":[\"/init\"]}");
    ASSERT_TRUE(spec_merge_config(img, body, ID, &err) == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    ASSERT_STR_EQ(err->msg, "no command specified");
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(spec_merge_config(NULL, body, ID, &err) == NULL);
    isd_error_free(err);
    err = NULL;
    /* --entrypoint "" resets the image's entrypoint, leaving nothing to run. */
    ASSERT_TRUE(spec_merge_config(img2, reset, ID, &err) == NULL);
    isd_error_free(err);
}

TEST(generate_process_fields)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *s =
        gen(root,
            "{\"Hostname\":\"web\",\"Env\":[\"A=1\"],\"Entrypoint\":[\"/bin/sh\",\"-c\"],"
            "\"Cmd\":[\"echo hi\"],\"WorkingDir\":\"/srv\",\"Tty\":true,\"User\":\"alice\"}",
            "{\"CapAdd\":[\"net_admin\",\"CAP_SYS_TIME\"],\"CapDrop\":[\"MKNOD\",\"cap_chown\"]}", &err);
    const json_t *p = json_object_get(s, "process");
    const json_t *caps = json_object_get(json_object_get(p, "capabilities"), "bounding");
    ASSERT_TRUE(s != NULL);
    ASSERT_STR_EQ(json_get_str(s, "ociVersion"), "1.0.2");
    ASSERT_STR_EQ(json_get_str(s, "hostname"), "web");
    ASSERT_INT_EQ(json_array_size(json_object_get(p, "args")), 3);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(p, "args"), 2)), "echo hi");
    ASSERT_TRUE(json_has_str(json_object_get(p, "env"), "HOSTNAME=web"));
    ASSERT_TRUE(json_has_str(json_object_get(p, "env"), "TERM=xterm"));
    ASSERT_TRUE(json_has_str(json_object_get(p, "env"), "A=1"));
    ASSERT_TRUE(str_has_prefix(json_string_value(json_array_get(json_object_get(p, "env"), 0)), "PATH="));
    ASSERT_STR_EQ(json_get_str(p, "cwd"), "/srv");
    ASSERT_TRUE(json_get_bool(p, "terminal", false));
    ASSERT_INT_EQ(json_get_int(json_object_get(p, "user"), "uid", -1), 1000);
    ASSERT_INT_EQ(json_get_int(json_object_get(p, "user"), "umask", -1), 027);
    ASSERT_TRUE(json_has_str(caps, "CAP_NET_ADMIN") && json_has_str(caps, "CAP_SYS_TIME"));
    ASSERT_TRUE(json_has_str(caps, "CAP_KILL") && json_has_str(caps, "CAP_AUDIT_WRITE"));
    ASSERT_TRUE(!json_has_str(caps, "CAP_MKNOD") && !json_has_str(caps, "CAP_CHOWN"));
    ASSERT_TRUE(json_object_get(json_object_get(p, "capabilities"), "ambient") == NULL);
    ASSERT_TRUE(!json_get_bool(p, "noNewPrivileges", true));
    ASSERT_TRUE(json_object_get(p, "oomScoreAdj") == NULL);
    ASSERT_STR_EQ(json_get_str(json_object_get(s, "annotations"), "native.umask"), "secure");
    ASSERT_STR_EQ(json_get_str(json_object_get(s, "linux"), "cgroupsPath"), "/isulad/" ID);
    ASSERT_TRUE(json_object_get(json_object_get(s, "linux"), "maskedPaths") != NULL);
    ASSERT_TRUE(has_ns(s, "network") && has_ns(s, "pid") && has_ns(s, "mount"));
    ASSERT_TRUE(path_exists("ctr/hostname") && path_exists("ctr/hosts") && path_exists("ctr/resolv.conf"));
    {
        cleanup_free char *hosts = read_file("ctr/hosts", 65536, NULL, NULL);
        cleanup_free char *resolv = read_file("ctr/resolv.conf", 65536, NULL, NULL);
        cleanup_free char *hn = read_file("ctr/hostname", 65536, NULL, NULL);
        ASSERT_STR_EQ(hn, "web\n");
        ASSERT_TRUE(hosts != NULL && strstr(hosts, "127.0.0.1\tlocalhost\n") && strstr(hosts, "\tweb\n"));
        ASSERT_TRUE(resolv != NULL && strstr(resolv, "nameserver ") && !strstr(resolv, "nameserver 127."));
    }
}

TEST(generate_caps_all_and_privileged)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *a = gen(root, "{\"Cmd\":[\"sh\"]}", "{\"CapDrop\":[\"ALL\"],\"CapAdd\":[\"KILL\"]}", &err);
    cleanup_json json_t *b = gen(root, "{\"Cmd\":[\"sh\"]}", "{\"Privileged\":true}", &err);
    cleanup_json json_t *c = gen(root, "{\"Cmd\":[\"sh\"]}", "{\"CapAdd\":[\"CAP_BOGUS\"]}", &err);
    const json_t *ca = json_object_get(json_object_get(json_object_get(a, "process"), "capabilities"), "effective");
    const json_t *cb = json_object_get(json_object_get(json_object_get(b, "process"), "capabilities"), "effective");
    const json_t *devs = json_object_get(json_object_get(json_object_get(b, "linux"), "resources"), "devices");
    ASSERT_TRUE(a != NULL && b != NULL && c == NULL);
    ASSERT_INT_EQ(json_array_size(ca), 1);
    ASSERT_TRUE(json_has_str(cb, "CAP_SYS_ADMIN"));
    ASSERT_TRUE(json_object_get(json_object_get(b, "linux"), "maskedPaths") == NULL);
    ASSERT_TRUE(json_object_get(json_object_get(b, "linux"), "readonlyPaths") == NULL);
    ASSERT_TRUE(json_get_bool(json_array_get(devs, 0), "allow", false));
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    ASSERT_TRUE(strstr(err->msg, "CAP_BOGUS") != NULL);
    isd_error_free(err);
}

TEST(generate_binds_and_mounts)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_free char *hc = xasprintf("{\"ReadonlyRootfs\":true,\"Binds\":[\"%s/etc:/data/etc:ro\",\"%s:/data\"],"
                                      "\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/run\",\"TmpfsOptions\":"
                                      "{\"SizeBytes\":1048576}}],\"Tmpfs\":{\"/scratch\":\"size=1m\"},"
                                      "\"ShmSize\":1048576}",
                                      root, root);
    cleanup_json json_t *s = gen(root, "{\"Cmd\":[\"sh\"]}", hc, &err);
    const json_t *ro = find_mount(s, "/data/etc"), *rw = find_mount(s, "/data");
    size_t i, i_data = 0, i_etc = 0;
    json_t *m;
    ASSERT_TRUE(s != NULL);
    ASSERT_TRUE(json_get_bool(json_object_get(s, "root"), "readonly", false));
    ASSERT_TRUE(ro != NULL && rw != NULL);
    ASSERT_STR_EQ(json_get_str(ro, "type"), "bind");
    ASSERT_TRUE(json_has_str(json_object_get(ro, "options"), "rbind"));
    ASSERT_TRUE(json_has_str(json_object_get(ro, "options"), "rprivate"));
    ASSERT_TRUE(json_has_str(json_object_get(ro, "options"), "ro"));
    ASSERT_TRUE(!json_has_str(json_object_get(rw, "options"), "ro"));
    ASSERT_TRUE(json_has_str(json_object_get(find_mount(s, "/run"), "options"), "size=1048576"));
    ASSERT_TRUE(json_has_str(json_object_get(find_mount(s, "/scratch"), "options"), "size=1m"));
    ASSERT_TRUE(json_has_str(json_object_get(find_mount(s, "/dev/shm"), "options"), "size=1048576"));
    json_array_foreach(json_object_get(s, "mounts"), i, m)
    {
        if (streq(json_get_str(m, "destination"), "/data"))
            i_data = i;
        if (streq(json_get_str(m, "destination"), "/data/etc"))
            i_etc = i;
    }
    ASSERT_TRUE(i_data < i_etc);
    ASSERT_TRUE(find_mount(s, "/etc/hosts") != NULL && find_mount(s, "/proc") != NULL);
}

/* -v creates a missing source directory (Docker's behaviour; --mount refuses it, see below); --mount replaces a -v
 * bind of the same destination (the guide's C-run-c05) instead of being a duplicate. */
TEST(generate_bind_creates_source_and_mount_wins)
{
    cleanup_free char *root = make_rootfs();
    cleanup_free char *src = xasprintf("%s/made/by/v", root);
    cleanup_free char *hc = xasprintf("{\"Binds\":[\"%s:/data\",\"/tmp:/m\"],\"Mounts\":[{\"Type\":\"bind\","
                                      "\"Source\":\"%s\",\"Target\":\"/m\"}]}",
                                      src, root);
    struct isd_error *err = NULL;
    json_t *s = gen(root, "{\"Cmd\":[\"sh\"]}", hc, &err);
    struct stat st;
    size_t i, n_m = 0;
    json_t *m;
    ASSERT_TRUE(s != NULL);
    ASSERT_TRUE(stat(src, &st) == 0 && S_ISDIR(st.st_mode));
    json_array_foreach(json_object_get(s, "mounts"), i, m)
    {
        if (streq(json_get_str(m, "destination"), "/m")) {
            n_m++;
            ASSERT_STR_EQ(json_get_str(m, "source"), root);
        }
    }
    ASSERT_TRUE(n_m == 1);
    json_decref(s);
}

static void expect_bad_hc(const char *root, const char *hc, const char *needle)
{
    struct isd_error *err = NULL;
    json_t *s = gen(root, "{\"Cmd\":[\"sh\"]}", hc, &err);
    if (s != NULL || err == NULL || err->code != ISD_ERR_INVALID || strstr(err->msg, needle) == NULL) {
        fprintf(stderr, "for %s: expected an error with `%s`, got %s\n", hc, needle, err ? err->msg : "success");
        test_failed_flag = 1;
    }
    json_decref(s);
    isd_error_free(err);
}

TEST(generate_bad_binds_and_devices)
{
    cleanup_free char *root = make_rootfs();
    expect_bad_hc(root, "{\"Binds\":[\"myvol:/data\"]}", "named volumes are not supported yet");
    expect_bad_hc(root, "{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/nonexistent-isd-path\",\"Target\":\"/d\"}]}",
                  "bind source path does not exist");
    expect_bad_hc(root, "{\"Binds\":[\"/tmp:data\"]}", "must be absolute");
    expect_bad_hc(root, "{\"Binds\":[\"/tmp\"]}", "not supported");
    expect_bad_hc(root, "{\"Binds\":[\"/tmp:/a:bogus\"]}", "invalid volume specification");
    expect_bad_hc(root, "{\"Binds\":[\"/tmp:/a:b:c\"]}", "invalid volume specification");
    expect_bad_hc(root, "{\"Binds\":[\"/tmp:/a\",\"/tmp:/a/\"]}", "Duplicate mount point");
    expect_bad_hc(root, "{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/v\"}]}", "named volumes");
    expect_bad_hc(root, "{\"Devices\":[{\"PathOnHost\":\"/dev/isd-no-such\",\"PathInContainer\":\"/dev/x\"}]}",
                  "/dev/isd-no-such");
    expect_bad_hc(root, "{\"Ulimits\":[{\"Name\":\"bogus\",\"Soft\":1,\"Hard\":1}]}", "bogus");
    expect_bad_hc(root, "{\"Memory\":1024}", "Minimum memory");
    expect_bad_hc(root, "{\"Sysctls\":{\"vm.swappiness\":\"1\"}}", "not namespaced");
    expect_bad_hc(root, "{\"NetworkMode\":\"host\",\"Sysctls\":{\"net.ipv4.ip_forward\":\"1\"}}", "host network");
    /* Only without CAP_SYS_RESOURCE (as on these hosts), where runc would fail with EPERM. */
    if (prctl(PR_CAPBSET_READ, CAP_SYS_RESOURCE, 0, 0, 0) == 0)
        expect_bad_hc(root, "{\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":1,\"Hard\":9223372036854775807}]}",
                      "hard limit");
    expect_bad_hc(root, "{\"HookSpec\":\"/nonexistent-isd-hooks.json\"}", "hook spec");
}

TEST(generate_devices_resources_host_net)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *s = gen(root, "{\"Cmd\":[\"sh\"]}",
                                 "{\"NetworkMode\":\"host\",\"PidMode\":\"host\",\"Memory\":67108864,"
                                 "\"MemoryReservation\":33554432,\"MemorySwap\":134217728,\"CpuShares\":512,"
                                 "\"NanoCpus\":1500000000,\"CpusetCpus\":\"0\",\"CpusetMems\":\"0\","
                                 "\"PidsLimit\":100,\"BlkioWeight\":300,\"OomKillDisable\":true,"
                                 "\"Devices\":[{\"PathOnHost\":\"/dev/null\",\"PathInContainer\":\"/dev/mynull\","
                                 "\"CgroupPermissions\":\"rw\"}],\"Ulimits\":[{\"Name\":\"nproc\",\"Soft\":100,"
                                 "\"Hard\":200}],\"Sysctls\":{\"kernel.msgmax\":\"65536\"},"
                                 "\"CgroupParent\":\"/custom\",\"Annotations\":{\"a\":\"b\"}}",
                                 &err);
    const json_t *lx = json_object_get(s, "linux"), *res = json_object_get(lx, "resources");
    const json_t *mem = json_object_get(res, "memory"), *cpu = json_object_get(res, "cpu");
    const json_t *dev = json_array_get(json_object_get(lx, "devices"), 0);
    const json_t *rl = json_object_get(json_object_get(s, "process"), "rlimits");
    ASSERT_TRUE(s != NULL);
    ASSERT_TRUE(!has_ns(s, "network") && !has_ns(s, "pid") && has_ns(s, "ipc") && has_ns(s, "uts"));
    ASSERT_INT_EQ(json_get_int(mem, "limit", 0), 67108864);
    ASSERT_INT_EQ(json_get_int(mem, "reservation", 0), 33554432);
    ASSERT_INT_EQ(json_get_int(mem, "swap", 0), 134217728);
    ASSERT_TRUE(json_get_bool(mem, "disableOOMKiller", false));
    ASSERT_INT_EQ(json_get_int(cpu, "shares", 0), 512);
    ASSERT_INT_EQ(json_get_int(cpu, "quota", 0), 150000);
    ASSERT_INT_EQ(json_get_int(cpu, "period", 0), 100000);
    ASSERT_STR_EQ(json_get_str(cpu, "cpus"), "0");
    ASSERT_INT_EQ(json_get_int(json_object_get(res, "pids"), "limit", 0), 100);
    ASSERT_INT_EQ(json_get_int(json_object_get(res, "blockIO"), "weight", 0), 300);
    ASSERT_STR_EQ(json_get_str(dev, "path"), "/dev/mynull");
    ASSERT_INT_EQ(json_get_int(dev, "major", 0), 1);
    ASSERT_INT_EQ(json_get_int(dev, "minor", 0), 3);
    ASSERT_STR_EQ(json_get_str(json_object_get(lx, "sysctl"), "kernel.msgmax"), "65536");
    ASSERT_STR_EQ(json_get_str(lx, "cgroupsPath"), "/custom/" ID);
    ASSERT_STR_EQ(json_get_str(json_object_get(s, "annotations"), "a"), "b");
    ASSERT_INT_EQ(json_array_size(rl), 2);
    ASSERT_STR_EQ(json_get_str(json_array_get(rl, 0), "type"), "RLIMIT_NOFILE");
    ASSERT_TRUE(json_get_int(json_array_get(rl, 0), "hard", 0) <= 1048576);
    ASSERT_INT_EQ(json_get_int(json_array_get(rl, 1), "soft", 0), 100);
}

TEST(generate_hooks_and_umask_annotation)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_free char *hc = NULL;
    cleanup_json json_t *s = NULL;
    char cwd[PATH_MAX];
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    write_text("hooks.json", "{\"prestart\":[{\"path\":\"/bin/true\",\"args\":[\"true\"]}],\"poststop\":[]}");
    hc = xasprintf("{\"HookSpec\":\"%s/hooks.json\",\"Annotations\":{\"native.umask\":\"normal\"}}", cwd);
    s = gen(root, "{\"Cmd\":[\"sh\"]}", hc, &err);
    ASSERT_TRUE(s != NULL);
    ASSERT_STR_EQ(json_get_str(json_array_get(json_object_get(json_object_get(s, "hooks"), "prestart"), 0), "path"),
                  "/bin/true");
    ASSERT_INT_EQ(json_get_int(json_object_get(json_object_get(s, "process"), "user"), "umask", -1), 022);
    ASSERT_STR_EQ(json_get_str(json_object_get(s, "annotations"), "native.umask"), "normal");
}

TEST(resolve_user_forms)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *u = json_object();
    ASSERT_INT_EQ(spec_resolve_user(root, "alice", u, &err), 0);
    ASSERT_INT_EQ(json_get_int(u, "uid", -1), 1000);
    ASSERT_INT_EQ(json_get_int(u, "gid", -1), 1000);
    ASSERT_INT_EQ(json_array_size(json_object_get(u, "additionalGids")), 2);
    ASSERT_INT_EQ(json_integer_value(json_array_get(json_object_get(u, "additionalGids"), 0)), 10);
    ASSERT_INT_EQ(spec_resolve_user(root, "alice:staff", u, &err), 0);
    ASSERT_INT_EQ(json_get_int(u, "gid", -1), 50);
    ASSERT_TRUE(json_object_get(u, "additionalGids") == NULL);
    ASSERT_INT_EQ(spec_resolve_user(root, "1:2000", u, &err), 0);
    ASSERT_INT_EQ(json_get_int(u, "uid", -1), 1);
    ASSERT_INT_EQ(json_get_int(u, "gid", -1), 2000);
    ASSERT_INT_EQ(spec_resolve_user(root, "4242", u, &err), 0);
    ASSERT_INT_EQ(json_get_int(u, "uid", -1), 4242);
    ASSERT_INT_EQ(json_get_int(u, "gid", -1), 0);
    ASSERT_INT_EQ(spec_resolve_user(root, "", u, &err), 0);
    ASSERT_INT_EQ(json_get_int(u, "uid", -1), 0);
    ASSERT_INT_EQ(spec_resolve_user(root, "mallory", u, &err), -1);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    ASSERT_STR_EQ(err->msg, "unable to find user mallory: no matching entries in passwd file");
    isd_error_free(err);
    err = NULL;
    ASSERT_INT_EQ(spec_resolve_user(root, "alice:nogroup", u, &err), -1);
    ASSERT_STR_EQ(err->msg, "unable to find group nogroup: no matching entries in group file");
    isd_error_free(err);
}

TEST(resolve_user_symlink_stays_in_rootfs)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *u = json_object();
    char cwd[PATH_MAX];
    cleanup_free char *outside = NULL;
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    /* A host file with a user the rootfs lacks; the image's etc/passwd points at it by absolute path. */
    outside = xasprintf("%s/host-passwd", cwd);
    write_text(outside, "hostonly:x:777:777::/:/bin/sh\n");
    ASSERT_INT_EQ(unlink("rootfs/etc/passwd"), 0);
    ASSERT_INT_EQ(symlink(outside, "rootfs/etc/passwd"), 0);
    ASSERT_INT_EQ(spec_resolve_user(root, "hostonly", u, &err), -1);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    isd_error_free(err);
    err = NULL;
    /* ../../ escapes are clamped at the rootfs too. */
    ASSERT_INT_EQ(unlink("rootfs/etc/passwd"), 0);
    ASSERT_INT_EQ(symlink("../../../../../../../../etc/passwd", "rootfs/etc/passwd"), 0);
    ASSERT_INT_EQ(spec_resolve_user(root, "root", u, &err), -1);
    isd_error_free(err);
}

TEST(exec_process_from_container_spec)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *s = gen(root, "{\"Cmd\":[\"sh\"],\"Env\":[\"A=1\"],\"WorkingDir\":\"/w\"}", NULL, &err);
    cleanup_json json_t *body = J("{\"Cmd\":[\"ls\",\"-l\"],\"Env\":[\"A=2\"],\"User\":\"alice\",\"Tty\":true}");
    cleanup_json json_t *body2 = J("{\"Cmd\":[],\"Privileged\":true}");
    cleanup_json json_t *p = spec_exec_process(s, body, root, &err);
    ASSERT_TRUE(p != NULL);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(p, "args"), 1)), "-l");
    ASSERT_TRUE(json_has_str(json_object_get(p, "env"), "A=2") && !json_has_str(json_object_get(p, "env"), "A=1"));
    ASSERT_TRUE(json_has_str(json_object_get(p, "env"), "TERM=xterm"));
    ASSERT_STR_EQ(json_get_str(p, "cwd"), "/w");
    ASSERT_TRUE(json_get_bool(p, "terminal", false));
    ASSERT_INT_EQ(json_get_int(json_object_get(p, "user"), "uid", -1), 1000);
    ASSERT_INT_EQ(json_get_int(json_object_get(p, "user"), "umask", -1), 027);
    ASSERT_TRUE(json_object_get(p, "rlimits") != NULL && json_object_get(p, "capabilities") != NULL);
    ASSERT_TRUE(spec_exec_process(s, body2, root, &err) == NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    isd_error_free(err);
}

TEST(generate_group_add_uts_host_and_entrypoint_reset)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *s =
        gen(root, "{\"Entrypoint\":[\"\"],\"Cmd\":[\"id\"],\"Hostname\":\"h\",\"User\":\"1000:1000\"}",
            "{\"GroupAdd\":[\"wheel\",\"4000\"],\"UTSMode\":\"host\",\"IpcMode\":\"host\"}", &err);
    const json_t *p = json_object_get(s, "process");
    const json_t *gids = json_object_get(json_object_get(p, "user"), "additionalGids");
    ASSERT_TRUE(s != NULL);
    ASSERT_INT_EQ(json_array_size(json_object_get(p, "args")), 1);
    ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(p, "args"), 0)), "id");
    ASSERT_INT_EQ(json_array_size(gids), 2);
    ASSERT_INT_EQ(json_integer_value(json_array_get(gids, 0)), 10);
    ASSERT_INT_EQ(json_integer_value(json_array_get(gids, 1)), 4000);
    ASSERT_TRUE(json_object_get(s, "hostname") == NULL);
    ASSERT_TRUE(!has_ns(s, "uts") && !has_ns(s, "ipc"));
    ASSERT_STR_EQ(json_get_str(find_mount(s, "/dev/shm"), "source"), "/dev/shm");
    ASSERT_TRUE(find_mount(s, "/dev/mqueue") == NULL);
    expect_bad_hc(root, "{\"GroupAdd\":[\"nosuchgroup\"]}", "nosuchgroup");
}

static const char *ns_path(const json_t *spec, const char *type)
{
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, n)
    {
        if (streq(json_get_str(n, "type"), type))
            return json_get_str(n, "path");
    }
    return NULL;
}

TEST(generate_joined_namespaces_and_user_remap)
{
    struct isd_error *err = NULL;
    cleanup_free char *root = make_rootfs();
    cleanup_json json_t *c = J("{\"Cmd\":[\"id\"],\"Hostname\":\"h\"}");
    cleanup_json json_t *h =
        J("{\"NetworkMode\":\"container:a\",\"PidMode\":\"container:a\",\"IpcMode\":\"container:a\","
          "\"UTSMode\":\"container:a\"}");
    struct spec_input in = {.id = ID,
                            .config = c,
                            .host_config = h,
                            .rootfs = root,
                            .umask = "secure",
                            .netns_path = "/proc/7/ns/net",
                            .pid_ns_path = "/proc/7/ns/pid",
                            .ipc_ns_path = "/proc/7/ns/ipc",
                            .uts_ns_path = "/proc/7/ns/uts",
                            .remap = {100000, 200000, 65535}};
    cleanup_json json_t *s = spec_generate(&in, &err);
    const json_t *lnx = json_object_get(s, "linux");
    ASSERT_TRUE(s != NULL);
    ASSERT_STR_EQ(ns_path(s, "network"), "/proc/7/ns/net");
    ASSERT_STR_EQ(ns_path(s, "pid"), "/proc/7/ns/pid");
    ASSERT_STR_EQ(ns_path(s, "ipc"), "/proc/7/ns/ipc");
    ASSERT_STR_EQ(ns_path(s, "uts"), "/proc/7/ns/uts");
    ASSERT_TRUE(json_object_get(s, "hostname") == NULL); /* a joined UTS namespace keeps its owner's name */
    ASSERT_TRUE(has_ns(s, "user") && has_ns(s, "cgroup") && ns_path(s, "user") == NULL);
    ASSERT_INT_EQ(json_get_int(json_array_get(json_object_get(lnx, "uidMappings"), 0), "hostID", -1), 100000);
    ASSERT_INT_EQ(json_get_int(json_array_get(json_object_get(lnx, "gidMappings"), 0), "hostID", -1), 200000);
    ASSERT_INT_EQ(json_get_int(json_array_get(json_object_get(lnx, "gidMappings"), 0), "size", -1), 65535);
}

TEST(user_remap_parse_rules)
{
    struct user_remap m;
    struct isd_error *err = NULL;
    ASSERT_INT_EQ(user_remap_parse("100000:100001:65535", &m, NULL), 0);
    ASSERT_TRUE(m.uid == 100000 && m.gid == 100001 && m.size == 65535);
    ASSERT_INT_EQ(user_remap_parse("0:5:10", &m, NULL), 0);
    ASSERT_TRUE(!user_remap_is_set(&m));
    ASSERT_INT_EQ(user_remap_parse("", &m, NULL), 0);
    ASSERT_TRUE(!user_remap_is_set(&m));
    const char *bad[] = {"1:2",    "1:2:3:4", "a:1:1", "1:1:0", "1:1:65536", "4294967295:1:1", "1:4294967290:6",
                         "-1:1:1", "1::1"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        ASSERT_INT_EQ(user_remap_parse(bad[i], &m, &err), -1);
        ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
        isd_error_free(err);
        err = NULL;
    }
    ASSERT_INT_EQ(user_remap_parse("4294901760:1:65535", &m, NULL), 0);
    /* a CRI pod's mapping: any size (kubelet's 65536 and its multiples), the other rules alike */
    ASSERT_INT_EQ(user_remap_parse_wide("131072:131072:65536", &m, NULL), 0);
    ASSERT_TRUE(m.uid == 131072 && m.gid == 131072 && m.size == 65536);
    ASSERT_INT_EQ(user_remap_parse_wide("65536:65536:131072", &m, NULL), 0);
    ASSERT_TRUE(m.size == 131072);
    const char *bad_wide[] = {"1:1:0", "4294901760:1:65536", "1:2", "a:1:1"};
    for (size_t i = 0; i < ARRAY_SIZE(bad_wide); i++) {
        ASSERT_INT_EQ(user_remap_parse_wide(bad_wide[i], &m, &err), -1);
        ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
        isd_error_free(err);
        err = NULL;
    }
}

/* ./bundle/rootfs from the static /bin/busybox with its applet links. */
static char *make_busybox_bundle(void)
{
    char cwd[PATH_MAX];
    const char *const list_argv[] = {"/bin/busybox", "--list", NULL};
    cleanup_free char *applets = NULL;
    char *save = NULL;
    struct isd_error *err = NULL;
    const char *const cp_argv[] = {"cp", "/bin/busybox", "bundle/rootfs/bin/busybox", NULL};

    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return NULL;
    mkdir("bundle", 0755);
    mkdir("bundle/rootfs", 0755);
    mkdir("bundle/rootfs/bin", 0755);
    mkdir("bundle/rootfs/etc", 0755);
    mkdir("ctr", 0700);
    write_text("bundle/rootfs/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
    write_text("bundle/rootfs/etc/group", "root:x:0:\n");
    if (spawn_run(cp_argv, NULL, NULL, NULL, &err) != 0 || spawn_run(list_argv, NULL, &applets, NULL, &err) != 0) {
        isd_error_free(err);
        return NULL;
    }
    for (char *a = strtok_r(applets, "\n", &save); a != NULL; a = strtok_r(NULL, "\n", &save)) {
        cleanup_free char *link = xasprintf("bundle/rootfs/bin/%s", a);
        if (!streq(a, "busybox") && symlink("busybox", link) < 0 && errno != EEXIST)
            return NULL;
    }
    return xasprintf("%s/bundle", cwd);
}

TEST(runc_runs_generated_spec)
{
    struct isd_error *err = NULL;
    cleanup_free char *bundle = NULL, *rootfs = NULL, *ctr = NULL, *cfg = NULL, *state = NULL, *id = NULL;
    cleanup_free char *out = NULL, *errs = NULL;
    cleanup_json json_t *body = J("{\"Cmd\":[\"sh\",\"-c\",\"echo ok; exit 3\"]}");
    cleanup_json json_t *config = NULL, *spec = NULL;
    const char *const ver_argv[] = {"runc", "--version", NULL};
    char cwd[PATH_MAX];
    int rc;

    if (getuid() != 0 || spawn_run(ver_argv, NULL, NULL, NULL, &err) != 0) {
        isd_error_free(err);
        SKIP("runc missing or not root");
    }
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    bundle = make_busybox_bundle();
    ASSERT_TRUE(bundle != NULL);
    rootfs = xasprintf("%s/rootfs", bundle);
    ctr = xasprintf("%s/ctr", cwd);
    state = xasprintf("%s/runc-state", cwd);
    id = xasprintf("isd-spec-test-%d", (int)getpid());
    config = spec_merge_config(NULL, body, id, &err);
    ASSERT_TRUE(config != NULL);
    {
        struct spec_input in = {.id = id,
                                .config = config,
                                .rootfs = rootfs,
                                .container_dir = ctr,
                                .cgroup_parent = "/",
                                .umask = "secure"};
        spec = spec_generate(&in, &err);
    }
    ASSERT_TRUE(spec != NULL);
    cfg = xasprintf("%s/config.json", bundle);
    ASSERT_INT_EQ(json_write_path(cfg, spec, false, &err), 0);
    {
        const char *const run_argv[] = {"runc", "--root", state, "run", "--bundle", bundle, id, NULL};
        const char *const del_argv[] = {"runc", "--root", state, "delete", "-f", id, NULL};
        rc = spawn_run(run_argv, NULL, &out, &errs, &err);
        spawn_run(del_argv, NULL, NULL, NULL, NULL);
    }
    if (rc != 3)
        fprintf(stderr, "runc: rc=%d stderr=%s\n", rc, errs ? errs : "");
    ASSERT_INT_EQ(rc, 3);
    ASSERT_STR_EQ(out, "ok\n");
}

RUN_TESTS()
