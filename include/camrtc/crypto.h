/* Hashes and MACs on mbedtls: SHA-256 (FIPS 180-4), HMAC-SHA256 and HMAC-SHA1
 * (RFC 2104; SHA-1 only because STUN/TURN MESSAGE-INTEGRITY, RFC 8489 section
 * 14.5, still requires it).
 *
 * SigV4 (sigv4.h), certificate fingerprints (cert.h) and STUN build on these.
 * Every function is pure: no global state, no I/O.
 */
#ifndef CAMRTC_CRYPTO_H
#define CAMRTC_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/sha256.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_SHA256_LEN 32
#define CAMRTC_SHA1_LEN 20
/* Lowercase hex of a SHA-256 digest plus its NUL. */
#define CAMRTC_SHA256_HEX_SIZE 65

/* Incremental SHA-256 state; caller-owned, released with camrtc_sha256_free. */
typedef struct camrtc_sha256_ctx {
    mbedtls_sha256_context md;
} camrtc_sha256_ctx;

/* SHA-256 of len bytes at data (data may be NULL when len is 0) into out.
 * Returns CAMRTC_OK or CAMRTC_ECRYPTO. */
int camrtc_sha256(const void *data, size_t len, uint8_t out[CAMRTC_SHA256_LEN]);

/* Lowercase hex SHA-256 of data into out (NUL-terminated, 64 digits).
 * Returns CAMRTC_OK or CAMRTC_ECRYPTO. */
int camrtc_sha256_hex(const void *data, size_t len, char out[CAMRTC_SHA256_HEX_SIZE]);

/* Start an incremental SHA-256. Always call camrtc_sha256_free afterwards, even
 * on error. Returns CAMRTC_OK or CAMRTC_ECRYPTO. */
int camrtc_sha256_init(camrtc_sha256_ctx *c);

/* Feed len more bytes (data may be NULL when len is 0). */
int camrtc_sha256_update(camrtc_sha256_ctx *c, const void *data, size_t len);

/* Write the digest of everything fed so far to out. The context must then be
 * freed (or re-initialised) before more use. */
int camrtc_sha256_finish(camrtc_sha256_ctx *c, uint8_t out[CAMRTC_SHA256_LEN]);

/* Release the state and wipe it. Safe on a zeroed or already-freed context. */
void camrtc_sha256_free(camrtc_sha256_ctx *c);

/* HMAC-SHA256(key, data) into out. key may be NULL when keylen is 0, data when
 * len is 0. Returns CAMRTC_OK or CAMRTC_ECRYPTO. */
int camrtc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                       uint8_t out[CAMRTC_SHA256_LEN]);

/* HMAC-SHA1(key, data) into out (TURN long-term credential integrity).
 * Returns CAMRTC_OK or CAMRTC_ECRYPTO. */
int camrtc_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                     uint8_t out[CAMRTC_SHA1_LEN]);

#ifdef __cplusplus
}
#endif
#endif
