/* Network routes (Docker's /networks): decode, call the service, encode. */
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"

/* The service call comes first, in its own statement: C leaves the order of argument evaluation open. */
static void reply(struct request *rq, json_t *j, struct isd_error *err, unsigned int status)
{
    if (j == NULL)
        rq_reply_error(rq, err);
    else
        rq_reply_json(rq, status, j);
    isd_error_free(err);
}

void h_network_create(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_network_create_body);
    if (body == NULL)
        return;
    json_t *j = service_network_create(rq->d, body, &err);
    reply(rq, j, err, 201);
}

void h_network_list(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    json_t *j = service_network_list(rq->d, filters, &err);
    reply(rq, j, err, 200);
}

void h_network_prune(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    json_t *j = service_network_prune(rq->d, filters, &err);
    reply(rq, j, err, 200);
}

void h_network_inspect(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_network_inspect(rq->d, arg, &err);
    reply(rq, j, err, 200);
}

void h_network_remove(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    if (service_network_remove(rq->d, arg, &err) < 0)
        rq_reply_error(rq, err);
    else
        rq_reply_empty(rq, 204);
    isd_error_free(err);
}

static void reply_rc(struct request *rq, int rc, struct isd_error *err)
{
    if (rc < 0)
        rq_reply_error(rq, err);
    else
        rq_reply_empty(rq, 200);
    isd_error_free(err);
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
    reply_rc(rq, rc, err);
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
    reply_rc(rq, rc, err);
}
