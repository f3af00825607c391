/* isula logs: GET /containers/{id}/logs streamed to stdout/stderr (stdcopy framed unless tty): the container's
 * output lines as they were written (guide L3382-3388); -t puts docker's fixed RFC 3339 time before each
 * ("2019-08-28T08:23:09.338838795Z hello", nine digits, UTC), --since/--until bound it, --tail N the last N lines. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "client/stream.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

static char *logs_path(const char *id, bool follow, const char *tail, const char *since, const char *until,
                       bool timestamps)
{
    cleanup_free char *base = cmd_path("containers", id, "logs");
    cleanup_free char *etail = client_query_escape(tail != NULL ? tail : "all");
    cleanup_free char *esince = since != NULL ? client_query_escape(since) : NULL;
    cleanup_free char *euntil = until != NULL ? client_query_escape(until) : NULL;
    return xasprintf("%s?stdout=1&stderr=1&follow=%d&tail=%s&timestamps=%d%s%s%s%s", base, follow ? 1 : 0, etail,
                     timestamps ? 1 : 0, esince != NULL ? "&since=" : "", esince != NULL ? esince : "",
                     euntil != NULL ? "&until=" : "", euntil != NULL ? euntil : "");
}

/* --tail: "all" or a count (a negative one means all, as docker's). */
static bool tail_valid(const char *tail)
{
    long long n;
    return tail == NULL || streq(tail, "all") || parse_int64(tail, &n) == 0;
}

int cmd_logs(int argc, char **argv)
{
    bool follow = false, timestamps = false;
    char *tail = NULL, *since = NULL, *until = NULL;
    const struct cli_option o[] = {
        {"follow", 'f', CLI_OPT_BOOL, &follow, "Follow log output"},
        {"tail", 0, CLI_OPT_STRING, &tail, "Number of lines to show from the end of the logs (default all)"},
        {"since", 0, CLI_OPT_STRING, &since, "Show logs since timestamp or relative time (e.g. 42m)"},
        {"until", 0, CLI_OPT_STRING, &until, "Show logs before a timestamp or relative time (e.g. 42m)"},
        {"timestamps", 't', CLI_OPT_BOOL, &timestamps, "Show timestamps"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *info = NULL;
    cleanup_free char *path = NULL, *sv = NULL, *uv = NULL;
    struct http_request req = {.method = "GET", .body_fd = -1};
    struct http_conn c;
    struct http_response resp;
    int rc = 0;
    if (cmd_parse("logs", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (!tail_valid(tail)) {
        fprintf(stderr, "invalid value for --tail: `%s` (a number of lines or all)\n", tail);
        free(tail), free(since), free(until);
        return 1;
    }
    if ((info = cmd_inspect_container(pos[0], &err)) == NULL) {
        cmd_print_error(err);
        return 1;
    }
    sv = cmd_time_value(since);
    uv = cmd_time_value(until);
    path = logs_path(pos[0], follow, tail, sv, uv, timestamps);
    req.path = path;
    if (client_request(cmd_host(), &req, &c, &resp, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    rc = stream_copy_body(&c, &resp, json_get_bool(json_object_get(info, "Config"), "Tty", false), STDOUT_FILENO,
                          STDERR_FILENO, &err);
    http_conn_close(&c);
    http_response_free(&resp);
    if (rc < 0)
        cmd_print_error(err);
    free(tail);
    free(since);
    free(until);
    return rc < 0 ? 1 : 0;
}
