/* The built-in pod sandbox image: the static isulad-pause program alone, as /pause (see image_store.h). */
#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/util.h"
#include "daemon/image/image_internal.h"
#include "daemon/storage/layer_store.h"

#define PAUSE_MAX (16 * 1024 * 1024)

static int write_pause_entries(struct archive *w, const char *bin, size_t len)
{
    int r = 0;
    r |= image_builtin_tar_add(w, "dev/", AE_IFDIR, 0755, NULL, 0);
    r |= image_builtin_tar_add(w, "etc/", AE_IFDIR, 0755, NULL, 0);
    r |= image_builtin_tar_add(w, "pause", AE_IFREG, 0755, bin, len);
    r |= image_builtin_tar_add(w, "proc/", AE_IFDIR, 0755, NULL, 0);
    r |= image_builtin_tar_add(w, "sys/", AE_IFDIR, 0755, NULL, 0);
    return r;
}

static int build_pause_layer(const char *pause_path, struct isd_error **err)
{
    size_t len = 0;
    cleanup_free char *bin = read_file(pause_path, PAUSE_MAX, &len, err);
    if (bin == NULL)
        return -1;
    cleanup_close int fd = memfd_create("pause-layer", MFD_CLOEXEC);
    if (fd < 0)
        return isd_error_errno(err, "memfd_create");
    struct archive *w = archive_write_new();
    archive_write_set_format_ustar(w);
    int r = archive_write_open_fd(w, fd) == ARCHIVE_OK ? write_pause_entries(w, bin, len) : -1;
    if (archive_write_close(w) != ARCHIVE_OK)
        r = -1;
    archive_write_free(w);
    if (r != 0 || lseek(fd, 0, SEEK_SET) < 0)
        return isd_error_set(err, ISD_ERR_INTERNAL, 0, "build pause layer failed");
    return TAKE_FD(fd);
}

static char *pause_config(const char *diff_id)
{
    cleanup_json json_t *j =
        json_pack("{s:s, s:{s:[s], s:s}, s:s, s:[{s:s, s:s}], s:s, s:{s:s, s:[s]}}", "architecture", "amd64", "config",
                  "Entrypoint", "/pause", "WorkingDir", "/", "created", "2024-01-01T00:00:00Z", "history", "created",
                  "2024-01-01T00:00:00Z", "created_by", "isulad built-in pause", "os", "linux", "rootfs", "type",
                  "layers", "diff_ids", diff_id);
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

int image_store_ensure_pause(struct image_store *s, const char *pause_path, struct isd_error **err)
{
    struct image *img = image_store_lookup(s, IMAGE_PAUSE_NAME, NULL);
    cleanup_free char *chain = NULL, *diff = NULL, *cfg = NULL;
    if (img != NULL) {
        image_free(img);
        return 0;
    }
    cleanup_close int fd = build_pause_layer(pause_path, err);
    if (fd < 0)
        return isd_error_wrap(err, "built-in image `%s`", IMAGE_PAUSE_NAME);
    if (layer_store_apply_tar(image_store_layers(s), NULL, fd, NULL, &chain, &diff, err) < 0)
        return isd_error_wrap(err, "built-in image `%s`", IMAGE_PAUSE_NAME);
    cfg = pause_config(diff);
    return image_store_register(s, cfg, strlen(cfg), chain, (char *[]){IMAGE_PAUSE_NAME, NULL}, NULL, NULL, err);
}
