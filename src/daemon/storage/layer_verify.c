/*
 * Layer integrity check (image-layer-check, D-33). A layer is sound when
 *   1. the sha256 of its stored tar (overlay/<chain>/layer.tar.zst, decompressed) equals its diff ID, and
 *   2. every non-empty regular file of that tar exists in overlay/<chain>/diff with the same size and bytes.
 * (1) proves the recorded tar is intact; (2) checks what containers actually see. As the guide says, empty
 * files, directories, links and whiteouts are not compared (their loss goes unnoticed). Files are opened
 * below diff/ without following symlinks. Damaged layers are flagged in memory; rootfs_create refuses a
 * chain that holds one. Thread-safety: verification runs without the store lock; flags under it.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/storage/layer_internal.h"
#include "daemon/storage/tar_walk.h"

struct verify_src {
    struct blob_reader *r;
    struct sha256_ctx *h;
    char buf[128 * 1024];
};

static la_ssize_t verify_read(struct archive *a, void *data, const void **out)
{
    struct verify_src *v = data;
    ssize_t n = blob_reader_read(v->r, v->buf, sizeof(v->buf));
    if (n < 0) {
        archive_set_error(a, EIO, "read layer blob");
        return -1;
    }
    sha256_update(v->h, v->buf, (size_t)n);
    *out = v->buf;
    return n;
}

/* Compares the current entry's data with the file rel below diff_fd. */
static int compare_file(struct archive *a, int diff_fd, const char *rel, long long size, struct isd_error **err)
{
    const char *base;
    cleanup_close int pfd = walk_open_parent(diff_fd, rel, false, &base, NULL);
    cleanup_close int fd = pfd >= 0 ? openat(pfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    char want[65536], got[65536];
    la_ssize_t n;
    if (fd < 0)
        return isd_error_set(err, ISD_ERR_INVALID, errno, "file `%s` is missing", rel);
    if (lseek(fd, 0, SEEK_END) != size || lseek(fd, 0, SEEK_SET) != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "file `%s` has the wrong size", rel);
    while ((n = archive_read_data(a, want, sizeof(want))) > 0) {
        if (fd_read_full(fd, got, (size_t)n) < 0 || memcmp(want, got, (size_t)n) != 0)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "file `%s` differs from the layer", rel);
    }
    if (n < 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "stored tar: %s", archive_error_string(a));
    return 0;
}

static bool is_whiteout(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    return str_has_prefix(slash != NULL ? slash + 1 : rel, ".wh.");
}

static int walk_entries(struct archive *a, int diff_fd, struct isd_error **err)
{
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        cleanup_free char *rel = tar_path_normalize(archive_entry_pathname(e) ? archive_entry_pathname(e) : "");
        if (rel == NULL || *rel == '\0' || is_whiteout(rel) || archive_entry_filetype(e) != AE_IFREG ||
            archive_entry_hardlink(e) != NULL || archive_entry_size(e) <= 0)
            continue;
        if (compare_file(a, diff_fd, rel, archive_entry_size(e), err) < 0)
            return -1;
    }
    if (r != ARCHIVE_EOF)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "stored tar: %s", archive_error_string(a));
    return 0;
}

/* Checks one layer (see the file comment). */
static int verify_one(struct layer_store *ls, const char *chain, const char *diff_hex, struct isd_error **err)
{
    cleanup_free char *blob = xasprintf("%s/%s/layer.tar.zst", ls->overlay, chain);
    cleanup_free char *diff = xasprintf("%s/%s/diff", ls->overlay, chain);
    cleanup_close int diff_fd = open(diff, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct verify_src *v;
    struct archive *a;
    char got[DIGEST_HEX_LEN + 1];
    int r;
    if (diff_fd < 0)
        return isd_error_errno(err, "open `%s`", diff);
    v = xcalloc(1, sizeof(*v));
    if ((v->r = blob_reader_open(blob, err)) == NULL) {
        free(v);
        return -1;
    }
    v->h = sha256_new();
    a = archive_read_new();
    archive_read_support_format_tar(a);
    r = archive_read_open(a, v, NULL, verify_read, NULL) == ARCHIVE_OK ? walk_entries(a, diff_fd, err) : -1;
    /* the diff id covers the whole stream, also the padding after the end-of-archive blocks */
    while (r == 0 && verify_read(a, v, &(const void *){NULL}) > 0)
        ;
    if (r < 0 && (err == NULL || *err == NULL))
        isd_error_set(err, ISD_ERR_INVALID, 0, "stored tar: %s", archive_error_string(a));
    archive_read_free(a);
    blob_reader_close(v->r);
    sha256_finish(v->h, got);
    free(v);
    if (r == 0 && strcmp(got, diff_hex) != 0)
        r = isd_error_set(err, ISD_ERR_INVALID, 0, "stored tar has sha256:%s, recorded diff id is sha256:%s", got,
                          diff_hex);
    return r;
}

int layer_store_verify(struct layer_store *ls, const char *chain_id, struct isd_error **err)
{
    struct layer *l;
    cleanup_free char *chain = NULL, *diff = NULL;
    int r;
    store_lock(ls->table);
    l = layer_find_locked(ls, chain_id);
    if (l != NULL) {
        chain = xstrdup(l->chain_id);
        diff = xstrdup(l->diff_id);
    }
    store_unlock(ls->table);
    if (chain == NULL)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "layer `%s` not found", chain_id);
    r = verify_one(ls, chain, diff, err);
    store_lock(ls->table);
    if ((l = layer_find_locked(ls, chain)) != NULL)
        l->damaged = r < 0;
    store_unlock(ls->table);
    return r;
}

char **layer_store_list_ids(struct layer_store *ls)
{
    char **v = xcalloc(1, sizeof(char *));
    store_lock(ls->table);
    for (size_t i = 0; i < store_count_locked(ls->table); i++)
        strv_append(&v, ((struct layer *)store_at_locked(ls->table, i))->chain_id);
    store_unlock(ls->table);
    return v;
}

char *layer_chain_damaged_locked(struct layer_store *ls, const char *chain_id)
{
    for (struct layer *l = chain_id ? layer_find_locked(ls, chain_id) : NULL; l != NULL;
         l = l->parent ? layer_find_locked(ls, l->parent) : NULL)
        if (l->damaged)
            return xstrdup(l->chain_id);
    return NULL;
}

char *layer_store_chain_damaged(struct layer_store *ls, const char *chain_id)
{
    char *r;
    store_lock(ls->table);
    r = layer_chain_damaged_locked(ls, chain_id);
    store_unlock(ls->table);
    return r;
}
