/*
 * The network module: networks (user networks made by `isula network create` / POST /networks/create, kept as
 * CNI conflists in <graph>/networks, plus read-only ones from cni-conf-dir) and the attachment of containers
 * (and later CRI pods) to them: a pinned network namespace, CNI ADD at start, DEL at stop/remove and at
 * restart for whatever was left.
 *
 * Files:  <graph>/networks/<name>.conflist   one per user network (bridge + host-local + portmap + firewall),
 *                                            with isulad's own metadata under the top-level key "isulad"
 *         <graph>/network/cache/<id>/       CNI result cache of each attachment (cni.h)
 *         <graph>/network/ipam/<network>/   host-local leases
 *         <graph>/network/rules/<name>      the metadata a network's iptables rules were made from (network_rules.c)
 *         <state>/netns/<id>                pinned network namespaces
 *         <state>/netns-userns/<id>         pinned user namespaces owning those of user-namespaced containers
 *
 * Thread-safety: every function may be called from any thread. `lock` guards the store's files (create and
 * remove of networks) and is never held across a plugin or another child process. Attachments of one
 * container are serialised by the caller (the container lock).
 */
#ifndef ISD_DAEMON_NETWORK_NETWORK_H
#define ISD_DAEMON_NETWORK_NETWORK_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/user_remap.h"
#include "daemon/network/cni.h"

struct network_ctx {
    pthread_mutex_t lock;
    pthread_mutex_t hosts_lock; /* serialises the rewrites of containers' hosts files (service); leaf */
    char *store_dir;            /* <graph>/networks */
    char *conf_dir;             /* cni-conf-dir (read-only for isulad) */
    char *netns_dir;            /* <state>/netns */
    char *userns_dir;           /* <state>/netns-userns: the user namespaces owning user-namespaced containers' */
    char *ipam_dir;             /* <graph>/network/ipam */
    char *cache_dir;            /* <graph>/network/cache */
    char *rules_dir;            /* <graph>/network/rules */
    json_t *rules_made;         /* {name: true}: networks whose rules this run made or checked (under lock) */
    char **bin_dirs;
    struct cni_env env;
    bool has_default;  /* the default bridge network exists (network_default_ensure) */
    bool ip_masq;      /* networks made from now on masquerade unless their options say otherwise (ip-masq) */
    bool ports_ready;  /* the shared chains of published ports are there (network_ports.c; under lock) */
    bool ports_ready6; /* the same in ip6tables */
};

/* bin_dir: cni-bin-dir; Debian's plugin directory /usr/lib/cni is searched after it. */
struct network_ctx *network_ctx_new(const char *graph, const char *state, const char *bin_dir, const char *conf_dir,
                                    struct isd_error **err);
void network_ctx_free(struct network_ctx *n);

/* The default bridge network (Docker's `bridge`), joined by the Docker API's NetworkMode "default" and "bridge"
 * (isula's default, no NetworkMode, stays loopback only). */
#define NETWORK_DEFAULT "bridge"
/* Makes the default network (a bridge network named NETWORK_DEFAULT on device `bridge`, with the IPv6 subnet cidr6
 * too unless NULL) unless it exists as asked.
 * bip: "<gateway>/<prefix>", or NULL for the first of 172.17.0.0/16 .. 172.31.0.0/16 free of other networks and
 * of the host's routes. A default network with attached containers is kept as it is (*ret_warning says so). */
int network_default_ensure(struct network_ctx *n, const char *bip, const char *bridge, const char *cidr6,
                           char **ret_warning, struct isd_error **err);
json_t *network_create_predefined(struct network_ctx *n, const json_t *body, struct isd_error **err);
/* The network a NetworkMode joins: a named one, NETWORK_DEFAULT for "default"/"bridge" when with_default, else NULL
 * (none, host, container:<id>, isula's ""). */
const char *network_mode_network(const char *mode, bool with_default);

/* True for a NetworkMode that names a network ("" "default" "none" "host" "bridge" "container:..." do not). */
bool network_mode_is_named(const char *mode);

/* Networks, in Docker's JSON shapes. create takes the body of POST /networks/create and returns
 * {"Id", "Warning"}; the others are GET /networks (filters: name, id, label, driver), GET /networks/{id}
 * (Containers holds the attached container ids with their addresses; "Name" left for the caller) and DELETE. */
json_t *network_create(struct network_ctx *n, const json_t *body, struct isd_error **err);
json_t *network_list(struct network_ctx *n, const json_t *filters, struct isd_error **err);
json_t *network_inspect(struct network_ctx *n, const char *ref, struct isd_error **err);
int network_remove(struct network_ctx *n, const char *ref, struct isd_error **err);
/* POST /networks/prune: removes every user network without attached containers that matches filters
 * (label, label!); returns {"NetworksDeleted": [names]}. */
json_t *network_prune(struct network_ctx *n, const json_t *filters, struct isd_error **err);
/* The network a NetworkMode names (a user network by name or id, else a file of cni-conf-dir by name). */
struct cni_net *network_lookup(struct network_ctx *n, const char *ref, struct isd_error **err);

/* Attaches container id to network `name` in a new pinned namespace (loopback up, the network's plugins make
 * eth0). container_name and aliases (array of strings, may be NULL) are kept for name resolution. capabilities: the
 * runtime config offered to the plugins ({"portMappings": [...]}), may be NULL. map (may be NULL): a user namespace
 * mapping the container will have; the namespace is then owned by a pinned user namespace with it
 * (network_container_userns), which the container joins. Returns the namespace path for the runtime spec. On
 * failure nothing is left behind. */
int network_container_attach(struct network_ctx *n, const char *id, const char *container_name, const json_t *aliases,
                             const char *name, const json_t *capabilities, const struct user_remap *map,
                             char **ret_netns, struct isd_error **err);
/* network_container_attach, the plugins' ADD in a thread of its own when ret_pending is not NULL: the namespace
 * exists on return (a runtime can put a process in it at once) and *ret_pending, when not NULL, must be passed to
 * network_container_attach_wait, which waits for the ADD and answers as network_container_attach would have (on
 * failure nothing is left behind, the namespace is gone). */
struct network_attach;
int network_container_attach_start(struct network_ctx *n, const char *id, const char *container_name,
                                   const json_t *aliases, const char *name, const json_t *capabilities,
                                   const struct user_remap *map, char **ret_netns, struct network_attach **ret_pending,
                                   struct isd_error **err);
/* Waits for a pending attachment and frees it; a NULL one succeeds at once. */
int network_container_attach_wait(struct network_attach *pending, struct isd_error **err);
/* The pinned user namespace owning id's network namespace (attached with a map), NULL when none. */
char *network_container_userns(struct network_ctx *n, const char *id);
/* Attaches id, whose namespace is pinned already (network_container_attach), to one more network as the first
 * free interface eth1, eth2, ... or as ifname when not NULL (hot connect, or the second and later networks at
 * start). On failure nothing of
 * this attachment is left. */
int network_container_attach_more(struct network_ctx *n, const char *id, const char *container_name,
                                  const json_t *aliases, const char *name, const char *ifname,
                                  const json_t *capabilities, struct isd_error **err);
/* DEL of id's attachment to network `name` only (hot disconnect); 0 when there is none. */
int network_container_detach_one(struct network_ctx *n, const char *id, const char *name, struct isd_error **err);
/* Docker's endpoint of a network a stopped container is set to join (empty addresses; new reference). */
json_t *network_endpoint_configured(struct network_ctx *n, const char *name);
/* True when a plugin of net declares runtime capability cap ("ips", "mac", "portMappings"). */
bool network_has_capability(const struct cni_net *net, const char *cap);
/* ISD_ERR_INVALID when ip is no IPv4 address or lies outside a user network's subnet (--ip). */
int network_ip_check(const struct cni_net *net, const char *ip, struct isd_error **err);
/* ISD_ERR_INVALID when ip is no IPv6 address, or a user network has no IPv6 or ip lies outside its IPv6 subnet
 * (--ip6). */
int network_ip6_check(const struct cni_net *net, const char *ip, struct isd_error **err);
/* The containers attached to network `name`, from the cache: [{"Id", "Name", "Aliases", "IPAddress"}] (new
 * reference). */
json_t *network_peers(struct network_ctx *n, const char *name);
/* The names of the networks id is attached to (strv, NULL when none). */
char **network_container_networks(struct network_ctx *n, const char *id);
/* DEL of every attachment of id (from the cache), then removal of its namespace. Idempotent; cheap when the
 * container has none. */
int network_container_detach(struct network_ctx *n, const char *id, struct isd_error **err);
/* True when id has attachments or a pinned namespace left. */
bool network_container_has_state(struct network_ctx *n, const char *id);
/* Docker's NetworkSettings for id: {"SandboxKey", "Networks": {name: {NetworkID, Gateway, IPAddress,
 * IPPrefixLen, MacAddress, ...}}}. configured (may be NULL): the network the container is set to join, shown
 * with empty addresses while it is not attached (as Docker shows a stopped container). NULL when there is
 * neither. exposed: Config.ExposedPorts, listed in "Ports" (null when not published) with the published ones.
 */
json_t *network_container_settings(struct network_ctx *n, const char *id, const char *configured,
                                   const json_t *exposed);

/* A user network's own iptables rules (network_rules.c): let its traffic through FORWARD and masquerade what
 * leaves the host (unless internal or ipMasq is false); add is idempotent, so is removal. meta: the conflist's
 * "isulad" object. */
int network_rules_apply(const char *name, const json_t *meta, bool add, struct isd_error **err);
/* The rules are made lazily, at the first attachment of a container to the network in a run of the daemon (a
 * daemon whose containers never join a bridge network never touches iptables), and recorded in rules_dir.
 * ensure: makes net's rules unless this run made them already (cheap then); a network of cni-conf-dir has none. */
int network_rules_ensure(struct network_ctx *n, const struct cni_net *net, struct isd_error **err);
/* Removes the rules recorded for network `name`, if any (network rm, a changed default network); without a
 * record, those of `unrecorded` when given (rules an older isulad made at create recorded nothing). */
void network_rules_drop(struct network_ctx *n, const char *name, const json_t *unrecorded);
/* At start-up: the recorded rules of networks without attached containers are removed, those of networks with
 * attachments made again (after a reboot flushed them); failures go to *ret_failed. */
void network_rules_restore(struct network_ctx *n, char ***ret_failed);
/* True when a container is attached to network `name` (from the CNI result cache). */
bool network_has_endpoints(struct network_ctx *n, const char *name);

/* Published ports (network_ports.c): HostConfig.PortBindings (and, with PublishAllPorts, every exposed port)
 * as the portmap plugin's `portMappings` (new reference): random host ports where none is given;
 * ISD_ERR_CONFLICT "Bind for ip:port failed: port is already allocated" when another container maps it or a
 * socket of the host has it. */
json_t *network_port_mappings(struct network_ctx *n, const char *id, const json_t *host_config, const json_t *exposed,
                              struct isd_error **err);
/* Docker's NetworkSettings.Ports from portMappings and ExposedPorts (new reference). */
json_t *network_ports_json(const json_t *mappings, const json_t *exposed);
/* The same as GET /containers/json's "Ports": [{"IP", "PrivatePort", "PublicPort", "Type"}], exposed but
 * unpublished ports as {"PrivatePort", "Type"} (new reference). */
json_t *network_ports_list(const json_t *mappings, const json_t *exposed);
/* The DNAT of an attachment's published ports on a network of isulad's own (the portmap plugin is left out of
 * its plugins): ep, the container's endpoint on it (IPAddress/IPPrefixLen, GlobalIPv6Address/GlobalIPv6PrefixLen);
 * bridge, the network's bridge. One iptables-restore, and one ip6tables-restore when the container has an IPv6
 * address and a mapping is for IPv6 (an IPv6 host IP, or none: every address of the host). On failure nothing is
 * left. unpublish is idempotent; v6 says whether the IPv6 chains were made (network_ports_want_v6). */
int network_ports_publish(struct network_ctx *n, const char *id, const char *ifname, const char *bridge,
                          const json_t *ep, const json_t *mappings, struct isd_error **err);
void network_ports_unpublish(const char *id, const char *ifname, bool v6);
bool network_ports_want_v6(const json_t *mappings, const char *ip6);
/* id's published ports from its cached attachments in that shape (an empty array without attachments). */
json_t *network_container_ports(struct network_ctx *n, const char *id, const json_t *exposed);

#endif
