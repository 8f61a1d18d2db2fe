#include "camrtc/rand.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/entropy.h>

#include "camrtc/error.h"

/* The DRBG's entropy callback, for seeding and for each reseed (every
 * MBEDTLS_CTR_DRBG_RESEED_INTERVAL requests): mbedtls's default sources (the OS's
 * getrandom or /dev/urandom, and whatever else the library is built with) gathered
 * through an entropy context made for the call. Keeping that context beside every DRBG
 * cost its full size in each rng, for one use in thousands of requests. */
static int os_entropy(void *unused, unsigned char *out, size_t n)
{
    mbedtls_entropy_context *e = malloc(sizeof *e);
    if (!e)
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    mbedtls_entropy_init(e);
    int rc = mbedtls_entropy_func(e, out, n);
    mbedtls_entropy_free(e);
    free(e);
    return rc;
}

int camrtc_rng_init(camrtc_rng *rng)
{
    static const unsigned char pers[] = "camrtc";
    mbedtls_ctr_drbg_init(&rng->drbg);
    if (mbedtls_ctr_drbg_seed(&rng->drbg, os_entropy, NULL, pers, sizeof pers - 1) != 0) {
        camrtc_rng_free(rng);
        return CAMRTC_ECRYPTO;
    }
    return CAMRTC_OK;
}

/* An entropy callback that hands out the fixed seed bytes, for reproducible runs. */
static int seed_entropy(void *p, unsigned char *out, size_t n)
{
    const uint8_t *seed = p;
    for (size_t i = 0; i < n; i++)
        out[i] = seed[i % 8];
    return 0;
}

int camrtc_rng_init_seed(camrtc_rng *rng, uint64_t seed)
{
    uint8_t s[8];
    for (int i = 0; i < 8; i++)
        s[i] = (uint8_t)(seed >> (8 * i));
    mbedtls_ctr_drbg_init(&rng->drbg);
    if (mbedtls_ctr_drbg_seed(&rng->drbg, seed_entropy, s, NULL, 0) != 0) {
        camrtc_rng_free(rng);
        return CAMRTC_ECRYPTO;
    }
    /* seed_entropy's state must not be used after seeding: reseeding is off. */
    mbedtls_ctr_drbg_set_reseed_interval(&rng->drbg, 0x7fffffff);
    return CAMRTC_OK;
}

int camrtc_rng_bytes(camrtc_rng *rng, void *out, size_t n)
{
    uint8_t *p = out;
    while (n > 0) {
        size_t chunk = n > MBEDTLS_CTR_DRBG_MAX_REQUEST ? MBEDTLS_CTR_DRBG_MAX_REQUEST : n;
        if (mbedtls_ctr_drbg_random(&rng->drbg, p, chunk) != 0)
            return CAMRTC_ECRYPTO;
        p += chunk;
        n -= chunk;
    }
    return CAMRTC_OK;
}

uint32_t camrtc_rng_uniform(camrtc_rng *rng, uint32_t bound)
{
    if (bound == 0)
        return 0;
    /* Rejection sampling avoids modulo bias. */
    uint32_t limit = UINT32_MAX - UINT32_MAX % bound;
    for (;;) {
        uint32_t v = 0;
        if (camrtc_rng_bytes(rng, &v, sizeof v) < 0)
            return 0;
        if (v < limit)
            return v % bound;
    }
}

void camrtc_rng_free(camrtc_rng *rng)
{
    mbedtls_ctr_drbg_free(&rng->drbg);
}

int camrtc_rng_mbedtls(void *p_rng, unsigned char *out, size_t n)
{
    return camrtc_rng_bytes(p_rng, out, n) < 0 ? -1 : 0;
}
