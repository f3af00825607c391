/* Symlink-safe walking below a root fd; see tar_walk.h. */
#include "daemon/storage/tar_walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

static int open_dir_at(int dfd, const char *name)
{
    return openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int walk_step(int fd, const char *comp, const char *rel, bool create, struct isd_error **err)
{
    int next = open_dir_at(fd, comp);
    if (next < 0 && errno == ENOENT && create) {
        if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
            return isd_error_errno(err, "layer entry `%s`: mkdir `%s`", rel, comp);
        next = open_dir_at(fd, comp);
    }
    if (next >= 0)
        return next;
    if (errno == ELOOP || errno == ENOTDIR)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "layer entry `%s`: parent `%s` is not a directory", rel,
                             comp);
    if (errno == ENOENT)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "layer entry `%s`: `%s` does not exist in the layer", rel,
                             comp);
    return isd_error_errno(err, "layer entry `%s`: open `%s`", rel, comp);
}

int walk_open_parent(int root_dfd, const char *rel, bool create, const char **ret_base, struct isd_error **err)
{
    cleanup_free char *copy = xstrdup(rel);
    char *comp = copy, *slash;
    int fd = fcntl(root_dfd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
        return isd_error_errno(err, "dup");
    while ((slash = strchr(comp, '/')) != NULL) {
        int next;
        *slash = '\0';
        next = walk_step(fd, comp, rel, create, err);
        close(fd);
        if (next < 0)
            return -1;
        fd = next;
        comp = slash + 1;
    }
    *ret_base = rel + (comp - copy);
    return fd;
}

static int remove_dir_contents(int fd)
{
    DIR *d = fdopendir(fd);
    struct dirent *de;
    int r = 0;
    if (d == NULL) {
        close(fd);
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (remove_at(dirfd(d), de->d_name) < 0)
            r = -1;
    }
    closedir(d);
    return r;
}

int remove_at(int dfd, const char *name)
{
    int fd;
    if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
        return 0;
    if (errno != EISDIR && errno != EPERM)
        return -1;
    fd = open_dir_at(dfd, name);
    if (fd < 0)
        return -1;
    if (remove_dir_contents(fd) < 0)
        return -1;
    if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        return -1;
    return 0;
}
