/*
 * A user network's iptables rules, owned by isulad per network rather than made per container by plugins
 * (the firewall plugin and the bridge plugin's ipMasq cost about 100 ms of iptables runs for every start and
 * stop): a network's traffic is let through FORWARD (whose policy Docker sets to DROP), and masqueraded when
 * it leaves the host, with one set of rules made at the network's first attachment of a run of the daemon
 * (never at its start or at create: a daemon that runs no bridge container leaves iptables alone), removed at rm
 * and at the next start when nothing is attached, made again at start-up for attached networks (what a reboot
 * flushed). Every rule carries the comment `isulad:<network>`.
 */
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/network/network.h"

#define MAX_WORDS 24

struct rule {
    const char *cmd; /* iptables, ip6tables */
    const char *table;
    const char *chain;
    const char *words[MAX_WORDS]; /* NULL-terminated */
};

/* The rules of one network: bridge, subnet, internal, masquerade from its metadata. An IPv6 network's traffic is
 * let through FORWARD by ip6tables too; IPv6 is not masqueraded (as Docker's default). */
static size_t rules_of(const json_t *meta, const char *comment, struct rule *r)
{
    const char *br = json_get_str(meta, "bridge");
    const char *subnet = json_get_str(meta, "subnet");
    bool internal = json_get_bool(meta, "internal", false);
    bool masq = json_get_bool(meta, "ipMasq", !internal);
    size_t n = 0;
    for (int v6 = 0; v6 <= (json_get_str(meta, "subnet6") != NULL ? 1 : 0); v6++) {
        const char *cmd = v6 ? "ip6tables" : "iptables";
        if (internal) {
            r[n++] = (struct rule){cmd,
                                   "filter",
                                   "FORWARD",
                                   {"-i", br, "-o", br, "-m", "comment", "--comment", comment, "-j", "ACCEPT", NULL}};
            continue;
        }
        r[n++] = (struct rule){
            cmd, "filter", "FORWARD", {"-i", br, "-m", "comment", "--comment", comment, "-j", "ACCEPT", NULL}};
        r[n++] = (struct rule){cmd,
                               "filter",
                               "FORWARD",
                               {"-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-m", "comment",
                                "--comment", comment, "-j", "ACCEPT", NULL}};
    }
    if (masq && !internal)
        r[n++] = (struct rule){
            "iptables",
            "nat",
            "POSTROUTING",
            {"-s", subnet, "!", "-o", br, "-m", "comment", "--comment", comment, "-j", "MASQUERADE", NULL}};
    return n;
}

/* <cmd> -w -t <table> <op> <chain> <words...>; returns its exit code, -1 when it cannot run. */
static int iptables(const struct rule *r, const char *op, char **ret_err, struct isd_error **err)
{
    const char *argv[MAX_WORDS + 8] = {r->cmd, "-w", "-t", r->table, op, r->chain};
    size_t n = 6;
    for (size_t i = 0; r->words[i] != NULL && n + 1 < ARRAY_SIZE(argv); i++)
        argv[n++] = r->words[i];
    argv[n] = NULL;
    return spawn_run(argv, NULL, NULL, ret_err, err);
}

int network_rules_apply(const char *name, const json_t *meta, bool add, struct isd_error **err)
{
    cleanup_free char *comment = xasprintf("isulad:%s", name);
    struct rule rules[8];
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

/* The rules this daemon made for a network are recorded in <graph>/network/rules/<name> (the network's metadata
 * they were made from), so that they are removed exactly, also by a later run of the daemon. */
static char *marker_path(struct network_ctx *n, const char *name)
{
    return path_join(n->rules_dir, name);
}

int network_rules_ensure(struct network_ctx *n, const struct cni_net *net, struct isd_error **err)
{
    const json_t *m = json_object_get(net->conf, "isulad");
    cleanup_free char *path = NULL;
    bool made;
    if (m == NULL)
        return 0; /* a network of cni-conf-dir: its plugins own their rules */
    pthread_mutex_lock(&n->lock);
    made = json_object_get(n->rules_made, net->name) != NULL;
    pthread_mutex_unlock(&n->lock);
    if (made)
        return 0;
    path = marker_path(n, net->name);
    /* recorded before they are made: a crash in between leaves a record whose removal is harmless */
    if (json_write_path(path, m, true, err) < 0 || network_rules_apply(net->name, m, true, err) < 0)
        return -1;
    pthread_mutex_lock(&n->lock);
    json_object_set_new(n->rules_made, net->name, json_true());
    pthread_mutex_unlock(&n->lock);
    return 0;
}

void network_rules_drop(struct network_ctx *n, const char *name, const json_t *unrecorded)
{
    cleanup_free char *path = marker_path(n, name);
    cleanup_json json_t *m = json_load_path(path, 1 << 20, NULL);
    pthread_mutex_lock(&n->lock);
    json_object_del(n->rules_made, name);
    pthread_mutex_unlock(&n->lock);
    if (m == NULL && unrecorded != NULL)
        network_rules_apply(name, unrecorded, false, NULL);
    if (m == NULL)
        return;
    network_rules_apply(name, m, false, NULL);
    unlink(path);
}

void network_rules_restore(struct network_ctx *n, char ***ret_failed)
{
    DIR *d = opendir(n->rules_dir);
    struct dirent *de;
    cleanup_strv char **names = NULL;
    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            strv_append(&names, de->d_name);
    closedir(d);
    for (size_t i = 0; names != NULL && names[i] != NULL; i++) {
        cleanup_cni_net struct cni_net *net = network_lookup(n, names[i], NULL);
        cleanup_free char *path = marker_path(n, names[i]);
        cleanup_json json_t *was = json_load_path(path, 1 << 20, NULL);
        struct isd_error *err = NULL;
        bool same = net != NULL && was != NULL && json_equal(was, json_object_get(net->conf, "isulad"));
        bool attached = net != NULL && network_has_endpoints(n, names[i]);
        /* nothing attached, or made from other settings: the last run's rules go */
        if (!same || !attached)
            network_rules_drop(n, names[i], NULL);
        /* containers are attached: their network's rules are made again (a reboot flushed them) */
        if (attached && network_rules_ensure(n, net, &err) < 0)
            strv_append(ret_failed, err->msg);
        isd_error_free(err);
    }
}
