#include "daemon/runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"

static pid_t oci_shim_alive(const struct runtime *rt, const char *state_dir);

/* argv = runtime [args] --root R <verb...>; returns a NULL-terminated vector to free with strv_free. */
static char **runtime_argv(const struct runtime *rt, const char *const *verb)
{
    char **v = NULL;
    strv_append(&v, rt->path);
    for (size_t i = 0; rt->args != NULL && rt->args[i] != NULL; i++)
        strv_append(&v, rt->args[i]);
    strv_append(&v, "--root");
    strv_append(&v, rt->root);
    for (size_t i = 0; verb[i] != NULL; i++)
        strv_append(&v, verb[i]);
    return v;
}

static char *last_line(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
    char *nl = strrchr(s, '\n');
    return nl ? nl + 1 : s;
}

static int run_runtime(const struct runtime *rt, const char *const *verb, char **ret_out, struct isd_error **err)
{
    cleanup_strv char **argv = runtime_argv(rt, verb);
    cleanup_free char *out = NULL;
    cleanup_free char *errs = NULL;
    int rc = spawn_run((const char *const *)argv, NULL, &out, &errs, err);
    if (rc < 0)
        return isd_error_wrap(err, "run `%s`", rt->path);
    if (rc != 0) {
        char *msg = last_line(errs);
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s %s: %s", rt->name, verb[0],
                             *msg ? msg : "failed without a message");
    }
    if (ret_out != NULL)
        *ret_out = TAKE_PTR(out);
    return 0;
}

static void shim_argv_logs(char ***v, const struct shim_request *rq)
{
    if (rq->log_file == NULL)
        return;
    strv_append(v, "--log-file");
    strv_append(v, rq->log_file);
    if (rq->log_cri) {
        strv_append(v, "--log-format");
        strv_append(v, "cri");
    }
    if (rq->log_max_size > 0) {
        cleanup_free char *sz = xasprintf("%lld", rq->log_max_size);
        cleanup_free char *nf = xasprintf("%d", rq->log_max_file > 0 ? rq->log_max_file : 1);
        strv_append(v, "--log-max-size");
        strv_append(v, sz);
        strv_append(v, "--log-max-file");
        strv_append(v, nf);
    }
}

static char **shim_argv(const struct runtime *rt, const struct shim_request *rq)
{
    char **v = NULL;
    const char *const base[] = {
        rt->shim,         "--id",   rq->id,        "--bundle",    rq->bundle,  "--runtime", rt->path,
        "--runtime-root", rt->root, "--state-dir", rq->state_dir, "--sync-fd", "3",         NULL};
    for (size_t i = 0; base[i] != NULL; i++)
        strv_append(&v, base[i]);
    for (size_t i = 0; rt->args != NULL && rt->args[i] != NULL; i++) {
        strv_append(&v, "--runtime-arg");
        strv_append(&v, rt->args[i]);
    }
    if (rq->terminal)
        strv_append(&v, "--terminal");
    if (rq->open_stdin)
        strv_append(&v, "--stdin");
    for (size_t i = 0; i < rq->n_attach_fds; i++) {
        cleanup_free char *fd = xasprintf("%zu", 4 + i); /* after the sync fd, 3 */
        strv_append(&v, "--attach-fd");
        strv_append(&v, fd);
    }
    if (rq->start)
        strv_append(&v, "--start");
    if (rq->exec_process != NULL) {
        strv_append(&v, "--exec");
        strv_append(&v, rq->exec_process);
    }
    if (rq->umask != NULL) {
        strv_append(&v, "--umask");
        strv_append(&v, rq->umask);
    }
    shim_argv_logs(&v, rq);
    return v;
}

/* Reads one line from the sync pipe (the shim writes whole short lines). */
static int read_sync_line(int fd, char *line, size_t size, struct isd_error **err)
{
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = read(fd, line + len, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return isd_error_errno(err, "read shim sync pipe");
        if (n == 0)
            break;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    if (len == 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "isulad-shim exited without reporting a pid");
    return 0;
}

/* The runtime reports a process it could not start only as text (runc: `exec: "x": executable file not found
 * in $PATH`, `exec: "/etc/passwd": permission denied`; crun: `executable file `x` not found in $PATH: No such
 * file or directory`, `open executable: Permission denied`). This is the one place that reads it, as moby's
 * daemon does (and the docker CLI again for `docker run`): the code travels on from here. */
static enum isd_error_code process_start_code(const char *msg)
{
    if (strcasestr(msg, "executable file not found") != NULL || strcasestr(msg, "no such file or directory") != NULL)
        return ISD_ERR_COMMAND_NOT_FOUND;
    if (strcasestr(msg, "permission denied") != NULL || strcasestr(msg, "is a directory") != NULL)
        return ISD_ERR_NOT_EXECUTABLE;
    return ISD_ERR_INTERNAL;
}

static int shim_read_pid(int sync_fd, pid_t *ret_pid, struct isd_error **err)
{
    char line[4096];
    cleanup_json json_t *j = NULL;
    long long pid;
    if (read_sync_line(sync_fd, line, sizeof(line), err) < 0)
        return -1;
    j = json_parse(line, strlen(line), err);
    if (j == NULL)
        return isd_error_wrap(err, "isulad-shim sync message");
    pid = json_get_int(j, "pid", -1);
    if (pid <= 0) {
        const char *m = json_get_str(j, "message");
        if (m == NULL || *m == '\0')
            return isd_error_set(err, ISD_ERR_INTERNAL, 0, "the runtime failed to create the process");
        return isd_error_set(err, process_start_code(m), 0, "%s", m);
    }
    *ret_pid = (pid_t)pid;
    return 0;
}

static int oci_shim_start(const struct runtime *rt, const struct shim_request *rq, pid_t *ret_pid, pid_t *ret_shim_pid,
                          struct isd_error **err)
{
    int p[2], keep[1 + SHIM_ATTACH_FDS_MAX];
    cleanup_strv char **argv = NULL;
    struct spawn_opts o = {.stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .keep_fds = keep, .setsid = 1};
    cleanup_close int rd = -1;
    pid_t launcher;
    int rc, read_rc;

    if (rq->n_attach_fds > SHIM_ATTACH_FDS_MAX)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "too many attach clients for one start");
    if (mkdir_p(rq->state_dir, 0700, err) < 0)
        return -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        return isd_error_errno(err, "pipe");
    rd = p[0];
    keep[0] = p[1];
    for (size_t i = 0; i < rq->n_attach_fds; i++)
        keep[1 + i] = rq->attach_fds[i];
    o.n_keep_fds = 1 + rq->n_attach_fds;
    argv = shim_argv(rt, rq);
    o.argv = (const char *const *)argv;
    launcher = spawn_start(&o, err);
    close(p[1]);
    if (launcher < 0)
        return -1;
    /* The shim forks and its first process exits at once; the container's shim lives on and reports the pid
     * once the runtime is done. */
    read_rc = shim_read_pid(rd, ret_pid, err);
    rc = spawn_wait(launcher);
    if (rc != 0) {
        if (err != NULL) {
            isd_error_free(*err);
            *err = NULL;
        }
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "isulad-shim failed to start (exit %d)", rc);
    }
    if (read_rc < 0)
        return -1;
    if (ret_shim_pid != NULL)
        *ret_shim_pid = oci_shim_alive(rt, rq->state_dir);
    return 0;
}

static bool oci_run_detached_ok(const struct runtime *rt)
{
    const char *base = strrchr(rt->path, '/');
    return streq(base != NULL ? base + 1 : rt->path, "runc");
}

static int oci_start(const struct runtime *rt, const char *id, struct isd_error **err)
{
    const char *const verb[] = {"start", id, NULL};
    if (run_runtime(rt, verb, NULL, err) < 0) {
        if (err != NULL && *err != NULL && (*err)->code == ISD_ERR_INTERNAL)
            (*err)->code = process_start_code((*err)->msg);
        return -1;
    }
    return 0;
}

static int oci_kill(const struct runtime *rt, const char *id, int sig, bool all, struct isd_error **err)
{
    cleanup_free char *s = xasprintf("%d", sig);
    const char *const verb_all[] = {"kill", "--all", id, s, NULL};
    const char *const verb[] = {"kill", id, s, NULL};
    return run_runtime(rt, all ? verb_all : verb, NULL, err);
}

static int oci_pause(const struct runtime *rt, const char *id, struct isd_error **err)
{
    const char *const verb[] = {"pause", id, NULL};
    return run_runtime(rt, verb, NULL, err);
}

static int oci_resume(const struct runtime *rt, const char *id, struct isd_error **err)
{
    const char *const verb[] = {"resume", id, NULL};
    return run_runtime(rt, verb, NULL, err);
}

static int oci_delete(const struct runtime *rt, const char *id, bool force, struct isd_error **err)
{
    const char *const verb_force[] = {"delete", "--force", id, NULL};
    const char *const verb[] = {"delete", id, NULL};
    return run_runtime(rt, force ? verb_force : verb, NULL, err);
}

static int oci_delete_if_present(const struct runtime *rt, const char *id, struct isd_error **err)
{
    cleanup_free char *dir = xasprintf("%s/%s", rt->root, id);
    if (!path_exists(dir))
        return 0;
    return oci_delete(rt, id, true, err);
}

static int oci_pids(const struct runtime *rt, const char *id, pid_t **ret_pids, size_t *ret_n, struct isd_error **err)
{
    const char *const verb[] = {"ps", "--format", "json", id, NULL};
    cleanup_free char *out = NULL;
    cleanup_json json_t *j = NULL;
    pid_t *pids;
    size_t i;
    json_t *v;
    if (run_runtime(rt, verb, &out, err) < 0)
        return -1;
    j = json_parse(out, strlen(out), err);
    if (!json_is_array(j))
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s ps: unexpected output", rt->name);
    pids = xcalloc(json_array_size(j) + 1, sizeof(pid_t));
    json_array_foreach(j, i, v)
    {
        pids[i] = (pid_t)json_integer_value(v);
    }
    *ret_pids = pids;
    *ret_n = json_array_size(j);
    return 0;
}

static int oci_read_exit(const struct runtime *rt, const char *state_dir, int *ret_code, long long *ret_ns)
{
    (void)rt;
    cleanup_free char *path = xasprintf("%s/exit", state_dir);
    struct isd_error *err = NULL;
    cleanup_json json_t *j = json_load_path(path, 4096, &err);
    long long ns = 0;
    isd_error_free(err);
    if (j == NULL)
        return -1;
    *ret_code = (int)json_get_int(j, "exit_code", 255);
    if (time_parse_rfc3339(json_get_str(j, "exited_at"), &ns) < 0)
        ns = now_ns();
    *ret_ns = ns;
    return 0;
}

static pid_t oci_shim_alive(const struct runtime *rt, const char *state_dir)
{
    (void)rt;
    cleanup_free char *path = xasprintf("%s/shim.pid", state_dir);
    cleanup_free char *text = read_file(path, 64, NULL, NULL);
    cleanup_free char *comm_path = NULL;
    cleanup_free char *comm = NULL;
    long long pid;
    if (text == NULL)
        return 0;
    text[strcspn(text, "\n")] = '\0';
    if (parse_int64(text, &pid) < 0 || pid <= 1)
        return 0;
    comm_path = xasprintf("/proc/%lld/comm", pid);
    comm = read_file(comm_path, 256, NULL, NULL);
    if (comm == NULL || !str_has_prefix(comm, "isulad-shim"))
        return 0;
    return (pid_t)pid;
}

static int oci_shim_watch_fd(const struct runtime *rt, pid_t shim_pid)
{
    (void)rt;
    return shim_pid > 0 ? (int)syscall(SYS_pidfd_open, shim_pid, 0) : -1;
}

const struct runtime_ops runtime_oci_ops = {
    .shim_start = oci_shim_start,
    .run_detached_ok = oci_run_detached_ok,
    .start = oci_start,
    .kill = oci_kill,
    .pause = oci_pause,
    .resume = oci_resume,
    .delete = oci_delete,
    .delete_if_present = oci_delete_if_present,
    .pids = oci_pids,
    .read_exit = oci_read_exit,
    .shim_alive = oci_shim_alive,
    .shim_watch_fd = oci_shim_watch_fd,
};
