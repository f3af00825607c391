/* isula top: GET /containers/{id}/top?ps_args=... printed as aligned columns. */
#include <stdlib.h>

#include "client/format.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

static char **json_row(const json_t *arr)
{
    char **v = NULL;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        strv_append(&v, s != NULL ? s : "");
    }
    if (v == NULL)
        v = xcalloc(1, sizeof(char *));
    return v;
}

int cmd_top(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *resp = NULL;
    cleanup_free char *base = NULL, *path = NULL, *args = NULL, *eargs = NULL;
    json_t *procs;
    char ***rows;
    size_t n = 0;
    int rc;
    if (cmd_parse("top", o, argc, argv, 1, 1, &pos, &rc) < 0)
        return rc;
    base = cmd_path("containers", pos[0], "top");
    if (pos[1] != NULL) {
        args = strv_join(pos + 1, " ");
        eargs = client_query_escape(args);
        path = xasprintf("%s?ps_args=%s", base, eargs);
    } else {
        path = xstrdup(base);
    }
    if (client_call(cmd_host(), "GET", path, NULL, &resp, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    procs = json_object_get(resp, "Processes");
    rows = xcalloc(json_array_size(procs) + 1, sizeof(char **));
    rows[n++] = json_row(json_object_get(resp, "Titles"));
    for (size_t i = 0; i < json_array_size(procs); i++)
        rows[n++] = json_row(json_array_get(procs, i));
    format_table_print(stdout, (char **const *)rows, n);
    format_rows_free(rows, n);
    return 0;
}
