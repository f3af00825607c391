/* Image references as users and registries send them. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "daemon/image/reference.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    struct isd_error *err = NULL;
    struct reference *r = reference_parse(s, &err);
    char *n = reference_normalize(s, NULL);
    if (r != NULL) {
        free(reference_familiar_name(r));
        free(reference_familiar_string(r));
        free(reference_full_name(r));
    }
    reference_free(r);
    isd_error_free(err);
    free(n);
    free(s);
    return 0;
}
