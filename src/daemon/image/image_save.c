/*
 * image_store_save: a docker-archive (manifest.json, repositories, <id>.json, <diff-hex>/layer.tar). Layer
 * tars are the exact bytes that were applied (kept by the layer store), so diff IDs and the image ID survive a
 * save/load round trip.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_internal.h"
#include "daemon/image/reference.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"

static int put_header(struct archive *w, const char *name, mode_t type, long long size)
{
    struct archive_entry *e = archive_entry_new();
    int r;
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, type == AE_IFDIR ? 0 : size);
    archive_entry_set_mtime(e, now_ns() / 1000000000LL, 0);
    r = archive_write_header(w, e);
    archive_entry_free(e);
    return r == ARCHIVE_OK ? 0 : -1;
}

static int put_file(struct archive *w, const char *name, const void *data, size_t len)
{
    if (put_header(w, name, AE_IFREG, (long long)len) < 0)
        return -1;
    return len == 0 || archive_write_data(w, data, len) == (la_ssize_t)len ? 0 : -1;
}

static int put_layer(struct image_store *s, struct archive *w, const char *chain, const char *dir,
                     struct isd_error **err)
{
    cleanup_free char *name = xasprintf("%s/layer.tar", dir);
    long long size = 0, done = 0;
    char buf[64 * 1024];
    struct blob_reader *r = layer_store_open_tar(s->ls, chain, &size, err);
    ssize_t n;
    if (r == NULL)
        return -1;
    if (put_header(w, dir, AE_IFDIR, 0) < 0 || put_header(w, name, AE_IFREG, size) < 0)
        goto fail;
    while ((n = blob_reader_read(r, buf, sizeof(buf))) > 0) {
        if (archive_write_data(w, buf, (size_t)n) != n)
            goto fail;
        done += n;
    }
    blob_reader_close(r);
    if (n < 0 || done != size)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "layer `%s`: stored tar is damaged", chain);
    return 0;
fail:
    blob_reader_close(r);
    return isd_error_set(err, ISD_ERR_INTERNAL, 0, "save layer `%s`: %s", chain, archive_error_string(w));
}

/* Chain IDs from the base up to top. */
static char **layer_chain(struct layer_store *ls, const char *top)
{
    char **rev = NULL, **out = xcalloc(1, sizeof(char *));
    cleanup_free char *cur = top != NULL ? xstrdup(top) : NULL;
    while (cur != NULL) {
        struct layer_info li = {0};
        strv_append(&rev, cur);
        if (layer_store_get(ls, cur, &li, NULL) < 0)
            break;
        free(cur);
        cur = TAKE_PTR(li.parent);
        layer_info_clear(&li);
    }
    for (size_t i = strv_len(rev); i > 0; i--)
        strv_append(&out, rev[i - 1]);
    strv_free(rev);
    return out;
}

static void add_repositories(json_t *repos, const struct image *img, const char *last_dir)
{
    for (size_t t = 0; img->repo_tags[t] != NULL && last_dir != NULL; t++) {
        cleanup_free char *name = xstrdup(img->repo_tags[t]);
        char *colon = strrchr(name, ':');
        json_t *r;
        if (colon == NULL || strchr(colon, '/') != NULL)
            continue;
        *colon = '\0';
        r = json_object_get(repos, name);
        if (r == NULL)
            json_object_set_new(repos, name, r = json_object());
        json_object_set_new(r, colon + 1, json_string(last_dir));
    }
}

static int save_layers(struct image_store *s, struct archive *w, const struct image *img, json_t *layers,
                       char ***written, struct isd_error **err)
{
    cleanup_strv char **chain = layer_chain(s->ls, img->top_layer);
    for (size_t i = 0; chain[i] != NULL; i++) {
        struct layer_info li = {0};
        cleanup_free char *dir = NULL;
        if (layer_store_get(s->ls, chain[i], &li, err) < 0)
            return -1;
        dir = xstrdup(digest_strip(li.diff_id));
        layer_info_clear(&li);
        json_array_append_new(layers, json_sprintf("%s/layer.tar", dir));
        if (!strv_contains(*written, dir) && put_layer(s, w, chain[i], dir, err) < 0)
            return -1;
        strv_append(written, dir);
    }
    return 0;
}

/* The image is already in the archive (two refs of one image): its manifest entry gets the tags. */
static void merge_tags(json_t *manifest, json_t *repos, const struct image *img, const char *cfg_name)
{
    size_t i, n;
    json_t *e;
    json_array_foreach(manifest, i, e)
    {
        json_t *tags = json_object_get(e, "RepoTags"), *layers = json_object_get(e, "Layers");
        cleanup_free char *last = NULL;
        if (!streq(json_get_str(e, "Config"), cfg_name))
            continue;
        for (size_t t = 0; img->repo_tags[t] != NULL; t++)
            json_array_append_new(tags, json_string(img->repo_tags[t]));
        n = json_array_size(layers);
        if (n > 0) {
            last = xstrdup(json_string_value(json_array_get(layers, n - 1)));
            *strchr(last, '/') = '\0';
            add_repositories(repos, img, last);
        }
        return;
    }
}

static int save_image(struct image_store *s, struct archive *w, const struct image *img, json_t *manifest,
                      json_t *repos, char ***written, struct isd_error **err)
{
    cleanup_free char *cfg_name = xasprintf("%s.json", img->id), *cfg = NULL, *last = NULL;
    json_t *layers;
    size_t len = 0, n;
    if (strv_contains(*written, img->id)) {
        merge_tags(manifest, repos, img, cfg_name);
        return 0;
    }
    layers = json_array();
    json_array_append_new(manifest, json_pack("{s:s, s:o, s:o}", "Config", cfg_name, "RepoTags",
                                              json_strv(img->repo_tags), "Layers", layers));
    cfg = image_store_config_bytes(s, img->id, &len, err);
    if (cfg == NULL || put_file(w, cfg_name, cfg, len) < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "save image `%s`: write config", img->id);
    strv_append(written, img->id);
    if (save_layers(s, w, img, layers, written, err) < 0)
        return -1;
    n = json_array_size(layers);
    if (n > 0) {
        last = xstrdup(json_string_value(json_array_get(layers, n - 1)));
        *strchr(last, '/') = '\0';
        add_repositories(repos, img, last);
    }
    return 0;
}

static int save_all(struct image_store *s, struct archive *w, struct image **imgs, struct isd_error **err)
{
    cleanup_json json_t *manifest = json_array(), *repos = json_object();
    cleanup_strv char **written = NULL;
    cleanup_free char *m = NULL, *r = NULL;
    for (size_t i = 0; imgs[i] != NULL; i++) {
        if (save_image(s, w, imgs[i], manifest, repos, &written, err) < 0)
            return -1;
    }
    m = json_to_string(manifest);
    r = json_to_string(repos);
    if (put_file(w, "manifest.json", m, strlen(m)) < 0 || put_file(w, "repositories", r, strlen(r)) < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "save: %s", archive_error_string(w));
    return 0;
}

/* As docker saves: a name:tag ref carries only that tag into the archive, an ID ref none (loading an archive
 * must not bring back the image's other tags). */
static void keep_named_tag(struct image *img, const char *ref)
{
    struct reference *r = reference_parse(ref, NULL);
    cleanup_free char *fam = r != NULL ? reference_familiar_string(r) : NULL;
    char **tags = xcalloc(1, sizeof(*tags));
    if (fam != NULL && strv_contains(img->repo_tags, fam))
        strv_append(&tags, fam);
    reference_free(r);
    strv_free(img->repo_tags);
    img->repo_tags = tags;
}

int image_store_save(struct image_store *s, char *const *refs, int out_fd, struct isd_error **err)
{
    size_t n = strv_len(refs);
    struct image **imgs = xcalloc(n + 1, sizeof(*imgs));
    struct archive *w = archive_write_new();
    int r = -1;
    for (size_t i = 0; i < n; i++) {
        imgs[i] = image_store_lookup(s, refs[i], err);
        if (imgs[i] == NULL)
            goto out;
        keep_named_tag(imgs[i], refs[i]);
    }
    archive_write_set_format_pax_restricted(w);
    archive_write_set_bytes_in_last_block(w, 1);
    if (archive_write_open_fd(w, out_fd) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "save: %s", archive_error_string(w));
        goto out;
    }
    if (save_all(s, w, imgs, err) < 0)
        goto out;
    if (archive_write_close(w) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "save: %s", archive_error_string(w));
        goto out;
    }
    r = 0;
out:
    archive_write_free(w);
    for (size_t i = 0; i < n; i++)
        image_free(imgs[i]);
    free(imgs);
    return r;
}
