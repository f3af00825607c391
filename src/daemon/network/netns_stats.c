/* Interface counters of a process's network namespace, as /proc/<pid>/net/dev shows them (the file is the view of
 * the namespace the process is in). */
#include <stdio.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/network/netns.h"

#define NET_DEV_MAX (1024 * 1024)

/* "  eth0: rx_bytes rx_packets rx_errs ... (8 receive fields) tx_bytes tx_packets tx_errs ..." */
static json_t *dev_line(const char *line)
{
    char name[64];
    unsigned long long rx[8], tx[8];
    const char *colon = strchr(line, ':');
    if (colon == NULL || (size_t)(colon - line) >= sizeof(name))
        return NULL;
    snprintf(name, sizeof(name), "%.*s", (int)(colon - line), line);
    char *n = name;
    while (*n == ' ')
        n++;
    if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &rx[0], &rx[1], &rx[2], &rx[3],
               &rx[4], &rx[5], &rx[6], &rx[7], &tx[0], &tx[1], &tx[2]) != 11)
        return NULL;
    return json_pack("{s:s, s:I, s:I, s:I, s:I}", "name", n, "rx_bytes", (json_int_t)rx[0], "rx_errors",
                     (json_int_t)rx[2], "tx_bytes", (json_int_t)tx[0], "tx_errors", (json_int_t)tx[2]);
}

json_t *netns_dev_stats(pid_t pid, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("/proc/%d/net/dev", (int)pid);
    size_t len = 0;
    cleanup_free char *text = read_file(path, NET_DEV_MAX, &len, err);
    if (text == NULL)
        return NULL;
    json_t *out = json_array();
    char *save = NULL;
    int lineno = 0;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        if (lineno++ < 2) /* two header lines */
            continue;
        json_t *dev = dev_line(line);
        if (dev != NULL && !streq(json_get_str(dev, "name"), "lo"))
            json_array_append(out, dev);
        json_decref(dev);
    }
    return out;
}
