/*
 * Daemon configuration: every `isulad` flag and `/etc/isulad/daemon.json` key is defined once in an option
 * table (options.c) from which the command-line parser, the daemon.json reader and `--help` are derived.
 * Precedence: command line > daemon.json > built-in default, except `hosts` and the default ulimits, which
 * are an error when given in both places (guide D-05).
 *
 * The result of isd_config_load() is an immutable snapshot: build it once in main, then share it read-only
 * between threads (no locking needed). Everything it points to lives until isd_config_free().
 */
#ifndef ISD_DAEMON_CONFIG_CONFIG_H
#define ISD_DAEMON_CONFIG_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"
#include "common/user_remap.h"

#define ISD_CONFIG_DEFAULT_FILE "/etc/isulad/daemon.json"
#define ISD_CONFIG_MAX_HOSTS 10

struct isd_runtime_conf {
    char *name;
    char *path;  /* absolute path, or a bare command name searched in PATH */
    char **args; /* extra global arguments ("runtime-args"), NULL-terminated, never NULL */
    bool vm;     /* runs containers in a VM ("vm": true, default for kata-runtime): KATA-022/031 refusals */
};

struct isd_config {
    char *config_file; /* the daemon.json that was read, NULL when none */
    char **hosts;      /* "unix:///abs/path" or "tcp://ip:port"; at least one */
    char *group;
    char *graph;
    char *state;
    char *pidfile;
    char *engine;
    int log_level; /* enum isd_log_level */
    char *log_level_name;
    char *log_driver; /* "file" or "stdout" */
    char *log_dir;    /* log-opts log-path: directory of the daemon log */
    char *log_path;   /* file path for the file driver: <log_dir>/isulad.log */
    unsigned int log_file_mode;
    long long log_max_size;
    int log_max_file;
    char *default_runtime;             /* "runc", "crun" or a key of runtimes; "lcr" is mapped to "runc" */
    struct isd_runtime_conf *runtimes; /* the daemon.json map plus built-in runc/crun when found in PATH */
    size_t n_runtimes;
    char *storage_driver; /* always "overlay2" */
    char **storage_opts;  /* validated "overlay2.*=value" */
    long long start_timeout_ns;
    long long stream_idle_timeout_ns; /* CRI streaming connections without traffic are closed after it */
    long long image_opt_timeout_ns;   /* -1 = none */
    char *hook_spec;                  /* NULL when unset */
    char *native_umask;               /* "secure" or "normal" */
    unsigned int native_umask_mode;   /* 0027 or 0022 */

    char *userns_remap;                 /* "<uid>:<gid>:<offset>" or NULL */
    struct user_remap userns_remap_map; /* parsed; size 0 when unset (or a uid/gid of 0) */

    char **registry_mirrors;
    char **insecure_registries;
    char *pod_sandbox_image;
    char *network_plugin; /* "" or "cni" */
    char *cni_bin_dir;
    char *cni_conf_dir;
    char *cri_socket;    /* NULL when unset: an extra unix socket serving only the CRI */
    char *bip;           /* the default bridge network: "<gateway>/<prefix>", NULL to pick a free subnet */
    bool ipv6;           /* IPv6 on the default bridge network too */
    char *fixed_cidr_v6; /* its IPv6 subnet (required with ipv6) */
    bool ip_masq;        /* masquerade bridge networks' outgoing traffic unless a network's options say otherwise */
    char *bridge;        /* its bridge device */
    bool image_layer_check;
    bool use_decrypted_key;
    bool insecure_skip_verify_enforce;
    bool tls; /* true also when tls_verify */
    bool tls_verify;
    char *tls_ca, *tls_cert, *tls_key;
    char **default_ulimits;       /* "nofile=<soft>:<hard>" */
    char *cgroup_parent;          /* NULL when unset */
    char **authorization_plugins; /* plugin names, asked in order (api/rest/authz.h), NULL: none */
    char **plugin_dirs;           /* where plugins are found, NULL: Docker's directories */
    char *metrics_addr;           /* ip:port of the Prometheus endpoint, NULL: off */
    int websocket_port;
    bool selinux_enabled;
    bool seccomp_enable;   /* the default seccomp profile applies to containers without a seccomp option */
    char *seccomp_profile; /* its file; the built-in copy when the file does not exist */
    bool enable_cdi;       /* CDI device requests are resolved (spec/spec_cdi.h); refused when false */
    char **cdi_spec_dirs;  /* the CDI spec directories, later ones win; NULL: /etc/cdi, /var/run/cdi */
};

/*
 * Parses argv (argv[0] is the program) and the config file (--config-file, default ISD_CONFIG_DEFAULT_FILE;
 * a missing default file is fine, a missing named one is an error). Returns NULL with *err set on any error.
 * When --help or --version was handled (printed to stdout), returns NULL without error and sets
 * *ret_exit_now to true; otherwise *ret_exit_now is false.
 */
struct isd_config *isd_config_load(int argc, char **argv, bool *ret_exit_now, struct isd_error **err);
void isd_config_free(struct isd_config *c);
void cleanup_isd_configp(struct isd_config **c);
#define cleanup_config __attribute__((cleanup(cleanup_isd_configp)))

/* A runtime by name (runtimes map first, then built-in runc/crun; "lcr", any case, means runc).
 * NULL when unknown. Borrowed from c. */
const struct isd_runtime_conf *isd_config_runtime(const struct isd_config *c, const char *name);

/* Everything as daemon.json-style keys (new reference), for GET /info and debugging. */
json_t *isd_config_to_json(const struct isd_config *c);

/* Writes the `isulad --help` text to f. */
void isd_config_print_help(FILE *f);

#endif
