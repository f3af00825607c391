/*
 * The built-in busybox image: a deterministic one-layer image made from a static busybox binary (fixed
 * mtimes, owners and order, ustar format), so the same binary always gives the same image ID.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/spawn.h"
#include "common/util.h"
#include "daemon/image/image_internal.h"
#include "daemon/storage/layer_store.h"

#define BUILTIN_NAME "busybox:latest"
#define BUILTIN_TIME 1704067200 /* 2024-01-01T00:00:00Z */
#define BUSYBOX_MAX (64 * 1024 * 1024)

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char group[] = "root:x:0:\nnobody:x:65534:\n";

static int add(struct archive *w, const char *path, mode_t type, mode_t perm, const char *data, size_t len,
               const char *link)
{
    struct archive_entry *e = archive_entry_new();
    int r;
    archive_entry_set_pathname(e, path);
    archive_entry_set_filetype(e, type);
    archive_entry_set_perm(e, perm);
    archive_entry_set_mtime(e, BUILTIN_TIME, 0);
    archive_entry_set_size(e, type == AE_IFREG ? (la_int64_t)len : 0);
    if (link != NULL)
        archive_entry_set_symlink(e, link);
    r = archive_write_header(w, e);
    archive_entry_free(e);
    if (r != ARCHIVE_OK)
        return -1;
    if (type == AE_IFREG && len > 0 && archive_write_data(w, data, len) != (la_ssize_t)len)
        return -1;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int write_entries(struct archive *w, const char *bin, size_t bin_len, char **applets)
{
    int r = 0;
    r |= add(w, "bin/", AE_IFDIR, 0755, NULL, 0, NULL);
    r |= add(w, "bin/busybox", AE_IFREG, 0755, bin, bin_len, NULL);
    for (size_t i = 0; applets[i] != NULL; i++) {
        cleanup_free char *p = xasprintf("bin/%s", applets[i]);
        if (strcmp(applets[i], "busybox") != 0 && strchr(applets[i], '/') == NULL)
            r |= add(w, p, AE_IFLNK, 0777, NULL, 0, "busybox");
    }
    r |= add(w, "dev/", AE_IFDIR, 0755, NULL, 0, NULL);
    r |= add(w, "etc/", AE_IFDIR, 0755, NULL, 0, NULL);
    r |= add(w, "etc/group", AE_IFREG, 0644, group, strlen(group), NULL);
    r |= add(w, "etc/passwd", AE_IFREG, 0644, passwd, strlen(passwd), NULL);
    r |= add(w, "proc/", AE_IFDIR, 0755, NULL, 0, NULL);
    r |= add(w, "root/", AE_IFDIR, 0700, NULL, 0, NULL);
    r |= add(w, "sys/", AE_IFDIR, 0755, NULL, 0, NULL);
    r |= add(w, "tmp/", AE_IFDIR, 01777, NULL, 0, NULL);
    return r;
}

static char **list_applets(const char *busybox_path, struct isd_error **err)
{
    const char *argv[] = {busybox_path, "--list", NULL};
    cleanup_free char *out = NULL;
    char **v = xcalloc(1, sizeof(char *));
    if (spawn_run(argv, NULL, &out, NULL, err) != 0) {
        strv_free(v);
        isd_error_set(err, ISD_ERR_INTERNAL, 0, "run `%s --list` failed", busybox_path);
        return NULL;
    }
    for (char *save = NULL, *t = strtok_r(out, "\n", &save); t != NULL; t = strtok_r(NULL, "\n", &save))
        strv_append(&v, t);
    qsort(v, strv_len(v), sizeof(char *), cmp_str);
    return v;
}

/* Writes the layer tar into a memfd; returns it rewound. */
static int build_layer(const char *busybox_path, struct isd_error **err)
{
    size_t len = 0;
    cleanup_free char *bin = read_file(busybox_path, BUSYBOX_MAX, &len, err);
    cleanup_strv char **applets = bin != NULL ? list_applets(busybox_path, err) : NULL;
    cleanup_close int fd = -1;
    struct archive *w;
    int r;
    if (applets == NULL)
        return -1;
    fd = memfd_create("busybox-layer", MFD_CLOEXEC);
    if (fd < 0)
        return isd_error_errno(err, "memfd_create");
    w = archive_write_new();
    archive_write_set_format_ustar(w);
    r = archive_write_open_fd(w, fd) == ARCHIVE_OK ? write_entries(w, bin, len, applets) : -1;
    if (archive_write_close(w) != ARCHIVE_OK)
        r = -1;
    archive_write_free(w);
    if (r != 0 || lseek(fd, 0, SEEK_SET) < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "build busybox layer failed");
    return TAKE_FD(fd);
}

static char *builtin_config(const char *diff_id)
{
    cleanup_json json_t *j = json_pack(
        "{s:s, s:{s:[s], s:[s], s:s}, s:s, s:[{s:s, s:s}], s:s, s:{s:s, s:[s]}}", "architecture", "amd64", "config",
        "Cmd", "sh", "Env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "WorkingDir", "",
        "created", "2024-01-01T00:00:00Z", "history", "created", "2024-01-01T00:00:00Z", "created_by",
        "isulad built-in busybox", "os", "linux", "rootfs", "type", "layers", "diff_ids", diff_id);
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

int image_store_ensure_builtin(struct image_store *s, const char *busybox_path, struct isd_error **err)
{
    struct image *img = image_store_lookup(s, BUILTIN_NAME, NULL);
    cleanup_free char *chain = NULL, *diff = NULL, *cfg = NULL;
    cleanup_close int fd = -1;
    if (img != NULL) {
        image_free(img);
        return 0;
    }
    fd = build_layer(busybox_path, err);
    if (fd < 0)
        return isd_error_wrap(err, "built-in image `%s`", BUILTIN_NAME);
    if (layer_store_apply_tar(image_store_layers(s), NULL, fd, NULL, &chain, &diff, err) < 0)
        return isd_error_wrap(err, "built-in image `%s`", BUILTIN_NAME);
    cfg = builtin_config(diff);
    return image_store_register(s, cfg, strlen(cfg), chain, (char *[]){BUILTIN_NAME, NULL}, NULL, NULL, err);
}

int image_builtin_tar_add(struct archive *w, const char *path, mode_t type, mode_t perm, const char *data, size_t len)
{
    return add(w, path, type, perm, data, len, NULL);
}
