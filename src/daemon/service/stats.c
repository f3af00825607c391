/*
 * Container resource usage (GET /containers/{id}/stats, isula stats; guide C-stats-01..03) in Docker's
 * stats JSON: read from the cgroups of the container's init process, as /proc/<pid>/cgroup names them,
 * cgroup v1 (this project's hybrid hosts) or v2 (unified hosts). One sample per second while streaming;
 * a single answer carries a second sample taken 200 ms after the first, so CPU % can be computed from it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/service/internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SMALL_FILE_MAX (256 << 10)
#define ZERO_TIME "0001-01-01T00:00:00Z" /* Go's zero time, as docker writes it for no sample */

/* The container's cgroup directories, per v1 controller and the v2 one; NULL where it has none. */
struct cgroups {
    char *cpuacct, *memory, *blkio, *pids, *v2;
};

struct stats_job {
    char *id, *name;
    pid_t pid;
    bool running;
    struct cgroups cg; /* resolved once: a process does not change cgroups under the runtime's care */
};

/* Where cgroup2 is mounted: /sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones. */
static const char *cgroup2_root(void)
{
    return path_exists(CGROUP_ROOT "/cgroup.controllers") ? CGROUP_ROOT : CGROUP_ROOT "/unified";
}

/* Reads /proc/<pid>/cgroup once ("4:cpu,cpuacct:/path" for v1, "0::/path" for v2). */
static void cgroups_resolve(pid_t pid, struct cgroups *cg)
{
    static const char *const ctrls[] = {"cpuacct", "memory", "blkio", "pids"};
    char **slots[] = {&cg->cpuacct, &cg->memory, &cg->blkio, &cg->pids};
    cleanup_free char *path = xasprintf("/proc/%d/cgroup", (int)pid);
    cleanup_free char *text = read_file(path, SMALL_FILE_MAX, NULL, NULL);
    char *save = NULL;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2 == NULL)
            continue;
        *c1 = *c2 = '\0'; /* line: hierarchy id, c1 + 1: controllers, c2 + 1: path */
        if (streq(line, "0") && c1[1] == '\0' && cg->v2 == NULL)
            cg->v2 = xasprintf("%s%s", cgroup2_root(), c2 + 1);
        cleanup_free char *names = xasprintf(",%s,", c1 + 1);
        for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
            cleanup_free char *want = xasprintf(",%s,", ctrls[i]);
            if (*slots[i] == NULL && strstr(names, want) != NULL)
                *slots[i] = xasprintf(CGROUP_ROOT "/%s%s", ctrls[i], c2 + 1);
        }
    }
}

static void cgroups_clear(struct cgroups *cg)
{
    free(cg->cpuacct), free(cg->memory), free(cg->blkio), free(cg->pids), free(cg->v2);
}

static long long read_ll(const char *dir, const char *file, long long dflt)
{
    cleanup_free char *path = dir != NULL ? xasprintf("%s/%s", dir, file) : NULL;
    cleanup_free char *text = path != NULL ? read_file(path, SMALL_FILE_MAX, NULL, NULL) : NULL;
    long long v;
    if (text == NULL)
        return dflt;
    text[strcspn(text, "\n")] = '\0';
    return parse_int64(text, &v) == 0 ? v : dflt;
}

/* "key value" lines (memory.stat, cpu.stat, cpuacct.stat) as a JSON object of numbers. */
static json_t *read_kv(const char *dir, const char *file)
{
    cleanup_free char *path = dir != NULL ? xasprintf("%s/%s", dir, file) : NULL;
    cleanup_free char *text = path != NULL ? read_file(path, SMALL_FILE_MAX, NULL, NULL) : NULL;
    json_t *o = json_object();
    char *save = NULL;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char key[128];
        long long v;
        if (sscanf(line, "%127s %lld", key, &v) == 2)
            json_object_set_new(o, key, json_integer(v));
    }
    return o;
}

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

static json_t *cpu_stats(const struct cgroups *cg)
{
    const char *acct = cg->cpuacct, *v2 = cg->v2;
    json_t *usage = json_object(), *percpu = json_array();
    long long total, user = 0, sys = 0;
    if (acct != NULL) {
        cleanup_json json_t *st = read_kv(acct, "cpuacct.stat");
        cleanup_free char *pc_path = xasprintf("%s/cpuacct.usage_percpu", acct);
        cleanup_free char *pc = read_file(pc_path, SMALL_FILE_MAX, NULL, NULL);
        long hz = sysconf(_SC_CLK_TCK);
        char *save = NULL;
        total = read_ll(acct, "cpuacct.usage", 0);
        user = json_get_int(st, "user", 0) * (hz > 0 ? 1000000000LL / hz : 0);
        sys = json_get_int(st, "system", 0) * (hz > 0 ? 1000000000LL / hz : 0);
        for (char *t = pc ? strtok_r(pc, " \n", &save) : NULL; t != NULL; t = strtok_r(NULL, " \n", &save))
            json_array_append_new(percpu, json_integer(strtoll(t, NULL, 10)));
    } else {
        cleanup_json json_t *st = read_kv(v2, "cpu.stat");
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

static json_t *memory_stats(const struct cgroups *cg)
{
    const char *v1 = cg->memory, *v2 = cg->v2;
    long long host = host_memory(), usage, max_usage, limit;
    json_t *st;
    if (v1 != NULL) {
        usage = read_ll(v1, "memory.usage_in_bytes", 0);
        max_usage = read_ll(v1, "memory.max_usage_in_bytes", usage);
        limit = read_ll(v1, "memory.limit_in_bytes", host);
        st = read_kv(v1, "memory.stat");
    } else {
        usage = read_ll(v2, "memory.current", 0);
        max_usage = read_ll(v2, "memory.peak", usage);
        limit = read_ll(v2, "memory.max", host); /* "max" does not parse: the host's memory */
        st = read_kv(v2, "memory.stat");
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
static json_t *blkio_stats(const struct cgroups *cg)
{
    const char *v1 = cg->blkio, *v2 = cg->v2;
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

static json_t *pids_stats(const struct cgroups *cg)
{
    const char *dir = cg->pids != NULL ? cg->pids : cg->v2;
    json_t *o = json_pack("{s:I}", "current", (json_int_t)read_ll(dir, "pids.current", 0));
    long long max = read_ll(dir, "pids.max", 0); /* "max" does not parse: no limit, left out */
    if (max > 0)
        json_object_set_new(o, "limit", json_integer(max));
    return o;
}

/* One sample; a container that is not running gets Docker's zero document. */
static json_t *sample(const struct stats_job *j, json_t *pre, long long pre_ns)
{
    cleanup_free char *read = j->running ? time_rfc3339_nano(now_ns()) : xstrdup(ZERO_TIME);
    cleanup_free char *preread = pre != NULL ? time_rfc3339_nano(pre_ns) : xstrdup(ZERO_TIME);
    cleanup_free char *name = xasprintf("/%s", j->name);
    json_t *s = json_pack("{s:s, s:s, s:i, s:{}, s:s, s:s}", "read", read, "preread", preread, "num_procs", 0,
                          "storage_stats", "name", name, "id", j->id);
    if (!j->running) {
        json_object_set_new(s, "pids_stats", json_object());
        json_object_set_new(s, "blkio_stats", json_pack("{s:n}", "io_service_bytes_recursive"));
        json_object_set_new(s, "cpu_stats",
                            json_pack("{s:{s:i}, s:{}}", "cpu_usage", "total_usage", 0, "throttling_data"));
        json_object_set_new(s, "precpu_stats", json_pack("{s:{s:i}}", "cpu_usage", "total_usage", 0));
        json_object_set_new(s, "memory_stats", json_object());
        return s;
    }
    json_object_set_new(s, "pids_stats", pids_stats(&j->cg));
    json_object_set_new(s, "blkio_stats", blkio_stats(&j->cg));
    json_object_set_new(s, "cpu_stats", cpu_stats(&j->cg));
    json_object_set_new(s, "precpu_stats",
                        pre != NULL ? json_deep_copy(json_object_get(pre, "cpu_stats"))
                                    : json_pack("{s:{s:i}}", "cpu_usage", "total_usage", 0));
    json_object_set_new(s, "memory_stats", memory_stats(&j->cg));
    return s;
}

struct stats_job *service_container_stats_begin(struct daemon *d, const char *ref, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    struct stats_job *j;
    if (c == NULL)
        return NULL;
    j = xcalloc(1, sizeof(*j));
    j->id = xstrdup(c->id);
    j->name = xstrdup(c->name);
    j->running = c->status == CT_RUNNING || c->status == CT_PAUSED;
    j->pid = j->running ? c->pid : 0;
    pthread_mutex_unlock(&c->lock);
    if (j->running)
        cgroups_resolve(j->pid, &j->cg);
    container_unref(c);
    return j;
}

static bool still_running(const struct stats_job *j)
{
    return j->pid > 0 && kill(j->pid, 0) == 0;
}

void service_container_stats_run(struct stats_job *j, bool stream, int out_fd)
{
    json_t *pre = NULL;
    long long pre_ns = 0;
    if (j->running) { /* a first sample, for the CPU % of the first answer */
        pre = sample(j, NULL, 0);
        pre_ns = now_ns();
        usleep(200000);
    }
    for (;;) {
        json_t *s;
        cleanup_free char *text = NULL;
        j->running = j->running && still_running(j);
        s = sample(j, pre, pre_ns);
        text = json_line(s);
        json_decref(pre);
        pre = s;
        pre_ns = now_ns();
        if (text == NULL || fd_write_all(out_fd, text, strlen(text)) < 0)
            break; /* the client left */
        if (!stream || !j->running)
            break;
        sleep(1);
    }
    json_decref(pre);
    service_stats_job_free(j);
}

void service_stats_job_free(struct stats_job *j)
{
    if (j == NULL)
        return;
    cgroups_clear(&j->cg);
    free(j->id);
    free(j->name);
    free(j);
}
