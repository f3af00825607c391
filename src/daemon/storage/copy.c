/* Copying in and out of a container's root filesystem; see copy.h. */
#include "daemon/storage/copy.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define GO_MODE_DIR (1u << 31)
#define GO_MODE_SYMLINK (1u << 27)
#define GO_MODE_DEVICE (1u << 26)
#define GO_MODE_PIPE (1u << 25)
#define GO_MODE_SOCKET (1u << 24)
#define GO_MODE_SETUID (1u << 23)
#define GO_MODE_SETGID (1u << 22)
#define GO_MODE_CHARDEV (1u << 21)
#define GO_MODE_STICKY (1u << 20)

static int open_in_root(int root_fd, const char *rel, int flags)
{
    struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC,
                           .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, root_fd, rel[0] != '\0' ? rel : ".", &how, sizeof(how));
}

/* The place a container path names: its parent directory (resolved inside the root) and its last
 * component, not followed. A path ending in "/" or "/." and the root itself name the directory: base ".". */
struct place {
    int root_fd;
    int parent_fd;
    char *base;
    char *name; /* Docker's name of the path: its last component ("x" for "/x/"), "." for "/x/.", "/" for "/" */
};

static void place_clear(struct place *p)
{
    if (p->root_fd >= 0)
        close(p->root_fd);
    if (p->parent_fd >= 0)
        close(p->parent_fd);
    free(p->base);
    free(p->name);
}

static char *docker_name(const char *rel)
{
    cleanup_free char *copy = xstrdup(rel);
    size_t n = strlen(copy);
    char *slash;
    if (streq(copy, ".") || (n >= 2 && streq(copy + n - 2, "/.")))
        return xstrdup(".");
    while (n > 0 && copy[n - 1] == '/')
        copy[--n] = '\0';
    if (n == 0)
        return xstrdup("/");
    slash = strrchr(copy, '/');
    return xstrdup(slash != NULL ? slash + 1 : copy);
}

static int place_open(const char *root, const char *path, struct place *p, struct isd_error **err)
{
    cleanup_free char *rel = xstrdup(path + strspn(path, "/"));
    size_t n = strlen(rel);
    bool dir_form = n == 0 || rel[n - 1] == '/' || streq(rel, ".") || (n >= 2 && streq(rel + n - 2, "/."));
    char *slash;

    *p = (struct place){.root_fd = -1, .parent_fd = -1, .name = docker_name(rel)};
    p->root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (p->root_fd < 0)
        return isd_error_errno(err, "open `%s`", root);
    if (dir_form) {
        p->base = xstrdup(".");
        p->parent_fd = open_in_root(p->root_fd, rel, O_PATH | O_DIRECTORY);
    } else {
        slash = strrchr(rel, '/');
        p->base = xstrdup(slash != NULL ? slash + 1 : rel);
        if (slash != NULL)
            *slash = '\0';
        p->parent_fd = open_in_root(p->root_fd, slash != NULL ? rel : "", O_PATH | O_DIRECTORY);
    }
    if (p->parent_fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return isd_error_set(err, ISD_ERR_NOT_FOUND, errno, "Could not find the file %s in container", path);
    if (p->parent_fd < 0)
        return isd_error_errno(err, "open `%s`", path);
    return 0;
}

static unsigned int go_mode(mode_t m)
{
    unsigned int g = m & 0777;
    g |= S_ISDIR(m) ? GO_MODE_DIR : 0;
    g |= S_ISLNK(m) ? GO_MODE_SYMLINK : 0;
    g |= S_ISFIFO(m) ? GO_MODE_PIPE : 0;
    g |= S_ISSOCK(m) ? GO_MODE_SOCKET : 0;
    g |= S_ISBLK(m) ? GO_MODE_DEVICE : 0;
    g |= S_ISCHR(m) ? GO_MODE_DEVICE | GO_MODE_CHARDEV : 0;
    g |= (m & S_ISUID) ? GO_MODE_SETUID : 0;
    g |= (m & S_ISGID) ? GO_MODE_SETGID : 0;
    g |= (m & S_ISVTX) ? GO_MODE_STICKY : 0;
    return g;
}

/* The absolute path inside the root that path resolves to (following every symlink within the root). */
static char *link_target(int root_fd, const char *root, const char *path)
{
    cleanup_close int fd = open_in_root(root_fd, path + strspn(path, "/"), O_PATH);
    cleanup_free char *proc = NULL;
    char buf[PATH_MAX];
    char real_root[PATH_MAX];
    ssize_t n;
    size_t rl;
    if (fd < 0 || realpath(root, real_root) == NULL)
        return NULL;
    proc = xasprintf("/proc/self/fd/%d", fd);
    n = readlink(proc, buf, sizeof(buf) - 1);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    rl = strlen(real_root);
    if (strncmp(buf, real_root, rl) != 0 || (buf[rl] != '/' && buf[rl] != '\0'))
        return NULL;
    return xstrdup(buf[rl] != '\0' ? buf + rl : "/");
}

static char *rfc3339(const struct timespec *ts)
{
    struct tm tm;
    char day[32];
    gmtime_r(&ts->tv_sec, &tm);
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    return xasprintf("%s.%09ldZ", day, ts->tv_nsec);
}

json_t *copy_stat(const char *root, const char *path, struct isd_error **err)
{
    struct place p;
    struct stat st;
    cleanup_free char *mtime = NULL, *target = NULL;
    json_t *j = NULL;
    if (place_open(root, path, &p, err) < 0)
        goto out;
    if (fstatat(p.parent_fd, p.base, &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) < 0) {
        isd_error_set(err, errno == ENOENT ? ISD_ERR_NOT_FOUND : ISD_ERR_INTERNAL, errno,
                      "Could not find the file %s in container", path);
        goto out;
    }
    if (S_ISLNK(st.st_mode))
        target = link_target(p.root_fd, root, path);
    mtime = rfc3339(&st.st_mtim);
    j = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", p.name, "size", (json_int_t)st.st_size, "mode",
                  (json_int_t)go_mode(st.st_mode), "mtime", mtime, "linkTarget", target ? target : "");
out:
    place_clear(&p);
    return j;
}

/* Tar writing from fds: every name is opened O_NOFOLLOW below an fd already inside the root. */
static int out_tree(struct archive *w, int dfd, const char *base, const char *name, struct isd_error **err);

static int out_data(struct archive *w, int fd)
{
    char buf[128 * 1024];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        if (archive_write_data(w, buf, (size_t)n) != n)
            return -1;
    }
    return n < 0 ? -1 : 0;
}

static int out_children(struct archive *w, int fd, const char *name, struct isd_error **err)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    int r = 0;
    if (d == NULL) {
        close(fd);
        return isd_error_errno(err, "read directory `%s`", name);
    }
    while (r == 0 && (de = readdir(d)) != NULL) {
        cleanup_free char *child = NULL;
        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
            continue;
        child = xasprintf("%s/%s", name, de->d_name);
        r = out_tree(w, dirfd(d), de->d_name, child, err);
    }
    closedir(d);
    return r;
}

static int out_tree(struct archive *w, int dfd, const char *base, const char *name, struct isd_error **err)
{
    struct archive_entry *e = archive_entry_new();
    int fd = -1, r = -1;
    struct stat st;
    char target[PATH_MAX];
    ssize_t n;

    if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        isd_error_errno(err, "stat `%s`", name);
        goto out;
    }
    if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
        fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
        if (fd < 0 || fstat(fd, &st) < 0) {
            isd_error_errno(err, "open `%s`", name);
            goto out;
        }
    }
    archive_entry_copy_stat(e, &st);
    archive_entry_set_pathname(e, name);
    if (S_ISLNK(st.st_mode)) {
        n = readlinkat(dfd, base, target, sizeof(target) - 1);
        if (n < 0) {
            isd_error_errno(err, "readlink `%s`", name);
            goto out;
        }
        target[n] = '\0';
        archive_entry_set_symlink(e, target);
    }
    if (S_ISSOCK(st.st_mode) || archive_write_header(w, e) < ARCHIVE_WARN) {
        r = S_ISSOCK(st.st_mode) ? 0 : isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s", archive_error_string(w));
        goto out;
    }
    if (S_ISREG(st.st_mode) && out_data(w, fd) < 0) {
        isd_error_errno(err, "read `%s`", name);
        goto out;
    }
    r = 0;
    if (S_ISDIR(st.st_mode)) {
        r = out_children(w, fd, name, err);
        fd = -1;
    }
out:
    if (fd >= 0)
        close(fd);
    archive_entry_free(e);
    return r;
}

int copy_out(const char *root, const char *path, int out_fd, struct isd_error **err)
{
    struct place p;
    struct archive *w = archive_write_new();
    int r = -1;
    if (place_open(root, path, &p, err) < 0)
        goto out;
    archive_write_set_format_pax_restricted(w);
    archive_write_set_bytes_in_last_block(w, 1);
    if (archive_write_open_fd(w, out_fd) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s", archive_error_string(w));
        goto out;
    }
    /* entries are named after the path; the root's are "./x" (no absolute names in the tar) */
    if (out_tree(w, p.parent_fd, p.base, streq(p.name, "/") ? "." : p.name, err) < 0)
        goto out;
    if (archive_write_close(w) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s", archive_error_string(w));
        goto out;
    }
    r = 0;
out:
    archive_write_free(w);
    place_clear(&p);
    return r;
}

int copy_in(const char *root, const char *path, const struct byte_source *src, const struct copy_in_opts *o,
            struct isd_error **err)
{
    cleanup_close int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cleanup_close int dfd = -1;
    struct tar_extract_opts to = {.root_owner = !o->keep_owner, .no_dir_overwrite = o->no_dir_overwrite};
    if (root_fd < 0)
        return isd_error_errno(err, "open `%s`", root);
    dfd = open_in_root(root_fd, path + strspn(path, "/"), O_RDONLY | O_DIRECTORY);
    if (dfd < 0 && errno == ENOTDIR)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "extraction point is not a directory: %s", path);
    if (dfd < 0 && errno == ENOENT)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, errno, "Could not find the file %s in container", path);
    if (dfd < 0)
        return isd_error_errno(err, "open `%s`", path);
    return tar_extract(src, dfd, &to, err);
}
