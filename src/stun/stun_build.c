/* Writing STUN messages into a caller buffer (RFC 8489 §5, §14).
 *
 * The header's length field is kept up to date after every attribute, so the message is
 * well formed at each step and the integrity attributes can hash what is already written.
 * Errors are sticky: after the first one every call does nothing and
 * camrtc_stun_build_finish reports it.
 */
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "stun/stun_int.h"

/* Largest body the 16-bit length field can describe, rounded down to the 4-byte grid. */
#define STUN_MAX_BODY 0xfffcu

static void fail(camrtc_stun_builder *b, int err)
{
    if (b->err == 0)
        b->err = err;
}

void camrtc_stun_build_init(camrtc_stun_builder *b, uint8_t *buf, size_t cap, uint16_t type, const uint8_t txid[12])
{
    *b = (camrtc_stun_builder){.buf = buf, .cap = cap};
    if (!buf || !txid || (type & 0xc000)) {
        fail(b, CAMRTC_EINVAL);
        return;
    }
    if (cap < CAMRTC_STUN_HEADER) {
        fail(b, CAMRTC_ETOOBIG);
        return;
    }
    camrtc_wr16(buf, type);
    camrtc_wr16(buf + 2, 0);
    camrtc_wr32(buf + 4, CAMRTC_STUN_MAGIC);
    memcpy(buf + 8, txid, 12);
    b->len = CAMRTC_STUN_HEADER;
}

/* Reserve an attribute of value length len; returns where its value goes, or NULL (and
 * the sticky error) when it does not fit. Padding is zeroed and the header length updated. */
static uint8_t *reserve(camrtc_stun_builder *b, uint16_t type, size_t len)
{
    if (b->err)
        return NULL;
    if (len > 0xffff) {
        fail(b, CAMRTC_EINVAL);
        return NULL;
    }
    size_t padded = (len + 3) & ~(size_t)3;
    size_t body = b->len - CAMRTC_STUN_HEADER;
    if (4 + padded > b->cap - b->len || body + 4 + padded > STUN_MAX_BODY) {
        fail(b, CAMRTC_ETOOBIG);
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    camrtc_wr16(p, type);
    camrtc_wr16(p + 2, (uint16_t)len);
    memset(p + 4 + len, 0, padded - len);
    b->len += 4 + padded;
    camrtc_wr16(b->buf + 2, (uint16_t)(b->len - CAMRTC_STUN_HEADER));
    return p + 4;
}

void camrtc_stun_add(camrtc_stun_builder *b, uint16_t type, const void *value, size_t len)
{
    if (!value && len) {
        fail(b, CAMRTC_EINVAL);
        return;
    }
    uint8_t *v = reserve(b, type, len);
    if (v && len)
        memcpy(v, value, len);
}

void camrtc_stun_add_u32(camrtc_stun_builder *b, uint16_t type, uint32_t v)
{
    uint8_t *p = reserve(b, type, 4);
    if (p)
        camrtc_wr32(p, v);
}

void camrtc_stun_add_u64(camrtc_stun_builder *b, uint16_t type, uint64_t v)
{
    uint8_t *p = reserve(b, type, 8);
    if (p) {
        camrtc_wr32(p, (uint32_t)(v >> 32));
        camrtc_wr32(p + 4, (uint32_t)v);
    }
}

void camrtc_stun_add_string(camrtc_stun_builder *b, uint16_t type, const char *s)
{
    if (!s) {
        fail(b, CAMRTC_EINVAL);
        return;
    }
    camrtc_stun_add(b, type, s, strlen(s));
}

/* Address attributes (§14.1, §14.2); xored ones mask the port with the cookie's top half
 * and the address with the cookie + transaction id (the header bytes 4..19). */
static void add_address(camrtc_stun_builder *b, uint16_t type, const camrtc_addr *a, bool xored)
{
    if (!a || (a->family != 4 && a->family != 6)) {
        fail(b, CAMRTC_EINVAL);
        return;
    }
    size_t iplen = a->family == 4 ? 4 : 16;
    uint8_t *p = reserve(b, type, 4 + iplen);
    if (!p)
        return;
    p[0] = 0;
    p[1] = a->family == 4 ? 0x01 : 0x02;
    uint16_t port = a->port;
    if (xored)
        port ^= (uint16_t)(CAMRTC_STUN_MAGIC >> 16);
    camrtc_wr16(p + 2, port);
    for (size_t i = 0; i < iplen; i++)
        p[4 + i] = xored ? a->ip[i] ^ b->buf[4 + i] : a->ip[i];
}

void camrtc_stun_add_xor_addr(camrtc_stun_builder *b, uint16_t type, const camrtc_addr *a)
{
    add_address(b, type, a, true);
}

void camrtc_stun_add_addr(camrtc_stun_builder *b, uint16_t type, const camrtc_addr *a)
{
    add_address(b, type, a, false);
}

/* ERROR-CODE (§14.8): class = hundreds digit, number = the rest. */
void camrtc_stun_add_error(camrtc_stun_builder *b, int code, const char *reason)
{
    if (code < 300 || code > 699) {
        fail(b, CAMRTC_EINVAL);
        return;
    }
    size_t rlen = reason ? strlen(reason) : 0;
    uint8_t *p = reserve(b, CAMRTC_STUN_A_ERROR_CODE, 4 + rlen);
    if (!p)
        return;
    p[0] = p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    if (rlen)
        memcpy(p + 4, reason, rlen);
}

void camrtc_stun_add_unknown(camrtc_stun_builder *b, const uint16_t *types, unsigned n)
{
    if (!types && n) {
        fail(b, CAMRTC_EINVAL);
        return;
    }
    uint8_t *p = reserve(b, CAMRTC_STUN_A_UNKNOWN_ATTRIBUTES, (size_t)n * 2);
    for (unsigned i = 0; p && i < n; i++)
        camrtc_wr16(p + 2 * i, types[i]);
}

/* The integrity attributes hash the message so far with the header length already
 * counting the attribute being added (§14.5, §14.6): reserve it first (which updates the
 * length), then hash everything before it. */
static void add_mac(camrtc_stun_builder *b, uint16_t type, bool sha256, const uint8_t *key, size_t keylen)
{
    size_t maclen = sha256 ? STUN_SHA256_LEN : STUN_SHA1_LEN;
    if (!key && keylen) {
        fail(b, CAMRTC_EINVAL);
        return;
    }
    uint8_t *p = reserve(b, type, maclen);
    if (!p)
        return;
    size_t start = (size_t)(p - b->buf) - 4;
    int rc = stun_hmac_prefix(sha256, key, keylen, b->buf, start, (uint16_t)(b->len - CAMRTC_STUN_HEADER), p);
    if (rc < 0)
        fail(b, rc);
}

void camrtc_stun_add_integrity(camrtc_stun_builder *b, const uint8_t *key, size_t keylen)
{
    add_mac(b, CAMRTC_STUN_A_MESSAGE_INTEGRITY, false, key, keylen);
}

void camrtc_stun_add_integrity_sha256(camrtc_stun_builder *b, const uint8_t *key, size_t keylen)
{
    add_mac(b, CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256, true, key, keylen);
}

void camrtc_stun_add_fingerprint(camrtc_stun_builder *b)
{
    uint8_t *p = reserve(b, CAMRTC_STUN_A_FINGERPRINT, 4);
    if (!p)
        return;
    size_t start = (size_t)(p - b->buf) - 4;
    camrtc_wr32(p, stun_fingerprint_prefix(b->buf, start, (uint16_t)(b->len - CAMRTC_STUN_HEADER)));
}

int camrtc_stun_build_finish(const camrtc_stun_builder *b)
{
    if (b->err)
        return b->err;
    return (int)b->len;
}
