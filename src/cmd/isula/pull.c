/*
 * isula pull: POST /images/create?fromImage=&tag= and the Docker JSON progress stream of the answer.
 * On a terminal every layer (message "id") keeps one line that is redrawn in place with its progress
 * bar; otherwise progress updates are skipped and each status change is one plain line, as docker does.
 * The guide's lines frame the output: `Image "NAME" pulling` and `Image "NAME@DIGEST" pulled`.
 * Single-threaded CLI code; the display state lives on the stack of cmd_pull.
 */
#include <stdlib.h>
#include <unistd.h>

#include "client/format.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

struct pull_display {
    bool tty, quiet;
    char **ids;    /* layer ids in the order of their lines */
    size_t nlines; /* lines printed since the first layer line (tty mode) */
    size_t *line;  /* line index of ids[i] */
    char *digest;  /* from "Digest: sha256:..." */
};

/* Splits NAME[:TAG|@DIGEST] into the name and the API's tag parameter (tag, digest or "latest"). */
static void split_ref(const char *ref, char **ret_name, char **ret_tag)
{
    const char *at = strrchr(ref, '@'), *slash = strrchr(ref, '/');
    const char *colon = strrchr(slash != NULL ? slash : ref, ':');
    if (at != NULL) {
        *ret_name = xstrndup(ref, (size_t)(at - ref));
        *ret_tag = xstrdup(at + 1);
    } else if (colon != NULL) {
        *ret_name = xstrndup(ref, (size_t)(colon - ref));
        *ret_tag = xstrdup(colon + 1);
    } else {
        *ret_name = xstrdup(ref);
        *ret_tag = xstrdup("latest");
    }
}

/* "[=====>     ]  1.5 MB/3 MB" from progressDetail, or the daemon's own "progress" text. */
static char *progress_text(const json_t *m)
{
    const json_t *pd = json_object_get(m, "progressDetail");
    long long cur = json_get_int(pd, "current", -1), total = json_get_int(pd, "total", -1);
    const char *given = json_get_str(m, "progress");
    char bar[51];
    if (given != NULL && given[0] != '\0')
        return xstrdup(given);
    if (cur < 0)
        return xstrdup("");
    if (total <= 0) {
        cleanup_free char *c = format_size(cur);
        return xstrdup(c);
    }
    size_t fill = (size_t)(cur >= total ? 50 : cur * 50 / total);
    memset(bar, ' ', 50);
    memset(bar, '=', fill);
    if (fill < 50)
        bar[fill] = '>';
    bar[50] = '\0';
    cleanup_free char *a = format_size(cur), *b = format_size(total);
    return xasprintf("[%s] %s/%s", bar, a, b);
}

/* tty: the line of id is redrawn in place (a new id gets a new line). */
static void show_tty(struct pull_display *d, const char *id, const char *text)
{
    size_t i;
    for (i = 0; d->ids != NULL && d->ids[i] != NULL; i++)
        if (streq(d->ids[i], id))
            break;
    if (d->ids == NULL || d->ids[i] == NULL) {
        strv_append(&d->ids, id);
        d->line = xrealloc(d->line, (i + 1) * sizeof(size_t));
        d->line[i] = d->nlines++;
        printf("%s: %s\n", id, text);
        fflush(stdout);
        return;
    }
    size_t up = d->nlines - d->line[i];
    printf("\033[%zuA\r\033[2K%s: %s\r\033[%zuB", up, id, text, up);
    fflush(stdout);
}

/* One stream message: returns -1 with err set for an error message. */
static int show_message(struct pull_display *d, const json_t *m, struct isd_error **err)
{
    const char *e = json_get_str(json_object_get(m, "errorDetail"), "message");
    const char *status = json_get_str(m, "status"), *id = json_get_str(m, "id");
    const json_t *pd = json_object_get(m, "progressDetail");
    bool progress = json_get_int(pd, "current", -1) >= 0 || json_get_str(m, "progress") != NULL;
    if (e == NULL)
        e = json_get_str(m, "error");
    if (e != NULL)
        return client_error_daemon(err, ISD_ERR_INTERNAL, e);
    if (status == NULL)
        return 0;
    if (str_has_prefix(status, "Digest: ")) {
        free(d->digest);
        d->digest = xstrdup(status + 8);
    }
    if (d->quiet)
        return 0;
    if (id != NULL && id[0] != '\0' && d->tty) {
        cleanup_free char *p = progress ? progress_text(m) : xstrdup("");
        cleanup_free char *text = p[0] != '\0' ? xasprintf("%s %s", status, p) : xstrdup(status);
        show_tty(d, id, text);
    } else if (id != NULL && id[0] != '\0') {
        if (!progress)
            printf("%s: %s\n", id, status);
    } else {
        printf("%s\n", status);
        d->nlines++;
    }
    return 0;
}

/* Reads the newline-delimited JSON stream, displaying each message as it arrives. */
static int read_stream(struct http_conn *c, struct http_response *resp, struct pull_display *d, struct isd_error **err)
{
    struct buf line = {0};
    char chunk[8192];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = http_read_body(c, resp, chunk, sizeof(chunk), err)) > 0) {
        for (ssize_t i = 0; i < n && rc == 0; i++) {
            if (chunk[i] != '\n') {
                buf_append(&line, &chunk[i], 1);
                continue;
            }
            cleanup_json json_t *m = json_parse(line.data != NULL ? line.data : "", line.len, NULL);
            if (m != NULL)
                rc = show_message(d, m, err);
            line.len = 0;
        }
    }
    if (rc == 0 && n < 0)
        rc = -1;
    if (rc == 0 && line.len > 0) {
        cleanup_json json_t *m = json_parse(line.data, line.len, NULL);
        if (m != NULL)
            rc = show_message(d, m, err);
    }
    buf_free(&line);
    return rc;
}

static int do_pull(const char *ref, struct pull_display *d, struct isd_error **err)
{
    cleanup_free char *name = NULL, *tag = NULL, *ename = NULL, *etag = NULL, *path = NULL;
    struct http_request req = {.method = "POST", .body_fd = -1, .content_type = "application/json"};
    struct http_conn c;
    struct http_response resp;
    int rc;
    split_ref(ref, &name, &tag);
    ename = client_query_escape(name);
    etag = client_query_escape(tag);
    path = xasprintf("/images/create?fromImage=%s&tag=%s", ename, etag);
    req.path = path;
    if (client_request(cmd_host(), &req, &c, &resp, err) < 0)
        return -1;
    rc = read_stream(&c, &resp, d, err);
    http_conn_close(&c);
    http_response_free(&resp);
    if (rc < 0)
        return -1;
    if (d->digest != NULL)
        printf("Image \"%s@%s\" pulled\n", name, d->digest);
    else
        printf("Image \"%s\" pulled\n", ref);
    return 0;
}

int cmd_pull(int argc, char **argv)
{
    bool quiet = false;
    const struct cli_option o[] = {
        {"quiet", 'q', CLI_OPT_BOOL, &quiet, "Suppress verbose output"}, CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    struct pull_display d = {0};
    int rc;
    if (cmd_parse("pull", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (pos[1] != NULL) {
        fprintf(stderr, "\"isula pull\" requires exactly 1 argument.\n");
        return 1;
    }
    d.tty = isatty(STDOUT_FILENO) == 1;
    d.quiet = quiet;
    if (!quiet)
        printf("Image \"%s\" pulling\n", pos[0]);
    rc = do_pull(pos[0], &d, &err);
    if (rc < 0)
        cmd_print_error(err);
    strv_free(d.ids);
    free(d.line);
    free(d.digest);
    return rc < 0 ? 1 : 0;
}
