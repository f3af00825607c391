/* The `info` of the verbose PodSandboxStatus, ContainerStatus and ImageStatus: one key "info" holding a JSON
 * document in the shape containerd gives (crictl inspect/inspectp/inspecti print it): the process, the CRI config
 * the object was made from, the OCI runtime spec, the image's OCI config. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

/* The CRI config kept at create (null for an object made before it was kept). */
static json_t *config_of(const json_t *labels)
{
    const char *text = json_get_str(labels, CRI_CONFIG_LABEL);
    json_t *j = text != NULL ? json_parse(text, strlen(text), NULL) : NULL;
    return j != NULL ? j : json_null();
}

/* What a pod's and a container's info share. */
static json_t *process_info(struct daemon *d, const json_t *inspect, struct isd_error **err)
{
    const json_t *st = json_object_get(inspect, "State");
    const json_t *labels = json_object_get(json_object_get(inspect, "Config"), "Labels");
    json_t *spec = service_container_runtime_spec(d, json_get_str(inspect, "Id"), err);
    if (spec == NULL)
        return NULL;
    const char *status = json_get_str(st, "Status");
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "pid", json_integer_value(json_object_get(st, "Pid")),
                     "processStatus", status != NULL ? status : "", "snapshotKey", json_get_str(inspect, "Id"),
                     "snapshotter", json_get_str(json_object_get(inspect, "GraphDriver"), "Name") ?: "", "runtimeType",
                     json_get_str(json_object_get(inspect, "HostConfig"), "Runtime") ?: "", "config", config_of(labels),
                     "runtimeSpec", spec);
}

/* The path of the network namespace a runtime spec joins ("" for none: the node's network). */
static const char *netns_of(const json_t *spec)
{
    size_t i;
    json_t *ns;
    json_array_foreach(json_object_get(json_object_get(spec, "linux"), "namespaces"), i, ns)
    {
        if (streq(json_get_str(ns, "type"), "network") && json_get_str(ns, "path") != NULL)
            return json_get_str(ns, "path");
    }
    return "";
}

void **cri_info_new(const ProtobufCMessageDescriptor *entry, json_t *info, size_t *ret_n)
{
    cleanup_free char *text = json_dumps(info, JSON_COMPACT | JSON_SORT_KEYS);
    cleanup_json json_t *map = json_pack("{s:s}", "info", text != NULL ? text : "{}");
    json_decref(info);
    return cri_map_new(entry, map, NULL, ret_n);
}

json_t *cri_pod_info(struct daemon *d, const json_t *inspect, struct isd_error **err)
{
    json_t *info = process_info(d, inspect, err);
    if (info == NULL)
        return NULL;
    const json_t *labels = json_object_get(json_object_get(inspect, "Config"), "Labels");
    const char *netns = netns_of(json_object_get(info, "runtimeSpec"));
    json_object_set_new(info, "image", json_string(json_get_str(json_object_get(inspect, "Config"), "Image") ?: ""));
    json_object_set_new(info, "runtimeHandler", json_string(json_get_str(labels, CRI_RUNTIME_LABEL) ?: ""));
    json_object_set_new(info, "netns", json_string(netns));
    json_object_set_new(info, "netNamespaceClosed", json_boolean(*netns != '\0' && access(netns, F_OK) != 0));
    const json_t *nets = json_object_get(json_object_get(inspect, "NetworkSettings"), "Networks");
    json_object_set_new(info, "networks", nets != NULL ? json_deep_copy(nets) : json_object());
    return info;
}

json_t *cri_container_info(struct daemon *d, const json_t *inspect, struct isd_error **err)
{
    json_t *info = process_info(d, inspect, err);
    if (info == NULL)
        return NULL;
    const json_t *labels = json_object_get(json_object_get(inspect, "Config"), "Labels");
    json_object_set_new(info, "sandboxID", json_string(json_get_str(labels, CRI_SANDBOX_LABEL) ?: ""));
    json_object_set_new(info, "removing",
                        json_boolean(streq(json_get_str(json_object_get(inspect, "State"), "Status"), "removing")));
    return info;
}

/* The image's OCI configuration (the Docker inspect's Config uses the OCI spelling of its keys). */
json_t *cri_image_info(const json_t *inspect)
{
    static const char *const keys[] = {"User",    "ExposedPorts", "Env",    "Entrypoint", "Cmd",
                                       "Volumes", "WorkingDir",   "Labels", "StopSignal"};
    const json_t *cfg = json_object_get(inspect, "Config");
    json_t *oci = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        json_t *v = json_object_get(cfg, keys[i]);
        if (v != NULL && !json_is_null(v) && !(json_is_string(v) && *json_string_value(v) == '\0'))
            json_object_set(oci, keys[i], v);
    }
    json_t *layers = json_object_get(json_object_get(inspect, "RootFS"), "Layers");
    json_t *spec = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o}}", "created", json_get_str(inspect, "Created") ?: "",
                             "architecture", json_get_str(inspect, "Architecture") ?: "", "os",
                             json_get_str(inspect, "Os") ?: "", "config", oci, "rootfs", "type", "layers", "diff_ids",
                             layers != NULL ? json_incref(layers) : json_array());
    return json_pack("{s:s, s:I, s:o}", "id", json_get_str(inspect, "Id") ?: "", "size",
                     json_integer_value(json_object_get(inspect, "Size")), "imageSpec", spec);
}
