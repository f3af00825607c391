/*
 * The one way to run a child process: fds are O_CLOEXEC everywhere, so only the wired stdio (and any
 * fds listed in keep_fds, renumbered from 3) reach the child; signal mask and dispositions are reset.
 * Thread-safe.
 */
#ifndef ISD_COMMON_SPAWN_H
#define ISD_COMMON_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct buf;

struct spawn_opts {
    const char *const *argv;            /* argv[0] is the program; a path or a name looked up in PATH */
    const char *const *env;             /* NULL: inherit */
    const char *cwd;                    /* NULL: inherit */
    int stdin_fd, stdout_fd, stderr_fd; /* -1: /dev/null */
    const int *keep_fds;                /* passed as 3, 4, ... */
    size_t n_keep_fds;
    int setsid; /* start a new session */
};

/* Reads out_fd and err_fd (a child's stdout and stderr pipes) into out and err until both close, keeping at most
 * max bytes of each (the rest is read and dropped). deadline_ns (now_ns clock) 0: none; -1 when it passed
 * first, else 0. */
int spawn_collect(int out_fd, int err_fd, struct buf *out, struct buf *err, size_t max, long long deadline_ns);

/* Starts a child; returns its pid or -1. */
pid_t spawn_start(const struct spawn_opts *o, struct isd_error **err);
/* Waits for pid; returns the exit code (128+signal when killed) or -1. */
int spawn_wait(pid_t pid);
/* Runs argv to completion and captures stdout/stderr (each bounded to 1 MiB); returns the exit code or -1.
 * ret_out / ret_err may be NULL. */
int spawn_run(const char *const *argv, const char *input, char **ret_out, char **ret_err, struct isd_error **err);

#endif
