/* SHA-256 (FIPS 180-4 examples), HMAC-SHA256 (RFC 4231) and HMAC-SHA1 (RFC 2202); the
 * random source (camrtc/rand.h) seeds and reseeds from the OS. */
#include <string.h>

#include "check.h"

#include "camrtc/codec.h"
#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"

static void to_hex(const uint8_t *d, size_t n, char *out)
{
    camrtc_hex_encode(d, n, out, 2 * n + 1);
}

TEST(sha256_fips_vectors)
{
    char hex[CAMRTC_SHA256_HEX_SIZE];
    CHECK_EQ_INT(camrtc_sha256_hex("abc", 3, hex), CAMRTC_OK);
    CHECK_EQ_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_EQ_INT(camrtc_sha256_hex(NULL, 0, hex), CAMRTC_OK);
    CHECK_EQ_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    uint8_t d[CAMRTC_SHA256_LEN];
    CHECK_EQ_INT(camrtc_sha256(m, strlen(m), d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(sha256_incremental_million_a)
{
    /* One million 'a' fed in uneven chunks must equal the FIPS digest. */
    static uint8_t chunk[997];
    memset(chunk, 'a', sizeof chunk);
    camrtc_sha256_ctx c;
    CHECK_EQ_INT(camrtc_sha256_init(&c), CAMRTC_OK);
    size_t left = 1000000;
    while (left > 0) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        CHECK_EQ_INT(camrtc_sha256_update(&c, chunk, n), CAMRTC_OK);
        left -= n;
    }
    CHECK_EQ_INT(camrtc_sha256_update(&c, NULL, 0), CAMRTC_OK);
    uint8_t d[CAMRTC_SHA256_LEN];
    CHECK_EQ_INT(camrtc_sha256_finish(&c, d), CAMRTC_OK);
    camrtc_sha256_free(&c);
    camrtc_sha256_free(&c); /* a second free is harmless */
    char hex[CAMRTC_SHA256_HEX_SIZE];
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(sha256_incremental_equals_one_shot)
{
    const char *s = "The quick brown fox jumps over the lazy dog";
    uint8_t a[CAMRTC_SHA256_LEN], b[CAMRTC_SHA256_LEN];
    CHECK_EQ_INT(camrtc_sha256(s, strlen(s), a), CAMRTC_OK);
    camrtc_sha256_ctx c;
    CHECK_EQ_INT(camrtc_sha256_init(&c), CAMRTC_OK);
    for (size_t i = 0; i < strlen(s); i++)
        CHECK_EQ_INT(camrtc_sha256_update(&c, s + i, 1), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_sha256_finish(&c, b), CAMRTC_OK);
    camrtc_sha256_free(&c);
    CHECK_EQ_MEM(a, b, sizeof a);
    char hex[CAMRTC_SHA256_HEX_SIZE];
    to_hex(a, sizeof a, hex);
    CHECK_EQ_STR(hex, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

TEST(hmac_sha256_rfc4231)
{
    uint8_t key[131], d[CAMRTC_SHA256_LEN];
    char hex[CAMRTC_SHA256_HEX_SIZE];
    /* Test case 1 */
    memset(key, 0x0b, 20);
    CHECK_EQ_INT(camrtc_hmac_sha256(key, 20, "Hi There", 8, d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    /* Test case 2: a key shorter than the block */
    const char *data2 = "what do ya want for nothing?";
    CHECK_EQ_INT(camrtc_hmac_sha256("Jefe", 4, data2, strlen(data2), d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* Test case 6: a key longer than the block is hashed first */
    memset(key, 0xaa, sizeof key);
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK_EQ_INT(camrtc_hmac_sha256(key, sizeof key, data6, strlen(data6), d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(hmac_sha1_rfc2202)
{
    uint8_t key[80], d[CAMRTC_SHA1_LEN];
    char hex[2 * CAMRTC_SHA1_LEN + 1];
    memset(key, 0x0b, 20);
    CHECK_EQ_INT(camrtc_hmac_sha1(key, 20, "Hi There", 8, d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
    const char *data2 = "what do ya want for nothing?";
    CHECK_EQ_INT(camrtc_hmac_sha1("Jefe", 4, data2, strlen(data2), d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    memset(key, 0xaa, sizeof key);
    const char *data6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK_EQ_INT(camrtc_hmac_sha1(key, sizeof key, data6, strlen(data6), d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
}

TEST(hmac_empty_key_and_data)
{
    /* HMAC-SHA256 with an empty key over empty data (a well-known constant). */
    uint8_t d[CAMRTC_SHA256_LEN];
    char hex[CAMRTC_SHA256_HEX_SIZE];
    CHECK_EQ_INT(camrtc_hmac_sha256(NULL, 0, NULL, 0, d), CAMRTC_OK);
    to_hex(d, sizeof d, hex);
    CHECK_EQ_STR(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

/* The rng keeps no entropy context: its DRBG gets a fresh one for each (re)seed. With a
 * reseed before every request, each request goes back to the OS and still succeeds. */
TEST(rng_seeds_and_reseeds_from_the_os)
{
    camrtc_rng a, b;
    CHECK_EQ_INT(camrtc_rng_init(&a), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rng_init(&b), CAMRTC_OK);
    uint8_t x[32], y[32];
    CHECK_EQ_INT(camrtc_rng_bytes(&a, x, sizeof x), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rng_bytes(&b, y, sizeof y), CAMRTC_OK);
    CHECK(memcmp(x, y, sizeof x) != 0);   /* two seeds alike: 2^-256 */
    mbedtls_ctr_drbg_set_reseed_interval(&a.drbg, 1);
    for (int i = 0; i < 4; i++) {
        memcpy(y, x, sizeof x);
        CHECK_EQ_INT(camrtc_rng_bytes(&a, x, sizeof x), CAMRTC_OK);
        CHECK(memcmp(x, y, sizeof x) != 0);
    }
    camrtc_rng_free(&a);
    camrtc_rng_free(&b);
}

/* A fixed seed gives the same stream (tests and the simulated network rely on it). */
TEST(rng_fixed_seed_repeats)
{
    camrtc_rng a, b;
    CHECK_EQ_INT(camrtc_rng_init_seed(&a, 42), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rng_init_seed(&b, 42), CAMRTC_OK);
    uint8_t x[64], y[64];
    CHECK_EQ_INT(camrtc_rng_bytes(&a, x, sizeof x), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rng_bytes(&b, y, sizeof y), CAMRTC_OK);
    CHECK(memcmp(x, y, sizeof x) == 0);
    camrtc_rng_free(&a);
    camrtc_rng_free(&b);
}

int main(void)
{
    return RUN_TESTS(sha256_fips_vectors, sha256_incremental_million_a, sha256_incremental_equals_one_shot,
                     hmac_sha256_rfc4231, hmac_sha1_rfc2202, hmac_empty_key_and_data,
                     rng_seeds_and_reseeds_from_the_os, rng_fixed_seed_repeats);
}
