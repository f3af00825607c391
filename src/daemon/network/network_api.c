/* Docker's JSON for user networks: list with filters, inspect with the attached containers, remove. */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/network/network.h"

static const json_t *meta(const struct cni_net *net)
{
    return json_object_get(net->conf, "isulad");
}

/* The attachments to network `name`: {container id: {EndpointID, MacAddress, IPv4Address, IPv6Address}}. */
static json_t *endpoints(struct network_ctx *n, const char *name)
{
    json_t *out = json_object();
    DIR *d = opendir(n->cache_dir);
    struct dirent *de;
    if (d == NULL)
        return out;
    while ((de = readdir(d)) != NULL) {
        json_t **entries;
        if (de->d_name[0] == '.')
            continue;
        entries = cni_cache_list(&n->env, de->d_name);
        for (size_t i = 0; entries != NULL && entries[i] != NULL; i++) {
            json_t *s, *ep;
            if (!streq(json_get_str(entries[i], "networkName"), name))
                continue;
            s = network_container_settings(n, de->d_name, NULL, NULL);
            ep = json_object_get(json_object_get(s, "Networks"), name);
            cleanup_free char *v4 =
                json_get_str(ep, "IPAddress") && *json_get_str(ep, "IPAddress")
                    ? xasprintf("%s/%lld", json_get_str(ep, "IPAddress"), json_get_int(ep, "IPPrefixLen", 0))
                    : xstrdup("");
            cleanup_free char *v6 = json_get_str(ep, "GlobalIPv6Address") && *json_get_str(ep, "GlobalIPv6Address")
                                        ? xasprintf("%s/%lld", json_get_str(ep, "GlobalIPv6Address"),
                                                    json_get_int(ep, "GlobalIPv6PrefixLen", 0))
                                        : xstrdup("");
            json_object_set_new(out, de->d_name,
                                json_pack("{s:s, s:s, s:s, s:s, s:s}", "Name", "", "EndpointID", "", "MacAddress",
                                          json_get_str(ep, "MacAddress") ?: "", "IPv4Address", v4, "IPv6Address", v6));
            json_decref(s);
        }
        cni_cache_list_free(entries);
    }
    closedir(d);
    return out;
}

bool network_has_endpoints(struct network_ctx *n, const char *name)
{
    cleanup_json json_t *eps = endpoints(n, name);
    return json_object_size(eps) > 0;
}

static json_t *network_json(struct network_ctx *n, const struct cni_net *net, bool with_containers)
{
    const json_t *m = meta(net);
    json_t *cfg = json_pack("{s:s}", "Subnet", json_get_str(m, "subnet") ?: "");
    json_t *cfg6 = NULL;
    json_t *opts = json_deep_copy(json_object_get(m, "options"));
    json_t *labels = json_object_get(m, "labels");
    if (json_get_str(m, "gateway") != NULL)
        json_object_set_new(cfg, "Gateway", json_string(json_get_str(m, "gateway")));
    if (json_get_str(m, "ipRange") != NULL)
        json_object_set_new(cfg, "IPRange", json_string(json_get_str(m, "ipRange")));
    if (!json_is_object(opts)) {
        json_decref(opts);
        opts = json_object();
    }
    json_object_set_new(opts, "com.docker.network.bridge.name", json_string(json_get_str(m, "bridge") ?: ""));
    if (json_get_str(m, "subnet6") != NULL)
        cfg6 =
            json_pack("{s:s, s:s}", "Subnet", json_get_str(m, "subnet6"), "Gateway", json_get_str(m, "gateway6") ?: "");
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:n, s:[o, o*]}, s:b, s:b, s:b, s:{s:s}, s:b, s:o, s:o, "
                     "s:O}",
                     "Name", net->name, "Id", json_get_str(m, "id") ?: net->name, "Created",
                     json_get_str(m, "created") ?: "0001-01-01T00:00:00Z", "Scope", "local", "Driver",
                     json_get_str(m, "driver") ?: "bridge", "EnableIPv6", json_get_bool(m, "enableIPv6", false), "IPAM",
                     "Driver", "default", "Options", "Config", cfg, cfg6, "Internal",
                     json_get_bool(m, "internal", false), "Attachable", false, "Ingress", false, "ConfigFrom",
                     "Network", "", "ConfigOnly", false, "Containers",
                     with_containers ? endpoints(n, net->name) : json_object(), "Options", opts, "Labels",
                     json_is_object(labels) ? labels : json_object());
}

static bool filter_match(const struct cni_net *net, const json_t *filters)
{
    cleanup_strv char **names = json_filter_values(filters, "name");
    cleanup_strv char **ids = json_filter_values(filters, "id");
    cleanup_strv char **labels = json_filter_values(filters, "label");
    cleanup_strv char **drivers = json_filter_values(filters, "driver");
    const char *id = json_get_str(meta(net), "id") ?: "";
    bool ok;
    if (names != NULL) {
        ok = false;
        for (size_t i = 0; names[i] != NULL && !ok; i++)
            ok = strstr(net->name, names[i]) != NULL;
        if (!ok)
            return false;
    }
    if (ids != NULL) {
        ok = false;
        for (size_t i = 0; ids[i] != NULL && !ok; i++)
            ok = str_has_prefix(id, ids[i]);
        if (!ok)
            return false;
    }
    if (drivers != NULL && !strv_contains(drivers, json_get_str(meta(net), "driver") ?: "bridge"))
        return false;
    return labels == NULL || json_labels_match(json_object_get(meta(net), "labels"), labels);
}

json_t *network_list(struct network_ctx *n, const json_t *filters, struct isd_error **err)
{
    struct cni_net **nets;
    json_t *out;
    pthread_mutex_lock(&n->lock);
    nets = cni_dir_load(n->store_dir, false, NULL, err);
    pthread_mutex_unlock(&n->lock);
    if (nets == NULL)
        return NULL;
    out = json_array();
    for (size_t i = 0; nets[i] != NULL; i++)
        if (filter_match(nets[i], filters))
            json_array_append_new(out, network_json(n, nets[i], false));
    cni_net_list_free(nets);
    return out;
}

json_t *network_inspect(struct network_ctx *n, const char *ref, struct isd_error **err)
{
    cleanup_cni_net struct cni_net *net = network_lookup(n, ref, err);
    if (net == NULL)
        return NULL;
    if (meta(net) == NULL) {
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "network %s not found", ref);
        return NULL;
    }
    return network_json(n, net, true);
}

/* The bridge plugin makes the bridge at the first ADD and never removes it: that is the network's remove. */
static void bridge_delete(const char *bridge)
{
    cleanup_free char *sys = NULL;
    const char *argv[] = {"ip", "link", "delete", bridge, "type", "bridge", NULL};
    if (bridge == NULL)
        return;
    sys = xasprintf("/sys/class/net/%s", bridge);
    if (!path_exists(sys))
        return;
    spawn_run(argv, NULL, NULL, NULL, NULL);
}

static int remove_net(struct network_ctx *n, const char *ref, bool predefined, struct isd_error **err)
{
    cleanup_cni_net struct cni_net *net = network_lookup(n, ref, err);
    cleanup_json json_t *eps = NULL;
    cleanup_free char *path = NULL;
    cleanup_free char *bridge = NULL;
    cleanup_free char *leases = NULL;
    if (net == NULL)
        return -1;
    if (!predefined && streq(net->name, NETWORK_DEFAULT))
        return isd_error_set(err, ISD_ERR_PERMISSION, 0, "%s is a pre-defined network and cannot be removed",
                             net->name);
    if (meta(net) == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "network %s is defined in the cni-conf-dir, not by isulad: "
                             "remove its file there",
                             net->name);
    pthread_mutex_lock(&n->lock);
    eps = endpoints(n, net->name);
    if (json_object_size(eps) > 0) {
        pthread_mutex_unlock(&n->lock);
        return isd_error_set(err, ISD_ERR_PERMISSION, 0,
                             "error while removing network: network %s id %s has active "
                             "endpoints",
                             net->name, json_get_str(meta(net), "id"));
    }
    path = xasprintf("%s/%s.conflist", n->store_dir, net->name);
    if (unlink(path) < 0) {
        pthread_mutex_unlock(&n->lock);
        return isd_error_errno(err, "remove network %s", net->name);
    }
    pthread_mutex_unlock(&n->lock);
    network_rules_drop(n, net->name, predefined ? NULL : meta(net));
    bridge = xstrdup(json_get_str(meta(net), "bridge") ?: "");
    bridge_delete(*bridge ? bridge : NULL);
    leases = path_join(n->ipam_dir, net->name);
    rm_rf(leases, NULL);
    return 0;
}

int network_remove(struct network_ctx *n, const char *ref, struct isd_error **err)
{
    return remove_net(n, ref, false, err);
}

/* Whether the default network's IPv6 subnet (NULL: none) is fixed-cidr-v6 (NULL: none), as networks. */
static bool subnet6_same(const char *have, const char *want)
{
    unsigned char a[16], b[16];
    cleanup_free char *ha = NULL, *wa = NULL;
    const char *hs = have != NULL ? strchr(have, '/') : NULL, *ws = want != NULL ? strchr(want, '/') : NULL;
    if (hs == NULL || ws == NULL)
        return hs == NULL && ws == NULL;
    ha = xstrndup(have, (size_t)(hs - have));
    wa = xstrndup(want, (size_t)(ws - want));
    if (inet_pton(AF_INET6, ha, a) != 1 || inet_pton(AF_INET6, wa, b) != 1 || atoi(hs + 1) != atoi(ws + 1))
        return false;
    for (int i = 0; i < 16; i++) {
        int bits = atoi(ws + 1) - i * 8;
        unsigned char m = bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
        if ((a[i] & m) != (b[i] & m))
            return false;
    }
    return true;
}

static bool default_matches(const struct cni_net *net, const char *bip, const char *bridge, const char *cidr6)
{
    cleanup_free char *gw = NULL;
    const char *slash = bip != NULL ? strchr(bip, '/') : NULL;
    if (!streq(json_get_str(meta(net), "bridge"), bridge))
        return false;
    if (!subnet6_same(json_get_str(meta(net), "subnet6"), cidr6))
        return false;
    if (slash == NULL)
        return true; /* no bip: the subnet picked once stays */
    gw = xstrndup(bip, (size_t)(slash - bip));
    return streq(json_get_str(meta(net), "gateway"), gw) &&
           atoi(strchr(json_get_str(meta(net), "subnet") ?: "/0", '/') + 1) == atoi(slash + 1);
}

static json_t *default_body(const char *bip, const char *bridge, const char *cidr6)
{
    json_t *body =
        json_pack("{s:s, s:{s:s}}", "Name", NETWORK_DEFAULT, "Options", "com.docker.network.bridge.name", bridge);
    const char *slash = bip != NULL ? strchr(bip, '/') : NULL;
    struct in_addr a;
    cleanup_free char *gw = NULL;
    cleanup_free char *subnet = NULL;
    if (cidr6 != NULL) {
        json_object_set_new(body, "EnableIPv6", json_true());
        json_object_set_new(body, "IPAM", json_pack("{s:[{s:s}]}", "Config", "Subnet", cidr6));
    }
    if (slash == NULL)
        return body;
    gw = xstrndup(bip, (size_t)(slash - bip));
    if (inet_pton(AF_INET, gw, &a) == 1) {
        int prefix = atoi(slash + 1);
        uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
        struct in_addr net = {.s_addr = htonl(ntohl(a.s_addr) & mask)};
        char buf[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &net, buf, sizeof(buf));
        subnet = xasprintf("%s/%d", buf, prefix);
        if (json_object_get(body, "IPAM") == NULL)
            json_object_set_new(body, "IPAM", json_pack("{s:[]}", "Config"));
        json_array_insert_new(json_object_get(json_object_get(body, "IPAM"), "Config"), 0,
                              json_pack("{s:s, s:s}", "Subnet", subnet, "Gateway", gw));
    }
    return body;
}

int network_default_ensure(struct network_ctx *n, const char *bip, const char *bridge, const char *cidr6,
                           char **ret_warning, struct isd_error **err)
{
    cleanup_cni_net struct cni_net *net = network_lookup(n, NETWORK_DEFAULT, NULL);
    cleanup_json json_t *body = NULL;
    cleanup_json json_t *made = NULL;
    *ret_warning = NULL;
    if (net != NULL && meta(net) != NULL && default_matches(net, bip, bridge, cidr6))
        return n->has_default = true, 0;
    if (net != NULL && meta(net) != NULL) {
        cleanup_json json_t *eps = endpoints(n, net->name);
        if (json_object_size(eps) > 0) {
            *ret_warning = xasprintf("the default network keeps %s (%s) while containers are attached",
                                     json_get_str(meta(net), "subnet"), json_get_str(meta(net), "bridge"));
            return n->has_default = true, 0;
        }
        if (remove_net(n, net->name, true, err) < 0)
            return -1;
    }
    body = default_body(bip, bridge, cidr6);
    made = network_create_predefined(n, body, err);
    n->has_default = made != NULL;
    return made != NULL ? 0 : -1;
}

static bool prune_match(const struct cni_net *net, const json_t *filters)
{
    cleanup_strv char **want = json_filter_values(filters, "label");
    cleanup_strv char **unwanted = json_filter_values(filters, "label!");
    const json_t *labels = json_object_get(meta(net), "labels");
    for (size_t i = 0; unwanted != NULL && unwanted[i] != NULL; i++) {
        char *const one[] = {unwanted[i], NULL};
        if (json_labels_match(labels, one))
            return false;
    }
    return want == NULL || json_labels_match(labels, want);
}

json_t *network_prune(struct network_ctx *n, const json_t *filters, struct isd_error **err)
{
    struct cni_net **nets;
    json_t *deleted;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)filters, key, v)
    {
        if (!streq(key, "label") && !streq(key, "label!")) {
            isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter '%s'", key);
            return NULL;
        }
    }
    pthread_mutex_lock(&n->lock);
    nets = cni_dir_load(n->store_dir, false, NULL, err);
    pthread_mutex_unlock(&n->lock);
    if (nets == NULL)
        return NULL;
    deleted = json_array();
    for (size_t i = 0; nets[i] != NULL; i++) {
        cleanup_json json_t *eps = NULL;
        if (streq(nets[i]->name, NETWORK_DEFAULT) || !prune_match(nets[i], filters))
            continue;
        eps = endpoints(n, nets[i]->name);
        if (json_object_size(eps) == 0 && network_remove(n, nets[i]->name, NULL) == 0)
            json_array_append_new(deleted, json_string(nets[i]->name));
    }
    cni_net_list_free(nets);
    return json_pack("{s:o}", "NetworksDeleted", deleted);
}
