/* isula top: GET /containers/{id}/top?ps_args=... printed as ps prints it (the guide's L3283-3287 is `ps -ef`'s
 * layout: "UID        PID  PPID  C STIME TTY          TIME CMD"): ps's minimum widths for its usual columns, numbers
 * right-aligned, one space apart, the last column unpadded. The Docker API keeps Docker's Titles/Processes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* procps' widths and alignment of the columns ps -ef and the usual -o lists print. */
static const struct {
    const char *title;
    int width;
    bool right;
} ps_columns[] = {
    {"UID", 8, false},   {"USER", 8, false},  {"PID", 5, true},    {"PPID", 5, true}, {"C", 2, true},
    {"STIME", 5, false}, {"TTY", 8, false},   {"TIME", 8, true},   {"%CPU", 4, true}, {"%MEM", 4, true},
    {"VSZ", 6, true},    {"RSS", 5, true},    {"NI", 3, true},     {"PRI", 3, true},  {"SZ", 5, true},
    {"LWP", 5, true},    {"NLWP", 4, true},   {"PGID", 5, true},   {"SID", 5, true},  {"ELAPSED", 11, true},
    {"STAT", 4, false},  {"START", 5, false}, {"WCHAN", 6, false}, {"PSR", 3, true},
};

static void column_style(const char *title, int *width, bool *right)
{
    *width = 0;
    *right = false;
    for (size_t i = 0; title != NULL && i < ARRAY_SIZE(ps_columns); i++) {
        if (streq(title, ps_columns[i].title)) {
            *width = ps_columns[i].width;
            *right = ps_columns[i].right;
        }
    }
}

static void print_ps(char ***rows, size_t n)
{
    size_t ncol = strv_len(rows[0]);
    int *w = xcalloc(ncol + 1, sizeof(int));
    bool *right = xcalloc(ncol + 1, sizeof(bool));
    for (size_t c = 0; c < ncol; c++)
        column_style(rows[0][c], &w[c], &right[c]);
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; c < ncol && rows[r][c] != NULL; c++)
            if ((int)strlen(rows[r][c]) > w[c])
                w[c] = (int)strlen(rows[r][c]);
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; rows[r][c] != NULL; c++) {
            bool last = rows[r][c + 1] == NULL;
            if (c > 0)
                putchar(' ');
            if (right[c])
                printf("%*s", w[c], rows[r][c]);
            else
                printf("%-*s", last ? 0 : w[c], rows[r][c]);
        }
        putchar('\n');
    }
    free(w);
    free(right);
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
    print_ps(rows, n);
    format_rows_free(rows, n);
    return 0;
}
