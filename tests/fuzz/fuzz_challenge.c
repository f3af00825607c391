/* WWW-Authenticate challenges from registries. */
#include <stdlib.h>

#include "common/util.h"
#include "daemon/image/registry/registry.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    struct auth_challenge c = {0};
    struct isd_error *err = NULL;
    if (registry_challenge_parse(s, &c, &err) == 0)
        registry_challenge_clear(&c);
    isd_error_free(err);
    free(s);
    return 0;
}
