/*
 * Rootfs quota enforcement, run inside the test VM (tests/integration/test_quota_vm.py) on a kernel with
 * xfs project quotas: the layer store's own code on an xfs file system mounted with prjquota.
 *
 * Usage: quota_check <dir on xfs,prjquota>
 * Creates a layer store there and three container rootfs: one limited to 1 MiB by
 * rootfs_set_quota, one limited to 3 MiB, one without a limit. Through each overlay mount it writes twice
 * its limit (2 MiB without one) into a new file: the limited ones must stop with EDQUOT/ENOSPC between half
 * the limit and the limit, the other must not stop. Prints one line "QUOTA-CHECK PASS" or "QUOTA-CHECK FAIL: <why>" and
 * exits 0 or 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/storage/layer_store.h"
#include "daemon/storage/quota.h"

static void fail(const char *fmt, ...)
{
    va_list ap;
    printf("QUOTA-CHECK FAIL: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(1);
}

static void check(int rc, struct isd_error **err, const char *what)
{
    if (rc < 0)
        fail("%s: %s", what, *err != NULL ? (*err)->msg : "failed");
}

/* Writes up to want bytes into a new file; returns how many were written and the errno that stopped it. */
static long long write_file_until(const char *path, long long want, int *ret_errno)
{
    static char chunk[64 << 10];
    long long done = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    *ret_errno = 0;
    if (fd < 0) {
        *ret_errno = errno;
        return 0;
    }
    memset(chunk, 'q', sizeof(chunk));
    while (done < want) {
        ssize_t n = write(fd, chunk, sizeof(chunk));
        if (n < 0) {
            *ret_errno = errno;
            break;
        }
        done += n;
    }
    if (*ret_errno == 0 && fsync(fd) < 0)
        *ret_errno = errno;
    if (close(fd) < 0 && *ret_errno == 0)
        *ret_errno = errno;
    return done;
}

/* An empty read-write layer (the limit is on it; what lies below does not matter). */
static char *make_rootfs(struct layer_store *ls, const char *id, long long limit)
{
    struct isd_error *err = NULL;
    char *merged = NULL;
    check(rootfs_create(ls, id, NULL, &err), &err, "rootfs_create");
    if (limit > 0)
        check(rootfs_set_quota(ls, id, limit, &err), &err, "rootfs_set_quota");
    check(rootfs_mount(ls, id, &merged, &err), &err, "rootfs_mount");
    return merged;
}

static void expect_limited(const char *merged, long long limit)
{
    cleanup_free char *big = xasprintf("%s/big.bin", merged);
    int e;
    long long want = limit > 0 ? 2 * limit : 2LL << 20;
    long long got = write_file_until(big, want, &e);
    if (limit > 0) {
        if (e != EDQUOT && e != ENOSPC)
            fail("%s: wrote %lld bytes past a %lld-byte limit (errno %d)", merged, got, limit, e);
        if (got > limit || got < limit / 2)
            fail("%s: stopped after %lld bytes with a %lld-byte limit", merged, got, limit);
        printf("limit %lld: stopped at %lld bytes (%s)\n", limit, got, strerror(e));
    } else {
        if (e != 0 || got != want)
            fail("%s: an unlimited rootfs stopped at %lld bytes: %s", merged, got, strerror(e));
        printf("no limit: wrote %lld bytes\n", got);
    }
}

int main(int argc, char **argv)
{
    struct isd_error *err = NULL;
    struct layer_store *ls;
    cleanup_free char *root = NULL;
    if (argc != 2)
        fail("usage: quota_check <dir>");
    root = xasprintf("%s/storage", argv[1]);
    ls = layer_store_open(root, &err);
    if (ls == NULL)
        fail("layer_store_open: %s", err->msg);
    check(layer_store_quota_check(ls, &err), &err, "layer_store_quota_check");
    expect_limited(make_rootfs(ls, "q1", 1 << 20), 1 << 20);
    expect_limited(make_rootfs(ls, "q3", 3 << 20), 3 << 20);
    expect_limited(make_rootfs(ls, "free", 0), 0);
    printf("QUOTA-CHECK PASS\n");
    fflush(stdout);
    return 0;
}
