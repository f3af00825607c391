/*
 * create/run options and the POST /containers/create body; see create_opts.h. The option table is
 * built at run time in a static array (one command per process).
 */
#include "cmd/isula/create_opts.h"

#include <limits.h>

#include "cmd/isula/cmd.h"
#include "common/util.h"

#define UNSET LLONG_MIN

void create_opts_init(struct create_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cpu_shares = o->cpu_quota = o->cpu_period = o->memory_swappiness = o->pids_limit = o->files_limit = UNSET;
    o->health_retries = o->oom_score_adj = o->blkio_weight = o->stop_timeout = UNSET;
    o->cpu_rt_period = o->cpu_rt_runtime = UNSET;
}

#define S(l, s, f, h)                                                                                                  \
    {                                                                                                                  \
        l, s, CLI_OPT_STRING, &o->f, h                                                                                 \
    }
#define L(l, s, f, h)                                                                                                  \
    {                                                                                                                  \
        l, s, CLI_OPT_LIST, &o->f, h                                                                                   \
    }
#define B(l, s, f, h)                                                                                                  \
    {                                                                                                                  \
        l, s, CLI_OPT_BOOL, &o->f, h                                                                                   \
    }
#define I(l, s, f, h)                                                                                                  \
    {                                                                                                                  \
        l, s, CLI_OPT_INT, &o->f, h                                                                                    \
    }

const struct cli_option *create_opts_table(struct create_opts *o, bool with_run)
{
    const struct cli_option all[] = {
        L("add-host", 0, add_host, "Add a custom host-to-IP mapping (host:ip)"),
        L("annotation", 0, annotation, "Set annotations on a container"),
        I("blkio-weight", 0, blkio_weight, "Block IO (relative weight), between 10 and 1000"),
        L("blkio-weight-device", 0, weight_device, "Block IO weight (relative device weight), <path>:<weight>"),
        L("cap-add", 0, cap_add, "Add Linux capabilities"),
        L("cap-drop", 0, cap_drop, "Drop Linux capabilities"),
        S("cgroup-parent", 0, cgroup_parent, "Optional parent cgroup for the container"),
        I("cpu-period", 0, cpu_period, "Limit CPU CFS (Completely Fair Scheduler) period"),
        I("cpu-quota", 0, cpu_quota, "Limit CPU CFS (Completely Fair Scheduler) quota"),
        I("cpu-rt-period", 0, cpu_rt_period, "Limit CPU real-time period in microseconds"),
        I("cpu-rt-runtime", 0, cpu_rt_runtime, "Limit CPU real-time runtime in microseconds"),
        I("cpu-shares", 0, cpu_shares, "CPU shares (relative weight)"),
        S("cpus", 0, cpus, "Number of CPUs"),
        S("cpuset-cpus", 0, cpuset_cpus, "CPUs in which to allow execution (e.g. 0-3, 0,1)"),
        S("cpuset-mems", 0, cpuset_mems, "MEMs in which to allow execution (0-3, 0,1)"),
        L("device", 0, device, "Add a host device to the container"),
        L("device-cgroup-rule", 0, device_cgroup_rule, "Add a rule to the cgroup allowed devices list"),
        L("device-read-bps", 0, read_bps, "Limit read rate (bytes per second) from a device"),
        L("device-read-iops", 0, read_iops, "Limit read rate (IO per second) from a device"),
        L("device-write-bps", 0, write_bps, "Limit write rate (bytes per second) to a device"),
        L("device-write-iops", 0, write_iops, "Limit write rate (IO per second) to a device"),
        L("dns", 0, dns, "Set custom DNS servers"),
        L("dns-opt", 0, dns_opt, "Set DNS options"),
        L("dns-search", 0, dns_search, "Set custom DNS search domains"),
        S("entrypoint", 0, entrypoint, "Entrypoint to run when starting the container"),
        L("env", 'e', env, "Set environment variables"),
        L("env-file", 0, env_file, "Read in a file of environment variables"),
        L("expose", 0, expose, "Expose a port or a range of ports"),
        S("external-rootfs", 0, external_rootfs, "Specify a custom rootfs that is not managed by isulad"),
        I("files-limit", 0, files_limit, "Tune container files limit (set -1 for unlimited)"),
        L("group-add", 0, group_add, "Add additional groups to join"),
        S("health-cmd", 0, health_cmd, "Command to run to check health"),
        B("health-exit-on-unhealthy", 0, health_exit, "Kill the container when it is detected to be unhealthy"),
        S("health-interval", 0, health_interval, "Time between running the check (ms|s|m|h)"),
        I("health-retries", 0, health_retries, "Consecutive failures needed to report unhealthy"),
        S("health-start-period", 0, health_start_period, "Start period for the container to initialize"),
        S("health-timeout", 0, health_timeout, "Maximum time to allow one check to run (ms|s|m|h)"),
        S("hook-spec", 0, hook_spec, "File containing hook definition(prestart, poststart, poststop)"),
        S("hostname", 'h', hostname, "Container host name"),
        L("hugetlb-limit", 0, hugetlb, "Huge page limit (format: [size:]<limit>, e.g. 2MB:32MB)"),
        B("interactive", 'i', interactive, "Keep STDIN open even if not attached"),
        S("ipc", 0, ipc, "IPC namespace to use"),
        S("kernel-memory", 0, kernel_memory, "Kernel memory limit"),
        L("label", 'l', label, "Set metadata on container"),
        L("label-file", 0, label_file, "Read in a line delimited file of labels"),
        S("log-driver", 0, log_driver, "Container log driver"),
        L("log-opt", 0, log_opt, "Log driver options"),
        S("memory", 'm', memory, "Memory limit"),
        S("memory-reservation", 0, memory_reservation, "Memory soft limit"),
        S("memory-swap", 0, memory_swap, "Swap limit equal to memory plus swap: '-1' to enable unlimited swap"),
        I("memory-swappiness", 0, memory_swappiness, "Tune container memory swappiness (0 to 100) (default -1)"),
        L("mount", 0, mount, "Attach a filesystem mount to the container"),
        S("name", 0, name, "Name of the container"),
        S("net", 0, net, "Connect a container to a network (none, host, container:<id>, or a network's name)"),
        S("network", 0, net, "Alias of --net"),
        L("network-alias", 0, network_alias, "Add network-scoped alias for the container"),
        S("ip", 0, ip, "IPv4 address on the network of --net (e.g., 172.30.100.104)"),
        S("ip6", 0, ip6, "IPv6 address on the IPv6 network of --net (e.g., 2001:db8::33)"),
        S("mac-address", 0, mac_address, "Container MAC address on the network of --net (e.g., 92:d0:c6:0a:29:33)"),
        B("no-healthcheck", 0, no_healthcheck, "Disable any container-specified HEALTHCHECK"),
        B("oom-kill-disable", 0, oom_kill_disable, "Disable OOM Killer"),
        I("oom-score-adj", 0, oom_score_adj, "Tune host's OOM preferences (-1000 to 1000)"),
        S("pid", 0, pid, "PID namespace to use"),
        I("pids-limit", 0, pids_limit, "Tune container pids limit (set -1 for unlimited)"),
        B("privileged", 0, privileged, "Give extended privileges to this container"),
        L("publish", 'p', publish, "Publish a container's port(s) to the host"),
        B("publish-all", 'P', publish_all, "Publish all exposed ports to random ports"),
        B("read-only", 0, read_only, "Make container's root filesystem read only"),
        S("restart", 0, restart, "Restart policy to apply when a container exits"),
        S("runtime", 'R', runtime, "Runtime to use for containers(default: lcr)"),
        L("security-opt", 0, security_opt, "Security Options"),
        S("shm-size", 0, shm_size, "Size of /dev/shm, default value is 64MB"),
        S("stop-signal", 0, stop_signal, "Signal to stop a container"),
        I("stop-timeout", 0, stop_timeout, "Timeout (in seconds) to stop a container"),
        L("storage-opt", 0, storage_opt, "Storage driver options for the container"),
        L("sysctl", 0, sysctl, "Sysctl options"),
        L("tmpfs", 0, tmpfs, "Mount a tmpfs directory"),
        B("tty", 't', tty, "Allocate a pseudo-TTY"),
        L("ulimit", 0, ulimit, "Ulimit options"),
        S("user", 'u', user, "Username or UID (format: <name|uid>[:<group|gid>])"),
        S("user-remap", 0, user_remap,
          "Map the container's ids 0..offset-1 to uid.. and gid.. on the host "
          "(format: <uid>:<gid>:<offset>)"),
        S("userns", 0, userns, "User namespace to use"),
        S("uts", 0, uts, "UTS namespace to use"),
        L("volume", 'v', volume, "Bind mount a volume"),
        L("volumes-from", 0, volumes_from, "Mount volumes from the specified container(s)"),
        S("workdir", 'w', workdir, "Working directory inside the container"),
    };
    static const struct cli_option tls_opts[] = {CMD_TLS_OPTS};
    /* -d, --rm, --detach-keys, -H, TLS, --help, end */
    static struct cli_option t[ARRAY_SIZE(all) + ARRAY_SIZE(tls_opts) + 6];
    size_t n = 0;
    if (with_run) {
        t[n++] = (struct cli_option)B("detach", 'd', detach, "Run container in background and print container ID");
        t[n++] = (struct cli_option)B("rm", 0, rm, "Automatically remove the container when it exits");
        t[n++] = (struct cli_option)S("detach-keys", 0, detach_keys, "Override the key sequence for detaching");
    }
    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        t[n++] = all[i];
    t[n++] = (struct cli_option){"host", 'H', CLI_OPT_STRING, &g_host_flag, "Daemon socket(s) to connect to"};
    for (size_t i = 0; i < ARRAY_SIZE(tls_opts); i++)
        t[n++] = tls_opts[i];
    t[n++] = (struct cli_option){"help", 0, CLI_OPT_BOOL, &g_help_flag, "Print usage"};
    t[n] = (struct cli_option){NULL};
    return t;
}
