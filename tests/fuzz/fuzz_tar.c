/* Layer tars (plain or compressed) applied into a scratch directory: never a write outside it. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/util.h"
#include "daemon/storage/tar_apply.h"
#include "fuzz.h"

struct mem_src {
    const uint8_t *data;
    size_t size, off;
};

static ssize_t mem_read(void *ctx, void *buf, size_t len)
{
    struct mem_src *m = ctx;
    size_t n = m->size - m->off < len ? m->size - m->off : len;
    memcpy(buf, m->data + m->off, n);
    m->off += n;
    return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char tmpl[] = "/tmp/isd-fuzz-tar-XXXXXX";
    char *dir = mkdtemp(tmpl);
    struct mem_src m = {data, size, 0};
    struct byte_source src = {mem_read, &m};
    struct tar_apply_result res;
    struct isd_error *err = NULL;
    int root;
    if (dir == NULL)
        return 0;
    root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root >= 0) {
        tar_apply(&src, -1, root, NULL, &res, &err);
        close(root);
    }
    isd_error_free(err);
    rm_rf(dir, NULL);
    return 0;
}
