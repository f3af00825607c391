/*
 * Container objects and the container store.
 *
 * A container is refcounted; the store hands out references (container_unref when done). Each container
 * has one mutex (`lock`) that serialises operations on it and guards every mutable field below; the
 * store's own lock guards only its tables and is never held across I/O or while taking a container lock
 * in the other order (lock order: container lock, then store lock, never the reverse).
 * Records live in <graph>/containers/<id>/container.json, written atomically on every state change.
 */
#ifndef ISD_DAEMON_CONTAINER_H
#define ISD_DAEMON_CONTAINER_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

enum container_status {
    CT_CREATED, /* shown as "inited" by isula, "created" on the Docker API */
    CT_RUNNING,
    CT_PAUSED,
    CT_RESTARTING,
    CT_EXITED,
    CT_REMOVING,
    CT_DEAD,
};

struct container {
    int refs;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* broadcast on every state change, with lock held */
    unsigned long generation;

    char *id;
    char *name;
    long long created_ns;
    char *image_ref; /* as the user named it */
    char *image_id;  /* 64 hex, NULL for an external rootfs */
    char *external_rootfs;
    char *runtime;
    /* Docker's AppArmorProfile: the profile of the last spec generated (create, start); "unconfined" when the host
     * has AppArmor and the container runs without a profile; NULL (shown "") on a host without AppArmor. */
    char *apparmor_profile;
    json_t *config;      /* merged Config (Docker shape) */
    json_t *host_config; /* HostConfig as given (Docker shape) */
    /* --volumes-from as resolved at create, Docker's copy of the sources' mount points: {"Binds": [...], "Mounts":
     * [...]} with volumes by name (service/volumes.c); NULL without --volumes-from or for records made before. */
    json_t *volumes_from;

    enum container_status status;
    pid_t pid;
    int pidfd; /* of pid while active, -1 otherwise: signals without a runtime call and without pid reuse races */
    pid_t shim_pid;
    int exit_code;
    bool oom_killed;
    char *error;
    long long started_ns;
    long long finished_ns;
    int restart_count;
    json_t *health;             /* Docker's State.Health {Status, FailingStreak, Log}; NULL without a health check */
    long long restart_delay_ns; /* the restart policy's back-off: 100 ms doubling, reset after a run of 10 s */
    bool manually_stopped;      /* stop/kill by a user: no restart for unless-stopped/always until started again */
    bool has_rootfs_mounted;
    int rootfs_users;     /* cp calls using the rootfs of a stopped container: the last one unmounts it (lock) */
    bool runtime_cleanup; /* `runtime delete` of the last run still going on in the background */
    int pending_attach;   /* attach requests waiting for the shim of the next start */
    int *handoff_fds;     /* their connections to that shim, made by the start, taken by each one */
    size_t n_handoff_fds;
    unsigned long shim_generation; /* bumped each time a new shim is ready */
    /* The SizeRw cache (service/container_size.c): rw_epoch moves with every start and every copy into the
     * rootfs; size_rw (-1: unknown) was measured at size_rw_epoch while the container was inactive. */
    unsigned long rw_epoch, size_rw_epoch;
    long long size_rw;
    bool removed;

    char *dir;       /* <graph>/containers/<id> */
    char *state_dir; /* <state>/containers/<id>: bundle and shim files */
    char *log_path;
};

const char *container_status_docker(enum container_status s);
const char *container_status_isula(enum container_status s);

struct container *container_new(const char *id, const char *name, const char *graph, const char *state);
struct container *container_ref(struct container *c);
void container_unref(struct container *c);
void cleanup_container_unrefp(struct container **c);
#define cleanup_container __attribute__((cleanup(cleanup_container_unrefp)))

/* Persists the record atomically; call with c->lock held. durable adds the fsyncs: for records a crash must
 * not lose (create, rename). State changes need none: the shims are the truth that restore reconciles with. */
int container_save(struct container *c, bool durable, struct isd_error **err);
/* Loads <dir>/container.json. */
struct container *container_load(const char *dir, const char *graph, const char *state, struct isd_error **err);
/* Marks a state change: bumps the generation and wakes waiters. Call with c->lock held. */
void container_changed(struct container *c);
/* The attach connections a start made for the requests waiting on it (lock held): take one (-1 when none
 * is left), or close those nobody took. */
int container_take_handoff(struct container *c);
void container_drop_handoff(struct container *c);
bool container_is_active(const struct container *c); /* running, paused or restarting */

/* Docker's "Up 3 minutes" / "Exited (0) 2 seconds ago" / "Created" status text. */
char *container_status_text(const struct container *c);
/* Docker-shaped JSON for GET /containers/{id}/json and for one row of GET /containers/json. Lock held. */
json_t *container_inspect_json(struct container *c, const char *graph_driver_dir);
json_t *container_summary_json(struct container *c);

/* The store. */
struct container_store;
struct container_store *container_store_new(void);
void container_store_free(struct container_store *s);
/* Adds c; ISD_ERR_CONFLICT when the name is taken. */
int container_store_add(struct container_store *s, struct container *c, struct isd_error **err);
void container_store_remove(struct container_store *s, struct container *c);
/* By full id, unique id prefix, or name (with or without leading '/'). Returns a reference. */
struct container *container_store_lookup(struct container_store *s, const char *ref, struct isd_error **err);
/* References to every container (NULL-terminated; free with container_list_free). */
struct container **container_store_list(struct container_store *s, size_t *ret_n);
void container_list_free(struct container **v);
/* Renames; ISD_ERR_CONFLICT when new_name is taken. */
int container_store_rename(struct container_store *s, struct container *c, const char *new_name,
                           struct isd_error **err);
bool container_name_valid(const char *name);

#endif
