/* Reader of stored layer blobs (the uncompressed layer tar, kept compressed); see tar_apply.h. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>

#include "common/util.h"
#include "daemon/storage/tar_apply.h"

struct blob_reader {
    struct archive *a;
};

struct blob_reader *blob_reader_open(const char *blob_path, struct isd_error **err)
{
    struct blob_reader *r = xcalloc(1, sizeof(*r));
    struct archive_entry *e;
    r->a = archive_read_new();
    archive_read_support_filter_all(r->a);
    archive_read_support_format_raw(r->a);
    if (archive_read_open_filename(r->a, blob_path, 128 * 1024) != ARCHIVE_OK ||
        archive_read_next_header(r->a, &e) != ARCHIVE_OK) {
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "open layer blob `%s`: %s", blob_path, archive_error_string(r->a));
        blob_reader_close(r);
        return NULL;
    }
    return r;
}

ssize_t blob_reader_read(void *reader, void *buf, size_t len)
{
    struct blob_reader *r = reader;
    la_ssize_t n = archive_read_data(r->a, buf, len);
    if (n < 0)
        errno = EIO;
    return n < 0 ? -1 : n;
}

void blob_reader_close(struct blob_reader *r)
{
    if (r == NULL)
        return;
    archive_read_free(r->a);
    free(r);
}
