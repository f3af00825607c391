/*
 * isd_config_load(): flags and daemon.json into one immutable snapshot; isd_config_free(); ulimits;
 * derived values (log file path, TLS implied by tlsverify). Loading is not thread-safe; the returned
 * snapshot is read-only and may be shared between threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/config/config_internal.h"

#ifndef ISD_VERSION
#define ISD_VERSION "unknown"
#endif

static const char *const ulimit_names[] = {"as",      "core",     "cpu",        "data",   "fsize", "locks",
                                           "memlock", "msgqueue", "nice",       "nofile", "nproc", "rss",
                                           "rtprio",  "rttime",   "sigpending", "stack"};

char *ulimit_normalize(const char *text, const char *what, struct isd_error **err)
{
    const char *eq = strchr(text, '=');
    cleanup_free char *name = eq != NULL ? xstrndup(text, (size_t)(eq - text)) : NULL;
    cleanup_free char *vals = eq != NULL ? xstrdup(eq + 1) : NULL;
    char *colon = vals != NULL ? strchr(vals, ':') : NULL;
    long long soft, hard;
    bool known = false;
    for (size_t i = 0; name != NULL && i < ARRAY_SIZE(ulimit_names); i++)
        known = known || strcmp(name, ulimit_names[i]) == 0;
    if (!known) {
        isd_error_set(err, ISD_ERR_INVALID, 0,
                      "%s: invalid ulimit `%s`: must be <name>=<soft>[:<hard>] with a "
                      "known name such as nofile, nproc, core",
                      what, text);
        return NULL;
    }
    if (colon != NULL)
        *colon = '\0';
    if (parse_int64(vals, &soft) < 0 || parse_int64(colon != NULL ? colon + 1 : vals, &hard) < 0 || soft < 0 ||
        hard < soft) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid ulimit `%s`: values must be integers, hard >= soft >= 0",
                      what, text);
        return NULL;
    }
    return xasprintf("%s=%lld:%lld", name, soft, hard);
}

int config_finish(struct isd_config *c, struct isd_error **err)
{
    if (c->log_dir == NULL)
        c->log_dir = xstrdup(c->graph);
    c->log_path = path_join(c->log_dir, "isulad.log");
    if (c->tls_verify)
        c->tls = true;
    if (c->ipv6 && (c->fixed_cidr_v6 == NULL || *c->fixed_cidr_v6 == '\0'))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "ipv6: the default bridge network needs its IPv6 subnet (--fixed-cidr-v6): there is no "
                             "default IPv6 pool");
    return runtimes_finish(c, err);
}

static void raw_values_free(struct raw_value *v)
{
    for (size_t i = 0; v != NULL && i < isd_n_opts; i++) {
        free(v[i].text);
        strv_free(v[i].list);
        json_decref(v[i].json);
    }
    free(v);
}

/* The config file: --config-file (must exist) or the default (may be missing). */
static int read_config_file(struct load_ctx *ctx, struct isd_config *c, struct isd_error **err)
{
    const struct opt_def *o = opt_by_flag("config-file");
    const struct raw_value *r = &ctx->cli[opt_index(o)];
    bool explicit = r->source == SRC_FLAG;
    const char *path = explicit ? r->text : ISD_CONFIG_DEFAULT_FILE;
    if (explicit && path[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "--config-file: `%s` must be an absolute path", path);
    ctx->file_path = path;
    if (!explicit && access(path, F_OK) < 0 && errno == ENOENT)
        return 0;
    if (config_file_read(ctx, path, err) < 0)
        return -1;
    c->config_file = xstrdup(path);
    return 0;
}

static bool handle_actions(const struct load_ctx *ctx)
{
    if (ctx->help)
        isd_config_print_help(stdout);
    else if (ctx->version)
        printf("Version %s\n", ISD_VERSION);
    if (ctx->help || ctx->version)
        fflush(stdout);
    return ctx->help || ctx->version;
}

struct isd_config *isd_config_load(int argc, char **argv, bool *ret_exit_now, struct isd_error **err)
{
    struct load_ctx ctx = {.cli = xcalloc(isd_n_opts, sizeof(struct raw_value)),
                           .file = xcalloc(isd_n_opts, sizeof(struct raw_value))};
    cleanup_config struct isd_config *c = xcalloc(1, sizeof(*c));
    bool exit_now = false;
    int r = config_args_parse(&ctx, argc, argv, err);
    if (r == 0)
        exit_now = handle_actions(&ctx);
    if (r == 0 && !exit_now)
        r = read_config_file(&ctx, c, err);
    if (r == 0 && !exit_now)
        r = config_apply(c, &ctx, err);
    if (r == 0 && !exit_now)
        r = config_finish(c, err);
    raw_values_free(ctx.cli);
    raw_values_free(ctx.file);
    if (ret_exit_now != NULL)
        *ret_exit_now = exit_now;
    if (r < 0 || exit_now)
        return NULL;
    return TAKE_PTR(c);
}

void isd_config_free(struct isd_config *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < isd_n_opts; i++) {
        const struct opt_def *o = &isd_opts[i];
        void *field = (char *)c + o->offset;
        if (o->offset == OFF_NONE)
            continue;
        if (o->type == OT_STRING || o->type == OT_PATH)
            free(*(char **)field);
        else if (o->type == OT_STRV || o->type == OT_ULIMITS)
            strv_free(*(char ***)field);
    }
    for (size_t i = 0; i < c->n_runtimes; i++) {
        free(c->runtimes[i].name);
        free(c->runtimes[i].path);
        strv_free(c->runtimes[i].args);
    }
    free(c->runtimes);
    free(c->config_file);
    free(c->log_level_name);
    free(c->log_path);
    free(c);
}

void cleanup_isd_configp(struct isd_config **c)
{
    isd_config_free(*c);
}
