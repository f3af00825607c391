/*
 * Internals shared by the storage module's files (layer_store.c, rootfs.c, export.c). Functions named
 * *_locked require the table's lock (store_lock(ls->table)).
 */
#ifndef ISD_STORAGE_LAYER_INTERNAL_H
#define ISD_STORAGE_LAYER_INTERNAL_H

#include "common/store.h"
#include "daemon/storage/layer_store.h"

#define STAGING_PREFIX ".staging-"
#define SHORT_ID_LEN 26

struct layer {
    char *chain_id;
    char *diff_id; /* bare hex */
    char *parent;
    char *short_id;
    long long size, tar_size;
    int refcount;         /* persisted users: images and child layers */
    int rootfs_refs;      /* in-memory only: container rootfs on this layer, counted from their records at open */
    int pins;             /* in-memory only: applies in progress on top of this layer */
    bool damaged;         /* in-memory only: failed the image-layer-check (layer_verify.c) */
    bool legacy_refcount; /* loaded from a record whose refcount still includes rootfs references */
};

struct layer_store {
    char *root;
    char *overlay;           /* <root>/overlay */
    char *layers;            /* <root>/layers */
    struct store *table;     /* struct layer entries by chain ID, owned by the table; its lock guards the records */
    struct quota_ctl *quota; /* rootfs quotas, made on first use (quota.c) */
};

struct layer *layer_find_locked(struct layer_store *ls, const char *chain_id);
int layer_persist_locked(struct layer_store *ls, const struct layer *l, struct isd_error **err);
enum layer_hold { HOLD_REF, HOLD_PIN, HOLD_ROOTFS };
/* Drops one hold of that kind and deletes layers left with none, cascading to parents (a deleted layer drops
 * its reference on its parent). Directories to remove (outside the lock, with rm_rf) are appended to dirs. */
void layer_release_locked(struct layer_store *ls, struct layer *l, enum layer_hold kind, char ***removed, char ***dirs);
/* The same without the lock held: finds chain_id (absent: nothing to do) and removes what it freed. */
void layer_release_id(struct layer_store *ls, const char *chain_id, enum layer_hold kind);
/* "l/<short>:l/<short>..." for the chain starting at chain_id (inclusive); "" when chain_id is NULL. */
char *layer_lower_locked(struct layer_store *ls, const char *chain_id);
/* Removes each directory (outside the lock) and frees the list. */
void remove_dirs(char **dirs);
/* A new staging directory under overlay/; caller frees the path. */
char *staging_dir_new(struct layer_store *ls, struct isd_error **err);
/* Random upper-case short id for overlay/l/. */
char *short_id_new(void);
bool id_is_safe(const char *id);
/* The chain ID of the first damaged layer in the chain from chain_id down, or NULL (caller frees). */
char *layer_chain_damaged_locked(struct layer_store *ls, const char *chain_id);
/* True when path is the root of a mount (statx STATX_ATTR_MOUNT_ROOT). */
bool path_is_mount_root(const char *path);
/* overlay/idm-XXXXXX: id-mapped clones of image layers attached while an id-mapped rootfs is mounted
 * (rootfs_idmap.c). They share the layers' st_dev, so a recursive removal would delete image files: after a
 * crash the sweep detaches them and removes the empty directories only. */
#define ROOTFS_IDMAP_PREFIX "idm-"
void rootfs_idmap_sweep(const char *dir);
/* Chowned layer copies for user namespaces (rootfs_copy.c): <root>/remap/<uid>.<gid>.<size>/<short id>; a copy
 * being made or removed has REMAP_TMP_INFIX in its name. */
#define REMAP_TMP_INFIX ".tmp-"
int rootfs_mount_copied(struct layer_store *ls, const char *cid, const char *merged, const struct user_remap *map,
                        struct isd_error **err);
/* The copies of a layer being deleted, renamed away and appended to dirs for removal outside the lock. */
void layer_remap_dirs_locked(struct layer_store *ls, const char *short_id, char ***dirs);
/* At open: copies no layer owns and half-made ones, appended to dirs. */
void rootfs_remap_sweep_locked(struct layer_store *ls, char ***dirs);
/* "lowerdir=...,upperdir=...,workdir=..." of the container's overlay (rootfs.c). */
char *rootfs_overlay_options(struct layer_store *ls, const char *container_id, struct isd_error **err);
/* The names in directory fd (without . and ..) in byte order, as Docker's archives walk a tree; NULL with errno
 * set on a read error. fd stays open and usable. */
char **dir_names_sorted(int fd);

#endif
