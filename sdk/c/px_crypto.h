/*
 * px_crypto.h — SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and a
 * constant-time comparison, written for the guest SDK (no libcrypto in wasm).
 *
 * Owns:     the hash, the MAC, timing-safe equality.
 * Not here: encodings (px_base64.h), JWT (px_jwt.h), randomness.
 */
#ifndef PX_CRYPTO_H
#define PX_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PX_SHA256_LEN 32

typedef struct {
    uint32_t h[8];
    uint64_t total;     /* bytes hashed so far */
    uint8_t block[64];
    size_t used;        /* bytes in block */
} px_sha256_ctx;

void px_sha256_init(px_sha256_ctx *c);
void px_sha256_update(px_sha256_ctx *c, const void *data, size_t len);
void px_sha256_final(px_sha256_ctx *c, uint8_t out[PX_SHA256_LEN]);
void px_sha256(const void *data, size_t len, uint8_t out[PX_SHA256_LEN]);

void px_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[PX_SHA256_LEN]);

/* true when a[0..n) == b[0..n); time depends only on n. */
bool px_ct_equal(const void *a, const void *b, size_t n);

/* Lower-case hex of data into out (2*len+1 bytes, NUL-terminated). */
void px_hex(const uint8_t *data, size_t len, char *out);

#endif
