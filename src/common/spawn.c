#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

/*
 * posix_spawn (glibc: clone with CLONE_VM|CLONE_VFORK) instead of fork: the daemon's page tables are not
 * copied, which makes each runtime or shim start several ms cheaper in a daemon with many threads, and a
 * program that cannot be executed is reported here, synchronously.
 */
pid_t spawn_start(const struct spawn_opts *o, struct isd_error **err)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, all;
    int src[3 + 16];
    size_t nk = o->n_keep_fds;
    int devnull;
    pid_t pid = -1;
    int rc;

    if (nk > 16)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "run `%s`: too many descriptors to pass", o->argv[0]);
    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0)
        return isd_error_errno(err, "open /dev/null");
    /* Sources go above every target first, so no dup2 below can clobber a source still to be used; the
     * copies are close-on-exec and closed here after the spawn. */
    src[0] = fcntl(o->stdin_fd >= 0 ? o->stdin_fd : devnull, F_DUPFD_CLOEXEC, 100);
    src[1] = fcntl(o->stdout_fd >= 0 ? o->stdout_fd : devnull, F_DUPFD_CLOEXEC, 100);
    src[2] = fcntl(o->stderr_fd >= 0 ? o->stderr_fd : devnull, F_DUPFD_CLOEXEC, 100);
    for (size_t i = 0; i < nk; i++)
        src[3 + i] = fcntl(o->keep_fds[i], F_DUPFD_CLOEXEC, 100);
    posix_spawn_file_actions_init(&fa);
    for (size_t i = 0; i < 3 + nk; i++)
        posix_spawn_file_actions_adddup2(&fa, src[i], (int)i);
    if (o->cwd != NULL)
        posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
    posix_spawnattr_init(&attr);
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr,
                             POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (o->setsid ? POSIX_SPAWN_SETSID : 0));
    rc = posix_spawnp(&pid, o->argv[0], &fa, &attr, (char *const *)o->argv,
                      o->env != NULL ? (char *const *)o->env : environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    for (size_t i = 0; i < 3 + nk; i++)
        if (src[i] >= 0)
            close(src[i]);
    close(devnull);
    if (rc != 0) {
        errno = rc;
        return isd_error_errno(err, "run `%s`", o->argv[0]);
    }
    return pid;
}

int spawn_wait(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

int spawn_collect(int out_fd, int err_fd, struct buf *out, struct buf *err, size_t max, long long deadline_ns)
{
    struct pollfd pf[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
    int open_n = 2;
    char chunk[8192];
    while (open_n > 0) {
        long long left = deadline_ns > 0 ? deadline_ns - now_ns() : -1;
        int rc;
        if (deadline_ns > 0 && left <= 0)
            return -1;
        rc = poll(pf, 2, left < 0 ? -1 : (int)(left / 1000000 + 1));
        if (rc < 0 && errno != EINTR)
            return 0;
        for (int i = 0; rc > 0 && i < 2; i++) {
            struct buf *b = i == 0 ? out : err;
            ssize_t n;
            if (pf[i].fd < 0 || pf[i].revents == 0)
                continue;
            n = read(pf[i].fd, chunk, sizeof(chunk));
            if (n <= 0) {
                pf[i].fd = -1;
                open_n--;
            } else if (b->len < max) {
                buf_append(b, chunk, (size_t)n);
            }
        }
    }
    return 0;
}

int spawn_run(const char *const *argv, const char *input, char **ret_out, char **ret_err, struct isd_error **err)
{
    int outp[2] = {-1, -1}, errp[2] = {-1, -1}, inp[2] = {-1, -1};
    struct spawn_opts o = {.argv = argv, .stdin_fd = -1};
    struct buf bo = {0}, be = {0};
    pid_t pid;
    int rc;

    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || (input != NULL && pipe2(inp, O_CLOEXEC) < 0)) {
        isd_error_errno(err, "pipe");
        rc = -1;
        goto out;
    }
    o.stdout_fd = outp[1];
    o.stderr_fd = errp[1];
    o.stdin_fd = inp[0];
    pid = spawn_start(&o, err);
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;
    if (inp[0] >= 0) {
        close(inp[0]);
        inp[0] = -1;
    }
    if (pid < 0) {
        rc = -1;
        goto out;
    }
    if (input != NULL) {
        size_t len = strlen(input);
        while (len > 0) {
            ssize_t n = write(inp[1], input, len);
            if (n <= 0)
                break;
            input += n;
            len -= (size_t)n;
        }
        close(inp[1]);
        inp[1] = -1;
    }
    spawn_collect(outp[0], errp[0], &bo, &be, 1 << 20, 0);
    rc = spawn_wait(pid);
out:
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
        if (inp[i] >= 0)
            close(inp[i]);
    }
    if (ret_out != NULL)
        *ret_out = buf_steal(&bo);
    else
        buf_free(&bo);
    if (ret_err != NULL)
        *ret_err = buf_steal(&be);
    else
        buf_free(&be);
    return rc;
}
