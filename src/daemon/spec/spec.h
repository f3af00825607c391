/*
 * OCI runtime spec generation: turns a Docker Engine API v1.41 create body plus the image config into the
 * bundle's config.json (OCI runtime spec 1.0.2 as runc 1.1 consumes it), and an exec body into the
 * process.json of `runc exec --process`.
 *
 * Owns nothing long-lived: every function returns a new json_t the caller must json_decref. The only side
 * effects are the hostname, hosts and resolv.conf files spec_generate writes into in->container_dir.
 * Thread-safe (no shared state); concurrent calls for the same container_dir are the caller's business.
 */
#ifndef ISD_DAEMON_SPEC_SPEC_H
#define ISD_DAEMON_SPEC_SPEC_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/user_remap.h"

struct cdi_registry;

/* Effective container Config as Docker's inspect shows it: the image config's "config" object (or the whole
 * image config JSON holding it) merged with the create body's Config fields. Env: image env overridden or
 * extended by the user's, by key. Cmd: the user's, else the image's unless the user gave an Entrypoint (then
 * the image Cmd is dropped, as Docker does). Entrypoint, WorkingDir, User, StopSignal: the user's else the
 * image's. Labels, ExposedPorts, Volumes: union, the user's win. Hostname defaults to the first 12 chars of
 * id. image_config may be NULL (external rootfs). Returns a new object. An empty resulting command ->
 * ISD_ERR_INVALID "no command specified". */
json_t *spec_merge_config(const json_t *image_config, const json_t *create_body, const char *id,
                          struct isd_error **err);

struct spec_input {
    const char *id;
    const json_t *config;      /* the merged Config from spec_merge_config */
    const json_t *host_config; /* the create body's HostConfig (may be NULL) */
    const char *rootfs;        /* absolute path of the container's root filesystem */
    const char *container_dir; /* per-container dir where hostname, hosts, resolv.conf are written */
    const char *cgroup_parent; /* daemon default, e.g. "/isulad"; HostConfig.CgroupParent overrides */
    const char *umask;         /* "secure" (0027) or "normal" (0022); annotation native.umask overrides */
    bool rootfs_is_external;
    const char *netns_path; /* a pinned network namespace to join (container on a network); NULL: a new one */
    /* The namespaces of another container joined by the "container:<ref>" modes of PidMode, IpcMode and
     * UTSMode (NetworkMode's goes in netns_path): /proc/<pid>/ns/<type> of that running container, resolved by
     * the service at start. Unresolved (NULL) at create's check, where the mode gives a namespace entry
     * without a path. A joined UTS namespace gets no hostname: it is the other container's. */
    const char *pid_ns_path;
    const char *ipc_ns_path;
    const char *uts_ns_path;
    const char *ipc_shm_path; /* with ipc_ns_path: the IPC peer's /dev/shm attached on the host, bound in */
    struct user_remap remap;  /* set: a new user namespace with this mapping (the service decides which) */
    /* with remap: an existing user namespace with that mapping to join instead (the one owning a network's
     * pinned namespace, or another container's); NULL: a new one */
    const char *userns_path;
    /* Docker-format seccomp profile for containers without a seccomp option; NULL: none. */
    const json_t *seccomp_default;
    /* The daemon's selinux-enabled: label=... options allowed. */
    bool selinux_enabled;
    /* The daemon's CDI registry (spec_cdi.h), NULL when enable-cdi is off: then a HostConfig asking for CDI
     * devices (DeviceRequests with Driver "cdi") is refused. */
    struct cdi_registry *cdi;
};

/* The bundle's config.json. Writes <container_dir>/{hostname,hosts,resolv.conf}. */
json_t *spec_generate(const struct spec_input *in, struct isd_error **err);
/* The container's linux.cgroupsPath: "<cgroup parent>/<id>" (HostConfig.CgroupParent, else the daemon's). */
char *spec_cgroups_path(const struct spec_input *in);

/* The spec's linux.resources for a HostConfig without the device rules (what `update` writes to the cgroups):
 * the same values and range errors as spec_generate. */
json_t *spec_resources_build(const json_t *host_config, struct isd_error **err);

/* A huge page size ("2M", "2MB", "1G", "2048KB") as the kernel names it in cgroup files ("2MB", "1GB"); NULL
 * when it is not a whole number of KB. */
char *spec_hugetlb_page_name(const char *size);

/* The default seccomp profile in Docker's JSON format: the file at path when it exists (an invalid file is an
 * error), else the copy built into the daemon (contrib/seccomp_default.json). A new reference. */
json_t *spec_seccomp_default_load(const char *path, struct isd_error **err);

/* AppArmor (spec_apparmor.c). The built-in profile containers get by default when the host has AppArmor enabled,
 * loaded with `apparmor_parser -Kr` the first time a container needs it. */
#define SPEC_APPARMOR_DEFAULT "isulad-default"
/* /sys/module/apparmor/parameters/enabled says Y and AppArmor's securityfs directory is there (as runc checks). */
bool spec_apparmor_enabled(void);
/* The text of the built-in profile (static storage). */
const char *spec_apparmor_default_profile(void);

/* process.json for `runc exec --process`: cwd/env/user/caps/rlimits from the container's spec, overridden by
 * the Docker exec body {Cmd, Env, User, WorkingDir, Tty, Privileged}. */
json_t *spec_exec_process(const json_t *container_spec, const json_t *exec_body, const char *rootfs,
                          struct isd_error **err);

/* Resolves "user", "user:group", "uid", "uid:gid" (empty = root) against <rootfs>/etc/passwd and
 * <rootfs>/etc/group, opened with RESOLVE_IN_ROOT so symlinks never leave the rootfs. Sets uid, gid and
 * additionalGids (supplementary groups, only when no group was given) in process_user, keeping other keys.
 * Unknown user -> ISD_ERR_INVALID "unable to find user X: no matching entries in passwd file". */
int spec_resolve_user(const char *rootfs, const char *user, json_t *process_user, struct isd_error **err);
/* Appends HostConfig.GroupAdd (names resolved against <root>/etc/group, or numbers) to process_user's
 * additionalGids: at create, and for an exec with its own user, whose groups Docker also extends. */
int spec_user_group_add(const json_t *host_config, const char *root, json_t *process_user, struct isd_error **err);

#endif
