/*
 * The spec's "process" object for the container (args, env, cwd, user, umask, terminal, capabilities,
 * rlimits) and the process.json of an exec. Thread-safe.
 */
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define UMASK_SECURE 0027
#define UMASK_NORMAL 0022

static json_t *process_args(const json_t *config)
{
    json_t *args = json_array();
    cleanup_json json_t *ep = spec_strslice(json_object_get(config, "Entrypoint"));
    cleanup_json json_t *cmd = spec_strslice(json_object_get(config, "Cmd"));
    size_t i;
    json_t *e;

    json_array_foreach(ep, i, e)
    {
        if (!(i == 0 && json_array_size(ep) == 1 && streq(json_string_value(e), "")))
            json_array_append(args, e);
    }
    if (cmd != NULL)
        json_array_extend(args, cmd);
    return args;
}

/* Docker's order: PATH default (when the config has none), HOSTNAME, TERM, then the config's env by key. */
static json_t *process_env(const json_t *config, const char *hostname, bool tty)
{
    json_t *env = json_array();
    const json_t *cenv = json_object_get(config, "Env");
    bool has_path = false;
    size_t i;
    json_t *e;

    json_array_foreach(cenv, i, e)
    {
        if (str_has_prefix(json_string_value(e), "PATH="))
            has_path = true;
    }
    if (!has_path)
        json_array_append_new(env, json_string(SPEC_DEFAULT_PATH));
    if (hostname != NULL) {
        cleanup_free char *h = xasprintf("HOSTNAME=%s", hostname);
        json_array_append_new(env, json_string(h));
    }
    if (tty)
        json_array_append_new(env, json_string("TERM=xterm"));
    json_array_foreach(cenv, i, e)
    {
        if (json_is_string(e))
            spec_env_set(env, json_string_value(e));
    }
    return env;
}

static int umask_value(const struct spec_input *in, int *ret, struct isd_error **err)
{
    const char *m = json_get_str(json_object_get(in->host_config, "Annotations"), "native.umask");
    if (m == NULL)
        m = in->umask != NULL ? in->umask : "secure";
    if (streq(m, "secure") || streq(m, ""))
        *ret = UMASK_SECURE;
    else if (streq(m, "normal"))
        *ret = UMASK_NORMAL;
    else
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid native.umask `%s`: want `secure` or `normal`", m);
    return 0;
}

int spec_user_group_add(const json_t *host_config, const char *root, json_t *user, struct isd_error **err)
{
    json_t *gids = json_object_get(user, "additionalGids");
    size_t i;
    json_t *g;

    json_array_foreach(json_object_get(host_config, "GroupAdd"), i, g)
    {
        gid_t gid;
        if (!json_is_string(g) || spec_resolve_group(root, json_string_value(g), &gid, err) < 0)
            return isd_error_wrap(err, "group-add");
        if (gids == NULL) {
            gids = json_array();
            json_object_set_new(user, "additionalGids", gids);
        }
        json_array_append_new(gids, json_integer(gid));
    }
    return 0;
}

static int user_build(const struct spec_input *in, json_t *user, struct isd_error **err)
{
    /* guide C-create-03: users and groups of an external rootfs are looked up in the host's files */
    const char *root = in->rootfs_is_external ? "/" : in->rootfs;
    int um = 0;

    if (umask_value(in, &um, err) < 0 || spec_resolve_user(root, json_get_str(in->config, "User"), user, err) < 0)
        return -1;
    json_object_set_new(user, "umask", json_integer(um));
    return spec_user_group_add(in->host_config, root, user, err);
}

static bool no_new_privileges(const json_t *host_config)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(host_config, "SecurityOpt"), i, o)
    {
        const char *s = json_string_value(o);
        if (streq(s, "no-new-privileges") || streq(s, "no-new-privileges:true") || streq(s, "no-new-privileges=true"))
            return true;
    }
    return false;
}

static int check_cwd(const char *cwd, struct isd_error **err)
{
    if (cwd[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "the working directory '%s' is invalid, it needs to be an absolute path", cwd);
    return 0;
}

int spec_build_process(const struct spec_input *in, json_t *spec, struct isd_error **err)
{
    const json_t *hc = in->host_config;
    cleanup_json json_t *p = json_object();
    json_t *user = json_object(), *caps;
    const char *cwd = json_get_str(in->config, "WorkingDir");
    bool tty = json_get_bool(in->config, "Tty", false);
    bool uts_host = streq(json_get_str(hc, "UTSMode"), "host");

    json_object_set_new(p, "terminal", json_boolean(tty));
    json_object_set_new(p, "user", user);
    if (user_build(in, user, err) < 0)
        return -1;
    json_object_set_new(p, "args", process_args(in->config));
    json_object_set_new(p, "env", process_env(in->config, uts_host ? NULL : json_get_str(in->config, "Hostname"), tty));
    if (cwd == NULL || cwd[0] == '\0')
        cwd = "/";
    if (check_cwd(cwd, err) < 0)
        return -1;
    json_object_set_new(p, "cwd", json_string(cwd));
    caps = spec_caps_build(hc, json_get_bool(hc, "Privileged", false), err);
    if (caps == NULL)
        return -1;
    json_object_set_new(p, "capabilities", caps);
    json_object_set_new(p, "rlimits", spec_rlimits_build(hc, err));
    if (json_object_get(p, "rlimits") == NULL)
        return -1;
    json_object_set_new(p, "noNewPrivileges", json_boolean(no_new_privileges(hc)));
    if (json_get_int(hc, "OomScoreAdj", 0) != 0)
        json_object_set_new(p, "oomScoreAdj", json_integer(json_get_int(hc, "OomScoreAdj", 0)));
    json_object_set(spec, "process", p);
    return 0;
}

static int exec_env(json_t *p, const json_t *exec_body, bool tty)
{
    json_t *env = json_object_get(p, "env");
    size_t i;
    json_t *e;
    bool has_term = false;

    if (!json_is_array(env)) {
        env = json_pack("[s]", SPEC_DEFAULT_PATH);
        json_object_set_new(p, "env", env);
    }
    json_array_foreach(json_object_get(exec_body, "Env"), i, e)
    {
        if (json_is_string(e))
            spec_env_set(env, json_string_value(e));
    }
    json_array_foreach(env, i, e)
    {
        if (str_has_prefix(json_string_value(e), "TERM="))
            has_term = true;
    }
    if (tty && !has_term)
        json_array_append_new(env, json_string("TERM=xterm"));
    return 0;
}

json_t *spec_exec_process(const json_t *container_spec, const json_t *exec_body, const char *rootfs,
                          struct isd_error **err)
{
    const json_t *cp = json_object_get(container_spec, "process");
    cleanup_json json_t *p = json_is_object(cp) ? json_deep_copy(cp) : json_object();
    cleanup_json json_t *args = spec_strslice(json_object_get(exec_body, "Cmd"));
    const char *user = json_get_str(exec_body, "User");
    const char *cwd = json_get_str(exec_body, "WorkingDir");
    bool tty = json_get_bool(exec_body, "Tty", false);

    if (args == NULL || json_array_size(args) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "No exec command specified"), NULL;
    json_object_set(p, "args", args);
    json_object_set_new(p, "terminal", json_boolean(tty));
    json_object_del(p, "consoleSize");
    /* the client's terminal size from the start (Docker's ConsoleSize [height, width]; the CRI's first resize), so a
     * process that asks for it at once does not see 0x0 */
    const json_t *cs = json_object_get(exec_body, "ConsoleSize");
    if (tty && json_array_size(cs) == 2 && json_integer_value(json_array_get(cs, 0)) > 0 &&
        json_integer_value(json_array_get(cs, 1)) > 0)
        json_object_set_new(p, "consoleSize",
                            json_pack("{s:O, s:O}", "height", json_array_get(cs, 0), "width", json_array_get(cs, 1)));
    exec_env(p, exec_body, tty);
    if (cwd != NULL && cwd[0] != '\0') {
        if (check_cwd(cwd, err) < 0)
            return NULL;
        json_object_set_new(p, "cwd", json_string(cwd));
    } else if (json_get_str(p, "cwd") == NULL) {
        json_object_set_new(p, "cwd", json_string("/"));
    }
    if (!json_is_object(json_object_get(p, "user")))
        json_object_set_new(p, "user", json_pack("{sisi}", "uid", 0, "gid", 0));
    if (user != NULL && user[0] != '\0' && spec_resolve_user(rootfs, user, json_object_get(p, "user"), err) < 0)
        return NULL;
    if (json_get_bool(exec_body, "Privileged", false)) {
        cleanup_json json_t *all = spec_caps_all();
        json_object_set_new(p, "capabilities",
                            json_pack("{sOsOsO}", "bounding", all, "effective", all, "permitted", all));
    }
    return TAKE_PTR(p);
}
