/*
 * isula volume create|ls|inspect|rm|prune over Docker's /volumes endpoints (local driver). ls shows Docker's
 * columns DRIVER and VOLUME NAME; rm and create print the volume's name. Single-threaded.
 */
#include <stdlib.h>
#include <string.h>

#include "client/format.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

struct vsub {
    const char *name;
    const char *usage;
    const char *desc;
    int (*run)(const struct vsub *s, int argc, char **argv);
};

static int vsub_parse(const struct vsub *s, const struct cli_option *o, int argc, char **argv, int min_args,
                      char ***ret_pos, int *ret_exit)
{
    cleanup_error struct isd_error *err = NULL;
    if (cli_parse_args(o, argc, argv, 0, ret_pos, &err) < 0) {
        fprintf(stderr, "isula volume %s: %s\nSee 'isula volume %s --help'.\n", s->name, err->msg, s->name);
        *ret_exit = EXIT_DAEMON;
        return -1;
    }
    if (g_help_flag) {
        fprintf(stdout, "\nUsage:  isula volume %s %s\n\n%s\n\nOptions:\n", s->name, s->usage, s->desc);
        cli_print_options(stdout, o);
        *ret_exit = 0;
        return -1;
    }
    if ((int)strv_len(*ret_pos) < min_args) {
        fprintf(stderr, "\"isula volume %s\" requires at least %d argument.\nSee 'isula volume %s --help'.\n", s->name,
                min_args, s->name);
        *ret_exit = 1;
        return -1;
    }
    return 0;
}

/* -f key=value flags as Docker's filters JSON, escaped for a query string. */
static char *filters_query(char **filters)
{
    cleanup_json json_t *f = json_object();
    cleanup_free char *text = NULL;
    for (size_t i = 0; filters != NULL && filters[i] != NULL; i++) {
        char *eq = strchr(filters[i], '=');
        cleanup_free char *k = eq ? xstrndup(filters[i], (size_t)(eq - filters[i])) : xstrdup(filters[i]);
        if (json_object_get(f, k) == NULL)
            json_object_set_new(f, k, json_array());
        json_array_append_new(json_object_get(f, k), json_string(eq ? eq + 1 : ""));
    }
    text = json_to_string(f);
    return client_query_escape(text);
}

static int vol_create(const struct vsub *s, int argc, char **argv)
{
    char *driver = NULL, *name = NULL;
    cleanup_strv char **labels = NULL, **opts = NULL, **pos = NULL;
    const struct cli_option o[] = {{"driver", 'd', CLI_OPT_STRING, &driver, "Specify volume driver name"},
                                   {"label", 0, CLI_OPT_LIST, &labels, "Set metadata for a volume"},
                                   {"name", 0, CLI_OPT_STRING, &name, "Specify volume name"},
                                   {"opt", 'o', CLI_OPT_LIST, &opts, "Set driver specific options"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *body = json_object(), *resp = NULL, *lj = json_object(), *oj = json_object();
    int rc = 0;
    if (vsub_parse(s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    for (size_t i = 0; labels != NULL && labels[i] != NULL; i++) {
        char *eq = strchr(labels[i], '=');
        cleanup_free char *k = eq ? xstrndup(labels[i], (size_t)(eq - labels[i])) : xstrdup(labels[i]);
        json_object_set_new(lj, k, json_string(eq ? eq + 1 : ""));
    }
    for (size_t i = 0; opts != NULL && opts[i] != NULL; i++) {
        char *eq = strchr(opts[i], '=');
        cleanup_free char *k = eq ? xstrndup(opts[i], (size_t)(eq - opts[i])) : xstrdup(opts[i]);
        json_object_set_new(oj, k, json_string(eq ? eq + 1 : ""));
    }
    json_object_set_new(body, "Name", json_string(name ? name : pos[0] ? pos[0] : ""));
    json_object_set_new(body, "Driver", json_string(driver ? driver : "local"));
    json_object_set(body, "Labels", lj);
    json_object_set(body, "DriverOpts", oj);
    if (client_call(cmd_host(), "POST", "/volumes/create", body, &resp, &err) < 0) {
        cmd_print_error(err);
        rc = 1;
    } else {
        printf("%s\n", json_get_str(resp, "Name"));
    }
    free(driver);
    free(name);
    return rc;
}

static int vol_ls(const struct vsub *s, int argc, char **argv)
{
    bool quiet = false;
    cleanup_strv char **filters = NULL, **pos = NULL;
    const struct cli_option o[] = {
        {"filter", 'f', CLI_OPT_LIST, &filters, "Provide filter values (e.g. 'dangling=true')"},
        {"quiet", 'q', CLI_OPT_BOOL, &quiet, "Only display volume names"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *resp = NULL;
    cleanup_free char *q = NULL, *path = NULL;
    json_t *list;
    char ***rows;
    size_t n = 0;
    int rc = 0;
    if (vsub_parse(s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    q = filters_query(filters);
    path = xasprintf("/volumes?filters=%s", q);
    if (client_call(cmd_host(), "GET", path, NULL, &resp, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    list = json_object_get(resp, "Volumes");
    rows = xcalloc(json_array_size(list) + 2, sizeof(char **));
    rows[n++] = strv_dup((char *[]){"DRIVER", "VOLUME NAME", NULL});
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *v = json_array_get(list, i);
        if (quiet)
            printf("%s\n", json_get_str(v, "Name"));
        else
            rows[n++] = strv_dup((char *[]){(char *)json_get_str(v, "Driver"), (char *)json_get_str(v, "Name"), NULL});
    }
    if (!quiet)
        format_table_print(stdout, (char **const *)rows, n);
    format_rows_free(rows, n);
    return 0;
}

static int vol_inspect(const struct vsub *s, int argc, char **argv)
{
    cleanup_strv char **pos = NULL;
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_json json_t *all = json_array();
    int rc = 0;
    if (vsub_parse(s, o, argc, argv, 1, &pos, &rc) < 0)
        return rc;
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_free char *path = cmd_path("volumes", *p, NULL);
        json_t *j = NULL;
        if (client_call(cmd_host(), "GET", path, NULL, &j, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            continue;
        }
        json_array_append_new(all, j);
    }
    cmd_inspect_finish(NULL, all, rc);
    return rc;
}

static int vol_rm(const struct vsub *s, int argc, char **argv)
{
    bool force = false;
    cleanup_strv char **pos = NULL;
    const struct cli_option o[] = {
        {"force", 'f', CLI_OPT_BOOL, &force, "Force the removal of one or more volumes"}, CMD_COMMON_OPTS, {NULL}};
    int rc = 0;
    if (vsub_parse(s, o, argc, argv, 1, &pos, &rc) < 0)
        return rc;
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_free char *base = cmd_path("volumes", *p, NULL);
        cleanup_free char *path = xasprintf("%s%s", base, force ? "?force=1" : "");
        if (client_call(cmd_host(), "DELETE", path, NULL, NULL, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            continue;
        }
        printf("%s\n", *p);
    }
    return rc;
}

/* No prompt: isula's rm-style commands do not ask either. */
static int vol_prune(const struct vsub *s, int argc, char **argv)
{
    cleanup_strv char **filters = NULL, **pos = NULL;
    bool force = false;
    const struct cli_option o[] = {{"filter", 0, CLI_OPT_LIST, &filters, "Provide filter values (e.g. 'label=a=b')"},
                                   {"force", 'f', CLI_OPT_BOOL, &force, "Do not prompt for confirmation (default)"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *resp = NULL;
    cleanup_free char *q = NULL, *path = NULL;
    int rc = 0;
    size_t i;
    json_t *v;
    if (vsub_parse(s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    q = filters_query(filters);
    path = xasprintf("/volumes/prune?filters=%s", q);
    if (client_call(cmd_host(), "POST", path, NULL, &resp, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    json_array_foreach(json_object_get(resp, "VolumesDeleted"), i, v)
    {
        if (i == 0)
            printf("Deleted Volumes:\n");
        printf("%s\n", json_string_value(v));
    }
    return 0;
}

static const struct vsub vsubs[] = {
    {"create", "[OPTIONS] [VOLUME]", "Create a volume", vol_create},
    {"inspect", "VOLUME [VOLUME...]", "Display detailed information on one or more volumes", vol_inspect},
    {"ls", "[OPTIONS]", "List volumes", vol_ls},
    {"prune", "[OPTIONS]", "Remove all unused local volumes", vol_prune},
    {"rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes", vol_rm},
};

int cmd_volume(int argc, char **argv)
{
    const char *name = argc > 0 ? argv[0] : NULL;
    FILE *f;
    if (streq(name, "list"))
        name = "ls";
    if (streq(name, "remove"))
        name = "rm";
    for (size_t i = 0; name != NULL && i < ARRAY_SIZE(vsubs); i++)
        if (streq(vsubs[i].name, name))
            return vsubs[i].run(&vsubs[i], argc - 1, argv + 1);
    f = name == NULL || streq(name, "--help") ? stdout : stderr;
    if (f == stderr)
        fprintf(stderr, "isula volume: unknown command `%s`\n", name);
    fprintf(f, "\nUsage:  isula volume COMMAND\n\nManage volumes\n\nCommands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(vsubs); i++)
        fprintf(f, "  %-10s%s\n", vsubs[i].name, vsubs[i].desc);
    return f == stdout ? 0 : 1;
}
