/* The shim's libc-only JSON reader (runtime.log lines). The shim is an executable: its source is included. */
#include "harness.h"

#include "cmd/isulad-shim/json_reader.c"

/* The string member key of text: its value, "(absent)", or "(invalid)". Static buffer. */
static const char *member(const char *text, const char *key)
{
    static char out[256];
    char *v = NULL;
    int rc = shim_json_object_string(text, strlen(text), key, &v);
    snprintf(out, sizeof(out), "%s", rc == 1 ? v : rc == 0 ? "(absent)" : "(invalid)");
    free(v);
    return out;
}

TEST(runtime_log_lines)
{
    const char *runc = "{\"level\":\"error\",\"msg\":\"runc create failed: unable to start container process: exec: "
                       "\\\"it-no-such\\\": executable file not found in $PATH\",\"time\":\"2024-01-01T00:00:00Z\"}\n";
    ASSERT_STR_EQ(member(runc, "level"), "error");
    ASSERT_STR_EQ(member(runc, "msg"), "runc create failed: unable to start container process: exec: \"it-no-such\": "
                                       "executable file not found in $PATH");
    ASSERT_STR_EQ(member("{\"msg\": \"a\\nb\", \"level\": \"fatal\"}", "msg"), "a\nb");
    ASSERT_STR_EQ(member("{\"level\":\"error\"}", "msg"), "(absent)");
    ASSERT_STR_EQ(member("{\"msg\":5}", "msg"), "(absent)");
    ASSERT_STR_EQ(member("{}", "msg"), "(absent)");
}

TEST(keys_only_at_the_top_level)
{
    /* what strstr matched before: a key inside a string or a nested object is not a member */
    ASSERT_STR_EQ(member("{\"text\":\"\\\"msg\\\":\\\"fake\\\"\",\"x\":1}", "msg"), "(absent)");
    ASSERT_STR_EQ(member("{\"inner\":{\"msg\":\"nested\"},\"list\":[{\"msg\":\"x\"}]}", "msg"), "(absent)");
    ASSERT_STR_EQ(member("{\"inner\":{\"msg\":\"nested\"},\"msg\":\"top\"}", "msg"), "top");
    /* the last duplicate wins, as in Go */
    ASSERT_STR_EQ(member("{\"msg\":\"one\",\"msg\":\"two\"}", "msg"), "two");
    /* an escaped key is compared decoded */
    ASSERT_STR_EQ(member("{\"m\\u0073g\":\"esc\"}", "msg"), "esc");
}

TEST(escapes_decode_to_utf8)
{
    ASSERT_STR_EQ(member("{\"m\":\"\\u00e9\\u4e2d\\ud83d\\ude00\\/\\t\"}", "m"),
                  "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80/\t");
    ASSERT_STR_EQ(member("{\"m\":\"\\ud800x\"}", "m"), "\xef\xbf\xbdx"); /* lone surrogate: U+FFFD */
}

TEST(malformed_documents_are_refused)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{\"msg\":\"unterminated}",
        "{\"msg\":\"x\",}",
        "{\"msg\" \"x\"}",
        "{\"msg\":\"bad \\q escape\"}",
        "{\"msg\":\"raw\ncontrol\"}",
        "{\"n\":01}",
        "{\"n\":1.}",
        "{\"n\":tru}",
        "{\"msg\":\"x\"} trailing",
        "{\"u\":\"\\u12\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (strcmp(member(bad[i], "msg"), "(invalid)") != 0)
            FAIL_AT("accepted `%s`", bad[i]);
    }
    ASSERT_STR_EQ(member("{\"a\":[1,-2.5e3,true,false,null,{}],\"msg\":\"ok\"} \n", "msg"), "ok");
}

TEST(nesting_is_bounded)
{
    char deep[400];
    size_t n = 0;
    n += (size_t)snprintf(deep, sizeof(deep), "{\"a\":");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = '\0';
    ASSERT_STR_EQ(member(deep, "msg"), "(invalid)");
}

TEST(logrus_text_quoted_message)
{
    char *text = NULL;
    size_t used = 0;
    const char *line = "level=error msg=\"container_linux.go:380: \\\"x\\\" failed\" extra";
    const char *q = strstr(line, "msg=\"") + 4;
    ASSERT_INT_EQ(shim_json_string_decode(q, strlen(q), &text, &used), 0);
    ASSERT_STR_EQ(text, "container_linux.go:380: \"x\" failed");
    ASSERT_INT_EQ(used, strlen("\"container_linux.go:380: \\\"x\\\" failed\""));
    free(text);
}

RUN_TESTS()
