/*
 * Command-line flag parsing of the guide (§1.9): a value-taking flag takes the next word or the text
 * after `=`; every character of a `-xyz` cluster is a short flag, `=` in a cluster gives the value of
 * the flag just before it, value-taking flags inside a cluster take the following words in turn;
 * `--name=value` and `--name value`; `--` ends the flags. Stateless and thread-safe.
 */
#ifndef ISD_CLIENT_ARGS_H
#define ISD_CLIENT_ARGS_H

#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"

enum cli_opt_type {
    CLI_OPT_BOOL,   /* dest: bool *; accepts --x=true|false */
    CLI_OPT_STRING, /* dest: char ** (last one wins; previous value freed) */
    CLI_OPT_LIST,   /* dest: char *** (strv, appended; repeatable) */
    CLI_OPT_INT,    /* dest: long long * */
};

struct cli_option {
    const char *lname; /* without the dashes; NULL ends a table */
    char sname;        /* 0: none */
    enum cli_opt_type type;
    void *dest;
    const char *help;
};

/*
 * Parses argv[0..argc) (the words after the command name). stop_after > 0: once that many positional
 * arguments are seen, the rest are positional (for `run IMAGE CMD...`, `exec CONTAINER CMD...`).
 * ret_pos gets the positional arguments (strv, possibly empty). Errors read like
 * "unknown flag: --foo" or "flag needs an argument: 'n' in -n".
 */
int cli_parse_args(const struct cli_option *opts, int argc, char *const *argv, int stop_after, char ***ret_pos,
                   struct isd_error **err);

/* Prints the option table as help lines ("  -n, --name string   help"). */
void cli_print_options(FILE *f, const struct cli_option *opts);

/* Parses true/false/1/0 (as strconv.ParseBool); -1 when malformed. */
int cli_parse_bool(const char *s, bool *ret);

#endif
