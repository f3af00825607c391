/*
 * Loop devices for image files (squashfs mounts, ext4 volume images): a free device bound to an open file with
 * LO_FLAGS_AUTOCLEAR, so the kernel releases it when the last mount of it and the last open fd are gone. The
 * caller mounts the device and then closes the returned fd. Thread-safe (the kernel arbitrates free devices).
 */
#ifndef ISD_COMMON_LOOPDEV_H
#define ISD_COMMON_LOOPDEV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Binds a free loop device to file_fd (read-only when read_only); returns its fd and writes its path to dev. */
int loopdev_attach(int file_fd, bool read_only, char *dev, size_t dev_len, struct isd_error **err);

#endif
