#include "common/base/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/base/str.h"
#include "common/base/xalloc.h"

int fd_read_full(int fd, void *data, size_t len)
{
    char *p = data;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int fd_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void file_rotate(const char *path, int max_files)
{
    for (int i = max_files - 1; i >= 1; i--) {
        cleanup_free char *from = i == 1 ? xstrdup(path) : xasprintf("%s.%d", path, i - 1);
        cleanup_free char *to = xasprintf("%s.%d", path, i);
        (void)rename(from, to);
    }
}

static void fsync_parent(const char *path)
{
    cleanup_free char *dir = xstrdup(path);
    cleanup_close int dfd = -1;
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return;
    *slash = '\0';
    dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        fsync(dfd);
}

static int fail_step(const char *tmp, const char *step, const char **ret_step)
{
    int saved = errno;
    if (tmp != NULL)
        unlink(tmp);
    if (ret_step != NULL)
        *ret_step = step;
    errno = saved;
    return -1;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable, const char **ret_step)
{
    cleanup_free char *suffix = random_hex(8);
    /* A random suffix keeps concurrent writers of different files apart; writers of the same file are
     * serialised by their owners' locks. */
    cleanup_free char *tmp = xasprintf("%s.tmp-%s", path, suffix);
    cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return fail_step(NULL, "create", ret_step);
    if (fd_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0))
        return fail_step(tmp, "write", ret_step);
    if (rename(tmp, path) < 0)
        return fail_step(tmp, "rename", ret_step);
    if (durable)
        fsync_parent(path);
    return 0;
}
