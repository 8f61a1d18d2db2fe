/* The WebSocket opening handshake (RFC 6455 section 4), on plain values so it
 * does not depend on the HTTP module: the caller parses the request or response
 * and passes its headers as camrtc_kv pairs. */
#include "camrtc/ws.h"

#include <string.h>

#include <mbedtls/sha1.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"

/* RFC 6455 section 1.3. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static bool hs_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static char hs_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* True when s[0..len) equals the NUL-terminated word, ASCII case-insensitively. */
static bool hs_word_eq(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);
    if (len != wl)
        return false;
    for (size_t i = 0; i < len; i++)
        if (hs_lower(s[i]) != hs_lower(word[i]))
            return false;
    return true;
}

/* True when some header called name lists token in its comma-separated value
 * (RFC 7230 7: elements separated by commas with optional whitespace). */
static bool hs_has_token(const camrtc_kv *h, size_t n, const char *name, const char *token)
{
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value || !camrtc_streq_nocase(h[i].name, name))
            continue;
        const char *p = h[i].value;
        while (*p) {
            while (hs_is_ows(*p) || *p == ',')
                p++;
            const char *start = p;
            while (*p && *p != ',')
                p++;
            const char *end = p;
            while (end > start && hs_is_ows(end[-1]))
                end--;
            if (end > start && hs_word_eq(start, (size_t)(end - start), token))
                return true;
        }
    }
    return false;
}

/* Number of headers called name; *value gets the first one's value. */
static size_t hs_count(const camrtc_kv *h, size_t n, const char *name, const char **value)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!h[i].name || !h[i].value || !camrtc_streq_nocase(h[i].name, name))
            continue;
        if (count++ == 0 && value)
            *value = h[i].value;
    }
    return count;
}

/* True when v, without surrounding whitespace, is exactly word (case-sensitive). */
static bool hs_value_is(const char *v, const char *word)
{
    while (hs_is_ows(*v))
        v++;
    size_t wl = strlen(word);
    if (strncmp(v, word, wl) != 0)
        return false;
    for (v += wl; *v; v++)
        if (!hs_is_ows(*v))
            return false;
    return true;
}

int camrtc_ws_accept_key(const char *client_key, char *out, size_t outsz)
{
    if (!client_key || !out)
        return CAMRTC_EINVAL;
    if (outsz < CAMRTC_WS_ACCEPT_SIZE)
        return CAMRTC_ETOOBIG;
    uint8_t digest[20];
    mbedtls_sha1_context sha;
    mbedtls_sha1_init(&sha);
    int r = mbedtls_sha1_starts_ret(&sha);
    if (r == 0)
        r = mbedtls_sha1_update_ret(&sha, (const unsigned char *)client_key, strlen(client_key));
    if (r == 0)
        r = mbedtls_sha1_update_ret(&sha, (const unsigned char *)ws_guid, sizeof ws_guid - 1);
    if (r == 0)
        r = mbedtls_sha1_finish_ret(&sha, digest);
    mbedtls_sha1_free(&sha);
    if (r != 0)
        return CAMRTC_ECRYPTO;
    return camrtc_base64_encode(digest, sizeof digest, out, outsz) < 0 ? CAMRTC_ETOOBIG : CAMRTC_OK;
}

int camrtc_ws_check_upgrade(const char *method, int version_minor, const camrtc_kv *headers, size_t n,
                            const char **key, int *http_status)
{
    int status = 400;
    const char *v = NULL;
    if (!method || (!headers && n))
        goto fail;
    /* 4.2.1: a GET over HTTP/1.1 or later, with Host, Upgrade and Connection. */
    if (strcmp(method, "GET") != 0 || version_minor < 1)
        goto fail;
    if (hs_count(headers, n, "Host", NULL) != 1)
        goto fail;
    if (!hs_has_token(headers, n, "Upgrade", "websocket") || !hs_has_token(headers, n, "Connection", "upgrade"))
        goto fail;
    /* 4.4: answer an unknown version with 426 and the versions we speak. */
    if (hs_count(headers, n, "Sec-WebSocket-Version", &v) != 1 || !hs_value_is(v, "13")) {
        status = 426;
        goto fail;
    }
    /* 4.2.1 item 5: a base64 nonce of 16 bytes, sent once. */
    uint8_t nonce[18];
    if (hs_count(headers, n, "Sec-WebSocket-Key", &v) != 1 || strlen(v) != 24 ||
        camrtc_base64_decode(v, 24, nonce, sizeof nonce) != 16)
        goto fail;
    if (key)
        *key = v;
    if (http_status)
        *http_status = 101;
    return CAMRTC_OK;
fail:
    if (http_status)
        *http_status = status;
    return CAMRTC_EPROTO;
}

/* RFC 7230 3.2.6 tchar. */
static bool hs_is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A header that cannot break out of its line: token name, value without CTLs. */
static bool hs_header_ok(const char *name, const char *value)
{
    if (!name || !value || !*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!hs_is_tchar(*p))
            return false;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7F)
            return false;
    return true;
}

/* True for a non-empty string of visible ASCII (no spaces or controls). */
static bool hs_visible(const char *s)
{
    if (!s || !*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return false;
    return true;
}

/* Append the extra headers and the blank line; restore out->len on failure. */
static int hs_finish(camrtc_buf *out, size_t mark, const camrtc_kv *extra, size_t n_extra, int rc)
{
    for (size_t i = 0; rc == CAMRTC_OK && i < n_extra; i++)
        rc = camrtc_buf_appendf(out, "%s: %s\r\n", extra[i].name, extra[i].value);
    if (rc == CAMRTC_OK)
        rc = camrtc_buf_append(out, "\r\n", 2);
    if (rc < 0 && out->len > mark)
        out->len = mark;
    return rc;
}

static bool hs_extra_ok(const camrtc_kv *extra, size_t n_extra)
{
    if (!extra && n_extra)
        return false;
    for (size_t i = 0; i < n_extra; i++)
        if (!hs_header_ok(extra[i].name, extra[i].value))
            return false;
    return true;
}

int camrtc_ws_write_accept(camrtc_buf *out, const char *client_key, const camrtc_kv *extra, size_t n_extra)
{
    if (!out || !client_key || !hs_extra_ok(extra, n_extra))
        return CAMRTC_EINVAL;
    char accept[CAMRTC_WS_ACCEPT_SIZE];
    int rc = camrtc_ws_accept_key(client_key, accept, sizeof accept);
    if (rc < 0)
        return rc;
    size_t mark = out->len;
    rc = camrtc_buf_appendf(out,
                            "HTTP/1.1 101 Switching Protocols\r\n"
                            "Upgrade: websocket\r\n"
                            "Connection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: %s\r\n",
                            accept);
    return hs_finish(out, mark, extra, n_extra, rc);
}

int camrtc_ws_write_client_request(camrtc_buf *out, const char *host, const char *target, camrtc_rng *rng,
                                   const camrtc_kv *extra, size_t n_extra, char *key_out, size_t key_outsz)
{
    if (!out || !rng || !key_out || !hs_visible(host) || !hs_visible(target) || target[0] != '/' ||
        !hs_extra_ok(extra, n_extra))
        return CAMRTC_EINVAL;
    if (key_outsz < CAMRTC_WS_KEY_SIZE)
        return CAMRTC_ETOOBIG;
    uint8_t nonce[16];
    if (camrtc_rng_bytes(rng, nonce, sizeof nonce) < 0)
        return CAMRTC_ECRYPTO;
    char key[CAMRTC_WS_KEY_SIZE];
    if (camrtc_base64_encode(nonce, sizeof nonce, key, sizeof key) < 0)
        return CAMRTC_EINTERNAL;
    size_t mark = out->len;
    int rc = camrtc_buf_appendf(out,
                                "GET %s HTTP/1.1\r\n"
                                "Host: %s\r\n"
                                "Upgrade: websocket\r\n"
                                "Connection: Upgrade\r\n"
                                "Sec-WebSocket-Key: %s\r\n"
                                "Sec-WebSocket-Version: 13\r\n",
                                target, host, key);
    rc = hs_finish(out, mark, extra, n_extra, rc);
    if (rc == CAMRTC_OK)
        memcpy(key_out, key, sizeof key);
    return rc;
}

int camrtc_ws_check_accept(int status, const camrtc_kv *headers, size_t n, const char *key)
{
    if (!key)
        return CAMRTC_EINVAL;
    if (status == 401 || status == 403)
        return CAMRTC_EAUTH;
    if (status != 101 || (!headers && n))
        return CAMRTC_EPROTO;
    /* 4.1, the client's checks of the server's handshake, items 2-5. */
    if (!hs_has_token(headers, n, "Upgrade", "websocket") || !hs_has_token(headers, n, "Connection", "upgrade"))
        return CAMRTC_EPROTO;
    char want[CAMRTC_WS_ACCEPT_SIZE];
    if (camrtc_ws_accept_key(key, want, sizeof want) < 0)
        return CAMRTC_EPROTO;
    const char *got = NULL;
    if (hs_count(headers, n, "Sec-WebSocket-Accept", &got) != 1)
        return CAMRTC_EPROTO;
    while (hs_is_ows(*got))
        got++;
    size_t gl = strlen(got);
    while (gl > 0 && hs_is_ows(got[gl - 1]))
        gl--;
    if (gl != CAMRTC_WS_ACCEPT_SIZE - 1 || !camrtc_mem_equal_ct(got, want, gl))
        return CAMRTC_EPROTO;
    for (size_t i = 0; i < n; i++)
        if (headers[i].name && headers[i].value && camrtc_streq_nocase(headers[i].name, "Sec-WebSocket-Extensions") &&
            !hs_value_is(headers[i].value, ""))
            return CAMRTC_EPROTO;
    return CAMRTC_OK;
}
