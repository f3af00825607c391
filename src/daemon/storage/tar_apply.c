/*
 * Layer tar extraction; see tar_apply.h. Two chained libarchive readers: `raw` decompresses the input
 * (any filter) and its bytes are hashed (and stored) on their way into `tar`, which yields the entries that
 * we create ourselves with *at() syscalls below the root fd.
 */
#include "daemon/storage/tar_apply.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/storage/tar_walk.h"

#define CHUNK (128 * 1024)
#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

struct apply_ctx {
    const struct byte_source *src;
    struct archive *raw;  /* decompressing reader */
    struct archive *tar;  /* entry reader fed from raw */
    struct archive *blob; /* writer of the stored copy when the input is a plain tar (compressed with zstd) */
    const char *blob_path;
    int raw_fd;   /* the stored copy when the input is compressed: the input bytes as they came */
    int src_file; /* >= 0: the input is this whole file, linked as the stored copy when compressed */
    bool link_src;
    char *raw_path;
    struct sha256_ctx *sha;
    int root;
    bool plain;            /* tar_extract: no whiteouts, no hash */
    bool root_owner;       /* tar_extract: entries owned by 0:0 */
    bool no_dir_overwrite; /* tar_extract: keep directories and non-directories apart */
    long long tar_size, size;
    int src_errno;
    char inbuf[CHUNK], rawbuf[CHUNK];
    struct dir_time {
        char *path;
        struct timespec ts[2];
    } * dirs;
    size_t n_dirs;
};

ssize_t byte_source_fd_read(void *ctx, void *buf, size_t len)
{
    int fd = *(int *)ctx;
    for (;;) {
        ssize_t n = read(fd, buf, len);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static la_ssize_t raw_read_cb(struct archive *a, void *opaque, const void **buf)
{
    struct apply_ctx *c = opaque;
    ssize_t n = c->src->read(c->src->ctx, c->inbuf, sizeof(c->inbuf));
    if (n < 0) {
        c->src_errno = errno;
        archive_set_error(a, errno, "read layer stream: %s", strerror(errno));
        return -1;
    }
    if (n > 0 && c->raw_fd >= 0 && fd_write_all(c->raw_fd, c->inbuf, (size_t)n) < 0) {
        archive_set_error(a, errno, "store layer blob: %s", strerror(errno));
        return -1;
    }
    *buf = c->inbuf;
    return n;
}

static la_ssize_t tar_read_cb(struct archive *a, void *opaque, const void **buf)
{
    struct apply_ctx *c = opaque;
    la_ssize_t n = archive_read_data(c->raw, c->rawbuf, sizeof(c->rawbuf));
    if (n < 0) {
        archive_set_error(a, EIO, "%s", archive_error_string(c->raw));
        return -1;
    }
    if (c->sha != NULL)
        sha256_update(c->sha, c->rawbuf, (size_t)n);
    c->tar_size += n;
    if (c->blob != NULL && n > 0 && archive_write_data(c->blob, c->rawbuf, (size_t)n) != n) {
        archive_set_error(a, EIO, "store layer blob: %s", archive_error_string(c->blob));
        return -1;
    }
    *buf = c->rawbuf;
    return n;
}

char *tar_path_normalize(const char *path)
{
    cleanup_free char *copy = xstrdup(path);
    struct buf out = {0};
    char *save = NULL;
    buf_append(&out, "", 0);
    for (char *comp = strtok_r(copy, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
        if (strcmp(comp, ".") == 0)
            continue;
        if (strcmp(comp, "..") == 0) {
            buf_free(&out);
            return NULL;
        }
        if (out.len > 0)
            buf_append(&out, "/", 1);
        buf_append(&out, comp, strlen(comp));
    }
    return buf_steal(&out);
}

static void apply_xattrs(int fd, struct archive_entry *e)
{
    const char *name;
    const void *value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
        /* overlay's own attributes (redirect, origin, ...) are never taken from a layer */
        if (str_has_prefix(name, "trusted.overlay."))
            continue;
        (void)fsetxattr(fd, name, value, size, 0);
    }
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
    ts[1].tv_sec = archive_entry_mtime(e);
    ts[1].tv_nsec = archive_entry_mtime_nsec(e);
    ts[0] = ts[1];
    if (archive_entry_atime_is_set(e)) {
        ts[0].tv_sec = archive_entry_atime(e);
        ts[0].tv_nsec = archive_entry_atime_nsec(e);
    }
}

static int apply_meta_fd(int fd, struct archive_entry *e, bool times)
{
    struct timespec ts[2];
    if (fchown(fd, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e)) < 0)
        return -1;
    if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
        return -1;
    apply_xattrs(fd, e);
    entry_times(e, ts);
    return times ? futimens(fd, ts) : 0;
}

static int apply_meta_at(int dfd, const char *base, struct archive_entry *e)
{
    struct timespec ts[2];
    if (fchownat(dfd, base, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    entry_times(e, ts);
    return utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);
}

static int write_file(struct apply_ctx *c, int dfd, const char *base, struct archive_entry *e)
{
    cleanup_close int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    const void *block;
    size_t len;
    la_int64_t off;
    int r;
    if (fd < 0)
        return -1;
    while ((r = archive_read_data_block(c->tar, &block, &len, &off)) == ARCHIVE_OK) {
        const char *p = block;
        while (len > 0) {
            ssize_t n = pwrite(fd, p, len, off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return -1;
            p += n, off += n, len -= (size_t)n;
        }
    }
    if (r != ARCHIVE_EOF) {
        errno = EIO;
        return -1;
    }
    if (ftruncate(fd, archive_entry_size(e)) < 0)
        return -1;
    c->size += archive_entry_size(e);
    return apply_meta_fd(fd, e, true);
}

static int make_dir(struct apply_ctx *c, int dfd, const char *base, const char *rel, struct archive_entry *e)
{
    cleanup_close int fd = -1;
    struct dir_time *d;
    if (mkdirat(dfd, base, 0700) < 0 && errno != EEXIST)
        return -1;
    fd = openat(dfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || apply_meta_fd(fd, e, false) < 0)
        return -1;
    /* children change the directory's mtime: set times once everything is extracted */
    c->dirs = xrealloc(c->dirs, (c->n_dirs + 1) * sizeof(*c->dirs));
    d = &c->dirs[c->n_dirs++];
    d->path = xstrdup(rel);
    entry_times(e, d->ts);
    return 0;
}

static int make_hardlink(struct apply_ctx *c, int dfd, const char *base, const char *rel, struct archive_entry *e,
                         struct isd_error **err)
{
    cleanup_free char *target = tar_path_normalize(archive_entry_hardlink(e));
    cleanup_close int tdfd = -1;
    const char *tbase;
    if (target == NULL || target[0] == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "layer entry `%s`: invalid hardlink target `%s`", rel,
                             archive_entry_hardlink(e));
    tdfd = walk_open_parent(c->root, target, false, &tbase, err);
    if (tdfd < 0)
        return -1;
    /* flags 0: a symlink target is linked itself, never followed */
    if (linkat(tdfd, tbase, dfd, base, 0) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "layer entry `%s`: hardlink to `%s`: %s", rel, target,
                             strerror(errno));
    return 0;
}

static int make_node(int dfd, const char *base, struct archive_entry *e)
{
    if (mknodat(dfd, base, (archive_entry_filetype(e) & S_IFMT) | (archive_entry_perm(e) & 07777),
                archive_entry_rdev(e)) < 0)
        return -1;
    if (apply_meta_at(dfd, base, e) < 0)
        return -1;
    return fchmodat(dfd, base, archive_entry_perm(e) & 07777, 0);
}

static int make_whiteout(int dfd, const char *base, const char *rel, struct archive_entry *e, struct isd_error **err)
{
    const char *name = base + strlen(WH_PREFIX);
    if (strcmp(base, WH_OPAQUE) == 0) {
        if (fsetxattr(dfd, "trusted.overlay.opaque", "y", 1, 0) < 0)
            return isd_error_errno(err, "layer entry `%s`: set opaque", rel);
        return 0;
    }
    if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "layer entry `%s`: invalid whiteout", rel);
    if (remove_at(dfd, name) < 0 || mknodat(dfd, name, S_IFCHR, makedev(0, 0)) < 0)
        return isd_error_errno(err, "layer entry `%s`: whiteout", rel);
    if (fchownat(dfd, name, (uid_t)archive_entry_uid(e), (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
        return isd_error_errno(err, "layer entry `%s`: chown whiteout", rel);
    return 0;
}

/* Clears the place for a new entry: an existing directory stays when the entry is a directory too. */
static int make_room(int dfd, const char *base, mode_t type)
{
    struct stat st;
    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -1;
    if (S_ISDIR(st.st_mode) && type == S_IFDIR)
        return 0;
    return remove_at(dfd, base);
}

static int create_entry(struct apply_ctx *c, int dfd, const char *base, const char *rel, struct archive_entry *e,
                        struct isd_error **err)
{
    mode_t type = archive_entry_filetype(e);
    int r = 0;
    if (archive_entry_hardlink(e) != NULL)
        type = 0;
    if (make_room(dfd, base, type) < 0)
        return isd_error_errno(err, "layer entry `%s`: replace existing", rel);
    if (archive_entry_hardlink(e) != NULL)
        return make_hardlink(c, dfd, base, rel, e, err);
    switch (type) {
    case S_IFREG:
        r = write_file(c, dfd, base, e);
        break;
    case S_IFDIR:
        r = make_dir(c, dfd, base, rel, e);
        break;
    case S_IFLNK:
        r = symlinkat(archive_entry_symlink(e), dfd, base);
        if (r == 0)
            r = apply_meta_at(dfd, base, e);
        break;
    case S_IFCHR:
    case S_IFBLK:
    case S_IFIFO:
        r = make_node(dfd, base, e);
        break;
    default:
        return 0; /* sockets and unknown types are skipped */
    }
    if (r < 0)
        return isd_error_errno(err, "layer entry `%s`", rel);
    return 0;
}

/* tar_extract's entry: ownership and type rules of a copy, no whiteouts. */
static int extract_entry(struct apply_ctx *c, int dfd, const char *base, const char *rel, struct archive_entry *e,
                         struct isd_error **err)
{
    struct stat st;
    if (c->root_owner) {
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
    }
    if (c->no_dir_overwrite && archive_entry_hardlink(e) == NULL && fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(st.st_mode) != (archive_entry_filetype(e) == AE_IFDIR))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "cannot overwrite %s `%s` with %s",
                             S_ISDIR(st.st_mode) ? "directory" : "non-directory", rel,
                             S_ISDIR(st.st_mode) ? "non-directory" : "directory");
    return create_entry(c, dfd, base, rel, e, err);
}

static int apply_entry(struct apply_ctx *c, struct archive_entry *e, struct isd_error **err)
{
    const char *name = archive_entry_pathname(e);
    cleanup_free char *rel = tar_path_normalize(name != NULL ? name : "");
    cleanup_close int dfd = -1;
    const char *base;
    if (rel == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "layer entry `%s` escapes the layer", name);
    if (rel[0] == '\0')
        return 0; /* the root itself: the layer directory keeps its own metadata */
    dfd = walk_open_parent(c->root, rel, true, &base, err);
    if (dfd < 0)
        return -1;
    if (c->plain)
        return extract_entry(c, dfd, base, rel, e, err);
    if (str_has_prefix(base, WH_PREFIX))
        return make_whiteout(dfd, base, rel, e, err);
    return create_entry(c, dfd, base, rel, e, err);
}

static void set_dir_times(struct apply_ctx *c)
{
    for (size_t i = 0; i < c->n_dirs; i++) {
        struct isd_error *ignored = NULL;
        const char *base;
        int dfd = walk_open_parent(c->root, c->dirs[i].path, false, &base, &ignored);
        isd_error_free(ignored);
        if (dfd < 0)
            continue;
        (void)utimensat(dfd, base, c->dirs[i].ts, AT_SYMLINK_NOFOLLOW);
        close(dfd);
    }
}

static int open_blob_writer(struct apply_ctx *c, const char *path, struct isd_error **err)
{
    struct archive_entry *e;
    c->blob = archive_write_new();
    if (archive_write_add_filter_zstd(c->blob) != ARCHIVE_OK && archive_write_add_filter_gzip(c->blob) != ARCHIVE_OK)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "no compressor for layer blobs");
    /* The stored copy is for save and the layer check, not for transfer: the fastest level is enough. */
    archive_write_set_filter_option(c->blob, NULL, "compression-level", "1");
    if (archive_write_set_format_raw(c->blob) != ARCHIVE_OK || archive_write_open_filename(c->blob, path) != 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "open `%s`: %s", path, archive_error_string(c->blob));
    e = archive_entry_new();
    archive_entry_set_pathname(e, "layer.tar");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    if (archive_write_header(c->blob, e) != ARCHIVE_OK) {
        archive_entry_free(e);
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "open `%s`: %s", path, archive_error_string(c->blob));
    }
    archive_entry_free(e);
    return 0;
}

static int open_readers(struct apply_ctx *c, struct isd_error **err)
{
    struct archive_entry *e;
    c->raw = archive_read_new();
    archive_read_support_filter_all(c->raw);
    archive_read_support_format_raw(c->raw);
    if (archive_read_open(c->raw, c, NULL, raw_read_cb, NULL) != ARCHIVE_OK ||
        archive_read_next_header(c->raw, &e) != ARCHIVE_OK)
        return isd_error_set(err, c->src_errno ? ISD_ERR_INTERNAL : ISD_ERR_INVALID, c->src_errno,
                             "invalid layer stream: %s", archive_error_string(c->raw));
    /* A compressed input is kept as it came (tee of the input, no second compression: a pull's layers are
     * stored at download cost); a plain tar is compressed with zstd. Readers decompress either. */
    if (c->raw_fd >= 0 && archive_filter_code(c->raw, 0) == ARCHIVE_FILTER_NONE) {
        close(c->raw_fd);
        unlink(c->raw_path);
        c->raw_fd = -1;
    }
    c->link_src = c->blob_path != NULL && c->src_file >= 0 && archive_filter_code(c->raw, 0) != ARCHIVE_FILTER_NONE;
    if (c->blob_path != NULL && c->raw_fd < 0 && !c->link_src && open_blob_writer(c, c->blob_path, err) < 0)
        return -1;
    c->tar = archive_read_new();
    archive_read_support_format_tar(c->tar);
    archive_read_support_format_empty(c->tar);
    if (archive_read_open(c->tar, c, NULL, tar_read_cb, NULL) != ARCHIVE_OK)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid layer tar: %s", archive_error_string(c->tar));
    return 0;
}

static int run_entries(struct apply_ctx *c, struct isd_error **err)
{
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(c->tar, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (apply_entry(c, e, err) < 0)
            return -1;
    }
    if (r != ARCHIVE_EOF)
        return isd_error_set(err, c->src_errno ? ISD_ERR_INTERNAL : ISD_ERR_INVALID, c->src_errno,
                             "invalid layer tar: %s", archive_error_string(c->tar));
    /* the diff ID covers the whole stream, including padding after the end-of-archive blocks */
    for (;;) {
        const void *buf;
        la_ssize_t n = tar_read_cb(c->tar, c, &buf);
        if (n < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid layer tar: %s", archive_error_string(c->raw));
        if (n == 0)
            break;
    }
    set_dir_times(c);
    return 0;
}

static void apply_ctx_free(struct apply_ctx *c)
{
    if (c->tar != NULL)
        archive_read_free(c->tar);
    if (c->raw != NULL)
        archive_read_free(c->raw);
    if (c->blob != NULL)
        archive_write_free(c->blob);
    if (c->raw_fd >= 0) {
        close(c->raw_fd);
        unlink(c->raw_path);
    }
    free(c->raw_path);
    sha256_free(c->sha);
    for (size_t i = 0; i < c->n_dirs; i++)
        free(c->dirs[i].path);
    free(c->dirs);
    free(c);
}

/* The rest of the input (a compressor's trailer libarchive had no need to read) completes the stored copy. */
static int keep_raw_copy(struct apply_ctx *c, struct isd_error **err)
{
    for (;;) {
        ssize_t n = c->src->read(c->src->ctx, c->inbuf, sizeof(c->inbuf));
        if (n < 0)
            return isd_error_errno(err, "read layer stream");
        if (n == 0)
            break;
        if (fd_write_all(c->raw_fd, c->inbuf, (size_t)n) < 0)
            return isd_error_errno(err, "store layer blob");
    }
    if (close(c->raw_fd) < 0 || rename(c->raw_path, c->blob_path) < 0) {
        c->raw_fd = -1;
        return isd_error_errno(err, "store layer blob `%s`", c->blob_path);
    }
    c->raw_fd = -1;
    return 0;
}

/* The input file itself becomes the stored copy: a hard link (an O_TMPFILE download gets its name here), else
 * a copy through the kernel. */
static int link_src_file(struct apply_ctx *c, struct isd_error **err)
{
    cleanup_free char *proc = xasprintf("/proc/self/fd/%d", c->src_file);
    cleanup_free char *tmp = xasprintf("%s.raw", c->blob_path);
    cleanup_close int out = -1;
    off_t off = 0;
    if (linkat(AT_FDCWD, proc, AT_FDCWD, c->blob_path, AT_SYMLINK_FOLLOW) == 0)
        return 0;
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        return isd_error_errno(err, "create `%s`", tmp);
    for (;;) {
        ssize_t n = copy_file_range(c->src_file, &off, out, NULL, 1 << 30, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            unlink(tmp);
            return isd_error_errno(err, "store layer blob `%s`", c->blob_path);
        }
        if (n == 0)
            break;
    }
    if (rename(tmp, c->blob_path) < 0) {
        unlink(tmp);
        return isd_error_errno(err, "store layer blob `%s`", c->blob_path);
    }
    return 0;
}

int tar_apply(const struct byte_source *src, int src_file, int root_dfd, const char *blob_path,
              struct tar_apply_result *ret, struct isd_error **err)
{
    struct apply_ctx *c = xcalloc(1, sizeof(*c));
    int r = -1;
    c->src = src;
    c->src_file = src_file;
    c->root = root_dfd;
    c->sha = sha256_new();
    c->raw_fd = -1;
    c->blob_path = blob_path;
    if (blob_path != NULL && src_file < 0) {
        c->raw_path = xasprintf("%s.raw", blob_path);
        c->raw_fd = open(c->raw_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (c->raw_fd < 0) {
            isd_error_errno(err, "create `%s`", c->raw_path);
            goto out;
        }
    }
    if (open_readers(c, err) < 0 || run_entries(c, err) < 0)
        goto out;
    if (c->blob != NULL && archive_write_close(c->blob) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "store layer blob: %s", archive_error_string(c->blob));
        goto out;
    }
    if (c->raw_fd >= 0 && keep_raw_copy(c, err) < 0)
        goto out;
    if (c->link_src && link_src_file(c, err) < 0)
        goto out;
    sha256_finish(c->sha, ret->diff_id);
    c->sha = NULL;
    ret->size = c->size;
    ret->tar_size = c->tar_size;
    r = 0;
out:
    apply_ctx_free(c);
    return r;
}

int tar_extract(const struct byte_source *src, int root_dfd, const struct tar_extract_opts *o, struct isd_error **err)
{
    struct apply_ctx *c = xcalloc(1, sizeof(*c));
    int r;
    c->src = src;
    c->src_file = -1;
    c->raw_fd = -1;
    c->root = root_dfd;
    c->plain = true;
    c->root_owner = o->root_owner;
    c->no_dir_overwrite = o->no_dir_overwrite;
    r = open_readers(c, err) < 0 || run_entries(c, err) < 0 ? -1 : 0;
    apply_ctx_free(c);
    return r;
}
