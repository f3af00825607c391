/*
 * The "container:<id|name>" modes of NetworkMode, PidMode, IpcMode and UTSMode: checked at create (the other
 * container exists and is not the new one), resolved at start to /proc/<pid>/ns/<type> of the other
 * container, which must be running then (Docker's "cannot join ... of a non running container"). A container
 * on a user network has joined the network module's pinned namespace, so its pid's net namespace is that one.
 * "host" modes need nothing here: the runtime inherits the daemon's own namespaces (never pid 1's).
 */
#include <errno.h>
#include <time.h>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/mount_peer.h"
#include "common/util.h"
#include "daemon/service/internal.h"

#define PEER_LOCK_TRIES 3000 /* 10 ms apart: another start, stop or removal of the peer finishes first */

static const struct {
    const char *key, *type, *what;
} ns_modes[SERVICE_NS_N] = {
    {"NetworkMode", "net", "network"},
    {"PidMode", "pid", "PID"},
    {"IpcMode", "ipc", "IPC"},
    {"UTSMode", "uts", "UTS"},
};

static const char *peer_ref(const json_t *hc, size_t i)
{
    const char *m = json_get_str(hc, ns_modes[i].key);
    return str_has_prefix(m, "container:") ? m + strlen("container:") : NULL;
}

int service_ns_check_create(struct daemon *d, const json_t *config, const json_t *hc, struct isd_error **err)
{
    const char *hostname = json_get_str(config, "Hostname");
    struct user_remap m;
    service_userns_map(d, hc, &m);
    for (size_t i = 0; i < SERVICE_NS_N; i++) {
        const char *ref = peer_ref(hc, i);
        cleanup_container struct container *peer = NULL;
        if (ref == NULL)
            continue;
        if (ref[0] == '\0')
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid %s mode: container name or id is empty",
                                 ns_modes[i].what);
        peer = container_store_lookup(d->containers, ref, err);
        if (peer == NULL)
            return isd_error_wrap(err, "%s mode `container:%s`", ns_modes[i].what, ref);
        if (service_userns_check_peer(d, &m, ns_modes[i].what, ref, peer->host_config, err) < 0)
            return -1;
    }
    /* Docker's rule: the joined network namespace comes with its owner's hostname */
    if (peer_ref(hc, 0) != NULL && hostname != NULL && hostname[0] != '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "conflicting options: hostname and the network mode");
    return 0;
}

/* The peer locked, waiting while another operation holds it: the caller holds its own container's lock, so a
 * blocking lock could deadlock with a peer starting with container:<caller> at the same time. */
static int peer_lock(struct container *peer, const char *ref, struct isd_error **err)
{
    struct timespec ts = {0, 10 * 1000 * 1000};
    for (int i = 0; i < PEER_LOCK_TRIES; i++) {
        if (pthread_mutex_trylock(&peer->lock) == 0)
            return 0;
        nanosleep(&ts, NULL);
    }
    return isd_error_set(err, ISD_ERR_CONFLICT, 0, "container %s is busy: try again", ref);
}

/* The user namespace of a peer, the same for every peer joined. */
static int join_userns(pid_t pid, const char *what, const char *ref, struct service_ns_join *j, struct isd_error **err)
{
    cleanup_free char *p = xasprintf("/proc/%d/ns/user", (int)pid);
    struct stat a, b;
    if (j->userns_path == NULL) {
        j->userns_path = TAKE_PTR(p);
        return 0;
    }
    if (stat(j->userns_path, &a) == 0 && stat(p, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
        return 0;
    return isd_error_set(err, ISD_ERR_INVALID, 0,
                         "cannot join %s of container %s: it is in another user namespace than the other container "
                         "whose namespace is joined",
                         what, ref);
}

static int resolve_one(struct daemon *d, struct container *c, size_t i, const struct user_remap *m,
                       struct service_ns_join *j, struct isd_error **err)
{
    const char *ref = peer_ref(c->host_config, i);
    cleanup_container struct container *peer = container_store_lookup(d->containers, ref, err);
    int rc = 0;

    if (peer == NULL)
        return isd_error_wrap(err, "cannot join %s of container %s", ns_modes[i].what, ref);
    if (peer == c)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "cannot join own %s namespace", ns_modes[i].what);
    if (peer_lock(peer, ref, err) < 0)
        return -1;
    if (peer->removed || (peer->status != CT_RUNNING && peer->status != CT_PAUSED) || peer->pid <= 0) {
        rc = isd_error_set(err, ISD_ERR_CONFLICT, 0, "cannot join %s of a non running container: %s", ns_modes[i].what,
                           ref);
    } else if (user_remap_is_set(m)) {
        rc = service_userns_check_peer(d, m, ns_modes[i].what, ref, peer->host_config, err);
        if (rc == 0)
            rc = join_userns(peer->pid, ns_modes[i].what, ref, j, err);
    }
    if (rc == 0) {
        j->path[i] = xasprintf("/proc/%d/ns/%s", (int)peer->pid, ns_modes[i].type);
        const char *hostname = json_get_str(peer->config, "Hostname");
        if (i == 0 && hostname != NULL)
            j->hostname = xstrdup(hostname);
        if (i == 2)
            j->ipc_peer = peer->pid;
    }
    pthread_mutex_unlock(&peer->lock);
    return rc;
}

int service_ns_join_resolve(struct daemon *d, struct container *c, struct service_ns_join *j, struct isd_error **err)
{
    struct user_remap m;
    *j = (struct service_ns_join){0};
    service_userns_map(d, c->host_config, &m);
    for (size_t i = 0; i < SERVICE_NS_N; i++) {
        if (peer_ref(c->host_config, i) != NULL && resolve_one(d, c, i, &m, j, err) < 0) {
            service_ns_join_clear(j);
            return -1;
        }
    }
    /* `--net container:X` shares X's hostname as Docker does (and shows it in inspect) */
    if (j->hostname != NULL)
        json_object_set_new(c->config, "Hostname", json_string(j->hostname));
    return 0;
}

void service_ns_join_apply(const struct service_ns_join *j, struct spec_input *in)
{
    if (j->path[0] != NULL)
        in->netns_path = j->path[0];
    in->pid_ns_path = j->path[1];
    in->ipc_ns_path = j->path[2];
    in->uts_ns_path = j->path[3];
    if (j->userns_path != NULL)
        in->userns_path = j->userns_path;
}

void service_ns_join_clear(struct service_ns_join *j)
{
    for (size_t i = 0; i < SERVICE_NS_N; i++) {
        free(j->path[i]);
        j->path[i] = NULL;
    }
    free(j->hostname);
    j->hostname = NULL;
    free(j->userns_path);
    j->userns_path = NULL;
}

static char *shm_path(const struct container *c)
{
    return xasprintf("%s/shm", c->state_dir);
}

int service_ns_shm_attach(struct container *c, const struct service_ns_join *j, char **ret_path, struct isd_error **err)
{
    cleanup_free char *p = NULL;
    *ret_path = NULL;
    if (j->ipc_peer <= 0)
        return 0;
    p = shm_path(c);
    service_ns_shm_detach(c);
    if (mkdir_p(c->state_dir, 0700, err) < 0 || mount_peer_clone(j->ipc_peer, "/dev/shm", p, err) < 0)
        return isd_error_wrap(err, "share /dev/shm of the IPC namespace's container");
    *ret_path = TAKE_PTR(p);
    return 0;
}

void service_ns_shm_detach(struct container *c)
{
    cleanup_free char *p = shm_path(c);
    umount2(p, MNT_DETACH);
    rmdir(p);
}

bool service_ns_pid_shared(const struct container *c)
{
    const char *m = json_get_str(c->host_config, "PidMode");
    return streq(m, "host") || str_has_prefix(m, "container:");
}
