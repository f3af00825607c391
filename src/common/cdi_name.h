/*
 * Fully qualified CDI (Container Device Interface) device names, `vendor.com/class=name`: the syntax check the
 * CLI, the API adapters and the daemon's CDI registry share. Pure string functions, thread-safe.
 *
 * Rules (CDI spec, "Kind" and "CDI Devices"): vendor and class start with a letter, end with a letter or digit,
 * and hold letters, digits, `_`, `-`, `.` between; the name starts and ends with a letter or digit and holds
 * letters, digits, `_`, `-`, `.`, `:` between. `vendor.com/class=*` is not a device name.
 */
#ifndef ISD_COMMON_CDI_NAME_H
#define ISD_COMMON_CDI_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* A kind `vendor/class`: NULL when valid, else a static reason. */
const char *cdi_kind_check(const char *kind);
/* A device name (the part after `=`): NULL when valid, else a static reason. */
const char *cdi_device_name_check(const char *name);
/* Splits a fully qualified name into its kind and device name (new strings, set only on success). An invalid
 * name -> ISD_ERR_INVALID "invalid CDI device name `x`: <reason>". */
int cdi_name_parse(const char *qualified, char **ret_kind, char **ret_name, struct isd_error **err);
/* Whether s is syntactically a fully qualified CDI device name (what decides that a --device value is one). */
bool cdi_name_is_qualified(const char *s);

#endif
