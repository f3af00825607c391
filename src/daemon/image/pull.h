/*
 * Pulling an image from a registry into the stores (docs/design/registry.md): begin resolves the reference
 * on the endpoints (mirrors, auth), fetches and verifies manifest and config; run downloads and applies the
 * layers and registers the image, writing Docker's JSON progress lines. One job per pull, used by one thread
 * at a time; concurrent pulls share layers in flight (see pull.c).
 */
#ifndef ISD_DAEMON_IMAGE_PULL_H
#define ISD_DAEMON_IMAGE_PULL_H

#include "common/error.h"
#include "daemon/config/config.h"

struct layer_store;
struct image_store;

struct image_pull_opts {
    const struct isd_config *cfg; /* mirrors, insecure registries, timeouts, key options */
    struct layer_store *layers;
    struct image_store *images;
    const char *storage_root; /* temp files of downloads under <storage_root>/pull-tmp */
    const char *auths_path;   /* stored logins (registry_auths_get) */
};

struct pull_job;
/* from + tag as the Docker API splits them (tag may be a digest); auth: the base64url X-Registry-Auth JSON
 * or NULL (then the stored login of the domain). The strings of o must outlive the job. */
struct pull_job *image_pull_begin(const struct image_pull_opts *o, const char *from, const char *tag, const char *auth,
                                  struct isd_error **err);
/* Writes the progress to out_fd (-1: none); a client that goes away cancels the pull. */
int image_pull_run(struct pull_job *j, int out_fd, struct isd_error **err);
/* The familiar name of what is pulled ("busybox:latest"). */
const char *image_pull_name(const struct pull_job *j);
void pull_job_free(struct pull_job *j);
/* Directory of the per-registry certificates (ISULAD_CERTS_DIR or /etc/isulad/certs.d). */
const char *pull_certs_dir(void);

#endif
