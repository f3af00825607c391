/*
 * spec_generate: assembles config.json from the process, mounts and linux builders, plus root, hostname,
 * annotations and the isula --hook-spec hooks. Thread-safe.
 */
#include <errno.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_cdi.h"
#include "daemon/spec/spec_internal.h"

#define OCI_VERSION "1.0.2"
#define HOOK_SPEC_MAX (10 * 1024 * 1024)

static const char *const hook_kinds[] = {"prestart",       "createRuntime", "createContainer",
                                         "startContainer", "poststart",     "poststop"};

/* The guide's rules for one hook's program (L7840-7849): each refusal says which rule failed. */
static int check_hook_path(const char *kind, size_t i, const char *path, struct isd_error **err)
{
    struct stat st;
    if (path == NULL || path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook %s[%zu]: path `%s` must be absolute", kind, i,
                             path ? path : "");
    if (stat(path, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "hook %s[%zu]: `%s` does not exist", kind, i, path);
    if (!S_ISREG(st.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook %s[%zu]: `%s` is not a regular file", kind, i, path);
    if ((st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook %s[%zu]: `%s` is not executable", kind, i, path);
    if (st.st_uid != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook %s[%zu]: `%s` must be owned by root (owner uid %u)", kind,
                             i, path, (unsigned)st.st_uid);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook %s[%zu]: `%s` must be writable by root only (mode %04o)",
                             kind, i, path, (unsigned)(st.st_mode & 07777));
    return 0;
}

static int check_hook_list(const char *kind, const json_t *list, struct isd_error **err)
{
    size_t i;
    json_t *h;

    if (!json_is_array(list))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hooks `%s` must be an array", kind);
    json_array_foreach(list, i, h)
    {
        json_t *timeout = json_object_get(h, "timeout");
        if (check_hook_path(kind, i, json_get_str(h, "path"), err) < 0)
            return -1;
        if (timeout != NULL && (!json_is_integer(timeout) || json_integer_value(timeout) <= 0))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "hook %s[%zu]: timeout must be greater than 0", kind, i);
    }
    return 0;
}

/* The hook-spec file itself: absolute, a regular file of at most 10 MB (guide L7834-7838). */
static int check_hook_spec_file(const char *path, struct isd_error **err)
{
    struct stat st;
    if (path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook spec `%s` must be an absolute path", path);
    if (stat(path, &st) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, ENOENT, "hook spec file `%s` does not exist", path);
    if (!S_ISREG(st.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook spec `%s` is not a regular file", path);
    if (st.st_size > HOOK_SPEC_MAX)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "hook spec `%s` is larger than 10 MB", path);
    return 0;
}

static int add_hooks(const json_t *hc, json_t *spec, struct isd_error **err)
{
    const char *path = json_get_str(hc, "HookSpec");
    cleanup_json json_t *hooks = NULL;
    cleanup_json json_t *out = json_object();
    struct isd_error *e = NULL;

    if (path == NULL || path[0] == '\0')
        return 0;
    if (check_hook_spec_file(path, err) < 0)
        return -1;
    hooks = json_load_path(path, HOOK_SPEC_MAX, &e);
    if (hooks == NULL || !json_is_object(hooks)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid hook spec `%s`: %s", path, e ? e->msg : "not an object");
        isd_error_free(e);
        return -1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(hook_kinds); i++) {
        json_t *list = json_object_get(hooks, hook_kinds[i]);
        if (list == NULL)
            continue;
        if (check_hook_list(hook_kinds[i], list, err) < 0)
            return isd_error_wrap(err, "hook spec `%s`", path);
        json_object_set(out, hook_kinds[i], list);
    }
    if (json_object_size(out) > 0)
        json_object_set(spec, "hooks", out);
    return 0;
}

static void add_annotations(const struct spec_input *in, json_t *spec)
{
    json_t *ann = json_object();
    const json_t *user = json_object_get(in->host_config, "Annotations");
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)user, k, v)
    {
        if (json_is_string(v))
            json_object_set(ann, k, v);
    }
    if (json_object_get(ann, "native.umask") == NULL)
        json_object_set_new(ann, "native.umask", json_string(in->umask != NULL ? in->umask : "secure"));
    json_object_set_new(spec, "annotations", ann);
}

static int check_input(const struct spec_input *in, struct isd_error **err)
{
    if (in == NULL || in->id == NULL || in->id[0] == '\0' || !json_is_object(in->config))
        return isd_error_set(err, ISD_ERR_INTERNAL, EINVAL, "spec: missing container id or config");
    if (in->rootfs == NULL || in->rootfs[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "rootfs `%s` must be an absolute path",
                             in->rootfs ? in->rootfs : "");
    if (in->host_config != NULL && !json_is_object(in->host_config))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "HostConfig must be an object");
    return 0;
}

/* The CDI devices of HostConfig.DeviceRequests: resolved in the daemon's registry, their edits applied last so
 * they see the whole spec (devices cgroup list, mounts, user). */
static int add_cdi_devices(const struct spec_input *in, json_t *spec, struct isd_error **err)
{
    cleanup_json json_t *names = cdi_host_config_devices(in->host_config, err);
    cleanup_json json_t *edits = NULL;
    if (names == NULL)
        return -1;
    if (json_array_size(names) == 0)
        return 0;
    if (in->cdi == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "CDI device `%s` requested but CDI is disabled (start isulad with --enable-cdi)",
                             json_string_value(json_array_get(names, 0)));
    edits = cdi_registry_resolve(in->cdi, names, err);
    return edits == NULL ? -1 : cdi_edits_apply(spec, edits, err);
}

json_t *spec_generate(const struct spec_input *in, struct isd_error **err)
{
    cleanup_json json_t *spec = json_object();
    const json_t *hc;
    const char *hostname;

    if (check_input(in, err) < 0)
        return NULL;
    hc = in->host_config;
    hostname = json_get_str(in->config, "Hostname");
    json_object_set_new(spec, "ociVersion", json_string(OCI_VERSION));
    if (spec_build_process(in, spec, err) < 0)
        return NULL;
    json_object_set_new(
        spec, "root", json_pack("{sssb}", "path", in->rootfs, "readonly", json_get_bool(hc, "ReadonlyRootfs", false)));
    /* runc refuses a hostname without a private UTS namespace; a joined one keeps its owner's. */
    if (hostname != NULL && hostname[0] != '\0' && !streq(json_get_str(hc, "UTSMode"), "host") &&
        !str_has_prefix(json_get_str(hc, "UTSMode"), "container:"))
        json_object_set_new(spec, "hostname", json_string(hostname));
    if (spec_build_mounts(in, spec, err) < 0 || add_hooks(hc, spec, err) < 0)
        return NULL;
    add_annotations(in, spec);
    if (spec_build_linux(in, spec, err) < 0 || spec_build_security(in, spec, err) < 0 ||
        add_cdi_devices(in, spec, err) < 0)
        return NULL;
    spec_set_rootfs_propagation(spec);
    return TAKE_PTR(spec);
}
