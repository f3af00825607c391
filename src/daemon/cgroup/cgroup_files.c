/*
 * openEuler's files cgroup (cgroup.h): a v1 controller, mounted at /sys/fs/cgroup/files, whose files.limit caps the
 * open files of a cgroup's processes (--files-limit). runc knows no such controller (openEuler's patched runc
 * reads linux.resources.files), so the daemon makes the container's directory there, writes the limit and moves
 * the container's init into it between the runtime's create and start: what it starts inherits the cgroup.
 * root is a parameter so a test can point it at a directory tree of its own.
 */
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/cgroup/cgroup.h"

bool cgroup_files_supported(const char *root)
{
    cleanup_free char *procs = xasprintf("%s/cgroup.procs", root);
    return path_exists(procs);
}

static int files_dir(const char *root, const char *cgroups_path, char **ret, struct isd_error **err)
{
    if (cgroups_path == NULL || cgroups_path[0] != '/' || strstr(cgroups_path, "/..") != NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "files cgroup: invalid cgroups path `%s`",
                             cgroups_path ? cgroups_path : "");
    *ret = xasprintf("%s%s", root, cgroups_path);
    return 0;
}

int cgroup_files_limit_apply(const char *root, const char *cgroups_path, long long limit, pid_t pid,
                             struct isd_error **err)
{
    cleanup_free char *dir = NULL, *v = xasprintf("%lld", limit), *p = xasprintf("%d", (int)pid);
    if (!cgroup_files_supported(root))
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "Your kernel does not support files limit: no files cgroup (%s, an openEuler kernel "
                             "feature)",
                             root);
    if (files_dir(root, cgroups_path, &dir, err) < 0 || mkdir_p(dir, 0755, err) < 0)
        return -1;
    if (cgroup_write(dir, "files.limit", v, err) < 0 || cgroup_write(dir, "cgroup.procs", p, err) < 0)
        return -1;
    return 0;
}

void cgroup_files_remove(const char *root, const char *cgroups_path)
{
    cleanup_free char *dir = NULL;
    if (cgroup_files_supported(root) && files_dir(root, cgroups_path, &dir, NULL) == 0)
        rmdir(dir);
}
