/*
 * Internals of the config module: the option table and the raw values collected from the command line
 * and daemon.json before they are validated into a struct isd_config. Used only by src/daemon/config/.
 * Not thread-safe; everything here lives for one isd_config_load() call.
 */
#ifndef ISD_DAEMON_CONFIG_CONFIG_INTERNAL_H
#define ISD_DAEMON_CONFIG_CONFIG_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "daemon/config/config.h"

enum opt_type {
    OT_STRING,   /* char * */
    OT_PATH,     /* char *, absolute */
    OT_BOOL,     /* bool */
    OT_INT,      /* int */
    OT_DURATION, /* long long ns */
    OT_SIZE,     /* long long bytes */
    OT_MODE,     /* unsigned int, octal text such as "0600" */
    OT_LOGLEVEL, /* int (enum isd_log_level) */
    OT_STRV,     /* char **, repeatable flag / JSON array of strings */
    OT_ULIMITS,  /* char ** "name=soft:hard"; flag text or JSON object of {Name, Soft, Hard} */
    OT_RUNTIMES, /* daemon.json only: object name -> {path, runtime-args} */
    OT_LOGOPT,   /* flag only: --log-opt key=value, dispatched to the "log-opts.<key>" entries */
    OT_ACTION,   /* flag only: --help, --version */
};

enum {
    OF_HIDDEN = 1 << 0,       /* not listed by --help (the guide's table has it, --help does not) */
    OF_NOT_BOTH = 1 << 1,     /* flag and file together is an error (D-05) */
    OF_LENIENT_BOOL = 1 << 2, /* a non-bool JSON value silently means the default (D-06) */
    OF_NEG_ONE = 1 << 3,      /* "-1" means none (durations) */
    OF_FILE_STRING = 1 << 4,  /* JSON value is a string even for numbers (log-opts) */
    OF_ONE_OR_LIST = 1 << 5,  /* a list whose JSON value may also be one string (authorization-plugin) */
};

#define OFF_NONE ((size_t)-1)

struct isd_config;

struct opt_def {
    const char *flag;       /* long flag without "--"; NULL = daemon.json only */
    const char *flag_alias; /* second spelling of the flag (hidden) */
    char short_flag;
    const char *key;       /* daemon.json key ("log-opts.max-size" for nested); NULL = flag only */
    const char *key_alias; /* second spelling of the key */
    enum opt_type type;
    const char *dflt; /* textual default, parsed like user input; NULL = none */
    size_t offset;    /* field in struct isd_config */
    unsigned flags;
    /* Validates the stored field; what names the source ("--flag" or "<file>: key"). */
    int (*check)(struct isd_config *c, const char *what, struct isd_error **err);
    const char *help;
};

extern const struct opt_def isd_opts[];
extern const size_t isd_n_opts;

enum raw_source { SRC_NONE, SRC_FILE, SRC_FLAG };

struct raw_value {
    enum raw_source source;
    char *text;   /* scalar types */
    char **list;  /* OT_STRV, OT_ULIMITS */
    json_t *json; /* OT_RUNTIMES */
};

struct load_ctx {
    struct raw_value *cli; /* isd_n_opts entries each */
    struct raw_value *file;
    const char *file_path;
    bool help, version;
};

const struct opt_def *opt_by_flag(const char *name);
const struct opt_def *opt_by_short(char c);
const struct opt_def *opt_by_key(const char *key);
size_t opt_index(const struct opt_def *o);
/* "--flag" or "key" for messages. */
const char *opt_name(const struct opt_def *o);

int config_args_parse(struct load_ctx *ctx, int argc, char **argv, struct isd_error **err);
int config_file_read(struct load_ctx *ctx, const char *path, struct isd_error **err);
/* Fills c from defaults, file and flags (precedence, D-05 conflicts, per-option validation). */
int config_apply(struct isd_config *c, struct load_ctx *ctx, struct isd_error **err);
/* Cross-option checks and derived values, after config_apply. */
int config_finish(struct isd_config *c, struct isd_error **err);

/* Validators used by the table (validate.c). */
int check_hosts(struct isd_config *c, const char *what, struct isd_error **err);
int check_network_plugin(struct isd_config *c, const char *what, struct isd_error **err);
int check_bip(struct isd_config *c, const char *what, struct isd_error **err);
int check_fixed_cidr_v6(struct isd_config *c, const char *what, struct isd_error **err);
int check_bridge(struct isd_config *c, const char *what, struct isd_error **err);
int check_storage_driver(struct isd_config *c, const char *what, struct isd_error **err);
int check_storage_opts(struct isd_config *c, const char *what, struct isd_error **err);
int check_native_umask(struct isd_config *c, const char *what, struct isd_error **err);
int check_userns_remap(struct isd_config *c, const char *what, struct isd_error **err);
int check_log_driver(struct isd_config *c, const char *what, struct isd_error **err);
int check_engine(struct isd_config *c, const char *what, struct isd_error **err);
int check_group(struct isd_config *c, const char *what, struct isd_error **err);
int check_websocket_port(struct isd_config *c, const char *what, struct isd_error **err);
int check_max_file(struct isd_config *c, const char *what, struct isd_error **err);
int check_authz(struct isd_config *c, const char *what, struct isd_error **err);
int check_cdi_spec_dirs(struct isd_config *c, const char *what, struct isd_error **err);
int check_plugin_dirs(struct isd_config *c, const char *what, struct isd_error **err);
int check_metrics_addr(struct isd_config *c, const char *what, struct isd_error **err);
int check_cgroup_parent(struct isd_config *c, const char *what, struct isd_error **err);
int check_registries(struct isd_config *c, const char *what, struct isd_error **err);
int check_start_timeout(struct isd_config *c, const char *what, struct isd_error **err);
int check_stream_idle_timeout(struct isd_config *c, const char *what, struct isd_error **err);

/* Parses one ulimit "name=soft[:hard]" into the normal form "name=soft:hard". */
char *ulimit_normalize(const char *text, const char *what, struct isd_error **err);
int runtimes_parse(struct isd_config *c, const json_t *obj, const char *what, struct isd_error **err);
int runtimes_finish(struct isd_config *c, struct isd_error **err);

#endif
