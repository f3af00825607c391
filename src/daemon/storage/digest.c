/* sha256 helpers over nettle (see digest.h). Nettle is loaded anyway (libmicrohttpd's TLS and libarchive
 * link it) and is small: the daemon does not map OpenSSL's libcrypto (1.5 MiB resident) for hashing. Its
 * x86_64 build picks the SHA extensions at run time where the CPU has them. */
#include "daemon/storage/digest.h"

#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

/* nettle's <sha2.h> maps sha256_update to nettle_sha256_update by a macro; the name is ours here (digest.h),
 * and nettle's function is called by its real name. */
#undef sha256_update

struct sha256_ctx *sha256_new(void)
{
    struct sha256_ctx *c = xmalloc(sizeof(*c));
    nettle_sha256_init(c);
    return c;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    if (len > 0)
        nettle_sha256_update(c, len, data);
}

void sha256_finish(struct sha256_ctx *c, char out[DIGEST_HEX_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t md[SHA256_DIGEST_SIZE];
    nettle_sha256_digest(c, sizeof(md), md);
    for (unsigned int i = 0; i < SHA256_DIGEST_SIZE; i++) {
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
