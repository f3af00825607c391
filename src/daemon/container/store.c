#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/container/container.h"

struct container_store {
    pthread_mutex_t lock;
    struct container **items;
    size_t n, cap;
};

struct container_store *container_store_new(void)
{
    struct container_store *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

void container_store_free(struct container_store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n; i++)
        container_unref(s->items[i]);
    free(s->items);
    pthread_mutex_destroy(&s->lock);
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

/* Called with s->lock held. */
static struct container *find_name(struct container_store *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->items[i]->name, name) == 0)
            return s->items[i];
    return NULL;
}

int container_store_add(struct container_store *s, struct container *c, struct isd_error **err)
{
    struct container *other;
    pthread_mutex_lock(&s->lock);
    other = find_name(s, c->name);
    if (other != NULL) {
        isd_error_set(err, ISD_ERR_CONFLICT, 0,
                      "Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to "
                      "remove (or rename) that container to be able to reuse that name.",
                      c->name, other->id);
        pthread_mutex_unlock(&s->lock);
        return -1;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
    }
    s->items[s->n++] = container_ref(c);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void container_store_remove(struct container_store *s, struct container *c)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n; i++) {
        if (s->items[i] == c) {
            s->items[i] = s->items[--s->n];
            container_unref(c);
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

struct container *container_store_lookup(struct container_store *s, const char *ref, struct isd_error **err)
{
    struct container *found = NULL;
    size_t len;
    int matches = 0;
    if (ref == NULL || *ref == '\0') {
        isd_error_set(err, ISD_ERR_INVALID, 0, "container name or ID is empty");
        return NULL;
    }
    if (ref[0] == '/')
        ref++;
    len = strlen(ref);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->n && found == NULL; i++)
        if (strcmp(s->items[i]->id, ref) == 0)
            found = s->items[i];
    if (found == NULL)
        found = find_name(s, ref);
    if (found == NULL) {
        for (size_t i = 0; i < s->n; i++) {
            if (strncmp(s->items[i]->id, ref, len) == 0) {
                found = s->items[i];
                matches++;
            }
        }
        if (matches > 1) {
            pthread_mutex_unlock(&s->lock);
            isd_error_set(err, ISD_ERR_INVALID, 0, "multiple IDs found with provided prefix: %s", ref);
            return NULL;
        }
    }
    if (found != NULL)
        container_ref(found);
    pthread_mutex_unlock(&s->lock);
    if (found == NULL)
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such container: %s", ref);
    return found;
}

struct container **container_store_list(struct container_store *s, size_t *ret_n)
{
    struct container **v;
    pthread_mutex_lock(&s->lock);
    v = xcalloc(s->n + 1, sizeof(*v));
    for (size_t i = 0; i < s->n; i++)
        v[i] = container_ref(s->items[i]);
    if (ret_n != NULL)
        *ret_n = s->n;
    pthread_mutex_unlock(&s->lock);
    return v;
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
    pthread_mutex_lock(&s->lock);
    other = find_name(s, new_name);
    if (other != NULL && other != c) {
        pthread_mutex_unlock(&s->lock);
        return isd_error_set(err, ISD_ERR_CONFLICT, 0,
                             "Conflict. The container name \"/%s\" is already in use by container \"%s\"", new_name,
                             other->id);
    }
    free(c->name);
    c->name = xstrdup(new_name);
    pthread_mutex_unlock(&s->lock);
    return 0;
}
