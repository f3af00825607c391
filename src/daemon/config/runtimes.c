/*
 * The runtimes whitelist (daemon.json "runtimes", guide D-19), the built-in runc/crun found in PATH, the
 * default runtime (D-18, with "lcr" mapped to runc) and the lookup used by the container module.
 * Building is not thread-safe; isd_config_runtime() only reads the immutable snapshot.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/config/config_internal.h"

static const char *const builtin_runtimes[] = {"runc", "crun"};

static bool valid_runtime_name(const char *n)
{
    if (*n == '\0' || strlen(n) > 64)
        return false;
    for (const char *p = n; *p != '\0'; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '-' &&
            *p != '_' && *p != '.')
            return false;
    return true;
}

static int runtime_entry(struct isd_runtime_conf *rt, const char *name, const json_t *v, const char *what,
                         struct isd_error **err)
{
    const char *k, *base;
    json_t *f;
    bool vm_given = false;
    rt->name = xstrdup(name);
    if (!json_is_object(v))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s: must be an object {\"path\", \"runtime-args\"}", what,
                             name);
    json_object_foreach((json_t *)v, k, f)
    {
        if (strcmp(k, "path") == 0 && json_is_string(f)) {
            rt->path = xstrdup(json_string_value(f));
        } else if (strcmp(k, "vm") == 0 && json_is_boolean(f)) {
            rt->vm = json_is_true(f);
            vm_given = true;
        } else if ((strcmp(k, "runtime-args") == 0 || strcmp(k, "runtimeArgs") == 0) && json_is_array(f)) {
            size_t i;
            json_t *a;
            json_array_foreach(f, i, a)
            {
                if (!json_is_string(a))
                    return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s: runtime-args must hold strings", what, name);
                strv_append(&rt->args, json_string_value(a));
            }
        } else {
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s: unknown key or wrong type: \"%s\"", what, name, k);
        }
    }
    if (rt->path == NULL || rt->path[0] == '\0' || (rt->path[0] != '/' && strchr(rt->path, '/') != NULL))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "%s: %s: \"path\" must be an absolute path or a command name in PATH", what, name);
    base = strrchr(rt->path, '/');
    if (!vm_given) /* the guide's secure container runtime (KATA-013) */
        rt->vm = strcmp(name, "kata-runtime") == 0 || strcmp(base != NULL ? base + 1 : rt->path, "kata-runtime") == 0;
    return 0;
}

int runtimes_parse(struct isd_config *c, const json_t *obj, const char *what, struct isd_error **err)
{
    const char *name;
    json_t *v;
    c->runtimes = xcalloc(json_object_size(obj) + ARRAY_SIZE(builtin_runtimes), sizeof(*c->runtimes));
    json_object_foreach((json_t *)obj, name, v)
    {
        struct isd_runtime_conf *rt = &c->runtimes[c->n_runtimes++];
        if (!valid_runtime_name(name) || strcasecmp(name, "lcr") == 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid runtime name `%s`", what, name);
        if (runtime_entry(rt, name, v, what, err) < 0)
            return -1;
        if (rt->args == NULL)
            rt->args = xcalloc(1, sizeof(char *));
    }
    return 0;
}

static char *find_in_path(const char *cmd)
{
    const char *path = getenv("PATH");
    cleanup_free char *copy =
        xstrdup(path != NULL ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
        cleanup_free char *full = xasprintf("%s/%s", dir, cmd);
        if (dir[0] == '/' && access(full, X_OK) == 0)
            return TAKE_PTR(full);
    }
    return NULL;
}

static const struct isd_runtime_conf *lookup(const struct isd_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_runtimes; i++)
        if (strcmp(c->runtimes[i].name, name) == 0)
            return &c->runtimes[i];
    return NULL;
}

/* Adds runc and crun (when in PATH and not configured) and checks the default runtime. */
int runtimes_finish(struct isd_config *c, struct isd_error **err)
{
    if (c->runtimes == NULL)
        c->runtimes = xcalloc(ARRAY_SIZE(builtin_runtimes), sizeof(*c->runtimes));
    for (size_t i = 0; i < ARRAY_SIZE(builtin_runtimes); i++) {
        char *path;
        if (lookup(c, builtin_runtimes[i]) != NULL || (path = find_in_path(builtin_runtimes[i])) == NULL)
            continue;
        c->runtimes[c->n_runtimes].name = xstrdup(builtin_runtimes[i]);
        c->runtimes[c->n_runtimes].path = path;
        c->runtimes[c->n_runtimes++].args = xcalloc(1, sizeof(char *));
    }
    if (strcasecmp(c->default_runtime, "lcr") == 0) {
        free(c->default_runtime);
        c->default_runtime = xstrdup("runc");
    }
    if (lookup(c, c->default_runtime) == NULL && strcmp(c->default_runtime, "runc") != 0 &&
        strcmp(c->default_runtime, "crun") != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "default-runtime: unknown runtime `%s` (known: runc, crun, lcr, or a key of \"runtimes\")",
                             c->default_runtime);
    return 0;
}

const struct isd_runtime_conf *isd_config_runtime(const struct isd_config *c, const char *name)
{
    if (c == NULL || name == NULL)
        return NULL;
    if (strcasecmp(name, "lcr") == 0)
        name = "runc";
    return lookup(c, name);
}
