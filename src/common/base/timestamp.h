/* Clock and Docker's time stamps, libc only (the shim links them too). Thread-safe. */
#ifndef ISD_COMMON_BASE_TIMESTAMP_H
#define ISD_COMMON_BASE_TIMESTAMP_H

#include <stddef.h>

/* Nanoseconds since the epoch (CLOCK_REALTIME). */
long long now_ns(void);
/* RFC 3339 with nanoseconds in UTC ("2006-01-02T15:04:05.999999999Z"), as Docker prints times: into out
 * (size >= 40 holds every year up to 9999), or allocated. */
void time_format_rfc3339_nano(long long ns, char *out, size_t size);
char *time_rfc3339_nano(long long ns);

#endif
