/*
 * User namespaces of containers: HostConfig.PodUserns (internal: a CRI pod's user namespace, "<uid>:<gid>:<size>"
 * of any size, set on the sandbox and every container of the pod), else HostConfig.UserRemap
 * ("<uid>:<gid>:<offset>", isula --user-remap) or the daemon's userns-remap, unless HostConfig.UsernsMode is
 * "host". Checked at create, applied to the spec and to the rootfs mount (id-mapped image layers) at start, and
 * to the binds with the `idmap` option (id-mapped clones of their sources). The binds with `rro` (and the Mounts
 * with BindOptions.ReadOnlyForceRecursive) get recursively read-only clones the same way, with or without idmap. An
 * external rootfs is used as it is: the guide asks its owner to shift its ids beforehand.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/service/internal.h"
#include "daemon/storage/layer_store.h"

void service_userns_map(struct daemon *d, const json_t *hc, struct user_remap *ret)
{
    const char *pod = json_get_str(hc, "PodUserns");
    const char *mine = json_get_str(hc, "UserRemap");
    *ret = (struct user_remap){0, 0, 0};
    if (pod != NULL && pod[0] != '\0')
        user_remap_parse_wide(pod, ret, NULL); /* checked at create */
    else if (mine != NULL && mine[0] != '\0')
        user_remap_parse(mine, ret, NULL); /* checked at create */
    else if (!streq(json_get_str(hc, "UsernsMode"), "host"))
        *ret = d->cfg->userns_remap_map;
}

/* Namespaces the container's user namespace cannot own: proc and sysfs cannot be mounted over the host's pid and
 * network namespaces (Docker's two refusals). A user network's namespace is made inside a user namespace with
 * the container's mapping, which the container joins (network.h); another container's namespaces come with
 * that container's user namespace (service_userns_check_peer). */
static int check_shared_ns(struct daemon *d, const json_t *hc, struct isd_error **err)
{
    static const char *const peer_keys[] = {"PidMode", "IpcMode", "UTSMode"};
    if (service_network_primary(d, hc) != NULL)
        for (size_t i = 0; i < ARRAY_SIZE(peer_keys); i++)
            if (str_has_prefix(json_get_str(hc, peer_keys[i]), "container:"))
                return isd_error_set(err, ISD_ERR_INVALID, 0,
                                     "a user-namespaced container cannot be on a network and share another "
                                     "container's namespaces (%s): each comes with its own user namespace",
                                     peer_keys[i]);
    if (streq(json_get_str(hc, "NetworkMode"), "host"))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "cannot share the host's network namespace when user namespaces are enabled");
    if (streq(json_get_str(hc, "PidMode"), "host"))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "cannot share the host PID namespace when user namespaces are enabled");
    return 0;
}

int service_userns_check_peer(struct daemon *d, const struct user_remap *m, const char *what, const char *ref,
                              const json_t *peer_host_config, struct isd_error **err)
{
    struct user_remap pm;
    if (!user_remap_is_set(m))
        return 0;
    service_userns_map(d, peer_host_config, &pm);
    if (pm.uid == m->uid && pm.gid == m->gid && pm.size == m->size)
        return 0;
    return isd_error_set(err, ISD_ERR_INVALID, 0,
                         "cannot join %s of container %s: its user namespace maps ids differently (%s), and a "
                         "namespace can only be shared within the user namespace that owns it",
                         what, ref, user_remap_is_set(&pm) ? "another mapping" : "none: the host's");
}

/* The mode words of a bind "src:dst[:mode]" hold word. */
static bool bind_has_word(const char *bind, const char *word)
{
    const char *c1 = strchr(bind, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    cleanup_free char *mode = c2 != NULL ? xstrdup(c2 + 1) : NULL;
    char *save = NULL;
    for (char *t = mode != NULL ? strtok_r(mode, ",", &save) : NULL; t != NULL; t = strtok_r(NULL, ",", &save))
        if (streq(t, word))
            return true;
    return false;
}

static bool bind_is_idmapped(const char *bind)
{
    return bind_has_word(bind, "idmap");
}

static int check_pod_userns(const json_t *hc, struct isd_error **err)
{
    const char *pod = json_get_str(hc, "PodUserns");
    struct user_remap m;
    if (pod == NULL || pod[0] == '\0')
        return 0;
    if (user_remap_parse_wide(pod, &m, err) < 0)
        return -1;
    if (!user_remap_is_set(&m))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "a pod's user namespace cannot map the host's root (uid or gid 0)");
    if (json_get_str(hc, "UserRemap") != NULL && json_get_str(hc, "UserRemap")[0] != '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "conflicting options: the pod's user namespace and --user-remap");
    if (streq(json_get_str(hc, "UsernsMode"), "host"))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "conflicting options: the pod's user namespace and --userns=host");
    return 0;
}

int service_userns_check_create(struct daemon *d, const json_t *hc, struct isd_error **err)
{
    const char *mode = json_get_str(hc, "UsernsMode");
    const char *mine = json_get_str(hc, "UserRemap");
    struct user_remap m;
    size_t i;
    json_t *b;

    if (mode != NULL && mode[0] != '\0' && !streq(mode, "host"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid USER mode: %s", mode);
    if (user_remap_parse(mine, &m, err) < 0 || check_pod_userns(hc, err) < 0)
        return -1;
    if (mine != NULL && mine[0] != '\0' && streq(mode, "host"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "conflicting options: --user-remap and --userns=host");
    service_userns_map(d, hc, &m);
    json_array_foreach(json_object_get(hc, "Binds"), i, b)
    {
        if (json_is_string(b) && bind_is_idmapped(json_string_value(b)) && !user_remap_is_set(&m))
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "bind `%s`: an id-mapped mount (idmap) needs the container in a user namespace",
                                 json_string_value(b));
    }
    if (user_remap_is_set(&m) && check_shared_ns(d, hc, err) < 0)
        return -1;
    if (user_remap_is_set(&m) && json_get_bool(hc, "Privileged", false))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             mine != NULL && mine[0] != '\0' ? "--user-remap and --privileged cannot be used together"
                             : json_get_str(hc, "PodUserns") != NULL
                                 ? "privileged mode is incompatible with the pod's user namespace"
                                 : "privileged mode is incompatible with user namespaces: run the container "
                                   "with --userns=host");
    return 0;
}

static char *idmap_dir(const struct container *c)
{
    return xasprintf("%s/idmap", c->state_dir);
}

/* Attaches at <dir>/<name> a clone of src (id-mapped with m when idmap, recursively read-only when rro). */
static char *attach_clone(const char *dir, const char *name, const char *src, const struct user_remap *m, bool idmap,
                          bool rro, struct isd_error **err)
{
    cleanup_free char *dst = xasprintf("%s/%s", dir, name);
    if (mkdir_p(dir, 0700, err) < 0 || rootfs_bind_clone(src, dst, idmap ? m : NULL, rro, err) < 0)
        return NULL;
    return TAKE_PTR(dst);
}

int service_userns_binds_attach(struct daemon *d, struct container *c, json_t *hc, struct isd_error **err)
{
    struct user_remap m;
    cleanup_free char *dir = idmap_dir(c);
    json_t *binds = json_object_get(hc, "Binds"), *b;
    size_t i;
    service_userns_map(d, c->host_config, &m);
    service_userns_binds_detach(c); /* what a crash between an attach and its detach left */
    json_array_foreach(binds, i, b)
    {
        const char *s = json_string_value(b), *c1 = s != NULL ? strchr(s, ':') : NULL;
        cleanup_free char *src = NULL, *dst = NULL, *name = NULL;
        bool idmap = c1 != NULL && bind_is_idmapped(s), rro = c1 != NULL && bind_has_word(s, "rro");
        if (!idmap && !rro)
            continue;
        if (idmap && !user_remap_is_set(&m))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "bind `%s`: an id-mapped mount needs a user namespace", s);
        src = xstrndup(s, (size_t)(c1 - s));
        name = xasprintf("b%zu", i);
        if ((dst = attach_clone(dir, name, src, &m, idmap, rro, err)) == NULL)
            return isd_error_wrap(err, "bind `%s`", s);
        json_array_set_new(binds, i, json_sprintf("%s%s", dst, c1));
    }
    json_array_foreach(json_object_get(hc, "Mounts"), i, b)
    {
        const char *src = json_get_str(b, "Source");
        cleanup_free char *dst = NULL, *name = NULL;
        if (!streq(json_get_str(b, "Type"), "bind") || src == NULL ||
            !json_get_bool(json_object_get(b, "BindOptions"), "ReadOnlyForceRecursive", false))
            continue;
        name = xasprintf("m%zu", i);
        if ((dst = attach_clone(dir, name, src, &m, false, true, err)) == NULL)
            return isd_error_wrap(err, "mount `%s`", src);
        json_object_set_new(b, "Source", json_string(dst));
    }
    return 0;
}

void service_userns_binds_detach(struct container *c)
{
    cleanup_free char *dir = idmap_dir(c);
    DIR *dp = opendir(dir);
    struct dirent *de;
    while (dp != NULL && (de = readdir(dp)) != NULL) {
        cleanup_free char *p = xasprintf("%s/%s", dir, de->d_name);
        if (de->d_name[0] == '.')
            continue;
        umount2(p, MNT_DETACH);
        if (rmdir(p) < 0)
            unlink(p);
    }
    if (dp != NULL)
        closedir(dp);
    rmdir(dir);
}

/* Probes of what the kernel and the filesystem under the graph root can clone, each run once per daemon. */
struct clone_probe {
    const char *name;             /* of the probe's directory: .<name>-probe-XXXXXX */
    const struct user_remap *map; /* id-mapped with this mapping, or not */
    bool recursive_ro;
    int result; /* -1 before it ran */
};
static pthread_mutex_t clone_probe_lock = PTHREAD_MUTEX_INITIALIZER;

/* Whether a directory under the graph root clones as the probe asks (rootfs_bind_clone). */
static bool clone_probe_run(struct daemon *d, struct clone_probe *p)
{
    pthread_mutex_lock(&clone_probe_lock);
    if (p->result < 0) {
        cleanup_free char *src = xasprintf("%s/.%s-probe-XXXXXX", d->cfg->graph, p->name);
        cleanup_free char *dst = NULL;
        cleanup_error struct isd_error *e = NULL;
        p->result = 0;
        if (mkdtemp(src) != NULL) {
            dst = xasprintf("%s.m", src);
            p->result = rootfs_bind_clone(src, dst, p->map, p->recursive_ro, &e) == 0;
            umount2(dst, MNT_DETACH);
            rmdir(dst);
            rmdir(src);
        }
    }
    bool ok = p->result == 1;
    pthread_mutex_unlock(&clone_probe_lock);
    return ok;
}

/* Whether id-mapped mounts work under the graph root. */
bool service_userns_idmap_supported(struct daemon *d)
{
    static const struct user_remap m = {65536, 65536, 65536};
    static struct clone_probe probe = {"idmap", &m, false, -1};
    return clone_probe_run(d, &probe);
}

/* Whether recursively read-only clones work (mount_setattr, Linux 5.12). */
bool service_rro_supported(struct daemon *d)
{
    static struct clone_probe probe = {"rro", NULL, true, -1};
    return clone_probe_run(d, &probe);
}

/* The runtime reaches the rootfs as the container's root, a stranger on the host: the directories from the
 * graph root down to it get the search bit for others (not read: nothing can be listed), as Docker gives its
 * root dir 0711 under userns-remap. Directories above the graph root are the administrator's. */
static int grant_search(const char *graph, const char *path, struct isd_error **err)
{
    cleanup_free char *p = xstrdup(path);
    size_t glen = strlen(graph);
    while (strlen(p) >= glen && str_has_prefix(p, graph)) {
        struct stat st;
        char *slash;
        if (stat(p, &st) < 0 || (!(st.st_mode & S_IXOTH) && chmod(p, (st.st_mode & 07777) | S_IXOTH) < 0))
            return isd_error_errno(err, "user namespace: give others search access to `%s`", p);
        if ((slash = strrchr(p, '/')) == NULL || slash == p)
            break;
        *slash = '\0';
    }
    return 0;
}

int service_rootfs_mount(struct daemon *d, struct container *c, char **ret_merged, struct isd_error **err)
{
    struct user_remap m;
    enum rootfs_remap_mode mode;
    cleanup_free char *merged = NULL;
    if (c->external_rootfs != NULL) {
        *ret_merged = xstrdup(c->external_rootfs);
        return 0;
    }
    service_userns_map(d, c->host_config, &m);
    if (rootfs_remap_mode_parse(d->cfg->storage_opts, &mode, err) < 0 ||
        rootfs_mount_mapped(d->layers, c->id, &m, mode, &merged, err) < 0)
        return -1;
    if (user_remap_is_set(&m) && grant_search(d->cfg->graph, merged, err) < 0) {
        rootfs_umount(d->layers, c->id, NULL);
        return -1;
    }
    *ret_merged = TAKE_PTR(merged);
    return 0;
}
