/* Filter helpers shared by the container list, the image list and the event stream. */
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/image/reference.h"
#include "daemon/service/internal.h"

json_t *service_filter_values(const json_t *filters, const char *key)
{
    json_t *vals = json_object_get(filters, key), *out, *v;
    const char *k;
    size_t i;
    if (vals == NULL)
        return NULL;
    out = json_array();
    if (json_is_array(vals)) {
        json_array_foreach(vals, i, v)
        {
            if (json_is_string(v))
                json_array_append(out, v);
        }
        return out;
    }
    json_object_foreach(vals, k, v) json_array_append_new(out, json_string(k));
    return out;
}

static void add_forms(struct daemon *d, json_t *out, const char *ref)
{
    cleanup_free char *norm = reference_normalize(ref, NULL);
    struct image *img;
    json_array_append_new(out, json_string(ref));
    if (norm != NULL)
        json_array_append_new(out, json_string(norm));
    img = image_store_lookup(d->images, ref, NULL);
    if (img != NULL) {
        json_array_append_new(out, json_string(img->id));
        image_free(img);
    }
}

json_t *service_filters_expand_ancestor(struct daemon *d, const json_t *filters, const char *key)
{
    cleanup_json json_t *vals = service_filter_values(filters, key);
    json_t *out = json_deep_copy(filters), *forms, *v;
    size_t i;
    if (vals == NULL)
        return out;
    forms = json_array();
    json_array_foreach(vals, i, v) add_forms(d, forms, json_string_value(v));
    json_object_set_new(out, key, forms);
    return out;
}

int service_filters_check_regex(const json_t *filters, const char *key, struct isd_error **err)
{
    cleanup_json json_t *vals = service_filter_values(filters, key);
    json_t *v;
    size_t i;
    json_array_foreach(vals, i, v)
    {
        regex_t re;
        if (regcomp(&re, json_string_value(v), REG_EXTENDED | REG_NOSUB) != 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid filter: bad regular expression `%s`",
                                 json_string_value(v));
        regfree(&re);
    }
    return 0;
}
