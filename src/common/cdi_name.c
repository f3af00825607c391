/* Syntax of CDI device names (see cdi_name.h). */
#include <string.h>

#include "common/cdi_name.h"
#include "common/util.h"

#define CDI_SEGMENT_MAX 253

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
    return is_letter(c) || (c >= '0' && c <= '9');
}

enum segment { SEG_VENDOR, SEG_CLASS, SEG_NAME };

/* Vendor and class: a letter first, then letters, digits, `_`, `-`, `.`; the name: a letter or digit first, `:`
 * allowed too; each ends with a letter or digit. NULL when valid, else a static reason. */
static const char *segment_check(const char *s, size_t n, enum segment seg)
{
    static const char *const empty[] = {"empty vendor", "empty class", "empty device name"};
    bool name = seg == SEG_NAME;
    if (n == 0)
        return empty[seg];
    if (n > CDI_SEGMENT_MAX)
        return "a segment is longer than 253 characters";
    if (name ? !is_alnum(s[0]) : !is_letter(s[0]))
        return name ? "the name must start with a letter or digit" : "vendor and class must start with a letter";
    if (!is_alnum(s[n - 1]))
        return "vendor, class and name must end with a letter or digit";
    for (size_t i = 1; i + 1 < n; i++)
        if (!is_alnum(s[i]) && strchr(name ? "_-.:" : "_-.", s[i]) == NULL)
            return name ? "the name may hold only letters, digits, `_`, `-`, `.` and `:`"
                        : "vendor and class may hold only letters, digits, `_`, `-` and `.`";
    return NULL;
}

const char *cdi_kind_check(const char *kind)
{
    const char *slash = kind != NULL ? strchr(kind, '/') : NULL;
    const char *r;
    if (slash == NULL)
        return "the kind must be `vendor/class`";
    if (strchr(slash + 1, '/') != NULL)
        return "the kind must hold exactly one `/`";
    r = segment_check(kind, (size_t)(slash - kind), SEG_VENDOR);
    return r != NULL ? r : segment_check(slash + 1, strlen(slash + 1), SEG_CLASS);
}

const char *cdi_device_name_check(const char *name)
{
    if (name == NULL)
        return "empty device name";
    return segment_check(name, strlen(name), SEG_NAME);
}

int cdi_name_parse(const char *qualified, char **ret_kind, char **ret_name, struct isd_error **err)
{
    const char *eq = qualified != NULL ? strchr(qualified, '=') : NULL;
    cleanup_free char *kind = NULL;
    const char *why;
    if (eq == NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid CDI device name `%s`: expected vendor.com/class=name",
                             qualified ? qualified : "");
    kind = xstrndup(qualified, (size_t)(eq - qualified));
    why = cdi_kind_check(kind);
    if (why == NULL)
        why = cdi_device_name_check(eq + 1);
    if (why != NULL)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "invalid CDI device name `%s`: %s", qualified, why);
    *ret_kind = TAKE_PTR(kind);
    *ret_name = xstrdup(eq + 1);
    return 0;
}

bool cdi_name_is_qualified(const char *s)
{
    cleanup_free char *kind = NULL, *name = NULL;
    if (s == NULL || s[0] == '/')
        return false;
    return cdi_name_parse(s, &kind, &name, NULL) == 0;
}
