/*
 * Container resource usage (GET /containers/{id}/stats, isula stats; guide C-stats-01..03) in Docker's
 * stats JSON, read from the cgroups of the container's init process (cgroup/cgroup.h: v1, v2 and hybrid
 * hosts). One sample per second while streaming; a single answer carries a second sample taken 200 ms after
 * the first, so CPU % can be computed from it.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"
#include "daemon/service/internal.h"

#define ZERO_TIME "0001-01-01T00:00:00Z" /* Go's zero time, as docker writes it for no sample */

struct stats_job {
    char *id, *name;
    pid_t pid;
    bool running;
    struct cgroup_paths cg; /* resolved once: a process does not change cgroups under the runtime's care */
};

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
    json_object_set_new(s, "pids_stats", cgroup_stats_pids(&j->cg));
    json_object_set_new(s, "blkio_stats", cgroup_stats_blkio(&j->cg));
    json_object_set_new(s, "cpu_stats", cgroup_stats_cpu(&j->cg));
    json_object_set_new(s, "precpu_stats",
                        pre != NULL ? json_deep_copy(json_object_get(pre, "cpu_stats"))
                                    : json_pack("{s:{s:i}}", "cpu_usage", "total_usage", 0));
    json_object_set_new(s, "memory_stats", cgroup_stats_memory(&j->cg));
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
        cgroup_paths_resolve(j->pid, &j->cg);
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
    cgroup_paths_clear(&j->cg);
    free(j->id);
    free(j->name);
    free(j);
}

json_t *service_container_stats_once(struct daemon *d, const char *ref, struct isd_error **err)
{
    struct stats_job *j = service_container_stats_begin(d, ref, err);
    if (j == NULL)
        return NULL;
    json_t *s = sample(j, NULL, 0);
    service_stats_job_free(j);
    return s;
}
