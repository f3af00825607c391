/*
 * Reading and checking one CDI spec file: JSON or YAML by the file's suffix, at most 4 MiB, then the CDI spec's
 * rules with strict keys (an unknown field is an error, as the reference implementation has it). Every error
 * names the file and the field. Thread-safe (no shared state).
 */
#include <string.h>

#include "common/cdi_name.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_cdi.h"

#define CDI_SPEC_MAX (4u << 20)

static const char *const versions[] = {"0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0",
                                       "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0"};
static const char *const hook_names[] = {"prestart",       "createRuntime", "createContainer",
                                         "startContainer", "poststart",     "poststop"};

/* Every key of obj is one of keys (NULL-terminated); obj must be an object. */
static int keys_known(const json_t *obj, const char *const *keys, const char *what, struct isd_error **err)
{
    const char *k;
    json_t *v;
    if (!json_is_object(obj))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s must be an object", what);
    json_object_foreach((json_t *)obj, k, v)
    {
        bool known = false;
        for (const char *const *p = keys; *p != NULL && !known; p++)
            known = streq(*p, k);
        if (!known)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: unknown field `%s`", what, k);
    }
    return 0;
}

static int want_string(const json_t *obj, const char *key, bool required, const char *what, struct isd_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL && !required)
        return 0;
    if (!json_is_string(v) || (required && json_string_length(v) == 0))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `%s` must be a%s string", what, key,
                             required ? " non-empty" : "");
    return 0;
}

static int want_int(const json_t *obj, const char *key, long long min, long long max, const char *what,
                    struct isd_error **err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `%s` must be an integer from %lld to %lld", what, key, min,
                             max);
    return 0;
}

/* An optional array of strings; with_eq: each "K=V". */
static int want_strings(const json_t *obj, const char *key, bool with_eq, const char *what, struct isd_error **err)
{
    json_t *a = json_object_get(obj, key), *s;
    size_t i;
    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `%s` must be an array of strings", what, key);
    json_array_foreach(a, i, s)
    {
        if (!json_is_string(s))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `%s` must be an array of strings", what, key);
        if (with_eq && strchr(json_string_value(s), '=') == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `%s`: `%s` is not NAME=VALUE", what, key,
                                 json_string_value(s));
    }
    return 0;
}

static int check_node(const json_t *n, const char *what, struct isd_error **err)
{
    static const char *const keys[] = {"path",     "hostPath",    "type", "major", "minor",
                                       "fileMode", "permissions", "uid",  "gid",   NULL};
    const char *type = json_get_str(n, "type"), *perm = json_get_str(n, "permissions"), *path;
    if (keys_known(n, keys, what, err) < 0 || want_string(n, "path", true, what, err) < 0 ||
        want_string(n, "hostPath", false, what, err) < 0 || want_string(n, "type", false, what, err) < 0 ||
        want_string(n, "permissions", false, what, err) < 0 || want_int(n, "major", 0, 0xffffffffLL, what, err) < 0 ||
        want_int(n, "minor", 0, 0xffffffffLL, what, err) < 0 || want_int(n, "fileMode", 0, 07777, what, err) < 0 ||
        want_int(n, "uid", 0, 0xffffffffLL, what, err) < 0 || want_int(n, "gid", 0, 0xffffffffLL, what, err) < 0)
        return -1;
    path = json_get_str(n, "path");
    if (path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: path `%s` must be absolute", what, path);
    if (json_get_str(n, "hostPath") != NULL && json_get_str(n, "hostPath")[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: hostPath `%s` must be absolute", what,
                             json_get_str(n, "hostPath"));
    if (type != NULL && type[0] != '\0' && !streq(type, "b") && !streq(type, "c") && !streq(type, "u") &&
        !streq(type, "p"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: type `%s` must be b, c, u or p", what, type);
    if (perm != NULL && !streq(perm, "none") && strspn(perm, "rwm") != strlen(perm))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: permissions `%s` must be made of r, w, m (or `none`)", what,
                             perm);
    return 0;
}

static int check_mount(const json_t *m, const char *what, struct isd_error **err)
{
    static const char *const keys[] = {"hostPath", "containerPath", "type", "options", NULL};
    if (keys_known(m, keys, what, err) < 0 || want_string(m, "hostPath", true, what, err) < 0 ||
        want_string(m, "containerPath", true, what, err) < 0 || want_string(m, "type", false, what, err) < 0 ||
        want_strings(m, "options", false, what, err) < 0)
        return -1;
    if (json_get_str(m, "containerPath")[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: containerPath `%s` must be absolute", what,
                             json_get_str(m, "containerPath"));
    return 0;
}

static int check_hook(const json_t *h, const char *what, struct isd_error **err)
{
    static const char *const keys[] = {"hookName", "path", "args", "env", "timeout", NULL};
    const char *name;
    bool known = false;
    if (keys_known(h, keys, what, err) < 0 || want_string(h, "hookName", true, what, err) < 0 ||
        want_string(h, "path", true, what, err) < 0 || want_strings(h, "args", false, what, err) < 0 ||
        want_strings(h, "env", true, what, err) < 0 || want_int(h, "timeout", 1, 0x7fffffff, what, err) < 0)
        return -1;
    name = json_get_str(h, "hookName");
    for (size_t i = 0; i < ARRAY_SIZE(hook_names); i++)
        known = known || streq(hook_names[i], name);
    if (!known)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "%s: hookName `%s` must be one of prestart, createRuntime, createContainer, "
                             "startContainer, poststart, poststop",
                             what, name);
    if (json_get_str(h, "path")[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: path `%s` must be absolute", what, json_get_str(h, "path"));
    return 0;
}

typedef int (*item_check)(const json_t *, const char *, struct isd_error **);

static int check_list(const json_t *edits, const char *key, item_check fn, const char *what, struct isd_error **err)
{
    json_t *a = json_object_get(edits, key), *e;
    size_t i;
    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `%s` must be an array", what, key);
    json_array_foreach(a, i, e)
    {
        cleanup_free char *w = xasprintf("%s.%s[%zu]", what, key, i);
        if (fn(e, w, err) < 0)
            return -1;
    }
    return 0;
}

static int check_gids(const json_t *edits, const char *what, struct isd_error **err)
{
    json_t *a = json_object_get(edits, "additionalGids"), *g;
    size_t i;
    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `additionalGids` must be an array", what);
    json_array_foreach(a, i, g)
    {
        if (!json_is_integer(g) || json_integer_value(g) < 0 || json_integer_value(g) > 0xffffffffLL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `additionalGids` must hold uint32 numbers", what);
    }
    return 0;
}

static int check_rdt(const json_t *edits, const char *what, struct isd_error **err)
{
    static const char *const keys[] = {"closID",           "l3CacheSchema", "memBwSchema", "schemata",
                                       "enableMonitoring", "enableCMT",     "enableMBM",   NULL};
    json_t *r = json_object_get(edits, "intelRdt");
    cleanup_free char *w = xasprintf("%s.intelRdt", what);
    if (r == NULL)
        return 0;
    return keys_known(r, keys, w, err) < 0 || want_string(r, "closID", false, w, err) < 0 ||
                   want_string(r, "l3CacheSchema", false, w, err) < 0 ||
                   want_string(r, "memBwSchema", false, w, err) < 0 || want_strings(r, "schemata", false, w, err) < 0
               ? -1
               : 0;
}

static int check_edits(const json_t *edits, const char *what, struct isd_error **err)
{
    static const char *const keys[] = {"env",      "deviceNodes",    "mounts",     "hooks",
                                       "intelRdt", "additionalGids", "netDevices", NULL};
    if (edits == NULL || json_is_null(edits))
        return 0;
    if (keys_known(edits, keys, what, err) < 0 || want_strings(edits, "env", true, what, err) < 0 ||
        check_list(edits, "deviceNodes", check_node, what, err) < 0 ||
        check_list(edits, "mounts", check_mount, what, err) < 0 ||
        check_list(edits, "hooks", check_hook, what, err) < 0 || check_gids(edits, what, err) < 0 ||
        check_rdt(edits, what, err) < 0)
        return -1;
    if (json_array_size(json_object_get(edits, "netDevices")) > 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `netDevices` are not supported", what);
    return 0;
}

static int check_devices(const json_t *spec, struct isd_error **err)
{
    static const char *const keys[] = {"name", "annotations", "containerEdits", NULL};
    json_t *devs = json_object_get(spec, "devices"), *d;
    size_t i;
    if (!json_is_array(devs) || json_array_size(devs) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "`devices` must be a non-empty array");
    json_array_foreach(devs, i, d)
    {
        cleanup_free char *w = xasprintf("devices[%zu]", i);
        const char *name = json_get_str(d, "name"), *why;
        if (keys_known(d, keys, w, err) < 0 || want_string(d, "name", true, w, err) < 0)
            return -1;
        if ((why = cdi_device_name_check(name)) != NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid name `%s`: %s", w, name, why);
        for (size_t j = 0; j < i; j++)
            if (streq(json_get_str(json_array_get(devs, j), "name"), name))
                return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: device `%s` is defined twice", w, name);
        free(w);
        w = xasprintf("device `%s`: containerEdits", name);
        if (check_edits(json_object_get(d, "containerEdits"), w, err) < 0)
            return -1;
    }
    return 0;
}

int cdi_spec_check(const json_t *spec, struct isd_error **err)
{
    static const char *const keys[] = {"cdiVersion", "kind", "annotations", "devices", "containerEdits", NULL};
    const char *version = json_get_str(spec, "cdiVersion"), *kind = json_get_str(spec, "kind"), *why;
    bool known = false;
    if (keys_known(spec, keys, "the spec", err) < 0 || want_string(spec, "cdiVersion", true, "the spec", err) < 0 ||
        want_string(spec, "kind", true, "the spec", err) < 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(versions); i++)
        known = known || streq(versions[i], version);
    if (!known)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unsupported cdiVersion `%s` (0.1.0 to 1.1.0)", version);
    if ((why = cdi_kind_check(kind)) != NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid kind `%s`: %s", kind, why);
    return check_devices(spec, err) < 0 ? -1
                                        : check_edits(json_object_get(spec, "containerEdits"), "containerEdits", err);
}

json_t *cdi_spec_load(const char *path, struct isd_error **err)
{
    struct isd_error *e = NULL;
    size_t len = 0;
    cleanup_free char *text = read_file(path, CDI_SPEC_MAX, &len, &e);
    cleanup_json json_t *spec = NULL;
    if (text != NULL)
        spec = str_has_suffix(path, ".json") ? json_parse(text, len, &e) : spec_cdi_yaml_parse(text, len, &e);
    if (spec != NULL)
        cdi_spec_check(spec, &e);
    if (e != NULL) {
        isd_error_set(err, ISD_ERR_INVALID, e->errnum, "CDI spec file `%s`: %s", path, e->msg);
        isd_error_free(e);
        return NULL;
    }
    return TAKE_PTR(spec);
}
