/*
 * Image table, records, lookup, tag and remove; see image_store.h. Loading, saving, import and the
 * built-in image live in image_load.c, image_save.c, image_import.c and image_builtin.c.
 */
#include "daemon/image/image_internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/image/reference.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"

void image_free(struct image *img)
{
    if (img == NULL)
        return;
    free(img->id);
    strv_free(img->repo_tags);
    json_decref(img->config);
    free(img->top_layer);
    strv_free(img->diff_ids);
    strv_free(img->repo_digests);
    free(img);
}

void cleanup_imagep(struct image **img)
{
    image_free(*img);
}

struct image *image_copy(const struct image *img)
{
    struct image *c = xcalloc(1, sizeof(*c));
    c->id = xstrdup(img->id);
    c->repo_tags = img->repo_tags != NULL ? strv_dup(img->repo_tags) : xcalloc(1, sizeof(char *));
    c->config = json_deep_copy(img->config);
    c->top_layer = img->top_layer != NULL ? xstrdup(img->top_layer) : NULL;
    c->created_ns = img->created_ns;
    c->size = img->size;
    c->diff_ids = img->diff_ids != NULL ? strv_dup(img->diff_ids) : xcalloc(1, sizeof(char *));
    c->repo_digests = img->repo_digests != NULL ? strv_dup(img->repo_digests) : xcalloc(1, sizeof(char *));
    c->loaded_ns = img->loaded_ns;
    return c;
}

static const char *image_id(const void *item)
{
    return ((const struct image *)item)->id;
}

static void *image_copy_item(void *item)
{
    return image_copy(item);
}

static void image_release(void *item)
{
    image_free(item);
}

/* fam: a familiar string (reference_familiar_string), "name@sha256:..." for a digest reference without a
 * tag, which names a repo digest, "name:tag" otherwise. */
static bool image_has_name(const void *item, const char *fam)
{
    const struct image *img = item;
    return strv_contains(strchr(fam, '@') != NULL ? img->repo_digests : img->repo_tags, fam);
}

static const struct store_ops image_table_ops = {
    .id = image_id,
    .has_name = image_has_name,
    .ref = image_copy_item,
    .release = image_release,
};

struct layer_store *image_store_layers(struct image_store *s)
{
    return s->ls;
}

char *image_store_temp_path(struct image_store *s, const char *what)
{
    cleanup_free char *rnd = random_hex(12);
    return xasprintf("%s/.tmp-%s-%s", s->images, what, rnd);
}

json_t *image_record_json(const struct image *img)
{
    return json_pack("{s:s, s:o, s:o, s:I, s:s?, s:I, s:o, s:I}", "id", img->id, "repo_tags", json_strv(img->repo_tags),
                     "repo_digests", json_strv(img->repo_digests), "created", (json_int_t)img->created_ns, "top_layer",
                     img->top_layer, "size", (json_int_t)img->size, "diff_ids", json_strv(img->diff_ids), "loaded_at",
                     (json_int_t)img->loaded_ns);
}

int image_store_persist_locked(struct image_store *s, const struct image *img, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("%s/%s/image.json", s->images, img->id);
    cleanup_json json_t *j = image_record_json(img);
    return json_write_path(path, j, true, err);
}

char *image_store_config_bytes(struct image_store *s, const char *id, size_t *ret_len, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("%s/%s/config.json", s->images, id);
    return read_file(path, CONFIG_MAX, ret_len, err);
}

static struct image *load_image(struct image_store *s, const char *id)
{
    struct isd_error *e = NULL;
    cleanup_free char *rec_path = xasprintf("%s/%s/image.json", s->images, id);
    cleanup_free char *cfg = NULL;
    cleanup_json json_t *rec = NULL;
    char hex[DIGEST_HEX_LEN + 1];
    size_t len = 0;
    struct image *img;
    cfg = image_store_config_bytes(s, id, &len, &e);
    if (cfg != NULL)
        rec = json_load_path(rec_path, 1 << 20, &e);
    if (cfg != NULL)
        sha256_hex(cfg, len, hex);
    if (rec == NULL || strcmp(hex, id) != 0) {
        log_warn("ignoring image `%s`: %s", id, e != NULL ? e->msg : "config digest mismatch");
        isd_error_free(e);
        return NULL;
    }
    img = xcalloc(1, sizeof(*img));
    img->id = xstrdup(id);
    img->config = json_parse(cfg, len, NULL);
    img->repo_tags = json_get_strv(rec, "repo_tags");
    img->repo_tags = img->repo_tags != NULL ? img->repo_tags : xcalloc(1, sizeof(char *));
    img->diff_ids = json_get_strv(rec, "diff_ids");
    img->diff_ids = img->diff_ids != NULL ? img->diff_ids : xcalloc(1, sizeof(char *));
    img->top_layer = json_get_str(rec, "top_layer") ? xstrdup(json_get_str(rec, "top_layer")) : NULL;
    img->repo_digests = json_get_strv(rec, "repo_digests");
    if (img->repo_digests == NULL) { /* records before several digests were kept: one "digest" */
        img->repo_digests = xcalloc(1, sizeof(char *));
        if (json_get_str(rec, "digest") != NULL)
            strv_append(&img->repo_digests, json_get_str(rec, "digest"));
    }
    img->created_ns = json_get_int(rec, "created", 0);
    img->size = json_get_int(rec, "size", 0);
    img->loaded_ns = json_get_int(rec, "loaded_at", 0);
    return img;
}

static void scan_images(struct image_store *s)
{
    DIR *d = opendir(s->images);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *path = xasprintf("%s/%s", s->images, de->d_name);
        struct image *img;
        if (de->d_name[0] == '.' && (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0))
            continue;
        if (strstr(de->d_name, ".tmp-") != NULL) {
            log_info("removing leftover `%s`", path);
            rm_rf(path, NULL);
            continue;
        }
        if (!digest_is_hex(de->d_name) || (img = load_image(s, de->d_name)) == NULL)
            continue;
        if (img->top_layer != NULL && !layer_store_exists(s->ls, img->top_layer)) {
            log_warn("ignoring image `%s`: layer `%s` is missing", img->id, img->top_layer);
            image_free(img);
            continue;
        }
        store_add_locked(s->table, img); /* directory names are unique and each is its image's id */
    }
    if (d != NULL)
        closedir(d);
}

struct image_store *image_store_open(const char *root, struct layer_store *ls, struct isd_error **err)
{
    struct image_store *s = xcalloc(1, sizeof(*s));
    s->root = xstrdup(root);
    s->images = path_join(root, "images");
    s->ls = ls;
    s->table = store_new(&image_table_ops);
    if (mkdir_p(s->images, 0700, err) < 0) {
        isd_error_wrap(err, "open image store `%s`", root);
        image_store_free(s);
        return NULL;
    }
    scan_images(s);
    return s;
}

void image_store_free(struct image_store *s)
{
    if (s == NULL)
        return;
    store_free(s->table);
    free(s->root);
    free(s->images);
    free(s);
}

static struct image *find_by_name_locked(struct image_store *s, const struct reference *r, char **ret_name)
{
    cleanup_free char *fam = reference_familiar_string(r);
    struct image *img = store_find_name_locked(s->table, fam);
    if (img != NULL && ret_name != NULL)
        *ret_name = TAKE_PTR(fam);
    return img;
}

static bool is_hex_prefix(const char *p)
{
    size_t n = strlen(p);
    if (n < 3 || n > DIGEST_HEX_LEN)
        return false;
    return strspn(p, "0123456789abcdef") == n;
}

static struct image *find_by_prefix_locked(struct image_store *s, const char *ref, struct isd_error **err)
{
    const char *p = str_has_prefix(ref, "sha256:") ? ref + 7 : ref;
    void *found = NULL;
    if (!is_hex_prefix(p))
        return NULL;
    if (store_find_prefix_locked(s->table, p, &found) == STORE_MATCH_AMBIGUOUS)
        isd_error_set(err, ISD_ERR_CONFLICT, 0, "image id prefix `%s` is ambiguous", ref);
    return found;
}

/* Resolves ref; *ret_name is set (familiar tagged name) when it matched by name. */
static struct image *find_locked(struct image_store *s, const char *ref, char **ret_name, struct isd_error **err)
{
    struct isd_error *perr = NULL;
    struct reference *r;
    struct image *img = NULL;
    if ((img = store_find_id_locked(s->table, digest_strip(ref))) != NULL)
        return img;
    r = reference_parse(ref, &perr);
    if (r != NULL)
        img = find_by_name_locked(s, r, ret_name);
    reference_free(r);
    if (img == NULL)
        img = find_by_prefix_locked(s, ref, err);
    if (img == NULL && (err == NULL || *err == NULL)) {
        if (perr != NULL && !is_hex_prefix(str_has_prefix(ref, "sha256:") ? ref + 7 : ref))
            isd_error_set(err, ISD_ERR_INVALID, 0, "%s", perr->msg);
        else
            isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such image: %s", ref);
    }
    isd_error_free(perr);
    return img;
}

struct image *image_store_lookup(struct image_store *s, const char *ref, struct isd_error **err)
{
    struct image *img, *copy = NULL;
    store_lock(s->table);
    img = find_locked(s, ref, NULL, err);
    if (img != NULL)
        copy = image_copy(img);
    store_unlock(s->table);
    return copy;
}

struct image **image_store_list(struct image_store *s, size_t *ret_n)
{
    return (struct image **)store_snapshot(s->table, ret_n);
}

static void strv_remove(char **v, const char *s)
{
    size_t j = 0;
    for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
        if (strcmp(v[i], s) == 0)
            free(v[i]);
        else
            v[j++] = v[i];
    }
    if (v != NULL)
        v[j] = NULL;
}

void image_store_take_tag_locked(struct image_store *s, struct image *img, const char *tag)
{
    for (size_t i = 0; i < store_count_locked(s->table); i++) {
        struct image *o = store_at_locked(s->table, i);
        if (o != img && strv_contains(o->repo_tags, tag)) {
            strv_remove(o->repo_tags, tag);
            (void)image_store_persist_locked(s, o, NULL);
        }
    }
    if (!strv_contains(img->repo_tags, tag))
        strv_append(&img->repo_tags, tag);
}

static int add_tag_locked(struct image_store *s, struct image *img, const char *tag, struct isd_error **err)
{
    image_store_take_tag_locked(s, img, tag);
    return image_store_persist_locked(s, img, err);
}

int image_store_tag(struct image_store *s, const char *ref, const char *new_ref, struct isd_error **err)
{
    cleanup_free char *name = reference_normalize(new_ref, err);
    struct image *img;
    int r;
    if (name == NULL)
        return -1;
    if (strchr(name, '@') != NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "refusing to create a tag with a digest reference `%s`", new_ref);
    store_lock(s->table);
    img = find_locked(s, ref, NULL, err);
    r = img != NULL ? add_tag_locked(s, img, name, err) : -1;
    store_unlock(s->table);
    return r;
}

/* Untags (a name or digest ref, and the image keeps another reference) or unregisters; *ret_img is the
 * unregistered image. As docker: removing a digest ref keeps the tags; removing the last tag deletes the
 * image with its digest refs. */
static int remove_locked(struct image_store *s, const char *ref, char ***untagged, struct image **ret_img,
                         char **ret_gone, struct isd_error **err)
{
    cleanup_free char *name = NULL, *dir = NULL;
    struct image *img = find_locked(s, ref, &name, err);
    bool by_digest = name != NULL && strchr(name, '@') != NULL;
    if (img == NULL)
        return -1;
    if (name != NULL && strv_len(img->repo_tags) + (by_digest ? strv_len(img->repo_digests) : 0) > 1) {
        strv_remove(by_digest ? img->repo_digests : img->repo_tags, name);
        strv_append(untagged, name);
        return image_store_persist_locked(s, img, err);
    }
    dir = xasprintf("%s/%s", s->images, img->id);
    *ret_gone = image_store_temp_path(s, "del");
    if (rename(dir, *ret_gone) < 0)
        return isd_error_errno(err, "remove image `%s`", img->id);
    for (size_t i = 0; img->repo_tags[i] != NULL; i++)
        strv_append(untagged, img->repo_tags[i]);
    for (size_t i = 0; img->repo_digests[i] != NULL; i++)
        strv_append(untagged, img->repo_digests[i]);
    store_remove_locked(s->table, img);
    *ret_img = img;
    return 0;
}

int image_store_remove(struct image_store *s, const char *ref, char ***ret_untagged, char ***ret_deleted,
                       struct isd_error **err)
{
    char **untagged = NULL, **deleted = NULL, **layers = NULL;
    cleanup_free char *gone = NULL;
    struct image *img = NULL;
    int r;
    store_lock(s->table);
    r = remove_locked(s, ref, &untagged, &img, &gone, err);
    store_unlock(s->table);
    if (r < 0) {
        strv_free(untagged);
        return -1;
    }
    if (img != NULL) {
        cleanup_free char *sid = xasprintf("sha256:%s", img->id);
        strv_append(&deleted, sid);
        rm_rf(gone, NULL);
        if (img->top_layer != NULL)
            layer_store_unref(s->ls, img->top_layer, &layers, NULL);
        for (size_t i = 0; layers != NULL && layers[i] != NULL; i++) {
            cleanup_free char *l = xasprintf("sha256:%s", layers[i]);
            strv_append(&deleted, l);
        }
        strv_free(layers);
        image_free(img);
    }
    if (ret_untagged != NULL)
        *ret_untagged = TAKE_PTR(untagged);
    if (ret_deleted != NULL)
        *ret_deleted = TAKE_PTR(deleted);
    strv_free(untagged);
    strv_free(deleted);
    return 0;
}
