/* sha256 helpers over OpenSSL's SHA256_* functions; see digest.h.
 * The low-level calls run the same assembly as EVP but skip OpenSSL 3's provider and config machinery,
 * which would otherwise add about 3 MiB to the daemon's resident set on first use. They are deprecated in
 * OpenSSL 3 (not removed); the deprecation warning is silenced for this file only. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "daemon/storage/digest.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct sha256_ctx {
    SHA256_CTX md;
};

struct sha256_ctx *sha256_new(void)
{
    struct sha256_ctx *c = xmalloc(sizeof(*c));
    if (SHA256_Init(&c->md) != 1)
        abort();
    return c;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    if (len > 0 && SHA256_Update(&c->md, data, len) != 1)
        abort();
}

void sha256_finish(struct sha256_ctx *c, char out[DIGEST_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[SHA256_DIGEST_LENGTH];
    if (SHA256_Final(md, &c->md) != 1)
        abort();
    for (unsigned int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0xf];
    }
    out[DIGEST_HEX_LEN] = '\0';
    sha256_free(c);
}

void sha256_free(struct sha256_ctx *c)
{
    free(c);
}

void sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1])
{
    struct sha256_ctx *c = sha256_new();
    sha256_update(c, data, len);
    sha256_finish(c, out);
}

bool digest_is_hex(const char *s)
{
    if (s == NULL || strlen(s) != DIGEST_HEX_LEN)
        return false;
    for (const char *p = s; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    }
    return true;
}

const char *digest_strip(const char *s)
{
    if (s == NULL)
        return NULL;
    if (str_has_prefix(s, "sha256:"))
        s += strlen("sha256:");
    return digest_is_hex(s) ? s : NULL;
}

void chain_id_compute(const char *parent_chain, const char *diff_id, char out[DIGEST_HEX_LEN + 1])
{
    cleanup_free char *s = NULL;
    if (parent_chain == NULL) {
        memcpy(out, diff_id, DIGEST_HEX_LEN + 1);
        return;
    }
    s = xasprintf("sha256:%s sha256:%s", parent_chain, diff_id);
    sha256_hex(s, strlen(s), out);
}
