/*
 * The spec's "mounts": the default /proc, /dev, /sys set, the /etc/hostname, /etc/hosts and /etc/resolv.conf
 * files written into the container directory, and the user's HostConfig.Binds, Mounts and Tmpfs. User mounts
 * replace defaults at the same destination; the list is sorted so parents come before children.
 * Thread-safe.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define DEFAULT_SHM_SIZE (64LL * 1024 * 1024)
#define ETC_FILE_MAX (1024 * 1024)

json_t *spec_mount_new(const char *dst, const char *type, const char *src, const char *opts)
{
    cleanup_free char *copy = xstrdup(opts);
    json_t *o = json_array();
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
        json_array_append_new(o, json_string(t));
    return json_pack("{ssssssso}", "destination", dst, "type", type, "source", src, "options", o);
}

static bool has_dest(const json_t *list, const char *dst)
{
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        if (streq(json_get_str(m, "destination"), dst))
            return true;
    }
    return false;
}

/* Adds a default mount unless the user mounted that destination (or /dev when dst is below /dev). */
static void add_default(json_t *list, const json_t *user, json_t *m)
{
    const char *dst = json_get_str(m, "destination");
    if (has_dest(user, dst) || (str_has_prefix(dst, "/dev/") && has_dest(user, "/dev")))
        json_decref(m);
    else
        json_array_append_new(list, m);
}

static void default_mounts(const struct spec_input *in, json_t *list, const json_t *user)
{
    const json_t *hc = in->host_config;
    bool priv = json_get_bool(hc, "Privileged", false);
    bool ipc_host = streq(json_get_str(hc, "IpcMode"), "host");
    long long shm = json_get_int(hc, "ShmSize", 0);
    cleanup_free char *shm_opts =
        xasprintf("nosuid,noexec,nodev,mode=1777,size=%lld", shm > 0 ? shm : DEFAULT_SHM_SIZE);

    add_default(list, user, spec_mount_new("/proc", "proc", "proc", "nosuid,noexec,nodev"));
    add_default(list, user, spec_mount_new("/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k"));
    add_default(
        list, user,
        spec_mount_new("/dev/pts", "devpts", "devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"));
    if (ipc_host) {
        add_default(list, user, spec_mount_new("/dev/shm", "bind", "/dev/shm", "rbind,rprivate"));
    } else if (in->ipc_shm_path != NULL) {
        add_default(list, user, spec_mount_new("/dev/shm", "bind", in->ipc_shm_path, "rbind,rprivate"));
        add_default(list, user, spec_mount_new("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
    } else {
        add_default(list, user, spec_mount_new("/dev/shm", "tmpfs", "shm", shm_opts));
        add_default(list, user, spec_mount_new("/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev"));
    }
    add_default(list, user,
                spec_mount_new("/sys", "sysfs", "sysfs", priv ? "nosuid,noexec,nodev" : "nosuid,noexec,nodev,ro"));
    add_default(list, user,
                spec_mount_new("/sys/fs/cgroup", "cgroup", "cgroup",
                               priv ? "nosuid,noexec,nodev,relatime" : "nosuid,noexec,nodev,relatime,ro"));
}

static char *hosts_text(const struct spec_input *in, const char *hostname, bool host_net)
{
    struct buf b = {0};
    size_t i;
    json_t *e;

    if (host_net) {
        cleanup_free char *h = read_file("/etc/hosts", ETC_FILE_MAX, NULL, NULL);
        buf_printf(&b, "%s", h != NULL ? h : "127.0.0.1\tlocalhost\n");
    } else {
        buf_printf(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        buf_printf(&b, "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n");
        buf_printf(&b, "ff02::2\tip6-allrouters\n127.0.0.1\t%s\n", hostname);
    }
    /* ExtraHosts entries are "name:ip" (the ip may hold ':' itself). */
    json_array_foreach(json_object_get(in->host_config, "ExtraHosts"), i, e)
    {
        const char *s = json_string_value(e), *c = s ? strchr(s, ':') : NULL;
        if (c != NULL)
            buf_printf(&b, "%s\t%.*s\n", c + 1, (int)(c - s), s);
    }
    return buf_steal(&b);
}

static int write_etc(const struct spec_input *in, const char *name, const char *text, json_t *list, const json_t *user,
                     struct isd_error **err)
{
    cleanup_free char *path = path_join(in->container_dir, name);
    cleanup_free char *dst = xasprintf("/etc/%s", name);

    if (has_dest(user, dst))
        return 0;
    /* every start regenerates these; most of the time they are what is already there */
    cleanup_free char *old = read_file(path, ETC_FILE_MAX, NULL, NULL);
    if ((old == NULL || strcmp(old, text) != 0) && write_file_atomic(path, text, strlen(text), 0644, false, err) < 0)
        return isd_error_wrap(err, "write %s", name);
    json_array_append_new(list, spec_mount_new(dst, "bind", path, "rbind,rprivate"));
    return 0;
}

/* The host's resolv.conf; in a private network namespace a loopback nameserver (systemd-resolved, dnsmasq)
 * is unreachable, so such lines are dropped and Docker's fallback servers used when none is left. */
static char *resolv_text(bool host_net)
{
    cleanup_free char *host = read_file("/etc/resolv.conf", ETC_FILE_MAX, NULL, NULL);
    struct buf b = {0};
    char *save = NULL;
    bool ns = false;

    if (host_net)
        return xstrdup(host != NULL ? host : "");
    for (char *l = host ? strtok_r(host, "\n", &save) : NULL; l != NULL; l = strtok_r(NULL, "\n", &save)) {
        const char *v = l + strlen("nameserver");
        if (str_has_prefix(l, "nameserver")) {
            v += strspn(v, " \t");
            if (str_has_prefix(v, "127.") || str_has_prefix(v, "::1"))
                continue;
            ns = true;
        }
        buf_printf(&b, "%s\n", l);
    }
    if (!ns)
        buf_printf(&b, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    return buf_steal(&b);
}

static void strings_line(struct buf *b, const char *prefix, const json_t *a)
{
    size_t i;
    json_t *v;
    buf_printf(b, "%s", prefix);
    json_array_foreach(a, i, v)
    {
        if (json_is_string(v))
            buf_printf(b, " %s", json_string_value(v));
    }
    buf_printf(b, "\n");
}

/* HostConfig Dns, DnsSearch and DnsOptions replace the nameserver, search/domain and options lines. */
static char *resolv_override(char *base, const json_t *hc)
{
    const json_t *dns = json_object_get(hc, "Dns"), *search = json_object_get(hc, "DnsSearch");
    const json_t *opts = json_object_get(hc, "DnsOptions");
    bool d = json_array_size(dns) > 0, s = json_array_size(search) > 0, o = json_array_size(opts) > 0;
    struct buf b = {0};
    char *save = NULL;
    size_t i;
    json_t *v;

    if (!d && !s && !o)
        return base;
    for (char *l = strtok_r(base, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        if ((d && str_has_prefix(l, "nameserver")) ||
            (s && (str_has_prefix(l, "search") || str_has_prefix(l, "domain"))) || (o && str_has_prefix(l, "options")))
            continue;
        buf_printf(&b, "%s\n", l);
    }
    json_array_foreach(dns, i, v)
    {
        if (json_is_string(v))
            buf_printf(&b, "nameserver %s\n", json_string_value(v));
    }
    if (s && !(json_array_size(search) == 1 && streq(json_string_value(json_array_get(search, 0)), ".")))
        strings_line(&b, "search", search);
    if (o)
        strings_line(&b, "options", opts);
    free(base);
    return buf_steal(&b);
}

static int etc_files(const struct spec_input *in, json_t *list, const json_t *user, struct isd_error **err)
{
    const char *hostname = json_get_str(in->config, "Hostname");
    bool host_net = streq(json_get_str(in->host_config, "NetworkMode"), "host");
    cleanup_free char *hn = xasprintf("%s\n", hostname ? hostname : "");
    cleanup_free char *hosts = hosts_text(in, hostname ? hostname : "", host_net);
    cleanup_free char *resolv = resolv_override(resolv_text(host_net), in->host_config);

    if (in->container_dir == NULL)
        return 0;
    if (write_etc(in, "hostname", hn, list, user, err) < 0 || write_etc(in, "hosts", hosts, list, user, err) < 0)
        return -1;
    return write_etc(in, "resolv.conf", resolv, list, user, err);
}

char *spec_clean_path(const char *p)
{
    struct buf b = {0};
    cleanup_free char *copy = xstrdup(p != NULL ? p : "");
    char *save = NULL;

    if (copy[0] != '/')
        return NULL;
    for (char *t = strtok_r(copy, "/", &save); t != NULL; t = strtok_r(NULL, "/", &save)) {
        if (streq(t, "."))
            continue;
        if (streq(t, "..")) {
            buf_free(&b);
            return NULL;
        }
        buf_printf(&b, "/%s", t);
    }
    if (b.len == 0)
        buf_printf(&b, "/");
    return buf_steal(&b);
}

static size_t depth(const json_t *m)
{
    size_t n = 0;
    for (const char *p = json_get_str(m, "destination"); p != NULL && *p != '\0'; p++)
        n += *p == '/';
    return n;
}

/* Stable insertion sort by path depth: a parent always sorts before anything mounted below it. */
void spec_mounts_sort(json_t *list)
{
    size_t n = json_array_size(list);
    for (size_t i = 1; i < n; i++) {
        json_t *m = json_incref(json_array_get(list, i));
        size_t j = i;
        while (j > 0 && depth(json_array_get(list, j - 1)) > depth(m))
            j--;
        json_array_remove(list, i);
        json_array_insert_new(list, j, m);
    }
}

int spec_build_mounts(const struct spec_input *in, json_t *spec, struct isd_error **err)
{
    cleanup_json json_t *user = json_array();
    cleanup_json json_t *list = json_array();

    if (spec_build_user_mounts(in->host_config, user, err) < 0)
        return -1;
    default_mounts(in, list, user);
    if (etc_files(in, list, user, err) < 0)
        return -1;
    json_array_extend(list, user);
    spec_mounts_sort(list);
    json_object_set(spec, "mounts", list);
    return 0;
}
