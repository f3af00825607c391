/*
 * CNI operations on a plugin list (ADD, DEL, CHECK) and the result cache.
 *
 * Cache layout: <cache_dir>/<container id>/<network>_<ifname>.json, one entry per attachment, written
 * before the first plugin runs (so a crash in the middle of ADD still leaves what DEL needs) and again
 * with the result when ADD is done. Not fsynced: after a power loss the namespaces and veths are gone too.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/network/cni.h"

#define CACHE_KIND "isulad-cni-cache-v1"
#define CACHE_MAX (4 << 20)

static char *cache_dir_of(const struct cni_env *e, const char *container_id)
{
    return xasprintf("%s/%s", e->cache_dir, container_id);
}

static char *cache_path(const struct cni_env *e, const char *net_name, const char *container_id, const char *ifname)
{
    return xasprintf("%s/%s/%s_%s.json", e->cache_dir, container_id, net_name, ifname);
}

json_t *cni_cache_get(const struct cni_env *e, const char *net_name, const char *container_id, const char *ifname)
{
    cleanup_free char *p = cache_path(e, net_name, container_id, ifname);
    json_t *j = json_load_path(p, CACHE_MAX, NULL);
    if (j != NULL && !streq(json_get_str(j, "kind"), CACHE_KIND)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

json_t **cni_cache_list(const struct cni_env *e, const char *container_id)
{
    cleanup_free char *dir = cache_dir_of(e, container_id);
    DIR *d = opendir(dir);
    struct dirent *de;
    json_t **v = NULL;
    size_t n = 0;
    if (d == NULL)
        return NULL;
    while ((de = readdir(d)) != NULL) {
        cleanup_free char *p = NULL;
        json_t *j;
        if (de->d_name[0] == '.' || !str_has_suffix(de->d_name, ".json"))
            continue;
        p = path_join(dir, de->d_name);
        j = json_load_path(p, CACHE_MAX, NULL);
        if (j == NULL || !streq(json_get_str(j, "kind"), CACHE_KIND)) {
            json_decref(j);
            continue;
        }
        v = xrealloc(v, (n + 2) * sizeof(*v));
        v[n++] = j;
        v[n] = NULL;
    }
    closedir(d);
    return v;
}

void cni_cache_list_free(json_t **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        json_decref(v[i]);
    free(v);
}

static int cache_write(const struct cni_env *e, const struct cni_net *n, const struct cni_runtime *rt,
                       const json_t *result, struct isd_error **err)
{
    cleanup_free char *dir = cache_dir_of(e, rt->container_id);
    cleanup_free char *p = cache_path(e, n->name, rt->container_id, rt->ifname);
    cleanup_json json_t *j =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "kind", CACHE_KIND, "networkName", n->name, "containerId",
                  rt->container_id, "ifName", rt->ifname, "netns", rt->netns ? rt->netns : "", "config", n->conf);
    if (result != NULL)
        json_object_set(j, "result", (json_t *)result);
    if (rt->capabilities != NULL)
        json_object_set(j, "capabilities", (json_t *)rt->capabilities);
    if (rt->container_name != NULL)
        json_object_set_new(j, "containerName", json_string(rt->container_name));
    if (rt->aliases != NULL)
        json_object_set(j, "aliases", (json_t *)rt->aliases);
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    return json_write_path(p, j, false, err);
}

static void cache_remove(const struct cni_env *e, const char *net_name, const char *container_id, const char *ifname)
{
    cleanup_free char *p = cache_path(e, net_name, container_id, ifname);
    cleanup_free char *dir = cache_dir_of(e, container_id);
    unlink(p);
    rmdir(dir); /* fails while other attachments remain */
}

/* runtimeConfig: what rt offers, for the capabilities this plugin declares. */
static void inject_runtime_config(json_t *conf, const json_t *plugin, const json_t *offered)
{
    json_t *caps = json_object_get(plugin, "capabilities");
    json_t *rc = json_object_get(conf, "runtimeConfig");
    const char *key;
    json_t *v;
    if (!json_is_object(caps) || !json_is_object(offered))
        return;
    json_object_foreach(caps, key, v)
    {
        json_t *val = json_object_get(offered, key);
        if (!json_is_true(v) || val == NULL)
            continue;
        if (!json_is_object(rc)) {
            rc = json_object();
            json_object_set_new(conf, "runtimeConfig", rc);
        }
        json_object_set(rc, key, val);
    }
}

static json_t *plugin_stdin(const json_t *list, const json_t *plugin, const json_t *prev, const json_t *offered)
{
    json_t *c = json_deep_copy(plugin);
    json_object_set(c, "name", json_object_get(list, "name"));
    json_object_set(c, "cniVersion", json_object_get(list, "cniVersion"));
    if (prev != NULL)
        json_object_set(c, "prevResult", (json_t *)prev);
    inject_runtime_config(c, plugin, offered);
    return c;
}

static const char *plugin_type(const json_t *plugin)
{
    return json_get_str(plugin, "type");
}

json_t *cni_net_add(const struct cni_env *e, const struct cni_net *n, const struct cni_runtime *rt,
                    struct isd_error **err)
{
    json_t *plugins = json_object_get(n->conf, "plugins");
    cleanup_json json_t *prev = NULL;
    size_t i;
    json_t *p;
    if (cache_write(e, n, rt, NULL, err) < 0)
        return NULL;
    json_array_foreach(plugins, i, p)
    {
        cleanup_json json_t *in = plugin_stdin(n->conf, p, prev, rt->capabilities);
        json_t *res = cni_plugin_exec(e, plugin_type(p), "ADD", rt, in, err);
        if (res == NULL) {
            isd_error_wrap(err, "network `%s`", n->name);
            return NULL;
        }
        json_decref(prev);
        prev = res;
    }
    if (cache_write(e, n, rt, prev, err) < 0)
        return NULL;
    return TAKE_PTR(prev);
}

int cni_net_del(const struct cni_env *e, const struct cni_net *n, const struct cni_runtime *rt, const char *net_name,
                struct isd_error **err)
{
    const char *name = n != NULL ? n->name : net_name;
    cleanup_json json_t *entry = cni_cache_get(e, name, rt->container_id, rt->ifname);
    const json_t *list = entry != NULL ? json_object_get(entry, "config") : (n != NULL ? n->conf : NULL);
    const json_t *result = json_object_get(entry, "result");
    json_t *plugins = json_object_get(list, "plugins");
    struct cni_runtime r = *rt;
    int rc = 0;
    if (list == NULL)
        return 0;
    if (cni_version_cmp(json_get_str(list, "cniVersion"), "0.4.0") < 0 || json_is_null(result))
        result = NULL;
    if (r.netns == NULL)
        r.netns = json_get_str(entry, "netns");
    if (r.capabilities == NULL)
        r.capabilities = json_object_get(entry, "capabilities");
    for (size_t i = json_array_size(plugins); i-- > 0;) {
        json_t *p = json_array_get(plugins, i);
        cleanup_json json_t *in = plugin_stdin(list, p, result, r.capabilities);
        cleanup_json json_t *out = cni_plugin_exec(e, plugin_type(p), "DEL", &r, in, rc < 0 ? NULL : err);
        if (out == NULL)
            rc = -1;
    }
    if (rc < 0)
        return isd_error_wrap(err, "network `%s`", name);
    cache_remove(e, name, rt->container_id, rt->ifname);
    return 0;
}

int cni_net_check(const struct cni_env *e, const struct cni_net *n, const struct cni_runtime *rt,
                  struct isd_error **err)
{
    cleanup_json json_t *entry = cni_cache_get(e, n->name, rt->container_id, rt->ifname);
    json_t *plugins = json_object_get(n->conf, "plugins");
    const json_t *result = json_object_get(entry, "result");
    size_t i;
    json_t *p;
    if (cni_version_cmp(n->cni_version, "0.4.0") < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "network `%s`: CHECK needs cniVersion 0.4.0 or later, not %s",
                             n->name, n->cni_version);
    if (json_is_true(json_object_get(n->conf, "disableCheck")))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "network `%s` disables CHECK", n->name);
    if (result == NULL || json_is_null(result))
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "network `%s`: no cached result for container %s", n->name,
                             rt->container_id);
    json_array_foreach(plugins, i, p)
    {
        cleanup_json json_t *in = plugin_stdin(n->conf, p, result, rt->capabilities);
        cleanup_json json_t *out = cni_plugin_exec(e, plugin_type(p), "CHECK", rt, in, err);
        if (out == NULL)
            return isd_error_wrap(err, "network `%s`", n->name);
    }
    return 0;
}
