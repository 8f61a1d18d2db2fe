#include "camrtc/codec.h"

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

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int camrtc_base64_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
    if (len % 4 != 0)
        return CAMRTC_EPROTO;
    if (len / 4 > (size_t)INT32_MAX / 3)
        return CAMRTC_ETOOBIG;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
                continue;
            }
            if (pad)   /* a data character after '=' */
                return CAMRTC_EPROTO;
            v[k] = b64val(c);
            if (v[k] < 0)
                return CAMRTC_EPROTO;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        size_t nb = 3 - (size_t)pad;
        if (o + nb > outsz)
            return CAMRTC_ETOOBIG;
        /* Canonical form: the bits dropped by the padding must be zero. */
        if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
            return CAMRTC_EPROTO;
        out[o++] = (uint8_t)(w >> 16);
        if (nb > 1) out[o++] = (uint8_t)(w >> 8);
        if (nb > 2) out[o++] = (uint8_t)w;
    }
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

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int camrtc_hex_decode(const char *in, size_t len, uint8_t *out, size_t outsz)
{
    if (len % 2)
        return CAMRTC_EPROTO;
    if (len / 2 > outsz)
        return CAMRTC_ETOOBIG;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hexval(in[i]), lo = hexval(in[i + 1]);
        if (hi < 0 || lo < 0)
            return CAMRTC_EPROTO;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (int)(len / 2);
}
