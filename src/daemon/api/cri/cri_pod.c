/* RuntimeService pod sandbox calls: RunPodSandbox maps the PodSandboxConfig onto a Docker create body (the
 * options the REST path takes, so both paths share their meaning), the others map service JSON back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

static void ports_set(json_t *body, json_t *hc, const Runtime__V1__PodSandboxConfig *c)
{
    static const char *const proto[] = {"tcp", "udp", "sctp"};
    json_t *exposed = json_object(), *bindings = json_object();
    for (size_t i = 0; i < c->n_port_mappings; i++) {
        const Runtime__V1__PortMapping *p = c->port_mappings[i];
        if (p->host_port <= 0)
            continue;
        char key[32], host[16];
        snprintf(key, sizeof(key), "%d/%s", p->container_port, proto[p->protocol <= 2 ? p->protocol : 0]);
        snprintf(host, sizeof(host), "%d", p->host_port);
        json_object_set_new(exposed, key, json_object());
        if (!json_is_array(json_object_get(bindings, key)))
            json_object_set_new(bindings, key, json_array());
        json_array_append_new(
            json_object_get(bindings, key),
            json_pack("{s:s, s:s}", "HostIp", p->host_ip != NULL ? p->host_ip : "", "HostPort", host));
    }
    json_object_set_new(body, "ExposedPorts", exposed);
    json_object_set_new(hc, "PortBindings", bindings);
}

static void namespaces_set(json_t *hc, const Runtime__V1__LinuxPodSandboxConfig *l)
{
    const Runtime__V1__LinuxSandboxSecurityContext *sc = l != NULL ? l->security_context : NULL;
    const Runtime__V1__NamespaceOption *ns = sc != NULL ? sc->namespace_options : NULL;
    if (ns != NULL && ns->network == RUNTIME__V1__NAMESPACE_MODE__NODE)
        json_object_set_new(hc, "NetworkMode", json_string("host"));
    if (ns != NULL && ns->pid == RUNTIME__V1__NAMESPACE_MODE__NODE)
        json_object_set_new(hc, "PidMode", json_string("host"));
    if (ns != NULL && ns->ipc == RUNTIME__V1__NAMESPACE_MODE__NODE)
        json_object_set_new(hc, "IpcMode", json_string("host"));
    if (l != NULL && l->cgroup_parent != NULL && *l->cgroup_parent != '\0')
        json_object_set_new(hc, "CgroupParent", json_string(l->cgroup_parent));
    if (l != NULL && l->n_sysctls > 0)
        json_object_set_new(hc, "Sysctls", cri_map_json((void *const *)l->sysctls, l->n_sysctls));
}

/* The Docker create body of a pod's sandbox container. */
static json_t *pod_body(const Runtime__V1__RunPodSandboxRequest *q)
{
    const Runtime__V1__PodSandboxConfig *c = q->config;
    const Runtime__V1__PodSandboxMetadata *m = c->metadata;
    json_t *hc = json_object();
    json_t *labels = cri_map_json((void *const *)c->labels, c->n_labels);
    json_t *meta = json_pack("{s:s, s:s, s:s, s:I}", "name", m->name, "uid", m->uid, "namespace", m->namespace_,
                             "attempt", (json_int_t)m->attempt);
    json_t *ann = cri_map_json((void *const *)c->annotations, c->n_annotations);
    json_object_set_new(labels, CRI_META_LABEL, cri_json_text(meta));
    json_object_set_new(labels, CRI_ANNOTATIONS_LABEL, cri_json_text(ann));
    json_object_set_new(labels, CRI_RUNTIME_LABEL, json_string(q->runtime_handler));
    json_object_set_new(labels, CRI_CONFIG_LABEL, cri_json_text(cri_message_json(&c->base)));
    json_t *body = json_pack("{s:o, s:o}", "Labels", labels, "HostConfig", hc);
    namespaces_set(hc, c->linux);
    if (c->hostname != NULL && *c->hostname != '\0' && !streq(json_get_str(hc, "NetworkMode"), "host"))
        json_object_set_new(body, "Hostname", json_string(c->hostname));
    if (c->dns_config != NULL) {
        const Runtime__V1__DNSConfig *dns = c->dns_config;
        json_object_set_new(hc, "Dns", cri_strv_json(dns->servers, dns->n_servers));
        json_object_set_new(hc, "DnsSearch", cri_strv_json(dns->searches, dns->n_searches));
        json_object_set_new(hc, "DnsOptions", cri_strv_json(dns->options, dns->n_options));
    }
    ports_set(body, hc, c);
    if (q->runtime_handler != NULL && *q->runtime_handler != '\0')
        json_object_set_new(hc, "Runtime", json_string(q->runtime_handler));
    return body;
}

ProtobufCMessage *cri_run_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__RunPodSandboxRequest *q = (const Runtime__V1__RunPodSandboxRequest *)req;
    const Runtime__V1__PodSandboxMetadata *m = q->config != NULL ? q->config->metadata : NULL;
    cleanup_free char *id = NULL;
    if (m == NULL || *m->name == '\0' || *m->namespace_ == '\0' || *m->uid == '\0') {
        isd_error_set(err, ISD_ERR_INVALID, 0, "RunPodSandbox: config.metadata needs name, namespace and uid");
        return NULL;
    }
    /* CRI-R01: the sandbox's name joins these with `_`, so none may hold one */
    if (strchr(m->name, '_') != NULL || strchr(m->namespace_, '_') != NULL || strchr(m->uid, '_') != NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0,
                      "RunPodSandbox: config.metadata name, namespace and uid must not contain `_`");
        return NULL;
    }
    cleanup_free char *name = xasprintf("k8s_POD_%s_%s_%s_%u", m->name, m->namespace_, m->uid, m->attempt);
    cleanup_json json_t *body = pod_body(q);
    const Runtime__V1__LinuxPodSandboxConfig *l = q->config->linux;
    const Runtime__V1__LinuxSandboxSecurityContext *sc = l != NULL ? l->security_context : NULL;
    if (cri_pod_security_set(d, body, json_object_get(body, "HostConfig"), sc, err) < 0 ||
        cri_userns_set(json_object_get(body, "HostConfig"), sc != NULL ? sc->namespace_options : NULL, false,
                       "RunPodSandbox", err) < 0)
        return NULL;
    const char *extra = NULL;
    for (size_t i = 0; i < q->config->n_annotations; i++)
        if (streq(q->config->annotations[i]->key, SERVICE_POD_NETWORK_ANNOTATION))
            extra = q->config->annotations[i]->value;
    if (service_pod_run(d, name, body, extra, &id, err) < 0)
        return NULL;
    Runtime__V1__RunPodSandboxResponse *r = xmalloc(sizeof(*r));
    runtime__v1__run_pod_sandbox_response__init(r);
    r->pod_sandbox_id = TAKE_PTR(id);
    return &r->base;
}

ProtobufCMessage *cri_stop_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__StopPodSandboxRequest *q = (const Runtime__V1__StopPodSandboxRequest *)req;
    if (service_pod_stop(d, q->pod_sandbox_id, err) < 0)
        return NULL;
    Runtime__V1__StopPodSandboxResponse *r = xmalloc(sizeof(*r));
    runtime__v1__stop_pod_sandbox_response__init(r);
    return &r->base;
}

ProtobufCMessage *cri_remove_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__RemovePodSandboxRequest *q = (const Runtime__V1__RemovePodSandboxRequest *)req;
    if (*q->pod_sandbox_id == '\0') {
        isd_error_set(err, ISD_ERR_INVALID, 0, "RemovePodSandbox: pod_sandbox_id is empty");
        return NULL;
    }
    if (service_pod_remove(d, q->pod_sandbox_id, err) < 0)
        return NULL;
    Runtime__V1__RemovePodSandboxResponse *r = xmalloc(sizeof(*r));
    runtime__v1__remove_pod_sandbox_response__init(r);
    return &r->base;
}

Runtime__V1__PodSandboxMetadata *cri_pod_metadata_new(const json_t *labels)
{
    cleanup_json json_t *j = NULL;
    const char *text = json_get_str(labels, CRI_META_LABEL);
    Runtime__V1__PodSandboxMetadata *m = xmalloc(sizeof(*m));
    runtime__v1__pod_sandbox_metadata__init(m);
    j = text != NULL ? json_parse(text, strlen(text), NULL) : NULL;
    m->name = cri_strdup(json_get_str(j, "name"));
    m->uid = cri_strdup(json_get_str(j, "uid"));
    m->namespace_ = cri_strdup(json_get_str(j, "namespace"));
    m->attempt = (uint32_t)json_integer_value(json_object_get(j, "attempt"));
    return m;
}

json_t *cri_pod_annotations(const json_t *labels)
{
    const char *text = json_get_str(labels, CRI_ANNOTATIONS_LABEL);
    json_t *j = text != NULL ? json_parse(text, strlen(text), NULL) : NULL;
    return j != NULL ? j : json_object();
}

/* The address the pod got on its default network, else the first one ("" on the node's network). */
static const char *pod_ip(const json_t *inspect)
{
    const json_t *nets = json_object_get(json_object_get(inspect, "NetworkSettings"), "Networks");
    const char *primary = json_get_str(json_object_get(inspect, "HostConfig"), "NetworkMode");
    const char *k, *ip = primary != NULL ? json_get_str(json_object_get(nets, primary), "IPAddress") : NULL;
    json_t *n;
    if (ip != NULL && *ip != '\0')
        return ip;
    json_object_foreach((json_t *)nets, k, n)
    {
        const char *any = json_get_str(n, "IPAddress");
        if (any != NULL && *any != '\0')
            return any;
    }
    return "";
}

/* The addresses of the extra networks. */
static void additional_ips_set(Runtime__V1__PodSandboxNetworkStatus *st, const json_t *inspect)
{
    const json_t *nets = json_object_get(json_object_get(inspect, "NetworkSettings"), "Networks");
    const char *k;
    json_t *n;
    st->additional_ips = json_object_size(nets) > 0 ? xcalloc(json_object_size(nets), sizeof(void *)) : NULL;
    json_object_foreach((json_t *)nets, k, n)
    {
        const char *ip = json_get_str(n, "IPAddress");
        if (ip == NULL || *ip == '\0' || streq(ip, st->ip))
            continue;
        Runtime__V1__PodIP *p = xmalloc(sizeof(*p));
        runtime__v1__pod_ip__init(p);
        p->ip = xstrdup(ip);
        st->additional_ips[st->n_additional_ips++] = p;
    }
}

static Runtime__V1__NamespaceMode ns_mode(const json_t *hc, const char *key)
{
    return streq(json_get_str(hc, key), "host") ? RUNTIME__V1__NAMESPACE_MODE__NODE : RUNTIME__V1__NAMESPACE_MODE__POD;
}

static Runtime__V1__LinuxPodSandboxStatus *linux_status(const json_t *hc)
{
    Runtime__V1__LinuxPodSandboxStatus *l = xmalloc(sizeof(*l));
    runtime__v1__linux_pod_sandbox_status__init(l);
    l->namespaces = xmalloc(sizeof(*l->namespaces));
    runtime__v1__namespace__init(l->namespaces);
    Runtime__V1__NamespaceOption *o = xmalloc(sizeof(*o));
    runtime__v1__namespace_option__init(o);
    o->network = ns_mode(hc, "NetworkMode");
    o->pid = ns_mode(hc, "PidMode");
    o->ipc = ns_mode(hc, "IpcMode");
    o->userns_options = cri_userns_status_new(hc);
    l->namespaces->options = o;
    return l;
}

ProtobufCMessage *cri_pod_sandbox_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__PodSandboxStatusRequest *q = (const Runtime__V1__PodSandboxStatusRequest *)req;
    cleanup_json json_t *j = service_pod_inspect(d, q->pod_sandbox_id, err);
    if (j == NULL)
        return NULL;
    const json_t *labels = json_object_get(json_object_get(j, "Config"), "Labels");
    cleanup_json json_t *ann = cri_pod_annotations(labels);
    long long created = 0;
    time_parse_rfc3339(json_get_str(j, "Created") != NULL ? json_get_str(j, "Created") : "", &created);
    Runtime__V1__PodSandboxStatus *s = xmalloc(sizeof(*s));
    runtime__v1__pod_sandbox_status__init(s);
    s->id = cri_strdup(json_get_str(j, "Id"));
    s->metadata = cri_pod_metadata_new(labels);
    s->state = json_is_true(json_object_get(json_object_get(j, "State"), "Running"))
                   ? RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY
                   : RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
    s->created_at = created;
    s->network = xmalloc(sizeof(*s->network));
    runtime__v1__pod_sandbox_network_status__init(s->network);
    s->network->ip = cri_strdup(pod_ip(j));
    additional_ips_set(s->network, j);
    s->linux = linux_status(json_object_get(j, "HostConfig"));
    s->labels = (Runtime__V1__PodSandboxStatus__LabelsEntry **)cri_map_new(
        &runtime__v1__pod_sandbox_status__labels_entry__descriptor, labels, CRI_OWN_LABEL_PREFIX, &s->n_labels);
    s->annotations = (Runtime__V1__PodSandboxStatus__AnnotationsEntry **)cri_map_new(
        &runtime__v1__pod_sandbox_status__annotations_entry__descriptor, ann, NULL, &s->n_annotations);
    s->runtime_handler = cri_strdup(json_get_str(labels, CRI_RUNTIME_LABEL));
    Runtime__V1__PodSandboxStatusResponse *r = xmalloc(sizeof(*r));
    runtime__v1__pod_sandbox_status_response__init(r);
    r->status = s;
    if (q->verbose) {
        json_t *info = cri_pod_info(d, j, err);
        if (info == NULL) {
            protobuf_c_message_free_unpacked(&r->base, NULL);
            return NULL;
        }
        r->info = (Runtime__V1__PodSandboxStatusResponse__InfoEntry **)cri_info_new(
            &runtime__v1__pod_sandbox_status_response__info_entry__descriptor, info, &r->n_info);
    }
    return &r->base;
}

static Runtime__V1__PodSandbox *pod_of_summary(const json_t *c)
{
    const json_t *labels = json_object_get(c, "Labels");
    cleanup_json json_t *ann = cri_pod_annotations(labels);
    Runtime__V1__PodSandbox *p = xmalloc(sizeof(*p));
    runtime__v1__pod_sandbox__init(p);
    p->id = cri_strdup(json_get_str(c, "Id"));
    p->metadata = cri_pod_metadata_new(labels);
    p->state = streq(json_get_str(c, "State"), "running") ? RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY
                                                          : RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_NOTREADY;
    p->created_at = json_integer_value(json_object_get(c, "Created")) * 1000000000LL;
    p->labels = (Runtime__V1__PodSandbox__LabelsEntry **)cri_map_new(
        &runtime__v1__pod_sandbox__labels_entry__descriptor, labels, CRI_OWN_LABEL_PREFIX, &p->n_labels);
    p->annotations = (Runtime__V1__PodSandbox__AnnotationsEntry **)cri_map_new(
        &runtime__v1__pod_sandbox__annotations_entry__descriptor, ann, NULL, &p->n_annotations);
    p->runtime_handler = cri_strdup(json_get_str(labels, CRI_RUNTIME_LABEL));
    return p;
}

ProtobufCMessage *cri_list_pod_sandbox(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ListPodSandboxRequest *q = (const Runtime__V1__ListPodSandboxRequest *)req;
    const Runtime__V1__PodSandboxFilter *f = q->filter;
    int state = f != NULL && f->state != NULL ? (f->state->state == RUNTIME__V1__POD_SANDBOX_STATE__SANDBOX_READY) : -1;
    cleanup_json json_t *sel = f != NULL ? cri_map_json((void *const *)f->label_selector, f->n_label_selector) : NULL;
    cleanup_json json_t *list = service_pod_list(d, f != NULL ? f->id : NULL, state, sel, err);
    if (list == NULL)
        return NULL;
    Runtime__V1__ListPodSandboxResponse *r = xmalloc(sizeof(*r));
    runtime__v1__list_pod_sandbox_response__init(r);
    size_t n = json_array_size(list);
    r->items = n > 0 ? xcalloc(n, sizeof(*r->items)) : NULL;
    for (size_t i = 0; i < n; i++)
        r->items[r->n_items++] = pod_of_summary(json_array_get(list, i));
    return &r->base;
}
