/* Container create, inspect, list, rename: the parts that touch no runtime. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cdi_name.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/image/reference.h"
#include "daemon/service/internal.h"
#include "daemon/service/volumes.h"
#include "daemon/spec/spec.h"
#include "daemon/spec/spec_cdi.h"
#include "daemon/storage/layer_store.h"

static int check_runtime(struct daemon *d, const json_t *body, const json_t *hc, char **ret_name,
                         struct isd_error **err)
{
    const char *name = json_get_str(hc, "Runtime");
    const struct isd_runtime_conf *r;
    if (name == NULL || *name == '\0')
        name = d->cfg->default_runtime;
    r = isd_config_runtime(d->cfg, name);
    if (r == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown or invalid runtime name: %s", name);
    if (r->vm && container_check_vm_runtime(r->name, body, hc, err) < 0)
        return -1;
    *ret_name = xstrdup(r->name);
    return 0;
}

static int check_external_rootfs(const char *path, struct isd_error **err)
{
    struct stat st;
    if (path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "external rootfs `%s` must be an absolute path", path);
    if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "external rootfs `%s` is not a directory", path);
    return 0;
}

/* Resolves the image (or external rootfs) and fills the container's image fields and merged config. */
static int prepare_image(struct daemon *d, struct container *c, const json_t *body, struct image **ret_img,
                         struct isd_error **err)
{
    const char *image = json_get_str(body, "Image");
    const char *external = json_get_str(body, "ExternalRootfs");
    struct image *img = NULL;
    if (external != NULL && *external != '\0') {
        if (check_external_rootfs(external, err) < 0)
            return -1;
        c->external_rootfs = xstrdup(external);
        c->image_ref = xstrdup(image ? image : "none");
    } else {
        if (image == NULL || *image == '\0')
            return isd_error_set(err, ISD_ERR_INVALID, 0, "no image specified");
        img = image_store_lookup(d->images, image, err);
        if (img == NULL)
            return -1;
        c->image_ref = xstrdup(image);
        c->image_id = xstrdup(img->id);
    }
    c->config = spec_merge_config(img ? img->config : NULL, body, c->id, err);
    if (c->config == NULL) {
        image_free(img);
        return -1;
    }
    *ret_img = img;
    return 0;
}

/* The daemon's default-ulimits (D-41, "name=soft:hard") for every type the container does not set itself. */
static void apply_default_ulimits(const struct isd_config *cfg, json_t *hc)
{
    json_t *ul = json_object_get(hc, "Ulimits");
    for (size_t i = 0; cfg->default_ulimits != NULL && cfg->default_ulimits[i] != NULL; i++) {
        const char *spec = cfg->default_ulimits[i];
        const char *eq = strchr(spec, '=');
        long long soft = 0, hard = 0;
        cleanup_free char *name = NULL;
        bool have = false;
        size_t k;
        json_t *e;
        if (eq == NULL || sscanf(eq + 1, "%lld:%lld", &soft, &hard) != 2)
            continue;
        name = xstrndup(spec, (size_t)(eq - spec));
        json_array_foreach(ul, k, e)
        {
            have = have || streq(json_get_str(e, "Name"), name);
        }
        if (have)
            continue;
        if (!json_is_array(ul)) {
            ul = json_array();
            json_object_set_new(hc, "Ulimits", ul);
        }
        json_array_append_new(
            ul, json_pack("{s:s, s:I, s:I}", "Name", name, "Soft", (json_int_t)soft, "Hard", (json_int_t)hard));
    }
}

/* A HostConfig.Devices entry naming a CDI device (`vendor.com/class=name` as PathOnHost, what an older client
 * sends for `--device vendor.com/class=name`) becomes a DeviceRequests entry of the cdi driver, the form Docker
 * 25's CLI sends and inspect shows. A relative PathOnHost with `=` that is no valid name is refused as one. */
static int devices_to_cdi_requests(json_t *hc, struct isd_error **err)
{
    json_t *devs = json_object_get(hc, "Devices"), *reqs;
    cleanup_json json_t *ids = json_array();
    for (size_t i = json_array_size(devs); i > 0; i--) {
        const char *host = json_get_str(json_array_get(devs, i - 1), "PathOnHost");
        cleanup_free char *kind = NULL, *name = NULL;
        if (host == NULL || host[0] == '/' || strchr(host, '=') == NULL)
            continue;
        if (cdi_name_parse(host, &kind, &name, err) < 0)
            return -1;
        json_array_insert_new(ids, 0, json_string(host));
        json_array_remove(devs, i - 1);
    }
    if (json_array_size(ids) == 0)
        return 0;
    reqs = json_object_get(hc, "DeviceRequests");
    if (!json_is_array(reqs)) {
        reqs = json_array();
        json_object_set_new(hc, "DeviceRequests", reqs);
    }
    json_array_append_new(reqs, json_pack("{s:s, s:O}", "Driver", CDI_DRIVER, "DeviceIDs", ids));
    return 0;
}

/* Generates the OCI spec once at create (without resolving the user and groups, which needs the mounted rootfs), so
 * bad mounts, devices, resources and ulimits are refused now, as Docker does, and not at the first start. */
static int validate_spec(struct daemon *d, struct container *c, struct isd_error **err)
{
    cleanup_json json_t *cfg = json_deep_copy(c->config);
    cleanup_free char *rootfs =
        c->external_rootfs ? xstrdup(c->external_rootfs) : xasprintf("%s/overlay/%s/merged", d->storage_root, c->id);
    struct spec_input in;
    json_t *spec;
    cleanup_json json_t *hc = service_volumes_host_config(d, c, NULL, err); /* volumes as host paths */
    json_object_del(cfg, "User");
    if (hc == NULL)
        return -1;
    json_object_del(hc, "GroupAdd"); /* group names too are resolved at start, in the mounted rootfs */
    service_spec_input(d, c, rootfs, cfg, &in);
    in.host_config = hc;
    in.container_dir = NULL; /* no /etc files to write for a check: start writes them */
    spec = spec_generate(&in, err);
    if (spec != NULL)
        service_apparmor_record(c, spec);
    json_decref(spec);
    return spec == NULL ? -1 : 0;
}

/* The relabel word (z or Z) of a bind: the last field of -v's mode, or --mount's BindOptions.Relabel. */
static const char *relabel_of(const json_t *bind_or_mount, char *buf, size_t size)
{
    const char *s = json_string_value(bind_or_mount), *mode;
    if (s == NULL)
        return json_get_str(json_object_get(bind_or_mount, "BindOptions"), "Relabel");
    mode = strrchr(s, ':');
    if (mode == NULL || mode == strchr(s, ':'))
        return NULL; /* "src:dst" has no mode */
    for (const char *p = mode + 1; *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] != '\0')) {
        if ((p[0] == 'z' || p[0] == 'Z') && (p[1] == ',' || p[1] == '\0')) {
            snprintf(buf, size, "%c", p[0]);
            return buf;
        }
    }
    return NULL;
}

/* z/Z ask for an SELinux relabel of the source. Without SELinux on the host (or selinux-enabled off) they are
 * accepted and do nothing, as Docker's; relabelling itself is not implemented (docs/cli.md). Logged once. */
static void log_relabel(struct daemon *d, const struct container *c)
{
    const char *keys[] = {"Binds", "Mounts"};
    bool active = d->cfg->selinux_enabled && path_exists("/sys/fs/selinux/enforce");
    size_t i;
    json_t *e;
    char buf[2];
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
        json_array_foreach(json_object_get(c->host_config, keys[k]), i, e)
        {
            const char *r = relabel_of(e, buf, sizeof(buf));
            if (r == NULL)
                continue;
            log_info("container `%s`: mount relabel `%s` ignored: %s", c->id, r,
                     active ? "relabelling is not implemented" : "SELinux is not enabled");
        }
    }
}

int service_container_create(struct daemon *d, const char *name, const json_t *body, char **ret_id, json_t *warnings,
                             struct isd_error **err)
{
    cleanup_json json_t *dropped = json_array();
    cleanup_free char *id = random_hex(64);
    cleanup_container struct container *c = NULL;
    struct image *img = NULL;
    const json_t *hc = json_object_get(body, "HostConfig");
    int rc = -1;

    if (!json_is_object(body))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "request body must be a JSON object");
    if (hc != NULL && !json_is_object(hc) && !json_is_null(hc))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "HostConfig must be a JSON object");
    if (name != NULL && *name != '\0') {
        if (name[0] == '/')
            name++;
        if (!container_name_valid(name))
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", name);
    } else {
        name = id; /* the guide's default: the name is the full ID */
    }
    c = container_new(id, name, d->cfg->graph, d->cfg->state);
    c->created_ns = now_ns();
    c->host_config = json_is_object(hc) ? json_deep_copy(hc) : json_object();
    apply_default_ulimits(d->cfg, c->host_config);
    if (devices_to_cdi_requests(c->host_config, err) < 0)
        return -1;
    /* The daemon's hook-spec (D-12) applies to every container that names none of its own. */
    if (d->cfg->hook_spec != NULL && json_get_str(c->host_config, "HookSpec") == NULL)
        json_object_set_new(c->host_config, "HookSpec", json_string(d->cfg->hook_spec));
    if (check_runtime(d, body, c->host_config, &c->runtime, err) < 0)
        return -1;
    if (prepare_image(d, c, body, &img, err) < 0)
        return -1;
    service_resources_discard(c->host_config, warnings != NULL ? warnings : dropped);
    if (container_check_settings(c->config, c->host_config, err) < 0 ||
        service_resources_check(c->host_config, err) < 0 || service_network_check_mode(d, c->host_config, err) < 0 ||
        service_ns_check_create(d, body, c->host_config, err) < 0 ||
        service_userns_check_create(d, c->host_config, err) < 0)
        goto out;
    if (container_store_add(d->containers, c, err) < 0)
        goto out;
    if (mkdir_p(c->dir, 0700, err) < 0 || service_volumes_from_create(d, c, err) < 0 || validate_spec(d, c, err) < 0 ||
        service_network_save_aliases(d, c, body, err) < 0)
        goto fail;
    if (c->external_rootfs == NULL && (rootfs_create(d->layers, c->id, img->top_layer, err) < 0 ||
                                       service_rootfs_quota(d, c->id, c->host_config, err) < 0))
        goto fail;
    log_relabel(d, c);
    pthread_mutex_lock(&c->lock);
    rc = container_save(c, true, err);
    if (rc == 0)
        service_container_event(c, "create", NULL);
    pthread_mutex_unlock(&c->lock);
    if (rc < 0)
        goto fail;
    *ret_id = TAKE_PTR(id);
    rc = 0;
    goto out;
fail:
    container_store_remove(d->containers, c);
    if (c->external_rootfs == NULL)
        rootfs_remove(d->layers, c->id, NULL);
    rm_rf(c->dir, NULL);
out:
    image_free(img);
    return rc;
}

json_t *service_container_inspect(struct daemon *d, const char *ref, struct isd_error **err)
{
    cleanup_container struct container *c = container_store_lookup(d->containers, ref, err);
    cleanup_free char *gd = NULL;
    json_t *j;
    if (c == NULL)
        return NULL;
    if (c->external_rootfs == NULL)
        gd = xasprintf("%s/overlay/%s", d->storage_root, c->id);
    pthread_mutex_lock(&c->lock);
    j = container_inspect_json(c, gd);
    pthread_mutex_unlock(&c->lock);
    service_volumes_inspect_mounts(d, c->id, j);
    service_network_settings(d, c->id, j);
    service_resources_inspect(json_object_get(j, "HostConfig"));
    return j;
}

/* Docker filters: {"key": ["v1", ...]} (or the old {"key": {"v1": true}} form). */
static bool filter_values_match(const json_t *vals, bool (*match)(struct container *, const char *),
                                struct container *c)
{
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_array(vals)) {
        json_array_foreach(vals, i, v)
        {
            if (json_is_string(v) && match(c, json_string_value(v)))
                return true;
        }
        return false;
    }
    json_object_foreach((json_t *)vals, k, v)
    {
        if (match(c, k))
            return true;
    }
    return false;
}

static bool match_id(struct container *c, const char *v)
{
    return str_has_prefix(c->id, v);
}

/* Docker's name filter is a regular expression, matched against "/name" and "name". */
static bool match_name(struct container *c, const char *v)
{
    regex_t re;
    bool hit;
    cleanup_free char *slashed = xasprintf("/%s", c->name);
    if (regcomp(&re, v, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    hit = regexec(&re, c->name, 0, NULL, 0) == 0 || regexec(&re, slashed, 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}

static bool match_status(struct container *c, const char *v)
{
    return streq(v, container_status_docker(c->status)) || streq(v, container_status_isula(c->status));
}

static bool match_label(struct container *c, const char *v)
{
    return json_labels_match(json_object_get(c->config, "Labels"), (char *const[]){(char *)v, NULL});
}

/* v is the user's reference, its normalised form or an image ID (service_filters_expand_ancestor adds them). */
static bool match_ancestor(struct container *c, const char *v)
{
    cleanup_free char *norm = reference_normalize(c->image_ref, NULL);
    if (streq(c->image_ref, v) || (norm != NULL && streq(norm, v)))
        return true;
    return c->image_id != NULL && (str_has_prefix(c->image_id, v) ||
                                   (str_has_prefix(c->image_id, "sha256:") && str_has_prefix(c->image_id + 7, v)));
}

static bool match_exited(struct container *c, const char *v)
{
    long long code;
    return c->status == CT_EXITED && parse_int64(v, &code) == 0 && code == c->exit_code;
}

static const struct {
    const char *key;
    bool (*match)(struct container *, const char *);
} filter_table[] = {
    {"id", match_id},       {"name", match_name},         {"status", match_status},
    {"label", match_label}, {"ancestor", match_ancestor}, {"exited", match_exited},
};

static int check_filters(const json_t *filters, struct isd_error **err)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)filters, k, v)
    {
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(filter_table); i++)
            known = known || streq(k, filter_table[i].key);
        if (!known)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter '%s'", k);
    }
    return service_filters_check_regex(filters, "name", err);
}

/* Docker's label filters: every one of them must match (the other keys match any of their values). */
static bool labels_match_all(const json_t *vals, struct container *c)
{
    const char *k;
    json_t *v;
    size_t i;
    json_array_foreach(vals, i, v)
    {
        if (!json_is_string(v) || !match_label(c, json_string_value(v)))
            return false;
    }
    json_object_foreach((json_t *)vals, k, v)
    {
        if (!match_label(c, k))
            return false;
    }
    return true;
}

static bool filters_match(const json_t *filters, struct container *c)
{
    for (size_t i = 0; i < ARRAY_SIZE(filter_table); i++) {
        json_t *vals = json_object_get(filters, filter_table[i].key);
        if (vals == NULL)
            continue;
        if (streq(filter_table[i].key, "label") ? !labels_match_all(vals, c)
                                                : !filter_values_match(vals, filter_table[i].match, c))
            return false;
    }
    return true;
}

static int by_created_desc(const void *a, const void *b)
{
    const struct container *x = *(struct container *const *)a, *y = *(struct container *const *)b;
    return x->created_ns < y->created_ns ? 1 : x->created_ns > y->created_ns ? -1 : 0;
}

json_t *service_container_list(struct daemon *d, bool all, const json_t *filters, int limit, struct isd_error **err)
{
    size_t n = 0;
    struct container **v;
    json_t *out;
    if (filters != NULL && (!json_is_object(filters) || check_filters(filters, err) < 0)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filters");
        return NULL;
    }
    cleanup_json json_t *expanded = filters ? service_filters_expand_ancestor(d, filters, "ancestor") : NULL;
    filters = expanded;
    v = container_store_list(d->containers, &n);
    qsort(v, n, sizeof(*v), by_created_desc);
    out = json_array();
    for (size_t i = 0; i < n; i++) {
        struct container *c = v[i];
        pthread_mutex_lock(&c->lock);
        /* A limit (ps -n, -l) or a status filter shows every state, as Docker does. */
        bool show =
            (all || limit > 0 || container_is_active(c) || (filters != NULL && json_object_get(filters, "status"))) &&
            (filters == NULL || filters_match(filters, c));
        json_t *item = NULL;
        if (show && (limit <= 0 || (int)json_array_size(out) < limit))
            json_array_append_new(out, item = container_summary_json(c));
        pthread_mutex_unlock(&c->lock);
        if (item != NULL)
            service_network_list_ports(d, c, item);
    }
    container_list_free(v);
    return out;
}

int service_container_rename(struct daemon *d, const char *ref, const char *new_name, struct isd_error **err)
{
    struct container *c;
    int rc;
    if (new_name == NULL || *new_name == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Neither old nor new names may be empty");
    if (new_name[0] == '/')
        new_name++;
    c = service_lookup_locked(d, ref, err);
    if (c == NULL)
        return -1;
    cleanup_free char *old = xasprintf("/%s", c->name);
    if (streq(c->name, new_name))
        rc = isd_error_set(err, ISD_ERR_INVALID, 0, "Renaming a container with the same name as its current name");
    else
        rc = container_store_rename(d->containers, c, new_name, err);
    if (rc == 0)
        rc = container_save(c, true, err);
    if (rc == 0)
        service_container_event(c, "rename", json_pack("{s:s}", "oldName", old));
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}
