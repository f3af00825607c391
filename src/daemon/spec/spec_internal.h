/*
 * Helpers shared by the spec generator's files (not part of the public API). Each builder fills one part of
 * the spec object under construction. Thread-safe (no shared state).
 */
#ifndef ISD_DAEMON_SPEC_SPEC_INTERNAL_H
#define ISD_DAEMON_SPEC_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "daemon/spec/spec.h"

#define SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Replaces the entry of env (an array of "K=V") with the same key as kv, or appends it. An entry without
 * '=' ("K") removes the key, as Docker does for `-e K` with K unset on the client. */
void spec_env_set(json_t *env, const char *kv);
/* A strslice as Docker accepts it: a string, an array of strings, or null. NULL when neither. */
json_t *spec_strslice(const json_t *v);

/* Capability sets: bounding/effective/permitted per Docker's defaults, CapAdd/CapDrop and Privileged. */
json_t *spec_caps_build(const json_t *host_config, bool privileged, struct isd_error **err);
json_t *spec_caps_all(void);
/* rlimits: RLIMIT_NOFILE default capped at the daemon's hard limit, then HostConfig.Ulimits. */
json_t *spec_rlimits_build(const json_t *host_config, struct isd_error **err);

/* Resolves a group name or number against <rootfs>/etc/group. */
int spec_resolve_group(const char *rootfs, const char *group, gid_t *ret_gid, struct isd_error **err);

int spec_build_process(const struct spec_input *in, json_t *spec, struct isd_error **err);
int spec_build_mounts(const struct spec_input *in, json_t *spec, struct isd_error **err);
/* linux.resources beyond spec_linux.c's own (spec_resources.c): reservation default, kernel memory, realtime
 * CPU, per-device blkio, hugetlb. */
int spec_resources_extra(const json_t *host_config, json_t *res, struct isd_error **err);
int spec_build_linux(const struct spec_input *in, json_t *spec, struct isd_error **err);

/* Stable sort of a mounts array by destination depth (parents first). */
void spec_mounts_sort(json_t *list);
/* A mount object; opts is comma-separated. */
json_t *spec_mount_new(const char *dst, const char *type, const char *src, const char *opts);
/* HostConfig.Binds, Mounts and Tmpfs as mount objects appended to user (duplicates are errors). */
int spec_build_user_mounts(const json_t *host_config, json_t *user, struct isd_error **err);

/* linux.rootfsPropagation as Docker sets it: rshared when a bind is shared or rshared, else rslave when one is
 * slave or rslave (a bind's propagation needs the container's root mount to pass the events on). */
void spec_set_rootfs_propagation(json_t *spec);
/* Seccomp (spec_seccomp.c): a Docker-format profile -> linux.seccomp for this host and the container's
 * bounding capabilities caps; the profile of a "seccomp=" value (inline JSON or an absolute path). */
json_t *spec_seccomp_convert(const json_t *profile, const json_t *caps, struct isd_error **err);
json_t *spec_seccomp_profile_parse(const char *value, struct isd_error **err);
/* process.apparmorProfile for an apparmor= option (NULL: none given) and HostConfig.Privileged; loads the built-in
 * profile when it is used (spec_apparmor.c). */
int spec_apparmor_apply(const char *opt, bool privileged, json_t *process, struct isd_error **err);
/* SecurityOpt and DeviceCgroupRules (spec_security.c), once process and linux are built. */
int spec_build_security(const struct spec_input *in, json_t *spec, struct isd_error **err);
int spec_device_rules_add(const json_t *hc, json_t *resources, struct isd_error **err);

/* Canonical absolute path: collapses "//", "." and trailing '/'; NULL for a relative path or one with "..". */
char *spec_clean_path(const char *p);

#endif
