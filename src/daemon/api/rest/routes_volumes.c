/* Docker's /volumes API (local driver): list, create, inspect, remove, prune. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/routes.h"

static void reply(struct request *rq, json_t *j, struct isd_error *err, unsigned int status)
{
    if (j == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_json(rq, status, j);
}

void h_volume_list(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    (void)arg;
    json_t *j;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    j = service_volume_list(rq->d, filters, &err);
    reply(rq, j, err, 200);
}

void h_volume_create(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_volume_create_body);
    (void)arg;
    json_t *j;
    if (body == NULL)
        return;
    j = service_volume_create(rq->d, body, &err);
    reply(rq, j, err, 201);
}

void h_volume_inspect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_volume_inspect(rq->d, arg, &err);
    reply(rq, j, err, 200);
}

void h_volume_remove(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    if (service_volume_remove(rq->d, arg, rq_query_bool(rq, "force"), &err) < 0) {
        reply(rq, NULL, err, 0);
        return;
    }
    rq_reply_empty(rq, 204);
}

void h_volume_prune(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    (void)arg;
    json_t *j;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    j = service_volume_prune(rq->d, filters, &err);
    reply(rq, j, err, 200);
}
