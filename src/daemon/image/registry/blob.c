/* Blob downloads of the registry client: streamed to a file or bounded in memory, size and digest verified,
 * broken transfers retried. See registry.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "daemon/image/registry/registry_internal.h"

#define BLOB_TRIES 3
#define ERROR_BODY_MAX (1 << 16)

size_t http_sink_write(struct http_resp *r, const char *data, size_t len)
{
    size_t off = 0;
    if (r->expect >= 0 && r->got + (long long)len > r->expect) {
        isd_error_set(&r->sink_err, ISD_ERR_INVALID, 0, "blob is larger than its descriptor (%lld bytes)", r->expect);
        return 0;
    }
    while (off < len) {
        ssize_t w = write(r->fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            isd_error_errno(&r->sink_err, "write blob");
            return 0;
        }
        off += (size_t)w;
    }
    sha256_update(r->sha, data, len);
    r->got += (long long)len;
    if (r->progress != NULL)
        r->progress(r->progress_ctx, r->got, r->expect);
    return len;
}

static int blob_status_error(struct registry_client *c, const char *digest, const struct http_resp *r,
                             struct isd_error **err)
{
    cleanup_free char *text = registry_error_text(r);
    if (r->status == 404)
        return isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "blob `%s` not found in `%s/%s`: %s", digest, c->host, c->repo,
                             text);
    if (r->status == 401 || r->status == 403)
        return isd_error_set(err, ISD_ERR_UNAUTHORIZED, 0, "fetch blob `%s`: %s", digest, text);
    return isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "fetch blob `%s` from `%s`: %s", digest, c->host, text);
}

/* One attempt, from r->got when r->offset says so (a resume); r->sha runs over everything received so far.
 * A transient failure (transport, 5xx, truncation) returns -2 with *err set and r->got bytes kept. */
static int blob_once(struct registry_client *c, const char *digest, struct http_resp *r, struct isd_error **err)
{
    cleanup_free char *path = xasprintf("/v2/%s/blobs/%s", c->repo, digest);
    char hex[DIGEST_HEX_LEN + 1];
    int rc = registry_request(c, path, NULL, r, err);
    if (rc < 0)
        return *err != NULL && (*err)->code == ISD_ERR_UNAVAILABLE && (c->deadline_ns == 0 || now_ns() < c->deadline_ns)
                   ? -2
                   : -1;
    if (r->status != 200 && !(r->status == 206 && r->offset > 0)) {
        blob_status_error(c, digest, r, err);
        return r->status >= 500 ? -2 : -1;
    }
    if (r->fd < 0) {
        sha256_update(r->sha, r->body.data != NULL ? r->body.data : "", r->body.len);
        r->got = (long long)r->body.len;
    }
    if (r->got != r->expect) {
        isd_error_set(err, ISD_ERR_UNAVAILABLE, 0, "blob `%s` truncated: got %lld of %lld bytes", digest, r->got,
                      r->expect);
        return -2;
    }
    sha256_finish(r->sha, hex);
    r->sha = NULL;
    if (strcmp(hex, digest + strlen("sha256:")) != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "blob digest mismatch: expected `%s`, got `sha256:%s`", digest,
                             hex);
    return 0;
}

/* A broken transfer is resumed where it stopped (Range), up to BLOB_TRIES requests in all. */
int registry_client_get_blob_fd(struct registry_client *c, const char *digest, long long size, int fd,
                                registry_progress_fn progress, void *ctx, struct isd_error **err)
{
    struct sha256_ctx *sha = sha256_new();
    long long got = 0;
    int rc = -1;
    if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        sha256_free(sha);
        return isd_error_errno(err, "truncate blob file");
    }
    for (int attempt = 0; attempt < BLOB_TRIES; attempt++) {
        struct http_resp r = {.fd = fd,
                              .max = ERROR_BODY_MAX,
                              .expect = size,
                              .progress = progress,
                              .progress_ctx = ctx,
                              .sha = sha,
                              .got = got,
                              .offset = got};
        struct isd_error *e = NULL;
        rc = lseek(fd, got, SEEK_SET) < 0 ? isd_error_errno(&e, "seek blob file") : blob_once(c, digest, &r, &e);
        sha = r.sha; /* NULL once finished; replaced when a server ignored the Range */
        got = r.got;
        http_resp_clear(&r);
        isd_error_free(r.sink_err);
        if (rc == 0 || rc == -1 || attempt == BLOB_TRIES - 1) {
            if (e != NULL && err != NULL && *err == NULL)
                *err = e;
            else
                isd_error_free(e);
            sha256_free(sha);
            return rc == 0 ? 0 : -1;
        }
        log_info("blob `%s`: %s; resuming at byte %lld", digest, e->msg, got);
        isd_error_free(e);
        usleep(200000 * (attempt + 1));
    }
    sha256_free(sha);
    return rc;
}

char *registry_client_get_blob_mem(struct registry_client *c, const char *digest, long long size, size_t max,
                                   size_t *ret_len, struct isd_error **err)
{
    struct http_resp r = {.fd = -1, .max = max, .expect = size, .sha = sha256_new()};
    char *out;
    if (size < 0 || (size_t)size > max) {
        isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "blob `%s` exceeds %zu bytes", digest, max);
        return NULL;
    }
    if (blob_once(c, digest, &r, err) != 0) {
        sha256_free(r.sha);
        http_resp_clear(&r);
        return NULL;
    }
    *ret_len = r.body.len;
    buf_append(&r.body, "", 0);
    out = buf_steal(&r.body);
    http_resp_clear(&r);
    return out;
}
