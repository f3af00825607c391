/*
 * The resource options added to create/run beyond create_body.c's (--cpus, --cpu-rt-period/--cpu-rt-runtime,
 * --blkio-weight-device, --device-read-iops/--device-write-iops) and the value parsers `isula update` shares
 * with them. Stateless.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/isula/create_opts.h"
#include "common/json.h"
#include "common/util.h"

int create_res_nano_cpus(const char *s, json_t *hc, struct isd_error **err)
{
    char *end = NULL;
    double v;
    if (s == NULL)
        return 0;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > 1e9)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid argument \"%s\" for \"--cpus\" flag", s);
    json_object_set_new(hc, "NanoCpus", json_integer((json_int_t)(v * 1e9 + 0.5)));
    return 0;
}

/* "<path>:<value>" lists (value with a size unit when sizes) as [{"Path", <key>}]. */
int create_res_device_list(char *const *v, const char *hc_key, const char *key, bool sizes, json_t *hc,
                           struct isd_error **err)
{
    json_t *a;
    if (v == NULL)
        return 0;
    a = json_array();
    json_object_set_new(hc, hc_key, a);
    for (; *v != NULL; v++) {
        const char *colon = strrchr(*v, ':');
        cleanup_free char *path = colon != NULL ? xstrndup(*v, (size_t)(colon - *v)) : NULL;
        long long n;
        if (colon == NULL || path[0] == '\0' || (sizes ? parse_size(colon + 1, &n) : parse_int64(colon + 1, &n)) < 0 ||
            n < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid value `%s` for %s: want <device-path>:<number>", *v,
                                 hc_key);
        json_array_append_new(a, json_pack("{s:s, s:I}", "Path", path, key, (json_int_t)n));
    }
    return 0;
}

int create_res_body(const struct create_opts *o, json_t *hc, struct isd_error **err)
{
    if (o->cpu_rt_period != LLONG_MIN)
        json_object_set_new(hc, "CpuRealtimePeriod", json_integer(o->cpu_rt_period));
    if (o->cpu_rt_runtime != LLONG_MIN)
        json_object_set_new(hc, "CpuRealtimeRuntime", json_integer(o->cpu_rt_runtime));
    if (create_res_nano_cpus(o->cpus, hc, err) < 0 ||
        create_res_device_list(o->weight_device, "BlkioWeightDevice", "Weight", false, hc, err) < 0 ||
        create_res_device_list(o->read_iops, "BlkioDeviceReadIOps", "Rate", false, hc, err) < 0 ||
        create_res_device_list(o->write_iops, "BlkioDeviceWriteIOps", "Rate", false, hc, err) < 0)
        return -1;
    return 0;
}
