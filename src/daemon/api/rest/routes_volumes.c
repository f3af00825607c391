/* Docker's /volumes API (local driver): list, create, inspect, remove, prune. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/routes.h"

void h_volume_list(struct request *rq, const char *arg)
{
    (void)arg;
    rq_reply_filtered(rq, service_volume_list);
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
    rq_reply_result_json(rq, j, &err, 201);
}

void h_volume_inspect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_volume_inspect(rq->d, arg, &err);
    rq_reply_result_json(rq, j, &err, 200);
}

void h_volume_remove(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    int rc = service_volume_remove(rq->d, arg, rq_query_bool(rq, "force"), &err);
    rq_reply_result(rq, rc, &err, 204);
}

void h_volume_prune(struct request *rq, const char *arg)
{
    (void)arg;
    rq_reply_filtered(rq, service_volume_prune);
}
