/*
 * A fake runtime driver (struct runtime_ops) for unit tests of the service layer: container processes "run" in
 * memory until a signal ends them. Each process has a pipe standing for its shim: the driver's shim_watch_fd
 * hands the exit supervisor a duplicate of the read end, and the process's end closes the write end, so an exit
 * reaches the service through the supervisor's own path (epoll, then the exit callback with the container
 * locked), as a real shim's exit does. Exit records are kept per state directory for read_exit.
 *
 * Signals follow a container's init in its own pid namespace: every signal but those in `ignored` ends the
 * process with 128 + signal; a paused (frozen) process keeps a signal pending until it is resumed. Execs end at
 * once with exit code 0. Thread-safe (one lock, a leaf: no callback runs under it). Use: a `struct
 * fake_runtime` set up with fake_runtime_init, then d->runtime_ops = &fake_runtime_ops, d->runtime_ctx = &fr.
 */
#ifndef ISD_TEST_FAKE_RUNTIME_H
#define ISD_TEST_FAKE_RUNTIME_H

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/base/timestamp.h"
#include "common/util.h"
#include "daemon/runtime/runtime.h"

#define FAKE_PROCS_MAX 64
/* Above any pid_max (2^22): no pidfd opens for it, so the service signals through the driver. */
#define FAKE_PID_BASE (1 << 28)

struct fake_proc {
    char *id;        /* the container id; NULL for a free slot */
    char *state_dir; /* where read_exit looks for the record */
    pid_t pid;
    bool created, running, paused, deleted;
    int pending_sig; /* a signal sent while paused */
    bool has_exit;
    int exit_code;
    long long exited_ns;
    int wfd; /* the "shim": closed when the process ends */
    int rfd; /* duplicated for the supervisor */
};

struct fake_runtime {
    pthread_mutex_t lock;
    struct fake_proc procs[FAKE_PROCS_MAX];
    int next_pid;
    bool detached;     /* run_detached_ok: create and start in one shim_start */
    int ignored;       /* a signal the processes ignore (0: none) */
    int fail_start;    /* an error code for the next start (e.g. ISD_ERR_COMMAND_NOT_FOUND), 0: none */
    int n_shim_starts; /* calls, for the tests */
    int n_deletes;
};

static inline void fake_runtime_init(struct fake_runtime *fr)
{
    memset(fr, 0, sizeof(*fr));
    pthread_mutex_init(&fr->lock, NULL);
    fr->detached = true;
}

/* Lock held. */
static struct fake_proc *fake_find(struct fake_runtime *fr, const char *id)
{
    for (size_t i = 0; i < FAKE_PROCS_MAX; i++)
        if (fr->procs[i].id != NULL && !fr->procs[i].deleted && streq(fr->procs[i].id, id))
            return &fr->procs[i];
    return NULL;
}

/* Lock held: the process ends, its "shim" with it. */
static void fake_end(struct fake_proc *p, int code)
{
    p->running = false;
    p->created = false;
    p->paused = false;
    p->has_exit = true;
    p->exit_code = code;
    p->exited_ns = now_ns();
    if (p->wfd >= 0)
        close(p->wfd);
    p->wfd = -1;
}

/* Lock held: a slot for a new process of id (one deleted or never used). */
static struct fake_proc *fake_slot(struct fake_runtime *fr, const char *id, const char *state_dir)
{
    struct fake_proc *free_slot = NULL;
    int p[2];
    for (size_t i = 0; i < FAKE_PROCS_MAX && free_slot == NULL; i++)
        if (fr->procs[i].id == NULL || fr->procs[i].deleted)
            free_slot = &fr->procs[i];
    if (free_slot == NULL || pipe2(p, O_CLOEXEC) < 0)
        return NULL;
    free(free_slot->id);
    free(free_slot->state_dir);
    if (free_slot->rfd > 0)
        close(free_slot->rfd);
    *free_slot = (struct fake_proc){.id = xstrdup(id), .state_dir = xstrdup(state_dir), .rfd = p[0], .wfd = p[1]};
    free_slot->pid = FAKE_PID_BASE + ++fr->next_pid;
    return free_slot;
}

static int fake_shim_start(const struct runtime *rt, const struct shim_request *rq, pid_t *ret_pid, pid_t *ret_shim_pid,
                           struct isd_error **err)
{
    struct fake_runtime *fr = rt->ctx;
    struct fake_proc *p;
    int rc = 0;
    pthread_mutex_lock(&fr->lock);
    fr->n_shim_starts++;
    if (rq->exec_process == NULL && fake_find(fr, rq->id) != NULL)
        rc = isd_error_set(err, ISD_ERR_INTERNAL, 0, "fake: container with id exists: %s", rq->id);
    else if (rq->exec_process == NULL && rq->start && fr->fail_start != 0)
        rc = isd_error_set(err, (enum isd_error_code)fr->fail_start, 0, "fake: cannot start %s", rq->id);
    else if ((p = fake_slot(fr, rq->exec_process ? rq->state_dir : rq->id, rq->state_dir)) == NULL)
        rc = isd_error_set(err, ISD_ERR_INTERNAL, 0, "fake: out of process slots");
    else {
        p->created = true;
        p->running = rq->start && rq->exec_process == NULL;
        if (rq->exec_process != NULL)
            fake_end(p, 0);
        *ret_pid = p->pid;
        if (ret_shim_pid != NULL)
            *ret_shim_pid = p->pid;
    }
    if (rc == 0 && rq->start)
        fr->fail_start = 0;
    pthread_mutex_unlock(&fr->lock);
    return rc;
}

static bool fake_run_detached_ok(const struct runtime *rt)
{
    return ((struct fake_runtime *)rt->ctx)->detached;
}

/* Runs op on the live process id under the lock; an unknown id is the runtime's "does not exist". */
static int fake_with(const struct runtime *rt, const char *id,
                     int (*op)(struct fake_runtime *fr, struct fake_proc *p, int arg, struct isd_error **err), int arg,
                     struct isd_error **err)
{
    struct fake_runtime *fr = rt->ctx;
    struct fake_proc *p;
    int rc;
    pthread_mutex_lock(&fr->lock);
    p = fake_find(fr, id);
    rc = p != NULL ? op(fr, p, arg, err) : isd_error_set(err, ISD_ERR_INTERNAL, 0, "fake: container does not exist");
    pthread_mutex_unlock(&fr->lock);
    return rc;
}

static int fake_op_start(struct fake_runtime *fr, struct fake_proc *p, int arg, struct isd_error **err)
{
    (void)arg;
    if (fr->fail_start != 0) {
        int code = fr->fail_start;
        fr->fail_start = 0;
        return isd_error_set(err, (enum isd_error_code)code, 0, "fake: cannot start %s", p->id);
    }
    if (!p->created || p->running)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "fake: container is not in the created state");
    p->running = true;
    return 0;
}

static int fake_op_kill(struct fake_runtime *fr, struct fake_proc *p, int sig, struct isd_error **err)
{
    if (!p->running && !p->created)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "fake: container not running");
    if (sig == 0 || sig == SIGCONT || sig == SIGWINCH || sig == SIGCHLD || sig == fr->ignored)
        return 0;
    if (p->paused)
        p->pending_sig = sig;
    else
        fake_end(p, 128 + sig);
    return 0;
}

static int fake_op_pause(struct fake_runtime *fr, struct fake_proc *p, int pause, struct isd_error **err)
{
    (void)fr;
    if (!p->running || p->paused == (bool)pause)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "fake: container is %s", p->paused ? "paused" : "not paused");
    p->paused = pause;
    if (!pause && p->pending_sig != 0)
        fake_end(p, 128 + p->pending_sig);
    return 0;
}

static int fake_op_delete(struct fake_runtime *fr, struct fake_proc *p, int force, struct isd_error **err)
{
    if (p->running && !force)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "fake: cannot delete a running container");
    if (p->running || p->created)
        fake_end(p, 128 + SIGKILL);
    p->deleted = true;
    fr->n_deletes++;
    return 0;
}

static int fake_op_pids(struct fake_runtime *fr, struct fake_proc *p, int arg, struct isd_error **err)
{
    (void)fr;
    (void)err;
    return arg == 0 && p->running ? (int)p->pid : 0;
}

static int fake_start(const struct runtime *rt, const char *id, struct isd_error **err)
{
    return fake_with(rt, id, fake_op_start, 0, err);
}

static int fake_kill(const struct runtime *rt, const char *id, int sig, bool all, struct isd_error **err)
{
    (void)all;
    return fake_with(rt, id, fake_op_kill, sig, err);
}

static int fake_pause(const struct runtime *rt, const char *id, struct isd_error **err)
{
    return fake_with(rt, id, fake_op_pause, 1, err);
}

static int fake_resume(const struct runtime *rt, const char *id, struct isd_error **err)
{
    return fake_with(rt, id, fake_op_pause, 0, err);
}

static int fake_delete(const struct runtime *rt, const char *id, bool force, struct isd_error **err)
{
    return fake_with(rt, id, fake_op_delete, force, err);
}

static int fake_delete_if_present(const struct runtime *rt, const char *id, struct isd_error **err)
{
    struct fake_runtime *fr = rt->ctx;
    bool present;
    pthread_mutex_lock(&fr->lock);
    present = fake_find(fr, id) != NULL;
    pthread_mutex_unlock(&fr->lock);
    return present ? fake_delete(rt, id, true, err) : 0;
}

static int fake_pids(const struct runtime *rt, const char *id, pid_t **ret_pids, size_t *ret_n, struct isd_error **err)
{
    int pid = fake_with(rt, id, fake_op_pids, 0, err);
    if (pid < 0)
        return -1;
    *ret_pids = xcalloc(2, sizeof(pid_t));
    (*ret_pids)[0] = pid;
    *ret_n = pid > 0 ? 1 : 0;
    return 0;
}

static int fake_read_exit(const struct runtime *rt, const char *state_dir, int *ret_code, long long *ret_ns)
{
    struct fake_runtime *fr = rt->ctx;
    int rc = -1;
    pthread_mutex_lock(&fr->lock);
    for (size_t i = 0; i < FAKE_PROCS_MAX && rc < 0; i++) {
        struct fake_proc *p = &fr->procs[i];
        if (p->id != NULL && p->has_exit && streq(p->state_dir, state_dir)) {
            *ret_code = p->exit_code;
            *ret_ns = p->exited_ns;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&fr->lock);
    return rc;
}

static pid_t fake_shim_alive(const struct runtime *rt, const char *state_dir)
{
    struct fake_runtime *fr = rt->ctx;
    pid_t pid = 0;
    pthread_mutex_lock(&fr->lock);
    for (size_t i = 0; i < FAKE_PROCS_MAX; i++)
        if (fr->procs[i].id != NULL && fr->procs[i].wfd >= 0 && streq(fr->procs[i].state_dir, state_dir))
            pid = fr->procs[i].pid;
    pthread_mutex_unlock(&fr->lock);
    return pid;
}

static int fake_shim_watch_fd(const struct runtime *rt, pid_t shim_pid)
{
    struct fake_runtime *fr = rt->ctx;
    int fd = -1;
    pthread_mutex_lock(&fr->lock);
    for (size_t i = 0; i < FAKE_PROCS_MAX; i++)
        if (fr->procs[i].id != NULL && fr->procs[i].pid == shim_pid && fr->procs[i].wfd >= 0)
            fd = fcntl(fr->procs[i].rfd, F_DUPFD_CLOEXEC, 0);
    pthread_mutex_unlock(&fr->lock);
    return fd;
}

static const struct runtime_ops fake_runtime_ops = {
    .shim_start = fake_shim_start,
    .run_detached_ok = fake_run_detached_ok,
    .start = fake_start,
    .kill = fake_kill,
    .pause = fake_pause,
    .resume = fake_resume,
    .delete = fake_delete,
    .delete_if_present = fake_delete_if_present,
    .pids = fake_pids,
    .read_exit = fake_read_exit,
    .shim_alive = fake_shim_alive,
    .shim_watch_fd = fake_shim_watch_fd,
};

#endif
