/*
 * isula network create|ls|inspect|rm|prune|connect|disconnect over Docker's /networks endpoints. create prints the new
 * network's name (as iSulad does); ls shows Docker's columns NETWORK ID, NAME, DRIVER, SCOPE. Single-threaded.
 */
#include <stdlib.h>
#include <string.h>

#include "client/format.h"
#include "client/template.h"
#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

/* Docker's IPAM Config: one entry per --subnet, each with the --gateway and --ip-range of its address family. */
static json_t *create_body(const char *name, const char *driver, char **subnets, char **gateways, const char *range,
                           bool internal, bool ipv6, char **labels, char **opts)
{
    json_t *cfgs = json_array();
    json_t *body = json_pack("{s:s, s:s, s:b, s:b, s:b, s:o, s:o}", "Name", name, "Driver", driver ? driver : "bridge",
                             "CheckDuplicate", true, "Internal", internal, "EnableIPv6", ipv6, "Labels",
                             cmd_kv_object(labels), "Options", cmd_kv_object(opts));
    for (size_t i = 0; subnets != NULL && subnets[i] != NULL; i++) {
        bool v6 = strchr(subnets[i], ':') != NULL;
        json_t *cfg = json_pack("{s:s}", "Subnet", subnets[i]);
        for (size_t k = 0; gateways != NULL && gateways[k] != NULL; k++)
            if ((strchr(gateways[k], ':') != NULL) == v6 && json_object_get(cfg, "Gateway") == NULL)
                json_object_set_new(cfg, "Gateway", json_string(gateways[k]));
        if (range != NULL && (strchr(range, ':') != NULL) == v6)
            json_object_set_new(cfg, "IPRange", json_string(range));
        json_array_append_new(cfgs, cfg);
    }
    if (json_array_size(cfgs) == 0 && (gateways != NULL || range != NULL)) {
        /* the daemon says a gateway or a range needs a subnet */
        json_t *cfg = json_object();
        if (gateways != NULL)
            json_object_set_new(cfg, "Gateway", json_string(gateways[0]));
        if (range != NULL)
            json_object_set_new(cfg, "IPRange", json_string(range));
        json_array_append_new(cfgs, cfg);
    }
    json_object_set_new(body, "IPAM", json_pack("{s:s, s:o}", "Driver", "default", "Config", cfgs));
    return body;
}

static int net_create(const struct subcommand *s, int argc, char **argv)
{
    char *driver = NULL, *range = NULL;
    cleanup_strv char **labels = NULL, **opts = NULL, **pos = NULL, **subnets = NULL, **gateways = NULL;
    bool internal = false, ipv6 = false;
    const struct cli_option o[] = {
        {"driver", 'd', CLI_OPT_STRING, &driver, "Driver to manage the Network (default \"bridge\")"},
        {"gateway", 0, CLI_OPT_LIST, &gateways, "IPv4 or IPv6 gateway for the subnet of its family"},
        {"internal", 0, CLI_OPT_BOOL, &internal, "Restrict external access from this network"},
        {"ip-range", 0, CLI_OPT_STRING, &range, "Allocate container ip from a sub-range"},
        {"ipv6", 0, CLI_OPT_BOOL, &ipv6, "Enable IPv6 networking (with an IPv6 --subnet)"},
        {"label", 0, CLI_OPT_LIST, &labels, "Set metadata on a network"},
        {"opt", 'o', CLI_OPT_LIST, &opts, "Set driver specific options (com.docker.network.bridge.name=...)"},
        {"subnet", 0, CLI_OPT_LIST, &subnets, "Subnet in CIDR format (one IPv4 and one IPv6 at most)"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *body = NULL, *resp = NULL;
    int rc = 0;
    if (cmd_sub_parse("network", s, o, argc, argv, 1, &pos, &rc) == 0) {
        body = create_body(pos[0], driver, subnets, gateways, range, internal, ipv6, labels, opts);
        if (client_call(cmd_host(), "POST", "/networks/create", body, &resp, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
        } else {
            printf("%s\n", pos[0]);
        }
    }
    free(driver);
    free(range);
    return rc;
}

static int net_ls(const struct subcommand *s, int argc, char **argv)
{
    bool quiet = false, no_trunc = false;
    cleanup_strv char **filters = NULL, **pos = NULL;
    const struct cli_option o[] = {{"filter", 'f', CLI_OPT_LIST, &filters, "Provide filter values (e.g. 'name=x')"},
                                   {"no-trunc", 0, CLI_OPT_BOOL, &no_trunc, "Do not truncate the output"},
                                   {"quiet", 'q', CLI_OPT_BOOL, &quiet, "Only display network names"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *list = NULL;
    cleanup_free char *q = NULL, *path = NULL;
    int rc = 0;
    if (cmd_sub_parse("network", s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    if ((q = cmd_filters_query(filters, &err)) == NULL) {
        cmd_print_error(err);
        return 1;
    }
    path = xasprintf("/networks?filters=%s", q);
    if (client_call(cmd_host(), "GET", path, NULL, &list, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    size_t n = 0;
    char ***rows = xcalloc(json_array_size(list) + 1, sizeof(char **));
    rows[n++] = strv_dup((char *[]){"NETWORK ID", "NAME", "DRIVER", "SCOPE", NULL});
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *nw = json_array_get(list, i);
        const char *id = json_get_str(nw, "Id") ?: "";
        cleanup_free char *sid = no_trunc ? xstrdup(id) : xstrndup(id, 12);
        if (quiet) {
            printf("%s\n", json_get_str(nw, "Name"));
            continue;
        }
        rows[n++] = strv_dup(
            (char *[]){sid, (char *)json_get_str(nw, "Name"), (char *)json_get_str(nw, "Driver"), "local", NULL});
    }
    if (!quiet)
        format_table_print(stdout, (char **const *)rows, n);
    format_rows_free(rows, n);
    return 0;
}

static int net_inspect(const struct subcommand *s, int argc, char **argv)
{
    char *format = NULL;
    cleanup_strv char **pos = NULL;
    const struct cli_option o[] = {
        {"format", 'f', CLI_OPT_STRING, &format, "Format the output using the given go template"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_json json_t *all = json_array();
    struct template *t = NULL;
    int rc = 0;
    if (cmd_sub_parse("network", s, o, argc, argv, 1, &pos, &rc) < 0)
        return rc;
    if (format != NULL) {
        cleanup_error struct isd_error *err = NULL;
        if ((t = template_parse(format, &err)) == NULL) {
            fprintf(stderr, "Error: %s\n", err->msg);
            free(format);
            return 1;
        }
    }
    for (char **p = pos; *p != NULL; p++) {
        cleanup_error struct isd_error *err = NULL;
        cleanup_free char *path = cmd_path("networks", *p, NULL);
        json_t *j = NULL;
        if (client_call(cmd_host(), "GET", path, NULL, &j, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
            continue;
        }
        cmd_inspect_emit(t, all, j, &rc);
    }
    cmd_inspect_finish(t, all, rc);
    template_free(t);
    free(format);
    return rc;
}

static int net_rm(const struct subcommand *s, int argc, char **argv)
{
    cleanup_strv char **pos = NULL;
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    int rc = 0;
    if (cmd_sub_parse("network", s, o, argc, argv, 1, &pos, &rc) < 0)
        return rc;
    return cmd_remove_each("networks", pos, "");
}

/* Docker's prompt is skipped: isula's rm-style commands do not ask either. */
static int net_prune(const struct subcommand *s, int argc, char **argv)
{
    cleanup_strv char **filters = NULL, **pos = NULL;
    bool force = false;
    const struct cli_option o[] = {{"filter", 0, CLI_OPT_LIST, &filters, "Provide filter values (e.g. 'label=a=b')"},
                                   {"force", 'f', CLI_OPT_BOOL, &force, "Do not prompt for confirmation (default)"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    int rc = 0;
    if (cmd_sub_parse("network", s, o, argc, argv, 0, &pos, &rc) < 0)
        return rc;
    return cmd_prune("networks", filters, "NetworksDeleted", "Deleted Networks:");
}

static int net_connect(const struct subcommand *s, int argc, char **argv)
{
    char *ip = NULL, *ip6 = NULL, *mac = NULL;
    cleanup_strv char **aliases = NULL, **pos = NULL;
    const struct cli_option o[] = {{"alias", 0, CLI_OPT_LIST, &aliases, "Add network-scoped alias for the container"},
                                   {"ip", 0, CLI_OPT_STRING, &ip, "IPv4 address (e.g., 172.30.100.104)"},
                                   {"ip6", 0, CLI_OPT_STRING, &ip6, "IPv6 address (e.g., 2001:db8::33)"},
                                   {"mac-address", 0, CLI_OPT_STRING, &mac, "MAC address (e.g., 92:d0:c6:0a:29:33)"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *body = NULL;
    cleanup_free char *path = NULL;
    int rc = 0;
    if (cmd_sub_parse("network", s, o, argc, argv, 2, &pos, &rc) == 0) {
        json_t *ep = json_object();
        body = json_pack("{s:s, s:o}", "Container", pos[1], "EndpointConfig", ep);
        if (aliases != NULL)
            json_object_set_new(ep, "Aliases", json_strv(aliases));
        if (ip != NULL || ip6 != NULL)
            json_object_set_new(ep, "IPAMConfig", json_pack("{s:s*, s:s*}", "IPv4Address", ip, "IPv6Address", ip6));
        if (mac != NULL)
            json_object_set_new(ep, "MacAddress", json_string(mac));
        path = cmd_path("networks", pos[0], "connect");
        if (client_call(cmd_host(), "POST", path, body, NULL, &err) < 0) {
            cmd_print_error(err);
            rc = 1;
        }
    }
    free(ip);
    free(mac);
    return rc;
}

static int net_disconnect(const struct subcommand *s, int argc, char **argv)
{
    bool force = false;
    cleanup_strv char **pos = NULL;
    const struct cli_option o[] = {
        {"force", 'f', CLI_OPT_BOOL, &force, "Force the container to disconnect from a network"},
        CMD_COMMON_OPTS,
        {NULL}};
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *body = NULL;
    cleanup_free char *path = NULL;
    int rc = 0;
    if (cmd_sub_parse("network", s, o, argc, argv, 2, &pos, &rc) < 0)
        return rc;
    body = json_pack("{s:s, s:b}", "Container", pos[1], "Force", force);
    path = cmd_path("networks", pos[0], "disconnect");
    if (client_call(cmd_host(), "POST", path, body, NULL, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    return 0;
}

static const struct subcommand subs[] = {
    {"connect", "[OPTIONS] NETWORK CONTAINER", "Connect a container to a network", net_connect},
    {"create", "[OPTIONS] NETWORK", "Create a network", net_create},
    {"disconnect", "[OPTIONS] NETWORK CONTAINER", "Disconnect a container from a network", net_disconnect},
    {"inspect", "[OPTIONS] NETWORK [NETWORK...]", "Display detailed information on one or more networks", net_inspect},
    {"ls", "[OPTIONS]", "List networks", net_ls},
    {"prune", "[OPTIONS]", "Remove all unused networks", net_prune},
    {"rm", "NETWORK [NETWORK...]", "Remove one or more networks", net_rm},
};

int cmd_network(int argc, char **argv)
{
    return cmd_sub_dispatch("network", "Manage networks", subs, ARRAY_SIZE(subs), argc, argv);
}
