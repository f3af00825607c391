#include "common/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct store {
    pthread_mutex_t lock;
    const struct store_ops *ops;
    void **v;
    size_t n, cap;
};

struct store *store_new(const struct store_ops *ops)
{
    struct store *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    s->ops = ops;
    return s;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        s->ops->release(s->v[i]);
    free(s->v);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void store_lock(struct store *s)
{
    pthread_mutex_lock(&s->lock);
}

void store_unlock(struct store *s)
{
    pthread_mutex_unlock(&s->lock);
}

int store_add_locked(struct store *s, void *item)
{
    if (store_find_id_locked(s, s->ops->id(item)) != NULL)
        return -1;
    if (s->n == s->cap) {
        s->cap = s->cap != 0 ? s->cap * 2 : 16;
        s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
    }
    s->v[s->n++] = item;
    return 0;
}

int store_add(struct store *s, void *item)
{
    int r;
    store_lock(s);
    r = store_add_locked(s, item);
    store_unlock(s);
    return r;
}

bool store_remove_locked(struct store *s, const void *item)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] == item) {
            memmove(&s->v[i], &s->v[i + 1], (s->n - i - 1) * sizeof(*s->v));
            s->n--;
            return true;
        }
    }
    return false;
}

size_t store_count_locked(const struct store *s)
{
    return s->n;
}

void *store_at_locked(const struct store *s, size_t i)
{
    return i < s->n ? s->v[i] : NULL;
}

void *store_find_id_locked(const struct store *s, const char *id)
{
    for (size_t i = 0; id != NULL && i < s->n; i++) {
        if (strcmp(s->ops->id(s->v[i]), id) == 0)
            return s->v[i];
    }
    return NULL;
}

void *store_find_name_locked(const struct store *s, const char *name)
{
    for (size_t i = 0; name != NULL && s->ops->has_name != NULL && i < s->n; i++) {
        if (s->ops->has_name(s->v[i], name))
            return s->v[i];
    }
    return NULL;
}

void *store_find_locked(const struct store *s, bool (*match)(const void *item, const void *arg), const void *arg)
{
    for (size_t i = 0; i < s->n; i++) {
        if (match(s->v[i], arg))
            return s->v[i];
    }
    return NULL;
}

enum store_match store_find_prefix_locked(const struct store *s, const char *prefix, void **ret)
{
    size_t len = strlen(prefix);
    void *found = NULL;
    for (size_t i = 0; i < s->n; i++) {
        if (strncmp(s->ops->id(s->v[i]), prefix, len) != 0)
            continue;
        if (found != NULL)
            return STORE_MATCH_AMBIGUOUS;
        found = s->v[i];
    }
    if (found == NULL)
        return STORE_MATCH_NONE;
    *ret = found;
    return STORE_MATCH_ONE;
}

enum store_match store_resolve_locked(const struct store *s, const char *ref, void **ret)
{
    void *found = store_find_id_locked(s, ref);
    if (found == NULL)
        found = store_find_name_locked(s, ref);
    if (found == NULL)
        return store_find_prefix_locked(s, ref, ret);
    *ret = found;
    return STORE_MATCH_ONE;
}

enum store_match store_lookup(struct store *s, const char *ref, void **ret)
{
    void *found = NULL;
    enum store_match m;
    store_lock(s);
    m = store_resolve_locked(s, ref, &found);
    if (m == STORE_MATCH_ONE)
        *ret = s->ops->ref(found);
    store_unlock(s);
    return m;
}

void **store_snapshot(struct store *s, size_t *ret_n)
{
    void **v;
    store_lock(s);
    v = xcalloc(s->n + 1, sizeof(*v));
    for (size_t i = 0; i < s->n; i++)
        v[i] = s->ops->ref(s->v[i]);
    if (ret_n != NULL)
        *ret_n = s->n;
    store_unlock(s);
    return v;
}
