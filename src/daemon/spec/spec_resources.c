/*
 * The parts of linux.resources beyond memory/cpu/pids/blkio weight (spec_linux.c): the memory reservation's
 * default (the guide: --memory-reservation defaults to --memory), kernel memory, realtime CPU, per-device
 * blkio weight and throttles, hugetlb limits. Checks the guide's ranges; what the host offers is the
 * service's check. Thread-safe.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define MIN_RESERVATION (4LL * 1024 * 1024)

static int memory_extra(const json_t *hc, json_t *res, struct isd_error **err)
{
    json_t *m = json_object_get(res, "memory");
    long long mem = json_get_int(hc, "Memory", 0), resv = json_get_int(hc, "MemoryReservation", 0);
    long long kmem = json_get_int(hc, "KernelMemory", 0);
    if (resv < 0 || (resv > 0 && resv < MIN_RESERVATION))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Minimum memory reservation allowed is 4MB");
    if (mem > 0 && resv > mem)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Minimum memory limit can not be less than memory reservation limit, see usage");
    if (resv == 0 && mem > 0)
        json_object_set_new(m, "reservation", json_integer(mem));
    if (kmem > 0)
        json_object_set_new(m, "kernel", json_integer(kmem));
    return 0;
}

/* openEuler's runtime field for its files cgroup (other runtimes ignore it: the daemon sets that cgroup itself). */
static void files_limit(const json_t *hc, json_t *res)
{
    long long n = json_get_int(hc, "FilesLimit", 0);
    if (n > 0)
        json_object_set_new(res, "files", json_pack("{sI}", "limit", (json_int_t)n));
}

static int cpu_extra(const json_t *hc, json_t *res, struct isd_error **err)
{
    json_t *c = json_object_get(res, "cpu");
    long long rt_period = json_get_int(hc, "CpuRealtimePeriod", 0),
              rt_runtime = json_get_int(hc, "CpuRealtimeRuntime", 0);
    if (rt_period < 0 || rt_runtime < -1)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid value for realtime CPU period or runtime");
    if (rt_period > 0 && rt_runtime > rt_period)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "cpu-rt-runtime cannot be higher than cpu-rt-period");
    if (rt_period > 0)
        json_object_set_new(c, "realtimePeriod", json_integer(rt_period));
    if (rt_runtime != 0)
        json_object_set_new(c, "realtimeRuntime", json_integer(rt_runtime));
    return 0;
}

/* A device path of the blkio lists to its major and minor numbers. */
static int block_device(const char *path, json_t **ret, struct isd_error **err)
{
    struct stat st;
    if (path == NULL || stat(path, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "invalid device path `%s`: %s", path ? path : "",
                             strerror(errno));
    if (!S_ISBLK(st.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid device path `%s`: not a block device", path);
    *ret = json_pack("{sIsI}", "major", (json_int_t)major(st.st_rdev), "minor", (json_int_t)minor(st.st_rdev));
    return 0;
}

static int device_list(const json_t *hc, const char *key, const char *hc_val, const char *oci_key, const char *oci_val,
                       json_t *blkio, struct isd_error **err)
{
    json_t *in = json_object_get(hc, key), *out, *d;
    size_t i;
    if (json_array_size(in) == 0)
        return 0;
    out = json_array();
    json_object_set_new(blkio, oci_key, out);
    json_array_foreach(in, i, d)
    {
        long long v = json_get_int(d, hc_val, 0);
        json_t *o = NULL;
        if (block_device(json_get_str(d, "Path"), &o, err) < 0)
            return -1;
        if (streq(hc_val, "Weight") && (v < 10 || v > 1000)) {
            json_decref(o);
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Range of blkio weight is from 10 to 1000");
        }
        if (v < 0) {
            json_decref(o);
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid %s value %lld: must be positive", key, v);
        }
        json_object_set_new(o, oci_val, json_integer(v));
        json_array_append_new(out, o);
    }
    return 0;
}

static int blkio_extra(const json_t *hc, json_t *res, struct isd_error **err)
{
    static const char *const keys[] = {"BlkioDeviceReadBps", "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                                       "BlkioDeviceWriteIOps"};
    static const char *const oci[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                                      "throttleWriteIOPSDevice"};
    json_t *b = json_object_get(res, "blockIO");
    if (b == NULL) {
        b = json_object();
        json_object_set_new(res, "blockIO", b);
    }
    if (device_list(hc, "BlkioWeightDevice", "Weight", "weightDevice", "weight", b, err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (device_list(hc, keys[i], "Rate", oci[i], "rate", b, err) < 0)
            return -1;
    if (json_object_size(b) == 0)
        json_object_del(res, "blockIO");
    return 0;
}

char *spec_hugetlb_page_name(const char *size)
{
    long long n;
    if (size == NULL || parse_size(size, &n) < 0 || n <= 0)
        return NULL;
    if (n % (1LL << 30) == 0)
        return xasprintf("%lldGB", n >> 30);
    if (n % (1LL << 20) == 0)
        return xasprintf("%lldMB", n >> 20);
    if (n % (1LL << 10) == 0)
        return xasprintf("%lldKB", n >> 10);
    return NULL;
}

/* HostConfig.Hugetlbs (an empty PageSize: the host's default huge page size, given by the caller). */
static int hugetlb(const json_t *hc, const char *default_page, json_t *res, struct isd_error **err)
{
    json_t *in = json_object_get(hc, "Hugetlbs"), *out, *h;
    size_t i;
    if (json_array_size(in) == 0)
        return 0;
    out = json_array();
    json_object_set_new(res, "hugepageLimits", out);
    json_array_foreach(in, i, h)
    {
        const char *ps = json_get_str(h, "PageSize");
        cleanup_free char *name = spec_hugetlb_page_name(ps != NULL && ps[0] != '\0' ? ps : default_page);
        if (name == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid hugepage size: `%s`", ps ? ps : "");
        json_array_append_new(out,
                              json_pack("{sssI}", "pageSize", name, "limit", (json_int_t)json_get_int(h, "Limit", 0)));
    }
    return 0;
}

/* The host's default huge page size ("Hugepagesize:    2048 kB" in /proc/meminfo). */
static char *default_page_size(void)
{
    cleanup_free char *text = read_file("/proc/meminfo", 1 << 16, NULL, NULL);
    const char *p = text != NULL ? strstr(text, "Hugepagesize:") : NULL;
    long long kb = 0;
    if (p == NULL || sscanf(p, "Hugepagesize: %lld kB", &kb) != 1 || kb <= 0)
        return xstrdup("2MB");
    return xasprintf("%lldKB", kb);
}

int spec_resources_extra(const json_t *hc, json_t *res, struct isd_error **err)
{
    cleanup_free char *dflt = NULL;
    if (memory_extra(hc, res, err) < 0 || cpu_extra(hc, res, err) < 0 || blkio_extra(hc, res, err) < 0)
        return -1;
    files_limit(hc, res);
    if (json_array_size(json_object_get(hc, "Hugetlbs")) > 0)
        dflt = default_page_size();
    return hugetlb(hc, dflt, res, err);
}
