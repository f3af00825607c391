/* Registry routes: pull (POST /images/create?fromImage=), login (POST /auth), logout (DELETE /isula/auth). */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/log.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/request.h"
#include "daemon/api/rest/routes.h"

static void pull_produce(void *data, int fd)
{
    struct pull_job *j = data;
    struct isd_error *err = NULL;
    if (service_image_pull_run(j, fd, &err) < 0)
        log_error("%s", err->msg);
    isd_error_free(err);
    service_image_pull_free(j);
}

void h_image_pull(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    const char *auth = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Registry-Auth");
    struct pull_job *j = service_image_pull_begin(rq->d, rq_query(rq, "fromImage"), rq_query(rq, "tag"), auth, &err);
    if (j == NULL) {
        log_error("%s", err->msg);
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_stream(rq, "application/json", pull_produce, j);
}

void h_auth_login(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_json json_t *body = rq_json_body(rq, &rest_auth_body);
    if (body == NULL)
        return;
    if (service_auth_login(rq->d, body, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_json(rq, 200, json_pack("{s:s,s:s}", "Status", "Login Succeeded", "IdentityToken", ""));
}

/* Forgetting a login that was never stored is not an error (as docker logout). */
void h_auth_logout(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    if (service_auth_logout(rq->d, rq_query(rq, "serveraddress"), &err) < 0 && err->code != ISD_ERR_NOT_FOUND) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    isd_error_free(err);
    rq_reply_json(rq, 200, json_pack("{s:s}", "Status", "Logout Succeeded"));
}
