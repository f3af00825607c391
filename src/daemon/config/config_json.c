/*
 * isd_config_to_json(): the effective configuration with daemon.json key names, derived from the option
 * table, for GET /info and debugging. Reads an immutable snapshot; thread-safe.
 */
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/config/config_internal.h"

static json_t *duration_json(long long ns)
{
    if (ns < 0)
        return json_string("-1");
    if (ns % 1000000000LL == 0)
        return json_sprintf("%llds", ns / 1000000000LL);
    return json_sprintf("%lldms", ns / 1000000LL);
}

static json_t *field_json(const struct isd_config *c, const struct opt_def *o)
{
    const void *field = (const char *)c + o->offset;
    switch (o->type) {
    case OT_STRING:
    case OT_PATH:
        return *(char *const *)field != NULL ? json_string(*(char *const *)field) : NULL;
    case OT_BOOL:
        return json_boolean(*(const bool *)field);
    case OT_INT:
        return json_integer(*(const int *)field);
    case OT_DURATION:
        return duration_json(*(const long long *)field);
    case OT_SIZE:
        return json_integer(*(const long long *)field);
    case OT_MODE:
        return json_sprintf("0%o", *(const unsigned int *)field);
    case OT_LOGLEVEL:
        return json_string(c->log_level_name);
    case OT_STRV:
    case OT_ULIMITS:
        return json_strv(*(char **const *)field);
    default:
        return NULL;
    }
}

static json_t *runtimes_json(const struct isd_config *c)
{
    json_t *o = json_object();
    for (size_t i = 0; i < c->n_runtimes; i++) {
        json_t *rt = json_object();
        json_object_set_new(rt, "path", json_string(c->runtimes[i].path));
        json_object_set_new(rt, "runtime-args", json_strv(c->runtimes[i].args));
        if (c->runtimes[i].vm)
            json_object_set_new(rt, "vm", json_true());
        json_object_set_new(o, c->runtimes[i].name, rt);
    }
    return o;
}

static void set_key(json_t *root, const char *key, json_t *v)
{
    const char *dot = strchr(key, '.');
    cleanup_free char *parent = NULL;
    json_t *obj;
    if (dot == NULL || strcmp(key, "native.umask") == 0) {
        json_object_set_new(root, key, v);
        return;
    }
    parent = xstrndup(key, (size_t)(dot - key));
    obj = json_object_get(root, parent);
    if (obj == NULL) {
        obj = json_object();
        json_object_set_new(root, parent, obj);
    }
    json_object_set_new(obj, dot + 1, v);
}

json_t *isd_config_to_json(const struct isd_config *c)
{
    json_t *root = json_object();
    for (size_t i = 0; i < isd_n_opts; i++) {
        const struct opt_def *o = &isd_opts[i];
        json_t *v;
        if (o->key == NULL || o->offset == OFF_NONE)
            continue;
        v = field_json(c, o);
        if (v != NULL)
            set_key(root, o->key, v);
    }
    json_object_set_new(root, "runtimes", runtimes_json(c));
    if (c->config_file != NULL)
        json_object_set_new(root, "config-file", json_string(c->config_file));
    json_object_set_new(root, "log-file", json_string(c->log_path));
    return root;
}
