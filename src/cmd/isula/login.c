/*
 * isula login and logout. login: POST /auth with {username, password, serveraddress}; the daemon checks
 * the credentials against the registry and keeps them (the CLI stores nothing). logout: the Docker API has
 * no logout, so the isula extension DELETE /isula/auth?serveraddress= makes the daemon forget them.
 * The password comes from -p, from stdin with --password-stdin, or from a prompt on the terminal with
 * echo off. Single-threaded CLI code.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

#define MAX_SECRET 4096

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

/* Reads all of fd (bounded), without the trailing newline. NULL on error (err set). */
static char *read_secret_fd(int fd, struct isd_error **err)
{
    char *s = xmalloc(MAX_SECRET + 1);
    size_t len = 0;
    ssize_t r;
    while (len < MAX_SECRET && (r = read(fd, s + len, MAX_SECRET - len)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(s);
            isd_error_errno(err, "read the password from stdin");
            return NULL;
        }
        len += (size_t)r;
    }
    s[len] = '\0';
    chomp(s);
    return s;
}

/* Prompts on the terminal; echo is off when hide. NULL when there is no terminal (err set). */
static char *prompt(const char *what, bool hide, struct isd_error **err)
{
    struct termios old, quiet;
    char *line = NULL;
    size_t cap = 0;
    FILE *tty = fopen("/dev/tty", "r+e");
    if (tty == NULL || !isatty(fileno(tty))) {
        if (tty != NULL)
            fclose(tty);
        isd_error_set(err, ISD_ERR_INVALID, 0, "cannot perform an interactive login from a non TTY device");
        return NULL;
    }
    fprintf(tty, "%s: ", what);
    fflush(tty);
    bool restore = hide && tcgetattr(fileno(tty), &old) == 0;
    if (restore) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    ssize_t n = getline(&line, &cap, tty);
    if (restore) {
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
        fprintf(tty, "\n");
    }
    fclose(tty);
    if (n < 0) {
        free(line);
        isd_error_set(err, ISD_ERR_INVALID, 0, "no %s given", what);
        return NULL;
    }
    chomp(line);
    return line;
}

static int login_call(const char *user, const char *password, const char *server, struct isd_error **err)
{
    cleanup_json json_t *body =
        json_pack("{s:s, s:s, s:s}", "username", user, "password", password, "serveraddress", server);
    cleanup_json json_t *answer = NULL;
    const char *status;
    if (client_call(cmd_host(), "POST", "/auth", body, &answer, err) < 0)
        return -1;
    status = json_get_str(answer, "Status");
    printf("%s\n", status != NULL && status[0] != '\0' ? status : "Login Succeeded");
    return 0;
}

int cmd_login(int argc, char **argv)
{
    char *user = NULL, *password = NULL;
    bool from_stdin = false;
    const struct cli_option o[] = {{"username", 'u', CLI_OPT_STRING, &user, "Username"},
                                   {"password", 'p', CLI_OPT_STRING, &password, "Password"},
                                   {"password-stdin", 0, CLI_OPT_BOOL, &from_stdin, "Take the password from stdin"},
                                   CMD_COMMON_OPTS,
                                   {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    int rc;
    if (cmd_parse("login", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    rc = 1;
    if (pos[1] != NULL)
        fprintf(stderr, "\"isula login\" requires exactly 1 argument.\n");
    else if (password != NULL && from_stdin)
        fprintf(stderr, "Error: --password and --password-stdin are mutually exclusive\n");
    else if (from_stdin && user == NULL)
        fprintf(stderr, "Error: must provide --username with --password-stdin\n");
    else {
        if (password != NULL)
            fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
        if (user == NULL)
            user = prompt("Username", false, &err);
        if (user != NULL && password == NULL)
            password = from_stdin ? read_secret_fd(STDIN_FILENO, &err) : prompt("Password", true, &err);
        if (user != NULL && password != NULL && (user[0] == '\0' || password[0] == '\0'))
            isd_error_set(&err, ISD_ERR_INVALID, 0, "username and password must not be empty");
        if (err == NULL && login_call(user, password, pos[0], &err) == 0)
            rc = 0;
        cmd_print_error(err);
    }
    if (password != NULL)
        explicit_bzero(password, strlen(password));
    free(user);
    free(password);
    return rc;
}

int cmd_logout(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_free char *esc = NULL, *path = NULL;
    int rc;
    if (cmd_parse("logout", o, argc, argv, 0, 1, &pos, &rc) < 0)
        return rc;
    if (pos[1] != NULL) {
        fprintf(stderr, "\"isula logout\" requires exactly 1 argument.\n");
        return 1;
    }
    esc = client_query_escape(pos[0]);
    path = xasprintf("/isula/auth?serveraddress=%s", esc);
    if (client_call(cmd_host(), "DELETE", path, NULL, NULL, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    printf("Logout Succeeded\n");
    return 0;
}
