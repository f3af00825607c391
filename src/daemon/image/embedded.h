/*
 * Embedded images: loading an image described by a local JSON manifest (docs/embedded-images.md).
 * Thread-safety: as the image store. Returned strings are owned by the caller.
 */
#ifndef ISD_IMAGE_EMBEDDED_H
#define ISD_IMAGE_EMBEDDED_H

#include "common/error.h"

struct image_store;

/* Loads the embedded image whose manifest is at manifest_path (absolute). Layer files are read below the
 * manifest's directory only and checked against their sha256; any problem: ISD_ERR_INVALID/NOT_FOUND and
 * nothing registered. *ret_name (may be NULL): the image's familiar name ("test:v1"). */
int image_store_load_embedded(struct image_store *s, const char *manifest_path, char **ret_name,
                              struct isd_error **err);

#endif
