/* isula events (guide C-events-01): GET /events, printed as the guide's example shows them (L17648-17680):
 * "2019-08-28T16:23:09.338838795+08:00 container create <id> (image=busybox:latest, name=eager_wu)": local time
 * with nine digits of nanoseconds and the zone as a numeric offset (also "+00:00" in UTC, where docker prints
 * "Z"), type, action, actor ID, the attributes sorted by key. -n limits to one container, -S/--since replays
 * from a time; --until (docker's) ends the stream. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/http.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

/* "2006-01-02T15:04:05.999999999+08:00" in local time. */
static void local_time(long long ns, char *out, size_t size)
{
    time_t secs = (time_t)(ns / 1000000000LL);
    struct tm tm;
    char base[32] = "", zone[8] = "";
    if (localtime_r(&secs, &tm) != NULL) {
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        strftime(zone, sizeof(zone), "%z", &tm);
    }
    snprintf(out, size, "%s.%09lld%.3s:%.2s", base, ns % 1000000000LL, zone, zone[0] ? zone + 3 : "");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_event(const json_t *ev)
{
    const json_t *actor = json_object_get(ev, "Actor"), *attrs = json_object_get(actor, "Attributes");
    struct buf b = {0};
    char when[64];
    const char *k;
    json_t *v;
    local_time(json_get_int(ev, "timeNano", 0), when, sizeof(when));
    buf_printf(&b, "%s %s %s %s", when, json_get_str(ev, "Type") ? json_get_str(ev, "Type") : "",
               json_get_str(ev, "Action") ? json_get_str(ev, "Action") : "",
               json_get_str(actor, "ID") ? json_get_str(actor, "ID") : "");
    if (json_object_size(attrs) > 0) {
        const char **keys = xcalloc(json_object_size(attrs), sizeof(char *));
        size_t n = 0;
        json_object_foreach((json_t *)attrs, k, v) keys[n++] = k;
        qsort(keys, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
            const char *val = json_string_value(json_object_get(attrs, keys[i]));
            buf_printf(&b, "%s%s=%s", i == 0 ? " (" : ", ", keys[i], val != NULL ? val : "");
        }
        buf_append(&b, ")", 1);
        free(keys);
    }
    buf_append(&b, "", 1);
    printf("%s\n", b.data);
    fflush(stdout);
    buf_free(&b);
}

int cmd_events(int argc, char **argv)
{
    char *name = NULL, *since = NULL, *until = NULL;
    const struct cli_option o[] = {
        CMD_COMMON_OPTS,
        {"name", 'n', CLI_OPT_STRING, &name, "Only the events of this container (name or ID)"},
        {"since", 'S', CLI_OPT_STRING, &since, "Show the events since a time (RFC 3339, unix seconds, or 10m ago)"},
        {"until", 0, CLI_OPT_STRING, &until, "Stream events until this time"},
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *sv = NULL, *uv = NULL, *filters = NULL, *path = NULL;
    struct buf query = {0};
    struct http_conn c;
    struct http_request req = {.method = "GET", .body_fd = -1};
    struct http_response resp;
    struct buf line = {0};
    char chunk[8192];
    ssize_t n;
    int rc;
    if (cmd_parse("events", o, argc, argv, 0, 0, &pos, &rc) < 0)
        return rc;
    sv = cmd_time_value(since);
    uv = cmd_time_value(until);
    if (name != NULL) {
        cleanup_json json_t *f = json_pack("{s:[s]}", "container", name);
        cleanup_free char *text = json_dumps(f, JSON_COMPACT);
        filters = client_query_escape(text);
    }
    buf_printf(&query, "/events?");
    if (sv != NULL)
        buf_printf(&query, "since=%s&", sv);
    if (uv != NULL)
        buf_printf(&query, "until=%s&", uv);
    if (filters != NULL)
        buf_printf(&query, "filters=%s&", filters);
    buf_append(&query, "", 1);
    path = buf_steal(&query);
    req.path = path;
    if (client_request(cmd_host(), &req, &c, &resp, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    while ((n = http_read_body(&c, &resp, chunk, sizeof(chunk), &err)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] != '\n') {
                buf_append(&line, &chunk[i], 1);
                continue;
            }
            buf_append(&line, "", 1);
            cleanup_json json_t *ev = json_parse(line.data, line.len - 1, NULL);
            if (ev != NULL)
                print_event(ev);
            buf_free(&line);
        }
    }
    buf_free(&line);
    http_conn_close(&c);
    http_response_free(&resp);
    free(name), free(since), free(until);
    return n < 0 ? (cmd_print_error(err), 1) : 0;
}
