/*
 * Capabilities (Docker's default set, CapAdd/CapDrop with Docker's TweakCapabilities rules, privileged = all
 * the kernel knows) and rlimits (nofile default capped at the daemon's own hard limit, HostConfig.Ulimits).
 * Thread-safe.
 */
#include <ctype.h>
#include <linux/capability.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

static const char *const default_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",    "CAP_AUDIT_WRITE",
};

/* Number of capabilities the running kernel knows (cap_last_cap + 1), bounded by our table. */
static size_t caps_known(void)
{
    cleanup_fclose FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int last = -1;
    if (f == NULL || fscanf(f, "%d", &last) != 1 || last < 0 || (size_t)last >= ARRAY_SIZE(cap_names))
        return ARRAY_SIZE(cap_names);
    return (size_t)last + 1;
}

/* Whether the daemon holds capability cap in its effective set. */
static bool cap_held(int cap)
{
    cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    unsigned long long eff = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "CapEff: %llx", &eff) == 1)
            return (eff >> cap) & 1;
    }
    return false;
}

/* "All" means all the daemon itself may hand out: a capability outside our bounding set (CAP_SYS_RESOURCE on
 * some hosts) makes the runtime fail with EPERM. */
json_t *spec_caps_all(void)
{
    json_t *a = json_array();
    size_t n = caps_known();
    for (size_t i = 0; i < n; i++) {
        if (prctl(PR_CAPBSET_READ, (unsigned long)i, 0, 0, 0) != 0)
            json_array_append_new(a, json_string(cap_names[i]));
    }
    return a;
}

/* "net_admin" / "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL"; NULL when unknown. */
static char *cap_normalize(const char *in)
{
    cleanup_free char *up = xstrdup(in);
    cleanup_free char *full = NULL;
    for (char *p = up; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    if (streq(up, "ALL"))
        return TAKE_PTR(up);
    full = str_has_prefix(up, "CAP_") ? TAKE_PTR(up) : xasprintf("CAP_%s", up);
    for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++) {
        if (streq(cap_names[i], full))
            return TAKE_PTR(full);
    }
    return NULL;
}

static int cap_list(const json_t *host_config, const char *key, char ***ret, struct isd_error **err)
{
    const json_t *a = json_object_get(host_config, key);
    size_t i;
    json_t *e;

    json_array_foreach(a, i, e)
    {
        char *c = json_is_string(e) ? cap_normalize(json_string_value(e)) : NULL;
        if (c == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "unknown capability: \"%s\"",
                                 json_is_string(e) ? json_string_value(e) : "?");
        strv_append(ret, c);
        free(c);
    }
    return 0;
}

static void add_unique(json_t *set, const char *c)
{
    size_t i;
    json_t *e;
    json_array_foreach(set, i, e)
    {
        if (streq(json_string_value(e), c))
            return;
    }
    json_array_append_new(set, json_string(c));
}

static json_t *caps_tweak(char **add, char **drop)
{
    json_t *set = json_array();
    cleanup_json json_t *all = spec_caps_all();
    size_t i;
    json_t *e;

    if (strv_contains(add, "ALL")) {
        json_array_foreach(all, i, e)
        {
            if (!strv_contains(drop, json_string_value(e)))
                add_unique(set, json_string_value(e));
        }
        return set;
    }
    if (!strv_contains(drop, "ALL")) {
        for (i = 0; i < ARRAY_SIZE(default_caps); i++) {
            if (!strv_contains(drop, default_caps[i]))
                add_unique(set, default_caps[i]);
        }
    }
    for (i = 0; add != NULL && add[i] != NULL; i++)
        add_unique(set, add[i]);
    return set;
}

/* CapAmbient (not Docker's: the CRI's add_ambient_capabilities) are in every set, inheritable and ambient too, so a
 * process of a non-root user keeps them across execve. */
json_t *spec_caps_build(const json_t *host_config, bool privileged, struct isd_error **err)
{
    cleanup_strv char **add = NULL;
    cleanup_strv char **drop = NULL;
    cleanup_strv char **ambient = NULL;
    cleanup_json json_t *set = NULL;
    json_t *caps;

    if (cap_list(host_config, "CapAdd", &add, err) < 0 || cap_list(host_config, "CapDrop", &drop, err) < 0 ||
        cap_list(host_config, "CapAmbient", &ambient, err) < 0)
        return NULL;
    set = privileged ? spec_caps_all() : caps_tweak(add, drop);
    caps = json_pack("{sOsOsO}", "bounding", set, "effective", set, "permitted", set);
    if (ambient != NULL) {
        json_t *amb = strv_contains(ambient, "ALL") ? spec_caps_all() : json_array();
        for (size_t i = 0; ambient[i] != NULL; i++) {
            if (!streq(ambient[i], "ALL"))
                add_unique(amb, ambient[i]);
        }
        size_t i;
        json_t *e;
        json_array_foreach(amb, i, e)
        {
            add_unique(set, json_string_value(e));
        }
        json_object_set(caps, "inheritable", amb);
        json_object_set_new(caps, "ambient", amb);
    }
    return caps;
}

static const struct {
    const char *name;
    int resource;
} rlimits[] = {
    {"as", RLIMIT_AS},           {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},       {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

static json_t *rlimit_entry(const char *name, long long soft, long long hard)
{
    cleanup_free char *type = xasprintf("RLIMIT_%s", name);
    for (char *p = type; *p != '\0'; p++)
        *p = (char)toupper((unsigned char)*p);
    return json_pack("{sssIsI}", "type", type, "hard", (json_int_t)hard, "soft", (json_int_t)soft);
}

/* Replaces the entry of the same type or appends. */
static void rlimit_put(json_t *list, json_t *entry)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        if (streq(json_get_str(e, "type"), json_get_str(entry, "type"))) {
            json_array_set_new(list, i, entry);
            return;
        }
    }
    json_array_append_new(list, entry);
}

/* The daemon's own hard limit for resource; -1 when unlimited or unknown. */
static long long own_hard_limit(int resource)
{
    struct rlimit rl;
    if (getrlimit(resource, &rl) < 0 || rl.rlim_max == RLIM_INFINITY)
        return -1;
    return (long long)rl.rlim_max;
}

/* Without CAP_SYS_RESOURCE (root on these hosts) no limit can exceed the daemon's own hard limit: the
 * runtime's setrlimit would fail with EPERM at start, so say so at create time. */
static int ulimit_check(const json_t *u, struct isd_error **err)
{
    const char *name = json_get_str(u, "Name");
    long long soft = json_get_int(u, "Soft", 0), hard = json_get_int(u, "Hard", 0), own;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(rlimits) && !streq(rlimits[i].name, name); i++)
        ;
    if (i == ARRAY_SIZE(rlimits))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid ulimit type: %s", name ? name : "(none)");
    if (soft < 0 || hard < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid ulimit %s: limits must not be negative", name);
    if (soft > hard)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "ulimit soft limit must be less than or equal to hard limit: %lld > %lld", soft, hard);
    own = own_hard_limit(rlimits[i].resource);
    if (own >= 0 && hard > own && !cap_held(CAP_SYS_RESOURCE))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "ulimit %s hard limit %lld exceeds the daemon's own hard limit %lld", name, hard, own);
    return 0;
}

json_t *spec_rlimits_build(const json_t *host_config, struct isd_error **err)
{
    cleanup_json json_t *list = json_array();
    long long nofile = 1048576, own = own_hard_limit(RLIMIT_NOFILE);
    size_t i;
    json_t *u;

    /* Root here lacks CAP_SYS_RESOURCE: a limit above the daemon's own hard limit makes setrlimit EPERM. */
    if (own >= 0 && own < nofile)
        nofile = own;
    json_array_append_new(list, rlimit_entry("nofile", nofile, nofile));
    json_array_foreach(json_object_get(host_config, "Ulimits"), i, u)
    {
        if (ulimit_check(u, err) < 0)
            return NULL;
        rlimit_put(list, rlimit_entry(json_get_str(u, "Name"), json_get_int(u, "Soft", 0), json_get_int(u, "Hard", 0)));
    }
    return TAKE_PTR(list);
}
