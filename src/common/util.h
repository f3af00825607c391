/*
 * Base helpers: aborting allocators, cleanup attributes, ownership hand-off and small string helpers.
 * Everything here is thread-safe; allocators abort on out-of-memory so callers have no OOM branches.
 */
#ifndef ISD_COMMON_UTIL_H
#define ISD_COMMON_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);
void cleanup_strvp(char ***v);

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

static inline void *take_ptr_(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}
#define TAKE_PTR(p) ((__typeof__(p))take_ptr_(&(p)))

static inline int take_fd_(int *fd)
{
    int v = *fd;
    *fd = -1;
    return v;
}
#define TAKE_FD(fd) take_fd_(&(fd))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

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

/* Growable byte buffer. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};
void buf_append(struct buf *b, const void *data, size_t len);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct buf *b);
/* Returns the NUL-terminated contents and resets the buffer. */
char *buf_steal(struct buf *b);

/* Starts fn(arg) in a detached thread; -1 (arg untouched) when it cannot. */
int thread_start_detached(void *(*fn)(void *), void *arg);
/* Lowers the calling thread to nice 19 (on Linux nice is per thread, and processes it spawns inherit it):
 * for cleanup work nobody waits on, so it takes CPU only when user-facing work leaves some. */
void thread_lower_priority(void);

/* Random lowercase hex string of n characters (n even), from getrandom(). */
char *random_hex(size_t n);
/* Nanoseconds since the epoch. */
long long now_ns(void);
/* RFC 3339 with nanoseconds in UTC ("2006-01-02T15:04:05.999999999Z"), as Docker prints times. */
char *time_rfc3339_nano(long long ns);
/* Parses an RFC 3339 time (fraction and offset optional); returns -1 when malformed. */
int time_parse_rfc3339(const char *s, long long *ret_ns);
/* Docker's human duration: "Less than a second", "5 minutes", "About an hour", "3 days"... */
char *human_duration(long long seconds);
/* Parses sizes like "10", "30KB", "1.5m", "2g" into bytes; -1 when malformed. */
int parse_size(const char *s, long long *ret);
/* Parses durations like "2m", "30s", "1h30m", "500ms"; -1 when malformed. */
int parse_duration_ns(const char *s, long long *ret);
/* Parses a decimal integer strictly (whole string, no overflow). */
int parse_int64(const char *s, long long *ret);

#endif
