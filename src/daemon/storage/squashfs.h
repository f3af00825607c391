/*
 * `--mount type=squashfs` (the guide's C-run-42): a squashfs image file loop-mounted read-only on a host
 * directory. The loop device is set up with autoclear, so it is released when the last mount of it goes: the
 * caller bind-mounts the directory into a container and then detaches the host mount, leaving the container's
 * mount namespace as the only holder. Thread-safe.
 */
#ifndef ISD_STORAGE_SQUASHFS_H
#define ISD_STORAGE_SQUASHFS_H

#include "common/error.h"

/* Mounts image (a regular file) read-only on dir (created). A file that is not squashfs: ISD_ERR_INVALID. */
int squashfs_mount(const char *image, const char *dir, struct isd_error **err);

#endif
