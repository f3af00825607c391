/*
 * isula exec: POST /containers/{id}/exec, then POST /exec/{id}/start (hijacked unless -d), then
 * GET /exec/{id}/json for the exit code. Without -i/-t/-d and with a terminal on both ends it
 * behaves as -it (guide C-exec-03).
 */
#include <stdlib.h>
#include <unistd.h>

#include "client/stream.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

struct exec_opts {
    bool interactive, tty, detach;
    char *user, *workdir;
    char **env;
};

static void exec_opts_clear(struct exec_opts *e)
{
    free(e->user);
    free(e->workdir);
    strv_free(e->env);
}

static char *exec_create(const char *ctr, const struct exec_opts *e, char *const *cmd, struct isd_error **err)
{
    cleanup_free char *path = cmd_path("containers", ctr, "exec");
    cleanup_json json_t *body =
        json_pack("{s:b, s:b, s:b, s:b, s:o}", "AttachStdin", e->interactive && !e->detach, "AttachStdout", !e->detach,
                  "AttachStderr", !e->detach, "Tty", e->tty, "Cmd", json_strv(cmd));
    cleanup_json json_t *resp = NULL;
    if (e->env != NULL)
        json_object_set_new(body, "Env", json_strv(e->env));
    if (e->user != NULL)
        json_object_set_new(body, "User", json_string(e->user));
    if (e->workdir != NULL)
        json_object_set_new(body, "WorkingDir", json_string(e->workdir));
    if (client_call(cmd_host(), "POST", path, body, &resp, err) < 0)
        return NULL;
    if (json_get_str(resp, "Id") == NULL) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "the daemon returned no exec ID");
        return NULL;
    }
    return xstrdup(json_get_str(resp, "Id"));
}

static int exec_start(const char *id, const struct exec_opts *e, struct isd_error **err)
{
    cleanup_free char *path = cmd_path("exec", id, "start");
    cleanup_json json_t *body = json_pack("{s:b, s:b}", "Detach", e->detach, "Tty", e->tty);
    cleanup_free char *text = json_to_string(body);
    struct http_request req = {.method = "POST",
                               .path = path,
                               .content_type = "application/json",
                               .body = text,
                               .body_len = strlen(text),
                               .body_fd = -1,
                               .upgrade = !e->detach};
    struct http_conn c;
    struct http_response resp;
    int rc = 0;
    if (client_request(cmd_host(), &req, &c, &resp, err) < 0)
        return -1;
    http_response_free(&resp);
    if (!e->detach)
        rc = attach_pump(&c, "exec", id, e->tty, e->interactive, err);
    http_conn_close(&c);
    return rc;
}

static int exec_exit_code(const char *id)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *path = cmd_path("exec", id, "json");
    cleanup_json json_t *j = NULL;
    for (int i = 0; i < 50; i++) {
        if (client_call(cmd_host(), "GET", path, NULL, &j, &err) < 0) {
            cmd_print_error(err);
            return EXIT_DAEMON;
        }
        /* Docker records 126 for any exec that could not start; isula keeps 127 for a missing command */
        if (json_get_str(j, "StartError") != NULL &&
            isd_error_code_from_name(json_get_str(j, "StartError")) == ISD_ERR_COMMAND_NOT_FOUND)
            return EXIT_NOT_FOUND;
        if (!json_get_bool(j, "Running", false))
            return (int)json_get_int(j, "ExitCode", 0);
        json_decref(j);
        j = NULL;
        usleep(20000);
    }
    return 0;
}

int cmd_exec(int argc, char **argv)
{
    __attribute__((cleanup(exec_opts_clear))) struct exec_opts e = {0};
    cleanup_free char *keys = NULL;
    const struct cli_option o[] = {
        {"detach", 'd', CLI_OPT_BOOL, &e.detach, "Run command in the background"},
        {"detach-keys", 0, CLI_OPT_STRING, &keys, "Override the key sequence for detaching"},
        {"env", 'e', CLI_OPT_LIST, &e.env, "Set environment variables"},
        {"interactive", 'i', CLI_OPT_BOOL, &e.interactive, "Keep STDIN open even if not attached"},
        {"tty", 't', CLI_OPT_BOOL, &e.tty, "Allocate a pseudo-TTY"},
        {"user", 'u', CLI_OPT_STRING, &e.user, "Username or UID (format: <name|uid>[:<group|gid>])"},
        {"workdir", 'w', CLI_OPT_STRING, &e.workdir, "Working directory inside the container"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *id = NULL;
    int rc;
    if (cmd_parse("exec", o, argc, argv, 2, 2, &pos, &rc) < 0)
        return rc;
    if (keys != NULL && stream_set_detach_keys(keys, &err) < 0) {
        cmd_print_error(err);
        return EXIT_DAEMON;
    }
    if (!e.interactive && !e.tty && !e.detach && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
        e.interactive = e.tty = true;
    if ((id = exec_create(pos[0], &e, pos + 1, &err)) == NULL) {
        cmd_print_error(err);
        return cmd_exit_code_for(err, false);
    }
    if (exec_start(id, &e, &err) < 0) {
        cmd_print_error(err);
        return cmd_exit_code_for(err, false);
    }
    return e.detach || stream_detached() ? 0 : exec_exit_code(id);
}
