/* Prometheus text exposition (format 0.0.4) of the engine's figures. */
#include "daemon/api/rest/metrics.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"

#define MAX_ACTIONS 32
static const double g_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define N_BOUNDS (sizeof(g_bounds) / sizeof(g_bounds[0]))

struct action {
    char name[32];
    unsigned long long buckets[N_BOUNDS], count;
    double sum;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct action g_actions[MAX_ACTIONS];
static size_t g_n_actions;
static struct daemon *g_daemon;

/* The action of a request: "create", "start", "stop", ... for containers, "pull" for images/create. */
static bool action_of(const char *method, const char *path, char *out, size_t len)
{
    const char *last = strrchr(path, '/');
    if (last == NULL)
        return false;
    if (strcmp(method, "POST") == 0 && strcmp(path, "/images/create") == 0)
        return snprintf(out, len, "pull") > 0;
    if (strcmp(method, "POST") == 0 && strcmp(path, "/images/load") == 0)
        return snprintf(out, len, "image_load") > 0;
    if (strcmp(method, "DELETE") == 0 && str_has_prefix(path, "/images/"))
        return snprintf(out, len, "image_delete") > 0;
    if (strcmp(method, "POST") == 0 && str_has_prefix(path, "/exec/") && strcmp(last, "/start") == 0)
        return snprintf(out, len, "exec_start") > 0;
    if (!str_has_prefix(path, "/containers/") || last == NULL)
        return false;
    if (strcmp(method, "DELETE") == 0)
        return snprintf(out, len, "delete") > 0;
    if (strcmp(method, "POST") != 0)
        return false;
    snprintf(out, len, "%s", last + 1);
    return strlen(out) > 0 && strspn(out, "abcdefghijklmnopqrstuvwxyz") == strlen(out);
}

void rest_metrics_observe(const char *method, const char *path, double seconds)
{
    char name[32];
    struct action *a = NULL;
    if (g_daemon == NULL || !action_of(method, path, name, sizeof(name)))
        return;
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_n_actions && a == NULL; i++)
        if (strcmp(g_actions[i].name, name) == 0)
            a = &g_actions[i];
    if (a == NULL && g_n_actions < MAX_ACTIONS) {
        a = &g_actions[g_n_actions++];
        snprintf(a->name, sizeof(a->name), "%s", name);
    }
    if (a != NULL) {
        for (size_t i = 0; i < N_BOUNDS; i++)
            if (seconds <= g_bounds[i])
                a->buckets[i]++;
        a->count++;
        a->sum += seconds;
    }
    pthread_mutex_unlock(&g_lock);
}

static void actions_text(struct buf *b)
{
    buf_printf(b, "# HELP engine_daemon_container_actions_seconds The number of seconds it takes to process each "
                  "container action\n# TYPE engine_daemon_container_actions_seconds histogram\n");
    pthread_mutex_lock(&g_lock);
    for (size_t k = 0; k < g_n_actions; k++) {
        const struct action *a = &g_actions[k];
        for (size_t i = 0; i < N_BOUNDS; i++)
            buf_printf(b, "engine_daemon_container_actions_seconds_bucket{action=\"%s\",le=\"%g\"} %llu\n", a->name,
                       g_bounds[i], a->buckets[i]);
        buf_printf(b, "engine_daemon_container_actions_seconds_bucket{action=\"%s\",le=\"+Inf\"} %llu\n", a->name,
                   a->count);
        buf_printf(b, "engine_daemon_container_actions_seconds_sum{action=\"%s\"} %g\n", a->name, a->sum);
        buf_printf(b, "engine_daemon_container_actions_seconds_count{action=\"%s\"} %llu\n", a->name, a->count);
    }
    pthread_mutex_unlock(&g_lock);
}

/* The figures of the last scrape per container id: a container busy with an operation shows them again. */
static json_t *g_last;

/* This scrape's rows, busy ones replaced by their previous figures (dropped when there are none). */
static json_t *container_rows(bool usage)
{
    json_t *rows = service_metrics_containers(g_daemon, usage), *out = json_array(), *row, *last = json_object();
    size_t i;
    pthread_mutex_lock(&g_lock);
    json_array_foreach(rows, i, row)
    {
        const char *id = json_get_str(row, "Id");
        json_t *r = json_get_bool(row, "Busy", false) ? json_object_get(g_last, id) : row;
        if (r == NULL)
            continue;
        json_array_append(out, r);
        json_object_set(last, id, r);
    }
    json_decref(g_last);
    g_last = last;
    pthread_mutex_unlock(&g_lock);
    json_decref(rows);
    return out;
}

static void states_text(struct buf *b, const json_t *rows)
{
    static const char *states[] = {"created", "running", "paused", "restarting", "exited", "dead"};
    unsigned long long n[ARRAY_SIZE(states)] = {0};
    const json_t *c;
    size_t i;
    json_array_foreach(rows, i, c)
    {
        const char *st = json_get_str(c, "State");
        for (size_t k = 0; st != NULL && k < ARRAY_SIZE(states); k++)
            if (strcmp(st, states[k]) == 0)
                n[k]++;
    }
    buf_printf(b, "# HELP engine_daemon_container_states_containers The count of containers in various states\n"
                  "# TYPE engine_daemon_container_states_containers gauge\n");
    for (size_t k = 0; k < ARRAY_SIZE(states); k++)
        buf_printf(b, "engine_daemon_container_states_containers{state=\"%s\"} %llu\n", states[k], n[k]);
}

/* A label value in the text format: backslash, double quote and newline escaped. */
static void label_value(struct buf *b, const char *v)
{
    for (; v != NULL && *v != '\0'; v++) {
        if (*v == '\\' || *v == '"')
            buf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            buf_printf(b, "\\n");
        else
            buf_append(b, v, 1);
    }
}

static void series(struct buf *b, const char *metric, const json_t *c, const char *value)
{
    buf_printf(b, "%s{id=\"", metric);
    label_value(b, json_get_str(c, "Id"));
    buf_printf(b, "\",name=\"");
    label_value(b, json_get_str(c, "Name"));
    buf_printf(b, "\"} %s\n", value);
}

/* Per container: running (1/0) and restarts always; the cgroup figures of running ones when asked (CPU seconds,
 * memory bytes, block I/O bytes read and written, processes). */
static void containers_text(struct buf *b, const json_t *rows, bool usage)
{
    static const char *const head[][4] = {
        {"engine_container_running", "gauge", "Whether the container runs (1) or not (0)", NULL},
        {"engine_container_restarts_total", "counter", "Restarts of the container by its restart policy", NULL},
        {"engine_container_cpu_usage_seconds_total", "counter", "CPU time used by the running container", "CpuSeconds"},
        {"engine_container_memory_usage_bytes", "gauge", "Memory used by the running container (cgroup usage)",
         "MemoryBytes"},
        {"engine_container_io_read_bytes_total", "counter",
         "Bytes the running container read from block devices (all devices)", "IoReadBytes"},
        {"engine_container_io_written_bytes_total", "counter",
         "Bytes the running container wrote to block devices (all devices)", "IoWriteBytes"},
        {"engine_container_pids", "gauge", "Processes and threads in the running container (pids.current)", "Pids"},
    };
    const json_t *c;
    size_t i;
    char v[64];
    for (size_t k = 0; k < (usage ? ARRAY_SIZE(head) : 2u); k++) {
        buf_printf(b, "# HELP %s %s.\n# TYPE %s %s\n", head[k][0], head[k][2], head[k][0], head[k][1]);
        json_array_foreach(rows, i, c)
        {
            const char *st = json_get_str(c, "State");
            if (k == 0)
                snprintf(v, sizeof(v), "%d", st != NULL && strcmp(st, "running") == 0);
            else if (k == 1)
                snprintf(v, sizeof(v), "%lld", json_get_int(c, "Restarts", 0));
            else if (json_object_get(c, head[k][3]) == NULL)
                continue;
            else if (k == 2)
                snprintf(v, sizeof(v), "%.9f", json_real_value(json_object_get(c, head[k][3])));
            else
                snprintf(v, sizeof(v), "%lld", json_get_int(c, head[k][3], 0));
            series(b, head[k][0], c, v);
        }
    }
}

static void pull_text(struct buf *b)
{
    buf_printf(b,
               "# HELP engine_daemon_image_pull_bytes_total Bytes received from registries by image pulls (manifests, "
               "configs, layers).\n# TYPE engine_daemon_image_pull_bytes_total counter\n"
               "engine_daemon_image_pull_bytes_total %lld\n",
               service_metrics_pull_bytes());
}

static void process_text(struct buf *b)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long long rss_kib = 0, threads = 0, fds = 0;
    DIR *d;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        sscanf(line, "VmRSS: %lld", &rss_kib);
        sscanf(line, "Threads: %lld", &threads);
    }
    if (f != NULL)
        fclose(f);
    if ((d = opendir("/proc/self/fd")) != NULL) {
        while (readdir(d) != NULL)
            fds++;
        closedir(d);
        fds -= 3; /* ".", ".." and the directory's own fd */
    }
    buf_printf(b,
               "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
               "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n"
               "# HELP process_open_fds Number of open file descriptors.\n# TYPE process_open_fds gauge\n"
               "process_open_fds %lld\n# HELP engine_daemon_threads Number of threads of isulad.\n"
               "# TYPE engine_daemon_threads gauge\nengine_daemon_threads %lld\n",
               rss_kib * 1024, fds, threads);
}

static enum MHD_Result on_metrics(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **req_cls)
{
    struct buf b = {0};
    struct MHD_Response *r;
    enum MHD_Result ret;
    (void)cls, (void)version, (void)upload, (void)upload_size, (void)req_cls;
    if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
        r = MHD_create_response_from_buffer(10, (void *)"not found\n", MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
        MHD_destroy_response(r);
        return ret;
    }
    const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "containers");
    bool usage = q != NULL && (strcmp(q, "1") == 0 || strcmp(q, "true") == 0);
    json_t *rows = container_rows(usage);
    states_text(&b, rows);
    containers_text(&b, rows, usage);
    json_decref(rows);
    actions_text(&b);
    pull_text(&b);
    process_text(&b);
    r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
    buf_free(&b);
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
    ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

int rest_metrics_start(struct daemon *d, const char *addr, struct isd_error **err)
{
    cleanup_free char *host = xstrdup(addr);
    char *colon = strrchr(host, ':');
    struct sockaddr_in sa = {.sin_family = AF_INET};
    *colon = '\0';
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) != 1)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "metrics-addr `%s`: an IPv4 address is needed", addr);
    g_daemon = d;
    if (MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_metrics, NULL, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&sa, MHD_OPTION_END) == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "cannot serve metrics on `%s`", addr);
    return 0;
}
