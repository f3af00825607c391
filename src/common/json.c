#include "common/json.h"

#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/util.h"

void cleanup_jsonp(json_t **j)
{
    json_decref(*j);
}

static json_t *parse(const char *text, size_t len, size_t flags, size_t *ret_used, struct isd_error **err)
{
    json_error_t je;
    json_t *j;
    if (len > JSON_PARSE_MAX) {
        isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "JSON document of %zu bytes exceeds %u", len, JSON_PARSE_MAX);
        return NULL;
    }
    j = json_loadb(text, len, JSON_REJECT_DUPLICATES | flags, &je);
    if (j == NULL)
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
    else if (ret_used != NULL)
        *ret_used = (size_t)je.position;
    return j;
}

json_t *json_parse(const char *text, size_t len, struct isd_error **err)
{
    return parse(text, len, 0, NULL, err);
}

json_t *json_parse_prefix(const char *text, size_t len, size_t *ret_used, struct isd_error **err)
{
    return parse(text, len, JSON_DISABLE_EOF_CHECK, ret_used, err);
}

json_t *json_load_path(const char *path, size_t max, struct isd_error **err)
{
    size_t len = 0;
    cleanup_free char *text = read_file(path, max, &len, err);
    json_t *j;
    if (text == NULL)
        return NULL;
    j = json_parse(text, len, err);
    if (j == NULL)
        isd_error_wrap(err, "`%s`", path);
    return j;
}

int json_write_path(const char *path, const json_t *j, bool durable, struct isd_error **err)
{
    cleanup_free char *text = json_dumps(j, JSON_COMPACT);
    if (text == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "encode JSON for `%s`", path);
    return write_file_atomic(path, text, strlen(text), 0600, durable, err);
}

char *json_to_string(const json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL)
        return xstrdup("null");
    return s;
}

const char *json_get_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

long long json_get_int(const json_t *obj, const char *key, long long dflt)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    /* a real outside the range of long long has no value to convert to (and the cast would be undefined) */
    if (json_is_real(v) && json_real_value(v) > -9.2e18 && json_real_value(v) < 9.2e18)
        return (long long)json_real_value(v);
    return dflt;
}

bool json_get_bool(const json_t *obj, const char *key, bool dflt)
{
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

char **json_get_strv(const json_t *obj, const char *key)
{
    json_t *a = json_object_get(obj, key);
    char **v;
    size_t i, n = 0;
    json_t *e;
    if (!json_is_array(a))
        return NULL;
    v = xcalloc(json_array_size(a) + 1, sizeof(char *));
    json_array_foreach(a, i, e)
    {
        if (json_is_string(e))
            v[n++] = xstrdup(json_string_value(e));
    }
    return v;
}

json_t *json_strv(char *const *v)
{
    json_t *a = json_array();
    for (size_t i = 0; v != NULL && v[i] != NULL; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

char *json_line(const json_t *j)
{
    cleanup_free char *text = json_dumps(j, JSON_COMPACT);
    return text != NULL ? xasprintf("%s\n", text) : NULL;
}

char **json_filter_values(const json_t *filters, const char *key)
{
    json_t *f = json_object_get(filters, key), *v;
    char **out = NULL;
    const char *k;
    size_t i;
    if (json_is_array(f)) {
        json_array_foreach(f, i, v)
        {
            if (json_is_string(v))
                strv_append(&out, json_string_value(v));
        }
    } else if (json_is_object(f)) {
        json_object_foreach(f, k, v)
        {
            if (json_is_true(v))
                strv_append(&out, k);
        }
    }
    return out;
}

bool json_labels_match(const json_t *labels, char *const *want)
{
    for (size_t i = 0; want != NULL && want[i] != NULL; i++) {
        const char *eq = strchr(want[i], '=');
        cleanup_free char *k = eq != NULL ? xstrndup(want[i], (size_t)(eq - want[i])) : xstrdup(want[i]);
        const char *v = json_get_str(labels, k);
        if (v == NULL || (eq != NULL && strcmp(v, eq + 1) != 0))
            return false;
    }
    return true;
}
