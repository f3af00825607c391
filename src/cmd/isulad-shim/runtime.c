/*
 * Runs `runtime create` or `runtime exec --detach` with the container's stdio wired (pipes, or a
 * console socket that receives the pty master), waits for it, and reads the container pid. On
 * failure the reason comes from the runtime's JSON log (`--log ... --log-format json`), else from
 * what it wrote on stderr. Not thread-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/isulad-shim/json_reader.h"
#include "cmd/isulad-shim/shim.h"

#define ERR_CAPTURE_MAX 65536

struct child_stdio {
    int in, out, err; /* the runtime's ends */
    int err_read;     /* where its error text can be read back (no tty: the container's stderr) */
};

static int console_listen(struct shim *s)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", s->console_path);
    unlink(s->console_path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Accepts one connection on the console socket and takes the fd it carries. */
static int console_receive(int listen_fd)
{
    char name[256];
    struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
    struct timeval tv = {.tv_sec = 5};
    int fd = -1;
    int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return -1;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (recvmsg(c, &m, MSG_CMSG_CLOEXEC) > 0) {
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h != NULL; h = CMSG_NXTHDR(&m, h)) {
            if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS && h->cmsg_len >= CMSG_LEN(sizeof(int)))
                memcpy(&fd, CMSG_DATA(h), sizeof(int));
        }
    }
    close(c);
    return fd;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Creates the pipes of the non-tty case (or the stderr capture of the tty case). */
static int setup_stdio(struct shim *s, struct child_stdio *c)
{
    int p[2];
    c->in = c->out = c->err = c->err_read = -1;
    if (s->args.terminal || !s->args.open_stdin) {
        c->in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    } else if (pipe2(p, O_CLOEXEC) == 0) {
        c->in = p[0];
        s->in_fd = p[1];
        set_nonblock(s->in_fd);
    }
    if (s->args.terminal) {
        c->out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    } else if (pipe2(p, O_CLOEXEC) == 0) {
        c->out = p[1];
        s->out_fd = p[0];
    }
    if (pipe2(p, O_CLOEXEC) == 0) {
        c->err = p[1];
        c->err_read = p[0];
        if (!s->args.terminal)
            s->err_fd = p[0];
    }
    if (c->in < 0 || c->out < 0 || c->err < 0)
        return -1;
    set_nonblock(c->err_read);
    if (s->out_fd >= 0)
        set_nonblock(s->out_fd);
    return 0;
}

static char **build_argv(struct shim *s)
{
    size_t n = 0;
    char **v = xrealloc(NULL, (s->args.n_runtime_args + 24) * sizeof(char *));
    v[n++] = s->args.runtime;
    for (size_t i = 0; i < s->args.n_runtime_args; i++)
        v[n++] = s->args.runtime_args[i];
    v[n++] = "--root", v[n++] = s->args.runtime_root;
    v[n++] = "--log", v[n++] = s->runtime_log_path, v[n++] = "--log-format", v[n++] = "json";
    if (s->args.exec_process != NULL) {
        v[n++] = "exec", v[n++] = "--process", v[n++] = s->args.exec_process;
        v[n++] = "--pid-file", v[n++] = s->pid_path, v[n++] = "--detach";
    } else {
        if (s->args.start)
            v[n++] = "run", v[n++] = "--detach";
        else
            v[n++] = "create";
        v[n++] = "--bundle", v[n++] = s->args.bundle;
        v[n++] = "--pid-file", v[n++] = s->pid_path;
    }
    if (s->args.terminal)
        v[n++] = "--console-socket", v[n++] = s->console_path;
    v[n++] = s->args.id;
    v[n] = NULL;
    return v;
}

/* The runtime's umask: --umask when given (an exec's: runc 1.1 hands it to the exec'd process); 0022 for a
 * create, because runc makes the container's cgroup directories with it, and 0700 ones (the shim's own 0077)
 * keep a non-root user of the container from reading its own limits under /sys/fs/cgroup; -1: the shim's. */
static int runtime_umask(const struct shim *s)
{
    if (s->args.umask >= 0)
        return s->args.umask;
    return s->args.exec_process == NULL ? 0022 : -1;
}

static pid_t spawn(char **argv, const struct child_stdio *c, int mask)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int sigs[] = {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        signal(sigs[i], SIG_DFL);
    if (dup2(c->in, 0) < 0 || dup2(c->out, 1) < 0 || dup2(c->err, 2) < 0)
        _exit(127);
    if (mask >= 0)
        umask((mode_t)mask);
    execvp(argv[0], argv);
    dprintf(2, "cannot run runtime `%s`: %s\n", argv[0], strerror(errno));
    _exit(127);
}

static void capture(int fd, struct buf *b)
{
    char buf[4096];
    ssize_t r;
    while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0) {
        if (buf_size(b) + (size_t)r <= ERR_CAPTURE_MAX)
            buf_append(b, buf, (size_t)r);
    }
}

static void drain_signalfd(int fd)
{
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == sizeof(si)) {
    }
}

/* Waits for the runtime, taking the pty master and (tty) its stderr meanwhile. */
static int runtime_wait(struct shim *s, pid_t pid, int console, const struct child_stdio *c, struct buf *errout)
{
    int status = 0;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        struct pollfd p[3] = {{.fd = s->sig_fd, .events = POLLIN},
                              {.fd = s->console_fd < 0 ? console : -1, .events = POLLIN},
                              {.fd = s->args.terminal ? c->err_read : -1, .events = POLLIN}};
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            return -1;
        if (p[0].revents)
            drain_signalfd(s->sig_fd);
        if (p[1].revents)
            s->console_fd = console_receive(console);
        if (p[2].revents)
            capture(c->err_read, errout);
    }
    if (console >= 0 && s->console_fd < 0)
        s->console_fd = console_receive(console);
    return status;
}

/* A message for one line: control characters (newlines in a runtime's text) become spaces. */
static char *one_line(char *msg)
{
    for (char *p = msg; p != NULL && *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return msg;
}

/* The message of one runtime.log line when its level is error or fatal, else NULL. */
static char *log_line_error(const char *line, size_t len)
{
    char *level = NULL, *msg = NULL;
    bool error;
    if (shim_json_object_string(line, len, "level", &level) != 1)
        return NULL;
    error = strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0;
    free(level);
    if (!error || shim_json_object_string(line, len, "msg", &msg) != 1)
        return NULL;
    return one_line(msg);
}

/* The last error-level message of the runtime's JSON log, or NULL. */
static char *runtime_log_error(const char *path)
{
    char *msg = NULL, *line = NULL, *m;
    size_t cap = 0;
    ssize_t n;
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return NULL;
    while ((n = getline(&line, &cap, f)) > 0) {
        if ((m = log_line_error(line, (size_t)n)) != NULL) {
            free(msg);
            msg = m;
        }
    }
    free(line);
    fclose(f);
    return msg;
}

/* The first line of captured stderr that looks like an error, else its first non-empty line. */
static char *stderr_reason(struct buf *b)
{
    char *first = NULL, *save = NULL;
    buf_append(b, "", 1);
    for (char *l = strtok_r(b->data + b->off, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        const char *m = strstr(l, "msg=\"");
        char *text = NULL;
        /* logrus text format: level=error msg="..." (Go quoting, JSON's escapes for what runtimes print) */
        if (m != NULL && shim_json_string_decode(m + 4, strlen(m + 4), &text, NULL) == 0)
            return one_line(text);
        if (strcasestr(l, "error") != NULL || strcasestr(l, "incorrect") != NULL || strcasestr(l, "cannot") != NULL ||
            strcasestr(l, "not ") != NULL)
            return xstrdup(l);
        if (first == NULL && l[strspn(l, " \t\r")] != 0)
            first = l;
    }
    return first != NULL ? xstrdup(first) : NULL;
}

static char *failure_reason(struct shim *s, int status, struct buf *errout)
{
    char *r = runtime_log_error(s->runtime_log_path);
    if (r == NULL)
        r = stderr_reason(errout);
    if (r != NULL)
        return r;
    if (WIFSIGNALED(status))
        return xasprintf("runtime `%s` killed by signal %d", s->args.runtime, WTERMSIG(status));
    return xasprintf("runtime `%s` exited with status %d", s->args.runtime, WEXITSTATUS(status));
}

static pid_t read_pid_file(const char *path)
{
    char buf[32] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    long v = r > 0 ? strtol(buf, NULL, 10) : -1;
    return v > 0 ? (pid_t)v : -1;
}

static void close_child_ends(struct child_stdio *c)
{
    if (c->in >= 0)
        close(c->in);
    if (c->out >= 0)
        close(c->out);
    if (c->err >= 0)
        close(c->err);
    c->in = c->out = c->err = -1;
}

static int runtime_finish(struct shim *s, int status, struct child_stdio *c, struct buf *errout, char **ret_msg)
{
    if (status != 0 || !WIFEXITED(status)) {
        capture(c->err_read, errout);
        *ret_msg = failure_reason(s, status, errout);
        return -1;
    }
    if (s->args.terminal && s->console_fd < 0) {
        *ret_msg = xstrdup("runtime did not send the console of the container");
        return -1;
    }
    s->init_pid = read_pid_file(s->pid_path);
    if (s->init_pid <= 0) {
        *ret_msg = xasprintf("cannot read the container pid from `%s`", s->pid_path);
        return -1;
    }
    if (s->args.terminal) {
        s->out_fd = s->console_fd;
        s->console_fd = -1;
        set_nonblock(s->out_fd);
        if (s->args.open_stdin)
            s->in_fd = fcntl(s->out_fd, F_DUPFD_CLOEXEC, 3);
        close(c->err_read);
    }
    return 0;
}

int shim_runtime_run(struct shim *s, char **ret_msg)
{
    struct child_stdio c;
    struct buf errout = {0};
    int console = -1, ret = -1;
    unlink(s->pid_path);
    unlink(s->runtime_log_path);
    if (s->args.terminal && (console = console_listen(s)) < 0) {
        *ret_msg = xasprintf("cannot create the console socket: %s", strerror(errno));
        return -1;
    }
    char **argv = build_argv(s);
    pid_t pid = -1;
    if (setup_stdio(s, &c) == 0)
        pid = spawn(argv, &c, runtime_umask(s));
    close_child_ends(&c);
    if (pid < 0) {
        *ret_msg = xasprintf("cannot start the runtime: %s", strerror(errno));
        goto out;
    }
    int status = runtime_wait(s, pid, console, &c, &errout);
    ret = runtime_finish(s, status, &c, &errout, ret_msg);
out:
    if (console >= 0)
        close(console);
    unlink(s->console_path);
    buf_free(&errout);
    free(argv);
    return ret;
}
