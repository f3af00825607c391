/* isula ps: GET /containers/json rendered with the guide's columns or a --format template. */
#include <stdlib.h>
#include <string.h>

#include "client/format.h"
#include "client/template.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

#define PS_DEFAULT_FORMAT                                                                                              \
    "table {{.ID}} {{.Image}} {{.Status}} {{.Pid}} {{.Command}} {{.ExitCode}} {{.RestartCount}} {{.StartAt}} "         \
    "{{.FinishAt}} {{.Runtime}} {{.Names}}"

/* Docker's PORTS cell from GET /containers/json's "Ports": "127.0.0.1:18080->80/tcp, 8080/tcp". */
static char *ps_ports(const json_t *item)
{
    struct buf b = {0};
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(item, "Ports"), i, p)
    {
        long long pub = json_get_int(p, "PublicPort", 0);
        long long priv = json_get_int(p, "PrivatePort", 0);
        const char *type = json_get_str(p, "Type") ?: "tcp";
        if (b.len > 0)
            buf_append(&b, ", ", 2);
        if (pub > 0)
            buf_printf(&b, "%s:%lld->%lld/%s", json_get_str(p, "IP") ?: "0.0.0.0", pub, priv, type);
        else
            buf_printf(&b, "%lld/%s", priv, type);
    }
    return b.data != NULL ? buf_steal(&b) : xstrdup("");
}

static int render_rows(const struct template *t, const json_t *list, bool table, bool no_trunc)
{
    cleanup_error struct isd_error *err = NULL;
    size_t n = json_array_size(list) + 1, nrows = 0;
    char ***rows = xcalloc(n, sizeof(char **));
    long long now = now_ns();
    int rc = 0;
    if (table) {
        json_t *hdr = format_ps_header();
        struct buf b = {0};
        json_object_set_new(hdr, "Ports", json_string("PORTS"));
        rc = template_exec(t, hdr, true, &b, &err);
        rows[nrows++] = format_split_cells(b.data != NULL ? b.data : "");
        buf_free(&b);
        json_decref(hdr);
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(list); i++) {
        json_t *row = format_ps_row(json_array_get(list, i), no_trunc, now);
        cleanup_free char *ports = ps_ports(json_array_get(list, i));
        struct buf b = {0};
        json_object_set_new(row, "Ports", json_string(ports));
        rc = template_exec(t, row, table, &b, &err);
        rows[nrows++] = table ? format_split_cells(b.data != NULL ? b.data : "") : NULL;
        if (!table && rc == 0)
            printf("%s\n", b.data != NULL ? b.data : "");
        buf_free(&b);
        json_decref(row);
    }
    if (rc < 0)
        fprintf(stderr, "Error: %s\n", err->msg);
    else if (table)
        format_table_print(stdout, (char **const *)rows, nrows);
    format_rows_free(rows, nrows);
    return rc < 0 ? 1 : 0;
}

/* As docker's formatter: a literal `\t` or `\n` in --format is a tab or a newline (table cells split on tabs). */
static void unescape_format(char *f)
{
    char *w = f;
    for (const char *r = f; *r != '\0'; r++) {
        if (r[0] == '\\' && (r[1] == 't' || r[1] == 'n')) {
            *w++ = *++r == 't' ? '\t' : '\n';
            continue;
        }
        *w++ = *r;
    }
    *w = '\0';
}

/* GET /containers/json; a limit (-n, -l) includes every state on the daemon's side, as Docker's does. */
static char *ps_path(bool all, long long last, bool size, const char *fq)
{
    struct buf b = {0};
    buf_printf(&b, "/containers/json?all=%d", all || last >= 0 ? 1 : 0); /* docker: any -n lists every state */
    if (last > 0)
        buf_printf(&b, "&limit=%lld", last);
    if (size)
        buf_printf(&b, "&size=1");
    if (fq != NULL)
        buf_printf(&b, "&filters=%s", fq);
    return buf_steal(&b);
}

int cmd_ps(int argc, char **argv)
{
    bool all = false, quiet = false, no_trunc = false, size = false, latest = false;
    long long last = -1;
    char *format = NULL;
    cleanup_strv char **filters = NULL, **pos = NULL;
    const struct cli_option o[] = {
        {"all", 'a', CLI_OPT_BOOL, &all, "Display all containers (default shows just running)"},
        {"quiet", 'q', CLI_OPT_BOOL, &quiet, "Only display numeric IDs"},
        {"filter", 'f', CLI_OPT_LIST, &filters, "Filter output based on conditions provided"},
        {"format", 0, CLI_OPT_STRING, &format, "Format the output using the given go template"},
        {"no-trunc", 0, CLI_OPT_BOOL, &no_trunc, "Don't truncate output"},
        {"size", 's', CLI_OPT_BOOL, &size, "Display total file sizes"},
        {"last", 'n', CLI_OPT_INT, &last, "Show n last created containers (includes all states) (default -1)"},
        {"latest", 'l', CLI_OPT_BOOL, &latest, "Show the latest created container (includes all states)"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *list = NULL;
    cleanup_free char *fq = NULL, *path = NULL;
    struct template *t;
    const char *fmt;
    bool table;
    int rc;
    if (cmd_parse("ps", o, argc, argv, 0, 0, &pos, &rc) < 0)
        return rc;
    if (filters != NULL && (fq = cmd_filters_query(filters, &err)) == NULL) {
        fprintf(stderr, "Error: %s\n", err->msg);
        return 1;
    }
    if (latest)
        last = 1;
    /* as the docker CLI: a template that shows .Size asks for the sizes too */
    size = size || (format != NULL && strstr(format, ".Size") != NULL);
    path = ps_path(all, last, size && !quiet, fq);
    if (client_call(cmd_host(), "GET", path, NULL, &list, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    if (format != NULL)
        unescape_format(format);
    fmt = quiet ? "{{.ID}}" : format != NULL ? format : size ? PS_DEFAULT_FORMAT " {{.Size}}" : PS_DEFAULT_FORMAT;
    table = str_has_prefix(fmt, "table");
    if (table)
        fmt += strlen("table");
    while (table && (*fmt == ' ' || *fmt == '\t'))
        fmt++;
    if ((t = template_parse(fmt, &err)) == NULL) {
        fprintf(stderr, "Error: %s\n", err->msg);
        return 1;
    }
    rc = render_rows(t, list, table, no_trunc);
    template_free(t);
    free(format);
    return rc;
}
