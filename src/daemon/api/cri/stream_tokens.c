/* The streaming server's one-time tokens (stream_internal.h): a list under one mutex, swept of expired entries at
 * every call; the clock is the caller's, so tests can move it. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/api/cri/stream_internal.h"

struct token {
    char *token;
    struct stream_request *r;
    long long expires_ns;
    struct token *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct token *tokens;
static size_t n_tokens;

void stream_request_free(struct stream_request *r)
{
    if (r == NULL)
        return;
    free(r->id);
    strv_free(r->cmd);
    free(r->ports);
    free(r);
}

static void token_free(struct token *t)
{
    stream_request_free(t->r);
    free(t->token);
    free(t);
}

/* With lock held; before = every entry that expires before it goes (LLONG_MAX: all). */
static void sweep(long long before)
{
    for (struct token **p = &tokens; *p != NULL;) {
        struct token *t = *p;
        if (t->expires_ns > before) {
            p = &t->next;
            continue;
        }
        *p = t->next;
        token_free(t);
        n_tokens--;
    }
}

char *stream_token_put(struct stream_request *r, long long now, struct isd_error **err)
{
    struct token *t;
    char *token;
    pthread_mutex_lock(&lock);
    sweep(now);
    if (n_tokens >= STREAM_TOKEN_MAX) {
        pthread_mutex_unlock(&lock);
        stream_request_free(r);
        isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "too many streaming requests in flight (%d)", STREAM_TOKEN_MAX);
        return NULL;
    }
    t = xcalloc(1, sizeof(*t));
    t->token = random_hex(32);
    t->r = r;
    t->expires_ns = now + STREAM_TOKEN_TTL_NS;
    t->next = tokens;
    tokens = t;
    n_tokens++;
    token = xstrdup(t->token);
    pthread_mutex_unlock(&lock);
    return token;
}

struct stream_request *stream_token_take(const char *token, long long now)
{
    struct stream_request *r = NULL;
    pthread_mutex_lock(&lock);
    sweep(now);
    for (struct token **p = &tokens; *p != NULL; p = &(*p)->next) {
        struct token *t = *p;
        if (strcmp(t->token, token) != 0)
            continue;
        *p = t->next;
        r = TAKE_PTR(t->r);
        token_free(t);
        n_tokens--;
        break;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

void stream_tokens_clear(void)
{
    pthread_mutex_lock(&lock);
    sweep(LLONG_MAX);
    pthread_mutex_unlock(&lock);
}
