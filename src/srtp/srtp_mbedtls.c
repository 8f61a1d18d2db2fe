/* AES-ICM-128 and HMAC-SHA1 for libsrtp2, on mbedtls.
 *
 * libsrtp2 does the SRTP protocol (RFC 3711: key derivation, packet index and rollover
 * counter, replay window, which bytes are encrypted and authenticated); it takes its
 * crypto primitives from a table of "cipher types" and "auth types" that an application
 * may replace (srtp_replace_cipher_type / srtp_replace_auth_type, cipher.h and auth.h).
 * Debian builds libsrtp2 on NSS, whose AES-ICM and HMAC make and destroy a PKCS#11
 * context for every packet: more than half of the master's send cost per packet. These
 * two types do the same arithmetic on mbedtls, which camrtc already uses for DTLS, with
 * the key schedule kept per session. libsrtp runs its own known-answer tests on a
 * replacement before it takes it (and ours, below), so a wrong one is refused, never used.
 *
 * AES-ICM (RFC 3711 §4.1.1): the 30-byte key is the 16-byte AES key followed by the
 * 14-byte salt; for each packet libsrtp gives a 16-byte IV (SSRC and packet index in
 * place), and the counter block is salt XOR IV, its last two bytes counting the 16-byte
 * blocks of the packet. That is AES in counter mode with a 128-bit big-endian counter
 * (the low 16 bits never carry: a packet is far below 2^16 blocks).
 */
#include "srtp_mbedtls.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/aes.h>
#include <mbedtls/sha1.h>
#include <mbedtls/platform_util.h>
#include <srtp2/auth.h>
#include <srtp2/cipher.h>

/* ---- AES-ICM-128 ---------------------------------------------------------------------- */

#define ICM_KEY_LEN 16
#define ICM_SALT_LEN 14

typedef struct {
    mbedtls_aes_context aes;
    uint8_t salt[16];      /* salt, last two bytes zero */
    uint8_t counter[16];   /* salt XOR IV, then counting blocks */
    uint8_t stream[16];    /* keystream block being used */
    size_t stream_off;     /* bytes of it used (mbedtls_aes_crypt_ctr's nc_off) */
} icm_state;

static const srtp_cipher_type_t icm_type;

static srtp_err_status_t icm_alloc(srtp_cipher_pointer_t *cp, int key_len, int tag_len)
{
    (void)tag_len;
    if (key_len != ICM_KEY_LEN + ICM_SALT_LEN)   /* SRTP_AES_ICM_128_KEY_LEN_WSALT */
        return srtp_err_status_bad_param;
    srtp_cipher_t *c = calloc(1, sizeof(*c));
    icm_state *s = calloc(1, sizeof(*s));
    if (!c || !s) {
        free(c);
        free(s);
        return srtp_err_status_alloc_fail;
    }
    mbedtls_aes_init(&s->aes);
    c->type = &icm_type;
    c->state = s;
    c->key_len = key_len;
    c->algorithm = SRTP_AES_ICM_128;
    *cp = c;
    return srtp_err_status_ok;
}

static srtp_err_status_t icm_dealloc(srtp_cipher_pointer_t c)
{
    if (!c)
        return srtp_err_status_bad_param;
    icm_state *s = c->state;
    if (s) {
        mbedtls_aes_free(&s->aes);
        mbedtls_platform_zeroize(s, sizeof(*s));
        free(s);
    }
    free(c);
    return srtp_err_status_ok;
}

static srtp_err_status_t icm_init(void *state, const uint8_t *key)
{
    icm_state *s = state;
    memset(s->salt, 0, sizeof s->salt);
    memcpy(s->salt, key + ICM_KEY_LEN, ICM_SALT_LEN);
    /* Counter mode only ever encrypts the counter: the encryption key schedule serves
     * both directions. */
    if (mbedtls_aes_setkey_enc(&s->aes, key, ICM_KEY_LEN * 8) != 0)
        return srtp_err_status_init_fail;
    return srtp_err_status_ok;
}

static srtp_err_status_t icm_set_iv(void *state, uint8_t *iv, srtp_cipher_direction_t dir)
{
    (void)dir;
    icm_state *s = state;
    for (int i = 0; i < 16; i++)
        s->counter[i] = s->salt[i] ^ iv[i];
    s->stream_off = 0;
    return srtp_err_status_ok;
}

static srtp_err_status_t icm_crypt(void *state, uint8_t *buf, unsigned int *len)
{
    icm_state *s = state;
    if (mbedtls_aes_crypt_ctr(&s->aes, *len, &s->stream_off, s->counter, s->stream, buf, buf) != 0)
        return srtp_err_status_cipher_fail;
    return srtp_err_status_ok;
}

/* RFC 3711 Appendix B.2: session key, salt, and the first two keystream blocks. */
static const uint8_t icm_test_key[30] = {
    0x2b, 0x7e, 0x15, 0x16, 0x28, 0xae, 0xd2, 0xa6, 0xab, 0xf7, 0x15, 0x88, 0x09, 0xcf, 0x4f, 0x3c,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd};
static uint8_t icm_test_iv[16];   /* zero: libsrtp's test API takes a non-const IV */
static const uint8_t icm_test_plain[32];
static const uint8_t icm_test_cipher[32] = {
    0xe0, 0x3e, 0xad, 0x09, 0x35, 0xc9, 0x5e, 0x80, 0xe1, 0x66, 0xb1, 0x6d, 0xd9, 0x2b, 0x4e, 0xb4,
    0xd2, 0x35, 0x13, 0x16, 0x2b, 0x02, 0xd0, 0xf7, 0x2a, 0x43, 0xa2, 0xfe, 0x4a, 0x5f, 0x97, 0xab};
static const srtp_cipher_test_case_t icm_test = {
    .key_length_octets = 30, .key = icm_test_key, .idx = icm_test_iv,
    .plaintext_length_octets = 32, .plaintext = icm_test_plain,
    .ciphertext_length_octets = 32, .ciphertext = icm_test_cipher,
};

static const srtp_cipher_type_t icm_type = {
    .alloc = icm_alloc, .dealloc = icm_dealloc, .init = icm_init,
    .set_aad = NULL, .encrypt = icm_crypt, .decrypt = icm_crypt, .set_iv = icm_set_iv,
    .get_tag = NULL, .description = "AES-128 integer counter mode (camrtc, mbedtls)",
    .test_data = &icm_test, .id = SRTP_AES_ICM_128,
};

/* ---- HMAC-SHA1 ------------------------------------------------------------------------
 *
 * RFC 2104: tag = SHA1((K ^ opad) || SHA1((K ^ ipad) || data)). The key is fixed for a
 * session, so the hash states after the two 64-byte pad blocks are computed once at init;
 * each packet starts from a copy of them, saving two of the ~22 SHA-1 blocks a 1200-byte
 * packet costs (mbedtls_md_hmac_reset would hash the inner pad again every time). */

#define SHA1_LEN 20
#define SHA1_BLOCK 64

typedef struct {
    mbedtls_sha1_context inner_keyed, outer_keyed;  /* after K ^ ipad, after K ^ opad */
    mbedtls_sha1_context work;                      /* the packet being authenticated */
} hmac_state;

static const srtp_auth_type_t hmac_type;

static void hmac_wipe(hmac_state *h)
{
    mbedtls_sha1_free(&h->inner_keyed);
    mbedtls_sha1_free(&h->outer_keyed);
    mbedtls_sha1_free(&h->work);
}

static srtp_err_status_t hmac_alloc(srtp_auth_pointer_t *ap, int key_len, int out_len)
{
    if (key_len < 0 || key_len > SHA1_LEN || out_len < 0 || out_len > SHA1_LEN)
        return srtp_err_status_bad_param;
    srtp_auth_t *a = calloc(1, sizeof(*a));
    hmac_state *h = calloc(1, sizeof(*h));
    if (!a || !h) {
        free(a);
        free(h);
        return srtp_err_status_alloc_fail;
    }
    mbedtls_sha1_init(&h->inner_keyed);
    mbedtls_sha1_init(&h->outer_keyed);
    mbedtls_sha1_init(&h->work);
    a->type = &hmac_type;
    a->state = h;
    a->out_len = out_len;
    a->key_len = key_len;
    a->prefix_len = 0;
    *ap = a;
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_dealloc(srtp_auth_pointer_t a)
{
    if (!a)
        return srtp_err_status_bad_param;
    hmac_wipe(a->state);   /* mbedtls_sha1_free zeroizes */
    free(a->state);
    free(a);
    return srtp_err_status_ok;
}

/* Keys up to the block size are used as they are (libsrtp's are 20 bytes at most). */
static srtp_err_status_t hmac_init(void *state, const uint8_t *key, int key_len)
{
    hmac_state *h = state;
    if (key_len < 0 || key_len > SHA1_BLOCK)
        return srtp_err_status_bad_param;
    uint8_t ipad[SHA1_BLOCK], opad[SHA1_BLOCK];
    for (int i = 0; i < SHA1_BLOCK; i++) {
        uint8_t k = i < key_len ? key[i] : 0;
        ipad[i] = (uint8_t)(k ^ 0x36);
        opad[i] = (uint8_t)(k ^ 0x5c);
    }
    int rc = mbedtls_sha1_starts_ret(&h->inner_keyed) || mbedtls_sha1_update_ret(&h->inner_keyed, ipad, sizeof ipad) ||
             mbedtls_sha1_starts_ret(&h->outer_keyed) || mbedtls_sha1_update_ret(&h->outer_keyed, opad, sizeof opad);
    mbedtls_platform_zeroize(ipad, sizeof ipad);
    mbedtls_platform_zeroize(opad, sizeof opad);
    if (rc)
        return srtp_err_status_auth_fail;
    mbedtls_sha1_clone(&h->work, &h->inner_keyed);
    return srtp_err_status_ok;
}

/* Back to the keyed state, for the next packet. */
static srtp_err_status_t hmac_start(void *state)
{
    hmac_state *h = state;
    mbedtls_sha1_clone(&h->work, &h->inner_keyed);
    return srtp_err_status_ok;
}

static srtp_err_status_t hmac_update(void *state, const uint8_t *buf, int len)
{
    hmac_state *h = state;
    if (len < 0)
        return srtp_err_status_bad_param;
    return mbedtls_sha1_update_ret(&h->work, buf, (size_t)len) == 0 ? srtp_err_status_ok
                                                                    : srtp_err_status_auth_fail;
}

static srtp_err_status_t hmac_compute(void *state, const uint8_t *buf, int len, int tag_len,
                                      uint8_t *tag)
{
    hmac_state *h = state;
    if (len < 0 || tag_len < 0 || tag_len > SHA1_LEN)
        return srtp_err_status_bad_param;
    uint8_t inner[SHA1_LEN], full[SHA1_LEN];
    if (mbedtls_sha1_update_ret(&h->work, buf, (size_t)len) != 0 || mbedtls_sha1_finish_ret(&h->work, inner) != 0)
        return srtp_err_status_auth_fail;
    mbedtls_sha1_clone(&h->work, &h->outer_keyed);
    if (mbedtls_sha1_update_ret(&h->work, inner, sizeof inner) != 0 || mbedtls_sha1_finish_ret(&h->work, full) != 0)
        return srtp_err_status_auth_fail;
    memcpy(tag, full, (size_t)tag_len);
    return srtp_err_status_ok;
}

/* RFC 2202 test case 1. */
static const uint8_t hmac_test_key[20] = {
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
    0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b};
static const uint8_t hmac_test_data[8] = {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
static const uint8_t hmac_test_tag[20] = {
    0xb6, 0x17, 0x31, 0x86, 0x55, 0x05, 0x72, 0x64, 0xe2, 0x8b,
    0xc0, 0xb6, 0xfb, 0x37, 0x8c, 0x8e, 0xf1, 0x46, 0xbe, 0x00};
static const srtp_auth_test_case_t hmac_test = {
    .key_length_octets = 20, .key = hmac_test_key, .data_length_octets = 8,
    .data = hmac_test_data, .tag_length_octets = 20, .tag = hmac_test_tag,
};

static const srtp_auth_type_t hmac_type = {
    .alloc = hmac_alloc, .dealloc = hmac_dealloc, .init = hmac_init, .compute = hmac_compute,
    .update = hmac_update, .start = hmac_start,
    .description = "HMAC-SHA1 (camrtc, mbedtls)", .test_data = &hmac_test, .id = SRTP_HMAC_SHA1,
};

/* ---- installing them ---------------------------------------------------------------- */

int camrtc_srtp_install_mbedtls(void)
{
    if (srtp_replace_cipher_type(&icm_type, SRTP_AES_ICM_128) != srtp_err_status_ok)
        return -1;
    if (srtp_replace_auth_type(&hmac_type, SRTP_HMAC_SHA1) != srtp_err_status_ok)
        return -1;
    return 0;
}
