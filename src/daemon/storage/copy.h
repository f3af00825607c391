/*
 * Copying files in and out of a directory tree (a container's root filesystem) without ever leaving it:
 * the path the user names is resolved with openat2(RESOLVE_IN_ROOT), so a symlink inside the tree is
 * followed as the container would see it (an absolute target or `..` stays below the root), and everything
 * below is walked or created with O_NOFOLLOW *at() calls (tar_walk.h), so a symlink swapped in during the copy
 * cannot redirect it to the host (the class of CVE-2018-15664 and CVE-2019-14271). Thread-safe (no shared
 * state); the caller keeps the tree mounted for the call.
 */
#ifndef ISD_STORAGE_COPY_H
#define ISD_STORAGE_COPY_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "daemon/storage/tar_apply.h"

/* Docker's container path stat: {name, size, mode (Go os.FileMode bits), mtime (RFC 3339), linkTarget (the
 * path the last component resolves to inside the tree, when it is a symlink)}. The last component is not
 * followed. A missing path -> ISD_ERR_NOT_FOUND. Returns a new object. */
json_t *copy_stat(const char *root, const char *path, struct isd_error **err);

/* Writes a tar of path to out_fd, its entries named after the path's last component ("x", "x/y", ...), the
 * last component itself not followed (a symlink is archived as a symlink). */
int copy_out(const char *root, const char *path, int out_fd, struct isd_error **err);

struct copy_in_opts {
    bool keep_owner;       /* the tar's uid/gid (docker cp -a); else root */
    bool no_dir_overwrite; /* an entry may not replace a directory with a non-directory or the reverse */
};

/* Extracts the tar read from src into the directory path (which must exist: ISD_ERR_NOT_FOUND; a
 * non-directory: ISD_ERR_INVALID). Entries with `..`, absolute names through symlinks, or a parent that is a
 * symlink fail with ISD_ERR_INVALID; nothing is ever created outside the directory. */
int copy_in(const char *root, const char *path, const struct byte_source *src, const struct copy_in_opts *o,
            struct isd_error **err);

#endif
