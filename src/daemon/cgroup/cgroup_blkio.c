/*
 * Block I/O weights (cgroup.h): which weight files a kernel offers and writing them as runc 1.1 does. v1 has
 * CFQ's blkio.weight/blkio.weight_device (kernels before 5.0) or BFQ's blkio.bfq.weight/blkio.bfq.weight_device;
 * v2 has io.weight (iocost, 1..10000: a weight of 10..1000 is scaled) or BFQ's io.bfq.weight (the default weight,
 * or "maj:min weight" lines since Linux 5.4). BFQ's and iocost's files exist below the root cgroup only. A
 * per-device BFQ weight takes effect only on a device whose scheduler is bfq, and the kernel refuses it on the
 * others.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static bool exists_at(const char *dir, const char *file)
{
    cleanup_free char *p = xasprintf("%s/%s", dir, file);
    return path_exists(p);
}

/* The root of the hierarchy holding blkio (v1) or io (v2), NULL when none. */
static const char *blkio_root(bool *ret_v2)
{
    if (!cgroup_host_has(CGROUP_BLKIO, ret_v2))
        return NULL;
    return *ret_v2 ? cgroup_unified_root() : CGROUP_ROOT "/blkio";
}

/* Whether the bfq I/O scheduler is registered: a queue of some block device offers it. */
static bool bfq_registered(void)
{
    DIR *d = opendir("/sys/block");
    struct dirent *de;
    bool found = false;
    while (d != NULL && !found && (de = readdir(d)) != NULL) {
        cleanup_free char *p = NULL, *text = NULL;
        if (de->d_name[0] == '.')
            continue;
        p = xasprintf("/sys/block/%s/queue/scheduler", de->d_name);
        text = read_file(p, 4096, NULL, NULL);
        found = text != NULL && strstr(text, "bfq") != NULL;
    }
    if (d != NULL)
        closedir(d);
    return found;
}

bool cgroup_blkio_weight_is_bfq(void)
{
    bool v2 = false;
    const char *root = blkio_root(&v2);
    return root != NULL && (v2 || !exists_at(root, "blkio.weight"));
}

bool cgroup_blkio_weight_supported(bool per_device)
{
    bool v2 = false;
    const char *root = blkio_root(&v2);
    if (root == NULL)
        return false;
    if (v2)
        return bfq_registered() || (!per_device && exists_at(root, "io.cost.qos"));
    return exists_at(root, "blkio.weight") || exists_at(root, "blkio.bfq.io_service_bytes");
}

bool cgroup_block_device_uses_bfq(unsigned int maj, unsigned int min)
{
    cleanup_free char *p = xasprintf("/sys/dev/block/%u:%u/queue/scheduler", maj, min);
    cleanup_free char *text = read_file(p, 4096, NULL, NULL);
    if (text == NULL) { /* a partition: its disk's queue */
        free(p);
        p = xasprintf("/sys/dev/block/%u:%u/../queue/scheduler", maj, min);
        text = read_file(p, 4096, NULL, NULL);
    }
    return text != NULL && strstr(text, "[bfq]") != NULL;
}

/* A blkio weight of 10..1000 on iocost's scale of 1..10000, as runc converts. */
static long long weight_to_io_weight(long long w)
{
    return 1 + (w - 10) * 9999 / 990;
}

static int write_weight(const char *dir, bool v2, long long w, struct isd_error **err)
{
    cleanup_free char *v = xasprintf("%lld", w);
    if (!v2)
        return cgroup_write(dir, exists_at(dir, "blkio.weight") ? "blkio.weight" : "blkio.bfq.weight", v, err);
    if (exists_at(dir, "io.bfq.weight"))
        return cgroup_write(dir, "io.bfq.weight", v, err);
    free(v);
    v = xasprintf("%lld", weight_to_io_weight(w));
    return cgroup_write(dir, "io.weight", v, err);
}

static int write_device_weights(const char *dir, bool v2, const json_t *list, struct isd_error **err)
{
    const char *file = v2                               ? "io.bfq.weight"
                       : exists_at(dir, "blkio.weight") ? "blkio.weight_device"
                                                        : "blkio.bfq.weight_device";
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        cleanup_free char *line = xasprintf("%lld:%lld %lld", json_get_int(d, "major", 0), json_get_int(d, "minor", 0),
                                            json_get_int(d, "weight", 0));
        if (cgroup_write(dir, file, line, err) < 0)
            return -1;
    }
    return 0;
}

/* Each {major, minor, rate} of a list as "maj:min <prefix><rate>" into file. */
static int throttle_lines(const char *dir, const char *file, const json_t *list, const char *prefix,
                          struct isd_error **err)
{
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        cleanup_free char *line = xasprintf("%lld:%lld %s%lld", json_get_int(d, "major", 0),
                                            json_get_int(d, "minor", 0), prefix, json_get_int(d, "rate", 0));
        if (cgroup_write(dir, file, line, err) < 0)
            return -1;
    }
    return 0;
}

int cgroup_blkio_apply(const struct cgroup_paths *cg, const json_t *b, struct isd_error **err)
{
    static const char *const keys[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice", "throttleReadIOPSDevice",
                                       "throttleWriteIOPSDevice"};
    static const char *const v1_files[] = {"blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                                           "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
    static const char *const v2_prefix[] = {"rbps=", "wbps=", "riops=", "wiops="};
    bool v2 = false;
    const char *dir = cgroup_controller_dir(cg, CGROUP_BLKIO, &v2);
    json_t *w = json_object_get(b, "weight");
    if (b == NULL || json_object_size(b) == 0)
        return 0;
    if (dir == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "the blkio cgroup is not available on this host");
    if (w != NULL && json_integer_value(w) > 0 && write_weight(dir, v2, json_integer_value(w), err) < 0)
        return -1;
    if (write_device_weights(dir, v2, json_object_get(b, "weightDevice"), err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (throttle_lines(dir, v2 ? "io.max" : v1_files[i], json_object_get(b, keys[i]), v2 ? v2_prefix[i] : "", err) <
            0)
            return -1;
    return 0;
}

/* "maj:min" of the whole disk holding path (a partition's parent), NULL for a file system with no block device. */
static char *disk_of(const char *path)
{
    struct stat st;
    cleanup_free char *sys = NULL, *part = NULL, *parent = NULL;
    char real[PATH_MAX];
    char *dev, *nl;
    if (stat(path, &st) < 0 || major(st.st_dev) == 0)
        return NULL;
    sys = xasprintf("/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
    part = xasprintf("%s/partition", sys);
    if (!path_exists(part))
        return xasprintf("%u:%u", major(st.st_dev), minor(st.st_dev));
    if (realpath(sys, real) == NULL)
        return NULL;
    parent = xasprintf("%s/../dev", real);
    dev = read_file(parent, 64, NULL, NULL);
    if (dev != NULL && (nl = strchr(dev, '\n')) != NULL)
        *nl = '\0';
    return dev;
}

/*
 * Since Linux 6.10 a disk's blk-throttle state is made when a limit is first written for it, and until then cgroup
 * v1 counts no bytes or operations in blkio.throttle.io_service_bytes/io_serviced, the only per-cgroup I/O
 * counters v1 has without bfq (stats and metrics read them). A limit of 0 (none) written once for the disk, in a
 * cgroup made for that and removed at once, turns the counting on and leaves no rule behind; older kernels count
 * anyway. Binds on other disks are not covered. Failures are logged and change nothing else.
 */
void cgroup_blkio_stats_enable(const char *path)
{
    bool v2 = false;
    const char *root = blkio_root(&v2);
    cleanup_free char *disk = NULL, *dir = NULL, *value = NULL;
    struct isd_error *err = NULL;
    if (root == NULL || v2 || (disk = disk_of(path)) == NULL)
        return;
    dir = xasprintf("%s/isulad-io-stats-%d", root, (int)getpid());
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        log_warn("blkio: cannot make %s to turn on the I/O counters of disk %s: %s", dir, disk, strerror(errno));
        return;
    }
    value = xasprintf("%s 0", disk);
    if (cgroup_write(dir, "blkio.throttle.read_bps_device", value, &err) < 0) {
        log_warn("blkio: the I/O counters of disk %s stay off: %s", disk, err->msg);
        isd_error_free(err);
    }
    if (rmdir(dir) < 0)
        log_warn("blkio: cannot remove %s: %s", dir, strerror(errno));
}
