/*
 * Turns the raw values of the option table into a struct isd_config: picks each option's value by
 * precedence (flag > daemon.json > default; D-05 conflicts for hosts and ulimits), parses it by type and
 * runs the option's validator. Not thread-safe (fills one config under construction).
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/config/config_internal.h"

static char *what_name(const struct load_ctx *ctx, const struct opt_def *o, enum raw_source src)
{
    if (src == SRC_FLAG && o->flag != NULL)
        return xasprintf("--%s", o->flag);
    if (src == SRC_FLAG)
        return xasprintf("--log-opt %s", strchr(o->key, '.') + 1);
    if (src == SRC_FILE)
        return xasprintf("%s: %s", ctx->file_path, o->key);
    return xasprintf("default of %s", opt_name(o));
}

static int parse_bool_text(const char *text, bool *ret)
{
    if (strcmp(text, "true") == 0 || strcmp(text, "1") == 0)
        *ret = true;
    else if (strcmp(text, "false") == 0 || strcmp(text, "0") == 0)
        *ret = false;
    else
        return -1;
    return 0;
}

static int parse_mode(const char *text, unsigned int *ret)
{
    unsigned int v = 0;
    size_t n = strlen(text);
    if (n < 2 || n > 5 || text[0] != '0')
        return -1;
    for (const char *p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '7')
            return -1;
        v = v * 8 + (unsigned int)(*p - '0');
    }
    if (v > 0777)
        return -1;
    *ret = v;
    return 0;
}

static int parse_number(const struct opt_def *o, void *field, const char *text, const char *what,
                        struct isd_error **err)
{
    long long v = 0;
    switch (o->type) {
    case OT_INT:
        if (parse_int64(text, &v) < 0 || v < INT_MIN || v > INT_MAX)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid integer `%s`", what, text);
        *(int *)field = (int)v;
        return 0;
    case OT_DURATION:
        if ((o->flags & OF_NEG_ONE) && strcmp(text, "-1") == 0)
            v = -1;
        else if (parse_duration_ns(text, &v) < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid duration `%s` (examples: 30s, 5m, 1h30m%s)",
                                 what, text, (o->flags & OF_NEG_ONE) ? ", -1 for none" : "");
        *(long long *)field = v;
        return 0;
    case OT_SIZE:
        if (parse_size(text, &v) < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid size `%s` (examples: 30KB, 1MB, 2g)", what,
                                 text);
        *(long long *)field = v;
        return 0;
    case OT_MODE:
        if (parse_mode(text, (unsigned int *)field) < 0)
            return isd_error_set(
                err, ISD_ERR_INVALID, 0,
                "%s: invalid file mode `%s`: must be octal with a leading 0, at most 0777, such as 0600", what, text);
        return 0;
    default:
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "%s: bad option type", what);
    }
}

static int parse_scalar(struct isd_config *c, const struct opt_def *o, const char *text, const char *what,
                        struct isd_error **err)
{
    void *field = (char *)c + o->offset;
    int level;
    switch (o->type) {
    case OT_PATH:
        if (text[0] != '/')
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: `%s` must be an absolute path", what, text);
        /* fall through */
    case OT_STRING:
        free(*(char **)field);
        *(char **)field = xstrdup(text);
        return 0;
    case OT_BOOL:
        if (parse_bool_text(text, (bool *)field) < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "%s: invalid bool `%s` (true or false)", what, text);
        return 0;
    case OT_LOGLEVEL:
        level = isd_log_level_parse(text);
        if (level < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "%s: invalid log level `%s`: must be one of FATAL ALERT CRIT ERROR WARN NOTICE "
                                 "INFO DEBUG TRACE",
                                 what, text);
        *(int *)field = level;
        free(c->log_level_name);
        c->log_level_name = xstrdup(text);
        for (char *p = c->log_level_name; *p != '\0'; p++)
            *p = (char)toupper((unsigned char)*p);
        return 0;
    default:
        return parse_number(o, field, text, what, err);
    }
}

static int parse_list(struct isd_config *c, const struct opt_def *o, char *const *list, const char *what,
                      struct isd_error **err)
{
    char ***field = (char ***)((char *)c + o->offset);
    cleanup_strv char **out = NULL;
    for (size_t i = 0; list != NULL && list[i] != NULL; i++) {
        cleanup_free char *v = o->type == OT_ULIMITS ? ulimit_normalize(list[i], what, err) : xstrdup(list[i]);
        if (v == NULL)
            return -1;
        strv_append(&out, v);
    }
    strv_free(*field);
    *field = TAKE_PTR(out);
    return 0;
}

static bool raw_is_set(const struct opt_def *o, const struct raw_value *r)
{
    if (r->source == SRC_NONE)
        return false;
    if (o->type == OT_STRV || o->type == OT_ULIMITS)
        return strv_len(r->list) > 0;
    if (o->type == OT_RUNTIMES)
        return r->json != NULL;
    return r->text != NULL && r->text[0] != '\0'; /* D-08: "" means the built-in default */
}

/* A default under "$HOME/" (the TLS files, D-72) is the daemon's own home directory, "/root" when HOME is unset. */
static char *default_text(const struct opt_def *o)
{
    const char *home = getenv("HOME");
    if (!str_has_prefix(o->dflt, "$HOME/"))
        return xstrdup(o->dflt);
    return xasprintf("%s%s", home != NULL && home[0] == '/' ? home : "/root", o->dflt + 5);
}

static int apply_one(struct isd_config *c, struct load_ctx *ctx, const struct opt_def *o, struct isd_error **err)
{
    size_t i = opt_index(o);
    const struct raw_value *r = raw_is_set(o, &ctx->cli[i]) ? &ctx->cli[i] : &ctx->file[i];
    enum raw_source src = raw_is_set(o, r) ? r->source : SRC_NONE;
    cleanup_free char *what = what_name(ctx, o, src);
    int ret;
    if (src == SRC_NONE && o->dflt == NULL)
        return 0;
    if (o->type == OT_RUNTIMES)
        ret = runtimes_parse(c, r->json, what, err);
    else if ((o->type == OT_STRV || o->type == OT_ULIMITS) && src != SRC_NONE)
        ret = parse_list(c, o, r->list, what, err);
    else if (o->type == OT_STRV || o->type == OT_ULIMITS) {
        char *dflt[] = {(char *)o->dflt, NULL};
        ret = parse_list(c, o, dflt, what, err);
    } else {
        cleanup_free char *dflt = src != SRC_NONE ? NULL : default_text(o);
        ret = parse_scalar(c, o, src != SRC_NONE ? r->text : dflt, what, err);
    }
    if (ret == 0 && o->check != NULL)
        ret = o->check(c, what, err);
    return ret;
}

static void conflict_text(struct buf *b, const struct opt_def *o, char *const *flag, char *const *file)
{
    cleanup_free char *a = strv_join(flag, " ");
    cleanup_free char *f = strv_join(file, " ");
    buf_printf(b, "%s%s: (from flag: [%s], from file: [%s])", b->len > 0 ? ", " : "", o->key, a, f);
}

/* D-05: hosts and ulimits must not be given both as a flag and in the file. */
static int check_conflicts(struct load_ctx *ctx, struct isd_error **err)
{
    struct buf b = {0};
    cleanup_free char *text = NULL;
    for (size_t i = 0; i < isd_n_opts; i++) {
        const struct opt_def *o = &isd_opts[i];
        if ((o->flags & OF_NOT_BOTH) && raw_is_set(o, &ctx->cli[i]) && raw_is_set(o, &ctx->file[i]))
            conflict_text(&b, o, ctx->cli[i].list, ctx->file[i].list);
    }
    if (b.len == 0)
        return 0;
    text = buf_steal(&b);
    return isd_error_set(err, ISD_ERR_INVALID, 0,
                         "unable to configure the isulad with file %s: the following directives are specified both "
                         "as a flag and in the configuration file: %s",
                         ctx->file_path, text);
}

int config_apply(struct isd_config *c, struct load_ctx *ctx, struct isd_error **err)
{
    if (check_conflicts(ctx, err) < 0)
        return -1;
    for (size_t i = 0; i < isd_n_opts; i++) {
        const struct opt_def *o = &isd_opts[i];
        if (o->offset == OFF_NONE && o->type != OT_RUNTIMES)
            continue; /* --help, --version, --log-opt, --config-file */
        if (apply_one(c, ctx, o, err) < 0)
            return -1;
    }
    return 0;
}
