/*
 * The options shared by `isula create` and `isula run` and their translation into the body of
 * POST /containers/create (Docker's ContainerConfig + HostConfig, plus isula extension fields).
 * One static instance per process (the CLI runs one command).
 */
#ifndef ISD_CMD_ISULA_CREATE_OPTS_H
#define ISD_CMD_ISULA_CREATE_OPTS_H

#include <jansson.h>
#include <stdbool.h>

#include "client/args.h"
#include "common/error.h"

struct create_opts {
    bool detach, rm, tty, interactive, read_only, privileged, no_healthcheck, health_exit, oom_kill_disable,
        publish_all;
    char *name, *entrypoint, *user, *workdir, *hostname, *runtime, *external_rootfs, *restart, *net, *pid, *ipc, *uts,
        *cgroup_parent, *cpuset_cpus, *cpuset_mems, *memory, *memory_reservation, *memory_swap, *kernel_memory,
        *shm_size, *log_driver, *health_cmd, *health_interval, *health_timeout, *health_start_period, *hook_spec,
        *stop_signal, *userns;
    char *user_remap;             /* --user-remap <uid>:<gid>:<offset> */
    char *ip, *ip6, *mac_address; /* --ip, --ip6, --mac-address: the endpoint on --net's network */
    char *detach_keys;            /* run only */
    char **env, **env_file, **label, **label_file, **annotation, **volume, **mount, **log_opt, **cap_add, **cap_drop,
        **dns, **dns_opt, **dns_search, **add_host, **device, **security_opt, **storage_opt, **ulimit, **sysctl,
        **group_add, **hugetlb, **read_bps, **write_bps, **tmpfs, **publish, **expose, **network_alias;
    char **volumes_from;
    char **device_cgroup_rule;
    long long cpu_shares, cpu_quota, cpu_period, memory_swappiness, pids_limit, files_limit, health_retries,
        oom_score_adj, blkio_weight, stop_timeout;
    /* resources of create_res.c */
    char *cpus, **weight_device, **read_iops, **write_iops;
    long long cpu_rt_period, cpu_rt_runtime;
};

/* The option table for create (with_run = false) or run (adds -d, --rm); dest pointers into o. */
const struct cli_option *create_opts_table(struct create_opts *o, bool with_run);
void create_opts_init(struct create_opts *o);

/* Builds the create body; image and cmd from the positional arguments. */
json_t *create_opts_body(const struct create_opts *o, const char *image, char *const *cmd, struct isd_error **err);

/* create_res.c: --cpus as HostConfig.NanoCpus; "<path>:<value>" device lists; the options it owns. */
int create_res_nano_cpus(const char *s, json_t *hc, struct isd_error **err);
int create_res_device_list(char *const *v, const char *hc_key, const char *key, bool sizes, json_t *hc,
                           struct isd_error **err);
int create_res_body(const struct create_opts *o, json_t *hc, struct isd_error **err);

#endif
