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
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json.h"
#include "common/spawn.h"
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

/* An IPv6 host IP of a port binding ("::1", "[::1]" as the docker CLI may keep it): into buf, NULL when ip is none. */
static const char *host_ip6(const char *ip, char buf[INET6_ADDRSTRLEN])
{
    size_t len = ip != NULL ? strlen(ip) : 0;
    struct in6_addr a;
    if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']' && len - 2 < INET6_ADDRSTRLEN) {
        memcpy(buf, ip + 1, len - 2);
        buf[len - 2] = '\0';
    } else if (len > 0 && len < INET6_ADDRSTRLEN) {
        memcpy(buf, ip, len + 1);
    } else {
        return NULL;
    }
    return inet_pton(AF_INET6, buf, &a) == 1 ? buf : NULL;
}

/* Binds ip:port (ip "" = every address; an IPv6 one in its family) to see whether the host uses it; port 0 asks
 * for a free one. */
static int probe_port(const char *ip, const char *proto, int port, int *ret_port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
    bool v6 = ip != NULL && inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1;
    struct sockaddr *sa = v6 ? (struct sockaddr *)&a6 : (struct sockaddr *)&a;
    socklen_t len = v6 ? sizeof(a6) : sizeof(a);
    int s = socket(v6 ? AF_INET6 : AF_INET, (proto_udp(proto) ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
    int rc = -1;
    if (s < 0)
        return -1;
    if (!v6 && ip != NULL && *ip != '\0' && inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        a.sin_addr.s_addr = htonl(INADDR_ANY);
    int ok = bind(s, sa, len);
    if (ok < 0 && errno == EADDRNOTAVAIL) {
        /* not (yet) an address of the host, as the gateway of a bridge its first container makes: no socket can
         * hold it, the port is judged on the family's every-address */
        a.sin_addr.s_addr = htonl(INADDR_ANY);
        a6.sin6_addr = in6addr_any;
        ok = bind(s, sa, len);
    }
    if (ok == 0 && getsockname(s, sa, &len) == 0) {
        *ret_port = ntohs(v6 ? a6.sin6_port : a.sin_port);
        rc = 0;
    }
    close(s);
    return rc;
}

static bool ip_any(const char *ip)
{
    return ip == NULL || *ip == '\0' || streq(ip, "0.0.0.0") || streq(ip, "::");
}

static bool ips_overlap(const char *a, const char *b)
{
    return ip_any(a) || ip_any(b) || streq(a, b);
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
    char buf6[INET6_ADDRSTRLEN];
    const char *shown;
    if (ip != NULL && *ip != '\0') {
        struct in_addr a;
        const char *v6 = host_ip6(ip, buf6);
        if (v6 == NULL && inet_pton(AF_INET, ip, &a) != 1)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid host IP `%s` in a port binding", ip);
        if (v6 != NULL && streq(v6, "::1"))
            /* the kernel does not route IPv6 loopback traffic out of lo (no route_localnet as for 127.0.0.1) */
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "cannot publish on [::1]: IPv6 loopback traffic is not routed to containers "
                                 "(publish on the host's IPv6 address or [::])");
        if (v6 != NULL)
            ip = v6;
    }
    shown = ip != NULL && *ip != '\0' ? ip : "0.0.0.0";
    if ((host > 0 && mapped_elsewhere(n, id, ip, proto, port)) || probe_port(ip, proto, port, &port) < 0)
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "Bind for %s%s%s:%lld failed: port is already allocated",
                             strchr(shown, ':') ? "[" : "", shown, strchr(shown, ':') ? "]" : "", host);
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

/*
 * The DNAT of published ports on isulad's own networks, made by isulad itself rather than the portmap plugin
 * (whose per-container chains cost about 20 iptables runs for every start and as many for every stop): one
 * `iptables-restore --noflush` per attachment with ports makes the attachment's two chains in the nat table and
 * hooks them into isulad's shared chains, one more removes them.
 *
 *   PREROUTING, OUTPUT  -m addrtype --dst-type LOCAL -j ISULAD-HOSTPORTS   (the host's addresses, 127.0.0.1 too)
 *   POSTROUTING         -j ISULAD-HOSTPORTS-MASQ
 *   ISULAD-HOSTPORTS       -j ISD-DN-<id16>-<n>     [-d hostIP] -p P --dport HP -j DNAT --to-destination IP:CP
 *   ISULAD-HOSTPORTS-MASQ  -j ISD-MQ-<id16>-<n>     -s 127.0.0.0/8 and -s <subnet> (the host over loopback, the
 *                                                    network's containers, the container itself through its
 *                                                    published port) to IP:CP -j MASQUERADE
 *
 * The shared chains are made once (the first publish of a run of the daemon) and never removed, as Docker's
 * DOCKER chains; several daemons on one host share them. The bridge gets route_localnet so that 127.0.0.1
 * reaches the container.
 */
#define PORTS_DNAT "ISULAD-HOSTPORTS"
#define PORTS_MASQ "ISULAD-HOSTPORTS-MASQ"

static char *ports_chain(const char *kind, const char *id, const char *ifname)
{
    const char *n = str_has_prefix(ifname, "eth") ? ifname + 3 : ifname;
    return xasprintf("ISD-%s-%.16s-%.4s", kind, id, n);
}

static int restore(bool v6, const char *input, struct isd_error **err)
{
    const char *argv[] = {v6 ? "ip6tables-restore" : "iptables-restore", "-w", "--noflush", NULL};
    cleanup_free char *msg = NULL;
    if (spawn_run(argv, input, NULL, &msg, err) != 0) {
        size_t len = msg != NULL ? strlen(msg) : 0;
        while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
            msg[--len] = '\0';
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s: %s", argv[0], len > 0 ? msg : "failed");
    }
    return 0;
}

/* The shared chains and their hooks, once per run of the daemon and family (idempotent: what exists is left as it
 * is). */
static int ports_setup(struct network_ctx *n, bool v6, struct isd_error **err)
{
    static const char *const hooks[] = {
        "PREROUTING -m addrtype --dst-type LOCAL -j " PORTS_DNAT,
        "OUTPUT -m addrtype --dst-type LOCAL -j " PORTS_DNAT,
        "POSTROUTING -j " PORTS_MASQ,
    };
    const char *save[] = {v6 ? "ip6tables-save" : "iptables-save", "-t", "nat", NULL};
    bool *flag = v6 ? &n->ports_ready6 : &n->ports_ready;
    bool ready;
    pthread_mutex_lock(&n->lock);
    ready = *flag;
    pthread_mutex_unlock(&n->lock);
    if (ready)
        return 0;
    for (int attempt = 0;; attempt++) {
        cleanup_free char *out = NULL;
        cleanup_free char *in = xstrdup("*nat\n");
        struct isd_error *e = NULL;
        bool todo = false;
        if (spawn_run(save, NULL, &out, NULL, err) != 0)
            return isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s failed", save[0]);
        for (size_t i = 0; i < 2; i++) {
            const char *chain = i == 0 ? PORTS_DNAT : PORTS_MASQ;
            cleanup_free char *decl = xasprintf("\n:%s ", chain);
            if (strstr(out, decl) == NULL) {
                char *t = xasprintf("%s-N %s\n", in, chain);
                free(in);
                in = t;
                todo = true;
            }
        }
        for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
            cleanup_free char *line = xasprintf("\n-A %s\n", hooks[i]);
            if (strstr(out, line) == NULL) {
                char *t = xasprintf("%s-I %s\n", in, hooks[i]);
                free(in);
                in = t;
                todo = true;
            }
        }
        if (todo) {
            char *t = xasprintf("%sCOMMIT\n", in);
            free(in);
            in = t;
        }
        if (!todo || restore(v6, in, attempt == 0 ? &e : err) == 0) {
            isd_error_free(e);
            break;
        }
        isd_error_free(e); /* another daemon made a chain meanwhile: look again */
        if (attempt > 0)
            return -1;
    }
    pthread_mutex_lock(&n->lock);
    *flag = true;
    pthread_mutex_unlock(&n->lock);
    return 0;
}

static void route_localnet(const char *bridge)
{
    cleanup_free char *path = NULL;
    int fd;
    if (bridge == NULL || strchr(bridge, '/') != NULL)
        return;
    path = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", bridge);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, "1", 1) < 0) {
        /* the host's 127.0.0.1 then does not reach the container; other addresses do */
    }
    close(fd);
}

/* A mapping's family: 4 for an IPv4 host IP, 6 for an IPv6 one ("::" too), 0 for none (both). */
static int mapping_family(const json_t *m)
{
    const char *hip = json_get_str(m, "hostIP");
    struct in6_addr a;
    if (hip == NULL || *hip == '\0')
        return 0;
    return inet_pton(AF_INET6, hip, &a) == 1 ? 6 : 4;
}

bool network_ports_want_v6(const json_t *mappings, const char *ip6)
{
    size_t i;
    json_t *m;
    if (ip6 == NULL || *ip6 == '\0')
        return false;
    json_array_foreach(mappings, i, m)
    {
        if (mapping_family(m) != 4)
            return true;
    }
    return false;
}

/* The network (address/prefix) of ip/prefix in family af. */
static char *subnet_of(int af, const char *ip, int prefix)
{
    unsigned char b[16] = {0};
    char s[INET6_ADDRSTRLEN];
    int bytes = af == AF_INET ? 4 : 16;
    if (inet_pton(af, ip, b) != 1 || prefix < 0 || prefix > bytes * 8)
        return NULL;
    for (int i = 0; i < bytes; i++) {
        int bits = prefix - i * 8;
        b[i] &= bits >= 8 ? 0xff : bits <= 0 ? 0 : (unsigned char)(0xff << (8 - bits));
    }
    inet_ntop(af, b, s, sizeof(s));
    return xasprintf("%s/%d", s, prefix);
}

/* One family's restore input: the attachment's chains, their rules, their hooks. */
static void ports_rules(struct buf *in, bool v6, const char *dn, const char *mq, const char *ip, const char *subnet,
                        const json_t *mappings)
{
    size_t i;
    json_t *m;
    buf_printf(in, "*nat\n:%s - [0:0]\n:%s - [0:0]\n", dn, mq);
    json_array_foreach(mappings, i, m)
    {
        const char *proto = json_get_str(m, "protocol") ?: "tcp";
        const char *hip = json_get_str(m, "hostIP");
        long long hp = json_get_int(m, "hostPort", 0), cp = json_get_int(m, "containerPort", 0);
        int fam = mapping_family(m);
        if (!streq(proto, "tcp") && !streq(proto, "udp") && !streq(proto, "sctp"))
            continue;
        if (fam == (v6 ? 4 : 6))
            continue;
        if (hip != NULL && (*hip == '\0' || ip_any(hip)))
            hip = NULL;
        buf_printf(in, "-A %s%s%s%s -p %s -m %s --dport %lld -j DNAT --to-destination %s%s%s:%lld\n", dn,
                   hip != NULL ? " -d " : "", hip != NULL ? hip : "", hip != NULL ? (v6 ? "/128" : "/32") : "", proto,
                   proto, hp, v6 ? "[" : "", ip, v6 ? "]" : "", cp);
        if (!v6)
            buf_printf(in, "-A %s -s 127.0.0.0/8 -d %s/32 -p %s -m %s --dport %lld -j MASQUERADE\n", mq, ip, proto,
                       proto, cp);
        buf_printf(in, "-A %s -s %s -d %s%s -p %s -m %s --dport %lld -j MASQUERADE\n", mq, subnet, ip,
                   v6 ? "/128" : "/32", proto, proto, cp);
    }
    buf_printf(in, "-A %s -j %s\n-A %s -j %s\nCOMMIT\n", PORTS_DNAT, dn, PORTS_MASQ, mq);
}

/* Runs one family's input; the shared chains may have gone meanwhile (a flush of the nat table): made again, one
 * more try. */
static int ports_apply(struct network_ctx *n, bool v6, const char *input, struct isd_error **err)
{
    struct isd_error *e = NULL;
    if (restore(v6, input, &e) == 0)
        return 0;
    isd_error_free(e);
    pthread_mutex_lock(&n->lock);
    *(v6 ? &n->ports_ready6 : &n->ports_ready) = false;
    pthread_mutex_unlock(&n->lock);
    return ports_setup(n, v6, err) < 0 ? -1 : restore(v6, input, err);
}

int network_ports_publish(struct network_ctx *n, const char *id, const char *ifname, const char *bridge,
                          const json_t *ep, const json_t *mappings, struct isd_error **err)
{
    cleanup_free char *dn = ports_chain("DN", id, ifname);
    cleanup_free char *mq = ports_chain("MQ", id, ifname);
    const char *ip = json_get_str(ep, "IPAddress"), *ip6 = json_get_str(ep, "GlobalIPv6Address");
    cleanup_free char *subnet = NULL, *subnet6 = NULL;
    bool v6 = network_ports_want_v6(mappings, ip6);
    struct buf in = {0};
    size_t i;
    json_t *m;
    int rc;
    if (json_array_size(mappings) == 0)
        return 0;
    subnet = ip != NULL ? subnet_of(AF_INET, ip, (int)json_get_int(ep, "IPPrefixLen", -1)) : NULL;
    if (subnet == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "published ports: the container has no IPv4 address");
    json_array_foreach(mappings, i, m)
    {
        if (mapping_family(m) == 6 && !v6)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "published ports: %s is an IPv6 address and the container has none on this network",
                                 json_get_str(m, "hostIP"));
    }
    if (v6 && (subnet6 = subnet_of(AF_INET6, ip6, (int)json_get_int(ep, "GlobalIPv6PrefixLen", -1))) == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "published ports: bad IPv6 address %s", ip6);
    if (ports_setup(n, false, err) < 0 || (v6 && ports_setup(n, true, err) < 0))
        return -1;
    route_localnet(bridge);
    ports_rules(&in, false, dn, mq, ip, subnet, mappings);
    rc = ports_apply(n, false, buf_head(&in), err);
    buf_free(&in);
    if (rc == 0 && v6) {
        struct buf in6 = {0};
        ports_rules(&in6, true, dn, mq, ip6, subnet6, mappings);
        rc = ports_apply(n, true, buf_head(&in6), err);
        buf_free(&in6);
    }
    if (rc < 0)
        network_ports_unpublish(id, ifname, v6);
    return rc;
}

static void unpublish_family(bool v6, const char *dn, const char *mq)
{
    cleanup_free char *in = xasprintf("*nat\n-D %s -j %s\n-D %s -j %s\n-F %s\n-X %s\n-F %s\n-X %s\nCOMMIT\n",
                                      PORTS_DNAT, dn, PORTS_MASQ, mq, dn, dn, mq, mq);
    if (restore(v6, in, NULL) == 0)
        return;
    /* a part is gone already (a crash in the middle): each step on its own, failures ignored */
    const char *steps[][4] = {{"-D", PORTS_DNAT, "-j", dn}, {"-D", PORTS_MASQ, "-j", mq}, {"-F", dn, NULL, NULL},
                              {"-X", dn, NULL, NULL},       {"-F", mq, NULL, NULL},       {"-X", mq, NULL, NULL}};
    for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
        const char *argv[] = {
            v6 ? "ip6tables" : "iptables", "-w", "-t", "nat", steps[i][0], steps[i][1], steps[i][2], steps[i][3], NULL};
        spawn_run(argv, NULL, NULL, NULL, NULL);
    }
}

void network_ports_unpublish(const char *id, const char *ifname, bool v6)
{
    cleanup_free char *dn = ports_chain("DN", id, ifname);
    cleanup_free char *mq = ports_chain("MQ", id, ifname);
    unpublish_family(false, dn, mq);
    if (v6)
        unpublish_family(true, dn, mq);
}
