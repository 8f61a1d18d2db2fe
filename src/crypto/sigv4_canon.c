/* SigV4 canonical request pieces and the signing-key derivation. */
#include "crypto/sigv4_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/platform_util.h>

#include "camrtc/codec.h"
#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/sigv4.h"

static bool is_unreserved(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

/* Encode n bytes into out (room for 3n+1), NUL-terminated. */
static void encode_into(char *out, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        if (is_unreserved(p[i])) {
            *out++ = (char)p[i];
        } else {
            *out++ = '%';
            *out++ = hex[p[i] >> 4];
            *out++ = hex[p[i] & 15];
        }
    }
    *out = '\0';
}

/* Percent-decode n chars into out (room for n+1); returns the decoded length. */
static size_t decode_into(char *out, const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = camrtc_hex_digit(s[i + 1])) >= 0 && (lo = camrtc_hex_digit(s[i + 2])) >= 0) {
            out[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[k++] = s[i];
        }
    }
    out[k] = '\0';
    return k;
}

int sigv4_uri_encode(camrtc_buf *out, const void *p, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *s = p;
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (is_unreserved(s[i])) {
            rc = camrtc_buf_append(out, &s[i], 1);
        } else {
            char e[3] = {'%', hex[s[i] >> 4], hex[s[i] & 15]};
            rc = camrtc_buf_append(out, e, 3);
        }
        if (rc < 0)
            return rc;
    }
    return CAMRTC_OK;
}

static int params_push(sigv4_params *ps, const char *name, size_t nlen, const char *value, size_t vlen,
                       bool raw)
{
    if (ps->n >= CAMRTC_SIGV4_MAX_PARAMS)
        return CAMRTC_ETOOBIG;
    if (ps->n == ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 16;
        sigv4_param *v = realloc(ps->v, ncap * sizeof *v);
        if (!v)
            return CAMRTC_ENOMEM;
        ps->v = v;
        ps->cap = ncap;
    }
    /* Decoded text is never longer than its source; encoded at most three times. */
    if (nlen > SIGV4_MAX_CREQ || vlen > SIGV4_MAX_CREQ)
        return CAMRTC_ETOOBIG;
    char *mem = malloc(4 * nlen + 4 * vlen + 4);
    if (!mem)
        return CAMRTC_ENOMEM;
    sigv4_param *p = &ps->v[ps->n];
    p->dname = mem;
    if (raw) {
        memcpy(p->dname, name, nlen);
        p->dname[nlen] = '\0';
        p->dname_len = nlen;
    } else {
        p->dname_len = decode_into(p->dname, name, nlen);
    }
    p->dvalue = p->dname + p->dname_len + 1;
    if (raw) {
        memcpy(p->dvalue, value, vlen);
        p->dvalue[vlen] = '\0';
        p->dvalue_len = vlen;
    } else {
        p->dvalue_len = decode_into(p->dvalue, value, vlen);
    }
    p->name = p->dvalue + p->dvalue_len + 1;
    encode_into(p->name, (const uint8_t *)p->dname, p->dname_len);
    p->value = p->name + strlen(p->name) + 1;
    encode_into(p->value, (const uint8_t *)p->dvalue, p->dvalue_len);
    ps->n++;
    return CAMRTC_OK;
}

int sigv4_params_parse(sigv4_params *ps, const char *query)
{
    if (!query)
        return CAMRTC_OK;
    const char *s = query;
    while (*s) {
        size_t len = strcspn(s, "&");
        if (len > 0) {
            const char *eq = memchr(s, '=', len);
            size_t nlen = eq ? (size_t)(eq - s) : len;
            const char *v = eq ? eq + 1 : s + len;
            size_t vlen = eq ? len - nlen - 1 : 0;
            int rc = params_push(ps, s, nlen, v, vlen, false);
            if (rc < 0)
                return rc;
        }
        s += len;
        if (*s == '&')
            s++;
    }
    return CAMRTC_OK;
}

int sigv4_params_add(sigv4_params *ps, const char *name, const char *value)
{
    return params_push(ps, name, strlen(name), value, strlen(value), true);
}

static int param_cmp(const void *a, const void *b)
{
    const sigv4_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

void sigv4_params_sort(sigv4_params *ps)
{
    if (ps->n > 1)
        qsort(ps->v, ps->n, sizeof *ps->v, param_cmp);
}

static bool dname_is(const sigv4_param *p, const char *name)
{
    size_t n = strlen(name);
    return p->dname_len == n && memcmp(p->dname, name, n) == 0;
}

int sigv4_params_join(const sigv4_params *ps, const char *skip, camrtc_buf *out)
{
    bool first = true;
    for (size_t i = 0; i < ps->n; i++) {
        const sigv4_param *p = &ps->v[i];
        if (skip && dname_is(p, skip))
            continue;
        int rc = first ? 0 : camrtc_buf_append(out, "&", 1);
        if (rc == 0)
            rc = camrtc_buf_append_str(out, p->name);
        if (rc == 0)
            rc = camrtc_buf_append(out, "=", 1);
        if (rc == 0)
            rc = camrtc_buf_append_str(out, p->value);
        if (rc < 0)
            return rc;
        first = false;
    }
    return CAMRTC_OK;
}

size_t sigv4_params_count(const sigv4_params *ps, const char *name, const sigv4_param **first)
{
    size_t n = 0;
    if (first)
        *first = NULL;
    for (size_t i = 0; i < ps->n; i++) {
        if (dname_is(&ps->v[i], name)) {
            if (n == 0 && first)
                *first = &ps->v[i];
            n++;
        }
    }
    return n;
}

void sigv4_params_free(sigv4_params *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        free(ps->v[i].dname);
    free(ps->v);
    ps->v = NULL;
    ps->n = ps->cap = 0;
}

int sigv4_canonical_uri(camrtc_buf *out, const char *path)
{
    if (!path || !*path)
        return camrtc_buf_append(out, "/", 1);
    size_t len = strlen(path);
    if (len > SIGV4_MAX_CREQ)
        return CAMRTC_ETOOBIG;
    /* Segment start offsets and lengths; a path of len bytes has at most len/2+1
     * segments that survive ("a/" pairs), so this bounds the stack. */
    size_t max_segs = len / 2 + 1;
    size_t *seg = malloc(2 * max_segs * sizeof *seg);
    if (!seg)
        return CAMRTC_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t l = strcspn(path + i, "/");
        if (l == 1 && path[i] == '.') {
            /* "." names the current directory: drop it. */
        } else if (l == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (n > 0)
                n--;
        } else if (l > 0 && n < max_segs) {
            seg[2 * n] = i;
            seg[2 * n + 1] = l;
            n++;
        }
        i += l + 1;
    }
    int rc = CAMRTC_OK;
    if (path[0] == '/')
        rc = camrtc_buf_append(out, "/", 1);
    for (size_t k = 0; k < n && rc == 0; k++) {
        if (k > 0)
            rc = camrtc_buf_append(out, "/", 1);
        if (rc == 0)
            rc = sigv4_uri_encode(out, path + seg[2 * k], seg[2 * k + 1]);
    }
    if (rc == 0 && n > 0 && path[len - 1] == '/')
        rc = camrtc_buf_append(out, "/", 1);
    free(seg);
    return rc;
}

bool sigv4_is_token(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              strchr("!#$%&'*+-.^_`|~", c)) || c == 0)
            return false;
    }
    return true;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int sigv4_append_header_value(camrtc_buf *out, const char *v)
{
    if (!v)
        return CAMRTC_OK;
    while (is_ws(*v))
        v++;
    while (*v) {
        size_t run = 0;
        while (v[run] && !is_ws(v[run]))
            run++;
        int rc = camrtc_buf_append(out, v, run);
        if (rc < 0)
            return rc;
        v += run;
        while (is_ws(*v))
            v++;
        if (*v && (rc = camrtc_buf_append(out, " ", 1)) < 0)
            return rc;
    }
    return CAMRTC_OK;
}

int sigv4_canonical_headers(camrtc_buf *out, const camrtc_kv *h, size_t n_h,
                            const char *const *names, size_t n_names)
{
    for (size_t k = 0; k < n_names; k++) {
        int rc = camrtc_buf_append_str(out, names[k]);
        if (rc == 0)
            rc = camrtc_buf_append(out, ":", 1);
        if (rc < 0)
            return rc;
        bool found = false;
        for (size_t i = 0; i < n_h; i++) {
            if (!h[i].name || strcasecmp(h[i].name, names[k]) != 0)
                continue;
            if (found && (rc = camrtc_buf_append(out, ",", 1)) < 0)
                return rc;
            if ((rc = sigv4_append_header_value(out, h[i].value)) < 0)
                return rc;
            found = true;
        }
        if (!found)
            return CAMRTC_ENOTFOUND;
        if ((rc = camrtc_buf_append(out, "\n", 1)) < 0)
            return rc;
    }
    return CAMRTC_OK;
}

static int hmac_str(const uint8_t *key, size_t keylen, const char *s, uint8_t out[CAMRTC_SHA256_LEN])
{
    return camrtc_hmac_sha256(key, keylen, s, strlen(s), out);
}

int sigv4_signature_hex(const char *secret, const char *amz_date, const char *region,
                        const char *service, const void *creq, size_t creq_len, char out[65])
{
    size_t slen = strlen(secret);
    if (slen > SIGV4_MAX_SECRET || strlen(amz_date) != 16)
        return CAMRTC_EINVAL;
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';

    uint8_t creq_hash[CAMRTC_SHA256_LEN];
    char creq_hex[CAMRTC_SHA256_HEX_SIZE];
    int rc = camrtc_sha256(creq, creq_len, creq_hash);
    if (rc < 0)
        return rc;
    camrtc_hex_encode(creq_hash, sizeof creq_hash, creq_hex, sizeof creq_hex);

    camrtc_buf sts = {0};
    rc = camrtc_buf_appendf(&sts, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/" SIGV4_TERMINATOR "\n%s", amz_date,
                            date, region, service, creq_hex);
    if (rc < 0) {
        camrtc_buf_free(&sts);
        return rc;
    }

    uint8_t key[4 + SIGV4_MAX_SECRET];
    uint8_t k[CAMRTC_SHA256_LEN], k2[CAMRTC_SHA256_LEN], sig[CAMRTC_SHA256_LEN];
    memcpy(key, "AWS4", 4);
    memcpy(key + 4, secret, slen);
    rc = hmac_str(key, 4 + slen, date, k);
    if (rc == 0)
        rc = hmac_str(k, sizeof k, region, k2);
    if (rc == 0)
        rc = hmac_str(k2, sizeof k2, service, k);
    if (rc == 0)
        rc = hmac_str(k, sizeof k, SIGV4_TERMINATOR, k2);
    if (rc == 0)
        rc = camrtc_hmac_sha256(k2, sizeof k2, camrtc_buf_data(&sts), sts.len, sig);
    if (rc == 0)
        camrtc_hex_encode(sig, sizeof sig, out, 65);
    mbedtls_platform_zeroize(key, sizeof key);
    mbedtls_platform_zeroize(k, sizeof k);
    mbedtls_platform_zeroize(k2, sizeof k2);
    camrtc_buf_free(&sts);
    return rc;
}
