/*
 * Named and anonymous volumes of the `local` driver: a directory per volume under <graph>/volumes/<name>/
 * (`_data` is the mountpoint, `volume.json` the record: Name, Driver, Labels, Options, CreatedAt, and for an
 * anonymous volume the container that owns it and its destination there).
 *
 * Thread-safety: one table lock (common/store.h), never held across file-system work other than the record
 * write. Returned json_t objects are copies owned by the caller.
 */
#ifndef ISD_DAEMON_VOLUME_VOLUME_H
#define ISD_DAEMON_VOLUME_VOLUME_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

struct volume_store;

struct volume_store *volume_store_open(const char *root, struct isd_error **err);
void volume_store_free(struct volume_store *vs);

/* Creates the volume (name NULL or "": a new 64-hex name) or returns the existing one of that name. owner and
 * destination (may be NULL) mark an anonymous volume of a container. Returns Docker's volume JSON
 * {CreatedAt, Driver, Labels, Mountpoint, Name, Options, Scope}; *ret_new (may be NULL) says it was made now.
 * A bad name or a driver other than local: ISD_ERR_INVALID. */
json_t *volume_store_create(struct volume_store *vs, const char *name, const char *driver, const json_t *labels,
                            const json_t *opts, const char *owner, const char *destination, bool *ret_new,
                            struct isd_error **err);
/* Docker's volume JSON of name; ISD_ERR_NOT_FOUND "get NAME: no such volume". */
json_t *volume_store_get(struct volume_store *vs, const char *name, struct isd_error **err);
/* The anonymous volume of owner at destination, or NULL. */
json_t *volume_store_find_anonymous(struct volume_store *vs, const char *owner, const char *destination);
/* Every volume (Docker's JSON plus the record's "Owner" and "Destination" keys for anonymous ones). */
json_t *volume_store_list(struct volume_store *vs);
/* Removes the volume and its data. Missing: ISD_ERR_NOT_FOUND. The caller checks that no container uses it. */
int volume_store_remove(struct volume_store *vs, const char *name, struct isd_error **err);
/* A volume created with mount options (DriverOpts type/device/o) is mounted on its mountpoint when a container
 * first uses it: holder (a container ID) is recorded under <volume>/holders/ and the filesystem mounted unless it
 * is already. Without options: nothing to do. A failed mount leaves no mark and is ISD_ERR_INVALID when the
 * options cannot work (missing device, wrong type). */
int volume_store_mount(struct volume_store *vs, const char *name, const char *holder, struct isd_error **err);
/* Drops holder from every volume it holds; a volume left without holders is unmounted. */
void volume_store_release(struct volume_store *vs, const char *holder);
/* At daemon start: releases the holders alive() says are gone (containers removed while the daemon was down).
 * alive() is called without any lock of the store held. Lock order: a container's lock before the store's. */
void volume_store_release_stale(struct volume_store *vs, bool (*alive)(const char *holder, void *arg), void *arg);
/* The mountpoint of a volume name (no check that it exists). */
char *volume_store_path(struct volume_store *vs, const char *name);
/* The volume whose mountpoint path is (its name), or NULL. */
char *volume_store_name_of(struct volume_store *vs, const char *path);
/* Docker's rule for volume names: [a-zA-Z0-9][a-zA-Z0-9_.-]+. */
bool volume_name_valid(const char *name);

#endif
