/*
 * Network namespaces created and pinned by isulad: a new namespace is made in a short-lived thread
 * (unshare(CLONE_NEWNET) changes only the calling thread) and bind-mounted onto a file, so it outlives
 * every process and a runtime joins it through the OCI spec's `linux.namespaces[].path`. Its loopback is up.
 * Thread-safe.
 */
#ifndef ISD_DAEMON_NETWORK_NETNS_H
#define ISD_DAEMON_NETWORK_NETNS_H

#include "common/error.h"

/* Creates <dir>/<name> pinning a new network namespace; ISD_ERR_CONFLICT when it exists already. */
int netns_create(const char *dir, const char *name, char **ret_path, struct isd_error **err);
/* Unmounts and removes a pinned namespace; a missing one is fine. */
int netns_remove(const char *path, struct isd_error **err);

#endif
