/*
 * Writing limits (cgroup.h): an OCI linux.resources object applied to a running process's cgroups, each
 * value in the file of the host's layout (v1 names on a v1 hierarchy, v2 names on the unified one), and the
 * preparation of a controller that sits only on the unified hierarchy of a hybrid host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static bool path_exists_at(const char *dir, const char *file)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    return path_exists(p);
}

int cgroup_write(const char *dir, const char *file, const char *value, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("%s/%s", dir, file);
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t n = strlen(value);
    if (fd < 0)
        return isd_error_errno(err, "open %s", path);
    if (write(fd, value, n) != (ssize_t)n)
        return isd_error_errno(err, "write `%s` to %s", value, path);
    return 0;
}

static int write_ll(const char *dir, const char *file, long long v, struct isd_error **err)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", v);
    return cgroup_write(dir, file, buf, err);
}

/* v2's "max" for the unlimited values (-1 or 0). */
static int write_max(const char *dir, const char *file, long long v, struct isd_error **err)
{
    return v > 0 ? write_ll(dir, file, v, err) : cgroup_write(dir, file, "max", err);
}

const char *cgroup_unified_root(void)
{
    if (path_exists(CGROUP_ROOT "/cgroup.controllers"))
        return CGROUP_ROOT;
    return path_exists(CGROUP_ROOT "/unified/cgroup.controllers") ? CGROUP_ROOT "/unified" : NULL;
}

bool cgroup_host_has(enum cgroup_controller ctrl, bool *ret_v2)
{
    struct cgroup_paths self;
    bool has;
    cgroup_paths_resolve(getpid(), &self);
    has = cgroup_controller_dir(&self, ctrl, ret_v2) != NULL;
    cgroup_paths_clear(&self);
    return has;
}

bool cgroup_host_has_file(enum cgroup_controller ctrl, const char *file)
{
    struct cgroup_paths self;
    const char *dir;
    bool has;
    cgroup_paths_resolve(getpid(), &self);
    dir = cgroup_controller_dir(&self, ctrl, NULL);
    if (dir != NULL) {
        cleanup_free char *p = xasprintf("%s/%s", dir, file);
        has = path_exists(p);
    } else {
        has = false;
    }
    cgroup_paths_clear(&self);
    return has;
}

bool cgroup_kmem_supported(void)
{
    struct utsname u;
    int major = 0, minor = 0;
    bool v2 = false;
    if (!cgroup_host_has(CGROUP_MEMORY, &v2) || v2 ||
        !cgroup_host_has_file(CGROUP_MEMORY, "memory.kmem.limit_in_bytes"))
        return false;
    /* Linux 5.16 keeps the file but ignores what is written to it. */
    if (uname(&u) == 0 && sscanf(u.release, "%d.%d", &major, &minor) == 2)
        return major < 5 || (major == 5 && minor < 16);
    return false;
}

/* "+<ctrl>" into cgroup.subtree_control of every ancestor of <root><cgroups_path>, then the directory. */
char *cgroup_unified_prepare(const char *cgroups_path, const char *ctrl, struct isd_error **err)
{
    const char *root = cgroup_unified_root();
    cleanup_free char *dir = NULL;
    cleanup_free char *enable = xasprintf("+%s", ctrl);
    if (root == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "no cgroup2 hierarchy mounted"), NULL;
    dir = xasprintf("%s%s", root, cgroups_path);
    if (cgroup_write(root, "cgroup.subtree_control", enable, err) < 0)
        return NULL;
    for (char *s = strchr(dir + strlen(root) + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
        cleanup_free char *anc = xstrndup(dir, (size_t)(s - dir));
        if (mkdir(anc, 0755) < 0 && errno != EEXIST)
            return isd_error_errno(err, "mkdir %s", anc), NULL;
        if (cgroup_write(anc, "cgroup.subtree_control", enable, err) < 0)
            return NULL;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST)
        return isd_error_errno(err, "mkdir %s", dir), NULL;
    return TAKE_PTR(dir);
}

/* The v1 memory limit and memory+swap limit in the order the kernel accepts (limit <= memsw at every step). */
static int memory_v1_limits(const char *dir, const json_t *m, struct isd_error **err)
{
    json_t *limit = json_object_get(m, "limit"), *swap = json_object_get(m, "swap");
    long long cur_sw = cgroup_read_ll(dir, "memory.memsw.limit_in_bytes", -1);
    long long new_limit = limit ? json_integer_value(limit) : 0, new_sw = swap ? json_integer_value(swap) : 0;
    bool has_sw = path_exists_at(dir, "memory.memsw.limit_in_bytes");

    if (swap != NULL && has_sw && (new_sw == -1 || new_sw > cur_sw || cur_sw < 0))
        if (write_ll(dir, "memory.memsw.limit_in_bytes", new_sw, err) < 0)
            return -1;
    if (limit != NULL && write_ll(dir, "memory.limit_in_bytes", new_limit, NULL) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Memory limit should be smaller than already set memoryswap limit, update the "
                             "memoryswap at the same time");
    if (swap != NULL && has_sw && !(new_sw == -1 || new_sw > cur_sw || cur_sw < 0))
        return write_ll(dir, "memory.memsw.limit_in_bytes", new_sw, err);
    return 0;
}

static int memory_apply(const struct cgroup_paths *cg, const json_t *m, struct isd_error **err)
{
    bool v2 = false;
    const char *dir = cgroup_controller_dir(cg, CGROUP_MEMORY, &v2);
    json_t *limit = json_object_get(m, "limit"), *swap = json_object_get(m, "swap");
    json_t *resv = json_object_get(m, "reservation"), *swp = json_object_get(m, "swappiness");
    if (m == NULL || json_object_size(m) == 0)
        return 0;
    if (dir == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "the memory cgroup is not available on this host");
    if (v2) {
        long long l = limit ? json_integer_value(limit) : cgroup_read_ll(dir, "memory.max", -1);
        if (limit != NULL && write_max(dir, "memory.max", l, err) < 0)
            return -1;
        if (resv != NULL && write_max(dir, "memory.low", json_integer_value(resv), err) < 0)
            return -1;
        if (swap != NULL && path_exists_at(dir, "memory.swap.max"))
            return write_max(dir, "memory.swap.max",
                             json_integer_value(swap) > 0 && l > 0 ? json_integer_value(swap) - l : -1, err);
        return 0;
    }
    if (memory_v1_limits(dir, m, err) < 0)
        return -1;
    if (resv != NULL && write_ll(dir, "memory.soft_limit_in_bytes", json_integer_value(resv), err) < 0)
        return -1;
    if (swp != NULL && write_ll(dir, "memory.swappiness", json_integer_value(swp), err) < 0)
        return -1;
    return 0;
}

/* cpu.shares (2..262144) to cpu.weight (1..10000), as runc converts. */
static long long shares_to_weight(long long shares)
{
    return shares == 0 ? 100 : 1 + ((shares - 2) * 9999) / 262142;
}

static int cpu_apply_v2(const char *dir, const json_t *c, struct isd_error **err)
{
    json_t *shares = json_object_get(c, "shares"), *quota = json_object_get(c, "quota");
    json_t *period = json_object_get(c, "period");
    if (shares != NULL && write_ll(dir, "cpu.weight", shares_to_weight(json_integer_value(shares)), err) < 0)
        return -1;
    if (quota != NULL || period != NULL) {
        long long q = quota ? json_integer_value(quota) : -1, p = period ? json_integer_value(period) : 100000;
        cleanup_free char *v = q > 0 ? xasprintf("%lld %lld", q, p) : xasprintf("max %lld", p);
        return cgroup_write(dir, "cpu.max", v, err);
    }
    return 0;
}

static int cpu_apply(const struct cgroup_paths *cg, const json_t *c, struct isd_error **err)
{
    static const char *const v1_keys[] = {"shares", "period", "quota", "realtimePeriod", "realtimeRuntime"};
    static const char *const v1_files[] = {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.rt_period_us",
                                           "cpu.rt_runtime_us"};
    bool v2 = false;
    const char *dir = cgroup_controller_dir(cg, CGROUP_CPU, &v2);
    const char *cset = cgroup_controller_dir(cg, CGROUP_CPUSET, NULL);
    json_t *v;
    if (c == NULL || json_object_size(c) == 0)
        return 0;
    if (cset == NULL && (json_object_get(c, "cpus") != NULL || json_object_get(c, "mems") != NULL))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "the cpuset cgroup is not available on this host");
    if ((v = json_object_get(c, "cpus")) != NULL && cgroup_write(cset, "cpuset.cpus", json_string_value(v), err) < 0)
        return -1;
    if ((v = json_object_get(c, "mems")) != NULL && cgroup_write(cset, "cpuset.mems", json_string_value(v), err) < 0)
        return -1;
    if (dir == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "the cpu cgroup is not available on this host");
    if (v2)
        return cpu_apply_v2(dir, c, err);
    for (size_t i = 0; i < ARRAY_SIZE(v1_keys); i++)
        if ((v = json_object_get(c, v1_keys[i])) != NULL && write_ll(dir, v1_files[i], json_integer_value(v), err) < 0)
            return -1;
    return 0;
}

static int hugetlb_apply(const struct cgroup_paths *cg, const json_t *list, struct isd_error **err)
{
    bool v2 = false;
    const char *dir = cgroup_controller_dir(cg, CGROUP_HUGETLB, &v2);
    size_t i;
    json_t *h;
    if (json_array_size(list) == 0)
        return 0;
    if (dir == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "the hugetlb cgroup is not available on this host");
    json_array_foreach(list, i, h)
    {
        cleanup_free char *f =
            xasprintf(v2 ? "hugetlb.%s.max" : "hugetlb.%s.limit_in_bytes", json_get_str(h, "pageSize"));
        if (write_ll(dir, f, json_get_int(h, "limit", 0), err) < 0)
            return -1;
    }
    return 0;
}

int cgroup_resources_apply(const struct cgroup_paths *cg, const json_t *res, struct isd_error **err)
{
    json_t *pids = json_object_get(res, "pids");
    bool v2 = false;
    const char *pdir = cgroup_controller_dir(cg, CGROUP_PIDS, &v2);
    if (memory_apply(cg, json_object_get(res, "memory"), err) < 0 ||
        cpu_apply(cg, json_object_get(res, "cpu"), err) < 0 ||
        cgroup_blkio_apply(cg, json_object_get(res, "blockIO"), err) < 0 ||
        hugetlb_apply(cg, json_object_get(res, "hugepageLimits"), err) < 0)
        return -1;
    if (pids != NULL && json_object_get(pids, "limit") != NULL) {
        if (pdir == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "the pids cgroup is not available on this host");
        return write_max(pdir, "pids.max", json_get_int(pids, "limit", 0), err);
    }
    return 0;
}
