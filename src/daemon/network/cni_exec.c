/* Running one CNI plugin: the CNI environment, the config on stdin, a timeout, and its error JSON. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/network/cni.h"

#define PLUGIN_OUTPUT_MAX (1 << 20)

static char *find_plugin(char *const *bin_dirs, const char *type, struct isd_error **err)
{
    for (size_t i = 0; bin_dirs != NULL && bin_dirs[i] != NULL; i++) {
        char *p = path_join(bin_dirs[i], type);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0)
            return p;
        free(p);
    }
    cleanup_free char *dirs = strv_join(bin_dirs, ":");
    isd_error_set(err, ISD_ERR_INVALID, 0, "failed to find plugin `%s` in path [%s]", type, dirs ? dirs : "");
    return NULL;
}

static void env_add(char ***env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void env_add(char ***env, const char *fmt, ...)
{
    va_list ap;
    cleanup_free char *v = NULL;
    va_start(ap, fmt);
    v = xvasprintf(fmt, ap);
    va_end(ap);
    strv_append(env, v);
}

static char **plugin_env(const struct cni_env *e, const char *command, const struct cni_runtime *rt)
{
    char **env = NULL;
    cleanup_free char *cni_path = strv_join(e->bin_dirs, ":");
    const char *path = getenv("PATH");
    env_add(&env, "CNI_COMMAND=%s", command);
    env_add(&env, "CNI_PATH=%s", cni_path ? cni_path : "");
    /* portmap and firewall run iptables */
    env_add(&env, "PATH=%s", path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    if (rt == NULL)
        return env;
    env_add(&env, "CNI_CONTAINERID=%s", rt->container_id ? rt->container_id : "");
    env_add(&env, "CNI_NETNS=%s", rt->netns ? rt->netns : "");
    env_add(&env, "CNI_IFNAME=%s", rt->ifname ? rt->ifname : "");
    env_add(&env, "CNI_ARGS=%s", rt->args ? rt->args : "");
    return env;
}

/* The config as a sealed in-memory file: no pipe to feed (and no deadlock with a plugin that writes first). */
static int config_fd(const json_t *config, struct isd_error **err)
{
    cleanup_free char *text = json_to_string(config);
    cleanup_close int fd = memfd_create("cni-config", MFD_CLOEXEC);
    if (fd < 0)
        return isd_error_errno(err, "memfd_create");
    if (fd_write_all(fd, text, strlen(text)) < 0 || lseek(fd, 0, SEEK_SET) < 0)
        return isd_error_errno(err, "write cni config");
    return TAKE_FD(fd);
}

struct plugin_io {
    struct buf out, err;
    bool timed_out;
};

static int run_plugin(const char *bin, char **env, int in_fd, long long timeout_ns, struct plugin_io *io,
                      struct isd_error **err)
{
    int outp[2], errp[2];
    const char *argv[] = {bin, NULL};
    struct spawn_opts o = {.argv = argv, .env = (const char *const *)env, .stdin_fd = in_fd};
    pid_t pid;
    int rc;
    if (pipe2(outp, O_CLOEXEC) < 0)
        return isd_error_errno(err, "pipe");
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(outp[0]);
        close(outp[1]);
        return isd_error_errno(err, "pipe");
    }
    o.stdout_fd = outp[1];
    o.stderr_fd = errp[1];
    pid = spawn_start(&o, err);
    close(outp[1]);
    close(errp[1]);
    if (pid > 0)
        io->timed_out =
            spawn_collect(outp[0], errp[0], &io->out, &io->err, PLUGIN_OUTPUT_MAX, now_ns() + timeout_ns) < 0;
    close(outp[0]);
    close(errp[0]);
    if (pid < 0)
        return -1;
    if (io->timed_out)
        kill(pid, SIGKILL);
    rc = spawn_wait(pid);
    return rc;
}

/* "plugin `bridge` failed (code 11): msg: details" from the plugin's error JSON, else its stderr. */
static int plugin_error(const char *type, const char *command, int status, struct plugin_io *io, struct isd_error **err)
{
    cleanup_json json_t *j = io->out.len > 0 ? json_parse(io->out.data, io->out.len, NULL) : NULL;
    const char *msg = json_get_str(j, "msg");
    const char *details = json_get_str(j, "details");
    if (msg != NULL)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "plugin `%s` %s failed (code %lld): %s%s%s", type, command,
                             json_get_int(j, "code", 0), msg, details && *details ? ": " : "", details ? details : "");
    buf_append(&io->err, "", 1);
    io->err.len--;
    while (io->err.len > 0 && (io->err.data[io->err.len - 1] == '\n' || io->err.data[io->err.len - 1] == ' '))
        io->err.data[--io->err.len] = '\0';
    return isd_error_set(err, ISD_ERR_INTERNAL, 0, "plugin `%s` %s failed (exit status %d)%s%.512s", type, command,
                         status, io->err.len > 0 ? ": " : "", io->err.len > 0 ? io->err.data : "");
}

json_t *cni_plugin_exec(const struct cni_env *e, const char *type, const char *command, const struct cni_runtime *rt,
                        const json_t *config, struct isd_error **err)
{
    cleanup_free char *bin = find_plugin(e->bin_dirs, type, err);
    cleanup_strv char **env = NULL;
    cleanup_close int in_fd = -1;
    struct plugin_io io = {0};
    long long timeout = e->timeout_ns > 0 ? e->timeout_ns : CNI_DEFAULT_TIMEOUT_NS;
    json_t *out = NULL;
    int status;
    if (bin == NULL || (in_fd = config_fd(config, err)) < 0)
        return NULL;
    env = plugin_env(e, command, rt);
    status = run_plugin(bin, env, in_fd, timeout, &io, err);
    if (status < 0 && !io.timed_out)
        goto done;
    if (io.timed_out) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "plugin `%s` %s timed out after %lld s", type, command,
                      timeout / 1000000000LL);
        goto done;
    }
    if (status != 0) {
        plugin_error(type, command, status, &io, err);
        goto done;
    }
    if (io.out.len == 0) {
        out = json_object();
        goto done;
    }
    out = json_parse(io.out.data, io.out.len, err);
    if (out == NULL) {
        isd_error_wrap(err, "plugin `%s` %s: bad result", type, command);
    } else if (!json_is_object(out)) {
        json_decref(TAKE_PTR(out));
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "plugin `%s` %s: result is not a JSON object", type, command);
    }
done:
    buf_free(&io.out);
    buf_free(&io.err);
    return out;
}
