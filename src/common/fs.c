#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

int mkdir_p(const char *path, mode_t mode, struct isd_error **err)
{
    cleanup_free char *p = xstrdup(path);
    for (char *s = p + 1; *s != '\0'; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, mode) < 0 && errno != EEXIST)
            return isd_error_errno(err, "mkdir `%s`", p);
        *s = '/';
    }
    if (mkdir(p, mode) < 0 && errno != EEXIST)
        return isd_error_errno(err, "mkdir `%s`", p);
    return 0;
}

char *read_file(const char *path, size_t max, size_t *ret_len, struct isd_error **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct buf b = {0};
    char chunk[16384];
    if (fd < 0) {
        isd_error_errno(err, "open `%s`", path);
        return NULL;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_free(&b);
            isd_error_errno(err, "read `%s`", path);
            return NULL;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            buf_free(&b);
            isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "`%s` is larger than %zu bytes", path, max);
            return NULL;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    if (ret_len != NULL)
        *ret_len = b.len;
    return buf_steal(&b);
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable, struct isd_error **err)
{
    const char *step = NULL;
    if (file_write_atomic(path, data, len, mode, durable, &step) < 0)
        return isd_error_errno(err, "%s `%s`", step, path);
    return 0;
}

static int rm_rf_at(int parent, const char *name, dev_t dev, struct isd_error **err)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : isd_error_errno(err, "stat `%s`", name);
    if (S_ISDIR(st.st_mode)) {
        int fd;
        DIR *d;
        struct dirent *de;
        int r = 0;
        if (st.st_dev != dev)
            return isd_error_set(err, ISD_ERR_INTERNAL, EBUSY, "`%s` is a mount point, not removed", name);
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return isd_error_errno(err, "open `%s`", name);
        d = fdopendir(fd);
        if (d == NULL) {
            close(fd);
            return isd_error_errno(err, "opendir `%s`", name);
        }
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            if (rm_rf_at(dirfd(d), de->d_name, dev, err) < 0) {
                r = -1;
                break;
            }
        }
        closedir(d);
        if (r < 0)
            return -1;
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return isd_error_errno(err, "rmdir `%s`", name);
        return 0;
    }
    if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
        return isd_error_errno(err, "unlink `%s`", name);
    return 0;
}

int rm_rf(const char *path, struct isd_error **err)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : isd_error_errno(err, "stat `%s`", path);
    return rm_rf_at(AT_FDCWD, path, st.st_dev, err);
}

static void *rm_rf_main(void *arg)
{
    thread_lower_priority();
    rm_rf(arg, NULL);
    free(arg);
    return NULL;
}

void rm_rf_in_background(const char *path)
{
    char *p = xstrdup(path);
    if (thread_start_detached(rm_rf_main, p) < 0) {
        rm_rf(p, NULL);
        free(p);
    }
}

int rm_rf_soon(const char *path, struct isd_error **err)
{
    cleanup_free char *dir = xstrdup(path);
    cleanup_free char *rnd = random_hex(12);
    cleanup_free char *trash = NULL;
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return rm_rf(path, err);
    *slash = '\0';
    trash = xasprintf("%s/.trash-%s", *dir ? dir : "", rnd);
    if (rename(path, trash) < 0) {
        if (errno == ENOENT)
            return 0;
        return rm_rf(path, err);
    }
    rm_rf_in_background(trash);
    return 0;
}

bool path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (*b == '/')
        b++;
    if (la > 0 && a[la - 1] == '/')
        return xasprintf("%s%s", a, b);
    return xasprintf("%s/%s", a, b);
}

static long long dir_size_at(int parent, const char *name, dev_t dev, long long *inodes)
{
    struct stat st;
    long long total = 0;
    int fd;
    DIR *d;
    struct dirent *de;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    if (inodes != NULL && st.st_dev == dev)
        (*inodes)++;
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? (long long)st.st_size : 0;
    if (st.st_dev != dev)
        return 0;
    fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return 0;
    d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return 0;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        total += dir_size_at(dirfd(d), de->d_name, dev, inodes);
    }
    closedir(d);
    return total;
}

long long dir_size(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    return dir_size_at(AT_FDCWD, path, st.st_dev, NULL);
}

long long dir_usage(const char *path, long long *ret_inodes)
{
    struct stat st;
    *ret_inodes = 0;
    if (lstat(path, &st) < 0)
        return 0;
    return dir_size_at(AT_FDCWD, path, st.st_dev, ret_inodes);
}
