/*
 * User networks: POST /networks/create's body turned into a CNI conflist (bridge with host-local IPAM,
 * portmap, firewall) in <graph>/networks/<name>.conflist, and list, inspect and remove of those.
 * isulad's own facts about a network (id, creation time, labels, the options as given) live under the
 * conflist's top-level key "isulad", which plugins never see.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/network/network.h"

#define BRIDGE_NAME_OPT "com.docker.network.bridge.name"
#define MASQ_OPT "com.docker.network.bridge.enable_ip_masquerade"

struct cidr {
    uint32_t addr; /* host order, the network address */
    int prefix;
};

static uint32_t mask_of(int prefix)
{
    return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static int ip_parse(const char *s, uint32_t *ret)
{
    struct in_addr a;
    if (s == NULL || inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *ret = ntohl(a.s_addr);
    return 0;
}

static char *ip_str(uint32_t ip)
{
    struct in_addr a = {.s_addr = htonl(ip)};
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, buf, sizeof(buf));
    return xstrdup(buf);
}

static int cidr_parse(const char *s, struct cidr *ret, struct isd_error **err)
{
    const char *slash = s != NULL ? strchr(s, '/') : NULL;
    cleanup_free char *ip = slash != NULL ? xstrndup(s, (size_t)(slash - s)) : NULL;
    long long p;
    uint32_t a;
    if (ip == NULL || ip_parse(ip, &a) < 0 || parse_int64(slash + 1, &p) < 0 || p < 1 || p > 30)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid CIDR address: %s (IPv4 with a prefix of 1 to 30)",
                             s ? s : "");
    ret->prefix = (int)p;
    ret->addr = a & mask_of(ret->prefix);
    return 0;
}

static char *cidr_str(const struct cidr *c)
{
    cleanup_free char *ip = ip_str(c->addr);
    return xasprintf("%s/%d", ip, c->prefix);
}

static bool cidr_overlap(const struct cidr *a, const struct cidr *b)
{
    int p = a->prefix < b->prefix ? a->prefix : b->prefix;
    return (a->addr & mask_of(p)) == (b->addr & mask_of(p));
}

static bool cidr_contains(const struct cidr *c, uint32_t ip)
{
    return (ip & mask_of(c->prefix)) == c->addr;
}

/* IPv6 subnets (EnableIPv6 networks): a given subnet only, no default pool. */
struct cidr6 {
    struct in6_addr addr; /* the network address */
    int prefix;
};

static void mask6(struct in6_addr *a, int prefix)
{
    for (int i = 0; i < 16; i++) {
        int bits = prefix - i * 8;
        a->s6_addr[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
    }
}

static int cidr6_parse(const char *s, struct cidr6 *ret, struct isd_error **err)
{
    const char *slash = s != NULL ? strchr(s, '/') : NULL;
    cleanup_free char *ip = slash != NULL ? xstrndup(s, (size_t)(slash - s)) : NULL;
    long long p;
    if (ip == NULL || inet_pton(AF_INET6, ip, &ret->addr) != 1 || parse_int64(slash + 1, &p) < 0 || p < 8 || p > 126)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid CIDR address: %s (IPv6 with a prefix of 8 to 126)",
                             s ? s : "");
    ret->prefix = (int)p;
    mask6(&ret->addr, ret->prefix);
    return 0;
}

static char *ip6_str(const struct in6_addr *a)
{
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, a, buf, sizeof(buf));
    return xstrdup(buf);
}

static char *cidr6_str(const struct cidr6 *c)
{
    cleanup_free char *ip = ip6_str(&c->addr);
    return xasprintf("%s/%d", ip, c->prefix);
}

static bool cidr6_contains(const struct cidr6 *c, const struct in6_addr *a)
{
    struct in6_addr m = *a;
    mask6(&m, c->prefix);
    return memcmp(&m, &c->addr, sizeof(m)) == 0;
}

static bool cidr6_overlap(const struct cidr6 *a, const struct cidr6 *b)
{
    return a->prefix <= b->prefix ? cidr6_contains(a, &b->addr) : cidr6_contains(b, &a->addr);
}

static char *store_path(struct network_ctx *n, const char *name)
{
    return xasprintf("%s/%s.conflist", n->store_dir, name);
}

/* Every user network (lock held). */
static struct cni_net **store_load(struct network_ctx *n, struct isd_error **err)
{
    return cni_dir_load(n->store_dir, false, NULL, err);
}

static const json_t *meta(const struct cni_net *net)
{
    return json_object_get(net->conf, "isulad");
}

static struct cni_net *find_in(struct cni_net **nets, const char *ref, struct isd_error **err)
{
    struct cni_net *hit = NULL;
    size_t len = ref != NULL ? strlen(ref) : 0;
    for (size_t i = 0; nets != NULL && nets[i] != NULL && len > 0; i++) {
        const char *id = json_get_str(meta(nets[i]), "id");
        if (streq(nets[i]->name, ref) || streq(id, ref))
            return nets[i];
    }
    for (size_t i = 0; nets != NULL && nets[i] != NULL && len > 0; i++) {
        const char *id = json_get_str(meta(nets[i]), "id");
        if (id == NULL || strncmp(id, ref, len) != 0)
            continue;
        if (hit != NULL) {
            isd_error_set(err, ISD_ERR_INVALID, 0, "network %s is ambiguous", ref);
            return NULL;
        }
        hit = nets[i];
    }
    if (hit == NULL)
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "network %s not found", ref ? ref : "");
    return hit;
}

/* Takes the found network out of the list so the caller owns it. */
static struct cni_net *take_from(struct cni_net **nets, struct cni_net *hit)
{
    for (size_t i = 0; nets[i] != NULL; i++) {
        if (nets[i] == hit) {
            for (size_t j = i; nets[j] != NULL; j++)
                nets[j] = nets[j + 1];
            return hit;
        }
    }
    return NULL;
}

struct cni_net *network_lookup(struct network_ctx *n, const char *ref, struct isd_error **err)
{
    struct cni_net **nets;
    struct cni_net *hit;
    pthread_mutex_lock(&n->lock);
    nets = store_load(n, err);
    hit = nets != NULL ? find_in(nets, ref, NULL) : NULL;
    if (hit != NULL)
        hit = take_from(nets, hit);
    pthread_mutex_unlock(&n->lock);
    cni_net_list_free(nets);
    if (hit != NULL)
        return hit;
    /* A network of cni-conf-dir, by its exact name (the guide's N-09 names). */
    nets = cni_dir_load(n->conf_dir, true, NULL, NULL);
    for (size_t i = 0; nets != NULL && nets[i] != NULL && hit == NULL; i++)
        if (streq(nets[i]->name, ref))
            hit = take_from(nets, nets[i]);
    cni_net_list_free(nets);
    if (hit == NULL)
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "network %s not found", ref ? ref : "");
    return hit;
}

/* isula-br0, isula-br1, ...: the first name no network uses and no interface has. */
static char *bridge_pick(struct cni_net **nets)
{
    for (int i = 0; i < 1000; i++) {
        cleanup_free char *name = xasprintf("isula-br%d", i);
        cleanup_free char *sys = xasprintf("/sys/class/net/%s", name);
        bool used = path_exists(sys);
        for (size_t j = 0; nets[j] != NULL && !used; j++)
            used = streq(json_get_str(meta(nets[j]), "bridge"), name);
        if (!used)
            return TAKE_PTR(name);
    }
    return NULL;
}

static bool subnet_taken(struct cni_net **nets, const struct cidr *c, const char **ret_by)
{
    for (size_t i = 0; nets[i] != NULL; i++) {
        struct cidr o;
        if (cidr_parse(json_get_str(meta(nets[i]), "subnet"), &o, NULL) == 0 && cidr_overlap(&o, c)) {
            *ret_by = nets[i]->name;
            return true;
        }
    }
    return false;
}

static bool subnet6_taken(struct cni_net **nets, const struct cidr6 *c, const char **ret_by)
{
    for (size_t i = 0; nets[i] != NULL; i++) {
        struct cidr6 o;
        if (cidr6_parse(json_get_str(meta(nets[i]), "subnet6"), &o, NULL) == 0 && cidr6_overlap(&o, c)) {
            *ret_by = nets[i]->name;
            return true;
        }
    }
    return false;
}

/* Routes of the host (/proc/net/route): a default subnet must not shadow one of them. */
static bool host_route_overlaps(const struct cidr *c)
{
    cleanup_fclose FILE *f = fopen("/proc/net/route", "re");
    char line[256];
    if (f == NULL)
        return false;
    while (fgets(line, sizeof(line), f) != NULL) {
        char ifname[32];
        unsigned int dst, gw, flags, mask;
        struct cidr r;
        if (sscanf(line, "%31s %x %x %x %*d %*d %*d %x", ifname, &dst, &gw, &flags, &mask) != 5 || mask == 0)
            continue;
        r.addr = ntohl(dst);
        r.prefix = __builtin_popcount(mask);
        if (cidr_overlap(&r, c))
            return true;
    }
    return false;
}

/* Docker's local pool: the first free 172.<first>.0.0/16 .. 172.31.0.0/16 (user networks from 18, the default
 * bridge network from 17 as docker0). */
static int subnet_pick(struct cni_net **nets, uint32_t first, struct cidr *ret, struct isd_error **err)
{
    for (uint32_t b = first; b <= 31; b++) {
        struct cidr c = {.addr = (172u << 24) | (b << 16), .prefix = 16};
        const char *by;
        if (!subnet_taken(nets, &c, &by) && !host_route_overlaps(&c)) {
            *ret = c;
            return 0;
        }
    }
    return isd_error_set(err, ISD_ERR_CONFLICT, 0,
                         "could not find an available, non-overlapping IPv4 address pool among the defaults to assign "
                         "to the network");
}

struct create_req {
    const char *name;
    bool internal, masq;
    struct cidr subnet;
    uint32_t gateway, range_lo, range_hi;
    const char *ip_range;
    const char *bridge;
    bool v6; /* EnableIPv6 with its subnet */
    struct cidr6 subnet6;
    struct in6_addr gateway6;
};

/* An IPAM Config entry with an IPv6 subnet. */
static int check_ipam6(const json_t *c, struct create_req *r, struct isd_error **err)
{
    const char *gw = json_get_str(c, "Gateway");
    if (r->v6)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "only one IPv6 subnet is supported");
    if (cidr6_parse(json_get_str(c, "Subnet"), &r->subnet6, err) < 0)
        return -1;
    if (json_get_str(c, "IPRange") != NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "an IP range on an IPv6 subnet is not supported");
    r->gateway6 = r->subnet6.addr;
    r->gateway6.s6_addr[15] |= 1;
    if (gw != NULL && (inet_pton(AF_INET6, gw, &r->gateway6) != 1 || !cidr6_contains(&r->subnet6, &r->gateway6)))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid gateway %s: not an address of subnet %s", gw,
                             json_get_str(c, "Subnet"));
    r->v6 = true;
    return 0;
}

static int check_ipam(const json_t *body, struct create_req *r, bool *ret_given, struct isd_error **err)
{
    json_t *ipam = json_object_get(body, "IPAM");
    json_t *cfgs = json_object_get(ipam, "Config");
    json_t *c0 = NULL;
    const char *drv = json_get_str(ipam, "Driver");
    struct cidr range;
    size_t i;
    json_t *c;
    *ret_given = false;
    if (drv != NULL && *drv != '\0' && !streq(drv, "default"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "IPAM driver `%s` is not supported (only default)", drv);
    json_array_foreach(cfgs, i, c)
    {
        const char *subnet = json_get_str(c, "Subnet");
        if (subnet == NULL) {
            if (json_get_str(c, "Gateway") != NULL || json_get_str(c, "IPRange") != NULL)
                return isd_error_set(err, ISD_ERR_INVALID, 0, "a gateway or an IP range needs a subnet");
            continue;
        }
        if (strchr(subnet, ':') != NULL) {
            if (check_ipam6(c, r, err) < 0)
                return -1;
            continue;
        }
        if (c0 != NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "only one IPAM configuration per address family (one IPv4 subnet) is supported");
        c0 = c;
    }
    if (r->v6 && !json_get_bool(body, "EnableIPv6", false))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "an IPv6 subnet needs IPv6 enabled (EnableIPv6, --ipv6)");
    if (!r->v6 && json_get_bool(body, "EnableIPv6", false))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "an IPv6 network needs its IPv6 subnet (--subnet): there is no default IPv6 pool");
    if (c0 == NULL)
        return 0;
    *ret_given = true;
    if (cidr_parse(json_get_str(c0, "Subnet"), &r->subnet, err) < 0)
        return -1;
    r->gateway = r->subnet.addr + 1;
    if (json_get_str(c0, "Gateway") != NULL &&
        (ip_parse(json_get_str(c0, "Gateway"), &r->gateway) < 0 || !cidr_contains(&r->subnet, r->gateway)))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid gateway %s: not an address of subnet %s",
                             json_get_str(c0, "Gateway"), json_get_str(c0, "Subnet"));
    r->ip_range = json_get_str(c0, "IPRange");
    r->range_lo = r->subnet.addr + 1;
    r->range_hi = (r->subnet.addr | ~mask_of(r->subnet.prefix)) - 1;
    if (r->ip_range != NULL) {
        if (cidr_parse(r->ip_range, &range, err) < 0)
            return -1;
        if (!cidr_contains(&r->subnet, range.addr) || range.prefix < r->subnet.prefix)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "IP range %s is not inside subnet %s", r->ip_range,
                                 json_get_str(c0, "Subnet"));
        r->range_lo = range.addr > r->range_lo ? range.addr : r->range_lo;
        uint32_t hi = range.addr | ~mask_of(range.prefix);
        r->range_hi = hi < r->range_hi ? hi : r->range_hi;
    }
    return 0;
}

static int check_create(const json_t *body, bool predefined, bool masq_default, struct create_req *r,
                        bool *ret_subnet_given, struct isd_error **err)
{
    static const char *const reserved[] = {"bridge", "host", "none", "default"};
    const char *drv = json_get_str(body, "Driver");
    json_t *opts = json_object_get(body, "Options");
    const char *masq = json_get_str(opts, MASQ_OPT);
    r->name = json_get_str(body, "Name");
    if (r->name == NULL || *r->name == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "network name is required");
    for (size_t i = 0; i < ARRAY_SIZE(reserved) && !predefined; i++)
        if (streq(r->name, reserved[i]))
            return isd_error_set(err, ISD_ERR_CONFLICT, 0, "network with name %s already exists", r->name);
    if (drv != NULL && *drv != '\0' && !streq(drv, "bridge"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "network driver `%s` is not supported (only bridge)", drv);
    r->internal = json_get_bool(body, "Internal", false);
    r->masq = !r->internal && (masq != NULL ? !streq(masq, "false") : masq_default);
    r->bridge = json_get_str(opts, BRIDGE_NAME_OPT);
    if (r->bridge != NULL &&
        (strlen(r->bridge) == 0 || strlen(r->bridge) >= IFNAMSIZ || strchr(r->bridge, '/') || strchr(r->bridge, ' ')))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid bridge name `%s`", r->bridge);
    return check_ipam(body, r, ret_subnet_given, err);
}

static json_t *ipam_json(struct network_ctx *n, const struct create_req *r)
{
    cleanup_free char *subnet = cidr_str(&r->subnet);
    cleanup_free char *gw = ip_str(r->gateway);
    cleanup_free char *lo = ip_str(r->range_lo);
    cleanup_free char *hi = ip_str(r->range_hi);
    json_t *range =
        json_pack("{s:s, s:s, s:s, s:s}", "subnet", subnet, "gateway", gw, "rangeStart", lo, "rangeEnd", hi);
    json_t *ipam = json_pack("{s:s, s:s, s:[[o]]}", "type", "host-local", "dataDir", n->ipam_dir, "ranges", range);
    if (!r->internal)
        json_object_set_new(ipam, "routes", json_pack("[{s:s}]", "dst", "0.0.0.0/0"));
    if (r->v6) {
        /* a second range set: each container gets one address of each family */
        cleanup_free char *subnet6 = cidr6_str(&r->subnet6);
        cleanup_free char *gw6 = ip6_str(&r->gateway6);
        json_array_append_new(json_object_get(ipam, "ranges"),
                              json_pack("[{s:s, s:s}]", "subnet", subnet6, "gateway", gw6));
        if (!r->internal)
            json_array_append_new(json_object_get(ipam, "routes"), json_pack("{s:s}", "dst", "::/0"));
    }
    return ipam;
}

/* bridge (gateway on the bridge unless internal, hairpin for published ports) and portmap (-p). Forwarding and
 * masquerading are the network's own rules (network_rules.c), not made per container. */
static json_t *conflist_json(struct network_ctx *n, const struct create_req *r, const char *bridge, const char *id,
                             const json_t *body)
{
    cleanup_free char *subnet = cidr_str(&r->subnet);
    cleanup_free char *gw = ip_str(r->gateway);
    cleanup_free char *created = time_rfc3339_nano(now_ns());
    json_t *labels = json_object_get(body, "Labels");
    json_t *opts = json_object_get(body, "Options");
    json_t *br = json_pack("{s:s, s:s, s:b, s:b, s:b, s:o, s:{s:b, s:b}}", "type", "bridge", "bridge", bridge,
                           "isGateway", !r->internal, "ipMasq", false, "hairpinMode", true, "ipam", ipam_json(n, r),
                           "capabilities", "ips", true, "mac", true);
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s*, s:b, s:b, s:o, s:o}", "id", id, "created", created,
                          "driver", "bridge", "bridge", bridge, "subnet", subnet, "gateway", gw, "ipRange", r->ip_range,
                          "internal", r->internal, "ipMasq", r->masq, "labels",
                          json_is_object(labels) ? json_deep_copy(labels) : json_object(), "options",
                          json_is_object(opts) ? json_deep_copy(opts) : json_object());
    if (r->v6) {
        cleanup_free char *subnet6 = cidr6_str(&r->subnet6);
        cleanup_free char *gw6 = ip6_str(&r->gateway6);
        json_object_set_new(m, "enableIPv6", json_true());
        json_object_set_new(m, "subnet6", json_string(subnet6));
        json_object_set_new(m, "gateway6", json_string(gw6));
    }
    return json_pack("{s:s, s:s, s:[o, {s:s, s:{s:b}}], s:o}", "cniVersion", "1.0.0", "name", r->name, "plugins", br,
                     "type", "portmap", "capabilities", "portMappings", true, "isulad", m);
}

static int create_locked(struct network_ctx *n, const json_t *body, bool predefined, struct cni_net **nets,
                         char **ret_id, char **ret_name, json_t **ret_meta, struct isd_error **err)
{
    struct create_req r = {0};
    bool given = false;
    const char *by;
    cleanup_free char *bridge = NULL;
    cleanup_free char *id = random_hex(64);
    cleanup_free char *path = NULL;
    cleanup_json json_t *conf = NULL;
    if (check_create(body, predefined, n->ip_masq, &r, &given, err) < 0)
        return -1;
    for (size_t i = 0; nets[i] != NULL; i++)
        if (streq(nets[i]->name, r.name))
            return isd_error_set(err, ISD_ERR_CONFLICT, 0, "network with name %s already exists", r.name);
    if (!given && subnet_pick(nets, predefined ? 17 : 18, &r.subnet, err) < 0)
        return -1;
    if (!given) {
        r.gateway = r.subnet.addr + 1;
        r.range_lo = r.subnet.addr + 1;
        r.range_hi = (r.subnet.addr | ~mask_of(r.subnet.prefix)) - 1;
    }
    if (subnet_taken(nets, &r.subnet, &by) || (r.v6 && subnet6_taken(nets, &r.subnet6, &by)))
        return isd_error_set(err, ISD_ERR_CONFLICT, 0,
                             "Pool overlaps with other one on this address space (network %s)", by);
    bridge = r.bridge != NULL ? xstrdup(r.bridge) : bridge_pick(nets);
    for (size_t i = 0; bridge != NULL && nets[i] != NULL; i++)
        if (streq(json_get_str(meta(nets[i]), "bridge"), bridge))
            return isd_error_set(err, ISD_ERR_CONFLICT, 0, "bridge %s is used by network %s", bridge, nets[i]->name);
    if (bridge == NULL)
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "no free bridge name");
    conf = conflist_json(n, &r, bridge, id, body);
    path = store_path(n, r.name);
    if (json_write_path(path, conf, true, err) < 0)
        return -1;
    *ret_id = TAKE_PTR(id);
    *ret_name = xstrdup(r.name);
    *ret_meta = json_incref(json_object_get(conf, "isulad"));
    return 0;
}

static json_t *create(struct network_ctx *n, const json_t *body, bool predefined, struct isd_error **err)
{
    struct cni_net **nets;
    cleanup_free char *id = NULL;
    cleanup_free char *name = NULL;
    cleanup_json json_t *meta = NULL;
    int rc = -1;
    pthread_mutex_lock(&n->lock);
    nets = store_load(n, err);
    if (nets != NULL)
        rc = create_locked(n, body, predefined, nets, &id, &name, &meta, err);
    pthread_mutex_unlock(&n->lock);
    cni_net_list_free(nets);
    if (rc < 0)
        return NULL;
    /* no iptables yet: the network's rules are made at its first attachment (network_rules_ensure) */
    return json_pack("{s:s, s:s}", "Id", id, "Warning", "");
}

json_t *network_create(struct network_ctx *n, const json_t *body, struct isd_error **err)
{
    return create(n, body, false, err);
}

json_t *network_create_predefined(struct network_ctx *n, const json_t *body, struct isd_error **err)
{
    return create(n, body, true, err);
}

bool network_has_capability(const struct cni_net *net, const char *cap)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(net->conf, "plugins"), i, p)
    {
        if (json_is_true(json_object_get(json_object_get(p, "capabilities"), cap)))
            return true;
    }
    return false;
}

int network_ip_check(const struct cni_net *net, const char *ip, struct isd_error **err)
{
    const char *subnet = json_get_str(meta(net), "subnet");
    struct cidr c;
    uint32_t a;
    if (ip_parse(ip, &a) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid IPv4 address `%s`", ip);
    if (subnet == NULL || cidr_parse(subnet, &c, NULL) < 0)
        return 0; /* a network of cni-conf-dir: its IPAM plugin judges */
    if (!cidr_contains(&c, a))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "address %s is not in network `%s`'s subnet %s", ip, net->name,
                             subnet);
    return 0;
}

int network_ip6_check(const struct cni_net *net, const char *ip, struct isd_error **err)
{
    const char *subnet6 = json_get_str(meta(net), "subnet6");
    struct in6_addr a;
    struct cidr6 c;
    if (ip == NULL || inet_pton(AF_INET6, ip, &a) != 1)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid IPv6 address `%s`", ip ? ip : "");
    if (json_get_str(meta(net), "subnet") == NULL)
        return 0; /* a network of cni-conf-dir: its IPAM plugin judges */
    if (subnet6 == NULL || cidr6_parse(subnet6, &c, NULL) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "network `%s` has no IPv6 (created without --ipv6)", net->name);
    if (!cidr6_contains(&c, &a))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "address %s is not in network `%s`'s subnet %s", ip, net->name,
                             subnet6);
    return 0;
}
