/*
 * Health checks (HC-*): the scheduler (health.c, one thread for all containers) and a probe's steps
 * (health_probe.c). The service calls only service_health_* (internal.h).
 */
#ifndef ISD_DAEMON_SERVICE_HEALTH_INTERNAL_H
#define ISD_DAEMON_SERVICE_HEALTH_INTERNAL_H

#include <stdbool.h>

#include "daemon/service/internal.h"

/* One container's health check for one run of it. Run-state fields: the scheduler thread only. */
struct health_probe {
    struct daemon *d;
    struct container *c;      /* a reference */
    long long run_started_ns; /* c->started_ns of the run it checks: another run cancels it */
    json_t *cmd;              /* the exec's Cmd */
    long long interval_ns, timeout_ns, start_period_ns;
    int retries;
    bool exit_on_unhealthy;
    long long due_ns; /* next start, counted from the end of the last run (HC-11) */
    int shim_pidfd;   /* >= 0 while a probe runs */
    int proc_pidfd;
    long long start_ns, deadline_ns;
    char *dir;          /* the running probe's exec state dir */
    char *process_text; /* its process.json, made once per run */
    unsigned long seq;
    bool exited;    /* its shim is gone (set by the scheduler before a step) */
    bool cancelled; /* set under the scheduler's lock; the scheduler frees it */
};

struct health_sched *health_sched_new(struct isd_error **err);
void health_sched_free(struct health_sched *s);
/* Adds p (taken), cancelling an older probe of the same container. */
void health_sched_add(struct health_sched *s, struct health_probe *p);
void health_sched_cancel(struct health_sched *s, const struct container *c);

/* Starts p when due, or settles its end (exited or past its deadline). Scheduler thread, its lock released. */
void health_probe_step(struct health_probe *p);
void health_probe_free(struct health_probe *p);

#endif
