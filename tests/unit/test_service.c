/* The service layer's state rules, driven through a fake runtime (fake_runtime.h): create, start, stop, kill,
 * pause, unpause, restart and rm (with and without force) from every state, with the resulting state and the
 * error code each gives. A real daemon object in the case's temp directory (real stores, an external rootfs),
 * no runc. */
#include "harness.h"

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "common/fs.h"
#include "common/json.h"
#include "daemon/config/config.h"
#include "daemon/container/container.h"
#include "daemon/service/service.h"
#include "fake_runtime.h"

#define GONE (-1) /* the container was removed */

/* Sanitizer builds: each case builds a daemon object and, like isulad, never tears its stores down (they have
 * no free: the daemon's process exits), so leak reports would list them. Memory errors are still checked. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}

struct env {
    struct fake_runtime fr;
    struct daemon d;
    struct isd_config *cfg;
    char dir[PATH_MAX];
    struct container *made[256]; /* references, to wait for their background work at the end */
    size_t n_made;
};

static struct env *env_new(void)
{
    struct env *e = xcalloc(1, sizeof(*e));
    struct isd_error *err = NULL;
    cleanup_free char *conf = NULL;
    cleanup_free char *cf = NULL;
    cleanup_free char *rootfs = NULL;
    cleanup_free char *graph = NULL;
    cleanup_free char *state = NULL;
    cleanup_free char *cni = NULL;
    cleanup_json json_t *j = NULL;
    bool exit_now = false;
    char *argv[3] = {"isulad", NULL, NULL};
    if (getcwd(e->dir, sizeof(e->dir)) == NULL)
        return NULL;
    graph = xasprintf("%s/graph", e->dir);
    state = xasprintf("%s/state", e->dir);
    cni = xasprintf("%s/cni", e->dir);
    j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:{s:s}}}", "graph", graph, "state", state, "cni-conf-dir", cni,
                  "cni-bin-dir", cni, "default-runtime", "fake", "runtimes", "fake", "path", "/bin/true");
    conf = xasprintf("%s/daemon.json", e->dir);
    rootfs = xasprintf("%s/rootfs", e->dir);
    if (json_write_path(conf, j, false, &err) < 0 || mkdir(rootfs, 0755) < 0)
        return NULL;
    cf = xasprintf("--config-file=%s", conf);
    argv[1] = cf;
    e->cfg = isd_config_load(2, argv, &exit_now, &err);
    if (e->cfg == NULL || daemon_init(&e->d, e->cfg, &err) < 0) {
        fprintf(stderr, "daemon: %s\n", err ? err->msg : "?");
        return NULL;
    }
    fake_runtime_init(&e->fr);
    e->d.runtime_ops = &fake_runtime_ops;
    e->d.runtime_ctx = &e->fr;
    return e;
}

static char *create(struct env *e)
{
    cleanup_free char *rootfs = xasprintf("%s/rootfs", e->dir);
    cleanup_json json_t *body = json_pack("{s:s, s:s, s:[s], s:{s:s}}", "Image", "none", "ExternalRootfs", rootfs,
                                          "Cmd", "/init", "HostConfig", "NetworkMode", "none");
    struct isd_error *err = NULL;
    char *id = NULL;
    if (service_container_create(&e->d, NULL, body, &id, NULL, &err) < 0)
        fprintf(stderr, "create: %s\n", err->msg);
    isd_error_free(err);
    if (id != NULL && e->n_made < ARRAY_SIZE(e->made))
        e->made[e->n_made++] = container_store_lookup(e->d.containers, id, NULL);
    return id;
}

/* Waits for the runtime cleanup each exit starts in a thread of its own, then stops the daemon's threads. */
static void env_free(struct env *e)
{
    for (size_t i = 0; i < e->n_made; i++) {
        struct container *c = e->made[i];
        pthread_mutex_lock(&c->lock);
        while (c->runtime_cleanup)
            pthread_cond_wait(&c->changed, &c->lock);
        pthread_mutex_unlock(&c->lock);
        container_unref(c);
    }
    daemon_shutdown(&e->d);
}

/* The container's status (GONE once removed) and exit code, as the store has them. */
static int status_of(struct env *e, const char *id, int *ret_exit_code)
{
    struct container *c = container_store_lookup(e->d.containers, id, NULL);
    int st = GONE;
    if (c == NULL)
        return GONE;
    pthread_mutex_lock(&c->lock);
    if (!c->removed)
        st = (int)c->status;
    if (ret_exit_code != NULL)
        *ret_exit_code = c->exit_code;
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    return st;
}

/* Polls until the status is want: an exit arrives through the supervisor's thread. Generous bound. */
static int wait_status(struct env *e, const char *id, int want)
{
    int st = status_of(e, id, NULL);
    for (int i = 0; i < 10000 && st != want; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        st = status_of(e, id, NULL);
    }
    return st;
}

static void set_status(struct env *e, const char *id, enum container_status s)
{
    struct container *c = container_store_lookup(e->d.containers, id, NULL);
    pthread_mutex_lock(&c->lock);
    c->status = s;
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
}

enum op { OP_START, OP_STOP, OP_KILL, OP_PAUSE, OP_UNPAUSE, OP_RESTART, OP_RM, OP_RM_FORCE, N_OPS };
static const char *const op_names[] = {"start", "stop", "kill", "pause", "unpause", "restart", "rm", "rm -f"};

/* Runs op; returns 0 or the error's code. */
static int run_op(struct env *e, const char *id, enum op op)
{
    struct isd_error *err = NULL;
    int rc = 0, code;
    switch (op) {
    case OP_START:
        rc = service_container_start(&e->d, id, &err);
        break;
    case OP_STOP:
        rc = service_container_stop(&e->d, id, 5, &err);
        break;
    case OP_KILL:
        rc = service_container_kill(&e->d, id, NULL, &err);
        break;
    case OP_PAUSE:
        rc = service_container_pause(&e->d, id, &err);
        break;
    case OP_UNPAUSE:
        rc = service_container_unpause(&e->d, id, &err);
        break;
    case OP_RESTART:
        rc = service_container_restart(&e->d, id, 5, &err);
        break;
    default:
        rc = service_container_remove(&e->d, id, op == OP_RM_FORCE, false, &err);
        break;
    }
    code = rc == 0 ? 0 : err != NULL ? (int)err->code : -1;
    isd_error_free(err);
    return code;
}

/* A container brought into state s (CT_REMOVING: marked, as a removal in progress leaves it). */
static char *make_in(struct env *e, enum container_status s)
{
    char *id = create(e);
    if (id == NULL || s == CT_CREATED)
        return id;
    if (s == CT_REMOVING) {
        set_status(e, id, CT_REMOVING);
        return id;
    }
    if (run_op(e, id, OP_START) != 0)
        return NULL;
    if (s == CT_PAUSED && run_op(e, id, OP_PAUSE) != 0)
        return NULL;
    if (s == CT_EXITED && (run_op(e, id, OP_KILL) != 0 || wait_status(e, id, CT_EXITED) != CT_EXITED))
        return NULL;
    return id;
}

struct rule {
    enum container_status from;
    int code[N_OPS];  /* 0 or the error code */
    int state[N_OPS]; /* the state after it (GONE: removed) */
};

#define NM ISD_ERR_NOT_MODIFIED
#define CF ISD_ERR_CONFLICT
static const struct rule rules[] = {
    {CT_CREATED,
     {0, NM, CF, CF, CF, 0, 0, 0},
     {CT_RUNNING, CT_CREATED, CT_CREATED, CT_CREATED, CT_CREATED, CT_RUNNING, GONE, GONE}},
    {CT_RUNNING,
     {NM, 0, 0, 0, CF, 0, CF, 0},
     {CT_RUNNING, CT_EXITED, CT_EXITED, CT_PAUSED, CT_RUNNING, CT_RUNNING, CT_RUNNING, GONE}},
    {CT_PAUSED,
     {NM, 0, 0, CF, 0, 0, CF, 0},
     {CT_PAUSED, CT_EXITED, CT_EXITED, CT_PAUSED, CT_RUNNING, CT_RUNNING, CT_PAUSED, GONE}},
    {CT_EXITED,
     {0, NM, CF, CF, CF, 0, 0, 0},
     {CT_RUNNING, CT_EXITED, CT_EXITED, CT_EXITED, CT_EXITED, CT_RUNNING, GONE, GONE}},
    {CT_REMOVING,
     {CF, NM, CF, CF, CF, CF, CF, CF},
     {CT_REMOVING, CT_REMOVING, CT_REMOVING, CT_REMOVING, CT_REMOVING, CT_REMOVING, CT_REMOVING, CT_REMOVING}},
};

TEST(state_rules_every_state_every_operation)
{
    struct env *e = env_new();
    ASSERT_TRUE(e != NULL);
    for (size_t r = 0; r < ARRAY_SIZE(rules); r++) {
        for (int op = 0; op < N_OPS; op++) {
            cleanup_free char *id = make_in(e, rules[r].from);
            int code, st;
            if (id == NULL)
                FAIL_AT("could not bring a container into state %d", rules[r].from);
            code = run_op(e, id, (enum op)op);
            st = wait_status(e, id, rules[r].state[op]);
            if (code != rules[r].code[op] || st != rules[r].state[op])
                FAIL_AT("state %d, %s: code %d state %d, expected code %d state %d", rules[r].from, op_names[op], code,
                        st, rules[r].code[op], rules[r].state[op]);
        }
    }
    env_free(e);
}

TEST(removed_container_is_not_found_for_every_operation)
{
    struct env *e = env_new();
    cleanup_free char *id = NULL;
    ASSERT_TRUE(e != NULL);
    id = make_in(e, CT_RUNNING);
    ASSERT_TRUE(id != NULL);
    ASSERT_INT_EQ(run_op(e, id, OP_RM_FORCE), 0);
    for (int op = 0; op < N_OPS; op++)
        ASSERT_INT_EQ(run_op(e, id, (enum op)op), ISD_ERR_NOT_FOUND);
    ASSERT_INT_EQ(run_op(e, "no-such-container", OP_START), ISD_ERR_NOT_FOUND);
    env_free(e);
}

TEST(exit_codes_arrive_through_the_supervisor)
{
    struct env *e = env_new();
    cleanup_free char *a = NULL;
    cleanup_free char *b = NULL;
    cleanup_free char *c = NULL;
    int code = -1;
    ASSERT_TRUE(e != NULL);
    a = make_in(e, CT_RUNNING);
    b = make_in(e, CT_PAUSED);
    c = make_in(e, CT_RUNNING);
    ASSERT_TRUE(a != NULL && b != NULL && c != NULL);
    ASSERT_INT_EQ(run_op(e, a, OP_STOP), 0); /* SIGTERM */
    ASSERT_INT_EQ(status_of(e, a, &code), CT_EXITED);
    ASSERT_INT_EQ(code, 128 + SIGTERM);
    ASSERT_INT_EQ(run_op(e, b, OP_STOP), 0); /* a paused container gets SIGKILL, delivered once resumed */
    ASSERT_INT_EQ(status_of(e, b, &code), CT_EXITED);
    ASSERT_INT_EQ(code, 128 + SIGKILL);
    ASSERT_INT_EQ(run_op(e, c, OP_KILL), 0);
    ASSERT_INT_EQ(wait_status(e, c, CT_EXITED), CT_EXITED);
    status_of(e, c, &code);
    ASSERT_INT_EQ(code, 128 + SIGKILL);
    env_free(e);
}

TEST(stop_falls_back_to_sigkill_when_the_signal_is_ignored)
{
    struct env *e = env_new();
    cleanup_free char *id = NULL;
    struct isd_error *err = NULL;
    int code = -1;
    ASSERT_TRUE(e != NULL);
    id = make_in(e, CT_RUNNING);
    ASSERT_TRUE(id != NULL);
    e->fr.ignored = SIGTERM;
    ASSERT_INT_EQ(service_container_stop(&e->d, id, 0, &err), 0);
    ASSERT_INT_EQ(status_of(e, id, &code), CT_EXITED);
    ASSERT_INT_EQ(code, 128 + SIGKILL);
    env_free(e);
}

TEST(failed_start_keeps_created_and_records_the_exit_code)
{
    struct env *e = env_new();
    cleanup_free char *id = NULL;
    int code = -1;
    ASSERT_TRUE(e != NULL);
    id = make_in(e, CT_CREATED);
    ASSERT_TRUE(id != NULL);
    e->fr.fail_start = ISD_ERR_COMMAND_NOT_FOUND;
    ASSERT_INT_EQ(run_op(e, id, OP_START), ISD_ERR_COMMAND_NOT_FOUND);
    ASSERT_INT_EQ(status_of(e, id, &code), CT_CREATED);
    ASSERT_INT_EQ(code, 127);
    e->fr.detached = false; /* create, then start: the second call fails */
    e->fr.fail_start = ISD_ERR_NOT_EXECUTABLE;
    ASSERT_INT_EQ(run_op(e, id, OP_START), ISD_ERR_NOT_EXECUTABLE);
    ASSERT_INT_EQ(status_of(e, id, &code), CT_CREATED);
    ASSERT_INT_EQ(code, 126);
    ASSERT_INT_EQ(run_op(e, id, OP_START), 0);
    ASSERT_INT_EQ(status_of(e, id, NULL), CT_RUNNING);
    env_free(e);
}

TEST(restart_runs_a_new_process)
{
    struct env *e = env_new();
    cleanup_free char *id = NULL;
    struct container *c;
    pid_t before, after;
    ASSERT_TRUE(e != NULL);
    id = make_in(e, CT_RUNNING);
    ASSERT_TRUE(id != NULL);
    c = container_store_lookup(e->d.containers, id, NULL);
    before = c->pid;
    ASSERT_INT_EQ(run_op(e, id, OP_RESTART), 0);
    after = c->pid;
    container_unref(c);
    ASSERT_TRUE(before > 0 && after > 0 && before != after);
    ASSERT_INT_EQ(e->fr.n_shim_starts, 2);
    env_free(e);
}

RUN_TESTS()
