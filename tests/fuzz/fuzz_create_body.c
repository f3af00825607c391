/* Docker create bodies: the strict type check the REST adapter applies, the merge with an image config and
 * the OCI spec generated from them (also for bodies the check refuses: the spec code must not trust it). */
#include <jansson.h>
#include <stdlib.h>

#include "common/json.h"
#include "common/json_check.h"
#include "daemon/api/rest/body_types.h"
#include "daemon/spec/spec.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct isd_error *err = NULL;
    json_t *body = json_parse((const char *)data, size, NULL);
    json_t *image = json_pack("{s:{s:[s], s:[s], s:s}}", "config", "Cmd", "sh", "Env", "PATH=/bin", "WorkingDir", "/");
    json_t *cfg = NULL, *spec = NULL;
    if (body != NULL && json_check(body, &rest_create_body, NULL, &err) < 0) {
        isd_error_free(err);
        err = NULL;
    }
    if (json_is_object(body))
        cfg = spec_merge_config(image, body, "0123456789abcdef0123456789abcdef", &err);
    if (cfg != NULL) {
        struct spec_input in = {.id = "0123456789abcdef0123456789abcdef",
                                .config = cfg,
                                .host_config = json_object_get(body, "HostConfig"),
                                .rootfs = "/nonexistent-fuzz-rootfs",
                                .cgroup_parent = "/isulad-fuzz",
                                .umask = "secure"};
        json_object_del(cfg, "User");
        spec = spec_generate(&in, &err);
    }
    json_decref(spec);
    json_decref(cfg);
    json_decref(image);
    json_decref(body);
    isd_error_free(err);
    return 0;
}
