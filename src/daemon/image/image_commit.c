/* image_store_commit: a container's read-write layer on top of its image; see image_store.h. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_internal.h"
#include "daemon/image/reference.h"
#include "daemon/storage/layer_store.h"

static json_t *commit_config(const struct image_commit *c, struct isd_error **err)
{
    json_t *cfg = json_deep_copy(c->config != NULL ? c->config : json_object());
    const char *k;
    void *tmp;
    json_t *v;
    if (cfg == NULL)
        cfg = json_object();
    /* a change adds to a map or list the container config holds as null */
    json_object_foreach_safe(cfg, tmp, k, v)
    {
        if (json_is_null(v))
            json_object_del(cfg, k);
    }
    for (size_t i = 0; c->changes != NULL && c->changes[i] != NULL; i++) {
        if (c->changes[i][0] != '\0' && image_config_apply_change(cfg, c->changes[i], err) < 0) {
            json_decref(cfg);
            return NULL;
        }
    }
    return cfg;
}

/* The parent's config with the new config, history entry and diff id. */
static char *new_image_config(const struct image *parent, const json_t *cfg, const struct image_commit *c,
                              const char *diff_id)
{
    cleanup_free char *created = time_rfc3339_nano(now_ns());
    cleanup_json json_t *img = json_deep_copy(parent->config);
    json_t *history, *rootfs, *diffs, *h;
    json_object_set(img, "config", (json_t *)cfg);
    json_object_set_new(img, "created", json_string(created));
    json_object_set_new(img, "container", json_string(c->container_id));
    if (c->author != NULL && c->author[0] != '\0')
        json_object_set_new(img, "author", json_string(c->author));
    else
        json_object_del(img, "author");
    if (!json_is_array(history = json_object_get(img, "history")))
        json_object_set_new(img, "history", history = json_array());
    h = json_pack("{s:s}", "created", created);
    if (c->author != NULL && c->author[0] != '\0')
        json_object_set_new(h, "author", json_string(c->author));
    if (c->comment != NULL && c->comment[0] != '\0')
        json_object_set_new(h, "comment", json_string(c->comment));
    json_array_append_new(history, h);
    if (!json_is_object(rootfs = json_object_get(img, "rootfs")))
        json_object_set_new(img, "rootfs", rootfs = json_pack("{s:s}", "type", "layers"));
    if (!json_is_array(diffs = json_object_get(rootfs, "diff_ids")))
        json_object_set_new(rootfs, "diff_ids", diffs = json_array());
    json_array_append_new(diffs, json_string(diff_id));
    return json_dumps(img, JSON_COMPACT);
}

int image_store_commit(struct image_store *s, const char *parent_ref, int layer_fd, const struct image_commit *c,
                       char **ret_id, struct isd_error **err)
{
    cleanup_image struct image *parent = image_store_lookup(s, parent_ref, err);
    cleanup_free char *norm = NULL, *chain = NULL, *diff = NULL, *bytes = NULL;
    cleanup_json json_t *cfg = NULL;
    if (parent == NULL)
        return -1;
    if (c->repo_tag != NULL && (norm = reference_normalize(c->repo_tag, err)) == NULL)
        return -1;
    if ((cfg = commit_config(c, err)) == NULL)
        return -1;
    if (layer_store_apply_tar(image_store_layers(s), parent->top_layer, layer_fd, NULL, &chain, &diff, err) < 0)
        return isd_error_wrap(err, "commit");
    bytes = new_image_config(parent, cfg, c, diff);
    return image_store_register(s, bytes, strlen(bytes), chain, norm != NULL ? (char *[]){norm, NULL} : NULL, NULL,
                                ret_id, err);
}
