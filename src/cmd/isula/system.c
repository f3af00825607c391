/* isula version and isula info, laid out as the guide shows (Q-01..Q-03). */
#include <stdlib.h>

#include "cmd/isula/cmd.h"
#include "cmd/isula/commands.h"
#include "common/json.h"
#include "common/util.h"

#ifndef ISD_GIT_COMMIT
#define ISD_GIT_COMMIT "unknown"
#endif

static const char *str(const json_t *o, const char *k, const char *dflt)
{
    const char *s = json_get_str(o, k);
    return s != NULL && s[0] != '\0' ? s : dflt;
}

int cmd_version(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *v = NULL;
    int rc;
    if (cmd_parse("version", o, argc, argv, 0, 0, &pos, &rc) < 0)
        return rc;
    printf("Client:\n  Version:      %s\n  Git commit:   %s\n  Built:        %s\n\n", ISD_VERSION, ISD_GIT_COMMIT,
           __DATE__ " " __TIME__);
    if (client_call(cmd_host(), "GET", "/version", NULL, &v, &err) < 0) {
        if (client_error_is_connect(err))
            printf("Can not connect with server.Is the iSulad daemon running on the host?\n");
        else
            cmd_print_error(err);
        return 1;
    }
    printf("Server:\n  Version:      %s\n  Git commit:   %s\n  Built:        %s\n\n", str(v, "Version", ""),
           str(v, "GitCommit", ""), str(v, "BuildTime", ""));
    printf("OCI config:\n  Version:      %s\n  Default file: %s\n", str(v, "OciConfigVersion", "1.0.2"),
           str(v, "OciConfigFile", "/etc/default/isulad/config.json"));
    return 0;
}

static void print_mem(long long bytes)
{
    const double gib = 1024.0 * 1024.0 * 1024.0;
    if (bytes >= (long long)gib)
        printf("Total Memory: %lld GB\n", (long long)((double)bytes / gib));
    else
        printf("Total Memory: %lld MB\n", bytes / (1024 * 1024));
}

int cmd_info(int argc, char **argv)
{
    const struct cli_option o[] = {CMD_COMMON_OPTS, {NULL}};
    cleanup_strv char **pos = NULL;
    cleanup_error struct isd_error *err = NULL;
    cleanup_json json_t *v = NULL;
    int rc;
    if (cmd_parse("info", o, argc, argv, 0, 0, &pos, &rc) < 0)
        return rc;
    if (client_call(cmd_host(), "GET", "/info", NULL, &v, &err) < 0) {
        cmd_print_error(err);
        return 1;
    }
    printf("Containers: %lld\n Running: %lld\n Paused: %lld\n Stopped: %lld\n", json_get_int(v, "Containers", 0),
           json_get_int(v, "ContainersRunning", 0), json_get_int(v, "ContainersPaused", 0),
           json_get_int(v, "ContainersStopped", 0));
    printf("Images: %lld\nServer Version: %s\nLogging Driver: %s\n", json_get_int(v, "Images", 0),
           str(v, "ServerVersion", ""), str(v, "LoggingDriver", "json-file"));
    /* "Driverr" is the guide's literal output; scripts may match it. */
    printf("Cgroup Driverr: %s\nHugetlb Pagesize: %s\n", str(v, "CgroupDriver", "cgroupfs"),
           str(v, "HugetlbPagesize", "2MB"));
    printf("Kernel Version: %s\nOperating System: %s\nOSType: %s\nArchitecture: %s\nCPUs: %lld\n",
           str(v, "KernelVersion", ""), str(v, "OperatingSystem", ""),
           streq(str(v, "OSType", "linux"), "linux") ? "Linux" : str(v, "OSType", ""), /* the guide's L7332 */
           str(v, "Architecture", ""), json_get_int(v, "NCPU", 0));
    print_mem(json_get_int(v, "MemTotal", 0));
    printf("Name: %s\niSulad Root Dir: %s\n", str(v, "Name", ""), str(v, "DockerRootDir", "/var/lib/isulad"));
    return 0;
}
