/* GET /version and GET /info. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/service/internal.h"
#include "daemon/spec/spec_cdi.h"

#ifndef ISD_GIT_COMMIT
#define ISD_GIT_COMMIT "unknown"
#endif
#ifndef ISD_BUILD_TIME
#define ISD_BUILD_TIME ""
#endif

/* Go's GOARCH for the machine (Docker's Arch): amd64, arm64, ...; the kernel's name otherwise. */
static const char *go_arch(const char *machine)
{
    static const char *const map[][2] = {{"x86_64", "amd64"},   {"aarch64", "arm64"},   {"i686", "386"},
                                         {"armv7l", "arm"},     {"ppc64le", "ppc64le"}, {"s390x", "s390x"},
                                         {"riscv64", "riscv64"}};
    for (size_t i = 0; i < ARRAY_SIZE(map); i++)
        if (streq(machine, map[i][0]))
            return map[i][1];
    return machine;
}

/* Docker's SystemVersion (swagger): Platform, Components, Version, ApiVersion, MinAPIVersion, GitCommit,
 * GoVersion, Os, Arch, KernelVersion, Experimental, BuildTime. */
json_t *service_version(struct daemon *d)
{
    struct utsname u;
    json_t *v;
    uname(&u);
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, "
                  "s:s, s:s, s:s}}]}",
                  "Version", ISD_VERSION, "ApiVersion", ISD_API_VERSION, "MinAPIVersion", "1.24", "GitCommit",
                  ISD_GIT_COMMIT, "GoVersion", "C (gnu11)", "Os", "linux", "Arch", go_arch(u.machine), "KernelVersion",
                  u.release, "BuildTime", ISD_BUILD_TIME, "Components", "Name", "Engine", "Version", ISD_VERSION,
                  "Details", "ApiVersion", ISD_API_VERSION, "MinAPIVersion", "1.24", "GitCommit", ISD_GIT_COMMIT,
                  "GoVersion", "C (gnu11)", "Os", "linux", "Arch", go_arch(u.machine), "KernelVersion", u.release,
                  "Experimental", "false", "BuildTime", ISD_BUILD_TIME);
    json_object_set_new(v, "Platform", json_pack("{s:s}", "Name", "isulad"));
    json_object_set_new(v, "Experimental", json_false());
    return v;
}

/* PRETTY_NAME of /etc/os-release (what docker and the guide show as "Operating System"), else "Linux". */
static char *os_name(void)
{
    cleanup_free char *text = read_file("/etc/os-release", 65536, NULL, NULL);
    char *save = NULL;
    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l != NULL; l = strtok_r(NULL, "\n", &save)) {
        size_t n;
        if (!str_has_prefix(l, "PRETTY_NAME="))
            continue;
        l += strlen("PRETTY_NAME=");
        n = strlen(l);
        if (n >= 2 && (l[0] == '"' || l[0] == '\'') && l[n - 1] == l[0])
            return xstrndup(l + 1, n - 2);
        return xstrdup(l);
    }
    return xstrdup("Linux");
}

/* Docker's "name=seccomp,profile=default" items; "builtin" when the daemon uses its built-in profile copy. */
static json_t *security_options(struct daemon *d)
{
    json_t *a = json_array();
    if (d->seccomp_default != NULL)
        json_array_append_new(a,
                              json_sprintf("name=seccomp,profile=%s",
                                           path_exists(d->cfg->seccomp_profile) ? d->cfg->seccomp_profile : "builtin"));
    if (spec_apparmor_enabled())
        json_array_append_new(a, json_string("name=apparmor"));
    if (d->cfg->selinux_enabled)
        json_array_append_new(a, json_string("name=selinux"));
    return a;
}

bool service_apparmor_enabled(void)
{
    return spec_apparmor_enabled();
}

/* A 0/1 sysctl file as a bool; false when absent (br_netfilter not loaded). */
static bool sysctl_on(const char *path)
{
    cleanup_free char *t = read_file(path, 64, NULL, NULL);
    return t != NULL && t[0] == '1';
}

static json_t *env_or_empty(const char *a, const char *b)
{
    const char *v = getenv(a) != NULL ? getenv(a) : getenv(b);
    return json_string(v != NULL ? v : "");
}

/* The entries of /proc/self/<what> that are directories' children: open fds. */
static int count_dir(const char *path)
{
    int n = 0;
    DIR *dir = opendir(path);
    struct dirent *de;
    while (dir != NULL && (de = readdir(dir)) != NULL)
        n += de->d_name[0] != '.';
    if (dir != NULL)
        closedir(dir);
    return n;
}

/* Docker's RegistryConfig: the mirrors of docker.io, one index entry per insecure registry. */
static json_t *registry_config(struct daemon *d)
{
    json_t *mirrors = json_strv(d->cfg->registry_mirrors);
    json_t *indexes = json_object();
    json_object_set_new(
        indexes, "docker.io",
        json_pack("{s:s, s:O, s:b, s:b}", "Name", "docker.io", "Mirrors", mirrors, "Secure", true, "Official", true));
    for (char **r = d->cfg->insecure_registries; r != NULL && *r != NULL; r++)
        json_object_set_new(
            indexes, *r, json_pack("{s:s, s:[], s:b, s:b}", "Name", *r, "Mirrors", "Secure", false, "Official", false));
    return json_pack("{s:[], s:[], s:[], s:o, s:o}", "AllowNondistributableArtifactsCIDRs",
                     "AllowNondistributableArtifactsHostnames", "InsecureRegistryCIDRs", "IndexConfigs", indexes,
                     "Mirrors", mirrors);
}

/* The rest of Docker's SystemInfo, so that clients reading any of its fields find them: what this engine
 * supports (limits, plugins), the host's forwarding sysctls, the daemon's fds and threads, no swarm. */
static void info_docker_fields(struct daemon *d, json_t *info)
{
    cleanup_free char *now = time_rfc3339_nano(now_ns());
    json_t *authz = d->cfg->authorization_plugins != NULL ? json_strv(d->cfg->authorization_plugins) : json_null();
    json_t *commit = json_pack("{s:s, s:s}", "ID", "", "Expected", "");
    json_object_update_new(
        info, json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "MemoryLimit", true,
                        "SwapLimit", path_exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"), "KernelMemory",
                        false, "KernelMemoryTCP", false, "CpuCfsPeriod", true, "CpuCfsQuota", true, "CPUShares", true,
                        "CPUSet", true, "PidsLimit", true, "OomKillDisable", true, "IPv4Forwarding",
                        sysctl_on("/proc/sys/net/ipv4/ip_forward"), "BridgeNfIptables",
                        sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables")));
    json_object_set_new(info, "BridgeNfIp6tables",
                        json_boolean(sysctl_on("/proc/sys/net/bridge/bridge-nf-call-ip6tables")));
    json_object_set_new(info, "NFd", json_integer(count_dir("/proc/self/fd")));
    json_object_set_new(info, "NGoroutines", json_integer(count_dir("/proc/self/task")));
    json_object_set_new(info, "SystemTime", json_string(now));
    json_object_set_new(info, "NEventsListener", json_integer(0));
    json_object_set_new(info, "HttpProxy", env_or_empty("HTTP_PROXY", "http_proxy"));
    json_object_set_new(info, "HttpsProxy", env_or_empty("HTTPS_PROXY", "https_proxy"));
    json_object_set_new(info, "NoProxy", env_or_empty("NO_PROXY", "no_proxy"));
    json_object_set_new(info, "Labels", json_array());
    json_object_set_new(info, "GenericResources", json_null());
    json_object_set_new(info, "Isolation", json_string(""));
    json_object_set_new(info, "InitBinary", json_string(""));
    json_object_set_new(info, "OSVersion", json_string(""));
    json_object_set_new(info, "ContainerdCommit", json_deep_copy(commit));
    json_object_set_new(info, "RuncCommit", json_deep_copy(commit));
    json_object_set_new(info, "InitCommit", commit);
    json_object_set_new(info, "Plugins",
                        json_pack("{s:[s], s:[s, s, s], s:o, s:[s, s]}", "Volume", "local", "Network", "bridge", "host",
                                  "null", "Authorization", authz, "Log", "json-file", "none"));
    json_object_set_new(info, "RegistryConfig", registry_config(d));
    json_object_set_new(info, "Swarm",
                        json_pack("{s:s, s:s, s:s, s:b, s:s, s:n}", "NodeID", "", "NodeAddr", "", "LocalNodeState",
                                  "inactive", "ControlAvailable", false, "Error", "", "RemoteManagers"));
}

json_t *service_info(struct daemon *d)
{
    cleanup_free char *os = os_name();
    struct utsname u;
    size_t n = 0, nimg = 0;
    int running = 0, paused = 0, stopped = 0;
    struct container **v = container_store_list(d->containers, &n);
    struct image **imgs = image_store_list(d->images, &nimg);
    json_t *runtimes = json_object(), *info;
    char host[256] = "";
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->lock);
        if (v[i]->status == CT_PAUSED)
            paused++;
        else if (container_is_active(v[i]))
            running++;
        else
            stopped++;
        pthread_mutex_unlock(&v[i]->lock);
    }
    container_list_free(v);
    for (size_t i = 0; i < nimg; i++)
        image_free(imgs[i]);
    free(imgs);
    for (size_t i = 0; i < d->cfg->n_runtimes; i++)
        json_object_set_new(runtimes, d->cfg->runtimes[i].name, json_pack("{s:s}", "path", d->cfg->runtimes[i].path));
    uname(&u);
    gethostname(host, sizeof(host) - 1);
    info = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:[[s,s]], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, "
                     "s:I, s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:s, s:[]}",
                     "ID", "", "Containers", (int)n, "ContainersRunning", running, "ContainersPaused", paused,
                     "ContainersStopped", stopped, "Images", (int)nimg, "Driver", "overlay2", "DriverStatus",
                     "Backing Filesystem", "extfs", "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs",
                     "KernelVersion", u.release, "OperatingSystem", os, "OSType", "linux", "Architecture", u.machine,
                     "IndexServerAddress", "", "Name", host, "NCPU", (int)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal",
                     (json_int_t)sysconf(_SC_PHYS_PAGES) * (json_int_t)sysconf(_SC_PAGESIZE), "DockerRootDir",
                     d->cfg->graph, "ServerVersion", ISD_VERSION, "Runtimes", runtimes, "DefaultRuntime",
                     d->cfg->default_runtime, "ExecRoot", d->cfg->state, "LiveRestoreEnabled", true, "Debug",
                     d->cfg->log_level >= 7, "CgroupVersion", "1", "Warnings");
    json_object_set_new(info, "SecurityOptions", security_options(d));
    /* Docker 25: the CDI spec directories when CDI is on, none when it is off */
    json_object_set_new(info, "CDISpecDirs", d->cdi != NULL ? json_strv(cdi_registry_dirs(d->cdi)) : json_array());
    json_object_set_new(info, "ExperimentalBuild", json_false());
    info_docker_fields(d, info);
    return info;
}
