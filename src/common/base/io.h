/*
 * Whole-buffer I/O and atomic file writes, libc only (the shim links it too). Functions return 0, or -1
 * with errno set; the daemon's callers wrap that into a struct isd_error (common/fs.h). Thread-safe.
 */
#ifndef ISD_COMMON_BASE_IO_H
#define ISD_COMMON_BASE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Retry on EINTR and short transfers; -1 on error or (for reads) early EOF. */
int fd_write_all(int fd, const void *data, size_t len);
int fd_read_full(int fd, void *data, size_t len);

/* Writes data to path through a temp file in the same directory (`<path>.tmp-<random>`) and a rename, so
 * readers see the old file or the new one, never half of one. durable adds an fsync of the file before
 * the rename and of the directory after it; without it a crash may lose the write (fine for state under
 * /run). On failure the temp file is gone and *ret_step (may be NULL) names what failed: "create",
 * "write" or "rename". */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable, const char **ret_step);

/* Log rotation by size: path.N-1 -> path.N ... path -> path.1, for N = max_files - 1 (nothing when
 * max_files <= 1), so that path, reopened, is the newest of max_files files. Errors are ignored: a file that
 * cannot move is overwritten later. */
void file_rotate(const char *path, int max_files);

#endif
