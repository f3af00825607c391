/*
 * Validators of the option table and the cross-option checks run after all options are parsed: hosts,
 * network plugin, storage driver and options, umask, ulimits, runtimes, default runtime, TLS, log path.
 * Not thread-safe (works on one config under construction).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"
#include "daemon/config/config_internal.h"

static int invalid(struct isd_error **err, const char *what, const char *value, const char *why)
{
    return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid value `%s`: %s", what, value ? value : "", why);
}

static bool valid_port(const char *p)
{
    long long v;
    if (*p == '\0' || strlen(p) > 5)
        return false;
    for (const char *q = p; *q != '\0'; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    return parse_int64(p, &v) == 0 && v >= 0 && v <= 65535;
}

static bool valid_tcp_host(const char *hp)
{
    const char *colon = strrchr(hp, ':');
    cleanup_free char *host = NULL;
    unsigned char addr[16];
    if (colon == NULL || !valid_port(colon + 1))
        return false;
    host = xstrndup(hp, (size_t)(colon - hp));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        host[strlen(host) - 1] = '\0';
        return inet_pton(AF_INET6, host + 1, addr) == 1;
    }
    return strcmp(host, "localhost") == 0 || inet_pton(AF_INET, host, addr) == 1;
}

int check_hosts(struct isd_config *c, const char *what, struct isd_error **err)
{
    size_t n = strv_len(c->hosts);
    if (n > ISD_CONFIG_MAX_HOSTS)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: too many hosts (%zu), at most %d are allowed", what, n,
                             ISD_CONFIG_MAX_HOSTS);
    for (size_t i = 0; i < n; i++) {
        const char *h = c->hosts[i];
        if (str_has_prefix(h, "unix://")) {
            if (h[7] != '/' || strstr(h, "/../") != NULL || str_has_suffix(h, "/"))
                return invalid(err, what, h, "a unix host must be unix://<absolute socket path>");
        } else if (str_has_prefix(h, "tcp://")) {
            if (!valid_tcp_host(h + 6))
                return invalid(err, what, h, "a tcp host must be tcp://<ip or localhost>:<port 0-65535>");
        } else {
            return invalid(err, what, h, "a host must be unix://<absolute path> or tcp://<ip>:<port>");
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->hosts[j], h) == 0)
                return invalid(err, what, h, "host given twice");
    }
    return 0;
}

int check_network_plugin(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (c->network_plugin[0] != '\0' && strcmp(c->network_plugin, "cni") != 0)
        return invalid(err, what, c->network_plugin, "the network plugin must be empty (none) or \"cni\"");
    return 0;
}

int check_bip(struct isd_config *c, const char *what, struct isd_error **err)
{
    const char *slash = c->bip != NULL ? strchr(c->bip, '/') : NULL;
    char addr[INET_ADDRSTRLEN];
    struct in_addr a;
    char *end = NULL;
    long prefix;
    if (c->bip == NULL || *c->bip == '\0')
        return 0;
    if (slash == NULL || (size_t)(slash - c->bip) >= sizeof(addr))
        return invalid(err, what, c->bip, "the bridge IP must be an IPv4 address with a prefix length (CIDR)");
    memcpy(addr, c->bip, (size_t)(slash - c->bip));
    addr[slash - c->bip] = '\0';
    prefix = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET, addr, &a) != 1 || *end != '\0' || end == slash + 1 || prefix < 8 || prefix > 30)
        return invalid(err, what, c->bip, "the bridge IP must be an IPv4 address with a prefix length of 8 to 30");
    return 0;
}

int check_fixed_cidr_v6(struct isd_config *c, const char *what, struct isd_error **err)
{
    const char *slash = c->fixed_cidr_v6 != NULL ? strchr(c->fixed_cidr_v6, '/') : NULL;
    char addr[INET6_ADDRSTRLEN];
    struct in6_addr a;
    char *end = NULL;
    long prefix;
    if (c->fixed_cidr_v6 == NULL || *c->fixed_cidr_v6 == '\0')
        return 0;
    if (slash == NULL || (size_t)(slash - c->fixed_cidr_v6) >= sizeof(addr))
        return invalid(err, what, c->fixed_cidr_v6, "must be an IPv6 subnet (CIDR)");
    memcpy(addr, c->fixed_cidr_v6, (size_t)(slash - c->fixed_cidr_v6));
    addr[slash - c->fixed_cidr_v6] = '\0';
    prefix = strtol(slash + 1, &end, 10);
    if (inet_pton(AF_INET6, addr, &a) != 1 || *end != '\0' || end == slash + 1 || prefix < 8 || prefix > 126)
        return invalid(err, what, c->fixed_cidr_v6, "must be an IPv6 subnet with a prefix length of 8 to 126");
    return 0;
}

int check_bridge(struct isd_config *c, const char *what, struct isd_error **err)
{
    size_t n = strlen(c->bridge);
    if (n == 0 || n >= IFNAMSIZ || strpbrk(c->bridge, "/ \t:") != NULL || strcmp(c->bridge, "none") == 0)
        return invalid(err, what, c->bridge, "not a network interface name");
    return 0;
}

int check_storage_driver(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (strcmp(c->storage_driver, "devicemapper") == 0)
        return invalid(err, what, c->storage_driver,
                       "only overlay2 is supported (devicemapper is deprecated and not available)");
    if (strcmp(c->storage_driver, "overlay2") != 0 && strcmp(c->storage_driver, "overlay") != 0)
        return invalid(err, what, c->storage_driver, "only overlay2 is supported");
    free(c->storage_driver);
    c->storage_driver = xstrdup("overlay2");
    return 0;
}

static int check_storage_opt(const char *opt, const char *what, struct isd_error **err)
{
    const char *eq = strchr(opt, '=');
    cleanup_free char *key = eq != NULL ? xstrndup(opt, (size_t)(eq - opt)) : NULL;
    long long size;
    if (eq == NULL || eq[1] == '\0')
        return invalid(err, what, opt, "a storage option must be key=value");
    if (strcasecmp(key, "overlay2.override_kernel_check") == 0) {
        if (strcmp(eq + 1, "true") != 0 && strcmp(eq + 1, "false") != 0)
            return invalid(err, what, opt, "override_kernel_check takes true or false");
    } else if (strcasecmp(key, "overlay2.size") == 0 || strcasecmp(key, "overlay2.basesize") == 0) {
        if (parse_size(eq + 1, &size) < 0)
            return invalid(err, what, opt, "the size must be like 10G, 512M");
    } else if (strcasecmp(key, "overlay2.remap_layers") == 0) {
        if (strcmp(eq + 1, "auto") != 0 && strcmp(eq + 1, "idmap") != 0 && strcmp(eq + 1, "copy") != 0)
            return invalid(err, what, opt, "remap_layers takes auto, idmap or copy");
    } else if (str_has_prefix(key, "dm.")) {
        return invalid(err, what, opt, "devicemapper options are not supported (only overlay2 is supported)");
    } else {
        return invalid(err, what, opt,
                       "unknown storage option (known: overlay2.override_kernel_check, overlay2.size, "
                       "overlay2.basesize, overlay2.remap_layers)");
    }
    return 0;
}

int check_storage_opts(struct isd_config *c, const char *what, struct isd_error **err)
{
    for (size_t i = 0; c->storage_opts != NULL && c->storage_opts[i] != NULL; i++)
        if (check_storage_opt(c->storage_opts[i], what, err) < 0)
            return -1;
    return 0;
}

int check_userns_remap(struct isd_config *c, const char *what, struct isd_error **err)
{
    struct isd_error *e = NULL;
    if (user_remap_parse(c->userns_remap, &c->userns_remap_map, &e) == 0)
        return 0;
    invalid(err, what, c->userns_remap, e->msg);
    isd_error_free(e);
    return -1;
}

int check_native_umask(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (c->native_umask[0] == '\0') { /* the guide: an empty value is the default, secure */
        free(c->native_umask);
        c->native_umask = xstrdup("secure");
    }
    if (strcmp(c->native_umask, "secure") == 0)
        c->native_umask_mode = 0027;
    else if (strcmp(c->native_umask, "normal") == 0)
        c->native_umask_mode = 0022;
    else
        return invalid(err, what, c->native_umask, "must be \"secure\" (umask 0027) or \"normal\" (umask 0022)");
    return 0;
}

int check_log_driver(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (strcmp(c->log_driver, "file") != 0 && strcmp(c->log_driver, "stdout") != 0)
        return invalid(err, what, c->log_driver, "the daemon log driver must be \"file\" or \"stdout\"");
    return 0;
}

int check_engine(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (strcasecmp(c->engine, "lcr") != 0)
        return invalid(err, what, c->engine, "the only engine is lcr (accepted for compatibility and ignored)");
    return 0;
}

int check_group(struct isd_config *c, const char *what, struct isd_error **err)
{
    for (const char *p = c->group; *p != '\0'; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return invalid(err, what, c->group, "not a valid group name");
    return 0;
}

int check_websocket_port(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (c->websocket_port < 1024 || c->websocket_port > 49151)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid port %d: must be in 1024-49151", what,
                             c->websocket_port);
    return 0;
}

int check_max_file(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (c->log_max_file < 1)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid max-file %d: must be at least 1", what,
                             c->log_max_file);
    return 0;
}

int check_authz(struct isd_config *c, const char *what, struct isd_error **err)
{
    for (char **n = c->authorization_plugins; n != NULL && *n != NULL; n++) {
        for (const char *p = *n; *p != '\0'; p++)
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
                return invalid(err, what, *n, "not a valid plugin name");
        if ((*n)[0] == '\0' || (*n)[0] == '.')
            return invalid(err, what, *n, "not a valid plugin name");
    }
    return 0;
}

int check_cdi_spec_dirs(struct isd_config *c, const char *what, struct isd_error **err)
{
    for (char **d = c->cdi_spec_dirs; d != NULL && *d != NULL; d++)
        if ((*d)[0] != '/')
            return invalid(err, what, *d, "must be an absolute path");
    return 0;
}

int check_plugin_dirs(struct isd_config *c, const char *what, struct isd_error **err)
{
    for (char **d = c->plugin_dirs; d != NULL && *d != NULL; d++)
        if ((*d)[0] != '/')
            return invalid(err, what, *d, "must be an absolute path");
    return 0;
}

int check_metrics_addr(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (!valid_tcp_host(c->metrics_addr))
        return invalid(err, what, c->metrics_addr, "must be <ip>:<port>");
    return 0;
}

int check_cgroup_parent(struct isd_config *c, const char *what, struct isd_error **err)
{
    cleanup_free char *p = xasprintf("/%s/", c->cgroup_parent);
    if (strstr(p, "/../") != NULL || strstr(p, "/./") != NULL)
        return invalid(err, what, c->cgroup_parent, "a cgroup parent must not contain . or .. components");
    return 0;
}

int check_registries(struct isd_config *c, const char *what, struct isd_error **err)
{
    char **lists[] = {c->registry_mirrors, c->insecure_registries};
    for (size_t l = 0; l < ARRAY_SIZE(lists); l++)
        for (size_t i = 0; lists[l] != NULL && lists[l][i] != NULL; i++)
            for (const char *p = lists[l][i]; *p != '\0'; p++)
                if (isspace((unsigned char)*p) || *p == '\0')
                    return invalid(err, what, lists[l][i], "a registry must not contain spaces");
    return 0;
}

int check_start_timeout(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (c->start_timeout_ns <= 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: the start timeout must be positive", what);
    return 0;
}

int check_stream_idle_timeout(struct isd_config *c, const char *what, struct isd_error **err)
{
    if (c->stream_idle_timeout_ns < 1000000000LL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: the stream idle timeout must be at least 1s", what);
    return 0;
}
