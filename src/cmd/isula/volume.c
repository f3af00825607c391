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

static int vol_create(const struct subcommand *s, int argc, char **argv)
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
    cleanup_json json_t *body = json_object(), *resp = NULL;
    int rc = 0;
    if (cmd_sub_parse("volume", s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    json_object_set_new(body, "Name", json_string(name ? name : pos[0] ? pos[0] : ""));
    json_object_set_new(body, "Driver", json_string(driver ? driver : "local"));
    json_object_set_new(body, "Labels", cmd_kv_object(labels));
    json_object_set_new(body, "DriverOpts", cmd_kv_object(opts));
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

static int vol_ls(const struct subcommand *s, int argc, char **argv)
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
    if (cmd_sub_parse("volume", s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    if ((q = cmd_filters_query(filters, &err)) == NULL) {
        cmd_print_error(err);
        return 1;
    }
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

static int vol_inspect(const struct subcommand *s, int argc, char **argv)
{
    cleanup_strv char **pos = NULL;
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_json json_t *all = json_array();
    int rc = 0;
    if (cmd_sub_parse("volume", s, o, argc, argv, 1, &pos, &rc) < 0)
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

static int vol_rm(const struct subcommand *s, int argc, char **argv)
{
    bool force = false;
    cleanup_strv char **pos = NULL;
    const struct cli_option o[] = {
        {"force", 'f', CLI_OPT_BOOL, &force, "Force the removal of one or more volumes"}, CMD_COMMON_OPTS, {NULL}};
    int rc = 0;
    if (cmd_sub_parse("volume", s, o, argc, argv, 1, &pos, &rc) < 0)
        return rc;
    return cmd_remove_each("volumes", pos, force ? "?force=1" : "");
}

/* No prompt: isula's rm-style commands do not ask either. */
static int vol_prune(const struct subcommand *s, int argc, char **argv)
{
    cleanup_strv char **filters = NULL, **pos = NULL;
    bool force = false;
    const struct cli_option o[] = {{"filter", 0, CLI_OPT_LIST, &filters, "Provide filter values (e.g. 'label=a=b')"},
                                   {"force", 'f', CLI_OPT_BOOL, &force, "Do not prompt for confirmation (default)"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    int rc = 0;
    if (cmd_sub_parse("volume", s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    return cmd_prune("volumes", filters, "VolumesDeleted", "Deleted Volumes:");
}

static const struct subcommand vsubs[] = {
    {"create", "[OPTIONS] [VOLUME]", "Create a volume", vol_create},
    {"inspect", "VOLUME [VOLUME...]", "Display detailed information on one or more volumes", vol_inspect},
    {"ls", "[OPTIONS]", "List volumes", vol_ls},
    {"prune", "[OPTIONS]", "Remove all unused local volumes", vol_prune},
    {"rm", "[OPTIONS] VOLUME [VOLUME...]", "Remove one or more volumes", vol_rm},
};

int cmd_volume(int argc, char **argv)
{
    return cmd_sub_dispatch("volume", "Manage volumes", vsubs, ARRAY_SIZE(vsubs), argc, argv);
}
