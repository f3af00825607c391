/*
 * One line of a json-file log read without a JSON parser: the shim writes (as Docker's json-file driver does)
 * exactly {"log":"<text>","stream":"stdout|stderr","time":"<RFC 3339>"}, and reading a million of those
 * through jansson costs seconds. A line of any other shape is refused here and goes to the parser. Internal
 * to the runtime module; stateless, thread-safe.
 */
#ifndef ISD_DAEMON_RUNTIME_JSON_LOG_LINE_H
#define ISD_DAEMON_RUNTIME_JSON_LOG_LINE_H

#include <stdbool.h>
#include <stddef.h>

struct json_log_line {
    int stream;      /* 1 stdout, 2 stderr */
    const char *log; /* the text as escaped in the line, without its quotes */
    size_t log_len;
    const char *time; /* the time string, without its quotes */
    size_t time_len;
};

/* Splits line[0, n) (no newline) when it has exactly that shape: members in that order, no white space, a
 * text that is a valid JSON string (escapes, surrogate pairs, UTF-8, no raw control character). Points into
 * line; false for anything else. */
bool json_log_line_split(const char *line, size_t n, struct json_log_line *ret);
/* Decodes the text of a split line into dst (room for l->log_len bytes: decoding never lengthens it);
 * returns the decoded length. */
size_t json_log_line_text(const struct json_log_line *l, char *dst);

#endif
