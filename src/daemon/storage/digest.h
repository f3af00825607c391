/*
 * sha256 helpers (nettle) for content addressing: image IDs, diff IDs and chain IDs.
 * Digests are handled as bare 64-char lowercase hex; "sha256:" prefixes are added/stripped at the edges.
 * Thread-safe (no shared state).
 */
#ifndef ISD_STORAGE_DIGEST_H
#define ISD_STORAGE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define DIGEST_HEX_LEN 64

struct sha256_ctx;

struct sha256_ctx *sha256_new(void);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Writes 64 hex chars + NUL into out and frees the context. */
void sha256_finish(struct sha256_ctx *c, char out[DIGEST_HEX_LEN + 1]);
void sha256_free(struct sha256_ctx *c);
void sha256_hex(const void *data, size_t len, char out[DIGEST_HEX_LEN + 1]);

/* True for exactly 64 lowercase hex characters. */
bool digest_is_hex(const char *s);
/* Returns the hex part of "sha256:<hex>" or "<hex>", or NULL when it is not a valid sha256 digest. */
const char *digest_strip(const char *s);
/* chain(parent, diff): parent NULL -> diff; both bare hex. */
void chain_id_compute(const char *parent_chain, const char *diff_id, char out[DIGEST_HEX_LEN + 1]);

#endif
