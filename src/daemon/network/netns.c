/* Pinned network namespaces (see netns.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

static int write_text(const char *path, const char *text)
{
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    return fd < 0 ? -1 : fd_write_all(fd, text, strlen(text));
}

/* The child of netns_create_in_userns: async-signal-safe calls only (a fork of a threaded process). It enters a
 * new user namespace, waits for its maps ('m' on cmd), makes the network namespace inside it, and waits until
 * the parent pinned both (cmd closed). Status byte on res: 'u' user namespace made, 'n' network namespace up,
 * 'E' failed. */
static void userns_child(int cmd, int res)
{
    char c = 'E';
    if (unshare(CLONE_NEWUSER) < 0 || write(res, "u", 1) != 1)
        _exit(1);
    if (read(cmd, &c, 1) != 1 || c != 'm')
        _exit(1);
    c = unshare(CLONE_NEWNET) == 0 && loopback_up() == 0 ? 'n' : 'E';
    if (write(res, &c, 1) != 1)
        _exit(1);
    while (read(cmd, &c, 1) > 0) {
    }
    _exit(0);
}

static int pin_ns(pid_t pid, const char *type, const char *dst)
{
    char src[64];
    int fd = open(dst, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    close(fd);
    snprintf(src, sizeof(src), "/proc/%d/ns/%s", (int)pid, type);
    return mount(src, dst, NULL, MS_BIND, NULL);
}

/* Drives the child: writes its maps, then pins its user and network namespaces. */
static int userns_pin(pid_t pid, int cmd, int res, const struct user_remap *map, const char *netns, const char *userns)
{
    cleanup_free char *uid_map = xasprintf("0 %llu %llu\n", map->uid, map->size);
    cleanup_free char *gid_map = xasprintf("0 %llu %llu\n", map->gid, map->size);
    cleanup_free char *up = xasprintf("/proc/%d/uid_map", (int)pid), *gp = xasprintf("/proc/%d/gid_map", (int)pid);
    char c = 0;
    if (read(res, &c, 1) != 1 || c != 'u')
        return -1;
    if (write_text(up, uid_map) < 0 || write_text(gp, gid_map) < 0 || write(cmd, "m", 1) != 1)
        return -1;
    if (read(res, &c, 1) != 1 || c != 'n')
        return errno = EPERM, -1;
    if (pin_ns(pid, "user", userns) < 0 || pin_ns(pid, "net", netns) < 0)
        return -1;
    return 0;
}

int netns_create_in_userns(const char *dir, const char *userns_dir, const char *name, const struct user_remap *map,
                           char **ret_path, struct isd_error **err)
{
    cleanup_free char *path = path_join(dir, name), *upath = path_join(userns_dir, name);
    int cmd[2], res[2], rc, e;
    pid_t pid;
    if (mkdir_p(dir, 0700, err) < 0 || mkdir_p(userns_dir, 0700, err) < 0)
        return -1;
    if (path_exists(path))
        return isd_error_set(err, ISD_ERR_CONFLICT, EEXIST, "network namespace `%s` exists already", path);
    if (pipe2(cmd, O_CLOEXEC) < 0)
        return isd_error_errno(err, "pipe");
    if (pipe2(res, O_CLOEXEC) < 0) {
        close(cmd[0]);
        close(cmd[1]);
        return isd_error_errno(err, "pipe");
    }
    pid = fork();
    if (pid == 0) {
        close(cmd[1]);
        close(res[0]);
        userns_child(cmd[0], res[1]);
    }
    close(cmd[0]);
    close(res[1]);
    rc = pid < 0 ? -1 : userns_pin(pid, cmd[1], res[0], map, path, upath);
    e = errno;
    close(cmd[1]);
    close(res[0]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (rc < 0) {
        netns_remove(path, NULL);
        netns_remove(upath, NULL);
        errno = e;
        return isd_error_errno(err, "new network namespace `%s` in a user namespace", path);
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
