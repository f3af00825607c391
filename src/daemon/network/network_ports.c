/*
 * Published ports: Docker's PortBindings (and PublishAllPorts with ExposedPorts) turned into the
 * `portMappings` runtime config of the portmap plugin, with random host ports where none is given and a
 * clear error for a host port that is taken (by another container's mapping here, or by a socket of the
 * host: DNAT would silently shadow it). No userland proxy: portmap's DNAT also covers connections from the
 * host itself, to 127.0.0.1 too (it sets route_localnet on the bridge and masquerades those).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/network/network.h"

/* "80/tcp" → 80, "tcp"; ranges are expanded by the caller. */
static int port_key_parse(const char *k, long long *ret_lo, long long *ret_hi, const char **ret_proto)
{
    const char *slash = strchr(k, '/');
    cleanup_free char *range = slash != NULL ? xstrndup(k, (size_t)(slash - k)) : xstrdup(k);
    char *dash = strchr(range, '-');
    *ret_proto = slash != NULL ? slash + 1 : "tcp";
    if (dash != NULL)
        *dash = '\0';
    if (parse_int64(range, ret_lo) < 0 || *ret_lo < 1 || *ret_lo > 65535)
        return -1;
    *ret_hi = *ret_lo;
    if (dash != NULL && (parse_int64(dash + 1, ret_hi) < 0 || *ret_hi < *ret_lo || *ret_hi > 65535))
        return -1;
    return 0;
}

static bool proto_udp(const char *proto)
{
    return streq(proto, "udp");
}

/* Binds ip:port (ip "" = every address) to see whether the host uses it; port 0 asks for a free one. */
static int probe_port(const char *ip, const char *proto, int port, int *ret_port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(a);
    int s = socket(AF_INET, (proto_udp(proto) ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    int rc = -1;
    if (s < 0)
        return -1;
    if (ip != NULL && *ip != '\0' && inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0) {
        *ret_port = ntohs(a.sin_port);
        rc = 0;
    }
    close(s);
    return rc;
}

static bool ips_overlap(const char *a, const char *b)
{
    bool any_a = a == NULL || *a == '\0' || streq(a, "0.0.0.0");
    bool any_b = b == NULL || *b == '\0' || streq(b, "0.0.0.0");
    return any_a || any_b || streq(a, b);
}

/* Whether another attachment (of a container other than id) maps the same host port. */
static bool mapped_elsewhere(struct network_ctx *n, const char *id, const char *ip, const char *proto, int port)
{
    DIR *d = opendir(n->cache_dir);
    struct dirent *de;
    bool hit = false;
    while (d != NULL && !hit && (de = readdir(d)) != NULL) {
        json_t **entries;
        if (de->d_name[0] == '.' || streq(de->d_name, id))
            continue;
        entries = cni_cache_list(&n->env, de->d_name);
        for (size_t i = 0; entries != NULL && entries[i] != NULL && !hit; i++) {
            size_t j;
            json_t *m;
            json_array_foreach(json_object_get(json_object_get(entries[i], "capabilities"), "portMappings"), j, m)
            {
                if (json_get_int(m, "hostPort", 0) == port && streq(json_get_str(m, "protocol"), proto) &&
                    ips_overlap(json_get_str(m, "hostIP"), ip))
                    hit = true;
            }
        }
        cni_cache_list_free(entries);
    }
    if (d != NULL)
        closedir(d);
    return hit;
}

static int add_mapping(struct network_ctx *n, const char *id, json_t *out, const char *ip, const char *proto,
                       long long host, long long ctr, struct isd_error **err)
{
    int port = (int)host;
    const char *shown = ip != NULL && *ip != '\0' ? ip : "0.0.0.0";
    if (ip != NULL && *ip != '\0') {
        struct in_addr a;
        if (inet_pton(AF_INET, ip, &a) != 1)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid host IP `%s` in a port binding (IPv4 only)", ip);
    }
    if ((host > 0 && mapped_elsewhere(n, id, ip, proto, port)) || probe_port(ip, proto, port, &port) < 0)
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "Bind for %s:%lld failed: port is already allocated", shown,
                             host);
    json_t *m = json_pack("{s:i, s:i, s:s}", "hostPort", port, "containerPort", (int)ctr, "protocol", proto);
    if (ip != NULL && *ip != '\0')
        json_object_set_new(m, "hostIP", json_string(ip));
    json_array_append_new(out, m);
    return 0;
}

static int add_binding(struct network_ctx *n, const char *id, json_t *out, const char *key, const json_t *b,
                       struct isd_error **err)
{
    long long lo, hi, hlo = 0, hhi = 0;
    const char *proto, *hp = json_get_str(b, "HostPort"), *hproto;
    cleanup_free char *hkey = NULL;
    if (port_key_parse(key, &lo, &hi, &proto) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid port specification: \"%s\"", key);
    if (hp != NULL && *hp != '\0' && !streq(hp, "0")) {
        hkey = xasprintf("%s/%s", hp, proto);
        if (port_key_parse(hkey, &hlo, &hhi, &hproto) < 0 || (hhi - hlo != hi - lo && hhi != hlo))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid hostPort: %s", hp);
    }
    for (long long p = lo; p <= hi; p++) {
        long long host = hlo == 0 ? 0 : (hhi == hlo ? hlo : hlo + (p - lo));
        if (add_mapping(n, id, out, json_get_str(b, "HostIp"), proto, host, p, err) < 0)
            return -1;
    }
    return 0;
}

json_t *network_port_mappings(struct network_ctx *n, const char *id, const json_t *host_config, const json_t *exposed,
                              struct isd_error **err)
{
    cleanup_json json_t *out = json_array();
    json_t *bindings = json_object_get(host_config, "PortBindings");
    const char *k;
    json_t *v;
    json_object_foreach(bindings, k, v)
    {
        size_t i;
        json_t *b;
        json_array_foreach(v, i, b)
        {
            if (add_binding(n, id, out, k, b, err) < 0)
                return NULL;
        }
    }
    if (json_get_bool(host_config, "PublishAllPorts", false)) {
        json_t *empty = json_object();
        json_object_foreach((json_t *)exposed, k, v)
        {
            if (json_object_get(bindings, k) == NULL && add_binding(n, id, out, k, empty, err) < 0) {
                json_decref(empty);
                return NULL;
            }
        }
        json_decref(empty);
    }
    return TAKE_PTR(out);
}

json_t *network_ports_json(const json_t *mappings, const json_t *exposed)
{
    json_t *ports = json_object();
    const char *k;
    json_t *v;
    size_t i;
    json_object_foreach((json_t *)exposed, k, v)
    {
        json_object_set_new(ports, strchr(k, '/') ? k : "", json_null());
    }
    json_object_del(ports, "");
    json_array_foreach(mappings, i, v)
    {
        cleanup_free char *key =
            xasprintf("%lld/%s", json_get_int(v, "containerPort", 0), json_get_str(v, "protocol") ?: "tcp");
        cleanup_free char *hp = xasprintf("%lld", json_get_int(v, "hostPort", 0));
        json_t *list = json_object_get(ports, key);
        if (!json_is_array(list)) {
            list = json_array();
            json_object_set_new(ports, key, list);
        }
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "HostIp", json_get_str(v, "hostIP") ?: "0.0.0.0", "HostPort", hp));
    }
    return ports;
}

json_t *network_ports_list(const json_t *mappings, const json_t *exposed)
{
    json_t *out = json_array();
    cleanup_json json_t *published = json_object();
    const char *k;
    json_t *v;
    size_t i;
    json_array_foreach(mappings, i, v)
    {
        const char *proto = json_get_str(v, "protocol") ?: "tcp";
        cleanup_free char *key = xasprintf("%lld/%s", json_get_int(v, "containerPort", 0), proto);
        json_object_set_new(published, key, json_true());
        json_array_append_new(out, json_pack("{s:s, s:I, s:I, s:s}", "IP", json_get_str(v, "hostIP") ?: "0.0.0.0",
                                             "PrivatePort", (json_int_t)json_get_int(v, "containerPort", 0),
                                             "PublicPort", (json_int_t)json_get_int(v, "hostPort", 0), "Type", proto));
    }
    json_object_foreach((json_t *)exposed, k, v)
    {
        const char *slash = strchr(k, '/');
        if (slash == NULL || json_object_get(published, k) != NULL)
            continue;
        json_array_append_new(out, json_pack("{s:i, s:s}", "PrivatePort", atoi(k), "Type", slash + 1));
    }
    return out;
}
