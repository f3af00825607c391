/*
 * A user network's iptables rules, owned by isulad per network rather than made per container by plugins
 * (the firewall plugin and the bridge plugin's ipMasq cost about 100 ms of iptables runs for every start and
 * stop): a network's traffic is let through FORWARD (whose policy Docker sets to DROP), and masqueraded when
 * it leaves the host, with one set of rules made at create, removed at rm, and made again at start-up for
 * what a reboot flushed. Every rule carries the comment `isulad:<network>`.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/network/network.h"

#define MAX_WORDS 24

struct rule {
    const char *table;
    const char *chain;
    const char *words[MAX_WORDS]; /* NULL-terminated */
};

/* The rules of one network: bridge, subnet, internal, masquerade from its metadata. */
static size_t rules_of(const json_t *meta, const char *comment, struct rule *r)
{
    const char *br = json_get_str(meta, "bridge");
    const char *subnet = json_get_str(meta, "subnet");
    bool internal = json_get_bool(meta, "internal", false);
    bool masq = json_get_bool(meta, "ipMasq", !internal);
    size_t n = 0;
    if (internal) {
        r[n++] = (struct rule){
            "filter", "FORWARD", {"-i", br, "-o", br, "-m", "comment", "--comment", comment, "-j", "ACCEPT", NULL}};
        return n;
    }
    r[n++] =
        (struct rule){"filter", "FORWARD", {"-i", br, "-m", "comment", "--comment", comment, "-j", "ACCEPT", NULL}};
    r[n++] = (struct rule){"filter",
                           "FORWARD",
                           {"-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-m", "comment",
                            "--comment", comment, "-j", "ACCEPT", NULL}};
    if (masq)
        r[n++] = (struct rule){
            "nat",
            "POSTROUTING",
            {"-s", subnet, "!", "-o", br, "-m", "comment", "--comment", comment, "-j", "MASQUERADE", NULL}};
    return n;
}

/* iptables -w -t <table> <op> <chain> <words...>; returns its exit code, -1 when it cannot run. */
static int iptables(const struct rule *r, const char *op, char **ret_err, struct isd_error **err)
{
    const char *argv[MAX_WORDS + 8] = {"iptables", "-w", "-t", r->table, op, r->chain};
    size_t n = 6;
    for (size_t i = 0; r->words[i] != NULL && n + 1 < ARRAY_SIZE(argv); i++)
        argv[n++] = r->words[i];
    argv[n] = NULL;
    return spawn_run(argv, NULL, NULL, ret_err, err);
}

int network_rules_apply(const char *name, const json_t *meta, bool add, struct isd_error **err)
{
    cleanup_free char *comment = xasprintf("isulad:%s", name);
    struct rule rules[4];
    size_t n;
    if (json_get_str(meta, "bridge") == NULL || json_get_str(meta, "subnet") == NULL)
        return 0;
    n = rules_of(meta, comment, rules);
    for (size_t i = 0; i < n; i++) {
        cleanup_free char *msg = NULL;
        if (!add) {
            /* until none is left: a copy made twice (a crash between -C and -I) goes too */
            for (int k = 0; k < 8 && iptables(&rules[i], "-D", NULL, NULL) == 0; k++)
                ;
            continue;
        }
        if (iptables(&rules[i], "-C", NULL, NULL) == 0)
            continue;
        if (iptables(&rules[i], "-I", &msg, err) != 0)
            return isd_error_set(err, ISD_ERR_INTERNAL, 0, "network %s: iptables %s rule: %s", name, rules[i].chain,
                                 msg != NULL && *msg ? msg : "failed");
    }
    return 0;
}

void network_rules_restore(struct network_ctx *n, char ***ret_failed)
{
    struct cni_net **nets;
    pthread_mutex_lock(&n->lock);
    nets = cni_dir_load(n->store_dir, false, NULL, NULL);
    pthread_mutex_unlock(&n->lock);
    for (size_t i = 0; nets != NULL && nets[i] != NULL; i++) {
        struct isd_error *err = NULL;
        if (network_rules_apply(nets[i]->name, json_object_get(nets[i]->conf, "isulad"), true, &err) < 0)
            strv_append(ret_failed, err->msg);
        isd_error_free(err);
    }
    cni_net_list_free(nets);
}
