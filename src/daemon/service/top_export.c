/* `top` (ps filtered to the container's pids) and `export` (a tar of the container's filesystem). */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/service/internal.h"
#include "daemon/storage/layer_store.h"

static json_t *split_fields(const char *line, int max_fields)
{
    json_t *a = json_array();
    const char *p = line;
    while (*p != '\0') {
        const char *start;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        if ((int)json_array_size(a) == max_fields - 1) {
            json_array_append_new(a, json_string(p));
            break;
        }
        start = p;
        while (*p != '\0' && *p != ' ')
            p++;
        json_array_append_new(a, json_stringn(start, (size_t)(p - start)));
    }
    return a;
}

static bool pid_in(pid_t pid, const pid_t *pids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] == pid)
            return true;
    return false;
}

static json_t *ps_filter(const char *out, const pid_t *pids, size_t n, struct isd_error **err)
{
    cleanup_free char *copy = xstrdup(out);
    char *save = NULL;
    char *line = strtok_r(copy, "\n", &save);
    json_t *titles, *procs = json_array();
    int pid_col = -1, ncols;
    if (line == NULL) {
        json_decref(procs);
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "ps printed nothing");
        return NULL;
    }
    titles = split_fields(line, 1000);
    ncols = (int)json_array_size(titles);
    for (int i = 0; i < ncols; i++)
        if (streq(json_string_value(json_array_get(titles, (size_t)i)), "PID"))
            pid_col = i;
    if (pid_col < 0) {
        json_decref(titles);
        json_decref(procs);
        isd_error_set(err, ISD_ERR_INVALID, 0, "Couldn't find PID field in ps output");
        return NULL;
    }
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        json_t *row = split_fields(line, ncols);
        long long pid;
        if (parse_int64(json_string_value(json_array_get(row, (size_t)pid_col)), &pid) == 0 &&
            pid_in((pid_t)pid, pids, n))
            json_array_append_new(procs, row);
        else
            json_decref(row);
    }
    return json_pack("{s:o, s:o}", "Titles", titles, "Processes", procs);
}

json_t *service_container_top(struct daemon *d, const char *ref, const char *ps_args, struct isd_error **err)
{
    struct container *c = service_lookup_locked(d, ref, err);
    struct runtime rt;
    cleanup_free char *root = NULL;
    cleanup_free pid_t *pids = NULL;
    cleanup_free char *out = NULL;
    cleanup_strv char **argv = NULL;
    size_t n = 0;
    int rc = -1;
    if (c == NULL)
        return NULL;
    if (c->status != CT_RUNNING && c->status != CT_PAUSED)
        isd_error_set(err, ISD_ERR_CONFLICT, 0, "Container %s is not running", c->id);
    else if (service_runtime(d, c->runtime, &rt, &root, err) == 0)
        rc = rt.ops->pids(&rt, c->id, &pids, &n, err);
    pthread_mutex_unlock(&c->lock);
    container_unref(c);
    if (rc < 0)
        return NULL;
    strv_append(&argv, "ps");
    {
        cleanup_free char *args = xstrdup(ps_args && *ps_args ? ps_args : "-ef");
        char *save = NULL;
        for (char *t = strtok_r(args, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save))
            strv_append(&argv, t);
    }
    rc = spawn_run((const char *const *)argv, NULL, &out, NULL, err);
    if (rc != 0) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "ps %s failed", ps_args ? ps_args : "-ef");
        return NULL;
    }
    return ps_filter(out, pids, n, err);
}

int service_container_export(struct daemon *d, const char *ref, int out_fd, struct isd_error **err)
{
    cleanup_container struct container *c = container_store_lookup(d->containers, ref, err);
    if (c == NULL)
        return -1;
    if (c->external_rootfs != NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "cannot export container %s: it uses an external rootfs", c->id);
    return rootfs_export(d->layers, c->id, out_fd, err);
}
