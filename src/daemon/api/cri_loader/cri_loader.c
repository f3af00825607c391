/* dlopen of libisulad-cri.so at its first use; see cri_loader.h. */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/api/cri_loader/cri_loader.h"

#define CRI_LIBRARY_NAME "libisulad-cri.so"

struct cri_server;

/* The entry points of the library (daemon/api/cri/cri_server.h). */
struct cri_entry {
    struct cri_server *(*start)(struct daemon *d, const char *socket_path, struct isd_error **err);
    void (*add_connection)(struct cri_server *s, int fd);
    void (*stop)(struct cri_server *s);
};

struct cri_loader {
    struct daemon *d;
    char *socket_path;
    pthread_mutex_t lock;
    bool tried;
    struct cri_entry entry;
    struct cri_server *srv; /* NULL until loaded (or when loading failed) */
};

/* Beside the executable first (a build tree), then the installed path. */
static char *library_path(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            char *p = xasprintf("%.*s/%s", (int)(slash - self), self, CRI_LIBRARY_NAME);
            if (access(p, R_OK) == 0)
                return p;
            free(p);
        }
    }
    return xstrdup(ISD_CRI_LIBRARY);
}

static int load(struct cri_loader *l, struct isd_error **err)
{
    cleanup_free char *path = library_path();
    /* never closed: gRPC's threads and atexit handlers live in it */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "cri: cannot load `%s`: %s", path, dlerror());
    *(void **)&l->entry.start = dlsym(h, "cri_server_start");
    *(void **)&l->entry.add_connection = dlsym(h, "cri_server_add_connection");
    *(void **)&l->entry.stop = dlsym(h, "cri_server_stop");
    if (l->entry.start == NULL || l->entry.add_connection == NULL || l->entry.stop == NULL)
        return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "cri: `%s` lacks the CRI server's entry points", path);
    l->srv = l->entry.start(l->d, l->socket_path, err);
    if (l->srv == NULL)
        return -1;
    log_info("cri: loaded `%s`", path);
    return 0;
}

/* The server, loaded at the first call; NULL when it cannot be (logged by the first caller). */
static struct cri_server *server_get(struct cri_loader *l, struct isd_error **err)
{
    pthread_mutex_lock(&l->lock);
    if (!l->tried) {
        l->tried = true;
        if (load(l, err) < 0)
            l->srv = NULL;
    }
    struct cri_server *s = l->srv;
    pthread_mutex_unlock(&l->lock);
    return s;
}

struct cri_loader *cri_loader_new(struct daemon *d, const char *socket_path, struct isd_error **err)
{
    struct cri_loader *l = xcalloc(1, sizeof(*l));
    l->d = d;
    l->socket_path = socket_path != NULL ? xstrdup(socket_path) : NULL;
    pthread_mutex_init(&l->lock, NULL);
    if (socket_path != NULL && server_get(l, err) == NULL) {
        cri_loader_free(l);
        return NULL;
    }
    return l;
}

void cri_loader_add_connection(struct cri_loader *l, int fd)
{
    cleanup_error struct isd_error *err = NULL;
    struct cri_server *s = server_get(l, &err);
    if (s == NULL) {
        if (err != NULL)
            log_error("%s", err->msg);
        close(fd);
        return;
    }
    l->entry.add_connection(s, fd);
}

void cri_loader_free(struct cri_loader *l)
{
    if (l == NULL)
        return;
    if (l->srv != NULL)
        l->entry.stop(l->srv);
    pthread_mutex_destroy(&l->lock);
    free(l->socket_path);
    free(l);
}
