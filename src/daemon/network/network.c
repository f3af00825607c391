/* The network module's context and the attachment of containers (see network.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/network/netns.h"
#include "daemon/network/network.h"

#define DEBIAN_CNI_DIR "/usr/lib/cni"
#define CONTAINER_IFNAME "eth0"

struct network_ctx *network_ctx_new(const char *graph, const char *state, const char *bin_dir, const char *conf_dir,
                                    struct isd_error **err)
{
    struct network_ctx *n = xcalloc(1, sizeof(*n));
    n->ip_masq = true;
    pthread_mutex_init(&n->lock, NULL);
    pthread_mutex_init(&n->hosts_lock, NULL);
    n->store_dir = xasprintf("%s/networks", graph);
    n->conf_dir = xstrdup(conf_dir != NULL ? conf_dir : "/etc/cni/net.d");
    n->netns_dir = xasprintf("%s/netns", state);
    n->userns_dir = xasprintf("%s/netns-userns", state);
    n->ipam_dir = xasprintf("%s/network/ipam", graph);
    n->cache_dir = xasprintf("%s/network/cache", graph);
    n->rules_dir = xasprintf("%s/network/rules", graph);
    n->rules_made = json_object();
    if (bin_dir != NULL && *bin_dir != '\0')
        strv_append(&n->bin_dirs, bin_dir);
    if (!streq(bin_dir, DEBIAN_CNI_DIR))
        strv_append(&n->bin_dirs, DEBIAN_CNI_DIR);
    n->env.bin_dirs = n->bin_dirs;
    n->env.cache_dir = n->cache_dir;
    n->env.timeout_ns = CNI_DEFAULT_TIMEOUT_NS;
    if (mkdir_p(n->store_dir, 0700, err) < 0 || mkdir_p(n->cache_dir, 0700, err) < 0 ||
        mkdir_p(n->ipam_dir, 0700, err) < 0 || mkdir_p(n->rules_dir, 0700, err) < 0) {
        network_ctx_free(n);
        return NULL;
    }
    return n;
}

void network_ctx_free(struct network_ctx *n)
{
    if (n == NULL)
        return;
    pthread_mutex_destroy(&n->lock);
    pthread_mutex_destroy(&n->hosts_lock);
    free(n->store_dir);
    free(n->conf_dir);
    free(n->netns_dir);
    free(n->userns_dir);
    free(n->ipam_dir);
    free(n->cache_dir);
    free(n->rules_dir);
    json_decref(n->rules_made);
    strv_free(n->bin_dirs);
    free(n);
}

bool network_mode_is_named(const char *mode)
{
    static const char *const builtin[] = {"", "default", "none", "host", "bridge"};
    if (mode == NULL || str_has_prefix(mode, "container:"))
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
        if (streq(mode, builtin[i]))
            return false;
    return true;
}

const char *network_mode_network(const char *mode, bool with_default)
{
    if (network_mode_is_named(mode))
        return mode;
    if (with_default && (streq(mode, "default") || streq(mode, "bridge")))
        return NETWORK_DEFAULT;
    return NULL;
}

static char *netns_path(struct network_ctx *n, const char *id)
{
    return path_join(n->netns_dir, id);
}

static void endpoint_from_result(const json_t *result, json_t *ep);

/* isulad publishes the ports of its own networks itself (network_ports.c): their portmap plugin is left out of
 * the list run (and so of the cached configuration DEL uses). True for such a network. */
static bool own_ports(struct cni_net *net)
{
    json_t *plugins = json_object_get(net->conf, "plugins");
    if (json_object_get(net->conf, "isulad") == NULL)
        return false;
    for (size_t i = json_array_size(plugins); i-- > 0;)
        if (streq(json_get_str(json_array_get(plugins, i), "type"), "portmap"))
            json_array_remove(plugins, i);
    return true;
}

/* Whether a cache entry's ports were published by isulad (its configuration has no portmap plugin). */
static bool entry_own_ports(const json_t *entry)
{
    const json_t *conf = json_object_get(entry, "config");
    size_t i;
    json_t *p;
    if (json_object_get(conf, "isulad") == NULL ||
        json_array_size(json_object_get(json_object_get(entry, "capabilities"), "portMappings")) == 0)
        return false;
    json_array_foreach(json_object_get(conf, "plugins"), i, p)
    {
        if (streq(json_get_str(p, "type"), "portmap"))
            return false;
    }
    return true;
}

static void endpoint_from_result(const json_t *result, json_t *ep);

/* After ADD: the DNAT of the attachment's published ports, when isulad makes it. */
static int publish(struct network_ctx *n, struct cni_net *net, bool own, const char *id, const char *ifname,
                   const json_t *res, const json_t *capabilities, struct isd_error **err)
{
    const json_t *mappings = json_object_get(capabilities, "portMappings");
    cleanup_json json_t *ep = json_object();
    if (!own || json_array_size(mappings) == 0)
        return 0;
    endpoint_from_result(res, ep);
    return network_ports_publish(n, id, ifname, json_get_str(json_object_get(net->conf, "isulad"), "bridge"), ep,
                                 mappings, err);
}

/* Undoes what publish made for a cache entry (the IPv6 chains only when it made them). */
static void unpublish(const char *id, const char *ifname, const json_t *entry)
{
    cleanup_json json_t *ep = json_object();
    endpoint_from_result(json_object_get(entry, "result"), ep);
    network_ports_unpublish(
        id, ifname,
        network_ports_want_v6(json_object_get(json_object_get(entry, "capabilities"), "portMappings"),
                              json_get_str(ep, "GlobalIPv6Address")));
}

char *network_container_userns(struct network_ctx *n, const char *id)
{
    char *p = path_join(n->userns_dir, id);
    if (path_exists(p))
        return p;
    free(p);
    return NULL;
}

/* An attachment whose ADD runs (or ran) in its own thread (network_container_attach_start). */
struct network_attach {
    struct network_ctx *n;
    struct cni_net *net;
    char *id, *container_name, *name, *ns;
    json_t *aliases, *capabilities;
    bool own, threaded;
    pthread_t thread;
    int rc;
    struct isd_error *err;
};

static void attach_free(struct network_attach *a)
{
    cni_net_free(a->net);
    free(a->id);
    free(a->container_name);
    free(a->name);
    free(a->ns);
    json_decref(a->aliases);
    json_decref(a->capabilities);
    isd_error_free(a->err);
    free(a);
}

/* ADD and the published ports; on failure the namespace (and its user namespace) is gone too. */
static int attach_add(struct network_attach *a, struct isd_error **err)
{
    cleanup_json json_t *res = NULL;
    struct cni_runtime rt = {.container_id = a->id,
                             .ifname = CONTAINER_IFNAME,
                             .args = "IgnoreUnknown=1",
                             .netns = a->ns,
                             .capabilities = a->capabilities,
                             .container_name = a->container_name,
                             .aliases = a->aliases};
    if ((res = cni_net_add(&a->n->env, a->net, &rt, err)) == NULL ||
        publish(a->n, a->net, a->own, a->id, rt.ifname, res, a->capabilities, err) < 0) {
        cleanup_free char *uns = path_join(a->n->userns_dir, a->id);
        cni_net_del(&a->n->env, a->net, &rt, a->net->name, NULL);
        netns_remove(a->ns, NULL);
        netns_remove(uns, NULL);
        return isd_error_wrap(err, "attach to network `%s`", a->name);
    }
    return 0;
}

static void *attach_main(void *arg)
{
    struct network_attach *a = arg;
    a->rc = attach_add(a, &a->err);
    return NULL;
}

int network_container_attach_start(struct network_ctx *n, const char *id, const char *container_name,
                                   const json_t *aliases, const char *name, const json_t *capabilities,
                                   const struct user_remap *map, char **ret_netns, struct network_attach **ret_pending,
                                   struct isd_error **err)
{
    struct cni_net *net = network_lookup(n, name, err);
    struct network_attach *a;
    int rc;
    if (net == NULL)
        return -1;
    a = xcalloc(1, sizeof(*a));
    a->n = n;
    a->net = net;
    a->id = xstrdup(id);
    a->container_name = container_name != NULL ? xstrdup(container_name) : NULL;
    a->name = xstrdup(name);
    a->aliases = aliases != NULL ? json_deep_copy(aliases) : NULL;
    a->capabilities = capabilities != NULL ? json_deep_copy(capabilities) : NULL;
    if (network_rules_ensure(n, net, err) < 0)
        goto fail;
    a->own = own_ports(net);
    if (network_container_has_state(n, id) && network_container_detach(n, id, err) < 0) {
        isd_error_wrap(err, "clean up the last run's network");
        goto fail;
    }
    rc = map != NULL && user_remap_is_set(map)
             ? netns_create_in_userns(n->netns_dir, n->userns_dir, id, map, &a->ns, err)
             : netns_create(n->netns_dir, id, &a->ns, err);
    if (rc < 0)
        goto fail;
    if (ret_pending != NULL && pthread_create(&a->thread, NULL, attach_main, a) == 0) {
        a->threaded = true;
        *ret_netns = xstrdup(a->ns);
        *ret_pending = a;
        return 0;
    }
    if (attach_add(a, err) < 0)
        goto fail;
    *ret_netns = TAKE_PTR(a->ns);
    if (ret_pending != NULL)
        *ret_pending = NULL;
    attach_free(a);
    return 0;
fail:
    attach_free(a);
    return -1;
}

int network_container_attach_wait(struct network_attach *a, struct isd_error **err)
{
    int rc;
    if (a == NULL)
        return 0;
    pthread_join(a->thread, NULL);
    rc = a->rc;
    if (rc < 0 && err != NULL) {
        *err = a->err;
        a->err = NULL;
    }
    attach_free(a);
    return rc;
}

int network_container_attach(struct network_ctx *n, const char *id, const char *container_name, const json_t *aliases,
                             const char *name, const json_t *capabilities, const struct user_remap *map,
                             char **ret_netns, struct isd_error **err)
{
    return network_container_attach_start(n, id, container_name, aliases, name, capabilities, map, ret_netns, NULL,
                                          err);
}

/* The first ethN (N >= 1) no attachment of id uses. */
static char *free_ifname(struct network_ctx *n, const char *id)
{
    json_t **entries = cni_cache_list(&n->env, id);
    char *name = NULL;
    for (int k = 1; name == NULL; k++) {
        cleanup_free char *cand = xasprintf("eth%d", k);
        bool used = false;
        for (size_t i = 0; entries != NULL && entries[i] != NULL; i++)
            used = used || streq(json_get_str(entries[i], "ifName"), cand);
        if (!used)
            name = TAKE_PTR(cand);
    }
    cni_cache_list_free(entries);
    return name;
}

/* Whether an attachment of id uses ifname already. */
static bool ifname_used(struct network_ctx *n, const char *id, const char *ifname)
{
    json_t **entries = cni_cache_list(&n->env, id);
    bool used = false;
    for (size_t i = 0; entries != NULL && entries[i] != NULL; i++)
        used = used || streq(json_get_str(entries[i], "ifName"), ifname);
    cni_cache_list_free(entries);
    return used;
}

int network_container_attach_more(struct network_ctx *n, const char *id, const char *container_name,
                                  const json_t *aliases, const char *name, const char *want_ifname,
                                  const json_t *capabilities, struct isd_error **err)
{
    if (want_ifname != NULL && ifname_used(n, id, want_ifname))
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "attach to network `%s`: interface `%s` is in use", name,
                             want_ifname);
    cleanup_cni_net struct cni_net *net = network_lookup(n, name, err);
    cleanup_free char *ns = netns_path(n, id);
    cleanup_free char *ifname = want_ifname != NULL ? xstrdup(want_ifname) : free_ifname(n, id);
    cleanup_json json_t *res = NULL;
    struct cni_runtime rt = {.container_id = id,
                             .netns = ns,
                             .ifname = ifname,
                             .args = "IgnoreUnknown=1",
                             .capabilities = capabilities,
                             .container_name = container_name,
                             .aliases = aliases};
    bool own;
    if (net == NULL || network_rules_ensure(n, net, err) < 0)
        return -1;
    own = own_ports(net);
    if (!path_exists(ns))
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "container %s has no network namespace", id);
    if ((res = cni_net_add(&n->env, net, &rt, err)) == NULL ||
        publish(n, net, own, id, ifname, res, capabilities, err) < 0) {
        cni_net_del(&n->env, net, &rt, net->name, NULL);
        return isd_error_wrap(err, "attach to network `%s`", name);
    }
    return 0;
}

int network_container_detach_one(struct network_ctx *n, const char *id, const char *name, struct isd_error **err)
{
    json_t **entries = cni_cache_list(&n->env, id);
    int rc = 0;
    for (size_t i = 0; entries != NULL && entries[i] != NULL; i++) {
        struct cni_runtime rt = {
            .container_id = id, .ifname = json_get_str(entries[i], "ifName"), .args = "IgnoreUnknown=1"};
        if (rt.ifname == NULL || !streq(json_get_str(entries[i], "networkName"), name))
            continue;
        if (entry_own_ports(entries[i]))
            unpublish(id, rt.ifname, entries[i]);
        if (cni_net_del(&n->env, NULL, &rt, name, rc < 0 ? NULL : err) < 0)
            rc = -1;
    }
    cni_cache_list_free(entries);
    return rc;
}

int network_container_detach(struct network_ctx *n, const char *id, struct isd_error **err)
{
    json_t **entries = cni_cache_list(&n->env, id);
    cleanup_free char *ns = netns_path(n, id), *uns = path_join(n->userns_dir, id);
    int rc = 0;
    for (size_t i = 0; entries != NULL && entries[i] != NULL; i++) {
        struct cni_runtime rt = {
            .container_id = id, .ifname = json_get_str(entries[i], "ifName"), .args = "IgnoreUnknown=1"};
        if (rt.ifname == NULL)
            continue;
        if (entry_own_ports(entries[i]))
            unpublish(id, rt.ifname, entries[i]);
        if (cni_net_del(&n->env, NULL, &rt, json_get_str(entries[i], "networkName"), rc < 0 ? NULL : err) < 0)
            rc = -1;
    }
    cni_cache_list_free(entries);
    /* After DEL: plugins need the namespace to remove the container's end of the veth. */
    if (netns_remove(ns, rc < 0 ? NULL : err) < 0)
        rc = -1;
    if (netns_remove(uns, rc < 0 ? NULL : err) < 0)
        rc = -1;
    return rc;
}

bool network_container_has_state(struct network_ctx *n, const char *id)
{
    cleanup_free char *ns = netns_path(n, id);
    cleanup_free char *cache = path_join(n->cache_dir, id);
    return path_exists(ns) || path_exists(cache);
}

/* The container-side interface's addresses of a CNI result (0.3.x and 1.0.0 shapes): the first IPv4 one as
 * IPAddress, the first IPv6 one as GlobalIPv6Address. */
static void endpoint_from_result(const json_t *result, json_t *ep)
{
    json_t *ifaces = json_object_get(result, "interfaces");
    bool v4 = false, v6 = false;
    size_t i;
    json_t *ip;
    json_array_foreach(json_object_get(result, "ips"), i, ip)
    {
        const char *addr = json_get_str(ip, "address");
        json_t *idx = json_object_get(ip, "interface");
        json_t *iface = json_is_integer(idx) ? json_array_get(ifaces, (size_t)json_integer_value(idx)) : NULL;
        const char *slash = addr != NULL ? strchr(addr, '/') : NULL;
        cleanup_free char *bare = NULL;
        struct in_addr a4;
        struct in6_addr a6;
        if (slash == NULL || (iface != NULL && json_get_str(iface, "sandbox") == NULL))
            continue;
        bare = xstrndup(addr, (size_t)(slash - addr));
        if (!v6 && inet_pton(AF_INET6, bare, &a6) == 1) {
            v6 = true;
            json_object_set_new(ep, "GlobalIPv6Address", json_string(bare));
            json_object_set_new(ep, "GlobalIPv6PrefixLen", json_integer(atoi(slash + 1)));
            json_object_set_new(ep, "IPv6Gateway", json_string(json_get_str(ip, "gateway") ?: ""));
            continue;
        }
        if (v4 || inet_pton(AF_INET, bare, &a4) != 1)
            continue;
        v4 = true;
        json_object_set_new(ep, "IPAddress", json_string(bare));
        json_object_set_new(ep, "IPPrefixLen", json_integer(atoi(slash + 1)));
        json_object_set_new(ep, "Gateway", json_string(json_get_str(ip, "gateway") ?: ""));
        if (json_get_str(iface, "mac") != NULL)
            json_object_set_new(ep, "MacAddress", json_string(json_get_str(iface, "mac")));
    }
}

static json_t *endpoint_json(struct network_ctx *n, const json_t *entry)
{
    const char *name = json_get_str(entry, "networkName");
    const json_t *conf = json_object_get(entry, "config");
    const char *net_id = json_get_str(json_object_get(conf, "isulad"), "id");
    cleanup_free char *ep_id = NULL;
    json_t *ep = json_pack("{s:n, s:n, s:n, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:n}", "IPAMConfig", "Links",
                           "Aliases", "NetworkID", net_id ? net_id : name, "EndpointID", "", "Gateway", "", "IPAddress",
                           "", "IPPrefixLen", 0, "IPv6Gateway", "", "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0,
                           "MacAddress", "", "DriverOpts");
    endpoint_from_result(json_object_get(entry, "result"), ep);
    if (json_is_array(json_object_get(entry, "aliases")))
        json_object_set(ep, "Aliases", json_object_get(entry, "aliases"));
    return ep;
}

json_t *network_container_settings(struct network_ctx *n, const char *id, const char *configured, const json_t *exposed)
{
    const json_t *mappings = NULL;
    json_t **entries = cni_cache_list(&n->env, id);
    json_t *nets, *out;
    cleanup_free char *ns = netns_path(n, id);
    if (entries == NULL && configured == NULL)
        return NULL;
    nets = json_object();
    for (size_t i = 0; entries != NULL && entries[i] != NULL; i++) {
        const char *name = json_get_str(entries[i], "networkName");
        if (name != NULL)
            json_object_set_new(nets, name, endpoint_json(n, entries[i]));
        if (mappings == NULL)
            mappings = json_object_get(json_object_get(entries[i], "capabilities"), "portMappings");
    }
    out = json_pack("{s:o}", "Ports", network_ports_json(mappings, exposed));
    cni_cache_list_free(entries);
    if (configured != NULL && json_object_get(nets, configured) == NULL) {
        cleanup_cni_net struct cni_net *net = network_lookup(n, configured, NULL);
        cleanup_json json_t *entry =
            json_pack("{s:s, s:O*}", "networkName", configured, "config", net != NULL ? net->conf : NULL);
        json_object_set_new(nets, configured, endpoint_json(n, entry));
    }
    json_object_set_new(out, "SandboxKey", json_string(path_exists(ns) ? ns : ""));
    json_object_set_new(out, "Networks", nets);
    return out;
}

json_t *network_endpoint_configured(struct network_ctx *n, const char *name)
{
    cleanup_cni_net struct cni_net *net = network_lookup(n, name, NULL);
    cleanup_json json_t *entry =
        json_pack("{s:s, s:O*}", "networkName", name, "config", net != NULL ? net->conf : NULL);
    return endpoint_json(n, entry);
}

json_t *network_peers(struct network_ctx *n, const char *name)
{
    json_t *out = json_array();
    DIR *d = opendir(n->cache_dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        json_t **entries = de->d_name[0] != '.' ? cni_cache_list(&n->env, de->d_name) : NULL;
        for (size_t i = 0; entries != NULL && entries[i] != NULL; i++) {
            cleanup_json json_t *ep = json_object();
            if (!streq(json_get_str(entries[i], "networkName"), name))
                continue;
            endpoint_from_result(json_object_get(entries[i], "result"), ep);
            if (json_get_str(ep, "IPAddress") == NULL)
                continue;
            json_t *aliases = json_object_get(entries[i], "aliases");
            json_array_append_new(out, json_pack("{s:s, s:s, s:O, s:s}", "Id", de->d_name, "Name",
                                                 json_get_str(entries[i], "containerName") ?: "", "Aliases",
                                                 json_is_array(aliases) ? aliases : json_null(), "IPAddress",
                                                 json_get_str(ep, "IPAddress")));
        }
        cni_cache_list_free(entries);
    }
    if (d != NULL)
        closedir(d);
    return out;
}

char **network_container_networks(struct network_ctx *n, const char *id)
{
    json_t **entries = cni_cache_list(&n->env, id);
    char **out = NULL;
    for (size_t i = 0; entries != NULL && entries[i] != NULL; i++) {
        const char *name = json_get_str(entries[i], "networkName");
        if (name != NULL && !strv_contains(out, name))
            strv_append(&out, name);
    }
    cni_cache_list_free(entries);
    return out;
}

json_t *network_container_ports(struct network_ctx *n, const char *id, const json_t *exposed)
{
    json_t **entries = cni_cache_list(&n->env, id);
    const json_t *mappings = NULL;
    json_t *out;
    if (entries == NULL)
        return json_array();
    for (size_t i = 0; entries[i] != NULL && mappings == NULL; i++)
        mappings = json_object_get(json_object_get(entries[i], "capabilities"), "portMappings");
    out = network_ports_list(mappings, exposed);
    cni_cache_list_free(entries);
    return out;
}
