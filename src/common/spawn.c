#include "common/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

extern char **environ;

static void child_exec(const struct spawn_opts *o, int devnull)
{
    sigset_t all;
    int fds[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};

    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    if (o->setsid)
        setsid();
    /* Move every source fd above the target range first, so dup2 order cannot clobber one. */
    for (int i = 0; i < 3; i++) {
        int src = fds[i] >= 0 ? fds[i] : devnull;
        fds[i] = fcntl(src, F_DUPFD_CLOEXEC, 100);
    }
    int keep[16];
    size_t nk = o->n_keep_fds < 16 ? o->n_keep_fds : 16;
    for (size_t i = 0; i < nk; i++)
        keep[i] = fcntl(o->keep_fds[i], F_DUPFD_CLOEXEC, 100);
    for (int i = 0; i < 3; i++)
        dup2(fds[i], i);
    for (size_t i = 0; i < nk; i++)
        dup2(keep[i], (int)(3 + i));
    if (o->cwd != NULL && chdir(o->cwd) < 0)
        _exit(127);
    if (o->env != NULL)
        environ = (char **)o->env;
    execvp(o->argv[0], (char *const *)o->argv);
    _exit(127);
}

pid_t spawn_start(const struct spawn_opts *o, struct isd_error **err)
{
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    pid_t pid;
    if (devnull < 0)
        return isd_error_errno(err, "open /dev/null");
    pid = fork();
    if (pid < 0) {
        close(devnull);
        return isd_error_errno(err, "fork `%s`", o->argv[0]);
    }
    if (pid == 0)
        child_exec(o, devnull);
    close(devnull);
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
    {
        struct pollfd pf[2] = {{outp[0], POLLIN, 0}, {errp[0], POLLIN, 0}};
        int open_n = 2;
        char chunk[8192];
        while (open_n > 0) {
            if (poll(pf, 2, -1) < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            for (int i = 0; i < 2; i++) {
                ssize_t n;
                if (pf[i].fd < 0 || pf[i].revents == 0)
                    continue;
                n = read(pf[i].fd, chunk, sizeof(chunk));
                if (n <= 0) {
                    pf[i].fd = -1;
                    open_n--;
                    continue;
                }
                struct buf *b = i == 0 ? &bo : &be;
                if (b->len < (1 << 20))
                    buf_append(b, chunk, (size_t)n);
            }
        }
    }
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
