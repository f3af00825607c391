/* Manifest and index parsing, host platform and index platform selection; see registry.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/registry/registry.h"
#include "daemon/storage/digest.h"

static void descriptor_clear(struct registry_descriptor *d)
{
    free(d->media_type);
    free(d->digest);
    free(d->os);
    free(d->arch);
    free(d->variant);
    memset(d, 0, sizeof(*d));
}

void registry_manifest_free(struct registry_manifest *m)
{
    if (m == NULL)
        return;
    descriptor_clear(&m->config);
    for (size_t i = 0; i < m->n_layers; i++)
        descriptor_clear(&m->layers[i]);
    free(m->layers);
    free(m);
}

static int descriptor_parse(const json_t *j, bool with_platform, struct registry_descriptor *ret,
                            struct isd_error **err)
{
    const char *digest = json_get_str(j, "digest");
    json_t *size = json_object_get(j, "size");
    json_t *plat = json_object_get(j, "platform");
    if (!json_is_object(j) || digest == NULL || !str_has_prefix(digest, "sha256:") || digest_strip(digest) == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest: descriptor without a valid sha256 digest");
    if (!json_is_integer(size) || json_integer_value(size) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest: descriptor `%s` without a valid size", digest);
    ret->digest = xstrdup(digest);
    ret->size = json_integer_value(size);
    ret->media_type = json_get_str(j, "mediaType") ? xstrdup(json_get_str(j, "mediaType")) : NULL;
    if (with_platform && json_is_object(plat)) {
        const char *os = json_get_str(plat, "os"), *arch = json_get_str(plat, "architecture");
        const char *variant = json_get_str(plat, "variant");
        ret->os = os != NULL ? xstrdup(os) : NULL;
        ret->arch = arch != NULL ? xstrdup(arch) : NULL;
        ret->variant = variant != NULL && *variant != '\0' ? xstrdup(variant) : NULL;
    }
    return 0;
}

static int parse_list(const json_t *arr, bool with_platform, struct registry_manifest *m, struct isd_error **err)
{
    size_t i;
    json_t *e;
    if (!json_is_array(arr))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest: missing %s list",
                             with_platform ? "manifests" : "layers");
    if (json_array_size(arr) > 1000)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest: too many entries");
    m->layers = xcalloc(json_array_size(arr) + 1, sizeof(*m->layers));
    json_array_foreach(arr, i, e)
    {
        if (descriptor_parse(e, with_platform, &m->layers[i], err) < 0)
            return -1;
        m->n_layers = i + 1;
    }
    return 0;
}

/* The kind from the body's mediaType, else the Content-Type, else the shape (OCI allows no mediaType). */
static const char *manifest_kind(const json_t *j, const char *content_type)
{
    const char *mt = json_get_str(j, "mediaType");
    if (mt == NULL && content_type != NULL && *content_type != '\0' && strcmp(content_type, "application/json") != 0)
        mt = content_type;
    if (mt == NULL)
        mt = json_object_get(j, "manifests") != NULL ? MT_OCI_INDEX : MT_OCI_MANIFEST;
    return mt;
}

struct registry_manifest *registry_manifest_parse(const char *body, size_t len, const char *content_type,
                                                  struct isd_error **err)
{
    cleanup_json json_t *j = json_parse(body, len, err);
    struct registry_manifest *m;
    const char *mt;
    int r;
    if (j == NULL)
        return NULL;
    if (!json_is_object(j)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "manifest is not a JSON object");
        return NULL;
    }
    if (json_get_int(j, "schemaVersion", 0) == 1) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "schema1 manifests are not supported: push the image again");
        return NULL;
    }
    mt = manifest_kind(j, content_type);
    m = xcalloc(1, sizeof(*m));
    if (strcmp(mt, MT_DOCKER_LIST) == 0 || strcmp(mt, MT_OCI_INDEX) == 0) {
        m->is_index = true;
        r = parse_list(json_object_get(j, "manifests"), true, m, err);
    } else if (strcmp(mt, MT_DOCKER_MANIFEST) == 0 || strcmp(mt, MT_OCI_MANIFEST) == 0) {
        r = descriptor_parse(json_object_get(j, "config"), false, &m->config, err);
        if (r == 0)
            r = parse_list(json_object_get(j, "layers"), false, m, err);
    } else {
        r = isd_error_set(err, ISD_ERR_INVALID, 0, "unsupported manifest media type `%s`", mt);
    }
    if (r < 0) {
        registry_manifest_free(m);
        return NULL;
    }
    return m;
}

void registry_host_platform(const char **ret_os, const char **ret_arch, const char **ret_variant)
{
    static const struct {
        const char *machine, *arch, *variant;
    } map[] = {
        {"x86_64", "amd64", NULL},    {"aarch64", "arm64", "v8"}, {"armv7l", "arm", "v7"},
        {"armv6l", "arm", "v6"},      {"i686", "386", NULL},      {"i386", "386", NULL},
        {"ppc64le", "ppc64le", NULL}, {"s390x", "s390x", NULL},   {"riscv64", "riscv64", NULL},
    };
    struct utsname u;
    *ret_os = "linux";
    *ret_arch = "amd64";
    *ret_variant = NULL;
    if (uname(&u) < 0)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
        if (strcmp(u.machine, map[i].machine) == 0) {
            *ret_arch = map[i].arch;
            *ret_variant = map[i].variant;
        }
    }
}

/* "v7" -> 7; 0 when absent or malformed. */
static int variant_num(const char *v)
{
    if (v == NULL || v[0] != 'v')
        return 0;
    return atoi(v + 1);
}

const struct registry_descriptor *registry_index_select(const struct registry_manifest *m, const char *os,
                                                        const char *arch, const char *variant)
{
    const struct registry_descriptor *best = NULL;
    int want = variant_num(variant), best_v = -1;
    for (size_t i = 0; i < m->n_layers; i++) {
        const struct registry_descriptor *d = &m->layers[i];
        int v;
        if (!streq(d->os, os) || !streq(d->arch, arch))
            continue;
        if (variant == NULL || streq(d->variant, variant))
            return d;
        /* arm64 images rarely say v8; arm falls back to an older variant (v7 host runs v6 images) */
        v = d->variant == NULL ? 0 : variant_num(d->variant);
        if (d->variant != NULL && (v == 0 || v > want))
            continue;
        if (v > best_v) {
            best = d;
            best_v = v;
        }
    }
    return best;
}
