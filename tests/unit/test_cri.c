/* Unit tests of the CRI adapter's dispatch: gRPC paths to methods (runtime.v1 and runtime.v1alpha2 alike),
 * the generic unpack → handler → pack step on a request that does not decode, and the code-to-gRPC row of
 * the timeout; the generic message-to-JSON writer of the verbose info. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "daemon/api/cri/cri_internal.h"
#include "harness.h"

static const struct cri_method *lookup(const char *path)
{
    return cri_method_lookup(path, strlen(path));
}

TEST(paths_of_both_packages_reach_one_handler)
{
    const struct cri_method *v1 = lookup("/runtime.v1.RuntimeService/Version");
    ASSERT_TRUE(v1 != NULL);
    ASSERT_STR_EQ(v1->name, "Version");
    ASSERT_TRUE(lookup("/runtime.v1alpha2.RuntimeService/Version") == v1);
    const struct cri_method *pull = lookup("/runtime.v1alpha2.ImageService/PullImage");
    ASSERT_TRUE(pull != NULL && pull->fn == cri_pull_image);
    ASSERT_TRUE(lookup("/runtime.v1.RuntimeService/RunPodSandbox")->fn == cri_run_pod_sandbox);
}

TEST(unknown_paths_are_not_served)
{
    ASSERT_TRUE(lookup("/runtime.v1.ImageService/Version") == NULL); /* right name, wrong service */
    ASSERT_TRUE(lookup("/runtime.v2.RuntimeService/Version") == NULL);
    ASSERT_TRUE(lookup("/runtime.v1.RuntimeService/") == NULL);
    ASSERT_TRUE(lookup("/runtime.v1.RuntimeService") == NULL);
    ASSERT_TRUE(lookup("/runtime.v1.RuntimeService/VersionX") == NULL);
    ASSERT_TRUE(lookup("") == NULL);
    /* the length bounds the path: a longer buffer does not make a prefix match */
    ASSERT_TRUE(cri_method_lookup("/runtime.v1.RuntimeService/Versionzzz", 35) == NULL);
    ASSERT_TRUE(cri_method_lookup("/runtime.v1.RuntimeService/Versionzzz", 34) != NULL);
}

TEST(a_request_that_does_not_decode_is_invalid)
{
    struct isd_error *err = NULL;
    size_t len = 0;
    const unsigned char junk[] = {0xff, 0xff, 0xff};
    void *out = cri_method_run(NULL, lookup("/runtime.v1.RuntimeService/Version"), junk, sizeof(junk), &len, &err);
    ASSERT_TRUE(out == NULL && err != NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_INVALID);
    ASSERT_TRUE(strstr(err->msg, "VersionRequest") != NULL);
    isd_error_free(err);
}

TEST(timeout_is_deadline_exceeded)
{
    ASSERT_INT_EQ(isd_error_code_grpc_status(ISD_ERR_TIMEOUT), 4);
    ASSERT_INT_EQ(isd_error_code_http_status(ISD_ERR_TIMEOUT), 504);
}

/* The JSON of a request decoded from wire bytes written by hand. */
static char *json_of(const char *path, const unsigned char *wire, size_t len)
{
    ProtobufCMessage *m = protobuf_c_message_unpack(lookup(path)->request, NULL, len, wire);
    if (m == NULL)
        return NULL;
    json_t *j = cri_message_json(m);
    char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(j);
    protobuf_c_message_free_unpacked(m, NULL);
    return text;
}

TEST(messages_as_json_leave_defaults_out)
{
    /* ExecSyncRequest{container_id: "c", cmd: ["sh", "-c"], timeout: 5} */
    const unsigned char exec[] = {0x0a, 0x01, 'c', 0x12, 0x02, 's', 'h', 0x12, 0x02, '-', 'c', 0x18, 0x05};
    char *text = json_of("/runtime.v1.RuntimeService/ExecSync", exec, sizeof(exec));
    ASSERT_STR_EQ(text, "{\"cmd\":[\"sh\",\"-c\"],\"container_id\":\"c\",\"timeout\":5}");
    free(text);
    /* ListPodSandboxRequest{filter: {state: {state: SANDBOX_NOTREADY}, label_selector: {"a": "b"}}}: nested
     * messages, an enum as its number, a map as an object, the empty id left out */
    const unsigned char list[] = {0x0a, 0x0c, 0x12, 0x02, 0x08, 0x01, 0x1a, 0x06, 0x0a, 0x01, 'a', 0x12, 0x01, 'b'};
    text = json_of("/runtime.v1.RuntimeService/ListPodSandbox", list, sizeof(list));
    ASSERT_STR_EQ(text, "{\"filter\":{\"label_selector\":{\"a\":\"b\"},\"state\":{\"state\":1}}}");
    free(text);
    text = json_of("/runtime.v1.RuntimeService/ListPodSandbox", list, 0);
    ASSERT_STR_EQ(text, "{}");
    free(text);
}

TEST(the_pod_stats_methods_are_served)
{
    ASSERT_TRUE(lookup("/runtime.v1.RuntimeService/PodSandboxStats")->fn == cri_pod_sandbox_stats);
    ASSERT_TRUE(lookup("/runtime.v1alpha2.RuntimeService/ListPodSandboxStats")->fn == cri_list_pod_sandbox_stats);
}

RUN_TESTS()
