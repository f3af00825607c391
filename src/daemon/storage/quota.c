/* Rootfs quotas through project quotas; see quota.h. */
#include "daemon/storage/quota.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/quota.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/storage/layer_internal.h"

#define QUOTA_MIN_BYTES 4096LL
#define BACKING_DEV "backingFsBlockDev"

struct quota_ctl {
    char *dev; /* block device node of the file system */
    pthread_mutex_t lock;
    unsigned int next_id;
};

int quota_parse_size(const char *s, long long *ret, struct isd_error **err)
{
    static const char units[] = "kmgtp";
    char *end = NULL;
    long double v, mult = 1;
    const char *u;
    if (s == NULL || *s == '\0' || *s == '-' || isspace((unsigned char)*s))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid size `%s`", s ? s : "");
    errno = 0;
    v = strtold(s, &end);
    if (errno != 0 || end == s || !isfinite(v) || v < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid size `%s`", s);
    if (*end != '\0' && (u = strchr(units, tolower((unsigned char)*end))) != NULL) {
        for (long i = 0; i <= u - units; i++)
            mult *= 1024;
        end++;
    }
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (*end != '\0' || v * mult >= 9.2e18L)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid size `%s`", s);
    *ret = (long long)(v * mult); /* precision is one byte: fractions are dropped */
    if (*ret != 0 && *ret < QUOTA_MIN_BYTES)
        return isd_error_set(err, ISD_ERR_INVALID, 0,
                             "invalid size `%s`: a quota must be 0 (none) or at least 4096 bytes", s);
    return 0;
}

int quota_default_size(char *const *storage_opts, long long *ret, struct isd_error **err)
{
    *ret = 0;
    for (size_t i = 0; storage_opts != NULL && storage_opts[i] != NULL; i++) {
        const char *o = storage_opts[i];
        const char *v = str_has_prefix(o, "overlay2.size=")       ? o + strlen("overlay2.size=")
                        : str_has_prefix(o, "overlay2.basesize=") ? o + strlen("overlay2.basesize=")
                                                                  : NULL;
        if (v != NULL && quota_parse_size(v, ret, err) < 0)
            return isd_error_wrap(err, "storage option `%s`", o);
    }
    return 0;
}

static int get_projid(int fd, unsigned int *ret)
{
    struct fsxattr fsx;
    if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
        return -1;
    *ret = fsx.fsx_projid;
    return 0;
}

static int set_limit(const char *dev, unsigned int id, long long bytes)
{
    struct fs_disk_quota d = {.d_version = FS_DQUOT_VERSION,
                              .d_id = id,
                              .d_flags = FS_PROJ_QUOTA,
                              .d_fieldmask = FS_DQ_BHARD | FS_DQ_BSOFT,
                              .d_blk_hardlimit = (unsigned long long)bytes / 512,
                              .d_blk_softlimit = (unsigned long long)bytes / 512};
    return quotactl(QCMD(Q_XSETQLIM, PRJQUOTA), dev, (int)id, (caddr_t)&d);
}

/* The highest project ID used below dir's children (one level) and by dir itself. */
static unsigned int highest_projid(const char *dir)
{
    unsigned int max = 0, id;
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        cleanup_close int fd = -1;
        if (strcmp(de->d_name, "..") == 0)
            continue;
        fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0 && get_projid(fd, &id) == 0 && id > max)
            max = id;
        for (const char *sub = "diff"; fd >= 0 && sub != NULL; sub = strcmp(sub, "diff") == 0 ? "work" : NULL) {
            cleanup_close int sfd = openat(fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sfd >= 0 && get_projid(sfd, &id) == 0 && id > max)
                max = id;
        }
    }
    if (d != NULL)
        closedir(d);
    return max;
}

/* Makes the block device node of dir's file system (dir/backingFsBlockDev). */
static char *make_backing_dev(const char *dir, struct isd_error **err)
{
    struct stat st;
    char *dev = xasprintf("%s/%s", dir, BACKING_DEV);
    if (stat(dir, &st) < 0) {
        isd_error_errno(err, "stat `%s`", dir);
        free(dev);
        return NULL;
    }
    (void)unlink(dev);
    if (mknod(dev, S_IFBLK | 0600, st.st_dev) < 0) {
        isd_error_errno(err, "mknod `%s`", dev);
        free(dev);
        return NULL;
    }
    return dev;
}

struct quota_ctl *quota_ctl_open(const char *dir, struct isd_error **err)
{
    struct quota_ctl *q;
    cleanup_close int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cleanup_free char *dev = NULL;
    unsigned int base = 0;
    if (fd < 0)
        return isd_error_errno(err, "open `%s`", dir), NULL;
    if (get_projid(fd, &base) < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, QUOTA_UNSUPPORTED_MSG), NULL;
    if ((dev = make_backing_dev(dir, err)) == NULL)
        return NULL;
    /* Setting a zero limit on project 0 is harmless and tells whether project quotas are enforced. */
    if (set_limit(dev, 0, 0) < 0) {
        isd_error_set(err, ISD_ERR_INVALID, errno, QUOTA_UNSUPPORTED_MSG);
        (void)unlink(dev);
        return NULL;
    }
    q = xcalloc(1, sizeof(*q));
    q->dev = TAKE_PTR(dev);
    pthread_mutex_init(&q->lock, NULL);
    q->next_id = base + 1;
    return q;
}

void quota_ctl_free(struct quota_ctl *q)
{
    if (q == NULL)
        return;
    pthread_mutex_destroy(&q->lock);
    free(q->dev);
    free(q);
}

static int set_projid(const char *path, unsigned int id, struct isd_error **err)
{
    cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct fsxattr fsx;
    if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
        return isd_error_errno(err, "get project id of `%s`", path);
    fsx.fsx_projid = id;
    fsx.fsx_xflags |= FS_XFLAG_PROJINHERIT;
    if (ioctl(fd, FS_IOC_FSSETXATTR, &fsx) < 0)
        return isd_error_errno(err, "set project id of `%s`", path);
    return 0;
}

int quota_ctl_set(struct quota_ctl *q, char *const *dirs, long long bytes, struct isd_error **err)
{
    unsigned int id;
    pthread_mutex_lock(&q->lock);
    id = q->next_id++;
    pthread_mutex_unlock(&q->lock);
    for (size_t i = 0; dirs[i] != NULL; i++) {
        if (set_projid(dirs[i], id, err) < 0)
            return -1;
    }
    if (set_limit(q->dev, id, bytes) < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, errno, "set quota of `%s` (project %u): %s", dirs[0], id,
                             strerror(errno));
    return 0;
}

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

int layer_store_quota_check(struct layer_store *ls, struct isd_error **err)
{
    int r = 0;
    pthread_mutex_lock(&init_lock);
    if (ls->quota == NULL) {
        ls->quota = quota_ctl_open(ls->root, err);
        if (ls->quota == NULL) {
            r = -1;
        } else {
            unsigned int used = highest_projid(ls->overlay);
            if (used >= ls->quota->next_id)
                ls->quota->next_id = used + 1;
        }
    }
    pthread_mutex_unlock(&init_lock);
    return r;
}

int rootfs_set_quota(struct layer_store *ls, const char *container_id, long long bytes, struct isd_error **err)
{
    cleanup_free char *diff = NULL, *work = NULL;
    if (!id_is_safe(container_id))
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid container id `%s`", container_id);
    if (layer_store_quota_check(ls, err) < 0)
        return isd_error_wrap(err, "error creating read-write layer with ID \"%s\"", container_id);
    diff = xasprintf("%s/%s/diff", ls->overlay, container_id);
    work = xasprintf("%s/%s/work", ls->overlay, container_id);
    /* before the overlay is mounted, the upper and work directories get the container's own project ID.
     * One ID for both: overlay renames copied-up files from work into upper, which a file system refuses
     * (EXDEV) between directories of different projects with the inherit flag. */
    return quota_ctl_set(ls->quota, (char *[]){diff, work, NULL}, bytes, err);
}
