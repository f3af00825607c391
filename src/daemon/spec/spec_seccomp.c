/*
 * Seccomp: a profile in Docker's JSON format (defaultAction, defaultErrnoRet, architectures or archMap,
 * syscalls with name/names, action, errnoRet, args, includes/excludes on caps, arches and minKernel)
 * translated into the OCI spec's linux.seccomp for this host's architecture, kernel and the container's
 * capability set, as moby does. The default profile is contrib/seccomp_default.json, built in and installed
 * as /etc/isulad/seccomp_default.json. Thread-safe (no shared state).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/utsname.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define SECCOMP_PROFILE_MAX (10 * 1024 * 1024)

extern const char spec_seccomp_default_json[];

/* uname machine -> {Go arch name (as Docker's includes.arches spell it), libseccomp arch name}. */
static const struct {
    const char *machine, *goarch, *scmp;
} arches[] = {
    {"x86_64", "amd64", "SCMP_ARCH_X86_64"},  {"i686", "386", "SCMP_ARCH_X86"},
    {"i386", "386", "SCMP_ARCH_X86"},         {"aarch64", "arm64", "SCMP_ARCH_AARCH64"},
    {"armv7l", "arm", "SCMP_ARCH_ARM"},       {"ppc64le", "ppc64le", "SCMP_ARCH_PPC64LE"},
    {"s390x", "s390x", "SCMP_ARCH_S390X"},    {"riscv64", "riscv64", "SCMP_ARCH_RISCV64"},
    {"mips64", "mips64", "SCMP_ARCH_MIPS64"}, {"loongarch64", "loong64", "SCMP_ARCH_LOONGARCH64"},
};

static const char *const actions[] = {"SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                                      "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
                                      "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY"};
static const char *const ops[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",       "SCMP_CMP_EQ",
                                  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};

struct host_info {
    const char *goarch, *scmp;
    int kmajor, kminor;
};

static void host_info_get(struct host_info *h)
{
    struct utsname u;
    *h = (struct host_info){"", "", 0, 0};
    if (uname(&u) < 0)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
        if (streq(u.machine, arches[i].machine)) {
            h->goarch = arches[i].goarch;
            h->scmp = arches[i].scmp;
        }
    }
    if (sscanf(u.release, "%d.%d", &h->kmajor, &h->kminor) != 2)
        h->kmajor = h->kminor = 0;
}

static bool in_list(const char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (streq(v[i], s))
            return true;
    }
    return false;
}

static bool json_array_has(const json_t *a, const char *s)
{
    size_t i;
    json_t *e;
    json_array_foreach(a, i, e)
    {
        if (streq(json_string_value(e), s))
            return true;
    }
    return false;
}

/* Whether the running kernel is at least "major.minor". */
static int kernel_at_least(const struct host_info *h, const char *min, bool *ret, struct isd_error **err)
{
    int maj, mnr;
    if (min == NULL || sscanf(min, "%d.%d", &maj, &mnr) != 2)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile: invalid minKernel `%s`", min ? min : "");
    *ret = h->kmajor > maj || (h->kmajor == maj && h->kminor >= mnr);
    return 0;
}

/* Whether every condition of an includes/excludes object holds ("all"), or any of them ("any"). */
static int conditions(const json_t *cond, const json_t *caps, const struct host_info *h, bool all, bool *ret,
                      struct isd_error **err)
{
    const json_t *a = json_object_get(cond, "arches");
    const char *min = json_get_str(cond, "minKernel");
    size_t i;
    json_t *c;
    bool k = false;

    *ret = all;
    json_array_foreach(json_object_get(cond, "caps"), i, c)
    {
        if (json_array_has(caps, json_string_value(c)) != all) {
            *ret = !all;
            return 0;
        }
    }
    if (json_array_size(a) > 0 && json_array_has(a, h->goarch) != all) {
        *ret = !all;
        return 0;
    }
    if (min != NULL) {
        if (kernel_at_least(h, min, &k, err) < 0)
            return -1;
        if (k != all)
            *ret = !all;
    }
    return 0;
}

/* moby's rules: every include must hold (each cap in the container's set, this arch listed, kernel at least
 * minKernel); any exclude that holds drops the rule. */
static int rule_applies(const json_t *rule, const json_t *caps, const struct host_info *h, bool *ret,
                        struct isd_error **err)
{
    bool inc = true, exc = false;
    if (conditions(json_object_get(rule, "includes"), caps, h, true, &inc, err) < 0 ||
        conditions(json_object_get(rule, "excludes"), caps, h, false, &exc, err) < 0)
        return -1;
    *ret = inc && !exc;
    return 0;
}

static int check_action(const char *what, const char *a, struct isd_error **err)
{
    if (a == NULL || !in_list(actions, ARRAY_SIZE(actions), a))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile: %s: invalid action `%s`", what, a ? a : "");
    return 0;
}

static json_t *arg_convert(const json_t *arg, struct isd_error **err)
{
    const char *op = json_get_str(arg, "op");
    const json_t *two = json_object_get(arg, "valueTwo");
    if (two == NULL)
        two = json_object_get(arg, "value_two");
    if (op == NULL || !in_list(ops, ARRAY_SIZE(ops), op)) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile: invalid operator `%s`", op ? op : "");
        return NULL;
    }
    if (!json_is_integer(json_object_get(arg, "index")) || json_get_int(arg, "index", -1) < 0 ||
        json_get_int(arg, "index", -1) > 5 || !json_is_integer(json_object_get(arg, "value")) ||
        (two != NULL && !json_is_integer(two))) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile: an argument needs an index 0-5 and integer values");
        return NULL;
    }
    return json_pack("{sOsOsIss}", "index", json_object_get(arg, "index"), "value", json_object_get(arg, "value"),
                     "valueTwo", (json_int_t)(two != NULL ? json_integer_value(two) : 0), "op", op);
}

/* Names of a rule: "names" (array) or the old "name" (string), not both. */
static json_t *rule_names(const json_t *rule, struct isd_error **err)
{
    const json_t *names = json_object_get(rule, "names");
    const char *name = json_get_str(rule, "name");
    size_t i;
    json_t *n;

    if (name != NULL && names != NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile: use either 'name' or 'names', not both");
        return NULL;
    }
    if (name != NULL)
        return json_pack("[s]", name);
    json_array_foreach(names, i, n) if (!json_is_string(n)) names = NULL;
    if (!json_is_array(names) || json_array_size(names) == 0) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile: a syscall rule needs a name or names");
        return NULL;
    }
    return json_deep_copy(names);
}

static int rule_convert(const json_t *rule, json_t *out, struct isd_error **err)
{
    cleanup_json json_t *names = rule_names(rule, err);
    cleanup_json json_t *r = NULL, *args = json_array();
    const char *action = json_get_str(rule, "action");
    size_t i;
    json_t *a;

    if (names == NULL || check_action(json_string_value(json_array_get(names, 0)), action, err) < 0)
        return -1;
    json_array_foreach(json_object_get(rule, "args"), i, a)
    {
        json_t *c = arg_convert(a, err);
        if (c == NULL)
            return -1;
        json_array_append_new(args, c);
    }
    r = json_pack("{sOss}", "names", names, "action", action);
    if (json_is_integer(json_object_get(rule, "errnoRet")))
        json_object_set(r, "errnoRet", json_object_get(rule, "errnoRet"));
    if (json_array_size(args) > 0)
        json_object_set(r, "args", args);
    json_array_append(out, r);
    return 0;
}

/* architectures: the profile's list, or from archMap the entry of this host's arch with its sub-arches. */
static int convert_arches(const json_t *profile, const struct host_info *h, json_t *out, struct isd_error **err)
{
    const json_t *list = json_object_get(profile, "architectures"), *map = json_object_get(profile, "archMap");
    cleanup_json json_t *arch = json_array();
    size_t i, j;
    json_t *e, *s;

    if (json_array_size(list) > 0 && json_array_size(map) > 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "seccomp profile: 'architectures' and 'archMap' were specified together");
    json_array_foreach(list, i, e) if (json_is_string(e)) json_array_append(arch, e);
    json_array_foreach(map, i, e)
    {
        if (!streq(json_get_str(e, "architecture"), h->scmp))
            continue;
        json_array_append(arch, json_object_get(e, "architecture"));
        json_array_foreach(json_object_get(e, "subArchitectures"), j, s) if (json_is_string(s))
            json_array_append(arch, s);
    }
    if (json_array_size(arch) > 0)
        json_object_set(out, "architectures", arch);
    return 0;
}

json_t *spec_seccomp_convert(const json_t *profile, const json_t *caps, struct isd_error **err)
{
    cleanup_json json_t *out = json_object();
    cleanup_json json_t *calls = json_array();
    const char *dflt = json_get_str(profile, "defaultAction");
    struct host_info h;
    size_t i;
    json_t *rule;

    host_info_get(&h);
    if (!json_is_object(profile) || check_action("defaultAction", dflt, err) < 0)
        return NULL;
    json_object_set_new(out, "defaultAction", json_string(dflt));
    if (json_is_integer(json_object_get(profile, "defaultErrnoRet")))
        json_object_set(out, "defaultErrnoRet", json_object_get(profile, "defaultErrnoRet"));
    if (convert_arches(profile, &h, out, err) < 0)
        return NULL;
    if (json_is_array(json_object_get(profile, "flags")))
        json_object_set(out, "flags", json_object_get(profile, "flags"));
    json_array_foreach(json_object_get(profile, "syscalls"), i, rule)
    {
        bool ok = false;
        if (!json_is_object(rule)) {
            isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile: syscalls[%zu] is not an object", i);
            return NULL;
        }
        if (rule_applies(rule, caps, &h, &ok, err) < 0)
            return NULL;
        if (ok && rule_convert(rule, calls, err) < 0)
            return NULL;
    }
    json_object_set(out, "syscalls", calls);
    return TAKE_PTR(out);
}

json_t *spec_seccomp_default_load(const char *path, struct isd_error **err)
{
    struct isd_error *e = NULL;
    json_t *p;

    if (path != NULL && path_exists(path)) {
        p = json_load_path(path, SECCOMP_PROFILE_MAX, &e);
        if (p == NULL || !json_is_object(p)) {
            isd_error_set(err, ISD_ERR_INVALID, 0, "default seccomp profile `%s`: %s", path,
                          e != NULL ? e->msg : "not a JSON object");
            isd_error_free(e);
            json_decref(p);
            return NULL;
        }
        return p;
    }
    return json_parse(spec_seccomp_default_json, strlen(spec_seccomp_default_json), err);
}

/* The text after "seccomp=": inline JSON (the docker CLI sends the file's content) or an absolute path. */
json_t *spec_seccomp_profile_parse(const char *value, struct isd_error **err)
{
    struct isd_error *e = NULL;
    json_t *p;

    if (value[0] == '{') {
        p = json_parse(value, strlen(value), &e);
    } else if (value[0] == '/') {
        p = json_load_path(value, SECCOMP_PROFILE_MAX, &e);
    } else {
        isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp profile `%s`: the path must be absolute", value);
        return NULL;
    }
    if (p == NULL || !json_is_object(p)) {
        isd_error_set(err, ISD_ERR_INVALID, e != NULL ? e->errnum : 0, "decoding seccomp profile failed: %s",
                      e != NULL ? e->msg : "not a JSON object");
        isd_error_free(e);
        json_decref(p);
        return NULL;
    }
    return p;
}
