/*
 * CDI (Container Device Interface) registry and container edits. The registry owns the parsed spec files of
 * its spec directories (`*.json` and `*.yaml`/`*.yml`, default /etc/cdi then /var/run/cdi; a device defined in a
 * later directory wins over an earlier one, two definitions in the same directory are a conflict). Files are read
 * when a container asks for devices and kept with their mtime, size and inode: a later request re-reads only the
 * files that changed, dropped the removed ones, and reads the new ones. A file that fails to parse or validate
 * provides no device; its error (naming the file) is reported with any device that could not be resolved.
 *
 * Thread-safety: one mutex per registry guards the cache; resolution copies what it returns, so callers never
 * hold a pointer into it. Nothing is logged here (the caller's boundary reports the error).
 */
#ifndef ISD_DAEMON_SPEC_SPEC_CDI_H
#define ISD_DAEMON_SPEC_SPEC_CDI_H

#include <jansson.h>

#include "common/error.h"

#define CDI_DEFAULT_STATIC_DIR "/etc/cdi"
#define CDI_DEFAULT_DYNAMIC_DIR "/var/run/cdi"
#define CDI_DRIVER "cdi"

struct cdi_registry;

/* dirs: absolute paths, lowest priority first; NULL or empty: the two defaults. Reads nothing yet. */
struct cdi_registry *cdi_registry_new(char *const *dirs);
void cdi_registry_free(struct cdi_registry *r);
/* Its spec directories, lowest priority first (borrowed, fixed for its lifetime). */
char *const *cdi_registry_dirs(const struct cdi_registry *r);

/* The edits for the fully qualified names in `names` (an array of strings; duplicates count once): a new array
 * of containerEdits objects, each spec file's own edits once followed by each device's. An invalid name, an
 * unknown device or one defined twice in a directory -> ISD_ERR_INVALID naming it (and the spec files that did
 * not parse, which may be where it was meant to be). */
json_t *cdi_registry_resolve(struct cdi_registry *r, const json_t *names, struct isd_error **err);

/* Applies containerEdits (as resolve returns them, already validated) to an OCI spec: env (replacing a same key),
 * device nodes (type/major/minor/fileMode from a stat of the host node when not given) into linux.devices and the
 * devices cgroup allow list, mounts (replacing a same destination; sorted parents first), hooks,
 * additionalGids (0 ignored) and intelRdt. A missing host node -> ISD_ERR_INVALID naming it. */
int cdi_edits_apply(json_t *spec, const json_t *edits, struct isd_error **err);

/* The CDI device names a HostConfig asks for: the DeviceIDs of its DeviceRequests whose Driver is "cdi" (Docker
 * 25's form). A new array (empty when none); a malformed request -> ISD_ERR_INVALID. */
json_t *cdi_host_config_devices(const json_t *host_config, struct isd_error **err);

/* A parsed spec file (JSON or YAML by suffix) checked against the CDI spec (versions 0.1.0 to 1.1.0, strict keys);
 * errors name the file. Exposed for the fuzz and unit tests. */
json_t *cdi_spec_load(const char *path, struct isd_error **err);
int cdi_spec_check(const json_t *spec, struct isd_error **err);
/* YAML text -> JSON value (spec_cdi_yaml.c). */
json_t *spec_cdi_yaml_parse(const char *buf, size_t len, struct isd_error **err);

#endif
