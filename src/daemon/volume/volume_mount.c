/* The local driver's mount options; see volume_mount.h. */
#include "daemon/volume/volume_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/json.h"
#include "common/loopdev.h"
#include "common/util.h"

/* The flag words of mount(8)'s -o; anything else (size=10m, uid=1000, ...) is filesystem data. */
static const struct {
    const char *word;
    unsigned long set, clear;
} flag_words[] = {
    {"defaults", 0, 0},
    {"ro", MS_RDONLY, 0},
    {"rw", 0, MS_RDONLY},
    {"nosuid", MS_NOSUID, 0},
    {"suid", 0, MS_NOSUID},
    {"nodev", MS_NODEV, 0},
    {"dev", 0, MS_NODEV},
    {"noexec", MS_NOEXEC, 0},
    {"exec", 0, MS_NOEXEC},
    {"sync", MS_SYNCHRONOUS, 0},
    {"async", 0, MS_SYNCHRONOUS},
    {"dirsync", MS_DIRSYNC, 0},
    {"noatime", MS_NOATIME, 0},
    {"atime", 0, MS_NOATIME},
    {"nodiratime", MS_NODIRATIME, 0},
    {"diratime", 0, MS_NODIRATIME},
    {"relatime", MS_RELATIME, 0},
    {"norelatime", 0, MS_RELATIME},
    {"strictatime", MS_STRICTATIME, 0},
    {"bind", MS_BIND, 0},
    {"rbind", MS_BIND | MS_REC, 0},
};

/* Splits o into mount flags and the data string (owned by the caller). */
static char *parse_o(const char *o, unsigned long *ret_flags)
{
    cleanup_free char *copy = xstrdup(o != NULL ? o : "");
    struct buf data = {0};
    unsigned long flags = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < ARRAY_SIZE(flag_words); i++) {
            if (streq(t, flag_words[i].word)) {
                flags = (flags | flag_words[i].set) & ~flag_words[i].clear;
                break;
            }
        }
        if (i == ARRAY_SIZE(flag_words))
            buf_printf(&data, "%s%s", data.len > 0 ? "," : "", t);
    }
    *ret_flags = flags;
    return buf_steal(&data);
}

bool volume_opts_mount(const json_t *opts)
{
    return json_get_str(opts, "type") != NULL;
}

int volume_opts_check(const json_t *opts, struct isd_error **err)
{
    static const char *const needs[][3] = {{"device", "type", NULL}, {"type", "device", NULL}, {"o", "device", "type"}};
    const char *k, *type, *device;
    json_t *v;
    unsigned long flags;
    cleanup_free char *data = NULL;
    if (opts == NULL || json_is_null(opts))
        return 0;
    if (!json_is_object(opts))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "volume options must be an object of strings");
    json_object_foreach((json_t *)opts, k, v)
    {
        if (!streq(k, "type") && !streq(k, "device") && !streq(k, "o"))
            return isd_error_set(err, ISD_ERR_INVALID, 0,
                                 streq(k, "size")
                                     ? "invalid option: \"size\": quota size requested but no quota support"
                                     : "invalid option: \"%s\" (the local driver takes type, device and o)",
                                 k);
        if (!json_is_string(v))
            return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid option: \"%s\" must be a string", k);
    }
    for (size_t i = 0; i < ARRAY_SIZE(needs); i++) {
        for (size_t j = 1; j < 3 && json_object_get(opts, needs[i][0]) != NULL && needs[i][j] != NULL; j++) {
            if (json_object_get(opts, needs[i][j]) == NULL)
                return isd_error_set(err, ISD_ERR_INVALID, 0, "missing required option: \"%s\"", needs[i][j]);
        }
    }
    type = json_get_str(opts, "type");
    device = json_get_str(opts, "device");
    if (type == NULL)
        return 0;
    if (type[0] == '\0' || device[0] == '\0')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid option: \"%s\" must not be empty",
                             type[0] == '\0' ? "type" : "device");
    data = parse_o(json_get_str(opts, "o"), &flags);
    if ((flags & MS_BIND) != 0 && device[0] != '/')
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid option: device `%s` of a bind must be an absolute path",
                             device);
    if (streq(type, "none") && (flags & MS_BIND) == 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid option: type=none needs o=bind (or rbind)");
    return 0;
}

static int mount_error(const char *what, const char *type, const char *device, struct isd_error **err)
{
    int e = errno;
    return isd_error_set(err,
                         e == ENOENT || e == EINVAL || e == ENODEV || e == ENOTBLK ? ISD_ERR_INVALID : ISD_ERR_INTERNAL,
                         e, "%s (type=%s, device=%s): %s", what, type, device, strerror(e));
}

/* A bind, then a remount when flags beyond the bind ask for it (the kernel ignores them on the bind itself). */
static int mount_bind(const char *device, const char *target, const char *type, unsigned long flags,
                      struct isd_error **err)
{
    unsigned long rest = flags & ~(MS_BIND | MS_REC);
    if (mount(device, target, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
        return mount_error("bind", type, device, err);
    if (rest != 0 && mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | rest, NULL) < 0) {
        int e = errno;
        umount2(target, MNT_DETACH);
        errno = e;
        return mount_error("remount", type, device, err);
    }
    return 0;
}

int volume_fs_mount(const json_t *opts, const char *target, struct isd_error **err)
{
    const char *type = json_get_str(opts, "type"), *device = json_get_str(opts, "device");
    cleanup_free char *data = NULL;
    cleanup_close int file = -1, loop = -1;
    unsigned long flags;
    struct stat st;
    char dev[64];
    data = parse_o(json_get_str(opts, "o"), &flags);
    if ((flags & MS_BIND) != 0)
        return mount_bind(device, target, type, flags, err);
    /* an image file of a filesystem is mounted through a loop device, as mount(8) -o loop would */
    if (device[0] == '/' && stat(device, &st) == 0 && S_ISREG(st.st_mode)) {
        bool ro = (flags & MS_RDONLY) != 0;
        file = open(device, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
        if (file < 0)
            return mount_error("open image", type, device, err);
        if ((loop = loopdev_attach(file, ro, dev, sizeof(dev), err)) < 0)
            return isd_error_wrap(err, "volume image %s", device);
        device = dev;
    }
    if (mount(device, target, type, flags, data[0] != '\0' ? data : NULL) < 0)
        return mount_error("mount", type, json_get_str(opts, "device"), err);
    return 0;
}

bool volume_is_mountpoint(const char *path)
{
    struct statx stx;
    if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
        return false;
    return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}
