/* User namespaces from the CRI (kubelet's `hostUsers: false`): NamespaceOption.userns_options of the pod and of
 * its containers as HostConfig.PodUserns ("<uid>:<gid>:<size>", the service's meaning: the pod's own user
 * namespace, joined by every container of the pod), mounts with uidMappings/gidMappings as binds with the `idmap`
 * option, and the runtime handlers' features answered in Status. */
#include <stdio.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

#define ID_MAX 4294967295ULL /* 2^32 - 1 */

static bool ranges_overlap(unsigned long long a, unsigned long long alen, unsigned long long b, unsigned long long blen)
{
    return a < b + blen && b < a + alen;
}

/* One list (uids or gids): exactly one range, from container id 0, not onto the host's root, below 2^32-1. */
static int check_list(const char *what, const char *kind, Runtime__V1__IDMapping **v, size_t n, struct isd_error **err)
{
    if (n == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s is empty: a user namespace needs one %s mapping", what,
                             kind, kind[0] == 'u' ? "uid" : "gid");
    for (size_t i = 0; i < n; i++) {
        if (v[i]->length == 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s[%zu] has length 0", what, kind, i);
        /* 2^32-1 is (uid_t)-1, no id: the last id mapped is at most 2^32-2 */
        if ((unsigned long long)v[i]->host_id + v[i]->length > ID_MAX ||
            (unsigned long long)v[i]->container_id + v[i]->length > ID_MAX)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "%s: %s[%zu] (host_id %u, container_id %u, length %u) goes past id 4294967294", what,
                                 kind, i, v[i]->host_id, v[i]->container_id, v[i]->length);
        for (size_t j = 0; j < i; j++)
            if (ranges_overlap(v[i]->host_id, v[i]->length, v[j]->host_id, v[j]->length) ||
                ranges_overlap(v[i]->container_id, v[i]->length, v[j]->container_id, v[j]->length))
                return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: %s[%zu] and %s[%zu] overlap", what, kind, j, kind,
                                     i);
    }
    if (n > 1)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "%s: %s has %zu ranges: isulad takes exactly one uid and one gid range (as kubelet sends)",
                             what, kind, n);
    if (v[0]->container_id != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "%s: %s[0] starts at container id %u: isulad maps ranges from container id 0", what, kind,
                             v[0]->container_id);
    if (v[0]->host_id == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "%s: %s[0] maps the container's ids onto the host's root (host_id 0)", what, kind);
    return 0;
}

/* The mapping as "<uid>:<gid>:<size>" (the uid and gid ranges have one length). */
static char *mapping_text(const char *what, Runtime__V1__IDMapping **uids, size_t n_uids, Runtime__V1__IDMapping **gids,
                          size_t n_gids, struct isd_error **err)
{
    if (check_list(what, "uids", uids, n_uids, err) < 0 || check_list(what, "gids", gids, n_gids, err) < 0)
        return NULL;
    if (uids[0]->length != gids[0]->length) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "%s: the uid range (length %u) and the gid range (length %u) differ",
                      what, uids[0]->length, gids[0]->length);
        return NULL;
    }
    return xasprintf("%u:%u:%u", uids[0]->host_id, gids[0]->host_id, uids[0]->length);
}

static const char *mode_name(Runtime__V1__NamespaceMode m)
{
    static const char *const names[] = {"POD", "CONTAINER", "NODE", "TARGET"};
    return (unsigned)m < ARRAY_SIZE(names) ? names[m] : "unknown";
}

int cri_userns_set(json_t *hc, const Runtime__V1__NamespaceOption *ns, bool container, const char *what,
                   struct isd_error **err)
{
    const Runtime__V1__UserNamespace *u = ns != NULL ? ns->userns_options : NULL;
    cleanup_free char *map = NULL;
    if (u == NULL)
        return 0;
    switch (u->mode) {
    case RUNTIME__V1__NAMESPACE_MODE__NODE:
        if (u->n_uids > 0 || u->n_gids > 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: user namespace mode NODE takes no uid or gid mappings",
                                 what);
        if (container) /* the node's: the service checks the pod has no user namespace of its own */
            json_object_set_new(hc, "PodUserns", json_string(""));
        return 0;
    case RUNTIME__V1__NAMESPACE_MODE__POD:
        if ((map = mapping_text(what, u->uids, u->n_uids, u->gids, u->n_gids, err)) == NULL)
            return -1;
        json_object_set_new(hc, "PodUserns", json_string(map));
        return 0;
    default:
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "%s: user namespace mode %s is not supported: only POD and NODE (as the CRI says)", what,
                             mode_name(u->mode));
    }
}

int cri_mounts_idmap_check(const Runtime__V1__ContainerConfig *c, const json_t *hc, struct isd_error **err)
{
    const char *own = json_get_str(hc, "PodUserns");
    for (size_t i = 0; i < c->n_mounts; i++) {
        const Runtime__V1__Mount *m = c->mounts[i];
        char what[64];
        cleanup_free char *map = NULL;
        if (m->n_uidmappings == 0 && m->n_gidmappings == 0)
            continue;
        snprintf(what, sizeof(what), "CreateContainer: mounts[%zu]", i);
        if ((map = mapping_text(what, m->uidmappings, m->n_uidmappings, m->gidmappings, m->n_gidmappings, err)) == NULL)
            return -1;
        if (own == NULL || own[0] == '\0')
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "%s (%s): an id-mapped mount needs the container in its pod's user namespace "
                                 "(namespace_options.userns_options mode POD)",
                                 what, m->container_path);
        if (!streq(map, own))
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "%s (%s): the mount's mapping (%s) is not the pod's user namespace mapping (%s): "
                                 "isulad id-maps mounts with the pod's mapping",
                                 what, m->container_path, map, own);
    }
    return 0;
}

/* One handler's features: user namespaces when id-mapped mounts work here (the rootfs layers and the volumes are
 * id-mapped; the default handler is the daemon's default runtime, an OCI runtime); recursive read-only mounts when
 * the kernel has mount_setattr (the daemon binds recursively read-only clones: no runtime support needed). */
static Runtime__V1__RuntimeHandler *handler_new(const char *name, bool userns, bool rro)
{
    Runtime__V1__RuntimeHandler *h = xmalloc(sizeof(*h));
    runtime__v1__runtime_handler__init(h);
    h->name = xstrdup(name);
    h->features = xmalloc(sizeof(*h->features));
    runtime__v1__runtime_handler_features__init(h->features);
    h->features->user_namespaces = userns;
    h->features->recursive_read_only_mounts = rro;
    return h;
}

void cri_runtime_handlers_set(struct daemon *d, Runtime__V1__StatusResponse *r)
{
    const struct isd_config *cfg = d->cfg;
    bool userns = service_userns_idmap_supported(d), rro = service_rro_supported(d);
    r->runtime_handlers = xcalloc(cfg->n_runtimes + 1, sizeof(*r->runtime_handlers));
    r->runtime_handlers[r->n_runtime_handlers++] = handler_new("", userns, rro); /* the default handler */
    for (size_t i = 0; i < cfg->n_runtimes; i++) /* a VM runtime's containers are in its guest's namespaces */
        r->runtime_handlers[r->n_runtime_handlers++] =
            handler_new(cfg->runtimes[i].name, userns && !cfg->runtimes[i].vm, rro && !cfg->runtimes[i].vm);
}

/* PodSandboxStatus: the pod's user namespace as RunPodSandbox asked for it. */
Runtime__V1__UserNamespace *cri_userns_status_new(const json_t *hc)
{
    const char *map = json_get_str(hc, "PodUserns");
    unsigned long long uid, gid, size;
    Runtime__V1__UserNamespace *u = xmalloc(sizeof(*u));
    runtime__v1__user_namespace__init(u);
    u->mode = RUNTIME__V1__NAMESPACE_MODE__NODE;
    if (map == NULL || sscanf(map, "%llu:%llu:%llu", &uid, &gid, &size) != 3)
        return u;
    u->mode = RUNTIME__V1__NAMESPACE_MODE__POD;
    u->uids = xcalloc(1, sizeof(*u->uids));
    u->gids = xcalloc(1, sizeof(*u->gids));
    u->uids[0] = xmalloc(sizeof(*u->uids[0]));
    u->gids[0] = xmalloc(sizeof(*u->gids[0]));
    runtime__v1__idmapping__init(u->uids[0]);
    runtime__v1__idmapping__init(u->gids[0]);
    u->uids[0]->host_id = (uint32_t)uid;
    u->gids[0]->host_id = (uint32_t)gid;
    u->uids[0]->length = u->gids[0]->length = (uint32_t)size;
    u->n_uids = u->n_gids = 1;
    return u;
}
