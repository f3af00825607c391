/* Resolving and reading a process's cgroups (cgroup.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SMALL_FILE_MAX (256 << 10)

/* Names on v1 (as /proc/<pid>/cgroup and the mount points spell them) and on the unified hierarchy. */
static const char *const v1_names[CGROUP_N] = {"cpu",  "cpuacct", "cpuset",  "memory", "blkio",
                                               "pids", "hugetlb", "devices", "freezer"};
static const char *const v2_names[CGROUP_N] = {"cpu", "cpu", "cpuset", "memory", "io", "pids", "hugetlb", NULL, NULL};

/* The controllers bound to the unified hierarchy: the words of its root's cgroup.controllers. */
static void v2_bound_read(const char *root, struct cgroup_paths *cg)
{
    cleanup_free char *path = xasprintf("%s/cgroup.controllers", root);
    cleanup_free char *text = read_file(path, SMALL_FILE_MAX, NULL, NULL);
    char *save = NULL;
    for (char *w = text ? strtok_r(text, " \n", &save) : NULL; w != NULL; w = strtok_r(NULL, " \n", &save))
        for (size_t i = 0; i < CGROUP_N; i++)
            if (v2_names[i] != NULL && streq(w, v2_names[i]))
                cg->v2_bound[i] = true;
}

/* One line of /proc/<pid>/cgroup ("4:cpu,cpuacct:/path" for v1, "0::/path" for v2). */
static void resolve_line(char *line, const char *v2_root, struct cgroup_paths *cg)
{
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
        return;
    *c1 = *c2 = '\0'; /* line: hierarchy id, c1 + 1: controllers, c2 + 1: path */
    if (streq(line, "0") && c1[1] == '\0') {
        if (cg->v2 == NULL && v2_root != NULL)
            cg->v2 = xasprintf("%s%s", v2_root, c2 + 1);
        return;
    }
    cleanup_free char *names = xasprintf(",%s,", c1 + 1);
    for (size_t i = 0; i < CGROUP_N; i++) {
        cleanup_free char *want = xasprintf(",%s,", v1_names[i]);
        if (cg->v1[i] == NULL && strstr(names, want) != NULL)
            cg->v1[i] = xasprintf(CGROUP_ROOT "/%s%s", v1_names[i], c2 + 1);
    }
}

void cgroup_paths_resolve(pid_t pid, struct cgroup_paths *cg)
{
    cleanup_free char *path = xasprintf("/proc/%d/cgroup", (int)pid);
    cleanup_free char *text = read_file(path, SMALL_FILE_MAX, NULL, NULL);
    const char *v2_root = cgroup_unified_root();
    char *save = NULL;
    memset(cg, 0, sizeof(*cg));
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL; line = strtok_r(NULL, "\n", &save))
        resolve_line(line, v2_root, cg);
    if (v2_root != NULL && cg->v2 != NULL)
        v2_bound_read(v2_root, cg);
}

void cgroup_paths_clear(struct cgroup_paths *cg)
{
    for (size_t i = 0; i < CGROUP_N; i++)
        free(cg->v1[i]);
    free(cg->v2);
    memset(cg, 0, sizeof(*cg));
}

const char *cgroup_controller_dir(const struct cgroup_paths *cg, enum cgroup_controller ctrl, bool *ret_v2)
{
    bool v2 = cg->v1[ctrl] == NULL && cg->v2 != NULL && cg->v2_bound[ctrl];
    if (ret_v2 != NULL)
        *ret_v2 = v2;
    return cg->v1[ctrl] != NULL ? cg->v1[ctrl] : (v2 ? cg->v2 : NULL);
}

long long cgroup_read_ll(const char *dir, const char *file, long long dflt)
{
    cleanup_free char *path = dir != NULL ? xasprintf("%s/%s", dir, file) : NULL;
    cleanup_free char *text = path != NULL ? read_file(path, SMALL_FILE_MAX, NULL, NULL) : NULL;
    long long v;
    if (text == NULL)
        return dflt;
    text[strcspn(text, "\n")] = '\0';
    return parse_int64(text, &v) == 0 ? v : dflt;
}

json_t *cgroup_read_kv(const char *dir, const char *file)
{
    cleanup_free char *path = dir != NULL ? xasprintf("%s/%s", dir, file) : NULL;
    cleanup_free char *text = path != NULL ? read_file(path, SMALL_FILE_MAX, NULL, NULL) : NULL;
    json_t *o = json_object();
    char *save = NULL;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char key[128];
        long long v;
        if (sscanf(line, "%127s %lld", key, &v) == 2)
            json_object_set_new(o, key, json_integer(v));
    }
    return o;
}
