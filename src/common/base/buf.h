/*
 * A growable byte buffer, libc only (the shim links it too). The contents are data[off, len), always
 * followed by a NUL, so buf_head is a string when the contents hold none. buf_consume drops bytes from the
 * front (an output queue); the space is reused as the buffer grows. Until something is consumed, off is 0
 * and data, len are the contents. A zeroed struct is an empty buffer; one owner, not thread-safe.
 */
#ifndef ISD_COMMON_BASE_BUF_H
#define ISD_COMMON_BASE_BUF_H

#include <stddef.h>

struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t off;
};

void buf_append(struct buf *b, const void *data, size_t len);
void buf_appends(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Room for up to n bytes at the end, written in place (a decoder's output): returns where they go; then
 * buf_append_done(b, k) adds the k (<= n) bytes written there. */
char *buf_append_space(struct buf *b, size_t n);
void buf_append_done(struct buf *b, size_t k);
/* Bytes held, and where they start. */
size_t buf_size(const struct buf *b);
const char *buf_head(const struct buf *b);
/* Drops n (<= buf_size) bytes from the front. */
void buf_consume(struct buf *b, size_t n);
void buf_free(struct buf *b);
/* Returns the NUL-terminated contents (never NULL) and resets the buffer. */
char *buf_steal(struct buf *b);

#endif
