/*
 * Image use cases beyond the basic store wrappers: list filters (reference, dangling, before, since, label),
 * history (Docker's GET /images/{name}/history shape) and loading embedded images.
 * Thread-safety: no state of its own; works on copies handed out by the image store.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/embedded.h"
#include "daemon/image/image_store.h"
#include "daemon/service/internal.h"
#include "daemon/storage/layer_store.h"

static const char *const known_filters[] = {"reference", "dangling", "before", "since", "label", NULL};

/* Docker's reference filter: path.Match on the familiar "name:tag", or on the name alone. */
static bool reference_matches(const char *pattern, const char *tag)
{
    const char *slash = strrchr(tag, '/'), *colon = strrchr(slash ? slash : tag, ':');
    cleanup_free char *name = colon != NULL ? xstrndup(tag, (size_t)(colon - tag)) : xstrdup(tag);
    return fnmatch(pattern, tag, FNM_PATHNAME) == 0 || fnmatch(pattern, name, FNM_PATHNAME) == 0;
}

static bool label_matches(const struct image *img, char **want)
{
    return json_labels_match(json_object_get(json_object_get(img->config, "config"), "Labels"), want);
}

struct list_filter {
    char **refs, **labels;
    int dangling; /* -1 any, 0 tagged only, 1 dangling only */
    long long before_ns, since_ns;
    bool has_before, has_since;
};

static void list_filter_clear(struct list_filter *f)
{
    strv_free(f->refs);
    strv_free(f->labels);
}

/* The created time of the image named by ref (for before/since). */
static int ref_created(struct daemon *d, char **vals, long long *ret, struct isd_error **err)
{
    struct image *img;
    if (vals == NULL)
        return 0;
    img = image_store_lookup(d->images, vals[0], err);
    if (img == NULL)
        return -1;
    *ret = img->created_ns;
    image_free(img);
    return 1;
}

static int parse_filters(struct daemon *d, const json_t *filters, struct list_filter *f, struct isd_error **err)
{
    const char *key;
    json_t *v;
    cleanup_strv char **dangling = NULL, **before = NULL, **since = NULL;
    int r;
    f->dangling = -1;
    json_object_foreach((json_t *)filters, key, v)
    {
        if (!strv_contains((char **)known_filters, key))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter '%s'", key);
    }
    f->refs = json_filter_values(filters, "reference");
    f->labels = json_filter_values(filters, "label");
    dangling = json_filter_values(filters, "dangling");
    for (size_t i = 0; dangling != NULL && dangling[i] != NULL; i++) {
        if (strcmp(dangling[i], "true") != 0 && strcmp(dangling[i], "false") != 0 && strcmp(dangling[i], "1") != 0 &&
            strcmp(dangling[i], "0") != 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter 'dangling=%s'", dangling[i]);
        f->dangling = strcmp(dangling[i], "true") == 0 || strcmp(dangling[i], "1") == 0;
    }
    before = json_filter_values(filters, "before");
    since = json_filter_values(filters, "since");
    if ((r = ref_created(d, before, &f->before_ns, err)) < 0)
        return -1;
    f->has_before = r > 0;
    if ((r = ref_created(d, since, &f->since_ns, err)) < 0)
        return -1;
    f->has_since = r > 0;
    return 0;
}

/* Applies f to img; with a reference filter, the summary lists only the matching tags (as Docker does). */
static json_t *filtered_summary(const struct list_filter *f, struct image *img)
{
    bool dangling = img->repo_tags[0] == NULL;
    char **keep = NULL;
    json_t *j;
    if ((f->dangling == 1 && !dangling) || (f->dangling == 0 && dangling) ||
        (f->has_before && img->created_ns >= f->before_ns) || (f->has_since && img->created_ns <= f->since_ns) ||
        !label_matches(img, f->labels))
        return NULL;
    if (f->refs != NULL) {
        for (size_t t = 0; img->repo_tags[t] != NULL; t++)
            for (size_t p = 0; f->refs[p] != NULL; p++)
                if (reference_matches(f->refs[p], img->repo_tags[t]) && !strv_contains(keep, img->repo_tags[t]))
                    strv_append(&keep, img->repo_tags[t]);
        if (keep == NULL)
            return NULL;
        strv_free(img->repo_tags);
        img->repo_tags = keep;
    }
    j = image_summary_json(img);
    return j;
}

json_t *service_image_list(struct daemon *d, bool all, const json_t *filters, struct isd_error **err)
{
    struct list_filter f = {0};
    struct image **v;
    json_t *out;
    size_t n = 0;
    if (filters != NULL && !json_is_object(filters))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "filters must be a JSON object"), NULL;
    if (filters != NULL && parse_filters(d, filters, &f, err) < 0) {
        list_filter_clear(&f);
        return NULL;
    }
    if (filters == NULL)
        f.dangling = -1;
    v = image_store_list(d->images, &n);
    out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = filtered_summary(&f, v[i]);
        if (j != NULL)
            json_array_append_new(out, j);
        image_free(v[i]);
    }
    free(v);
    list_filter_clear(&f);
    return out;
}

/* Sizes of the image's layers, bottom first (one per diff id), from the layer chain. */
static long long *layer_sizes(struct daemon *d, const struct image *img, size_t *ret_n)
{
    size_t n = strv_len(img->diff_ids), k = n;
    long long *sizes = xcalloc(n + 1, sizeof(*sizes));
    cleanup_free char *cur = img->top_layer != NULL ? xstrdup(img->top_layer) : NULL;
    while (cur != NULL && k > 0) {
        struct layer_info li = {0};
        if (layer_store_get(d->layers, cur, &li, NULL) < 0)
            break;
        sizes[--k] = li.size;
        free(cur);
        cur = TAKE_PTR(li.parent);
        layer_info_clear(&li);
    }
    *ret_n = n;
    return sizes;
}

static json_t *history_entry(const json_t *h, const char *id, char *const *tags, long long size)
{
    long long ns = 0;
    const char *created = json_get_str(h, "created");
    if (created != NULL && time_parse_rfc3339(created, &ns) < 0)
        ns = 0;
    return json_pack("{s:s, s:I, s:s, s:o, s:I, s:s}", "Id", id, "Created", (json_int_t)(ns / 1000000000LL),
                     "CreatedBy", json_get_str(h, "created_by") ? json_get_str(h, "created_by") : "", "Tags",
                     tags != NULL ? json_strv(tags) : json_null(), "Size", (json_int_t)size, "Comment",
                     json_get_str(h, "comment") ? json_get_str(h, "comment") : "");
}

json_t *service_image_history(struct daemon *d, const char *ref, struct isd_error **err)
{
    cleanup_image struct image *img = image_store_lookup(d->images, ref, err);
    cleanup_free char *id = NULL;
    cleanup_free long long *sizes = NULL;
    json_t *hist, *h, *out;
    size_t nsizes = 0, layer = 0, i;
    if (img == NULL)
        return NULL;
    id = xasprintf("sha256:%s", img->id);
    sizes = layer_sizes(d, img, &nsizes);
    hist = json_object_get(img->config, "history");
    out = json_array();
    /* history is oldest first; entries without empty_layer consume the diff ids in order */
    json_array_foreach(hist, i, h)
    {
        bool empty = json_is_true(json_object_get(h, "empty_layer"));
        long long size = !empty && layer < nsizes ? sizes[layer] : 0;
        bool top = i + 1 == json_array_size(hist);
        if (!empty)
            layer++;
        json_array_insert_new(out, 0, history_entry(h, top ? id : "<missing>", top ? img->repo_tags : NULL, size));
    }
    if (json_array_size(out) == 0) {
        cleanup_json json_t *none = json_object();
        json_array_append_new(out, history_entry(none, id, img->repo_tags, img->size));
    }
    return out;
}

int service_image_load_embedded(struct daemon *d, const char *manifest_path, char **ret_name, struct isd_error **err)
{
    if (manifest_path == NULL || manifest_path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "the manifest path must be absolute");
    return image_store_load_embedded(d->images, manifest_path, ret_name, err);
}
