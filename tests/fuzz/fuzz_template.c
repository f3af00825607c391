/* `isula inspect -f` / `ps --format` templates, executed against a fixed object. */
#include <jansson.h>
#include <stdlib.h>

#include "client/template.h"
#include "common/util.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    json_t *obj = json_pack("{s:s, s:{s:i, s:b}, s:[s,s], s:{s:s}}", "Name", "/c1", "State", "Pid", 42, "Running", 1,
                            "Args", "a", "b", "Labels", "k", "v");
    struct isd_error *err = NULL;
    free(template_render(s, obj, &err));
    isd_error_free(err);
    json_decref(obj);
    free(s);
    return 0;
}
