/*
 * The layer phase of a pull: presence check, claims shared with concurrent pulls, parallel downloads into
 * unnamed temp files under <storage>/pull-tmp (nothing to clean up after a crash), each extracted into a
 * staging dir by the worker that downloaded it (so layers extract in parallel too; the download becomes the
 * stored blob by a hard link), then committed in chain order with the expected diff ids. See the comment at
 * the top of image/pull.c for the claims protocol and lock order.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/image/pull_layers.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"

#define PULL_PARALLEL 3

/* ---- claims: chain ids being downloaded/applied by some pull ---- */
struct claim {
    struct layer_store *ls;
    char chain[DIGEST_HEX_LEN + 1];
    struct claim *next;
};
static pthread_mutex_t claims_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t claims_cond = PTHREAD_COND_INITIALIZER;
static struct claim *claims;

static bool claimed_locked(struct layer_store *ls, const char *chain)
{
    for (struct claim *c = claims; c != NULL; c = c->next)
        if (c->ls == ls && strcmp(c->chain, chain) == 0)
            return true;
    return false;
}

/* Claims chain unless it is present or claimed; requires claims_lock. */
static bool claim_locked(struct layer_store *ls, const char *chain)
{
    struct claim *c;
    if (claimed_locked(ls, chain) || layer_store_exists(ls, chain))
        return false;
    c = xcalloc(1, sizeof(*c));
    c->ls = ls;
    snprintf(c->chain, sizeof(c->chain), "%s", chain);
    c->next = claims;
    claims = c;
    return true;
}

static void claim_release(struct layer_store *ls, const char *chain)
{
    pthread_mutex_lock(&claims_lock);
    for (struct claim **p = &claims; *p != NULL; p = &(*p)->next) {
        if ((*p)->ls == ls && strcmp((*p)->chain, chain) == 0) {
            struct claim *c = *p;
            *p = c->next;
            free(c);
            break;
        }
    }
    pthread_cond_broadcast(&claims_cond);
    pthread_mutex_unlock(&claims_lock);
}

/* Waits until nobody holds chain, then claims it when still absent. true: the caller owns it now. */
static bool claim_wait(struct layer_store *ls, const char *chain)
{
    bool owned;
    pthread_mutex_lock(&claims_lock);
    while (claimed_locked(ls, chain))
        pthread_cond_wait(&claims_cond, &claims_lock);
    owned = claim_locked(ls, chain);
    pthread_mutex_unlock(&claims_lock);
    return owned;
}

/* ---- one pull's layer tasks ---- */
enum task_state { T_PRESENT, T_OWNED, T_OTHER };

struct task {
    struct pull_layers_job *j;
    size_t idx;
    char id[13]; /* short blob digest shown in progress */
    enum task_state state;
    bool claimed, started, done;
    int fd;
    long long last_emit_ns;
    struct layer_staged *st; /* extracted, waiting for its commit */
    int rc;
    struct isd_error *err;
    long long last_emit;
};

struct pool {
    struct pull_layers_job *j;
    struct task *t;
    size_t n;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool abort;
};

static void emit(struct task *t, const char *status)
{
    t->j->emit(t->j->emit_ctx, registry_progress_json(status, t->id, 0, 0));
}

/* Every 1/40 of the blob (at least 256 KiB), and at least once a second while it stalls: that keeps the
 * client's bars moving and lets a pull notice within a second or two that its client went away. */
static void on_progress(void *ctx, long long cur, long long total)
{
    struct task *t = ctx;
    long long step = total / 40 > (256 << 10) ? total / 40 : (256 << 10);
    long long now = now_ns();
    if (cur - t->last_emit < step && cur != total && now - t->last_emit_ns < 1000000000LL)
        return;
    t->last_emit = cur;
    t->last_emit_ns = now;
    t->j->emit(t->j->emit_ctx, registry_progress_json("Downloading", t->id, cur, total));
}

static int tmp_open(struct pull_layers_job *j, struct isd_error **err)
{
    cleanup_free char *dir = xasprintf("%s/pull-tmp", j->storage_root);
    cleanup_free char *tmpl = xasprintf("%s/blob-XXXXXX", dir);
    int fd;
    if (mkdir_p(dir, 0700, err) < 0)
        return -1;
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd < 0)
        return isd_error_errno(err, "create a temp file in `%s`", dir);
    unlink(tmpl);
    return fd;
}

/* Downloads the blob (size and digest checked) and extracts it into a staging dir. */
static void fetch(struct task *t)
{
    const struct registry_descriptor *d = &t->j->manifest->layers[t->idx];
    struct byte_source src = {byte_source_fd_read, &t->fd};
    t->fd = tmp_open(t->j, &t->err);
    t->rc =
        t->fd < 0 ? -1 : registry_client_get_blob_fd(t->j->client, d->digest, d->size, t->fd, on_progress, t, &t->err);
    if (t->rc < 0) {
        isd_error_wrap(&t->err, "download layer `%s`", t->id);
        return;
    }
    emit(t, "Verifying Checksum");
    emit(t, "Download complete");
    emit(t, "Extracting");
    if (lseek(t->fd, 0, SEEK_SET) < 0) {
        t->rc = isd_error_errno(&t->err, "rewind blob");
        return;
    }
    t->st = layer_store_stage(t->j->layers, &src, t->fd, &t->err);
    if (t->st == NULL)
        t->rc = isd_error_wrap(&t->err, "apply layer `%s`", t->id);
    close(t->fd);
    t->fd = -1;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        struct task *t = NULL;
        pthread_mutex_lock(&p->lock);
        for (size_t i = 0; i < p->n && t == NULL && !p->abort; i++)
            if (p->t[i].state == T_OWNED && !p->t[i].started)
                t = &p->t[i];
        if (t != NULL)
            t->started = true;
        pthread_mutex_unlock(&p->lock);
        if (t == NULL)
            return NULL;
        fetch(t);
        pthread_mutex_lock(&p->lock);
        t->done = true;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Takes a reference on the longest present prefix of the chain; returns its length. */
static size_t present_prefix(struct pull_layers_job *j, char **cur)
{
    size_t m = 0;
    struct layer_store *ls = j->layers;
    while (j->chain_ids[m] != NULL && layer_store_ref(ls, j->chain_ids[m], NULL) == 0) {
        if (*cur != NULL)
            layer_store_unref(ls, *cur, NULL, NULL);
        free(*cur);
        *cur = xstrdup(j->chain_ids[m]);
        m++;
    }
    return m;
}

static void tasks_init(struct pool *p, size_t m)
{
    pthread_mutex_lock(&claims_lock);
    for (size_t i = 0; i < p->n; i++) {
        struct task *t = &p->t[i];
        t->j = p->j;
        t->idx = i;
        t->fd = -1;
        snprintf(t->id, sizeof(t->id), "%.12s", digest_strip(p->j->manifest->layers[i].digest));
        if (i < m)
            t->state = T_PRESENT;
        else
            t->state = claim_locked(p->j->layers, p->j->chain_ids[i]) ? T_OWNED : T_OTHER;
        t->claimed = t->state == T_OWNED;
    }
    pthread_mutex_unlock(&claims_lock);
    for (size_t i = 0; i < p->n; i++)
        emit(&p->t[i], p->t[i].state == T_PRESENT ? "Already exists"
                                                  : (p->t[i].state == T_OWNED ? "Pulling fs layer" : "Waiting"));
}

/* Moves the pull's reference from *cur to chain (already referenced by the caller). */
static void advance(struct pull_layers_job *j, char **cur, char *chain)
{
    if (*cur != NULL)
        layer_store_unref(j->layers, *cur, NULL, NULL);
    free(*cur);
    *cur = chain;
}

static int apply_owned(struct pool *p, struct task *t, char **cur, struct isd_error **err)
{
    char *chain = NULL;
    bool here;
    int rc;
    pthread_mutex_lock(&p->lock);
    while (t->started && !t->done)
        pthread_cond_wait(&p->cond, &p->lock);
    here = !t->started; /* claimed late, or no worker got to it yet: download in this thread */
    t->started = true;
    pthread_mutex_unlock(&p->lock);
    if (here) {
        fetch(t);
        t->done = true;
    }
    if (registry_client_cancelled(p->j->client))
        return isd_error_set(err, ISD_ERR_INTERNAL, ECANCELED, "pull cancelled: the client went away");
    if (t->rc < 0) {
        *err = TAKE_PTR(t->err);
        return -1;
    }
    rc = layer_store_commit(p->j->layers, *cur, TAKE_PTR(t->st), p->j->diff_ids[t->idx], &chain, NULL, err);
    if (rc < 0)
        return isd_error_wrap(err, "apply layer `%s`", t->id);
    claim_release(p->j->layers, p->j->chain_ids[t->idx]);
    t->claimed = false;
    advance(p->j, cur, chain);
    emit(t, "Pull complete");
    return 0;
}

/* A layer another pull claimed: wait for it, use it, or take it over when that pull failed. */
static int apply_other(struct pool *p, struct task *t, char **cur, struct isd_error **err)
{
    struct layer_store *ls = p->j->layers;
    const char *chain = p->j->chain_ids[t->idx];
    for (;;) {
        if (claim_wait(ls, chain)) {
            pthread_mutex_lock(&p->lock);
            t->state = T_OWNED;
            t->claimed = true;
            pthread_mutex_unlock(&p->lock);
            emit(t, "Pulling fs layer");
            return apply_owned(p, t, cur, err);
        }
        if (layer_store_ref(ls, chain, NULL) == 0) {
            advance(p->j, cur, xstrdup(chain));
            emit(t, "Already exists");
            return 0;
        }
    }
}

static void pool_finish(struct pool *p, pthread_t *threads, size_t nthreads, bool failed)
{
    pthread_mutex_lock(&p->lock);
    p->abort = failed;
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < p->n; i++) {
        if (p->t[i].claimed)
            claim_release(p->j->layers, p->j->chain_ids[i]);
        if (p->t[i].fd >= 0)
            close(p->t[i].fd);
        layer_staged_discard(p->t[i].st);
        isd_error_free(p->t[i].err);
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->cond);
    free(p->t);
}

int pull_layers(struct pull_layers_job *j, char **ret_top, struct isd_error **err)
{
    struct pool p = {.j = j, .n = j->manifest->n_layers};
    pthread_t threads[PULL_PARALLEL];
    size_t nthreads = 0, m;
    char *cur = NULL;
    int rc = 0;
    p.t = xcalloc(p.n + 1, sizeof(*p.t));
    pthread_mutex_init(&p.lock, NULL);
    pthread_cond_init(&p.cond, NULL);
    m = present_prefix(j, &cur);
    tasks_init(&p, m);
    for (size_t i = 0; i < PULL_PARALLEL && i < p.n - m; i++)
        if (pthread_create(&threads[nthreads], NULL, worker, &p) == 0)
            nthreads++;
    for (size_t i = m; i < p.n && rc == 0; i++)
        rc = p.t[i].state == T_OWNED ? apply_owned(&p, &p.t[i], &cur, err) : apply_other(&p, &p.t[i], &cur, err);
    pool_finish(&p, threads, nthreads, rc < 0);
    if (rc < 0) {
        if (cur != NULL)
            layer_store_unref(j->layers, cur, NULL, NULL);
        free(cur);
        return -1;
    }
    *ret_top = cur;
    return 0;
}
