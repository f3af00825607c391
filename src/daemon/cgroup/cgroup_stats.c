/*
 * Resource usage of a cgroup in the shapes of Docker's stats JSON (cgroup/cgroup.h): each controller read
 * from its v1 hierarchy when it has one, else from the unified one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"

#define SMALL_FILE_MAX (256 << 10)

static long long host_memory(void)
{
    cleanup_free char *text = read_file("/proc/meminfo", SMALL_FILE_MAX, NULL, NULL);
    const char *p = text != NULL ? strstr(text, "MemTotal:") : NULL;
    long long kib = 0;
    if (p != NULL)
        sscanf(p + strlen("MemTotal:"), "%lld", &kib);
    return kib * 1024;
}

/* The host's CPU time in ns (the first line of /proc/stat), as Docker's system_cpu_usage. */
static long long system_cpu_ns(void)
{
    cleanup_free char *text = read_file("/proc/stat", SMALL_FILE_MAX, NULL, NULL);
    long long total = 0, v;
    long hz = sysconf(_SC_CLK_TCK);
    char *p = text != NULL && str_has_prefix(text, "cpu ") ? text + 4 : NULL;
    char *end;
    while (p != NULL && *p != '\n' && *p != '\0') {
        v = strtoll(p, &end, 10);
        if (end == p)
            break;
        total += v;
        p = end;
    }
    return hz > 0 ? total * (1000000000LL / hz) : 0;
}

json_t *cgroup_stats_cpu(const struct cgroup_paths *cg)
{
    const char *acct = cg->v1[CGROUP_CPUACCT], *v2 = cg->v2;
    json_t *usage = json_object(), *percpu = json_array();
    long long total, user = 0, sys = 0;
    if (acct != NULL) {
        cleanup_json json_t *st = cgroup_read_kv(acct, "cpuacct.stat");
        cleanup_free char *pc_path = xasprintf("%s/cpuacct.usage_percpu", acct);
        cleanup_free char *pc = read_file(pc_path, SMALL_FILE_MAX, NULL, NULL);
        long hz = sysconf(_SC_CLK_TCK);
        char *save = NULL;
        total = cgroup_read_ll(acct, "cpuacct.usage", 0);
        user = json_get_int(st, "user", 0) * (hz > 0 ? 1000000000LL / hz : 0);
        sys = json_get_int(st, "system", 0) * (hz > 0 ? 1000000000LL / hz : 0);
        for (char *t = pc ? strtok_r(pc, " \n", &save) : NULL; t != NULL; t = strtok_r(NULL, " \n", &save))
            json_array_append_new(percpu, json_integer(strtoll(t, NULL, 10)));
    } else {
        cleanup_json json_t *st = cgroup_read_kv(v2, "cpu.stat");
        total = json_get_int(st, "usage_usec", 0) * 1000;
        user = json_get_int(st, "user_usec", 0) * 1000;
        sys = json_get_int(st, "system_usec", 0) * 1000;
    }
    json_object_set_new(usage, "total_usage", json_integer(total));
    json_object_set_new(usage, "percpu_usage", percpu);
    json_object_set_new(usage, "usage_in_kernelmode", json_integer(sys));
    json_object_set_new(usage, "usage_in_usermode", json_integer(user));
    return json_pack("{s:o, s:I, s:I, s:{s:i, s:i, s:i}}", "cpu_usage", usage, "system_cpu_usage",
                     (json_int_t)system_cpu_ns(), "online_cpus", (json_int_t)sysconf(_SC_NPROCESSORS_ONLN),
                     "throttling_data", "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

json_t *cgroup_stats_memory(const struct cgroup_paths *cg)
{
    const char *v1 = cg->v1[CGROUP_MEMORY], *v2 = cg->v2;
    long long host = host_memory(), usage, max_usage, limit;
    json_t *st;
    if (v1 != NULL) {
        usage = cgroup_read_ll(v1, "memory.usage_in_bytes", 0);
        max_usage = cgroup_read_ll(v1, "memory.max_usage_in_bytes", usage);
        limit = cgroup_read_ll(v1, "memory.limit_in_bytes", host);
        st = cgroup_read_kv(v1, "memory.stat");
    } else {
        usage = cgroup_read_ll(v2, "memory.current", 0);
        max_usage = cgroup_read_ll(v2, "memory.peak", usage);
        limit = cgroup_read_ll(v2, "memory.max", host); /* "max" does not parse: the host's memory */
        st = cgroup_read_kv(v2, "memory.stat");
    }
    if (limit <= 0 || limit > host)
        limit = host;
    return json_pack("{s:I, s:I, s:o, s:I}", "usage", (json_int_t)usage, "max_usage", (json_int_t)max_usage, "stats",
                     st, "limit", (json_int_t)limit);
}

static void blkio_entry(json_t *a, unsigned major, unsigned minor, const char *op, long long v)
{
    json_array_append_new(a, json_pack("{s:i, s:i, s:s, s:I}", "major", (int)major, "minor", (int)minor, "op", op,
                                       "value", (json_int_t)v));
}

/* Bytes read and written per device: blkio.throttle.io_service_bytes (v1) or io.stat (v2). */
json_t *cgroup_stats_blkio(const struct cgroup_paths *cg)
{
    const char *v1 = cg->v1[CGROUP_BLKIO], *v2 = cg->v2;
    cleanup_free char *path = v1 != NULL ? xasprintf("%s/blkio.throttle.io_service_bytes", v1)
                                         : (v2 != NULL ? xasprintf("%s/io.stat", v2) : NULL);
    cleanup_free char *text = path != NULL ? read_file(path, SMALL_FILE_MAX, NULL, NULL) : NULL;
    json_t *a = json_array();
    char *save = NULL;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL; line = strtok_r(NULL, "\n", &save)) {
        unsigned major, minor;
        char op[32];
        long long v, r = 0, w = 0;
        if (v1 != NULL) {
            if (sscanf(line, "%u:%u %31s %lld", &major, &minor, op, &v) == 4 &&
                (streq(op, "Read") || streq(op, "Write")))
                blkio_entry(a, major, minor, op, v);
            continue;
        }
        if (sscanf(line, "%u:%u", &major, &minor) != 2)
            continue;
        const char *rb = strstr(line, "rbytes="), *wb = strstr(line, "wbytes=");
        if (rb != NULL)
            r = strtoll(rb + 7, NULL, 10);
        if (wb != NULL)
            w = strtoll(wb + 7, NULL, 10);
        blkio_entry(a, major, minor, "Read", r);
        blkio_entry(a, major, minor, "Write", w);
    }
    return json_pack("{s:o, s:n, s:n, s:n, s:n, s:n, s:n, s:n}", "io_service_bytes_recursive", a,
                     "io_serviced_recursive", "io_queue_recursive", "io_service_time_recursive",
                     "io_wait_time_recursive", "io_merged_recursive", "io_time_recursive", "sectors_recursive");
}

json_t *cgroup_stats_pids(const struct cgroup_paths *cg)
{
    const char *dir = cg->v1[CGROUP_PIDS] != NULL ? cg->v1[CGROUP_PIDS] : cg->v2;
    json_t *o = json_pack("{s:I}", "current", (json_int_t)cgroup_read_ll(dir, "pids.current", 0));
    long long max = cgroup_read_ll(dir, "pids.max", 0); /* "max" does not parse: no limit, left out */
    if (max > 0)
        json_object_set_new(o, "limit", json_integer(max));
    return o;
}
