#include "common/base/timestamp.h"

#include <stdio.h>
#include <time.h>

#include "common/base/xalloc.h"

long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void time_format_rfc3339_nano(long long ns, char *out, size_t size)
{
    struct tm tm;
    time_t secs = (time_t)(ns / 1000000000LL);
    long frac = (long)(ns % 1000000000LL);
    char date[64];
    gmtime_r(&secs, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, size, "%s.%09ldZ", date, frac);
}

char *time_rfc3339_nano(long long ns)
{
    char out[96];
    time_format_rfc3339_nano(ns, out, sizeof(out));
    return xstrdup(out);
}
