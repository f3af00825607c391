/* Image, exec and system routes. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"

void h_ping(struct request *rq, const char *arg)
{
    rq_reply_text(rq, 200, "text/plain; charset=utf-8", "OK");
    MHD_add_response_header(rq->response, "Cache-Control", "no-cache, no-store, must-revalidate");
}

void h_version(struct request *rq, const char *arg)
{
    rq_reply_json(rq, 200, service_version(rq->d));
}

void h_info(struct request *rq, const char *arg)
{
    rq_reply_json(rq, 200, service_info(rq->d));
}

void h_image_list(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    rq_reply_result_json(rq, service_image_list(rq->d, rq_query_bool(rq, "all"), filters, &err), &err, 200);
}

void h_image_inspect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result_json(rq, service_image_inspect(rq->d, arg, &err), &err, 200);
}

void h_image_remove(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result_json(rq, service_image_remove(rq->d, arg, rq_query_bool(rq, "force"), &err), &err, 200);
}

void h_image_tag(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    if (service_image_tag(rq->d, arg, rq_query(rq, "repo"), rq_query(rq, "tag"), &err) < 0)
        rq_reply_error(rq, err);
    else
        rq_reply_empty(rq, 201);
    isd_error_free(err);
}

static void text_produce(void *data, int fd)
{
    char *text = data;
    if (fd_write_all(fd, text, strlen(text)) < 0)
        log_debug("load: client went away");
    free(text);
}

void h_image_load(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_strv char **loaded = NULL;
    struct buf b = {0};
    if (service_image_load(rq->d, rq->body_fd, &loaded, &err) < 0) {
        /* as Docker's: 200, and the error in the JSON stream (the SDK raises ImageLoadError from it) */
        cleanup_json json_t *j = json_pack("{s:{s:s}, s:s}", "errorDetail", "message", err->msg, "error", err->msg);
        cleanup_free char *line = json_line(j);
        isd_error_free(err);
        rq_reply_stream(rq, "application/json", text_produce, xstrdup(line != NULL ? line : "{}\n"));
        return;
    }
    for (size_t i = 0; loaded != NULL && loaded[i] != NULL; i++) {
        cleanup_free char *line = str_has_prefix(loaded[i], "sha256:") || strchr(loaded[i], ':') == NULL
                                      ? xasprintf("Loaded image ID: %s\n", loaded[i])
                                      : xasprintf("Loaded image: %s\n", loaded[i]);
        json_t *j = json_pack("{s:s}", "stream", line);
        char *text = json_dumps(j, JSON_COMPACT);
        buf_printf(&b, "%s\n", text);
        free(text);
        json_decref(j);
    }
    /* Chunked, as docker answers: the Python SDK decodes a non-chunked body as one JSON document. */
    rq_reply_stream(rq, "application/json", text_produce, buf_steal(&b));
}

void h_image_create(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_free char *id = NULL;
    cleanup_strv char **changes = NULL;
    const char *src = rq_query(rq, "fromSrc");
    if (src == NULL) {
        h_image_pull(rq, arg);
        return;
    }
    if (strcmp(src, "-") != 0) {
        rq_reply_msg(rq, 400, "only importing from the request body (fromSrc=-) is supported");
        return;
    }
    changes = rq_query_all(rq, "changes"); /* Docker's clients send one `changes` per --change */
    if (service_image_import(rq->d, rq->body_fd, rq_query(rq, "repo"), rq_query(rq, "tag"), changes, &id, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    cleanup_free char *status = xasprintf("sha256:%s", id);
    cleanup_json json_t *j = json_pack("{s:s}", "status", status);
    cleanup_free char *line = json_line(j);
    rq_reply_text(rq, 200, "application/json", line);
}

struct save_job {
    struct daemon *d;
    char **refs;
};

static void save_produce(void *data, int fd)
{
    struct save_job *j = data;
    struct isd_error *err = NULL;
    if (service_image_save(j->d, j->refs, fd, &err) < 0)
        log_error("save: %s", err->msg);
    isd_error_free(err);
    strv_free(j->refs);
    free(j);
}

void h_image_save(struct request *rq, const char *arg)
{
    struct save_job *j = xcalloc(1, sizeof(*j));
    j->d = rq->d;
    if (arg != NULL)
        strv_append(&j->refs, arg);
    else
        j->refs = rq_query_all(rq, "names");
    if (j->refs == NULL) {
        free(j);
        rq_reply_msg(rq, 400, "no image names given");
        return;
    }
    for (size_t i = 0; j->refs != NULL && j->refs[i] != NULL; i++) {
        struct isd_error *err = NULL;
        json_t *img = service_image_inspect(rq->d, j->refs[i], &err);
        if (img == NULL) {
            rq_reply_error(rq, err);
            isd_error_free(err);
            strv_free(j->refs);
            free(j);
            return;
        }
        json_decref(img);
    }
    rq_reply_stream(rq, "application/x-tar", save_produce, j);
}

void h_exec_create(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_exec_create_body);
    cleanup_free char *id = NULL;
    if (body == NULL)
        return;
    if (service_exec_create(rq->d, arg, body, &id, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_json(rq, 201, json_pack("{s:s}", "Id", id));
}

/* An exec that cannot start reports on the stream, framed as stdout without a tty, as Docker does. */
static void exec_run(struct request *rq, int fd)
{
    struct isd_error *err = NULL;
    bool tty = rq->hijack_data != NULL;
    if (service_exec_start(rq->d, rq->arg, fd, &err) < 0 && err != NULL) {
        cleanup_free char *msg = xasprintf("%s\r\n", err->msg);
        size_t len = strlen(msg);
        unsigned char hdr[8] = {1,
                                0,
                                0,
                                0,
                                (unsigned char)(len >> 24),
                                (unsigned char)(len >> 16),
                                (unsigned char)(len >> 8),
                                (unsigned char)len};
        if ((!tty && write(fd, hdr, 8) < 0) || write(fd, msg, len) < 0)
            log_debug("exec: client went away");
    }
    isd_error_free(err);
}

void h_exec_start(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_exec_start_body);
    bool tty;
    if (body == NULL)
        return;
    if (service_exec_start_check(rq->d, arg, &tty, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    if (json_get_bool(body, "Detach", false)) {
        if (service_exec_start(rq->d, arg, -1, &err) < 0)
            rq_reply_error(rq, err);
        else
            rq_reply_empty(rq, 200);
        isd_error_free(err);
        return;
    }
    /* hijack_data only says whether there is a tty (non-NULL) */
    rq_reply_hijack(rq, exec_run, tty ? (void *)rq : NULL);
    rq_hijack_content_type(rq, tty);
}

void h_exec_inspect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result_json(rq, service_exec_inspect(rq->d, arg, &err), &err, 200);
}

void h_exec_resize(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    int h, w;
    if (rq_query_int_checked(rq, "h", 24, &h) < 0 || rq_query_int_checked(rq, "w", 80, &w) < 0)
        return;
    if (service_exec_resize(rq->d, arg, h, w, &err) < 0)
        rq_reply_error(rq, err);
    else
        rq_reply_empty(rq, 200);
    isd_error_free(err);
}
