/*
 * spec_merge_config: the effective container Config (image config + create body), with Docker's merge rules
 * (moby daemon/commit.go merge()). Thread-safe.
 */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

void spec_env_set(json_t *env, const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t klen = eq != NULL ? (size_t)(eq - kv) : strlen(kv);
    size_t i;
    json_t *e;

    json_array_foreach(env, i, e)
    {
        const char *s = json_string_value(e);
        if (s == NULL || strncmp(s, kv, klen) != 0 || (s[klen] != '=' && s[klen] != '\0'))
            continue;
        if (eq == NULL)
            json_array_remove(env, i);
        else
            json_array_set_new(env, i, json_string(kv));
        return;
    }
    if (eq != NULL)
        json_array_append_new(env, json_string(kv));
}

json_t *spec_strslice(const json_t *v)
{
    size_t i;
    json_t *e;

    if (json_is_string(v))
        return json_pack("[s]", json_string_value(v));
    if (!json_is_array(v))
        return NULL;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e))
            return NULL;
    }
    return json_deep_copy(v);
}

/* Image object values, overlaid by the user's (both may be NULL / not objects). */
static json_t *merge_objects(const json_t *img, const json_t *user)
{
    json_t *out = json_is_object(img) ? json_deep_copy(img) : json_object();
    if (json_is_object(user))
        json_object_update(out, (json_t *)user);
    return out;
}

static json_t *merge_env(const json_t *img, const json_t *user)
{
    json_t *env = json_array();
    size_t i;
    json_t *e;

    json_array_foreach(img, i, e)
    {
        if (json_is_string(e))
            spec_env_set(env, json_string_value(e));
    }
    /* Docker keeps a user's name without `=` in Config.Env as given (it unsets the name in the process). */
    json_array_foreach(user, i, e)
    {
        if (!json_is_string(e))
            continue;
        spec_env_set(env, json_string_value(e));
        if (strchr(json_string_value(e), '=') == NULL)
            json_array_append(env, e);
    }
    return env;
}

static const char *pick_str(const json_t *user, const json_t *img, const char *key)
{
    const char *s = json_get_str(user, key);
    if (s != NULL && s[0] != '\0')
        return s;
    s = json_get_str(img, key);
    return s != NULL ? s : "";
}

static void set_or_null(json_t *obj, const char *key, json_t *v)
{
    json_object_set_new(obj, key, v != NULL ? v : json_null());
}

/* Entrypoint and Cmd. A user Entrypoint of [""] (`--entrypoint ""`) resets the image's. */
static int merge_command(json_t *out, const json_t *img, const json_t *user, struct isd_error **err)
{
    json_t *ep = spec_strslice(json_object_get(user, "Entrypoint"));
    json_t *cmd = spec_strslice(json_object_get(user, "Cmd"));

    if (ep == NULL || json_array_size(ep) == 0) {
        json_decref(ep);
        ep = spec_strslice(json_object_get(img, "Entrypoint"));
        if (cmd == NULL || json_array_size(cmd) == 0) {
            json_decref(cmd);
            cmd = spec_strslice(json_object_get(img, "Cmd"));
        }
    } else if (json_array_size(ep) == 1 && streq(json_string_value(json_array_get(ep, 0)), "")) {
        json_decref(ep);
        ep = NULL;
    }
    if (json_array_size(ep) == 0 && json_array_size(cmd) == 0) {
        json_decref(ep);
        json_decref(cmd);
        return isd_error_set(err, ISD_ERR_INVALID, 0, "no command specified");
    }
    set_or_null(out, "Cmd", cmd);
    set_or_null(out, "Entrypoint", ep);
    return 0;
}

static void copy_bool(json_t *out, const json_t *user, const char *key)
{
    json_object_set_new(out, key, json_boolean(json_get_bool(user, key, false)));
}

static json_t *union_or_null(const json_t *img, const json_t *user)
{
    if (!json_is_object(img) && !json_is_object(user))
        return NULL;
    return merge_objects(img, user);
}

json_t *spec_merge_config(const json_t *image_config, const json_t *create_body, const char *id, struct isd_error **err)
{
    const json_t *img = image_config;
    const json_t *u = create_body;
    cleanup_json json_t *out = json_object();
    const char *hostname = json_get_str(u, "Hostname");
    char host[HOST_NAME_MAX + 1] = "";

    if (json_is_object(json_object_get(image_config, "config")))
        img = json_object_get(image_config, "config");
    if (hostname == NULL || hostname[0] == '\0')
        hostname = NULL;
    /* Docker: a container on the host network takes the host's name unless the user gave one. */
    if (hostname == NULL && streq(json_get_str(json_object_get(u, "HostConfig"), "NetworkMode"), "host") &&
        gethostname(host, sizeof(host) - 1) == 0)
        hostname = host;
    json_object_set_new(out, "Hostname", hostname ? json_string(hostname) : json_stringn(id, strnlen(id, 12)));
    json_object_set_new(out, "Domainname", json_string(pick_str(u, NULL, "Domainname")));
    json_object_set_new(out, "User", json_string(pick_str(u, img, "User")));
    copy_bool(out, u, "AttachStdin");
    copy_bool(out, u, "AttachStdout");
    copy_bool(out, u, "AttachStderr");
    set_or_null(out, "ExposedPorts",
                union_or_null(json_object_get(img, "ExposedPorts"), json_object_get(u, "ExposedPorts")));
    copy_bool(out, u, "Tty");
    copy_bool(out, u, "OpenStdin");
    copy_bool(out, u, "StdinOnce");
    json_object_set_new(out, "Env", merge_env(json_object_get(img, "Env"), json_object_get(u, "Env")));
    if (merge_command(out, img, u, err) < 0)
        return NULL;
    if (json_is_object(json_object_get(u, "Healthcheck")) || json_is_object(json_object_get(img, "Healthcheck")))
        json_object_set_new(out, "Healthcheck",
                            json_deep_copy(json_is_object(json_object_get(u, "Healthcheck"))
                                               ? json_object_get(u, "Healthcheck")
                                               : json_object_get(img, "Healthcheck")));
    json_object_set_new(out, "Image", json_string(pick_str(u, NULL, "Image")));
    set_or_null(out, "Volumes", union_or_null(json_object_get(img, "Volumes"), json_object_get(u, "Volumes")));
    json_object_set_new(out, "WorkingDir", json_string(pick_str(u, img, "WorkingDir")));
    set_or_null(out, "OnBuild", json_deep_copy(json_object_get(img, "OnBuild")));
    json_object_set_new(out, "Labels", merge_objects(json_object_get(img, "Labels"), json_object_get(u, "Labels")));
    if (pick_str(u, img, "StopSignal")[0] != '\0')
        json_object_set_new(out, "StopSignal", json_string(pick_str(u, img, "StopSignal")));
    if (json_is_integer(json_object_get(u, "StopTimeout")))
        json_object_set(out, "StopTimeout", json_object_get(u, "StopTimeout"));
    return TAKE_PTR(out);
}
