/*
 * The layer phase of a pull (pull_layers.c), internal to image/pull.c: what it needs of the pull, and a
 * callback for the progress lines, so that it never calls back into the pull.
 */
#ifndef ISD_DAEMON_IMAGE_PULL_LAYERS_H
#define ISD_DAEMON_IMAGE_PULL_LAYERS_H

#include "daemon/image/registry/registry.h"
#include "daemon/storage/layer_store.h"

struct pull_layers_job {
    struct layer_store *layers;
    const char *storage_root; /* temp files go to <storage_root>/pull-tmp */
    struct registry_client *client;
    const struct registry_manifest *manifest;
    char **diff_ids, **chain_ids;        /* per layer */
    void (*emit)(void *ctx, char *line); /* writes one JSON progress line (takes line) */
    void *emit_ctx;
};

/* Makes every layer present; *ret_top gets the top chain id with one reference held. */
int pull_layers(struct pull_layers_job *j, char **ret_top, struct isd_error **err);

#endif
