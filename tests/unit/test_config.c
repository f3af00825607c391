/* Unit tests of the daemon configuration module (src/daemon/config). */
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/config/config.h"
#include "daemon/config/pidfile.h"
#include "harness.h"

static char cfg_path[512];
static char *last_err;

/* Writes daemon.json in the test directory and remembers its absolute path. */
static void write_cfg(const char *text)
{
    char cwd[400];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        abort();
    snprintf(cfg_path, sizeof(cfg_path), "%s/daemon.json", cwd);
    if (write_file_atomic(cfg_path, text, strlen(text), 0600, false, NULL) < 0)
        abort();
}

/* Loads with "--config-file <cfg_path>" and the given flags (NULL-terminated). Sets last_err on failure. */
static struct isd_config *load(const char *first, ...)
{
    char *argv[64];
    cleanup_free char *cf = xasprintf("--config-file=%s", cfg_path);
    int argc = 0;
    va_list ap;
    bool exit_now = true;
    struct isd_error *err = NULL;
    struct isd_config *c;
    argv[argc++] = "isulad";
    argv[argc++] = cf;
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < 63; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    c = isd_config_load(argc, argv, &exit_now, &err);
    free(last_err);
    last_err = err != NULL ? xstrdup(err->msg) : NULL;
    isd_error_free(err);
    if (c == NULL && last_err == NULL)
        last_err = xstrdup("(no error set)");
    return c;
}

#define ASSERT_LOAD_FAILS_WITH(substr, ...)                                                                            \
    do {                                                                                                               \
        struct isd_config *c_ = load(__VA_ARGS__);                                                                     \
        if (c_ != NULL) {                                                                                              \
            isd_config_free(c_);                                                                                       \
            FAIL_AT("load succeeded, expected an error containing \"%s\"", substr);                                    \
        }                                                                                                              \
        if (strstr(last_err, substr) == NULL)                                                                          \
            FAIL_AT("error \"%s\" does not contain \"%s\"", last_err, substr);                                         \
    } while (0)

TEST(defaults)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(strv_len(c->hosts), 1);
    ASSERT_STR_EQ(c->hosts[0], "unix:///var/run/isulad.sock");
    ASSERT_STR_EQ(c->graph, "/var/lib/isulad");
    ASSERT_STR_EQ(c->state, "/var/run/isulad");
    ASSERT_STR_EQ(c->pidfile, "/var/run/isulad.pid");
    ASSERT_STR_EQ(c->group, "isulad");
    ASSERT_STR_EQ(c->storage_driver, "overlay2");
    ASSERT_STR_EQ(c->default_runtime, "runc");
    ASSERT_STR_EQ(c->native_umask, "secure");
    ASSERT_INT_EQ(c->native_umask_mode, 0027);
    ASSERT_INT_EQ(c->log_level, LOG_LVL_ERROR);
    ASSERT_STR_EQ(c->log_driver, "file");
    ASSERT_STR_EQ(c->log_path, "/var/lib/isulad/isulad.log");
    ASSERT_INT_EQ(c->log_file_mode, 0600);
    ASSERT_INT_EQ(c->image_opt_timeout_ns, 300LL * 1000000000LL);
    ASSERT_INT_EQ(c->start_timeout_ns, 120LL * 1000000000LL);
    ASSERT_INT_EQ(c->stream_idle_timeout_ns, 4LL * 3600 * 1000000000LL);
    ASSERT_STR_EQ(c->network_plugin, "");
    ASSERT_STR_EQ(c->cni_bin_dir, "/opt/cni/bin");
    ASSERT_STR_EQ(c->cni_conf_dir, "/etc/cni/net.d");
    ASSERT_TRUE(c->use_decrypted_key);
    ASSERT_TRUE(!c->tls && !c->tls_verify && !c->image_layer_check && !c->selinux_enabled);
    ASSERT_INT_EQ(c->websocket_port, 10350);
    ASSERT_TRUE(c->hook_spec == NULL && c->cgroup_parent == NULL && c->default_ulimits == NULL);
    ASSERT_STR_EQ(c->config_file, cfg_path);
}

TEST(flags_override_file)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"log-level\": \"WARN\", \"graph\": \"/tmp/g-file\", \"state\": \"/tmp/s-file\","
              " \"cni-bin-dir\": \"\", \"log-opts\": {\"max-file\": \"3\", \"max-size\": \"30KB\"}}");
    c = load("-l", "DEBUG", "-g=/tmp/g-flag", "--log-opt", "max-file=5", NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(c->log_level, LOG_LVL_DEBUG);
    ASSERT_STR_EQ(c->graph, "/tmp/g-flag");
    ASSERT_STR_EQ(c->state, "/tmp/s-file");
    ASSERT_STR_EQ(c->cni_bin_dir, "/opt/cni/bin"); /* "" in the file = default (D-08) */
    ASSERT_INT_EQ(c->log_max_file, 5);
    ASSERT_INT_EQ(c->log_max_size, 30 * 1024);
    ASSERT_STR_EQ(c->log_path, "/tmp/g-flag/isulad.log");
}

TEST(image_opt_timeout_minus_one_means_none)
{
    cleanup_config struct isd_config *c = NULL, *f = NULL, *d = NULL;
    write_cfg("{}");
    c = load("--image-opt-timeout", "-1", NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(c->image_opt_timeout_ns, -1);
    write_cfg("{\"image-opt-timeout\": \"-1\"}");
    f = load(NULL);
    ASSERT_TRUE(f != NULL);
    ASSERT_INT_EQ(f->image_opt_timeout_ns, -1);
    d = load("--image-opt-timeout", "90s", NULL);
    ASSERT_TRUE(d != NULL);
    ASSERT_INT_EQ(d->image_opt_timeout_ns, 90LL * 1000000000LL);
}

TEST(short_flag_clusters_and_aliases)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"tls-verify\": true}");
    c = load("-H=tcp://127.0.0.1:2376", "--host", "unix:///tmp/x.sock", "--root", "/tmp/r", "--use-decrypted-key=false",
             "--default-ulimits", "nofile=1024:2048", "--default-ulimit", "nproc=10", NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(strv_len(c->hosts), 2);
    ASSERT_STR_EQ(c->hosts[0], "tcp://127.0.0.1:2376");
    ASSERT_STR_EQ(c->graph, "/tmp/r");
    ASSERT_TRUE(!c->use_decrypted_key);
    ASSERT_TRUE(c->tls && c->tls_verify);
    ASSERT_INT_EQ(strv_len(c->default_ulimits), 2);
    ASSERT_STR_EQ(c->default_ulimits[1], "nproc=10:10");
}

TEST(hosts_in_both_places_is_the_documented_error)
{
    cleanup_free char *want = NULL;
    write_cfg("{\"hosts\": [\"unix:///var/run/isulad.sock\", \"tcp://localhost:5678\", \"tcp://127.0.0.1:6789\"]}");
    want = xasprintf("unable to configure the isulad with file %s: the following directives are specified both as a "
                     "flag and in the configuration file: hosts: (from flag: [unix:///var/run/isulad.sock "
                     "tcp://127.0.0.1:6789], from file: [unix:///var/run/isulad.sock tcp://localhost:5678 "
                     "tcp://127.0.0.1:6789])",
                     cfg_path);
    ASSERT_TRUE(load("-H", "unix:///var/run/isulad.sock", "--host", "tcp://127.0.0.1:6789", NULL) == NULL);
    ASSERT_STR_EQ(last_err, want);
}

TEST(ulimits_in_both_places_fail)
{
    write_cfg("{\"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Hard\": 6400, \"Soft\": 3200}}}");
    ASSERT_LOAD_FAILS_WITH("default-ulimits: (from flag: [nofile=1:2], from file: [nofile=3200:6400])",
                           "--default-ulimit", "nofile=1:2", NULL);
}

TEST(ulimits_from_file)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Hard\": 6400, \"Soft\": 3200}}}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_STR_EQ(c->default_ulimits[0], "nofile=3200:6400");
    write_cfg("{\"default-ulimits\": {\"nofile\": {\"Name\": \"nproc\", \"Hard\": 1, \"Soft\": 1}}}");
    ASSERT_LOAD_FAILS_WITH("must be identical", NULL);
    write_cfg("{\"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Hard\": 1, \"Soft\": 2}}}");
    ASSERT_LOAD_FAILS_WITH("Hard (1) must be >= Soft (2)", NULL);
}

TEST(unknown_key_and_wrong_type)
{
    write_cfg("{\"group\": \"isulad\", \"no-such-key\": 1}");
    ASSERT_LOAD_FAILS_WITH("unknown key \"no-such-key\"", NULL);
    write_cfg("{\"log-opts\": {\"colour\": \"red\"}}");
    ASSERT_LOAD_FAILS_WITH("unknown key \"log-opts.colour\"", NULL);
    write_cfg("{\"graph\": 42}");
    ASSERT_LOAD_FAILS_WITH("key \"graph\" must be a string, not a number", NULL);
    write_cfg("{\"hosts\": \"unix:///x.sock\"}");
    ASSERT_LOAD_FAILS_WITH("key \"hosts\" must be an array of strings", NULL);
    write_cfg("{\"image-layer-check\": \"yes\"}");
    ASSERT_LOAD_FAILS_WITH("key \"image-layer-check\" must be a bool", NULL);
    write_cfg("{\"websocket-server-listening-port\": \"10350\"}");
    ASSERT_LOAD_FAILS_WITH("must be an integer", NULL);
    write_cfg("[1]");
    ASSERT_LOAD_FAILS_WITH("must hold a JSON object", NULL);
    write_cfg("{\"graph\": ");
    ASSERT_LOAD_FAILS_WITH("invalid JSON", NULL);
}

TEST(lenient_bools_fall_back_to_default)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"use-decrypted-key\": \"no\", \"insecure-skip-verify-enforce\": 1}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_TRUE(c->use_decrypted_key);
    ASSERT_TRUE(!c->insecure_skip_verify_enforce);
}

TEST(bad_values)
{
    write_cfg("{\"log-opts\": {\"log-file-mode\": \"600\"}}");
    ASSERT_LOAD_FAILS_WITH("log-opts.log-file-mode: invalid file mode `600`", NULL);
    write_cfg("{\"log-opts\": {\"log-file-mode\": \"0800\"}}");
    ASSERT_LOAD_FAILS_WITH("invalid file mode", NULL);
    write_cfg("{}");
    ASSERT_LOAD_FAILS_WITH("--log-opt log-file-mode: invalid file mode `rw`", "--log-opt", "log-file-mode=rw", NULL);
    ASSERT_LOAD_FAILS_WITH("--log-level: invalid log level `LOUD`", "-l", "LOUD", NULL);
    ASSERT_LOAD_FAILS_WITH("--network-plugin: invalid value `flannel`", "--network-plugin", "flannel", NULL);
    ASSERT_LOAD_FAILS_WITH("--bip: invalid value `172.17.0.1`", "--bip", "172.17.0.1", NULL);
    ASSERT_LOAD_FAILS_WITH("--bip: invalid value `300.1.1.1/16`", "--bip", "300.1.1.1/16", NULL);
    ASSERT_LOAD_FAILS_WITH("--bip: invalid value `10.0.0.1/31`", "--bip", "10.0.0.1/31", NULL);
    ASSERT_LOAD_FAILS_WITH("--bridge: invalid value `a/b`", "--bridge", "a/b", NULL);
    ASSERT_LOAD_FAILS_WITH("--bridge: invalid value `name-longer-than-15`", "-b", "name-longer-than-15", NULL);
    ASSERT_LOAD_FAILS_WITH("--start-timeout: invalid duration `soon`", "--start-timeout=soon", NULL);
    ASSERT_LOAD_FAILS_WITH("--log-opt max-size: invalid size", "--log-opt", "max-size=big", NULL);
    ASSERT_LOAD_FAILS_WITH("--graph: `rel/dir` must be an absolute path", "-g", "rel/dir", NULL);
    ASSERT_LOAD_FAILS_WITH("a tcp host must be", "-H", "tcp://127.0.0.1:65536", NULL);
    ASSERT_LOAD_FAILS_WITH("a unix host must be", "-H", "unix://relative.sock", NULL);
    ASSERT_LOAD_FAILS_WITH("a host must be", "-H", "http://1.2.3.4:80", NULL);
    ASSERT_LOAD_FAILS_WITH("--native.umask: invalid value `lax`", "--native.umask", "lax", NULL);
    ASSERT_LOAD_FAILS_WITH("must be in 1024-49151", "--websocket-server-listening-port", "80", NULL);
    ASSERT_LOAD_FAILS_WITH("unknown flag: --bogus", "--bogus", NULL);
    ASSERT_LOAD_FAILS_WITH("unknown shorthand flag: ':'", "-l:DEBUG", NULL);
    ASSERT_LOAD_FAILS_WITH("--tls: invalid bool `maybe`", "--tls=maybe", NULL);
    ASSERT_LOAD_FAILS_WITH("unknown runtime `kata`", "--runtime", "kata", NULL);
    write_cfg("{\"network-plugin\": \"calico\"}");
    ASSERT_LOAD_FAILS_WITH(": network-plugin: invalid value `calico`", NULL);
}

TEST(hosts_accepted)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"hosts\": [\"unix:///run/a.sock\", \"tcp://localhost:5678\", \"tcp://[::1]:0\", "
              "\"tcp://0.0.0.0:65535\"]}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(strv_len(c->hosts), 4);
    write_cfg("{\"hosts\": [\"unix:///1\", \"unix:///2\", \"unix:///3\", \"unix:///4\", \"unix:///5\", \"unix:///6\","
              " \"unix:///7\", \"unix:///8\", \"unix:///9\", \"unix:///10\", \"unix:///11\"]}");
    ASSERT_LOAD_FAILS_WITH("too many hosts (11)", NULL);
}

TEST(devicemapper_refused)
{
    write_cfg("{\"storage-driver\": \"devicemapper\"}");
    ASSERT_LOAD_FAILS_WITH("only overlay2 is supported (devicemapper is deprecated", NULL);
    write_cfg("{}");
    ASSERT_LOAD_FAILS_WITH("only overlay2 is supported", "--storage-driver=btrfs", NULL);
    ASSERT_LOAD_FAILS_WITH("devicemapper options are not supported", "-s", "dm.fs=ext4", NULL);
    ASSERT_LOAD_FAILS_WITH("unknown storage option", "-s", "overlay2.colour=red", NULL);
}

TEST(storage_opts_parsed)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"storage-opts\": [\"overlay2.override_kernel_check=true\", \"overlay2.size=10G\"]}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(strv_len(c->storage_opts), 2);
}

TEST(runtimes_map)
{
    cleanup_config struct isd_config *c = NULL;
    const struct isd_runtime_conf *rt;
    write_cfg("{\"default-runtime\": \"kata-runtime\", \"runtimes\": {\"kata-runtime\": {\"path\": "
              "\"/usr/bin/kata-runtime\", \"runtime-args\": [\"--kata-config\", \"/etc/kata.toml\"]}}}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_STR_EQ(c->default_runtime, "kata-runtime");
    rt = isd_config_runtime(c, "kata-runtime");
    ASSERT_TRUE(rt != NULL);
    ASSERT_STR_EQ(rt->path, "/usr/bin/kata-runtime");
    ASSERT_INT_EQ(strv_len(rt->args), 2);
    ASSERT_STR_EQ(rt->args[1], "/etc/kata.toml");
    ASSERT_TRUE(isd_config_runtime(c, "nope") == NULL);
    if (access("/usr/sbin/runc", X_OK) == 0 || access("/usr/bin/runc", X_OK) == 0) {
        ASSERT_TRUE(isd_config_runtime(c, "runc") != NULL);
        ASSERT_TRUE(isd_config_runtime(c, "LCR") == isd_config_runtime(c, "runc"));
    }
    ASSERT_TRUE(rt->vm); /* kata-runtime runs its containers in a VM unless told otherwise */
    isd_config_free(c);
    write_cfg("{\"runtimes\": {\"kata-runtime\": {\"path\": \"/k\", \"vm\": false}, \"w\": {\"path\": \"/w\", "
              "\"runtimeArgs\": [\"-a\"], \"vm\": true}, \"p\": {\"path\": \"/p\"}}}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_TRUE(!isd_config_runtime(c, "kata-runtime")->vm && isd_config_runtime(c, "w")->vm);
    ASSERT_TRUE(!isd_config_runtime(c, "p")->vm);
    ASSERT_STR_EQ(isd_config_runtime(c, "w")->args[0], "-a");
    write_cfg("{\"runtimes\": {\"x\": {\"path\": \"/x\", \"vm\": \"yes\"}}}");
    ASSERT_LOAD_FAILS_WITH("unknown key or wrong type: \"vm\"", NULL);
    write_cfg("{\"runtimes\": {\"x\": {\"path\": \"rel/x\"}}}");
    ASSERT_LOAD_FAILS_WITH("\"path\" must be an absolute path", NULL);
    write_cfg("{\"runtimes\": {\"x\": {\"path\": \"/x\", \"args\": []}}}");
    ASSERT_LOAD_FAILS_WITH("unknown key or wrong type: \"args\"", NULL);
}

TEST(tls_defaults_follow_home)
{
    cleanup_config struct isd_config *c = NULL;
    const char *old = getenv("HOME");
    cleanup_free char *saved = old != NULL ? xstrdup(old) : NULL;
    write_cfg("{}");
    setenv("HOME", "/home/someone", 1);
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_STR_EQ(c->tls_ca, "/home/someone/.iSulad/ca.pem");
    ASSERT_STR_EQ(c->tls_cert, "/home/someone/.iSulad/cert.pem");
    ASSERT_STR_EQ(c->tls_key, "/home/someone/.iSulad/key.pem");
    isd_config_free(c);
    unsetenv("HOME");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_STR_EQ(c->tls_ca, "/root/.iSulad/ca.pem");
    isd_config_free(c);
    c = load("--tlscacert", "/etc/ca.pem", NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_STR_EQ(c->tls_ca, "/etc/ca.pem");
    if (saved != NULL)
        setenv("HOME", saved, 1);
}

TEST(authorization_plugins_one_or_list)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"authorization-plugin\": \"authz-broker\"}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(strv_len(c->authorization_plugins), 1);
    ASSERT_STR_EQ(c->authorization_plugins[0], "authz-broker");
    ASSERT_TRUE(c->plugin_dirs == NULL);
    isd_config_free(c);
    write_cfg("{\"authorization-plugins\": [\"a\", \"b\"], \"plugin-dirs\": [\"/p1\"]}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(strv_len(c->authorization_plugins), 2);
    ASSERT_STR_EQ(c->authorization_plugins[1], "b");
    ASSERT_STR_EQ(c->plugin_dirs[0], "/p1");
    isd_config_free(c);
    write_cfg("{\"authorization-plugin\": \"\"}"); /* "" is the default: none */
    c = load("--authorization-plugin", "x", "--authorization-plugin", "y", NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_INT_EQ(strv_len(c->authorization_plugins), 2);
    ASSERT_STR_EQ(c->authorization_plugins[0], "x");
    isd_config_free(c);
    c = NULL;
    write_cfg("{}");
    ASSERT_LOAD_FAILS_WITH("not a valid plugin name", "--authorization-plugin", "../x", NULL);
    ASSERT_LOAD_FAILS_WITH("must be an absolute path", "--plugin-dir", "rel", NULL);
    write_cfg("{\"authorization-plugin\": 3}");
    ASSERT_LOAD_FAILS_WITH("authorization-plugin", NULL);
}

TEST(lcr_means_runc)
{
    cleanup_config struct isd_config *c = NULL;
    write_cfg("{\"default-runtime\": \"lcr\", \"engine\": \"lcr\"}");
    c = load(NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_STR_EQ(c->default_runtime, "runc");
}

TEST(config_file_missing)
{
    snprintf(cfg_path, sizeof(cfg_path), "/nonexistent/daemon.json");
    ASSERT_LOAD_FAILS_WITH("/nonexistent/daemon.json", NULL);
}

TEST(help_and_version)
{
    char *argv[] = {"isulad", "--help", NULL};
    char *vargv[] = {"isulad", "-V", NULL};
    bool exit_now = false;
    struct isd_error *err = NULL;
    size_t len = 0;
    cleanup_free char *out = NULL;
    int saved;
    fflush(stdout);
    saved = dup(1);
    int fd = open("help.txt", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    ASSERT_TRUE(isd_config_load(2, argv, &exit_now, &err) == NULL);
    ASSERT_TRUE(exit_now && err == NULL);
    exit_now = false;
    ASSERT_TRUE(isd_config_load(2, vargv, &exit_now, &err) == NULL);
    ASSERT_TRUE(exit_now && err == NULL);
    dup2(saved, 1);
    close(saved);
    close(fd);
    out = read_file("help.txt", 1 << 20, &len, NULL);
    ASSERT_TRUE(out != NULL);
    ASSERT_TRUE(str_has_prefix(out, "lightweight container runtime daemon\n\nUsage:  isulad [global options]\n\n"
                                    "GLOBAL OPTIONS:\n"));
    ASSERT_TRUE(strstr(out, "  -H, --host") != NULL);
    ASSERT_TRUE(strstr(out, "      --websocket-server-listening-port") != NULL);
    ASSERT_TRUE(strstr(out, "--selinux-enabled") == NULL);
    ASSERT_TRUE(strstr(out, "Version " ISD_VERSION) != NULL);
}

TEST(to_json)
{
    cleanup_config struct isd_config *c = NULL;
    cleanup_json json_t *j = NULL;
    write_cfg("{\"tls-config\": {\"CAFile\": \"/etc/ca.pem\"}}");
    c = load("--log-opt", "log-path=/tmp/logs", NULL);
    ASSERT_TRUE(c != NULL);
    ASSERT_STR_EQ(c->tls_ca, "/etc/ca.pem");
    ASSERT_STR_EQ(c->log_path, "/tmp/logs/isulad.log");
    j = isd_config_to_json(c);
    ASSERT_STR_EQ(json_get_str(json_object_get(j, "tls-config"), "CAFile"), "/etc/ca.pem");
    ASSERT_STR_EQ(json_get_str(json_object_get(j, "log-opts"), "log-file-mode"), "0600");
    ASSERT_STR_EQ(json_get_str(j, "image-opt-timeout"), "300s");
    ASSERT_STR_EQ(json_get_str(j, "native.umask"), "secure");
}

TEST(packaged_daemon_json_is_valid)
{
    cleanup_config struct isd_config *c = NULL;
    const char *src = __FILE__; /* absolute under CMake: <tree>/tests/unit/test_config.c */
    const char *tail = strstr(src, "tests/unit/test_config.c");
    if (tail == NULL)
        return;
    snprintf(cfg_path, sizeof(cfg_path), "%.*scontrib/daemon.json", (int)(tail - src), src);
    if (access(cfg_path, R_OK) != 0)
        return; /* source tree not reachable: nothing to check */
    c = load(NULL);
    if (c == NULL)
        FAIL_AT("contrib/daemon.json: %s", last_err);
}

TEST(pidfile_lock_conflict)
{
    char cwd[400];
    cleanup_free char *path = NULL;
    int fd1 = -1, fd2 = -1;
    struct isd_error *err = NULL;
    long long pid = 0;
    cleanup_free char *text = NULL;
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    path = xasprintf("%s/run/sub/isulad.pid", cwd);
    ASSERT_INT_EQ(pidfile_acquire(path, &fd1, &err), 0);
    text = read_file(path, 64, NULL, NULL);
    text[strcspn(text, "\n")] = '\0';
    ASSERT_INT_EQ(parse_int64(text, &pid), 0);
    ASSERT_INT_EQ(pid, getpid());
    ASSERT_INT_EQ(pidfile_acquire(path, &fd2, &err), -1);
    ASSERT_TRUE(err != NULL && err->code == ISD_ERR_CONFLICT);
    ASSERT_TRUE(strstr(err->msg, "another isulad (pid ") != NULL);
    ASSERT_TRUE(strstr(err->msg, path) != NULL);
    isd_error_free(err);
    err = NULL;
    pidfile_release(path, fd1);
    ASSERT_INT_EQ(pidfile_acquire(path, &fd2, &err), 0);
    pidfile_release(path, fd2);
}

TEST(pidfile_lock_conflict_across_processes)
{
    char cwd[400];
    cleanup_free char *path = NULL;
    cleanup_free char *want = NULL;
    int fd = -1, status = 0;
    pid_t child;
    ASSERT_TRUE(getcwd(cwd, sizeof(cwd)) != NULL);
    path = xasprintf("%s/isulad.pid", cwd);
    want = xasprintf("another isulad (pid %d) is running with pidfile %s", (int)getpid(), path);
    ASSERT_INT_EQ(pidfile_acquire(path, &fd, NULL), 0);
    fflush(stdout);
    child = fork();
    ASSERT_TRUE(child >= 0);
    if (child == 0) {
        struct isd_error *err = NULL;
        int cfd = -1;
        int rc = pidfile_acquire(path, &cfd, &err);
        _exit(rc == -1 && err != NULL && strcmp(err->msg, want) == 0 ? 0 : 1);
    }
    ASSERT_INT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    pidfile_release(path, fd);
}

RUN_TESTS()
