/* isula stats (guide C-stats-01..03): GET /containers/{id}/stats?stream=false per container, rendered in the
 * guide's fixed columns (L3332-3338: CONTAINER 16, CPU % 10, MEM USAGE / LIMIT 26, MEM % 10, BLOCK I / O 26, then
 * PIDS, one space apart; 12-character IDs, two-decimal percentages without "%", binary units with a space:
 * "56.00 KiB / 7.45 GiB"); refreshed every second unless --no-stream. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/format.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

/* Docker's CPU %: the container's share of the host's CPU time between the two samples, times the CPUs. */
static double cpu_percent(const json_t *s)
{
    const json_t *cpu = json_object_get(s, "cpu_stats"), *pre = json_object_get(s, "precpu_stats");
    double d_cpu = (double)(json_get_int(json_object_get(cpu, "cpu_usage"), "total_usage", 0) -
                            json_get_int(json_object_get(pre, "cpu_usage"), "total_usage", 0));
    double d_sys = (double)(json_get_int(cpu, "system_cpu_usage", 0) - json_get_int(pre, "system_cpu_usage", 0));
    long long ncpu = json_get_int(cpu, "online_cpus", 1);
    return d_cpu > 0 && d_sys > 0 ? d_cpu / d_sys * (double)(ncpu > 0 ? ncpu : 1) * 100.0 : 0.0;
}

/* Memory in use without the reclaimable page cache, as docker shows it. */
static long long mem_usage(const json_t *m)
{
    const json_t *st = json_object_get(m, "stats");
    long long usage = json_get_int(m, "usage", 0);
    long long inactive = json_get_int(st, "total_inactive_file", json_get_int(st, "inactive_file", 0));
    return inactive < usage ? usage - inactive : usage;
}

static void blkio_sum(const json_t *s, long long *r, long long *w)
{
    const json_t *a = json_object_get(json_object_get(s, "blkio_stats"), "io_service_bytes_recursive");
    *r = *w = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *e = json_array_get(a, i);
        const char *op = json_get_str(e, "op");
        if (op != NULL && strcasecmp(op, "read") == 0)
            *r += json_get_int(e, "value", 0);
        else if (op != NULL && strcasecmp(op, "write") == 0)
            *w += json_get_int(e, "value", 0);
    }
}

static char **stats_row(const char *id, const json_t *s)
{
    const json_t *m = json_object_get(s, "memory_stats");
    long long usage = mem_usage(m), limit = json_get_int(m, "limit", 0), r, w;
    cleanup_free char *mu = format_binary_size((double)usage), *ml = format_binary_size((double)limit);
    cleanup_free char *br = NULL, *bw = NULL, *cid = xasprintf("%.12s", id);
    cleanup_free char *cpu = xasprintf("%.2f", cpu_percent(s)), *mem = NULL, *memp = NULL, *io = NULL;
    cleanup_free char *pids = xasprintf("%lld", json_get_int(json_object_get(s, "pids_stats"), "current", 0));
    char **row = NULL;
    blkio_sum(s, &r, &w);
    br = format_binary_size((double)r);
    bw = format_binary_size((double)w);
    mem = xasprintf("%s / %s", mu, ml);
    memp = xasprintf("%.2f", limit > 0 ? (double)usage / (double)limit * 100.0 : 0.0);
    io = xasprintf("%s / %s", br, bw);
    const char *const cells[] = {cid, cpu, mem, memp, io, pids};
    for (size_t i = 0; i < ARRAY_SIZE(cells); i++)
        strv_append(&row, cells[i]);
    return row;
}

/* The containers to show: those named, else the running ones (all with -a). */
static char **targets(char **pos, bool all, struct isd_error **err)
{
    cleanup_json json_t *list = NULL;
    char **ids = NULL;
    if (pos != NULL && pos[0] != NULL)
        return strv_dup(pos);
    if (client_call(cmd_host(), "GET", all ? "/containers/json?all=1" : "/containers/json", NULL, &list, err) < 0)
        return NULL;
    for (size_t i = 0; i < json_array_size(list); i++) {
        const char *id = json_get_str(json_array_get(list, i), "Id");
        if (id != NULL)
            strv_append(&ids, id);
    }
    return ids != NULL ? ids : xcalloc(1, sizeof(char *));
}

/* One table; an error of one container stops the command (as the guide's other multi-container commands). */
static int print_table(char *const *ids, bool clear)
{
    size_t n = strv_len(ids), nrows = 0;
    char ***rows = xcalloc(n + 1, sizeof(char **));
    const char *const header[] = {"CONTAINER", "CPU %", "MEM USAGE / LIMIT", "MEM %", "BLOCK I / O", "PIDS", NULL};
    int rc = 0;
    rows[nrows++] = strv_dup((char *const *)header);
    for (size_t i = 0; i < n && rc == 0; i++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_json json_t *s = NULL;
        cleanup_free char *base = cmd_path("containers", ids[i], "stats");
        cleanup_free char *path = xasprintf("%s?stream=false", base);
        if (client_call(cmd_host(), "GET", path, NULL, &s, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            break;
        }
        rows[nrows++] = stats_row(json_get_str(s, "id") != NULL ? json_get_str(s, "id") : ids[i], s);
    }
    if (rc == 0) {
        if (clear)
            fputs("\033[2J\033[H", stdout);
        for (size_t r = 0; r < nrows; r++)
            printf("%-16s %-10s %-26s %-10s %-26s %s\n", rows[r][0], rows[r][1], rows[r][2], rows[r][3], rows[r][4],
                   rows[r][5]);
        fflush(stdout);
    }
    format_rows_free(rows, nrows);
    return rc;
}

int cmd_stats(int argc, char **argv)
{
    bool all = false, no_stream = false;
    const struct cli_option o[] = {
        CMD_COMMON_OPTS,
        {"all", 'a', CLI_OPT_BOOL, &all, "Show all containers (default shows just running)"},
        {"no-stream", 0, CLI_OPT_BOOL, &no_stream, "Disable streaming stats and only pull the first result"},
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    bool tty = isatty(STDOUT_FILENO) == 1;
    int rc;
    if (cmd_parse("stats", o, argc, argv, 0, 0, &pos, &rc) < 0)
        return rc;
    for (;;) {
        cleanup_strv char **ids = targets(pos, all, &err);
        if (ids == NULL) {
            cmd_print_error(err);
            return 1;
        }
        if (print_table(ids, tty && !no_stream) != 0)
            return 1;
        if (no_stream)
            return 0;
        sleep(1);
    }
}
