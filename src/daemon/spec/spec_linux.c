/*
 * The spec's "linux" object: namespaces, cgroupsPath (cgroupfs driver), resources from HostConfig, the
 * device cgroup allow list and HostConfig.Devices, masked and read-only paths, sysctls. Thread-safe.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define MIN_MEMORY (6LL * 1024 * 1024)
#define CFS_PERIOD 100000LL

static const char *const masked_paths[] = {
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

/* Docker's default device cgroup rules: {type, major, minor} with -1 = wildcard. */
static const struct {
    char type;
    int major, minor;
    const char *access;
} default_devices[] = {
    {'c', -1, -1, "m"}, {'b', -1, -1, "m"}, {'c', 1, 3, "rwm"},    {'c', 1, 5, "rwm"},
    {'c', 1, 7, "rwm"}, {'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"},    {'c', 5, 0, "rwm"},
    {'c', 5, 1, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 136, -1, "rwm"}, {'c', 10, 200, "rwm"},
};

static json_t *strv_json(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* The path of the namespace to join for a "container:<ref>" mode (resolved by the service), or NULL. */
static const char *ns_join_path(const struct spec_input *in, const char *type)
{
    if (streq(type, "pid"))
        return in->pid_ns_path;
    if (streq(type, "ipc"))
        return in->ipc_ns_path;
    if (streq(type, "uts"))
        return in->uts_ns_path;
    return in->netns_path;
}

/* "host": the daemon's own namespace (no entry: the runtime inherits it); "container:<ref>": the other
 * container's, by path; anything else: a new one, except netns (pinned by the network module). */
static int namespaces(const struct spec_input *in, json_t *lnx)
{
    static const char *const keys[] = {"PidMode", "NetworkMode", "IpcMode", "UTSMode"};
    static const char *const types[] = {"pid", "network", "ipc", "uts"};
    json_t *ns = json_array();

    json_object_set_new(lnx, "namespaces", ns);
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const char *mode = json_get_str(in->host_config, keys[i]);
        const char *path = ns_join_path(in, types[i]);
        if (streq(mode, "host"))
            continue;
        if (path != NULL)
            json_array_append_new(ns, json_pack("{ssss}", "type", types[i], "path", path));
        else
            json_array_append_new(ns, json_pack("{ss}", "type", types[i]));
    }
    json_array_append_new(ns, json_pack("{ss}", "type", "mount"));
    if (user_remap_is_set(&in->remap)) {
        /* a private cgroup namespace: the runtime mounts the cgroup filesystem itself instead of binding host
         * cgroup directories the container's root may not search */
        if (in->userns_path != NULL)
            json_array_append_new(ns, json_pack("{ssss}", "type", "user", "path", in->userns_path));
        else
            json_array_append_new(ns, json_pack("{ss}", "type", "user"));
        json_array_append_new(ns, json_pack("{ss}", "type", "cgroup"));
        json_object_set_new(lnx, "uidMappings",
                            json_pack("[{sIsIsI}]", "containerID", (json_int_t)0, "hostID", (json_int_t)in->remap.uid,
                                      "size", (json_int_t)in->remap.size));
        json_object_set_new(lnx, "gidMappings",
                            json_pack("[{sIsIsI}]", "containerID", (json_int_t)0, "hostID", (json_int_t)in->remap.gid,
                                      "size", (json_int_t)in->remap.size));
    }
    return 0;
}

static json_t *device_rule(bool allow, char type, long long major, long long minor, const char *access)
{
    json_t *r = json_pack("{sbss}", "allow", allow, "access", access);
    if (type != 'a') {
        char t[2] = {type, '\0'};
        json_object_set_new(r, "type", json_string(t));
    }
    if (major >= 0)
        json_object_set_new(r, "major", json_integer(major));
    if (minor >= 0)
        json_object_set_new(r, "minor", json_integer(minor));
    return r;
}

static int host_device(const json_t *d, json_t *devices, json_t *rules, struct isd_error **err)
{
    const char *host = json_get_str(d, "PathOnHost");
    const char *path = json_get_str(d, "PathInContainer");
    const char *perm = json_get_str(d, "CgroupPermissions");
    struct stat st;
    char type;

    if (host == NULL || host[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid device path: `%s`", host ? host : "");
    if (stat(host, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno,
                             "error gathering device information while adding custom device \"%s\": %s", host,
                             strerror(errno));
    if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "error gathering device information while adding custom "
                             "device \"%s\": not a device node",
                             host);
    type = S_ISCHR(st.st_mode) ? 'c' : 'b';
    if (path == NULL || path[0] == '\0')
        path = host;
    if (path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid device path in container: `%s`", path);
    if (perm == NULL || perm[0] == '\0')
        perm = "rwm";
    if (strspn(perm, "rwm") != strlen(perm))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid device cgroup permissions: `%s`", perm);
    json_array_append_new(devices, json_pack("{sssssIsIsisisi}", "path", path, "type", (char[]){type, '\0'}, "major",
                                             (json_int_t)major(st.st_rdev), "minor", (json_int_t)minor(st.st_rdev),
                                             "fileMode", (int)(st.st_mode & 07777), "uid", 0, "gid", 0));
    json_array_append_new(rules, device_rule(true, type, major(st.st_rdev), minor(st.st_rdev), perm));
    return 0;
}

/* --privileged gives the container every device node of the host's /dev, as Docker does (same skipped
 * directories, and not the console). */
static void host_devices(const char *dir, json_t *devs, json_t *rules, int depth)
{
    static const char *const skip[] = {"pts", "shm", "fd", "mqueue", ".lxc", ".lxd-mounts", ".udev"};
    DIR *d = depth < 8 ? opendir(dir) : NULL;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL) {
        cleanup_free char *p = path_join(dir, e->d_name);
        bool skipped = streq(e->d_name, ".") || streq(e->d_name, "..");
        struct stat st;
        for (size_t i = 0; i < ARRAY_SIZE(skip); i++)
            skipped = skipped || streq(e->d_name, skip[i]);
        if (skipped || lstat(p, &st) < 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            host_devices(p, devs, rules, depth + 1);
        } else if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && !streq(p, "/dev/console")) {
            json_t *dev = json_pack("{ssss}", "PathOnHost", p, "PathInContainer", p);
            host_device(dev, devs, rules, NULL);
            json_decref(dev);
        }
    }
    if (d != NULL)
        closedir(d);
}

static int devices(const json_t *hc, json_t *lnx, json_t *res, struct isd_error **err)
{
    json_t *rules = json_array(), *devs = json_array();
    size_t i;
    json_t *d;

    json_object_set_new(res, "devices", rules);
    json_object_set_new(lnx, "devices", devs);
    if (json_get_bool(hc, "Privileged", false)) {
        json_array_append_new(rules, device_rule(true, 'a', -1, -1, "rwm"));
        host_devices("/dev", devs, rules, 0);
        return 0;
    }
    json_array_append_new(rules, device_rule(false, 'a', -1, -1, "rwm"));
    for (i = 0; i < ARRAY_SIZE(default_devices); i++)
        json_array_append_new(rules, device_rule(true, default_devices[i].type, default_devices[i].major,
                                                 default_devices[i].minor, default_devices[i].access));
    json_array_foreach(json_object_get(hc, "Devices"), i, d)
    {
        if (host_device(d, devs, rules, err) < 0)
            return -1;
    }
    return 0;
}

static void set_pos(json_t *obj, const char *key, long long v)
{
    if (v > 0)
        json_object_set_new(obj, key, json_integer(v));
}

static int memory(const json_t *hc, json_t *res, struct isd_error **err)
{
    json_t *m = json_object();
    long long mem = json_get_int(hc, "Memory", 0), swap = json_get_int(hc, "MemorySwap", 0);
    long long swappiness = json_get_int(hc, "MemorySwappiness", -1);

    json_object_set_new(res, "memory", m);
    if (mem > 0 && mem < MIN_MEMORY)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Minimum memory limit allowed is 6MB");
    if (swap > 0 && mem > 0 && swap < mem)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Minimum memoryswap limit should be larger than memory limit, see usage");
    if (swap > 0 && mem <= 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "You should always set the Memory limit when using Memoryswap limit, see usage");
    set_pos(m, "limit", mem);
    set_pos(m, "reservation", json_get_int(hc, "MemoryReservation", 0));
    if (swap > 0 || (swap == -1 && mem > 0))
        json_object_set_new(m, "swap", json_integer(swap));
    if (swappiness >= 0 && swappiness <= 100)
        json_object_set_new(m, "swappiness", json_integer(swappiness));
    if (json_get_bool(hc, "OomKillDisable", false))
        json_object_set_new(m, "disableOOMKiller", json_true());
    return 0;
}

static int cpu(const json_t *hc, json_t *res, struct isd_error **err)
{
    json_t *c = json_object();
    long long nano = json_get_int(hc, "NanoCpus", 0);
    const char *cpus = json_get_str(hc, "CpusetCpus"), *mems = json_get_str(hc, "CpusetMems");

    json_object_set_new(res, "cpu", c);
    if (nano > 0 && json_get_int(hc, "CpuPeriod", 0) > 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Conflicting options: Nano CPUs and CPU Period cannot both be set");
    if (nano > 0 && json_get_int(hc, "CpuQuota", 0) > 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    set_pos(c, "shares", json_get_int(hc, "CpuShares", 0));
    if (nano > 0) {
        json_object_set_new(c, "quota", json_integer(nano * CFS_PERIOD / 1000000000LL));
        json_object_set_new(c, "period", json_integer(CFS_PERIOD));
    }
    set_pos(c, "quota", json_get_int(hc, "CpuQuota", 0));
    set_pos(c, "period", json_get_int(hc, "CpuPeriod", 0));
    if (cpus != NULL && cpus[0] != '\0')
        json_object_set_new(c, "cpus", json_string(cpus));
    if (mems != NULL && mems[0] != '\0')
        json_object_set_new(c, "mems", json_string(mems));
    return 0;
}

static int resources(const json_t *hc, json_t *lnx, struct isd_error **err)
{
    json_t *res = json_object();
    long long pids = json_get_int(hc, "PidsLimit", 0), weight = json_get_int(hc, "BlkioWeight", 0);

    json_object_set_new(lnx, "resources", res);
    if (devices(hc, lnx, res, err) < 0 || memory(hc, res, err) < 0 || cpu(hc, res, err) < 0)
        return -1;
    if (pids > 0)
        json_object_set_new(res, "pids", json_pack("{sI}", "limit", (json_int_t)pids));
    if (weight != 0 && (weight < 10 || weight > 1000))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Range of blkio weight is from 10 to 1000");
    if (weight > 0)
        json_object_set_new(res, "blockIO", json_pack("{sI}", "weight", (json_int_t)weight));
    return spec_resources_extra(hc, res, err);
}

json_t *spec_resources_build(const json_t *host_config, struct isd_error **err)
{
    cleanup_json json_t *lnx = json_object();
    json_t *res;
    if (resources(host_config, lnx, err) < 0)
        return NULL;
    res = json_incref(json_object_get(lnx, "resources"));
    json_object_del(res, "devices");
    return res;
}

char *spec_cgroups_path(const struct spec_input *in)
{
    const char *parent = json_get_str(in->host_config, "CgroupParent");
    cleanup_free char *p = NULL;
    size_t n;

    if (parent == NULL || parent[0] == '\0')
        parent = in->cgroup_parent != NULL && in->cgroup_parent[0] != '\0' ? in->cgroup_parent : "/isulad";
    p = xasprintf("%s%s", parent[0] == '/' ? "" : "/", parent);
    n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    return xasprintf("%s/%s", n == 1 ? "" : p, in->id);
}

/* The sysctls runc accepts: namespaced ones, with their namespace private to the container. */
static int check_sysctls(const json_t *hc, const json_t *sysctls, struct isd_error **err)
{
    static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                                      "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)sysctls, k, v)
    {
        bool is_ipc = str_has_prefix(k, "fs.mqueue.");
        for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
            is_ipc = is_ipc || streq(k, ipc[i]);
        if (!json_is_string(v))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "sysctl %s: value must be a string", k);
        if (is_ipc && streq(json_get_str(hc, "IpcMode"), "host"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "sysctl %s is not allowed in the host IPC namespace", k);
        if (str_has_prefix(k, "net.") && streq(json_get_str(hc, "NetworkMode"), "host"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "sysctl %s is not allowed in the host network namespace", k);
        if (!is_ipc && !str_has_prefix(k, "net.") && !streq(k, "kernel.domainname"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "sysctl %s is not allowed: not namespaced", k);
    }
    return 0;
}

int spec_build_linux(const struct spec_input *in, json_t *spec, struct isd_error **err)
{
    const json_t *hc = in->host_config;
    cleanup_json json_t *lnx = json_object();
    cleanup_free char *cg = spec_cgroups_path(in);
    json_t *sysctls = json_object_get(hc, "Sysctls");

    if (resources(hc, lnx, err) < 0 || namespaces(in, lnx) < 0)
        return -1;
    json_object_set_new(lnx, "cgroupsPath", json_string(cg));
    if (check_sysctls(hc, sysctls, err) < 0)
        return -1;
    if (json_is_object(sysctls) && json_object_size(sysctls) > 0)
        json_object_set_new(lnx, "sysctl", json_deep_copy(sysctls));
    /* HostConfig.MaskedPaths / ReadonlyPaths replace the defaults when given (Docker's API; the CRI's lists) */
    if (!json_get_bool(hc, "Privileged", false)) {
        json_t *mp = json_object_get(hc, "MaskedPaths"), *rp = json_object_get(hc, "ReadonlyPaths");
        json_object_set_new(lnx, "maskedPaths",
                            json_is_array(mp) ? json_deep_copy(mp) : strv_json(masked_paths, ARRAY_SIZE(masked_paths)));
        json_object_set_new(lnx, "readonlyPaths",
                            json_is_array(rp) ? json_deep_copy(rp)
                                              : strv_json(readonly_paths, ARRAY_SIZE(readonly_paths)));
    }
    json_object_set(spec, "linux", lnx);
    return 0;
}
