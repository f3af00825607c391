/*
 * The json-file log that isulad-shim writes for a container (docker's format: one JSON object a line with
 * "log", "stream" and "time"; rotated to <path>.1 .. <path>.9, the highest the oldest), read back: filtered by
 * stream and time, the last `tail` entries, framed as docker's stdcopy (8-byte header: stream, 0, 0, 0, length)
 * unless the container has a tty, optionally followed across rotations. Stateless; blocks while following.
 */
#ifndef ISD_DAEMON_RUNTIME_JSON_LOG_H
#define ISD_DAEMON_RUNTIME_JSON_LOG_H

#include <stdbool.h>

struct json_log_opts {
    bool out, err, timestamps, follow;
    bool tty; /* raw output, no stdcopy frames */
    long long since_ns, until_ns;
    long long tail; /* -1 = all */
};

/* Writes the entries of the log at path to out_fd. With follow, keeps reading new lines while writing(ctx)
 * says the shim still writes, and until out_fd fails. */
void json_log_copy(const char *path, const struct json_log_opts *o, int out_fd, bool (*writing)(void *ctx), void *ctx);

#endif
