/*
 * File system helpers: directories, whole-file reads with a size bound, atomic writes
 * (temp file, fsync, rename, fsync of the directory) and recursive removal that never crosses
 * a mount point or follows a symlink. Thread-safe (no shared state).
 */
#ifndef ISD_COMMON_FS_H
#define ISD_COMMON_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/base/io.h"
#include "common/error.h"

int mkdir_p(const char *path, mode_t mode, struct isd_error **err);
/* Reads at most max bytes; a larger file is an ISD_ERR_TOO_LARGE error. The result is NUL-terminated. */
char *read_file(const char *path, size_t max, size_t *ret_len, struct isd_error **err);
/* Writes data to path atomically (file_write_atomic of common/base/io.h with the error in *err). When durable
 * is false the fsyncs are skipped (scratch state under /run). */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                      struct isd_error **err);
/* Removes path and everything below it; refuses to descend into other mounts (EBUSY). Missing is fine. */
int rm_rf(const char *path, struct isd_error **err);
/* Removes an already-unlinked-from-view tree (renamed out of the way by the caller) in a background
 * thread, so callers do not wait for the deletion of many files. Errors are dropped: the owner's start-up
 * cleanup removes whatever is left of such trees. */
void rm_rf_in_background(const char *path);
/* Renames path to <its dir>/.trash-<random> and deletes that in the background; ENOENT is fine. The
 * parent's owner removes ".trash-*" leftovers at start. */
int rm_rf_soon(const char *path, struct isd_error **err);
bool path_exists(const char *path);
/* fd_write_all, fd_read_full: common/base/io.h. */
char *path_join(const char *a, const char *b);
/* Sum of st_blocks*512 of regular files under path (no crossing of mounts). */
long long dir_size(const char *path);
/* dir_size, also counting the inodes (files and directories, the root included) in *ret_inodes. */
long long dir_usage(const char *path, long long *ret_inodes);

#endif
