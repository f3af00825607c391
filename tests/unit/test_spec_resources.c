/* linux.resources from a HostConfig (spec_resources_build): the guide's defaults and ranges. */
#include "harness.h"

#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec.h"

static json_t *build(const char *hc_text, struct isd_error **err)
{
    json_error_t je;
    cleanup_json json_t *hc = json_loads(hc_text, 0, &je);
    return spec_resources_build(hc, err);
}

TEST(reservation_defaults_to_memory)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *r = build("{\"Memory\": 67108864}", &err);
    ASSERT_TRUE(r != NULL);
    ASSERT_INT_EQ(json_get_int(json_object_get(r, "memory"), "reservation", 0), 67108864);
    ASSERT_TRUE(json_object_get(r, "devices") == NULL);
    json_decref(r);
    r = build("{\"Memory\": 67108864, \"MemoryReservation\": 33554432}", &err);
    ASSERT_INT_EQ(json_get_int(json_object_get(r, "memory"), "reservation", 0), 33554432);
}

TEST(reservation_ranges)
{
    cleanup_error struct isd_error *err = NULL;
    ASSERT_TRUE(build("{\"MemoryReservation\": 1048576}", &err) == NULL);
    ASSERT_TRUE(err != NULL && strstr(err->msg, "Minimum memory reservation allowed is 4MB") != NULL);
    isd_error_free(err);
    err = NULL;
    ASSERT_TRUE(build("{\"Memory\": 67108864, \"MemoryReservation\": 134217728}", &err) == NULL);
    ASSERT_TRUE(err != NULL &&
                strstr(err->msg, "Minimum memory limit can not be less than memory reservation limit") != NULL);
}

TEST(realtime_cpu)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *r = build("{\"CpuRealtimePeriod\": 100000, \"CpuRealtimeRuntime\": 1000}", &err);
    ASSERT_TRUE(r != NULL);
    ASSERT_INT_EQ(json_get_int(json_object_get(r, "cpu"), "realtimePeriod", 0), 100000);
    ASSERT_INT_EQ(json_get_int(json_object_get(r, "cpu"), "realtimeRuntime", 0), 1000);
    ASSERT_TRUE(build("{\"CpuRealtimePeriod\": 1000, \"CpuRealtimeRuntime\": 2000}", &err) == NULL);
    ASSERT_TRUE(err != NULL && strstr(err->msg, "cpu-rt-runtime cannot be higher than cpu-rt-period") != NULL);
}

TEST(hugetlb_page_names)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *a = spec_hugetlb_page_name("2M"), *b = spec_hugetlb_page_name("1GB"),
                      *c = spec_hugetlb_page_name("64kb"), *d = spec_hugetlb_page_name("3000");
    cleanup_json json_t *r = build("{\"Hugetlbs\": [{\"PageSize\": \"2MB\", \"Limit\": 8388608}]}", &err);
    ASSERT_STR_EQ(a, "2MB");
    ASSERT_STR_EQ(b, "1GB");
    ASSERT_STR_EQ(c, "64KB");
    ASSERT_TRUE(d == NULL);
    ASSERT_TRUE(r != NULL);
    ASSERT_STR_EQ(json_get_str(json_array_get(json_object_get(r, "hugepageLimits"), 0), "pageSize"), "2MB");
}

TEST(blkio_throttle_needs_a_block_device)
{
    cleanup_error struct isd_error *err = NULL;
    ASSERT_TRUE(build("{\"BlkioDeviceReadBps\": [{\"Path\": \"/dev/null\", \"Rate\": 1}]}", &err) == NULL);
    ASSERT_TRUE(err != NULL && strstr(err->msg, "not a block device") != NULL);
}

RUN_TESTS()
