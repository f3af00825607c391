/* GET /containers/{id}/changes (docker diff) and POST /commit (docker commit). */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/api/rest/routes.h"

void h_container_changes(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    json_t *j = service_container_changes(rq->d, arg, &err);
    if (j == NULL) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    rq_reply_json(rq, 200, j);
}

static char *repo_tag(struct request *rq)
{
    const char *repo = rq_query(rq, "repo"), *tag = rq_query(rq, "tag");
    if (repo == NULL || repo[0] == '\0')
        return NULL;
    return tag != NULL && tag[0] != '\0' ? xasprintf("%s:%s", repo, tag) : xstrdup(repo);
}

void h_commit(struct request *rq, const char *arg)
{
    struct isd_error *err = NULL;
    cleanup_free char *id = NULL, *name = repo_tag(rq), *full = NULL;
    cleanup_strv char **changes = rq_query_all(rq, "changes");
    /* the docker CLI sends `null` when no config was given */
    bool null_body = rq->body.len == 4 && memcmp(rq->body.data, "null", 4) == 0;
    cleanup_json json_t *config = null_body ? json_object() : rq_json_body(rq, &rest_create_body);
    const char *pause = rq_query(rq, "pause");
    struct commit_opts o = {.container = rq_query(rq, "container"),
                            .repo_tag = name,
                            .author = rq_query(rq, "author"),
                            .comment = rq_query(rq, "comment"),
                            .changes = changes,
                            .config = config,
                            .pause = pause == NULL || rq_query_bool(rq, "pause")};
    (void)arg;
    if (config == NULL)
        return;
    if (o.container == NULL || o.container[0] == '\0') {
        rq_reply_msg(rq, 400, "No container name or ID supplied");
        return;
    }
    if (service_container_commit(rq->d, &o, &id, &err) < 0) {
        rq_reply_error(rq, err);
        isd_error_free(err);
        return;
    }
    full = xasprintf("sha256:%s", id);
    rq_reply_json(rq, 201, json_pack("{s:s}", "Id", full));
}
