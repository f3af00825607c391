/* The error table, the errno mapping, the bounded parser and strict decoding of API bodies. */
#include "harness.h"

#include <errno.h>

#include "client/client.h"
#include "common/error.h"
#include "common/json.h"
#include "common/json_check.h"
#include "common/util.h"
#include "daemon/api/rest/body_types.h"

TEST(error_table_maps_each_code_once)
{
    static const struct {
        enum isd_error_code code;
        int http, exit_code;
        const char *name;
    } want[] = {
        {ISD_ERR_INTERNAL, 500, 125, "internal"},
        {ISD_ERR_INVALID, 400, 125, "invalid"},
        {ISD_ERR_NOT_FOUND, 404, 125, "not_found"},
        {ISD_ERR_CONFLICT, 409, 125, "conflict"},
        {ISD_ERR_NOT_MODIFIED, 304, 125, "not_modified"},
        {ISD_ERR_UNAUTHORIZED, 401, 125, "unauthorized"},
        {ISD_ERR_PERMISSION, 403, 125, "permission"},
        {ISD_ERR_NOT_EXECUTABLE, 400, 126, "not_executable"},
        {ISD_ERR_COMMAND_NOT_FOUND, 400, 127, "command_not_found"},
        {ISD_ERR_NOT_IMPLEMENTED, 501, 125, "not_implemented"},
        {ISD_ERR_NO_SPACE, 507, 125, "no_space"},
        {ISD_ERR_UNREACHABLE, 502, 125, "unreachable"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        ASSERT_INT_EQ(isd_error_code_http_status(want[i].code), want[i].http);
        ASSERT_INT_EQ(isd_error_code_exit_code(want[i].code), want[i].exit_code);
        ASSERT_STR_EQ(isd_error_code_name(want[i].code), want[i].name);
        ASSERT_INT_EQ(isd_error_code_from_name(want[i].name), want[i].code);
    }
    ASSERT_INT_EQ(isd_error_code_grpc_status(ISD_ERR_NOT_FOUND), 5);
    ASSERT_INT_EQ(isd_error_code_grpc_status(ISD_ERR_UNAUTHORIZED), 16);
    ASSERT_INT_EQ(isd_error_code_from_name("nonsense"), 0);
    ASSERT_INT_EQ(isd_error_code_from_name(NULL), 0);
    ASSERT_INT_EQ(isd_error_http_status(NULL), 500);
    /* a bare status (a server that sends no code) maps back to the first code of that status */
    ASSERT_INT_EQ(isd_error_from_http_status(400), ISD_ERR_INVALID);
    ASSERT_INT_EQ(isd_error_from_http_status(401), ISD_ERR_UNAUTHORIZED);
    ASSERT_INT_EQ(isd_error_from_http_status(418), ISD_ERR_INTERNAL);
}

TEST(errno_maps_to_the_code_of_its_cause)
{
    ASSERT_INT_EQ(isd_error_code_of_errno(ENOENT), ISD_ERR_NOT_FOUND);
    ASSERT_INT_EQ(isd_error_code_of_errno(EACCES), ISD_ERR_PERMISSION);
    ASSERT_INT_EQ(isd_error_code_of_errno(EPERM), ISD_ERR_PERMISSION);
    ASSERT_INT_EQ(isd_error_code_of_errno(EEXIST), ISD_ERR_CONFLICT);
    ASSERT_INT_EQ(isd_error_code_of_errno(EINVAL), ISD_ERR_INVALID);
    ASSERT_INT_EQ(isd_error_code_of_errno(ENOSPC), ISD_ERR_NO_SPACE);
    ASSERT_INT_EQ(isd_error_code_of_errno(EDQUOT), ISD_ERR_NO_SPACE);
    ASSERT_INT_EQ(isd_error_code_of_errno(ENOSYS), ISD_ERR_NOT_IMPLEMENTED);
    ASSERT_INT_EQ(isd_error_code_of_errno(EIO), ISD_ERR_INTERNAL);
    ASSERT_INT_EQ(isd_error_code_of_errno(0), ISD_ERR_INTERNAL);
}

TEST(isd_error_errno_keeps_errno_and_code)
{
    struct isd_error *err = NULL;
    errno = ENOENT;
    ASSERT_INT_EQ(isd_error_errno(&err, "open `%s`", "/x"), -1);
    ASSERT_TRUE(err != NULL);
    ASSERT_INT_EQ(err->code, ISD_ERR_NOT_FOUND);
    ASSERT_INT_EQ(err->errnum, ENOENT);
    ASSERT_STR_EQ(err->msg, "open `/x`: No such file or directory");
    ASSERT_INT_EQ(isd_error_http_status(err), 404);
    isd_error_free(err);
    err = NULL;
    errno = EACCES;
    isd_error_errno(&err, "mkdir");
    ASSERT_INT_EQ(isd_error_http_status(err), 403);
    isd_error_free(err);
}

TEST(json_parse_bounds_and_prefix)
{
    struct isd_error *err = NULL;
    size_t used = 0;
    json_t *j = json_parse("{\"a\": 1, \"a\": 2}", 16, &err);
    ASSERT_TRUE(j == NULL && err != NULL && err->code == ISD_ERR_INVALID);
    isd_error_free(err);
    err = NULL;
    j = json_parse("{}", (size_t)JSON_PARSE_MAX + 1, &err);
    ASSERT_TRUE(j == NULL && err != NULL && err->code == ISD_ERR_TOO_LARGE);
    isd_error_free(err);
    err = NULL;
    j = json_parse_prefix("{\"a\":1}{\"b\":2}", 14, &used, &err);
    ASSERT_TRUE(j != NULL);
    ASSERT_INT_EQ(used, 7);
    ASSERT_INT_EQ(json_get_int(j, "a", 0), 1);
    json_decref(j);
}

/* Checks text against t: "" when it passes, else the error message (static buffer). */
static const char *check_text(const char *text, const struct json_type *t)
{
    static char msg[512];
    struct isd_error *err = NULL;
    json_t *j = json_parse(text, strlen(text), &err);
    msg[0] = '\0';
    if (j != NULL)
        json_check(j, t, NULL, &err);
    if (err != NULL) {
        snprintf(msg, sizeof(msg), "%s%s", err->code == ISD_ERR_INVALID ? "" : "(not INVALID) ", err->msg);
        isd_error_free(err);
    }
    json_decref(j);
    return msg;
}

TEST(create_body_wrong_types_name_the_field)
{
    const struct json_type *t = &rest_create_body;
    ASSERT_STR_EQ(check_text("{\"Image\": \"busybox\", \"HostConfig\": {\"Memory\": \"x\"}}", t),
                  "json: cannot unmarshal string into field HostConfig.Memory of type int64");
    ASSERT_STR_EQ(check_text("{\"Image\": \"busybox\", \"Env\": \"A=B\"}", t),
                  "json: cannot unmarshal string into field Env of type []string");
    ASSERT_STR_EQ(check_text("{\"Image\": \"busybox\", \"Env\": [\"A=B\", 1]}", t),
                  "json: cannot unmarshal number into field Env[1] of type string");
    ASSERT_STR_EQ(check_text("{\"Image\": 5}", t), "json: cannot unmarshal number into field Image of type string");
    ASSERT_STR_EQ(check_text("{\"Tty\": \"yes\"}", t), "json: cannot unmarshal string into field Tty of type bool");
    ASSERT_STR_EQ(check_text("{\"Labels\": {\"a\": 1}}", t),
                  "json: cannot unmarshal number into field Labels.a of type string");
    ASSERT_STR_EQ(check_text("{\"HostConfig\": {\"Memory\": 1.5}}", t),
                  "json: cannot unmarshal number into field HostConfig.Memory of type int64");
    ASSERT_STR_EQ(check_text("{\"HostConfig\": {\"BlkioWeight\": -1}}", t),
                  "json: cannot unmarshal number into field HostConfig.BlkioWeight of type uint64");
    ASSERT_STR_EQ(check_text("{\"HostConfig\": {\"Mounts\": [{\"Target\": \"/x\", \"ReadOnly\": \"no\"}]}}", t),
                  "json: cannot unmarshal string into field HostConfig.Mounts[0].ReadOnly of type bool");
    ASSERT_STR_EQ(check_text("{\"HostConfig\": {\"PortBindings\": {\"80/tcp\": [{\"HostPort\": 8080}]}}}", t),
                  "json: cannot unmarshal number into field HostConfig.PortBindings.80/tcp[0].HostPort of type string");
    ASSERT_STR_EQ(check_text("{\"HostConfig\": {\"RestartPolicy\": \"always\"}}", t),
                  "json: cannot unmarshal string into field HostConfig.RestartPolicy of type container.RestartPolicy");
    ASSERT_STR_EQ(check_text("{\"HostConfig\": []}", t),
                  "json: cannot unmarshal array into field HostConfig of type container.HostConfig");
    ASSERT_STR_EQ(
        check_text("{\"NetworkingConfig\": {\"EndpointsConfig\": {\"n\": {\"Aliases\": \"a\"}}}}", t),
        "json: cannot unmarshal string into field NetworkingConfig.EndpointsConfig.n.Aliases of type []string");
    ASSERT_STR_EQ(check_text("[]", t), "json: cannot unmarshal array into a value of type container.Config");
}

TEST(create_body_accepts_what_docker_accepts)
{
    const struct json_type *t = &rest_create_body;
    /* strslice Cmd/Entrypoint, nulls, unknown fields, negative int64 (MemorySwap -1) */
    ASSERT_STR_EQ(check_text("{\"Image\": \"busybox\", \"Cmd\": \"echo hi\", \"Entrypoint\": [\"sh\"], "
                             "\"Env\": null, \"Unknown\": {\"x\": 1}, \"HostConfig\": {\"MemorySwap\": -1, "
                             "\"Mounts\": null, \"ConsoleSize\": [0, 0], \"OomKillDisable\": false}}",
                             t),
                  "");
    ASSERT_STR_EQ(check_text("{\"ExposedPorts\": {\"80/tcp\": {}}, \"Healthcheck\": {\"Test\": [\"NONE\"]}}", t), "");
    ASSERT_STR_EQ(check_text("{}", t), "");
}

TEST(exec_and_auth_bodies)
{
    ASSERT_STR_EQ(check_text("{\"Cmd\": \"ls\"}", &rest_exec_create_body),
                  "json: cannot unmarshal string into field Cmd of type []string");
    ASSERT_STR_EQ(check_text("{\"Cmd\": [\"ls\"], \"Tty\": true, \"Env\": [\"A=1\"]}", &rest_exec_create_body), "");
    ASSERT_STR_EQ(check_text("{\"Detach\": 1}", &rest_exec_start_body),
                  "json: cannot unmarshal number into field Detach of type bool");
    ASSERT_STR_EQ(check_text("{\"username\": [\"me\"]}", &rest_auth_body),
                  "json: cannot unmarshal array into field username of type string");
    ASSERT_STR_EQ(check_text("{\"Path\": {}}", &rest_load_embedded_body),
                  "json: cannot unmarshal object into field Path of type string");
}

/* The client reads the code back from the body; without one (another server) it follows the status. */
TEST(client_reads_the_code_of_an_error_body)
{
    static const struct {
        int status;
        const char *body;
        enum isd_error_code code;
        const char *msg;
    } cases[] = {
        {400, "{\"message\":\"exec: \\\"x\\\": executable file not found\",\"code\":\"command_not_found\"}",
         ISD_ERR_COMMAND_NOT_FOUND, "exec: \"x\": executable file not found"},
        {400, "{\"message\":\"permission denied\",\"code\":\"not_executable\"}", ISD_ERR_NOT_EXECUTABLE,
         "permission denied"},
        {400, "{\"message\":\"bad\"}", ISD_ERR_INVALID, "bad"},
        {401, "{\"message\":\"who\",\"code\":\"no-such-code\"}", ISD_ERR_UNAUTHORIZED, "who"},
        {500, "plain text\n", ISD_ERR_INTERNAL, "plain text"},
        {502, "", ISD_ERR_UNREACHABLE, "HTTP status 502"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct isd_error *err = NULL;
        client_error_from_body(cases[i].status, cases[i].body, &err);
        ASSERT_TRUE(err != NULL && err->remote && client_error_is_daemon(err) && !client_error_is_connect(err));
        ASSERT_INT_EQ(err->code, cases[i].code);
        ASSERT_STR_EQ(err->msg, cases[i].msg);
        isd_error_free(err);
    }
}

RUN_TESTS()
