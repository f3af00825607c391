/* Cloning a mount out of another mount namespace (mount_peer.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/mount_peer.h"
#include "common/util.h"

#define CHILD_STACK (64 * 1024)

/* Shared with the child: it runs in the caller's memory and file table while the caller is suspended. */
struct peer_clone {
    int nsfd;
    const char *path;
    int fd;   /* the detached tree, opened straight into the caller's file table */
    int step; /* where the child failed, 0 when it did not */
};

/* The child (its own fs_struct: setns into a mount namespace is allowed there, not in the daemon's threads).
 * Only syscalls: it shares the daemon's memory. */
static int child_clone(void *arg)
{
    struct peer_clone *pc = arg;
    if (setns(pc->nsfd, CLONE_NEWNS) < 0) {
        pc->step = 1;
        return 1;
    }
    pc->fd = open_tree(AT_FDCWD, pc->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    pc->step = pc->fd < 0 ? 2 : 0;
    return pc->step;
}

/* The clone runs in a vfork-like child (CLONE_VM | CLONE_VFORK, as posix_spawn does), sharing the file table: no
 * copy of the daemon's page tables (a fork marks every page of the daemon copy-on-write, and the daemon takes a
 * fault on each page it writes afterwards), and no descriptor passing; signals stay blocked in the child. */
int mount_peer_clone(pid_t pid, const char *path, const char *target, struct isd_error **err)
{
    cleanup_free char *ns = xasprintf("/proc/%d/ns/mnt", (int)pid);
    cleanup_close int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
    cleanup_close int tree = -1;
    cleanup_free char *stack = NULL;
    struct peer_clone pc = {.nsfd = nsfd, .path = path, .fd = -1, .step = -1};
    sigset_t all, old;
    int status = 0;
    pid_t child;

    if (nsfd < 0)
        return isd_error_errno(err, "open `%s`", ns);
    stack = xmalloc(CHILD_STACK);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    child = clone(child_clone, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &pc);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (child < 0)
        return isd_error_errno(err, "clone `%s` of process %d", path, (int)pid);
    waitpid(child, &status, 0);
    tree = pc.fd;
    if (tree < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "clone `%s` of process %d: failed (step %d)", path, (int)pid,
                             pc.step);
    if (mkdir(target, 0700) < 0 && errno != EEXIST)
        return isd_error_errno(err, "mkdir `%s`", target);
    if (move_mount(tree, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return isd_error_errno(err, "attach `%s` of process %d at `%s`", path, (int)pid, target);
    return 0;
}
