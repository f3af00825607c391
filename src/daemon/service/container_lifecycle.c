/* Container start, stop, kill, pause, remove, wait and the handling of an exit. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/events/events.h"
#include "daemon/network/network.h"
#include "daemon/service/internal.h"
#include "daemon/service/volumes.h"
#include "daemon/spec/spec.h"
#include "daemon/storage/layer_store.h"

static void wait_runtime_cleanup(struct container *c);

/* The runtime runs a container's poststop hooks when it deletes its state (in the background after an exit):
 * with a hook spec, stop and rm wait for that delete, so the hooks have run when they return. Lock held. */
static void wait_poststop_hooks(struct container *c)
{
    const char *hooks = json_get_str(c->host_config, "HookSpec");
    if (hooks != NULL && *hooks != '\0')
        wait_runtime_cleanup(c);
}

static void wait_changed(struct container *c, long long timeout_ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ns / 1000000000LL;
    ts.tv_nsec += timeout_ns % 1000000000LL;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->changed, &c->lock, &ts);
}

/* Waits (lock held, released while waiting) until c is no longer active or the timeout passes. */
static bool wait_inactive(struct container *c, long long timeout_ns)
{
    long long deadline = now_ns() + timeout_ns;
    while (container_is_active(c)) {
        long long left = deadline - now_ns();
        if (left <= 0)
            return false;
        wait_changed(c, left);
    }
    return true;
}

static void log_opts(const struct container *c, long long *ret_size, int *ret_files)
{
    json_t *cfg = json_object_get(json_object_get(c->host_config, "LogConfig"), "Config");
    long long v;
    *ret_size = 0;
    *ret_files = 1;
    if (parse_size(json_get_str(cfg, "max-size"), &v) == 0)
        *ret_size = v;
    if (parse_int64(json_get_str(cfg, "max-file"), &v) == 0 && v > 0)
        *ret_files = (int)v;
}

bool service_container_log_disabled(const struct container *c)
{
    json_t *cfg = json_object_get(json_object_get(c->host_config, "LogConfig"), "Config");
    return streq(json_get_str(cfg, "disable-log"), "true");
}

void service_spec_input(struct daemon *d, struct container *c, const char *rootfs, const json_t *config,
                        struct spec_input *in)
{
    *in = (struct spec_input){.id = c->id,
                              .config = config,
                              .host_config = c->host_config,
                              .rootfs = rootfs,
                              .container_dir = c->dir,
                              .cgroup_parent = d->cfg->cgroup_parent ? d->cfg->cgroup_parent : "/isulad",
                              .umask = d->cfg->native_umask,
                              .rootfs_is_external = c->external_rootfs != NULL,
                              .seccomp_default = d->seccomp_default,
                              .selinux_enabled = d->cfg->selinux_enabled,
                              .cdi = d->cdi};
    service_userns_map(d, c->host_config, &in->remap);
}

void service_apparmor_record(struct container *c, const json_t *spec)
{
    const char *p = json_get_str(json_object_get(spec, "process"), "apparmorProfile");
    free(c->apparmor_profile);
    c->apparmor_profile = xstrdup(p != NULL ? p : spec_apparmor_enabled() ? "unconfined" : NULL);
}

static int write_bundle(struct daemon *d, struct container *c, const char *rootfs, const char *netns,
                        struct isd_error **err)
{
    struct spec_input in;
    cleanup_json json_t *spec = NULL;
    cleanup_free char *path = xasprintf("%s/config.json", c->state_dir);
    cleanup_free char *exit_path = xasprintf("%s/exit", c->state_dir);
    struct service_ns_join join;
    cleanup_free char *shm = NULL, *net_userns = NULL;
    cleanup_json json_t *hc = service_volumes_host_config(d, c, rootfs, err);
    if (hc == NULL || service_userns_binds_attach(d, c, hc, err) < 0 || service_ns_join_resolve(d, c, &join, err) < 0)
        return -1;
    service_spec_input(d, c, rootfs, c->config, &in);
    in.host_config = hc; /* volumes resolved to host paths */
    in.netns_path = netns;
    net_userns = netns != NULL ? network_container_userns(d->network, c->id) : NULL;
    if (net_userns != NULL && join.userns_path != NULL) {
        service_ns_join_clear(&join);
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "a user-namespaced container cannot be on a network and share another container's "
                             "namespaces: each comes with its own user namespace");
    }
    in.userns_path = net_userns;
    service_ns_join_apply(&join, &in);
    if (service_ns_shm_attach(c, &join, &shm, err) < 0) {
        service_ns_join_clear(&join);
        return -1;
    }
    in.ipc_shm_path = shm;
    spec = spec_generate(&in, err);
    service_ns_join_clear(&join);
    if (spec == NULL || service_resources_prepare(spec, err) < 0)
        return -1;
    service_apparmor_record(c, spec);
    if (mkdir_p(c->state_dir, 0700, err) < 0)
        return -1;
    unlink(exit_path);
    return json_write_path(path, spec, false, err);
}

/* One connected socketpair per attach request waiting for this start: the shim gets one end of each at its
 * birth (so no output is missed and nobody waits for anybody), the requests take the other ends once the
 * shim generation moves. Lock held. */
static int make_handoff(struct container *c, int *shim_ends, struct isd_error **err)
{
    size_t n = c->pending_attach > 0 ? (size_t)c->pending_attach : 0;
    container_drop_handoff(c);
    if (n > SHIM_ATTACH_FDS_MAX)
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "too many attach requests (%zu) waiting for container %s", n,
                             c->id);
    c->handoff_fds = xcalloc(n > 0 ? n : 1, sizeof(int));
    for (size_t i = 0; i < n; i++) {
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
            for (size_t j = 0; j < i; j++)
                close(shim_ends[j]);
            container_drop_handoff(c);
            return isd_error_errno(err, "socketpair");
        }
        c->handoff_fds[c->n_handoff_fds++] = sp[0];
        shim_ends[i] = sp[1];
    }
    return (int)n;
}

/* The container's ExitCode after a failed start, as moby records it: 127 when the command is missing, 126
 * when it cannot be run (codes the runtime driver set), 128 for any other failure. */
static int start_error_exit_code(enum isd_error_code code)
{
    int exit_code = isd_error_code_exit_code(code);
    return exit_code == 126 || exit_code == 127 ? exit_code : 128;
}

static int start_fail(struct daemon *d, struct container *c, const struct runtime *rt, struct network_attach **net,
                      struct isd_error **err)
{
    network_container_attach_wait(*net, NULL); /* the plugins done before their work is undone */
    *net = NULL;
    service_ns_shm_detach(c);
    service_userns_binds_detach(c);
    rt->ops->delete_if_present(rt, c->id, NULL);
    service_volumes_detach(c);
    service_volumes_release(d, c->id);
    service_network_stop(d, c->id);
    if (c->external_rootfs == NULL)
        rootfs_umount(d->layers, c->id, NULL);
    free(c->error);
    c->error = xstrdup((*err)->msg);
    c->exit_code = start_error_exit_code((*err)->code);
    c->status = c->status == CT_CREATED ? CT_CREATED : CT_EXITED;
    container_set_pid(c, 0);
    c->shim_pid = 0;
    container_save(c, false, NULL);
    container_changed(c);
    return -1;
}

int service_container_start_locked(struct daemon *d, struct container *c, struct isd_error **err)
{
    struct runtime rt;
    cleanup_free char *rt_root = NULL;
    cleanup_free char *merged = NULL;
    cleanup_free char *netns = NULL;
    struct network_attach *net = NULL;
    struct shim_request rq = {.id = c->id, .bundle = c->state_dir, .state_dir = c->state_dir, .log_file = c->log_path};
    pid_t pid = 0, shim_pid = 0;
    int shim_ends[SHIM_ATTACH_FDS_MAX], n_ends, rc;

    if (container_is_active(c))
        return isd_error_set(err, ISD_ERR_NOT_MODIFIED, 0, "container %s is already running", c->id);
    if (c->status == CT_REMOVING || c->status == CT_DEAD) /* as moby: no start once removal has begun */
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "container %s is marked for removal and cannot be started",
                             c->id);
    wait_runtime_cleanup(c);
    if (container_is_active(c) || c->removed)
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "container %s changed while starting", c->id);
    if (service_runtime(d, c->runtime, &rt, &rt_root, err) < 0)
        return -1;
    c->rw_epoch++; /* the run writes the upper directory (mount points too, even if it fails) */
    if (service_rootfs_mount(d, c, &merged, err) < 0)
        return -1;
    long long t0 = now_ns();
    /* A pod's pause process does nothing with the network: the plugins configure the namespace while the runtime
     * creates and starts the process in it (the start answers once both are done). */
    if (service_network_start(d, c, &netns, service_pod_is_sandbox(c) ? &net : NULL, err) < 0 ||
        write_bundle(d, c, merged, netns, err) < 0)
        return start_fail(d, c, &rt, &net, err);
    if (net == NULL)
        service_network_hosts(d, c);
    long long t1 = now_ns();
    rq.terminal = json_get_bool(c->config, "Tty", false);
    rq.open_stdin = json_get_bool(c->config, "OpenStdin", false);
    /* a files limit joins the created process to its cgroup before it starts */
    rq.start = rt.ops->run_detached_ok(&rt) && !service_resources_files_limited(c);
    log_opts(c, &rq.log_max_size, &rq.log_max_file);
    if (service_container_log_disabled(c) || container_log_type_none(c))
        rq.log_file = NULL; /* disable-log=true, or LogConfig.Type none: the shim keeps no log */
    const json_t *lc = json_object_get(c->host_config, "LogConfig");
    if (streq(json_get_str(lc, "Type"), "cri")) { /* a CRI container: kubelet's path and format */
        rq.log_file = json_get_str(json_object_get(lc, "Config"), "path");
        rq.log_cri = true;
    }
    if ((n_ends = make_handoff(c, shim_ends, err)) < 0)
        return start_fail(d, c, &rt, &net, err);
    rq.attach_fds = shim_ends;
    rq.n_attach_fds = (size_t)n_ends;
    rc = rt.ops->shim_start(&rt, &rq, &pid, &shim_pid, err);
    service_ns_shm_detach(c); /* the container has its own mount of it now */
    service_userns_binds_detach(c);
    for (int i = 0; i < n_ends; i++)
        close(shim_ends[i]);
    if (rc < 0) {
        container_drop_handoff(c);
        return start_fail(d, c, &rt, &net, err);
    }
    if (service_resources_files_join(d, c, pid, err) < 0) {
        container_drop_handoff(c);
        return start_fail(d, c, &rt, &net, err);
    }
    if (!rq.start && rt.ops->start(&rt, c->id, err) < 0) {
        container_drop_handoff(c); /* start_fail's forced delete ends the created process, then its shim */
        return start_fail(d, c, &rt, &net, err);
    }
    if (net != NULL) {
        if (service_network_start_finish(d, c, &net, err) < 0) {
            container_drop_handoff(c);
            return start_fail(d, c, &rt, &net, err);
        }
        service_network_hosts(d, c);
    }
    c->shim_generation++; /* the waiting attach requests take their connections */
    service_volumes_detach(c);
    log_debug("start `%s`: bundle %.1f ms, shim and runtime %.1f ms", c->id, (double)(t1 - t0) / 1e6,
              (double)(now_ns() - t1) / 1e6);
    container_set_pid(c, pid);
    c->shim_pid = shim_pid;
    c->status = CT_RUNNING;
    c->started_ns = now_ns();
    c->exit_code = 0;
    c->manually_stopped = false;
    free(c->error);
    c->error = NULL;
    container_save(c, false, NULL);
    container_changed(c);
    service_container_event(c, "start", NULL);
    service_health_watch(d, c);
    return supervisor_watch(d->supervisor, c, rt.ops->shim_watch_fd(&rt, shim_pid), err);
}

int service_container_start(struct daemon *d, const char *ref, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    bool remove;
    int rc;
    if (c == NULL)
        return -1;
    rc = service_container_start_locked(d, c, err);
    /* As docker does: an AutoRemove container that fails to start is removed (`docker run --rm` waits for it). */
    remove = rc < 0 && !container_is_active(c) && json_get_bool(c->host_config, "AutoRemove", false);
    pthread_mutex_unlock(&c->lock);
    if (remove)
        service_container_remove(d, c->id, true, true, NULL);
    container_unref(c);
    return rc;
}

int signal_parse(const char *s)
{
    static const struct {
        const char *name;
        int sig;
    } names[] = {{"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"KILL", SIGKILL}, {"USR1", SIGUSR1},
                 {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP},   {"CONT", SIGCONT}, {"ALRM", SIGALRM},
                 {"PIPE", SIGPIPE}, {"CHLD", SIGCHLD}, {"WINCH", SIGWINCH}, {"ABRT", SIGABRT}, {"TRAP", SIGTRAP}};
    long long n;
    if (s == NULL || *s == '\0')
        return SIGKILL;
    if (parse_int64(s, &n) == 0)
        return n > 0 && n < NSIG ? (int)n : -1;
    if (strncasecmp(s, "SIG", 3) == 0)
        s += 3;
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].sig;
    return -1;
}

void service_container_event(const struct container *c, const char *action, json_t *extra)
{
    json_t *attrs = json_pack("{s:s, s:s}", "image", c->image_ref != NULL ? c->image_ref : "", "name", c->name);
    json_t *labels = json_object_get(c->config, "Labels");
    const char *k;
    json_t *v;
    json_object_foreach(labels, k, v)
    {
        if (json_is_string(v) && json_object_get(attrs, k) == NULL)
            json_object_set(attrs, k, v);
    }
    if (extra != NULL) {
        json_object_update(attrs, extra);
        json_decref(extra);
    }
    events_emit("container", action, c->id, c->image_ref, attrs);
}

void container_set_pid(struct container *c, pid_t pid)
{
    if (c->pidfd >= 0)
        close(c->pidfd);
    c->pid = pid;
    c->pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

static bool host_pid_namespace(const struct container *c)
{
    return service_ns_pid_shared(c);
}

/* Sends sig; lock held. The container's init is signalled through its pidfd, which saves a runtime call
 * (tens of ms); in a private pid namespace a SIGKILL of init takes every process of the container with it.
 * With the host's pid namespace the runtime must kill them all. */
static int kill_locked(struct daemon *d, struct container *c, int sig, struct isd_error **err)
{
    struct runtime rt;
    cleanup_free char *root = NULL;
    if (c->status == CT_RESTARTING) {
        /* no process between two runs of the restart policy: cancelling the pending restart is the kill */
        c->status = CT_EXITED;
        container_save(c, false, NULL);
        container_changed(c);
        return 0;
    }
    if (c->pidfd >= 0 && !(sig == SIGKILL && host_pid_namespace(c))) {
        if (syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) == 0 || errno == ESRCH)
            goto sent;
    }
    if (service_runtime(d, c->runtime, &rt, &root, err) < 0)
        return -1;
    if (rt.ops->kill(&rt, c->id, sig, sig == SIGKILL, err) < 0)
        return -1;
sent:
    if (c->status == CT_PAUSED && sig == SIGKILL &&
        (root != NULL || service_runtime(d, c->runtime, &rt, &root, NULL) == 0))
        rt.ops->resume(&rt, c->id, NULL);
    return 0;
}

/* kill_locked, then Docker's kill event (signal=N) when the signal went out. */
static int kill_event_locked(struct daemon *d, struct container *c, int sig, struct isd_error **err)
{
    char signum[16];
    if (kill_locked(d, c, sig, err) < 0)
        return -1;
    snprintf(signum, sizeof(signum), "%d", sig);
    service_container_event(c, "kill", json_pack("{s:s}", "signal", signum));
    return 0;
}

static int stop_locked(struct daemon *d, struct container *c, int timeout, struct isd_error **err)
{
    int sig = signal_parse(json_get_str(c->config, "StopSignal"));
    if (!json_get_str(c->config, "StopSignal") || sig < 0)
        sig = SIGTERM;
    if (timeout == SERVICE_STOP_TIMEOUT_DEFAULT)
        timeout = (int)json_get_int(c->config, "StopTimeout", 10);
    c->manually_stopped = true;
    if (c->status == CT_PAUSED)
        sig = SIGKILL;
    if (timeout < 0) { /* `stop -t -1`: no SIGKILL, wait for the exit however long it takes */
        if (kill_event_locked(d, c, sig, err) < 0)
            return -1;
        while (container_is_active(c))
            pthread_cond_wait(&c->changed, &c->lock);
        return 0;
    }
    if (kill_event_locked(d, c, sig, NULL) == 0 && wait_inactive(c, (long long)timeout * 1000000000LL))
        return 0;
    if (!container_is_active(c))
        return 0;
    if (kill_event_locked(d, c, SIGKILL, err) < 0 && container_is_active(c))
        return -1;
    if (!wait_inactive(c, 30LL * 1000000000LL))
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "container %s did not stop after SIGKILL", c->id);
    return 0;
}

int service_container_stop(struct daemon *d, const char *ref, int timeout, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    int rc = 0;
    if (c == NULL)
        return -1;
    if (!container_is_active(c))
        rc = isd_error_set(err, ISD_ERR_NOT_MODIFIED, 0, "container %s is already stopped", c->id);
    else if ((rc = stop_locked(d, c, timeout, err)) == 0) {
        wait_poststop_hooks(c);
        service_container_event(c, "stop", NULL);
    }
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}

int service_container_kill(struct daemon *d, const char *ref, const char *signal, struct isd_error **err)
{
    int sig = signal_parse(signal);
    struct container *c;
    int rc;
    if (sig < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid signal: %s", signal);
    c = service_lookup_locked(d, ref, err);
    if (c == NULL)
        return -1;
    if (!container_is_active(c)) {
        rc = isd_error_set(err, ISD_ERR_CONFLICT, 0, "Cannot kill container: %s: Container %s is not running", ref,
                           c->id);
    } else {
        c->manually_stopped = true;
        rc = kill_event_locked(d, c, sig, err);
        /* Docker waits (briefly) for the exit after a SIGKILL, so that an inspect right after sees it. */
        if (rc == 0 && sig == SIGKILL)
            wait_inactive(c, 10LL * 1000000000LL);
    }
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}

int service_container_restart(struct daemon *d, const char *ref, int timeout, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    int rc = 0;
    if (c == NULL)
        return -1;
    if (container_is_active(c) && (rc = stop_locked(d, c, timeout, err)) == 0)
        service_container_event(c, "stop", NULL);
    if (rc == 0)
        rc = service_container_start_locked(d, c, err);
    if (rc == 0)
        service_container_event(c, "restart", NULL);
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}

static int pause_resume(struct daemon *d, const char *ref, bool pause, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    struct runtime rt;
    cleanup_free char *root = NULL;
    int rc;
    if (c == NULL)
        return -1;
    if (pause && c->status != CT_RUNNING)
        rc = isd_error_set(err, ISD_ERR_CONFLICT, 0,
                           c->status == CT_PAUSED ? "Container %s is already paused" : "Container %s is not running",
                           c->id);
    else if (!pause && c->status != CT_PAUSED)
        rc = isd_error_set(err, ISD_ERR_CONFLICT, 0, "Container %s is not paused", c->id);
    else if ((rc = service_runtime(d, c->runtime, &rt, &root, err)) == 0 &&
             (rc = pause ? rt.ops->pause(&rt, c->id, err) : rt.ops->resume(&rt, c->id, err)) == 0) {
        c->status = pause ? CT_PAUSED : CT_RUNNING;
        container_save(c, false, NULL);
        container_changed(c);
        service_container_event(c, pause ? "pause" : "unpause", NULL);
    }
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}

int service_container_pause(struct daemon *d, const char *ref, struct isd_error **err)
{
    return pause_resume(d, ref, true, err);
}

int service_container_unpause(struct daemon *d, const char *ref, struct isd_error **err)
{
    return pause_resume(d, ref, false, err);
}

int service_container_remove(struct daemon *d, const char *ref, bool force, bool volumes, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    struct runtime rt;
    cleanup_free char *root = NULL;
    int rc = 0;
    if (c == NULL)
        return -1;
    if (c->status == CT_REMOVING) {
        rc = isd_error_set(err, ISD_ERR_CONFLICT, 0, "removal of container %s is already in progress", c->id);
        goto out;
    }
    if (container_is_active(c) && !force) {
        rc = isd_error_set(err, ISD_ERR_CONFLICT, 0,
                           "You cannot remove a running container %s. Stop the container before attempting removal "
                           "or force remove",
                           c->id);
        goto out;
    }
    if (container_is_active(c)) {
        c->manually_stopped = true;
        kill_locked(d, c, SIGKILL, NULL);
        if (!wait_inactive(c, 30LL * 1000000000LL)) {
            rc = isd_error_set(err, ISD_ERR_INTERNAL, 0, "container %s did not stop, not removed", c->id);
            goto out;
        }
        if (c->removed) { /* another remove ran while the lock was released */
            rc = isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such container: %s", ref);
            goto out;
        }
    }
    if (service_network_has_state(d, c->id)) {
        /* the exit's cleanup tears the network down: the user sees it gone once rm returns */
        wait_runtime_cleanup(c);
        if (c->removed) {
            rc = isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such container: %s", ref);
            goto out;
        }
        service_network_stop(d, c->id);
    }
    wait_poststop_hooks(c);
    if (c->removed) {
        rc = isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such container: %s", ref);
        goto out;
    }
    c->status = CT_REMOVING;
    /* A background runtime delete of the last run may still be going on: it needs neither the rootfs nor
     * the bundle, so removal goes ahead and leaves the runtime state to it. */
    if (!c->runtime_cleanup && service_runtime(d, c->runtime, &rt, &root, NULL) == 0)
        rt.ops->delete_if_present(&rt, c->id, NULL);
    if (c->external_rootfs == NULL && rootfs_remove(d->layers, c->id, err) < 0) {
        c->status = CT_DEAD;
        container_save(c, false, NULL);
        rc = -1;
        goto out;
    }
    service_resources_files_remove(d, c);
    service_userns_binds_detach(c); /* bind clones a crash left attached: rm_rf does not cross into mounts */
    rm_rf_soon(c->state_dir, NULL);
    rm_rf_soon(c->dir, NULL);
    c->removed = true; /* attach connections not taken yet stay: they hold the output of this last run */
    service_container_event(c, "destroy", NULL);
    container_store_remove(d->containers, c);
    exec_store_forget_container(d->execs, c);
    container_changed(c);
    if (volumes)
        service_volumes_remove_anonymous(d, c->id);
out:
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return rc;
}

bool restart_policy_wants(const json_t *host_config, int exit_code, int restart_count, bool manually_stopped)
{
    json_t *rp = json_object_get(host_config, "RestartPolicy");
    const char *name = json_get_str(rp, "Name");
    long long max = json_get_int(rp, "MaximumRetryCount", 0);
    if (name == NULL || manually_stopped)
        return false;
    if (streq(name, "always") || streq(name, "unless-stopped"))
        return true;
    if (streq(name, "on-failure"))
        return exit_code != 0 && (max <= 0 || restart_count < max);
    return false;
}

struct runtime_cleanup {
    struct daemon *d;
    struct container *c;
};

static void *runtime_cleanup_main(void *arg)
{
    struct runtime_cleanup *rc = arg;
    struct runtime rt;
    cleanup_free char *root = NULL;
    thread_lower_priority(); /* the runtime inherits it: its tens of ms of CPU yield to the next request */
    if (service_runtime(rc->d, rc->c->runtime, &rt, &root, NULL) == 0)
        rt.ops->delete (&rt, rc->c->id, true, NULL);
    service_network_stop(rc->d, rc->c->id); /* after the delete: nothing holds the namespace any more */
    pthread_mutex_lock(&rc->c->lock);
    rc->c->runtime_cleanup = false;
    container_changed(rc->c);
    pthread_mutex_unlock(&rc->c->lock);
    container_unref(rc->c);
    free(rc);
    return NULL;
}

/* The runtime's state of a dead container is deleted in the background: waiters learn of the exit at once
 * (a runtime call is tens of ms), and start/remove wait for the cleanup before they touch the runtime. */
static void schedule_runtime_cleanup(struct daemon *d, struct container *c)
{
    struct runtime_cleanup *rc = xcalloc(1, sizeof(*rc));
    rc->d = d;
    rc->c = container_ref(c);
    c->runtime_cleanup = true;
    if (thread_start_detached(runtime_cleanup_main, rc) < 0) {
        c->runtime_cleanup = false;
        container_unref(c);
        free(rc);
    }
}

/* Lock held; released while waiting. */
static void wait_runtime_cleanup(struct container *c)
{
    while (c->runtime_cleanup)
        pthread_cond_wait(&c->changed, &c->lock);
}

void service_container_exited(struct daemon *d, struct container *c)
{
    int code = 255;
    long long ns = now_ns();
    struct runtime rt;
    service_runtime_driver(d, &rt);
    if (rt.ops->read_exit(&rt, c->state_dir, &code, &ns) < 0) {
        free(c->error);
        c->error = xstrdup("isulad-shim exited without recording the exit status");
    }
    if (c->external_rootfs == NULL)
        rootfs_umount(d->layers, c->id, NULL);
    service_volumes_release(d, c->id);
    c->status = CT_EXITED;
    c->exit_code = code;
    c->finished_ns = ns;
    service_health_unwatch(d, c);
    container_set_pid(c, 0);
    c->shim_pid = 0;
    container_save(c, false, NULL);
    schedule_runtime_cleanup(d, c);
    container_changed(c);
    char ec[16];
    snprintf(ec, sizeof(ec), "%d", code);
    service_container_event(c, "die", json_pack("{s:s}", "exitCode", ec));
}

struct container_waiter {
    struct container *c;
    int mode; /* 0 not-running, 1 next-exit, 2 removed */
    long long finished_at_begin;
};

struct container_waiter *service_container_wait_begin(struct daemon *d, const char *ref, const char *condition,
                                                      struct isd_error **err)
{
    struct container_waiter *w;
    int mode = 0;
    if (condition != NULL && *condition != '\0' && !streq(condition, "not-running")) {
        if (streq(condition, "next-exit"))
            mode = 1;
        else if (streq(condition, "removed"))
            mode = 2;
        else {
            isd_error_set(err, ISD_ERR_INVALID, 0, "invalid condition: \"%s\"", condition);
            return NULL;
        }
    }
    w = xcalloc(1, sizeof(*w));
    w->c = service_lookup_locked(d, ref, err);
    if (w->c == NULL) {
        free(w);
        return NULL;
    }
    w->mode = mode;
    w->finished_at_begin = w->c->finished_ns;
    pthread_mutex_unlock(&w->c->lock);
    return w;
}

static bool waiter_done(const struct container_waiter *w)
{
    const struct container *c = w->c;
    if (c->removed)
        return true;
    switch (w->mode) {
    case 1:
        return !container_is_active(c) && c->finished_ns != w->finished_at_begin;
    case 2:
        return false;
    default:
        return !container_is_active(c);
    }
}

int service_container_wait_end(struct container_waiter *w)
{
    int code;
    pthread_mutex_lock(&w->c->lock);
    while (!waiter_done(w))
        pthread_cond_wait(&w->c->changed, &w->c->lock);
    code = w->c->exit_code;
    pthread_mutex_unlock(&w->c->lock);
    service_container_waiter_free(w);
    return code;
}

void service_container_waiter_free(struct container_waiter *w)
{
    if (w == NULL)
        return;
    container_unref(w->c);
    free(w);
}
