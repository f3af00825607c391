/* Loop devices for image files; see loopdev.h. */
#include "common/loopdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"

int loopdev_attach(int file_fd, bool read_only, char *dev, size_t dev_len, struct isd_error **err)
{
    cleanup_close int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    struct loop_config cfg = {.fd = (unsigned int)file_fd};
    if (ctl < 0)
        return isd_error_errno(err, "open /dev/loop-control");
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
    for (int tries = 0; tries < 16; tries++) {
        int n = ioctl(ctl, LOOP_CTL_GET_FREE), fd;
        if (n < 0)
            return isd_error_errno(err, "get a free loop device");
        snprintf(dev, dev_len, "/dev/loop%d", n);
        fd = open(dev, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
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
