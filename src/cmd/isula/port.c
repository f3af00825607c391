/* isula port CONTAINER [PRIVATE_PORT[/PROTO]]: the published ports from inspect's NetworkSettings.Ports, printed
 * as docker prints them ("80/tcp -> 127.0.0.1:18080", or only "127.0.0.1:18080" for one port). */
#include <stdlib.h>
#include <string.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

static int print_bindings(const char *key, const json_t *list, bool with_key)
{
    size_t i;
    json_t *b;
    int n = 0;
    json_array_foreach(list, i, b)
    {
        const char *ip = json_get_str(b, "HostIp");
        if (with_key)
            printf("%s -> ", key);
        printf("%s:%s\n", ip != NULL && *ip != '\0' ? ip : "0.0.0.0", json_get_str(b, "HostPort") ?: "");
        n++;
    }
    return n;
}

int cmd_port(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *j = NULL;
    json_t *ports;
    const char *k;
    json_t *v;
    int rc = 0;
    if (cmd_parse("port", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if ((j = cmd_inspect_container(pos[0], &err)) == NULL) {
        cmd_print_error(err);
        return 1;
    }
    ports = json_object_get(json_object_get(j, "NetworkSettings"), "Ports");
    if (pos[1] != NULL) {
        cleanup_free char *key = strchr(pos[1], '/') ? xstrdup(pos[1]) : xasprintf("%s/tcp", pos[1]);
        if (print_bindings(key, json_object_get(ports, key), false) == 0) {
            fprintf(stderr, "Error: No public port '%s' published for %s\n", key, pos[0]);
            return 1;
        }
        return 0;
    }
    json_object_foreach(ports, k, v)
    {
        print_bindings(k, v, true);
    }
    return 0;
}
