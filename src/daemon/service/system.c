/* GET /version and GET /info. */
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/service/internal.h"

#ifndef ISD_GIT_COMMIT
#define ISD_GIT_COMMIT "unknown"
#endif

/* Docker's SystemVersion (swagger): Platform, Components, Version, ApiVersion, MinAPIVersion, GitCommit,
 * GoVersion, Os, Arch, KernelVersion, Experimental, BuildTime. */
json_t *service_version(struct daemon *d)
{
    struct utsname u;
    json_t *v;
    uname(&u);
    v = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, "
                  "s:s, s:s}}]}",
                  "Version", ISD_VERSION, "ApiVersion", ISD_API_VERSION, "MinAPIVersion", "1.24", "GitCommit",
                  ISD_GIT_COMMIT, "GoVersion", "C (gnu11)", "Os", "linux", "Arch", "amd64", "KernelVersion", u.release,
                  "BuildTime", "", "Components", "Name", "Engine", "Version", ISD_VERSION, "Details", "ApiVersion",
                  ISD_API_VERSION, "MinAPIVersion", "1.24", "GitCommit", ISD_GIT_COMMIT, "GoVersion", "C (gnu11)", "Os",
                  "linux", "Arch", "amd64", "KernelVersion", u.release, "Experimental", "false");
    json_object_set_new(v, "Platform", json_pack("{s:s}", "Name", "isulad"));
    json_object_set_new(v, "Experimental", json_false());
    return v;
}

/* PRETTY_NAME of /etc/os-release (what docker and the guide show as "Operating System"), else "Linux". */
static char *os_name(void)
{
    cleanup_free char *text = read_file("/etc/os-release", 65536, NULL, NULL);
    char *save = NULL;
    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l != NULL; l = strtok_r(NULL, "\n", &save)) {
        size_t n;
        if (!str_has_prefix(l, "PRETTY_NAME="))
            continue;
        l += strlen("PRETTY_NAME=");
        n = strlen(l);
        if (n >= 2 && (l[0] == '"' || l[0] == '\'') && l[n - 1] == l[0])
            return xstrndup(l + 1, n - 2);
        return xstrdup(l);
    }
    return xstrdup("Linux");
}

/* Docker's "name=seccomp,profile=default" items; "builtin" when the daemon uses its built-in profile copy. */
static json_t *security_options(struct daemon *d)
{
    json_t *a = json_array();
    if (d->seccomp_default != NULL)
        json_array_append_new(a,
                              json_sprintf("name=seccomp,profile=%s",
                                           path_exists(d->cfg->seccomp_profile) ? d->cfg->seccomp_profile : "builtin"));
    if (d->cfg->selinux_enabled)
        json_array_append_new(a, json_string("name=selinux"));
    return a;
}

json_t *service_info(struct daemon *d)
{
    cleanup_free char *os = os_name();
    struct utsname u;
    size_t n = 0, nimg = 0;
    int running = 0, paused = 0, stopped = 0;
    struct container **v = container_store_list(d->containers, &n);
    struct image **imgs = image_store_list(d->images, &nimg);
    json_t *runtimes = json_object(), *info;
    char host[256] = "";
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&v[i]->lock);
        if (v[i]->status == CT_PAUSED)
            paused++;
        else if (container_is_active(v[i]))
            running++;
        else
            stopped++;
        pthread_mutex_unlock(&v[i]->lock);
    }
    container_list_free(v);
    for (size_t i = 0; i < nimg; i++)
        image_free(imgs[i]);
    free(imgs);
    for (size_t i = 0; i < d->cfg->n_runtimes; i++)
        json_object_set_new(runtimes, d->cfg->runtimes[i].name, json_pack("{s:s}", "path", d->cfg->runtimes[i].path));
    uname(&u);
    gethostname(host, sizeof(host) - 1);
    info = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:s, s:[[s,s]], s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, "
                     "s:I, s:s, s:s, s:o, s:s, s:s, s:b, s:b, s:s, s:[]}",
                     "ID", "", "Containers", (int)n, "ContainersRunning", running, "ContainersPaused", paused,
                     "ContainersStopped", stopped, "Images", (int)nimg, "Driver", "overlay2", "DriverStatus",
                     "Backing Filesystem", "extfs", "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs",
                     "KernelVersion", u.release, "OperatingSystem", os, "OSType", "linux", "Architecture", u.machine,
                     "IndexServerAddress", "", "Name", host, "NCPU", (int)sysconf(_SC_NPROCESSORS_ONLN), "MemTotal",
                     (json_int_t)sysconf(_SC_PHYS_PAGES) * (json_int_t)sysconf(_SC_PAGESIZE), "DockerRootDir",
                     d->cfg->graph, "ServerVersion", ISD_VERSION, "Runtimes", runtimes, "DefaultRuntime",
                     d->cfg->default_runtime, "ExecRoot", d->cfg->state, "LiveRestoreEnabled", true, "Debug",
                     d->cfg->log_level >= 7, "CgroupVersion", "1", "Warnings");
    json_object_set_new(info, "SecurityOptions", security_options(d));
    json_object_set_new(info, "ExperimentalBuild", json_false());
    return info;
}
