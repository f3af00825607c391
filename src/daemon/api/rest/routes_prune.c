/* Prunes and disk usage: POST /containers/prune, /images/prune, GET /system/df. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"
#include "daemon/service/service.h"

void h_container_prune(struct request *rq, const char *arg)
{
    (void)arg;
    rq_reply_filtered(rq, service_container_prune);
}

void h_image_prune(struct request *rq, const char *arg)
{
    (void)arg;
    rq_reply_filtered(rq, service_image_prune);
}

void h_system_df(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_system_df(rq->d, &err);
    (void)arg;
    rq_reply_result_json(rq, j, &err, 200);
}
