/* image-layer-check at start; see layer_check.h. */
#include "daemon/image/layer_check.h"

#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/storage/layer_store.h"

static void report_images(struct image_store *s)
{
    size_t n = 0;
    struct image **v = image_store_list(s, &n);
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *bad =
            v[i]->top_layer != NULL ? layer_store_chain_damaged(image_store_layers(s), v[i]->top_layer) : NULL;
        if (bad != NULL)
            log_error("image-layer-check: image `%s` (%s) is unusable: its layer `%s` is damaged", v[i]->id,
                      v[i]->repo_tags[0] != NULL ? v[i]->repo_tags[0] : "<none>", bad);
        image_free(v[i]);
    }
    free(v);
}

int image_store_check_layers(struct image_store *s)
{
    struct layer_store *ls = image_store_layers(s);
    cleanup_strv char **ids = layer_store_list_ids(ls);
    long long start = now_ns();
    int damaged = 0;
    for (size_t i = 0; ids[i] != NULL; i++) {
        struct isd_error *err = NULL;
        if (layer_store_verify(ls, ids[i], &err) < 0) {
            log_error("image-layer-check: layer `%s` is damaged: %s", ids[i], err != NULL ? err->msg : "?");
            damaged++;
        }
        isd_error_free(err);
    }
    if (damaged > 0)
        report_images(s);
    log_info("image-layer-check: %zu layers checked in %lld ms, %d damaged", strv_len(ids),
             (now_ns() - start) / 1000000, damaged);
    return damaged;
}
