/*
 * Networks and the network side of a container's life: `isula network` / Docker's /networks use cases, the
 * attachment at start, the detachment after the exit (in the background cleanup) and at removal, and the
 * reconciliation at start-up of what a crash left behind.
 */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/network/network.h"
#include "daemon/service/internal.h"

/* The files of cni-conf-dir are read at each use (guide N-12 reloads them); a bad one is logged here once
 * with its reason and skipped, never fatal (N-08..N-10). */
static void log_conf_dir(struct daemon *d)
{
    cleanup_strv char **skipped = NULL;
    struct isd_error *err = NULL;
    struct cni_net **nets = cni_dir_load(d->network->conf_dir, true, &skipped, &err);
    if (nets == NULL)
        log_warn("cni-conf-dir: %s", err->msg);
    for (size_t i = 0; skipped != NULL && skipped[i] != NULL; i++)
        log_warn("cni-conf-dir: skip %s", skipped[i]);
    for (size_t i = 0; nets != NULL && nets[i] != NULL; i++)
        log_info("cni-conf-dir: network `%s` from `%s`", nets[i]->name, nets[i]->path);
    cni_net_list_free(nets);
    isd_error_free(err);
}

int service_network_init(struct daemon *d, struct isd_error **err)
{
    d->network = network_ctx_new(d->cfg->graph, d->cfg->state, d->cfg->cni_bin_dir, d->cfg->cni_conf_dir, err);
    if (d->network == NULL)
        return isd_error_wrap(err, "network");
    log_conf_dir(d);
    d->network->ip_masq = d->cfg->ip_masq;
    {
        cleanup_free char *warning = NULL;
        struct isd_error *e = NULL;
        if (network_default_ensure(d->network, d->cfg->bip, d->cfg->bridge, d->cfg->ipv6 ? d->cfg->fixed_cidr_v6 : NULL,
                                   &warning, &e) < 0)
            log_error("default bridge network: %s (the Docker API's default network mode gets loopback only)", e->msg);
        else if (warning != NULL)
            log_warn("%s", warning);
        isd_error_free(e);
    }
    {
        cleanup_strv char **failed = NULL;
        network_rules_restore(d->network, &failed);
        for (size_t i = 0; failed != NULL && failed[i] != NULL; i++)
            log_error("%s", failed[i]);
    }
    return 0;
}

json_t *service_network_create(struct daemon *d, const json_t *body, struct isd_error **err)
{
    return network_create(d->network, body, err);
}

json_t *service_network_list(struct daemon *d, const json_t *filters, struct isd_error **err)
{
    return network_list(d->network, filters, err);
}

json_t *service_network_inspect(struct daemon *d, const char *ref, struct isd_error **err)
{
    json_t *j = network_inspect(d->network, ref, err);
    json_t *ctrs = json_object_get(j, "Containers");
    const char *id;
    json_t *ep;
    json_object_foreach(ctrs, id, ep)
    {
        cleanup_container struct container *c = container_store_lookup(d->containers, id, NULL);
        if (c == NULL)
            continue;
        pthread_mutex_lock(&c->lock); /* rename changes the name under it */
        json_object_set_new(ep, "Name", json_string(c->name));
        pthread_mutex_unlock(&c->lock);
    }
    return j;
}

int service_network_remove(struct daemon *d, const char *ref, struct isd_error **err)
{
    return network_remove(d->network, ref, err);
}

json_t *service_network_prune(struct daemon *d, const json_t *filters, struct isd_error **err)
{
    return network_prune(d->network, filters, err);
}

const char *service_network_primary(struct daemon *d, const json_t *host_config)
{
    return network_mode_network(json_get_str(host_config, "NetworkMode"), d->network->has_default);
}

int service_network_check_mode(struct daemon *d, const json_t *host_config, struct isd_error **err)
{
    const char *name = service_network_primary(d, host_config);
    cleanup_cni_net struct cni_net *net = NULL;
    if (name == NULL)
        return 0;
    net = network_lookup(d->network, name, err);
    return net != NULL ? 0 : -1;
}

/* NetworkingConfig is not part of the container record: the aliases of its network are kept beside it. */
static char *aliases_path(const struct container *c)
{
    return xasprintf("%s/network-aliases.json", c->dir);
}

int service_network_save_aliases(struct daemon *d, struct container *c, const json_t *body, struct isd_error **err)
{
    const char *mode = json_get_str(c->host_config, "NetworkMode");
    json_t *eps = json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig");
    json_t *aliases = json_object_get(json_object_get(eps, mode != NULL ? mode : ""), "Aliases");
    cleanup_free char *path = NULL;
    size_t i;
    json_t *a;
    if (service_network_save_endpoint(d, c, body, err) < 0)
        return -1;
    if (!network_mode_is_named(mode) || json_array_size(aliases) == 0)
        return 0;
    json_array_foreach(aliases, i, a)
    {
        const char *s = json_string_value(a);
        if (s == NULL || !container_name_valid(s))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid network alias `%s`", s ? s : "");
    }
    path = aliases_path(c);
    return json_write_path(path, aliases, true, err);
}

int service_network_start(struct daemon *d, struct container *c, char **ret_netns, struct network_attach **pending,
                          struct isd_error **err)
{
    const char *mode = service_network_primary(d, c->host_config);
    cleanup_json json_t *ports = NULL;
    cleanup_json json_t *caps = NULL;
    *ret_netns = NULL;
    if (pending != NULL)
        *pending = NULL;
    if (mode == NULL)
        return 0;
    ports = network_port_mappings(d->network, c->id, c->host_config, json_object_get(c->config, "ExposedPorts"), err);
    if (ports == NULL)
        return -1;
    {
        cleanup_free char *path = aliases_path(c);
        cleanup_json json_t *aliases = json_load_path(path, 1 << 16, NULL);
        cleanup_json json_t *eps = service_network_endpoints(c);
        struct isd_error *e = NULL;
        if ((caps = service_network_caps(d, mode, json_object_get(eps, mode), ports, &e)) == NULL && e != NULL) {
            *err = e;
            return -1;
        }
        struct user_remap map;
        /* a user-namespaced container's network namespace is owned by a user namespace with its mapping */
        service_userns_map(d, c->host_config, &map);
        if (network_container_attach_start(d->network, c->id, c->name, json_is_array(aliases) ? aliases : NULL, mode,
                                           caps, &map, ret_netns, pending, err) < 0)
            return -1;
    }
    if (pending != NULL && *pending != NULL)
        return 0; /* the other networks once the first one is up: service_network_start_finish */
    if (service_network_start_more(d, c, err) < 0) {
        network_container_detach(d->network, c->id, NULL);
        free(*ret_netns);
        *ret_netns = NULL;
        return -1;
    }
    return 0;
}

int service_network_start_finish(struct daemon *d, struct container *c, struct network_attach **pending,
                                 struct isd_error **err)
{
    struct network_attach *a = *pending;
    *pending = NULL;
    if (a == NULL)
        return 0;
    if (network_container_attach_wait(a, err) < 0)
        return -1;
    if (service_network_start_more(d, c, err) < 0) {
        network_container_detach(d->network, c->id, NULL);
        return -1;
    }
    return 0;
}

#define HOSTS_MARK "# containers on the same network (kept current by isulad)\n"
#define HOSTS_MAX (1 << 20)

/* Replaces the part of a container's hosts file after HOSTS_MARK, in place: the file is bind-mounted, so a
 * rename would not reach the running container. A missing file (a user's own /etc/hosts) is left alone. */
static void hosts_rewrite(const char *path, const char *section)
{
    cleanup_free char *old = read_file(path, HOSTS_MAX, NULL, NULL);
    cleanup_free char *text = NULL;
    char *mark;
    int fd;
    if (old == NULL)
        return;
    if ((mark = strstr(old, HOSTS_MARK)) != NULL)
        *mark = '\0';
    text = xasprintf("%s%s%s", old, HOSTS_MARK, section);
    fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    fd_write_all(fd, text, strlen(text));
    close(fd);
}

/* Every container attached to network `name` gets the names and addresses of all of them (its own too):
 * container names resolve between containers of a network. Serialised, so the last rewrite saw the latest
 * attachments. */
static char *hosts_lines(struct daemon *d, const char *name)
{
    cleanup_json json_t *peers = network_peers(d->network, name);
    struct buf b = {0};
    size_t i;
    json_t *p;
    json_array_foreach(peers, i, p)
    {
        cleanup_free char *short_id = xstrndup(json_get_str(p, "Id"), 12);
        cleanup_free char *aliases = NULL;
        cleanup_strv char **av = json_get_strv(p, "Aliases");
        aliases = av != NULL ? strv_join(av, " ") : xstrdup("");
        buf_printf(&b, "%s\t%s %s%s%s\n", json_get_str(p, "IPAddress"), json_get_str(p, "Name"), short_id,
                   *aliases ? " " : "", aliases);
    }
    return buf_steal(&b);
}

/* One container's section: the containers of every network it is attached to. lines: {network: its lines},
 * filled as networks come up, so that one refresh reads each network's attachments once (not once per peer). */
static void hosts_refresh_one(struct daemon *d, const char *id, json_t *lines)
{
    cleanup_strv char **nets = network_container_networks(d->network, id);
    cleanup_free char *path = xasprintf("%s/containers/%s/hosts", d->cfg->graph, id);
    struct buf b = {0};
    for (size_t i = 0; nets != NULL && nets[i] != NULL; i++) {
        if (streq(nets[i], NETWORK_DEFAULT))
            continue;
        if (json_object_get(lines, nets[i]) == NULL) {
            cleanup_free char *l = hosts_lines(d, nets[i]);
            json_object_set_new(lines, nets[i], json_string(l));
        }
        buf_appends(&b, json_string_value(json_object_get(lines, nets[i])));
    }
    buf_append(&b, "", 1);
    hosts_rewrite(path, b.data);
    buf_free(&b);
}

void service_network_hosts_refresh(struct daemon *d, const char *name)
{
    cleanup_json json_t *peers = NULL;
    cleanup_json json_t *lines = json_object();
    size_t i;
    json_t *p;
    if (streq(name, NETWORK_DEFAULT))
        return; /* as Docker's default bridge: no names between its containers */
    pthread_mutex_lock(&d->network->hosts_lock);
    peers = network_peers(d->network, name);
    json_array_foreach(peers, i, p) hosts_refresh_one(d, json_get_str(p, "Id"), lines);
    pthread_mutex_unlock(&d->network->hosts_lock);
}

void service_network_hosts(struct daemon *d, struct container *c)
{
    cleanup_strv char **nets = NULL;
    if (service_network_primary(d, c->host_config) == NULL)
        return;
    nets = network_container_networks(d->network, c->id);
    for (size_t i = 0; nets != NULL && nets[i] != NULL; i++)
        service_network_hosts_refresh(d, nets[i]);
}

/* One teardown of a container's network at a time: a pod's stop releases it while the exit's cleanup may be
 * doing the same (the second one waits and finds nothing left, or retries what a failing plugin left). A set of
 * the IDs being torn down, not a lock held across the plugins: teardowns of different containers never wait on
 * each other (50 pods stopped at once run their DELs side by side). */
static pthread_mutex_t stopping_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stopping_changed = PTHREAD_COND_INITIALIZER;
static json_t *stopping; /* {id: true}, made at the first use, never freed (a daemon-wide set) */

static void stop_claim(const char *id)
{
    pthread_mutex_lock(&stopping_lock);
    if (stopping == NULL)
        stopping = json_object();
    while (json_object_get(stopping, id) != NULL)
        pthread_cond_wait(&stopping_changed, &stopping_lock);
    json_object_set_new(stopping, id, json_true());
    pthread_mutex_unlock(&stopping_lock);
}

static void stop_release(const char *id)
{
    pthread_mutex_lock(&stopping_lock);
    json_object_del(stopping, id);
    pthread_cond_broadcast(&stopping_changed);
    pthread_mutex_unlock(&stopping_lock);
}

void service_network_stop(struct daemon *d, const char *id)
{
    struct isd_error *err = NULL;
    cleanup_strv char **nets = NULL;
    stop_claim(id);
    if (!network_container_has_state(d->network, id)) {
        stop_release(id);
        return;
    }
    nets = network_container_networks(d->network, id);
    if (network_container_detach(d->network, id, &err) < 0)
        log_error("container `%s`: network teardown: %s", id, err->msg);
    stop_release(id);
    isd_error_free(err);
    for (size_t i = 0; nets != NULL && nets[i] != NULL; i++)
        service_network_hosts_refresh(d, nets[i]); /* the others forget its name */
}

bool service_network_has_state(struct daemon *d, const char *id)
{
    return network_container_has_state(d->network, id);
}

void service_network_settings(struct daemon *d, const char *id, json_t *inspect)
{
    const char *mode = service_network_primary(d, json_object_get(inspect, "HostConfig"));
    const json_t *exposed = json_object_get(json_object_get(inspect, "Config"), "ExposedPorts");
    cleanup_json json_t *s = network_container_settings(d->network, id, mode, exposed);
    json_t *ns = json_object_get(inspect, "NetworkSettings");
    if (s == NULL || !json_is_object(ns))
        return;
    json_object_update(ns, s);
    service_network_settings_more(d, id, json_object_get(ns, "Networks"));
}

static void restore_dir(struct daemon *d, const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *de;
    while (dp != NULL && (de = readdir(dp)) != NULL) {
        cleanup_container struct container *c = NULL;
        bool active;
        if (de->d_name[0] == '.')
            continue;
        c = container_store_lookup(d->containers, de->d_name, NULL);
        if (c != NULL) {
            pthread_mutex_lock(&c->lock);
            active = container_is_active(c) || c->runtime_cleanup;
            pthread_mutex_unlock(&c->lock);
            if (active)
                continue;
        }
        service_network_stop(d, de->d_name);
    }
    if (dp != NULL)
        closedir(dp);
}

/* After a crash: attachments and namespaces of containers that are not running any more (or are gone). */
void service_network_restore(struct daemon *d)
{
    restore_dir(d, d->network->cache_dir);
    restore_dir(d, d->network->netns_dir);
}
