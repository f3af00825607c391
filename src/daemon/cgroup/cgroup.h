/*
 * The cgroups of a process, for reading usage (stats) and, later, writing limits (update, resource options).
 * One reading of /proc/<pid>/cgroup handles the three kinds of host:
 *   - v1: one hierarchy per controller (or co-mounted ones) under /sys/fs/cgroup/<controller>;
 *   - v2: the unified hierarchy at /sys/fs/cgroup (its cgroup.controllers lists the controllers);
 *   - hybrid: v1 hierarchies plus a cgroup2 mount at /sys/fs/cgroup/unified, which may hold controllers too
 *     (this project's hosts keep hugetlb there while the others are on v1).
 * A controller's files are on its v1 hierarchy when it has one, else on the unified one when it is bound
 * there (cgroup_controller_dir). Stateless: resolved paths are plain strings owned by struct cgroup_paths.
 */
#ifndef ISD_DAEMON_CGROUP_H
#define ISD_DAEMON_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

enum cgroup_controller {
    CGROUP_CPU,
    CGROUP_CPUACCT, /* "cpu" on the unified hierarchy */
    CGROUP_CPUSET,
    CGROUP_MEMORY,
    CGROUP_BLKIO, /* "io" on the unified hierarchy */
    CGROUP_PIDS,
    CGROUP_HUGETLB,
    CGROUP_DEVICES, /* v1 only (v2 uses eBPF) */
    CGROUP_FREEZER, /* v1 only (v2 has cgroup.freeze) */
    CGROUP_N,
};

struct cgroup_paths {
    char *v1[CGROUP_N];      /* the process's directory on each controller's v1 hierarchy; NULL when none */
    char *v2;                /* its directory on the unified hierarchy; NULL when cgroup2 is not mounted */
    bool v2_bound[CGROUP_N]; /* the controller is bound to the unified hierarchy */
};

/* Fills cg for pid (zeroed first); what cannot be read stays NULL. */
void cgroup_paths_resolve(pid_t pid, struct cgroup_paths *cg);
void cgroup_paths_clear(struct cgroup_paths *cg);
/* Where the files of ctrl are (borrowed from cg), NULL when it is on no hierarchy; *ret_v2 (may be NULL):
 * whether they follow the v2 interface (memory.max rather than memory.limit_in_bytes, ...). */
const char *cgroup_controller_dir(const struct cgroup_paths *cg, enum cgroup_controller ctrl, bool *ret_v2);

/* The number in <dir>/<file> (first line), dflt when absent or not a number ("max"). dir may be NULL. */
long long cgroup_read_ll(const char *dir, const char *file, long long dflt);
/* "key value" lines (memory.stat, cpu.stat, cpuacct.stat) as a JSON object of numbers (empty when absent). */
json_t *cgroup_read_kv(const char *dir, const char *file);

/* Usage in the shapes of Docker's stats JSON (cpu_stats, memory_stats, blkio_stats, pids_stats). */
json_t *cgroup_stats_cpu(const struct cgroup_paths *cg);
json_t *cgroup_stats_memory(const struct cgroup_paths *cg);
json_t *cgroup_stats_blkio(const struct cgroup_paths *cg);
json_t *cgroup_stats_pids(const struct cgroup_paths *cg);

/* openEuler's files cgroup (cgroup_files.c): where it is mounted, whether root holds a hierarchy, the container's
 * directory <root><cgroups_path> made with files.limit written and pid moved into it, and removed (rmdir: when
 * empty). */
#define CGROUP_FILES_ROOT "/sys/fs/cgroup/files"
bool cgroup_files_supported(const char *root);
int cgroup_files_limit_apply(const char *root, const char *cgroups_path, long long limit, pid_t pid,
                             struct isd_error **err);
void cgroup_files_remove(const char *root, const char *cgroups_path);

/* Limits (cgroup_limits.c). */
int cgroup_write(const char *dir, const char *file, const char *value, struct isd_error **err);
/* Where cgroup2 is mounted (/sys/fs/cgroup or /sys/fs/cgroup/unified), NULL when nowhere. */
const char *cgroup_unified_root(void);
/* Whether the daemon's own cgroups have ctrl (on v1, or bound to the unified hierarchy: *ret_v2). */
bool cgroup_host_has(enum cgroup_controller ctrl, bool *ret_v2);
bool cgroup_host_has_file(enum cgroup_controller ctrl, const char *file);
/* Whether a proportional block I/O weight can be set (per_device: for single devices too): v1 with CFQ's
 * blkio.weight, or BFQ's policy, whose weight files exist below the root only (its statistics at the root tell);
 * v2 with the io controller and iocost (io.cost.qos at the root, io.weight below) or BFQ (io.bfq.weight). Per
 * device only CFQ and BFQ. */
bool cgroup_blkio_weight_supported(bool per_device);
/* Whether per-device weights go to BFQ's files (no CFQ blkio.weight): the device must then use bfq. */
bool cgroup_blkio_weight_is_bfq(void);
/* Whether the block device maj:min (a partition: its disk) has bfq as its active I/O scheduler. */
bool cgroup_block_device_uses_bfq(unsigned int maj, unsigned int min);
/* Whether a kernel memory limit takes effect (v1 with memory.kmem.limit_in_bytes, Linux before 5.16). */
bool cgroup_kmem_supported(void);
/* cgroup v1: turns on the per-cgroup I/O counters for the disk holding path (see cgroup_blkio.c); nothing on v2. */
void cgroup_blkio_stats_enable(const char *path);
/* Makes <unified root><cgroups_path> with ctrl ("hugetlb") enabled in each ancestor's cgroup.subtree_control;
 * returns that directory (caller frees). For a controller that runc's v1 manager cannot set on a hybrid host. */
char *cgroup_unified_prepare(const char *cgroups_path, const char *ctrl, struct isd_error **err);
/* Writes an OCI linux.resources object (memory, cpu, blockIO, pids, hugepageLimits; what is absent stays as it
 * is) to the cgroups of cg, each in its layout's file; v1 memory and memsw limits in an order the kernel
 * accepts. */
int cgroup_resources_apply(const struct cgroup_paths *cg, const json_t *res, struct isd_error **err);
/* Its blockIO part (cgroup_blkio.c): weights in the files the kernel has, throttles. */
int cgroup_blkio_apply(const struct cgroup_paths *cg, const json_t *blkio, struct isd_error **err);

#endif
