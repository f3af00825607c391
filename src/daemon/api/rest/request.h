/* Internal to the REST adapter: one request's state and the response helpers the route handlers use. */
#ifndef ISD_DAEMON_API_REST_REQUEST_H
#define ISD_DAEMON_API_REST_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/json_check.h"
#include "common/util.h"
#include "daemon/service/service.h"

#define REST_MAX_JSON_BODY (1 << 20)

struct request;
typedef void (*route_fn)(struct request *rq, const char *arg);
typedef void (*hijack_fn)(struct request *rq, int fd);

struct request {
    struct daemon *d;
    struct MHD_Connection *conn;
    char *method;
    char *path; /* without the /vX.Y prefix */
    route_fn handler;
    char *arg;        /* the {id} or {name} of the path */
    bool stream_body; /* body goes to body_fd (image load/import) */
    int body_fd;
    char *body_path;
    struct buf body;
    bool too_large;
    unsigned int status;
    struct MHD_Response *response;
    long long start_ns; /* for the metrics' latency histograms */
    bool observed;      /* the metrics have this request: before its answer can reach the client */
    hijack_fn hijack;   /* set by a handler that upgrades the connection */
    void *hijack_data;
    int api_minor; /* y of a /v1.y prefix; 0 without one */
    /* authz (authz.h): who asked, and the buffered response body (borrowed from response, NULL when streamed) */
    char *authz_user;
    const char *authz_method;
    const char *resp_body;
    size_t resp_body_len;
};

const char *rq_query(struct request *rq, const char *key);
/* Every value of a repeated query parameter (`names=a&names=b`); NULL-terminated copy, NULL when none. */
char **rq_query_all(struct request *rq, const char *key);
bool rq_query_bool(struct request *rq, const char *key);
/* An integer query parameter, strictly: *ret = dflt when absent or empty; a value that is not an int is
 * answered 400 naming the parameter (as Docker) and gives -1. */
int rq_query_int_checked(struct request *rq, const char *key, int dflt, int *ret);
/* Docker's ?filters= (a JSON object): *ret = NULL when absent or empty; malformed JSON or another type is
 * answered 400 and gives -1. */
int rq_query_filters(struct request *rq, json_t **ret);
/* The JSON body, checked against type (NULL: any document); an empty body gives an empty object. NULL (and
 * an error response: 400 naming the field) when malformed or of the wrong shape. */
json_t *rq_json_body(struct request *rq, const struct json_type *type);

void rq_reply_json(struct request *rq, unsigned int status, json_t *j); /* steals j */
/* After rq_reply_hijack: Docker's content type of the stream, raw with a tty, else multiplexed from API 1.42
 * (application/vnd.docker.multiplexed-stream; older versions always said raw-stream). */
void rq_hijack_content_type(struct request *rq, bool tty);
void rq_reply_error(struct request *rq, struct isd_error *err);
void rq_reply_msg(struct request *rq, unsigned int status, const char *msg);
/* A service call's answer: j (stolen) with status, or *err's error response when j is NULL; frees *err. The error
 * goes by address: the call that fills it is often another argument, and C leaves their evaluation order open. */
void rq_reply_result_json(struct request *rq, json_t *j, struct isd_error **err, unsigned int status);
/* The same for a call giving an int: an empty response with status, or *err's when rc < 0; frees *err. */
void rq_reply_result(struct request *rq, int rc, struct isd_error **err, unsigned int status);
/* A list or prune taking Docker's ?filters= (a 400 when malformed): fn's answer, 200. */
void rq_reply_filtered(struct request *rq,
                       json_t *(*fn)(struct daemon *d, const json_t *filters, struct isd_error **err));
void rq_reply_empty(struct request *rq, unsigned int status);
void rq_reply_text(struct request *rq, unsigned int status, const char *content_type, const char *text);
/* A streamed body produced by fn(data, fd) in its own thread, writing to fd (closed after fn returns). */
void rq_reply_stream(struct request *rq, const char *content_type, void (*fn)(void *data, int fd), void *data);
/* Upgrades the connection (101) and calls fn(rq-data, fd) in its own thread. */
void rq_reply_hijack(struct request *rq, hijack_fn fn, void *data);

/* Finds the handler for method+path; sets rq->handler and rq->arg, and rq->stream_body for uploads. */
void routes_match(struct request *rq);

#endif
