/* Internals shared by the image module's files. Functions named *_locked require s->lock. */
#ifndef ISD_IMAGE_IMAGE_INTERNAL_H
#define ISD_IMAGE_IMAGE_INTERNAL_H

#include <pthread.h>

#include "daemon/image/image_store.h"

#define CONFIG_MAX (8 * 1024 * 1024)

struct image_store {
    char *root;
    char *images; /* <root>/images */
    struct layer_store *ls;
    pthread_mutex_t lock;
    struct image **v;
    size_t n;
};

struct image *image_copy(const struct image *img);
/* Reads the exact config bytes of an image (for save). */
char *image_store_config_bytes(struct image_store *s, const char *id, size_t *ret_len, struct isd_error **err);
struct image *image_store_find_id_locked(struct image_store *s, const char *hex);
int image_store_persist_locked(struct image_store *s, const struct image *img, struct isd_error **err);
/* The image.json record of img. */
json_t *image_record_json(const struct image *img);
/* A temp path inside the store root for spooling (caller unlinks). */
char *image_store_temp_path(struct image_store *s, const char *what);

#endif
