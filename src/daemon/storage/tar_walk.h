/*
 * Symlink-safe walking below a root directory fd: every component is opened with O_NOFOLLOW, so a symlink
 * planted by a layer is never followed. Internal to the storage module. Thread-safe.
 */
#ifndef ISD_STORAGE_TAR_WALK_H
#define ISD_STORAGE_TAR_WALK_H

#include <stdbool.h>

#include "common/error.h"

/* Opens the parent directory of rel (a normalised path) below root_dfd, creating missing directories
 * (0755) when create is set. *ret_base points into rel at the last component. Returns an fd or -1. */
int walk_open_parent(int root_dfd, const char *rel, bool create, const char **ret_base, struct isd_error **err);
/* Removes name in dfd, recursively for directories, never following symlinks. Missing is fine. */
int remove_at(int dfd, const char *name);

#endif
