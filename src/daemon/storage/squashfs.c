/* Loop-mounting squashfs images; see squashfs.h. */
#include "daemon/storage/squashfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/loopdev.h"
#include "common/util.h"

int squashfs_mount(const char *image, const char *dir, struct isd_error **err)
{
    cleanup_close int file = open(image, O_RDONLY | O_CLOEXEC);
    cleanup_close int loop = -1;
    struct stat st;
    char dev[64];
    if (file < 0 || fstat(file, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "squashfs image %s: %s", image, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "squashfs image %s: not a regular file", image);
    if (mkdir_p(dir, 0755, err) < 0)
        return -1;
    loop = loopdev_attach(file, true, dev, sizeof(dev), err);
    if (loop < 0)
        return -1;
    if (mount(dev, dir, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
        return isd_error_set(err, errno == EINVAL ? ISD_ERR_INVALID : ISD_ERR_INTERNAL, errno,
                             "mount squashfs image %s: %s", image, strerror(errno));
    return 0;
}
