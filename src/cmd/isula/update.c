/*
 * isula update [OPTIONS] CONTAINER [CONTAINER...]: new resource limits and restart policy through
 * POST /containers/{id}/update (Docker's container.UpdateConfig with only the given fields); each reference
 * echoed on success, as the guide's example shows (`isula update --cpuset-cpus 0-1 --memory 1G a8` prints a8).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "cmd/isula/create_opts.h"
#include "common/json.h"
#include "common/util.h"

#define UNSET LLONG_MIN

struct update_opts {
    char *cpus, *cpuset_cpus, *cpuset_mems, *memory, *memory_reservation, *memory_swap, *kernel_memory, *restart;
    long long cpu_shares, cpu_period, cpu_quota, cpu_rt_period, cpu_rt_runtime, blkio_weight, pids_limit;
};

static int set_size(json_t *body, const char *key, const char *val, struct isd_error **err)
{
    long long n;
    if (val == NULL)
        return 0;
    if (streq(val, "-1"))
        n = -1;
    else if (parse_size(val, &n) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid size `%s` for %s", val, key);
    json_object_set_new(body, key, json_integer(n));
    return 0;
}

static int restart_policy(const char *s, json_t *body, struct isd_error **err)
{
    const char *colon = s != NULL ? strchr(s, ':') : NULL;
    cleanup_free char *name = colon != NULL ? xstrndup(s, (size_t)(colon - s)) : (s ? xstrdup(s) : NULL);
    long long n = 0;
    if (s == NULL)
        return 0;
    if (colon != NULL && parse_int64(colon + 1, &n) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid restart policy `%s`", s);
    json_object_set_new(body, "RestartPolicy", json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", n));
    return 0;
}

static json_t *update_body(const struct update_opts *o, struct isd_error **err)
{
    static const char *const keys[] = {"CpuShares",          "CpuPeriod",   "CpuQuota", "CpuRealtimePeriod",
                                       "CpuRealtimeRuntime", "BlkioWeight", "PidsLimit"};
    const long long vals[] = {o->cpu_shares,     o->cpu_period,   o->cpu_quota, o->cpu_rt_period,
                              o->cpu_rt_runtime, o->blkio_weight, o->pids_limit};
    json_t *b = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        if (vals[i] != UNSET)
            json_object_set_new(b, keys[i], json_integer(vals[i]));
    if (o->cpuset_cpus != NULL)
        json_object_set_new(b, "CpusetCpus", json_string(o->cpuset_cpus));
    if (o->cpuset_mems != NULL)
        json_object_set_new(b, "CpusetMems", json_string(o->cpuset_mems));
    if (create_res_nano_cpus(o->cpus, b, err) < 0 || set_size(b, "Memory", o->memory, err) < 0 ||
        set_size(b, "MemoryReservation", o->memory_reservation, err) < 0 ||
        set_size(b, "MemorySwap", o->memory_swap, err) < 0 || set_size(b, "KernelMemory", o->kernel_memory, err) < 0 ||
        restart_policy(o->restart, b, err) < 0) {
        json_decref(b);
        return NULL;
    }
    return b;
}

int cmd_update(int argc, char **argv)
{
    struct update_opts u = {.cpu_shares = UNSET,
                            .cpu_period = UNSET,
                            .cpu_quota = UNSET,
                            .cpu_rt_period = UNSET,
                            .cpu_rt_runtime = UNSET,
                            .blkio_weight = UNSET,
                            .pids_limit = UNSET};
    const struct cli_option o[] = {
        {"blkio-weight", 0, CLI_OPT_INT, &u.blkio_weight, "Block IO (relative weight), between 10 and 1000"},
        {"cpu-period", 0, CLI_OPT_INT, &u.cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period"},
        {"cpu-quota", 0, CLI_OPT_INT, &u.cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota"},
        {"cpu-rt-period", 0, CLI_OPT_INT, &u.cpu_rt_period, "Limit the CPU real-time period in microseconds"},
        {"cpu-rt-runtime", 0, CLI_OPT_INT, &u.cpu_rt_runtime, "Limit the CPU real-time runtime in microseconds"},
        {"cpu-shares", 0, CLI_OPT_INT, &u.cpu_shares, "CPU shares (relative weight)"},
        {"cpus", 0, CLI_OPT_STRING, &u.cpus, "Number of CPUs"},
        {"cpuset-cpus", 0, CLI_OPT_STRING, &u.cpuset_cpus, "CPUs in which to allow execution (0-3, 0,1)"},
        {"cpuset-mems", 0, CLI_OPT_STRING, &u.cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)"},
        {"kernel-memory", 0, CLI_OPT_STRING, &u.kernel_memory, "Kernel memory limit"},
        {"memory", 'm', CLI_OPT_STRING, &u.memory, "Memory limit"},
        {"memory-reservation", 0, CLI_OPT_STRING, &u.memory_reservation, "Memory soft limit"},
        {"memory-swap", 0, CLI_OPT_STRING, &u.memory_swap, "Swap limit equal to memory plus swap: '-1' for unlimited"},
        {"pids-limit", 0, CLI_OPT_INT, &u.pids_limit, "Tune container pids limit (set -1 for unlimited)"},
        {"restart", 0, CLI_OPT_STRING, &u.restart, "Restart policy to apply when a container exits"},
        CMD_COMMON_OPTS,
        {NULL},
    };
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *body = NULL;
    int rc = 0;
    if (cmd_parse("update", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    body = update_body(&u, &err);
    if (body == NULL) {
        cmd_print_error(err);
        return 1;
    }
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *e = NULL;
        cleanup_free char *path = cmd_path("containers", *p, "update");
        if (client_call(cmd_host(), "POST", path, body, NULL, &e) < 0) {
            cmd_print_error(e);
            rc = 1;
            continue;
        }
        printf("%s\n", *p);
    }
    return rc;
}
