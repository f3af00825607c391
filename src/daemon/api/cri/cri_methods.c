/* The table of served CRI methods, the lookup of a gRPC path, and the generic unpack → handler → pack step. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

#define RT(name, msg, fn)                                                                                              \
    {                                                                                                                  \
        "RuntimeService", name, &runtime__v1__##msg##_request__descriptor, fn                                          \
    }
#define IM(name, msg, fn)                                                                                              \
    {                                                                                                                  \
        "ImageService", name, &runtime__v1__##msg##_request__descriptor, fn                                            \
    }

static const struct cri_method methods[] = {
    RT("Version", version, cri_version),
    RT("Status", status, cri_status),
    RT("RunPodSandbox", run_pod_sandbox, cri_run_pod_sandbox),
    RT("StopPodSandbox", stop_pod_sandbox, cri_stop_pod_sandbox),
    RT("RemovePodSandbox", remove_pod_sandbox, cri_remove_pod_sandbox),
    RT("PodSandboxStatus", pod_sandbox_status, cri_pod_sandbox_status),
    RT("ListPodSandbox", list_pod_sandbox, cri_list_pod_sandbox),
    RT("CreateContainer", create_container, cri_create_container),
    RT("StartContainer", start_container, cri_start_container),
    RT("StopContainer", stop_container, cri_stop_container),
    RT("RemoveContainer", remove_container, cri_remove_container),
    RT("ListContainers", list_containers, cri_list_containers),
    RT("ContainerStatus", container_status, cri_container_status),
    RT("ExecSync", exec_sync, cri_exec_sync),
    RT("Exec", exec, cri_exec),
    RT("Attach", attach, cri_attach),
    RT("PortForward", port_forward, cri_port_forward),
    RT("ContainerStats", container_stats, cri_container_stats),
    RT("ListContainerStats", list_container_stats, cri_list_container_stats),
    RT("PodSandboxStats", pod_sandbox_stats, cri_pod_sandbox_stats),
    RT("ListPodSandboxStats", list_pod_sandbox_stats, cri_list_pod_sandbox_stats),
    RT("UpdateContainerResources", update_container_resources, cri_update_container_resources),
    RT("UpdateRuntimeConfig", update_runtime_config, cri_update_runtime_config),
    RT("ReopenContainerLog", reopen_container_log, cri_reopen_container_log),
    IM("ListImages", list_images, cri_list_images),
    IM("ImageStatus", image_status, cri_image_status),
    IM("PullImage", pull_image, cri_pull_image),
    IM("RemoveImage", remove_image, cri_remove_image),
    IM("ImageFsInfo", image_fs_info, cri_image_fs_info),
};

/* The packages served: the messages of v1alpha2 are those of v1 field for field. */
static const char *const packages[] = {"/runtime.v1.", "/runtime.v1alpha2."};

const struct cri_method *cri_method_lookup(const char *path, size_t len)
{
    cleanup_free char *p = xstrndup(path, len);
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof(packages) / sizeof(packages[0]) && rest == NULL; i++)
        if (str_has_prefix(p, packages[i]))
            rest = p + strlen(packages[i]);
    if (rest == NULL)
        return NULL;
    const char *slash = strchr(rest, '/');
    if (slash == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        const struct cri_method *m = &methods[i];
        if (strlen(m->service) == (size_t)(slash - rest) && strncmp(rest, m->service, slash - rest) == 0 &&
            streq(slash + 1, m->name))
            return m;
    }
    return NULL;
}

void *cri_method_run(struct daemon *d, const struct cri_method *m, const void *data, size_t len, size_t *ret_len,
                     struct isd_error **err)
{
    ProtobufCMessage *req = protobuf_c_message_unpack(m->request, NULL, len, data);
    if (req == NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "%s: the request is not a valid `%s` message", m->name,
                      m->request->name);
        return NULL;
    }
    ProtobufCMessage *resp = m->fn(d, req, err);
    protobuf_c_message_free_unpacked(req, NULL);
    if (resp == NULL)
        return NULL;
    size_t n = protobuf_c_message_get_packed_size(resp);
    uint8_t *out = xmalloc(n + 1);
    protobuf_c_message_pack(resp, out);
    protobuf_c_message_free_unpacked(resp, NULL);
    *ret_len = n;
    return out;
}

char *cri_strdup(const char *s)
{
    return xstrdup(s != NULL ? s : "");
}

void **cri_map_new(const ProtobufCMessageDescriptor *desc, const json_t *obj, const char *skip_prefix, size_t *ret_n)
{
    size_t n = 0, cap = json_is_object(obj) ? json_object_size(obj) : 0;
    void **v = cap > 0 ? xcalloc(cap, sizeof(void *)) : NULL;
    const char *k;
    json_t *val;
    json_object_foreach((json_t *)obj, k, val)
    {
        if (!json_is_string(val) || (skip_prefix != NULL && str_has_prefix(k, skip_prefix)))
            continue;
        struct cri_kv *e = xmalloc(desc->sizeof_message);
        protobuf_c_message_init(desc, e);
        e->key = xstrdup(k);
        e->value = xstrdup(json_string_value(val));
        v[n++] = e;
    }
    *ret_n = n;
    return v;
}
