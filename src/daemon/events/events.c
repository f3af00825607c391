/* The event ring and its followers; see events.h. */
#include "daemon/events/events.h"

#include <pthread.h>
#include <time.h>

#include "common/json.h"
#include "common/util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t more = PTHREAD_COND_INITIALIZER;
static json_t *ring[EVENTS_KEEP];
static unsigned long long total; /* events ever recorded; event k lives in ring[k % EVENTS_KEEP] */

void events_emit(const char *type, const char *action, const char *id, const char *from, json_t *attrs)
{
    long long ns = now_ns();
    json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "Type", type, "Action", action, "Actor", "ID", id,
                           "Attributes", attrs != NULL ? attrs : json_object(), "scope", "local", "time",
                           (json_int_t)(ns / 1000000000LL), "timeNano", (json_int_t)ns);
    if (ev == NULL)
        return;
    if (streq(type, "container")) { /* the fields of Docker's older event format, still sent */
        json_object_set_new(ev, "status", json_string(action));
        json_object_set_new(ev, "id", json_string(id));
        if (from != NULL)
            json_object_set_new(ev, "from", json_string(from));
    }
    pthread_mutex_lock(&lock);
    json_decref(ring[total % EVENTS_KEEP]);
    ring[total % EVENTS_KEEP] = ev;
    total++;
    pthread_cond_broadcast(&more);
    pthread_mutex_unlock(&lock);
}

static long long event_ns(const json_t *ev)
{
    return json_get_int(ev, "timeNano", 0);
}

void events_follow(long long since_ns, long long until_ns, int (*fn)(const json_t *ev, void *ctx), void *ctx)
{
    unsigned long long next;
    pthread_mutex_lock(&lock);
    next = total;
    if (since_ns > 0) {
        next = total > EVENTS_KEEP ? total - EVENTS_KEEP : 0;
        while (next < total && event_ns(ring[next % EVENTS_KEEP]) < since_ns)
            next++;
    }
    for (;;) {
        if (next + EVENTS_KEEP < total) /* a slow follower lost some: it goes on with the oldest kept */
            next = total - EVENTS_KEEP;
        if (next < total) {
            json_t *ev = json_incref(ring[next % EVENTS_KEEP]);
            int r;
            next++;
            pthread_mutex_unlock(&lock);
            r = until_ns > 0 && event_ns(ev) > until_ns ? -1 : fn(ev, ctx);
            json_decref(ev);
            if (r < 0)
                return;
            pthread_mutex_lock(&lock);
            continue;
        }
        if (until_ns > 0 && now_ns() >= until_ns)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&more, &lock, &ts);
    }
    pthread_mutex_unlock(&lock);
}
