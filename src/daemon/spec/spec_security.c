/*
 * HostConfig.SecurityOpt (seccomp, label, apparmor, no-new-privileges, systempaths) and
 * HostConfig.DeviceCgroupRules, applied to a spec whose process and linux parts are built. Docker's parsing:
 * "key=value", the old "key:value", and a bare "no-new-privileges"; any other key is refused.
 * Thread-safe (no shared state).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

struct security_opts {
    char *seccomp;     /* NULL: the default profile; "unconfined"; inline JSON or an absolute path */
    char *apparmor;    /* NULL when not given */
    char **labels;     /* label values ("type:container_t", "disable", ...) */
    bool system_paths; /* systempaths=unconfined: no masked or read-only paths */
};

static void security_opts_clear(struct security_opts *o)
{
    free(o->seccomp);
    free(o->apparmor);
    strv_free(o->labels);
}

static int check_bool_opt(const char *opt, const char *v, struct isd_error **err)
{
    if (v == NULL || streq(v, "true") || streq(v, "false"))
        return 0;
    return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid --security-opt 2: \"%s\"", opt);
}

static int parse_one(const char *opt, struct security_opts *o, struct isd_error **err)
{
    const char *eq = strchr(opt, '='), *colon = strchr(opt, ':');
    const char *sep = eq != NULL ? eq : colon;
    cleanup_free char *key = sep != NULL ? xasprintf("%.*s", (int)(sep - opt), opt) : xstrdup(opt);
    const char *v = sep != NULL ? sep + 1 : NULL;

    if (streq(key, "no-new-privileges"))
        return check_bool_opt(opt, v, err);
    if (v == NULL || v[0] == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid --security-opt: \"%s\"", opt);
    if (streq(key, "seccomp")) {
        free(o->seccomp);
        o->seccomp = xstrdup(v);
    } else if (streq(key, "apparmor")) {
        free(o->apparmor);
        o->apparmor = xstrdup(v);
    } else if (streq(key, "label")) {
        strv_append(&o->labels, v);
    } else if (streq(key, "systempaths") && streq(v, "unconfined")) {
        o->system_paths = true;
    } else {
        return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid --security-opt: \"%s\"", opt);
    }
    return 0;
}

static int parse_opts(const json_t *hc, struct security_opts *o, struct isd_error **err)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(hc, "SecurityOpt"), i, e)
    {
        if (!json_is_string(e))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "SecurityOpt must hold strings");
        if (parse_one(json_string_value(e), o, err) < 0)
            return -1;
    }
    return 0;
}

static int apply_seccomp(const struct spec_input *in, const char *opt, json_t *spec, struct isd_error **err)
{
    const json_t *caps = json_object_get(json_object_get(json_object_get(spec, "process"), "capabilities"), "bounding");
    cleanup_json json_t *profile = NULL;
    json_t *sc;

    if (json_get_bool(in->host_config, "Privileged", false) || streq(opt, "unconfined"))
        return 0;
    if (opt != NULL && !streq(opt, "builtin")) { /* "builtin": newer Docker's name for the default profile */
        profile = spec_seccomp_profile_parse(opt, err);
        if (profile == NULL)
            return -1;
    } else if (in->seccomp_default != NULL) {
        profile = json_incref((json_t *)in->seccomp_default);
    } else {
        return 0;
    }
    sc = spec_seccomp_convert(profile, caps, err);
    if (sc == NULL)
        return -1;
    json_object_set_new(json_object_get(spec, "linux"), "seccomp", sc);
    return 0;
}

/* label=user:U, role:R, type:T, level:L (MCS), disable. Real labels need SELinux in the daemon and the host. */
static int apply_labels(const struct spec_input *in, char **labels, json_t *spec, struct isd_error **err)
{
    const char *parts[4] = {"system_u", "system_r", "container_t", "s0"};
    static const char *const keys[4] = {"user:", "role:", "type:", "level:"};
    bool any = false;

    for (size_t i = 0; labels != NULL && labels[i] != NULL; i++) {
        size_t k = 0;
        if (streq(labels[i], "disable"))
            continue;
        while (k < ARRAY_SIZE(keys) && !str_has_prefix(labels[i], keys[k]))
            k++;
        if (k == ARRAY_SIZE(keys) || labels[i][strlen(keys[k])] == '\0')
            return isd_error_set(err, ISD_ERR_INVALID, 0, "Invalid --security-opt: \"label=%s\"", labels[i]);
        if (!in->selinux_enabled)
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 "label=%s needs SELinux support in the daemon (selinux-enabled is false)", labels[i]);
        if (!path_exists("/sys/fs/selinux/enforce"))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "label=%s: SELinux is not enabled on this host", labels[i]);
        parts[k] = labels[i] + strlen(keys[k]);
        any = true;
    }
    if (any)
        json_object_set_new(json_object_get(spec, "process"), "selinuxLabel",
                            json_sprintf("%s:%s:%s:%s", parts[0], parts[1], parts[2], parts[3]));
    return 0;
}

int spec_build_security(const struct spec_input *in, json_t *spec, struct isd_error **err)
{
    struct security_opts o = {0};
    json_t *lnx = json_object_get(spec, "linux");
    int rc = -1;

    if (parse_opts(in->host_config, &o, err) < 0 || apply_seccomp(in, o.seccomp, spec, err) < 0 ||
        apply_labels(in, o.labels, spec, err) < 0 ||
        spec_apparmor_apply(o.apparmor, json_get_bool(in->host_config, "Privileged", false),
                            json_object_get(spec, "process"), err) < 0 ||
        spec_device_rules_add(in->host_config, json_object_get(lnx, "resources"), err) < 0)
        goto out;
    if (o.system_paths) {
        json_object_del(lnx, "maskedPaths");
        json_object_del(lnx, "readonlyPaths");
    }
    rc = 0;
out:
    security_opts_clear(&o);
    return rc;
}

/* "c 1:3 rwm", "b *:* r", "a *:* rwm" (Docker's --device-cgroup-rule). */
static json_t *device_rule_parse(const char *s)
{
    char type, access[8] = "";
    char maj[16], mnr[16];
    long long ma = -1, mi = -1;
    json_t *r;

    if (sscanf(s, "%c %15[0-9*]:%15[0-9*] %7s", &type, maj, mnr, access) != 4 || strchr("abc", type) == NULL ||
        access[0] == '\0' || strspn(access, "rwm") != strlen(access))
        return NULL;
    if (!streq(maj, "*") && (strchr(maj, '*') != NULL || (ma = strtoll(maj, NULL, 10)) < 0))
        return NULL;
    if (!streq(mnr, "*") && (strchr(mnr, '*') != NULL || (mi = strtoll(mnr, NULL, 10)) < 0))
        return NULL;
    r = json_pack("{sbss}", "allow", true, "access", access);
    if (type != 'a')
        json_object_set_new(r, "type", json_sprintf("%c", type));
    if (ma >= 0)
        json_object_set_new(r, "major", json_integer(ma));
    if (mi >= 0)
        json_object_set_new(r, "minor", json_integer(mi));
    return r;
}

int spec_device_rules_add(const json_t *hc, json_t *resources, struct isd_error **err)
{
    json_t *rules = json_object_get(resources, "devices");
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(hc, "DeviceCgroupRules"), i, e)
    {
        json_t *r = json_is_string(e) ? device_rule_parse(json_string_value(e)) : NULL;
        if (r == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid device cgroup rule format: '%s'",
                                 json_is_string(e) ? json_string_value(e) : "?");
        if (json_get_bool(hc, "Privileged", false) || rules == NULL) {
            json_decref(r);
            continue;
        }
        json_array_append_new(rules, r);
    }
    return 0;
}
