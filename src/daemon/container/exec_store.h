/*
 * The exec store: the exec instances of the running containers (POST /containers/{id}/exec), by id. The
 * store's lock guards the list and every field of its execs; the execs hold a reference on their container.
 * An exec lives until its container is removed (exec_store_forget_container) or the store is freed.
 */
#ifndef ISD_DAEMON_CONTAINER_EXEC_STORE_H
#define ISD_DAEMON_CONTAINER_EXEC_STORE_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "daemon/container/container.h"

struct exec {
    struct exec *next;
    char *id;
    struct container *c;
    json_t *body;
    bool started, running;
    bool attached;            /* the shim's attach socket is up: resizes go straight to it */
    int pending_h, pending_w; /* a resize that came before, sent once attached */
    bool end_tty_input;       /* with a tty, the end of the client's stdin is the end of the terminal's input (CRI) */
    int exit_code;
    int start_error; /* an enum isd_error_code when the process could not be started, else 0 */
    pid_t pid;
    char *dir;
};

struct exec_store {
    pthread_mutex_t lock;
    struct exec *head;
};

struct exec_store *exec_store_new(void);
void exec_store_free(struct exec_store *s);
/* Adds e (taken). */
void exec_store_add(struct exec_store *s, struct exec *e);
/* By full id; NULL when unknown. Called with the store lock held. */
struct exec *exec_store_find(struct exec_store *s, const char *id);
/* Drops exec id when it has finished (CRI ExecSync leaves nothing behind); returns its directory for the caller
 * to remove, NULL when id is unknown or still running. */
char *exec_store_remove_finished(struct exec_store *s, const char *id);
/* Drops the finished execs of a removed container. */
void exec_store_forget_container(struct exec_store *s, const struct container *c);

#endif
