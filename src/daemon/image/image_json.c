/* Docker API JSON shapes of an image; see image_store.h. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"

static json_t *config_or_empty(const struct image *img, const char *key)
{
    json_t *c = json_object_get(img->config, key);
    return c != NULL ? json_deep_copy(c) : json_object();
}

static json_t *repo_digests(const struct image *img)
{
    return json_strv(img->repo_digests);
}

static json_t *labels(const struct image *img)
{
    json_t *l = json_object_get(json_object_get(img->config, "config"), "Labels");
    return json_is_object(l) ? json_deep_copy(l) : json_object();
}

static const char *cfg_str(const struct image *img, const char *key, const char *dflt)
{
    const char *s = json_get_str(img->config, key);
    return s != NULL ? s : dflt;
}

json_t *image_inspect_json(const struct image *img)
{
    cleanup_free char *created = time_rfc3339_nano(img->created_ns);
    json_t *layers = json_array();
    json_t *j;
    for (size_t i = 0; img->diff_ids != NULL && img->diff_ids[i] != NULL; i++)
        json_array_append_new(layers, json_string(img->diff_ids[i]));
    j = json_pack("{s:s+, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:s, s:s, s:I, s:I}", "Id", "sha256:", img->id, "RepoTags",
                  json_strv(img->repo_tags), "RepoDigests", repo_digests(img), "Parent", "", "Comment",
                  cfg_str(img, "comment", ""), "Created", created, "ContainerConfig",
                  config_or_empty(img, "container_config"), "Config", config_or_empty(img, "config"), "Architecture",
                  cfg_str(img, "architecture", "amd64"), "Os", cfg_str(img, "os", "linux"), "Size",
                  (json_int_t)img->size, "VirtualSize", (json_int_t)img->size);
    if (j == NULL)
        return json_object();
    json_object_set_new(j, "Author", json_string(cfg_str(img, "author", "")));
    json_object_set_new(j, "DockerVersion", json_string(cfg_str(img, "docker_version", "")));
    if (json_get_str(img->config, "variant") != NULL)
        json_object_set_new(j, "Variant", json_string(json_get_str(img->config, "variant")));
    json_object_set_new(j, "GraphDriver", json_pack("{s:s, s:o}", "Name", "overlay2", "Data", json_object()));
    json_object_set_new(j, "RootFS", json_pack("{s:s, s:o}", "Type", "layers", "Layers", layers));
    json_object_set_new(j, "Metadata", json_pack("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
    return j;
}

json_t *image_summary_json(const struct image *img)
{
    return json_pack("{s:s+, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:i}", "Id", "sha256:", img->id, "ParentId", "",
                     "RepoTags", json_strv(img->repo_tags), "RepoDigests", repo_digests(img), "Created",
                     (json_int_t)(img->created_ns / 1000000000LL), "Size", (json_int_t)img->size, "SharedSize",
                     (json_int_t)-1, "VirtualSize", (json_int_t)img->size, "Labels", labels(img), "Containers", -1);
}
