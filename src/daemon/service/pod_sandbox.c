/* CRI pod sandboxes: a pod is its infra ("pause") container, made with the same create options as any other
 * container (Docker create body), on the pods' default CNI network unless it shares the node's; the pod's
 * identity is in labels (POD_LABEL_*), so pods survive a restart of isulad with the containers. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/network/netns.h"
#include "daemon/service/internal.h"

/* Serialises the first registration of the built-in pause image. */
static pthread_mutex_t pause_lock = PTHREAD_MUTEX_INITIALIZER;

/* isulad-pause, next to isulad-shim (both are installed beside isulad). */
static char *pause_program(struct daemon *d)
{
    const char *slash = strrchr(d->shim_path, '/');
    if (slash == NULL)
        return xstrdup(ISD_LIBEXEC_PAUSE);
    return xasprintf("%.*s/isulad-pause", (int)(slash - d->shim_path), d->shim_path);
}

/* The pause image: pod-sandbox-image when present or pullable, else the built-in one (registered at its first
 * use, so a daemon that never runs pods never builds it). */
static char *pod_image(struct daemon *d, struct isd_error **err)
{
    const char *want = d->cfg->pod_sandbox_image;
    cleanup_error struct isd_error *e = NULL;
    cleanup_json json_t *img = NULL;
    cleanup_free char *id = NULL;
    /* pod-sandbox-image set to the built-in image's name: no registry is asked */
    if (!streq(want, IMAGE_PAUSE_NAME)) {
        if ((img = service_image_inspect(d, want, &e)) != NULL)
            return xstrdup(want);
        isd_error_free(e);
        e = NULL;
        if ((id = service_image_pull_ref(d, want, NULL, NULL, NULL, &e)) != NULL)
            return xstrdup(want);
        log_warn("pod sandbox image `%s` unavailable (%s): using the built-in `%s`", want, e->msg, IMAGE_PAUSE_NAME);
    }
    cleanup_free char *prog = pause_program(d);
    pthread_mutex_lock(&pause_lock);
    int rc = image_store_ensure_pause(d->images, prog, err);
    pthread_mutex_unlock(&pause_lock);
    return rc == 0 ? xstrdup(IMAGE_PAUSE_NAME) : NULL;
}

static void pod_body_complete(json_t *body, const char *image)
{
    json_t *labels = json_object_get(body, "Labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(body, "Labels", labels);
    }
    json_object_set_new(labels, POD_TYPE_LABEL, json_string("sandbox"));
    json_object_set_new(body, "Image", json_string(image));
}

/* Sets the pod's network (the default CNI network) unless the body asks for the node's. */
static int pod_network_set(struct daemon *d, json_t *body, struct isd_error **err)
{
    json_t *hc = json_object_get(body, "HostConfig");
    if (streq(json_get_str(hc, "NetworkMode"), "host"))
        return 0;
    cleanup_free char *net = NULL;
    if (service_pod_network_default(d, &net, err) < 0)
        return isd_error_wrap(err, "pod network");
    json_object_set_new(hc, "NetworkMode", json_string(net));
    return 0;
}

int service_pod_run(struct daemon *d, const char *name, json_t *body, const char *extra_networks, char **ret_id,
                    struct isd_error **err)
{
    cleanup_free char *id = NULL;
    if (!json_is_object(json_object_get(body, "HostConfig")))
        json_object_set_new(body, "HostConfig", json_object());
    if (pod_network_set(d, body, err) < 0)
        return -1;
    cleanup_free char *image = pod_image(d, err);
    if (image == NULL)
        return isd_error_wrap(err, "pod sandbox image");
    pod_body_complete(body, image);
    if (service_container_create(d, name, body, &id, NULL, err) < 0)
        return isd_error_wrap(err, "create pod sandbox");
    bool host_net = streq(json_get_str(json_object_get(body, "HostConfig"), "NetworkMode"), "host");
    if ((extra_networks != NULL && !host_net && service_pod_network_extra(d, id, extra_networks, err) < 0) ||
        service_container_start(d, id, err) < 0) {
        /* a failed pod leaves nothing: the remove tears down the network attachment too */
        cleanup_error struct isd_error *e2 = NULL;
        if (service_container_remove(d, id, true, true, &e2) < 0)
            log_error("pod `%s`: remove after a failed start: %s", id, e2->msg);
        return isd_error_wrap(err, "start pod sandbox");
    }
    *ret_id = TAKE_PTR(id);
    return 0;
}

bool service_pod_is_sandbox(const struct container *c)
{
    return streq(json_get_str(json_object_get(c->config, "Labels"), POD_TYPE_LABEL), "sandbox");
}

json_t *service_pod_inspect_typed(struct daemon *d, const char *id, const char *type, const char *what,
                                  struct isd_error **err)
{
    cleanup_error struct isd_error *e = NULL;
    json_t *j = id != NULL && *id != '\0' ? service_container_inspect(d, id, &e) : NULL;
    const json_t *labels = json_object_get(json_object_get(j, "Config"), "Labels");
    if (j != NULL && streq(json_get_str(labels, POD_TYPE_LABEL), type))
        return j;
    json_decref(j);
    if (e != NULL && e->code != ISD_ERR_NOT_FOUND) {
        isd_error_set(err, e->code, e->errnum, "%s", e->msg);
        return NULL;
    }
    isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "%s `%s` not found", what, id != NULL ? id : "");
    return NULL;
}

json_t *service_pod_inspect(struct daemon *d, const char *id, struct isd_error **err)
{
    return service_pod_inspect_typed(d, id, "sandbox", "pod sandbox", err);
}

/* The full IDs of the containers of pod id (not the sandbox itself). */
static char **pod_members(struct daemon *d, const char *id)
{
    cleanup_free char *want = xasprintf("%s=%s", POD_SANDBOX_LABEL, id);
    cleanup_json json_t *f = json_pack("{s:[s]}", "label", want);
    cleanup_json json_t *list = service_container_list(d, true, f, 0, NULL);
    char **out = NULL;
    size_t i;
    json_t *c;
    json_array_foreach(list, i, c)
    {
        strv_append(&out, json_get_str(c, "Id"));
    }
    return out;
}

/* The pod's network release (CNI DEL of each attachment, then the namespace) in a thread of its own. */
struct pod_net_release {
    struct daemon *d;
    const char *id;
    pthread_t thread;
    bool started;
};

static void *pod_net_release_main(void *arg)
{
    struct pod_net_release *r = arg;
    service_network_stop(r->d, r->id);
    return NULL;
}

static void pod_net_release_start(struct pod_net_release *r)
{
    if (service_network_has_state(r->d, r->id))
        r->started = pthread_create(&r->thread, NULL, pod_net_release_main, r) == 0;
}

/* Done once the thread is; without a thread, here and now. */
static void pod_net_release_finish(struct pod_net_release *r)
{
    if (r->started)
        pthread_join(r->thread, NULL);
    else
        service_network_stop(r->d, r->id);
    r->started = false;
}

static int pod_stop_containers(struct daemon *d, const char *full, struct isd_error **err)
{
    cleanup_strv char **members = pod_members(d, full);
    for (size_t i = 0; members != NULL && members[i] != NULL; i++) {
        cleanup_error struct isd_error *e = NULL;
        if (service_container_stop(d, members[i], 0, &e) < 0 && e->code != ISD_ERR_NOT_MODIFIED &&
            e->code != ISD_ERR_NOT_FOUND)
            return isd_error_set(err, e->code, e->errnum, "stop pod `%s`: %s", full, e->msg);
    }
    cleanup_error struct isd_error *e = NULL;
    if (service_container_stop(d, full, 0, &e) < 0 && e->code != ISD_ERR_NOT_MODIFIED)
        return isd_error_set(err, e->code, e->errnum, "stop pod `%s`: %s", full, e->msg);
    return 0;
}

/* Stops the pod's containers and its sandbox (at once: the grace periods were kubelet's business before) and
 * releases the pod's network (CNI DEL; a plugin that fails is logged and retried at remove). The release runs
 * while the containers are killed: their processes are ended without a grace period, so none of them has any use
 * for the network any more, and the namespace stays (pinned under the network module's directory, removed only
 * after the DELs) whether they are still alive or not. Answers once both are done. Idempotent. */
int service_pod_stop(struct daemon *d, const char *id, struct isd_error **err)
{
    cleanup_json json_t *pod = service_pod_inspect(d, id, err);
    if (pod == NULL)
        return -1;
    struct pod_net_release rel = {.d = d, .id = json_get_str(pod, "Id")};
    pod_net_release_start(&rel);
    int rc = pod_stop_containers(d, rel.id, err);
    pod_net_release_finish(&rel);
    return rc;
}

/* Removes the pod's containers and its sandbox, with whatever network state is left. Idempotent: an unknown
 * pod is not an error. */
int service_pod_remove(struct daemon *d, const char *id, struct isd_error **err)
{
    cleanup_error struct isd_error *e = NULL;
    cleanup_json json_t *pod = service_pod_inspect(d, id, &e);
    if (pod == NULL)
        return e->code == ISD_ERR_NOT_FOUND ? 0 : isd_error_set(err, e->code, e->errnum, "%s", e->msg);
    const char *full = json_get_str(pod, "Id");
    cleanup_strv char **members = pod_members(d, full);
    for (size_t i = 0; members != NULL && members[i] != NULL; i++)
        if (service_container_remove(d, members[i], true, true, err) < 0 && (*err)->code != ISD_ERR_NOT_FOUND)
            return isd_error_wrap(err, "remove pod `%s`", full);
    isd_error_free(*err);
    *err = NULL;
    if (service_container_remove(d, full, true, true, err) < 0)
        return isd_error_wrap(err, "remove pod `%s`", full);
    return 0;
}

/* Pods (container summaries, newest first) whose ID starts with id_prefix (may be NULL), that are running or not
 * (state: -1 any, 1 running, 0 not running) and that carry every label of selector (object of strings, may be
 * NULL). */
json_t *service_pod_list(struct daemon *d, const char *id_prefix, int state, const json_t *selector,
                         struct isd_error **err)
{
    cleanup_json json_t *f = json_pack("{s:[s]}", "label", POD_TYPE_LABEL "=sandbox");
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
        bool running = streq(json_get_str(c, "State"), "running");
        const json_t *labels = json_object_get(c, "Labels");
        bool ok = state < 0 || (state == 1) == running;
        ok = ok && service_labels_match(labels, selector);
        if (ok)
            json_array_append(out, c);
    }
    json_decref(all);
    return out;
}

bool service_labels_match(const json_t *labels, const json_t *selector)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)selector, k, v)
    {
        if (!streq(json_get_str(labels, k), json_string_value(v)))
            return false;
    }
    return true;
}

json_t *service_pod_net_stats(struct daemon *d, const char *id, struct isd_error **err)
{
    cleanup_json json_t *pod = service_pod_inspect(d, id, err);
    if (pod == NULL)
        return NULL;
    const json_t *st = json_object_get(pod, "State");
    json_int_t pid = json_integer_value(json_object_get(st, "Pid"));
    if (streq(json_get_str(json_object_get(pod, "HostConfig"), "NetworkMode"), "host") ||
        !json_is_true(json_object_get(st, "Running")) || pid <= 0)
        return json_array();
    return netns_dev_stats((pid_t)pid, err);
}
