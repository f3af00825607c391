/*
 * A mount of another process's mount namespace made visible in ours: a detached clone of <path> taken inside
 * the namespace of pid (open_tree(OPEN_TREE_CLONE) by a vfork-like child after setns; a mount of a foreign
 * namespace cannot be bound directly), attached at target. Used to give a container joining another's IPC
 * namespace that container's /dev/shm. Thread-safe; the caller unmounts target (MNT_DETACH) when done.
 */
#ifndef ISD_COMMON_MOUNT_PEER_H
#define ISD_COMMON_MOUNT_PEER_H

#include <sys/types.h>

#include "common/error.h"

int mount_peer_clone(pid_t pid, const char *path, const char *target, struct isd_error **err);

#endif
