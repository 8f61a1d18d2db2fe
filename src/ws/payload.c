/* Payload bytes of WebSocket frames: unmasking and UTF-8 checks, a block of
 * bytes at a time (see payload.h). */
#include "ws/payload.h"

#include <string.h>

#define WS_HIGH_BITS 0x8080808080808080u

/* Two 64-bit lanes (GCC/clang vector extension: SSE2 on x86-64, NEON on
 * arm64, plain words elsewhere). Loaded and stored with memcpy, so unaligned. */
typedef uint64_t ws_vec __attribute__((vector_size(16)));

/* Length of the run of ASCII bytes s starts with, looked at 64, then 8 bytes
 * at a time: signaling messages are JSON with base64 in it, all ASCII. */
static size_t ws_ascii_run(const uint8_t *s, size_t n)
{
    size_t i = 0;
    for (; n - i >= 64; i += 64) {
        ws_vec v[4];
        memcpy(v, s + i, sizeof v);
        ws_vec a = v[0] | v[1] | v[2] | v[3];
        if ((a[0] | a[1]) & WS_HIGH_BITS)
            break;
    }
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & WS_HIGH_BITS)
            break;
    }
    while (i < n && s[i] < 0x80)
        i++;
    return i;
}

/* Run n more bytes through u (see ws_utf8); false once the text cannot be valid. */
bool ws_utf8_step(ws_utf8 *u, const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c;
        if (u->need > 0) {
            c = s[i++];
            if (c < u->lo || c > u->hi)
                return false;
            u->need--;
            u->lo = 0x80, u->hi = 0xBF;
            continue;
        }
        i += ws_ascii_run(s + i, n - i);
        if (i == n)
            break;
        c = s[i++];
        if (c >= 0xC2 && c <= 0xDF)
            u->need = 1, u->lo = 0x80, u->hi = 0xBF;
        else if (c >= 0xE0 && c <= 0xEF)
            u->need = 2, u->lo = c == 0xE0 ? 0xA0 : 0x80, u->hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            u->need = 3, u->lo = c == 0xF0 ? 0x90 : 0x80, u->hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return false;
    }
    return true;
}

/* True for a whole, well-formed UTF-8 text. */
bool ws_utf8_valid(const uint8_t *s, size_t n)
{
    ws_utf8 u = {0, 0, 0};
    return ws_utf8_step(&u, s, n) && u.need == 0;
}

/* dst = src XOR the 4-byte key repeated (RFC 6455 5.3), 32, then 8 bytes at
 * a time. Returns true when every output byte is ASCII, which spares text a
 * UTF-8 pass. */
bool ws_mask_copy(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t key[4])
{
    const uint8_t k8[8] = {key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]};
    uint64_t k;
    memcpy(&k, k8, 8);
    const ws_vec kv = {k, k};
    ws_vec acc = {0, 0};
    size_t i = 0;
    for (; n - i >= 32; i += 32) {
        ws_vec v[2];
        memcpy(v, src + i, sizeof v);
        v[0] ^= kv;
        v[1] ^= kv;
        memcpy(dst + i, v, sizeof v);
        acc |= v[0] | v[1];
    }
    uint64_t all = acc[0] | acc[1];
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, src + i, 8);
        w ^= k;
        memcpy(dst + i, &w, 8);
        all |= w;
    }
    for (; i < n; i++) {
        dst[i] = (uint8_t)(src[i] ^ key[i & 3]);
        all |= dst[i];
    }
    return (all & WS_HIGH_BITS) == 0;
}
