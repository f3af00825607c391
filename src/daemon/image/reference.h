/*
 * Image references (docker rules): [host[:port]/]path-components[:tag][@algo:hex]. Components are
 * lowercase [a-z0-9]+ separated by `.`, `_`, `__` or `-`*; a first component is a registry host when it
 * holds `.` or `:` or is `localhost`; tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. Names are kept in the
 * familiar form (docker.io/library/ dropped). Thread-safe (no shared state).
 */
#ifndef ISD_IMAGE_REFERENCE_H
#define ISD_IMAGE_REFERENCE_H

#include <stdbool.h>

#include "common/error.h"

struct reference {
    char *domain; /* "docker.io" when none given */
    char *path;   /* "library/busybox" */
    char *tag;    /* NULL when none given */
    char *digest; /* "sha256:..." or NULL */
};

/* Parses s; ISD_ERR_INVALID "invalid reference format: `s`" when malformed. */
struct reference *reference_parse(const char *s, struct isd_error **err);
void reference_free(struct reference *r);
/* The familiar repository name: "busybox", "user/x", "reg:5000/x" (no tag). */
char *reference_familiar_name(const struct reference *r);
/* Familiar name with tag (":latest" when neither tag nor digest), or name@digest. */
char *reference_familiar_string(const struct reference *r);
/* The fully qualified name "docker.io/library/busybox" (no tag). */
char *reference_full_name(const struct reference *r);
/* Parses and normalises s to its familiar tagged form; NULL + ISD_ERR_INVALID when malformed. */
char *reference_normalize(const char *s, struct isd_error **err);
bool reference_tag_is_valid(const char *tag);

#endif
