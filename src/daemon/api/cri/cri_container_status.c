/* RuntimeService ListContainers, ContainerStatus, ContainerStats and ListContainerStats: CRI messages from the
 * service's container JSON. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

static Runtime__V1__ContainerState state_of(const char *docker_state)
{
    if (streq(docker_state, "created"))
        return RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED;
    if (streq(docker_state, "running") || streq(docker_state, "paused") || streq(docker_state, "restarting"))
        return RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
    if (streq(docker_state, "exited") || streq(docker_state, "dead"))
        return RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
    return RUNTIME__V1__CONTAINER_STATE__CONTAINER_UNKNOWN;
}

static const char *docker_state_of(Runtime__V1__ContainerState s)
{
    static const char *const names[] = {"created", "running", "exited"};
    return s <= RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED ? names[s] : "unknown";
}

static Runtime__V1__ContainerMetadata *metadata_of(const json_t *labels)
{
    const char *text = json_get_str(labels, CRI_META_LABEL);
    cleanup_json json_t *j = text != NULL ? json_parse(text, strlen(text), NULL) : NULL;
    Runtime__V1__ContainerMetadata *m = xmalloc(sizeof(*m));
    runtime__v1__container_metadata__init(m);
    m->name = cri_strdup(json_get_str(j, "name"));
    m->attempt = (uint32_t)json_integer_value(json_object_get(j, "attempt"));
    return m;
}

static json_t *annotations_of(const json_t *labels)
{
    const char *text = json_get_str(labels, CRI_ANNOTATIONS_LABEL);
    json_t *j = text != NULL ? json_parse(text, strlen(text), NULL) : NULL;
    return j != NULL ? j : json_object();
}

static Runtime__V1__ImageSpec *image_spec(const char *image)
{
    Runtime__V1__ImageSpec *s = xmalloc(sizeof(*s));
    runtime__v1__image_spec__init(s);
    s->image = cri_strdup(image);
    return s;
}

static Runtime__V1__Container *container_of_summary(const json_t *c)
{
    const json_t *labels = json_object_get(c, "Labels");
    cleanup_json json_t *ann = annotations_of(labels);
    Runtime__V1__Container *o = xmalloc(sizeof(*o));
    runtime__v1__container__init(o);
    o->id = cri_strdup(json_get_str(c, "Id"));
    o->pod_sandbox_id = cri_strdup(json_get_str(labels, CRI_SANDBOX_LABEL));
    o->metadata = metadata_of(labels);
    o->image = image_spec(json_get_str(c, "Image"));
    o->image_ref = cri_strdup(json_get_str(c, "ImageID"));
    o->state = state_of(json_get_str(c, "State"));
    o->created_at = json_integer_value(json_object_get(c, "Created")) * 1000000000LL;
    o->labels = (Runtime__V1__Container__LabelsEntry **)cri_map_new(&runtime__v1__container__labels_entry__descriptor,
                                                                    labels, CRI_OWN_LABEL_PREFIX, &o->n_labels);
    o->annotations = (Runtime__V1__Container__AnnotationsEntry **)cri_map_new(
        &runtime__v1__container__annotations_entry__descriptor, ann, NULL, &o->n_annotations);
    return o;
}

ProtobufCMessage *cri_list_containers(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ListContainersRequest *q = (const Runtime__V1__ListContainersRequest *)req;
    const Runtime__V1__ContainerFilter *f = q->filter;
    const char *state = f != NULL && f->state != NULL ? docker_state_of(f->state->state) : NULL;
    cleanup_json json_t *sel = f != NULL ? json_object() : NULL;
    for (size_t i = 0; f != NULL && i < f->n_label_selector; i++)
        json_object_set_new(sel, f->label_selector[i]->key, json_string(f->label_selector[i]->value));
    cleanup_json json_t *list =
        service_pod_container_list(d, f != NULL ? f->id : NULL, f != NULL ? f->pod_sandbox_id : NULL, state, sel, err);
    if (list == NULL)
        return NULL;
    Runtime__V1__ListContainersResponse *r = xmalloc(sizeof(*r));
    runtime__v1__list_containers_response__init(r);
    size_t n = json_array_size(list);
    r->containers = n > 0 ? xcalloc(n, sizeof(*r->containers)) : NULL;
    for (size_t i = 0; i < n; i++)
        r->containers[r->n_containers++] = container_of_summary(json_array_get(list, i));
    return &r->base;
}

/* Nanoseconds of an RFC 3339 time; 0 for none (Docker's zero time is year 1). */
static int64_t time_ns(const char *s)
{
    long long ns = 0;
    if (s == NULL || time_parse_rfc3339(s, &ns) < 0 || ns < 0)
        return 0;
    return ns;
}

static void mounts_set(Runtime__V1__ContainerStatus *s, const json_t *mounts)
{
    size_t n = json_array_size(mounts), i;
    json_t *m;
    s->mounts = n > 0 ? xcalloc(n, sizeof(*s->mounts)) : NULL;
    json_array_foreach(mounts, i, m)
    {
        Runtime__V1__Mount *o = xmalloc(sizeof(*o));
        runtime__v1__mount__init(o);
        o->container_path = cri_strdup(json_get_str(m, "Destination"));
        o->host_path = cri_strdup(json_get_str(m, "Source"));
        o->readonly = !json_get_bool(m, "RW", true);
        s->mounts[s->n_mounts++] = o;
    }
}

static void state_set(Runtime__V1__ContainerStatus *s, const json_t *st)
{
    s->state = state_of(json_get_str(st, "Status"));
    s->started_at = time_ns(json_get_str(st, "StartedAt"));
    s->finished_at =
        s->state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED ? time_ns(json_get_str(st, "FinishedAt")) : 0;
    s->exit_code = (int32_t)json_integer_value(json_object_get(st, "ExitCode"));
    if (s->state != RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED)
        return;
    s->reason = xstrdup(json_get_bool(st, "OOMKilled", false) ? "OOMKilled"
                        : s->exit_code == 0                   ? "Completed"
                                                              : "Error");
    s->message = cri_strdup(json_get_str(st, "Error"));
}

ProtobufCMessage *cri_container_status(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ContainerStatusRequest *q = (const Runtime__V1__ContainerStatusRequest *)req;
    cleanup_json json_t *j = service_pod_container_inspect(d, q->container_id, err);
    if (j == NULL)
        return NULL;
    const json_t *cfg = json_object_get(j, "Config");
    const json_t *labels = json_object_get(cfg, "Labels");
    cleanup_json json_t *ann = annotations_of(labels);
    Runtime__V1__ContainerStatus *s = xmalloc(sizeof(*s));
    runtime__v1__container_status__init(s);
    s->id = cri_strdup(json_get_str(j, "Id"));
    s->metadata = metadata_of(labels);
    s->created_at = time_ns(json_get_str(j, "Created"));
    state_set(s, json_object_get(j, "State"));
    s->image = image_spec(json_get_str(cfg, "Image"));
    s->image_ref = cri_strdup(json_get_str(j, "Image"));
    s->labels = (Runtime__V1__ContainerStatus__LabelsEntry **)cri_map_new(
        &runtime__v1__container_status__labels_entry__descriptor, labels, CRI_OWN_LABEL_PREFIX, &s->n_labels);
    s->annotations = (Runtime__V1__ContainerStatus__AnnotationsEntry **)cri_map_new(
        &runtime__v1__container_status__annotations_entry__descriptor, ann, NULL, &s->n_annotations);
    mounts_set(s, json_object_get(j, "Mounts"));
    s->log_path = cri_strdup(json_get_str(labels, CRI_LOG_LABEL));
    Runtime__V1__ContainerStatusResponse *r = xmalloc(sizeof(*r));
    runtime__v1__container_status_response__init(r);
    r->status = s;
    if (q->verbose) {
        json_t *info = cri_container_info(d, j, err);
        if (info == NULL) {
            protobuf_c_message_free_unpacked(&r->base, NULL);
            return NULL;
        }
        r->info = (Runtime__V1__ContainerStatusResponse__InfoEntry **)cri_info_new(
            &runtime__v1__container_status_response__info_entry__descriptor, info, &r->n_info);
    }
    return &r->base;
}

static Runtime__V1__UInt64Value *u64(long long v)
{
    Runtime__V1__UInt64Value *u = xmalloc(sizeof(*u));
    runtime__v1__uint64_value__init(u);
    u->value = v > 0 ? (uint64_t)v : 0;
    return u;
}

/* The first of keys present in a memory.stat object (cgroup v1 and v2 name things differently). */
static long long mem_stat(const json_t *st, const char *const *keys)
{
    for (; *keys != NULL; keys++)
        if (json_is_integer(json_object_get(st, *keys)))
            return json_integer_value(json_object_get(st, *keys));
    return 0;
}

static Runtime__V1__MemoryUsage *memory_of(const json_t *m, int64_t now)
{
    const json_t *st = json_object_get(m, "stats");
    long long usage = json_integer_value(json_object_get(m, "usage"));
    long long inactive = mem_stat(st, (const char *const[]){"total_inactive_file", "inactive_file", NULL});
    Runtime__V1__MemoryUsage *o = xmalloc(sizeof(*o));
    runtime__v1__memory_usage__init(o);
    o->timestamp = now;
    /* kubelet's working set: what the kernel could not simply drop */
    o->working_set_bytes = u64(usage > inactive ? usage - inactive : 0);
    o->usage_bytes = u64(usage);
    o->rss_bytes = u64(mem_stat(st, (const char *const[]){"total_rss", "rss", "anon", NULL}));
    o->page_faults = u64(mem_stat(st, (const char *const[]){"total_pgfault", "pgfault", NULL}));
    o->major_page_faults = u64(mem_stat(st, (const char *const[]){"total_pgmajfault", "pgmajfault", NULL}));
    return o;
}

/* CRI-M38/M42: the bytes and inodes of the container's upper directory, which is the storage id (as containerd's
 * snapshot usage); none for a container without one. */
static Runtime__V1__FilesystemUsage *writable_layer_of(struct daemon *d, const char *id, int64_t now)
{
    cleanup_error struct isd_error *e = NULL;
    char *dir = NULL;
    long long bytes = 0, inodes = 0;
    if (service_container_rw_usage(d, id, &dir, &bytes, &inodes, &e) < 0)
        return NULL;
    Runtime__V1__FilesystemUsage *o = xmalloc(sizeof(*o));
    runtime__v1__filesystem_usage__init(o);
    o->timestamp = now;
    o->fs_id = xmalloc(sizeof(*o->fs_id));
    runtime__v1__filesystem_identifier__init(o->fs_id);
    o->fs_id->mountpoint = dir;
    o->used_bytes = u64(bytes);
    o->inodes_used = u64(inodes);
    return o;
}

/* CPU time of a stats sample's cpu_stats or precpu_stats. */
static long long cpu_total(const json_t *s, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(json_object_get(s, key), "cpu_usage"), "total_usage"));
}

/* Cores in use (nanocores) between the sample's two reads (the service takes them 200 ms apart). */
static long long nano_cores(const json_t *s)
{
    long long t0 = 0, t1 = 0;
    const char *pre = json_get_str(s, "preread"), *now = json_get_str(s, "read");
    if (pre == NULL || now == NULL || time_parse_rfc3339(pre, &t0) < 0 || time_parse_rfc3339(now, &t1) < 0 ||
        t1 <= t0 || t0 <= 0)
        return 0;
    long long used = cpu_total(s, "cpu_stats") - cpu_total(s, "precpu_stats");
    return used > 0 ? (long long)((double)used * 1e9 / (double)(t1 - t0)) : 0;
}

Runtime__V1__ContainerStats *cri_container_stats_new(struct daemon *d, const char *id, const json_t *labels,
                                                     long long *ret_pids, struct isd_error **err)
{
    cleanup_json json_t *s = service_container_stats_once(d, id, err);
    if (s == NULL)
        return NULL;
    if (ret_pids != NULL)
        *ret_pids = json_integer_value(json_object_get(json_object_get(s, "pids_stats"), "current"));
    cleanup_json json_t *ann = annotations_of(labels);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    Runtime__V1__ContainerStats *o = xmalloc(sizeof(*o));
    runtime__v1__container_stats__init(o);
    o->attributes = xmalloc(sizeof(*o->attributes));
    runtime__v1__container_attributes__init(o->attributes);
    o->attributes->id = xstrdup(id);
    o->attributes->metadata = metadata_of(labels);
    o->attributes->labels = (Runtime__V1__ContainerAttributes__LabelsEntry **)cri_map_new(
        &runtime__v1__container_attributes__labels_entry__descriptor, labels, CRI_OWN_LABEL_PREFIX,
        &o->attributes->n_labels);
    o->attributes->annotations = (Runtime__V1__ContainerAttributes__AnnotationsEntry **)cri_map_new(
        &runtime__v1__container_attributes__annotations_entry__descriptor, ann, NULL, &o->attributes->n_annotations);
    o->cpu = xmalloc(sizeof(*o->cpu));
    runtime__v1__cpu_usage__init(o->cpu);
    o->cpu->timestamp = now;
    o->cpu->usage_core_nano_seconds = u64(cpu_total(s, "cpu_stats"));
    o->cpu->usage_nano_cores = u64(nano_cores(s));
    o->memory = memory_of(json_object_get(s, "memory_stats"), now);
    o->writable_layer = writable_layer_of(d, id, now);
    return o;
}

ProtobufCMessage *cri_container_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ContainerStatsRequest *q = (const Runtime__V1__ContainerStatsRequest *)req;
    cleanup_json json_t *j = service_pod_container_inspect(d, q->container_id, err);
    if (j == NULL)
        return NULL;
    Runtime__V1__ContainerStats *s = cri_container_stats_new(
        d, json_get_str(j, "Id"), json_object_get(json_object_get(j, "Config"), "Labels"), NULL, err);
    if (s == NULL)
        return NULL;
    Runtime__V1__ContainerStatsResponse *r = xmalloc(sizeof(*r));
    runtime__v1__container_stats_response__init(r);
    r->stats = s;
    return &r->base;
}

/* Stats of the running CRI containers the filter selects (a container that goes away meanwhile is left out). */
ProtobufCMessage *cri_list_container_stats(struct daemon *d, const ProtobufCMessage *req, struct isd_error **err)
{
    const Runtime__V1__ListContainerStatsRequest *q = (const Runtime__V1__ListContainerStatsRequest *)req;
    const Runtime__V1__ContainerStatsFilter *f = q->filter;
    cleanup_json json_t *sel = json_object();
    for (size_t i = 0; f != NULL && i < f->n_label_selector; i++)
        json_object_set_new(sel, f->label_selector[i]->key, json_string(f->label_selector[i]->value));
    cleanup_json json_t *list = service_pod_container_list(d, f != NULL ? f->id : NULL,
                                                           f != NULL ? f->pod_sandbox_id : NULL, "running", sel, err);
    if (list == NULL)
        return NULL;
    Runtime__V1__ListContainerStatsResponse *r = xmalloc(sizeof(*r));
    runtime__v1__list_container_stats_response__init(r);
    size_t n = json_array_size(list), i;
    json_t *c;
    r->stats = n > 0 ? xcalloc(n, sizeof(*r->stats)) : NULL;
    json_array_foreach(list, i, c)
    {
        cleanup_error struct isd_error *e = NULL;
        Runtime__V1__ContainerStats *s =
            cri_container_stats_new(d, json_get_str(c, "Id"), json_object_get(c, "Labels"), NULL, &e);
        if (s != NULL)
            r->stats[r->n_stats++] = s;
    }
    return &r->base;
}
