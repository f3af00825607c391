/* Loop-mounting squashfs images; see squashfs.h. */
#include "daemon/storage/squashfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

/* A free loop device bound read-only to file_fd with autoclear; returns its fd and name. */
static int loop_attach(int file_fd, char *dev, size_t dev_len, struct isd_error **err)
{
    cleanup_close int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    struct loop_config cfg = {.fd = (unsigned int)file_fd};
    if (ctl < 0)
        return isd_error_errno(err, "open /dev/loop-control");
    cfg.info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    for (int tries = 0; tries < 16; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE), fd;
        if (n < 0)
            return isd_error_errno(err, "get a free loop device");
        snprintf(dev, dev_len, "/dev/loop%d", n);
        fd = open(dev, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return isd_error_errno(err, "open %s", dev);
        if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
            return fd;
        close(fd);
        if (errno != EBUSY) /* another process took it in between: try the next */
            return isd_error_errno(err, "configure %s", dev);
    }
    return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "no free loop device");
}

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
    loop = loop_attach(file, dev, sizeof(dev), err);
    if (loop < 0)
        return -1;
    if (mount(dev, dir, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
        return isd_error_set(err, errno == EINVAL ? ISD_ERR_INVALID : ISD_ERR_INTERNAL, errno,
                             "mount squashfs image %s: %s", image, strerror(errno));
    return 0;
}
