/*
 * Safe extraction of a layer tar (plain, gzip, zstd, xz, ...) into a directory, converting OCI whiteouts to
 * overlay whiteouts, while hashing the uncompressed stream (the diff ID). Every entry is created with *at()
 * syscalls on parent directories opened O_NOFOLLOW from the root fd, so no entry can write outside the root.
 * Also the reader/writer of the stored layer blob (the exact uncompressed tar, kept zstd-compressed so that
 * `save` reproduces the same diff ID). Thread-safe (no shared state).
 */
#ifndef ISD_STORAGE_TAR_APPLY_H
#define ISD_STORAGE_TAR_APPLY_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "daemon/storage/digest.h"

/* A pull source of bytes: read returns the count, 0 at the end, -1 on error (errno set). */
struct byte_source {
    ssize_t (*read)(void *ctx, void *buf, size_t len);
    void *ctx;
};

/* A byte_source over a file descriptor (ctx points to the int fd). */
ssize_t byte_source_fd_read(void *ctx, void *buf, size_t len);

struct tar_apply_result {
    char diff_id[DIGEST_HEX_LEN + 1]; /* bare hex */
    long long size;                   /* bytes of regular file content */
    long long tar_size;               /* length of the uncompressed tar */
};

/* Extracts the tar read from src into the directory root_dfd. When blob_path is not NULL the stream is also
 * stored there: a compressed input as it came, a plain tar compressed with zstd. src_file >= 0 says that src
 * reads that whole file from its start (a download on the store's file system): a compressed input is then
 * stored as a hard link of it, not a copy. Hostile entries (`..`, a parent that is a symlink, a hardlink
 * target missing from the layer) fail the whole apply with ISD_ERR_INVALID; the caller discards root. */
int tar_apply(const struct byte_source *src, int src_file, int root_dfd, const char *blob_path,
              struct tar_apply_result *ret, struct isd_error **err);

struct tar_extract_opts {
    bool root_owner;       /* every entry owned by 0:0 instead of the tar's ids */
    bool no_dir_overwrite; /* an entry replacing a directory with a non-directory (or the reverse) fails */
};

/* Extracts a plain copy (docker cp): the same symlink-safe creation as tar_apply, but `.wh.` names are
 * ordinary files and nothing is hashed or stored. */
int tar_extract(const struct byte_source *src, int root_dfd, const struct tar_extract_opts *o, struct isd_error **err);

/* Normalises a tar entry path: strips leading `/` and `./`, drops `.` and empty components; `..` is an
 * error (returns NULL). "" means the root itself. */
char *tar_path_normalize(const char *path);

/* Reading back a stored blob: the decompressed bytes, in order. */
struct blob_reader;
struct blob_reader *blob_reader_open(const char *blob_path, struct isd_error **err);
ssize_t blob_reader_read(void *reader, void *buf, size_t len);
void blob_reader_close(struct blob_reader *r);

#endif
