/*
 * Translation of create/run options into the POST /containers/create body (Docker's Config with a
 * HostConfig, plus the isula extensions ExternalRootfs, HostConfig.Annotations/FilesLimit/HookSpec/
 * Hugetlbs and Healthcheck.ExitOnUnhealthy). Stateless.
 */
#include <limits.h>
#include <stdlib.h>

#include "cmd/isula/create_opts.h"
#include "common/cdi_name.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

#define UNSET LLONG_MIN

/* Appends the lines of a "KEY=VALUE" file to *v (blank and # lines skipped, whitespace trimmed). */
static int read_kv_file(const char *path, char ***v, struct isd_error **err)
{
    cleanup_free char *text = read_file(path, 4 << 20, NULL, err);
    char *save = NULL;
    if (text == NULL)
        return isd_error_wrap(err, "read `%s`", path);
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (line[0] == '\0' || line[0] == '#')
            continue;
        strv_append(v, line);
    }
    return 0;
}

static json_t *env_array(const struct create_opts *o, struct isd_error **err)
{
    cleanup_strv char **all = NULL;
    json_t *a = json_array();
    for (char **f = o->env_file; f != NULL && *f != NULL; f++)
        if (read_kv_file(*f, &all, err) < 0) {
            json_decref(a);
            return NULL;
        }
    for (char **e = o->env; e != NULL && *e != NULL; e++)
        strv_append(&all, *e);
    for (char **e = all; e != NULL && *e != NULL; e++) {
        if (strchr(*e, '=') != NULL) {
            json_array_append_new(a, json_string(*e));
        } else if (getenv(*e) != NULL) {
            cleanup_free char *kv = xasprintf("%s=%s", *e, getenv(*e));
            json_array_append_new(a, json_string(kv));
        }
    }
    return a;
}

/* "k=v" list items into an object; a bare "k" maps to empty_value (NULL: skipped). */
static int kv_object(json_t *obj, char *const *items, const char *empty_value, const char *what, struct isd_error **err)
{
    for (; items != NULL && *items != NULL; items++) {
        const char *eq = strchr(*items, '=');
        cleanup_free char *k = eq != NULL ? xstrndup(*items, (size_t)(eq - *items)) : xstrdup(*items);
        if (k[0] == '\0')
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid %s `%s`: key is empty", what, *items);
        if (eq == NULL && empty_value == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid %s `%s`: expected key=value", what, *items);
        json_object_set_new(obj, k, json_string(eq != NULL ? eq + 1 : empty_value));
    }
    return 0;
}

static json_t *labels_object(const struct create_opts *o, struct isd_error **err)
{
    cleanup_strv char **all = NULL;
    json_t *obj = json_object();
    for (char **f = o->label_file; f != NULL && *f != NULL; f++)
        if (read_kv_file(*f, &all, err) < 0)
            goto fail;
    for (char **l = o->label; l != NULL && *l != NULL; l++)
        strv_append(&all, *l);
    if (kv_object(obj, all, "", "label", err) < 0)
        goto fail;
    return obj;
fail:
    json_decref(obj);
    return NULL;
}

static json_t *sub_object(json_t *m, const char *key)
{
    json_t *o = json_object_get(m, key);
    if (o == NULL) {
        o = json_object();
        json_object_set_new(m, key, o);
    }
    return o;
}

static json_t *bind_options(json_t *m)
{
    return sub_object(m, "BindOptions");
}

/* bind-recursive=enabled (the default: submounts bound too), disabled (BindOptions.NonRecursive), writable
 * (ReadOnlyNonRecursive: a read-only bind leaves its submounts writable) or readonly (ReadOnlyForceRecursive: they
 * are read-only too), as Docker 25's --mount. */
static int set_bind_recursive(json_t *bo, const char *val)
{
    if (streq(val, "enabled"))
        return 0;
    if (streq(val, "disabled") || streq(val, "writable") || streq(val, "readonly")) {
        json_object_set_new(bo,
                            streq(val, "disabled")   ? "NonRecursive"
                            : streq(val, "writable") ? "ReadOnlyNonRecursive"
                                                     : "ReadOnlyForceRecursive",
                            json_true());
        return 0;
    }
    return -1;
}

/* --mount key=value,...: Docker's keys (volume-opt=k=v, volume-label=k=v and volume-driver for a volume made by
 * the mount), plus z, Z and relabel=shared|private (the SELinux relabel of -v's mode; BindOptions.Relabel). */
static int parse_mount(const char *spec, json_t *mounts, struct isd_error **err)
{
    cleanup_free char *copy = xstrdup(spec);
    json_t *m = json_pack("{s:s}", "Type", "bind");
    char *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        const char *val = eq != NULL ? eq + 1 : "true";
        bool ro = false;
        if (eq != NULL)
            *eq = '\0';
        if (streq(kv, "type"))
            json_object_set_new(m, "Type", json_string(val));
        else if (streq(kv, "src") || streq(kv, "source"))
            json_object_set_new(m, "Source", json_string(val));
        else if (streq(kv, "dst") || streq(kv, "destination") || streq(kv, "target"))
            json_object_set_new(m, "Target", json_string(val));
        else if ((streq(kv, "readonly") || streq(kv, "ro")) && cli_parse_bool(val, &ro) == 0)
            json_object_set_new(m, "ReadOnly", json_boolean(ro));
        else if (streq(kv, "bind-propagation") || streq(kv, "propagation"))
            json_object_set_new(bind_options(m), "Propagation", json_string(val));
        else if (streq(kv, "bind-recursive") && set_bind_recursive(bind_options(m), val) < 0) {
            json_decref(m);
            return isd_error_set(
                err, ISD_ERR_INVALID, 0,
                "invalid mount spec `%s`: bind-recursive takes enabled, disabled, writable or readonly", spec);
        } else if (streq(kv, "bind-recursive")) {
        } else if (eq == NULL && (streq(kv, "z") || streq(kv, "Z")))
            json_object_set_new(bind_options(m), "Relabel", json_string(kv));
        else if (streq(kv, "relabel") && (streq(val, "shared") || streq(val, "private")))
            json_object_set_new(bind_options(m), "Relabel", json_string(streq(val, "shared") ? "z" : "Z"));
        else if (streq(kv, "consistency"))
            json_object_set_new(m, "Consistency", json_string(val));
        else if (streq(kv, "volume-nocopy") && cli_parse_bool(val, &ro) == 0)
            json_object_set_new(sub_object(m, "VolumeOptions"), "NoCopy", json_boolean(ro));
        else if (streq(kv, "volume-driver"))
            json_object_set_new(sub_object(sub_object(m, "VolumeOptions"), "DriverConfig"), "Name", json_string(val));
        else if ((streq(kv, "volume-opt") || streq(kv, "volume-label")) && eq != NULL && strchr(val, '=') != NULL) {
            json_t *o = streq(kv, "volume-opt")
                            ? sub_object(sub_object(sub_object(m, "VolumeOptions"), "DriverConfig"), "Options")
                            : sub_object(sub_object(m, "VolumeOptions"), "Labels");
            cleanup_free char *k = xstrndup(val, (size_t)(strchr(val, '=') - val));
            json_object_set_new(o, k, json_string(strchr(val, '=') + 1));
        } else {
            json_decref(m);
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid mount spec `%s`: unknown field `%s`", spec, kv);
        }
    }
    if (json_object_get(m, "Target") == NULL) {
        json_decref(m);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid mount spec `%s`: target is required", spec);
    }
    if (json_get_str(json_object_get(m, "BindOptions"), "Relabel") != NULL && !streq(json_get_str(m, "Type"), "bind")) {
        json_decref(m);
        return isd_error_set(
            err, ISD_ERR_INVALID, 0,
            "invalid mount spec `%s`: z, Z and relabel apply to type=bind (a volume takes -v name:/dst:z)", spec);
    }
    json_array_append_new(mounts, m);
    return 0;
}

static int parse_restart(const char *s, json_t *hc, struct isd_error **err)
{
    const char *colon = strchr(s, ':');
    cleanup_free char *name = colon != NULL ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
    long long n = 0;
    if (colon != NULL && parse_int64(colon + 1, &n) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid restart policy `%s`", s);
    json_object_set_new(hc, "RestartPolicy", json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", n));
    return 0;
}

static int set_size(json_t *obj, const char *key, const char *val, bool allow_minus_one, struct isd_error **err)
{
    long long n;
    if (val == NULL)
        return 0;
    if (allow_minus_one && streq(val, "-1"))
        n = -1;
    else if (parse_size(val, &n) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid size `%s` for %s", val, key);
    json_object_set_new(obj, key, json_integer(n));
    return 0;
}

static void set_int(json_t *obj, const char *key, long long v)
{
    if (v != UNSET)
        json_object_set_new(obj, key, json_integer(v));
}

static void set_str(json_t *obj, const char *key, const char *v)
{
    if (v != NULL)
        json_object_set_new(obj, key, json_string(v));
}

static void set_strv(json_t *obj, const char *key, char *const *v)
{
    if (v != NULL)
        json_object_set_new(obj, key, json_strv(v));
}

/* --device values that are fully qualified CDI names (`vendor.com/class=name`) as one DeviceRequests entry of the
 * cdi driver, as Docker 25's CLI sends them; NULL when there are none. */
static json_t *cdi_requests(char *const *v)
{
    json_t *ids = json_array();
    for (; v != NULL && *v != NULL; v++)
        if (cdi_name_is_qualified(*v))
            json_array_append_new(ids, json_string(*v));
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        return NULL;
    }
    return json_pack("[{s:s, s:o}]", "Driver", "cdi", "DeviceIDs", ids);
}

static json_t *devices_array(char *const *v)
{
    json_t *a = json_array();
    for (; v != NULL && *v != NULL; v++) {
        cleanup_strv char **parts = NULL;
        if (cdi_name_is_qualified(*v))
            continue;
        cleanup_free char *copy = xstrdup(*v);
        char *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save))
            strv_append(&parts, p);
        size_t n = strv_len(parts);
        const char *host = n > 0 ? parts[0] : *v;
        const char *ctr = n > 1 && parts[1][0] == '/' ? parts[1] : host;
        const char *perm = n > 2 ? parts[2] : (n == 2 && parts[1][0] != '/') ? parts[1] : "rwm";
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s}", "PathOnHost", host, "PathInContainer", ctr, "CgroupPermissions", perm));
    }
    return a;
}

static int ulimits_array(char *const *v, json_t **ret, struct isd_error **err)
{
    json_t *a = json_array();
    for (; v != NULL && *v != NULL; v++) {
        const char *eq = strchr(*v, '=');
        cleanup_free char *name = eq != NULL ? xstrndup(*v, (size_t)(eq - *v)) : NULL;
        cleanup_free char *soft = eq != NULL ? xstrdup(eq + 1) : NULL;
        char *colon = soft != NULL ? strchr(soft, ':') : NULL;
        long long s, h;
        if (colon != NULL)
            *colon = '\0';
        if (name == NULL || parse_int64(soft, &s) < 0 || parse_int64(colon != NULL ? colon + 1 : soft, &h) < 0) {
            json_decref(a);
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid ulimit `%s`: expected <type>=<soft>[:<hard>]", *v);
        }
        json_array_append_new(a, json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", s, "Hard", h));
    }
    *ret = a;
    return 0;
}

/* "<a>:<size>" items (hugetlb page size, blkio device) into [{ka: a, kb: bytes}]. */
static int pairs_array(char *const *v, const char *ka, const char *kb, bool first_optional, json_t **ret,
                       struct isd_error **err)
{
    json_t *a = json_array();
    for (; v != NULL && *v != NULL; v++) {
        const char *colon = strrchr(*v, ':');
        cleanup_free char *first = colon != NULL ? xstrndup(*v, (size_t)(colon - *v)) : xstrdup("");
        long long n;
        if ((colon == NULL && !first_optional) || parse_size(colon != NULL ? colon + 1 : *v, &n) < 0) {
            json_decref(a);
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid value `%s`", *v);
        }
        json_array_append_new(a, json_pack("{s:s, s:I}", ka, first, kb, n));
    }
    *ret = a;
    return 0;
}

/* -p [ip:]hostport:containerport[/proto] and --expose port[/proto]. */
static void ports(const struct create_opts *o, json_t *config, json_t *hc)
{
    json_t *exposed = json_object(), *bindings = json_object();
    for (char **e = o->expose; e != NULL && *e != NULL; e++) {
        cleanup_free char *k = strchr(*e, '/') != NULL ? xstrdup(*e) : xasprintf("%s/tcp", *e);
        json_object_set_new(exposed, k, json_object());
    }
    for (char **p = o->publish; p != NULL && *p != NULL; p++) {
        cleanup_free char *copy = xstrdup(*p);
        char *last = strrchr(copy, ':'), *hostpart = NULL, *ip = "";
        const char *ctr = last != NULL ? last + 1 : copy;
        if (last != NULL) {
            *last = '\0';
            hostpart = copy;
            char *c2 = strrchr(hostpart, ':');
            if (c2 != NULL) {
                *c2 = '\0';
                ip = hostpart;
                hostpart = c2 + 1;
            }
        }
        cleanup_free char *k = strchr(ctr, '/') != NULL ? xstrdup(ctr) : xasprintf("%s/tcp", ctr);
        json_object_set_new(exposed, k, json_object());
        json_t *list = json_object_get(bindings, k);
        if (list == NULL)
            json_object_set_new(bindings, k, list = json_array());
        json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", hostpart ? hostpart : ""));
    }
    if (json_object_size(exposed) > 0)
        json_object_set(config, "ExposedPorts", exposed);
    if (json_object_size(bindings) > 0)
        json_object_set(hc, "PortBindings", bindings);
    json_decref(exposed);
    json_decref(bindings);
}

static int health_ns(json_t *hcheck, const char *key, const char *val, struct isd_error **err)
{
    long long ns;
    if (val == NULL)
        return 0;
    if (parse_duration_ns(val, &ns) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid duration `%s` for %s", val, key);
    json_object_set_new(hcheck, key, json_integer(ns));
    return 0;
}

static int healthcheck(const struct create_opts *o, json_t *config, struct isd_error **err)
{
    json_t *h;
    if (o->no_healthcheck) {
        json_object_set_new(config, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
        return 0;
    }
    if (o->health_cmd == NULL && o->health_interval == NULL && o->health_timeout == NULL &&
        o->health_start_period == NULL && o->health_retries == UNSET && !o->health_exit)
        return 0;
    h = json_object();
    json_object_set_new(config, "Healthcheck", h);
    if (o->health_cmd != NULL)
        json_object_set_new(h, "Test", json_pack("[s, s]", "CMD-SHELL", o->health_cmd));
    set_int(h, "Retries", o->health_retries);
    if (o->health_exit)
        json_object_set_new(h, "ExitOnUnhealthy", json_true());
    if (health_ns(h, "Interval", o->health_interval, err) < 0 || health_ns(h, "Timeout", o->health_timeout, err) < 0 ||
        health_ns(h, "StartPeriod", o->health_start_period, err) < 0)
        return -1;
    return 0;
}

static int log_config(const struct create_opts *o, json_t *hc, struct isd_error **err)
{
    json_t *cfg;
    if (o->log_driver == NULL && o->log_opt == NULL)
        return 0;
    cfg = json_object();
    json_object_set_new(
        hc, "LogConfig",
        json_pack("{s:s, s:o}", "Type", o->log_driver != NULL ? o->log_driver : "json-file", "Config", cfg));
    return kv_object(cfg, o->log_opt, NULL, "log-opt", err);
}

static int host_config_resources(const struct create_opts *o, json_t *hc, struct isd_error **err)
{
    json_t *a = NULL;
    set_int(hc, "CpuShares", o->cpu_shares);
    set_int(hc, "CpuQuota", o->cpu_quota);
    set_int(hc, "CpuPeriod", o->cpu_period);
    set_str(hc, "CpusetCpus", o->cpuset_cpus);
    set_str(hc, "CpusetMems", o->cpuset_mems);
    set_int(hc, "MemorySwappiness", o->memory_swappiness);
    set_int(hc, "PidsLimit", o->pids_limit);
    set_int(hc, "FilesLimit", o->files_limit);
    set_int(hc, "OomScoreAdj", o->oom_score_adj);
    set_int(hc, "BlkioWeight", o->blkio_weight);
    if (o->oom_kill_disable)
        json_object_set_new(hc, "OomKillDisable", json_true());
    if (set_size(hc, "Memory", o->memory, false, err) < 0 ||
        set_size(hc, "MemoryReservation", o->memory_reservation, false, err) < 0 ||
        set_size(hc, "MemorySwap", o->memory_swap, true, err) < 0 ||
        set_size(hc, "KernelMemory", o->kernel_memory, false, err) < 0 ||
        set_size(hc, "ShmSize", o->shm_size, false, err) < 0)
        return -1;
    if (o->device != NULL) {
        json_t *cdi = cdi_requests(o->device);
        json_object_set_new(hc, "Devices", devices_array(o->device));
        if (cdi != NULL)
            json_object_set_new(hc, "DeviceRequests", cdi);
    }
    if (o->ulimit != NULL) {
        if (ulimits_array(o->ulimit, &a, err) < 0)
            return -1;
        json_object_set_new(hc, "Ulimits", a);
    }
    if (o->hugetlb != NULL) {
        if (pairs_array(o->hugetlb, "PageSize", "Limit", true, &a, err) < 0)
            return -1;
        json_object_set_new(hc, "Hugetlbs", a);
    }
    if (o->read_bps != NULL) {
        if (pairs_array(o->read_bps, "Path", "Rate", false, &a, err) < 0)
            return -1;
        json_object_set_new(hc, "BlkioDeviceReadBps", a);
    }
    if (o->write_bps != NULL) {
        if (pairs_array(o->write_bps, "Path", "Rate", false, &a, err) < 0)
            return -1;
        json_object_set_new(hc, "BlkioDeviceWriteBps", a);
    }
    return 0;
}

static int host_config_maps(const struct create_opts *o, json_t *hc, struct isd_error **err)
{
    json_t *ann = json_object(), *sysctl = json_object(), *sto = json_object(), *tmpfs = json_object();
    int rc = kv_object(ann, o->annotation, "", "annotation", err);
    if (rc == 0)
        rc = kv_object(sysctl, o->sysctl, NULL, "sysctl", err);
    if (rc == 0)
        rc = kv_object(sto, o->storage_opt, NULL, "storage-opt", err);
    for (char **t = o->tmpfs; rc == 0 && t != NULL && *t != NULL; t++) {
        const char *colon = strchr(*t, ':');
        cleanup_free char *path = colon != NULL ? xstrndup(*t, (size_t)(colon - *t)) : xstrdup(*t);
        json_object_set_new(tmpfs, path, json_string(colon != NULL ? colon + 1 : ""));
    }
    if (o->annotation != NULL)
        json_object_set(hc, "Annotations", ann);
    if (o->sysctl != NULL)
        json_object_set(hc, "Sysctls", sysctl);
    if (o->storage_opt != NULL)
        json_object_set(hc, "StorageOpt", sto);
    if (o->tmpfs != NULL)
        json_object_set(hc, "Tmpfs", tmpfs);
    json_decref(ann);
    json_decref(sysctl);
    json_decref(sto);
    json_decref(tmpfs);
    return rc;
}

static json_t *host_config(const struct create_opts *o, struct isd_error **err)
{
    json_t *hc = json_object(), *mounts = json_array();
    json_object_set_new(hc, "Mounts", mounts);
    set_strv(hc, "Binds", o->volume);
    set_strv(hc, "VolumesFrom", o->volumes_from);
    for (char **m = o->mount; m != NULL && *m != NULL; m++)
        if (parse_mount(*m, mounts, err) < 0)
            goto fail;
    if (o->mount == NULL)
        json_object_del(hc, "Mounts");
    json_object_set_new(hc, "ReadonlyRootfs", json_boolean(o->read_only));
    json_object_set_new(hc, "Privileged", json_boolean(o->privileged));
    if (o->publish_all)
        json_object_set_new(hc, "PublishAllPorts", json_true());
    json_object_set_new(hc, "AutoRemove", json_boolean(o->rm));
    set_str(hc, "Runtime", o->runtime);
    set_str(hc, "NetworkMode", o->net);
    set_str(hc, "PidMode", o->pid);
    set_str(hc, "IpcMode", o->ipc);
    set_str(hc, "UTSMode", o->uts);
    set_str(hc, "UsernsMode", o->userns);
    set_str(hc, "UserRemap", o->user_remap);
    set_str(hc, "CgroupParent", o->cgroup_parent);
    set_str(hc, "HookSpec", o->hook_spec);
    set_strv(hc, "CapAdd", o->cap_add);
    set_strv(hc, "CapDrop", o->cap_drop);
    set_strv(hc, "Dns", o->dns);
    set_strv(hc, "DnsOptions", o->dns_opt);
    set_strv(hc, "DnsSearch", o->dns_search);
    set_strv(hc, "ExtraHosts", o->add_host);
    set_strv(hc, "SecurityOpt", o->security_opt);
    set_strv(hc, "DeviceCgroupRules", o->device_cgroup_rule);
    set_strv(hc, "GroupAdd", o->group_add);
    if ((o->restart != NULL && parse_restart(o->restart, hc, err) < 0) || log_config(o, hc, err) < 0 ||
        host_config_maps(o, hc, err) < 0 || host_config_resources(o, hc, err) < 0 || create_res_body(o, hc, err) < 0)
        goto fail;
    return hc;
fail:
    json_decref(hc);
    return NULL;
}

static void config_stdio(const struct create_opts *o, json_t *body)
{
    bool attach = !o->detach;
    json_object_set_new(body, "Tty", json_boolean(o->tty));
    json_object_set_new(body, "OpenStdin", json_boolean(o->interactive));
    json_object_set_new(body, "StdinOnce", json_boolean(o->interactive && attach));
    json_object_set_new(body, "AttachStdin", json_boolean(o->interactive && attach));
    json_object_set_new(body, "AttachStdout", json_boolean(attach));
    json_object_set_new(body, "AttachStderr", json_boolean(attach));
}

/* NetworkingConfig.EndpointsConfig.<--net>: --network-alias, --ip, --mac-address. */
static json_t *endpoint_config(const struct create_opts *o)
{
    json_t *ep = json_object();
    if (o->network_alias != NULL)
        json_object_set_new(ep, "Aliases", json_strv(o->network_alias));
    if (o->ip != NULL || o->ip6 != NULL)
        json_object_set_new(ep, "IPAMConfig", json_pack("{s:s*, s:s*}", "IPv4Address", o->ip, "IPv6Address", o->ip6));
    if (o->mac_address != NULL)
        json_object_set_new(ep, "MacAddress", json_string(o->mac_address));
    return ep;
}

json_t *create_opts_body(const struct create_opts *o, const char *image, char *const *cmd, struct isd_error **err)
{
    cleanup_json json_t *body = json_object();
    json_t *env, *labels, *hc;
    /* the guide (L2265): a container run without --net (nor -h) is named localhost; docker's clients get the ID */
    set_str(body, "Hostname", o->hostname != NULL ? o->hostname : o->net == NULL ? "localhost" : NULL);
    set_str(body, "User", o->user);
    config_stdio(o, body);
    if ((env = env_array(o, err)) == NULL)
        return NULL;
    json_object_set_new(body, "Env", env);
    if (cmd != NULL && cmd[0] != NULL)
        json_object_set_new(body, "Cmd", json_strv(cmd));
    if (o->entrypoint != NULL)
        json_object_set_new(body, "Entrypoint", json_pack("[s]", o->entrypoint));
    json_object_set_new(body, "Image", json_string(image));
    set_str(body, "WorkingDir", o->workdir);
    if ((labels = labels_object(o, err)) == NULL)
        return NULL;
    json_object_set_new(body, "Labels", labels);
    set_str(body, "StopSignal", o->stop_signal);
    set_int(body, "StopTimeout", o->stop_timeout);
    set_str(body, "ExternalRootfs", o->external_rootfs);
    if (healthcheck(o, body, err) < 0)
        return NULL;
    if ((hc = host_config(o, err)) == NULL)
        return NULL;
    json_object_set_new(body, "HostConfig", hc);
    ports(o, body, hc);
    if ((o->network_alias != NULL || o->ip != NULL || o->ip6 != NULL || o->mac_address != NULL) && o->net != NULL)
        json_object_set_new(body, "NetworkingConfig",
                            json_pack("{s:{s:o}}", "EndpointsConfig", o->net, endpoint_config(o)));
    return TAKE_PTR(body);
}
