/*
 * Daemon logging: levels of the guide (FATAL .. TRACE), sinks `stdout` (stderr really, unbuffered) and
 * `file` (with size rotation). Thread-safe. Messages are lower-case, user values in backticks, no secrets.
 */
#ifndef ISD_COMMON_LOG_H
#define ISD_COMMON_LOG_H

enum isd_log_level {
    LOG_LVL_FATAL,
    LOG_LVL_ALERT,
    LOG_LVL_CRIT,
    LOG_LVL_ERROR,
    LOG_LVL_WARN,
    LOG_LVL_NOTICE,
    LOG_LVL_INFO,
    LOG_LVL_DEBUG,
    LOG_LVL_TRACE,
};

/* Returns the level for a name such as "DEBUG" (case-insensitive), or -1. */
int isd_log_level_parse(const char *name);
/* Configures the sink. driver: "stdout" or "file"; path used for "file". Returns -1 on failure. */
int isd_log_init(const char *driver, const char *path, int level, unsigned int file_mode, long long max_size,
                 int max_files);
void isd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) isd_log(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) isd_log(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) isd_log(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) isd_log(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
