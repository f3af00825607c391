/*
 * A container's endpoints beyond its primary network (NetworkMode): `network connect` / `disconnect`, hot on a
 * running container (CNI ADD/DEL as eth1, eth2, ... in its pinned namespace) and kept in
 * <container dir>/network-endpoints.json ({network: EndpointSettings}) so that each start attaches them again,
 * also after a restart of isulad. The primary network's own EndpointSettings (aliases, --ip, --mac-address) are
 * kept there too, under its name.
 */
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/network/network.h"
#include "daemon/service/internal.h"

#define ENDPOINTS_MAX (1 << 20)

static char *endpoints_path(const struct container *c)
{
    return xasprintf("%s/network-endpoints.json", c->dir);
}

/* {network: EndpointSettings}; an empty object when there is no file. */
json_t *service_network_endpoints(const struct container *c)
{
    cleanup_free char *path = endpoints_path(c);
    json_t *j = json_load_path(path, ENDPOINTS_MAX, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    return j;
}

static int endpoints_save(const struct container *c, const json_t *eps, struct isd_error **err)
{
    cleanup_free char *path = endpoints_path(c);
    return json_write_path(path, eps, true, err);
}

/* The runtime config of one endpoint for the plugins: ports (primary only), `ips` (--ip) and `mac`
 * (--mac-address), each refused with a clear error when the network's plugins do not declare it. */
json_t *service_network_caps(struct daemon *d, const char *name, const json_t *ep, const json_t *ports,
                             struct isd_error **err)
{
    cleanup_cni_net struct cni_net *net = network_lookup(d->network, name, err);
    const char *ip = json_get_str(json_object_get(ep, "IPAMConfig"), "IPv4Address");
    const char *ip6 = json_get_str(json_object_get(ep, "IPAMConfig"), "IPv6Address");
    const char *mac = json_get_str(ep, "MacAddress");
    cleanup_json json_t *caps = json_object();
    cleanup_json json_t *ips = json_array();
    if (net == NULL)
        return NULL;
    if (json_array_size(ports) > 0)
        json_object_set(caps, "portMappings", (json_t *)ports);
    if ((ip != NULL && *ip != '\0') || (ip6 != NULL && *ip6 != '\0')) {
        if (!network_has_capability(net, "ips"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "network `%s` does not support a fixed IP address", name),
                   NULL;
        if (ip != NULL && *ip != '\0') {
            if (network_ip_check(net, ip, err) < 0)
                return NULL;
            json_array_append_new(ips, json_string(ip));
        }
        /* host-local takes each address from the range set (IPv4, IPv6) that holds it */
        if (ip6 != NULL && *ip6 != '\0') {
            if (network_ip6_check(net, ip6, err) < 0)
                return NULL;
            json_array_append_new(ips, json_string(ip6));
        }
        json_object_set(caps, "ips", ips);
    }
    if (mac != NULL && *mac != '\0') {
        if (!network_has_capability(net, "mac"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "network `%s` does not support a fixed MAC address", name),
                   NULL;
        json_object_set_new(caps, "mac", json_string(mac));
    }
    return json_object_size(caps) > 0 ? json_incref(caps) : NULL;
}

static int check_endpoint(struct daemon *d, const char *name, const json_t *ep, struct isd_error **err)
{
    struct isd_error *e = NULL;
    cleanup_json json_t *caps = service_network_caps(d, name, ep, NULL, &e);
    size_t i;
    json_t *a;
    if (caps == NULL && e != NULL) {
        *err = e;
        return -1;
    }
    json_array_foreach(json_object_get(ep, "Aliases"), i, a)
    {
        const char *s = json_string_value(a);
        if (s == NULL || !container_name_valid(s))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid network alias `%s`", s ? s : "");
    }
    return 0;
}

/* The settings kept for an endpoint: what the plugins and the hosts files use. */
static json_t *endpoint_keep(const json_t *ep)
{
    json_t *out = json_object();
    const char *ip = json_get_str(json_object_get(ep, "IPAMConfig"), "IPv4Address");
    const char *ip6 = json_get_str(json_object_get(ep, "IPAMConfig"), "IPv6Address");
    if (json_array_size(json_object_get(ep, "Aliases")) > 0)
        json_object_set(out, "Aliases", json_object_get(ep, "Aliases"));
    if (ip != NULL && *ip == '\0')
        ip = NULL;
    if (ip6 != NULL && *ip6 == '\0')
        ip6 = NULL;
    if (ip != NULL || ip6 != NULL)
        json_object_set_new(out, "IPAMConfig", json_pack("{s:s*, s:s*}", "IPv4Address", ip, "IPv6Address", ip6));
    if (json_get_str(ep, "MacAddress") != NULL && *json_get_str(ep, "MacAddress") != '\0')
        json_object_set(out, "MacAddress", json_object_get(ep, "MacAddress"));
    /* the interface a CRI pod's extra network asks for (not in the Docker API's EndpointConfig) */
    if (json_get_str(ep, "IfName") != NULL && *json_get_str(ep, "IfName") != '\0')
        json_object_set(out, "IfName", json_object_get(ep, "IfName"));
    return out;
}

int service_network_save_endpoint(struct daemon *d, struct container *c, const json_t *body, struct isd_error **err)
{
    const char *mode = json_get_str(c->host_config, "NetworkMode");
    json_t *eps = json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig");
    cleanup_json json_t *ep = NULL;
    cleanup_json json_t *all = NULL;
    if (!network_mode_is_named(mode))
        return 0;
    ep = endpoint_keep(json_object_get(eps, mode));
    /* before API 1.44, --mac-address came as Config.MacAddress (the create body's top level) */
    if (json_get_str(ep, "MacAddress") == NULL && json_get_str(body, "MacAddress") != NULL &&
        *json_get_str(body, "MacAddress") != '\0')
        json_object_set(ep, "MacAddress", json_object_get(body, "MacAddress"));
    if (json_object_size(ep) == 0)
        return 0;
    if (check_endpoint(d, mode, ep, err) < 0)
        return -1;
    all = json_pack("{s:O}", mode, ep);
    return endpoints_save(c, all, err);
}

/* Attaches the networks beyond the primary one (start; the namespace is pinned). */
int service_network_start_more(struct daemon *d, struct container *c, struct isd_error **err)
{
    const char *mode = service_network_primary(d, c->host_config);
    cleanup_json json_t *eps = service_network_endpoints(c);
    const char *name;
    json_t *ep;
    json_object_foreach(eps, name, ep)
    {
        cleanup_json json_t *caps = NULL;
        struct isd_error *e = NULL;
        if (streq(name, mode))
            continue;
        caps = service_network_caps(d, name, ep, NULL, &e);
        if ((caps == NULL && e != NULL) ||
            network_container_attach_more(d->network, c->id, c->name, json_object_get(ep, "Aliases"), name,
                                          json_get_str(ep, "IfName"), caps, &e) < 0) {
            *err = e;
            return -1;
        }
    }
    return 0;
}

static struct container *lookup_locked(struct daemon *d, const char *ref, struct isd_error **err)
{
    struct container *c = container_store_lookup(d->containers, ref, err);
    if (c == NULL)
        return NULL;
    pthread_mutex_lock(&c->lock);
    return c;
}

static int connect_locked(struct daemon *d, struct container *c, const char *name, const json_t *ep,
                          struct isd_error **err)
{
    const char *mode = service_network_primary(d, c->host_config);
    cleanup_json json_t *eps = service_network_endpoints(c);
    cleanup_json json_t *keep = endpoint_keep(ep);
    cleanup_json json_t *caps = NULL;
    struct isd_error *e = NULL;
    if (mode == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "container %s is not on a network (--net %s): it cannot be connected to another one",
                             c->name, json_get_str(c->host_config, "NetworkMode") ?: "");
    if (streq(mode, name) || json_object_get(eps, name) != NULL)
        return isd_error_set(err, ISD_ERR_PERMISSION, 0, "endpoint with name %s already exists in network %s", c->name,
                             name);
    if (check_endpoint(d, name, keep, err) < 0)
        return -1;
    json_object_set(eps, name, keep);
    if (container_is_active(c)) {
        if ((caps = service_network_caps(d, name, keep, NULL, &e)) == NULL && e != NULL) {
            *err = e;
            return -1;
        }
        if (network_container_attach_more(d->network, c->id, c->name, json_object_get(keep, "Aliases"), name,
                                          json_get_str(keep, "IfName"), caps, err) < 0)
            return -1;
    }
    if (endpoints_save(c, eps, err) < 0) {
        network_container_detach_one(d->network, c->id, name, NULL);
        return -1;
    }
    return 0;
}

int service_network_connect(struct daemon *d, const char *net_ref, const char *ctr_ref, const json_t *ep,
                            struct isd_error **err)
{
    cleanup_cni_net struct cni_net *net = network_lookup(d->network, net_ref, err);
    cleanup_container struct container *c = NULL;
    int rc;
    if (net == NULL || (c = lookup_locked(d, ctr_ref, err)) == NULL)
        return -1;
    rc = connect_locked(d, c, net->name, ep, err);
    pthread_mutex_unlock(&c->lock);
    if (rc == 0)
        service_network_hosts_refresh(d, net->name);
    return rc;
}

static int disconnect_locked(struct daemon *d, struct container *c, const char *name, struct isd_error **err)
{
    const char *mode = service_network_primary(d, c->host_config);
    cleanup_json json_t *eps = service_network_endpoints(c);
    if (streq(mode, name))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "network %s is container %s's primary network (--net): it cannot be disconnected", name,
                             c->name);
    if (json_object_get(eps, name) == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "container %s is not connected to network %s", c->name, name);
    if (network_container_detach_one(d->network, c->id, name, err) < 0)
        return -1;
    json_object_del(eps, name);
    return endpoints_save(c, eps, err);
}

int service_network_disconnect(struct daemon *d, const char *net_ref, const char *ctr_ref, bool force,
                               struct isd_error **err)
{
    cleanup_cni_net struct cni_net *net = network_lookup(d->network, net_ref, force ? NULL : err);
    cleanup_container struct container *c = NULL;
    const char *name = net != NULL ? net->name : net_ref; /* force: the network may be gone */
    int rc;
    if ((net == NULL && !force) || (c = lookup_locked(d, ctr_ref, err)) == NULL)
        return -1;
    rc = disconnect_locked(d, c, name, err);
    pthread_mutex_unlock(&c->lock);
    if (rc == 0)
        service_network_hosts_refresh(d, name);
    return rc;
}

/* inspect: the networks a stopped container is connected to, with empty addresses. */
void service_network_settings_more(struct daemon *d, const char *id, json_t *networks)
{
    cleanup_container struct container *c = container_store_lookup(d->containers, id, NULL);
    cleanup_json json_t *eps = NULL;
    const char *name;
    json_t *ep;
    if (c == NULL || !json_is_object(networks))
        return;
    eps = service_network_endpoints(c);
    json_object_foreach(eps, name, ep)
    {
        json_t *have = json_object_get(networks, name);
        if (have == NULL) {
            have = network_endpoint_configured(d->network, name);
            json_object_set_new(networks, name, have);
        }
        if (json_object_get(ep, "IPAMConfig") != NULL)
            json_object_set(have, "IPAMConfig", json_object_get(ep, "IPAMConfig"));
        if (json_is_array(json_object_get(ep, "Aliases")))
            json_object_set(have, "Aliases", json_object_get(ep, "Aliases"));
    }
}

void service_network_list_ports(struct daemon *d, struct container *c, json_t *item)
{
    cleanup_json json_t *exposed = NULL;
    if (!network_container_has_state(d->network, c->id))
        return;
    pthread_mutex_lock(&c->lock);
    exposed = json_deep_copy(json_object_get(c->config, "ExposedPorts"));
    pthread_mutex_unlock(&c->lock);
    json_object_set_new(item, "Ports", network_container_ports(d->network, c->id, exposed));
}
