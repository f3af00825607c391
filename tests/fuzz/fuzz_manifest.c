/* Registry manifests and indexes, with platform selection. */
#include "daemon/image/registry/registry.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {MT_OCI_INDEX, "application/vnd.docker.distribution.manifest.v2+json",
                                        "application/vnd.docker.distribution.manifest.list.v2+json",
                                        "application/vnd.oci.image.manifest.v1+json", NULL};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        struct isd_error *err = NULL;
        struct registry_manifest *m = registry_manifest_parse((const char *)data, size, types[i], &err);
        if (m != NULL) {
            registry_index_select(m, "linux", "amd64", NULL);
            registry_index_select(m, "linux", "arm", "v7");
        }
        registry_manifest_free(m);
        isd_error_free(err);
    }
    return 0;
}
