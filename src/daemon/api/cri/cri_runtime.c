/* RuntimeService: Version and Status. */
#include <stdlib.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

#define CRI_API_VERSION "v1"
/* The kubelet runtime API version answered in VersionResponse.version, as other runtimes answer it. */
#define CRI_KUBELET_API_VERSION "0.1.0"

ProtobufCMessage *cri_version(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    Runtime__V1__VersionResponse *r = xmalloc(sizeof(*r));
    cleanup_json json_t *v = service_version(d);
    runtime__v1__version_response__init(r);
    r->version = xstrdup(CRI_KUBELET_API_VERSION);
    r->runtime_name = xstrdup("isulad");
    r->runtime_version = cri_strdup(json_get_str(v, "Version"));
    r->runtime_api_version = xstrdup(CRI_API_VERSION);
    return &r->base;
}

static Runtime__V1__RuntimeCondition *condition_new(const char *type, bool ok, const char *reason, const char *msg)
{
    Runtime__V1__RuntimeCondition *c = xmalloc(sizeof(*c));
    runtime__v1__runtime_condition__init(c);
    c->type = xstrdup(type);
    c->status = ok;
    c->reason = cri_strdup(ok ? "" : reason);
    c->message = cri_strdup(ok ? "" : msg);
    return c;
}

/* CRI-R19: verbose Status answers `info` in containerd's keys (what `crictl info` prints): `config` (the
 * daemon's CRI settings), `cniconfig` (the conf and plugin dirs, the default network) and `lastCNILoadStatus`. */
static Runtime__V1__StatusResponse__InfoEntry **status_info(struct daemon *d, const char *net,
                                                            const struct isd_error *net_err, size_t *ret_n)
{
    const struct isd_config *c = d->cfg;
    cleanup_json json_t *info = json_object();
    json_t *config = json_pack("{s:s?, s:s?, s:s?, s:i}", "sandboxImage", c->pod_sandbox_image, "cniConfDir",
                               c->cni_conf_dir, "cniBinDir", c->cni_bin_dir, "streamServerPort", c->websocket_port);
    json_t *cni = json_pack("{s:s?, s:[s?]}", "PluginConfDir", c->cni_conf_dir, "PluginDirs", c->cni_bin_dir);
    json_object_set_new(cni, "DefaultNetwork", net != NULL ? json_string(net) : json_null());
    json_object_set_new(info, "config", cri_json_text(config));
    json_object_set_new(info, "cniconfig", cri_json_text(cni));
    json_object_set_new(info, "lastCNILoadStatus", json_string(net_err != NULL ? net_err->msg : "OK"));
    return (Runtime__V1__StatusResponse__InfoEntry **)cri_map_new(&runtime__v1__status_response__info_entry__descriptor,
                                                                  info, NULL, ret_n);
}

/* RuntimeReady while the daemon serves; NetworkReady when cni-conf-dir holds a network for the pods (read at each
 * call, so a configuration written after start is picked up). */
ProtobufCMessage *cri_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    Runtime__V1__StatusResponse *r = xmalloc(sizeof(*r));
    Runtime__V1__RuntimeStatus *st = xmalloc(sizeof(*st));
    cleanup_error struct isd_error *net_err = NULL;
    cleanup_free char *net = NULL;
    bool net_ok = service_pod_network_default(d, &net, &net_err) == 0;
    runtime__v1__status_response__init(r);
    runtime__v1__runtime_status__init(st);
    st->n_conditions = 2;
    st->conditions = xcalloc(2, sizeof(*st->conditions));
    st->conditions[0] = condition_new("RuntimeReady", true, NULL, NULL);
    st->conditions[1] =
        condition_new("NetworkReady", net_ok, "NetworkPluginNotReady", net_err != NULL ? net_err->msg : NULL);
    r->status = st;
    cri_runtime_handlers_set(d, r);
    if (((const Runtime__V1__StatusRequest *)req)->verbose)
        r->info = status_info(d, net, net_err, &r->n_info);
    return &r->base;
}
