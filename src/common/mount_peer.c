/* Cloning a mount out of another mount namespace (mount_peer.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/mount_peer.h"
#include "common/util.h"

/* In the forked child (single-threaded, so setns into a mount namespace is allowed): only syscalls. */
static void child_clone(int sock, int nsfd, const char *path)
{
    char byte = 0;
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    int fd;

    if (setns(nsfd, CLONE_NEWNS) < 0)
        _exit(1);
    fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (fd < 0)
        _exit(2);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    _exit(sendmsg(sock, &msg, 0) == 1 ? 0 : 3);
}

static int receive_fd(int sock)
{
    char byte;
    char ctl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
    struct cmsghdr *cm;
    int fd = -1;

    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
        return -1;
    cm = CMSG_FIRSTHDR(&msg);
    if (cm == NULL || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
        return -1;
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

int mount_peer_clone(pid_t pid, const char *path, const char *target, struct isd_error **err)
{
    cleanup_free char *ns = xasprintf("/proc/%d/ns/mnt", (int)pid);
    cleanup_close int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
    cleanup_close int tree = -1;
    int sp[2], status = 0;
    pid_t child;

    if (nsfd < 0)
        return isd_error_errno(err, "open `%s`", ns);
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sp) < 0)
        return isd_error_errno(err, "socketpair");
    child = fork();
    if (child == 0)
        child_clone(sp[1], nsfd, path);
    close(sp[1]);
    tree = child > 0 ? receive_fd(sp[0]) : -1;
    close(sp[0]);
    if (child > 0)
        waitpid(child, &status, 0);
    if (tree < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "clone `%s` of process %d: failed (step %d)", path, (int)pid,
                             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (mkdir(target, 0700) < 0 && errno != EEXIST)
        return isd_error_errno(err, "mkdir `%s`", target);
    if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return isd_error_errno(err, "attach `%s` of process %d at `%s`", path, (int)pid, target);
    return 0;
}
