/*
 * Allocation and ownership, libc only (the shim links it too): allocators that abort on out-of-memory, so
 * callers have no OOM branches; cleanup attributes; TAKE_PTR/TAKE_FD hand-offs. Thread-safe.
 */
#ifndef ISD_COMMON_BASE_XALLOC_H
#define ISD_COMMON_BASE_XALLOC_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
/* NULL for NULL. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_fclose __attribute__((cleanup(cleanup_fclosep)))

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

#endif
