#include "camrtc/crypto.h"

#include <mbedtls/md.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"

int camrtc_sha256(const void *data, size_t len, uint8_t out[CAMRTC_SHA256_LEN])
{
    static const uint8_t empty = 0;
    if (!data)
        data = &empty;
    return mbedtls_sha256_ret(data, len, out, 0) == 0 ? CAMRTC_OK : CAMRTC_ECRYPTO;
}

int camrtc_sha256_hex(const void *data, size_t len, char out[CAMRTC_SHA256_HEX_SIZE])
{
    uint8_t d[CAMRTC_SHA256_LEN];
    int rc = camrtc_sha256(data, len, d);
    if (rc < 0)
        return rc;
    rc = camrtc_hex_encode(d, sizeof d, out, CAMRTC_SHA256_HEX_SIZE);
    return rc < 0 ? rc : CAMRTC_OK;
}

int camrtc_sha256_init(camrtc_sha256_ctx *c)
{
    mbedtls_sha256_init(&c->md);
    return mbedtls_sha256_starts_ret(&c->md, 0) == 0 ? CAMRTC_OK : CAMRTC_ECRYPTO;
}

int camrtc_sha256_update(camrtc_sha256_ctx *c, const void *data, size_t len)
{
    if (len == 0)
        return CAMRTC_OK;
    return mbedtls_sha256_update_ret(&c->md, data, len) == 0 ? CAMRTC_OK : CAMRTC_ECRYPTO;
}

int camrtc_sha256_finish(camrtc_sha256_ctx *c, uint8_t out[CAMRTC_SHA256_LEN])
{
    return mbedtls_sha256_finish_ret(&c->md, out) == 0 ? CAMRTC_OK : CAMRTC_ECRYPTO;
}

void camrtc_sha256_free(camrtc_sha256_ctx *c)
{
    /* mbedtls_sha256_free zeroizes the whole context, so a second call is harmless. */
    mbedtls_sha256_free(&c->md);
}

static int hmac(mbedtls_md_type_t t, const void *key, size_t keylen, const void *data, size_t len,
                uint8_t *out)
{
    static const uint8_t empty = 0;
    const mbedtls_md_info_t *info = mbedtls_md_info_from_type(t);
    if (!info)
        return CAMRTC_ECRYPTO;
    return mbedtls_md_hmac(info, key ? key : &empty, keylen, data ? data : &empty, len, out) == 0
               ? CAMRTC_OK
               : CAMRTC_ECRYPTO;
}

int camrtc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
                       uint8_t out[CAMRTC_SHA256_LEN])
{
    return hmac(MBEDTLS_MD_SHA256, key, keylen, data, len, out);
}

int camrtc_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
                     uint8_t out[CAMRTC_SHA1_LEN])
{
    return hmac(MBEDTLS_MD_SHA1, key, keylen, data, len, out);
}
