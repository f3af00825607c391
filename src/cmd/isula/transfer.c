/*
 * isula load, import and export: archives streamed to and from the daemon (chunked uploads to
 * POST /images/load and POST /images/create?fromSrc=-, GET /containers/{id}/export).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

/*
 * Uploads fd to path and scans the JSON message stream of the answer. ret_last (optional) gets the last
 * "stream"/"status" text. Returns 0 or -1 (err set, from an errorDetail message if any).
 */
static int upload(const char *path, int fd, char **ret_last, struct isd_error **err)
{
    struct http_request req = {.method = "POST", .path = path, .content_type = "application/x-tar", .body_fd = fd};
    struct http_conn c;
    struct http_response resp;
    cleanup_free char *body = NULL;
    size_t len = 0, off = 0;
    if (client_request(cmd_host(), &req, &c, &resp, err) < 0)
        return -1;
    body = http_read_body_all(&c, &resp, CLIENT_MAX_BODY, &len, err);
    http_conn_close(&c);
    http_response_free(&resp);
    if (body == NULL)
        return -1;
    while (off < len) {
        size_t used = 0;
        cleanup_json json_t *m = json_parse_prefix(body + off, len - off, &used, NULL);
        const char *e, *s;
        if (m == NULL)
            break;
        off += used;
        while (off < len && (body[off] == '\n' || body[off] == '\r' || body[off] == ' '))
            off++;
        e = json_get_str(json_object_get(m, "errorDetail"), "message");
        if (e == NULL)
            e = json_get_str(m, "error");
        if (e != NULL)
            return client_error_daemon(err, ISD_ERR_INTERNAL, e);
        s = json_get_str(m, "stream") != NULL ? json_get_str(m, "stream") : json_get_str(m, "status");
        if (s != NULL && ret_last != NULL) {
            free(*ret_last);
            *ret_last = xstrdup(s);
        }
    }
    return 0;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

/* --tag: tags the loaded image (named in "Loaded image: X" / "Loaded image ID: X") as tag. */
static int retag(const char *loaded, const char *tag, struct isd_error **err)
{
    const char *src = strrchr(loaded, ' ') != NULL ? strrchr(loaded, ' ') + 1 : loaded;
    const char *slash = strrchr(tag, '/'), *colon = strrchr(slash != NULL ? slash : tag, ':');
    cleanup_free char *repo = colon != NULL ? xstrndup(tag, (size_t)(colon - tag)) : xstrdup(tag);
    cleanup_free char *erepo = client_query_escape(repo), *etag = client_query_escape(colon ? colon + 1 : "latest");
    cleanup_free char *base = cmd_path("images", src, "tag");
    cleanup_free char *path = xasprintf("%s?repo=%s&tag=%s", base, erepo, etag);
    return client_call(cmd_host(), "POST", path, NULL, NULL, err) < 0 ? -1 : 0;
}

/* --type embedded: the daemon reads the manifest and its layer files from the (local) path. */
static int load_embedded(const char *input, const char *tag)
{
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *body = NULL;
    char abs[PATH_MAX];
    if (tag != NULL) {
        fprintf(stderr, "Error: --tag is only supported for docker images\n");
        return 1;
    }
    if (realpath(input, abs) == NULL) {
        fprintf(stderr, "Error: cannot open `%s`: %s\n", input, strerror(errno));
        return 1;
    }
    body = json_pack("{s:s}", "Path", abs);
    if (client_call(cmd_host(), "POST", "/isula/images/load-embedded", body, NULL, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    printf("Load image from \"%s\" success\n", abs);
    return 0;
}

int cmd_load(int argc, char **argv)
{
    char *input = NULL, *tag = NULL, *type = NULL;
    const struct cli_option o[] = {{"input", 'i', CLI_OPT_STRING, &input, "Read from a manifest or an archive"},
                                   {"tag", 0, CLI_OPT_STRING, &tag, "Name the loaded image (docker type only)"},
                                   {"type", 't', CLI_OPT_STRING, &type, "Image type: docker (default) or embedded"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *last = NULL;
    cleanup_close int fd = -1;
    char abs[PATH_MAX];
    int rc;
    if (cmd_parse("load", o, argc, argv, 0, 0, &pos, &rc) < 0)
        return rc;
    if (type != NULL && !streq(type, "docker") && !streq(type, "embedded")) {
        fprintf(stderr, "Error: invalid image type `%s`: use docker or embedded\n", type);
        return 1;
    }
    if (input == NULL) {
        fprintf(stderr, "Error: missing image archive: use -i, --input\n");
        return 1;
    }
    if (type != NULL && streq(type, "embedded"))
        return load_embedded(input, tag);
    if (realpath(input, abs) == NULL || (fd = open(abs, O_RDONLY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "Error: cannot open `%s`: %s\n", input, strerror(errno));
        return 1;
    }
    if (upload("/images/load?quiet=1", fd, &last, &err) < 0 ||
        (tag != NULL && last != NULL && (trim(last), retag(last, tag, &err)) < 0)) {
        cmd_print_error(err);
        return 1;
    }
    printf("Load image from \"%s\" success\n", abs);
    return 0;
}

int cmd_import(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *last = NULL, *path = NULL, *repo = NULL, *erepo = NULL, *etag = NULL;
    cleanup_close int fd = -1;
    const char *slash, *colon;
    int rc;
    if (cmd_parse("import", o, argc, argv, 0, 2, &pos, &rc) < 0)
        return rc;
    fd = streq(pos[0], "-") ? dup(STDIN_FILENO) : open(pos[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "Error: cannot open `%s`: %s\n", pos[0], strerror(errno));
        return 1;
    }
    slash = strrchr(pos[1], '/');
    colon = strrchr(slash != NULL ? slash : pos[1], ':');
    repo = colon != NULL ? xstrndup(pos[1], (size_t)(colon - pos[1])) : xstrdup(pos[1]);
    erepo = client_query_escape(repo);
    etag = client_query_escape(colon != NULL ? colon + 1 : "latest");
    path = xasprintf("/images/create?fromSrc=-&repo=%s&tag=%s", erepo, etag);
    if (upload(path, fd, &last, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    if (last != NULL) {
        trim(last);
        printf("%s\n", last);
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    char *output = NULL;
    const struct cli_option o[] = {
        {"output", 'o', CLI_OPT_STRING, &output, "Write to a file, instead of STDOUT"}, CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *path = NULL;
    cleanup_close int fd = -1;
    struct http_request req = {.method = "GET", .body_fd = -1};
    struct http_conn c;
    struct http_response resp;
    char buf[65536];
    ssize_t r;
    int rc;
    if (cmd_parse("export", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    fd = cmd_open_tar_output(output);
    if (fd < 0) {
        return 1;
    }
    path = cmd_path("containers", pos[0], "export");
    req.path = path;
    if (client_request(cmd_host(), &req, &c, &resp, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    while ((r = http_read_body(&c, &resp, buf, sizeof(buf), &err)) > 0)
        if (write(fd, buf, (size_t)r) != r) {
            r = isd_error_errno(&err, "write export");
            break;
        }
    http_conn_close(&c);
    http_response_free(&resp);
    if (r < 0)
        cmd_print_error(err);
    free(output);
    return r < 0 ? 1 : 0;
}
