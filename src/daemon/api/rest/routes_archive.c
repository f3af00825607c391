/*
 * HEAD, GET and PUT /containers/{id}/archive?path=...: docker cp and the SDK's get_archive/put_archive. The
 * path's stat travels base64-encoded in the X-Docker-Container-Path-Stat header, as Docker sends it.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/routes.h"

static char *base64(const char *s)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s), o = 0;
    char *out = xmalloc((n + 2) / 3 * 4 + 1);
    for (size_t i = 0; i < n; i += 3) {
        unsigned int v = (unsigned char)s[i] << 16;
        v |= i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0;
        v |= i + 2 < n ? (unsigned char)s[i + 2] : 0;
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* The stat of ?path= (answered as an error when it fails: 400 without path, 404 when missing). */
static json_t *path_stat(struct request *rq, const char *arg)
{
    const char *path = rq_query(rq, "path");
    struct isd_error *err = NULL;
    json_t *st;
    if (path == NULL || path[0] == '\0') {
        rq_reply_msg(rq, 400, "bad parameter: path cannot be empty");
        return NULL;
    }
    st = service_container_archive_stat(rq->d, arg, path, &err);
    if (st == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
    }
    return st;
}

static void add_stat_header(struct request *rq, const json_t *st)
{
    cleanup_free char *text = json_dumps(st, JSON_COMPACT);
    cleanup_free char *enc = base64(text);
    MHD_add_response_header(rq->response, "X-Docker-Container-Path-Stat", enc);
}

void h_container_archive_head(struct request *rq, const char *arg)
{
    cleanup_json json_t *st = path_stat(rq, arg);
    if (st == NULL)
        return;
    rq_reply_empty(rq, 200);
    add_stat_header(rq, st);
}

struct archive_job {
    struct daemon *d;
    char *id;
    char *path;
    bool freeze;
};

static void archive_produce(void *data, int fd)
{
    struct archive_job *j = data;
    struct isd_error *err = NULL;
    if (service_container_archive_get(j->d, j->id, j->path, j->freeze, fd, &err) < 0)
        log_error("archive `%s` of `%s`: %s", j->path, j->id, err->msg);
    isd_error_free(err);
    free(j->id);
    free(j->path);
    free(j);
}

void h_container_archive_get(struct request *rq, const char *arg)
{
    cleanup_json json_t *st = path_stat(rq, arg);
    struct archive_job *job;
    if (st == NULL)
        return;
    job = xcalloc(1, sizeof(*job));
    job->d = rq->d;
    job->id = xstrdup(arg);
    job->path = xstrdup(rq_query(rq, "path"));
    job->freeze = rq_query_bool(rq, "freeze"); /* isula's extension: the guide's C-cp-04 */
    rq_reply_stream(rq, "application/x-tar", archive_produce, job);
    add_stat_header(rq, st);
}

void h_container_archive_put(struct request *rq, const char *arg)
{
    const char *path = rq_query(rq, "path");
    struct isd_error *err = NULL;
    struct archive_put_opts o = {.keep_owner = rq_query_bool(rq, "copyUIDGID"),
                                 .no_dir_overwrite = rq_query_bool(rq, "noOverwriteDirNonDir"),
                                 .freeze = rq_query_bool(rq, "freeze")};
    if (path == NULL || path[0] == '\0') {
        rq_reply_msg(rq, 400, "bad parameter: path cannot be empty");
        return;
    }
    if (service_container_archive_put(rq->d, arg, path, rq->body_fd, &o, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_empty(rq, 200);
}
