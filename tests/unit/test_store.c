#include "harness.h"

#include <pthread.h>

#include "common/store.h"
#include "common/util.h"

/* A refcounted test object, like a container. */
struct obj {
    int refs;
    char *id;
    char *name;
};

static int objs_alive;

static struct obj *obj_new(const char *id, const char *name)
{
    struct obj *o = xcalloc(1, sizeof(*o));
    o->refs = 1;
    o->id = xstrdup(id);
    o->name = xstrdup(name);
    __atomic_add_fetch(&objs_alive, 1, __ATOMIC_SEQ_CST);
    return o;
}

static void obj_unref(struct obj *o)
{
    if (o == NULL || __atomic_sub_fetch(&o->refs, 1, __ATOMIC_SEQ_CST) > 0)
        return;
    free(o->id);
    free(o->name);
    free(o);
    __atomic_sub_fetch(&objs_alive, 1, __ATOMIC_SEQ_CST);
}

static const char *obj_id(const void *item)
{
    return ((const struct obj *)item)->id;
}

static bool obj_has_name(const void *item, const char *name)
{
    return strcmp(((const struct obj *)item)->name, name) == 0;
}

static void *obj_ref(void *item)
{
    __atomic_add_fetch(&((struct obj *)item)->refs, 1, __ATOMIC_SEQ_CST);
    return item;
}

static void obj_release(void *item)
{
    obj_unref(item);
}

static const struct store_ops obj_ops = {
    .id = obj_id, .has_name = obj_has_name, .ref = obj_ref, .release = obj_release};

/* Adds a new object, the store taking over its only reference. */
static int add(struct store *s, const char *id, const char *name)
{
    struct obj *o = obj_new(id, name);
    if (store_add(s, o) == 0)
        return 0;
    obj_unref(o);
    return -1;
}

static struct obj *lookup(struct store *s, const char *ref, enum store_match *ret_m)
{
    void *found = NULL;
    *ret_m = store_lookup(s, ref, &found);
    return found;
}

TEST(add_and_lookup_by_id_name_prefix)
{
    struct store *s = store_new(&obj_ops);
    enum store_match m;
    struct obj *o;
    ASSERT_INT_EQ(add(s, "abc123", "web"), 0);
    ASSERT_INT_EQ(add(s, "def456", "db"), 0);
    ASSERT_INT_EQ(add(s, "abc123", "again"), -1); /* duplicate id refused, the caller keeps its hold */

    o = lookup(s, "def456", &m);
    ASSERT_INT_EQ(m, STORE_MATCH_ONE);
    ASSERT_STR_EQ(o->name, "db");
    ASSERT_INT_EQ(o->refs, 2); /* the store's and ours */
    obj_unref(o);

    o = lookup(s, "web", &m);
    ASSERT_INT_EQ(m, STORE_MATCH_ONE);
    ASSERT_STR_EQ(o->id, "abc123");
    obj_unref(o);

    o = lookup(s, "de", &m);
    ASSERT_INT_EQ(m, STORE_MATCH_ONE);
    ASSERT_STR_EQ(o->id, "def456");
    obj_unref(o);

    o = lookup(s, "xyz", &m);
    ASSERT_INT_EQ(m, STORE_MATCH_NONE);
    ASSERT_TRUE(o == NULL);
    store_free(s);
    ASSERT_INT_EQ(objs_alive, 0);
}

TEST(id_wins_over_name_and_name_over_prefix)
{
    struct store *s = store_new(&obj_ops);
    enum store_match m;
    struct obj *o;
    ASSERT_INT_EQ(add(s, "aaa111", "bbb"), 0);
    ASSERT_INT_EQ(add(s, "bbb222", "aaa111"), 0); /* named like the other's id */
    ASSERT_INT_EQ(add(s, "bbb333", "x"), 0);
    o = lookup(s, "aaa111", &m);
    ASSERT_STR_EQ(o->id, "aaa111");
    obj_unref(o);
    o = lookup(s, "bbb", &m); /* a name, although also an ambiguous prefix */
    ASSERT_INT_EQ(m, STORE_MATCH_ONE);
    ASSERT_STR_EQ(o->id, "aaa111");
    obj_unref(o);
    store_free(s);
    ASSERT_INT_EQ(objs_alive, 0);
}

TEST(ambiguous_prefix)
{
    struct store *s = store_new(&obj_ops);
    void *found = NULL;
    enum store_match m;
    ASSERT_INT_EQ(add(s, "abc123", "one"), 0);
    ASSERT_INT_EQ(add(s, "abd456", "two"), 0);
    lookup(s, "ab", &m);
    ASSERT_INT_EQ(m, STORE_MATCH_AMBIGUOUS);
    store_lock(s);
    ASSERT_INT_EQ(store_find_prefix_locked(s, "a", &found), STORE_MATCH_AMBIGUOUS);
    ASSERT_TRUE(found == NULL); /* written only for one match */
    ASSERT_INT_EQ(store_find_prefix_locked(s, "abd", &found), STORE_MATCH_ONE);
    ASSERT_STR_EQ(((struct obj *)found)->name, "two");
    ASSERT_INT_EQ(store_find_prefix_locked(s, "b", &found), STORE_MATCH_NONE);
    store_unlock(s);
    store_free(s);
    ASSERT_INT_EQ(objs_alive, 0);
}

static bool name_is(const void *item, const void *arg)
{
    return strcmp(((const struct obj *)item)->name, arg) == 0;
}

TEST(remove_hands_back_and_keeps_order)
{
    struct store *s = store_new(&obj_ops);
    struct obj **v;
    struct obj *o;
    size_t n = 0;
    ASSERT_INT_EQ(add(s, "id1", "a"), 0);
    ASSERT_INT_EQ(add(s, "id2", "b"), 0);
    ASSERT_INT_EQ(add(s, "id3", "c"), 0);
    store_lock(s);
    o = store_find_locked(s, name_is, "a");
    ASSERT_TRUE(o != NULL && store_remove_locked(s, o));
    ASSERT_TRUE(!store_remove_locked(s, o));
    ASSERT_INT_EQ(store_count_locked(s), 2);
    ASSERT_TRUE(store_find_id_locked(s, "id1") == NULL);
    ASSERT_TRUE(store_at_locked(s, 2) == NULL);
    store_unlock(s);
    ASSERT_INT_EQ(o->refs, 1); /* the store's hold, now ours */
    obj_unref(o);
    ASSERT_INT_EQ(objs_alive, 2);

    v = (struct obj **)store_snapshot(s, &n);
    ASSERT_INT_EQ(n, 2);
    ASSERT_STR_EQ(v[0]->id, "id2");
    ASSERT_STR_EQ(v[1]->id, "id3");
    ASSERT_TRUE(v[2] == NULL);
    store_free(s);
    ASSERT_INT_EQ(objs_alive, 2); /* the snapshot's references keep them */
    obj_unref(v[0]);
    obj_unref(v[1]);
    free(v);
    ASSERT_INT_EQ(objs_alive, 0);
}

/* Owned entries without refcounts, like layers: the table frees them. */
static int plain_freed;

static void plain_release(void *item)
{
    free(item);
    plain_freed++;
}

static const char *plain_id(const void *item)
{
    return item;
}

TEST(owned_entries_are_released_by_the_store)
{
    static const struct store_ops ops = {.id = plain_id, .release = plain_release};
    struct store *s = store_new(&ops);
    void *found = NULL;
    ASSERT_INT_EQ(store_add(s, xstrdup("one")), 0);
    ASSERT_INT_EQ(store_add(s, xstrdup("two")), 0);
    store_lock(s);
    ASSERT_TRUE(store_find_name_locked(s, "one") == NULL); /* no names without has_name */
    ASSERT_INT_EQ(store_resolve_locked(s, "tw", &found), STORE_MATCH_ONE);
    ASSERT_STR_EQ(found, "two");
    store_unlock(s);
    store_free(s);
    ASSERT_INT_EQ(plain_freed, 2);
}

#define THREADS 4
#define PER_THREAD 200

static void *worker(void *arg)
{
    struct store *s = arg;
    unsigned long self = (unsigned long)pthread_self();
    for (int i = 0; i < PER_THREAD; i++) {
        cleanup_free char *id = xasprintf("%016lx-%04d", self, i);
        cleanup_free char *name = xasprintf("n-%lx-%d", self, i);
        struct obj **v;
        enum store_match m;
        struct obj *o;
        if (add(s, id, name) < 0)
            return (void *)1;
        o = lookup(s, name, &m);
        if (m != STORE_MATCH_ONE || strcmp(o->id, id) != 0)
            return (void *)2;
        if (i % 2 == 0) { /* remove every other one again */
            bool removed;
            store_lock(s);
            removed = store_remove_locked(s, o);
            store_unlock(s);
            if (!removed)
                return (void *)3;
            obj_unref(o); /* the store's hold */
        }
        obj_unref(o);
        v = (struct obj **)store_snapshot(s, NULL);
        for (size_t k = 0; v[k] != NULL; k++)
            obj_unref(v[k]);
        free(v);
    }
    return NULL;
}

TEST(concurrent_use_from_threads)
{
    struct store *s = store_new(&obj_ops);
    pthread_t t[THREADS];
    size_t n;
    for (int i = 0; i < THREADS; i++)
        ASSERT_INT_EQ(pthread_create(&t[i], NULL, worker, s), 0);
    for (int i = 0; i < THREADS; i++) {
        void *r = NULL;
        ASSERT_INT_EQ(pthread_join(t[i], &r), 0);
        ASSERT_TRUE(r == NULL);
    }
    store_lock(s);
    n = store_count_locked(s);
    for (size_t i = 0; i < n; i++)
        ASSERT_INT_EQ(((struct obj *)store_at_locked(s, i))->refs, 1);
    store_unlock(s);
    ASSERT_INT_EQ(n, THREADS * PER_THREAD / 2);
    ASSERT_INT_EQ(objs_alive, THREADS * PER_THREAD / 2);
    store_free(s);
    ASSERT_INT_EQ(objs_alive, 0);
}

RUN_TESTS()
