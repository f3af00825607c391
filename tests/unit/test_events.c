/* Unit tests of the event log (src/daemon/events): the ring, since/until replays, live followers. */
#include "harness.h"

#include <pthread.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/events/events.h"

static const char *str_or(const char *s)
{
    return s != NULL ? s : "";
}

struct seen {
    int n;
    char first_id[32], last_id[32];
    long long last_ns;
    bool ordered;
    int stop_after; /* the callback returns -1 after this many (0: never) */
};

static int collect(const json_t *ev, void *ctx)
{
    struct seen *s = ctx;
    const json_t *actor = json_object_get(ev, "Actor");
    const char *id = str_or(json_get_str(actor, "ID"));
    long long ns = json_get_int(ev, "timeNano", 0);
    if (s->n == 0)
        snprintf(s->first_id, sizeof(s->first_id), "%s", id);
    snprintf(s->last_id, sizeof(s->last_id), "%s", id);
    if (ns < s->last_ns)
        s->ordered = false;
    s->last_ns = ns;
    s->n++;
    return s->stop_after > 0 && s->n >= s->stop_after ? -1 : 0;
}

static void emit_n(const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "%s%d", prefix, i);
        events_emit("container", "start", id, "busybox", NULL);
    }
}

TEST(replay_since_until_in_order)
{
    struct seen s = {.ordered = true};
    long long t0 = now_ns();
    emit_n("a", 3);
    events_follow(t0, now_ns(), collect, &s);
    ASSERT_INT_EQ(s.n, 3);
    ASSERT_TRUE(s.ordered);
    ASSERT_STR_EQ(s.first_id, "a0");
    ASSERT_STR_EQ(s.last_id, "a2");
}

static int check_fields(const json_t *ev, void *ctx)
{
    int *ok = ctx;
    const json_t *actor = json_object_get(ev, "Actor");
    *ok = streq(str_or(json_get_str(ev, "Type")), "container") && streq(str_or(json_get_str(ev, "Action")), "die") &&
          streq(str_or(json_get_str(ev, "status")), "die") && streq(str_or(json_get_str(ev, "id")), "f1") &&
          streq(str_or(json_get_str(ev, "from")), "img:1") && streq(str_or(json_get_str(actor, "ID")), "f1") &&
          streq(str_or(json_get_str(json_object_get(actor, "Attributes"), "exitCode")), "3") &&
          json_get_int(ev, "time", 0) == json_get_int(ev, "timeNano", 0) / 1000000000LL;
    return 0;
}

TEST(docker_fields)
{
    int ok = 0;
    long long t0 = now_ns();
    events_emit("container", "die", "f1", "img:1", json_pack("{s:s}", "exitCode", "3"));
    events_follow(t0, now_ns(), check_fields, &ok);
    ASSERT_TRUE(ok);
}

static int image_fields(const json_t *ev, void *ctx)
{
    int *ok = ctx;
    *ok = streq(str_or(json_get_str(ev, "Type")), "image") && json_object_get(ev, "status") == NULL &&
          json_object_get(ev, "from") == NULL;
    return 0;
}

TEST(image_events_lack_the_old_container_fields)
{
    int ok = 0;
    long long t0 = now_ns();
    events_emit("image", "pull", "busybox:latest", NULL, NULL);
    events_follow(t0, now_ns(), image_fields, &ok);
    ASSERT_TRUE(ok);
}

TEST(ring_keeps_the_last_events_keep)
{
    struct seen s = {.ordered = true};
    long long t0 = now_ns();
    emit_n("r", EVENTS_KEEP + 76);
    events_follow(t0, now_ns(), collect, &s);
    ASSERT_INT_EQ(s.n, EVENTS_KEEP);
    ASSERT_STR_EQ(s.first_id, "r76");
    char last[32];
    snprintf(last, sizeof(last), "r%d", EVENTS_KEEP + 75);
    ASSERT_STR_EQ(s.last_id, last);
}

TEST(callback_stops_the_follow)
{
    struct seen s = {.ordered = true, .stop_after = 2};
    long long t0 = now_ns();
    emit_n("s", 5);
    events_follow(t0, 0, collect, &s); /* no until: returns only because the callback stops it */
    ASSERT_INT_EQ(s.n, 2);
}

static void *late_emitter(void *arg)
{
    usleep(100000);
    emit_n("late", 1);
    return NULL;
}

TEST(follower_gets_new_events_until_until)
{
    struct seen s = {.ordered = true};
    pthread_t th;
    long long until = now_ns() + 1500000000LL;
    ASSERT_INT_EQ(pthread_create(&th, NULL, late_emitter, NULL), 0);
    events_follow(0, until, collect, &s); /* since 0: only what comes from now on */
    pthread_join(th, NULL);
    ASSERT_INT_EQ(s.n, 1);
    ASSERT_STR_EQ(s.first_id, "late0");
    ASSERT_TRUE(now_ns() >= until);
}

RUN_TESTS()
