/* Pinned network namespaces (see netns.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/network/netns.h"

struct pin_job {
    const char *path;
    int err;
    const char *what;
};

/* A runtime does not bring up the loopback of a namespace it joins: done here, without a plugin process. */
static int loopback_up(void)
{
    struct ifreq ifr = {0};
    cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* Runs in its own thread: the new namespace is this thread's only, and the thread ends right after. */
static void *pin_main(void *arg)
{
    struct pin_job *j = arg;
    char self[64];
    if (unshare(CLONE_NEWNET) < 0) {
        j->err = errno;
        j->what = "unshare";
        return NULL;
    }
    if (loopback_up() < 0) {
        j->err = errno;
        j->what = "loopback up";
        return NULL;
    }
    snprintf(self, sizeof(self), "/proc/self/task/%ld/ns/net", (long)syscall(SYS_gettid));
    if (mount(self, j->path, NULL, MS_BIND, NULL) < 0) {
        j->err = errno;
        j->what = "bind mount";
    }
    return NULL;
}

int netns_create(const char *dir, const char *name, char **ret_path, struct isd_error **err)
{
    cleanup_free char *path = path_join(dir, name);
    struct pin_job j = {.path = path};
    pthread_t t;
    int fd, rc;
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return isd_error_set(err, ISD_ERR_CONFLICT, EEXIST, "network namespace `%s` exists already", path);
        return isd_error_errno(err, "create `%s`", path);
    }
    close(fd);
    rc = pthread_create(&t, NULL, pin_main, &j);
    if (rc != 0) {
        unlink(path);
        errno = rc;
        return isd_error_errno(err, "new network namespace: thread");
    }
    pthread_join(t, NULL);
    if (j.err != 0) {
        unlink(path);
        errno = j.err;
        return isd_error_errno(err, "new network namespace `%s`: %s", path, j.what);
    }
    *ret_path = TAKE_PTR(path);
    return 0;
}

int netns_remove(const char *path, struct isd_error **err)
{
    if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return isd_error_errno(err, "unmount network namespace `%s`", path);
    if (unlink(path) < 0 && errno != ENOENT)
        return isd_error_errno(err, "remove network namespace `%s`", path);
    return 0;
}
