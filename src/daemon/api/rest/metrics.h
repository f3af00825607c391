/*
 * A Prometheus text endpoint (metrics-addr, off by default): GET /metrics on its own ip:port, with containers per
 * state, API actions (count and latency histogram per action), the daemon's RSS, open fds and threads.
 * rest_metrics_observe is called by the REST adapter for every finished request; thread-safe.
 */
#ifndef ISD_DAEMON_API_REST_METRICS_H
#define ISD_DAEMON_API_REST_METRICS_H

#include "common/error.h"
#include "daemon/service/service.h"

/* Starts serving on addr ("ip:port"). */
int rest_metrics_start(struct daemon *d, const char *addr, struct isd_error **err);
/* One finished API request: method, path (without the version prefix), seconds it took. */
void rest_metrics_observe(const char *method, const char *path, double seconds);

#endif
