/* RuntimeService container calls: CreateContainer maps the ContainerConfig onto a Docker create body (the options
 * the REST path takes), the others map service JSON back to CRI messages. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

static json_t *binds_json(const Runtime__V1__ContainerConfig *c)
{
    static const char *const prop[] = {"", ",rslave", ",rshared"};
    json_t *a = json_array();
    for (size_t i = 0; i < c->n_mounts; i++) {
        const Runtime__V1__Mount *m = c->mounts[i];
        /* uid/gid mappings: an id-mapped mount with the pod's mapping (cri_mounts_idmap_check); recursive_read_only:
         * a recursively read-only one (mounts_rro_check) */
        cleanup_free char *b = xasprintf("%s:%s:%s%s%s%s", m->host_path, m->container_path, m->readonly ? "ro" : "rw",
                                         prop[m->propagation <= 2 ? m->propagation : 0],
                                         m->n_uidmappings > 0 || m->n_gidmappings > 0 ? ",idmap" : "",
                                         m->recursive_read_only ? ",rro" : "");
        json_array_append_new(a, json_string(b));
    }
    return a;
}

/* recursive_read_only, as the CRI says: with readonly and private propagation only; and only where Status offers
 * it (kubelet asks only then; another client is told why). */
static int mounts_rro_check(struct daemon *d, const Runtime__V1__ContainerConfig *c, struct isd_error **err)
{
    for (size_t i = 0; i < c->n_mounts; i++) {
        const Runtime__V1__Mount *m = c->mounts[i];
        if (!m->recursive_read_only)
            continue;
        if (!m->readonly)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "CreateContainer: mounts[%zu] (%s): recursive_read_only needs readonly", i,
                                 m->container_path);
        if (m->propagation != RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "CreateContainer: mounts[%zu] (%s): recursive_read_only needs propagation "
                                 "PROPAGATION_PRIVATE",
                                 i, m->container_path);
        if (!service_rro_supported(d))
            return isd_error_set(err, ISD_ERR_NOT_IMPLEMENTED, 0,
                                 "CreateContainer: mounts[%zu] (%s): recursive read-only mounts need mount_setattr "
                                 "(Linux 5.12), which this kernel lacks",
                                 i, m->container_path);
    }
    return 0;
}

/* The devices as HostConfig.Devices: the spec builder makes each node and its cgroup rule (an empty
 * container_path is the host path, empty permissions are "rwm", as with `--device`). */
static json_t *devices_json(const Runtime__V1__ContainerConfig *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->n_devices; i++) {
        const Runtime__V1__Device *dv = c->devices[i];
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "PathOnHost", dv->host_path, "PathInContainer",
                                           dv->container_path, "CgroupPermissions", dv->permissions));
    }
    return a;
}

#define CDI_ANNOTATION_PREFIX "cdi.k8s.io/"

/* The CDI devices of CDI_devices and of the `cdi.k8s.io/<key>: vendor.com/class=a,vendor.com/class=b` annotations
 * as one DeviceRequests entry of the cdi driver (the service resolves them); NULL when none. */
static json_t *cdi_requests_json(const Runtime__V1__ContainerConfig *c)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < c->n_cdi_devices; i++)
        json_array_append_new(ids, json_string(c->cdi_devices[i]->name));
    for (size_t i = 0; i < c->n_annotations; i++) {
        cleanup_free char *v = NULL;
        char *save = NULL;
        if (!str_has_prefix(c->annotations[i]->key, CDI_ANNOTATION_PREFIX))
            continue;
        v = xstrdup(c->annotations[i]->value);
        for (char *p = strtok_r(v, ",", &save); p != NULL; p = strtok_r(NULL, ",", &save)) {
            p += strspn(p, " \t");
            p[strcspn(p, " \t")] = '\0';
            if (*p != '\0')
                json_array_append_new(ids, json_string(p));
        }
    }
    if (json_array_size(ids) == 0) {
        json_decref(ids);
        return NULL;
    }
    return json_pack("[{s:s, s:o}]", "Driver", "cdi", "DeviceIDs", ids);
}

/* Resources as HostConfig (and Docker update body) fields. A negative OOM score adjustment (kubelet's for
 * guaranteed pods) needs CAP_SYS_RESOURCE, which this daemon may lack: it is left to the default. An update
 * (`with_oom` false) leaves the OOM score alone (CRI-R12): kubelet sends it in every resize, containerd ignores it. */
static void resources_set(json_t *o, const Runtime__V1__LinuxContainerResources *r, bool with_oom)
{
    if (r == NULL)
        return;
    if (r->cpu_period > 0)
        json_object_set_new(o, "CpuPeriod", json_integer(r->cpu_period));
    if (r->cpu_quota > 0)
        json_object_set_new(o, "CpuQuota", json_integer(r->cpu_quota));
    if (r->cpu_shares > 0)
        json_object_set_new(o, "CpuShares", json_integer(r->cpu_shares));
    if (r->memory_limit_in_bytes > 0)
        json_object_set_new(o, "Memory", json_integer(r->memory_limit_in_bytes));
    if (with_oom && r->oom_score_adj > 0)
        json_object_set_new(o, "OomScoreAdj", json_integer(r->oom_score_adj));
    if (*r->cpuset_cpus != '\0')
        json_object_set_new(o, "CpusetCpus", json_string(r->cpuset_cpus));
    if (*r->cpuset_mems != '\0')
        json_object_set_new(o, "CpusetMems", json_string(r->cpuset_mems));
}

/* Resources and the PID namespace, as HostConfig fields (the security context: cri_security.c). */
static void linux_set(json_t *hc, const Runtime__V1__LinuxContainerConfig *l)
{
    const Runtime__V1__LinuxContainerSecurityContext *sc = l != NULL ? l->security_context : NULL;
    const Runtime__V1__NamespaceOption *ns = sc != NULL ? sc->namespace_options : NULL;
    resources_set(hc, l != NULL ? l->resources : NULL, true);
    if (ns != NULL && ns->pid == RUNTIME__V1__NAMESPACE_MODE__NODE)
        json_object_set_new(hc, "PidMode", json_string("host"));
    if (ns != NULL && ns->pid == RUNTIME__V1__NAMESPACE_MODE__TARGET && *ns->target_id != '\0') {
        cleanup_free char *mode = xasprintf("container:%s", ns->target_id);
        json_object_set_new(hc, "PidMode", json_string(mode));
    }
}

static json_t *container_body(const Runtime__V1__ContainerConfig *c, const char *log_path)
{
    json_t *hc = json_object();
    json_t *env = json_array();
    json_t *labels = cri_map_json((void *const *)c->labels, c->n_labels);
    for (size_t i = 0; i < c->n_envs; i++) {
        cleanup_free char *kv = xasprintf("%s=%s", c->envs[i]->key, c->envs[i]->value);
        json_array_append_new(env, json_string(kv));
    }
    json_object_set_new(
        labels, CRI_META_LABEL,
        cri_json_text(json_pack("{s:s, s:I}", "name", c->metadata->name, "attempt", (json_int_t)c->metadata->attempt)));
    json_object_set_new(labels, CRI_ANNOTATIONS_LABEL,
                        cri_json_text(cri_map_json((void *const *)c->annotations, c->n_annotations)));
    if (log_path != NULL)
        json_object_set_new(labels, CRI_LOG_LABEL, json_string(log_path));
    json_t *body =
        json_pack("{s:s, s:o, s:o, s:b, s:b, s:b, s:o}", "Image", c->image->image, "Env", env, "Labels", labels, "Tty",
                  c->tty, "OpenStdin", c->stdin, "StdinOnce", c->stdin_once, "HostConfig", hc);
    if (c->n_command > 0)
        json_object_set_new(body, "Entrypoint", cri_strv_json(c->command, c->n_command));
    if (c->n_args > 0)
        json_object_set_new(body, "Cmd", cri_strv_json(c->args, c->n_args));
    if (*c->working_dir != '\0')
        json_object_set_new(body, "WorkingDir", json_string(c->working_dir));
    json_object_set_new(hc, "Binds", binds_json(c));
    json_object_set_new(hc, "Devices", devices_json(c));
    json_t *cdi = cdi_requests_json(c);
    if (cdi != NULL)
        json_object_set_new(hc, "DeviceRequests", cdi);
    linux_set(hc, c->linux);
    return body;
}

#define PIDS_MAX_ANNOTATION "cgroup.pids.max"

/* CRI-R06: iSulad's annotation `cgroup.pids.max: <int64>` limits the container's processes (-1: unlimited). */
static int pids_limit_set(json_t *hc, const Runtime__V1__ContainerConfig *c, struct isd_error **err)
{
    for (size_t i = 0; i < c->n_annotations; i++) {
        const char *v = c->annotations[i]->value;
        char *end;
        if (!streq(c->annotations[i]->key, PIDS_MAX_ANNOTATION))
            continue;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno != 0 || n < -1 || n == 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "CreateContainer: annotation `%s`: `%s` is not a positive number or -1",
                                 PIDS_MAX_ANNOTATION, v);
        json_object_set_new(hc, "PidsLimit", json_integer(n));
    }
    return 0;
}

static bool shares_pod_pid(const Runtime__V1__ContainerConfig *c)
{
    const Runtime__V1__LinuxContainerSecurityContext *sc = c->linux != NULL ? c->linux->security_context : NULL;
    return sc != NULL && sc->namespace_options != NULL &&
           sc->namespace_options->pid == RUNTIME__V1__NAMESPACE_MODE__POD;
}

ProtobufCMessage *cri_create_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__CreateContainerRequest *q = (const Runtime__V1__CreateContainerRequest *)req;
    const Runtime__V1__ContainerConfig *c = q->config;
    const Runtime__V1__PodSandboxConfig *sb = q->sandbox_config;
    cleanup_free char *id = NULL, *name = NULL, *log_path = NULL;
    if (c == NULL || c->metadata == NULL || *c->metadata->name == '\0' || c->image == NULL ||
        *c->image->image == '\0' || *q->pod_sandbox_id == '\0') {
        isd_error_set(err, ISD_ERR_INVALID, 0,
                      "CreateContainer: pod_sandbox_id, config.metadata.name and config.image are required");
        return NULL;
    }
    /* CRI-R06: the container's name joins the metadata with `_` */
    if (strchr(c->metadata->name, '_') != NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "CreateContainer: config.metadata.name `%s` must not contain `_`",
                      c->metadata->name);
        return NULL;
    }
    if (sb != NULL && sb->metadata != NULL)
        name = xasprintf("k8s_%s_%s_%s_%s_%u", c->metadata->name, sb->metadata->name, sb->metadata->namespace_,
                         sb->metadata->uid, c->metadata->attempt);
    else
        name = xasprintf("k8s_%s_%.12s_%u", c->metadata->name, q->pod_sandbox_id, c->metadata->attempt);
    if (sb != NULL && *sb->log_directory != '\0' && *c->log_path != '\0')
        log_path = xasprintf("%s/%s", sb->log_directory, c->log_path);
    cleanup_json json_t *body = container_body(c, log_path);
    if (pids_limit_set(json_object_get(body, "HostConfig"), c, err) < 0)
        return NULL;
    json_object_set_new(json_object_get(body, "Labels"), CRI_CONFIG_LABEL, cri_json_text(cri_message_json(&c->base)));
    const Runtime__V1__LinuxContainerSecurityContext *sc = c->linux != NULL ? c->linux->security_context : NULL;
    if (cri_container_security_set(d, body, json_object_get(body, "HostConfig"), sc, err) < 0 ||
        cri_userns_set(json_object_get(body, "HostConfig"), sc != NULL ? sc->namespace_options : NULL, true,
                       "CreateContainer", err) < 0 ||
        cri_mounts_idmap_check(c, json_object_get(body, "HostConfig"), err) < 0 || mounts_rro_check(d, c, err) < 0)
        return NULL;
    if (service_pod_container_create(d, q->pod_sandbox_id, name, body, shares_pod_pid(c), log_path, &id, err) < 0)
        return NULL;
    Runtime__V1__CreateContainerResponse *r = xmalloc(sizeof(*r));
    runtime__v1__create_container_response__init(r);
    r->container_id = TAKE_PTR(id);
    return &r->base;
}

/* The container must be a CRI container (not one of `isula`'s, nor a pod sandbox). */
static int cri_container_check(struct daemon *d, const char *id, struct isd_error **err)
{
    cleanup_json json_t *j = service_pod_container_inspect(d, id, err);
    return j != NULL ? 0 : -1;
}

ProtobufCMessage *cri_start_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__StartContainerRequest *q = (const Runtime__V1__StartContainerRequest *)req;
    if (cri_container_check(d, q->container_id, err) < 0 || service_container_start(d, q->container_id, err) < 0)
        return NULL;
    Runtime__V1__StartContainerResponse *r = xmalloc(sizeof(*r));
    runtime__v1__start_container_response__init(r);
    return &r->base;
}

/* Idempotent: stopping a stopped container succeeds. */
ProtobufCMessage *cri_stop_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__StopContainerRequest *q = (const Runtime__V1__StopContainerRequest *)req;
    cleanup_error struct isd_error *e = NULL;
    int timeout = q->timeout < 0 ? 0 : q->timeout > 86400 ? 86400 : (int)q->timeout;
    if (cri_container_check(d, q->container_id, err) < 0)
        return NULL;
    if (service_container_stop(d, q->container_id, timeout, &e) < 0 && e->code != ISD_ERR_NOT_MODIFIED) {
        isd_error_set(err, e->code, e->errnum, "%s", e->msg);
        return NULL;
    }
    Runtime__V1__StopContainerResponse *r = xmalloc(sizeof(*r));
    runtime__v1__stop_container_response__init(r);
    return &r->base;
}

/* Idempotent: removing a container that is gone succeeds; a running one is killed first. */
ProtobufCMessage *cri_remove_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__RemoveContainerRequest *q = (const Runtime__V1__RemoveContainerRequest *)req;
    cleanup_error struct isd_error *e = NULL;
    if (*q->container_id == '\0') {
        isd_error_set(err, ISD_ERR_INVALID, 0, "RemoveContainer: container_id is empty");
        return NULL;
    }
    if (cri_container_check(d, q->container_id, &e) == 0)
        service_container_remove(d, q->container_id, true, true, &e);
    if (e != NULL && e->code != ISD_ERR_NOT_FOUND) {
        isd_error_set(err, e->code, e->errnum, "%s", e->msg);
        return NULL;
    }
    Runtime__V1__RemoveContainerResponse *r = xmalloc(sizeof(*r));
    runtime__v1__remove_container_response__init(r);
    return &r->base;
}

/* kubelet's limit on each of stdout and stderr */
#define EXEC_SYNC_MAX_OUTPUT (16 * 1024 * 1024)

ProtobufCMessage *cri_exec_sync(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ExecSyncRequest *q = (const Runtime__V1__ExecSyncRequest *)req;
    struct exec_sync_result res = {0};
    if (q->n_cmd == 0) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "ExecSync: cmd is empty");
        return NULL;
    }
    cleanup_strv char **cmd = xcalloc(q->n_cmd + 1, sizeof(char *));
    for (size_t i = 0; i < q->n_cmd; i++)
        cmd[i] = xstrdup(q->cmd[i]);
    if (cri_container_check(d, q->container_id, err) < 0 ||
        service_exec_sync(d, q->container_id, cmd, q->timeout, EXEC_SYNC_MAX_OUTPUT, &res, err) < 0)
        return NULL;
    Runtime__V1__ExecSyncResponse *r = xmalloc(sizeof(*r));
    runtime__v1__exec_sync_response__init(r);
    r->stdout = (ProtobufCBinaryData){.len = res.out_len, .data = (uint8_t *)res.out};
    r->stderr = (ProtobufCBinaryData){.len = res.err_len, .data = (uint8_t *)res.err};
    r->exit_code = res.exit_code;
    return &r->base;
}

/* The new limits go through the same update as `isula update` (cgroup files of a running container). */
ProtobufCMessage *cri_update_container_resources(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__UpdateContainerResourcesRequest *q = (const Runtime__V1__UpdateContainerResourcesRequest *)req;
    cleanup_json json_t *body = json_object();
    resources_set(body, q->linux, false);
    if (q->linux != NULL && q->linux->oom_score_adj != 0)
        log_info("UpdateContainerResources %s: oom_score_adj %lld is not updated (CRI-R12)", q->container_id,
                 (long long)q->linux->oom_score_adj);
    if (cri_container_check(d, q->container_id, err) < 0 || service_container_update(d, q->container_id, body, err) < 0)
        return NULL;
    Runtime__V1__UpdateContainerResourcesResponse *r = xmalloc(sizeof(*r));
    runtime__v1__update_container_resources_response__init(r);
    return &r->base;
}

/* The pod CIDR kubelet sends is not used: pod addresses come from the CNI configuration's IPAM. */
ProtobufCMessage *cri_update_runtime_config(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__UpdateRuntimeConfigRequest *q = (const Runtime__V1__UpdateRuntimeConfigRequest *)req;
    const Runtime__V1__RuntimeConfig *rc = q->runtime_config;
    /* CRI-R18: only logged */
    log_info("UpdateRuntimeConfig: pod CIDR `%s` (not used: pod addresses come from the CNI configuration)",
             rc != NULL && rc->network_config != NULL ? rc->network_config->pod_cidr : "");
    Runtime__V1__UpdateRuntimeConfigResponse *r = xmalloc(sizeof(*r));
    runtime__v1__update_runtime_config_response__init(r);
    return &r->base;
}

ProtobufCMessage *cri_reopen_container_log(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ReopenContainerLogRequest *q = (const Runtime__V1__ReopenContainerLogRequest *)req;
    if (cri_container_check(d, q->container_id, err) < 0 || service_container_reopen_log(d, q->container_id, err) < 0)
        return NULL;
    Runtime__V1__ReopenContainerLogResponse *r = xmalloc(sizeof(*r));
    runtime__v1__reopen_container_log_response__init(r);
    return &r->base;
}
