/*
 * Figures for the Prometheus endpoint (api/rest/metrics.c). A scrape never waits for a container: a container whose
 * lock is held (a stop or start in progress) is reported as busy and the endpoint shows its previous figures; cgroup
 * files are read with no lock held.
 */
#include <pthread.h>
#include <stdlib.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"
#include "daemon/image/registry/registry.h"
#include "daemon/service/internal.h"

long long service_metrics_pull_bytes(void)
{
    return registry_bytes_received();
}

/* Adds CpuSeconds, MemoryBytes, IoReadBytes and IoWriteBytes (all devices) and Pids of the running process pid to
 * row. */
static void add_usage(json_t *row, pid_t pid)
{
    struct cgroup_paths cg;
    cleanup_json json_t *cpu = NULL, *mem = NULL, *io = NULL, *pids = NULL;
    json_int_t rd = 0, wr = 0;
    const json_t *e;
    size_t i;
    cgroup_paths_resolve(pid, &cg);
    cpu = cgroup_stats_cpu(&cg);
    mem = cgroup_stats_memory(&cg);
    io = cgroup_stats_blkio(&cg);
    pids = cgroup_stats_pids(&cg);
    cgroup_paths_clear(&cg);
    json_object_set_new(row, "CpuSeconds",
                        json_real((double)json_get_int(json_object_get(cpu, "cpu_usage"), "total_usage", 0) / 1e9));
    json_object_set_new(row, "MemoryBytes", json_integer(json_get_int(mem, "usage", 0)));
    json_array_foreach(json_object_get(io, "io_service_bytes_recursive"), i, e)
    {
        if (streq(json_get_str(e, "op"), "Read"))
            rd += json_get_int(e, "value", 0);
        else if (streq(json_get_str(e, "op"), "Write"))
            wr += json_get_int(e, "value", 0);
    }
    json_object_set_new(row, "IoReadBytes", json_integer(rd));
    json_object_set_new(row, "IoWriteBytes", json_integer(wr));
    json_object_set_new(row, "Pids", json_integer(json_get_int(pids, "current", 0)));
}

json_t *service_metrics_containers(struct daemon *d, bool usage)
{
    size_t n = 0;
    struct container **v = container_store_list(d->containers, &n);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        struct container *c = v[i];
        json_t *row;
        pid_t pid;
        bool active;
        if (pthread_mutex_trylock(&c->lock) != 0) {
            json_array_append_new(out, json_pack("{s:s, s:b}", "Id", c->id, "Busy", 1));
            continue;
        }
        if (c->removed) {
            pthread_mutex_unlock(&c->lock);
            continue;
        }
        active = c->status == CT_RUNNING || c->status == CT_PAUSED;
        pid = c->pid;
        row = json_pack("{s:s, s:s, s:s, s:i, s:b}", "Id", c->id, "Name", c->name, "State",
                        container_status_docker(c->status), "Restarts", c->restart_count, "Busy", 0);
        pthread_mutex_unlock(&c->lock);
        if (usage && active && pid > 0)
            add_usage(row, pid);
        json_array_append_new(out, row);
    }
    container_list_free(v);
    return out;
}
