#include "daemon/container/container.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

static const char *const docker_names[] = {"created", "running", "paused", "restarting", "exited", "removing", "dead"};
static const char *const isula_names[] = {"inited", "running", "paused", "restarting", "exited", "removing", "dead"};

const char *container_status_docker(enum container_status s)
{
    return docker_names[s];
}

const char *container_status_isula(enum container_status s)
{
    return isula_names[s];
}

static enum container_status status_parse(const char *s)
{
    for (size_t i = 0; s != NULL && i < ARRAY_SIZE(docker_names); i++)
        if (strcmp(s, docker_names[i]) == 0)
            return (enum container_status)i;
    return CT_EXITED;
}

struct container *container_new(const char *id, const char *name, const char *graph, const char *state)
{
    struct container *c = xcalloc(1, sizeof(*c));
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&c->lock, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_cond_init(&c->changed, NULL);
    c->refs = 1;
    c->pidfd = -1;
    c->id = xstrdup(id);
    c->name = xstrdup(name);
    c->dir = xasprintf("%s/containers/%s", graph, id);
    c->state_dir = xasprintf("%s/containers/%s", state, id);
    c->log_path = xasprintf("%s/%s-json.log", c->dir, id);
    c->status = CT_CREATED;
    c->size_rw = -1;
    return c;
}

struct container *container_ref(struct container *c)
{
    __atomic_add_fetch(&c->refs, 1, __ATOMIC_SEQ_CST);
    return c;
}

void container_unref(struct container *c)
{
    if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_SEQ_CST) > 0)
        return;
    free(c->id);
    free(c->name);
    free(c->image_ref);
    free(c->image_id);
    free(c->external_rootfs);
    free(c->runtime);
    free(c->apparmor_profile);
    json_decref(c->config);
    json_decref(c->host_config);
    json_decref(c->volumes_from);
    json_decref(c->health);
    free(c->error);
    if (c->pidfd >= 0)
        close(c->pidfd);
    container_drop_handoff(c);
    free(c->dir);
    free(c->state_dir);
    free(c->log_path);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->changed);
    free(c);
}

void container_drop_handoff(struct container *c)
{
    for (size_t i = 0; i < c->n_handoff_fds; i++)
        close(c->handoff_fds[i]);
    free(c->handoff_fds);
    c->handoff_fds = NULL;
    c->n_handoff_fds = 0;
}

int container_take_handoff(struct container *c)
{
    return c->n_handoff_fds > 0 ? c->handoff_fds[--c->n_handoff_fds] : -1;
}

void cleanup_container_unrefp(struct container **c)
{
    container_unref(*c);
}

void container_changed(struct container *c)
{
    c->generation++;
    pthread_cond_broadcast(&c->changed);
}

bool container_is_active(const struct container *c)
{
    return c->status == CT_RUNNING || c->status == CT_PAUSED || c->status == CT_RESTARTING;
}

static json_t *time_json(long long ns)
{
    cleanup_free char *s = NULL;
    if (ns <= 0)
        return json_string("0001-01-01T00:00:00Z");
    s = time_rfc3339_nano(ns);
    return json_string(s);
}

static long long time_from_json(const json_t *obj, const char *key)
{
    long long ns = 0;
    const char *s = json_get_str(obj, key);
    if (s == NULL || str_has_prefix(s, "0001-") || time_parse_rfc3339(s, &ns) < 0)
        return 0;
    return ns;
}

static json_t *state_json_base(const struct container *c)
{
    return json_pack(
        "{s:s, s:b, s:b, s:b, s:b, s:b, s:I, s:i, s:s, s:o, s:o}", "Status", container_status_docker(c->status),
        "Running", c->status == CT_RUNNING || c->status == CT_PAUSED, "Paused", c->status == CT_PAUSED, "Restarting",
        c->status == CT_RESTARTING, "OOMKilled", c->oom_killed, "Dead", c->status == CT_DEAD, "Pid",
        (json_int_t)(container_is_active(c) ? c->pid : 0), "ExitCode", c->exit_code, "Error", c->error ? c->error : "",
        "StartedAt", time_json(c->started_ns), "FinishedAt", time_json(c->finished_ns));
}

static json_t *state_json(const struct container *c)
{
    json_t *st = state_json_base(c);
    if (c->health != NULL)
        json_object_set_new(st, "Health", json_deep_copy(c->health));
    return st;
}

/* " (healthy)", " (unhealthy)", " (health: starting)" after Docker's "Up ..." */
static const char *health_suffix(const struct container *c)
{
    const char *h = json_get_str(c->health, "Status");
    if (streq(h, "healthy"))
        return " (healthy)";
    if (streq(h, "unhealthy"))
        return " (unhealthy)";
    if (streq(h, "starting"))
        return " (health: starting)";
    return "";
}

int container_save(struct container *c, bool durable, struct isd_error **err)
{
    cleanup_json json_t *j = json_pack(
        "{s:s, s:s, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:O?, s:O?, s:O?, s:o, s:i, s:b, s:I}", "Id", c->id, "Name",
        c->name, "Created", time_json(c->created_ns), "Image", c->image_ref, "ImageID", c->image_id, "ExternalRootfs",
        c->external_rootfs, "Runtime", c->runtime, "AppArmorProfile", c->apparmor_profile, "Config", c->config,
        "HostConfig", c->host_config, "VolumesFromMounts", c->volumes_from, "State", state_json(c), "RestartCount",
        c->restart_count, "ManuallyStopped", c->manually_stopped, "ShimPid", (json_int_t)c->shim_pid);
    cleanup_free char *path = xasprintf("%s/container.json", c->dir);
    if (j == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "encode container `%s`", c->id);
    return json_write_path(path, j, durable, err);
}

struct container *container_load(const char *dir, const char *graph, const char *state, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("%s/container.json", dir);
    cleanup_json json_t *j = json_load_path(path, 4 << 20, err);
    json_t *st;
    struct container *c;
    const char *id, *name;
    if (j == NULL)
        return NULL;
    id = json_get_str(j, "Id");
    name = json_get_str(j, "Name");
    if (id == NULL || name == NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "`%s`: missing Id or Name", path);
        return NULL;
    }
    c = container_new(id, name, graph, state);
    c->created_ns = time_from_json(j, "Created");
    c->image_ref = xstrdup(json_get_str(j, "Image"));
    c->image_id = xstrdup(json_get_str(j, "ImageID"));
    c->external_rootfs = xstrdup(json_get_str(j, "ExternalRootfs"));
    c->runtime = xstrdup(json_get_str(j, "Runtime"));
    c->apparmor_profile = xstrdup(json_get_str(j, "AppArmorProfile"));
    c->config = json_incref(json_object_get(j, "Config"));
    c->host_config = json_incref(json_object_get(j, "HostConfig"));
    c->volumes_from = json_incref(json_object_get(j, "VolumesFromMounts"));
    c->restart_count = (int)json_get_int(j, "RestartCount", 0);
    c->manually_stopped = json_get_bool(j, "ManuallyStopped", false);
    c->shim_pid = (pid_t)json_get_int(j, "ShimPid", 0);
    st = json_object_get(j, "State");
    c->status = status_parse(json_get_str(st, "Status"));
    c->pid = (pid_t)json_get_int(st, "Pid", 0);
    c->exit_code = (int)json_get_int(st, "ExitCode", 0);
    c->oom_killed = json_get_bool(st, "OOMKilled", false);
    if (json_get_str(st, "Error") != NULL && *json_get_str(st, "Error") != '\0')
        c->error = xstrdup(json_get_str(st, "Error"));
    c->started_ns = time_from_json(st, "StartedAt");
    c->finished_ns = time_from_json(st, "FinishedAt");
    return c;
}

char *container_status_text(const struct container *c)
{
    long long now = now_ns();
    cleanup_free char *d = NULL;
    switch (c->status) {
    case CT_CREATED:
        return xstrdup("Created");
    case CT_RUNNING:
        d = human_duration((now - c->started_ns) / 1000000000LL);
        return xasprintf("Up %s%s", d, health_suffix(c));
    case CT_PAUSED:
        d = human_duration((now - c->started_ns) / 1000000000LL);
        return xasprintf("Up %s (Paused)", d);
    case CT_RESTARTING:
        d = human_duration((now - c->finished_ns) / 1000000000LL);
        return xasprintf("Restarting (%d) %s ago", c->exit_code, d);
    case CT_REMOVING:
        return xstrdup("Removal In Progress");
    case CT_DEAD:
        return xstrdup("Dead");
    case CT_EXITED:
    default:
        if (c->finished_ns <= 0)
            return xasprintf("Exited (%d)", c->exit_code);
        d = human_duration((now - c->finished_ns) / 1000000000LL);
        return xasprintf("Exited (%d) %s ago", c->exit_code, d);
    }
}

static json_t *command_args(const struct container *c, const char **ret_path)
{
    json_t *args = json_array();
    json_t *v;
    size_t i;
    const char *path = NULL;
    json_t *ep = json_object_get(c->config, "Entrypoint");
    json_t *cmd = json_object_get(c->config, "Cmd");
    json_array_foreach(ep, i, v)
    {
        if (path == NULL)
            path = json_string_value(v);
        else
            json_array_append(args, v);
    }
    json_array_foreach(cmd, i, v)
    {
        if (path == NULL)
            path = json_string_value(v);
        else
            json_array_append(args, v);
    }
    *ret_path = path ? path : "";
    return args;
}

/* Docker's inspect "Mounts": one entry per bind of HostConfig.Binds ("src:dst[:opts]") and HostConfig.Mounts. */
static json_t *mounts_json(const json_t *hc)
{
    json_t *a = json_array(), *v;
    size_t i;
    json_array_foreach(json_object_get(hc, "Binds"), i, v)
    {
        cleanup_free char *src = xstrdup(json_string_value(v) ? json_string_value(v) : "");
        char *dst = strchr(src, ':'), *mode;
        if (dst == NULL)
            continue;
        *dst++ = '\0';
        mode = strchr(dst, ':');
        if (mode != NULL)
            *mode++ = '\0';
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source", src,
                                           "Destination", dst, "Mode", mode ? mode : "", "RW",
                                           mode == NULL || strstr(mode, "ro") == NULL, "Propagation", "rprivate"));
    }
    json_array_foreach(json_object_get(hc, "Mounts"), i, v)
    {
        const char *src = json_get_str(v, "Source"), *dst = json_get_str(v, "Target");
        if (dst == NULL)
            continue;
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type",
                                           json_get_str(v, "Type") ? json_get_str(v, "Type") : "bind", "Source",
                                           src ? src : "", "Destination", dst, "Mode", "", "RW",
                                           !json_get_bool(v, "ReadOnly", false), "Propagation", "rprivate"));
    }
    return a;
}

json_t *container_inspect_json(struct container *c, const char *graph_driver_dir)
{
    const char *path;
    json_t *args = command_args(c, &path);
    cleanup_free char *name = xasprintf("/%s", c->name);
    cleanup_free char *image = c->image_id ? xasprintf("sha256:%s", c->image_id) : xstrdup("");
    cleanup_free char *hostname = xasprintf("%s/hostname", c->dir);
    cleanup_free char *hosts = xasprintf("%s/hosts", c->dir);
    cleanup_free char *resolv = xasprintf("%s/resolv.conf", c->dir);
    json_t *gd_data = json_object();
    json_t *hc = c->host_config ? json_deep_copy(c->host_config) : json_object();
    json_t *config = c->config ? json_deep_copy(c->config) : json_null();
    /* the guide shows the --annotation values under Config.Annotations (C-inspect-05) */
    if (json_is_object(config) && json_is_object(json_object_get(hc, "Annotations")))
        json_object_set(config, "Annotations", json_object_get(hc, "Annotations"));
    if (json_object_get(hc, "Runtime") == NULL)
        json_object_set_new(hc, "Runtime", json_string(c->runtime ? c->runtime : ""));
    /* Docker clients read HostConfig.LogConfig.Type unconditionally (the Python SDK's run does). */
    if (!json_is_object(json_object_get(hc, "LogConfig")))
        json_object_set_new(hc, "LogConfig", json_object());
    if (json_get_str(json_object_get(hc, "LogConfig"), "Type") == NULL ||
        *json_get_str(json_object_get(hc, "LogConfig"), "Type") == '\0')
        json_object_set_new(json_object_get(hc, "LogConfig"), "Type", json_string("json-file"));
    if (graph_driver_dir != NULL) {
        json_object_set_new(gd_data, "MergedDir", json_sprintf("%s/merged", graph_driver_dir));
        json_object_set_new(gd_data, "UpperDir", json_sprintf("%s/diff", graph_driver_dir));
        json_object_set_new(gd_data, "WorkDir", json_sprintf("%s/work", graph_driver_dir));
    }
    return json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:s, s:[], "
                     "s:o, s:{s:o, s:s}, s:o, s:o, s:{s:s, s:{}, s:s, s:s}, s:s?}",
                     "Id", c->id, "Created", time_json(c->created_ns), "Path", path, "Args", args, "State",
                     state_json(c), "Image", image, "ResolvConfPath", resolv, "HostnamePath", hostname, "HostsPath",
                     hosts, "LogPath", c->log_path, "Name", name, "RestartCount", c->restart_count, "Driver",
                     "overlay2", "Platform", "linux", "MountLabel", "", "ProcessLabel", "", "AppArmorProfile",
                     c->apparmor_profile != NULL ? c->apparmor_profile : "", "ExecIDs", "HostConfig", hc, "GraphDriver",
                     "Data", gd_data, "Name", "overlay2", "Mounts", mounts_json(hc), "Config", config,
                     "NetworkSettings", "Bridge", "", "Networks", "SandboxKey", "", "IPAddress", "", "ExternalRootfs",
                     c->external_rootfs);
}

json_t *container_summary_json(struct container *c)
{
    const char *path;
    cleanup_json json_t *args = command_args(c, &path);
    struct buf cmd = {0};
    size_t i;
    json_t *v;
    cleanup_free char *status = container_status_text(c);
    cleanup_free char *name = xasprintf("/%s", c->name);
    cleanup_free char *image_id = c->image_id ? xasprintf("sha256:%s", c->image_id) : xstrdup("");
    json_t *labels = json_object_get(c->config, "Labels");
    json_t *lab = json_is_object(labels) ? json_incref(labels) : json_object();
    buf_append(&cmd, path, strlen(path));
    json_array_foreach(args, i, v)
    {
        buf_printf(&cmd, " %s", json_string_value(v));
    }
    cleanup_free char *command = buf_steal(&cmd);
    return json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:[], s:[], s:{s:s}, s:{s:{}}, s:I, s:i, s:i, "
                     "s:o, s:o, s:s}",
                     "Id", c->id, "Names", name, "Image", c->image_ref ? c->image_ref : "", "ImageID", image_id,
                     "Command", command, "Created", (json_int_t)(c->created_ns / 1000000000LL), "State",
                     container_status_docker(c->status), "Status", status, "Labels", lab, "Ports", "Mounts",
                     "HostConfig", "NetworkMode", "default", "NetworkSettings", "Networks", "Pid",
                     (json_int_t)(container_is_active(c) ? c->pid : 0), "ExitCode", c->exit_code, "RestartCount",
                     c->restart_count, "StartedAt", time_json(c->started_ns), "FinishedAt", time_json(c->finished_ns),
                     "Runtime", c->runtime ? c->runtime : "");
}
