/* Internal to the pull use case (pull.c, pull_layers.c, auth.c). */
#ifndef ISD_DAEMON_SERVICE_PULL_INTERNAL_H
#define ISD_DAEMON_SERVICE_PULL_INTERNAL_H

#include <pthread.h>

#include "daemon/image/reference.h"
#include "daemon/image/registry/registry.h"
#include "daemon/service/service.h"

struct pull_job {
    struct daemon *d;
    struct reference *ref;
    char *familiar;     /* "busybox:latest" or "name@sha256:..." */
    char *name;         /* "busybox" */
    char *manifest_ref; /* tag or digest asked of the registry */
    long long deadline_ns;
    struct registry_client *client; /* of the endpoint that answered */
    char *manifest_digest;          /* of the top-level manifest (the index for multi-arch images) */
    struct registry_manifest *manifest;
    char *config;
    size_t config_len;
    char **diff_ids, **chain_ids; /* per layer */
    char *image_id;
    pthread_mutex_t out_lock;
    int out_fd;    /* progress stream, -1 when none (or the client left) */
    int cancelled; /* atomic: the client of the stream went away; the pull stops (registry_client_set_cancel) */
};

/* Writes one JSON line (takes line). */
void pull_emit(struct pull_job *j, char *line);
/* Makes every layer present; *ret_top gets the top chain id with one reference held. */
int pull_layers(struct pull_job *j, char **ret_top, struct isd_error **err);
const char *pull_certs_dir(void);
char *pull_auths_path(struct daemon *d);

#endif
