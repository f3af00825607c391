/* The daemon's hand-rolled json-file line reader (runtime/json_log_line.h): no crash, no read past the line,
 * a decoded text never longer than its escaped form, and agreement with jansson on every line it accepts. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/runtime/json_log_line.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size > 0 ? size : 1), *text;
    struct json_log_line l;
    json_t *j, *log;
    size_t n;
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size); /* exact-size copy: a read past the input shows under ASan */
    if (!json_log_line_split(copy, size, &l)) {
        free(copy);
        return 0;
    }
    text = malloc(l.log_len + 1);
    n = json_log_line_text(&l, text);
    if (n > l.log_len)
        abort();
    j = json_loadb(copy, size, JSON_ALLOW_NUL, NULL);
    log = json_object_get(j, "log");
    if (!json_is_string(log) || json_string_length(log) != n || memcmp(json_string_value(log), text, n) != 0)
        abort();
    json_decref(j);
    free(text);
    free(copy);
    return 0;
}
