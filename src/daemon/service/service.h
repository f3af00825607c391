/*
 * The use cases: the only layer the API adapters call. One `struct daemon` holds the stores and the
 * configuration snapshot; every function is thread-safe and takes per-container locks itself.
 * JSON in and out follows the Docker Engine API v1.41 shapes (docs/api.md lists the extensions).
 */
#ifndef ISD_DAEMON_SERVICE_H
#define ISD_DAEMON_SERVICE_H

#include <jansson.h>
#include <limits.h>
#include <stdbool.h>

#include "common/error.h"
#include "daemon/config/config.h"
#include "daemon/container/container.h"

struct cdi_registry;

struct layer_store;
struct image_store;
struct exec_store;
struct supervisor;
struct health_sched;
struct network_ctx;
struct runtime_ops;
struct volume_store;

struct daemon {
    const struct isd_config *cfg;
    char *storage_root; /* <graph>/storage */
    char *shim_path;
    struct container_store *containers;
    struct layer_store *layers;
    struct image_store *images;
    struct exec_store *execs;
    struct supervisor *supervisor;
    struct network_ctx *network;
    struct health_sched *health; /* the health checks' one scheduler thread (health.c) */
    struct volume_store *volumes;
    long long started_ns;
    /* The runtime driver of every configured runtime: NULL for the OCI runtime CLI (runtime_oci_ops); unit
     * tests set a fake after daemon_init. */
    const struct runtime_ops *runtime_ops;
    void *runtime_ctx;
    json_t *seccomp_default;  /* the default seccomp profile (Docker's format); NULL with seccomp-enable=false */
    struct cdi_registry *cdi; /* the CDI spec files (spec/spec_cdi.h); NULL with enable-cdi=false */
};

int daemon_init(struct daemon *d, const struct isd_config *cfg, struct isd_error **err);
/* Rebuilds the container store from disk and reconnects to live shims (live restore). */
int daemon_restore(struct daemon *d, struct isd_error **err);
/* The host has AppArmor enabled: containers get the built-in profile isulad-default unless told otherwise. */
bool service_apparmor_enabled(void);
void daemon_shutdown(struct daemon *d);

/* Containers. */
/* warnings (may be NULL): what Docker reports in the response's Warnings is appended to it. */
int service_container_create(struct daemon *d, const char *name, const json_t *body, char **ret_id, json_t *warnings,
                             struct isd_error **err);
int service_container_start(struct daemon *d, const char *ref, struct isd_error **err);
/* timeout: seconds before the SIGKILL; SERVICE_STOP_TIMEOUT_DEFAULT takes the container's StopTimeout (10 s),
 * a negative one waits for ever (`stop -t -1`). */
#define SERVICE_STOP_TIMEOUT_DEFAULT INT_MIN
int service_container_stop(struct daemon *d, const char *ref, int timeout, struct isd_error **err);
int service_container_kill(struct daemon *d, const char *ref, const char *signal, struct isd_error **err);
int service_container_restart(struct daemon *d, const char *ref, int timeout, struct isd_error **err);
int service_container_remove(struct daemon *d, const char *ref, bool force, bool volumes, struct isd_error **err);
/* Waiting is two steps so an API adapter can register the waiter, send its headers, and only then block
 * (clients start the container right after the headers arrive). condition: "not-running" (default),
 * "next-exit", "removed". */
struct container_waiter;
struct container_waiter *service_container_wait_begin(struct daemon *d, const char *ref, const char *condition,
                                                      struct isd_error **err);
/* Blocks until the condition holds; returns the exit code and frees w. */
int service_container_wait_end(struct container_waiter *w);
void service_container_waiter_free(struct container_waiter *w);
/* New resource limits / restart policy (Docker's container.UpdateConfig), written to the cgroups when running. */
int service_container_update(struct daemon *d, const char *ref, const json_t *body, struct isd_error **err);
int service_container_rename(struct daemon *d, const char *ref, const char *new_name, struct isd_error **err);
int service_container_pause(struct daemon *d, const char *ref, struct isd_error **err);
int service_container_unpause(struct daemon *d, const char *ref, struct isd_error **err);
json_t *service_container_inspect(struct daemon *d, const char *ref, struct isd_error **err);
json_t *service_container_list(struct daemon *d, bool all, const json_t *filters, int limit, struct isd_error **err);
json_t *service_container_top(struct daemon *d, const char *ref, const char *ps_args, struct isd_error **err);
/* Resource usage in Docker's stats JSON (stats.c): begin checks the container (unknown: ISD_ERR_NOT_FOUND);
 * run writes one document per line to out_fd, every second while stream and the container runs (a single
 * one otherwise, whose precpu_stats is 200 ms older), and frees j. */
struct stats_job;
/* For the metrics endpoint (metrics.c), never waiting for a container's lock: one object per container {Id, Name,
 * State, Restarts, Busy}, plus CpuSeconds and MemoryBytes of running ones when usage; a container busy with an
 * operation is only {Id, Busy: true}. */
json_t *service_metrics_containers(struct daemon *d, bool usage);
/* Bytes received from registries (manifests, configs, layers) since the daemon started. */
long long service_metrics_pull_bytes(void);
struct stats_job *service_container_stats_begin(struct daemon *d, const char *ref, struct isd_error **err);
void service_container_stats_run(struct stats_job *j, bool stream, int out_fd);
void service_stats_job_free(struct stats_job *j);
/* One sample now, in the same JSON (cpu_stats, memory_stats, ...; zeros for a container that does not run). */
json_t *service_container_stats_once(struct daemon *d, const char *ref, struct isd_error **err);
int service_container_export(struct daemon *d, const char *ref, int out_fd, struct isd_error **err);
/* Volumes (volume_api.c): Docker's /volumes shapes. list: {Volumes, Warnings} with filters dangling, label
 * (all must match), name, driver. remove: ISD_ERR_CONFLICT while a container uses it; force ignores a missing
 * one. prune: the unused volumes matching filters -> {VolumesDeleted, SpaceReclaimed}. */
json_t *service_volume_create(struct daemon *d, const json_t *body, struct isd_error **err);
json_t *service_volume_list(struct daemon *d, const json_t *filters, struct isd_error **err);
json_t *service_volume_inspect(struct daemon *d, const char *name, struct isd_error **err);
int service_volume_remove(struct daemon *d, const char *name, bool force, struct isd_error **err);
json_t *service_volume_prune(struct daemon *d, const json_t *filters, struct isd_error **err);
/* docker diff (container_commit.c): [{Path, Kind}] of the read-write layer. */
json_t *service_container_changes(struct daemon *d, const char *ref, struct isd_error **err);
/* docker commit: a new image from the container's read-write layer; *ret_id is bare hex. */
struct commit_opts {
    const char *container;
    const char *repo_tag; /* may be NULL */
    const char *author;
    const char *comment;
    char *const *changes;
    const json_t *config; /* the request's container config; NULL or {}: the container's own */
    bool pause;
};
int service_container_commit(struct daemon *d, const struct commit_opts *o, char **ret_id, struct isd_error **err);
/* Files in and out (container_archive.c): Docker's path stat {name, size, mode, mtime, linkTarget}, a tar of
 * path, and the extraction of a tar into the directory path; a missing path is ISD_ERR_NOT_FOUND. */
json_t *service_container_archive_stat(struct daemon *d, const char *ref, const char *path, struct isd_error **err);
/* freeze: the guide's C-cp-04, a running container's processes are frozen for the copy (isula asks for it) */
int service_container_archive_get(struct daemon *d, const char *ref, const char *path, bool freeze, int out_fd,
                                  struct isd_error **err);
struct archive_put_opts {
    bool keep_owner;       /* copyUIDGID: the tar's owners; else root */
    bool no_dir_overwrite; /* noOverwriteDirNonDir */
    bool freeze;           /* C-cp-04 */
};
int service_container_archive_put(struct daemon *d, const char *ref, const char *path, int in_fd,
                                  const struct archive_put_opts *o, struct isd_error **err);
int service_container_resize(struct daemon *d, const char *ref, int height, int width, struct isd_error **err);
/* The container's shim opens its log file again (CRI ReopenContainerLog, after kubelet rotated it); the
 * container must run. */
int service_container_reopen_log(struct daemon *d, const char *ref, struct isd_error **err);

/* Attach in two steps: begin registers the client (with the container lock, before the API adapter answers
 * 101), so a start that follows at once waits for it and no output is lost; run proxies the hijacked
 * connection to the container's shim until the container exits or the client leaves (it blocks: call it
 * from the connection's own thread) and frees the ticket. */
struct attach_opts {
    bool in, out, err;
};
struct attach_ticket;
struct attach_ticket *service_container_attach_begin(struct daemon *d, const char *ref, const struct attach_opts *o,
                                                     struct isd_error **err);
int service_container_attach_run(struct attach_ticket *t, int client_fd, struct isd_error **err);
void service_container_attach_cancel(struct attach_ticket *t);

/* Logs: writes the log (stdcopy frames, raw with a tty) to out_fd; follows while the container runs. */
struct logs_opts {
    bool out, err, follow, timestamps;
    long long since_ns, until_ns;
    long long tail; /* -1 = all */
};
int service_container_logs_check(struct daemon *d, const char *ref, bool *ret_tty, struct isd_error **err);
int service_container_logs(struct daemon *d, const char *ref, const struct logs_opts *o, int out_fd,
                           struct isd_error **err);

/* Exec. */
int service_exec_create(struct daemon *d, const char *ref, const json_t *body, char **ret_id, struct isd_error **err);
int service_exec_start_check(struct daemon *d, const char *exec_id, bool *ret_tty, struct isd_error **err);
/* Before the start: with a tty, the end of the client's input ends the terminal's input too (the shim types ^D), as
 * a CRI client closing its stdin asks; Docker's exec keeps the process's input open. -1 when exec_id is unknown. */
int service_exec_end_tty_input(struct daemon *d, const char *exec_id);
/* client_fd < 0: detached. */
int service_exec_start(struct daemon *d, const char *exec_id, int client_fd, struct isd_error **err);
json_t *service_exec_inspect(struct daemon *d, const char *exec_id, struct isd_error **err);
int service_exec_resize(struct daemon *d, const char *exec_id, int height, int width, struct isd_error **err);
/* Forgets a finished exec (its record and directory): the CRI's execs leave nothing behind. */
void service_exec_drop(struct daemon *d, const char *exec_id);

/* Networks (Docker's /networks shapes, docs/api.md). */
json_t *service_network_create(struct daemon *d, const json_t *body, struct isd_error **err);
json_t *service_network_list(struct daemon *d, const json_t *filters, struct isd_error **err);
json_t *service_network_inspect(struct daemon *d, const char *ref, struct isd_error **err);
int service_network_remove(struct daemon *d, const char *ref, struct isd_error **err);
json_t *service_network_prune(struct daemon *d, const json_t *filters, struct isd_error **err);
/* POST /networks/{id}/connect|disconnect: ep is Docker's EndpointConfig (Aliases, IPAMConfig.IPv4Address,
 * MacAddress); hot on a running container, kept for the next starts. */
int service_network_connect(struct daemon *d, const char *net_ref, const char *ctr_ref, const json_t *ep,
                            struct isd_error **err);
int service_network_disconnect(struct daemon *d, const char *net_ref, const char *ctr_ref, bool force,
                               struct isd_error **err);

/* Images. */
json_t *service_image_list(struct daemon *d, bool all, const json_t *filters, struct isd_error **err);
json_t *service_image_inspect(struct daemon *d, const char *ref, struct isd_error **err);
json_t *service_image_remove(struct daemon *d, const char *ref, bool force, struct isd_error **err);
int service_image_tag(struct daemon *d, const char *ref, const char *repo, const char *tag, struct isd_error **err);
int service_image_load(struct daemon *d, int fd, char ***ret_loaded, struct isd_error **err);
int service_image_import(struct daemon *d, int fd, const char *repo, const char *tag, char *const *changes,
                         char **ret_id, struct isd_error **err);
int service_image_save(struct daemon *d, char *const *refs, int out_fd, struct isd_error **err);
/* Pull in two steps: begin resolves fromImage[+tag] (tag may be a digest) on the registry (mirrors, auth from
 * the base64url X-Registry-Auth JSON or the stored logins), fetches and verifies manifest and config (errors
 * here have their normal status; ISD_ERR_UNAUTHORIZED for credentials); run downloads and applies
 * the layers and registers the image, writing Docker's JSON progress lines to out_fd (-1: none). */
struct pull_job;
struct pull_job *service_image_pull_begin(struct daemon *d, const char *from, const char *tag, const char *auth,
                                          struct isd_error **err);
int service_image_pull_run(struct pull_job *j, int out_fd, struct isd_error **err);
void service_image_pull_free(struct pull_job *j);
/* Registry logins: check username/password/serveraddress against the registry and store them in
 * <graph>/auths.json (0600); logout forgets them (ISD_ERR_NOT_FOUND when not logged in). */
int service_auth_login(struct daemon *d, const json_t *body, struct isd_error **err);
int service_auth_logout(struct daemon *d, const char *server, struct isd_error **err);
/* GET /images/{name}/history: [{Id, Created, CreatedBy, Tags, Size, Comment}], newest first. */
json_t *service_image_history(struct daemon *d, const char *ref, struct isd_error **err);
/* Loads an embedded image from its manifest (absolute path on the daemon's host); *ret_name: "name:tag". */
int service_image_load_embedded(struct daemon *d, const char *manifest_path, char **ret_name, struct isd_error **err);

/* Events in two steps, as stats: begin reads Docker's filters (type, event, container, image, label; others are
 * ISD_ERR_INVALID; an object
 * of arrays or of {"value": true}); run writes, one JSON document per line to out_fd, the kept events from
 * since_ns (0: none), then new ones until until_ns (0: never) has passed or the client leaves, and frees j. */
struct events_job;
struct events_job *service_events_begin(struct daemon *d, const json_t *filters, long long since_ns, long long until_ns,
                                        struct isd_error **err);
void service_events_run(struct events_job *j, int out_fd);
void service_events_job_free(struct events_job *j);

/* CRI (images_cri.c, pod_*.c). Pull of ref (a full reference, tag or digest included) with user/password or
 * auth ("user:password" in base64), any of them NULL or "" (then the stored login); returns the image ID. */
char *service_image_pull_ref(struct daemon *d, const char *ref, const char *user, const char *password,
                             const char *auth, struct isd_error **err);
/* Where the image layers live, with the bytes and inodes they use. */
int service_image_fs_usage(struct daemon *d, char **ret_mountpoint, long long *ret_bytes, long long *ret_inodes,
                           struct isd_error **err);
/* The name of the pods' default network: the first configuration of cni-conf-dir in lexical order
 * (ISD_ERR_UNAVAILABLE when there is none). */
int service_pod_network_default(struct daemon *d, char **ret_name, struct isd_error **err);
/* Whether the kernel and the graph root's filesystem take id-mapped mounts (what id-mapped binds and a CRI pod's
 * volumes need); probed once. */
bool service_userns_idmap_supported(struct daemon *d);
/* Whether recursively read-only binds work here (the kernel has mount_setattr); probed once. */
bool service_rro_supported(struct daemon *d);
/* A TCP connection to 127.0.0.1:port inside pod pod_id's network namespace (CRI PortForward); *ret_fd taken by the
 * caller. */
int service_pod_port_connect(struct daemon *d, const char *pod_id, int port, int *ret_fd, struct isd_error **err);

/* Pod sandboxes (pod_sandbox.c). run: creates and starts the pod's infra container from body (a Docker create
 * body; Image is set here: pod-sandbox-image, pulled when absent, else the built-in pause image), on the
 * default pod network unless HostConfig.NetworkMode is "host", plus the extra_networks (the value of the
 * annotation below; NULL: none); on failure nothing is left. inspect: the
 * container inspect JSON of a pod (ISD_ERR_NOT_FOUND for anything else). stop: stops its containers and the
 * sandbox and releases its network; remove: removes them all (an unknown pod is fine). list: see pod_sandbox.c. */
int service_pod_run(struct daemon *d, const char *name, json_t *body, const char *extra_networks, char **ret_id,
                    struct isd_error **err);
/* The pod annotation naming extra networks (configurations of cni-conf-dir), as iSulad reads it: JSON
 * {"name": "<network>", "interface": "<ifname>"} or an array of them; the pod gets one interface on each
 * (ethN when no interface is named), attached at its start and released at its stop. */
#define SERVICE_POD_NETWORK_ANNOTATION "network.alpha.kubernetes.io/network"
/* Keeps the extra networks of annotation (its value) on pod sandbox id, before its first start (pod_network.c). */
int service_pod_network_extra(struct daemon *d, const char *id, const char *annotation, struct isd_error **err);
json_t *service_pod_inspect(struct daemon *d, const char *id, struct isd_error **err);
int service_pod_stop(struct daemon *d, const char *id, struct isd_error **err);
int service_pod_remove(struct daemon *d, const char *id, struct isd_error **err);
json_t *service_pod_list(struct daemon *d, const char *id_prefix, int state, const json_t *selector,
                         struct isd_error **err);
/* The interfaces of a running pod's network namespace (loopback left out; none on the node's network or when the
 * pod is not running): [{"name", "rx_bytes", "rx_errors", "tx_bytes", "tx_errors"}]. */
json_t *service_pod_net_stats(struct daemon *d, const char *id, struct isd_error **err);

/* CRI containers (pod_container.c). create: body is a Docker create body; the container joins pod_id's network,
 * IPC and UTS namespaces (and PID with share_pid); log_path (absolute, may be NULL) gets its directories made.
 * inspect: the inspect JSON of a CRI container (ISD_ERR_NOT_FOUND for anything else). list: summaries of CRI
 * containers by id prefix, pod id prefix, Docker state ("created", "running", "exited"; NULL any) and labels
 * (every one of selector). */
int service_pod_container_create(struct daemon *d, const char *pod_id, const char *name, json_t *body, bool share_pid,
                                 const char *log_path, char **ret_id, struct isd_error **err);
json_t *service_pod_container_inspect(struct daemon *d, const char *id, struct isd_error **err);
/* The OCI runtime spec (config.json) of the container's last start; an empty object before its first. */
json_t *service_container_runtime_spec(struct daemon *d, const char *ref, struct isd_error **err);
json_t *service_pod_container_list(struct daemon *d, const char *id_prefix, const char *pod_id, const char *state,
                                   const json_t *selector, struct isd_error **err);

/* CRI ExecSync (pod_exec.c): runs cmd in container ref and gathers its stdout and stderr (each cut at max_output
 * bytes) until it ends; after timeout_s (0: none) it is killed and ISD_ERR_TIMEOUT returned. out and err are
 * malloc'd (NUL-terminated, may hold NULs). */
struct exec_sync_result {
    char *out, *err;
    size_t out_len, err_len;
    int exit_code;
};
int service_exec_sync(struct daemon *d, const char *ref, char *const *cmd, long long timeout_s, size_t max_output,
                      struct exec_sync_result *ret, struct isd_error **err);

/* System. */
/* Docker's prunes and disk usage (prune.c, images_prune.c): POST /containers/prune, /images/prune, GET /system/df. */
json_t *service_container_prune(struct daemon *d, const json_t *filters, struct isd_error **err);
json_t *service_image_prune(struct daemon *d, const json_t *filters, struct isd_error **err);
json_t *service_system_df(struct daemon *d, struct isd_error **err);
/* Adds SizeRw and SizeRootFs to a container summary or inspect (by its Id), or to each of a list. */
void service_container_add_sizes(struct daemon *d, json_t *j);
/* The container's writable layer (CRI ContainerStats.writable_layer): its directory, the bytes and inodes in it.
 * -1 (ISD_ERR_NOT_FOUND) when it has none (an external rootfs). */
int service_container_rw_usage(struct daemon *d, const char *ref, char **ret_dir, long long *ret_bytes,
                               long long *ret_inodes, struct isd_error **err);
json_t *service_version(struct daemon *d);
json_t *service_info(struct daemon *d);

#endif
