/* The exec store (exec_store.h). */
#include <stdlib.h>

#include "common/util.h"
#include "daemon/container/exec_store.h"

struct exec_store *exec_store_new(void)
{
    struct exec_store *s = xcalloc(1, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void exec_free(struct exec *e)
{
    container_unref(e->c);
    json_decref(e->body);
    free(e->id);
    free(e->dir);
    free(e);
}

void exec_store_free(struct exec_store *s)
{
    if (s == NULL)
        return;
    while (s->head != NULL) {
        struct exec *e = s->head;
        s->head = e->next;
        exec_free(e);
    }
    free(s);
}

void exec_store_forget_container(struct exec_store *s, const struct container *c)
{
    struct exec **pp;
    pthread_mutex_lock(&s->lock);
    pp = &s->head;
    while (*pp != NULL) {
        struct exec *e = *pp;
        if (e->c == c && !e->running) {
            *pp = e->next;
            exec_free(e);
        } else {
            pp = &e->next;
        }
    }
    pthread_mutex_unlock(&s->lock);
}

void exec_store_add(struct exec_store *s, struct exec *e)
{
    pthread_mutex_lock(&s->lock);
    e->next = s->head;
    s->head = e;
    pthread_mutex_unlock(&s->lock);
}

struct exec *exec_store_find(struct exec_store *s, const char *id)
{
    for (struct exec *e = s->head; e != NULL; e = e->next)
        if (streq(e->id, id))
            return e;
    return NULL;
}

char *exec_store_remove_finished(struct exec_store *s, const char *id)
{
    char *dir = NULL;
    pthread_mutex_lock(&s->lock);
    for (struct exec **pp = &s->head; *pp != NULL; pp = &(*pp)->next) {
        struct exec *e = *pp;
        if (!streq(e->id, id))
            continue;
        if (e->started && !e->running) {
            *pp = e->next;
            dir = TAKE_PTR(e->dir);
            exec_free(e);
        }
        break;
    }
    pthread_mutex_unlock(&s->lock);
    return dir;
}
