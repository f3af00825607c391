/*
 * Loads the CRI adapter (libisulad-cri.so: the gRPC server and the CRI handlers, api/cri) when the daemon first
 * needs it, so a daemon nobody drives through the CRI maps none of gRPC's libraries (about 6 MiB of resident
 * memory). The first connection that opens with the HTTP/2 preface loads it; `--cri-socket` loads it at start
 * (that socket serves only the CRI). The library is looked up beside the isulad executable (the build tree), then
 * in ISD_CRI_LIBRARY (the installed path, <prefix>/lib/isulad/libisulad-cri.so). It resolves the daemon's own
 * functions (service layer, common) from the executable, which exports them.
 *
 * Thread-safe: connections may come in from several threads; the first one loads, the others wait for it.
 */
#ifndef ISD_DAEMON_API_CRI_LOADER_H
#define ISD_DAEMON_API_CRI_LOADER_H

#include "common/error.h"

struct daemon;
struct cri_loader;

/* socket_path: the daemon's `--cri-socket` (NULL: none); with one, the library is loaded now. */
struct cri_loader *cri_loader_new(struct daemon *d, const char *socket_path, struct isd_error **err);
/* Hands an accepted connection (its first bytes not yet read) to the CRI server, loaded first if needed; the
 * connection is closed when the library cannot be loaded (logged once). */
void cri_loader_add_connection(struct cri_loader *l, int fd);
/* Stops the CRI server when it was loaded (the library itself stays mapped until the process ends). */
void cri_loader_free(struct cri_loader *l);

#endif
