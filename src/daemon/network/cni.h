/*
 * The CNI library: network configurations (.conf, .json, .conflist) loaded and validated, plugins run with
 * the CNI environment and stdin config (ADD in list order with prevResult chaining, DEL in reverse, CHECK),
 * runtime config injected for the capabilities a plugin asks for, and a result cache on disk so that DEL
 * gets what ADD returned, also after a restart of isulad.
 *
 * Spec versions 0.3.0, 0.3.1, 0.4.0 and 1.0.0 are accepted (guide N-08 asks for 0.3.x at least; Debian's
 * plugins speak up to 1.0.0). Every function is thread-safe; nothing here holds a lock across a plugin.
 * Concurrent operations on the same (network, container, interface) are the caller's business.
 */
#ifndef ISD_DAEMON_NETWORK_CNI_H
#define ISD_DAEMON_NETWORK_CNI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define CNI_MAX_CONF_FILES 200      /* guide N-10 */
#define CNI_MAX_CONF_SIZE (1 << 20) /* guide N-10: 1 MB per file */
#define CNI_MAX_NAME 200            /* guide N-09 */
#define CNI_DEFAULT_TIMEOUT_NS (60LL * 1000000000LL)

/* One network: a plugin list. A single-plugin .conf is turned into a list of one. */
struct cni_net {
    char *name;
    char *cni_version;
    char *path;   /* the file it came from; NULL when built in memory */
    json_t *conf; /* {"cniVersion", "name", "plugins": [ {...}, ... ], ...} */
};

void cni_net_free(struct cni_net *n);
void cleanup_cni_netp(struct cni_net **n);
#define cleanup_cni_net __attribute__((cleanup(cleanup_cni_netp)))
void cni_net_list_free(struct cni_net **v);

/* Guide N-09: lowercase letters, digits, '-' and '.', neither '.' nor '-' first or last, no "..", at most 200
 * characters. */
bool cni_name_valid(const char *name);
bool cni_version_supported(const char *version);
/* -1, 0, 1 as a < b, equal, a > b for "x.y.z" versions (missing parts count as 0). */
int cni_version_cmp(const char *a, const char *b);

/* Parses a configuration. is_list: a .conflist; otherwise a single plugin's .conf/.json. strict_name applies
 * N-09 to the network name (for files of cni-conf-dir); otherwise only a safe file-name subset is required.
 * Takes nothing; the result owns a copy. */
struct cni_net *cni_net_parse(const char *text, size_t len, bool is_list, bool strict_name, struct isd_error **err);
/* Loads one file (the suffix decides the kind), at most CNI_MAX_CONF_SIZE bytes. */
struct cni_net *cni_net_load(const char *path, bool strict_name, struct isd_error **err);
/* Loads every .conf, .conflist and .json file of dir in lexical order (at most CNI_MAX_CONF_FILES), skipping
 * bad files and later duplicates of a name: each skip adds "`<file>`: <reason>" to *ret_skipped (may be
 * NULL) for the caller to log. A missing directory gives an empty list. Returns a NULL-terminated array. */
struct cni_net **cni_dir_load(const char *dir, bool strict_name, char ***ret_skipped, struct isd_error **err);

/* Where and how plugins run. */
struct cni_env {
    char *const *bin_dirs; /* searched in order for a plugin's "type"; also CNI_PATH */
    const char *cache_dir; /* result cache: <cache_dir>/<net>-<container>-<ifname>.json */
    long long timeout_ns;  /* per plugin; <= 0: CNI_DEFAULT_TIMEOUT_NS */
};

/* One attachment of a container to a network. */
struct cni_runtime {
    const char *container_id;
    const char *netns;          /* path of the network namespace */
    const char *ifname;         /* e.g. "eth0" */
    const char *args;           /* CNI_ARGS "K=V;K2=V2", NULL for none */
    const char *container_name; /* kept in the cache entry for name resolution; may be NULL */
    const json_t *aliases;      /* the same, the network aliases (array of strings); may be NULL */
    const json_t *capabilities; /* runtime config offered: {"portMappings": [...], "ips": [...], "mac": "..."} */
};

/* ADD: runs the plugins in order, each getting the previous one's result as prevResult, and caches the
 * final result with the configuration used (so DEL works even if the network file changes or goes). Returns
 * the result (new reference). On failure, the plugins are not undone here: the caller runs cni_net_del. */
json_t *cni_net_add(const struct cni_env *e, const struct cni_net *n, const struct cni_runtime *rt,
                    struct isd_error **err);
/* DEL: runs the plugins in reverse order with the cached result as prevResult (spec 0.4.0 and later) and
 * removes the cache entry. n may be NULL: the cached configuration is used, and without a cache entry there
 * is nothing to do. Plugins tolerate missing things, so DEL may be repeated. */
int cni_net_del(const struct cni_env *e, const struct cni_net *n, const struct cni_runtime *rt, const char *net_name,
                struct isd_error **err);
/* CHECK (spec 0.4.0 and later) with the cached result; ISD_ERR_INVALID for older versions or a list with
 * "disableCheck". */
int cni_net_check(const struct cni_env *e, const struct cni_net *n, const struct cni_runtime *rt,
                  struct isd_error **err);

/* The cache entry of an attachment (new reference) or NULL when there is none:
 * {"kind": "isulad-cni-cache-v1", "networkName", "containerId", "containerName", "aliases", "ifName", "netns",
 *  "config", "result", "capabilities"}. */
json_t *cni_cache_get(const struct cni_env *e, const char *net_name, const char *container_id, const char *ifname);
/* Every cache entry of a container (NULL-terminated array of new references; NULL when none). */
json_t **cni_cache_list(const struct cni_env *e, const char *container_id);
void cni_cache_list_free(json_t **v);

/* Runs one plugin (exposed for tests): command "ADD", "DEL", "CHECK" or "VERSION"; config is the stdin
 * document. Returns the parsed stdout (an empty object when the plugin printed nothing) or NULL; a plugin's
 * error JSON becomes the error message. */
json_t *cni_plugin_exec(const struct cni_env *e, const char *type, const char *command, const struct cni_runtime *rt,
                        const json_t *config, struct isd_error **err);

#endif
