/*
 * A container rootfs for a user namespace (--user-remap, userns-remap): overlay over id-mapped clones of the
 * image layers (layer_store.h: rootfs_mount_mapped). Each lower layer is cloned with open_tree, id-mapped
 * with mount_setattr to a user namespace holding the mapping, attached under a temporary directory for the
 * overlay mount, then detached: overlayfs keeps its own private clones of its layers. Nothing on disk is
 * chowned, so the image's layers stay shared by every mapping. Thread-safe (no shared state).
 */
#include "daemon/storage/layer_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

#define MAX_LOWERS 500

static int write_proc(const char *path, const char *text)
{
    cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
    return fd < 0 ? -1 : fd_write_all(fd, text, strlen(text));
}

/* A user namespace with the mapping, as an fd. A child unshares it and waits while its maps are written;
 * fork without exec (only async-signal-safe calls in the child), since the namespace must outlive nothing
 * but this call. */
static int userns_open(const struct user_remap *m, struct isd_error **err)
{
    int ready[2], hold[2];
    char c = 0;
    pid_t pid;
    int fd = -1;

    if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0)
        return isd_error_errno(err, "pipe");
    pid = fork();
    if (pid == 0) {
        close(ready[0]);
        close(hold[1]);
        if (unshare(CLONE_NEWUSER) < 0)
            _exit(1);
        if (write(ready[1], "r", 1) != 1)
            _exit(1);
        while (read(hold[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(ready[1]);
    close(hold[0]);
    if (pid > 0 && read(ready[0], &c, 1) == 1) {
        cleanup_free char *uid_map = xasprintf("0 %llu %llu\n", m->uid, m->size);
        cleanup_free char *gid_map = xasprintf("0 %llu %llu\n", m->gid, m->size);
        cleanup_free char *up = xasprintf("/proc/%d/uid_map", (int)pid), *gp = xasprintf("/proc/%d/gid_map", (int)pid);
        cleanup_free char *np = xasprintf("/proc/%d/ns/user", (int)pid);
        if (write_proc(up, uid_map) == 0 && write_proc(gp, gid_map) == 0)
            fd = open(np, O_RDONLY | O_CLOEXEC);
    }
    close(ready[0]);
    close(hold[1]);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    if (fd < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, errno, "user namespace for id-mapped layers: %s", strerror(errno));
    return fd;
}

/* Attaches an id-mapped clone of src at dst. */
static int idmap_clone(const char *src, const char *dst, int userns, struct isd_error **err)
{
    struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (unsigned long long)userns};
    cleanup_close int fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

    if (fd < 0)
        return isd_error_errno(err, "clone layer `%s`", src);
    if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0) {
        int e = errno;
        return isd_error_set(err, e == EINVAL || e == ENOSYS || e == EPERM ? ISD_ERR_NOT_IMPLEMENTED : ISD_ERR_INTERNAL,
                             e, "id-mapped mount of layer `%s`: %s (the kernel or filesystem has no id-mapped mounts)",
                             src, strerror(e));
    }
    if (mkdir(dst, 0700) < 0 || move_mount(fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return isd_error_errno(err, "attach id-mapped layer at `%s`", dst);
    return 0;
}

int rootfs_bind_clone(const char *src, const char *dst, const struct user_remap *map, bool recursive_ro,
                      struct isd_error **err)
{
    struct stat st;
    cleanup_close int userns = -1, fd = -1, mp = -1;
    struct mount_attr attr = {.attr_set = recursive_ro ? MOUNT_ATTR_RDONLY : 0};
    const char *what = map != NULL && recursive_ro ? "id-mapped recursively read-only"
                       : map != NULL               ? "id-mapped"
                                                   : "recursively read-only";

    if (stat(src, &st) < 0)
        return isd_error_errno(err, "%s mount of `%s`", what, src);
    if (map != NULL && (userns = userns_open(map, err)) < 0)
        return -1;
    if (map != NULL) {
        attr.attr_set |= MOUNT_ATTR_IDMAP;
        attr.userns_fd = (unsigned long long)userns;
    }
    fd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0)
        return isd_error_errno(err, "%s mount: clone `%s`", what, src);
    if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
        int e = errno;
        return isd_error_set(err, e == EINVAL || e == ENOSYS || e == EPERM ? ISD_ERR_NOT_IMPLEMENTED : ISD_ERR_INTERNAL,
                             e, "%s mount of `%s`: %s (%s)", what, src, strerror(e),
                             map != NULL ? "its filesystem, or one mounted below it, has no id-mapped mounts"
                                         : "the kernel has no mount_setattr: Linux 5.12 or later");
    }
    if (S_ISDIR(st.st_mode) ? mkdir(dst, 0700) < 0 && errno != EEXIST
                            : (mp = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
        return isd_error_errno(err, "%s mount point `%s`", what, dst);
    if (move_mount(fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
        return isd_error_errno(err, "attach %s mount of `%s` at `%s`", what, src, dst);
    return 0;
}

void rootfs_idmap_sweep(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *p = NULL;
        if (de->d_name[0] == '.')
            continue;
        p = xasprintf("%s/%s", dir, de->d_name);
        umount2(p, MNT_DETACH);
        rmdir(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static void idmap_release(const char *tmp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *p = xasprintf("%s/%zu", tmp, i);
        umount2(p, MNT_DETACH);
        rmdir(p);
    }
    rmdir(tmp);
}

/* Rewrites opts' lowerdir list to id-mapped clones under tmp; *ret_n: clones made (released by the caller). */
static char *map_lowers(const char *opts, const char *tmp, int userns, size_t *ret_n, struct isd_error **err)
{
    const char *lo = str_has_prefix(opts, "lowerdir=") ? opts + 9 : NULL;
    const char *rest = lo != NULL ? strstr(lo, ",upperdir=") : NULL;
    cleanup_free char *list = NULL;
    struct buf b = {0};

    *ret_n = 0;
    if (rest == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "unexpected overlay options `%s`", opts), NULL;
    list = xstrndup(lo, (size_t)(rest - lo));
    buf_append(&b, "lowerdir=", 9);
    for (char *save = NULL, *p = strtok_r(list, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
        cleanup_free char *dst = xasprintf("%s/%zu", tmp, *ret_n);
        if (*ret_n >= MAX_LOWERS || idmap_clone(p, dst, userns, err) < 0) {
            buf_free(&b);
            return *ret_n >= MAX_LOWERS ? isd_error_set(err, ISD_ERR_INVALID, 0, "too many layers"), NULL : NULL;
        }
        buf_printf(&b, "%s%s", *ret_n > 0 ? ":" : "", dst);
        (*ret_n)++;
    }
    buf_printf(&b, "%s", rest);
    return buf_steal(&b);
}

static int mount_mapped(struct layer_store *ls, const char *cid, const char *merged, const struct user_remap *map,
                        struct isd_error **err)
{
    cleanup_free char *opts = rootfs_overlay_options(ls, cid, err);
    cleanup_free char *tmp = xasprintf("%s/" ROOTFS_IDMAP_PREFIX "XXXXXX", ls->overlay);
    cleanup_free char *upper = xasprintf("%s/%s/diff", ls->overlay, cid);
    cleanup_free char *mapped_opts = NULL;
    cleanup_close int userns = -1;
    size_t n = 0;
    int rc = -1;

    if (opts == NULL)
        return -1;
    /* the read-write layer's root belongs to the container's root */
    if (lchown(upper, (uid_t)map->uid, (gid_t)map->gid) < 0)
        return isd_error_errno(err, "rootfs of `%s`: chown read-write layer", cid);
    if ((userns = userns_open(map, err)) < 0)
        return -1;
    if (mkdtemp(tmp) == NULL)
        return isd_error_errno(err, "mkdtemp `%s`", tmp);
    mapped_opts = map_lowers(opts, tmp, userns, &n, err);
    if (mapped_opts != NULL && strlen(mapped_opts) >= (size_t)sysconf(_SC_PAGESIZE))
        isd_error_set(err, ISD_ERR_INVALID, 0, "rootfs of `%s`: too many layers for the overlay options", cid);
    else if (mapped_opts != NULL && mount("overlay", merged, "overlay", 0, mapped_opts) < 0)
        /* overlayfs before Linux 5.19 refuses id-mapped layers (EINVAL): a kernel without them, as for mount_setattr */
        isd_error_set(err, errno == EINVAL ? ISD_ERR_NOT_IMPLEMENTED : ISD_ERR_INTERNAL, errno,
                      "mount id-mapped rootfs of `%s`: %s", cid, strerror(errno));
    else if (mapped_opts != NULL)
        rc = 0;
    idmap_release(tmp, n);
    return rc;
}

int rootfs_remap_mode_parse(char *const *storage_opts, enum rootfs_remap_mode *ret, struct isd_error **err)
{
    static const char *const names[] = {"auto", "idmap", "copy"};
    *ret = ROOTFS_REMAP_AUTO;
    for (size_t i = 0; storage_opts != NULL && storage_opts[i] != NULL; i++) {
        const char *v = str_has_prefix(storage_opts[i], "overlay2.remap_layers=")
                            ? storage_opts[i] + strlen("overlay2.remap_layers=")
                            : NULL;
        size_t k = 0;
        if (v == NULL)
            continue;
        while (k < ARRAY_SIZE(names) && !streq(v, names[k]))
            k++;
        if (k == ARRAY_SIZE(names))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "storage option `%s`: remap_layers takes auto, idmap or copy",
                                 storage_opts[i]);
        *ret = (enum rootfs_remap_mode)k;
    }
    return 0;
}

/* Id-mapped clones, or (AUTO) chowned copies where the kernel or filesystem has no id-mapped mounts. */
static int mount_either(struct layer_store *ls, const char *cid, const char *merged, const struct user_remap *map,
                        enum rootfs_remap_mode mode, struct isd_error **err)
{
    struct isd_error *e = NULL;
    if (mode == ROOTFS_REMAP_COPY)
        return rootfs_mount_copied(ls, cid, merged, map, err);
    if (mount_mapped(ls, cid, merged, map, &e) == 0)
        return 0;
    if (mode == ROOTFS_REMAP_AUTO && e->code == ISD_ERR_NOT_IMPLEMENTED) {
        isd_error_free(e);
        return rootfs_mount_copied(ls, cid, merged, map, err);
    }
    *err = e;
    return -1;
}

int rootfs_mount_mapped(struct layer_store *ls, const char *container_id, const struct user_remap *map,
                        enum rootfs_remap_mode mode, char **ret_merged_path, struct isd_error **err)
{
    cleanup_free char *merged = NULL;

    if (!user_remap_is_set(map))
        return rootfs_mount(ls, container_id, ret_merged_path, err);
    if (!id_is_safe(container_id))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid container id `%s`", container_id);
    merged = xasprintf("%s/%s/merged", ls->overlay, container_id);
    if (!path_is_mount_root(merged) && mount_either(ls, container_id, merged, map, mode, err) < 0)
        return -1;
    if (ret_merged_path != NULL)
        *ret_merged_path = TAKE_PTR(merged);
    return 0;
}
