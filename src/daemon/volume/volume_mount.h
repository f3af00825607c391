/*
 * The local driver's mount options (Docker's `DriverOpts`: type, device, o), internal to the volume module:
 * their check at create and the mount of a volume's filesystem on its `_data` directory. Thread-safe.
 */
#ifndef ISD_DAEMON_VOLUME_VOLUME_MOUNT_H
#define ISD_DAEMON_VOLUME_VOLUME_MOUNT_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

/* Docker's rules (keys type, device, o; type and device need each other, o needs both) plus this driver's own:
 * string values, type=none only with o=bind|rbind and an absolute device. ISD_ERR_INVALID naming the option. */
int volume_opts_check(const json_t *opts, struct isd_error **err);
/* True when the options ask for a mount (a type is given). */
bool volume_opts_mount(const json_t *opts);
/* Mounts what opts describe on target: a bind (o=bind), a block device, an image file through a loop device
 * (released with the last unmount), or a virtual filesystem such as tmpfs. */
int volume_fs_mount(const json_t *opts, const char *target, struct isd_error **err);
/* True when path is the root of a mount. */
bool volume_is_mountpoint(const char *path);

#endif
