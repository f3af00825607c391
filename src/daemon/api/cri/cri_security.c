/* The CRI security contexts (pod and container) as Docker create body fields: User, GroupAdd, SecurityOpt
 * (seccomp, apparmor, label, no-new-privileges), MaskedPaths/ReadonlyPaths, CapAdd/CapDrop. The meaning of each
 * option stays in the spec generator, shared with `isula run --security-opt`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "cri/api.pb-c.h"
#include "daemon/api/cri/cri_internal.h"

#define LOCALHOST_PREFIX "localhost/"

static void secopt_add(json_t *hc, const char *fmt, const char *v)
{
    json_t *a = json_object_get(hc, "SecurityOpt");
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(hc, "SecurityOpt", a);
    }
    cleanup_free char *o = xasprintf(fmt, v);
    json_array_append_new(a, json_string(o));
}

/* The seccomp field when given, else the deprecated path ("" means unconfined, as the CRI says). */
static int seccomp_set(json_t *hc, const Runtime__V1__SecurityProfile *p, const char *path, struct isd_error **err)
{
    const char *local = NULL;
    if (p != NULL) {
        if (p->profile_type == RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault)
            return 0; /* the engine's default profile */
        if (p->profile_type == RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined) {
            secopt_add(hc, "seccomp=%s", "unconfined");
            return 0;
        }
        local = p->localhost_ref;
    } else if (path == NULL || *path == '\0' || streq(path, "unconfined")) {
        secopt_add(hc, "seccomp=%s", "unconfined");
        return 0;
    } else if (streq(path, "runtime/default") || streq(path, "docker/default")) {
        return 0;
    } else if (str_has_prefix(path, LOCALHOST_PREFIX)) {
        local = path + strlen(LOCALHOST_PREFIX);
    } else if (path[0] == '/') { /* CRI-M10/M28: the guide's bare `<full path>` */
        local = path;
    } else {
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unsupported seccomp profile `%s`", path);
    }
    if (local == NULL || local[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "seccomp localhost profile `%s`: an absolute path is needed",
                             local != NULL ? local : "");
    secopt_add(hc, "seccomp=%s", local);
    return 0;
}

/* A profile other than unconfined on a host without AppArmor is refused (as containerd does). With AppArmor, the
 * runtime default (also what a context naming no profile gets) is the engine's isulad-default, which the spec
 * generator applies to every container without an apparmor option; Unconfined must say so; a localhost profile is
 * named and must be loaded. */
static int apparmor_set(json_t *hc, const Runtime__V1__SecurityProfile *p, const char *name, struct isd_error **err)
{
    const char *local = NULL;
    bool runtime_default = false;
    if (p != NULL) {
        if (p->profile_type == RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined) {
            secopt_add(hc, "apparmor=%s", "unconfined");
            return 0;
        }
        runtime_default = p->profile_type == RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault;
        local = p->localhost_ref;
    } else if (name == NULL || *name == '\0') {
        return 0;
    } else if (streq(name, "unconfined")) {
        secopt_add(hc, "apparmor=%s", "unconfined");
        return 0;
    } else if (streq(name, "runtime/default")) {
        runtime_default = true;
    } else if (str_has_prefix(name, LOCALHOST_PREFIX)) {
        local = name + strlen(LOCALHOST_PREFIX);
    } else {
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unsupported apparmor profile `%s`", name);
    }
    if (!service_apparmor_enabled())
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "apparmor profile `%s` asked: AppArmor is not enabled on this host",
                             runtime_default ? "runtime/default" : local);
    if (runtime_default)
        return 0;
    if (local == NULL || *local == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "apparmor localhost profile: a profile name is needed");
    secopt_add(hc, "apparmor=%s", local);
    return 0;
}

/* Labels when the daemon and the host have SELinux; else ignored with a line in the log (as containerd does). */
static void selinux_set(struct daemon *d, json_t *hc, const Runtime__V1__SELinuxOption *o, const char *what)
{
    if (o == NULL || (*o->user == '\0' && *o->role == '\0' && *o->type == '\0' && *o->level == '\0'))
        return;
    if (!d->cfg->selinux_enabled || access("/sys/fs/selinux/enforce", F_OK) != 0) {
        log_info("%s: selinux is disabled, selinux_options (user `%s` role `%s` type `%s` level `%s`) ignored", what,
                 o->user, o->role, o->type, o->level);
        return;
    }
    const char *const parts[][2] = {{"user", o->user}, {"role", o->role}, {"type", o->type}, {"level", o->level}};
    for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
        if (*parts[i][1] == '\0')
            continue;
        cleanup_free char *v = xasprintf("%s:%s", parts[i][0], parts[i][1]);
        secopt_add(hc, "label=%s", v);
    }
}

/* User "uid[:gid]" or "name[:gid]"; run_as_group alone is an error (the CRI says the runtime MUST refuse it). */
static int user_set(json_t *body, const Runtime__V1__Int64Value *uid, const char *name,
                    const Runtime__V1__Int64Value *gid, struct isd_error **err)
{
    cleanup_free char *user = NULL;
    if (name != NULL && *name != '\0') /* CRI-M28: run_as_username wins over run_as_user */
        user = xstrdup(name);
    else if (uid != NULL)
        user = xasprintf("%lld", (long long)uid->value);
    if (gid != NULL && user == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "run_as_group needs run_as_user or run_as_username");
    if (user == NULL)
        return 0;
    cleanup_free char *u = gid != NULL ? xasprintf("%s:%lld", user, (long long)gid->value) : xstrdup(user);
    json_object_set_new(body, "User", json_string(u));
    return 0;
}

static void groups_set(json_t *hc, const int64_t *groups, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_sprintf("%lld", (long long)groups[i]));
    json_object_set_new(hc, "GroupAdd", a);
}

int cri_pod_security_set(struct daemon *d, json_t *body, json_t *hc, const Runtime__V1__LinuxSandboxSecurityContext *sc,
                         struct isd_error **err)
{
    if (sc == NULL) { /* CRI-M10/M28: no profile named is unconfined, as with a context naming none */
        secopt_add(hc, "seccomp=%s", "unconfined");
        return 0;
    }
    if (user_set(body, sc->run_as_user, NULL, sc->run_as_group, err) < 0)
        return -1;
    groups_set(hc, sc->supplemental_groups, sc->n_supplemental_groups);
    if (sc->readonly_rootfs)
        json_object_set_new(hc, "ReadonlyRootfs", json_true());
    if (sc->privileged)
        json_object_set_new(hc, "Privileged", json_true());
    if (seccomp_set(hc, sc->seccomp, sc->seccomp_profile_path, err) < 0 ||
        apparmor_set(hc, sc->apparmor, NULL, err) < 0)
        return isd_error_wrap(err, "pod security context");
    selinux_set(d, hc, sc->selinux_options, "pod sandbox");
    return 0;
}

int cri_container_security_set(struct daemon *d, json_t *body, json_t *hc,
                               const Runtime__V1__LinuxContainerSecurityContext *sc, struct isd_error **err)
{
    if (sc == NULL) { /* CRI-M10/M28: no profile named is unconfined, as with a context naming none */
        secopt_add(hc, "seccomp=%s", "unconfined");
        return 0;
    }
    if (user_set(body, sc->run_as_user, sc->run_as_username, sc->run_as_group, err) < 0)
        return -1;
    groups_set(hc, sc->supplemental_groups, sc->n_supplemental_groups);
    if (sc->privileged)
        json_object_set_new(hc, "Privileged", json_true());
    if (sc->readonly_rootfs)
        json_object_set_new(hc, "ReadonlyRootfs", json_true());
    if (sc->capabilities != NULL) {
        json_object_set_new(hc, "CapAdd",
                            cri_strv_json(sc->capabilities->add_capabilities, sc->capabilities->n_add_capabilities));
        json_object_set_new(hc, "CapDrop",
                            cri_strv_json(sc->capabilities->drop_capabilities, sc->capabilities->n_drop_capabilities));
        if (sc->capabilities->n_add_ambient_capabilities > 0)
            json_object_set_new(hc, "CapAmbient",
                                cri_strv_json(sc->capabilities->add_ambient_capabilities,
                                              sc->capabilities->n_add_ambient_capabilities));
    }
    if (sc->no_new_privs)
        secopt_add(hc, "%s", "no-new-privileges");
    /* kubelet sends the default lists, or none for a privileged container or an unmasked /proc */
    if (sc->n_masked_paths > 0)
        json_object_set_new(hc, "MaskedPaths", cri_strv_json(sc->masked_paths, sc->n_masked_paths));
    if (sc->n_readonly_paths > 0)
        json_object_set_new(hc, "ReadonlyPaths", cri_strv_json(sc->readonly_paths, sc->n_readonly_paths));
    if (sc->privileged)
        return 0; /* no seccomp, AppArmor or SELinux confinement for a privileged container */
    if (seccomp_set(hc, sc->seccomp, sc->seccomp_profile_path, err) < 0 ||
        apparmor_set(hc, sc->apparmor, sc->apparmor_profile, err) < 0)
        return isd_error_wrap(err, "container security context");
    selinux_set(d, hc, sc->selinux_options, "container");
    return 0;
}
