/* Display helpers; see format.h. No global state. */
#include "client/format.h"

#include <stdlib.h>

#include "client/template.h"
#include "common/util.h"

char *format_since(const char *rfc3339, long long now_ns)
{
    long long t;
    cleanup_free char *d = NULL;
    if (rfc3339 == NULL || rfc3339[0] == '\0' || str_has_prefix(rfc3339, "0001-01-01") ||
        time_parse_rfc3339(rfc3339, &t) < 0 || t <= 0)
        return xstrdup("-");
    d = human_duration(now_ns > t ? (now_ns - t) / 1000000000LL : 0);
    return xasprintf("%s ago", d);
}

char *format_size(long long bytes)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
    double v = (double)bytes;
    size_t u = 0;
    char num[64];
    size_t n;
    while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000.0;
        u++;
    }
    snprintf(num, sizeof(num), "%.3f", v);
    n = strlen(num);
    while (n > 0 && num[n - 1] == '0')
        num[--n] = '\0';
    if (n > 0 && num[n - 1] == '.')
        num[--n] = '\0';
    return xasprintf("%s %s", num, units[u]);
}

char *format_docker_size(long long bytes)
{
    /* go-units HumanSizeWithPrecision(v, 3): "%.3g" of the value in powers of 1000 and the unit, no space */
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000.0;
        u++;
    }
    return xasprintf("%.3g%s", v, units[u]);
}

static char *ps_size(const json_t *item)
{
    json_t *rw = json_object_get(item, "SizeRw"), *rootfs = json_object_get(item, "SizeRootFs");
    cleanup_free char *a = NULL, *b = NULL;
    if (!json_is_integer(rw))
        return xstrdup("");
    a = format_docker_size(json_integer_value(rw));
    if (json_integer_value(rootfs) <= 0)
        return TAKE_PTR(a);
    b = format_docker_size(json_integer_value(rootfs));
    return xasprintf("%s (virtual %s)", a, b);
}

char *format_binary_size(double v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1024.0;
        u++;
    }
    return xasprintf("%.2f %s", v, units[u]);
}

const char *format_state_word(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return "unknown";
    if (streq(s, "created"))
        return "inited";
    return s;
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s != NULL ? s : dflt;
}

static char *ps_names(const json_t *item)
{
    json_t *names = json_object_get(item, "Names");
    struct buf b = {0};
    for (size_t i = 0; i < json_array_size(names); i++) {
        const char *n = json_string_value(json_array_get(names, i));
        if (n == NULL)
            continue;
        buf_printf(&b, "%s%s", b.len > 0 ? "," : "", n[0] == '/' ? n + 1 : n);
    }
    return buf_steal(&b);
}

static char *ps_command(const json_t *item, bool no_trunc)
{
    const char *cmd = str_or(item, "Command", "");
    if (!no_trunc && strlen(cmd) > 20)
        return xasprintf("\"%.19s…\"", cmd);
    return xasprintf("\"%s\"", cmd);
}

/* isula's STATUS word, with the health Docker's Status text ends with: "running (healthy)". */
static char *ps_status(const json_t *item)
{
    const char *docker = str_or(item, "Status", "");
    const char *h = strrchr(docker, '(');
    const char *word = format_state_word(str_or(item, "State", ""));
    if (h != NULL &&
        (str_has_prefix(h, "(healthy)") || str_has_prefix(h, "(unhealthy)") || str_has_prefix(h, "(health: ")))
        return xasprintf("%s %s", word, h);
    return xstrdup(word);
}

json_t *format_ps_row(const json_t *item, bool no_trunc, long long now_ns)
{
    cleanup_free char *status = ps_status(item);
    const char *id = str_or(item, "Id", "");
    long long pid = json_integer_value(json_object_get(item, "Pid"));
    cleanup_free char *names = ps_names(item), *cmd = ps_command(item, no_trunc), *size = ps_size(item);
    cleanup_free char *start = format_since(str_or(item, "StartedAt", ""), now_ns);
    cleanup_free char *finish = format_since(str_or(item, "FinishedAt", ""), now_ns);
    cleanup_free char *pidtxt = pid > 0 ? xasprintf("%lld", pid) : xstrdup("-");
    cleanup_free char *created = NULL;
    long long c = json_integer_value(json_object_get(item, "Created"));
    cleanup_free char *cago = human_duration(c > 0 ? now_ns / 1000000000LL - c : 0);
    json_t *labels = json_object_get(item, "Labels");
    created = xasprintf("%s ago", cago);
    return json_pack("{s:s%, s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s}", "ID", id,
                     no_trunc ? strlen(id) : (strlen(id) < 12 ? strlen(id) : 12), "Image", str_or(item, "Image", ""),
                     "Status", status, "Pid", pidtxt, "Command", cmd, "ExitCode",
                     (json_int_t)json_integer_value(json_object_get(item, "ExitCode")), "RestartCount",
                     (json_int_t)json_integer_value(json_object_get(item, "RestartCount")), "StartAt", start,
                     "FinishAt", finish, "Runtime", str_or(item, "Runtime", ""), "Names", names, "Created", created,
                     "State", str_or(item, "State", ""), "DockerStatus", str_or(item, "Status", ""), "Labels",
                     labels != NULL ? json_incref(labels) : json_object(), "Size", size);
}

json_t *format_ps_header(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", "ID",
                     "Size", "SIZE", "Image", "IMAGE", "Status", "STATUS", "Pid", "PID", "Command", "COMMAND",
                     "ExitCode", "EXIT_CODE", "RestartCount", "RESTART_COUNT", "StartAt", "STARTAT", "FinishAt",
                     "FINISHAT", "Runtime", "RUNTIME", "Names", "NAMES", "Created", "CREATED", "State", "STATE",
                     "DockerStatus", "STATUS", "Labels", "LABELS");
}

static size_t display_width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

void format_table_print_padded(FILE *f, char **const *rows, size_t n, size_t minwidth, size_t padding)
{
    size_t ncol = 0, *w;
    for (size_t r = 0; r < n; r++)
        if (strv_len(rows[r]) > ncol)
            ncol = strv_len(rows[r]);
    w = xcalloc(ncol + 1, sizeof(size_t));
    for (size_t c = 0; c < ncol; c++)
        w[c] = minwidth;
    for (size_t r = 0; r < n; r++)
        for (size_t c = 0; rows[r][c] != NULL; c++)
            if (display_width(rows[r][c]) + padding > w[c])
                w[c] = display_width(rows[r][c]) + padding;
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; rows[r][c] != NULL; c++) {
            if (rows[r][c + 1] == NULL)
                fprintf(f, "%s", rows[r][c]);
            else
                fprintf(f, "%s%*s", rows[r][c], (int)(w[c] - display_width(rows[r][c])), "");
        }
        fputc('\n', f);
    }
    free(w);
}

void format_table_print(FILE *f, char **const *rows, size_t n)
{
    format_table_print_padded(f, rows, n, 0, 1);
}

char **format_split_cells(const char *row)
{
    char **v = NULL;
    const char *p = row, *sep;
    while ((sep = strchr(p, TEMPLATE_CELL_SEP)) != NULL) {
        char *cell = xstrndup(p, (size_t)(sep - p));
        strv_append(&v, cell);
        free(cell);
        p = sep + 1;
    }
    strv_append(&v, p);
    return v;
}

void format_rows_free(char ***rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        strv_free(rows[i]);
    free(rows);
}
