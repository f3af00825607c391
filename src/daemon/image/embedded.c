/*
 * Embedded images (guide 1.3.6.2, IMG-30..): an image described by a local JSON manifest that names the
 * image, lists layer files (tar or tar.gz, relative to the manifest's directory, each with its sha256) and
 * carries the image config fields. The format is documented in docs/embedded-images.md.
 *
 * Layer files are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) below the manifest's
 * directory, so neither `..` nor a symlink can reach a file outside it. Each file is hashed while it is
 * applied (one read, no window between check and use); a mismatch drops the layer and nothing is
 * registered. Thread-safety: as image_store_register (no state of its own).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/embedded.h"
#include "daemon/image/image_internal.h"
#include "daemon/image/reference.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"

#define MANIFEST_MAX (1 << 20)
#define EMBEDDED_MAX_LAYERS 125

/* The config fields a manifest may carry, copied as they are (Docker's image config names). */
static const char *const config_keys[] = {"Cmd",    "Entrypoint", "Env",          "WorkingDir", "User",
                                          "Labels", "StopSignal", "ExposedPorts", "Volumes"};

struct hashing_source {
    int fd;
    struct sha256_ctx *h;
};

static ssize_t hashing_read(void *ctx, void *buf, size_t len)
{
    struct hashing_source *hs = ctx;
    ssize_t n;
    do {
        n = read(hs->fd, buf, len);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        sha256_update(hs->h, buf, (size_t)n);
    return n;
}

/* Opens rel below dirfd, refusing anything that resolves outside it (symlinks included) and non-files. */
static int open_beneath(int dirfd, const char *rel, struct isd_error **err)
{
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                           .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    struct stat st;
    int fd;
    if (rel[0] == '/' || rel[0] == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "layer path `%s` must be relative to the manifest", rel);
    fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
    if (fd < 0 && errno == EXDEV)
        return isd_error_set(err, ISD_ERR_INVALID, EXDEV, "layer file `%s` is outside the manifest's directory", rel);
    if (fd < 0)
        return isd_error_set(err, errno == ENOENT ? ISD_ERR_NOT_FOUND : ISD_ERR_INVALID, errno,
                             "open layer file `%s`: %s", rel, strerror(errno));
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "layer file `%s` is not a regular file", rel);
    }
    return fd;
}

/* Applies one layer file on *top, checking its sha256; *top becomes the new layer (one reference held). */
static int apply_layer(struct image_store *s, int dirfd, const json_t *layer, char **top, char **ret_diff,
                       struct isd_error **err)
{
    const char *rel = json_get_str(layer, "path"), *want = digest_strip(json_get_str(layer, "digest"));
    cleanup_free char *chain = NULL;
    char got[DIGEST_HEX_LEN + 1], buf[65536];
    struct hashing_source hs = {.fd = -1};
    struct byte_source src = {hashing_read, &hs};
    int r;
    if (rel == NULL || want == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "each layer needs a \"path\" and a \"digest\" (sha256:<hex>)");
    if ((hs.fd = open_beneath(dirfd, rel, err)) < 0)
        return -1;
    hs.h = sha256_new();
    r = layer_store_apply_source(image_store_layers(s), *top, &src, NULL, &chain, ret_diff, err);
    while (r == 0 && hashing_read(&hs, buf, sizeof(buf)) > 0)
        ;
    sha256_finish(hs.h, got);
    close(hs.fd);
    if (r < 0)
        return isd_error_wrap(err, "layer `%s`", rel);
    if (strcmp(got, want) != 0) {
        layer_store_unref(image_store_layers(s), chain, NULL, NULL);
        free(*ret_diff);
        *ret_diff = NULL;
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "layer `%s`: digest mismatch: manifest says sha256:%s, file has sha256:%s", rel, want,
                             got);
    }
    if (*top != NULL)
        layer_store_unref(image_store_layers(s), *top, NULL, NULL);
    free(*top);
    *top = TAKE_PTR(chain);
    return 0;
}

/* The image config (Docker/OCI image JSON) built from the manifest and the applied diff ids. */
static char *build_config(const json_t *m, const char *created, json_t *diff_ids, json_t *history,
                          struct isd_error **err)
{
    const json_t *mc = json_object_get(m, "config");
    cleanup_json json_t *cfg = json_object(), *img = NULL;
    if (mc != NULL && !json_is_object(mc))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest \"config\" must be an object"), NULL;
    for (size_t i = 0; mc != NULL && i < ARRAY_SIZE(config_keys); i++) {
        json_t *v = json_object_get(mc, config_keys[i]);
        if (v != NULL)
            json_object_set(cfg, config_keys[i], v);
    }
    img =
        json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:O}, s:O}", "architecture",
                  json_get_str(m, "architecture") ? json_get_str(m, "architecture") : "amd64", "os", "linux", "created",
                  created, "config", cfg, "rootfs", "type", "layers", "diff_ids", diff_ids, "history", history);
    if (img == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid manifest fields"), NULL;
    json_object_set_new(img, "comment", json_string("embedded image"));
    return json_dumps(img, JSON_COMPACT | JSON_SORT_KEYS);
}

static int check_config_types(const json_t *mc, struct isd_error **err)
{
    static const char *const arrays[] = {"Cmd", "Entrypoint", "Env"};
    for (size_t i = 0; i < ARRAY_SIZE(arrays); i++) {
        json_t *v = json_object_get(mc, arrays[i]), *e;
        size_t k;
        if (v == NULL || json_is_null(v))
            continue;
        if (!json_is_array(v))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest config.%s must be an array of strings", arrays[i]);
        json_array_foreach(v, k, e)
        {
            if (!json_is_string(e))
                return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest config.%s must be an array of strings",
                                     arrays[i]);
        }
    }
    return 0;
}

/* Reads and checks the manifest's shape; *ret_dirfd is its directory. */
static json_t *read_manifest(const char *path, int *ret_dirfd, char **ret_name, struct isd_error **err)
{
    cleanup_free char *dir = NULL;
    const char *slash = strrchr(path, '/');
    json_t *m, *layers;
    if (path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest path `%s` must be absolute", path), NULL;
    if ((m = json_load_path(path, MANIFEST_MAX, err)) == NULL)
        return isd_error_wrap(err, "read manifest `%s`", path), NULL;
    layers = json_object_get(m, "layers");
    if (!json_is_object(m) || json_get_str(m, "name") == NULL || !json_is_array(layers) ||
        json_array_size(layers) == 0 || json_array_size(layers) > EMBEDDED_MAX_LAYERS) {
        json_decref(m);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid manifest `%s`: needs \"name\" and 1 to %d \"layers\"",
                             path, EMBEDDED_MAX_LAYERS),
               NULL;
    }
    if (check_config_types(json_object_get(m, "config"), err) < 0 ||
        (*ret_name = reference_normalize(json_get_str(m, "name"), err)) == NULL) {
        json_decref(m);
        return NULL;
    }
    dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
    if ((*ret_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        isd_error_errno(err, "open `%s`", dir);
        json_decref(m);
        free(TAKE_PTR(*ret_name));
        return NULL;
    }
    return m;
}

int image_store_load_embedded(struct image_store *s, const char *manifest_path, char **ret_name, struct isd_error **err)
{
    cleanup_close int dirfd = -1;
    cleanup_free char *name = NULL, *top = NULL, *config = NULL;
    cleanup_json json_t *m = read_manifest(manifest_path, &dirfd, &name, err);
    cleanup_json json_t *diff_ids = json_array(), *history = json_array();
    cleanup_free char *created = NULL;
    json_t *layer;
    size_t i;
    if (m == NULL)
        return -1;
    created = xstrdup(json_get_str(m, "created") ? json_get_str(m, "created") : "");
    if (*created == '\0') {
        free(created);
        created = time_rfc3339_nano(now_ns());
    } else if (time_parse_rfc3339(created, &(long long){0}) < 0) {
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest \"created\" `%s` is not an RFC 3339 time", created);
    }
    json_array_foreach(json_object_get(m, "layers"), i, layer)
    {
        cleanup_free char *diff = NULL;
        if (apply_layer(s, dirfd, layer, &top, &diff, err) < 0)
            goto fail;
        json_array_append_new(diff_ids, json_string(diff));
        json_array_append_new(history, json_pack("{s:s, s:s+}", "created", created, "created_by", "embedded layer ",
                                                 json_get_str(layer, "path")));
    }
    if ((config = build_config(m, created, diff_ids, history, err)) == NULL)
        goto fail;
    /* register takes over the reference on top, also on failure */
    if (image_store_register(s, config, strlen(config), top, (char *[]){name, NULL}, NULL, NULL, err) < 0)
        return isd_error_wrap(err, "load embedded image `%s`", name);
    if (ret_name != NULL)
        *ret_name = TAKE_PTR(name);
    return 0;
fail:
    if (top != NULL)
        layer_store_unref(image_store_layers(s), top, NULL, NULL);
    return isd_error_wrap(err, "load embedded image from `%s`", manifest_path);
}
