/*
 * The option table: the one definition of every isulad flag and daemon.json key (guide D-10..D-46), and
 * the --help text derived from it. Read-only data; thread-safe.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"
#include "daemon/config/config_internal.h"

#define F(field) offsetof(struct isd_config, field)

/* Kept in --help order (alphabetical by flag, as the guide prints it); file-only keys at the end. */
const struct opt_def isd_opts[] = {
    {"authorization-plugin", NULL, 0, "authorization-plugin", "authorization-plugins", OT_STRV, NULL,
     F(authorization_plugins), OF_ONE_OR_LIST, check_authz,
     "Use authorization plugin (Docker's AuthZPlugin protocol); repeat to chain plugins in order"},
    {"bip", NULL, 0, "bip", NULL, OT_STRING, NULL, F(bip), 0, check_bip,
     "The default bridge network's gateway and subnet (Docker API's default network mode), e.g. 172.17.0.1/16"},
    {"fixed-cidr-v6", NULL, 0, "fixed-cidr-v6", NULL, OT_STRING, NULL, F(fixed_cidr_v6), 0, check_fixed_cidr_v6,
     "The default bridge network's IPv6 subnet (with --ipv6), e.g. fd00:1::/64"},
    {"ipv6", NULL, 0, "ipv6", NULL, OT_BOOL, "false", F(ipv6), 0, NULL,
     "Enable IPv6 on the default bridge network (needs --fixed-cidr-v6)"},
    {"ip-masq", NULL, 0, "ip-masq", NULL, OT_BOOL, "true", F(ip_masq), 0, NULL,
     "Masquerade the traffic of the default bridge network and of new bridge networks leaving the host"},
    {"bridge", NULL, 'b', "bridge", NULL, OT_STRING, "isula0", F(bridge), 0, check_bridge,
     "The default bridge network's bridge device"},
    {"cgroup-parent", NULL, 0, "cgroup-parent", NULL, OT_STRING, NULL, F(cgroup_parent), 0, check_cgroup_parent,
     "Set parent cgroup for all containers"},
    {"cdi-spec-dir", NULL, 0, "cdi-spec-dirs", NULL, OT_STRV, NULL, F(cdi_spec_dirs), 0, check_cdi_spec_dirs,
     "Directory of CDI (Container Device Interface) spec files, repeatable, later ones win (default [/etc/cdi "
     "/var/run/cdi])"},
    {"cni-bin-dir", NULL, 0, "cni-bin-dir", NULL, OT_PATH, "/opt/cni/bin", F(cni_bin_dir), 0, NULL,
     "The full path of the directory in which to search for CNI plugin binaries"},
    {"cni-conf-dir", NULL, 0, "cni-conf-dir", NULL, OT_PATH, "/etc/cni/net.d", F(cni_conf_dir), 0, NULL,
     "The full path of the directory in which to search for CNI config files"},
    {"cri-socket", NULL, 0, "cri-socket", NULL, OT_PATH, NULL, F(cri_socket), 0, NULL,
     "Also serve the CRI (gRPC) on this unix socket path"},
    {"config-file", NULL, 0, NULL, NULL, OT_PATH, ISD_CONFIG_DEFAULT_FILE, OFF_NONE, 0, NULL,
     "Daemon configuration file"},
    {"default-ulimit", "default-ulimits", 0, "default-ulimits", NULL, OT_ULIMITS, NULL, F(default_ulimits), OF_NOT_BOTH,
     NULL, "Default ulimits for containers, such as nofile=1024:2048 (default [])"},
    {"enable-cdi", NULL, 0, "enable-cdi", NULL, OT_BOOL, "false", F(enable_cdi), 0, NULL,
     "Resolve CDI device requests (--device vendor.com/class=name, CRI CDI_devices) against the CDI spec dirs"},
    {"engine", NULL, 'e', "engine", NULL, OT_STRING, "lcr", F(engine), 0, check_engine,
     "Select backend engine (accepted for compatibility, ignored)"},
    {"graph", "root", 'g', "graph", NULL, OT_PATH, "/var/lib/isulad", F(graph), 0, NULL,
     "Root directory of the iSulad runtime"},
    {"group", NULL, 'G', "group", NULL, OT_STRING, "isulad", F(group), 0, check_group, "Group for the unix socket"},
    {"help", NULL, 0, NULL, NULL, OT_ACTION, NULL, OFF_NONE, 0, NULL, "Show help"},
    {"hook-spec", NULL, 0, "hook-spec", NULL, OT_PATH, NULL, F(hook_spec), 0, NULL,
     "Default hook spec file applied to all containers"},
    {"host", NULL, 'H', "hosts", NULL, OT_STRV, "unix:///var/run/isulad.sock", F(hosts), OF_NOT_BOTH, check_hosts,
     "The socket name used to create gRPC server, can be specified multiple times"},
    {"image-layer-check", NULL, 0, "image-layer-check", NULL, OT_BOOL, "false", F(image_layer_check), 0, NULL,
     "Check layer intergrity when needed"},
    {"image-opt-timeout", NULL, 0, "image-opt-timeout", NULL, OT_DURATION, "5m", F(image_opt_timeout_ns), OF_NEG_ONE,
     NULL, "Max timeout for image operation, -1 for none"},
    {"insecure-registry", NULL, 0, "insecure-registries", NULL, OT_STRV, NULL, F(insecure_registries), 0,
     check_registries, "Disable TLS verification for the given registry"},
    {"insecure-skip-verify-enforce", NULL, 0, "insecure-skip-verify-enforce", NULL, OT_BOOL, "false",
     F(insecure_skip_verify_enforce), OF_LENIENT_BOOL, NULL, "Force to skip the insecure verify"},
    {"metrics-addr", NULL, 0, "metrics-addr", NULL, OT_STRING, NULL, F(metrics_addr), 0, check_metrics_addr,
     "Serve Prometheus metrics on ip:port (off by default)"},
    {"log-driver", NULL, 0, "log-driver", NULL, OT_STRING, "file", F(log_driver), 0, check_log_driver,
     "Set daemon log driver, such as: file, stdout"},
    {"log-level", NULL, 'l', "log-level", NULL, OT_LOGLEVEL, "ERROR", F(log_level), 0, NULL,
     "Set log level, the levels can be: FATAL ALERT CRIT ERROR WARN NOTICE INFO DEBUG TRACE"},
    {"log-opt", NULL, 0, NULL, NULL, OT_LOGOPT, NULL, OFF_NONE, 0, NULL,
     "Set daemon log driver options, such as: log-path=/tmp/logs/ to set directory where to store daemon logs; "
     "also log-file-mode=0600, max-file=7, max-size=1MB"},
    {"native.umask", NULL, 0, "native.umask", NULL, OT_STRING, "secure", F(native_umask), 0, check_native_umask,
     "Default file mode creation mask (umask) for containers: secure (0027) or normal (0022)"},
    {"network-plugin", NULL, 0, "network-plugin", NULL, OT_STRING, "", F(network_plugin), 0, check_network_plugin,
     "Set network plugin, default is null, suppport null and cni"},
    {"plugin-dir", NULL, 0, "plugin-dirs", NULL, OT_STRV, NULL, F(plugin_dirs), 0, check_plugin_dirs,
     "Directories searched for plugins' <name>.sock, <name>/<name>.sock, <name>.spec and <name>.json (default "
     "[/run/docker/plugins /etc/docker/plugins /usr/lib/docker/plugins])"},
    {"pidfile", NULL, 'p', "pidfile", NULL, OT_PATH, "/var/run/isulad.pid", F(pidfile), 0, NULL,
     "Save pid into this file"},
    {"pod-sandbox-image", NULL, 0, "pod-sandbox-image", NULL, OT_STRING, "registry.k8s.io/pause:3.9",
     F(pod_sandbox_image), 0, NULL, "The image whose network/ipc namespaces containers in each pod will use"},
    {"registry-mirrors", NULL, 0, "registry-mirrors", NULL, OT_STRV, NULL, F(registry_mirrors), 0, check_registries,
     "Registry to be prepended when pulling unqualified images, can be specified multiple times"},
    {"runtime", NULL, 0, "default-runtime", NULL, OT_STRING, "runc", F(default_runtime), OF_HIDDEN, NULL,
     "Default runtime for containers (lcr means runc)"},
    {"seccomp-enable", NULL, 0, "seccomp-enable", NULL, OT_BOOL, "true", F(seccomp_enable), 0, NULL,
     "Apply the default seccomp profile to containers without a seccomp option (--seccomp-enable=false: none)"},
    {"seccomp-profile", NULL, 0, "seccomp-profile", NULL, OT_PATH, "/etc/isulad/seccomp_default.json",
     F(seccomp_profile), 0, NULL, "Default seccomp profile (Docker's JSON format); the built-in one when absent"},
    {"selinux-enabled", NULL, 0, "selinux-enabled", NULL, OT_BOOL, "false", F(selinux_enabled), OF_HIDDEN, NULL,
     "Enable selinux support"},
    {"start-timeout", NULL, 0, "start-timeout", NULL, OT_DURATION, "2m", F(start_timeout_ns), 0, check_start_timeout,
     "timeout duration for waiting on a container to start before it is killed"},
    {"state", NULL, 'S', "state", NULL, OT_PATH, "/var/run/isulad", F(state), 0, NULL,
     "Root directory for execution state files"},
    {"storage-driver", NULL, 0, "storage-driver", NULL, OT_STRING, "overlay2", F(storage_driver), 0,
     check_storage_driver, "Storage driver to use (only overlay2 is supported)"},
    {"storage-opt", NULL, 's', "storage-opts", NULL, OT_STRV, NULL, F(storage_opts), 0, check_storage_opts,
     "Storage driver options: overlay2.override_kernel_check=true, overlay2.size=<size>, overlay2.basesize=<size>"},
    {"stream-idle-timeout", NULL, 0, "stream-idle-timeout", NULL, OT_DURATION, "4h", F(stream_idle_timeout_ns), 0,
     check_stream_idle_timeout,
     "CRI streaming (exec, attach, port-forward) connections without traffic in either direction are closed after "
     "this duration"},
    {"tls", NULL, 0, "tls", NULL, OT_BOOL, "false", F(tls), 0, NULL, "Use TLS; implied by --tlsverify"},
    {"tlscacert", NULL, 0, "tls-config.CAFile", NULL, OT_PATH, "$HOME/.iSulad/ca.pem", F(tls_ca), 0, NULL,
     "Trust certs signed only by this CA"},
    {"tlscert", NULL, 0, "tls-config.CertFile", NULL, OT_PATH, "$HOME/.iSulad/cert.pem", F(tls_cert), 0, NULL,
     "Path to TLS certificate file"},
    {"tlskey", NULL, 0, "tls-config.KeyFile", NULL, OT_PATH, "$HOME/.iSulad/key.pem", F(tls_key), 0, NULL,
     "Path to TLS key file"},
    {"tlsverify", NULL, 0, "tlsverify", "tls-verify", OT_BOOL, "false", F(tls_verify), 0, NULL,
     "Use TLS and verify the remote"},
    {"userns-remap", NULL, 0, "userns-remap", NULL, OT_STRING, NULL, F(userns_remap), 0, check_userns_remap,
     "User namespace of every container: <uid>:<gid>:<offset> (container ids 0..offset-1 are uid.. and gid.. on the "
     "host); a container opts out with --userns=host"},
    {"use-decrypted-key", NULL, 0, "use-decrypted-key", NULL, OT_BOOL, "true", F(use_decrypted_key), OF_LENIENT_BOOL,
     NULL, "Use decrypted private key by default"},
    {"version", NULL, 'V', NULL, NULL, OT_ACTION, NULL, OFF_NONE, 0, NULL, "Print the version"},
    {"websocket-server-listening-port", NULL, 0, "websocket-server-listening-port", NULL, OT_INT, "10350",
     F(websocket_port), 0, check_websocket_port, "CRI websocket streaming service listening port"},
    /* daemon.json only */
    {NULL, NULL, 0, "runtimes", NULL, OT_RUNTIMES, NULL, OFF_NONE, 0, NULL, NULL},
    {NULL, NULL, 0, "log-opts.log-path", NULL, OT_PATH, NULL, F(log_dir), OF_FILE_STRING, NULL, NULL},
    {NULL, NULL, 0, "log-opts.log-file-mode", NULL, OT_MODE, "0600", F(log_file_mode), OF_FILE_STRING, NULL, NULL},
    {NULL, NULL, 0, "log-opts.max-file", NULL, OT_INT, "7", F(log_max_file), OF_FILE_STRING, check_max_file, NULL},
    {NULL, NULL, 0, "log-opts.max-size", NULL, OT_SIZE, "1MB", F(log_max_size), OF_FILE_STRING, NULL, NULL},
};
const size_t isd_n_opts = ARRAY_SIZE(isd_opts);

const struct opt_def *opt_by_flag(const char *name)
{
    for (size_t i = 0; i < isd_n_opts; i++)
        if (streq(isd_opts[i].flag, name) || streq(isd_opts[i].flag_alias, name))
            return &isd_opts[i];
    return NULL;
}

const struct opt_def *opt_by_short(char c)
{
    for (size_t i = 0; i < isd_n_opts; i++)
        if (c != 0 && isd_opts[i].short_flag == c)
            return &isd_opts[i];
    return NULL;
}

const struct opt_def *opt_by_key(const char *key)
{
    for (size_t i = 0; i < isd_n_opts; i++)
        if (streq(isd_opts[i].key, key) || streq(isd_opts[i].key_alias, key))
            return &isd_opts[i];
    return NULL;
}

size_t opt_index(const struct opt_def *o)
{
    return (size_t)(o - isd_opts);
}

const char *opt_name(const struct opt_def *o)
{
    return o->key != NULL ? o->key : o->flag;
}

static void print_opt(FILE *f, const struct opt_def *o)
{
    cleanup_free char *left = NULL;
    if (o->short_flag != 0)
        left = xasprintf("  -%c, --%s", o->short_flag, o->flag);
    else
        left = xasprintf("      --%s", o->flag);
    fprintf(f, "%-40s %s", left, o->help);
    if (o->dflt == NULL || o->dflt[0] == '\0')
        fputs("", f);
    else if (o->type == OT_BOOL || o->type == OT_INT)
        fprintf(f, " (default %s)", o->dflt);
    else if (o->type == OT_STRV)
        fprintf(f, " (default [%s])", o->dflt);
    else
        fprintf(f, " (default \"%s\")", o->dflt);
    fputc('\n', f);
}

void isd_config_print_help(FILE *f)
{
    fprintf(f, "lightweight container runtime daemon\n\nUsage:  isulad [global options]\n\nGLOBAL OPTIONS:\n\n");
    for (size_t i = 0; i < isd_n_opts; i++) {
        const struct opt_def *o = &isd_opts[i];
        if (o->flag != NULL && !(o->flags & OF_HIDDEN))
            print_opt(f, o);
    }
}
