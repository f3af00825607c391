/*
 * isula save: GET /images/get?names=A&names=B... (one docker-archive holding every image given) written
 * to -o FILE or to stdout (never to a terminal). A failed save removes the partial file it created.
 * Single-threaded CLI code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/fs.h"
#include "common/util.h"

static char *save_path(char **names)
{
    struct buf b = {0};
    buf_printf(&b, "/images/get");
    for (char **p = names; *p != NULL; p++) {
        cleanup_free char *esc = client_query_escape(*p);
        buf_printf(&b, "%snames=%s", p == names ? "?" : "&", esc);
    }
    return buf_steal(&b);
}

/* Streams the archive into fd. */
static int save_to(int fd, char **names, struct isd_error **err)
{
    cleanup_free char *path = save_path(names);
    struct http_request req = {.method = "GET", .path = path, .body_fd = -1};
    struct http_conn c;
    struct http_response resp;
    char buf[65536];
    ssize_t r;
    if (client_request(cmd_host(), &req, &c, &resp, err) < 0)
        return -1;
    while ((r = http_read_body(&c, &resp, buf, sizeof(buf), err)) > 0)
        if (fd_write_all(fd, buf, (size_t)r) < 0) {
            r = isd_error_errno(err, "write the archive");
            break;
        }
    http_conn_close(&c);
    http_response_free(&resp);
    return r < 0 ? -1 : 0;
}

int cmd_save(int argc, char **argv)
{
    char *output = NULL;
    const struct cli_option o[] = {
        {"output", 'o', CLI_OPT_STRING, &output, "Write to a file, instead of STDOUT"}, CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_close int fd = -1;
    int rc;
    if (cmd_parse("save", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    fd = cmd_open_tar_output(output);
    if (fd < 0) {
        free(output);
        return 1;
    }
    rc = save_to(fd, pos, &err);
    if (rc < 0) {
        cmd_print_error(err);
        if (output != NULL)
            unlink(output);
    }
    free(output);
    return rc < 0 ? 1 : 0;
}
