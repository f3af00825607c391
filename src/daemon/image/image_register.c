/* image_store_register: adding an image (config bytes + top layer) to the store; see image_store.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_internal.h"
#include "daemon/image/reference.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"

static long long chain_size(struct layer_store *ls, const char *top)
{
    long long total = 0;
    cleanup_free char *cur = top != NULL ? xstrdup(top) : NULL;
    while (cur != NULL) {
        struct layer_info li = {0};
        if (layer_store_get(ls, cur, &li, NULL) < 0)
            break;
        total += li.size;
        free(cur);
        cur = TAKE_PTR(li.parent);
        layer_info_clear(&li);
    }
    return total;
}

static struct image *image_from_config(const char *config, size_t len, const char *top, const char *digest,
                                       struct isd_error **err)
{
    char hex[DIGEST_HEX_LEN + 1];
    json_t *cfg = json_parse(config, len, err);
    struct image *img;
    json_t *diffs;
    size_t i;
    json_t *d;
    if (cfg == NULL || !json_is_object(cfg)) {
        json_decref(cfg);
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image config");
        return NULL;
    }
    sha256_hex(config, len, hex);
    img = xcalloc(1, sizeof(*img));
    img->id = xstrdup(hex);
    img->config = cfg;
    img->repo_tags = xcalloc(1, sizeof(char *));
    img->diff_ids = xcalloc(1, sizeof(char *));
    diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
    json_array_foreach(diffs, i, d)
    {
        if (json_is_string(d))
            strv_append(&img->diff_ids, json_string_value(d));
    }
    img->top_layer = top != NULL ? xstrdup(top) : NULL;
    img->repo_digests = xcalloc(1, sizeof(char *));
    if (digest != NULL)
        strv_append(&img->repo_digests, digest);
    if (json_get_str(cfg, "created") == NULL || time_parse_rfc3339(json_get_str(cfg, "created"), &img->created_ns) < 0)
        img->created_ns = 0;
    img->loaded_ns = now_ns();
    return img;
}

static int write_image_dir(struct image_store *s, const struct image *img, const char *config, size_t len,
                           struct isd_error **err)
{
    cleanup_free char *tmp = image_store_temp_path(s, "new");
    cleanup_free char *cfg_path = xasprintf("%s/config.json", tmp);
    cleanup_free char *rec_path = xasprintf("%s/image.json", tmp);
    cleanup_free char *dir = xasprintf("%s/%s", s->images, img->id);
    cleanup_json json_t *rec = image_record_json(img);
    if (mkdir(tmp, 0700) < 0)
        return isd_error_errno(err, "mkdir `%s`", tmp);
    if (write_file_atomic(cfg_path, config, len, 0600, true, err) < 0 ||
        json_write_path(rec_path, rec, true, err) < 0 || rename(tmp, dir) < 0) {
        if (*err == NULL)
            isd_error_errno(err, "register image `%s`", img->id);
        rm_rf(tmp, NULL);
        return -1;
    }
    return 0;
}

/* Moves tags onto img (taking them from other images); requires the lock. */
static void retag_locked(struct image_store *s, struct image *img, char *const *tags)
{
    for (size_t t = 0; tags != NULL && tags[t] != NULL; t++)
        image_store_take_tag_locked(s, img, tags[t]);
}

static int normalize_tags(char *const *tags, char ***ret, struct isd_error **err)
{
    char **out = xcalloc(1, sizeof(char *));
    for (size_t i = 0; tags != NULL && tags[i] != NULL; i++) {
        char *n = reference_normalize(tags[i], err);
        if (n == NULL) {
            strv_free(out);
            return -1;
        }
        strv_append(&out, n);
        free(n);
    }
    *ret = out;
    return 0;
}

int image_store_register(struct image_store *s, const char *config, size_t config_len, const char *top_layer,
                         char *const *tags, const char *digest, char **ret_id, struct isd_error **err)
{
    cleanup_strv char **names = NULL;
    struct image *img = NULL, *existing;
    bool keep_ref = false;
    int r = -1;
    if (normalize_tags(tags, &names, err) < 0 ||
        (img = image_from_config(config, config_len, top_layer, digest, err)) == NULL)
        goto out;
    img->size = chain_size(s->ls, top_layer);
    store_lock(s->table);
    existing = store_find_id_locked(s->table, img->id);
    if (existing != NULL) {
        retag_locked(s, existing, names);
        /* pulled again, by another name or digest, or first pulled after a load: one more digest ref */
        if (digest != NULL && !strv_contains(existing->repo_digests, digest))
            strv_append(&existing->repo_digests, digest);
        r = image_store_persist_locked(s, existing, err);
    } else if ((r = write_image_dir(s, img, config, config_len, err)) == 0) {
        store_add_locked(s->table, img); /* no image with this id: checked above */
        retag_locked(s, img, names);
        r = image_store_persist_locked(s, img, err);
        keep_ref = true;
        if (ret_id != NULL)
            *ret_id = xstrdup(img->id);
        img = NULL;
    }
    if (existing != NULL && ret_id != NULL)
        *ret_id = xstrdup(existing->id);
    store_unlock(s->table);
out:
    image_free(img);
    if (!keep_ref && top_layer != NULL)
        layer_store_unref(s->ls, top_layer, NULL, NULL);
    return r < 0 ? -1 : 0;
}
