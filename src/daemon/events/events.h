/*
 * The daemon's event log (GET /events, isula events; guide C-events-01): container and image lifecycle
 * events in Docker's JSON, kept in a process-wide ring of the last EVENTS_KEEP for replays (`since`) and
 * handed to followers as they happen. Thread-safe.
 */
#ifndef ISD_DAEMON_EVENTS_H
#define ISD_DAEMON_EVENTS_H

#include <jansson.h>

#define EVENTS_KEEP 1024

/* Records one event now. type: "container" or "image"; attrs (taken; NULL for none) are the actor's
 * attributes; from: a container's image (NULL otherwise). */
void events_emit(const char *type, const char *action, const char *id, const char *from, json_t *attrs);

/* Calls fn with each event (oldest first): those kept with a time at or after since_ns (0: none), then new
 * ones as they come, until until_ns (0: never) has passed or fn returns < 0. */
void events_follow(long long since_ns, long long until_ns, int (*fn)(const json_t *ev, void *ctx), void *ctx);

#endif
