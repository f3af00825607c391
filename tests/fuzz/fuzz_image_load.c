/* Image archives given to `isula load` / `docker load` (docker-archive and OCI layout), loaded into a
 * scratch store: errors are fine, crashes and writes outside the store are not. */
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/storage/layer_store.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char tmpl[] = "/tmp/isd-fuzz-load-XXXXXX";
    char *root = mkdtemp(tmpl);
    struct isd_error *err = NULL;
    struct layer_store *ls = NULL;
    struct image_store *is = NULL;
    char **loaded = NULL;
    int fd = memfd_create("archive", MFD_CLOEXEC);
    if (root == NULL || fd < 0 || fd_write_all(fd, data, size) < 0 || lseek(fd, 0, SEEK_SET) < 0)
        goto out;
    ls = layer_store_open(root, &err);
    if (ls != NULL)
        is = image_store_open(root, ls, &err);
    if (is != NULL)
        image_store_load(is, fd, NULL, &loaded, &err);
out:
    strv_free(loaded);
    image_store_free(is);
    layer_store_free(ls);
    isd_error_free(err);
    if (fd >= 0)
        close(fd);
    if (root != NULL)
        rm_rf(root, NULL);
    return 0;
}
