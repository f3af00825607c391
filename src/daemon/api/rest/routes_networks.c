/* Network routes (Docker's /networks): decode, call the service, encode. */
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"

void h_network_create(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_network_create_body);
    if (body == NULL)
        return;
    json_t *j = service_network_create(rq->d, body, &err);
    rq_reply_result_json(rq, j, &err, 201);
}

void h_network_list(struct request *rq, const char *arg)
{
    rq_reply_filtered(rq, service_network_list);
}

void h_network_prune(struct request *rq, const char *arg)
{
    rq_reply_filtered(rq, service_network_prune);
}

void h_network_inspect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_network_inspect(rq->d, arg, &err);
    rq_reply_result_json(rq, j, &err, 200);
}

void h_network_remove(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    int rc = service_network_remove(rq->d, arg, &err);
    rq_reply_result(rq, rc, &err, 204);
}

void h_network_connect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_network_connect_body);
    const char *ctr;
    if (body == NULL)
        return;
    ctr = json_get_str(body, "Container");
    int rc = service_network_connect(rq->d, arg, ctr ? ctr : "", json_object_get(body, "EndpointConfig"), &err);
    rq_reply_result(rq, rc, &err, 200);
}

void h_network_disconnect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_network_disconnect_body);
    const char *ctr;
    if (body == NULL)
        return;
    ctr = json_get_str(body, "Container");
    int rc = service_network_disconnect(rq->d, arg, ctr ? ctr : "", json_get_bool(body, "Force", false), &err);
    rq_reply_result(rq, rc, &err, 200);
}
