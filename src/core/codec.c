#include "camrtc/codec.h"

#include <stdbool.h>

#include "camrtc/error.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int camrtc_base64_encode(const void *in, size_t n, char *out, size_t outsz)
{
    const uint8_t *p = in;
    if (n > (SIZE_MAX / 4) * 3 - 3 || outsz < CAMRTC_BASE64_ENCODED_SIZE(n))
        return CAMRTC_ETOOBIG;
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = b64[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = b64[(v >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    return (int)o;
}

/* Decoding table: 0..63 for the alphabet, 64 for '=', 255 for anything else. */
static const uint8_t b64dec[256] = {
    ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,  ['E'] = 4,  ['F'] = 5,  ['G'] = 6,  ['H'] = 7,
    ['I'] = 8,  ['J'] = 9,  ['K'] = 10, ['L'] = 11, ['M'] = 12, ['N'] = 13, ['O'] = 14, ['P'] = 15,
    ['Q'] = 16, ['R'] = 17, ['S'] = 18, ['T'] = 19, ['U'] = 20, ['V'] = 21, ['W'] = 22, ['X'] = 23,
    ['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27, ['c'] = 28, ['d'] = 29, ['e'] = 30, ['f'] = 31,
    ['g'] = 32, ['h'] = 33, ['i'] = 34, ['j'] = 35, ['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39,
    ['o'] = 40, ['p'] = 41, ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47,
    ['w'] = 48, ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53, ['2'] = 54, ['3'] = 55,
    ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59, ['8'] = 60, ['9'] = 61, ['+'] = 62, ['/'] = 63,
    ['='] = 64,
};

/* The table above has 0 for unlisted bytes; this marks which bytes are valid. */
static int b64val(unsigned char c)
{
    uint8_t v = b64dec[c];
    if (v == 0 && c != 'A')
        return -1;
    return v == 64 ? -1 : v;
}

int camrtc_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
    if (len % 4 != 0)
        return CAMRTC_EPROTO;
    if (len / 4 > (size_t)INT32_MAX / 3)
        return CAMRTC_ETOOBIG;
    const unsigned char *p = (const unsigned char *)in;
    size_t full = len;
    if (len >= 4 && p[len - 1] == '=')
        full = len - 4;   /* the last group has padding: handled below */
    if (full / 4 * 3 > outsz)
        return CAMRTC_ETOOBIG;
    size_t o = 0;
    for (size_t i = 0; i < full; i += 4) {
        int a = b64val(p[i]), b = b64val(p[i + 1]), c = b64val(p[i + 2]), d = b64val(p[i + 3]);
        if ((a | b | c | d) < 0)
            return CAMRTC_EPROTO;
        uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (uint8_t)(w >> 16);
        out[o++] = (uint8_t)(w >> 8);
        out[o++] = (uint8_t)w;
    }
    if (full == len)
        return (int)o;
    /* Last group: "xy==" or "xyz=". */
    const unsigned char *q = p + full;
    int a = b64val(q[0]), b = b64val(q[1]);
    bool two_pad = q[2] == '=';
    int c = two_pad ? 0 : b64val(q[2]);
    if ((a | b | c) < 0 || q[3] != '=')
        return CAMRTC_EPROTO;
    uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
    size_t nb = two_pad ? 1 : 2;
    if (o + nb > outsz)
        return CAMRTC_ETOOBIG;
    /* Canonical form: the bits dropped by the padding must be zero. */
    if ((two_pad && (w & 0xffff)) || (!two_pad && (w & 0xff)))
        return CAMRTC_EPROTO;
    out[o++] = (uint8_t)(w >> 16);
    if (nb > 1)
        out[o++] = (uint8_t)(w >> 8);
    return (int)o;
}

int camrtc_hex_encode(const void *in, size_t n, char *out, size_t outsz)
{
    static const char hx[] = "0123456789abcdef";
    const uint8_t *p = in;
    if (n > (SIZE_MAX - 1) / 2 || outsz < 2 * n + 1)
        return CAMRTC_ETOOBIG;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
    return (int)(2 * n);
}

int camrtc_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int camrtc_hex_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
    if (len % 2)
        return CAMRTC_EPROTO;
    if (len / 2 > outsz)
        return CAMRTC_ETOOBIG;
    for (size_t i = 0; i < len; i += 2) {
        int hi = camrtc_hex_digit(in[i]), lo = camrtc_hex_digit(in[i + 1]);
        if (hi < 0 || lo < 0)
            return CAMRTC_EPROTO;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(len / 2);
}
