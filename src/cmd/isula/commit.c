/* isula diff (GET /containers/{id}/changes) and isula commit (POST /commit). */
#include <stdlib.h>
#include <string.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

int cmd_diff(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *path = NULL;
    cleanup_json json_t *j = NULL;
    size_t i;
    json_t *e;
    int rc;
    if (cmd_parse("diff", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    path = cmd_path("containers", pos[0], "changes");
    if (client_call(cmd_host(), "GET", path, NULL, &j, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    json_array_foreach(j, i, e)
    {
        long long kind = json_get_int(e, "Kind", 0);
        printf("%c %s\n", kind == 1 ? 'A' : kind == 2 ? 'D' : 'C', json_get_str(e, "Path"));
    }
    return 0;
}

/* "repo[:tag]" -> the query's repo and tag parts (a ':' after the last '/' starts the tag). */
static void add_repo_tag(struct buf *q, const char *ref)
{
    const char *slash = strrchr(ref, '/'), *colon = strrchr(slash != NULL ? slash : ref, ':');
    cleanup_free char *repo = colon != NULL ? xstrndup(ref, (size_t)(colon - ref)) : xstrdup(ref);
    cleanup_free char *erepo = client_query_escape(repo);
    buf_printf(q, "&repo=%s", erepo);
    if (colon != NULL) {
        cleanup_free char *etag = client_query_escape(colon + 1);
        buf_printf(q, "&tag=%s", etag);
    }
}

static void add_param(struct buf *q, const char *key, const char *value)
{
    cleanup_free char *e = NULL;
    if (value == NULL)
        return;
    e = client_query_escape(value);
    buf_printf(q, "&%s=%s", key, e);
}

int cmd_commit(int argc, char **argv)
{
    char *author = NULL, *message = NULL;
    char **changes = NULL;
    bool pause = true;
    const struct cli_option o[] = {
        {"author", 'a', CLI_OPT_STRING, &author, "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"},
        {"change", 'c', CLI_OPT_LIST, &changes, "Apply Dockerfile instruction to the created image"},
        {"message", 'm', CLI_OPT_STRING, &message, "Commit message"},
        {"pause", 'p', CLI_OPT_BOOL, &pause, "Pause container during commit (default true)"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *j = NULL;
    struct buf q = {0};
    cleanup_free char *query = NULL;
    int rc;
    if (cmd_parse("commit", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    buf_printf(&q, "/commit?pause=%d", pause ? 1 : 0);
    add_param(&q, "container", pos[0]);
    add_param(&q, "author", author);
    add_param(&q, "comment", message);
    for (size_t i = 0; changes != NULL && changes[i] != NULL; i++)
        add_param(&q, "changes", changes[i]);
    if (pos[1] != NULL)
        add_repo_tag(&q, pos[1]);
    query = buf_steal(&q);
    rc = client_call(cmd_host(), "POST", query, NULL, &j, &err) < 0 ? 1 : 0;
    if (rc != 0)
        cmd_print_error(err);
    else
        printf("%s\n", json_get_str(j, "Id"));
    free(author);
    free(message);
    strv_free(changes);
    return rc;
}
