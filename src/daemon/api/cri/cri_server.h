/*
 * The CRI adapter (Kubernetes Container Runtime Interface v1 over gRPC): a gRPC core server whose calls are
 * decoded with protobuf-c, handed to one service call each, and answered. Every use of gRPC stays inside this
 * directory (the core C API is internal upstream). runtime.v1 and runtime.v1alpha2 are served by the same
 * handlers (their messages are identical on the wire).
 *
 * Threads: gRPC starts at the first connection (a daemon nobody drives through the CRI carries none of it); then
 * one poller thread takes new calls from the server's completion queue and each call runs in its own detached
 * thread (handlers block on pulls, runtimes and CNI plugins), with its own completion queue.
 * cri_server_stop() cancels calls in flight and waits for their threads.
 */
#ifndef ISD_DAEMON_API_CRI_SERVER_H
#define ISD_DAEMON_API_CRI_SERVER_H

#include "common/error.h"
#include "daemon/service/service.h"

struct cri_server;

/* Makes the server (gRPC itself starts at the first connection). socket_path (may be NULL): a unix socket of its own
 * that serves only the CRI (the daemon's `--cri-socket`); connections accepted elsewhere come in through
 * cri_server_add_connection(). */
struct cri_server *cri_server_start(struct daemon *d, const char *socket_path, struct isd_error **err);
/* Hands an accepted connection (its first bytes not yet read) to the gRPC server, which owns it from then on. */
void cri_server_add_connection(struct cri_server *s, int fd);
void cri_server_stop(struct cri_server *s);

#endif
