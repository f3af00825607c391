/* Docker's JSON progress messages; see registry.h. Pure functions. */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/image/registry/registry.h"

#define BAR_WIDTH 50

/* Decimal units with 4 significant digits, as the docker CLI prints sizes ("1.2MB", "512B"). */
static char *human_size(long long n)
{
    static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
    double v = (double)n;
    size_t u = 0;
    while (v >= 1000.0 && u + 1 < ARRAY_SIZE(units)) {
        v /= 1000.0;
        u++;
    }
    return xasprintf("%.4g%s", v, units[u]);
}

char *registry_progress_bar(long long current, long long total)
{
    cleanup_free char *cur = human_size(current), *tot = human_size(total);
    char bar[BAR_WIDTH + 1];
    int pos = total > 0 ? (int)(BAR_WIDTH * (current > total ? total : current) / total) : 0;
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < pos - 1 ? '=' : (i == pos - 1 && pos < BAR_WIDTH ? '>' : (i < pos ? '=' : ' '));
    bar[BAR_WIDTH] = '\0';
    return xasprintf("[%s] %8s/%s", bar, cur, tot);
}

char *registry_progress_json(const char *status, const char *id, long long current, long long total)
{
    cleanup_json json_t *j = json_pack("{s:s}", "status", status);
    if (total > 0) {
        cleanup_free char *bar = registry_progress_bar(current, total);
        json_object_set_new(j, "progressDetail",
                            json_pack("{s:I,s:I}", "current", (json_int_t)current, "total", (json_int_t)total));
        json_object_set_new(j, "progress", json_string(bar));
    } else if (id != NULL) {
        json_object_set_new(j, "progressDetail", json_object());
    }
    if (id != NULL)
        json_object_set_new(j, "id", json_string(id));
    return json_to_string(j);
}

char *registry_progress_error_json(const char *msg)
{
    cleanup_json json_t *j = json_pack("{s:{s:s},s:s}", "errorDetail", "message", msg, "error", msg);
    return json_to_string(j);
}
