/*
 * The runtime driver interface: `struct runtime_ops`, one table per kind of runtime, through which the service
 * layer drives every container process (start through the shim, kill, pause, resume, delete, ps, the exit
 * record, the shim's liveness). `runtime_oci_ops` is the driver of every configured runtime: it runs the OCI
 * runtime CLI (runc, crun, or any from the `runtimes` map) and starts isulad-shim, which holds the container's
 * stdio and outlives the daemon. Tests plug in a fake (tests/unit/fake_runtime.h). The OCI driver is stateless
 * and thread-safe: every call spawns its own processes.
 */
#ifndef ISD_DAEMON_RUNTIME_H
#define ISD_DAEMON_RUNTIME_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct runtime_ops;

struct runtime {
    const struct runtime_ops *ops; /* the driver */
    void *ctx;                     /* the driver's own state (NULL for runtime_oci_ops) */
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
    bool log_cri;         /* log_file in the CRI log format instead */
    long long log_max_size;
    int log_max_file;
    const char *umask; /* octal umask of the runtime process (an exec's: runc exec passes it on); NULL: the shim's */
};

struct runtime_ops {
    /* Starts the shim, which runs `runtime run --detach` (or `create`, or `exec`), and waits for the process
     * pid. The attach fds are the shim's ends of socketpairs whose other ends the caller keeps: those clients
     * get the process's output from its first byte. */
    int (*shim_start)(const struct runtime *rt, const struct shim_request *rq, pid_t *ret_pid, pid_t *ret_shim_pid,
                      struct isd_error **err);
    /* Whether `run --detach` may replace create + start: runc leaves an early-exiting container process to be
     * reaped by the shim (its subreaper). crun reaps one that exits before crun itself does, and the shim would
     * lose its exit status; so every other runtime gets create, then start. */
    bool (*run_detached_ok)(const struct runtime *rt);
    int (*start)(const struct runtime *rt, const char *id, struct isd_error **err);
    int (*kill)(const struct runtime *rt, const char *id, int sig, bool all, struct isd_error **err);
    int (*pause)(const struct runtime *rt, const char *id, struct isd_error **err);
    int (*resume)(const struct runtime *rt, const char *id, struct isd_error **err);
    int (*delete)(const struct runtime *rt, const char *id, bool force, struct isd_error **err);
    /* Deletes only when the runtime still has state for id (a directory <root>/<id>, as runc and crun keep):
     * saves a process spawn on the common path where the exit handler already deleted it. */
    int (*delete_if_present)(const struct runtime *rt, const char *id, struct isd_error **err);
    /* Pids of the processes in the container (`runtime ps --format json`); NULL-terminated, -1 on error. */
    int (*pids)(const struct runtime *rt, const char *id, pid_t **ret_pids, size_t *ret_n, struct isd_error **err);
    /* Reads the exit record the shim wrote in state_dir: exit code and time. -1 when absent. */
    int (*read_exit)(const struct runtime *rt, const char *state_dir, int *ret_code, long long *ret_ns);
    /* The shim's pid from <state_dir>/shim.pid when that process is still an isulad-shim, else 0. */
    pid_t (*shim_alive)(const struct runtime *rt, const char *state_dir);
    /* An fd (the caller's) that turns readable once the shim shim_pid has ended, for the exit supervisor;
     * -1 when it is gone already. */
    int (*shim_watch_fd)(const struct runtime *rt, pid_t shim_pid);
};

/* The OCI runtime CLI and isulad-shim. */
extern const struct runtime_ops runtime_oci_ops;

#endif
