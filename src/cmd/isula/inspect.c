/* isula inspect: containers first, then images; a JSON array (4-space indent) or -f templates. */
#include <stdlib.h>

#include "client/template.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

/* Looks ref up as a container (with SizeRw and SizeRootFs when size), then as an image. NULL when neither (err
 * set). */
static json_t *lookup(const char *ref, bool size, struct isd_error **err)
{
    cleanup_free char *cjson = cmd_path("containers", ref, "json"), *ipath = cmd_path("images", ref, "json");
    cleanup_free char *cpath = size ? xasprintf("%s?size=1", cjson) : xstrdup(cjson);
    json_t *j = NULL;
    if (client_call(cmd_host(), "GET", cpath, NULL, &j, err) >= 0)
        return j;
    if (!client_error_is_daemon(*err) || (*err)->code != ISD_ERR_NOT_FOUND)
        return NULL;
    isd_error_free(*err);
    *err = NULL;
    if (client_call(cmd_host(), "GET", ipath, NULL, &j, err) >= 0)
        return j;
    if (client_error_is_daemon(*err) && (*err)->code == ISD_ERR_NOT_FOUND) {
        isd_error_free(*err);
        *err = NULL;
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "No such image or container: %s", ref);
    }
    return NULL;
}

/* The guide's example (L2955-2967) names the CPU fields of HostConfig CPUShares, CPUPeriod, CPUQuota,
 * CPURealtimePeriod, CPURealtimeRuntime where the Docker API says Cpu...: isula shows the guide's names. */
static void guide_cpu_names(json_t *j)
{
    static const char *const from[] = {"CpuShares", "CpuPeriod", "CpuQuota", "CpuRealtimePeriod", "CpuRealtimeRuntime"};
    json_t *hc = json_object_get(j, "HostConfig"), *out, *v;
    const char *k;
    if (!json_is_object(hc) || json_object_get(j, "State") == NULL)
        return;
    out = json_object();
    json_object_foreach(hc, k, v)
    {
        bool renamed = false;
        for (size_t i = 0; i < ARRAY_SIZE(from) && !renamed; i++)
            if (streq(k, from[i])) {
                cleanup_free char *name = xasprintf("CPU%s", k + 3);
                json_object_set(out, name, v);
                renamed = true;
            }
        if (!renamed)
            json_object_set(out, k, v);
    }
    json_object_set_new(j, "HostConfig", out);
}

/* The guide's inspect (L2894) names a container without Docker's leading slash. */
static void guide_name(json_t *j)
{
    const char *name = json_get_str(j, "Name");
    if (name != NULL && name[0] == '/' && json_object_get(j, "State") != NULL)
        json_object_set_new(j, "Name", json_string(name + 1));
}

int cmd_inspect(int argc, char **argv)
{
    char *format = NULL;
    long long timeout = 120;
    bool size = false;
    const struct cli_option o[] = {
        {"format", 'f', CLI_OPT_STRING, &format, "Format the output using the given go template"},
        {"time", 't', CLI_OPT_INT, &timeout, "Timeout in seconds to wait for the inspect (default 120)"},
        {"size", 's', CLI_OPT_BOOL, &size, "Display total file sizes if the type is container"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_json json_t *all = json_array();
    struct template *t = NULL;
    int rc = 0;
    if (cmd_parse("inspect", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (format != NULL) {
        cleanup_error struct isd_error *err = NULL;
        if ((t = template_parse(format, &err)) == NULL) {
            fprintf(stderr, "Error: %s\n", err->msg);
            return 1;
        }
    }
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        json_t *j = lookup(*p, size, &err);
        if (j == NULL) {
            client_error_is_daemon(err) || client_error_is_connect(err)
                ? cmd_print_error(err)
                : (void)fprintf(stderr, "Error: %s\n", err->msg);
            rc = 1;
            continue;
        }
        guide_cpu_names(j);
        guide_name(j);
        cmd_inspect_emit(t, all, j, &rc);
    }
    cmd_inspect_finish(t, all, rc);
    template_free(t);
    free(format);
    return rc;
}
