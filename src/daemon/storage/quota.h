/*
 * Rootfs quotas (guide R-40..R-54, D-24): a size limit on a container's read-write layer through project
 * quotas of the file system holding the graph (xfs mounted with `pquota`/`prjquota`, or ext4 made with
 * `-O quota,project` and mounted with `prjquota`). Each limited container's diff and work directories get
 * the container's own project ID (one for both) with the inherit flag (FS_IOC_FSSETXATTR) before the
 * overlay is mounted, and the
 * limit is set with quotactl(Q_XSETQLIM, PRJQUOTA) on a block device node made for the file system
 * (`<storage root>/backingFsBlockDev`, as Docker does).
 *
 * Thread-safety: the layer store's quota control is created once (guarded by a module mutex) and its
 * project-ID allocation is serialised by its own mutex. Nothing here holds the layer store's lock.
 */
#ifndef ISD_STORAGE_QUOTA_H
#define ISD_STORAGE_QUOTA_H

#include <stdbool.h>

#include "common/error.h"

struct layer_store;
struct quota_ctl;

/* The message of guide R-48 (without the "Failed to prepare rootfs" prefix the caller adds). */
#define QUOTA_UNSUPPORTED_MSG "--storage-opt is supported only for overlay over xfs or ext4 with 'pquota' mount option"

/* Parses a quota size: a number, fractions allowed, with an optional unit matching
 * ([kKmMgGtTpP])?[iI]?[bB]? (powers of 1024; none = bytes). Fractions of a byte are dropped. 0 means
 * unlimited; any other value below 4096 is an error. */
int quota_parse_size(const char *s, long long *ret, struct isd_error **err);

/* The default rootfs quota of the daemon's storage options (overlay2.size / overlay2.basesize); 0 = none. */
int quota_default_size(char *const *storage_opts, long long *ret, struct isd_error **err);

/* Opens the quota control for the file system holding dir: ISD_ERR_INVALID with QUOTA_UNSUPPORTED_MSG when
 * project quotas are not available there. */
struct quota_ctl *quota_ctl_open(const char *dir, struct isd_error **err);
void quota_ctl_free(struct quota_ctl *q);
/* Gives the directories (NULL-terminated) one new project ID, the same for all of them (inherited by new
 * files), limited to bytes. */
int quota_ctl_set(struct quota_ctl *q, char *const *dirs, long long bytes, struct isd_error **err);

/* Checks that the layer store's file system supports project quotas (creates the control on first use). */
int layer_store_quota_check(struct layer_store *ls, struct isd_error **err);
/* Limits the read-write layer of container_id to bytes (> 0). Call after rootfs_create, before the first
 * mount. Unsupported file system: ISD_ERR_INVALID with the R-48 message. */
int rootfs_set_quota(struct layer_store *ls, const char *container_id, long long bytes, struct isd_error **err);

#endif
