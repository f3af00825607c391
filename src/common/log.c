#include "common/log.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/base/io.h"
#include "common/util.h"

static const char *const level_names[] = {"FATAL",  "ALERT", "CRIT",  "ERROR", "WARN",
                                          "NOTICE", "INFO",  "DEBUG", "TRACE"};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_level = LOG_LVL_ERROR;
static int log_fd = 2;
static char *log_path;
static unsigned int log_mode = 0600;
static long long log_max_size;
static int log_max_files = 1;
static long long log_written;

int isd_log_level_parse(const char *name)
{
    for (size_t i = 0; name != NULL && i < ARRAY_SIZE(level_names); i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return (int)i;
    return -1;
}

static int open_log_file(void)
{
    struct stat st;
    int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, log_mode);
    if (fd < 0)
        return -1;
    fchmod(fd, log_mode);
    log_written = fstat(fd, &st) == 0 ? st.st_size : 0;
    return fd;
}

int isd_log_init(const char *driver, const char *path, int level, unsigned int file_mode, long long max_size,
                 int max_files)
{
    log_level = level;
    if (driver == NULL || streq(driver, "stdout"))
        return 0;
    if (!streq(driver, "file") || path == NULL)
        return -1;
    log_path = xstrdup(path);
    log_mode = file_mode;
    log_max_size = max_size;
    log_max_files = max_files > 0 ? max_files : 1;
    log_fd = open_log_file();
    return log_fd < 0 ? -1 : 0;
}

/* Called with log_lock held: path.N-1 -> path.N ... path -> path.1, then reopen. */
static void rotate(void)
{
    file_rotate(log_path, log_max_files);
    if (log_max_files <= 1)
        if (ftruncate(log_fd, 0) < 0)
            return;
    close(log_fd);
    log_fd = open_log_file();
    if (log_fd < 0)
        log_fd = 2;
}

void isd_log(int level, const char *fmt, ...)
{
    va_list ap;
    char *msg, *ts, *line;
    if (level > log_level)
        return;
    va_start(ap, fmt);
    msg = xvasprintf(fmt, ap);
    va_end(ap);
    ts = time_rfc3339_nano(now_ns());
    line = xasprintf("%s %s isulad: %s\n", ts, level_names[level], msg);
    pthread_mutex_lock(&log_lock);
    if (write(log_fd, line, strlen(line)) > 0)
        log_written += (long long)strlen(line);
    if (log_path != NULL && log_max_size > 0 && log_written >= log_max_size)
        rotate();
    pthread_mutex_unlock(&log_lock);
    free(line);
    free(ts);
    free(msg);
}
