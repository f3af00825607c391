/* Response helpers of the REST adapter. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/metrics.h"
#include "daemon/api/rest/request.h"

const char *rq_query(struct request *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct query_collect {
    const char *key;
    char **values;
};

static enum MHD_Result collect_value(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct query_collect *q = cls;
    if (streq(key, q->key) && value != NULL)
        strv_append(&q->values, value);
    return MHD_YES;
}

char **rq_query_all(struct request *rq, const char *key)
{
    struct query_collect q = {.key = key};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, collect_value, &q);
    return q.values;
}

bool rq_query_bool(struct request *rq, const char *key)
{
    const char *v = rq_query(rq, key);
    if (v == NULL)
        return false;
    return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcmp(v, "") == 0;
}

int rq_query_int_checked(struct request *rq, const char *key, int dflt, int *ret)
{
    long long v;
    const char *s = rq_query(rq, key);
    cleanup_free char *msg = NULL;
    if (s == NULL || *s == '\0') {
        *ret = dflt;
        return 0;
    }
    if (parse_int64(s, &v) == 0 && v >= INT_MIN && v <= INT_MAX) {
        *ret = (int)v;
        return 0;
    }
    msg = xasprintf("invalid value `%s` for query parameter `%s`: not an integer", s, key);
    rq_reply_msg(rq, 400, msg);
    return -1;
}

int rq_query_filters(struct request *rq, json_t **ret)
{
    struct isd_error *err = NULL;
    const char *f = rq_query(rq, "filters");
    *ret = NULL;
    if (f == NULL || *f == '\0')
        return 0;
    *ret = json_parse(f, strlen(f), &err);
    if (json_is_object(*ret))
        return 0;
    json_decref(*ret);
    *ret = NULL;
    if (err == NULL)
        isd_error_set(&err, ISD_ERR_INVALID, 0, "invalid filters: not a JSON object");
    rq_reply_error(rq, err);
    isd_error_free(err);
    return -1;
}

json_t *rq_json_body(struct request *rq, const struct json_type *type)
{
    struct isd_error *err = NULL;
    json_t *j;
    if (rq->body.len == 0)
        return json_object();
    j = json_parse(rq->body.data, rq->body.len, &err);
    if (j != NULL && type != NULL && json_check(j, type, NULL, &err) < 0) {
        json_decref(j);
        j = NULL;
    }
    if (j == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
    }
    return j;
}

void rq_reply_json(struct request *rq, unsigned int status, json_t *j)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len] = '\n';
    text[len + 1] = '\0';
    json_decref(j);
    rq->status = status;
    rq->response = MHD_create_response_from_buffer(len + 1, text, MHD_RESPMEM_MUST_FREE);
    rq->resp_body = text;
    rq->resp_body_len = len + 1;
    MHD_add_response_header(rq->response, "Content-Type", "application/json");
}

/* Docker's error body {"message": ...} plus the code (common/error.h's wire name) that clients such as isula
 * read back: the HTTP status alone cannot tell 126 from 127. */
static void reply_coded(struct request *rq, enum isd_error_code code, const char *msg)
{
    int status = isd_error_code_http_status(code);
    if (status == 304) {
        rq_reply_empty(rq, 304);
        return;
    }
    if (status >= 500)
        log_error("%s %s: %s", rq->method, rq->path, msg);
    rq_reply_json(rq, (unsigned int)status, json_pack("{s:s, s:s}", "message", msg, "code", isd_error_code_name(code)));
}

void rq_reply_msg(struct request *rq, unsigned int status, const char *msg)
{
    reply_coded(rq, isd_error_from_http_status((int)status), msg);
}

void rq_reply_result_json(struct request *rq, json_t *j, struct isd_error **err, unsigned int status)
{
    if (j == NULL)
        rq_reply_error(rq, *err);
    else
        rq_reply_json(rq, status, j);
    isd_error_free(*err);
    *err = NULL;
}

void rq_reply_result(struct request *rq, int rc, struct isd_error **err, unsigned int status)
{
    if (rc < 0)
        rq_reply_error(rq, *err);
    else
        rq_reply_empty(rq, status);
    isd_error_free(*err);
    *err = NULL;
}

void rq_reply_filtered(struct request *rq,
                       json_t *(*fn)(struct daemon *d, const json_t *filters, struct isd_error **err))
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    json_t *j;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    j = fn(rq->d, filters, &err);
    rq_reply_result_json(rq, j, &err, 200);
}

void rq_reply_error(struct request *rq, struct isd_error *err)
{
    reply_coded(rq, err != NULL ? err->code : ISD_ERR_INTERNAL, err != NULL ? err->msg : "unknown error");
}

void rq_reply_empty(struct request *rq, unsigned int status)
{
    rq->status = status;
    rq->response = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
}

void rq_reply_text(struct request *rq, unsigned int status, const char *content_type, const char *text)
{
    char *copy = xstrdup(text);
    rq->status = status;
    rq->response = MHD_create_response_from_buffer(strlen(copy), copy, MHD_RESPMEM_MUST_FREE);
    rq->resp_body = copy;
    rq->resp_body_len = strlen(copy);
    MHD_add_response_header(rq->response, "Content-Type", content_type);
}

struct producer {
    void (*fn)(void *data, int fd);
    void *data;
    int fd;
    char *method, *path; /* for the metrics, observed before the end of the stream reaches the client */
    long long start_ns;
};

static void *producer_main(void *arg)
{
    struct producer *p = arg;
    p->fn(p->data, p->fd);
    rest_metrics_observe(p->method, p->path, (double)(now_ns() - p->start_ns) / 1e9);
    close(p->fd);
    free(p->method);
    free(p->path);
    free(p);
    return NULL;
}

void rq_reply_stream(struct request *rq, const char *content_type, void (*fn)(void *data, int fd), void *data)
{
    int p[2];
    struct producer *pr;
    if (pipe2(p, O_CLOEXEC) < 0) {
        rq_reply_msg(rq, 500, "pipe failed");
        return;
    }
    pr = xcalloc(1, sizeof(*pr));
    pr->fn = fn;
    pr->data = data;
    pr->fd = p[1];
    pr->method = xstrdup(rq->method);
    pr->path = xstrdup(rq->path);
    pr->start_ns = rq->start_ns;
    if (thread_start_detached(producer_main, pr) < 0) {
        close(p[0]);
        close(p[1]);
        free(pr->method);
        free(pr->path);
        free(pr);
        rq_reply_msg(rq, 500, "cannot start a thread");
        return;
    }
    rq->status = 200;
    rq->observed = true;
    rq->response = MHD_create_response_from_pipe(p[0]);
    MHD_add_response_header(rq->response, "Content-Type", content_type);
}

struct hijack {
    hijack_fn fn;
    struct request shadow; /* the bits of the request the hijacked handler may use */
};

static void *hijack_main(void *arg)
{
    void **a = arg;
    struct hijack *h = a[0];
    struct MHD_UpgradeResponseHandle *urh = a[1];
    int fd = (int)(long)a[2];
    int flags = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    h->fn(&h->shadow, fd);
    shutdown(fd, SHUT_RDWR);
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    free(h->shadow.arg);
    free(h);
    free(a);
    return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
    void **a = xcalloc(3, sizeof(void *));
    a[0] = cls;
    a[1] = urh;
    a[2] = (void *)(long)sock;
    if (extra_in_size > 0)
        log_warn("hijacked connection: %zu early bytes from the client dropped", extra_in_size);
    if (thread_start_detached(hijack_main, a) < 0) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        free(a);
    }
}

void rq_reply_hijack(struct request *rq, hijack_fn fn, void *data)
{
    struct hijack *h = xcalloc(1, sizeof(*h));
    h->fn = fn;
    h->shadow.d = rq->d;
    h->shadow.arg = xstrdup(rq->arg);
    h->shadow.hijack_data = data;
    h->shadow.body_fd = -1;
    rq->status = MHD_HTTP_SWITCHING_PROTOCOLS;
    rq->response = MHD_create_response_for_upgrade(on_upgrade, h);
    MHD_add_response_header(rq->response, "Content-Type", "application/vnd.docker.raw-stream");
    MHD_add_response_header(rq->response, MHD_HTTP_HEADER_UPGRADE, "tcp");
    MHD_add_response_header(rq->response, MHD_HTTP_HEADER_CONNECTION, "Upgrade");
}

void rq_hijack_content_type(struct request *rq, bool tty)
{
    if (tty || rq->api_minor < 42 || rq->response == NULL)
        return;
    MHD_del_response_header(rq->response, "Content-Type", "application/vnd.docker.raw-stream");
    MHD_add_response_header(rq->response, "Content-Type", "application/vnd.docker.multiplexed-stream");
}
