/* Internals shared by the STUN parser (stun.c), builder (stun_build.c) and the
 * integrity/fingerprint arithmetic (stun_crypto.c). Not public API. */
#ifndef CAMRTC_STUN_INT_H
#define CAMRTC_STUN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/bytes.h"

#define STUN_SHA1_LEN 20
#define STUN_SHA256_LEN 32
#define STUN_FINGERPRINT_XOR 0x5354554eu /* "STUN", RFC 8489 §14.7 */

/* HMAC-SHA1 (sha256 = false, 20 bytes out) or HMAC-SHA256 (32 bytes out) of the first n
 * bytes of a message (n >= 20), computed as if the header's length field read hdr_len.
 * That is how MESSAGE-INTEGRITY(-SHA256) is defined (RFC 8489 §14.5, §14.6): the length
 * covers the message up to and including the integrity attribute, although the hash stops
 * before it. CAMRTC_OK or CAMRTC_ECRYPTO. */
int stun_hmac_prefix(bool sha256, const uint8_t *key, size_t keylen, const uint8_t *msg, size_t n,
                     uint16_t hdr_len, uint8_t *out);

/* CRC-32 (ISO HDLC, as in zlib) of the first n bytes (n >= 20) with the header length
 * field read as hdr_len, xored with 0x5354554e: the FINGERPRINT value (RFC 8489 §14.7). */
uint32_t stun_fingerprint_prefix(const uint8_t *msg, size_t n, uint16_t hdr_len);

/* Plain CRC-32 of len bytes, continuing from crc (start with 0). */
uint32_t stun_crc32(uint32_t crc, const uint8_t *p, size_t len);

#endif
