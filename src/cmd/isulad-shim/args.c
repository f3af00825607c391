/*
 * Command line of isulad-shim (see docs/design/shim.md). Parsing happens before daemonizing, so
 * every problem here is reported on stderr with exit status 2. Not thread-safe (getopt).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/isulad-shim/shim.h"

enum {
    OPT_ID = 256,
    OPT_BUNDLE,
    OPT_RUNTIME,
    OPT_RUNTIME_ARG,
    OPT_RUNTIME_ROOT,
    OPT_STATE_DIR,
    OPT_TERMINAL,
    OPT_STDIN,
    OPT_EXEC,
    OPT_LOG_FILE,
    OPT_LOG_MAX_SIZE,
    OPT_LOG_MAX_FILE,
    OPT_LOG_FORMAT,
    OPT_SYNC_FD,
    OPT_ATTACH_FD,
    OPT_START,
    OPT_CLIENT_STALL_MS,
    OPT_UMASK,
};

static const struct option long_opts[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"bundle", required_argument, NULL, OPT_BUNDLE},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"runtime-arg", required_argument, NULL, OPT_RUNTIME_ARG},
    {"runtime-root", required_argument, NULL, OPT_RUNTIME_ROOT},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"terminal", no_argument, NULL, OPT_TERMINAL},
    {"stdin", no_argument, NULL, OPT_STDIN},
    {"exec", required_argument, NULL, OPT_EXEC},
    {"log-file", required_argument, NULL, OPT_LOG_FILE},
    {"log-max-size", required_argument, NULL, OPT_LOG_MAX_SIZE},
    {"log-max-file", required_argument, NULL, OPT_LOG_MAX_FILE},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"sync-fd", required_argument, NULL, OPT_SYNC_FD},
    {"attach-fd", required_argument, NULL, OPT_ATTACH_FD},
    {"start", no_argument, NULL, OPT_START},
    {"client-stall-ms", required_argument, NULL, OPT_CLIENT_STALL_MS},
    {"umask", required_argument, NULL, OPT_UMASK},
    {NULL, 0, NULL, 0},
};

static char *absolute(const char *p)
{
    char cwd[4096];
    if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return xstrdup(p);
    return xasprintf("%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, p);
}

static int parse_ll(const char *s, long long min, long long max, long long *ret)
{
    long long v;
    if (parse_int64(s, &v) < 0 || v < min || v > max)
        return -1;
    *ret = v;
    return 0;
}

static int set_path(char **slot, const char *value)
{
    if (value[0] == 0)
        return -1;
    free(*slot);
    *slot = absolute(value);
    return 0;
}

static int parse_umask(const char *s, int *ret)
{
    char *end = NULL;
    long v;
    if (s[0] < '0' || s[0] > '7')
        return -1;
    errno = 0;
    v = strtol(s, &end, 8);
    if (errno != 0 || *end != 0 || v < 0 || v > 0777)
        return -1;
    *ret = (int)v;
    return 0;
}

/* Handles one option; returns 0 or -1 with *msg set. */
static int apply_opt(struct shim_args *a, int opt, const char *v, const char **msg)
{
    long long n = 0;
    switch (opt) {
    case OPT_ID:
        free(a->id);
        a->id = xstrdup(v);
        return 0;
    case OPT_BUNDLE: /* may be empty for --exec, where it is not used */
        if (v[0] != 0)
            set_path(&a->bundle, v);
        return 0;
    case OPT_RUNTIME:
        free(a->runtime);
        a->runtime = strchr(v, '/') != NULL ? absolute(v) : xstrdup(v);
        return 0;
    case OPT_RUNTIME_ARG:
        a->runtime_args = xrealloc(a->runtime_args, (a->n_runtime_args + 1) * sizeof(char *));
        a->runtime_args[a->n_runtime_args++] = xstrdup(v);
        return 0;
    case OPT_RUNTIME_ROOT:
        return set_path(&a->runtime_root, v) == 0 ? 0 : (*msg = "--runtime-root must not be empty", -1);
    case OPT_STATE_DIR:
        return set_path(&a->state_dir, v) == 0 ? 0 : (*msg = "--state-dir must not be empty", -1);
    case OPT_TERMINAL:
        a->terminal = true;
        return 0;
    case OPT_STDIN:
        a->open_stdin = true;
        return 0;
    case OPT_ATTACH_FD:
        if (parse_ll(v, 3, 1 << 20, &n) < 0 || fcntl((int)n, F_GETFD) < 0)
            return *msg = "--attach-fd must be an open file descriptor", -1;
        if (a->n_attach_fds == SHIM_ATTACH_FDS_MAX)
            return *msg = "too many --attach-fd", -1;
        a->attach_fds[a->n_attach_fds++] = (int)n;
        return 0;
    case OPT_START:
        a->start = true;
        return 0;
    case OPT_EXEC:
        return set_path(&a->exec_process, v) == 0 ? 0 : (*msg = "--exec must not be empty", -1);
    case OPT_LOG_FILE:
        return set_path(&a->log_file, v) == 0 ? 0 : (*msg = "--log-file must not be empty", -1);
    case OPT_LOG_MAX_SIZE:
        if (parse_ll(v, 0, (long long)1 << 50, &a->log_max_size) < 0)
            return *msg = "--log-max-size must be a number of bytes >= 0", -1;
        return 0;
    case OPT_LOG_MAX_FILE:
        if (parse_ll(v, 1, 1000, &n) < 0)
            return *msg = "--log-max-file must be a number between 1 and 1000", -1;
        a->log_max_file = (int)n;
        return 0;
    case OPT_LOG_FORMAT:
        if (strcmp(v, "cri") != 0 && strcmp(v, "json-file") != 0)
            return *msg = "--log-format must be json-file or cri", -1;
        a->log_cri = strcmp(v, "cri") == 0;
        return 0;
    case OPT_CLIENT_STALL_MS:
        if (parse_ll(v, 1, 86400000, &a->client_stall_ms) < 0)
            return *msg = "--client-stall-ms must be a number of milliseconds between 1 and 86400000", -1;
        return 0;
    case OPT_UMASK:
        if (parse_umask(v, &a->umask) < 0)
            return *msg = "--umask must be an octal mode between 0 and 0777", -1;
        return 0;
    case OPT_SYNC_FD:
        if (parse_ll(v, 0, 1 << 20, &n) < 0 || fcntl((int)n, F_GETFD) < 0)
            return *msg = "--sync-fd must be an open file descriptor", -1;
        a->sync_fd = (int)n;
        return 0;
    default:
        return *msg = "unknown option or missing value (see docs/design/shim.md)", -1;
    }
}

static int validate(struct shim_args *a, const char **msg)
{
    struct stat st;
    if (a->id == NULL || a->id[0] == 0 || strchr(a->id, '/') != NULL)
        return *msg = "--id is required and must not contain '/'", -1;
    if (a->bundle == NULL && a->exec_process == NULL)
        return *msg = "--bundle is required", -1;
    if (a->runtime == NULL || a->runtime[0] == 0)
        return *msg = "--runtime is required", -1;
    if (a->runtime_root == NULL)
        return *msg = "--runtime-root is required", -1;
    if (a->state_dir == NULL)
        return *msg = "--state-dir is required", -1;
    if (stat(a->state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return *msg = "--state-dir must be an existing directory", -1;
    if ((a->log_max_size != 0 || a->log_max_file != 1) && a->log_file == NULL)
        return *msg = "--log-max-size and --log-max-file need --log-file", -1;
    return 0;
}

int shim_args_parse(struct shim_args *a, int argc, char **argv, const char **ret_msg)
{
    int opt;
    memset(a, 0, sizeof(*a));
    a->sync_fd = -1;
    a->log_max_file = 1;
    a->client_stall_ms = SHIM_CLIENT_STALL_MS;
    a->umask = -1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        if (apply_opt(a, opt, optarg, ret_msg) < 0)
            return -1;
    }
    if (optind < argc) {
        *ret_msg = "unexpected positional argument";
        return -1;
    }
    return validate(a, ret_msg);
}
