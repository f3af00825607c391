/* Volumes as containers use them (volumes.c); internal to the service layer. */
#ifndef ISD_DAEMON_SERVICE_VOLUMES_H
#define ISD_DAEMON_SERVICE_VOLUMES_H

#include <jansson.h>

#include "daemon/service/service.h"

struct vol_ctx {
    struct daemon *d;
    struct container *c;
    const char *rootfs;          /* the mounted rootfs for copy-up; NULL: no copy */
    const char *holder;          /* the container being started: volumes with mount options are mounted for it */
    const struct vol_ctx *inner; /* the container taking c's volumes (--volumes-from), NULL at the top */
    int depth;                   /* of --volumes-from */
    const json_t *from_mounts;   /* c's --volumes-from as resolved at its create; NULL: resolve the chain now */
};

/* A copy of host_config whose Binds and Mounts name only host paths: named and anonymous volumes (created on
 * first use) and --volumes-from resolved, the image's Volumes (config) added as anonymous volumes. */
json_t *service_volumes_resolve(struct vol_ctx *x, const json_t *host_config, const json_t *config,
                                struct isd_error **err);
/* At create (c in the store, not yet started): c's --volumes-from resolved once into c->volumes_from, as Docker
 * copies the sources' mount points, so later starts no longer need the sources (they may be removed). */
int service_volumes_from_create(struct daemon *d, struct container *c, struct isd_error **err);
/* service_volumes_resolve for c's own HostConfig and Config (lock held). */
json_t *service_volumes_host_config(struct daemon *d, struct container *c, const char *rootfs, struct isd_error **err);
/* After a start (or a failed one): detaches the host mounts of c's squashfs images, which the container's
 * mount namespace now holds alone (their loop devices go with it). Lock held. */
void service_volumes_detach(struct container *c);
/* After a container stopped (or failed to start): volumes with mount options it held are released, and unmounted
 * when no other container holds them. */
void service_volumes_release(struct daemon *d, const char *container_id);
/* At daemon start: the holds of containers that are gone or not running are released. */
void service_volumes_release_stale(struct daemon *d);
/* Inspect's Mounts: entries naming a volume become Docker's volume entries (Name, Source = mountpoint, Driver),
 * and c's anonymous volumes are added. */
void service_volumes_inspect_mounts(struct daemon *d, const char *container_id, json_t *inspect);
/* rm -v: removes the anonymous volumes c owned. */
void service_volumes_remove_anonymous(struct daemon *d, const char *container_id);

#endif
