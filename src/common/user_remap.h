/*
 * A user namespace mapping as the guide writes it, "<uid>:<gid>:<offset>" (--user-remap of a container,
 * userns-remap of the daemon): ids 0..offset-1 in the container are uid..uid+offset-1 (gid.. for groups) on
 * the host. Pure functions, thread-safe.
 */
#ifndef ISD_COMMON_USER_REMAP_H
#define ISD_COMMON_USER_REMAP_H

#include <stdbool.h>

#include "common/error.h"

struct user_remap {
    unsigned long long uid, gid, size; /* size 0: no mapping */
};

/* The guide's rules: uid and gid integers >= 0, 0 < offset < 65536, uid + offset and gid + offset at most
 * 2^32 - 1. A uid or gid of 0 is valid and means no mapping (ret->size 0). NULL or "" -> no mapping.
 * ISD_ERR_INVALID naming the value otherwise. */
int user_remap_parse(const char *s, struct user_remap *ret, struct isd_error **err);

/* The same text for a mapping of any size (a CRI pod's: kubelet maps 65536 ids or a multiple of it): 0 < offset,
 * the other rules as user_remap_parse. */
int user_remap_parse_wide(const char *s, struct user_remap *ret, struct isd_error **err);

static inline bool user_remap_is_set(const struct user_remap *m)
{
    return m != NULL && m->size > 0;
}

#endif
