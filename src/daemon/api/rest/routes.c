/* The route table: method + path pattern -> handler. `{}` matches one path segment; `{+}` matches one or more
 * segments (image names contain slashes). */
#include <stdlib.h>
#include <string.h>

#include "daemon/api/rest/routes.h"

static const struct route {
    const char *method;
    const char *pattern;
    route_fn fn;
    bool stream_body;
} routes[] = {
    {"GET", "/_ping", h_ping, false},
    {"HEAD", "/_ping", h_ping, false},
    {"GET", "/version", h_version, false},
    {"GET", "/info", h_info, false},
    {"GET", "/events", h_events, false},
    {"POST", "/containers/create", h_container_create, false},
    {"POST", "/containers/prune", h_container_prune, false},
    {"POST", "/images/prune", h_image_prune, false},
    {"GET", "/system/df", h_system_df, false},
    {"GET", "/containers/json", h_container_list, false},
    {"GET", "/containers/{}/json", h_container_inspect, false},
    {"POST", "/containers/{}/start", h_container_start, false},
    {"POST", "/containers/{}/stop", h_container_stop, false},
    {"POST", "/containers/{}/restart", h_container_restart, false},
    {"POST", "/containers/{}/kill", h_container_kill, false},
    {"POST", "/containers/{}/pause", h_container_pause, false},
    {"POST", "/containers/{}/unpause", h_container_unpause, false},
    {"POST", "/containers/{}/rename", h_container_rename, false},
    {"POST", "/containers/{}/update", h_container_update, false},
    {"POST", "/containers/{}/resize", h_container_resize, false},
    {"POST", "/containers/{}/wait", h_container_wait, false},
    {"POST", "/containers/{}/attach", h_container_attach, false},
    {"POST", "/containers/{}/exec", h_exec_create, false},
    {"GET", "/containers/{}/logs", h_container_logs, false},
    {"GET", "/containers/{}/top", h_container_top, false},
    {"GET", "/containers/{}/stats", h_container_stats, false},
    {"GET", "/containers/{}/export", h_container_export, false},
    {"GET", "/containers/{}/changes", h_container_changes, false},
    {"POST", "/commit", h_commit, false},
    {"HEAD", "/containers/{}/archive", h_container_archive_head, false},
    {"GET", "/containers/{}/archive", h_container_archive_get, false},
    {"PUT", "/containers/{}/archive", h_container_archive_put, true},
    {"DELETE", "/containers/{}", h_container_remove, false},
    {"POST", "/exec/{}/start", h_exec_start, false},
    {"POST", "/exec/{}/resize", h_exec_resize, false},
    {"GET", "/exec/{}/json", h_exec_inspect, false},
    {"POST", "/networks/create", h_network_create, false},
    {"GET", "/networks", h_network_list, false},
    {"POST", "/networks/prune", h_network_prune, false},
    {"GET", "/networks/{}", h_network_inspect, false},
    {"POST", "/networks/{}/connect", h_network_connect, false},
    {"POST", "/networks/{}/disconnect", h_network_disconnect, false},
    {"DELETE", "/networks/{}", h_network_remove, false},
    {"GET", "/volumes", h_volume_list, false},
    {"POST", "/volumes/create", h_volume_create, false},
    {"POST", "/volumes/prune", h_volume_prune, false},
    {"GET", "/volumes/{}", h_volume_inspect, false},
    {"DELETE", "/volumes/{}", h_volume_remove, false},
    {"GET", "/images/json", h_image_list, false},
    {"POST", "/images/load", h_image_load, true},
    {"POST", "/images/create", h_image_create, true},
    {"POST", "/auth", h_auth_login, false},
    {"DELETE", "/isula/auth", h_auth_logout, false},
    {"GET", "/images/get", h_image_save, false},
    {"GET", "/images/{+}/json", h_image_inspect, false},
    {"GET", "/images/{+}/get", h_image_save, false},
    {"GET", "/images/{+}/history", h_image_history, false},
    {"POST", "/isula/images/load-embedded", h_image_load_embedded, false},
    {"POST", "/images/{+}/tag", h_image_tag, false},
    {"DELETE", "/images/{+}", h_image_remove, false},
};

/* Matches path against pattern; on success returns true and sets *ret_arg (malloc'd) for a placeholder. */
static bool match(const char *pattern, const char *path, char **ret_arg)
{
    const char *ph = strstr(pattern, "{");
    size_t pre, post_len, path_len = strlen(path);
    const char *post;
    if (ph == NULL)
        return strcmp(pattern, path) == 0;
    pre = (size_t)(ph - pattern);
    post = strchr(ph, '}') + 1;
    post_len = strlen(post);
    if (strncmp(pattern, path, pre) != 0 || path_len <= pre + post_len || strcmp(path + path_len - post_len, post) != 0)
        return false;
    {
        size_t arg_len = path_len - pre - post_len;
        char *arg = xstrndup(path + pre, arg_len);
        if (ph[1] != '+' && strchr(arg, '/') != NULL) {
            free(arg);
            return false;
        }
        *ret_arg = arg;
    }
    return true;
}

void routes_match(struct request *rq)
{
    for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
        char *arg = NULL;
        if (strcmp(routes[i].method, rq->method) != 0 || !match(routes[i].pattern, rq->path, &arg))
            continue;
        rq->handler = routes[i].fn;
        rq->arg = arg;
        rq->stream_body = routes[i].stream_body;
        return;
    }
}
