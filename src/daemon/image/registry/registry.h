/*
 * The registry client: Distribution v2 API over libcurl (ping, manifests, blobs), the WWW-Authenticate
 * challenge flow (Basic, Bearer tokens), per-registry TLS material, insecure registries and mirrors, and
 * the pure helpers behind them (challenge parsing, manifest / index parsing with platform selection,
 * endpoint lists, base64 credentials). See docs/design/registry.md.
 *
 * Thread-safety: the pure helpers have no shared state. A `struct registry_client` may be used by several
 * threads at once (parallel blob downloads): each request has its own curl easy handle and the cached
 * authorization is guarded by the client's mutex. Credentials are never logged.
 * Returned strings and structs are owned by the caller.
 */
#ifndef ISD_IMAGE_REGISTRY_REGISTRY_H
#define ISD_IMAGE_REGISTRY_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define REGISTRY_MAX_MANIFEST (4 * 1024 * 1024)
#define REGISTRY_MAX_CONFIG (4 * 1024 * 1024)

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

/* ---- WWW-Authenticate ---- */
struct auth_challenge {
    char *scheme; /* "basic" or "bearer" (lower case) */
    char *realm, *service, *scope;
};
/* Parses one challenge (`Bearer realm="...",service="...",scope="..."`). */
int registry_challenge_parse(const char *header, struct auth_challenge *ret, struct isd_error **err);
void registry_challenge_clear(struct auth_challenge *c);

/* ---- manifests ---- */
struct registry_descriptor {
    char *media_type;
    char *digest; /* "sha256:<hex>" */
    long long size;
    char *os, *arch, *variant; /* platform, for index entries */
};
struct registry_manifest {
    bool is_index;
    struct registry_descriptor config;  /* image manifests */
    struct registry_descriptor *layers; /* image manifests: layers; indexes: manifests */
    size_t n_layers;
};
/* Parses a manifest body; content_type (may be NULL) and the body's mediaType decide the kind. schema1 and
 * unknown media types, non-sha256 digests and negative sizes are ISD_ERR_INVALID. */
struct registry_manifest *registry_manifest_parse(const char *body, size_t len, const char *content_type,
                                                  struct isd_error **err);
void registry_manifest_free(struct registry_manifest *m);
/* The host platform in OCI terms ("linux", "amd64"/"arm64"/"arm"/..., variant or NULL). */
void registry_host_platform(const char **ret_os, const char **ret_arch, const char **ret_variant);
/* Picks the index entry for os/arch/variant: an exact variant first, then (arm64) a missing variant,
 * then for arm the highest variant not above the wanted one. NULL when none fits. Borrowed from m. */
const struct registry_descriptor *registry_index_select(const struct registry_manifest *m, const char *os,
                                                        const char *arch, const char *variant);

/* ---- endpoints ---- */
struct registry_endpoint {
    char *host;     /* "host[:port]" as used in URLs (registry-1.docker.io for docker.io) */
    char *scheme;   /* "https", or "http" when forced by a mirror URL */
    bool insecure;  /* plain http fallback and unverified TLS allowed */
    bool is_mirror; /* a registry-mirrors entry */
};
/* The endpoints to try for a reference's domain, in order: for docker.io the mirrors then the original. */
struct registry_endpoint *registry_endpoints(const char *domain, char *const *mirrors, char *const *insecure,
                                             size_t *ret_n);
void registry_endpoints_free(struct registry_endpoint *v, size_t n);
/* The key credentials are stored under: "docker.io" for every spelling of Docker Hub, else host[:port]. */
char *registry_auth_key(const char *server_address);
bool registry_host_matches(const char *host, char *const *list);

/* ---- base64 ---- */
char *registry_base64_encode(const void *data, size_t len);
/* Standard or URL-safe alphabet, padding optional. NULL when malformed. */
char *registry_base64_decode(const char *s, size_t *ret_len);

/* ---- the client ---- */
struct registry_client_opts {
    const char *certs_dir;           /* <dir>/<host[:port]>/{ca.crt,tls.cert,tls.key} */
    bool skip_verify_host;           /* insecure-skip-verify-enforce */
    long long deadline_ns;           /* absolute (now_ns clock), 0 = none */
    const char *username, *password; /* NULL: anonymous */
    bool use_decrypted_key;          /* false: tls.key may be encrypted, its passphrase in tls.key.passphrase */
};
struct registry_client;
/* A client of one endpoint for one repository path ("library/busybox"; NULL for login checks). */
struct registry_client *registry_client_new(const struct registry_endpoint *ep, const char *repo,
                                            const struct registry_client_opts *o);
void registry_client_free(struct registry_client *c);
/* From now on, *flag becoming non-zero cancels the client's requests (within a second, also a stalled one):
 * they fail (errnum ECANCELED) and are not retried. */
void registry_client_set_cancel(struct registry_client *c, const int *flag);
bool registry_client_cancelled(const struct registry_client *c);
/* GET /v2/ (https first; http when the endpoint is insecure), authenticating when challenged. Wrong
 * credentials: ISD_ERR_UNAUTHORIZED. */
int registry_client_ping(struct registry_client *c, struct isd_error **err);
/* GET /v2/<repo>/manifests/<ref> with every supported Accept type; body bounded to REGISTRY_MAX_MANIFEST.
 * *ret_content_type may be NULL on success when the registry sent none. */
char *registry_client_get_manifest(struct registry_client *c, const char *ref, size_t *ret_len, char **ret_content_type,
                                   struct isd_error **err);
/* GET a small blob (image config) into memory, verifying size and digest. */
char *registry_client_get_blob_mem(struct registry_client *c, const char *digest, long long size, size_t max,
                                   size_t *ret_len, struct isd_error **err);
/* Streams a blob into fd (truncated first), verifying size and digest; retries broken transfers a few
 * times. progress(ctx, current, total) is called as bytes arrive. */
/* Called as bytes arrive, and about once a second while a transfer stalls. */
typedef void (*registry_progress_fn)(void *ctx, long long current, long long total);
int registry_client_get_blob_fd(struct registry_client *c, const char *digest, long long size, int fd,
                                registry_progress_fn progress, void *ctx, struct isd_error **err);
/* Bytes of manifests, configs and layers received from registries since the daemon started (200/206 bodies;
 * the metrics' pull bytes counter). Thread-safe. */
long long registry_bytes_received(void);
/* The endpoint's host (borrowed). */
const char *registry_client_host(const struct registry_client *c);

/* ---- stored logins (<graph>/auths.json, mode 0600) ---- */
/* Looks up the credentials for server (any spelling); 0 and NULLs when none. */
int registry_auths_get(const char *path, const char *server, char **ret_user, char **ret_password,
                       struct isd_error **err);
int registry_auths_set(const char *path, const char *server, const char *user, const char *password,
                       struct isd_error **err);
/* ISD_ERR_NOT_FOUND when there was no login for server. */
int registry_auths_remove(const char *path, const char *server, struct isd_error **err);

/* ---- Docker JSON progress messages (one object per line) ---- */
/* {"status":status,"id":id} (id may be NULL); with total > 0 also progressDetail and the progress bar. */
char *registry_progress_json(const char *status, const char *id, long long current, long long total);
/* {"errorDetail":{"message":msg},"error":msg} */
char *registry_progress_error_json(const char *msg);
/* Docker's bar: "[=====>      ]  1.2MB/3.4MB". */
char *registry_progress_bar(long long current, long long total);

#endif
