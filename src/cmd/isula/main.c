/* isula: the command table and the global flags (-H/--host, --help, --version) before the command. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/util.h"

static const struct command commands[] = {
    {"attach", "[OPTIONS] CONTAINER", "Attach to a running container", cmd_attach},
    {"commit", "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes", cmd_commit},
    {"cp", "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       isula cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
     "Copy files/folders between a container and the local filesystem", cmd_cp},
    {"create", "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container", cmd_create},
    {"diff", "CONTAINER", "Inspect changes to files or directories on a container's filesystem", cmd_diff},
    {"events", "[OPTIONS]", "Get real time events from the server", cmd_events},
    {"exec", "[OPTIONS] CONTAINER COMMAND [ARG...]", "Run a command in a running container", cmd_exec},
    {"export", "[OPTIONS] CONTAINER", "Export a container's filesystem as a tar archive", cmd_export},
    {"history", "[OPTIONS] IMAGE", "Show the history of an image", cmd_history},
    {"images", "[OPTIONS]", "List images", cmd_images},
    {"import", "file|- REPOSITORY[:TAG]", "Import the contents from a tarball to create a filesystem image",
     cmd_import},
    {"info", "[OPTIONS]", "Display system-wide information", cmd_info},
    {"inspect", "[OPTIONS] CONTAINER|IMAGE [CONTAINER|IMAGE...]",
     "Return low-level information on a container or image", cmd_inspect},
    {"kill", "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers", cmd_kill},
    {"load", "[OPTIONS]", "Load an image from a tar archive", cmd_load},
    {"login", "[OPTIONS] SERVER", "Log in to a Docker registry", cmd_login},
    {"logout", "SERVER", "Log out from a Docker registry", cmd_logout},
    {"logs", "[OPTIONS] CONTAINER", "Fetch the logs of a container", cmd_logs},
    {"network", "COMMAND", "Manage networks", cmd_network},
    {"pause", "[OPTIONS] CONTAINER [CONTAINER...]", "Pause all processes within one or more containers", cmd_pause},
    {"port", "CONTAINER [PRIVATE_PORT[/PROTO]]", "List port mappings or a specific mapping for the container",
     cmd_port},
    {"ps", "[OPTIONS]", "List containers", cmd_ps},
    {"pull", "[OPTIONS] NAME[:TAG|@DIGEST]", "Pull an image or a repository from a registry", cmd_pull},
    {"rename", "[OPTIONS] OLD_NAME NEW_NAME", "Rename a container", cmd_rename},
    {"restart", "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers", cmd_restart},
    {"rm", "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers", cmd_rm},
    {"rmi", "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images", cmd_rmi},
    {"run", "[OPTIONS] ROOTFS|IMAGE [COMMAND] [ARG...]", "Run a command in a new container", cmd_run},
    {"save", "[OPTIONS] IMAGE [IMAGE...]", "Save one or more images to a tar archive", cmd_save},
    {"start", "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers", cmd_start},
    {"stats", "[OPTIONS] [CONTAINER...]", "Display a live stream of container(s) resource usage statistics", cmd_stats},
    {"stop", "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers", cmd_stop},
    {"tag", "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", cmd_tag},
    {"top", "[OPTIONS] CONTAINER [ps OPTIONS]", "Display the running processes of a container", cmd_top},
    {"unpause", "[OPTIONS] CONTAINER [CONTAINER...]", "Unpause all processes within one or more containers",
     cmd_unpause},
    {"update", "[OPTIONS] CONTAINER [CONTAINER...]", "Update configuration of one or more containers", cmd_update},
    {"version", "", "Display information about isula", cmd_version},
    {"volume", "COMMAND", "Manage volumes", cmd_volume},
    {"wait", "[OPTIONS] CONTAINER [CONTAINER...]",
     "Block until one or more containers stop, then print their exit codes", cmd_wait},
};

const struct command *cmd_lookup(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (streq(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "USAGE:\n\tisula <command> [args...]\n\nCOMMANDS:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "\t%-10s %s\n", commands[i].name, commands[i].desc);
    fprintf(f,
            "\nOPTIONS:\n\t-H, --host string   Daemon socket to connect to (default %s, or $ISULAD_HOST)\n"
            "\t--tls               Use TLS; implied by --tlsverify\n"
            "\t--tlsverify         Use TLS and verify the remote\n"
            "\t--tlscacert string  Trust certs signed only by this CA (default $HOME/.iSulad/ca.pem)\n"
            "\t--tlscert string    Path to TLS certificate file (default $HOME/.iSulad/cert.pem)\n"
            "\t--tlskey string     Path to TLS key file (default $HOME/.iSulad/key.pem)\n"
            "\t--help              Print usage\n\t--version           Print version information and quit\n",
            CLIENT_DEFAULT_HOST);
}

/* Consumes global flags before the command; returns the index of the command word or -1 (exit set). */
static int global_flags(int argc, char **argv, int *ret_exit)
{
    int i;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (streq(a, "--help") || streq(a, "-h")) {
            usage(stdout);
            *ret_exit = 0;
            return -1;
        } else if (streq(a, "--version") || streq(a, "-v")) {
            printf("Version %s, commit unknown\n", ISD_VERSION);
            *ret_exit = 0;
            return -1;
        } else if (streq(a, "-H") || streq(a, "--host")) {
            if (++i >= argc)
                break;
            free(g_host_flag);
            g_host_flag = xstrdup(argv[i]);
        } else if (str_has_prefix(a, "-H=") || str_has_prefix(a, "--host=")) {
            free(g_host_flag);
            g_host_flag = xstrdup(strchr(a, '=') + 1);
        } else if (cmd_global_tls_flag(argc, argv, &i)) {
            continue;
        } else {
            fprintf(stderr, "isula: unknown flag: %s\nSee 'isula --help'.\n", a);
            *ret_exit = EXIT_DAEMON;
            return -1;
        }
    }
    if (i >= argc) {
        usage(stderr);
        *ret_exit = 1;
        return -1;
    }
    return i;
}

int main(int argc, char **argv)
{
    const struct command *c;
    int rc = 0, i = global_flags(argc, argv, &rc);
    if (i < 0)
        return rc;
    if (streq(argv[i], "help")) {
        c = i + 1 < argc ? cmd_lookup(argv[i + 1]) : NULL;
        if (c == NULL) {
            usage(stdout);
            return 0;
        }
        char *help_argv[] = {"--help", NULL};
        return c->run(1, help_argv);
    }
    c = cmd_lookup(argv[i]);
    if (c == NULL) {
        fprintf(stderr, "isula: '%s' is not a isula command.\nSee 'isula --help'.\n", argv[i]);
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    return c->run(argc - i - 1, argv + i + 1);
}
