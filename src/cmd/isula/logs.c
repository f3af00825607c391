/* isula logs: GET /containers/{id}/logs streamed to stdout/stderr (stdcopy framed unless tty). */
#include <stdlib.h>
#include <unistd.h>

#include "client/stream.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

static char *logs_path(const char *id, bool follow, const char *tail, const char *since, bool timestamps)
{
    cleanup_free char *base = cmd_path("containers", id, "logs");
    cleanup_free char *etail = client_query_escape(tail != NULL ? tail : "all");
    cleanup_free char *esince = since != NULL ? client_query_escape(since) : NULL;
    return xasprintf("%s?stdout=1&stderr=1&follow=%d&tail=%s&timestamps=%d%s%s", base, follow ? 1 : 0, etail,
                     timestamps ? 1 : 0, esince != NULL ? "&since=" : "", esince != NULL ? esince : "");
}

int cmd_logs(int argc, char **argv)
{
    bool follow = false, timestamps = false;
    char *tail = NULL, *since = NULL;
    const struct cli_option o[] = {
        {"follow", 'f', CLI_OPT_BOOL, &follow, "Follow log output"},
        {"tail", 0, CLI_OPT_STRING, &tail, "Number of lines to show from the end of the logs (default all)"},
        {"since", 0, CLI_OPT_STRING, &since, "Show logs since timestamp or relative time (e.g. 42m)"},
        {"timestamps", 't', CLI_OPT_BOOL, &timestamps, "Show timestamps"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *info = NULL;
    cleanup_free char *path = NULL, *sv = NULL;
    struct http_request req = {.method = "GET", .body_fd = -1};
    struct http_conn c;
    struct http_response resp;
    int rc = 0;
    if (cmd_parse("logs", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if ((info = cmd_inspect_container(pos[0], &err)) == NULL) {
        cmd_print_error(err);
        return 1;
    }
    sv = cmd_time_value(since);
    path = logs_path(pos[0], follow, tail, sv, timestamps);
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
    return rc < 0 ? 1 : 0;
}
