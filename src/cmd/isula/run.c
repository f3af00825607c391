/*
 * isula create, run, start and attach: container creation from the shared options, and the
 * foreground flow (attach before start, wait, exit code, --rm).
 */
#include <stdlib.h>
#include <unistd.h>

#include "client/stream.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "cmd/isula/create_opts.h"
#include "common/json.h"
#include "common/util.h"

static struct create_opts opts;

/* POST /containers/create; returns the new ID or NULL (error printed, *ret_exit set). */
static char *create_container(char *const *pos, int *ret_exit)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *body = create_opts_body(&opts, pos[0], pos + 1, &err), *resp = NULL;
    cleanup_free char *path = NULL, *esc = NULL;
    const char *id;
    *ret_exit = EXIT_DAEMON;
    if (body == NULL) {
        fprintf(stderr, "Error: %s\n", err->msg);
        return NULL;
    }
    if (opts.name != NULL) {
        esc = client_query_escape(opts.name);
        path = xasprintf("/containers/create?name=%s", esc);
    } else {
        path = xstrdup("/containers/create");
    }
    if (client_call(cmd_host(), "POST", path, body, &resp, &err) < 0) {
        cmd_print_error(err);
        return NULL;
    }
    id = json_get_str(resp, "Id");
    cmd_print_warnings(json_object_get(resp, "Warnings"));
    if (id == NULL) {
        fprintf(stderr, "Error: the daemon returned no container ID\n");
        return NULL;
    }
    *ret_exit = 0;
    return xstrdup(id);
}

int cmd_create(int argc, char **argv)
{
    cleanup_strv char **pos = NULL;
    cleanup_free char *id = NULL;
    int rc;
    create_opts_init(&opts);
    if (cmd_parse("create", create_opts_table(&opts, false), argc, argv, 1, 1, &pos, &rc) < 0)
        return rc;
    id = create_container(pos, &rc);
    if (id != NULL)
        printf("%s\n", id);
    return rc;
}

static int start_container(const char *id, struct isd_error **err)
{
    cleanup_free char *path = cmd_path("containers", id, "start");
    return client_call(cmd_host(), "POST", path, NULL, NULL, err) < 0 ? -1 : 0;
}

/* --rm: the daemon removes the container itself (AutoRemove); remove it here only if it is still there. */
static void remove_container(const char *id)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *info = cmd_inspect_container(id, &err);
    if (info == NULL)
        return;
    cleanup_free char *base = cmd_path("containers", id, NULL);
    cleanup_free char *path = xasprintf("%s?force=1", base);
    client_call(cmd_host(), "DELETE", path, NULL, NULL, &err);
}

/* Attach, wait, start, pump, collect the exit code. Returns the exit code for the CLI; *ret_waited tells
 * whether the wait condition was met (with --rm: the daemon has removed the container). */
static int run_attached(const char *id, bool tty, bool with_stdin, bool entrypoint_given, bool auto_remove,
                        bool *ret_waited)
{
    cleanup_error struct isd_error *err = NULL;
    struct http_conn att;
    struct wait_conn wc;
    if (attach_open(id, with_stdin, &att, &err) < 0) {
        cmd_print_error(err);
        return EXIT_DAEMON;
    }
    if (wait_begin(id, auto_remove ? "removed" : "next-exit", &wc, &err) < 0) {
        http_conn_close(&att);
        cmd_print_error(err);
        return EXIT_DAEMON;
    }
    return attach_start_and_wait(&att, &wc, id, true, tty, with_stdin, entrypoint_given, ret_waited);
}

int cmd_run(int argc, char **argv)
{
    cleanup_strv char **pos = NULL;
    cleanup_free char *id = NULL;
    cleanup_error struct isd_error *err = NULL;
    int rc;
    create_opts_init(&opts);
    if (cmd_parse("run", create_opts_table(&opts, true), argc, argv, 1, 1, &pos, &rc) < 0)
        return rc;
    if (opts.detach_keys != NULL && stream_set_detach_keys(opts.detach_keys, &err) < 0) {
        cmd_print_error(err);
        return EXIT_DAEMON;
    }
    id = create_container(pos, &rc);
    if (id == NULL)
        return rc;
    if (opts.detach) {
        if (start_container(id, &err) < 0) {
            cmd_print_error(err);
            if (opts.rm)
                remove_container(id);
            return cmd_exit_code_for(err, opts.entrypoint != NULL);
        }
        printf("%s\n", id);
        return 0;
    }
    bool waited = false;
    rc = run_attached(id, opts.tty, opts.interactive, opts.entrypoint != NULL, opts.rm, &waited);
    if (stream_detached())
        return 0; /* the container runs on (and --rm still applies when it exits) */
    if (opts.rm && !waited)
        remove_container(id);
    return rc;
}
