/* URL parsing and percent-coding (RFC 3986) for the KVS endpoints and presigned
 * WebSocket URLs. Fixed-size output fields: nothing is allocated, and every
 * copy is length-checked first. */
#include "camrtc/url.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_unreserved(char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* Copy n bytes into a fixed field of size sz, NUL-terminated. */
static int copy_field(char *dst, size_t sz, const char *src, size_t n)
{
    if (n >= sz)
        return CAMRTC_ETOOBIG;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return CAMRTC_OK;
}

static uint16_t default_port(const char *scheme)
{
    return (strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0) ? 443 : 80;
}

/* reg-name characters without percent-encoding (DNS names and IPv4 addresses). */
static bool is_host_char(char c)
{
    return is_unreserved(c) || strchr("!$&'()*+,;=", c) != NULL;
}

/* Authority "host[:port]" in [s, e); userinfo is refused. */
static int parse_authority(const char *s, const char *e, camrtc_url *out)
{
    const char *host, *host_end, *p;
    if (s == e)
        return CAMRTC_EPROTO;
    if (*s == '[') {
        host = s + 1;
        host_end = memchr(host, ']', (size_t)(e - host));
        if (!host_end || host_end == host)
            return CAMRTC_EPROTO;
        for (const char *c = host; c < host_end; c++)
            if (camrtc_hex_digit(*c) < 0 && *c != ':' && *c != '.')
                return CAMRTC_EPROTO;
        if (!memchr(host, ':', (size_t)(host_end - host)))
            return CAMRTC_EPROTO;
        p = host_end + 1;
    } else {
        host = s;
        host_end = s;
        while (host_end < e && *host_end != ':') {
            if (!is_host_char(*host_end))
                return CAMRTC_EPROTO; /* '@' (userinfo), '%', spaces, controls */
            host_end++;
        }
        if (host_end == host)
            return CAMRTC_EPROTO;
        p = host_end;
    }
    int rc = copy_field(out->host, sizeof out->host, host, (size_t)(host_end - host));
    if (rc < 0)
        return rc;
    out->port = default_port(out->scheme);
    if (p == e)
        return CAMRTC_OK;
    if (*p != ':')
        return CAMRTC_EPROTO;
    p++;
    if (p == e)
        return CAMRTC_OK; /* "host:" means the default port (RFC 3986 section 3.2.3) */
    unsigned long port = 0;
    for (; p < e; p++) {
        if (!is_digit(*p))
            return CAMRTC_EPROTO;
        port = port * 10 + (unsigned long)(*p - '0');
        if (port > 65535)
            return CAMRTC_EPROTO;
    }
    if (port == 0)
        return CAMRTC_EPROTO;
    out->port = (uint16_t)port;
    out->port_explicit = true;
    return CAMRTC_OK;
}

static int parse(const char *s, camrtc_url *out)
{
    const char *colon = strstr(s, "://");
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof out->scheme)
        return CAMRTC_EPROTO;
    for (size_t i = 0; s + i < colon; i++) {
        char c = s[i];
        if (!is_alpha(c))
            return CAMRTC_EPROTO;
        out->scheme[i] = (char)(c | 0x20);
    }
    if (strcmp(out->scheme, "http") != 0 && strcmp(out->scheme, "https") != 0 &&
        strcmp(out->scheme, "ws") != 0 && strcmp(out->scheme, "wss") != 0)
        return CAMRTC_EPROTO;

    const char *a = colon + 3;
    /* Every byte after the scheme must be printable ASCII: non-ASCII must arrive encoded. */
    for (const char *c = a; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return CAMRTC_EPROTO;
    const char *ae = a + strcspn(a, "/?#");
    int rc = parse_authority(a, ae, out);
    if (rc < 0)
        return rc;

    const char *path = ae, *pe = ae + strcspn(ae, "?#");
    if (pe == path)
        rc = copy_field(out->path, sizeof out->path, "/", 1);
    else
        rc = copy_field(out->path, sizeof out->path, path, (size_t)(pe - path));
    if (rc < 0)
        return rc;
    if (*pe == '?') {
        const char *q = pe + 1;
        rc = copy_field(out->query, sizeof out->query, q, strcspn(q, "#"));
    }
    return rc;
}

int camrtc_url_parse(const char *s, camrtc_url *out)
{
    if (!s || !out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    int rc = parse(s, out);
    if (rc < 0)
        memset(out, 0, sizeof *out);
    return rc;
}

void camrtc_url_host_header(const camrtc_url *u, char *out, size_t outsz)
{
    if (!out || outsz == 0)
        return;
    bool v6 = strchr(u->host, ':') != NULL;
    const char *l = v6 ? "[" : "", *r = v6 ? "]" : "";
    if (u->port_explicit && u->port != default_port(u->scheme))
        snprintf(out, outsz, "%s%s%s:%u", l, u->host, r, (unsigned)u->port);
    else
        snprintf(out, outsz, "%s%s%s", l, u->host, r);
}

/* Decode one byte at in[*i] (advancing *i); -1 on a bad %xx. */
static int decode_at(const char *in, size_t len, size_t *i)
{
    char c = in[*i];
    if (c != '%') {
        (*i)++;
        return (unsigned char)c;
    }
    if (len - *i < 3)
        return -1;
    int h = camrtc_hex_digit(in[*i + 1]), l = camrtc_hex_digit(in[*i + 2]);
    if (h < 0 || l < 0)
        return -1;
    *i += 3;
    return h * 16 + l;
}

int camrtc_url_decode(const char *in, size_t len, char *out, size_t outsz)
{
    size_t o = 0;
    if (!out || outsz == 0 || (len > 0 && !in))
        return outsz == 0 ? CAMRTC_ETOOBIG : CAMRTC_EINVAL;
    out[0] = '\0'; /* what the caller sees on error */
    for (size_t i = 0; i < len;) {
        int c = decode_at(in, len, &i);
        if (c < 0 || o + 1 >= outsz || o >= INT_MAX) {
            out[0] = '\0';
            return c < 0 ? CAMRTC_EPROTO : CAMRTC_ETOOBIG;
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return (int)o;
}

int camrtc_url_encode(const char *in, size_t len, char *out, size_t outsz)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    if (!out || outsz == 0 || (len > 0 && !in))
        return outsz == 0 ? CAMRTC_ETOOBIG : CAMRTC_EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        size_t need = is_unreserved((char)c) ? 1 : 3;
        if (o + need >= outsz || o + need > INT_MAX) {
            out[0] = '\0';
            return CAMRTC_ETOOBIG;
        }
        if (need == 1) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return (int)o;
}

/* Does the encoded name [s, s+n) decode to exactly name? -1 on a bad %xx. */
static int name_matches(const char *s, size_t n, const char *name)
{
    size_t i = 0, k = 0;
    bool same = true;
    while (i < n) {
        int c = decode_at(s, n, &i);
        if (c < 0)
            return -1;
        if (same && (name[k] == '\0' || (unsigned char)name[k] != c))
            same = false;
        else if (same)
            k++;
    }
    return same && name[k] == '\0';
}

int camrtc_url_query_get(const char *query, const char *name, char *out, size_t outsz)
{
    if (!query || !name || !out)
        return CAMRTC_EINVAL;
    const char *s = query;
    for (;;) {
        size_t plen = strcspn(s, "&");
        const char *eq = memchr(s, '=', plen);
        size_t nlen = eq ? (size_t)(eq - s) : plen;
        int m = name_matches(s, nlen, name);
        if (m < 0)
            return CAMRTC_EPROTO;
        if (m) {
            const char *v = eq ? eq + 1 : s + plen;
            size_t vlen = (size_t)(s + plen - v);
            int rc = camrtc_url_decode(v, vlen, out, outsz);
            if (rc >= 0 && strlen(out) != (size_t)rc) {
                out[0] = '\0';
                return CAMRTC_EPROTO; /* %00 would silently cut the string */
            }
            return rc;
        }
        if (s[plen] == '\0')
            return CAMRTC_ENOTFOUND;
        s += plen + 1;
    }
}
