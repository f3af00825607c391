/* sha256 helpers over OpenSSL EVP; see digest.h. */
#include "daemon/storage/digest.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

struct sha256_ctx {
    EVP_MD_CTX *md;
};

struct sha256_ctx *sha256_new(void)
{
    struct sha256_ctx *c = xmalloc(sizeof(*c));
    c->md = EVP_MD_CTX_new();
    if (c->md == NULL || EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
        abort();
    return c;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    if (len > 0 && EVP_DigestUpdate(c->md, data, len) != 1)
        abort();
}

void sha256_finish(struct sha256_ctx *c, char out[DIGEST_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(c->md, md, &n) != 1 || n != 32)
        abort();
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    sha256_free(c);
}

void sha256_free(struct sha256_ctx *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->md);
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
