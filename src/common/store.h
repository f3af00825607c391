/*
 * A table of entries keyed by a string id, with lookup by name and by unique id prefix: the one table under
 * the image, layer and container stores (which keep their own records, files and error messages).
 *
 * Entries are the caller's objects, described by a `struct store_ops`. The table holds one hold on each
 * entry: a reference for refcounted objects, ownership otherwise. store_free drops every hold with
 * ops->release; store_remove_locked hands the hold back to the caller instead.
 *
 * Locking: one mutex per store, not recursive. Functions named *_locked require it, taken by the caller with
 * store_lock/store_unlock, who may do several steps under it (find an entry, change it, persist it); the
 * other functions take it themselves (while one thread alone builds a store, before sharing it, the *_locked
 * functions may run without it). Never hold it across a runtime call, a registry request or tar work.
 * The ops callbacks run with the lock held: they must not block, call into the store, or take a lock that
 * anyone holds while taking the store lock (the store lock is taken last: an entry's own lock, then the
 * store lock, never the reverse).
 *
 * Lifetime: what the *_locked finders and store_at_locked return is borrowed and valid while the lock stays
 * held (a removal under the lock ends it). store_lookup and store_snapshot hand out what ops->ref makes (a
 * new reference, or a deep copy), which the caller owns and releases with the object's own function.
 *
 * Order: entries keep their insertion order (store_at_locked, store_snapshot); a removal keeps the order of
 * the others. Lookups scan the table: stores hold hundreds to a few thousand entries.
 */
#ifndef ISD_COMMON_STORE_H
#define ISD_COMMON_STORE_H

#include <stdbool.h>
#include <stddef.h>

struct store_ops {
    /* The entry's id; must not change while the entry is in the store. Required. */
    const char *(*id)(const void *item);
    /* Optional: whether name (a name or an alias) designates the entry; store_lookup tries it after the id. */
    bool (*has_name)(const void *item, const char *name);
    /* Optional: what a caller outside the lock gets (a new reference or a deep copy). Needed by store_lookup
     * and store_snapshot. */
    void *(*ref)(void *item);
    /* Drops the store's hold on an entry (unref or free). Required. */
    void (*release)(void *item);
};

enum store_match {
    STORE_MATCH_NONE,      /* not found */
    STORE_MATCH_ONE,       /* found; *ret set */
    STORE_MATCH_AMBIGUOUS, /* a prefix that more than one id starts with */
};

struct store;

/* ops must outlive the store. */
struct store *store_new(const struct store_ops *ops);
/* Releases every entry; NULL-safe. No other thread may use the store any more. */
void store_free(struct store *s);

void store_lock(struct store *s);
void store_unlock(struct store *s);

/* Adds item, taking over the caller's hold on it; -1 (the hold stays with the caller) when an entry with the
 * same id is already there. */
int store_add_locked(struct store *s, void *item);
int store_add(struct store *s, void *item);
/* Takes item out of the table and gives the store's hold on it to the caller; false when it is not in. */
bool store_remove_locked(struct store *s, const void *item);

size_t store_count_locked(const struct store *s);
/* The i-th entry (i < store_count_locked), borrowed. */
void *store_at_locked(const struct store *s, size_t i);

/* Borrowed entry, or NULL. */
void *store_find_id_locked(const struct store *s, const char *id);
void *store_find_name_locked(const struct store *s, const char *name);
/* The first entry match accepts (called in insertion order with arg), or NULL. */
void *store_find_locked(const struct store *s, bool (*match)(const void *item, const void *arg), const void *arg);
/* The one entry whose id starts with prefix; *ret (borrowed) is written only for STORE_MATCH_ONE. Callers
 * check the prefix first (e.g. a minimum length): an empty prefix matches every id. */
enum store_match store_find_prefix_locked(const struct store *s, const char *prefix, void **ret);
/* ref as an id, else as a name (ops->has_name), else as a unique id prefix. */
enum store_match store_resolve_locked(const struct store *s, const char *ref, void **ret);

/* store_resolve_locked under the lock; *ret gets ops->ref of the entry (the caller's to release). */
enum store_match store_lookup(struct store *s, const char *ref, void **ret);
/* ops->ref of every entry, in order, in a NULL-terminated array (free the array with free() after releasing
 * the entries); *ret_n (may be NULL) gets the count. Callers cast the array to their type's pointer array. */
void **store_snapshot(struct store *s, size_t *ret_n);

#endif
