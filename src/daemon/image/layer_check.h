/*
 * image-layer-check (D-33): verifies every layer at daemon start and reports the images that use a damaged
 * one. Such images stay listed (the guide only says they become unusable); creating a container from them
 * fails with a clear error (see layer_store_verify). Thread-safety: as the stores it calls.
 */
#ifndef ISD_IMAGE_LAYER_CHECK_H
#define ISD_IMAGE_LAYER_CHECK_H

struct image_store;

/* Verifies every layer; logs each damaged layer and each image made unusable. Returns the number of
 * damaged layers. */
int image_store_check_layers(struct image_store *s);

#endif
