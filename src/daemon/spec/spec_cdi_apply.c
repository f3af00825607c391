/*
 * CDI container edits applied to an OCI spec (spec_cdi.h). The edits were checked when their file was read;
 * what can only be known now (the host's device nodes) is checked here. Thread-safe (no shared state).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_cdi.h"
#include "daemon/spec/spec_internal.h"

static json_t *obj_child(json_t *parent, const char *key, bool array)
{
    json_t *v = json_object_get(parent, key);
    if (array ? json_is_array(v) : json_is_object(v))
        return v;
    v = array ? json_array() : json_object();
    json_object_set_new(parent, key, v);
    return v;
}

static void apply_env(json_t *spec, const json_t *env)
{
    json_t *penv = obj_child(obj_child(spec, "process", false), "env", true), *e;
    size_t i;
    json_array_foreach(env, i, e)
    {
        spec_env_set(penv, json_string_value(e));
    }
}

/* type, major, minor and fileMode of a node from its host node, where the spec file left them out (CDI's rule:
 * a given type must match the host's; a fifo has no numbers). */
static int node_fill(json_t *n, const char *host, struct isd_error **err)
{
    const char *type = json_get_str(n, "type");
    bool have_type = type != NULL && type[0] != '\0';
    struct stat st;
    char t;
    if (have_type && (json_get_int(n, "major", 0) != 0 || streq(type, "p")))
        return 0; /* fully described: the host need not have it (fileMode then is the runtime's default) */
    if (stat(host, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "CDI device node `%s`: %s", host, strerror(errno));
    t = S_ISBLK(st.st_mode) ? 'b' : S_ISCHR(st.st_mode) ? 'c' : S_ISFIFO(st.st_mode) ? 'p' : '\0';
    if (t == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "CDI device node `%s` is not a device node", host);
    if (!have_type)
        json_object_set_new(n, "type", json_string((char[]){t, '\0'}));
    else if (type[0] != t && !(type[0] == 'u' && t == 'c'))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "CDI device node `%s`: type `%s` but the host's is `%c`", host,
                             type, t);
    if (t != 'p' && json_get_int(n, "major", 0) == 0 && json_get_int(n, "minor", 0) == 0) {
        json_object_set_new(n, "major", json_integer(major(st.st_rdev)));
        json_object_set_new(n, "minor", json_integer(minor(st.st_rdev)));
    }
    if (json_object_get(n, "fileMode") == NULL)
        json_object_set_new(n, "fileMode", json_integer(st.st_mode & 0777));
    return 0;
}

static void array_drop_where(json_t *a, const char *key, const char *value)
{
    for (size_t i = json_array_size(a); i > 0; i--)
        if (streq(json_get_str(json_array_get(a, i - 1), key), value))
            json_array_remove(a, i - 1);
}

static int apply_node(json_t *spec, const json_t *cdi_node, struct isd_error **err)
{
    cleanup_json json_t *n = json_deep_copy(cdi_node);
    const char *path = json_get_str(n, "path"), *host = json_get_str(n, "hostPath"), *perm;
    json_t *lnx = obj_child(spec, "linux", false), *devs = obj_child(lnx, "devices", true), *dev, *rules;
    if (node_fill(n, host != NULL ? host : path, err) < 0)
        return -1;
    dev = json_pack("{s:s, s:s}", "path", path, "type", json_get_str(n, "type"));
    if (!streq(json_get_str(n, "type"), "p")) {
        json_object_set(dev, "major", json_object_get(n, "major"));
        json_object_set(dev, "minor", json_object_get(n, "minor"));
    }
    json_object_set(dev, "fileMode", json_object_get(n, "fileMode"));
    json_object_set_new(dev, "uid", json_integer(json_get_int(n, "uid", 0)));
    json_object_set_new(dev, "gid", json_integer(json_get_int(n, "gid", 0)));
    array_drop_where(devs, "path", path);
    json_array_append_new(devs, dev);
    perm = json_get_str(n, "permissions");
    if (streq(json_get_str(n, "type"), "p") || streq(perm, "none"))
        return 0;
    rules = obj_child(obj_child(lnx, "resources", false), "devices", true);
    json_array_append_new(rules, json_pack("{s:b, s:s, s:O, s:O, s:s}", "allow", 1, "type",
                                           streq(json_get_str(n, "type"), "b") ? "b" : "c", "major",
                                           json_object_get(n, "major"), "minor", json_object_get(n, "minor"), "access",
                                           perm != NULL && perm[0] != '\0' ? perm : "rwm"));
    return 0;
}

/* A CDI mount as an OCI mount: without a type it is a bind (rbind when the options say neither bind nor rbind). */
static json_t *oci_mount(const json_t *m)
{
    const char *type = json_get_str(m, "type");
    json_t *opts = json_object_get(m, "options"), *o;
    json_t *out = json_pack("{s:s, s:s, s:s}", "destination", json_get_str(m, "containerPath"), "source",
                            json_get_str(m, "hostPath"), "type", type != NULL && type[0] != '\0' ? type : "bind");
    json_t *oo = json_array();
    bool bind = false;
    size_t i;
    json_array_foreach(opts, i, o)
    {
        bind = bind || streq(json_string_value(o), "bind") || streq(json_string_value(o), "rbind");
        json_array_append(oo, o);
    }
    if (streq(json_get_str(out, "type"), "bind") && !bind)
        json_array_insert_new(oo, 0, json_string("rbind"));
    json_object_set_new(out, "options", oo);
    return out;
}

static void apply_mounts(json_t *spec, const json_t *mounts)
{
    json_t *list = obj_child(spec, "mounts", true), *m;
    size_t i;
    json_array_foreach(mounts, i, m)
    {
        array_drop_where(list, "destination", json_get_str(m, "containerPath"));
        json_array_append_new(list, oci_mount(m));
    }
    spec_mounts_sort(list);
}

/* A hook's program must exist and be executable now ("a resource must exist when the container is created"):
 * a clear error at create rather than the runtime's at start. */
static int check_hook_program(const json_t *h, struct isd_error **err)
{
    const char *path = json_get_str(h, "path");
    struct stat st;
    if (stat(path, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "CDI hook %s `%s`: %s", json_get_str(h, "hookName"), path,
                             strerror(errno));
    if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "CDI hook %s `%s` is not an executable file",
                             json_get_str(h, "hookName"), path);
    return 0;
}

static int apply_hooks(json_t *spec, const json_t *hooks, struct isd_error **err)
{
    json_t *h;
    size_t i;
    json_array_foreach(hooks, i, h)
    {
        json_t *list;
        if (check_hook_program(h, err) < 0)
            return -1;
        list = obj_child(obj_child(spec, "hooks", false), json_get_str(h, "hookName"), true);
        json_t *oci = json_pack("{s:s}", "path", json_get_str(h, "path"));
        const char *keys[] = {"args", "env", "timeout"};
        for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
            if (json_object_get(h, keys[k]) != NULL)
                json_object_set(oci, keys[k], json_object_get(h, keys[k]));
        json_array_append_new(list, oci);
    }
    return 0;
}

static void apply_gids(json_t *spec, const json_t *gids)
{
    json_t *user = obj_child(obj_child(spec, "process", false), "user", false);
    json_t *list = obj_child(user, "additionalGids", true), *g, *have;
    size_t i, j;
    json_array_foreach(gids, i, g)
    {
        bool dup = json_integer_value(g) == 0;
        json_array_foreach(list, j, have)
        {
            dup = dup || json_integer_value(have) == json_integer_value(g);
        }
        if (!dup)
            json_array_append(list, g);
    }
}

static void apply_rdt(json_t *spec, const json_t *rdt)
{
    json_t *out = json_object();
    const char *keys[] = {"closID", "l3CacheSchema", "memBwSchema"};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
        if (json_get_str(rdt, keys[k]) != NULL)
            json_object_set(out, keys[k], json_object_get(rdt, keys[k]));
    json_object_set_new(obj_child(spec, "linux", false), "intelRdt", out);
}

int cdi_edits_apply(json_t *spec, const json_t *edits, struct isd_error **err)
{
    size_t i, j;
    json_t *e, *n;
    json_array_foreach(edits, i, e)
    {
        apply_env(spec, json_object_get(e, "env"));
        json_array_foreach(json_object_get(e, "deviceNodes"), j, n)
        {
            if (apply_node(spec, n, err) < 0)
                return -1;
        }
        apply_mounts(spec, json_object_get(e, "mounts"));
        if (apply_hooks(spec, json_object_get(e, "hooks"), err) < 0)
            return -1;
        apply_gids(spec, json_object_get(e, "additionalGids"));
        if (json_is_object(json_object_get(e, "intelRdt")))
            apply_rdt(spec, json_object_get(e, "intelRdt"));
    }
    return 0;
}
