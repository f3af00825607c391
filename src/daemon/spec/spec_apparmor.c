/*
 * AppArmor for containers: the built-in profile `isulad-default`, loaded into the kernel with apparmor_parser the
 * first time a container needs it (and again when someone unloaded it), and the choice of process.apparmorProfile.
 * The kernel's own files say whether AppArmor is on (/sys/module/apparmor/parameters/enabled, and its securityfs
 * directory mounted, which runc checks too) and which profiles are loaded (/sys/kernel/security/apparmor/profiles).
 * Thread-safe: one mutex serialises the loading.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "common/fs.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define AA_ENABLED_PATH "/sys/module/apparmor/parameters/enabled"
#define AA_FS_PATH "/sys/kernel/security/apparmor"
#define AA_PROFILES_PATH AA_FS_PATH "/profiles"

/* What a container may not do even as root: most of it is also kept out by dropped capabilities, the masked and
 * read-only paths and seccomp; the profile is the layer that still holds when one of those is relaxed (for example
 * systempaths=unconfined). ABI 3.0 pinned: with the 4.0 ABI "network," stops covering unix sockets. */
static const char default_profile[] =
    "abi <abi/3.0>,\n"
    "\n"
    "profile " SPEC_APPARMOR_DEFAULT " flags=(attach_disconnected,mediate_deleted) {\n"
    "  # the container's own files, sockets and whatever capabilities the runtime left it\n"
    "  file,\n"
    "  network,\n"
    "  capability,\n"
    "  umount,\n"
    "\n"
    "  # stop and kill come from the host (the daemon, the shim, the runtime); the container's processes signal and\n"
    "  # trace each other, nobody else\n"
    "  signal (receive) peer=unconfined,\n"
    "  signal (receive) peer={runc,crun},\n"
    "  signal (send,receive) peer=" SPEC_APPARMOR_DEFAULT ",\n"
    "  ptrace (trace,read,tracedby,readby) peer=" SPEC_APPARMOR_DEFAULT ",\n"
    "\n"
    "  deny mount,\n"
    "\n"
    "  # /proc: the files at its top (sysrq-trigger, kcore, ...) and its non-process directories are read-only;\n"
    "  # /proc/<pid>/ stays writable (oom_score_adj, attr), /proc/sys only for kernel/shm*\n"
    "  deny /proc/* w,\n"
    "  deny /proc/[^0-9s/]*/** w,\n"
    "  deny /proc/s[^y/]*/** w,\n"
    "  deny /proc/sy[^s/]*/** w,\n"
    "  deny /proc/sys?*/** w,\n"
    "  deny /proc/sys/[^k/]*/** w,\n"
    "  deny /proc/sys/kernel/*/** w,\n"
    "  deny /proc/sys/kernel/{?,??,[^s]*,s[^h]*,sh[^m]*} w,\n"
    "  deny /proc/sysrq-trigger rwklx,\n"
    "  deny /proc/kcore rwklx,\n"
    "\n"
    "  # /sys: read-only except the cgroup tree; firmware, powercap and the LSMs' own files not even readable\n"
    "  deny /sys/[^f]*/** wklx,\n"
    "  deny /sys/f[^s]*/** wklx,\n"
    "  deny /sys/fs/[^c]*/** wklx,\n"
    "  deny /sys/fs/c[^g]*/** wklx,\n"
    "  deny /sys/fs/cg[^r]*/** wklx,\n"
    "  deny /sys/firmware/** rwklx,\n"
    "  deny /sys/devices/virtual/powercap/** rwklx,\n"
    "  deny /sys/kernel/security/** rwklx,\n"
    "}\n";

static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

const char *spec_apparmor_default_profile(void)
{
    return default_profile;
}

bool spec_apparmor_enabled(void)
{
    cleanup_fclose FILE *f = fopen(AA_ENABLED_PATH, "re");
    return f != NULL && fgetc(f) == 'Y' && path_exists(AA_FS_PATH);
}

/* The line of apparmor_parser's messages that names the problem: the first that is not a warning. */
static const char *parser_error(char *text)
{
    char *save = NULL, *first = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        if (first == NULL)
            first = l;
        if (!str_has_prefix(l, "Warning"))
            return l;
    }
    return first != NULL ? first : "failed";
}

/* Lines of the profiles file are "<name> (<mode>)". */
static bool profile_loaded(const char *name)
{
    cleanup_fclose FILE *f = fopen(AA_PROFILES_PATH, "re");
    char line[1024];
    size_t n = strlen(name);
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, name, n) == 0 && line[n] == ' ' && line[n + 1] == '(')
            return true;
    }
    return false;
}

/* -K: no cache files written on the host; -r: replace a loaded copy (a profile from an older daemon). */
static int default_ensure(struct isd_error **err)
{
    static const char *const argv[] = {"apparmor_parser", "-Kr", NULL};
    cleanup_free char *out = NULL, *errout = NULL;
    int rc = 0;

    pthread_mutex_lock(&load_lock);
    if (!profile_loaded(SPEC_APPARMOR_DEFAULT)) {
        rc = spawn_run(argv, default_profile, &out, &errout, err);
        if (rc > 0)
            isd_error_set(err, ISD_ERR_INTERNAL, 0, "load the apparmor profile `%s`: apparmor_parser: %s",
                          SPEC_APPARMOR_DEFAULT, parser_error(errout));
        else if (rc < 0)
            isd_error_wrap(err, "load the apparmor profile `%s` (AppArmor hosts need apparmor_parser)",
                           SPEC_APPARMOR_DEFAULT);
    }
    pthread_mutex_unlock(&load_lock);
    return rc == 0 ? 0 : -1;
}

/* Docker's rules: a profile named with apparmor=<name> wins, privileged containers are unconfined, all others get
 * the default profile; a host without AppArmor gets none and refuses a named one. */
int spec_apparmor_apply(const char *opt, bool privileged, json_t *process, struct isd_error **err)
{
    const char *name = opt;

    if (opt != NULL && streq(opt, "unconfined"))
        return 0;
    if (!spec_apparmor_enabled()) {
        if (opt == NULL)
            return 0;
        return isd_error_set(err, ISD_ERR_INVALID, 0, "apparmor=%s: AppArmor is not enabled on this host", opt);
    }
    if (opt == NULL) {
        if (privileged)
            return 0;
        name = SPEC_APPARMOR_DEFAULT;
    }
    if (streq(name, SPEC_APPARMOR_DEFAULT)) {
        if (default_ensure(err) < 0)
            return -1;
    } else if (!profile_loaded(name)) {
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "apparmor=%s: no AppArmor profile `%s` is loaded (see %s; apparmor_parser -r loads one)",
                             name, name, AA_PROFILES_PATH);
    }
    json_object_set_new(process, "apparmorProfile", json_string(name));
    return 0;
}
