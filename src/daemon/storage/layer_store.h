/*
 * The overlay2 layer store and the containers' read-write layers (rootfs).
 *
 * Owns everything under the root given to layer_store_open (the daemon passes `<graph>/storage`):
 *   overlay/<id>/{diff,link,lower,layer.tar.zst}      a read-only layer, <id> = chain ID (bare hex)
 *   overlay/<cid>/{diff,work,merged,link,lower,container.json}   a container's rootfs
 *   overlay/l/<short> -> ../<id>/diff                   short names keep the lowerdir option small
 *   layers/<chain-id>.json                              diff_id, parent, size, tar_size, short id, refcount
 * See docs/design/storage.md.
 *
 * Layers are refcounted by their direct users: images (for their top layer), child layers and container
 * rootfs. A layer whose count drops to 0 is removed and releases its parent. The records persist the first
 * two; rootfs references are counted in memory, from the rootfs records at open.
 *
 * Thread-safety: one mutex per store, guarding the layer table and the records; it is never held across
 * tar work, mounts or recursive removal. Returned strings are owned by the caller.
 * Identifiers: chain IDs are bare 64-char hex; diff IDs are returned as "sha256:<hex>" and accepted in both
 * forms.
 */
#ifndef ISD_STORAGE_LAYER_STORE_H
#define ISD_STORAGE_LAYER_STORE_H

#include <jansson.h>

#include "common/error.h"
#include "common/user_remap.h"
#include "daemon/storage/tar_apply.h"

struct layer_store;

/* Opens (creating) the store and cleans up what a crash left behind (staging dirs, temp files). */
struct layer_store *layer_store_open(const char *root, struct isd_error **err);
void layer_store_free(struct layer_store *ls);

/* Applies a tar stream (plain, gzip, zstd, xz) read from fd as a new layer on parent (NULL = base layer).
 * On success the caller holds one reference on the returned layer (release with layer_store_unref).
 * When expected_diff_id is given and differs: ISD_ERR_INVALID, nothing kept. An existing chain is reused. */
int layer_store_apply_tar(struct layer_store *ls, const char *parent_chain_id, int fd, const char *expected_diff_id,
                          char **ret_chain_id, char **ret_diff_id, struct isd_error **err);
/* Same with any byte source (e.g. an entry of an image archive). */
int layer_store_apply_source(struct layer_store *ls, const char *parent_chain_id, const struct byte_source *src,
                             const char *expected_diff_id, char **ret_chain_id, char **ret_diff_id,
                             struct isd_error **err);

/* Two-step apply, for layers fetched in parallel: stage extracts a tar into a staging directory, without a
 * parent (layers are independent directories; several stage at once); commit then registers it on its
 * parent, in chain order, checking the expected diff ID, and consumes st either way (discard drops one that
 * is not committed). src_file: see tar_apply. */
struct layer_staged;
struct layer_staged *layer_store_stage(struct layer_store *ls, const struct byte_source *src, int src_file,
                                       struct isd_error **err);
int layer_store_commit(struct layer_store *ls, const char *parent_chain_id, struct layer_staged *st,
                       const char *expected_diff_id, char **ret_chain_id, char **ret_diff_id, struct isd_error **err);
void layer_staged_discard(struct layer_staged *st);

/* Takes one more reference on a layer. */
int layer_store_ref(struct layer_store *ls, const char *chain_id, struct isd_error **err);
/* Drops one reference; layers reaching 0 are deleted (and their parents released). ret_removed (may be NULL)
 * receives the chain IDs removed. */
int layer_store_unref(struct layer_store *ls, const char *chain_id, char ***ret_removed, struct isd_error **err);

struct layer_info {
    char *chain_id;
    char *diff_id; /* "sha256:<hex>" */
    char *parent;  /* NULL for a base layer */
    long long size;
    long long tar_size;
    int refcount;
};
int layer_store_get(struct layer_store *ls, const char *chain_id, struct layer_info *ret, struct isd_error **err);
void layer_info_clear(struct layer_info *li);
bool layer_store_exists(struct layer_store *ls, const char *chain_id);
/* Path of a layer's diff directory (for GraphDriver data). Caller frees. */
char *layer_store_diff_path(struct layer_store *ls, const char *id);
/* The lowerdir option (absolute short-link paths, top first) of a layer or container rootfs. Caller frees. */
char *layer_store_lowerdir(struct layer_store *ls, const char *id, struct isd_error **err);
/* Opens the exact uncompressed tar of a layer (as applied) for reading; *ret_size is its length. */
struct blob_reader *layer_store_open_tar(struct layer_store *ls, const char *chain_id, long long *ret_size,
                                         struct isd_error **err);

/* Integrity check (image-layer-check, layer_verify.c): the stored tar's sha256 against the diff ID and its
 * non-empty regular files against the diff directory. A failing layer is flagged damaged (in memory), and
 * rootfs_create refuses chains holding a damaged layer. */
int layer_store_verify(struct layer_store *ls, const char *chain_id, struct isd_error **err);
/* Chain IDs of every layer (NULL-terminated, caller frees). */
char **layer_store_list_ids(struct layer_store *ls);
/* The first damaged layer of the chain from chain_id down, or NULL. Caller frees. */
char *layer_store_chain_damaged(struct layer_store *ls, const char *chain_id);

/* Container rootfs: a read-write layer on top_layer_chain_id (NULL = empty), takes a reference on it. */
int rootfs_create(struct layer_store *ls, const char *container_id, const char *top_layer_chain_id,
                  struct isd_error **err);
/* Mounts overlay at overlay/<cid>/merged; idempotent. */
int rootfs_mount(struct layer_store *ls, const char *container_id, char **ret_merged_path, struct isd_error **err);
/* How the image layers of a user-namespaced container's rootfs get the mapped ids (storage option
 * overlay2.remap_layers): id-mapped mounts where the kernel has them, else chowned copies (auto, the default);
 * id-mapped mounts only (idmap); chowned copies only (copy). */
enum rootfs_remap_mode { ROOTFS_REMAP_AUTO, ROOTFS_REMAP_IDMAP, ROOTFS_REMAP_COPY };
/* The mode the daemon's storage options give; ISD_ERR_INVALID for an unknown value. */
int rootfs_remap_mode_parse(char *const *storage_opts, enum rootfs_remap_mode *ret, struct isd_error **err);
/* Mounts overlay at overlay/<cid>/merged with every image layer owned by map's ids as seen from the host, so the
 * container's root (map->uid on the host) owns the image's files: id-mapped clones of the layers (mount_setattr
 * MOUNT_ATTR_IDMAP; overlayfs takes id-mapped layers since Linux 5.19), or chowned copies of them cached per
 * mapping (rootfs_copy.c). The read-write layer is not mapped: what the container writes is owned by the mapped
 * ids on disk. Idempotent; ROOTFS_REMAP_IDMAP on a kernel or filesystem without id-mapped mounts ->
 * ISD_ERR_NOT_IMPLEMENTED (AUTO takes the copies then). */
int rootfs_mount_mapped(struct layer_store *ls, const char *container_id, const struct user_remap *map,
                        enum rootfs_remap_mode mode, char **ret_merged_path, struct isd_error **err);
/* Attaches at dst (a directory or a file made for it, like src) a clone of src and of the mounts below it. With
 * map, id-mapped: what src's filesystem holds as id n appears as map's n (n below map->size), so the container's
 * root sees the files the host's root owns as its own. recursive_ro makes the clone and every mount below it
 * read-only (mount_setattr AT_RECURSIVE MOUNT_ATTR_RDONLY), so a bind of dst (rbind) has read-only submounts too,
 * which runc's `ro` alone does not give (it remounts only the top). ISD_ERR_NOT_IMPLEMENTED when the kernel has no
 * mount_setattr (before Linux 5.12) or, with map, no id-mapped mounts. The caller detaches dst (umount2
 * MNT_DETACH) once the container holds its own mount of it. */
int rootfs_bind_clone(const char *src, const char *dst, const struct user_remap *map, bool recursive_ro,
                      struct isd_error **err);
/* Idempotent, falls back to MNT_DETACH when busy. */
int rootfs_umount(struct layer_store *ls, const char *container_id, struct isd_error **err);
/* Unmounts and deletes the rootfs, releasing its layer; idempotent. */
int rootfs_remove(struct layer_store *ls, const char *container_id, struct isd_error **err);
/* Writes a plain tar of the merged filesystem (mounting it temporarily when not mounted). */
int rootfs_export(struct layer_store *ls, const char *container_id, int out_fd, struct isd_error **err);
bool rootfs_exists(struct layer_store *ls, const char *container_id);
/* docker diff (changes.c): [{"Path": "/x", "Kind": 0 changed | 1 added | 2 deleted}] from the read-write
 * layer, sorted by path. */
json_t *rootfs_changes(struct layer_store *ls, const char *container_id, struct isd_error **err);
/* commit: the read-write layer as an OCI layer tar (whiteouts as `.wh.` entries). The container should be
 * paused or stopped for a consistent layer. */
int rootfs_diff_tar(struct layer_store *ls, const char *container_id, int out_fd, struct isd_error **err);
/* Size of the container's read-write layer (diff dir), or -1. */
long long rootfs_rw_size(struct layer_store *ls, const char *container_id);
/* The container's read-write layer directory (diff dir), or NULL when it has none. */
char *rootfs_rw_dir(struct layer_store *ls, const char *container_id);

#endif
