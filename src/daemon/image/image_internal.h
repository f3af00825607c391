/* Internals shared by the image module's files. Functions named *_locked require the table's lock
 * (store_lock(s->table)). */
#ifndef ISD_IMAGE_IMAGE_INTERNAL_H
#define ISD_IMAGE_IMAGE_INTERNAL_H

#include <sys/types.h>

#include "common/store.h"
#include "daemon/image/image_store.h"

#define CONFIG_MAX (8 * 1024 * 1024)

struct image_store {
    char *root;
    char *images; /* <root>/images */
    struct layer_store *ls;
    struct store *table; /* struct image entries by id, owned by the table; its lock guards the records */
};

struct image *image_copy(const struct image *img);
/* Reads the exact config bytes of an image (for save). */
char *image_store_config_bytes(struct image_store *s, const char *id, size_t *ret_len, struct isd_error **err);
/* Gives tag to img (not persisted), taking it away from any other image (persisted). */
void image_store_take_tag_locked(struct image_store *s, struct image *img, const char *tag);
int image_store_persist_locked(struct image_store *s, const struct image *img, struct isd_error **err);
/* The image.json record of img. */
json_t *image_record_json(const struct image *img);
/* One Dockerfile-style change (CMD, ENTRYPOINT, ENV, LABEL, WORKDIR, USER, STOPSIGNAL, EXPOSE, VOLUME) applied
 * to a container config object (image_import.c). */
int image_config_apply_change(json_t *cfg, const char *change, struct isd_error **err);
/* A temp path inside the store root for spooling (caller unlinks). */
char *image_store_temp_path(struct image_store *s, const char *what);
/* One entry of a built-in image's layer tar (fixed mtime and owner; image_builtin.c). */
struct archive;
int image_builtin_tar_add(struct archive *w, const char *path, mode_t type, mode_t perm, const char *data, size_t len);

#endif
