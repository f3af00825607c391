/* Discovery, activation and calls of a Docker-protocol plugin (see plugin_client.h). */
#include "daemon/api/rest/plugin_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"

#define PLUGIN_MAX_REPLY (1 << 20)
#define PLUGIN_CONTENT_TYPE "application/vnd.docker.plugins.v1.2+json"

static char *const g_default_dirs[] = {"/run/docker/plugins", "/etc/docker/plugins", "/usr/lib/docker/plugins", NULL};

struct plugin_client {
    char *name;
    char *const *dirs;
    pthread_mutex_t lock;
    char *addr; /* "unix:///path" or "tcp://ip:port" once activated, else NULL */
};

struct plugin_client *plugin_client_new(const char *name, char *const *dirs)
{
    struct plugin_client *p = xcalloc(1, sizeof(*p));
    p->name = xstrdup(name);
    p->dirs = dirs != NULL ? dirs : g_default_dirs;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

void plugin_client_free(struct plugin_client *p)
{
    if (p == NULL)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p->name);
    free(p->addr);
    free(p);
}

const char *plugin_client_name(const struct plugin_client *p)
{
    return p->name;
}

static bool is_socket(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* The address in a .spec file (its first line) or a .json file ("Addr"); NULL when absent or malformed. */
static char *spec_addr(const char *path, bool json)
{
    cleanup_free char *text = read_file(path, 64 * 1024, NULL, NULL);
    cleanup_json json_t *j = NULL;
    const char *a;
    if (text == NULL)
        return NULL;
    if (!json) {
        text[strcspn(text, "\r\n")] = '\0';
        return xstrdup(text);
    }
    j = json_parse(text, strlen(text), NULL);
    a = json_get_str(j, "Addr");
    return a != NULL ? xstrdup(a) : NULL;
}

/* Docker's lookup order: sockets first (flat, then in a directory of the plugin's name), then spec files. */
static char *plugin_find(const struct plugin_client *p, char **why)
{
    for (char *const *d = p->dirs; *d != NULL; d++) {
        cleanup_free char *flat = xasprintf("%s/%s.sock", *d, p->name);
        cleanup_free char *nested = xasprintf("%s/%s/%s.sock", *d, p->name, p->name);
        if (is_socket(flat))
            return xasprintf("unix://%s", flat);
        if (is_socket(nested))
            return xasprintf("unix://%s", nested);
    }
    for (char *const *d = p->dirs; *d != NULL; d++) {
        cleanup_free char *spec = xasprintf("%s/%s.spec", *d, p->name);
        cleanup_free char *json = xasprintf("%s/%s.json", *d, p->name);
        char *a = spec_addr(spec, false);
        if (a == NULL)
            a = spec_addr(json, true);
        if (a != NULL && (str_has_prefix(a, "unix:///") || str_has_prefix(a, "tcp://")))
            return a;
        if (a != NULL) {
            *why = xasprintf("plugin %s: unsupported address `%s` (unix:///path or tcp://ip:port)", p->name, a);
            free(a);
            return NULL;
        }
    }
    cleanup_strv char **dirs = NULL;
    for (char *const *d = p->dirs; *d != NULL; d++)
        strv_append(&dirs, *d);
    cleanup_free char *list = strv_join(dirs, ", ");
    *why = xasprintf("plugin %s not found (no %s.sock, .spec or .json in %s)", p->name, p->name, list);
    return NULL;
}

static int connect_unix(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    int fd;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *hostport)
{
    cleanup_free char *host = xstrdup(hostport);
    char *colon = strrchr(host, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    int fd;
    if (colon == NULL) {
        errno = EINVAL;
        return -1;
    }
    *colon = '\0';
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int plugin_connect(const char *addr)
{
    struct timeval tv = {.tv_sec = 30};
    int fd = str_has_prefix(addr, "unix://") ? connect_unix(addr + 7) : connect_tcp(addr + 6);
    if (fd >= 0) {
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    return fd;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* One POST over a new connection to addr; the JSON body of a 200 answer, or NULL with *why. */
static json_t *post(const char *name, const char *addr, const char *method, const char *body, char **why)
{
    cleanup_free char *head = xasprintf("POST /%s HTTP/1.0\r\nHost: plugin\r\nAccept: " PLUGIN_CONTENT_TYPE
                                        "\r\nContent-Type: " PLUGIN_CONTENT_TYPE "\r\nContent-Length: %zu\r\n\r\n",
                                        method, strlen(body));
    struct buf in = {0};
    char chunk[8192], *sep;
    ssize_t n;
    json_t *j = NULL;
    int fd = plugin_connect(addr);
    if (fd < 0) {
        *why = xasprintf("plugin %s not reachable at %s: %s", name, addr, strerror(errno));
        return NULL;
    }
    if (write_all(fd, head, strlen(head)) && write_all(fd, body, strlen(body)))
        while (in.len < PLUGIN_MAX_REPLY && (n = read(fd, chunk, sizeof(chunk))) > 0)
            buf_append(&in, chunk, (size_t)n);
    close(fd);
    buf_append(&in, "", 1);
    sep = strstr(in.data, "\r\n\r\n");
    if (sep == NULL || strncmp(in.data, "HTTP/1.", 7) != 0 || strncmp(in.data + 8, " 200", 4) != 0)
        *why = xasprintf("plugin %s failed: %s answer to %s", name, sep == NULL ? "no" : "a non-200", method);
    else if ((j = json_parse(sep + 4, strlen(sep + 4), NULL)) == NULL)
        *why = xasprintf("plugin %s failed: malformed JSON answer to %s", name, method);
    buf_free(&in);
    return j;
}

static bool implements(const json_t *res, const char *kind)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(res, "Implements"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), kind) == 0)
            return true;
    }
    return false;
}

int plugin_client_activate(struct plugin_client *p, const char *kind, bool *not_kind, char **why)
{
    cleanup_free char *addr = NULL;
    cleanup_json json_t *res = NULL;
    *not_kind = false;
    pthread_mutex_lock(&p->lock);
    if (p->addr != NULL) {
        pthread_mutex_unlock(&p->lock);
        return 0;
    }
    pthread_mutex_unlock(&p->lock);
    if ((addr = plugin_find(p, why)) == NULL || (res = post(p->name, addr, "Plugin.Activate", "{}", why)) == NULL)
        return -1;
    if (!implements(res, kind)) {
        cleanup_free char *list = json_to_string(json_object_get(res, "Implements"));
        *not_kind = true;
        *why = xasprintf("plugin %s does not implement %s (it implements %s)", p->name, kind,
                         list != NULL ? list : "nothing");
        return -1;
    }
    pthread_mutex_lock(&p->lock);
    if (p->addr == NULL)
        p->addr = TAKE_PTR(addr);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

json_t *plugin_client_call(struct plugin_client *p, const char *method, const char *body, char **why)
{
    cleanup_free char *addr = NULL;
    pthread_mutex_lock(&p->lock);
    addr = p->addr != NULL ? xstrdup(p->addr) : NULL;
    pthread_mutex_unlock(&p->lock);
    if (addr == NULL) {
        *why = xasprintf("plugin %s is not activated", p->name);
        return NULL;
    }
    json_t *res = post(p->name, addr, method, body, why);
    if (res == NULL) { /* a restarted plugin is found and activated again on the next call */
        pthread_mutex_lock(&p->lock);
        free(p->addr);
        p->addr = NULL;
        pthread_mutex_unlock(&p->lock);
    }
    return res;
}
