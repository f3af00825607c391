/* Image history and the embedded-image load route (isula extension). */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"

void h_image_history(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_image_history(rq->d, arg, &err);
    rq_reply_result_json(rq, j, &err, 200);
}

/* POST /isula/images/load-embedded {"Path": "/abs/manifest.json"} -> {"Name": "test:v1"} */
void h_image_load_embedded(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_free char *name = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_load_embedded_body);
    if (body == NULL)
        return;
    if (service_image_load_embedded(rq->d, json_get_str(body, "Path"), &name, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_json(rq, 200, json_pack("{s:s}", "Name", name));
}
