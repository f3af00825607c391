/*
 * image_store_load: `docker save` archives (classic <id>/layer.tar or blobs/sha256/ form) and OCI image
 * layout archives. The input (maybe a pipe) is spooled to a temp file in the store, indexed, all layers
 * are applied, and only when everything succeeded are the images registered.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/archive_index.h"
#include "daemon/image/image_internal.h"
#include "daemon/image/reference.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"

#define MANIFEST_MAX (4 * 1024 * 1024)
#define ARCHIVE_MAX (64LL * 1024 * 1024 * 1024)

struct pending {
    char *config;
    size_t config_len;
    char *top; /* held reference */
    char **tags;
};

struct load_ctx {
    struct image_store *s;
    struct archive_index *x;
    const char *tag;
    struct pending *v;
    size_t n;
};

static int spool(struct image_store *s, int fd, char **ret_path, struct isd_error **err)
{
    cleanup_free char *path = image_store_temp_path(s, "load");
    cleanup_close int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    char buf[128 * 1024];
    long long total = 0;
    if (out < 0)
        return isd_error_errno(err, "create `%s`", path);
    for (;;) {
        ssize_t n = byte_source_fd_read(&fd, buf, sizeof(buf));
        if (n < 0 || (n > 0 && write(out, buf, (size_t)n) != n)) {
            isd_error_errno(err, "spool image archive");
            unlink(path);
            return -1;
        }
        if (n == 0)
            break;
        if ((total += n) > ARCHIVE_MAX) {
            unlink(path);
            return isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "image archive is larger than %lld bytes", ARCHIVE_MAX);
        }
    }
    *ret_path = TAKE_PTR(path);
    return 0;
}

/* Applies the layers (archive paths) in order with their expected diff ids; *ret_top holds a reference. */
static int apply_layers(struct load_ctx *c, char *const *paths, char *const *diff_ids, char **ret_top,
                        struct isd_error **err)
{
    char *top = NULL;
    for (size_t i = 0; paths[i] != NULL; i++) {
        struct entry_reader *r = entry_reader_open(c->x, paths[i], err);
        struct byte_source src;
        char *chain = NULL;
        int rc;
        if (r == NULL)
            goto fail;
        entry_reader_source(r, &src);
        rc = layer_store_apply_source(image_store_layers(c->s), top, &src, diff_ids[i], &chain, NULL, err);
        entry_reader_close(r);
        if (rc < 0) {
            isd_error_wrap(err, "load layer `%s`", paths[i]);
            goto fail;
        }
        if (top != NULL)
            layer_store_unref(image_store_layers(c->s), top, NULL, NULL);
        free(top);
        top = chain;
    }
    *ret_top = top;
    return 0;
fail:
    if (top != NULL)
        layer_store_unref(image_store_layers(c->s), top, NULL, NULL);
    free(top);
    return -1;
}

/* Adds one image: config bytes (taken), layer paths, tags. */
static int load_one(struct load_ctx *c, char *config, size_t len, char *const *layers, char *const *tags,
                    struct isd_error **err)
{
    cleanup_json json_t *cfg = json_parse(config, len, err);
    cleanup_strv char **diff_ids = cfg != NULL ? json_get_strv(json_object_get(cfg, "rootfs"), "diff_ids") : NULL;
    char *top = NULL;
    struct pending *p;
    if (cfg == NULL || strv_len(diff_ids) != strv_len(layers)) {
        free(config);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: config lists %zu layers, found %zu",
                             strv_len(diff_ids), strv_len(layers));
    }
    if (strv_len(layers) > 0 && apply_layers(c, layers, diff_ids, &top, err) < 0) {
        free(config);
        return -1;
    }
    c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
    p = &c->v[c->n++];
    p->config = config;
    p->config_len = len;
    p->top = top;
    p->tags = c->tag != NULL ? strv_dup((char *[]){(char *)c->tag, NULL}) : strv_dup(tags);
    return 0;
}

static int load_docker(struct load_ctx *c, struct isd_error **err)
{
    cleanup_free char *text = archive_index_read(c->x, "manifest.json", MANIFEST_MAX, NULL, err);
    cleanup_json json_t *m = text != NULL ? json_parse(text, strlen(text), err) : NULL;
    size_t i;
    json_t *item;
    if (m == NULL || !json_is_array(m))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: bad manifest.json");
    json_array_foreach(m, i, item)
    {
        cleanup_strv char **layers = json_get_strv(item, "Layers");
        cleanup_strv char **tags = json_get_strv(item, "RepoTags");
        const char *cfg_path = json_get_str(item, "Config");
        size_t len = 0;
        char *cfg = cfg_path != NULL ? archive_index_read(c->x, cfg_path, CONFIG_MAX, &len, err) : NULL;
        if (cfg == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: missing config");
        if (layers == NULL)
            layers = xcalloc(1, sizeof(char *));
        if (load_one(c, cfg, len, layers, tags, err) < 0)
            return -1;
    }
    return 0;
}

static char *blob_path(const char *digest)
{
    const char *colon = digest != NULL ? strchr(digest, ':') : NULL;
    if (colon == NULL || strchr(colon + 1, '/') != NULL || strstr(digest, "..") != NULL)
        return NULL;
    return xasprintf("blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
}

static json_t *read_blob_json(struct load_ctx *c, const char *digest, struct isd_error **err)
{
    cleanup_free char *path = blob_path(digest);
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (path == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid digest `%s`", digest ? digest : ""), NULL;
    text = archive_index_read(c->x, path, MANIFEST_MAX, &len, err);
    return text != NULL ? json_parse(text, len, err) : NULL;
}

static const char *oci_name(const json_t *desc)
{
    json_t *ann = json_object_get(desc, "annotations");
    const char *n = json_get_str(ann, "io.containerd.image.name");
    const char *r = json_get_str(ann, "org.opencontainers.image.ref.name");
    if (n != NULL)
        return n;
    /* a bare tag ("latest") does not name the image */
    if (r != NULL && (strchr(r, ':') != NULL || strchr(r, '/') != NULL))
        return r;
    return NULL;
}

static int load_oci_manifest(struct load_ctx *c, const json_t *manifest, const char *name, struct isd_error **err)
{
    const char *cfg_digest = json_get_str(json_object_get(manifest, "config"), "digest");
    cleanup_free char *cfg_path = blob_path(cfg_digest);
    cleanup_strv char **layers = xcalloc(1, sizeof(char *));
    char hex[DIGEST_HEX_LEN + 1];
    size_t len = 0, i;
    json_t *l;
    char *cfg = cfg_path != NULL ? archive_index_read(c->x, cfg_path, CONFIG_MAX, &len, err) : NULL;
    if (cfg == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: missing image config");
    sha256_hex(cfg, len, hex);
    if (digest_strip(cfg_digest) == NULL || strcmp(digest_strip(cfg_digest), hex) != 0) {
        free(cfg);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: config digest mismatch `%s`", cfg_digest);
    }
    json_array_foreach(json_object_get(manifest, "layers"), i, l)
    {
        cleanup_free char *p = blob_path(json_get_str(l, "digest"));
        if (p == NULL) {
            free(cfg);
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: bad layer descriptor");
        }
        strv_append(&layers, p);
    }
    return load_one(c, cfg, len, layers, name != NULL ? (char *[]){(char *)name, NULL} : NULL, err);
}

static bool is_index_type(const char *mt)
{
    return mt != NULL && (strstr(mt, "image.index") != NULL || strstr(mt, "manifest.list") != NULL);
}

/* Picks linux/amd64 (or the first manifest) of a nested index. */
static const json_t *pick_platform(const json_t *index)
{
    json_t *ms = json_object_get(index, "manifests"), *m;
    size_t i;
    json_array_foreach(ms, i, m)
    {
        json_t *p = json_object_get(m, "platform");
        if (streq(json_get_str(p, "os"), "linux") && streq(json_get_str(p, "architecture"), "amd64"))
            return m;
    }
    return json_array_get(ms, 0);
}

static int load_oci_desc(struct load_ctx *c, const json_t *desc, const char *name, int depth, struct isd_error **err)
{
    cleanup_json json_t *blob = read_blob_json(c, json_get_str(desc, "digest"), err);
    const char *mt;
    if (blob == NULL)
        return -1;
    mt = json_get_str(blob, "mediaType") ? json_get_str(blob, "mediaType") : json_get_str(desc, "mediaType");
    if (is_index_type(mt) || json_object_get(blob, "manifests") != NULL) {
        const json_t *m = pick_platform(blob);
        if (m == NULL || depth > 4)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: empty image index");
        return load_oci_desc(c, m, name, depth + 1, err);
    }
    return load_oci_manifest(c, blob, name, err);
}

static int load_oci(struct load_ctx *c, struct isd_error **err)
{
    cleanup_free char *text = archive_index_read(c->x, "index.json", MANIFEST_MAX, NULL, err);
    cleanup_json json_t *idx = text != NULL ? json_parse(text, strlen(text), err) : NULL;
    json_t *ms = json_object_get(idx, "manifests"), *d;
    size_t i;
    if (!json_is_array(ms) || json_array_size(ms) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: bad index.json");
    json_array_foreach(ms, i, d)
    {
        if (load_oci_desc(c, d, oci_name(d), 0, err) < 0)
            return -1;
    }
    return 0;
}

static void pending_clear(struct load_ctx *c, bool release)
{
    for (size_t i = 0; i < c->n; i++) {
        if (release && c->v[i].top != NULL)
            layer_store_unref(image_store_layers(c->s), c->v[i].top, NULL, NULL);
        free(c->v[i].config);
        free(c->v[i].top);
        strv_free(c->v[i].tags);
    }
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

static int register_all(struct load_ctx *c, char ***loaded, struct isd_error **err)
{
    int r = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct pending *p = &c->v[i];
        cleanup_free char *id = NULL;
        /* register takes over the layer reference, also on failure */
        if (r < 0) {
            if (p->top != NULL)
                layer_store_unref(image_store_layers(c->s), p->top, NULL, NULL);
            continue;
        }
        r = image_store_register(c->s, p->config, p->config_len, p->top, p->tags, NULL, &id, err);
        for (size_t t = 0; r == 0 && p->tags != NULL && p->tags[t] != NULL; t++) {
            cleanup_free char *n = reference_normalize(p->tags[t], NULL);
            strv_append(loaded, n != NULL ? n : p->tags[t]);
        }
        if (r == 0 && strv_len(p->tags) == 0) {
            cleanup_free char *sid = xasprintf("sha256:%s", id);
            strv_append(loaded, sid);
        }
    }
    pending_clear(c, false);
    return r;
}

int image_store_load(struct image_store *s, int fd, const char *tag, char ***ret_loaded, struct isd_error **err)
{
    struct load_ctx c = {.s = s, .tag = tag};
    cleanup_free char *path = NULL, *norm = NULL;
    char **loaded = NULL;
    int r = -1;
    if (tag != NULL && (norm = reference_normalize(tag, err)) == NULL)
        return -1;
    if (spool(s, fd, &path, err) < 0)
        return -1;
    c.x = archive_index_open(path, err);
    if (c.x == NULL)
        goto out;
    if (archive_index_resolve(c.x, "manifest.json") != NULL)
        r = load_docker(&c, err);
    else if (archive_index_resolve(c.x, "index.json") != NULL)
        r = load_oci(&c, err);
    else
        r = isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: no manifest.json or index.json");
    if (r < 0) {
        pending_clear(&c, true);
        goto out;
    }
    r = register_all(&c, &loaded, err);
    if (r == 0 && ret_loaded != NULL)
        *ret_loaded = TAKE_PTR(loaded);
out:
    strv_free(loaded);
    archive_index_free(c.x);
    unlink(path);
    return r;
}
