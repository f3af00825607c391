/*
 * Checks of a create body's settings that spec generation does not make: stop signal, restart policy, log
 * driver and options, OOM score, namespace modes, ports, DNS servers, extra hosts, cpusets, the resource limits
 * runc would refuse at start, and environment variable names. Run at create, so a bad
 * value is refused with Docker's message before the container exists instead of being stored (or failing at every
 * start). Pure functions of their arguments; thread-safe.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/service/internal.h"

static bool in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (streq(s, list[i]))
            return true;
    return false;
}

static int check_restart(const json_t *hc, struct isd_error **err)
{
    json_t *rp = json_object_get(hc, "RestartPolicy");
    const char *name = json_get_str(rp, "Name");
    long long max = json_get_int(rp, "MaximumRetryCount", 0);
    bool none = name == NULL || *name == '\0' || streq(name, "no");
    if (name != NULL && *name != '\0' && !streq(name, "no") && !streq(name, "always") &&
        !streq(name, "unless-stopped") && !streq(name, "on-failure"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid restart policy '%s'", name);
    if (name != NULL && streq(name, "on-failure") && max < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "maximum retry count cannot be negative");
    if (name != NULL && !streq(name, "on-failure") && max != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "maximum retry count cannot be used with restart policy '%s'",
                             name);
    if (!none && json_get_bool(hc, "AutoRemove", false))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "can't create 'AutoRemove' container with restart policy");
    return 0;
}

/* HC-04..HC-07: a duration given (not 0, which takes the default) is at least 1 s; retries are not negative. */
static int check_healthcheck(const json_t *config, struct isd_error **err)
{
    static const char *const keys[] = {"Interval", "Timeout", "StartPeriod"};
    const json_t *h = json_object_get(config, "Healthcheck");
    for (size_t i = 0; h != NULL && i < ARRAY_SIZE(keys); i++) {
        long long v = json_get_int(h, keys[i], 0);
        if (v != 0 && v < 1000000000LL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s in Healthcheck cannot be less than 1s", keys[i]);
    }
    if (json_get_int(h, "Retries", 0) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Retries in Healthcheck cannot be negative");
    return 0;
}

/* Only the json-file driver exists (the shim writes it); its options are Docker's plus isula's disable-log. */
static int check_log_config(const json_t *hc, struct isd_error **err)
{
    static const char *const keys[] = {"max-size",  "max-file", "compress", "labels",          "labels-regex", "env",
                                       "env-regex", "tag",      "mode",     "max-buffer-size", "disable-log"};
    json_t *lc = json_object_get(hc, "LogConfig");
    const char *type = json_get_str(lc, "Type");
    const char *k;
    json_t *v;
    long long n;
    if (streq(type, "none")) { /* Docker's none: no log at all, and no option */
        json_object_foreach(json_object_get(lc, "Config"), k, v) return isd_error_set(
            err, ISD_ERR_INVALID, 0, "unknown log opt '%s' for none log driver", k);
        return 0;
    }
    if (streq(type, "cri")) { /* CRI containers (service/pod_container.c): the log file kubelet names */
        const char *path = json_get_str(json_object_get(lc, "Config"), "path");
        if (path == NULL || path[0] != '/' || json_object_size(json_object_get(lc, "Config")) != 1)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "the cri log driver needs one option: an absolute `path`");
        return 0;
    }
    if (type != NULL && *type != '\0' && !streq(type, "json-file"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "logger: no log driver named '%s' is registered", type);
    json_object_foreach(json_object_get(lc, "Config"), k, v)
    {
        if (!in_list(k, keys, ARRAY_SIZE(keys)))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown log opt '%s' for json-file log driver", k);
        if (!json_is_string(v))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "log opt '%s' must be a string", k);
    }
    v = json_object_get(json_object_get(lc, "Config"), "max-size");
    if (v != NULL && (parse_size(json_string_value(v), &n) < 0 || n <= 0))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid max-size `%s`", json_string_value(v));
    v = json_object_get(json_object_get(lc, "Config"), "max-file");
    if (v != NULL && (parse_int64(json_string_value(v), &n) < 0 || n < 1))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "max-file cannot be less than 1: `%s`", json_string_value(v));
    return 0;
}

static int check_modes(const json_t *hc, struct isd_error **err)
{
    static const char *const ipc[] = {"none", "private", "shareable", "host"};
    const char *m = json_get_str(hc, "IpcMode");
    if (m != NULL && *m != '\0' && !str_has_prefix(m, "container:") && !in_list(m, ipc, ARRAY_SIZE(ipc)))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid IPC mode: %s", m);
    m = json_get_str(hc, "PidMode");
    if (m != NULL && *m != '\0' && !str_has_prefix(m, "container:") && !streq(m, "host"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid PID mode: %s", m);
    m = json_get_str(hc, "UTSMode");
    if (m != NULL && *m != '\0' && !str_has_prefix(m, "container:") && !streq(m, "host"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid UTS mode: %s", m);
    /* Any other NetworkMode names a network: the service looks it up (service_network_check_mode). */
    return 0;
}

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* "80", "80/tcp", "8000-8010/udp": Docker's port specification. */
static bool port_spec_valid(const char *k)
{
    const char *slash = strchr(k, '/');
    const char *proto = slash != NULL ? slash + 1 : "tcp";
    cleanup_free char *range = slash != NULL ? xstrndup(k, (size_t)(slash - k)) : xstrdup(k);
    char *dash = strchr(range, '-');
    long long lo, hi;
    if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
        return false;
    if (dash != NULL)
        *dash = '\0';
    if (parse_int64(range, &lo) < 0 || lo < 1 || lo > 65535)
        return false;
    if (dash == NULL)
        return true;
    return parse_int64(dash + 1, &hi) == 0 && hi >= lo && hi <= 65535;
}

static int check_network_values(const json_t *config, const json_t *hc, struct isd_error **err)
{
    const char *k;
    json_t *v;
    size_t i;
    json_object_foreach(json_object_get(config, "ExposedPorts"), k, v)
    {
        if (!port_spec_valid(k))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid port specification: \"%s\"", k);
    }
    json_object_foreach(json_object_get(hc, "PortBindings"), k, v)
    {
        json_t *b;
        if (!port_spec_valid(k))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid port specification: \"%s\"", k);
        json_array_foreach(v, i, b)
        {
            const char *hp = json_get_str(b, "HostPort");
            cleanup_free char *spec = hp != NULL && *hp != '\0' ? xasprintf("%s/tcp", hp) : NULL;
            if (spec != NULL && !port_spec_valid(spec) && !streq(hp, "0"))
                return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid hostPort: %s", hp);
        }
    }
    json_array_foreach(json_object_get(hc, "Dns"), i, v)
    {
        if (!json_is_string(v) || !is_ip(json_string_value(v)))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s is not an ip address",
                                 json_is_string(v) ? json_string_value(v) : "Dns entry");
    }
    json_array_foreach(json_object_get(hc, "ExtraHosts"), i, v)
    {
        const char *e = json_string_value(v), *colon = e != NULL ? strchr(e, ':') : NULL;
        if (colon == NULL || colon == e || !(is_ip(colon + 1) || streq(colon + 1, "host-gateway")))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid extra host: \"%s\"", e != NULL ? e : "");
    }
    return 0;
}

/* One "N" or "N-M" item of a cpu/memory-node list at *p; advances past it and a following comma. */
static bool list_item(const char **p, long long *lo, long long *hi)
{
    char *end;
    if (**p < '0' || **p > '9')
        return false;
    *lo = *hi = strtoll(*p, &end, 10);
    if (*end == '-') {
        if (end[1] < '0' || end[1] > '9')
            return false;
        *hi = strtoll(end + 1, &end, 10);
    }
    if ((*end != ',' && *end != '\0') || *hi < *lo || (*end == ',' && end[1] == '\0'))
        return false;
    *p = *end == ',' ? end + 1 : end;
    return true;
}

/* -1: req is not a list; 1: some of req is not in avail (the host's list); 0: fine. */
static int list_check(const char *req, const char *avail)
{
    const char *p = req;
    long long lo, hi;
    while (*p != '\0') {
        if (!list_item(&p, &lo, &hi))
            return -1;
        for (long long n = lo; avail != NULL && n <= hi; n++) {
            const char *a = avail;
            long long alo, ahi;
            bool found = false;
            while (!found && *a != '\0' && list_item(&a, &alo, &ahi))
                found = n >= alo && n <= ahi;
            if (!found)
                return 1;
        }
    }
    return 0;
}

static int check_cpuset(const json_t *hc, const char *key, const char *what, const char *host_path,
                        struct isd_error **err)
{
    const char *req = json_get_str(hc, key);
    cleanup_free char *avail = NULL;
    int rc;
    if (req == NULL || *req == '\0')
        return 0;
    avail = read_file(host_path, 4096, NULL, NULL);
    if (avail != NULL)
        avail[strcspn(avail, "\n")] = '\0';
    rc = list_check(req, avail);
    if (rc < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid value %s for cpuset %s", req, what);
    if (rc > 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Requested %s are not available - requested %s, available: %s",
                             streq(what, "cpus") ? "CPUs" : "memory nodes", req, avail);
    return 0;
}

/* Values the kernel or runc refuse, so the container would be created but could never start. */
static int check_limits(const json_t *config, const json_t *hc, struct isd_error **err)
{
    long long swappiness = json_get_int(hc, "MemorySwappiness", -1), kmem = json_get_int(hc, "KernelMemory", 0);
    long long period = json_get_int(hc, "CpuPeriod", 0), quota = json_get_int(hc, "CpuQuota", 0);
    size_t i;
    json_t *v;
    if (swappiness != -1 && (swappiness < 0 || swappiness > 100))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid value: %lld, valid memory swappiness range is 0-100",
                             swappiness);
    if (kmem > 0 && kmem < 4LL * 1024 * 1024)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Minimum kernel memory limit allowed is 4MB");
    if (period != 0 && (period < 1000 || period > 1000000))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
    if (quota > 0 && quota < 1000)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "CPU cfs quota can not be less than 1ms (i.e. 1000)");
    json_array_foreach(json_object_get(config, "Env"), i, v)
    {
        const char *e = json_string_value(v);
        if (e != NULL && (e[0] == '\0' || e[0] == '='))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid environment variable: %s", e);
    }
    return 0;
}

int container_check_settings(const json_t *config, const json_t *hc, struct isd_error **err)
{
    const char *sig = json_get_str(config, "StopSignal");
    long long oom = json_get_int(hc, "OomScoreAdj", 0);
    if (sig != NULL && *sig != '\0' && signal_parse(sig) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid signal: %s", sig);
    if (oom < -1000 || oom > 1000)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                             oom);
    if (check_restart(hc, err) < 0 || check_log_config(hc, err) < 0 || check_healthcheck(config, err) < 0 ||
        check_network_values(config, hc, err) < 0 || check_limits(config, hc, err) < 0)
        return -1;
    /* Docker's legacy links (--link) are refused rather than ignored: names resolve on user networks */
    if (json_array_size(json_object_get(hc, "Links")) > 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "legacy container links (--link, HostConfig.Links) are not supported: connect the "
                             "containers to one network (docker network create), where they reach each other by "
                             "name and --network-alias");
    if (check_cpuset(hc, "CpusetCpus", "cpus", "/sys/devices/system/cpu/online", err) < 0 ||
        check_cpuset(hc, "CpusetMems", "mems", "/sys/devices/system/node/online", err) < 0)
        return -1;
    return check_modes(hc, err);
}

/* KATA-022/031/033: what a runtime that runs its containers in a VM cannot honour. */
int container_check_vm_runtime(const char *runtime, const json_t *body, const json_t *hc, struct isd_error **err)
{
    static const char *const ns[][2] = {
        {"NetworkMode", "net"}, {"IpcMode", "ipc"}, {"PidMode", "pid"}, {"UTSMode", "uts"}};
    const char *net = json_get_str(hc, "NetworkMode"), *mems = json_get_str(hc, "CpusetMems");
    for (size_t i = 0; i < ARRAY_SIZE(ns); i++)
        if (streq(json_get_str(hc, ns[i][0]), "host"))
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "--%s host is not supported by runtime `%s`: its containers run in a virtual machine, "
                                 "which cannot reach the host's namespaces",
                                 ns[i][1], runtime);
    if (json_object_size(json_object_get(hc, "PortBindings")) > 0 || json_get_bool(hc, "PublishAllPorts", false) ||
        json_object_size(json_object_get(body, "ExposedPorts")) > 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "-p, -P and --expose are not supported by runtime `%s`: its containers run in a virtual "
                             "machine with CNI networking only; use --net=none",
                             runtime);
    if (net == NULL || !streq(net, "none"))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "runtime `%s` needs --net=none: its containers run in a virtual machine, which supports "
                             "CNI networks only (not CNM networks such as `%s`)",
                             runtime, net != NULL && *net != '\0' ? net : "default");
    if (mems != NULL && *mems != '\0' && !streq(mems, "0"))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "--cpuset-mems %s is not supported by runtime `%s`: its virtual machine has one NUMA "
                             "node, so only 0 is valid",
                             mems, runtime);
    return 0;
}

bool container_log_type_none(const struct container *c)
{
    return streq(json_get_str(json_object_get(c->host_config, "LogConfig"), "Type"), "none");
}
