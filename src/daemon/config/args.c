/*
 * Command-line parsing of isulad flags into raw values (guide D-130..D-133): "--name=value" or
 * "--name value"; short clusters "-abc" where "=" gives the value to the flag before it and value-taking
 * flags in a cluster take the next words in order. Bool flags take a value only after "=".
 * Not thread-safe (fills one load context).
 */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/config/config_internal.h"

static bool takes_value(const struct opt_def *o)
{
    return o->type != OT_BOOL && o->type != OT_ACTION;
}

static int store_log_opt(struct load_ctx *ctx, const char *value, struct isd_error **err)
{
    const char *eq = strchr(value, '=');
    cleanup_free char *key = NULL;
    const struct opt_def *o;
    struct raw_value *r;
    if (eq == NULL || eq == value)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "--log-opt: `%s` is not of the form key=value", value);
    key = xasprintf("log-opts.%.*s", (int)(eq - value), value);
    o = opt_by_key(key);
    if (o == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "--log-opt: unknown option `%.*s` (known: log-path, log-file-mode, max-file, max-size)",
                             (int)(eq - value), value);
    r = &ctx->cli[opt_index(o)];
    free(r->text);
    r->text = xstrdup(eq + 1);
    r->source = SRC_FLAG;
    return 0;
}

/* Records one occurrence of flag o with value (NULL for a bool/action without "="). */
static int store_flag(struct load_ctx *ctx, const struct opt_def *o, const char *value, struct isd_error **err)
{
    struct raw_value *r = &ctx->cli[opt_index(o)];
    if (o->type == OT_ACTION) {
        if (value != NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "--%s takes no value", o->flag);
        if (streq(o->flag, "help"))
            ctx->help = true;
        else
            ctx->version = true;
        return 0;
    }
    if (o->type == OT_LOGOPT)
        return store_log_opt(ctx, value, err);
    r->source = SRC_FLAG;
    if (o->type == OT_STRV || o->type == OT_ULIMITS) {
        strv_append(&r->list, value);
        return 0;
    }
    free(r->text);
    r->text = xstrdup(value != NULL ? value : "true");
    return 0;
}

static int parse_long(struct load_ctx *ctx, int argc, char **argv, int *i, struct isd_error **err)
{
    const char *arg = argv[*i] + 2;
    const char *eq = strchr(arg, '=');
    cleanup_free char *name = eq != NULL ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
    const struct opt_def *o = opt_by_flag(name);
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (o == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown flag: --%s (see isulad --help)", name);
    if (value == NULL && takes_value(o)) {
        if (*i + 1 >= argc)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "flag needs an argument: --%s", name);
        value = argv[++*i];
    }
    return store_flag(ctx, o, value, err);
}

static int parse_short(struct load_ctx *ctx, int argc, char **argv, int *i, struct isd_error **err)
{
    const char *arg = argv[*i];
    for (const char *p = arg + 1; *p != '\0' && *p != '='; p++)
        if (opt_by_short(*p) == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown shorthand flag: '%c' in %s", *p, arg);
    if (arg[1] == '=')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "bad flag syntax: %s", arg);
    for (const char *p = arg + 1; *p != '\0'; p++) {
        const struct opt_def *o = opt_by_short(*p);
        const char *value = NULL;
        if (o == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown shorthand flag: '%c' in %s", *p, arg);
        if (p[1] == '=') {
            value = p + 2;
            if (store_flag(ctx, o, value, err) < 0)
                return -1;
            return 0;
        }
        if (takes_value(o)) {
            if (*i + 1 >= argc)
                return isd_error_set(err, ISD_ERR_INVALID, 0, "flag needs an argument: '%c' in %s", *p, arg);
            value = argv[++*i];
        }
        if (store_flag(ctx, o, value, err) < 0)
            return -1;
    }
    return 0;
}

int config_args_parse(struct load_ctx *ctx, int argc, char **argv, struct isd_error **err)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int r;
        if (str_has_prefix(arg, "--") && arg[2] != '\0')
            r = parse_long(ctx, argc, argv, &i, err);
        else if (arg[0] == '-' && arg[1] != '\0' && arg[1] != '-')
            r = parse_short(ctx, argc, argv, &i, err);
        else
            r = isd_error_set(err, ISD_ERR_INVALID, 0, "unexpected argument `%s`: isulad takes only flags", arg);
        if (r < 0)
            return -1;
    }
    return 0;
}
