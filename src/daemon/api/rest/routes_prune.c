/* Prunes and disk usage: POST /containers/prune, /images/prune, GET /system/df. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"
#include "daemon/service/service.h"

static void reply(struct request *rq, json_t *j, struct isd_error *err)
{
    if (j == NULL)
        rq_reply_error(rq, err);
    else
        rq_reply_json(rq, 200, j);
    isd_error_free(err);
}

void h_container_prune(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    (void)arg;
    json_t *j;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    j = service_container_prune(rq->d, filters, &err);
    reply(rq, j, err);
}

void h_image_prune(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *filters = NULL;
    (void)arg;
    json_t *j;
    if (rq_query_filters(rq, &filters) < 0)
        return;
    j = service_image_prune(rq->d, filters, &err);
    reply(rq, j, err);
}

void h_system_df(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_system_df(rq->d, &err);
    (void)arg;
    reply(rq, j, err);
}
