/* Image prune and disk usage: the parts that need both the images and the containers. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/service/internal.h"

/* IDs of the images some container uses (NULL-terminated). */
static char **images_in_use(struct daemon *d)
{
    size_t n = 0, k = 0;
    struct container **v = container_store_list(d->containers, &n);
    char **ids = xcalloc(n + 1, sizeof(*ids));
    for (size_t i = 0; i < n; i++)
        if (v[i]->image_id != NULL)
            ids[k++] = xstrdup(v[i]->image_id);
    container_list_free(v);
    return ids;
}

static int containers_using(char *const *used, const char *id)
{
    int n = 0;
    for (size_t i = 0; used[i] != NULL; i++)
        n += streq(used[i], id);
    return n;
}

static bool image_prunable(const struct image *img, char *const *used, bool dangling_only, long long until_ns,
                           char *const *label)
{
    const json_t *labels = json_object_get(json_object_get(img->config, "config"), "Labels");
    if (containers_using(used, img->id) > 0 || (dangling_only && img->repo_tags[0] != NULL))
        return false;
    if (until_ns > 0 && img->created_ns >= until_ns)
        return false;
    return label == NULL || json_labels_match(labels, label);
}

/* Removes img by each of its names (the last one deletes it), or by ID when it has none. */
static void image_prune_one(struct daemon *d, const struct image *img, json_t *deleted, long long *reclaimed)
{
    size_t before = json_array_size(deleted);
    char **names = img->repo_tags[0] != NULL ? img->repo_tags : (char *[]){img->id, NULL};
    for (size_t i = 0; names[i] != NULL; i++) {
        json_t *r = service_image_remove(d, names[i], false, NULL);
        if (r != NULL)
            json_array_extend(deleted, r);
        json_decref(r);
    }
    for (size_t i = before; i < json_array_size(deleted); i++)
        if (json_object_get(json_array_get(deleted, i), "Deleted") != NULL) {
            *reclaimed += img->size;
            break;
        }
}

static int prune_args(const json_t *filters, bool *ret_dangling, long long *ret_until, char ***ret_label,
                      struct isd_error **err)
{
    const char *k;
    json_t *v;
    cleanup_strv char **dangling = json_filter_values(filters, "dangling");
    cleanup_strv char **until = json_filter_values(filters, "until");
    long long ns;
    json_object_foreach((json_t *)filters, k, v)
    {
        if (!streq(k, "dangling") && !streq(k, "until") && !streq(k, "label"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter '%s'", k);
    }
    *ret_dangling = true;
    if (dangling != NULL && dangling[0] != NULL) {
        if (!streq(dangling[0], "true") && !streq(dangling[0], "false") && !streq(dangling[0], "1") &&
            !streq(dangling[0], "0"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter 'dangling=%s'", dangling[0]);
        *ret_dangling = streq(dangling[0], "true") || streq(dangling[0], "1");
    }
    *ret_until = 0;
    if (until != NULL && until[0] != NULL) {
        if (parse_duration_ns(until[0], &ns) == 0)
            *ret_until = now_ns() - ns;
        else if (time_parse_rfc3339(until[0], &ns) == 0)
            *ret_until = ns;
        else if (parse_int64(until[0], &ns) == 0)
            *ret_until = ns * 1000000000LL;
        else
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter 'until=%s'", until[0]);
    }
    *ret_label = json_filter_values(filters, "label");
    return 0;
}

json_t *service_image_prune(struct daemon *d, const json_t *filters, struct isd_error **err)
{
    bool dangling_only = true;
    long long until_ns = 0, reclaimed = 0;
    cleanup_strv char **label = NULL;
    cleanup_strv char **used = NULL;
    struct image **v;
    size_t n = 0;
    json_t *deleted;
    if (prune_args(filters, &dangling_only, &until_ns, &label, err) < 0)
        return NULL;
    used = images_in_use(d);
    v = image_store_list(d->images, &n);
    deleted = json_array();
    for (size_t i = 0; i < n; i++) {
        if (image_prunable(v[i], used, dangling_only, until_ns, label))
            image_prune_one(d, v[i], deleted, &reclaimed);
        image_free(v[i]);
    }
    free(v);
    return json_pack("{s:o, s:I}", "ImagesDeleted", deleted, "SpaceReclaimed", (json_int_t)reclaimed);
}

static json_t *df_images(struct daemon *d, char *const *used, long long *ret_total)
{
    size_t n = 0;
    struct image **v = image_store_list(d->images, &n);
    json_t *out = json_array();
    *ret_total = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *j = image_summary_json(v[i]);
        json_object_set_new(j, "Containers", json_integer(containers_using(used, v[i]->id)));
        json_object_set_new(j, "SharedSize", json_integer(0));
        json_array_append_new(out, j);
        *ret_total += v[i]->size;
        image_free(v[i]);
    }
    free(v);
    return out;
}

static json_t *df_containers(struct daemon *d)
{
    size_t n = 0;
    struct container **v = container_store_list(d->containers, &n);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j;
        pthread_mutex_lock(&v[i]->lock);
        j = container_summary_json(v[i]);
        pthread_mutex_unlock(&v[i]->lock);
        service_container_sizes(d, v[i], j);
        json_array_append_new(out, j);
    }
    container_list_free(v);
    return out;
}

/* Docker's GET /system/df: images with their container counts, containers with their sizes, volumes with
 * their sizes and users; no build cache. LayersSize adds the images' sizes. */
json_t *service_system_df(struct daemon *d, struct isd_error **err)
{
    cleanup_strv char **used = images_in_use(d);
    long long total = 0;
    json_t *images = df_images(d, used, &total);
    (void)err;
    return json_pack("{s:I, s:o, s:o, s:o, s:[]}", "LayersSize", (json_int_t)total, "Images", images, "Containers",
                     df_containers(d), "Volumes", service_volumes_df(d), "BuildCache");
}
