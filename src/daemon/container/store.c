/* The container store: a common/store table of container references, names unique; see container.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/store.h"
#include "common/util.h"
#include "daemon/container/container.h"

struct container_store {
    struct store *table;
};

static const char *ctr_id(const void *item)
{
    return ((const struct container *)item)->id;
}

static bool ctr_has_name(const void *item, const char *name)
{
    return strcmp(((const struct container *)item)->name, name) == 0;
}

static void *ctr_ref(void *item)
{
    return container_ref(item);
}

static void ctr_release(void *item)
{
    container_unref(item);
}

static const struct store_ops container_store_ops = {
    .id = ctr_id,
    .has_name = ctr_has_name,
    .ref = ctr_ref,
    .release = ctr_release,
};

struct container_store *container_store_new(void)
{
    struct container_store *s = xcalloc(1, sizeof(*s));
    s->table = store_new(&container_store_ops);
    return s;
}

void container_store_free(struct container_store *s)
{
    if (s == NULL)
        return;
    store_free(s->table);
    free(s);
}

bool container_name_valid(const char *name)
{
    if (name == NULL || !isalnum((unsigned char)name[0]) || strlen(name) > 253)
        return false;
    for (const char *p = name + 1; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
            return false;
    return name[1] != '\0';
}

int container_store_add(struct container_store *s, struct container *c, struct isd_error **err)
{
    struct container *other;
    int r = 0;
    store_lock(s->table);
    other = store_find_name_locked(s->table, c->name);
    if (other != NULL)
        r = isd_error_set(err, ISD_ERR_CONFLICT, 0,
                          "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to "
                          "remove (or rename) that container to be able to reuse that name.",
                          c->name, other->id);
    else if (store_add_locked(s->table, c) < 0)
        r = isd_error_set(err, ISD_ERR_CONFLICT, 0, "container id `%s` is already in use", c->id);
    else
        container_ref(c);
    store_unlock(s->table);
    return r;
}

void container_store_remove(struct container_store *s, struct container *c)
{
    bool removed;
    store_lock(s->table);
    removed = store_remove_locked(s->table, c);
    store_unlock(s->table);
    if (removed)
        container_unref(c);
}

struct container *container_store_lookup(struct container_store *s, const char *ref, struct isd_error **err)
{
    void *found = NULL;
    if (ref == NULL || *ref == '\0') {
        isd_error_set(err, ISD_ERR_INVALID, 0, "container name or ID is empty");
        return NULL;
    }
    if (ref[0] == '/')
        ref++;
    switch (store_lookup(s->table, ref, &found)) {
    case STORE_MATCH_ONE:
        return found;
    case STORE_MATCH_AMBIGUOUS:
        isd_error_set(err, ISD_ERR_INVALID, 0, "multiple IDs found with provided prefix: %s", ref);
        return NULL;
    case STORE_MATCH_NONE:
        break;
    }
    isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such container: %s", ref);
    return NULL;
}

struct container **container_store_list(struct container_store *s, size_t *ret_n)
{
    return (struct container **)store_snapshot(s->table, ret_n);
}

void container_list_free(struct container **v)
{
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        container_unref(v[i]);
    free(v);
}

int container_store_rename(struct container_store *s, struct container *c, const char *new_name, struct isd_error **err)
{
    struct container *other;
    if (!container_name_valid(new_name))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", new_name);
    store_lock(s->table);
    other = store_find_name_locked(s->table, new_name);
    if (other != NULL && other != c) {
        store_unlock(s->table);
        return isd_error_set(err, ISD_ERR_CONFLICT, 0,
                             "Conflict. The container name \"/%s\" is already in use by container \"%s\"", new_name,
                             other->id);
    }
    free(c->name);
    c->name = xstrdup(new_name);
    store_unlock(s->table);
    return 0;
}
