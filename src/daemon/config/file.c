/*
 * daemon.json reader: loads the file (bounded), flattens the nested objects "log-opts" and "tls-config"
 * into "log-opts.<key>" / "tls-config.<key>" entries of the option table, and turns every JSON value into
 * the raw text the command-line parser would have produced, checking its JSON type. Unknown keys and wrong
 * types are errors naming the key. Not thread-safe (fills one load context).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/config/config_internal.h"

#define CONFIG_FILE_MAX (1024 * 1024)

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a bool";
    default:
        return "null";
    }
}

static int wrong_type(struct load_ctx *ctx, const char *key, const json_t *v, const char *want, struct isd_error **err)
{
    return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid configuration file %s: key \"%s\" must be %s, not %s",
                         ctx->file_path, key, want, json_type_name(v));
}

static int scalar_text(struct load_ctx *ctx, const struct opt_def *o, const char *key, const json_t *v, char **ret,
                       struct isd_error **err)
{
    if (o->type == OT_BOOL) {
        if (json_is_boolean(v))
            *ret = xstrdup(json_is_true(v) ? "true" : "false");
        else if (o->flags & OF_LENIENT_BOOL)
            *ret = NULL; /* D-06: another JSON type silently means the default */
        else
            return wrong_type(ctx, key, v, "a bool", err);
        return 0;
    }
    if (o->type == OT_INT && json_is_integer(v)) {
        *ret = xasprintf("%lld", (long long)json_integer_value(v));
        return 0;
    }
    if (o->type == OT_INT && !(o->flags & OF_FILE_STRING))
        return wrong_type(ctx, key, v, "an integer", err);
    if (!json_is_string(v))
        return wrong_type(ctx, key, v, "a string", err);
    *ret = xstrdup(json_string_value(v));
    return 0;
}

static int strv_value(struct load_ctx *ctx, const char *key, const json_t *v, char ***ret, struct isd_error **err)
{
    size_t i;
    json_t *e;
    if (!json_is_array(v))
        return wrong_type(ctx, key, v, "an array of strings", err);
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e))
            return wrong_type(ctx, key, e, "an array of strings", err);
    }
    json_array_foreach(v, i, e) strv_append(ret, json_string_value(e));
    return 0;
}

static int ulimit_entry(struct load_ctx *ctx, const char *name, const json_t *u, char ***ret, struct isd_error **err)
{
    const char *k;
    json_t *v;
    long long soft = 0, hard = 0;
    if (!json_is_object(u))
        return wrong_type(ctx, "default-ulimits", u, "an object of {\"Name\", \"Hard\", \"Soft\"}", err);
    json_object_foreach((json_t *)u, k, v)
    {
        if (strcmp(k, "Name") == 0 && !json_is_string(v))
            return wrong_type(ctx, "default-ulimits.Name", v, "a string", err);
        else if ((strcmp(k, "Hard") == 0 || strcmp(k, "Soft") == 0) && !json_is_integer(v))
            return wrong_type(ctx, "default-ulimits.Hard/Soft", v, "an integer", err);
        else if (strcmp(k, "Name") != 0 && strcmp(k, "Hard") != 0 && strcmp(k, "Soft") != 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "invalid configuration file %s: unknown key \"%s\" in default-ulimits.%s",
                                 ctx->file_path, k, name);
    }
    if (!streq(json_get_str(u, "Name"), name))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid configuration file %s: default-ulimits: key `%s` and Name `%s` must be identical",
                             ctx->file_path, name, json_get_str(u, "Name") ? json_get_str(u, "Name") : "");
    soft = json_get_int(u, "Soft", 0);
    hard = json_get_int(u, "Hard", 0);
    if (soft < 0 || hard < 0 || hard < soft)
        return isd_error_set(
            err, ISD_ERR_INVALID, 0,
            "invalid configuration file %s: default-ulimits: %s: Hard (%lld) must be >= Soft (%lld) >= 0",
            ctx->file_path, name, hard, soft);
    {
        cleanup_free char *text = xasprintf("%s=%lld:%lld", name, soft, hard);
        strv_append(ret, text);
    }
    return 0;
}

static int ulimits_value(struct load_ctx *ctx, const json_t *v, char ***ret, struct isd_error **err)
{
    const char *name;
    json_t *u;
    if (!json_is_object(v))
        return wrong_type(ctx, "default-ulimits", v, "an object", err);
    json_object_foreach((json_t *)v, name, u)
    {
        if (ulimit_entry(ctx, name, u, ret, err) < 0)
            return -1;
    }
    return 0;
}

static int store_key(struct load_ctx *ctx, const char *key, const json_t *v, struct isd_error **err)
{
    const struct opt_def *o = opt_by_key(key);
    struct raw_value *r;
    if (o == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid configuration file %s: unknown key \"%s\"",
                             ctx->file_path, key);
    r = &ctx->file[opt_index(o)];
    switch (o->type) {
    case OT_STRV:
        if ((o->flags & OF_ONE_OR_LIST) && json_is_string(v) && json_string_length(v) > 0)
            strv_append(&r->list, json_string_value(v));
        else if ((o->flags & OF_ONE_OR_LIST) && json_is_string(v))
            return 0;
        else if (strv_value(ctx, key, v, &r->list, err) < 0)
            return -1;
        break;
    case OT_ULIMITS:
        if (ulimits_value(ctx, v, &r->list, err) < 0)
            return -1;
        break;
    case OT_RUNTIMES:
        if (!json_is_object(v))
            return wrong_type(ctx, key, v, "an object", err);
        r->json = json_incref((json_t *)v);
        break;
    default:
        if (scalar_text(ctx, o, key, v, &r->text, err) < 0)
            return -1;
        if (r->text == NULL)
            return 0;
    }
    r->source = SRC_FILE;
    return 0;
}

static int store_nested(struct load_ctx *ctx, const char *key, const json_t *v, struct isd_error **err)
{
    const char *sub;
    json_t *sv;
    if (!json_is_object(v))
        return wrong_type(ctx, key, v, "an object", err);
    json_object_foreach((json_t *)v, sub, sv)
    {
        cleanup_free char *full = xasprintf("%s.%s", key, sub);
        if (strcmp(key, "log-opts") == 0 && !json_is_string(sv))
            return wrong_type(ctx, full, sv, "a string", err);
        if (store_key(ctx, full, sv, err) < 0)
            return -1;
    }
    return 0;
}

int config_file_read(struct load_ctx *ctx, const char *path, struct isd_error **err)
{
    cleanup_json json_t *root = NULL;
    const char *key;
    json_t *v;
    ctx->file_path = path;
    root = json_load_path(path, CONFIG_FILE_MAX, err);
    if (root == NULL)
        return isd_error_wrap(err, "load configuration file");
    if (!json_is_object(root))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid configuration file %s: must hold a JSON object", path);
    json_object_foreach(root, key, v)
    {
        int r = (strcmp(key, "log-opts") == 0 || strcmp(key, "tls-config") == 0) ? store_nested(ctx, key, v, err)
                                                                                 : store_key(ctx, key, v, err);
        if (r < 0)
            return -1;
    }
    return 0;
}
