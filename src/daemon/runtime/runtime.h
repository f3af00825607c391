/*
 * OCI runtime driver: runs the runtime CLI (runc, crun, or any from the `runtimes` map) and starts
 * isulad-shim, which holds the container's stdio and outlives the daemon. Stateless and thread-safe:
 * every call spawns its own processes.
 */
#ifndef ISD_DAEMON_RUNTIME_H
#define ISD_DAEMON_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct runtime {
    const char *name;
    const char *path;
    char *const *args; /* extra global args, e.g. --kata-config x */
    const char *root;  /* --root state directory of the runtime */
    const char *shim;  /* path of isulad-shim */
};

#define SHIM_ATTACH_FDS_MAX 15 /* with the sync fd, what spawn_start passes on */

struct shim_request {
    const char *id;           /* container id */
    const char *bundle;       /* directory with config.json */
    const char *state_dir;    /* shim's files: shim.pid, attach, pid, exit */
    const char *exec_process; /* process.json for an exec; NULL for the container itself */
    bool terminal;
    bool open_stdin;
    const int *attach_fds; /* connected sockets the shim serves as attach clients from its start */
    size_t n_attach_fds;
    bool start;           /* container: `runtime run --detach` (create and start in one call) */
    const char *log_file; /* json-file log; NULL for none */
    long long log_max_size;
    int log_max_file;
};

/* Starts the shim, which runs `runtime run --detach` (or `create`, or `exec`), and waits for the process pid.
 * The attach fds are the shim's ends of socketpairs whose other ends the caller keeps: those clients get the
 * process's output from its first byte. */
int runtime_shim_start(const struct runtime *rt, const struct shim_request *rq, pid_t *ret_pid, pid_t *ret_shim_pid,
                       struct isd_error **err);
int runtime_start(const struct runtime *rt, const char *id, struct isd_error **err);
/* Whether `run --detach` may replace create + start: runc leaves an early-exiting container process to be
 * reaped by the shim (its subreaper). crun reaps one that exits before crun itself does, and the shim would
 * lose its exit status; so every other runtime gets create, then start. */
bool runtime_run_detached_ok(const struct runtime *rt);
int runtime_kill(const struct runtime *rt, const char *id, int sig, bool all, struct isd_error **err);
int runtime_pause(const struct runtime *rt, const char *id, struct isd_error **err);
int runtime_resume(const struct runtime *rt, const char *id, struct isd_error **err);
int runtime_delete(const struct runtime *rt, const char *id, bool force, struct isd_error **err);
/* Deletes only when the runtime still has state for id (a directory <root>/<id>, as runc and crun keep):
 * saves a process spawn on the common path where the exit handler already deleted it. */
int runtime_delete_if_present(const struct runtime *rt, const char *id, struct isd_error **err);
/* Pids of the processes in the container (`runtime ps --format json`); NULL-terminated, -1 on error. */
int runtime_pids(const struct runtime *rt, const char *id, pid_t **ret_pids, size_t *ret_n, struct isd_error **err);
/* Reads the exit file the shim wrote: exit code and time. -1 when absent. */
int runtime_read_exit(const char *state_dir, int *ret_code, long long *ret_ns);
/* The shim's pid from <state_dir>/shim.pid when that process is still an isulad-shim, else 0. */
pid_t runtime_shim_alive(const char *state_dir);

#endif
