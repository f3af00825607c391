/*
 * The image store: content-addressed images (ID = sha256 hex of the exact config JSON bytes), names/tags,
 * docker-archive and OCI-layout loading, save, import and the built-in busybox image.
 *
 * On disk under the root given to image_store_open (the layer store's root, `<graph>/storage`):
 *   images/<id>/config.json   the exact config bytes
 *   images/<id>/image.json    repo_tags, repo_digests, created, top layer, diff ids, size, loaded-at
 * Images hold one layer-store reference on their top layer. See docs/design/storage.md.
 *
 * Thread-safety: one mutex guards the table and the records; it is never held across tar work or calls
 * into the layer store. Every `struct image` handed out is a deep copy owned by the caller (image_free).
 * Identifiers: img->id and img->top_layer are bare 64-char hex; diff_ids are "sha256:<hex>"; repo_tags are
 * familiar names ("busybox:latest", "myreg:5000/x/y:1").
 */
#ifndef ISD_IMAGE_IMAGE_STORE_H
#define ISD_IMAGE_IMAGE_STORE_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"

struct layer_store;
struct image_store;

struct image {
    char *id;
    char **repo_tags; /* NULL-terminated, never NULL */
    json_t *config;   /* the whole image config (architecture, os, config, rootfs, history, ...) */
    char *top_layer;  /* NULL for an image without layers */
    long long created_ns;
    long long size;
    char **diff_ids;
    char **repo_digests; /* "name@sha256:<manifest>" of each pull that resolved to it; never NULL */
    long long loaded_ns; /* when it entered this store */
};

struct image_store *image_store_open(const char *root, struct layer_store *ls, struct isd_error **err);
void image_store_free(struct image_store *s);
void image_free(struct image *img);
void cleanup_imagep(struct image **img);
#define cleanup_image __attribute__((cleanup(cleanup_imagep)))

/* ref: "name", "name:tag", "repo/name:tag", a full id, "sha256:<id>", or a unique id prefix (>= 3 chars).
 * Names without tag mean :latest; "docker.io/library/busybox" matches "busybox". ISD_ERR_NOT_FOUND when
 * absent ("No such image: x", docker's words: clients match on them), ISD_ERR_CONFLICT for an ambiguous prefix,
 * ISD_ERR_INVALID for bad refs. */
struct image *image_store_lookup(struct image_store *s, const char *ref, struct isd_error **err);
/* Copies of every image (NULL-terminated array too); *ret_n gets the count. Free each with image_free. */
struct image **image_store_list(struct image_store *s, size_t *ret_n);
/* Adds new_ref (moved away from any other image holding it). */
int image_store_tag(struct image_store *s, const char *ref, const char *new_ref, struct isd_error **err);
/* Docker rmi: a name ref with other tags left only untags; otherwise the image is deleted and its layers
 * released. ret_untagged gets familiar names, ret_deleted "sha256:<id>" then removed layer chain ids. */
int image_store_remove(struct image_store *s, const char *ref, char ***ret_untagged, char ***ret_deleted,
                       struct isd_error **err);
/* Loads a `docker save` archive (classic or blobs/sha256 form) or an OCI image layout archive from fd (may be
 * a pipe). With tag set, loaded images are named tag. ret_loaded: names ("busybox:latest") or "sha256:<id>"
 * for unnamed images. Corrupt input: ISD_ERR_INVALID and nothing registered. */
int image_store_load(struct image_store *s, int fd, const char *tag, char ***ret_loaded, struct isd_error **err);
/* `docker import`: a rootfs tar (maybe compressed) as a one-layer image. changes: Dockerfile lines (CMD,
 * ENTRYPOINT, ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL). repo_tag may be NULL.
 * *ret_id: bare hex id. */
int image_store_import(struct image_store *s, int fd, const char *repo_tag, char *const *changes, char **ret_id,
                       struct isd_error **err);
/* `docker commit` (image_commit.c): a new image of parent_ref plus the layer tar read from layer_fd, its
 * config's `config` the container's Config with the changes applied, with author, comment (history) and
 * container id. repo_tag may be NULL. *ret_id: bare hex id. */
struct image_commit {
    const json_t *config; /* the container's Config (Docker shape) */
    const char *container_id;
    const char *author;
    const char *comment;
    const char *repo_tag;
    char *const *changes;
};
int image_store_commit(struct image_store *s, const char *parent_ref, int layer_fd, const struct image_commit *c,
                       char **ret_id, struct isd_error **err);
/* Builds `busybox:latest` from a static busybox binary when absent; reproducible ID. */
int image_store_ensure_builtin(struct image_store *s, const char *busybox_path, struct isd_error **err);
/* The built-in pod sandbox image IMAGE_PAUSE_NAME (one layer: the static program pause_path as /pause, its
 * entrypoint), registered when missing. Deterministic: the same program gives the same image ID. */
#define IMAGE_PAUSE_NAME "isulad/pause:builtin"
int image_store_ensure_pause(struct image_store *s, const char *pause_path, struct isd_error **err);
/* Registers an image from its config bytes and top layer (the caller's reference on top_layer is taken over,
 * also on failure). Used by load/import/pull. ret_id may be NULL. */
int image_store_register(struct image_store *s, const char *config, size_t config_len, const char *top_layer,
                         char *const *tags, const char *digest, char **ret_id, struct isd_error **err);

/* Docker API shapes: GET /images/{name}/json and one entry of GET /images/json. */
json_t *image_inspect_json(const struct image *img);
json_t *image_summary_json(const struct image *img);

/* Writes a docker-archive (manifest.json, repositories, <id>.json, <diff-hex>/layer.tar) of refs. */
int image_store_save(struct image_store *s, char *const *refs, int out_fd, struct isd_error **err);

/* The layer store the image store uses (borrowed). */
struct layer_store *image_store_layers(struct image_store *s);

#endif
