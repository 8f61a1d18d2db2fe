/* Random numbers from mbedtls CTR-DRBG seeded from the OS entropy source.
 *
 * A camrtc_rng is caller-owned and used from one thread only. Everything that
 * needs randomness (WebSocket masks, ICE credentials, ids, jitter) takes one.
 * It holds only the DRBG (about 400 bytes): the mbedtls entropy context that seeds it
 * (about 38 KB where mbedtls is built with HAVEGE, as Debian's is) lives only while
 * seeding and reseeding, so that one per peer connection stays cheap.
 */
#ifndef CAMRTC_RAND_H
#define CAMRTC_RAND_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/ctr_drbg.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_rng {
    mbedtls_ctr_drbg_context drbg;
} camrtc_rng;

/* Seed rng from the OS. Returns CAMRTC_OK or CAMRTC_ECRYPTO. */
int camrtc_rng_init(camrtc_rng *rng);

/* Seed rng deterministically from seed (tests and the simulated network only). */
int camrtc_rng_init_seed(camrtc_rng *rng, uint64_t seed);

/* Fill out with n random bytes. */
int camrtc_rng_bytes(camrtc_rng *rng, void *out, size_t n);

/* A uniformly random integer in [0, bound) (bound > 0); 0 when bound is 0. */
uint32_t camrtc_rng_uniform(camrtc_rng *rng, uint32_t bound);

/* Release the DRBG state. */
void camrtc_rng_free(camrtc_rng *rng);

/* The mbedtls f_rng-compatible callback; p_rng is a camrtc_rng *. */
int camrtc_rng_mbedtls(void *p_rng, unsigned char *out, size_t n);

#ifdef __cplusplus
}
#endif
#endif
