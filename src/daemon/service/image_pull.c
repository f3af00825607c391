/* The pull use case (POST /images/create?fromImage=): the mechanism is image/pull.c. */
#include <stdlib.h>

#include "common/util.h"
#include "daemon/events/events.h"
#include "daemon/image/pull.h"
#include "daemon/service/internal.h"

char *service_auths_path(struct daemon *d)
{
    return xasprintf("%s/auths.json", d->cfg->graph);
}

struct pull_job *service_image_pull_begin(struct daemon *d, const char *from, const char *tag, const char *auth,
                                          struct isd_error **err)
{
    cleanup_free char *auths = service_auths_path(d);
    struct image_pull_opts o = {d->cfg, d->layers, d->images, d->storage_root, auths};
    return image_pull_begin(&o, from, tag, auth, err);
}

int service_image_pull_run(struct pull_job *j, int out_fd, struct isd_error **err)
{
    const char *name = image_pull_name(j);
    if (image_pull_run(j, out_fd, err) < 0)
        return -1;
    events_emit("image", "pull", name, NULL, json_pack("{s:s}", "name", name));
    return 0;
}

void service_image_pull_free(struct pull_job *j)
{
    pull_job_free(j);
}
