/* Payload bytes of WebSocket frames, for the session in ws.c: unmasking
 * (RFC 6455 section 5.3) and UTF-8 checks of text (RFC 6455 section 8.1, RFC
 * 3629 section 4). Both run 8 to 64 bytes at a time, with a shortcut for ASCII,
 * since signaling messages are JSON with base64 in it. Module-internal. */
#ifndef CAMRTC_WS_PAYLOAD_H
#define CAMRTC_WS_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Incremental UTF-8 check (RFC 3629 section 4: no overlongs, surrogates or
 * code points over U+10FFFF). It refuses at the first byte that no valid text
 * can have there, as wslay's check does, so a message split across feeds fails
 * at the same feed either way. */
typedef struct ws_utf8 {
    uint8_t need;   /* continuation bytes still expected */
    uint8_t lo, hi; /* range allowed for the next one */
} ws_utf8;

/* Run n more bytes (borrowed) through u, which starts zeroed; false once the
 * text cannot be valid. The text is whole and valid when this never returned
 * false and u->need is 0. */
bool ws_utf8_step(ws_utf8 *u, const uint8_t *s, size_t n);

/* True for a whole, well-formed UTF-8 text (s may be NULL when n is 0). */
bool ws_utf8_valid(const uint8_t *s, size_t n);

/* dst = src XOR the 4-byte key repeated from its first byte; dst and src (n
 * bytes each) may not overlap. Returns true when every byte written is ASCII,
 * which spares text a UTF-8 pass. */
bool ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4]);

#endif
