/*
 * isulad-shim main: parse arguments, daemonize, set up the attach socket and log, run the runtime,
 * report the pid on the sync fd, serve until the container exits, record the exit. The contract is
 * in docs/design/shim.md. Single-threaded; owns the one `struct shim`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/isulad-shim/shim.h"

static void sync_write(struct shim *s, const char *line, bool last)
{
    if (s->sync_fd < 0)
        return;
    fd_write_all(s->sync_fd, line, strlen(line)); /* a gone daemon is not our problem */
    if (last) {
        close(s->sync_fd);
        s->sync_fd = -1;
    }
}

static void cleanup_sockets(struct shim *s)
{
    unlink(s->attach_path);
    unlink(s->console_path);
}

__attribute__((noreturn)) static void fail(struct shim *s, const char *msg)
{
    struct buf b = {0};
    buf_appends(&b, "{\"pid\":-1,\"message\":");
    shim_json_string(&b, msg, strlen(msg));
    buf_appends(&b, "}\n");
    buf_append(&b, "", 1);
    sync_write(s, buf_head(&b), true);
    cleanup_sockets(s);
    exit(1);
}

static bool fd_kept(const struct shim *s, int fd)
{
    if (fd == s->sync_fd)
        return true;
    for (size_t i = 0; i < s->args.n_attach_fds; i++)
        if (fd == s->args.attach_fds[i])
            return true;
    return false;
}

static void close_other_fds(const struct shim *s)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    if (d == NULL) {
        for (int fd = 3; fd < 1024; fd++)
            if (!fd_kept(s, fd))
                close(fd);
        return;
    }
    int self = dirfd(d);
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        if (fd > 2 && fd != self && e->d_name[0] != '.' && !fd_kept(s, fd))
            close(fd);
    }
    closedir(d);
}

/* The child side of daemonizing: new session, subreaper, quiet stdio, only the sync and attach fds kept. */
static int become_daemon(struct shim *s)
{
    int null = open("/dev/null", O_RDWR);
    if (setsid() < 0 || prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || chdir(s->args.state_dir) < 0 || null < 0)
        return -1;
    for (int fd = 0; fd < 3; fd++)
        if (null != fd)
            dup2(null, fd);
    if (null > 2)
        close(null);
    close_other_fds(s);
    umask(0077);
    return 0;
}

static int setup_signals(struct shim *s)
{
    sigset_t set;
    int ignored[] = {SIGPIPE, SIGHUP, SIGINT, SIGTERM};
    for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
        signal(ignored[i], SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    s->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    return s->sig_fd < 0 ? -1 : 0;
}

static void init_paths(struct shim *s)
{
    const char *d = s->args.state_dir;
    /* Sockets are named short, whatever the length of the state path (sun_path holds 108 bytes): the shim
     * binds relative to its working directory, the state dir, and the runtime reaches the console socket
     * through /proc/<shim>/cwd. */
    s->attach_path = xasprintf("attach");
    s->console_path = xasprintf("/proc/%d/cwd/console.sock", (int)getpid());
    s->pid_path = xasprintf("%s/pid", d);
    s->exit_path = xasprintf("%s/exit", d);
    s->runtime_log_path = xasprintf("%s/runtime.log", d);
}

static void write_pid_files(struct shim *s)
{
    char *path = xasprintf("%s/shim.pid", s->args.state_dir);
    char *pid = xasprintf("%d", (int)getpid());
    if (file_write_atomic(path, pid, strlen(pid), 0600, false, NULL) < 0)
        fail(s, "cannot write shim.pid");
    free(path);
    free(pid);
}

/* The clients handed over at birth (--attach-fd) are there before the process runs: they miss nothing. */
static void adopt_first_clients(struct shim *s)
{
    for (size_t i = 0; i < s->args.n_attach_fds; i++) {
        int fd = s->args.attach_fds[i];
        int fl = fcntl(fd, F_GETFL);
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        if (fl >= 0)
            fcntl(fd, F_SETFL, fl | O_NONBLOCK);
        shim_attach_adopt(s, fd);
    }
}

static void write_exit_file(struct shim *s, int code)
{
    char now[48], line[128];
    time_format_rfc3339_nano(now_ns(), now, sizeof(now));
    int n = snprintf(line, sizeof(line), "{\"exit_code\":%d,\"exited_at\":\"%s\"}\n", code, now);
    file_write_atomic(s->exit_path, line, (size_t)n, 0600, false, NULL);
}

static void serve(struct shim *s)
{
    char *msg = NULL;
    char line[64];
    if (shim_attach_listen(s) < 0)
        fail(s, "cannot listen on the attach socket");
    if (s->args.log_file != NULL) {
        if (shim_log_open(&s->log, s->args.log_file, s->args.log_max_size, s->args.log_max_file) == 0)
            s->log.cri = s->args.log_cri;
        else
            fail(s, "cannot open the log file");
        s->has_log = true;
    }
    adopt_first_clients(s);
    if (shim_runtime_run(s, &msg) < 0)
        fail(s, msg);
    snprintf(line, sizeof(line), "{\"pid\":%d}\n", (int)s->init_pid);
    sync_write(s, line, true);
    int code = shim_loop_run(s);
    if (s->has_log)
        shim_log_close(&s->log);
    write_exit_file(s, code);
    shim_attach_finish(s, code);
    cleanup_sockets(s);
}

int main(int argc, char **argv)
{
    struct shim s;
    const char *msg = NULL;
    memset(&s, 0, sizeof(s));
    s.sig_fd = s.attach_fd = s.out_fd = s.err_fd = s.in_fd = s.console_fd = -1;
    if (shim_args_parse(&s.args, argc, argv, &msg) < 0) {
        fprintf(stderr, "isulad-shim: %s\n", msg);
        return 2;
    }
    s.sync_fd = s.args.sync_fd;
    if (s.sync_fd >= 0)
        fcntl(s.sync_fd, F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "isulad-shim: fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid > 0)
        _exit(0);
    init_paths(&s);
    if (become_daemon(&s) < 0 || setup_signals(&s) < 0)
        fail(&s, "cannot set up the shim process");
    write_pid_files(&s);
    serve(&s);
    return 0;
}
