/* The shim's libc-only JSON reader on runtime.log lines (and logrus text): no crash, no read past the input,
 * and what it decodes is a NUL-terminated string no longer than the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/isulad-shim/json_reader.c"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size > 0 ? size : 1), *v = NULL;
    size_t used = 0;
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size); /* exact-size copy: a read past the input shows under ASan */
    if (shim_json_object_string(copy, size, "msg", &v) == 1) {
        if (strlen(v) > size)
            abort();
        free(v);
    }
    v = NULL;
    if (size > 0 && copy[0] == '"' && shim_json_string_decode(copy, size, &v, &used) == 0) {
        if (used > size || strlen(v) > size)
            abort();
        free(v);
    }
    free(copy);
    return 0;
}
