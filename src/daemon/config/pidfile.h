/*
 * The daemon's pidfile, which is also the lock that keeps a second isulad off the same files (guide D-20,
 * D-63). The lock is a flock() on the open file description, so it holds until the fd is closed or the
 * process dies (including SIGKILL). Thread-safe (no shared state).
 */
#ifndef ISD_DAEMON_CONFIG_PIDFILE_H
#define ISD_DAEMON_CONFIG_PIDFILE_H

#include "common/error.h"

/* Creates the parent directory, opens path, takes an exclusive non-blocking lock and writes our pid.
 * On success *ret_fd holds the locked fd (O_CLOEXEC): keep it open for the daemon's life.
 * ISD_ERR_CONFLICT "another isulad (pid N) is running with pidfile <path>" when the lock is held. */
int pidfile_acquire(const char *path, int *ret_fd, struct isd_error **err);

/* Removes the file and closes fd (at a clean shutdown); fd < 0 is a no-op. */
void pidfile_release(const char *path, int fd);

#endif
