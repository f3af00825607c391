/* CRI containers: ordinary containers (Docker create body) that join their pod's namespaces with the
 * "container:<id>" modes of `isula run`, labelled with the pod they belong to (POD_SANDBOX_LABEL) so that stopping
 * and removing the pod reaches them. */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/service/internal.h"

/* The pod's user namespace (the sandbox's HostConfig.PodUserns, "<uid>:<gid>:<size>"): every container of the pod
 * is in it (its container:<sandbox> modes join the sandbox's user namespace). The adapter passes the container's own
 * request in hc's PodUserns: absent (none), "" (the node's) or a mapping, which must be the pod's. */
static int join_pod_userns(json_t *hc, const json_t *phc, struct isd_error **err)
{
    const char *pod = json_get_str(phc, "PodUserns");
    const json_t *own = json_object_get(hc, "PodUserns");
    const char *mine = json_string_value(own) != NULL ? json_string_value(own) : "";
    bool pod_has = pod != NULL && pod[0] != '\0';
    if (own != NULL && !pod_has && mine[0] != '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "the container asks for a user namespace (%s) but its pod has none: a pod's "
                             "containers are in the pod's user namespace",
                             mine);
    if (own != NULL && pod_has && mine[0] == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "the container asks for the node's user namespace but its pod has one of its own (%s): "
                             "a pod's containers are in the pod's user namespace",
                             pod);
    if (own != NULL && pod_has && !streq(mine, pod))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "the container's user namespace mapping (%s) is not its pod's (%s): a pod's containers "
                             "share the pod's user namespace",
                             mine, pod);
    if (pod_has)
        json_object_set_new(hc, "PodUserns", json_string(pod));
    else
        json_object_del(hc, "PodUserns");
    return 0;
}

/* The pod's namespaces: network, IPC and UTS always (the node's when the pod has the node's network), PID when
 * share_pid. */
static int join_pod(json_t *hc, const json_t *pod, bool share_pid, struct isd_error **err)
{
    const char *id = json_get_str(pod, "Id");
    const json_t *phc = json_object_get(pod, "HostConfig");
    cleanup_free char *mode = xasprintf("container:%s", id);
    bool host_net = streq(json_get_str(phc, "NetworkMode"), "host");
    json_object_set_new(hc, "NetworkMode", json_string(host_net ? "host" : mode));
    json_object_set_new(hc, "UTSMode", json_string(host_net ? "host" : mode));
    if (streq(json_get_str(phc, "IpcMode"), "host"))
        json_object_set_new(hc, "IpcMode", json_string("host"));
    else
        json_object_set_new(hc, "IpcMode", json_string(mode));
    /* the pod's DNS configuration, as its sandbox got it */
    static const char *const dns_keys[] = {"Dns", "DnsSearch", "DnsOptions"};
    for (size_t i = 0; i < ARRAY_SIZE(dns_keys); i++)
        if (json_object_get(hc, dns_keys[i]) == NULL && json_object_get(phc, dns_keys[i]) != NULL)
            json_object_set(hc, dns_keys[i], json_object_get(phc, dns_keys[i]));
    /* CRI-R06: a container runs on its sandbox's runtime (the request has no runtime handler) */
    if (json_get_str(phc, "Runtime") != NULL)
        json_object_set_new(hc, "Runtime", json_string(json_get_str(phc, "Runtime")));
    if (share_pid)
        json_object_set_new(hc, "PidMode", json_string(streq(json_get_str(phc, "PidMode"), "host") ? "host" : mode));
    return join_pod_userns(hc, phc, err);
}

int service_pod_container_create(struct daemon *d, const char *pod_id, const char *name, json_t *body, bool share_pid,
                                 const char *log_path, char **ret_id, struct isd_error **err)
{
    cleanup_json json_t *pod = service_pod_inspect(d, pod_id, err);
    if (pod == NULL)
        return -1;
    json_t *hc = json_object_get(body, "HostConfig");
    if (!json_is_object(hc)) {
        hc = json_object();
        json_object_set_new(body, "HostConfig", hc);
    }
    if (join_pod(hc, pod, share_pid, err) < 0)
        return isd_error_wrap(err, "create container in pod `%.12s`", json_get_str(pod, "Id"));
    json_t *labels = json_object_get(body, "Labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(body, "Labels", labels);
    }
    json_object_set_new(labels, POD_TYPE_LABEL, json_string("container"));
    json_object_set_new(labels, POD_SANDBOX_LABEL, json_string(json_get_str(pod, "Id")));
    if (log_path != NULL && *log_path != '\0') {
        cleanup_free char *dir = xstrdup(log_path);
        if (mkdir_p(dirname(dir), 0755, err) < 0)
            return isd_error_wrap(err, "log directory of `%s`", log_path);
        json_object_set_new(labels, "io.isulad.cri.log-path", json_string(log_path));
        json_object_set_new(hc, "LogConfig", json_pack("{s:s, s:{s:s}}", "Type", "cri", "Config", "path", log_path));
    }
    if (service_container_create(d, name, body, ret_id, NULL, err) < 0)
        return isd_error_wrap(err, "create container in pod `%.12s`", json_get_str(pod, "Id"));
    return 0;
}

json_t *service_pod_container_inspect(struct daemon *d, const char *id, struct isd_error **err)
{
    return service_pod_inspect_typed(d, id, "container", "container", err);
}

json_t *service_pod_container_list(struct daemon *d, const char *id_prefix, const char *pod_id, const char *state,
                                   const json_t *selector, struct isd_error **err)
{
    cleanup_json json_t *f = json_pack("{s:[s]}", "label", POD_TYPE_LABEL "=container");
    if (id_prefix != NULL && *id_prefix != '\0')
        json_object_set_new(f, "id", json_pack("[s]", id_prefix));
    json_t *all = service_container_list(d, true, f, 0, err);
    if (all == NULL)
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *c;
    json_array_foreach(all, i, c)
    {
        const json_t *labels = json_object_get(c, "Labels");
        const char *pod = json_get_str(labels, POD_SANDBOX_LABEL);
        bool ok = (pod_id == NULL || *pod_id == '\0' || (pod != NULL && str_has_prefix(pod, pod_id))) &&
                  (state == NULL || streq(json_get_str(c, "State"), state));
        ok = ok && service_labels_match(labels, selector);
        if (ok)
            json_array_append(out, c);
    }
    json_decref(all);
    return out;
}

/* Bounds the runtime spec read back (a spec is a few KiB; seccomp rules make it tens). */
#define RUNTIME_SPEC_MAX (4 * 1024 * 1024)

json_t *service_container_runtime_spec(struct daemon *d, const char *ref, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    if (c == NULL)
        return NULL;
    cleanup_free char *path = xasprintf("%s/config.json", c->state_dir);
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    if (!path_exists(path))
        return json_object(); /* never started yet */
    size_t len = 0;
    cleanup_free char *text = read_file(path, RUNTIME_SPEC_MAX, &len, err);
    return text != NULL ? json_parse(text, len, err) : NULL;
}
