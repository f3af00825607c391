/* The CRI adapter's handlers and their table (cri_methods.c); private to src/daemon/api/cri/. */
#ifndef ISD_DAEMON_API_CRI_INTERNAL_H
#define ISD_DAEMON_API_CRI_INTERNAL_H

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

#include "common/error.h"
#include "daemon/service/service.h"

/* A handler decodes nothing itself: it gets the unpacked request and returns a response built with the
 * x-allocators (freed with protobuf_c_message_free_unpacked(), so every string and array must be malloc'd). */
typedef ProtobufCMessage *(*cri_handler)(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);

struct cri_method {
    const char *service; /* "RuntimeService" or "ImageService" */
    const char *name;
    const ProtobufCMessageDescriptor *request;
    cri_handler fn;
};

/* The method of a gRPC path ("/runtime.v1.ImageService/ListImages", also under runtime.v1alpha2); NULL when
 * not served. */
const struct cri_method *cri_method_lookup(const char *path, size_t len);

/* Runs one call: unpack, handler, pack. Returns the packed response (ret_len bytes) or NULL with *err set. */
void *cri_method_run(struct daemon *d, const struct cri_method *m, const void *data, size_t len, size_t *ret_len,
                     struct isd_error **err);

/* Handlers (cri_runtime.c, cri_image.c). */
ProtobufCMessage *cri_version(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_list_images(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_image_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_pull_image(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_remove_image(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_image_fs_info(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_run_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_stop_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_remove_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_pod_sandbox_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_list_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_create_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_start_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_stop_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_remove_container(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_list_containers(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_exec_sync(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_exec(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_attach(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_port_forward(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_container_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_list_container_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_update_container_resources(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_update_runtime_config(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_reopen_container_log(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_container_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);

/* The security contexts as Docker create body fields (cri_security.c); NULL sc: nothing. */
struct Runtime__V1__LinuxSandboxSecurityContext;
struct Runtime__V1__LinuxContainerSecurityContext;
int cri_pod_security_set(struct daemon *d, json_t *body, json_t *hc,
                         const struct Runtime__V1__LinuxSandboxSecurityContext *sc, struct isd_error **err);
int cri_container_security_set(struct daemon *d, json_t *body, json_t *hc,
                               const struct Runtime__V1__LinuxContainerSecurityContext *sc, struct isd_error **err);

/* The CRI stats of container id (labels: its labels; cri_container_status.c); *ret_pids (may be NULL): its
 * process count. */
struct Runtime__V1__ContainerStats;
struct Runtime__V1__ContainerStats *cri_container_stats_new(struct daemon *d, const char *id, const json_t *labels,
                                                            long long *ret_pids, struct isd_error **err);
/* A pod's metadata and annotations from the labels of its sandbox container (cri_pod.c). */
struct Runtime__V1__PodSandboxMetadata;
/* User namespaces (cri_userns.c): ns's userns_options as HostConfig.PodUserns (POD: the mapping; NODE: nothing for
 * a sandbox, "" for a container; other modes and bad mappings: ISD_ERR_INVALID naming `what`); the mounts with
 * uid/gid mappings checked against the container's (PodUserns in hc); Status's runtime handlers; the pod status's
 * user namespace. */
struct Runtime__V1__NamespaceOption;
struct Runtime__V1__ContainerConfig;
struct Runtime__V1__StatusResponse;
struct Runtime__V1__UserNamespace;
int cri_userns_set(json_t *hc, const struct Runtime__V1__NamespaceOption *ns, bool container, const char *what,
                   struct isd_error **err);
int cri_mounts_idmap_check(const struct Runtime__V1__ContainerConfig *c, const json_t *hc, struct isd_error **err);
void cri_runtime_handlers_set(struct daemon *d, struct Runtime__V1__StatusResponse *r);
struct Runtime__V1__UserNamespace *cri_userns_status_new(const json_t *hc);
struct Runtime__V1__PodSandboxMetadata *cri_pod_metadata_new(const json_t *labels);
json_t *cri_pod_annotations(const json_t *labels);
ProtobufCMessage *cri_pod_sandbox_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);
ProtobufCMessage *cri_list_pod_sandbox_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err);

/* m as a JSON object: the .proto's field names, default values left out, maps as objects (cri_json.c). */
json_t *cri_message_json(const ProtobufCMessage *m);
/* The verbose status info (cri_verbose.c): the JSON of a pod's, a container's (their inspect JSON) and an
 * image's info; cri_info_new makes the map entries (type entry) of {"info": <info as text>}, taking info. */
json_t *cri_pod_info(struct daemon *d, const json_t *inspect, struct isd_error **err);
json_t *cri_container_info(struct daemon *d, const json_t *inspect, struct isd_error **err);
json_t *cri_image_info(const json_t *inspect);
void **cri_info_new(const ProtobufCMessageDescriptor *entry, json_t *info, size_t *ret_n);
/* The labels isulad keeps on a pod's and a container's record (the CRI's own labels are listed without them). The
 * CRI config (JSON text) is for the verbose status info. */
#define CRI_OWN_LABEL_PREFIX "io.isulad.cri."
#define CRI_CONFIG_LABEL "io.isulad.cri.config"
#define CRI_META_LABEL "io.isulad.cri.metadata"
#define CRI_ANNOTATIONS_LABEL "io.isulad.cri.annotations"
#define CRI_LOG_LABEL "io.isulad.cri.log-path"
#define CRI_SANDBOX_LABEL "io.isulad.cri.sandbox-id"
#define CRI_RUNTIME_LABEL "io.isulad.cri.runtime-handler"

/* Every map<string,string> entry type of the generated code has this layout. */
struct cri_kv {
    ProtobufCMessage base;
    char *key;
    char *value;
};
/* A JSON object of strings from n map entries. */
json_t *cri_map_json(void *const *kv, size_t n);
/* A JSON array of strings from n strings. */
json_t *cri_strv_json(char *const *v, size_t n);
/* j as JSON text (compact, sorted keys) in a JSON string, e.g. a label's value; takes j. */
json_t *cri_json_text(json_t *j);
/* Map entries (of type desc) from a JSON object of strings, leaving out keys starting with skip_prefix (may be
 * NULL); *ret_n entries. */
void **cri_map_new(const ProtobufCMessageDescriptor *desc, const json_t *obj, const char *skip_prefix, size_t *ret_n);

/* Never NULL: a malloc'd copy of s, or of "" for NULL (protobuf-c frees strings that are not its empty one). */
char *cri_strdup(const char *s);

#endif
