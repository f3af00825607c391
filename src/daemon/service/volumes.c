/*
 * Volumes as containers use them: a container's HostConfig with its named volumes (`-v name:/dst`, `--mount
 * type=volume`), anonymous volumes (`-v /dst`, the image's VOLUME) and `--volumes-from` turned into host binds
 * for the spec generator, creating the volumes on first use and filling an empty one from the image (Docker's
 * copy-up, unless nocopy). The HostConfig the user gave is kept as given (inspect shows it); the resolved copy
 * exists only while a spec is generated. --volumes-from is resolved once at create, as Docker copies the
 * sources' mount points then: the container keeps that list (volumes by name) and needs no source later.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/service/internal.h"
#include "daemon/service/volumes.h"
#include "daemon/storage/squashfs.h"
#include "daemon/volume/volume.h"

static bool dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    bool empty = true;
    while (d != NULL && empty && (de = readdir(d)) != NULL)
        empty = streq(de->d_name, ".") || streq(de->d_name, "..");
    if (d != NULL)
        closedir(d);
    return empty;
}

/* Docker's copy-up: an empty volume gets what the image has at dst. dst is resolved inside the rootfs
 * (RESOLVE_IN_ROOT), so an image's symlink cannot make the daemon copy host files into the volume. */
static void copy_up(const char *rootfs, const char *dst, const char *mountpoint)
{
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
    cleanup_close int root = -1, fd = -1;
    cleanup_free char *src = NULL, *out = NULL, *errout = NULL;
    struct isd_error *err = NULL;
    if (rootfs == NULL || !dir_is_empty(mountpoint))
        return;
    root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return;
    fd = (int)syscall(SYS_openat2, root, dst + strspn(dst, "/"), &how, sizeof(how));
    if (fd < 0)
        return;
    src = xasprintf("/proc/%d/fd/%d/.", (int)getpid(), fd);
    {
        const char *argv[] = {"cp", "-a", src, mountpoint, NULL};
        if (spawn_run(argv, NULL, &out, &errout, &err) != 0)
            log_warn("copy image content of `%s` into volume: %s", dst, errout ? errout : err ? err->msg : "");
    }
    isd_error_free(err);
}

static bool has_dest(const json_t *hc, const char *dst)
{
    size_t i;
    json_t *e;
    cleanup_free char *want = xstrdup(dst);
    while (strlen(want) > 1 && want[strlen(want) - 1] == '/')
        want[strlen(want) - 1] = '\0';
    json_array_foreach(json_object_get(hc, "Binds"), i, e)
    {
        const char *s = json_string_value(e), *c1 = s ? strchr(s, ':') : NULL;
        const char *d = c1 != NULL ? c1 + 1 : s;
        size_t n = d != NULL ? strcspn(d, ":") : 0;
        if (d != NULL && n == strlen(want) && strncmp(d, want, n) == 0)
            return true;
    }
    json_array_foreach(json_object_get(hc, "Mounts"), i, e)
    {
        if (streq(json_get_str(e, "Target"), want))
            return true;
    }
    return false;
}

/* The mountpoint of volume name (NULL or "": a new anonymous one of c at dst), created when missing; a volume
 * with mount options is mounted for the container being started before its content is looked at. */
static char *volume_for(struct vol_ctx *x, const char *name, const char *dst, const json_t *labels,
                        const json_t *driver_config, bool copy, struct isd_error **err)
{
    cleanup_json json_t *v = NULL;
    if (name == NULL || name[0] == '\0')
        v = volume_store_find_anonymous(x->d->volumes, x->c->id, dst);
    if (v == NULL)
        v = volume_store_create(x->d->volumes, name, json_get_str(driver_config, "Name"), labels,
                                json_object_get(driver_config, "Options"), name && name[0] ? NULL : x->c->id, dst, NULL,
                                err);
    if (v == NULL)
        return NULL;
    if (x->holder != NULL && volume_store_mount(x->d->volumes, json_get_str(v, "Name"), x->holder, err) < 0)
        return NULL;
    if (copy)
        copy_up(x->rootfs, dst, json_get_str(v, "Mountpoint"));
    return xstrdup(json_get_str(v, "Mountpoint"));
}

/* "name:/dst[:mode]" and "/dst" (anonymous) become "mountpoint:/dst[:mode]"; host paths stay. */
static int resolve_bind(struct vol_ctx *x, const char *spec, json_t *out, struct isd_error **err)
{
    const char *colon = strchr(spec, ':');
    cleanup_free char *name = NULL, *mp = NULL;
    const char *rest;
    if (spec[0] == '/' && colon != NULL) {
        json_array_append_new(out, json_string(spec));
        return 0;
    }
    if (spec[0] == '/') {
        mp = volume_for(x, NULL, spec, NULL, NULL, true, err);
        if (mp == NULL)
            return -1;
        json_array_append_new(out, json_sprintf("%s:%s", mp, spec));
        return 0;
    }
    if (colon == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid volume specification: '%s'", spec);
    name = xstrndup(spec, (size_t)(colon - spec));
    rest = colon + 1;
    {
        size_t n = strcspn(rest, ":");
        cleanup_free char *dst = xstrndup(rest, n);
        bool nocopy = strstr(rest + n, "nocopy") != NULL;
        mp = volume_for(x, name, dst, NULL, NULL, !nocopy, err);
    }
    if (mp == NULL)
        return -1;
    json_array_append_new(out, json_sprintf("%s:%s", mp, rest));
    return 0;
}

/* --mount type=squashfs,src=IMAGE,dst=DIR: at start the image is loop-mounted on <container dir>/squashfs/<i>
 * (detached again once the container holds it, service_volumes_detach); at create only the file is checked. */
static int resolve_squashfs(struct vol_ctx *x, const json_t *m, size_t i, json_t *out, struct isd_error **err)
{
    const char *src = json_get_str(m, "Source");
    cleanup_free char *dir = NULL;
    struct stat st;
    if (src == NULL || src[0] != '/' || stat(src, &st) < 0 || !S_ISREG(st.st_mode))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid mount config for type \"squashfs\": source must be an image file: %s",
                             src ? src : "");
    if (x->rootfs != NULL) {
        dir = xasprintf("%s/squashfs/%zu", x->c->dir, i);
        umount2(dir, MNT_DETACH);
        if (squashfs_mount(src, dir, err) < 0)
            return -1;
    }
    json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", dir ? dir : src, "Target",
                                         json_get_str(m, "Target") ? json_get_str(m, "Target") : "", "ReadOnly", 1));
    return 0;
}

void service_volumes_detach(struct container *c)
{
    cleanup_free char *base = xasprintf("%s/squashfs", c->dir);
    DIR *d = opendir(base);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *p = xasprintf("%s/%s", base, de->d_name);
        if (de->d_name[0] != '.')
            umount2(p, MNT_DETACH);
    }
    if (d != NULL)
        closedir(d);
}

static int resolve_mount(struct vol_ctx *x, const json_t *m, size_t idx, json_t *out, struct isd_error **err)
{
    const json_t *vo = json_object_get(m, "VolumeOptions");
    cleanup_free char *mp = NULL;
    json_t *b;
    if (streq(json_get_str(m, "Type"), "squashfs"))
        return x->inner != NULL ? 0 : resolve_squashfs(x, m, idx, out, err); /* not shared by --volumes-from */
    if (!streq(json_get_str(m, "Type"), "volume")) {
        json_array_append(out, (json_t *)m);
        return 0;
    }
    if (json_object_get(m, "Target") == NULL || json_get_str(m, "Target")[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid mount config for type \"volume\": invalid mount path: '%s' mount path must be "
                             "absolute",
                             json_get_str(m, "Target") ? json_get_str(m, "Target") : "");
    mp = volume_for(x, json_get_str(m, "Source"), json_get_str(m, "Target"), json_object_get(vo, "Labels"),
                    json_object_get(vo, "DriverConfig"), !json_get_bool(vo, "NoCopy", false), err);
    if (mp == NULL)
        return -1;
    b = json_pack("{s:s, s:s, s:s, s:b}", "Type", "bind", "Source", mp, "Target", json_get_str(m, "Target"), "ReadOnly",
                  json_get_bool(m, "ReadOnly", false));
    json_array_append_new(out, b);
    return 0;
}

#define VOLUMES_FROM_DEPTH_MAX 16

static bool in_chain(const struct vol_ctx *x, const struct container *c)
{
    for (; x != NULL; x = x->inner)
        if (x->c == c)
            return true;
    return false;
}

/* The mode of a bind taken through --volumes-from ctr:mode: mode's ro/rw replaces the bind's own, the bind's other
 * words (propagation, z, nocopy) stay. Without a mode the bind keeps its own. */
static char *inherit_mode(const char *own, const char *mode)
{
    cleanup_free char *copy = xstrdup(own != NULL ? own : "");
    struct buf b = {0};
    char *save = NULL;
    if (mode != NULL)
        buf_appends(&b, mode);
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (mode == NULL || (!streq(t, "ro") && !streq(t, "rw")))
            buf_printf(&b, "%s%s", buf_size(&b) > 0 ? "," : "", t);
    }
    return buf_steal(&b);
}

/* The resolved HostConfig of src as the container of x sees it: src's own volumes and binds and, through its own
 * --volumes-from, those of the containers it takes from (Docker's chains). src's lock is taken only to copy its
 * configuration, so no two container locks are held while volumes are created or mounted. */
static json_t *resolve_source(struct vol_ctx *x, struct container *src, const char *ref, struct isd_error **err)
{
    cleanup_json json_t *hc = NULL, *cfg = NULL, *from = NULL;
    struct vol_ctx sx = {.d = x->d, .c = src, .holder = x->holder, .inner = x, .depth = x->depth + 1};
    if (src == x->c)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "--volumes-from %s: a container cannot take volumes from itself",
                             ref),
               NULL;
    if (in_chain(x, src))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "--volumes-from %s: circular reference through container %.12s",
                             ref, src->id),
               NULL;
    if (sx.depth > VOLUMES_FROM_DEPTH_MAX)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "--volumes-from %s: chain longer than %d containers", ref,
                             VOLUMES_FROM_DEPTH_MAX),
               NULL;
    pthread_mutex_lock(&src->lock);
    hc = json_deep_copy(src->host_config);
    cfg = json_deep_copy(src->config);
    from = json_deep_copy(src->volumes_from);
    pthread_mutex_unlock(&src->lock);
    sx.from_mounts = from;
    return service_volumes_resolve(&sx, hc, cfg, err);
}

/* --volumes-from ctr[:ro|rw]: the other container's binds and volumes (resolved), at the same destinations; a
 * destination this container mounts itself stays its own. */
static int add_volumes_from(struct vol_ctx *x, const char *spec, json_t *hc, struct isd_error **err)
{
    cleanup_free char *ref = xstrdup(spec);
    char *mode = strchr(ref, ':');
    cleanup_container struct container *src = NULL;
    cleanup_json json_t *shc = NULL;
    size_t i;
    json_t *e;
    if (mode != NULL)
        *mode++ = '\0';
    if (mode != NULL && !streq(mode, "ro") && !streq(mode, "rw"))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid mode for volumes-from: %s", mode);
    src = container_store_lookup(x->d->containers, ref, err);
    if (src == NULL)
        return isd_error_wrap(err, "--volumes-from %s", ref);
    if ((shc = resolve_source(x, src, ref, err)) == NULL)
        return -1;
    json_array_foreach(json_object_get(shc, "Binds"), i, e)
    {
        cleanup_free char *copy = xstrdup(json_string_value(e)), *m = NULL;
        char *c1 = strchr(copy, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c1 == NULL)
            continue;
        if (c2 != NULL)
            *c2++ = '\0';
        if (has_dest(hc, c1 + 1))
            continue;
        m = inherit_mode(c2, mode);
        json_array_append_new(json_object_get(hc, "Binds"), json_sprintf("%s%s%s", copy, m[0] ? ":" : "", m));
    }
    json_array_foreach(json_object_get(shc, "Mounts"), i, e)
    {
        json_t *copy;
        if (!streq(json_get_str(e, "Type"), "bind") || has_dest(hc, json_get_str(e, "Target")))
            continue;
        copy = json_deep_copy(e);
        if (mode != NULL)
            json_object_set_new(copy, "ReadOnly", json_boolean(streq(mode, "ro")));
        json_array_append_new(json_object_get(hc, "Mounts"), copy);
    }
    return 0;
}

/* The mountpoint of a volume taken through --volumes-from: mounted for the container being started (created again
 * empty if it was removed meanwhile, as a named volume is), only looked up otherwise (inspect, the create check):
 * NULL without an error when it is gone. */
static char *inherited_volume(struct vol_ctx *x, const char *name, const char *dst, struct isd_error **err)
{
    cleanup_json json_t *v = NULL;
    if (x->holder != NULL)
        return volume_for(x, name, dst, NULL, NULL, false, err);
    v = volume_store_get(x->d->volumes, name, NULL);
    return v != NULL ? xstrdup(json_get_str(v, "Mountpoint")) : NULL;
}

/* Adds the --volumes-from list kept since create (x->from_mounts) to hc; a destination hc mounts itself wins. */
static int add_from_mounts(struct vol_ctx *x, json_t *hc, struct isd_error **err)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(x->from_mounts, "Binds"), i, e)
    {
        const char *s = json_string_value(e), *c1 = s != NULL ? strchr(s, ':') : NULL;
        cleanup_free char *name = NULL, *dst = NULL, *mp = NULL;
        if (c1 == NULL)
            continue;
        dst = xstrndup(c1 + 1, strcspn(c1 + 1, ":"));
        if (has_dest(hc, dst))
            continue;
        if (s[0] == '/') {
            json_array_append_new(json_object_get(hc, "Binds"), json_string(s));
            continue;
        }
        name = xstrndup(s, (size_t)(c1 - s));
        if ((mp = inherited_volume(x, name, dst, err)) == NULL) {
            if (x->holder != NULL)
                return -1;
            continue;
        }
        json_array_append_new(json_object_get(hc, "Binds"), json_sprintf("%s%s", mp, c1));
    }
    json_array_foreach(json_object_get(x->from_mounts, "Mounts"), i, e)
    {
        const char *name = json_get_str(e, "VolumeName");
        cleanup_free char *mp = NULL;
        json_t *copy;
        if (has_dest(hc, json_get_str(e, "Target")))
            continue;
        if (name != NULL && (mp = inherited_volume(x, name, json_get_str(e, "Target"), err)) == NULL) {
            if (x->holder != NULL)
                return -1;
            continue;
        }
        copy = json_deep_copy(e);
        json_object_del(copy, "VolumeName");
        if (mp != NULL)
            json_object_set_new(copy, "Source", json_string(mp));
        json_array_append_new(json_object_get(hc, "Mounts"), copy);
    }
    return 0;
}

int service_volumes_from_create(struct daemon *d, struct container *c, struct isd_error **err)
{
    struct vol_ctx x = {.d = d, .c = c};
    const json_t *from = json_object_get(c->host_config, "VolumesFrom");
    cleanup_json json_t *hc = json_pack("{s:[], s:[]}", "Binds", "Mounts");
    json_t *kept, *e;
    size_t i;
    if (json_array_size(from) == 0)
        return 0;
    json_array_foreach(from, i, e)
    {
        if (json_is_string(e) && add_volumes_from(&x, json_string_value(e), hc, err) < 0)
            return -1;
    }
    /* volumes are kept by name: a mountpoint is found again (and mounted) at each start */
    kept = json_pack("{s:[], s:[]}", "Binds", "Mounts");
    json_array_foreach(json_object_get(hc, "Binds"), i, e)
    {
        const char *s = json_string_value(e), *c1 = strchr(s, ':');
        cleanup_free char *src = xstrndup(s, c1 != NULL ? (size_t)(c1 - s) : strlen(s));
        cleanup_free char *name = volume_store_name_of(d->volumes, src);
        json_array_append_new(json_object_get(kept, "Binds"),
                              name != NULL && c1 != NULL ? json_sprintf("%s%s", name, c1) : json_string(s));
    }
    json_array_foreach(json_object_get(hc, "Mounts"), i, e)
    {
        cleanup_free char *name = volume_store_name_of(d->volumes, json_get_str(e, "Source"));
        json_t *copy = json_deep_copy(e);
        if (name != NULL)
            json_object_set_new(copy, "VolumeName", json_string(name));
        json_array_append_new(json_object_get(kept, "Mounts"), copy);
    }
    pthread_mutex_lock(&c->lock);
    json_decref(c->volumes_from);
    c->volumes_from = kept;
    pthread_mutex_unlock(&c->lock);
    return 0;
}

json_t *service_volumes_resolve(struct vol_ctx *x, const json_t *host_config, const json_t *config,
                                struct isd_error **err)
{
    cleanup_json json_t *hc = json_deep_copy(host_config != NULL ? host_config : json_object());
    json_t *binds = json_array(), *mounts = json_array(), *e;
    const char *k;
    size_t i;
    json_object_set_new(hc, "Binds", binds);
    json_object_set_new(hc, "Mounts", mounts);
    json_array_foreach(json_object_get(host_config, "Binds"), i, e)
    {
        if (json_is_string(e) && resolve_bind(x, json_string_value(e), binds, err) < 0)
            return NULL;
    }
    json_array_foreach(json_object_get(host_config, "Mounts"), i, e)
    {
        if (resolve_mount(x, e, i, mounts, err) < 0)
            return NULL;
    }
    if (x->from_mounts != NULL) {
        if (add_from_mounts(x, hc, err) < 0)
            return NULL;
    } else {
        json_array_foreach(json_object_get(host_config, "VolumesFrom"), i, e) /* a record made before create kept it */
        {
            if (json_is_string(e) && add_volumes_from(x, json_string_value(e), hc, err) < 0)
                return NULL;
        }
    }
    json_object_foreach((json_t *)json_object_get(config, "Volumes"), k, e)
    {
        cleanup_free char *mp = NULL;
        if (k[0] != '/' || has_dest(hc, k) || json_object_get(json_object_get(host_config, "Tmpfs"), k) != NULL)
            continue;
        mp = volume_for(x, NULL, k, NULL, NULL, true, err);
        if (mp == NULL)
            return NULL;
        json_array_append_new(binds, json_sprintf("%s:%s", mp, k));
    }
    return TAKE_PTR(hc);
}

json_t *service_volumes_host_config(struct daemon *d, struct container *c, const char *rootfs, struct isd_error **err)
{
    struct vol_ctx x = {
        .d = d, .c = c, .rootfs = rootfs, .holder = rootfs != NULL ? c->id : NULL, .from_mounts = c->volumes_from};
    return service_volumes_resolve(&x, c->host_config, c->config, err);
}

void service_volumes_release(struct daemon *d, const char *container_id)
{
    volume_store_release(d->volumes, container_id);
}

static bool holder_alive(const char *id, void *arg)
{
    struct daemon *d = arg;
    cleanup_container struct container *c = container_store_lookup(d->containers, id, NULL);
    bool alive;
    if (c == NULL)
        return false;
    pthread_mutex_lock(&c->lock);
    alive = container_is_active(c);
    pthread_mutex_unlock(&c->lock);
    return alive;
}

void service_volumes_release_stale(struct daemon *d)
{
    volume_store_release_stale(d->volumes, holder_alive, d);
}
