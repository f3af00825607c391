/*
 * Pulling images from registries (POST /images/create?fromImage=). Two steps: image_pull_begin resolves the
 * reference on the endpoints (mirrors first for docker.io names), fetches and verifies the manifest (index
 * -> platform manifest) and the config, so those errors get a normal HTTP status; image_pull_run then downloads
 * the missing layers (up to PULL_PARALLEL at once, into temp files under <storage>/pull-tmp, verified),
 * applies them in order and registers the image, writing Docker's JSON progress stream.
 *
 * Layers shared by concurrent pulls are downloaded and applied once: a process-wide table of chain IDs in
 * flight (claims) with a condvar; a pull waits for layers another pull claimed first. Claims are taken
 * atomically for all missing layers of a pull, so waits only point to earlier pulls (no cycles).
 * Lock order: claims lock -> layer store lock (never the reverse). A failed pull releases its claims, removes
 * its temp files and drops its layer reference, which deletes the layers it applied that nothing else uses.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/json.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/image/image_store.h"
#include "daemon/image/reference.h"
#include "daemon/image/registry/registry.h"
#include "daemon/image/pull.h"
#include "daemon/image/pull_layers.h"
#include "daemon/storage/digest.h"
#include "daemon/storage/layer_store.h"

#define DEFAULT_CERTS_DIR "/etc/isulad/certs.d"

struct pull_job {
    const struct isd_config *cfg;
    struct layer_store *layers;
    struct image_store *images;
    const char *storage_root;
    struct reference *ref;
    char *familiar;     /* "busybox:latest" or "name@sha256:..." */
    char *name;         /* "busybox" */
    char *manifest_ref; /* tag or digest asked of the registry */
    long long deadline_ns;
    struct registry_client *client; /* of the endpoint that answered */
    char *manifest_digest;          /* of the top-level manifest (the index for multi-arch images) */
    struct registry_manifest *manifest;
    char *config;
    size_t config_len;
    char **diff_ids, **chain_ids; /* per layer */
    char *image_id;
    pthread_mutex_t out_lock;
    int out_fd;    /* progress stream, -1 when none (or the client left) */
    int cancelled; /* atomic: the client of the stream went away; the pull stops (registry_client_set_cancel) */
};

const char *pull_certs_dir(void)
{
    const char *env = getenv("ISULAD_CERTS_DIR");
    return env != NULL && *env != '\0' ? env : DEFAULT_CERTS_DIR;
}

/* Credentials of X-Registry-Auth (base64url JSON) or else the stored login for the domain. */
static int pull_credentials(const char *auths, const char *header, const char *domain, char **ret_user,
                            char **ret_password, struct isd_error **err)
{
    *ret_user = *ret_password = NULL;
    if (header != NULL && *header != '\0') {
        cleanup_free char *text = registry_base64_decode(header, NULL);
        cleanup_json json_t *j = text != NULL ? json_parse(text, strlen(text), NULL) : NULL;
        const char *u = json_get_str(j, "username"), *p = json_get_str(j, "password");
        if (text != NULL)
            explicit_bzero(text, strlen(text));
        if (u != NULL && *u != '\0' && p != NULL) {
            *ret_user = xstrdup(u);
            *ret_password = xstrdup(p);
            return 0;
        }
    }
    return registry_auths_get(auths, domain, ret_user, ret_password, err);
}

const char *image_pull_name(const struct pull_job *j)
{
    return j->familiar;
}

void pull_job_free(struct pull_job *j)
{
    if (j == NULL)
        return;
    reference_free(j->ref);
    free(j->familiar), free(j->name), free(j->manifest_ref), free(j->manifest_digest);
    registry_client_free(j->client);
    registry_manifest_free(j->manifest);
    free(j->config);
    strv_free(j->diff_ids);
    strv_free(j->chain_ids);
    free(j->image_id);
    pthread_mutex_destroy(&j->out_lock);
    free(j);
}

/* fromImage + tag (a tag or a digest, as the docker CLI splits them) into one reference string. */
static char *join_ref(const char *from, const char *tag)
{
    if (tag == NULL || *tag == '\0')
        return xstrdup(from);
    return xasprintf("%s%c%s", from, str_has_prefix(tag, "sha256:") ? '@' : ':', tag);
}

static int verify_digest(const char *body, size_t len, const char *digest, long long size, struct isd_error **err)
{
    char hex[DIGEST_HEX_LEN + 1];
    sha256_hex(body, len, hex);
    if (digest_strip(digest) == NULL || strcmp(hex, digest_strip(digest)) != 0)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest digest mismatch: expected `%s`, got `sha256:%s`",
                             digest, hex);
    if (size >= 0 && (long long)len != size)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "manifest `%s` has %zu bytes, expected %lld", digest, len, size);
    return 0;
}

/* Fetches the platform manifest an index points to. */
static struct registry_manifest *resolve_index(struct pull_job *j, const struct registry_manifest *index,
                                               struct isd_error **err)
{
    const char *os, *arch, *variant;
    const struct registry_descriptor *d;
    cleanup_free char *body = NULL, *ct = NULL;
    size_t len = 0;
    registry_host_platform(&os, &arch, &variant);
    d = registry_index_select(index, os, arch, variant);
    if (d == NULL) {
        isd_error_set(err, ISD_ERR_NOT_FOUND, 0, "no matching manifest for %s/%s%s%s in the manifest list entries", os,
                      arch, variant != NULL ? "/" : "", variant != NULL ? variant : "");
        return NULL;
    }
    if (d->size > REGISTRY_MAX_MANIFEST) {
        isd_error_set(err, ISD_ERR_TOO_LARGE, 0, "manifest `%s` is too large", d->digest);
        return NULL;
    }
    body = registry_client_get_manifest(j->client, d->digest, &len, &ct, err);
    if (body == NULL || verify_digest(body, len, d->digest, d->size, err) < 0)
        return NULL;
    struct registry_manifest *m = registry_manifest_parse(body, len, ct, err);
    if (m != NULL && m->is_index) {
        isd_error_set(err, ISD_ERR_INVALID, 0, "manifest `%s` is a nested index", d->digest);
        registry_manifest_free(m);
        return NULL;
    }
    return m;
}

/* Fetches the manifest (and the platform one of an index) from the chosen endpoint; sets manifest_digest. */
static int fetch_manifest(struct pull_job *j, struct isd_error **err)
{
    cleanup_free char *body = NULL, *ct = NULL;
    struct registry_manifest *m;
    char hex[DIGEST_HEX_LEN + 1];
    size_t len = 0;
    body = registry_client_get_manifest(j->client, j->manifest_ref, &len, &ct, err);
    if (body == NULL)
        return -1;
    if (j->ref->digest != NULL && verify_digest(body, len, j->ref->digest, -1, err) < 0)
        return -1;
    sha256_hex(body, len, hex);
    j->manifest_digest = xasprintf("sha256:%s", hex);
    m = registry_manifest_parse(body, len, ct, err);
    if (m != NULL && m->is_index) {
        struct registry_manifest *p = resolve_index(j, m, err);
        registry_manifest_free(m);
        m = p;
    }
    if (m == NULL)
        return -1;
    j->manifest = m;
    return 0;
}

/* Fetches and checks the config: digest, and one diff id per layer; computes the chain ids. */
static int fetch_config(struct pull_job *j, struct isd_error **err)
{
    cleanup_json json_t *cfg = NULL;
    json_t *diffs;
    size_t n = j->manifest->n_layers;
    char parent[DIGEST_HEX_LEN + 1] = "";
    j->config = registry_client_get_blob_mem(j->client, j->manifest->config.digest, j->manifest->config.size,
                                             REGISTRY_MAX_CONFIG, &j->config_len, err);
    if (j->config == NULL)
        return isd_error_wrap(err, "fetch image config");
    cfg = json_parse(j->config, j->config_len, err);
    if (cfg == NULL)
        return isd_error_wrap(err, "image config");
    diffs = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
    if (!json_is_array(diffs) || json_array_size(diffs) != n)
        return isd_error_set(err, ISD_ERR_INVALID, 0, "image config lists %zu diff ids for %zu layers",
                             json_is_array(diffs) ? json_array_size(diffs) : 0, n);
    j->diff_ids = xcalloc(n + 1, sizeof(char *));
    j->chain_ids = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *d = json_string_value(json_array_get(diffs, i));
        char chain[DIGEST_HEX_LEN + 1];
        if (d == NULL || !str_has_prefix(d, "sha256:") || digest_strip(d) == NULL)
            return isd_error_set(err, ISD_ERR_INVALID, 0, "image config: invalid diff id");
        j->diff_ids[i] = xstrdup(d);
        chain_id_compute(i > 0 ? parent : NULL, digest_strip(d), chain);
        j->chain_ids[i] = xstrdup(chain);
        memcpy(parent, chain, sizeof(parent));
    }
    return 0;
}

/* Tries the endpoints in order: a mirror failing falls through to the next, the last error wins. */
static int resolve(struct pull_job *j, const char *user, const char *password, struct isd_error **err)
{
    const struct isd_config *cfg = j->cfg;
    struct registry_client_opts o = {
        pull_certs_dir(), cfg->insecure_skip_verify_enforce, j->deadline_ns, user, password, cfg->use_decrypted_key};
    size_t n = 0;
    struct registry_endpoint *eps =
        registry_endpoints(j->ref->domain, cfg->registry_mirrors, cfg->insecure_registries, &n);
    int r = -1;
    for (size_t i = 0; i < n && r < 0; i++) {
        struct isd_error *e = NULL;
        j->client = registry_client_new(&eps[i], j->ref->path, &o);
        registry_client_set_cancel(j->client, &j->cancelled);
        r = registry_client_ping(j->client, &e) < 0 || fetch_manifest(j, &e) < 0 || fetch_config(j, &e) < 0 ? -1 : 0;
        if (r < 0) {
            if (eps[i].is_mirror)
                log_info("pull `%s`: mirror `%s` failed: %s", j->familiar, eps[i].host, e->msg);
            registry_client_free(j->client);
            j->client = NULL;
            registry_manifest_free(j->manifest);
            j->manifest = NULL;
            free(j->manifest_digest), free(j->config);
            j->manifest_digest = j->config = NULL;
            strv_free(j->diff_ids), strv_free(j->chain_ids);
            j->diff_ids = j->chain_ids = NULL;
            if (i + 1 == n && err != NULL && *err == NULL)
                *err = TAKE_PTR(e);
            isd_error_free(e);
        }
    }
    registry_endpoints_free(eps, n);
    return r;
}

struct pull_job *image_pull_begin(const struct image_pull_opts *o, const char *from, const char *tag, const char *auth,
                                  struct isd_error **err)
{
    cleanup_free char *s = join_ref(from != NULL ? from : "", tag);
    cleanup_free char *user = NULL, *password = NULL;
    struct pull_job *j = xcalloc(1, sizeof(*j));
    pthread_mutex_init(&j->out_lock, NULL);
    j->cfg = o->cfg;
    j->layers = o->layers;
    j->images = o->images;
    j->storage_root = o->storage_root;
    j->out_fd = -1;
    j->ref = reference_parse(s, err);
    if (j->ref == NULL)
        goto fail;
    j->familiar = reference_familiar_string(j->ref);
    j->name = reference_familiar_name(j->ref);
    j->manifest_ref = xstrdup(j->ref->digest != NULL ? j->ref->digest : (j->ref->tag != NULL ? j->ref->tag : "latest"));
    if (j->cfg->image_opt_timeout_ns > 0)
        j->deadline_ns = now_ns() + j->cfg->image_opt_timeout_ns;
    if (pull_credentials(o->auths_path, auth, j->ref->domain, &user, &password, err) < 0 ||
        resolve(j, user, password, err) < 0)
        goto fail;
    if (password != NULL)
        explicit_bzero(password, strlen(password));
    return j;
fail:
    if (password != NULL)
        explicit_bzero(password, strlen(password));
    isd_error_wrap(err, "pull `%s`", s);
    pull_job_free(j);
    return NULL;
}

/* {"status": "<fmt...>"} as compact text, for pull_emit. */
static char *status_json(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *status_json(const char *fmt, ...)
{
    va_list ap;
    cleanup_free char *text = NULL;
    cleanup_json json_t *j = NULL;
    va_start(ap, fmt);
    text = xvasprintf(fmt, ap);
    va_end(ap);
    j = json_pack("{s:s}", "status", text);
    return json_to_string(j);
}

static void pull_emit(void *ctx, char *line)
{
    struct pull_job *j = ctx;
    pthread_mutex_lock(&j->out_lock);
    if (j->out_fd >= 0 && line != NULL) {
        /* one write per line: JSON stream readers (the Docker SDK) choke on a newline arriving alone */
        cleanup_free char *full = xasprintf("%s\n", line);
        if (fd_write_all(j->out_fd, full, strlen(full)) < 0) {
            /* The client left: as docker does, its pull stops (layers another pull waits for are taken over
             * by that pull when this one releases its claims). */
            j->out_fd = -1;
            __atomic_store_n(&j->cancelled, 1, __ATOMIC_SEQ_CST);
            log_info("pull of `%s`: the client went away, cancelling", j->familiar);
        }
    }
    pthread_mutex_unlock(&j->out_lock);
    free(line);
}

static int register_image(struct pull_job *j, char *top, struct isd_error **err)
{
    cleanup_free char *digest = xasprintf("%s@%s", j->name, j->manifest_digest);
    char *tags[2] = {j->ref->digest == NULL ? j->familiar : NULL, NULL};
    return image_store_register(j->images, j->config, j->config_len, top, tags, digest, NULL, err);
}

int image_pull_run(struct pull_job *j, int out_fd, struct isd_error **err)
{
    cleanup_free char *top = NULL;
    cleanup_free char *from = xasprintf("Pulling from %s", j->ref->path);
    char hex[DIGEST_HEX_LEN + 1];
    struct image *existing;
    bool fresh = true;
    struct pull_layers_job lj = {j->layers,   j->storage_root, j->client, j->manifest,
                                 j->diff_ids, j->chain_ids,    pull_emit, j};
    j->out_fd = out_fd;
    sha256_hex(j->config, j->config_len, hex);
    existing = image_store_lookup(j->images, hex, NULL);
    fresh = existing == NULL;
    image_free(existing);
    pull_emit(j, registry_progress_json(from, j->ref->digest != NULL ? j->ref->digest : j->manifest_ref, 0, 0));
    if (pull_layers(&lj, &top, err) < 0 || register_image(j, TAKE_PTR(top), err) < 0) {
        log_info("pull of `%s` failed: %s", j->familiar, (*err)->msg);
        pull_emit(j, registry_progress_error_json((*err)->msg));
        return -1;
    }
    pull_emit(j, status_json("Digest: %s", j->manifest_digest));
    if (fresh)
        pull_emit(j, status_json("Status: Downloaded newer image for %s", j->familiar));
    else
        pull_emit(j, status_json("Status: Image is up to date for %s", j->familiar));
    return 0;
}
