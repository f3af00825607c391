/*
 * The user's mounts: HostConfig.Binds ("src:dst[:mode]"), HostConfig.Mounts (bind, tmpfs) and
 * HostConfig.Tmpfs, validated with Docker's error wording. Named volumes are not supported yet.
 * Thread-safe.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define BIND_ERR "invalid mount config for type \"bind\""

static const char *const propagations[] = {"private", "rprivate", "shared", "rshared", "slave", "rslave"};

static bool is_propagation(const char *s)
{
    for (size_t i = 0; i < ARRAY_SIZE(propagations); i++) {
        if (streq(s, propagations[i]))
            return true;
    }
    return false;
}

/* A -v source that does not exist is created as a directory, as Docker does; a --mount source must exist. */
static int check_source(const char *src, bool create, struct isd_error **err)
{
    struct stat st;
    if (src == NULL || src[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "named volumes are not supported yet");
    if (create && stat(src, &st) < 0 && errno == ENOENT && mkdir_p(src, 0755, err) < 0)
        return isd_error_wrap(err, "create bind source path %s", src);
    if (stat(src, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, BIND_ERR ": bind source path does not exist: %s", src);
    return 0;
}

/* Appends the bind unless dst is taken. dst is cleaned and must be absolute and not "/". flat: the source's
 * mount alone, without the mounts below it (BindOptions.NonRecursive: `bind`, not `rbind`). */
static int add_bind(json_t *user, const char *src, const char *dst, bool ro, const char *prop, bool create, bool flat,
                    struct isd_error **err)
{
    cleanup_free char *d = spec_clean_path(dst);
    cleanup_free char *opts =
        xasprintf("%s,%s%s", flat ? "bind" : "rbind", prop != NULL ? prop : "rprivate", ro ? ",ro" : "");

    if (d == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, BIND_ERR ": invalid mount path: '%s' mount path must be absolute",
                             dst ? dst : "");
    if (streq(d, "/"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid specification: destination can't be '/'");
    if (check_source(src, create, err) < 0)
        return -1;
    json_array_append_new(user, spec_mount_new(d, "bind", src, opts));
    return 0;
}

/* Mode of a bind spec: ro|rw, a propagation, z or Z (SELinux relabel: accepted, no effect here, see
 * docs/cli.md), nocopy (used by the volume resolver), idmap (an id-mapped mount: the service binds an id-mapped
 * clone of the source instead), rro (recursively read-only: read-only, and the service binds a clone of the source
 * whose submounts are read-only too; `rw` with it is refused). Each kind at most once, as Docker checks. */
static int parse_mode(const char *mode, bool *ro, const char **prop)
{
    cleanup_free char *copy = xstrdup(mode);
    char *save = NULL;
    int rw_seen = 0, prop_seen = 0, label_seen = 0, copy_seen = 0, idmap_seen = 0, rro_seen = 0;
    bool rw = false;

    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (streq(t, "ro") || streq(t, "rw")) {
            *ro = streq(t, "ro");
            rw = !*ro;
            rw_seen++;
        } else if (is_propagation(t)) {
            for (size_t i = 0; i < ARRAY_SIZE(propagations); i++) {
                if (streq(t, propagations[i]))
                    *prop = propagations[i];
            }
            prop_seen++;
        } else if (streq(t, "z") || streq(t, "Z")) {
            label_seen++;
        } else if (streq(t, "nocopy")) {
            copy_seen++;
        } else if (streq(t, "idmap")) {
            idmap_seen++;
        } else if (streq(t, "rro")) {
            rro_seen++;
        } else {
            return -1;
        }
    }
    if (rro_seen > 0)
        *ro = true;
    return rw_seen > 1 || prop_seen > 1 || label_seen > 1 || copy_seen > 1 || idmap_seen > 1 || rro_seen > 1 ||
                   (rro_seen > 0 && rw)
               ? -1
               : 0;
}

static int parse_bind(json_t *user, const char *spec, struct isd_error **err)
{
    cleanup_free char *copy = xstrdup(spec);
    char *parts[4] = {NULL};
    size_t n = 0;
    bool ro = false;
    const char *prop = NULL;

    for (char *p = copy; p != NULL && n < 4; n++) {
        parts[n] = p;
        p = strchr(p, ':');
        if (p != NULL)
            *p++ = '\0';
    }
    if (n == 1 && spec[0] == '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "anonymous volumes are not supported yet: '%s'", spec);
    if (n < 2 || n > 3 || parts[0][0] == '\0' || parts[1][0] == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid volume specification: '%s'", spec);
    if (parts[0][0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "named volumes are not supported yet: '%s'", spec);
    if (n == 3 && parse_mode(parts[2], &ro, &prop) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid volume specification: '%s': invalid mode: %s", spec,
                             parts[2]);
    if (n == 3 && prop != NULL && !streq(prop, "private") && !streq(prop, "rprivate") &&
        (str_has_prefix(parts[2], "rro,") || strstr(parts[2], ",rro") != NULL || streq(parts[2], "rro")))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid volume specification: '%s': a recursively read-only bind (rro) needs private "
                             "propagation, not %s",
                             spec, prop);
    if (add_bind(user, parts[0], parts[1], ro, prop, true, false, err) < 0)
        return isd_error_wrap(err, "invalid volume specification: '%s'", spec);
    return 0;
}

static int add_tmpfs(json_t *user, const char *dst, const char *extra, struct isd_error **err)
{
    cleanup_free char *d = spec_clean_path(dst);
    cleanup_free char *opts = NULL;

    if (d == NULL || streq(d, "/"))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid mount config for type \"tmpfs\": invalid mount path: '%s' mount path must be "
                             "absolute",
                             dst ? dst : "");
    opts = xasprintf("nosuid,nodev,noexec%s%s", extra[0] != '\0' ? "," : "", extra);
    json_array_append_new(user, spec_mount_new(d, "tmpfs", "tmpfs", opts));
    return 0;
}

/* BindOptions.ReadOnlyNonRecursive (our read-only binds are non-recursive already: accepted) and
 * ReadOnlyForceRecursive (the service binds a recursively read-only clone of the source), as Docker 25 checks
 * them: each needs ReadOnly, not both, and a forced recursive one private propagation. */
static int check_recursive_ro(const json_t *m, const char *prop, struct isd_error **err)
{
    const json_t *bo = json_object_get(m, "BindOptions");
    bool non_rec = json_get_bool(bo, "ReadOnlyNonRecursive", false);
    bool force = json_get_bool(bo, "ReadOnlyForceRecursive", false);
    if ((non_rec || force) && !json_get_bool(m, "ReadOnly", false))
        return isd_error_set(err, ISD_ERR_INVALID, 0, BIND_ERR ": %s needs ReadOnly",
                             force ? "BindOptions.ReadOnlyForceRecursive" : "BindOptions.ReadOnlyNonRecursive");
    if (non_rec && force)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             BIND_ERR ": BindOptions.ReadOnlyNonRecursive and BindOptions.ReadOnlyForceRecursive "
                                      "exclude each other");
    if (force && prop != NULL && prop[0] != '\0' && !streq(prop, "rprivate") && !streq(prop, "private"))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             BIND_ERR ": a recursively read-only bind (BindOptions.ReadOnlyForceRecursive) needs "
                                      "private propagation, not %s",
                             prop);
    if (force && json_get_bool(bo, "NonRecursive", false))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             BIND_ERR ": BindOptions.ReadOnlyForceRecursive and BindOptions.NonRecursive exclude "
                                      "each other");
    return 0;
}

static int parse_mount(json_t *user, const json_t *m, struct isd_error **err)
{
    const char *type = json_get_str(m, "Type");
    const char *target = json_get_str(m, "Target");
    bool ro = json_get_bool(m, "ReadOnly", false);
    const json_t *t = json_object_get(m, "TmpfsOptions");
    struct buf b = {0};
    cleanup_free char *extra = NULL;

    if (streq(type, "bind")) {
        const char *prop = json_get_str(json_object_get(m, "BindOptions"), "Propagation");
        const char *relabel = json_get_str(json_object_get(m, "BindOptions"), "Relabel");
        if (prop != NULL && prop[0] != '\0' && !is_propagation(prop))
            return isd_error_set(err, ISD_ERR_INVALID, 0, BIND_ERR ": invalid propagation mode: %s", prop);
        if (relabel != NULL && relabel[0] != '\0' && !streq(relabel, "z") && !streq(relabel, "Z"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, BIND_ERR ": invalid relabel mode: %s (z or Z)", relabel);
        if (check_recursive_ro(m, prop, err) < 0)
            return -1;
        return add_bind(user, json_get_str(m, "Source"), target, ro, prop && prop[0] ? prop : NULL, false,
                        json_get_bool(json_object_get(m, "BindOptions"), "NonRecursive", false), err);
    }
    if (streq(type, "volume"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "named volumes are not supported yet");
    if (!streq(type, "tmpfs"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "mount type unknown: `%s`", type ? type : "");
    if (json_get_str(m, "Source") != NULL && json_get_str(m, "Source")[0] != '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid mount config for type \"tmpfs\": source must not be "
                             "specified");
    buf_printf(&b, "%s", ro ? "ro" : "");
    if (json_get_int(t, "SizeBytes", 0) > 0)
        buf_printf(&b, "%ssize=%lld", b.len ? "," : "", json_get_int(t, "SizeBytes", 0));
    if (json_get_int(t, "Mode", 0) > 0)
        buf_printf(&b, "%smode=%llo", b.len ? "," : "", json_get_int(t, "Mode", 0));
    extra = buf_steal(&b);
    return add_tmpfs(user, target, extra, err);
}

static int check_duplicates(const json_t *user, struct isd_error **err)
{
    size_t i, j;
    json_t *a, *b;
    json_array_foreach(user, i, a)
    {
        for (j = i + 1; j < json_array_size(user); j++) {
            b = json_array_get(user, j);
            if (streq(json_get_str(a, "destination"), json_get_str(b, "destination")))
                return isd_error_set(err, ISD_ERR_INVALID, 0, "Duplicate mount point: %s",
                                     json_get_str(a, "destination"));
        }
    }
    return 0;
}

/* The guide's order (C-run-c05): --mount is applied after -v, so a Mounts entry replaces a Binds entry of the
 * same destination instead of being a duplicate. The Mounts entry just added is the last of user; the Binds
 * are its first n_binds entries. */
static size_t drop_binds_at(json_t *user, size_t n_binds)
{
    const char *dst = json_get_str(json_array_get(user, json_array_size(user) - 1), "destination");
    size_t dropped = 0;
    for (size_t i = n_binds; i-- > 0;) {
        if (streq(json_get_str(json_array_get(user, i), "destination"), dst)) {
            json_array_remove(user, i);
            dropped++;
        }
    }
    return dropped;
}

int spec_build_user_mounts(const json_t *host_config, json_t *user, struct isd_error **err)
{
    size_t i, n_binds = 0;
    json_t *e;
    const char *k;

    json_array_foreach(json_object_get(host_config, "Binds"), i, e)
    {
        if (!json_is_string(e))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid volume specification: not a string");
        if (parse_bind(user, json_string_value(e), err) < 0)
            return -1;
    }
    n_binds = json_array_size(user);
    json_array_foreach(json_object_get(host_config, "Mounts"), i, e)
    {
        if (parse_mount(user, e, err) < 0)
            return -1;
        n_binds -= drop_binds_at(user, n_binds);
    }
    json_object_foreach((json_t *)json_object_get(host_config, "Tmpfs"), k, e)
    {
        if (add_tmpfs(user, k, json_is_string(e) ? json_string_value(e) : "", err) < 0)
            return -1;
    }
    return check_duplicates(user, err);
}

void spec_set_rootfs_propagation(json_t *spec)
{
    const char *prop = NULL;
    size_t i, j;
    json_t *m, *o;
    json_array_foreach(json_object_get(spec, "mounts"), i, m)
    {
        json_array_foreach(json_object_get(m, "options"), j, o)
        {
            const char *s = json_string_value(o);
            if (s != NULL && (streq(s, "shared") || streq(s, "rshared")))
                prop = "rshared";
            else if (s != NULL && (streq(s, "slave") || streq(s, "rslave")) && prop == NULL)
                prop = "rslave";
        }
    }
    if (prop != NULL && json_is_object(json_object_get(spec, "linux")))
        json_object_set_new(json_object_get(spec, "linux"), "rootfsPropagation", json_string(prop));
}
