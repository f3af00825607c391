/* isula images, rmi and tag over /images/json, DELETE /images/{name} and POST /images/{name}/tag. */
#include <stdlib.h>
#include <time.h>

#include "client/format.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

static const char *short_id(const char *id, bool no_trunc, char out[13])
{
    if (id == NULL)
        return "";
    if (str_has_prefix(id, "sha256:"))
        id += 7;
    if (no_trunc)
        return id;
    snprintf(out, 13, "%s", id);
    return out;
}

/* The digest part of the RepoDigests entry ("name@sha256:...") of the row's repository (ref "name:tag"), else
 * of the first entry, or "<none>". */
static const char *repo_digest(const json_t *img, const char *ref)
{
    const json_t *all = json_object_get(img, "RepoDigests");
    const char *colon = ref != NULL ? strrchr(ref, ':') : NULL;
    size_t name_len = colon != NULL && strchr(colon, '/') == NULL ? (size_t)(colon - ref) : (ref ? strlen(ref) : 0);
    const char *d = json_string_value(json_array_get(all, 0));
    for (size_t i = 0; ref != NULL && i < json_array_size(all); i++) {
        const char *e = json_string_value(json_array_get(all, i));
        if (e != NULL && strncmp(e, ref, name_len) == 0 && e[name_len] == '@') {
            d = e;
            break;
        }
    }
    const char *at = d != NULL ? strchr(d, '@') : NULL;
    return at != NULL ? at + 1 : "<none>";
}

/* One row per tag; a dangling image gets REF "-". */
static void image_rows(const json_t *img, bool no_trunc, bool digests, char ****rows, size_t *n)
{
    json_t *tags = json_object_get(img, "RepoTags");
    char idbuf[13], when[32] = "";
    time_t created = (time_t)json_get_int(img, "Created", 0);
    struct tm tm;
    cleanup_free char *size = format_size(json_get_int(img, "Size", 0));
    const char *id = short_id(json_get_str(img, "Id"), no_trunc, idbuf);
    size_t ntags = json_array_size(tags), k = 0;
    if (localtime_r(&created, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
    do {
        const char *ref = k < ntags ? json_string_value(json_array_get(tags, k)) : NULL;
        char **row = NULL;
        if (ref == NULL || streq(ref, "<none>:<none>"))
            ref = "-";
        strv_append(&row, ref);
        if (digests)
            strv_append(&row, repo_digest(img, streq(ref, "-") ? NULL : ref));
        strv_append(&row, id);
        strv_append(&row, when);
        strv_append(&row, size);
        *rows = xrealloc(*rows, (*n + 1) * sizeof(char **));
        (*rows)[(*n)++] = row;
    } while (++k < ntags);
}

int cmd_images(int argc, char **argv)
{
    bool quiet = false, no_trunc = false, digests = false;
    cleanup_strv char **filters = NULL, **pos = NULL;
    const struct cli_option o[] = {
        {"quiet", 'q', CLI_OPT_BOOL, &quiet, "Only show image names"},
        {"filter", 'f', CLI_OPT_LIST, &filters, "Filter output based on conditions provided"},
        {"no-trunc", 0, CLI_OPT_BOOL, &no_trunc, "Don't truncate output"},
        {"digests", 0, CLI_OPT_BOOL, &digests, "Show digests"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *list = NULL;
    cleanup_free char *path = NULL, *fesc = NULL;
    char ***rows = NULL;
    size_t n = 0;
    int rc;
    if (cmd_parse("images", o, argc, argv, 0, 0, &pos, &rc) < 0)
        return rc;
    if (filters != NULL && (fesc = cmd_filters_query(filters, &err)) == NULL) {
        cmd_print_error(err);
        return 1;
    }
    path = filters != NULL ? xasprintf("/images/json?filters=%s", fesc) : xstrdup("/images/json");
    if (client_call(cmd_host(), "GET", path, NULL, &list, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    rows = xcalloc(1, sizeof(char **));
    rows[n++] = digests ? strv_dup((char *[]){"REF", "DIGEST", "IMAGE ID", "CREATED", "SIZE", NULL})
                        : strv_dup((char *[]){"REF", "IMAGE ID", "CREATED", "SIZE", NULL});
    for (size_t i = 0; i < json_array_size(list); i++)
        image_rows(json_array_get(list, i), no_trunc, digests, &rows, &n);
    for (size_t i = quiet ? 1 : 0; i < n; i++)
        if (quiet)
            printf("%s\n", streq(rows[i][0], "-") ? rows[i][digests ? 2 : 1] : rows[i][0]);
    if (!quiet)
        format_table_print(stdout, (char **const *)rows, n);
    format_rows_free(rows, n);
    return 0;
}

int cmd_rmi(int argc, char **argv)
{
    bool force = false;
    const struct cli_option o[] = {
        {"force", 'f', CLI_OPT_BOOL, &force, "Force removal of the image"}, CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    int rc = 0;
    if (cmd_parse("rmi", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_free char *base = cmd_path("images", *p, NULL);
        cleanup_free char *path = xasprintf("%s?force=%d", base, force ? 1 : 0);
        if (client_call(cmd_host(), "DELETE", path, NULL, NULL, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            continue;
        }
        printf("Image \"%s\" removed\n", *p);
    }
    return rc;
}

int cmd_tag(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *base = NULL, *path = NULL, *repo = NULL, *erepo = NULL, *etag = NULL;
    const char *slash, *colon;
    int rc;
    if (cmd_parse("tag", o, argc, argv, 0, 2, &pos, &rc) < 0)
        return rc;
    slash = strrchr(pos[1], '/');
    colon = strrchr(slash != NULL ? slash : pos[1], ':');
    repo = colon != NULL ? xstrndup(pos[1], (size_t)(colon - pos[1])) : xstrdup(pos[1]);
    erepo = client_query_escape(repo);
    etag = client_query_escape(colon != NULL ? colon + 1 : "latest");
    base = cmd_path("images", pos[0], "tag");
    path = xasprintf("%s?repo=%s&tag=%s", base, erepo, etag);
    if (client_call(cmd_host(), "POST", path, NULL, NULL, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    return 0;
}
