/* Helpers for the storage and image unit tests: building tars with libarchive's writer. */
#ifndef ISD_TEST_STORAGE_UTIL_H
#define ISD_TEST_STORAGE_UTIL_H

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

enum t_kind { T_FILE, T_DIR, T_SYMLINK, T_HARDLINK, T_CHAR };

struct t_entry {
    enum t_kind kind;
    const char *path;
    const char *data; /* content, symlink or hardlink target */
};

/* Writes a tar of entries to path; filter: NULL, "gzip", "zstd" or "xz". Returns 0 on success. */
static inline int t_write_tar(const char *path, const struct t_entry *ents, size_t n, const char *filter)
{
    struct archive *w = archive_write_new();
    int r = 0;
    archive_write_set_format_pax_restricted(w);
    if (filter != NULL && archive_write_add_filter_by_name(w, filter) != ARCHIVE_OK)
        r = -1;
    if (r == 0 && archive_write_open_filename(w, path) != ARCHIVE_OK)
        r = -1;
    for (size_t i = 0; r == 0 && i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        size_t len = ents[i].data != NULL ? strlen(ents[i].data) : 0;
        archive_entry_set_pathname(e, ents[i].path);
        archive_entry_set_mtime(e, 1000000, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        switch (ents[i].kind) {
        case T_FILE:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_size(e, (la_int64_t)len);
            break;
        case T_DIR:
            archive_entry_set_filetype(e, AE_IFDIR);
            archive_entry_set_perm(e, 0755);
            break;
        case T_SYMLINK:
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_perm(e, 0777);
            archive_entry_set_symlink(e, ents[i].data);
            break;
        case T_HARDLINK:
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_perm(e, 0644);
            archive_entry_set_hardlink(e, ents[i].data);
            break;
        case T_CHAR:
            archive_entry_set_filetype(e, AE_IFCHR);
            archive_entry_set_perm(e, 0600);
            break;
        }
        if (archive_write_header(e == NULL ? NULL : w, e) != ARCHIVE_OK)
            r = -1;
        if (r == 0 && ents[i].kind == T_FILE && len > 0 && archive_write_data(w, ents[i].data, len) != (la_ssize_t)len)
            r = -1;
        archive_entry_free(e);
    }
    if (archive_write_close(w) != ARCHIVE_OK)
        r = -1;
    archive_write_free(w);
    return r;
}

static inline char *t_read_file(const char *path)
{
    static char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0)
        return NULL;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* Entries (files and dirs, hidden ones too) directly in a directory; -1 when it cannot be listed. */
static inline int count_dir(const char *path)
{
    cleanup_free char *cmd = xasprintf("ls -A '%s' | wc -l", path);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p != NULL) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

/* count_dir once it reaches want, or after 10 s: rootfs_remove deletes the renamed-away tree in a background
 * thread at nice 19, which a loaded machine may run seconds later. */
static inline int count_dir_settled(const char *path, int want)
{
    int n = count_dir(path);
    for (int i = 0; i < 200 && n != want; i++) {
        usleep(50 * 1000);
        n = count_dir(path);
    }
    return n;
}

#ifdef ISD_IMAGE_IMAGE_STORE_H
/* A layer store and an image store over the same root, as the daemon opens them. */
struct stores {
    struct layer_store *ls;
    struct image_store *is;
};

static inline int open_stores(const char *root, struct stores *st)
{
    st->ls = layer_store_open(root, NULL);
    st->is = st->ls != NULL ? image_store_open(root, st->ls, NULL) : NULL;
    return st->is != NULL ? 0 : -1;
}

static inline void close_stores(struct stores *st)
{
    image_store_free(st->is);
    layer_store_free(st->ls);
}
#endif

#endif
