/*
 * isula update / POST /containers/{id}/update: new resource limits and restart policy for a container. The
 * values are merged into its HostConfig with Docker's rules (a zero or empty field of the body is "not
 * given"), checked as create checks them, and, while the container runs, written straight to its cgroup
 * files (cgroup_resources_apply: no runtime process, so faster than `runc update`). Only the limits whose
 * spec value changed are written.
 */
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"
#include "daemon/service/internal.h"

static const char *const int_keys[] = {"CpuShares",         "CpuPeriod",          "CpuQuota",   "NanoCpus",
                                       "CpuRealtimePeriod", "CpuRealtimeRuntime", "Memory",     "MemoryReservation",
                                       "MemorySwap",        "KernelMemory",       "BlkioWeight"};

static int check_conflicts(const json_t *old, const json_t *body, struct isd_error **err)
{
    long long mem = json_get_int(body, "Memory", 0), swap = json_get_int(body, "MemorySwap", 0);
    long long old_swap = json_get_int(old, "MemorySwap", 0);
    if (json_get_int(body, "NanoCpus", 0) > 0 && json_get_int(old, "CpuQuota", 0) > 0 &&
        json_get_int(body, "CpuQuota", 0) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
    if (json_get_int(body, "CpuQuota", 0) > 0 && json_get_int(old, "NanoCpus", 0) > 0 &&
        json_get_int(body, "NanoCpus", 0) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
    if (mem > 0 && swap == 0 && old_swap > 0 && mem > old_swap)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Memory limit should be smaller than already set memoryswap limit, update the "
                             "memoryswap at the same time");
    return 0;
}

/* The container's HostConfig with the body's values (a new object). */
static json_t *merge(const json_t *old, const json_t *body, struct isd_error **err)
{
    json_t *hc = json_deep_copy(old), *v;
    const char *s;
    if (check_conflicts(old, body, err) < 0) {
        json_decref(hc);
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(int_keys); i++)
        if (json_get_int(body, int_keys[i], 0) != 0)
            json_object_set(hc, int_keys[i], json_object_get(body, int_keys[i]));
    if ((s = json_get_str(body, "CpusetCpus")) != NULL && s[0] != '\0')
        json_object_set_new(hc, "CpusetCpus", json_string(s));
    if ((s = json_get_str(body, "CpusetMems")) != NULL && s[0] != '\0')
        json_object_set_new(hc, "CpusetMems", json_string(s));
    if (json_is_integer(v = json_object_get(body, "PidsLimit")))
        json_object_set(hc, "PidsLimit", v);
    v = json_object_get(body, "RestartPolicy");
    if ((s = json_get_str(v, "Name")) != NULL && s[0] != '\0') {
        if (json_get_bool(hc, "AutoRemove", false) && !streq(s, "no")) {
            json_decref(hc);
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "Restart policy cannot be updated because AutoRemove is enabled for the container"),
                   NULL;
        }
        json_object_set(hc, "RestartPolicy", v);
    }
    return hc;
}

/* The value a limit goes back to when the new HostConfig no longer sets it. */
static json_t *reset_value(const char *section, const char *key)
{
    if (streq(section, "cpu") && streq(key, "shares"))
        return json_integer(1024);
    if (streq(section, "cpu") && streq(key, "period"))
        return json_integer(100000);
    return streq(key, "cpus") || streq(key, "mems") || streq(key, "swappiness") ? NULL : json_integer(-1);
}

/* What differs between the old and the new linux.resources, as a resources object to write. */
static json_t *resources_diff(const json_t *old, const json_t *new)
{
    static const char *const sections[] = {"memory", "cpu", "pids", "blockIO"};
    json_t *out = json_object(), *v;
    const char *k;
    for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
        json_t *o = json_object_get(old, sections[i]), *n = json_object_get(new, sections[i]), *d = json_object();
        json_object_foreach(n, k, v)
        {
            if (!json_equal(v, json_object_get(o, k)))
                json_object_set(d, k, v);
        }
        json_object_foreach(o, k, v)
        {
            json_t *r = json_object_get(n, k) == NULL ? reset_value(sections[i], k) : NULL;
            if (r != NULL)
                json_object_set_new(d, k, r);
        }
        if (json_object_size(d) > 0)
            json_object_set(out, sections[i], d);
        json_decref(d);
    }
    if (!json_equal(json_object_get(old, "hugepageLimits"), json_object_get(new, "hugepageLimits")) &&
        json_object_get(new, "hugepageLimits") != NULL)
        json_object_set(out, "hugepageLimits", json_object_get(new, "hugepageLimits"));
    return out;
}

static int apply_running(struct container *c, const json_t *old_hc, const json_t *new_hc, struct isd_error **err)
{
    cleanup_json json_t *old_res = spec_resources_build(old_hc, NULL);
    cleanup_json json_t *new_res = spec_resources_build(new_hc, err);
    cleanup_json json_t *diff = NULL;
    struct cgroup_paths cg;
    int rc;
    if (new_res == NULL)
        return -1;
    if (!container_is_active(c) || c->pid <= 0)
        return 0;
    diff = resources_diff(old_res != NULL ? old_res : json_object(), new_res);
    if (json_object_size(diff) == 0)
        return 0;
    cgroup_paths_resolve(c->pid, &cg);
    rc = 0;
    if (json_object_get(json_object_get(diff, "cpu"), "realtimeRuntime") != NULL && cg.v1[CGROUP_CPU] != NULL &&
        str_has_prefix(cg.v1[CGROUP_CPU], "/sys/fs/cgroup/cpu/"))
        rc = service_resources_rt_parents(cg.v1[CGROUP_CPU] + strlen("/sys/fs/cgroup/cpu"), new_res, err);
    if (rc == 0)
        rc = cgroup_resources_apply(&cg, diff, err);
    cgroup_paths_clear(&cg);
    return rc;
}

int service_container_update(struct daemon *d, const char *ref, const json_t *body, struct isd_error **err)
{
    struct container *c;
    cleanup_json json_t *hc = NULL;
    int rc = -1;
    if (!json_is_object(body))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "request body must be a JSON object");
    c = service_lookup_locked(d, ref, err);
    if (c == NULL)
        return -1;
    hc = merge(c->host_config, body, err);
    if (hc == NULL || container_check_settings(c->config, hc, err) < 0 || service_resources_check(hc, err) < 0)
        goto out;
    if (apply_running(c, c->host_config, hc, err) < 0)
        goto out;
    json_decref(c->host_config);
    c->host_config = json_incref(hc);
    rc = container_save(c, true, err);
    if (rc == 0)
        service_container_event(c, "update", NULL);
out:
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}
