/*
 * Shared plumbing of the isula commands: the command table entry, option parsing with the common
 * -H/--host and --help flags, error printing and exit-code mapping, and small API helpers used by
 * several commands. Single-threaded CLI process; globals here are per process.
 */
#ifndef ISD_CMD_ISULA_CMD_H
#define ISD_CMD_ISULA_CMD_H

#include <jansson.h>
#include <stdbool.h>

#include "client/args.h"
#include "client/client.h"
#include "client/http.h"
#include "common/error.h"

#define EXIT_DAEMON 125
#define EXIT_CANNOT_INVOKE 126
#define EXIT_NOT_FOUND 127

struct command {
    const char *name;
    const char *usage; /* after "isula <name> " */
    const char *desc;
    int (*run)(int argc, char **argv);
};

extern char *g_host_flag; /* -H given before the command or among its options */
extern bool g_help_flag;
/* --tls, --tlsverify, --tlscacert, --tlscert, --tlskey (before the command or among its options) */
extern bool g_tls_flag, g_tlsverify_flag;
extern char *g_tlscacert_flag, *g_tlscert_flag, *g_tlskey_flag;

#define CMD_TLS_OPTS                                                                                                   \
    {"tls", 0, CLI_OPT_BOOL, &g_tls_flag, "Use TLS; implied by --tlsverify"},                                          \
        {"tlsverify", 0, CLI_OPT_BOOL, &g_tlsverify_flag, "Use TLS and verify the remote"},                            \
        {"tlscacert", 0, CLI_OPT_STRING, &g_tlscacert_flag, "Trust certs signed only by this CA"},                     \
        {"tlscert", 0, CLI_OPT_STRING, &g_tlscert_flag, "Path to TLS certificate file"},                               \
    {                                                                                                                  \
        "tlskey", 0, CLI_OPT_STRING, &g_tlskey_flag, "Path to TLS key file"                                            \
    }

/* The -H/--host and --help rows every command's option table ends with (then {NULL}). */
#define CMD_COMMON_OPTS                                                                                                \
    {"host", 'H', CLI_OPT_STRING, &g_host_flag, "Daemon socket(s) to connect to"}, CMD_TLS_OPTS,                       \
    {                                                                                                                  \
        "help", 0, CLI_OPT_BOOL, &g_help_flag, "Print usage"                                                           \
    }

/* The daemon's address (-H, $ISULAD_HOST, the default); also applies the TLS flags to tcp hosts. */
const char *cmd_host(void);
/* A TLS flag before the command at argv[*i] (taking its value word); false when argv[*i] is not one. */
bool cmd_global_tls_flag(int argc, char **argv, int *i);
const struct command *cmd_lookup(const char *name);
void cmd_usage(FILE *f, const struct command *c, const struct cli_option *opts);

/*
 * Parses argv (after the command name). Returns 0 with ret_pos set, or -1 with *ret_exit set (0 after
 * --help, 125 for a bad flag, 1 for a wrong argument count). min_args: positional arguments needed.
 */
int cmd_parse(const char *name, const struct cli_option *opts, int argc, char **argv, int stop_after, int min_args,
              char ***ret_pos, int *ret_exit);

/* A subcommand of a command group (isula network ls, isula volume rm). */
struct subcommand {
    const char *name;
    const char *usage;
    const char *desc;
    int (*run)(const struct subcommand *s, int argc, char **argv);
};
/* cmd_parse for "isula <group> <s->name>". */
int cmd_sub_parse(const char *group, const struct subcommand *s, const struct cli_option *opts, int argc, char **argv,
                  int min_args, char ***ret_pos, int *ret_exit);
/* Runs the subcommand argv[0] names ("list" is "ls", "remove" is "rm"), or prints the group's usage (exit 0 for
 * none or --help, 1 for an unknown one). */
int cmd_sub_dispatch(const char *group, const char *desc, const struct subcommand *subs, size_t n, int argc,
                     char **argv);
/* Repeated -f key=value as Docker's filters JSON {"key":["value",...]}, escaped for a query string; NULL with
 * *err set for a filter without "=". */
char *cmd_filters_query(char *const *filters, struct isd_error **err);
/* key=value words (--label, --opt) as a JSON object of strings; a word without "=" has the value "". */
json_t *cmd_kv_object(char *const *kv);
/* DELETE /<kind>/<name><query> for each name, printing the names removed; 1 when one failed. */
int cmd_remove_each(const char *kind, char *const *names, const char *query);
/* POST /<kind>/prune with the filters; prints title and the names in the answer's deleted_key. */
int cmd_prune(const char *kind, char *const *filters, const char *deleted_key, const char *title);

/* Prints "Error response from daemon: msg" (daemon), the connect sentence, or "Error: msg". */
void cmd_print_error(const struct isd_error *e);
/* "WARNING: <w>" on stderr for each string of a response's Warnings (as the docker CLI prints them). */
void cmd_print_warnings(const json_t *warnings);

struct template;
/* inspect-style output of one object (taken): through t when a --format was given (an error sets *rc to 1),
 * else kept in all for cmd_inspect_finish. */
void cmd_inspect_emit(const struct template *t, json_t *all, json_t *j, int *rc);
/* Without a --format: prints all as Docker's indented JSON array, when something was found or nothing failed. */
void cmd_inspect_finish(const struct template *t, const json_t *all, int rc);
/* Exit code for a failed create/start/exec, from the daemon's error code: 127 command not found, 126 command
 * cannot be run, else 125. */
int cmd_exit_code_for(const struct isd_error *e, bool entrypoint_given);

/* GET /containers/{id}/json; NULL on error. */
json_t *cmd_inspect_container(const char *id, struct isd_error **err);
/* POST /containers/{id}/resize or /exec/{id}/resize with the size of fd 1 (or 0). kind: "containers"/"exec". */
void cmd_resize(const char *kind, const char *id);
/* Opens the file a tar goes to (`-o output`, else stdout, which must not be a terminal); prints the error
 * and returns -1 when it cannot. */
int cmd_open_tar_output(const char *output);
/* A --since/--until value as the API takes it: RFC 3339 times, unix seconds or durations ("10m" ago) become
 * unix seconds. NULL for NULL. */
char *cmd_time_value(const char *s);
/* Builds "/containers/<escaped id>/<action>". */
char *cmd_path(const char *kind, const char *id, const char *action);

/* Attach machinery shared by run, start -a and attach (attach.c). */
int attach_open(const char *id, bool with_stdin, struct http_conn *c, struct isd_error **err);
struct wait_conn {
    struct http_conn c;
    struct http_response resp;
};
/* Registers a wait (condition NULL: not-running) and returns once the daemon has answered with the head of
 * its reply, i.e. has registered it: a start sent afterwards cannot finish unseen (as docker's client). */
int wait_begin(const char *id, const char *condition, struct wait_conn *w, struct isd_error **err);
/* Reads the exit code; closes w. */
int wait_finish(struct wait_conn *w, int *ret_code, struct isd_error **err);
void wait_close(struct wait_conn *w);
/* Pumps the attached stream; tty decides framing and raw mode. */
/* Puts the local terminal in raw mode (restored at exit or by term_restore). */
void attach_term_raw(void);
int attach_pump(struct http_conn *c, const char *kind, const char *id, bool tty, bool with_stdin,
                struct isd_error **err);
/* The tail of run and start -a: with att attached and wc waiting, starts id (when start is set), pumps the
 * stream, and returns the container's exit code, or the exit code for the error (entrypoint_given: the
 * guide's 125 for a missing --entrypoint). Closes both connections. *ret_waited (may be NULL) is set when
 * the wait condition was met. */
int attach_start_and_wait(struct http_conn *att, struct wait_conn *wc, const char *id, bool start, bool tty,
                          bool with_stdin, bool entrypoint_given, bool *ret_waited);

#endif
