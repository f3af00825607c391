/* Helpers shared by the service files; not for the adapters. */
#ifndef ISD_DAEMON_SERVICE_INTERNAL_H
#define ISD_DAEMON_SERVICE_INTERNAL_H

#include "daemon/container/exec_store.h"
#include "daemon/container/supervisor.h"
#include "daemon/runtime/runtime.h"
#include "daemon/service/service.h"
#include "daemon/spec/spec.h"

/* Fills rt for the named runtime, driver included; root and shim strings are owned by the daemon. */
int service_runtime(struct daemon *d, const char *name, struct runtime *rt, char **ret_root, struct isd_error **err);
/* Fills only the driver of rt (ops, ctx): enough for the exit record and the shim's liveness, also for a
 * container whose runtime has left the configuration. */
void service_runtime_driver(struct daemon *d, struct runtime *rt);
/* The spec generator's input for c, with the given rootfs path and Config. */
void service_spec_input(struct daemon *d, struct container *c, const char *rootfs, const json_t *config,
                        struct spec_input *in);
/* Records the AppArmor profile a generated spec gives the container (inspect's AppArmorProfile). Lock held. */
void service_apparmor_record(struct container *c, const json_t *spec);
/* Looks a container up and locks it; unlock with pthread_mutex_unlock and unref. */
struct container *service_lookup_locked(struct daemon *d, const char *ref, struct isd_error **err);
/* Records a container event (events.h) with Docker's attributes image and name, plus extra (taken; NULL).
 * Lock held or c not shared yet. */
void service_container_event(const struct container *c, const char *action, json_t *extra);
/* Handles a container whose shim ended: exit code, runtime delete, unmount, restart/auto-remove. Lock held. */
void service_container_exited(struct daemon *d, struct container *c);
/* Starts with c->lock held (used by start, restart and the restart policy). */
int service_container_start_locked(struct daemon *d, struct container *c, struct isd_error **err);

/* The supervisor's callback (ctx: the daemon; lock held): service_container_exited, then the auto-remove and
 * restart policies (container_exit.c). */
void service_container_exit_handle(void *ctx, struct container *c);

/* Applies the restart policy to an exited container (lock held): marks it restarting and schedules its start
 * after the back-off. False when the policy (or AutoRemove) says no restart. */
bool service_container_restart_policy(struct daemon *d, struct container *c);

/* `--log-opt disable-log=true`: the shim records nothing and `logs` refuses (G-05: recording is on by default). */
bool service_container_log_disabled(const struct container *c);

/* Health checks (health.c, health_probe.c): one scheduler thread for the daemon. watch (lock held, after a
 * start or at restore) resets State.Health to `starting` and schedules the container's probes; unwatch (lock
 * held, at the exit) cancels them. */
int service_health_init(struct daemon *d, struct isd_error **err);
void service_health_shutdown(struct daemon *d);
void service_health_watch(struct daemon *d, struct container *c);
void service_health_unwatch(struct daemon *d, struct container *c);

/* Opens (or closes, with pid 0) the container's pidfd; lock held. */
void container_set_pid(struct container *c, pid_t pid);

/* Signal name or number ("SIGKILL", "KILL", "9") to a number; -1 when unknown. */
int signal_parse(const char *s);
/* Create-time checks of StopSignal, RestartPolicy/AutoRemove, LogConfig, OomScoreAdj and namespace modes. */
int container_check_settings(const json_t *config, const json_t *hc, struct isd_error **err);
/* Create-time refusals for a runtime marked "vm" in daemon.json (KATA-022/031/033): host namespaces, ports,
 * networks other than none, cpuset-mems other than 0. body: the create body (its user-given ExposedPorts). */
int container_check_vm_runtime(const char *runtime, const json_t *body, const json_t *hc, struct isd_error **err);
/* Host support of the resource limits of a HostConfig (container_resources.c), at create and update. */
int service_resources_check(const json_t *host_config, struct isd_error **err);
/* What Docker accepts but drops, with a warning appended to warnings, where the host lacks it: the memory
 * swappiness on cgroup v2 (no memory.swappiness). Before service_resources_check. */
void service_resources_discard(json_t *host_config, json_t *warnings);
/* Before the runtime creates the container of spec: what runc cannot set on this host's cgroup layout. */
int service_resources_prepare(json_t *spec, struct isd_error **err);
/* Adds the realtime runtime of res (linux.resources) to each ancestor of cgroups_path on the v1 cpu hierarchy. */
int service_resources_rt_parents(const char *cgroups_path, const json_t *res, struct isd_error **err);
/* --files-limit (openEuler's files cgroup, which runc does not know): whether c has one; its directory made, the
 * limit written and pid (created, not yet started) moved there; the directory removed with the container. */
bool service_resources_files_limited(const struct container *c);
int service_resources_files_join(struct daemon *d, struct container *c, pid_t pid, struct isd_error **err);
void service_resources_files_remove(struct daemon *d, struct container *c);
/* Docker's defaults of the resource fields a HostConfig does not carry, for inspect (Docker shows them all). */
void service_resources_inspect(json_t *host_config);
/* Storage at start (default quota support, image-layer-check) and a new container's rootfs quota
 * (storage_opt.c). */
int service_storage_init(struct daemon *d, struct isd_error **err);
int service_rootfs_quota(struct daemon *d, const char *container_id, const json_t *hc, struct isd_error **err);
/* <graph>/auths.json: the stored registry logins (image_pull.c). */
char *service_auths_path(struct daemon *d);
/* Restart policy of the HostConfig. */
bool restart_policy_wants(const json_t *host_config, int exit_code, int restart_count, bool manually_stopped);

/* The network side of a container (network.c): named NetworkMode checked at create, attached at start
 * (*ret_netns: the pinned namespace for the spec, NULL for the other modes), torn down after the exit and at
 * removal (errors logged), merged into inspect, reconciled after a crash. */
int service_network_init(struct daemon *d, struct isd_error **err);
int service_network_check_mode(struct daemon *d, const json_t *host_config, struct isd_error **err);
/* Keeps the create body's aliases (NetworkingConfig.EndpointsConfig.<network>.Aliases) in c->dir. */
int service_network_save_aliases(struct daemon *d, struct container *c, const json_t *body, struct isd_error **err);
/* The labels the service keeps on CRI pods' containers: their kind ("sandbox" or "container") and their pod. */
#define POD_TYPE_LABEL "io.isulad.cri.type"
#define POD_SANDBOX_LABEL "io.isulad.cri.sandbox-id"
/* pod_sandbox.c: whether labels hold every key of selector (a JSON object of strings) with its value. */
bool service_labels_match(const json_t *labels, const json_t *selector);
/* pod_sandbox.c: whether c is a CRI pod's sandbox (its pause container). */
bool service_pod_is_sandbox(const struct container *c);
/* pod_sandbox.c: the inspect of id when it is a CRI container of that type ("sandbox" or "container"); else
 * NOT_FOUND naming it as what ("pod sandbox", "container"), or the inspect's own error. */
json_t *service_pod_inspect_typed(struct daemon *d, const char *id, const char *type, const char *what,
                                  struct isd_error **err);
/* The container's networks, its namespace in *ret_netns. With pending not NULL the plugins of the first network
 * may still be at work on return (*pending set): service_network_start_finish waits for them and attaches the
 * others, so a runtime can create the container in the namespace meanwhile. */
struct network_attach;
int service_network_start(struct daemon *d, struct container *c, char **ret_netns, struct network_attach **pending,
                          struct isd_error **err);
/* Completes service_network_start (nothing to do when *pending is NULL); *pending is NULL after it. */
int service_network_start_finish(struct daemon *d, struct container *c, struct network_attach **pending,
                                 struct isd_error **err);
void service_network_stop(struct daemon *d, const char *id);
/* After the bundle is written and before the container runs (a pod's sandbox: once its network is up): the
 * hosts files of c's network list every container on it by name. */
void service_network_hosts(struct daemon *d, struct container *c);
bool service_network_has_state(struct daemon *d, const char *id);
void service_network_settings(struct daemon *d, const char *id, json_t *inspect);
void service_network_restore(struct daemon *d);
/* network_endpoints.c: the endpoints beyond the primary network (connect/disconnect), --ip and --mac-address. */
void service_network_hosts_refresh(struct daemon *d, const char *name);
/* The network a container joins first (eth0): its NetworkMode's, the default bridge network for the Docker API's
 * "default"/"bridge", NULL for none (isula's default, host, container:<id>). */
const char *service_network_primary(struct daemon *d, const json_t *host_config);
json_t *service_network_endpoints(const struct container *c);
json_t *service_network_caps(struct daemon *d, const char *name, const json_t *ep, const json_t *ports,
                             struct isd_error **err);
int service_network_save_endpoint(struct daemon *d, struct container *c, const json_t *body, struct isd_error **err);
int service_network_start_more(struct daemon *d, struct container *c, struct isd_error **err);
void service_network_settings_more(struct daemon *d, const char *id, json_t *networks);
/* GET /containers/json: the item's "Ports" from the container's attachments. */
void service_network_list_ports(struct daemon *d, struct container *c, json_t *item);

/* The "container:<ref>" namespace modes (container_ns.c). At create: each peer exists, and no Hostname comes
 * with a container: network mode. At start (c locked): the peers' /proc/<pid>/ns/<type> paths, indexed
 * network, pid, ipc, uts; a peer not running is ISD_ERR_CONFLICT; the network peer's hostname becomes c's. */
#define SERVICE_NS_N 4
struct service_ns_join {
    char *path[SERVICE_NS_N];
    char *hostname;
    pid_t ipc_peer; /* the IPC peer's pid: its /dev/shm is shared too (service_ns_shm_attach) */
    /* a user-namespaced container joins its peers' user namespace (which owns their namespaces): the first
     * peer's /proc/<pid>/ns/user; every peer must be in that one */
    char *userns_path;
};
int service_ns_check_create(struct daemon *d, const json_t *config, const json_t *hc, struct isd_error **err);
int service_ns_join_resolve(struct daemon *d, struct container *c, struct service_ns_join *j, struct isd_error **err);
void service_ns_join_apply(const struct service_ns_join *j, struct spec_input *in);
void service_ns_join_clear(struct service_ns_join *j);
/* The IPC peer's /dev/shm attached at <state_dir>/shm for the runtime to bind (*ret_path; NULL without an IPC
 * peer), and detached once the runtime has made the container's mounts (start done or failed). */
int service_ns_shm_attach(struct container *c, const struct service_ns_join *j, char **ret_path,
                          struct isd_error **err);
void service_ns_shm_detach(struct container *c);
/* The container's processes are not alone in their pid namespace (host or another container's): killing its
 * init does not end the others. */
bool service_ns_pid_shared(const struct container *c);

/* User namespaces (container_userns.c): the mapping of a container (HostConfig.UserRemap, else the daemon's
 * userns-remap unless UsernsMode is "host"; size 0: none), its create-time checks (format, UsernsMode,
 * not with --privileged), and the rootfs mount at start (id-mapped layers when mapped; an external rootfs as
 * it is). */
void service_userns_map(struct daemon *d, const json_t *hc, struct user_remap *ret);
int service_userns_check_create(struct daemon *d, const json_t *hc, struct isd_error **err);
/* A container mapped as m may share a namespace of peer (container:<peer> modes) when peer is mapped alike: it
 * then joins peer's user namespace, which owns that namespace. A container without a mapping (host root) may
 * join any. ISD_ERR_INVALID naming the mode otherwise. */
int service_userns_check_peer(struct daemon *d, const struct user_remap *m, const char *what, const char *ref,
                              const json_t *peer_host_config, struct isd_error **err);
int service_rootfs_mount(struct daemon *d, struct container *c, char **ret_merged, struct isd_error **err);
/* The binds of hc (the resolved host config of a starting container) with the `idmap` option get id-mapped clones
 * of their sources with the container's mapping, those with `rro` (and the bind Mounts with
 * BindOptions.ReadOnlyForceRecursive) recursively read-only clones (both when both are asked for), attached under
 * <state_dir>/idmap/b<i> (m<i> for a Mounts entry), which replace the sources;
 * detached (service_userns_binds_detach) once the runtime has made the container's mounts (start done or failed). */
int service_userns_binds_attach(struct daemon *d, struct container *c, json_t *hc, struct isd_error **err);
void service_userns_binds_detach(struct container *c);

/* Filters shared by the lists and events (filters.c). The values of a Docker filter key (array or the old
 * {"v": true} form) as a new array; NULL when absent. */
json_t *service_filter_values(const json_t *filters, const char *key);
/* A copy of filters whose `key` values (image references) also carry their normalised form and the ID of
 * the image they name, so that "busybox", "busybox:latest" and the ID match alike. */
json_t *service_filters_expand_ancestor(struct daemon *d, const json_t *filters, const char *key);
/* Each value of filters' key must compile as a regular expression (Docker's name filter). */
int service_filters_check_regex(const json_t *filters, const char *key, struct isd_error **err);
/* LogConfig.Type "none": the container keeps no log (container_check.c). */
bool container_log_type_none(const struct container *c);
/* Every volume with Docker's UsageData {Size, RefCount} (GET /system/df; volume_api.c). */
json_t *service_volumes_df(struct daemon *d);
/* Sizes of a container's files (container_size.c), called WITHOUT its lock. SizeRw is the upper directory,
 * SizeRootFs adds the image. Computed only when asked for (ps -s, ?size=1, inspect -s, system df), kept while
 * the container is inactive. */
long long service_container_size_rw(struct daemon *d, struct container *c);
void service_container_sizes(struct daemon *d, struct container *c, json_t *j);

#endif
