/*
 * Helpers of the daemon and the client: string vectors, size/duration parsing, threads. It includes the
 * libc-only base the shim shares (common/base/: aborting allocators, cleanup attributes, ownership hand-off,
 * the byte buffer, random ids, time stamps). Everything here is thread-safe.
 */
#ifndef ISD_COMMON_UTIL_H
#define ISD_COMMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/base/buf.h"
#include "common/base/str.h"
#include "common/base/timestamp.h"
#include "common/base/xalloc.h"

void cleanup_strvp(char ***v);
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

static inline bool streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static inline bool str_has_prefix(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix);

/* NULL-terminated string vectors. */
size_t strv_len(char *const *v);
void strv_free(char **v);
char **strv_dup(char *const *v);
/* Appends a copy of s; *v may be NULL. */
void strv_append(char ***v, const char *s);
bool strv_contains(char *const *v, const char *s);
char *strv_join(char *const *v, const char *sep);

/* Starts fn(arg) in a detached thread; -1 (arg untouched) when it cannot. */
int thread_start_detached(void *(*fn)(void *), void *arg);
/* Lowers the calling thread to nice 19 (on Linux nice is per thread, and processes it spawns inherit it):
 * for cleanup work nobody waits on, so it takes CPU only when user-facing work leaves some. */
void thread_lower_priority(void);

/* Parses an RFC 3339 time (fraction and offset optional); returns -1 when malformed. */
int time_parse_rfc3339(const char *s, long long *ret_ns);
/* Docker's human duration: "Less than a second", "5 minutes", "About an hour", "3 days"... */
char *human_duration(long long seconds);
/* Parses sizes like "10", "30KB", "1.5m", "2g" into bytes; -1 when malformed. */
int parse_size(const char *s, long long *ret);
/* Parses durations like "2m", "30s", "1h30m", "500ms"; -1 when malformed. */
int parse_duration_ns(const char *s, long long *ret);

#endif
