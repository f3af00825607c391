/*
 * A container rootfs for a user namespace without id-mapped layers (layer_store.h: rootfs_mount_mapped with
 * ROOTFS_REMAP_COPY, or ROOTFS_REMAP_AUTO on a kernel or filesystem without them): overlay over chowned copies
 * of the image layers. Each layer is copied once per mapping into <root>/remap/<uid>.<gid>.<size>/<short id>
 * and shared by every container with that mapping; the copy goes with the layer (layer_remap_dirs_locked) and
 * the store's opening sweeps what no layer owns (a crash mid-copy). A copy is made in a temporary directory and
 * renamed into place, so a concurrent start of another container with the same mapping uses a complete copy or
 * makes its own and keeps whichever rename won.
 *
 * The copy walks the layer with *at() calls and O_NOFOLLOW (a symlink of the layer is copied, never followed)
 * and keeps what overlayfs and the container need: file types (whiteouts are 0/0 character devices), hard
 * links, modes with setuid/setgid bits (restored after the chown that clears them), extended attributes
 * (trusted.overlay.opaque, capabilities), timestamps. Ids below the mapping's size are shifted to the mapped
 * ones; others stay as they are (an id-mapped mount shows them as the overflow id, and so does the container).
 * File capabilities (security.capability) are rewritten as namespaced ones (revision 3) whose root is the
 * mapping's root, as the kernel writes them when the container's root sets them; a v3 value's root id is shifted
 * like an owner, and a value that cannot be converted (unknown revision, a root outside the mapping) is dropped
 * with a log line.
 * Thread-safe (no shared state).
 */
#include "daemon/storage/layer_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

#define XATTR_LIST_MAX_LEN (64 << 10)
#define XATTR_VALUE_MAX_LEN (64 << 10)
#define COPY_DEPTH_MAX 512

struct hardlink {
    dev_t dev;
    ino_t ino;
    char *path; /* relative to the copy's root */
};

struct copy_ctx {
    const struct user_remap *map;
    int root_fd; /* the copy's root, for hard links */
    struct hardlink *links;
    size_t n_links;
};

static unsigned long long shift(unsigned long long id, unsigned long long base, unsigned long long size)
{
    return id < size ? base + id : id;
}

static char *fd_path(int dirfd, const char *name)
{
    return xasprintf("/proc/self/fd/%d/%s", dirfd, name);
}

/* linux/capability.h's on-disk layout (little-endian): magic_etc, {permitted, inheritable} x 1 (revision 1) or
 * x 2 (revisions 2 and 3), then the namespace's root uid (revision 3). */
#define FCAP_REVISION_MASK 0xFF000000U
#define FCAP_REVISION_1 0x01000000U
#define FCAP_REVISION_2 0x02000000U
#define FCAP_REVISION_3 0x03000000U
#define FCAP_SIZE_1 12
#define FCAP_SIZE_2 20
#define FCAP_SIZE_3 24

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* val (n bytes) rewritten in place as a revision 3 value whose root is the mapped root of the layer's root id;
 * its new size, or 0 when it cannot be converted (then dropped, logged). val holds at least FCAP_SIZE_3 bytes. */
static size_t fcaps_for_map(unsigned char *val, size_t n, const struct user_remap *m, const char *name)
{
    unsigned char out[FCAP_SIZE_3] = {0};
    uint32_t magic = n >= 4 ? get_le32(val) : 0;
    unsigned long long rootid = 0;
    switch (magic & FCAP_REVISION_MASK) {
    case FCAP_REVISION_1:
        if (n != FCAP_SIZE_1)
            goto drop;
        memcpy(out, val, FCAP_SIZE_1); /* the upper 32 capabilities stay empty */
        break;
    case FCAP_REVISION_2:
        if (n != FCAP_SIZE_2)
            goto drop;
        memcpy(out, val, FCAP_SIZE_2);
        break;
    case FCAP_REVISION_3:
        if (n != FCAP_SIZE_3)
            goto drop;
        memcpy(out, val, FCAP_SIZE_2);
        rootid = get_le32(val + FCAP_SIZE_2);
        break;
    default:
        goto drop;
    }
    if (rootid >= m->size || m->uid + rootid > UINT32_MAX)
        goto drop;
    put_le32(out, (magic & ~FCAP_REVISION_MASK) | FCAP_REVISION_3);
    put_le32(out + FCAP_SIZE_2, (uint32_t)(m->uid + rootid));
    memcpy(val, out, sizeof(out));
    return sizeof(out);
drop:
    log_warn("chowned layer copy: file capabilities of `%s` dropped: revision %#x, %zu bytes, root id %llu cannot "
             "be mapped for the user namespace",
             name, magic >> 24, n, rootid);
    return 0;
}

/* Extended attributes of sp onto dp (after the chown, which drops security.capability); file capabilities
 * converted for the mapping m. */
static int copy_xattrs(const char *sp, const char *dp, const char *name, bool is_link, const struct user_remap *m,
                       struct isd_error **err)
{
    cleanup_free char *list = xmalloc(XATTR_LIST_MAX_LEN), *val = xmalloc(XATTR_VALUE_MAX_LEN);
    ssize_t n = llistxattr(sp, list, XATTR_LIST_MAX_LEN);
    if (n < 0)
        return errno == ENOTSUP ? 0 : isd_error_errno(err, "list extended attributes of `%s`", name);
    for (char *k = list; k < list + n; k += strlen(k) + 1) {
        ssize_t vn = lgetxattr(sp, k, val, XATTR_VALUE_MAX_LEN);
        if (vn < 0)
            return isd_error_errno(err, "read extended attribute `%s` of `%s`", k, name);
        if (streq(k, "security.capability") &&
            (vn = (ssize_t)fcaps_for_map((unsigned char *)val, (size_t)vn, m, name)) == 0)
            continue;
        if (lsetxattr(dp, k, val, (size_t)vn, 0) < 0 && !(is_link && errno == EPERM) && errno != ENOTSUP)
            return isd_error_errno(err, "set extended attribute `%s` of `%s`", k, name);
    }
    return 0;
}

static int copy_attrs(int sfd, int dfd, const char *name, const struct stat *st, const struct user_remap *m,
                      struct isd_error **err)
{
    struct timespec times[2] = {st->st_atim, st->st_mtim};
    bool link = S_ISLNK(st->st_mode);
    if (fchownat(dfd, name, (uid_t)shift(st->st_uid, m->uid, m->size), (gid_t)shift(st->st_gid, m->gid, m->size),
                 AT_SYMLINK_NOFOLLOW) < 0)
        return isd_error_errno(err, "chown `%s`", name);
    if (!link && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
        return isd_error_errno(err, "chmod `%s`", name);
    cleanup_free char *sp = fd_path(sfd, name), *dp = fd_path(dfd, name);
    if (copy_xattrs(sp, dp, name, link, m, err) < 0)
        return -1;
    if (utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
        return isd_error_errno(err, "set times of `%s`", name);
    return 0;
}

/* The data of a regular file: a reflink where the filesystem shares extents, else copy_file_range. */
static int copy_data(int sfd, int dfd, const char *name, struct isd_error **err)
{
    cleanup_close int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    cleanup_close int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    char buf[64 << 10];
    ssize_t n;
    if (in < 0 || out < 0)
        return isd_error_errno(err, "copy `%s`", name);
    if (ioctl(out, FICLONE, in) == 0)
        return 0;
    while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0) {
    }
    if (n == 0)
        return 0;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return isd_error_errno(err, "copy `%s`", name);
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (fd_write_all(out, buf, (size_t)n) < 0)
            return isd_error_errno(err, "copy `%s`", name);
    return n < 0 ? isd_error_errno(err, "copy `%s`", name) : 0;
}

/* A second name of an inode copied before: a hard link to its copy. 1 when done, 0 when first seen. */
static int link_seen(struct copy_ctx *c, const struct stat *st, const char *rel, int dfd, const char *name,
                     struct isd_error **err)
{
    for (size_t i = 0; i < c->n_links; i++) {
        if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino) {
            if (linkat(c->root_fd, c->links[i].path, dfd, name, 0) < 0)
                return isd_error_errno(err, "hard link `%s`", rel);
            return 1;
        }
    }
    c->links = xrealloc(c->links, (c->n_links + 1) * sizeof(*c->links));
    c->links[c->n_links++] = (struct hardlink){st->st_dev, st->st_ino, xstrdup(rel)};
    return 0;
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *rel, int depth, struct isd_error **err);

static int copy_entry(struct copy_ctx *c, int sfd, int dfd, const char *name, const char *parent_rel, int depth,
                      struct isd_error **err)
{
    cleanup_free char *rel = parent_rel[0] != '\0' ? xasprintf("%s/%s", parent_rel, name) : xstrdup(name);
    struct stat st;
    int r;
    if (fstatat(sfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return isd_error_errno(err, "stat `%s`", rel);
    if (S_ISDIR(st.st_mode)) {
        cleanup_close int s2 = -1, d2 = -1;
        if (mkdirat(dfd, name, 0700) < 0)
            return isd_error_errno(err, "mkdir `%s`", rel);
        s2 = openat(sfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        d2 = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s2 < 0 || d2 < 0)
            return isd_error_errno(err, "open `%s`", rel);
        if (copy_dir(c, s2, d2, rel, depth + 1, err) < 0)
            return -1;
    } else if (S_ISREG(st.st_mode)) {
        if (st.st_nlink > 1 && (r = link_seen(c, &st, rel, dfd, name, err)) != 0)
            return r < 0 ? -1 : 0; /* the inode's attributes came with its first name */
        if (copy_data(sfd, dfd, name, err) < 0)
            return -1;
    } else if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(sfd, name, target, sizeof(target) - 1);
        if (n < 0)
            return isd_error_errno(err, "readlink `%s`", rel);
        target[n] = '\0';
        if (symlinkat(target, dfd, name) < 0)
            return isd_error_errno(err, "symlink `%s`", rel);
    } else if (mknodat(dfd, name, st.st_mode & S_IFMT, st.st_rdev) < 0) { /* devices, whiteouts, fifos, sockets */
        return isd_error_errno(err, "mknod `%s`", rel);
    }
    return copy_attrs(sfd, dfd, name, &st, c->map, err);
}

static int copy_dir(struct copy_ctx *c, int sfd, int dfd, const char *rel, int depth, struct isd_error **err)
{
    int dup_fd = dup(sfd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *de;
    int rc = 0;
    if (d == NULL) {
        if (dup_fd >= 0)
            close(dup_fd);
        return isd_error_errno(err, "read directory `%s`", rel[0] ? rel : "/");
    }
    if (depth > COPY_DEPTH_MAX)
        rc = isd_error_set(err, ISD_ERR_INVALID, 0, "layer too deep at `%s`", rel);
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        rc = copy_entry(c, sfd, dfd, de->d_name, rel, depth, err);
    }
    closedir(d);
    return rc;
}

/* Copies the tree src into the new directory dst (its root's owner, mode, attributes included). */
static int copy_layer(const char *src, const char *dst, const struct user_remap *map, struct isd_error **err)
{
    cleanup_close int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int pfd = -1, dfd = -1;
    cleanup_free char *parent = xstrdup(dst), *real = realpath(src, NULL); /* src: the layer's l/ link */
    char *base = strrchr(parent, '/');
    struct copy_ctx c = {.map = map};
    struct stat st;
    int rc;
    if (sfd < 0 || fstat(sfd, &st) < 0 || real == NULL)
        return isd_error_errno(err, "open layer `%s`", src);
    *base++ = '\0';
    pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    dfd = pfd >= 0 ? openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
    if (dfd < 0)
        return isd_error_errno(err, "open `%s`", dst);
    c.root_fd = dfd;
    rc = copy_dir(&c, sfd, dfd, "", 0, err);
    for (size_t i = 0; i < c.n_links; i++)
        free(c.links[i].path);
    free(c.links);
    if (rc < 0)
        return -1;
    /* the root last: its times would change with each entry made in it */
    if (fchown(dfd, (uid_t)shift(st.st_uid, map->uid, map->size), (gid_t)shift(st.st_gid, map->gid, map->size)) < 0 ||
        fchmod(dfd, st.st_mode & 07777) < 0)
        return isd_error_errno(err, "chown `%s`", dst);
    if (copy_xattrs(real, dst, dst, false, map, err) < 0)
        return -1;
    if (futimens(dfd, (struct timespec[2]){st.st_atim, st.st_mtim}) < 0)
        return isd_error_errno(err, "set times of `%s`", dst);
    return 0;
}

char *rootfs_remap_dir(struct layer_store *ls, const struct user_remap *map)
{
    return xasprintf("%s/remap/%llu.%llu.%llu", ls->root, map->uid, map->gid, map->size);
}

/* The chowned copy of the layer with short id `short_id` for map, made when missing; caller frees. */
static char *layer_copy_get(struct layer_store *ls, const char *short_id, const struct user_remap *map,
                            struct isd_error **err)
{
    cleanup_free char *dir = rootfs_remap_dir(ls, map);
    cleanup_free char *copy = xasprintf("%s/%s", dir, short_id);
    cleanup_free char *src = xasprintf("%s/l/%s", ls->overlay, short_id);
    cleanup_free char *tmp = NULL;
    if (path_exists(copy))
        return TAKE_PTR(copy);
    if (mkdir_p(dir, 0711, err) < 0)
        return NULL;
    tmp = xasprintf("%s/%s" REMAP_TMP_INFIX "XXXXXX", dir, short_id);
    if (mkdtemp(tmp) == NULL)
        return isd_error_errno(err, "mkdtemp `%s`", tmp), NULL;
    if (copy_layer(src, tmp, map, err) < 0) {
        rm_rf(tmp, NULL);
        return isd_error_wrap(err, "chowned copy of layer `%s`", short_id), NULL;
    }
    if (rename(tmp, copy) < 0) {
        int e = errno;
        rm_rf(tmp, NULL);
        if ((e != EEXIST && e != ENOTEMPTY) || !path_exists(copy))
            return errno = e, isd_error_errno(err, "rename `%s`", tmp), NULL;
    }
    return TAKE_PTR(copy);
}

/* opts' lowerdir list ("<overlay>/l/<short>:...") rewritten to the layers' copies. */
static char *copied_lowers(struct layer_store *ls, const char *opts, const struct user_remap *map,
                           struct isd_error **err)
{
    const char *lo = str_has_prefix(opts, "lowerdir=") ? opts + 9 : NULL;
    const char *rest = lo != NULL ? strstr(lo, ",upperdir=") : NULL;
    cleanup_free char *list = NULL, *prefix = xasprintf("%s/l/", ls->overlay);
    struct buf b = {0};
    if (rest == NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "unexpected overlay options `%s`", opts), NULL;
    list = xstrndup(lo, (size_t)(rest - lo));
    buf_append(&b, "lowerdir=", 9);
    for (char *save = NULL, *p = strtok_r(list, ":", &save); p != NULL; p = strtok_r(NULL, ":", &save)) {
        cleanup_free char *copy = NULL;
        if (!str_has_prefix(p, prefix)) { /* an image without layers: the container's empty dir */
            buf_printf(&b, "%s%s", b.len > 9 ? ":" : "", p);
            continue;
        }
        copy = layer_copy_get(ls, p + strlen(prefix), map, err);
        if (copy == NULL) {
            buf_free(&b);
            return NULL;
        }
        buf_printf(&b, "%s%s", b.len > 9 ? ":" : "", copy);
    }
    buf_printf(&b, "%s", rest);
    return buf_steal(&b);
}

int rootfs_mount_copied(struct layer_store *ls, const char *cid, const char *merged, const struct user_remap *map,
                        struct isd_error **err)
{
    cleanup_free char *opts = rootfs_overlay_options(ls, cid, err);
    cleanup_free char *upper = xasprintf("%s/%s/diff", ls->overlay, cid);
    cleanup_free char *copied = NULL;
    if (opts == NULL)
        return -1;
    if (lchown(upper, (uid_t)map->uid, (gid_t)map->gid) < 0)
        return isd_error_errno(err, "rootfs of `%s`: chown read-write layer", cid);
    if ((copied = copied_lowers(ls, opts, map, err)) == NULL)
        return -1;
    if (strlen(copied) >= (size_t)sysconf(_SC_PAGESIZE))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "rootfs of `%s`: too many layers for the overlay options", cid);
    if (mount("overlay", merged, "overlay", 0, copied) < 0)
        return isd_error_errno(err, "mount the rootfs of `%s` over chowned layer copies", cid);
    return 0;
}

void layer_remap_dirs_locked(struct layer_store *ls, const char *short_id, char ***dirs)
{
    cleanup_free char *root = xasprintf("%s/remap", ls->root);
    DIR *d = opendir(root);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *copy = NULL, *gone = NULL, *rnd = NULL;
        if (de->d_name[0] == '.')
            continue;
        copy = xasprintf("%s/%s/%s", root, de->d_name, short_id);
        rnd = random_hex(8);
        gone = xasprintf("%s/%s/%s" REMAP_TMP_INFIX "del-%s", root, de->d_name, short_id, rnd);
        if (rename(copy, gone) == 0)
            strv_append(dirs, gone);
    }
    if (d != NULL)
        closedir(d);
}

/* Whether name (an entry of a mapping's directory) is the copy of a layer of the store. */
static bool copy_owned_locked(struct layer_store *ls, const char *name)
{
    if (strstr(name, REMAP_TMP_INFIX) != NULL)
        return false;
    for (size_t i = 0; i < store_count_locked(ls->table); i++) {
        const struct layer *l = store_at_locked(ls->table, i);
        if (streq(l->short_id, name))
            return true;
    }
    return false;
}

void rootfs_remap_sweep_locked(struct layer_store *ls, char ***dirs)
{
    cleanup_free char *root = xasprintf("%s/remap", ls->root);
    DIR *d = opendir(root);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_free char *mdir = NULL;
        DIR *m;
        struct dirent *e;
        if (de->d_name[0] == '.')
            continue;
        mdir = xasprintf("%s/%s", root, de->d_name);
        m = opendir(mdir);
        while (m != NULL && (e = readdir(m)) != NULL) {
            cleanup_free char *p = NULL;
            if (e->d_name[0] == '.' || copy_owned_locked(ls, e->d_name))
                continue;
            p = xasprintf("%s/%s", mdir, e->d_name);
            strv_append(dirs, p);
        }
        if (m != NULL)
            closedir(m);
    }
    if (d != NULL)
        closedir(d);
}
