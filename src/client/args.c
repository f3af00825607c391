/* Flag parsing per the guide; see args.h. No global state. */
#include "client/args.h"

#include <stdlib.h>

#include "common/util.h"

int cli_parse_bool(const char *s, bool *ret)
{
    static const char *const t[] = {"1", "t", "T", "true", "TRUE", "True"};
    static const char *const f[] = {"0", "f", "F", "false", "FALSE", "False"};
    for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
        if (streq(s, t[i])) {
            *ret = true;
            return 0;
        }
        if (streq(s, f[i])) {
            *ret = false;
            return 0;
        }
    }
    return -1;
}

static const struct cli_option *find_long(const struct cli_option *opts, const char *name, size_t len)
{
    for (; opts->lname != NULL; opts++)
        if (strlen(opts->lname) == len && strncmp(opts->lname, name, len) == 0)
            return opts;
    return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts, char c)
{
    for (; opts->lname != NULL; opts++)
        if (opts->sname != 0 && opts->sname == c)
            return opts;
    return NULL;
}

static int set_value(const struct cli_option *o, const char *value, const char *shown, struct isd_error **err)
{
    long long n;
    switch (o->type) {
    case CLI_OPT_BOOL:
        if (cli_parse_bool(value, (bool *)o->dest) < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid argument \"%s\" for \"%s\" flag: invalid syntax",
                                 value, shown);
        return 0;
    case CLI_OPT_STRING:
        free(*(char **)o->dest);
        *(char **)o->dest = xstrdup(value);
        return 0;
    case CLI_OPT_LIST:
        strv_append((char ***)o->dest, value);
        return 0;
    case CLI_OPT_INT:
        if (parse_int64(value, &n) < 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid argument \"%s\" for \"%s\" flag: invalid syntax",
                                 value, shown);
        *(long long *)o->dest = n;
        return 0;
    }
    return 0;
}

/* Handles "--name[=value]"; *idx may advance past a value word. */
static int parse_long(const struct cli_option *opts, int argc, char *const *argv, int *idx, struct isd_error **err)
{
    const char *arg = argv[*idx] + 2, *eq = strchr(arg, '=');
    size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
    const struct cli_option *o = find_long(opts, arg, len);
    cleanup_free char *shown = xasprintf("--%.*s", (int)len, arg);
    if (o == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown flag: %s", shown);
    if (eq != NULL)
        return set_value(o, eq + 1, shown, err);
    if (o->type == CLI_OPT_BOOL) {
        *(bool *)o->dest = true;
        return 0;
    }
    if (*idx + 1 >= argc)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "flag needs an argument: %s", shown);
    (*idx)++;
    return set_value(o, argv[*idx], shown, err);
}

/* Handles a "-xyz" cluster; value-taking flags without "=" take the following words in turn. */
static int parse_short(const struct cli_option *opts, int argc, char *const *argv, int *idx, struct isd_error **err)
{
    const char *arg = argv[*idx];
    int next = *idx + 1;
    for (const char *p = arg + 1; *p != '\0'; p++) {
        const struct cli_option *o = find_short(opts, *p);
        char shown[4] = {'-', *p, 0, 0};
        if (o == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown shorthand flag: '%c' in %s", *p, arg);
        if (p[1] == '=') {
            *idx = next - 1;
            return set_value(o, p + 2, shown, err);
        }
        if (o->type == CLI_OPT_BOOL) {
            *(bool *)o->dest = true;
            continue;
        }
        if (next >= argc)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "flag needs an argument: '%c' in %s", *p, arg);
        if (set_value(o, argv[next++], shown, err) < 0)
            return -1;
    }
    *idx = next - 1;
    return 0;
}

int cli_parse_args(const struct cli_option *opts, int argc, char *const *argv, int stop_after, char ***ret_pos,
                   struct isd_error **err)
{
    cleanup_strv char **pos = NULL;
    int i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (stop_after > 0 && (int)strv_len(pos) >= stop_after)
            break;
        if (streq(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0') {
            strv_append(&pos, a);
            continue;
        }
        if ((a[1] == '-' ? parse_long(opts, argc, argv, &i, err) : parse_short(opts, argc, argv, &i, err)) < 0)
            return -1;
    }
    for (; i < argc; i++)
        strv_append(&pos, argv[i]);
    if (pos == NULL)
        pos = xcalloc(1, sizeof(char *));
    *ret_pos = TAKE_PTR(pos);
    return 0;
}

void cli_print_options(FILE *f, const struct cli_option *opts)
{
    for (; opts->lname != NULL; opts++) {
        const char *arg = opts->type == CLI_OPT_BOOL ? "" : opts->type == CLI_OPT_INT ? " int" : " string";
        char left[64];
        if (opts->sname != 0)
            snprintf(left, sizeof(left), "-%c, --%s%s", opts->sname, opts->lname, arg);
        else
            snprintf(left, sizeof(left), "    --%s%s", opts->lname, arg);
        fprintf(f, "  %-32s %s\n", left, opts->help != NULL ? opts->help : "");
    }
}
