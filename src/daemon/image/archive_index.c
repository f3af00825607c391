/* Random access to a spooled image archive; see archive_index.h. */
#include "daemon/image/archive_index.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define MAX_ENTRIES 100000

struct index_entry {
    char *path;
    char *link; /* symlink target, normalised to an archive path; NULL for regular files */
};

struct archive_index {
    char *spool;
    struct index_entry *v;
    size_t n;
};

struct entry_reader {
    struct archive *a;
};

static struct archive *open_reader(const char *path)
{
    struct archive *a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 128 * 1024) != ARCHIVE_OK) {
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* Joins a symlink target to the directory of the link and normalises it. */
static char *link_target(const char *link_path, const char *target)
{
    cleanup_free char *dir = xstrdup(link_path);
    cleanup_free char *joined = NULL;
    char *slash = strrchr(dir, '/');
    if (target[0] == '/')
        return tar_path_normalize(target);
    if (slash != NULL)
        *slash = '\0';
    joined = slash != NULL ? xasprintf("%s/%s", dir, target) : xstrdup(target);
    /* resolve ".." lexically: "a/../b" -> "b" */
    struct buf b = {0};
    char *save = NULL;
    char **parts = NULL;
    for (char *c = strtok_r(joined, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0) {
            size_t n = strv_len(parts);
            if (n == 0) {
                strv_free(parts);
                return NULL;
            }
            free(parts[n - 1]);
            parts[n - 1] = NULL;
            continue;
        }
        strv_append(&parts, c);
    }
    for (size_t i = 0; parts != NULL && parts[i] != NULL; i++)
        buf_printf(&b, "%s%s", i > 0 ? "/" : "", parts[i]);
    strv_free(parts);
    buf_append(&b, "", 0);
    return buf_steal(&b);
}

static int add_entry(struct archive_index *x, struct archive_entry *e)
{
    char *path = tar_path_normalize(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
    mode_t type = archive_entry_filetype(e);
    if (path == NULL)
        return -1;
    if ((type != AE_IFREG && type != AE_IFLNK) || path[0] == '\0' || x->n >= MAX_ENTRIES) {
        free(path);
        return x->n >= MAX_ENTRIES ? -1 : 0;
    }
    x->v = xrealloc(x->v, (x->n + 1) * sizeof(*x->v));
    x->v[x->n].path = path;
    x->v[x->n].link = NULL;
    if (type == AE_IFLNK && archive_entry_symlink(e) != NULL)
        x->v[x->n].link = link_target(path, archive_entry_symlink(e));
    else if (archive_entry_hardlink(e) != NULL)
        x->v[x->n].link = tar_path_normalize(archive_entry_hardlink(e));
    x->n++;
    return 0;
}

struct archive_index *archive_index_open(const char *path, struct isd_error **err)
{
    struct archive_index *x = xcalloc(1, sizeof(*x));
    struct archive *a = open_reader(path);
    struct archive_entry *e;
    int r = ARCHIVE_FATAL;
    x->spool = xstrdup(path);
    while (a != NULL && ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
        if (add_entry(x, e) < 0) {
            r = ARCHIVE_FATAL;
            break;
        }
        if (archive_read_data_skip(a) != ARCHIVE_OK) {
            r = ARCHIVE_FATAL;
            break;
        }
    }
    if (r != ARCHIVE_EOF) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: %s",
                      a != NULL && archive_error_string(a) ? archive_error_string(a) : "bad or truncated tar");
        archive_index_free(x);
        x = NULL;
    }
    if (a != NULL)
        archive_read_free(a);
    return x;
}

void archive_index_free(struct archive_index *x)
{
    if (x == NULL)
        return;
    for (size_t i = 0; i < x->n; i++) {
        free(x->v[i].path);
        free(x->v[i].link);
    }
    free(x->v);
    free(x->spool);
    free(x);
}

const char *archive_index_resolve(struct archive_index *x, const char *path)
{
    cleanup_free char *cur = tar_path_normalize(path);
    for (int hops = 0; cur != NULL && hops < 16; hops++) {
        struct index_entry *hit = NULL;
        for (size_t i = x->n; i > 0 && hit == NULL; i--) {
            if (strcmp(x->v[i - 1].path, cur) == 0)
                hit = &x->v[i - 1];
        }
        if (hit == NULL)
            return NULL;
        if (hit->link == NULL)
            return hit->path;
        free(cur);
        cur = xstrdup(hit->link);
    }
    return NULL;
}

struct entry_reader *entry_reader_open(struct archive_index *x, const char *path, struct isd_error **err)
{
    const char *real = archive_index_resolve(x, path);
    struct entry_reader *r;
    struct archive_entry *e;
    if (real == NULL) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: `%s` is missing", path);
        return NULL;
    }
    r = xcalloc(1, sizeof(*r));
    r->a = open_reader(x->spool);
    while (r->a != NULL && archive_read_next_header(r->a, &e) == ARCHIVE_OK) {
        cleanup_free char *p = tar_path_normalize(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        if (p != NULL && strcmp(p, real) == 0 && archive_entry_filetype(e) == AE_IFREG &&
            archive_entry_hardlink(e) == NULL)
            return r;
    }
    entry_reader_close(r);
    isd_error_set(err, ISD_ERR_INVALID, 0, "invalid image archive: cannot read `%s`", path);
    return NULL;
}

static ssize_t entry_read(void *ctx, void *buf, size_t len)
{
    struct entry_reader *r = ctx;
    la_ssize_t n = archive_read_data(r->a, buf, len);
    if (n < 0)
        errno = EIO;
    return n < 0 ? -1 : n;
}

void entry_reader_source(struct entry_reader *r, struct byte_source *src)
{
    src->read = entry_read;
    src->ctx = r;
}

void entry_reader_close(struct entry_reader *r)
{
    if (r == NULL)
        return;
    if (r->a != NULL)
        archive_read_free(r->a);
    free(r);
}

char *archive_index_read(struct archive_index *x, const char *path, size_t max, size_t *ret_len, struct isd_error **err)
{
    struct entry_reader *r = entry_reader_open(x, path, err);
    struct buf b = {0};
    char chunk[16384];
    ssize_t n;
    if (r == NULL)
        return NULL;
    while ((n = entry_read(r, chunk, sizeof(chunk))) > 0) {
        if (b.len + (size_t)n > max) {
            n = -2;
            break;
        }
        buf_append(&b, chunk, (size_t)n);
    }
    entry_reader_close(r);
    if (n < 0) {
        buf_free(&b);
        isd_error_set(err, n == -2 ? ISD_ERR_TOO_LARGE : ISD_ERR_INVALID, 0, "invalid image archive: `%s` %s", path,
                      n == -2 ? "is too large" : "is truncated");
        return NULL;
    }
    if (ret_len != NULL)
        *ret_len = b.len;
    return buf_steal(&b);
}
