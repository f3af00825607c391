/* Small string helpers, libc only (the shim links them too). Thread-safe. */
#ifndef ISD_COMMON_BASE_STR_H
#define ISD_COMMON_BASE_STR_H

#include <stddef.h>

/* Random lowercase hex string of n characters (n even), from getrandom(). */
char *random_hex(size_t n);
/* Parses a decimal integer strictly (whole string, no overflow); -1 when malformed. */
int parse_int64(const char *s, long long *ret);

#endif
