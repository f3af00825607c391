/*
 * Random access to the entries of an image archive spooled to a file: an index of paths (with symlinks
 * resolved) and per-entry readers. Internal to the image module. Not shared between threads.
 */
#ifndef ISD_IMAGE_ARCHIVE_INDEX_H
#define ISD_IMAGE_ARCHIVE_INDEX_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "daemon/storage/tar_apply.h"

struct archive_index;

/* Reads the whole archive once (any compression); a truncated or corrupt archive is ISD_ERR_INVALID. */
struct archive_index *archive_index_open(const char *path, struct isd_error **err);
void archive_index_free(struct archive_index *x);
/* Resolves symlinks; returns the regular entry's path (borrowed) or NULL. */
const char *archive_index_resolve(struct archive_index *x, const char *path);
/* Reads an entry whole (bounded by max). */
char *archive_index_read(struct archive_index *x, const char *path, size_t max, size_t *ret_len,
                         struct isd_error **err);

/* A byte_source over one entry's data. */
struct entry_reader;
struct entry_reader *entry_reader_open(struct archive_index *x, const char *path, struct isd_error **err);
void entry_reader_source(struct entry_reader *r, struct byte_source *src);
void entry_reader_close(struct entry_reader *r);

#endif
