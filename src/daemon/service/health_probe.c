/*
 * One health probe's steps (HC-10..HC-20), run by the scheduler thread of health.c: start the check command as
 * an exec through its own isulad-shim (its output into a small json-file log in the exec's dir), then, when
 * the shim is gone or the timeout passed (the probe is killed), record the result in the container's
 * State.Health under the container's lock: the last 5 results, the failing streak, the status and its
 * `health_status: <status>` event. A paused container's probes wait for its unpause. Also the service's
 * entry points service_health_*.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/service/health_internal.h"
#include "daemon/spec/spec.h"

#define HEALTH_LOG_MAX 5
#define HEALTH_OUTPUT_MAX 4096
#define SEC 1000000000LL

static void kill_probe(struct health_probe *p)
{
    if (p->proc_pidfd >= 0)
        syscall(SYS_pidfd_send_signal, p->proc_pidfd, SIGKILL, NULL, 0);
}

void health_probe_free(struct health_probe *p)
{
    if (p->shim_pidfd >= 0) { /* a probe of a run that ended, or of a daemon going down */
        kill_probe(p);
        close(p->shim_pidfd);
        rm_rf_soon(p->dir, NULL);
    }
    if (p->proc_pidfd >= 0)
        close(p->proc_pidfd);
    container_unref(p->c);
    json_decref(p->cmd);
    free(p->process_text);
    free(p->dir);
    free(p);
}

/* The check's output: the "log" fields of the shim's json-file log, at most HEALTH_OUTPUT_MAX bytes. */
static char *read_output(const char *dir)
{
    cleanup_free char *path = xasprintf("%s/output.log", dir);
    cleanup_free char *text = read_file(path, 1 << 20, NULL, NULL);
    struct buf b = {0};
    char *line = text, *nl;
    while (line != NULL && *line != '\0' && b.len < HEALTH_OUTPUT_MAX) {
        cleanup_json json_t *j = NULL;
        const char *s;
        nl = strchr(line, '\n');
        j = json_parse(line, nl != NULL ? (size_t)(nl - line) : strlen(line), NULL);
        s = json_get_str(j, "log");
        if (s != NULL)
            buf_append(&b, s, strlen(s) < HEALTH_OUTPUT_MAX - b.len ? strlen(s) : HEALTH_OUTPUT_MAX - b.len);
        line = nl != NULL ? nl + 1 : NULL;
    }
    buf_append(&b, "", 0);
    return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

static const char *next_status(struct health_probe *p, json_t *h, int code, long long start_ns)
{
    const char *status = json_get_str(h, "Status");
    long long streak = json_get_int(h, "FailingStreak", 0);
    if (code == 0) {
        json_object_set_new(h, "FailingStreak", json_integer(0));
        return "healthy";
    }
    /* failures within the start period do not count while the container has not been healthy yet */
    if (start_ns - p->run_started_ns < p->start_period_ns && streq(status, "starting"))
        return status;
    json_object_set_new(h, "FailingStreak", json_integer(++streak));
    return streak >= p->retries ? "unhealthy" : status;
}

/* Records one result; container lock held. */
static void record(struct health_probe *p, int code, const char *output, long long start_ns)
{
    struct container *c = p->c;
    json_t *h = c->health, *log;
    cleanup_free char *start = time_rfc3339_nano(start_ns);
    cleanup_free char *end = time_rfc3339_nano(now_ns());
    cleanup_free char *old = NULL;
    const char *status;
    if (h == NULL)
        return;
    old = xstrdup(json_get_str(h, "Status"));
    log = json_object_get(h, "Log");
    if (!json_is_array(log))
        json_object_set_new(h, "Log", log = json_array());
    json_array_append_new(
        log, json_pack("{s:s, s:s, s:i, s:s}", "Start", start, "End", end, "ExitCode", code, "Output", output));
    while (json_array_size(log) > HEALTH_LOG_MAX)
        json_array_remove(log, 0);
    status = next_status(p, h, code, start_ns);
    json_object_set_new(h, "Status", json_string(status));
    if (!streq(old, status)) {
        cleanup_free char *action = xasprintf("health_status: %s", status);
        service_container_event(c, action, NULL);
        if (streq(status, "unhealthy") && p->exit_on_unhealthy && c->pidfd >= 0) {
            log_info("container `%s` is unhealthy: killed (--health-exit-on-unhealthy)", c->id);
            syscall(SYS_pidfd_send_signal, c->pidfd, SIGKILL, NULL, 0);
        }
        container_save(c, false, NULL); /* the record keeps the state; the log of each probe stays in memory */
    }
}

/* Whether p still checks the current run of its container: 1 running, 0 paused, -1 gone (p is cancelled). */
static int run_state(struct health_probe *p)
{
    const struct container *c = p->c;
    if (c->removed || c->started_ns != p->run_started_ns || !(c->status == CT_RUNNING || c->status == CT_PAUSED)) {
        p->cancelled = true;
        return -1;
    }
    return c->status == CT_RUNNING ? 1 : 0;
}

static void end_run(struct health_probe *p, bool killed)
{
    close(p->shim_pidfd);
    if (p->proc_pidfd >= 0)
        close(p->proc_pidfd);
    p->shim_pidfd = p->proc_pidfd = -1;
    if (killed)
        rm_rf_soon(p->dir, NULL); /* its shim may still write there */
    else
        rm_rf(p->dir, NULL); /* a few small files: no background thread per probe */
    p->due_ns = now_ns() + p->interval_ns;
}

static int read_exit(struct health_probe *p, int *ret_code, long long *ret_ns)
{
    struct runtime rt;
    service_runtime_driver(p->d, &rt);
    return rt.ops->read_exit(&rt, p->dir, ret_code, ret_ns);
}

static void finish(struct health_probe *p)
{
    int code = -1;
    long long ns;
    cleanup_free char *output = NULL;
    bool timed_out = !p->exited;
    if (timed_out)
        kill_probe(p); /* HC-12: a timeout kills the probe */
    else if (read_exit(p, &code, &ns) < 0)
        code = -1;
    output = timed_out ? xasprintf("Health check exceeded timeout (%llds)", p->timeout_ns / SEC) : read_output(p->dir);
    pthread_mutex_lock(&p->c->lock);
    /* a probe that hung because the container was paused is not a failure: checks resume after the unpause */
    if (run_state(p) > 0)
        record(p, code, output, p->start_ns);
    pthread_mutex_unlock(&p->c->lock);
    end_run(p, timed_out);
}

/* process.json of the probe: made from the bundle's spec once per run of the container, then copied. */
static int write_process(struct health_probe *p, const char *state_dir, bool external, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("%s/process.json", p->dir);
    if (p->process_text == NULL) {
        cleanup_free char *spec_path = xasprintf("%s/config.json", state_dir);
        cleanup_json json_t *spec = json_load_path(spec_path, 1 << 20, err);
        cleanup_json json_t *body = json_pack("{s:O, s:b}", "Cmd", p->cmd, "Tty", 0);
        cleanup_json json_t *proc = NULL;
        if (spec == NULL)
            return -1;
        proc = spec_exec_process(spec, body, external ? "/" : json_get_str(json_object_get(spec, "root"), "path"), err);
        if (proc == NULL)
            return -1;
        p->process_text = json_to_string(proc);
    }
    if (mkdir_p(p->dir, 0700, err) < 0)
        return -1;
    return write_file_atomic(path, p->process_text, strlen(p->process_text), 0600, false, err);
}

static int spawn(struct health_probe *p, const char *runtime, const char *state_dir, bool external,
                 struct isd_error **err)
{
    struct runtime rt;
    cleanup_free char *root = NULL;
    cleanup_free char *proc = xasprintf("%s/process.json", p->dir);
    cleanup_free char *log = xasprintf("%s/output.log", p->dir);
    struct shim_request rq = {.id = p->c->id,
                              .bundle = state_dir,
                              .state_dir = p->dir,
                              .exec_process = proc,
                              .log_file = log,
                              .log_max_size = 64 * 1024};
    pid_t pid = 0, shim_pid = 0;
    if (service_runtime(p->d, runtime, &rt, &root, err) < 0 || write_process(p, state_dir, external, err) < 0)
        return -1;
    if (rt.ops->shim_start(&rt, &rq, &pid, &shim_pid, err) < 0)
        return -1;
    /* a quick check may be over (and its shim gone) already: then nothing is left to kill, and a readable
     * eventfd stands for the shim's pidfd, so the next poll settles the probe */
    p->proc_pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    p->shim_pidfd = (int)syscall(SYS_pidfd_open, shim_pid, 0);
    if (p->shim_pidfd < 0 && errno == ESRCH)
        p->shim_pidfd = eventfd(1, EFD_CLOEXEC);
    if (p->shim_pidfd < 0)
        return isd_error_errno(err, "pidfd_open of the health probe's shim");
    return 0;
}

static void launch(struct health_probe *p)
{
    cleanup_free char *runtime = NULL;
    cleanup_free char *state_dir = NULL;
    struct isd_error *err = NULL;
    bool external;
    int st;
    pthread_mutex_lock(&p->c->lock);
    st = run_state(p);
    runtime = xstrdup(p->c->runtime);
    state_dir = xstrdup(p->c->state_dir);
    external = p->c->external_rootfs != NULL;
    pthread_mutex_unlock(&p->c->lock);
    if (st <= 0) { /* gone, or paused: look again after an interval */
        p->due_ns = now_ns() + p->interval_ns;
        return;
    }
    free(p->dir);
    p->dir = xasprintf("%s/exec/health-%lu", state_dir, ++p->seq);
    p->start_ns = now_ns();
    p->exited = false;
    if (spawn(p, runtime, state_dir, external, &err) == 0) {
        p->deadline_ns = now_ns() + p->timeout_ns;
        return;
    }
    if (p->shim_pidfd >= 0)
        close(p->shim_pidfd);
    if (p->proc_pidfd >= 0)
        close(p->proc_pidfd);
    p->shim_pidfd = p->proc_pidfd = -1;
    pthread_mutex_lock(&p->c->lock);
    if (run_state(p) > 0)
        record(p, -1, err != NULL ? err->msg : "health check could not start", p->start_ns);
    pthread_mutex_unlock(&p->c->lock);
    isd_error_free(err);
    rm_rf(p->dir, NULL);
    p->due_ns = now_ns() + p->interval_ns;
}

void health_probe_step(struct health_probe *p)
{
    if (p->shim_pidfd >= 0)
        finish(p);
    else
        launch(p);
}

/* The exec's command of a Healthcheck.Test: ["CMD", args...], ["CMD-SHELL", "cmd"]; NULL for none/"NONE". */
static json_t *probe_cmd(const json_t *test)
{
    const char *kind = json_string_value(json_array_get(test, 0));
    json_t *cmd;
    if (kind == NULL || streq(kind, "NONE") || json_array_size(test) < 2)
        return NULL;
    if (streq(kind, "CMD-SHELL"))
        return json_pack("[s, s, O]", "/bin/sh", "-c", json_array_get(test, 1));
    cmd = json_array();
    for (size_t i = streq(kind, "CMD") ? 1 : 0; i < json_array_size(test); i++)
        json_array_append(cmd, json_array_get(test, i));
    return cmd;
}

static long long duration_or(const json_t *hc, const char *key, long long dflt)
{
    long long v = json_get_int(hc, key, 0);
    return v > 0 ? v : dflt; /* HC-18: 0 takes the default */
}

void service_health_watch(struct daemon *d, struct container *c)
{
    const json_t *hc = json_object_get(c->config, "Healthcheck");
    json_t *cmd = probe_cmd(json_object_get(hc, "Test"));
    struct health_probe *p;
    if (cmd == NULL || d->health == NULL) {
        json_decref(c->health);
        c->health = NULL;
        return;
    }
    p = xcalloc(1, sizeof(*p));
    p->d = d;
    p->c = container_ref(c);
    p->run_started_ns = c->started_ns;
    p->cmd = cmd;
    p->interval_ns = duration_or(hc, "Interval", 30 * SEC);
    p->timeout_ns = duration_or(hc, "Timeout", 30 * SEC);
    p->start_period_ns = duration_or(hc, "StartPeriod", 0);
    p->retries = (int)duration_or(hc, "Retries", 3);
    p->exit_on_unhealthy = json_get_bool(hc, "ExitOnUnhealthy", false);
    p->shim_pidfd = p->proc_pidfd = -1;
    p->due_ns = now_ns() + p->interval_ns;
    /* HC-10, HC-19: right after a start (or a daemon restart) the status is `starting` */
    json_decref(c->health);
    c->health = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
    health_sched_add(d->health, p);
}

void service_health_unwatch(struct daemon *d, struct container *c)
{
    if (d->health != NULL)
        health_sched_cancel(d->health, c);
}

int service_health_init(struct daemon *d, struct isd_error **err)
{
    d->health = health_sched_new(err);
    return d->health != NULL ? 0 : -1;
}

void service_health_shutdown(struct daemon *d)
{
    health_sched_free(d->health);
    d->health = NULL;
}
