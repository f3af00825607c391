/*
 * User and group resolution against the container's /etc/passwd and /etc/group, following runc's
 * GetExecUser rules. The files are opened with openat2(RESOLVE_IN_ROOT): a symlinked etc/passwd in a
 * malicious image resolves inside the rootfs, never to the host's. Thread-safe.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/json.h"
#include "common/util.h"
#include "daemon/spec/spec_internal.h"

#define ID_MAX 2147483647LL

/* Opens <rootfs>/<rel> for reading, resolving every path component inside rootfs. NULL with errno set. */
static FILE *open_in_root(const char *rootfs, const char *rel)
{
    cleanup_close int dirfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    int fd;
    FILE *f;

    if (dirfd < 0)
        return NULL;
    fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
    if (fd < 0)
        return NULL;
    f = fdopen(fd, "r");
    if (f == NULL)
        close(fd);
    return f;
}

static bool parse_id(const char *s, long long *ret)
{
    long long v;
    if (s == NULL || s[0] < '0' || s[0] > '9' || parse_int64(s, &v) < 0 || v < 0 || v > ID_MAX)
        return false;
    *ret = v;
    return true;
}

/* Splits a ':'-separated line into at most n fields (in place). Returns the count. */
static size_t split_fields(char *line, char **fields, size_t n)
{
    size_t k = 0;
    line[strcspn(line, "\n")] = '\0';
    while (k < n) {
        fields[k++] = line;
        line = strchr(line, ':');
        if (line == NULL)
            break;
        *line++ = '\0';
    }
    return k;
}

struct pw_match {
    char *name;
    long long uid, gid;
};

/* Finds the passwd entry whose name is user, or whose uid is user when numeric. 1 found, 0 not. */
static int passwd_lookup(FILE *f, const char *user, struct pw_match *m)
{
    cleanup_free char *line = NULL;
    size_t cap = 0;
    long long want = -1;
    bool numeric = parse_id(user, &want);

    while (f != NULL && getline(&line, &cap, f) >= 0) {
        char *fl[7];
        long long uid, gid;
        if (line[0] == '#' || split_fields(line, fl, 7) < 4 || !parse_id(fl[2], &uid) || !parse_id(fl[3], &gid))
            continue;
        if (streq(fl[0], user) || (numeric && uid == want)) {
            m->name = xstrdup(fl[0]);
            m->uid = uid;
            m->gid = gid;
            return 1;
        }
    }
    return 0;
}

static bool member_of(char *list, const char *name)
{
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (streq(t, name))
            return true;
    }
    return false;
}

/* Either finds the group named/numbered group (ret_gid), or collects groups listing member (sgids). */
static int group_scan(FILE *f, const char *group, const char *member, long long *ret_gid, json_t *sgids)
{
    cleanup_free char *line = NULL;
    size_t cap = 0;
    long long want = -1;
    bool numeric = group != NULL && parse_id(group, &want);

    while (f != NULL && getline(&line, &cap, f) >= 0) {
        char *fl[4];
        long long gid;
        size_t n = line[0] == '#' ? 0 : split_fields(line, fl, 4);
        if (n < 3 || !parse_id(fl[2], &gid))
            continue;
        if (group != NULL && (streq(fl[0], group) || (numeric && gid == want))) {
            *ret_gid = gid;
            return 1;
        }
        if (member != NULL && sgids != NULL && n == 4 && member_of(fl[3], member))
            json_array_append_new(sgids, json_integer(gid));
    }
    return 0;
}

int spec_resolve_group(const char *rootfs, const char *group, gid_t *ret_gid, struct isd_error **err)
{
    cleanup_fclose FILE *f = open_in_root(rootfs, "etc/group");
    long long gid = -1;

    if (group_scan(f, group, NULL, &gid, NULL) == 1 || parse_id(group, &gid)) {
        *ret_gid = (gid_t)gid;
        return 0;
    }
    return isd_error_set(err, ISD_ERR_INVALID, 0, "unable to find group %s: no matching entries in group file", group);
}

static void set_ids(json_t *pu, long long uid, long long gid, json_t *sgids)
{
    json_object_set_new(pu, "uid", json_integer(uid));
    json_object_set_new(pu, "gid", json_integer(gid));
    if (sgids != NULL && json_array_size(sgids) > 0)
        json_object_set(pu, "additionalGids", sgids);
    else
        json_object_del(pu, "additionalGids");
}

int spec_resolve_user(const char *rootfs, const char *user, json_t *process_user, struct isd_error **err)
{
    cleanup_free char *u = xstrdup(user != NULL && user[0] != '\0' ? user : "0");
    char *group = strchr(u, ':');
    cleanup_fclose FILE *pw = open_in_root(rootfs, "etc/passwd");
    cleanup_fclose FILE *gr = NULL;
    cleanup_json json_t *sgids = json_array();
    struct pw_match m = {NULL, 0, 0};
    cleanup_free char *name = NULL;
    long long uid = -1, gid = 0;

    if (group != NULL)
        *group++ = '\0';
    if (passwd_lookup(pw, u, &m) == 1) {
        name = m.name;
        uid = m.uid;
        gid = m.gid;
    } else if (!parse_id(u, &uid)) {
        return isd_error_set(err, ISD_ERR_INVALID, 0, "unable to find user %s: no matching entries in passwd file", u);
    }
    gr = open_in_root(rootfs, "etc/group");
    if (group != NULL && group[0] != '\0') {
        if (group_scan(gr, group, NULL, &gid, NULL) != 1 && !parse_id(group, &gid))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "unable to find group %s: no matching entries in group file",
                                 group);
    } else if (name != NULL) {
        group_scan(gr, NULL, name, NULL, sgids);
    }
    set_ids(process_user, uid, gid, sgids);
    return 0;
}
