/*
 * Strict shape checks of decoded JSON, as Go's encoding/json applies them to Docker's API bodies: a known
 * field of the wrong type is an error naming the field (`HostConfig.Memory`); unknown fields and null
 * values are accepted (Go ignores the one and leaves the zero value for the other). Types are static
 * descriptions; checking is thread-safe and allocates only for the error.
 */
#ifndef ISD_COMMON_JSON_CHECK_H
#define ISD_COMMON_JSON_CHECK_H

#include <jansson.h>

#include "common/error.h"

enum json_kind {
    JSON_K_ANY,
    JSON_K_STRING,
    JSON_K_INT,    /* an integer (no fraction) */
    JSON_K_UINT,   /* an integer >= 0 */
    JSON_K_NUMBER, /* an integer or a real */
    JSON_K_BOOL,
    JSON_K_STR_OR_STRV, /* Docker's strslice: "a b" or ["a", "b"] */
    JSON_K_ARRAY,       /* of elem */
    JSON_K_MAP,         /* object of elem */
    JSON_K_OBJECT,      /* a struct of the named members */
};

struct json_member;

struct json_type {
    enum json_kind kind;
    const char *name; /* in messages: Go's spelling, `int64`, `[]string`, `struct` */
    const struct json_type *elem;
    const struct json_member *members; /* terminated by a member with a NULL name */
};

struct json_member {
    const char *name;
    const struct json_type *type;
};

extern const struct json_type json_t_any, json_t_string, json_t_int, json_t_uint, json_t_number, json_t_bool,
    json_t_strv, json_t_str_or_strv, json_t_strmap, json_t_empty_object, json_t_emptymap;

/* Checks j against t; on a mismatch ISD_ERR_INVALID "json: cannot unmarshal <kind> into field <where.path>
 * of type <type>" (where may be NULL or "" for the top level). */
int json_check(const json_t *j, const struct json_type *t, const char *where, struct isd_error **err);

#endif
