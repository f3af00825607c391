/* isula start (-a, -i) and isula attach. */
#include <stdlib.h>
#include <unistd.h>

#include "client/stream.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

/* Attach to an existing container, optionally start it, return its exit code. */
static int attach_and_wait(const char *ref, bool start, bool want_stdin)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *info = cmd_inspect_container(ref, &err);
    struct http_conn att;
    struct wait_conn wc;
    json_t *config = json_object_get(info, "Config");
    const char *id = json_get_str(info, "Id");
    bool tty = json_get_bool(config, "Tty", false);
    bool with_stdin = want_stdin && json_get_bool(config, "OpenStdin", false);
    if (info == NULL || id == NULL) {
        cmd_print_error(err);
        return start ? EXIT_DAEMON : 1;
    }
    /* the daemon lets an attach wait for the next start (start -a); a plain attach needs it running, as docker's */
    if (!start && !json_get_bool(json_object_get(info, "State"), "Running", false)) {
        isd_error_set(&err, ISD_ERR_CONFLICT, 0, "You cannot attach to a stopped container, start it first");
        cmd_print_error(err);
        return 1;
    }
    if (!start && json_get_bool(json_object_get(info, "State"), "Paused", false)) {
        isd_error_set(&err, ISD_ERR_CONFLICT, 0, "You cannot attach to a paused container, unpause it first");
        cmd_print_error(err);
        return 1;
    }
    if (attach_open(id, with_stdin, &att, &err) < 0) {
        cmd_print_error(err);
        return start ? EXIT_DAEMON : 1;
    }
    if (wait_begin(id, start ? "next-exit" : NULL, &wc, &err) < 0) {
        http_conn_close(&att);
        cmd_print_error(err);
        return start ? EXIT_DAEMON : 1;
    }
    return attach_start_and_wait(&att, &wc, id, start, tty, with_stdin, false, NULL);
}

int cmd_start(int argc, char **argv)
{
    bool attach = false, interactive = false;
    char *runtime = NULL;
    const struct cli_option o[] = {
        {"attach", 'a', CLI_OPT_BOOL, &attach, "Attach STDOUT/STDERR and forward signals"},
        {"interactive", 'i', CLI_OPT_BOOL, &interactive, "Attach container's STDIN"},
        {"runtime", 'R', CLI_OPT_STRING, &runtime, "Runtime to use for containers(default: lcr)"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    int rc = 0;
    if (cmd_parse("start", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (attach || interactive) {
        if (strv_len(pos) > 1) {
            fprintf(stderr, "Error: you cannot start and attach multiple containers at once\n");
            return 1;
        }
        return attach_and_wait(pos[0], true, interactive);
    }
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_free char *path = cmd_path("containers", *p, "start");
        if (client_call(cmd_host(), "POST", path, NULL, NULL, &err) < 0) {
            cmd_print_error(err);
            rc = cmd_exit_code_for(err, false);
        }
    }
    return rc;
}

int cmd_attach(int argc, char **argv)
{
    bool debug = false, no_stdin = false;
    cleanup_free char *keys = NULL;
    const struct cli_option o[] = {{"debug", 'D', CLI_OPT_BOOL, &debug, "Enable debug mode"},
                                   {"no-stdin", 0, CLI_OPT_BOOL, &no_stdin, "Do not attach STDIN"},
                                   {"detach-keys", 0, CLI_OPT_STRING, &keys, "Override the key sequence for detaching"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    int rc = 0;
    if (cmd_parse("attach", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (keys != NULL && stream_set_detach_keys(keys, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    return attach_and_wait(pos[0], false, !no_stdin);
}
