/*
 * Pidfile lock, see pidfile.h. flock() rather than fcntl() locks: fcntl locks belong to the process and
 * are dropped when any fd of the file is closed, flock locks belong to the open file description.
 */
#include "daemon/config/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"

static int holder_pid(int fd)
{
    char text[32] = {0};
    long long pid = 0;
    ssize_t n = pread(fd, text, sizeof(text) - 1, 0);
    if (n <= 0)
        return 0;
    text[strcspn(text, "\n")] = '\0';
    return parse_int64(text, &pid) == 0 && pid > 0 && pid < 1LL << 30 ? (int)pid : 0;
}

static int write_pid(int fd, const char *path, struct isd_error **err)
{
    char text[32];
    int len = snprintf(text, sizeof(text), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)len, 0) != len)
        return isd_error_errno(err, "write pidfile `%s`", path);
    return 0;
}

int pidfile_acquire(const char *path, int *ret_fd, struct isd_error **err)
{
    cleanup_free char *dir_copy = xstrdup(path);
    cleanup_close int fd = -1;
    if (path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "pidfile `%s` must be an absolute path", path);
    if (mkdir_p(dirname(dir_copy), 0755, err) < 0)
        return isd_error_wrap(err, "pidfile `%s`", path);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return isd_error_errno(err, "open pidfile `%s`", path);
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int pid;
        if (errno != EWOULDBLOCK)
            return isd_error_errno(err, "lock pidfile `%s`", path);
        pid = holder_pid(fd);
        if (pid > 0)
            return isd_error_set(err, ISD_ERR_CONFLICT, 0, "another isulad (pid %d) is running with pidfile %s", pid,
                                 path);
        return isd_error_set(err, ISD_ERR_CONFLICT, 0, "another isulad is running with pidfile %s", path);
    }
    if (write_pid(fd, path, err) < 0)
        return -1;
    *ret_fd = TAKE_FD(fd);
    return 0;
}

void pidfile_release(const char *path, int fd)
{
    if (fd < 0)
        return;
    unlink(path);
    close(fd);
}
