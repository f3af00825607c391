/*
 * isula stop, kill, rm, restart, pause, unpause, wait and rename: one API call per container, the
 * reference echoed on success (C-gen-04), errors printed per container.
 */
#include <limits.h>
#include <stdlib.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

/* Calls method path-for-each (query appended) and echoes each reference; exit 1 if any failed. */
static int for_each(char **pos, const char *method, const char *action, const char *query, bool echo)
{
    int rc = 0;
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_free char *base = cmd_path("containers", *p, action);
        cleanup_free char *path = query != NULL && query[0] ? xasprintf("%s?%s", base, query) : xstrdup(base);
        if (client_call(cmd_host(), method, path, NULL, NULL, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            continue;
        }
        if (echo)
            printf("%s\n", *p);
    }
    return rc;
}

static int stop_like(const char *name, const char *action, int argc, char **argv)
{
    long long t = LLONG_MIN;
    bool force = false;
    const struct cli_option o[] = {
        {"force", 'f', CLI_OPT_BOOL, &force, "Stop the container forcibly (SIGKILL at once)"},
        {"time", 't', CLI_OPT_INT, &t, "Seconds to wait for stop before killing it (default 10)"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_free char *query = NULL;
    int rc;
    /* restart has no --force in the guide; accepting it there is harmless. */
    if (cmd_parse(name, o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (force)
        t = 0;
    query = t != LLONG_MIN ? xasprintf("t=%lld", t) : NULL;
    return for_each(pos, "POST", action, query, true);
}

int cmd_stop(int argc, char **argv)
{
    return stop_like("stop", "stop", argc, argv);
}

int cmd_restart(int argc, char **argv)
{
    return stop_like("restart", "restart", argc, argv);
}

int cmd_kill(int argc, char **argv)
{
    char *sig = NULL;
    const struct cli_option o[] = {
        {"signal", 's', CLI_OPT_STRING, &sig, "Signal to send to the container"}, CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_free char *query = NULL, *esc = NULL;
    int rc;
    if (cmd_parse("kill", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (sig != NULL) {
        esc = client_query_escape(sig);
        query = xasprintf("signal=%s", esc);
    }
    rc = for_each(pos, "POST", "kill", query, true);
    free(sig);
    return rc;
}

int cmd_rm(int argc, char **argv)
{
    bool force = false, volumes = false;
    const struct cli_option o[] = {{"force", 'f', CLI_OPT_BOOL, &force, "Force the removal of a running container"},
                                   {"volume", 'v', CLI_OPT_BOOL, &volumes, "Remove the volumes associated"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_free char *query = NULL;
    int rc;
    if (cmd_parse("rm", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    query = xasprintf("force=%d&v=%d", force ? 1 : 0, volumes ? 1 : 0);
    return for_each(pos, "DELETE", NULL, query, true);
}

static int simple(const char *name, int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    int rc;
    if (cmd_parse(name, o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    return for_each(pos, "POST", name, NULL, true);
}

int cmd_pause(int argc, char **argv)
{
    return simple("pause", argc, argv);
}

int cmd_unpause(int argc, char **argv)
{
    return simple("unpause", argc, argv);
}

int cmd_wait(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    int rc = 0, last = 0;
    if (cmd_parse("wait", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_json json_t *resp = NULL;
        cleanup_free char *path = cmd_path("containers", *p, "wait");
        if (client_call(cmd_host(), "POST", path, NULL, &resp, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            continue;
        }
        last = (int)json_get_int(resp, "StatusCode", 0);
        printf("%d\n", last);
    }
    return rc != 0 ? rc : last;
}

int cmd_rename(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *base = NULL, *esc = NULL, *path = NULL;
    int rc;
    if (cmd_parse("rename", o, argc, argv, 0, 2, &pos, &rc) < 0)
        return rc;
    base = cmd_path("containers", pos[0], "rename");
    esc = client_query_escape(pos[1]);
    path = xasprintf("%s?name=%s", base, esc);
    if (client_call(cmd_host(), "POST", path, NULL, NULL, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    return 0;
}
