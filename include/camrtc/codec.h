/* Base64 (RFC 4648, standard alphabet with padding) and hex encodings.
 *
 * Decoders accept only canonical input and never write past outsz; they are
 * used on remote input (KVS message payloads, WebSocket keys).
 */
#ifndef CAMRTC_CODEC_H
#define CAMRTC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes needed to base64-encode n bytes, including the terminating NUL. */
#define CAMRTC_BASE64_ENCODED_SIZE(n) ((((n) + 2) / 3) * 4 + 1)

/* Encode n bytes into out (NUL-terminated). Returns the length written without
 * the NUL, or CAMRTC_ETOOBIG when outsz is too small. */
int camrtc_base64_encode(const void *in, size_t n, char *out, size_t outsz);

/* Decode len characters of base64 into out. Whitespace is rejected; padding is
 * required. Returns the number of bytes written, CAMRTC_EPROTO on malformed
 * input, CAMRTC_ETOOBIG when outsz is too small. */
int camrtc_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsz);

/* Encode n bytes as lowercase hex into out (outsz >= 2n+1), NUL-terminated. */
int camrtc_hex_encode(const void *in, size_t n, char *out, size_t outsz);

/* Value of one hex digit (either case), or -1 when c is not one. */
int camrtc_hex_digit(int c);

/* Decode len hex digits (either case) into out. Returns bytes written,
 * CAMRTC_EPROTO on malformed input, CAMRTC_ETOOBIG when outsz is too small. */
int camrtc_hex_decode(const char *in, size_t len, uint8_t *out, size_t outsz);

#ifdef __cplusplus
}
#endif
#endif
