/* The volume use cases of `isula volume` and Docker's /volumes API: create, list (filters dangling, label with
 * AND, name, driver), inspect, remove (refused while a container uses the volume), prune. */
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/service/internal.h"
#include "daemon/service/volumes.h"
#include "daemon/volume/volume.h"

static bool bind_uses(const json_t *hc, const char *name)
{
    size_t i, n = strlen(name);
    json_t *e;
    json_array_foreach(json_object_get(hc, "Binds"), i, e)
    {
        const char *s = json_string_value(e);
        if (s != NULL && strncmp(s, name, n) == 0 && s[n] == ':')
            return true;
    }
    json_array_foreach(json_object_get(hc, "Mounts"), i, e)
    {
        if (streq(json_get_str(e, "Type"), "volume") && streq(json_get_str(e, "Source"), name))
            return true;
    }
    return false;
}

/* True when c's --volumes-from list (kept since create) names volume name. */
static bool from_uses(const json_t *from, const char *name)
{
    size_t i, n = strlen(name);
    json_t *e;
    json_array_foreach(json_object_get(from, "Binds"), i, e)
    {
        const char *s = json_string_value(e);
        if (s != NULL && strncmp(s, name, n) == 0 && s[n] == ':')
            return true;
    }
    json_array_foreach(json_object_get(from, "Mounts"), i, e)
    {
        if (streq(json_get_str(e, "VolumeName"), name))
            return true;
    }
    return false;
}

/* Ids of the containers using volume v (by name, through --volumes-from, or as the owner of an anonymous volume). */
static char **volume_users(struct daemon *d, const json_t *v)
{
    size_t n = 0;
    struct container **all = container_store_list(d->containers, &n);
    char **users = NULL;
    const char *name = json_get_str(v, "Name");
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&all[i]->lock);
        if (bind_uses(all[i]->host_config, name) || from_uses(all[i]->volumes_from, name) ||
            streq(json_get_str(v, "Owner"), all[i]->id))
            strv_append(&users, all[i]->id);
        pthread_mutex_unlock(&all[i]->lock);
    }
    container_list_free(all);
    return users;
}

static json_t *public_json(json_t *v)
{
    json_object_del(v, "Owner");
    json_object_del(v, "Destination");
    return v;
}

json_t *service_volume_create(struct daemon *d, const json_t *body, struct isd_error **err)
{
    json_t *v = volume_store_create(d->volumes, json_get_str(body, "Name"), json_get_str(body, "Driver"),
                                    json_object_get(body, "Labels"), json_object_get(body, "DriverOpts"), NULL, NULL,
                                    NULL, err);
    return v != NULL ? public_json(v) : NULL;
}

json_t *service_volume_inspect(struct daemon *d, const char *name, struct isd_error **err)
{
    json_t *v = volume_store_get(d->volumes, name, err);
    return v != NULL ? public_json(v) : NULL;
}

int service_volume_remove(struct daemon *d, const char *name, bool force, struct isd_error **err)
{
    cleanup_json json_t *v = volume_store_get(d->volumes, name, err);
    cleanup_strv char **users = NULL;
    if (v == NULL) {
        if (force) {
            isd_error_free(*err);
            *err = NULL;
            return 0;
        }
        return -1;
    }
    users = volume_users(d, v);
    if (users != NULL) {
        cleanup_free char *list = strv_join(users, ", ");
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "remove %s: volume is in use - [%s]", name, list);
    }
    return volume_store_remove(d->volumes, name, err);
}

/* A filter value list: Docker's {"k": ["a", "b"]} or the older {"k": {"a": true}}. */
static json_t *filter_values(const json_t *filters, const char *key)
{
    const json_t *v = json_object_get(filters, key);
    json_t *out = json_array();
    const char *k;
    json_t *x;
    size_t i;
    if (json_is_array(v)) {
        json_array_foreach(v, i, x) json_array_append(out, x);
    } else if (json_is_object(v)) {
        json_object_foreach((json_t *)v, k, x) json_array_append_new(out, json_string(k));
    }
    return out;
}

static bool label_matches(const json_t *labels, const char *want)
{
    const char *eq = strchr(want, '=');
    cleanup_free char *key = eq != NULL ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
    const char *have = json_get_str(labels, key);
    return have != NULL && (eq == NULL || streq(have, eq + 1));
}

static bool volume_matches(struct daemon *d, const json_t *v, const json_t *filters)
{
    cleanup_json json_t *dangling = filter_values(filters, "dangling");
    cleanup_json json_t *labels = filter_values(filters, "label");
    cleanup_json json_t *names = filter_values(filters, "name");
    cleanup_json json_t *drivers = filter_values(filters, "driver");
    size_t i;
    json_t *x;
    bool any = json_array_size(names) == 0;
    json_array_foreach(labels, i, x)
    {
        if (!label_matches(json_object_get(v, "Labels"), json_string_value(x)))
            return false; /* every label filter must match (AND) */
    }
    json_array_foreach(names, i, x) any = any || strstr(json_get_str(v, "Name"), json_string_value(x)) != NULL;
    if (!any)
        return false;
    json_array_foreach(drivers, i, x)
    {
        if (!streq(json_string_value(x), "local"))
            return false;
    }
    if (json_array_size(dangling) > 0) {
        const char *want = json_string_value(json_array_get(dangling, 0));
        cleanup_strv char **users = volume_users(d, v);
        bool is_dangling = users == NULL;
        if ((streq(want, "true") || streq(want, "1")) != is_dangling)
            return false;
    }
    return true;
}

json_t *service_volume_list(struct daemon *d, const json_t *filters, struct isd_error **err)
{
    cleanup_json json_t *all = volume_store_list(d->volumes);
    json_t *out = json_array();
    size_t i;
    json_t *v;
    (void)err;
    json_array_foreach(all, i, v)
    {
        if (volume_matches(d, v, filters))
            json_array_append_new(out, public_json(json_deep_copy(v)));
    }
    return json_pack("{s:o, s:[]}", "Volumes", out, "Warnings");
}

json_t *service_volumes_df(struct daemon *d)
{
    cleanup_json json_t *all = volume_store_list(d->volumes);
    json_t *out = json_array(), *v;
    size_t i;
    json_array_foreach(all, i, v)
    {
        cleanup_strv char **users = volume_users(d, v);
        json_t *j = public_json(json_deep_copy(v));
        json_object_set_new(j, "UsageData",
                            json_pack("{s:I, s:I}", "Size", (json_int_t)dir_size(json_get_str(v, "Mountpoint")),
                                      "RefCount", (json_int_t)strv_len(users)));
        json_array_append_new(out, j);
    }
    return out;
}

json_t *service_volume_prune(struct daemon *d, const json_t *filters, struct isd_error **err)
{
    cleanup_json json_t *all = volume_store_list(d->volumes);
    json_t *deleted = json_array();
    long long reclaimed = 0;
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        cleanup_strv char **users = NULL;
        if (!volume_matches(d, v, filters))
            continue;
        users = volume_users(d, v);
        if (users != NULL)
            continue;
        reclaimed += dir_size(json_get_str(v, "Mountpoint"));
        if (volume_store_remove(d->volumes, json_get_str(v, "Name"), err) < 0)
            return json_decref(deleted), NULL;
        json_array_append_new(deleted, json_string(json_get_str(v, "Name")));
    }
    return json_pack("{s:o, s:I}", "VolumesDeleted", deleted, "SpaceReclaimed", (json_int_t)reclaimed);
}

void service_volumes_remove_anonymous(struct daemon *d, const char *container_id)
{
    cleanup_json json_t *all = volume_store_list(d->volumes);
    size_t i;
    json_t *v;
    json_array_foreach(all, i, v)
    {
        struct isd_error *err = NULL;
        cleanup_strv char **users = NULL;
        if (!streq(json_get_str(v, "Owner"), container_id))
            continue;
        if ((users = volume_users(d, v)) != NULL) { /* still taken by others through --volumes-from: kept, as Docker */
            log_info("anonymous volume `%s` kept: used by container %.12s", json_get_str(v, "Name"), users[0]);
            continue;
        }
        if (volume_store_remove(d->volumes, json_get_str(v, "Name"), &err) < 0)
            log_warn("remove anonymous volume `%s`: %s", json_get_str(v, "Name"), err->msg);
        isd_error_free(err);
    }
}

/* A volume entry of inspect's Mounts, as Docker shows it. */
static json_t *volume_mount(const json_t *v, const char *dst, bool rw, const char *mode)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name", json_get_str(v, "Name"),
                     "Source", json_get_str(v, "Mountpoint"), "Destination", dst, "Driver", "local", "Mode", mode, "RW",
                     rw, "Propagation", "");
}

static bool has_destination(const json_t *mounts, const char *dst)
{
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
    {
        if (streq(json_get_str(m, "Destination"), dst))
            return true;
    }
    return false;
}

/* One inherited mount: a volume's mountpoint shown as that volume, anything else as a bind. */
static void add_inherited(struct daemon *d, json_t *out, const char *src, const char *dst, bool rw, const char *mode)
{
    cleanup_free char *name = NULL;
    cleanup_json json_t *vol = NULL;
    if (dst == NULL || has_destination(out, dst))
        return; /* the container's own mount of dst wins */
    name = volume_store_name_of(d->volumes, src);
    if (name != NULL && (vol = volume_store_get(d->volumes, name, NULL)) != NULL)
        json_array_append_new(out, volume_mount(vol, dst, rw, mode));
    else
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind", "Source", src ? src : "",
                                             "Destination", dst, "Mode", mode, "RW", rw, "Propagation", "rprivate"));
}

/* What --volumes-from brings, as Docker's inspect lists it: the list kept since create (nothing mounted, nothing
 * copied); a volume removed since is skipped. */
static void inspect_volumes_from(struct daemon *d, const char *container_id, json_t *out)
{
    cleanup_container struct container *c = container_store_lookup(d->containers, container_id, NULL);
    cleanup_json json_t *hc = NULL, *resolved = NULL, *from = NULL;
    struct vol_ctx x = {.d = d};
    size_t i;
    json_t *e;
    if (c == NULL)
        return;
    pthread_mutex_lock(&c->lock);
    hc = json_pack("{s:O*}", "VolumesFrom", json_object_get(c->host_config, "VolumesFrom"));
    from = json_deep_copy(c->volumes_from);
    pthread_mutex_unlock(&c->lock);
    if (json_array_size(json_object_get(hc, "VolumesFrom")) == 0)
        return;
    x.c = c;
    x.from_mounts = from;
    resolved = service_volumes_resolve(&x, hc, NULL, NULL);
    json_array_foreach(json_object_get(resolved, "Binds"), i, e)
    {
        cleanup_free char *src = xstrdup(json_string_value(e));
        char *dst = strchr(src, ':'), *mode = NULL;
        if (dst == NULL)
            continue;
        *dst++ = '\0';
        if ((mode = strchr(dst, ':')) != NULL)
            *mode++ = '\0';
        add_inherited(d, out, src, dst, mode == NULL || strstr(mode, "ro") == NULL, mode ? mode : "");
    }
    json_array_foreach(json_object_get(resolved, "Mounts"), i, e)
    {
        add_inherited(d, out, json_get_str(e, "Source"), json_get_str(e, "Target"),
                      !json_get_bool(e, "ReadOnly", false), "");
    }
}

void service_volumes_inspect_mounts(struct daemon *d, const char *container_id, json_t *inspect)
{
    json_t *mounts = json_object_get(inspect, "Mounts"), *m, *v;
    json_t *out = json_array();
    cleanup_json json_t *all = volume_store_list(d->volumes);
    size_t i;
    if (!json_is_array(mounts)) {
        json_decref(out);
        return;
    }
    json_array_foreach(mounts, i, m)
    {
        const char *src = json_get_str(m, "Source");
        cleanup_json json_t *vol = NULL;
        if (src != NULL && src[0] == '\0' && streq(json_get_str(m, "Type"), "volume"))
            continue; /* an anonymous volume: listed below with its name */
        if (src == NULL || src[0] == '/' || (vol = volume_store_get(d->volumes, src, NULL)) == NULL) {
            json_array_append(out, m);
            continue;
        }
        json_array_append_new(out, volume_mount(vol, json_get_str(m, "Destination"), json_get_bool(m, "RW", true),
                                                json_get_str(m, "Mode") ? json_get_str(m, "Mode") : ""));
    }
    json_array_foreach(all, i, v)
    {
        if (streq(json_get_str(v, "Owner"), container_id))
            json_array_append_new(out, volume_mount(v, json_get_str(v, "Destination"), true, ""));
    }
    inspect_volumes_from(d, container_id, out);
    json_object_set_new(inspect, "Mounts", out);
}
