/* RuntimeService PodSandboxStats and ListPodSandboxStats: a pod's usage is the sum of its sandbox container's and
 * its running containers' (CPU, memory, processes), its network the interfaces of the pod's namespace. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

#define DEFAULT_IFNAME "eth0"

static Runtime__V1__UInt64Value *u64(unsigned long long v)
{
    Runtime__V1__UInt64Value *u = xmalloc(sizeof(*u));
    runtime__v1__uint64_value__init(u);
    u->value = v;
    return u;
}

static unsigned long long u64_of(const Runtime__V1__UInt64Value *v)
{
    return v != NULL ? v->value : 0;
}

static Runtime__V1__PodSandboxAttributes *attributes_of(const char *id, const json_t *labels)
{
    cleanup_json json_t *ann = cri_pod_annotations(labels);
    Runtime__V1__PodSandboxAttributes *a = xmalloc(sizeof(*a));
    runtime__v1__pod_sandbox_attributes__init(a);
    a->id = xstrdup(id);
    a->metadata = cri_pod_metadata_new(labels);
    a->labels = (Runtime__V1__PodSandboxAttributes__LabelsEntry **)cri_map_new(
        &runtime__v1__pod_sandbox_attributes__labels_entry__descriptor, labels, CRI_OWN_LABEL_PREFIX, &a->n_labels);
    a->annotations = (Runtime__V1__PodSandboxAttributes__AnnotationsEntry **)cri_map_new(
        &runtime__v1__pod_sandbox_attributes__annotations_entry__descriptor, ann, NULL, &a->n_annotations);
    return a;
}

/* Sums: what every member of the pod adds. */
struct pod_sum {
    unsigned long long cpu_ns, nano_cores, working_set, usage, rss, faults, major_faults;
    long long pids;
};

static void sum_add(struct pod_sum *s, const Runtime__V1__ContainerStats *c, long long pids)
{
    if (c->cpu != NULL) {
        s->cpu_ns += u64_of(c->cpu->usage_core_nano_seconds);
        s->nano_cores += u64_of(c->cpu->usage_nano_cores);
    }
    if (c->memory != NULL) {
        s->working_set += u64_of(c->memory->working_set_bytes);
        s->usage += u64_of(c->memory->usage_bytes);
        s->rss += u64_of(c->memory->rss_bytes);
        s->faults += u64_of(c->memory->page_faults);
        s->major_faults += u64_of(c->memory->major_page_faults);
    }
    s->pids += pids > 0 ? pids : 0;
}

static Runtime__V1__NetworkInterfaceUsage *iface_of(const json_t *j)
{
    Runtime__V1__NetworkInterfaceUsage *u = xmalloc(sizeof(*u));
    runtime__v1__network_interface_usage__init(u);
    u->name = cri_strdup(json_get_str(j, "name"));
    u->rx_bytes = u64((unsigned long long)json_integer_value(json_object_get(j, "rx_bytes")));
    u->rx_errors = u64((unsigned long long)json_integer_value(json_object_get(j, "rx_errors")));
    u->tx_bytes = u64((unsigned long long)json_integer_value(json_object_get(j, "tx_bytes")));
    u->tx_errors = u64((unsigned long long)json_integer_value(json_object_get(j, "tx_errors")));
    return u;
}

/* eth0 is the default interface, the others (extra networks) are listed beside it. */
static Runtime__V1__NetworkUsage *network_of(struct daemon *d, const char *id, int64_t now, struct isd_error **err)
{
    cleanup_json json_t *ifs = service_pod_net_stats(d, id, err);
    if (ifs == NULL)
        return NULL;
    Runtime__V1__NetworkUsage *n = xmalloc(sizeof(*n));
    runtime__v1__network_usage__init(n);
    n->timestamp = now;
    size_t i, cnt = json_array_size(ifs);
    json_t *j;
    n->interfaces = cnt > 0 ? xcalloc(cnt, sizeof(*n->interfaces)) : NULL;
    json_array_foreach(ifs, i, j)
    {
        if (streq(json_get_str(j, "name"), DEFAULT_IFNAME) && n->default_interface == NULL)
            n->default_interface = iface_of(j);
        else
            n->interfaces[n->n_interfaces++] = iface_of(j);
    }
    return n;
}

static void totals_set(Runtime__V1__LinuxPodSandboxStats *l, const struct pod_sum *s, int64_t now)
{
    l->cpu = xmalloc(sizeof(*l->cpu));
    runtime__v1__cpu_usage__init(l->cpu);
    l->cpu->timestamp = now;
    l->cpu->usage_core_nano_seconds = u64(s->cpu_ns);
    l->cpu->usage_nano_cores = u64(s->nano_cores);
    l->memory = xmalloc(sizeof(*l->memory));
    runtime__v1__memory_usage__init(l->memory);
    l->memory->timestamp = now;
    l->memory->working_set_bytes = u64(s->working_set);
    l->memory->usage_bytes = u64(s->usage);
    l->memory->rss_bytes = u64(s->rss);
    l->memory->page_faults = u64(s->faults);
    l->memory->major_page_faults = u64(s->major_faults);
    l->process = xmalloc(sizeof(*l->process));
    runtime__v1__process_usage__init(l->process);
    l->process->timestamp = now;
    l->process->process_count = u64((unsigned long long)s->pids);
}

/* The stats of pod id (its sandbox's labels given); a member that goes away meanwhile is left out. */
static Runtime__V1__PodSandboxStats *pod_stats_new(struct daemon *d, const char *id, const json_t *labels,
                                                   struct isd_error **err)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    struct pod_sum sum = {0};
    long long pids = 0;
    cleanup_json json_t *members = service_pod_container_list(d, NULL, id, "running", NULL, err);
    if (members == NULL)
        return NULL;
    Runtime__V1__LinuxPodSandboxStats *l = xmalloc(sizeof(*l));
    runtime__v1__linux_pod_sandbox_stats__init(l);
    l->network = network_of(d, id, now, err);
    if (l->network == NULL) {
        protobuf_c_message_free_unpacked(&l->base, NULL);
        return NULL;
    }
    Runtime__V1__ContainerStats *sb = cri_container_stats_new(d, id, NULL, &pids, err);
    if (sb == NULL) {
        protobuf_c_message_free_unpacked(&l->base, NULL);
        return NULL;
    }
    sum_add(&sum, sb, pids);
    protobuf_c_message_free_unpacked(&sb->base, NULL);
    size_t n = json_array_size(members), i;
    json_t *c;
    l->containers = n > 0 ? xcalloc(n, sizeof(*l->containers)) : NULL;
    json_array_foreach(members, i, c)
    {
        cleanup_error struct isd_error *e = NULL;
        Runtime__V1__ContainerStats *cs =
            cri_container_stats_new(d, json_get_str(c, "Id"), json_object_get(c, "Labels"), &pids, &e);
        if (cs == NULL)
            continue;
        sum_add(&sum, cs, pids);
        l->containers[l->n_containers++] = cs;
    }
    totals_set(l, &sum, now);
    Runtime__V1__PodSandboxStats *s = xmalloc(sizeof(*s));
    runtime__v1__pod_sandbox_stats__init(s);
    s->attributes = attributes_of(id, labels);
    s->linux = l;
    return s;
}

ProtobufCMessage *cri_pod_sandbox_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__PodSandboxStatsRequest *q = (const Runtime__V1__PodSandboxStatsRequest *)req;
    cleanup_json json_t *pod = service_pod_inspect(d, q->pod_sandbox_id, err);
    if (pod == NULL)
        return NULL;
    if (!json_is_true(json_object_get(json_object_get(pod, "State"), "Running"))) {
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "pod sandbox `%s` is not ready: no stats", q->pod_sandbox_id);
        return NULL;
    }
    Runtime__V1__PodSandboxStats *s =
        pod_stats_new(d, json_get_str(pod, "Id"), json_object_get(json_object_get(pod, "Config"), "Labels"), err);
    if (s == NULL)
        return NULL;
    Runtime__V1__PodSandboxStatsResponse *r = xmalloc(sizeof(*r));
    runtime__v1__pod_sandbox_stats_response__init(r);
    r->stats = s;
    return &r->base;
}

/* The ready pods the filter selects (id prefix, labels). */
ProtobufCMessage *cri_list_pod_sandbox_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ListPodSandboxStatsRequest *q = (const Runtime__V1__ListPodSandboxStatsRequest *)req;
    const Runtime__V1__PodSandboxStatsFilter *f = q->filter;
    cleanup_json json_t *sel = json_object();
    for (size_t i = 0; f != NULL && i < f->n_label_selector; i++)
        json_object_set_new(sel, f->label_selector[i]->key, json_string(f->label_selector[i]->value));
    cleanup_json json_t *list = service_pod_list(d, f != NULL ? f->id : NULL, 1, sel, err);
    if (list == NULL)
        return NULL;
    Runtime__V1__ListPodSandboxStatsResponse *r = xmalloc(sizeof(*r));
    runtime__v1__list_pod_sandbox_stats_response__init(r);
    size_t n = json_array_size(list), i;
    json_t *p;
    r->stats = n > 0 ? xcalloc(n, sizeof(*r->stats)) : NULL;
    json_array_foreach(list, i, p)
    {
        cleanup_error struct isd_error *e = NULL;
        Runtime__V1__PodSandboxStats *s = pod_stats_new(d, json_get_str(p, "Id"), json_object_get(p, "Labels"), &e);
        if (s != NULL)
            r->stats[r->n_stats++] = s;
    }
    return &r->base;
}
