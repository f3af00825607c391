/* Internal to the registry client: the client struct and the per-request response state. */
#ifndef ISD_IMAGE_REGISTRY_REGISTRY_INTERNAL_H
#define ISD_IMAGE_REGISTRY_REGISTRY_INTERNAL_H

#include <pthread.h>

#include "common/util.h"
#include "daemon/image/registry/registry.h"
#include "daemon/storage/digest.h"

struct registry_client {
    char *host, *scheme, *repo;
    bool insecure, skip_verify_host;
    long long deadline_ns;
    char *username, *password;
    char *ca, *cert, *key; /* files found in the certs dir, or NULL */
    char *key_passphrase;  /* an encrypted key's, with use-decrypted-key=false */
    char *tls_error;       /* why the client key cannot be used; every request fails with it */
    const int *cancel;     /* set (non-zero) by the owner: requests in flight abort, new ones fail */
    pthread_mutex_t lock;  /* guards authz and scheme after the ping */
    char *authz;           /* cached Authorization value ("Bearer ..." / "Basic ...") */
};

struct http_resp {
    void *easy;                     /* the CURL handle while the request runs */
    struct registry_client *client; /* idem */
    long status;
    char *www_auth, *content_type;
    struct buf body; /* error bodies and in-memory documents */
    size_t max;      /* bound of body */
    bool too_large;
    int fd; /* >= 0: a 200 body streams here */
    struct sha256_ctx *sha;
    long long got, expect;
    long long offset;      /* > 0: a resumed download asks for the bytes from here (Range) */
    long long range_start; /* of a 206 answer's Content-Range, -1 when none */
    bool resume_checked;
    struct isd_error *sink_err;
    registry_progress_fn progress;
    void *progress_ctx;
};

int http_perform(struct registry_client *c, const char *url, const char *accept, const char *authz, struct http_resp *r,
                 struct isd_error **err);
void http_resp_clear(struct http_resp *r);
size_t http_sink_write(struct http_resp *r, const char *data, size_t len);
/* GET <scheme>://<host><path> with the cached authorization; answers a 401 challenge once. */
int registry_request(struct registry_client *c, const char *path, const char *accept, struct http_resp *r,
                     struct isd_error **err);
/* The registry's message from an error body ("errors":[{"code","message"}]) or the status. Caller frees. */
char *registry_error_text(const struct http_resp *r);

#endif
