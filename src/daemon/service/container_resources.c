/*
 * Resource limits a host may lack (kernel memory, realtime CPU, blkio weight, hugetlb page sizes, openEuler's
 * files cgroup, a negative oom_score_adj without CAP_SYS_RESOURCE): refused at create with a clear message
 * rather than left to fail in the runtime. Before the runtime creates a container on a hybrid host, the
 * controllers runc 1.1's v1 manager cannot reach (hugetlb on the unified hierarchy) are set up here, and the
 * realtime CPU budget of the parent cgroups is raised so the container's can be granted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"
#include "daemon/service/internal.h"

#define CAP_SYS_RESOURCE_BIT 24

/* Whether the daemon may lower an oom_score_adj below its own: CAP_SYS_RESOURCE in CapEff. */
static bool may_lower_oom_score(long long want)
{
    cleanup_free char *status = read_file("/proc/self/status", 1 << 16, NULL, NULL);
    cleanup_free char *own = read_file("/proc/self/oom_score_adj", 64, NULL, NULL);
    const char *p = status != NULL ? strstr(status, "CapEff:") : NULL;
    unsigned long long caps = 0;
    if (own != NULL && want >= atoll(own))
        return true;
    if (p == NULL || sscanf(p, "CapEff: %llx", &caps) != 1)
        return false;
    return (caps >> CAP_SYS_RESOURCE_BIT) & 1;
}

static int check_hugetlb(const json_t *hc, struct isd_error **err)
{
    json_t *h;
    size_t i;
    bool v2 = false;
    if (json_array_size(json_object_get(hc, "Hugetlbs")) > 0 && !cgroup_host_has(CGROUP_HUGETLB, &v2))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Your kernel does not support hugetlb limit");
    json_array_foreach(json_object_get(hc, "Hugetlbs"), i, h)
    {
        const char *ps = json_get_str(h, "PageSize");
        long long n = 0;
        cleanup_free char *dir = NULL;
        if (ps == NULL || ps[0] == '\0')
            continue; /* the host's default size */
        if (parse_size(ps, &n) < 0 || n < 1024)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid hugepage size: `%s`", ps);
        dir = xasprintf("/sys/kernel/mm/hugepages/hugepages-%lldkB", n / 1024);
        if (!path_exists(dir))
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "Invalid hugepage size: `%s`, the host has no such huge page size (see "
                                 "/sys/kernel/mm/hugepages)",
                                 ps);
    }
    return 0;
}

/* A per-device weight in BFQ's files needs bfq as the device's scheduler: the kernel refuses it otherwise. */
static int check_weight_devices(const json_t *list, struct isd_error **err)
{
    size_t i;
    json_t *d;
    if (!cgroup_blkio_weight_is_bfq())
        return 0;
    json_array_foreach(list, i, d)
    {
        const char *path = json_get_str(d, "Path");
        struct stat st;
        if (path == NULL || stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
            continue; /* the spec's check names it */
        if (!cgroup_block_device_uses_bfq(major(st.st_rdev), minor(st.st_rdev)))
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "blkio weight for device `%s`: its I/O scheduler is not bfq, the only one with "
                                 "per-device weights on this kernel (see /sys/dev/block/%u:%u/queue/scheduler)",
                                 path, major(st.st_rdev), minor(st.st_rdev));
    }
    return 0;
}

static int check_blkio(const json_t *hc, struct isd_error **err)
{
    long long w = json_get_int(hc, "BlkioWeight", 0);
    const json_t *devs = json_object_get(hc, "BlkioWeightDevice");
    size_t i;
    json_t *d;
    if (w != 0 && (w < 10 || w > 1000))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Range of blkio weight is from 10 to 1000");
    if (w > 0 && !cgroup_blkio_weight_supported(false))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Your kernel does not support Block I/O weight or the cgroup is not mounted (no CFQ "
                             "or BFQ weight files, no iocost)");
    json_array_foreach(devs, i, d)
    {
        long long dw = json_get_int(d, "Weight", 0);
        if (dw < 10 || dw > 1000)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Range of blkio weight is from 10 to 1000");
    }
    if (json_array_size(devs) > 0 && !cgroup_blkio_weight_supported(true))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Your kernel does not support Block I/O weight_device or the cgroup is not mounted "
                             "(no CFQ or BFQ weight files)");
    return check_weight_devices(devs, err);
}

void service_resources_discard(json_t *hc, json_t *warnings)
{
    json_t *swp = json_object_get(hc, "MemorySwappiness");
    if (json_is_integer(swp) && json_integer_value(swp) != -1 &&
        !cgroup_host_has_file(CGROUP_MEMORY, "memory.swappiness")) {
        json_array_append_new(warnings, json_string("Your kernel does not support memory swappiness capabilities or "
                                                    "the cgroup is not mounted (cgroup v2 has none). Memory "
                                                    "swappiness discarded."));
        json_object_set_new(hc, "MemorySwappiness", json_null());
    }
}

int service_resources_check(const json_t *hc, struct isd_error **err)
{
    long long oom = json_get_int(hc, "OomScoreAdj", 0);
    bool v2 = false;
    if (json_get_int(hc, "KernelMemory", 0) > 0 && !cgroup_kmem_supported())
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Your kernel does not support kernel memory limit (no memory.kmem.limit_in_bytes "
                             "that takes effect: cgroup v2, or Linux 5.16 and later)");
    if ((json_get_int(hc, "CpuRealtimePeriod", 0) > 0 || json_get_int(hc, "CpuRealtimeRuntime", 0) != 0) &&
        (!cgroup_host_has(CGROUP_CPU, &v2) || v2 || !cgroup_host_has_file(CGROUP_CPU, "cpu.rt_runtime_us")))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Your kernel does not support cgroup cpu real-time runtime");
    if (json_get_int(hc, "FilesLimit", 0) > 0 && !cgroup_files_supported(CGROUP_FILES_ROOT))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Your kernel does not support files limit: no files cgroup (" CGROUP_FILES_ROOT
                             ", an openEuler kernel feature)");
    if (oom < 0 && !may_lower_oom_score(oom))
        return isd_error_set(err, ISD_ERR_PERMISSION, 0,
                             "Invalid value %lld for oom score adj: a negative value needs CAP_SYS_RESOURCE, which "
                             "isulad does not have on this host",
                             oom);
    if (check_hugetlb(hc, err) < 0 || check_blkio(hc, err) < 0)
        return -1;
    return 0;
}

/* runc 1.1's v1 manager on a hybrid host writes hugetlb limits to a v1 hierarchy that does not exist: the
 * limits go to the container's directory on the unified hierarchy here, before runc joins it. */
static int hugetlb_unified(const char *cgroups_path, json_t *res, struct isd_error **err)
{
    json_t *limits = json_object_get(res, "hugepageLimits"), *h;
    cleanup_free char *dir = NULL;
    bool v2 = false, mem_v2 = false;
    size_t i;
    /* on a pure v2 host (memory on the unified hierarchy too) runc's v2 manager does it */
    if (json_array_size(limits) == 0 || !cgroup_host_has(CGROUP_HUGETLB, &v2) || !v2 ||
        !cgroup_host_has(CGROUP_MEMORY, &mem_v2) || mem_v2)
        return 0;
    dir = cgroup_unified_prepare(cgroups_path, "hugetlb", err);
    if (dir == NULL)
        return -1;
    json_array_foreach(limits, i, h)
    {
        cleanup_free char *file = xasprintf("hugetlb.%s.max", json_get_str(h, "pageSize"));
        cleanup_free char *v = xasprintf("%lld", json_get_int(h, "limit", 0));
        if (cgroup_write(dir, file, v, err) < 0)
            return -1;
    }
    json_object_del(res, "hugepageLimits");
    return 0;
}

/* A realtime budget for a cgroup needs as much bandwidth (runtime / period) in each ancestor, which runc does
 * not give (it writes the container's files only): each ancestor gets the container's share added, top down. */
int service_resources_rt_parents(const char *cgroups_path, const json_t *res, struct isd_error **err)
{
    const json_t *cpu = json_object_get(res, "cpu");
    long long want = json_get_int(cpu, "realtimeRuntime", 0), period = json_get_int(cpu, "realtimePeriod", 1000000);
    cleanup_free char *path = xstrdup(cgroups_path);
    if (want <= 0)
        return 0;
    for (char *s = strchr(path + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        *s = '\0';
        cleanup_free char *dir = xasprintf("/sys/fs/cgroup/cpu%s", path);
        *s = '/';
        long long pp = cgroup_read_ll(dir, "cpu.rt_period_us", 1000000),
                  cur = cgroup_read_ll(dir, "cpu.rt_runtime_us", 0);
        long long need = (want * pp + period - 1) / period;
        cleanup_free char *sum = xasprintf("%lld", cur + need);
        cleanup_free char *only = xasprintf("%lld", need);
        if (mkdir_p(dir, 0755, err) < 0)
            return -1;
        if (cgroup_write(dir, "cpu.rt_runtime_us", sum, NULL) < 0 &&
            cgroup_write(dir, "cpu.rt_runtime_us", only, err) < 0)
            return -1;
    }
    return 0;
}

int service_resources_prepare(json_t *spec, struct isd_error **err)
{
    json_t *lnx = json_object_get(spec, "linux");
    json_t *res = json_object_get(lnx, "resources");
    const char *cg = json_get_str(lnx, "cgroupsPath");
    if (res == NULL || cg == NULL || cg[0] != '/')
        return 0;
    if (hugetlb_unified(cg, res, err) < 0 || service_resources_rt_parents(cg, res, err) < 0)
        return -1;
    return 0;
}

static char *container_cgroups_path(struct daemon *d, struct container *c)
{
    struct spec_input in;
    service_spec_input(d, c, NULL, c->config, &in);
    return spec_cgroups_path(&in);
}

bool service_resources_files_limited(const struct container *c)
{
    return json_get_int(c->host_config, "FilesLimit", 0) > 0;
}

int service_resources_files_join(struct daemon *d, struct container *c, pid_t pid, struct isd_error **err)
{
    cleanup_free char *cg = NULL;
    if (!service_resources_files_limited(c))
        return 0;
    cg = container_cgroups_path(d, c);
    return cgroup_files_limit_apply(CGROUP_FILES_ROOT, cg, json_get_int(c->host_config, "FilesLimit", 0), pid, err);
}

void service_resources_files_remove(struct daemon *d, struct container *c)
{
    cleanup_free char *cg = NULL;
    if (!service_resources_files_limited(c))
        return;
    cg = container_cgroups_path(d, c);
    cgroup_files_remove(CGROUP_FILES_ROOT, cg);
}

void service_resources_inspect(json_t *hc)
{
    static const char *const zero[] = {"CpuShares",    "Memory",          "NanoCpus",          "BlkioWeight",
                                       "CpuPeriod",    "CpuQuota",        "CpuRealtimePeriod", "CpuRealtimeRuntime",
                                       "KernelMemory", "KernelMemoryTCP", "MemoryReservation", "MemorySwap",
                                       "CpuCount",     "CpuPercent",      "IOMaximumIOps",     "IOMaximumBandwidth",
                                       "OomScoreAdj"};
    static const char *const empty_lists[] = {"BlkioWeightDevice",   "BlkioDeviceReadBps",   "BlkioDeviceWriteBps",
                                              "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps", "Devices"};
    static const char *const null_keys[] = {"MemorySwappiness", "PidsLimit", "Ulimits", "DeviceCgroupRules"};
    if (!json_is_object(hc))
        return;
    for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
        if (json_object_get(hc, zero[i]) == NULL)
            json_object_set_new(hc, zero[i], json_integer(0));
    for (size_t i = 0; i < ARRAY_SIZE(empty_lists); i++)
        if (json_object_get(hc, empty_lists[i]) == NULL)
            json_object_set_new(hc, empty_lists[i], json_array());
    for (size_t i = 0; i < ARRAY_SIZE(null_keys); i++)
        if (json_object_get(hc, null_keys[i]) == NULL)
            json_object_set_new(hc, null_keys[i], json_null());
    if (json_object_get(hc, "CgroupParent") == NULL)
        json_object_set_new(hc, "CgroupParent", json_string(""));
    if (json_object_get(hc, "CpusetCpus") == NULL)
        json_object_set_new(hc, "CpusetCpus", json_string(""));
    if (json_object_get(hc, "CpusetMems") == NULL)
        json_object_set_new(hc, "CpusetMems", json_string(""));
    if (json_object_get(hc, "OomKillDisable") == NULL)
        json_object_set_new(hc, "OomKillDisable", json_false());
    if (json_object_get(hc, "ShmSize") == NULL)
        json_object_set_new(hc, "ShmSize", json_integer(64LL << 20));
}
