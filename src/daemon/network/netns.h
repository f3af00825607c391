/*
 * Network namespaces created and pinned by isulad: a new namespace is made in a short-lived thread
 * (unshare(CLONE_NEWNET) changes only the calling thread) and bind-mounted onto a file, so it outlives
 * every process and a runtime joins it through the OCI spec's `linux.namespaces[].path`. Its loopback is up.
 * Thread-safe.
 */
#ifndef ISD_DAEMON_NETWORK_NETNS_H
#define ISD_DAEMON_NETWORK_NETNS_H

#include <jansson.h>
#include <sys/types.h>

#include "common/error.h"
#include "common/user_remap.h"

/* Creates <dir>/<name> pinning a new network namespace; ISD_ERR_CONFLICT when it exists already. */
int netns_create(const char *dir, const char *name, char **ret_path, struct isd_error **err);
/* The same, the network namespace owned by a new user namespace that maps ids 0..size-1 to map's uid and gid,
 * itself pinned at <userns_dir>/<name>: a user-namespaced container joins both (runc joins the user namespace
 * first and may then join a network namespace that namespace owns; its root may mount sysfs there), and the CNI
 * plugins, host root, still reach it. Made in a forked child (a multi-threaded process cannot unshare a user
 * namespace). */
int netns_create_in_userns(const char *dir, const char *userns_dir, const char *name, const struct user_remap *map,
                           char **ret_path, struct isd_error **err);
/* Unmounts and removes a pinned namespace; a missing one is fine. */
int netns_remove(const char *path, struct isd_error **err);
/* The interfaces of the network namespace of process pid (/proc/<pid>/net/dev), loopback left out:
 * [{"name", "rx_bytes", "rx_errors", "tx_bytes", "tx_errors"}] in the kernel's order. NULL when unreadable. */
json_t *netns_dev_stats(pid_t pid, struct isd_error **err);

#endif
