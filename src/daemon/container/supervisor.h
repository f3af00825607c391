/*
 * The exit supervisor: one thread watching the pidfds (or the runtime driver's fds) of the containers' shims.
 * When the shim of a container that is still active under that shim goes away, it calls `exited` with the
 * container's lock held, from its own thread: the callback must not block (long work goes to a thread of its
 * own). Thread-safe.
 */
#ifndef ISD_DAEMON_CONTAINER_SUPERVISOR_H
#define ISD_DAEMON_CONTAINER_SUPERVISOR_H

#include "common/error.h"
#include "daemon/container/container.h"

struct supervisor;

struct supervisor *supervisor_new(void (*exited)(void *ctx, struct container *c), void *ctx, struct isd_error **err);
/* Stops the thread; exits not handled yet are dropped (restore settles them at the next start). */
void supervisor_free(struct supervisor *s);
/* Watches the shim of c (takes a reference) through fd, which turns readable when the shim has ended (a pidfd,
 * or what the runtime driver's shim_watch_fd gives); the supervisor owns fd. fd -1: the shim is already gone,
 * handled at once. */
int supervisor_watch(struct supervisor *s, struct container *c, int fd, struct isd_error **err);

#endif
