/*
 * isula history: GET /images/{name}/history shown as the guide's example (L17335-17341, docker's chapter; the isula
 * chapter has none): columns IMAGE CREATED CREATED BY SIZE COMMENT at least 20 characters wide, 3 spaces after the
 * widest cell, "15 minutes ago", sizes as "23B"/"128MB" (CREATED BY cut to 45 characters unless --no-trunc; -q
 * prints only the IDs). Single-threaded.
 */
#include <stdlib.h>
#include <time.h>

#include "client/format.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

#define CREATED_BY_WIDTH 45

static char *history_id(const char *id, bool no_trunc)
{
    if (id == NULL || id[0] == '\0' || streq(id, "<missing>"))
        return xstrdup("<missing>");
    if (str_has_prefix(id, "sha256:") && !no_trunc)
        id += 7;
    return no_trunc ? xstrdup(id) : xstrndup(id, 12);
}

/* CREATED BY: tabs and newlines become spaces; cut to 44 characters and "…" (UTF-8 aware). */
static char *created_by(const char *s, bool no_trunc)
{
    char *out = xstrdup(s != NULL ? s : "");
    size_t chars = 0, i;
    for (i = 0; out[i] != '\0'; i++)
        if (out[i] == '\t' || out[i] == '\n' || out[i] == '\r')
            out[i] = ' ';
    if (no_trunc)
        return out;
    for (i = 0; out[i] != '\0'; i++) {
        if (((unsigned char)out[i] & 0xC0) == 0x80)
            continue;
        if (++chars == CREATED_BY_WIDTH && out[i + 1] != '\0') {
            out[i] = '\0';
            char *cut = xasprintf("%s\xE2\x80\xA6", out);
            free(out);
            return cut;
        }
    }
    return out;
}

static char **history_row(const json_t *item, bool no_trunc, time_t now)
{
    long long created = json_get_int(item, "Created", 0);
    cleanup_free char *id = history_id(json_get_str(item, "Id"), no_trunc);
    cleanup_free char *ago = human_duration(created > 0 && now > created ? now - created : 0);
    cleanup_free char *when = created > 0 ? xasprintf("%s ago", ago) : xstrdup("N/A");
    cleanup_free char *by = created_by(json_get_str(item, "CreatedBy"), no_trunc);
    cleanup_free char *size = format_docker_size(json_get_int(item, "Size", 0));
    const char *comment = json_get_str(item, "Comment");
    char **row = NULL;
    strv_append(&row, id);
    strv_append(&row, when);
    strv_append(&row, by);
    strv_append(&row, size);
    strv_append(&row, comment != NULL ? comment : "");
    return row;
}

int cmd_history(int argc, char **argv)
{
    bool quiet = false, no_trunc = false;
    const struct cli_option o[] = {{"quiet", 'q', CLI_OPT_BOOL, &quiet, "Only show image IDs"},
                                   {"no-trunc", 0, CLI_OPT_BOOL, &no_trunc, "Don't truncate output"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *list = NULL;
    cleanup_free char *path = NULL;
    char ***rows;
    size_t n = 0;
    int rc;
    if (cmd_parse("history", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (pos[1] != NULL) {
        fprintf(stderr, "\"isula history\" requires exactly 1 argument.\n");
        return 1;
    }
    path = cmd_path("images", pos[0], "history");
    if (client_call(cmd_host(), "GET", path, NULL, &list, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    rows = xcalloc(json_array_size(list) + 1, sizeof(char **));
    rows[n++] = strv_dup((char *[]){"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT", NULL});
    for (size_t i = 0; i < json_array_size(list); i++)
        rows[n++] = history_row(json_array_get(list, i), no_trunc, time(NULL));
    for (size_t i = 1; quiet && i < n; i++)
        printf("%s\n", rows[i][0]);
    if (!quiet)
        format_table_print_padded(stdout, (char **const *)rows, n, 20, 3);
    format_rows_free(rows, n);
    return 0;
}
