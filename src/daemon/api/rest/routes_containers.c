/* Container routes: decode, call the service, encode. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"

void h_container_create(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_create_body);
    cleanup_free char *id = NULL;
    json_t *warnings;
    if (body == NULL)
        return;
    warnings = json_array();
    if (service_container_create(rq->d, rq_query(rq, "name"), body, &id, warnings, &err) < 0) {
        json_decref(warnings);
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_json(rq, 201, json_pack("{s:s, s:o}", "Id", id, "Warnings", warnings));
}

void h_container_list(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    json_t *out;
    int limit;
    if (rq_query_int_checked(rq, "limit", -1, &limit) < 0 || rq_query_filters(rq, &filters) < 0)
        return;
    out = service_container_list(rq->d, rq_query_bool(rq, "all"), filters, limit, &err);
    if (out != NULL && rq_query_bool(rq, "size"))
        service_container_add_sizes(rq->d, out);
    rq_reply_result_json(rq, out, &err, 200);
}

void h_container_inspect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_container_inspect(rq->d, arg, &err);
    if (j != NULL && rq_query_bool(rq, "size"))
        service_container_add_sizes(rq->d, j);
    rq_reply_result_json(rq, j, &err, 200);
}

void h_container_start(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result(rq, service_container_start(rq->d, arg, &err), &err, 204);
}

void h_container_stop(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    int t;
    if (rq_query_int_checked(rq, "t", SERVICE_STOP_TIMEOUT_DEFAULT, &t) == 0)
        rq_reply_result(rq, service_container_stop(rq->d, arg, t, &err), &err, 204);
}

void h_container_restart(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    int t;
    if (rq_query_int_checked(rq, "t", SERVICE_STOP_TIMEOUT_DEFAULT, &t) == 0)
        rq_reply_result(rq, service_container_restart(rq->d, arg, t, &err), &err, 204);
}

void h_container_kill(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result(rq, service_container_kill(rq->d, arg, rq_query(rq, "signal"), &err), &err, 204);
}

void h_container_pause(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result(rq, service_container_pause(rq->d, arg, &err), &err, 204);
}

void h_container_unpause(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result(rq, service_container_unpause(rq->d, arg, &err), &err, 204);
}

void h_container_rename(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result(rq, service_container_rename(rq->d, arg, rq_query(rq, "name"), &err), &err, 204);
}

void h_container_update(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_update_body);
    if (body == NULL)
        return;
    if (service_container_update(rq->d, arg, body, &err) < 0)
        rq_reply_error(rq, err);
    else
        rq_reply_json(rq, 200, json_pack("{s:[]}", "Warnings"));
    isd_error_free(err);
}

void h_container_remove(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    rq_reply_result(rq, service_container_remove(rq->d, arg, rq_query_bool(rq, "force"), rq_query_bool(rq, "v"), &err),
                    &err, 204);
}

void h_container_resize(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    int h, w;
    if (rq_query_int_checked(rq, "h", 24, &h) == 0 && rq_query_int_checked(rq, "w", 80, &w) == 0)
        rq_reply_result(rq, service_container_resize(rq->d, arg, h, w, &err), &err, 200);
}

static void wait_produce(void *data, int fd)
{
    struct container_waiter *w = data;
    int code = service_container_wait_end(w);
    cleanup_json json_t *j = json_pack("{s:i, s:n}", "StatusCode", code, "Error");
    cleanup_free char *text = json_line(j);
    if (write(fd, text, strlen(text)) < 0)
        log_debug("wait: client went away");
}

void h_container_wait(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    struct container_waiter *w = service_container_wait_begin(rq->d, arg, rq_query(rq, "condition"), &err);
    if (w == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_stream(rq, "application/json", wait_produce, w);
}

struct logs_job {
    struct daemon *d;
    char *id;
    struct logs_opts o;
};

static void logs_produce(void *data, int fd)
{
    struct logs_job *j = data;
    struct isd_error *err = NULL;
    service_container_logs(j->d, j->id, &j->o, fd, &err);
    isd_error_free(err);
    free(j->id);
    free(j);
}

/* Docker's since/until: unix seconds with up to nine decimals ("1700000000.123456789", kept to the
 * nanosecond) or RFC 3339; 0 when absent; anything else a 400 naming the parameter. */
static int query_time(struct request *rq, const char *key, long long *ret_ns)
{
    const char *s = rq_query(rq, key);
    long long secs, frac = 0;
    char *end = NULL;
    *ret_ns = 0;
    if (s == NULL || *s == '\0')
        return 0;
    if (time_parse_rfc3339(s, ret_ns) == 0)
        return 0;
    errno = 0;
    secs = strtoll(s, &end, 10);
    if (end != s && *end == '.' && end[1] != '\0') {
        const char *p = end + 1;
        int digits = 0;
        for (; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
            frac = frac * 10 + (*p - '0');
        for (; digits < 9; digits++)
            frac *= 10;
        end = (char *)p;
    }
    if (end == s || *end != '\0' || errno != 0 || secs < 0) {
        cleanup_free char *msg =
            xasprintf("invalid value for \"%s\": `%s` is neither a unix time nor an RFC 3339 time", key, s);
        rq_reply_msg(rq, 400, msg);
        return -1;
    }
    *ret_ns = secs * 1000000000LL + frac;
    return 0;
}

void h_container_logs(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    struct logs_job *j;
    bool tty;
    const char *tail = rq_query(rq, "tail");
    if (service_container_logs_check(rq->d, arg, &tty, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    long long since_ns, until_ns;
    if (query_time(rq, "since", &since_ns) < 0 || query_time(rq, "until", &until_ns) < 0)
        return;
    j = xcalloc(1, sizeof(*j));
    j->d = rq->d;
    j->id = xstrdup(arg);
    j->o.out = rq_query_bool(rq, "stdout");
    j->o.err = rq_query_bool(rq, "stderr");
    if (!j->o.out && !j->o.err)
        j->o.out = j->o.err = true;
    j->o.follow = rq_query_bool(rq, "follow");
    j->o.timestamps = rq_query_bool(rq, "timestamps");
    j->o.since_ns = since_ns;
    j->o.until_ns = until_ns;
    j->o.tail = -1;
    if (tail != NULL && strcmp(tail, "all") != 0 && parse_int64(tail, &j->o.tail) < 0)
        j->o.tail = -1;
    rq_reply_stream(rq, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream",
                    logs_produce, j);
}

void h_container_top(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_container_top(rq->d, arg, rq_query(rq, "ps_args"), &err);
    rq_reply_result_json(rq, j, &err, 200);
}

static void events_produce(void *data, int fd)
{
    service_events_run(data, fd);
}

/* GET /events?since=&until=&filters= (Docker's API): the kept events from since, then new ones until until. */
void h_events(struct request *rq, const char *arg)
{
    cleanup_json json_t *filters = NULL;
    struct events_job *j;
    struct isd_error *err = NULL;
    long long since_ns, until_ns;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    if (filters == NULL)
        filters = json_object();
    if (query_time(rq, "since", &since_ns) < 0 || query_time(rq, "until", &until_ns) < 0)
        return;
    j = service_events_begin(rq->d, filters, since_ns, until_ns, &err);
    if (j == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_stream(rq, "application/json", events_produce, j);
}

struct stats_stream {
    struct stats_job *job;
    bool stream;
};

static void stats_produce(void *data, int fd)
{
    struct stats_stream *s = data;
    service_container_stats_run(s->job, s->stream, fd);
    free(s);
}

/* stream defaults to true, as Docker's; one-shot is accepted (a single answer is always complete here). */
void h_container_stats(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    struct stats_job *job = service_container_stats_begin(rq->d, arg, &err);
    struct stats_stream *s;
    const char *stream = rq_query(rq, "stream");
    if (job == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    s = xcalloc(1, sizeof(*s));
    s->job = job;
    s->stream = stream == NULL || rq_query_bool(rq, "stream");
    rq_reply_stream(rq, "application/json", stats_produce, s);
}

struct export_job {
    struct daemon *d;
    char *id;
};

static void export_produce(void *data, int fd)
{
    struct export_job *j = data;
    struct isd_error *err = NULL;
    if (service_container_export(j->d, j->id, fd, &err) < 0)
        log_error("export `%s`: %s", j->id, err->msg);
    isd_error_free(err);
    free(j->id);
    free(j);
}

void h_container_export(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_container_inspect(rq->d, arg, &err);
    struct export_job *job;
    if (j == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    job = xcalloc(1, sizeof(*job));
    job->d = rq->d;
    job->id = xstrdup(json_get_str(j, "Id"));
    json_decref(j);
    rq_reply_stream(rq, "application/x-tar", export_produce, job);
}

static void attach_run(struct request *rq, int fd)
{
    struct attach_ticket *t = rq->hijack_data;
    struct isd_error *err = NULL;
    if (service_container_attach_run(t, fd, &err) < 0 && err != NULL) {
        cleanup_free char *msg = xasprintf("%s\r\n", err->msg);
        if (write(fd, msg, strlen(msg)) < 0)
            log_debug("attach: client went away");
    }
    isd_error_free(err);
}

void h_container_attach(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    struct attach_opts o = {
        .in = rq_query_bool(rq, "stdin"), .out = rq_query_bool(rq, "stdout"), .err = rq_query_bool(rq, "stderr")};
    struct attach_ticket *t = service_container_attach_begin(rq->d, arg, &o, &err);
    if (t == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_hijack(rq, attach_run, t);
}
