/* Daemon start-up and live restore: stores opened, containers reloaded and reconnected to their shims. */
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"
#include "daemon/image/image_store.h"
#include "daemon/network/network.h"
#include "daemon/service/internal.h"
#include "daemon/service/volumes.h"
#include "daemon/spec/spec.h"
#include "daemon/spec/spec_cdi.h"
#include "daemon/volume/volume.h"
#include "daemon/storage/layer_store.h"

/* isulad-shim is looked up next to the isulad binary first (build tree, /usr/local/bin), then in PATH. */
static char *find_shim(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        char *slash;
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash != NULL) {
            cleanup_free char *dir = xstrndup(self, (size_t)(slash - self));
            char *p = xasprintf("%s/isulad-shim", dir);
            if (access(p, X_OK) == 0)
                return p;
            free(p);
        }
    }
    return xstrdup("isulad-shim");
}

int daemon_init(struct daemon *d, const struct isd_config *cfg, struct isd_error **err)
{
    cleanup_free char *containers_dir = xasprintf("%s/containers", cfg->graph);
    cleanup_free char *state_containers = xasprintf("%s/containers", cfg->state);
    memset(d, 0, sizeof(*d));
    d->cfg = cfg;
    d->started_ns = now_ns();
    d->storage_root = xasprintf("%s/storage", cfg->graph);
    d->shim_path = find_shim();
    if (mkdir_p(cfg->graph, 0700, err) < 0 || mkdir_p(containers_dir, 0700, err) < 0 ||
        mkdir_p(state_containers, 0700, err) < 0 || mkdir_p(d->storage_root, 0700, err) < 0)
        return -1;
    {
        /* request bodies spooled by the REST adapter (image load/import) of a daemon that died mid-upload */
        cleanup_free char *uploads = xasprintf("%s/tmp", cfg->graph);
        rm_rf(uploads, NULL);
    }
    if (cfg->seccomp_enable) {
        d->seccomp_default = spec_seccomp_default_load(cfg->seccomp_profile, err);
        if (d->seccomp_default == NULL)
            return -1;
    }
    if (cfg->enable_cdi)
        d->cdi = cdi_registry_new(cfg->cdi_spec_dirs);
    cgroup_blkio_stats_enable(d->storage_root);
    d->containers = container_store_new();
    d->execs = exec_store_new();
    d->layers = layer_store_open(d->storage_root, err);
    if (d->layers == NULL)
        return isd_error_wrap(err, "open layer store");
    d->images = image_store_open(d->storage_root, d->layers, err);
    if (d->images == NULL)
        return isd_error_wrap(err, "open image store");
    if (service_storage_init(d, err) < 0)
        return -1;
    {
        cleanup_free char *volumes = xasprintf("%s/volumes", cfg->graph);
        d->volumes = volume_store_open(volumes, err);
        if (d->volumes == NULL)
            return isd_error_wrap(err, "open volume store");
    }
    d->supervisor = supervisor_new(service_container_exit_handle, d, err);
    if (d->supervisor == NULL || service_health_init(d, err) < 0)
        return -1;
    return service_network_init(d, err);
}

/* A container recorded as running: reconnect to its shim, or settle what happened while we were away. True when
 * it turns out to have exited meanwhile (its restart policy is applied once the network is restored). */
static bool restore_one(struct daemon *d, struct container *c)
{
    struct isd_error *err = NULL;
    struct runtime rt;
    bool exited = false;
    pid_t shim;
    service_runtime_driver(d, &rt);
    pthread_mutex_lock(&c->lock);
    if (container_is_active(c)) {
        shim = rt.ops->shim_alive(&rt, c->state_dir);
        if (shim > 0) {
            c->shim_pid = shim;
            container_set_pid(c, c->pid);
            if (c->status == CT_RESTARTING)
                c->status = CT_RUNNING;
            supervisor_watch(d->supervisor, c, rt.ops->shim_watch_fd(&rt, shim), &err);
            service_health_watch(d, c);
        } else {
            service_container_exited(d, c);
            exited = true;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (err != NULL)
        log_error("restore container `%s`: %s", c->id, err->msg);
    isd_error_free(err);
    return exited;
}

/* As Docker at its start: a container that exited while the daemon was down is restarted when its policy says
 * so (always, unless-stopped, on-failure with retries left); so is any other `always`/`unless-stopped`
 * container a user did not stop. */
static void restore_restart_policies(struct daemon *d, char **exited)
{
    size_t n = 0;
    struct container **v = container_store_list(d->containers, &n);
    for (size_t i = 0; i < n; i++) {
        struct container *c = v[i];
        const char *policy;
        pthread_mutex_lock(&c->lock);
        policy = json_get_str(json_object_get(c->host_config, "RestartPolicy"), "Name");
        if (c->status == CT_EXITED && !c->removed &&
            (strv_contains(exited, c->id) || streq(policy, "always") || streq(policy, "unless-stopped")))
            service_container_restart_policy(d, c);
        pthread_mutex_unlock(&c->lock);
    }
    container_list_free(v);
}

static void remove_state_trash(struct daemon *d)
{
    cleanup_free char *dir = xasprintf("%s/containers", d->cfg->state);
    DIR *dp = opendir(dir);
    struct dirent *de;
    while (dp != NULL && (de = readdir(dp)) != NULL) {
        if (str_has_prefix(de->d_name, ".trash-")) {
            cleanup_free char *t = xasprintf("%s/%s", dir, de->d_name);
            rm_rf(t, NULL);
        }
    }
    if (dp != NULL)
        closedir(dp);
}

int daemon_restore(struct daemon *d, struct isd_error **err)
{
    cleanup_free char *dir = xasprintf("%s/containers", d->cfg->graph);
    DIR *dp = opendir(dir);
    struct dirent *de;
    cleanup_strv char **exited = NULL;
    if (dp == NULL)
        return isd_error_errno(err, "open `%s`", dir);
    while ((de = readdir(dp)) != NULL) {
        struct isd_error *lerr = NULL;
        cleanup_free char *cdir = NULL;
        struct container *c;
        if (de->d_name[0] == '.') {
            /* what a removal renamed away and had not finished deleting when isulad stopped */
            if (str_has_prefix(de->d_name, ".trash-")) {
                cleanup_free char *t = xasprintf("%s/%s", dir, de->d_name);
                rm_rf(t, NULL);
            }
            continue;
        }
        cdir = xasprintf("%s/%s", dir, de->d_name);
        c = container_load(cdir, d->cfg->graph, d->cfg->state, &lerr);
        if (c == NULL) {
            log_warn("skip container directory `%s`: %s", cdir, lerr ? lerr->msg : "unreadable");
            isd_error_free(lerr);
            continue;
        }
        if (container_store_add(d->containers, c, &lerr) == 0 && restore_one(d, c))
            strv_append(&exited, c->id);
        else if (lerr != NULL)
            log_warn("skip container `%s`: %s", c->id, lerr->msg);
        isd_error_free(lerr);
        container_unref(c);
    }
    closedir(dp);
    remove_state_trash(d);
    service_volumes_release_stale(d);
    service_network_restore(d);
    restore_restart_policies(d, exited);
    return 0;
}

void daemon_shutdown(struct daemon *d)
{
    service_health_shutdown(d);
    supervisor_free(d->supervisor);
    d->supervisor = NULL;
    network_ctx_free(d->network);
    volume_store_free(d->volumes);
    d->network = NULL;
    json_decref(d->seccomp_default);
    d->seccomp_default = NULL;
    cdi_registry_free(d->cdi);
    d->cdi = NULL;
}
