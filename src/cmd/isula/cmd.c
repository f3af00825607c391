/* Shared plumbing of the isula commands; see cmd.h. */
#include "cmd/isula/cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/stream.h"
#include "client/template.h"
#include "client/tls.h"
#include "common/json.h"
#include "common/util.h"

char *g_host_flag;
bool g_help_flag;
bool g_tls_flag, g_tlsverify_flag;
char *g_tlscacert_flag, *g_tlscert_flag, *g_tlskey_flag;

const char *cmd_host(void)
{
    struct client_tls_opts o = {g_tls_flag || g_tlsverify_flag, g_tlsverify_flag, g_tlscacert_flag, g_tlscert_flag,
                                g_tlskey_flag};
    client_tls_configure(&o);
    return client_host_resolve(g_host_flag);
}

bool cmd_global_tls_flag(int argc, char **argv, int *i)
{
    static const struct cli_option opts[] = {CMD_TLS_OPTS, {NULL}};
    const char *a = argv[*i];
    for (const struct cli_option *o = opts; o->lname != NULL; o++) {
        size_t n = strlen(o->lname);
        if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, o->lname, n) != 0 || (a[2 + n] != '\0' && a[2 + n] != '='))
            continue;
        if (o->type == CLI_OPT_BOOL)
            return cli_parse_bool(a[2 + n] == '=' ? a + 3 + n : "true", o->dest) == 0;
        if (a[2 + n] == '\0' && *i + 1 >= argc)
            return false;
        free(*(char **)o->dest);
        *(char **)o->dest = xstrdup(a[2 + n] == '=' ? a + 3 + n : argv[++*i]);
        return true;
    }
    return false;
}

void cmd_usage(FILE *f, const struct command *c, const struct cli_option *opts)
{
    fprintf(f, "\nUsage:  isula %s %s\n\n%s\n\n", c->name, c->usage, c->desc);
    if (opts != NULL) {
        fprintf(f, "Options:\n");
        cli_print_options(f, opts);
        fputc('\n', f);
    }
}

int cmd_parse(const char *name, const struct cli_option *opts, int argc, char **argv, int stop_after, int min_args,
              char ***ret_pos, int *ret_exit)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_strv char **pos = NULL;
    const struct command *c = cmd_lookup(name);
    if (cli_parse_args(opts, argc, argv, stop_after, &pos, &err) < 0) {
        fprintf(stderr, "isula %s: %s\nSee 'isula %s --help'.\n", name, err->msg, name);
        *ret_exit = EXIT_DAEMON;
        return -1;
    }
    if (g_help_flag) {
        cmd_usage(stdout, c, opts);
        *ret_exit = 0;
        return -1;
    }
    if ((int)strv_len(pos) < min_args) {
        fprintf(stderr,
                "\"isula %s\" requires at least %d argument%s.\nSee 'isula %s --help'.\n\nUsage:  isula %s %s\n", name,
                min_args, min_args == 1 ? "" : "s", name, name, c->usage);
        *ret_exit = 1;
        return -1;
    }
    *ret_pos = TAKE_PTR(pos);
    return 0;
}

int cmd_sub_parse(const char *group, const struct subcommand *s, const struct cli_option *opts, int argc, char **argv,
                  int min_args, char ***ret_pos, int *ret_exit)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_strv char **pos = NULL;
    if (cli_parse_args(opts, argc, argv, 0, &pos, &err) < 0) {
        fprintf(stderr, "isula %s %s: %s\nSee 'isula %s %s --help'.\n", group, s->name, err->msg, group, s->name);
        *ret_exit = EXIT_DAEMON;
        return -1;
    }
    if (g_help_flag) {
        printf("\nUsage:  isula %s %s %s\n\n%s\n\nOptions:\n", group, s->name, s->usage, s->desc);
        cli_print_options(stdout, opts);
        putchar('\n');
        *ret_exit = 0;
        return -1;
    }
    if ((int)strv_len(pos) < min_args) {
        fprintf(stderr, "\"isula %s %s\" requires at least %d argument.\nSee 'isula %s %s --help'.\n", group, s->name,
                min_args, group, s->name);
        *ret_exit = 1;
        return -1;
    }
    *ret_pos = TAKE_PTR(pos);
    return 0;
}

int cmd_sub_dispatch(const char *group, const char *desc, const struct subcommand *subs, size_t n, int argc,
                     char **argv)
{
    const char *name = argc > 0 ? argv[0] : NULL;
    FILE *f;
    if (streq(name, "list"))
        name = "ls";
    if (streq(name, "remove"))
        name = "rm";
    for (size_t i = 0; name != NULL && i < n; i++)
        if (streq(subs[i].name, name))
            return subs[i].run(&subs[i], argc - 1, argv + 1);
    f = name == NULL || streq(name, "--help") ? stdout : stderr;
    if (f == stderr)
        fprintf(stderr, "isula %s: unknown command `%s`\n", group, name);
    fprintf(f, "\nUsage:  isula %s COMMAND\n\n%s\n\nCommands:\n", group, desc);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "  %-10s%s\n", subs[i].name, subs[i].desc);
    return f == stdout ? 0 : 1;
}

char *cmd_filters_query(char *const *filters, struct isd_error **err)
{
    cleanup_json json_t *obj = json_object();
    cleanup_free char *text = NULL;
    for (; filters != NULL && *filters != NULL; filters++) {
        const char *eq = strchr(*filters, '=');
        cleanup_free char *k = NULL;
        json_t *list;
        if (eq == NULL || eq == *filters) {
            isd_error_set(err, ISD_ERR_INVALID, 0, "bad format of filter (expected name=value)");
            return NULL;
        }
        k = xstrndup(*filters, (size_t)(eq - *filters));
        list = json_object_get(obj, k);
        if (list == NULL)
            json_object_set_new(obj, k, list = json_array());
        json_array_append_new(list, json_string(eq + 1));
    }
    text = json_to_string(obj);
    return client_query_escape(text);
}

json_t *cmd_kv_object(char *const *kv)
{
    json_t *j = json_object();
    for (; kv != NULL && *kv != NULL; kv++) {
        char *eq = strchr(*kv, '=');
        cleanup_free char *k = eq ? xstrndup(*kv, (size_t)(eq - *kv)) : xstrdup(*kv);
        json_object_set_new(j, k, json_string(eq ? eq + 1 : ""));
    }
    return j;
}

int cmd_remove_each(const char *kind, char *const *names, const char *query)
{
    int rc = 0;
    for (; names != NULL && *names != NULL; names++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_free char *base = cmd_path(kind, *names, NULL);
        cleanup_free char *path = xasprintf("%s%s", base, query);
        if (client_call(cmd_host(), "DELETE", path, NULL, NULL, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            continue;
        }
        printf("%s\n", *names);
    }
    return rc;
}

int cmd_prune(const char *kind, char *const *filters, const char *deleted_key, const char *title)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *resp = NULL;
    cleanup_free char *q = NULL, *path = NULL;
    size_t i;
    json_t *v;
    if ((q = cmd_filters_query(filters, &err)) == NULL) {
        cmd_print_error(err);
        return 1;
    }
    path = xasprintf("/%s/prune?filters=%s", kind, q);
    if (client_call(cmd_host(), "POST", path, NULL, &resp, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    json_array_foreach(json_object_get(resp, deleted_key), i, v)
    {
        if (i == 0)
            printf("%s\n", title);
        printf("%s\n", json_string_value(v));
    }
    return 0;
}

void cmd_print_error(const struct isd_error *e)
{
    if (e == NULL)
        return;
    if (client_error_is_daemon(e))
        fprintf(stderr, "Error response from daemon: %s\n", e->msg);
    else if (client_error_is_connect(e))
        fprintf(stderr, "%s\n", e->msg);
    else
        fprintf(stderr, "Error: %s\n", e->msg);
}

void cmd_print_warnings(const json_t *warnings)
{
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w)
    {
        if (json_is_string(w))
            fprintf(stderr, "WARNING: %s\n", json_string_value(w));
    }
}

int cmd_exit_code_for(const struct isd_error *e, bool entrypoint_given)
{
    int code;
    if (e == NULL || !client_error_is_daemon(e))
        return EXIT_DAEMON;
    code = isd_error_code_exit_code(e->code);
    /* the guide: an --entrypoint that does not exist is the user's option error (125), not the command's */
    if (code == EXIT_NOT_FOUND && entrypoint_given)
        return EXIT_DAEMON;
    return code;
}

char *cmd_path(const char *kind, const char *id, const char *action)
{
    cleanup_free char *esc = client_path_escape(id);
    if (action == NULL || action[0] == '\0')
        return xasprintf("/%s/%s", kind, esc);
    return xasprintf("/%s/%s/%s", kind, esc, action);
}

json_t *cmd_inspect_container(const char *id, struct isd_error **err)
{
    cleanup_free char *path = cmd_path("containers", id, "json");
    json_t *j = NULL;
    if (client_call(cmd_host(), "GET", path, NULL, &j, err) < 0)
        return NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "unexpected inspect answer for `%s`", id);
        return NULL;
    }
    return j;
}

void cmd_resize(const char *kind, const char *id)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *base = cmd_path(kind, id, "resize"), *path = NULL;
    int rows, cols;
    if (term_size(STDOUT_FILENO, &rows, &cols) < 0 && term_size(STDIN_FILENO, &rows, &cols) < 0)
        return;
    path = xasprintf("%s?h=%d&w=%d", base, rows, cols);
    client_call(cmd_host(), "POST", path, NULL, NULL, &err);
}

int cmd_open_tar_output(const char *output)
{
    int fd;
    if (output == NULL && isatty(STDOUT_FILENO)) {
        fprintf(stderr, "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect\n");
        return -1;
    }
    fd = output != NULL ? open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666) : dup(STDOUT_FILENO);
    if (fd < 0)
        fprintf(stderr, "Error: cannot open `%s`: %s\n", output, strerror(errno));
    return fd;
}

char *cmd_time_value(const char *s)
{
    long long ns;
    if (s == NULL)
        return NULL;
    if (parse_duration_ns(s, &ns) == 0)
        ns = now_ns() - ns;
    else if (time_parse_rfc3339(s, &ns) != 0)
        return xstrdup(s);
    return xasprintf("%lld.%09lld", ns / 1000000000LL, ns % 1000000000LL);
}

void cmd_inspect_emit(const struct template *t, json_t *all, json_t *j, int *rc)
{
    cleanup_error struct isd_error *err = NULL;
    struct buf b = {0};
    if (t == NULL) {
        json_array_append_new(all, j);
        return;
    }
    if (template_exec(t, j, false, &b, &err) < 0) {
        fprintf(stderr, "Error: %s\n", err->msg);
        *rc = 1;
    } else {
        printf("%s\n", b.data != NULL ? b.data : "");
    }
    buf_free(&b);
    json_decref(j);
}

void cmd_inspect_finish(const struct template *t, const json_t *all, int rc)
{
    if (t == NULL && (json_array_size(all) > 0 || rc == 0)) {
        cleanup_free char *text = json_dumps(all, JSON_INDENT(4));
        printf("%s\n", text != NULL ? text : "[]");
    }
}
