/* Exec: processes started in a running container through their own shim (docs/design/shim.md). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/container/exec_store.h"
#include "daemon/runtime/attach.h"
#include "daemon/service/internal.h"
#include "daemon/spec/spec.h"

int service_exec_create(struct daemon *d, const char *ref, const json_t *body, char **ret_id, struct isd_error **err)
{
    struct container *c;
    struct exec *e;
    json_t *cmd = json_object_get(body, "Cmd");
    if (!json_is_array(cmd) || json_array_size(cmd) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "No exec command specified");
    c = service_lookup_locked(d, ref, err);
    if (c == NULL)
        return -1;
    if (c->status != CT_RUNNING) {
        isd_error_set(err, ISD_ERR_CONFLICT, 0,
                      c->status == CT_PAUSED ? "Container %s is paused, unpause the container before exec"
                                             : "Container %s is not running",
                      c->id);
        pthread_mutex_unlock(&c->lock);
        container_unref(c);
        return -1;
    }
    e = xcalloc(1, sizeof(*e));
    e->id = random_hex(64);
    e->c = c;
    e->body = json_deep_copy(body);
    e->dir = xasprintf("%s/exec/%.16s", c->state_dir, e->id);
    pthread_mutex_unlock(&c->lock);
    exec_store_add(d->execs, e);
    *ret_id = xstrdup(e->id);
    return 0;
}

int service_exec_start_check(struct daemon *d, const char *exec_id, bool *ret_tty, struct isd_error **err)
{
    struct exec *e;
    int rc = 0;
    pthread_mutex_lock(&d->execs->lock);
    e = exec_store_find(d->execs, exec_id);
    if (e == NULL)
        rc = isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such exec instance: %s", exec_id);
    else if (e->started)
        rc = isd_error_set(err, ISD_ERR_CONFLICT, 0, "Exec %s has already been started", exec_id);
    else
        *ret_tty = json_get_bool(e->body, "Tty", false);
    pthread_mutex_unlock(&d->execs->lock);
    return rc;
}

/* ret_umask: the process's umask in octal ("" when the spec has none): runc exec hands its own umask to the
 * process, so the shim sets it on runc (the container's init gets it from config.json). */
static int write_process(struct exec *e, char ret_umask[8], struct isd_error **err)
{
    cleanup_free char *spec_path = xasprintf("%s/config.json", e->c->state_dir);
    cleanup_json json_t *spec = json_load_path(spec_path, 1 << 20, err);
    cleanup_json json_t *proc = NULL;
    cleanup_free char *path = xasprintf("%s/process.json", e->dir);
    const char *rootfs;
    json_t *um;
    if (spec == NULL)
        return -1;
    /* an external rootfs takes its users from the host's files (guide C-create-03), as at start */
    rootfs = e->c->external_rootfs != NULL ? "/" : json_get_str(json_object_get(spec, "root"), "path");
    proc = spec_exec_process(spec, e->body, rootfs, err);
    if (proc == NULL || mkdir_p(e->dir, 0700, err) < 0)
        return -1;
    /* an exec's own user replaces the groups: add the container's --group-add again, as Docker does */
    if (json_get_str(e->body, "User") != NULL && json_get_str(e->body, "User")[0] != '\0' &&
        spec_user_group_add(e->c->host_config, rootfs, json_object_get(proc, "user"), err) < 0)
        return -1;
    um = json_object_get(json_object_get(proc, "user"), "umask");
    ret_umask[0] = '\0';
    if (json_is_integer(um) && json_integer_value(um) >= 0 && json_integer_value(um) <= 0777)
        snprintf(ret_umask, 8, "%04o", (unsigned)json_integer_value(um));
    return json_write_path(path, proc, false, err);
}

/* moby records ExitCode 126 for every exec whose process could not be started, a missing command included
 * (its "exec failed" path sets no other code); isula reads the cause from the StartError extension. */
#define EXEC_START_FAILED_EXIT 126

static int send_resize(const char *dir, int height, int width, struct isd_error **err)
{
    cleanup_close int fd = runtime_attach_connect(dir, err);
    if (fd < 0)
        return -1;
    return runtime_attach_send_resize(fd, height, width, err);
}

/* The client may resize as soon as the start answer arrives, before the shim listens: such a size is kept
 * and sent here, once connected. */
static void attached(struct daemon *d, struct exec *e)
{
    int h, w;
    pthread_mutex_lock(&d->execs->lock);
    e->attached = true;
    h = e->pending_h;
    w = e->pending_w;
    pthread_mutex_unlock(&d->execs->lock);
    if (h > 0 && w > 0)
        send_resize(e->dir, h, w, NULL);
}

static int run_exec(struct daemon *d, struct exec *e, int client_fd, struct isd_error **err)
{
    struct runtime rt;
    cleanup_free char *root = NULL;
    cleanup_free char *proc = xasprintf("%s/process.json", e->dir);
    struct shim_request rq = {.id = e->c->id, .bundle = e->c->state_dir, .state_dir = e->dir, .exec_process = proc};
    cleanup_close int shim_fd = -1;
    int sp[2] = {-1, -1};
    pid_t pid = 0;
    int code = -1, rc;
    char um[8] = "";
    rq.terminal = json_get_bool(e->body, "Tty", false);
    rq.open_stdin = json_get_bool(e->body, "AttachStdin", false) && client_fd >= 0;
    if (service_runtime(d, e->c->runtime, &rt, &root, err) < 0 || write_process(e, um, err) < 0)
        return -1;
    rq.umask = um[0] != '\0' ? um : NULL;
    /* An attached exec: the shim gets its client at birth, so nothing the process writes is missed. */
    if (client_fd >= 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
        return isd_error_errno(err, "socketpair");
    shim_fd = sp[0];
    rq.attach_fds = &sp[1];
    rq.n_attach_fds = client_fd >= 0 ? 1 : 0;
    rc = rt.ops->shim_start(&rt, &rq, &pid, NULL, err);
    if (sp[1] >= 0)
        close(sp[1]);
    if (rc < 0)
        return -1;
    if (client_fd < 0) {
        e->pid = pid;
        return 0;
    }
    attached(d, e);
    e->pid = pid;
    runtime_attach_proxy(client_fd, shim_fd, rq.terminal, rq.open_stdin, e->end_tty_input,
                         json_get_bool(e->body, "AttachStdout", true), json_get_bool(e->body, "AttachStderr", true),
                         &code);
    if (code < 0) {
        long long ns;
        if (rt.ops->read_exit(&rt, e->dir, &code, &ns) < 0)
            code = 137;
    }
    e->exit_code = code;
    return 0;
}

int service_exec_end_tty_input(struct daemon *d, const char *exec_id)
{
    struct exec *e;
    pthread_mutex_lock(&d->execs->lock);
    e = exec_store_find(d->execs, exec_id);
    if (e != NULL && !e->started)
        e->end_tty_input = true;
    pthread_mutex_unlock(&d->execs->lock);
    return e != NULL ? 0 : -1;
}

int service_exec_start(struct daemon *d, const char *exec_id, int client_fd, struct isd_error **err)
{
    struct exec *e;
    int rc;
    pthread_mutex_lock(&d->execs->lock);
    e = exec_store_find(d->execs, exec_id);
    if (e == NULL || e->started) {
        pthread_mutex_unlock(&d->execs->lock);
        return isd_error_set(err, e ? ISD_ERR_CONFLICT : ISD_ERR_NOT_FOUND, 0, "exec %s: not found or already started",
                             exec_id);
    }
    e->started = true;
    e->running = true;
    pthread_mutex_unlock(&d->execs->lock);
    rc = run_exec(d, e, client_fd, err);
    pthread_mutex_lock(&d->execs->lock);
    if (rc < 0) {
        e->exit_code = EXEC_START_FAILED_EXIT;
        e->start_error = (*err)->code;
        e->running = false;
    } else if (client_fd >= 0) {
        e->running = false;
    }
    pthread_mutex_unlock(&d->execs->lock);
    return rc;
}

/* Docker's ExecInspect; StartError (an isula extension, docs/api.md) names the code of a start failure. */
static json_t *exec_to_json(const struct exec *e)
{
    json_t *cmd = json_object_get(e->body, "Cmd");
    json_t *args = json_array();
    const char *user = json_get_str(e->body, "User");
    json_t *j;
    for (size_t i = 1; i < json_array_size(cmd); i++)
        json_array_append(args, json_array_get(cmd, i));
    j = json_pack("{s:s, s:s, s:b, s:o, s:I, s:b, s:b, s:b, s:b, s:s, s:{s:b, s:s, s:o, s:b}}", "ID", e->id,
                  "ContainerID", e->c->id, "Running", e->running, "ExitCode",
                  e->started && !e->running ? json_integer(e->exit_code) : json_null(), "Pid", (json_int_t)e->pid,
                  "OpenStdin", json_get_bool(e->body, "AttachStdin", false), "OpenStdout",
                  json_get_bool(e->body, "AttachStdout", false), "OpenStderr",
                  json_get_bool(e->body, "AttachStderr", false), "CanRemove", false, "DetachKeys", "", "ProcessConfig",
                  "tty", json_get_bool(e->body, "Tty", false), "entrypoint",
                  json_string_value(json_array_get(cmd, 0)) ? json_string_value(json_array_get(cmd, 0)) : "",
                  "arguments", args, "privileged", json_get_bool(e->body, "Privileged", false));
    if (user != NULL && user[0] != '\0')
        json_object_set_new(json_object_get(j, "ProcessConfig"), "user", json_string(user));
    if (e->start_error != 0)
        json_object_set_new(j, "StartError", json_string(isd_error_code_name(e->start_error)));
    return j;
}

json_t *service_exec_inspect(struct daemon *d, const char *exec_id, struct isd_error **err)
{
    struct exec *e;
    json_t *j = NULL;
    pthread_mutex_lock(&d->execs->lock);
    e = exec_store_find(d->execs, exec_id);
    if (e == NULL) {
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such exec instance: %s", exec_id);
    } else {
        if (e->running && e->pid > 0) {
            long long ns;
            int code;
            struct runtime rt;
            service_runtime_driver(d, &rt);
            if (rt.ops->read_exit(&rt, e->dir, &code, &ns) == 0) {
                e->exit_code = code;
                e->running = false;
            }
        }
        j = exec_to_json(e);
    }
    pthread_mutex_unlock(&d->execs->lock);
    return j;
}

int service_exec_resize(struct daemon *d, const char *exec_id, int height, int width, struct isd_error **err)
{
    struct exec *e;
    cleanup_free char *dir = NULL;
    bool found;
    pthread_mutex_lock(&d->execs->lock);
    e = exec_store_find(d->execs, exec_id);
    found = e != NULL && (e->running || !e->started); /* the client may resize before the start is handled */
    if (found && e->attached) {
        dir = xstrdup(e->dir);
    } else if (found) {
        e->pending_h = height;
        e->pending_w = width;
    }
    pthread_mutex_unlock(&d->execs->lock);
    if (!found)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such running exec instance: %s", exec_id);
    return dir != NULL ? send_resize(dir, height, width, err) : 0;
}
