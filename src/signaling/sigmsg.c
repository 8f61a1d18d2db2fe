/* KVS signaling message codec: see include/camrtc/sigmsg.h for the decisions. */
#include "camrtc/sigmsg.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/str.h"
#include "signaling/sigmsg_int.h"

static const char *const type_names[] = {
    [CAMRTC_SIGMSG_UNKNOWN] = "UNKNOWN",
    [CAMRTC_SIGMSG_SDP_OFFER] = "SDP_OFFER",
    [CAMRTC_SIGMSG_SDP_ANSWER] = "SDP_ANSWER",
    [CAMRTC_SIGMSG_ICE_CANDIDATE] = "ICE_CANDIDATE",
    [CAMRTC_SIGMSG_GO_AWAY] = "GO_AWAY",
    [CAMRTC_SIGMSG_RECONNECT_ICE_SERVER] = "RECONNECT_ICE_SERVER",
    [CAMRTC_SIGMSG_STATUS_RESPONSE] = "STATUS_RESPONSE",
};
#define N_TYPES (sizeof type_names / sizeof type_names[0])

const char *camrtc_sigmsg_type_name(camrtc_sigmsg_type t)
{
    if ((unsigned)t >= N_TYPES)
        return type_names[CAMRTC_SIGMSG_UNKNOWN];
    return type_names[t];
}

camrtc_sigmsg_type camrtc_sigmsg_type_parse(const char *s)
{
    if (!s)
        return CAMRTC_SIGMSG_UNKNOWN;
    for (size_t i = 1; i < N_TYPES; i++)
        if (strcmp(s, type_names[i]) == 0)
            return (camrtc_sigmsg_type)i;
    return CAMRTC_SIGMSG_UNKNOWN;
}

bool sigmsg_client_may_send(camrtc_sigmsg_type t)
{
    return t == CAMRTC_SIGMSG_SDP_OFFER || t == CAMRTC_SIGMSG_SDP_ANSWER || t == CAMRTC_SIGMSG_ICE_CANDIDATE;
}

int sigmsg_fail(int rc, char *reason, size_t rsz, const char *fmt, ...)
{
    if (reason && rsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, rsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* ---- byte scanning, 16 bytes at a time ----
 * Validating the base64 payload and finding the end of plain runs in JSON
 * strings are the per-byte costs of relaying a message. GCC/Clang vector
 * extensions keep them plain C (SSE2/NEON where the target has it, scalar code
 * elsewhere), without intrinsics headers or alignment assumptions. */
typedef unsigned char v16u __attribute__((vector_size(16)));
typedef signed char v16s __attribute__((vector_size(16)));

static v16u load16(const unsigned char *p)
{
    v16u v;
    memcpy(&v, p, sizeof v);
    return v;
}

static bool any16(v16u v)
{
    uint64_t a, b;
    memcpy(&a, &v, 8);
    memcpy(&b, (const unsigned char *)&v + 8, 8);
    return (a | b) != 0;
}

/* A byte a JSON string can carry as is: printable ASCII except '"' and '\'. */
static bool plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Number of plain bytes at the start of s[0..n). */
size_t sigmsg_plain_prefix(const unsigned char *s, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        v16u c = load16(s + i);
        /* As signed bytes, everything from 0x80 up is negative: one compare for both ends. */
        if (any16((v16u)(((v16s)c < 0x20) | (c == '"') | (c == '\\'))))
            break;
    }
    while (i < n && plain_byte(s[i]))
        i++;
    return i;
}

/* Checks the whole vector-sized blocks at the start of s[0..n) against the
 * base64 alphabet (A-Z a-z 0-9 + /), sets *ok, and returns the bytes checked.
 * Each range test shifts its range to start at -128 so that one signed compare
 * (what SSE2, AVX2 and NEON have) does it. */
#define B64_BLOCKS(vu, vs)                                                              \
    vs good = ~(vs){0};                                                                 \
    size_t i = 0;                                                                       \
    for (; n - i >= sizeof(vu); i += sizeof(vu)) {                                      \
        vu c;                                                                           \
        memcpy(&c, s + i, sizeof c);                                                    \
        vs letter = (vs)((c | 0x20) + (0x80 - 'a')); /* A-Z a-z -> -128..-103 */        \
        vs slash_digit = (vs)(c + (0x80 - '/'));     /* '/' 0-9 (adjacent) -> -128..-118 */ \
        good &= (letter < -128 + 26) | (slash_digit < -128 + 11) | ((vs)c == '+');      \
    }                                                                                   \
    uint64_t w[sizeof(vu) / 8], all = ~(uint64_t)0;                                     \
    memcpy(w, &good, sizeof w);                                                         \
    for (size_t k = 0; k < sizeof(vu) / 8; k++)                                         \
        all &= w[k];                                                                    \
    *ok = all == ~(uint64_t)0;                                                          \
    return i

static size_t b64_blocks16(const unsigned char *s, size_t n, bool *ok)
{
    B64_BLOCKS(v16u, v16s);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_B64_AVX2 1
typedef unsigned char v32u __attribute__((vector_size(32)));
typedef signed char v32s __attribute__((vector_size(32)));

/* The same for CPUs with AVX2, chosen at run time: half the instructions. */
__attribute__((target("avx2"))) static size_t b64_blocks32(const unsigned char *s, size_t n, bool *ok)
{
    B64_BLOCKS(v32u, v32s);
}
#endif

/* True when every byte of s[0..n) is in the base64 alphabet. */
static bool b64_alphabet_only(const unsigned char *s, size_t n)
{
    bool ok = true;
    size_t i = 0;
#ifdef HAVE_B64_AVX2
    if (__builtin_cpu_supports("avx2"))
        i = b64_blocks32(s, n, &ok);
#endif
    bool ok16 = true, tail_ok = true;
    i += b64_blocks16(s + i, n - i, &ok16);
    if (i < n && n >= 16) {
        /* The last bytes as one block overlapping checked ones. */
        b64_blocks16(s + n - 16, 16, &tail_ok);
        i = n;
    }
    unsigned bad = !ok || !ok16 || !tail_ok;
    for (; i < n; i++) {
        unsigned char c = s[i];
        bad |= (unsigned char)((c | 0x20) - 'a') > 25 && (unsigned char)(c - '/') > 10 && c != '+';
    }
    return !bad;
}

/* The 6-bit value of a base64 alphabet character. */
static unsigned b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : 63;
}

/* ---- parsing helpers ---- */

/* Parse len bytes of JSON into an object tree. cJSON 1.7.15's length-bounded
 * parser can read a byte past the end of some truncated inputs, so it is
 * always given a NUL-terminated copy (on the stack for the usual candidate-sized
 * message) and asked to find that NUL right after the value. */
static int parse_object(const char *json, size_t len, size_t max, cJSON **root, char *reason, size_t rsz)
{
    *root = NULL;
    if (len > max)
        return sigmsg_fail(CAMRTC_ETOOBIG, reason, rsz, "message of %zu bytes exceeds %zu", len, max);
    if (len == 0)
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "empty message");
    if (memchr(json, '\0', len))
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "NUL byte in message");
    char small[2048];
    char *copy = small;
    if (len >= sizeof small) {
        copy = malloc(len + 1);
        if (!copy)
            return sigmsg_fail(CAMRTC_ENOMEM, reason, rsz, "out of memory");
    }
    memcpy(copy, json, len);
    copy[len] = '\0';
    cJSON *r = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
    if (copy != small)
        free(copy);
    if (!r)
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "not valid JSON");
    if (!cJSON_IsObject(r)) {
        cJSON_Delete(r);
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "not a JSON object");
    }
    *root = r;
    return CAMRTC_OK;
}

/* Find the members named in keys (ASCII case-insensitive) in obj; a key present
 * twice is refused. Members not named are ignored. */
static int collect(const cJSON *obj, const char *const *keys, size_t n, const cJSON **found, char *reason,
                   size_t rsz)
{
    for (size_t k = 0; k < n; k++)
        found[k] = NULL;
    for (const cJSON *c = obj->child; c; c = c->next) {
        if (!c->string)
            continue;
        for (size_t k = 0; k < n; k++) {
            if (strcasecmp(c->string, keys[k]) != 0)
                continue;
            if (found[k])
                return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "duplicate key %s", keys[k]);
            found[k] = c;
            break;
        }
    }
    return CAMRTC_OK;
}

static bool absent(const cJSON *it)
{
    return !it || cJSON_IsNull(it);
}

/* An optional id member: absent, null or "" leave dst empty. */
static int take_id(const cJSON *it, const char *what, char dst[CAMRTC_SIGMSG_MAX_ID + 1], char *reason,
                   size_t rsz)
{
    if (absent(it))
        return CAMRTC_OK;
    if (!cJSON_IsString(it) || !it->valuestring)
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "%s must be a string", what);
    size_t n = strlen(it->valuestring);
    if (n == 0)
        return CAMRTC_OK;
    if (!camrtc_str_is_name(it->valuestring, n, CAMRTC_SIGMSG_MAX_ID))
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "%s must match [A-Za-z0-9_.-]{1,%d}", what, CAMRTC_SIGMSG_MAX_ID);
    memcpy(dst, it->valuestring, n + 1);
    return CAMRTC_OK;
}

static size_t utf8_len(const unsigned char *s, size_t n);

/* Copy s into dst (at most dsz-1 bytes, whole characters only), replacing each
 * byte that is not part of valid UTF-8 by U+FFFD, as the writer would. */
static void copy_text(char *dst, size_t dsz, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_len(p + i, n - i);
        const char *src = (const char *)p + i;
        size_t w = k;
        if (k == 0) {
            src = "\xef\xbf\xbd";
            w = 3;
            k = 1;
        }
        if (o + w > dsz - 1)
            break;
        memcpy(dst + o, src, w);
        o += w;
        i += k;
    }
    dst[o] = '\0';
}

static int take_text(const cJSON *it, const char *what, char *dst, size_t dsz, char *reason, size_t rsz)
{
    if (absent(it))
        return CAMRTC_OK;
    if (!cJSON_IsString(it) || !it->valuestring)
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "%s must be a string", what);
    copy_text(dst, dsz, it->valuestring);
    return CAMRTC_OK;
}

/* Checks that s[0..n) is canonical padded base64 (RFC 4648 section 4: the
 * alphabet, '=' only as one or two final pad characters, pad bits zero) that
 * decodes to at most CAMRTC_SIGMSG_MAX_PAYLOAD bytes; nothing is decoded. */
int sigmsg_check_base64(const char *s, size_t n)
{
    if (n % 4)
        return CAMRTC_EPROTO;
    size_t pad = 0;
    if (n >= 4)
        pad = (s[n - 1] == '=') + (s[n - 1] == '=' && s[n - 2] == '=');
    if (n / 4 * 3 - pad > CAMRTC_SIGMSG_MAX_PAYLOAD)
        return CAMRTC_ETOOBIG;
    const unsigned char *p = (const unsigned char *)s;
    if (!b64_alphabet_only(p, n - pad))
        return CAMRTC_EPROTO;
    /* "xy==" keeps 4 bits of y, "xyz=" 2 bits of z: the rest must be zero. */
    if (pad && (b64_value(p[n - pad - 1]) & (pad == 2 ? 0x0Fu : 0x03u)))
        return CAMRTC_EPROTO;
    return CAMRTC_OK;
}

static int take_payload(const cJSON *it, const char *what, bool required, camrtc_sigmsg *out, char *reason,
                        size_t rsz)
{
    if (absent(it)) {
        if (required)
            return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "missing %s", what);
        return CAMRTC_OK;
    }
    if (!cJSON_IsString(it) || !it->valuestring)
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "%s must be a string", what);
    size_t n = strlen(it->valuestring);
    if (n == 0) {
        if (required)
            return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "empty %s", what);
        return CAMRTC_OK;
    }
    int rc = sigmsg_check_base64(it->valuestring, n);
    if (rc == CAMRTC_ETOOBIG)
        return sigmsg_fail(rc, reason, rsz, "%s decodes to more than %d bytes", what, CAMRTC_SIGMSG_MAX_PAYLOAD);
    if (rc < 0)
        return sigmsg_fail(rc, reason, rsz, "%s is not base64", what);
    out->payload = malloc(n + 1);
    if (!out->payload)
        return sigmsg_fail(CAMRTC_ENOMEM, reason, rsz, "out of memory");
    memcpy(out->payload, it->valuestring, n + 1);
    out->payload_len = n;
    return CAMRTC_OK;
}

static int take_ice_list(const cJSON *it, camrtc_sigmsg *out, char *reason, size_t rsz)
{
    if (absent(it) || out->type != CAMRTC_SIGMSG_SDP_OFFER)
        return CAMRTC_OK;
    if (!cJSON_IsArray(it))
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "IceServerList must be an array");
    char *s = cJSON_PrintUnformatted(it);
    if (!s)
        return sigmsg_fail(CAMRTC_ENOMEM, reason, rsz, "out of memory");
    /* Owned fields are released with free(); cJSON may use other hooks. */
    size_t n = strlen(s);
    out->ice_server_list = malloc(n + 1);
    if (out->ice_server_list)
        memcpy(out->ice_server_list, s, n + 1);
    cJSON_free(s);
    if (!out->ice_server_list)
        return sigmsg_fail(CAMRTC_ENOMEM, reason, rsz, "out of memory");
    return CAMRTC_OK;
}

/* statusCode: an HTTP status as a string of digits (the AWS reference) or a number. */
static int take_status_code(const cJSON *it, int *code, char *reason, size_t rsz)
{
    *code = 0;
    if (absent(it))
        return CAMRTC_OK;
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        if (!(d >= 0 && d <= 999) || d != (double)(int)d)
            return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "statusCode out of range");
        *code = (int)d;
        return CAMRTC_OK;
    }
    if (!cJSON_IsString(it) || !it->valuestring)
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "statusCode must be a string or number");
    const char *s = it->valuestring;
    size_t n = strlen(s);
    if (n == 0 || n > 3)
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "statusCode out of range");
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "statusCode is not a number");
        v = v * 10 + (s[i] - '0');
    }
    *code = v;
    return CAMRTC_OK;
}

static int take_status(const cJSON *it, camrtc_sigmsg *out, char *reason, size_t rsz)
{
    if (absent(it))
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "STATUS_RESPONSE without statusResponse");
    if (!cJSON_IsObject(it))
        return sigmsg_fail(CAMRTC_EPROTO, reason, rsz, "statusResponse must be an object");
    static const char *const keys[] = {"correlationId", "errorType", "statusCode", "description"};
    const cJSON *f[4];
    int rc = collect(it, keys, 4, f, reason, rsz);
    if (rc == 0)
        rc = take_id(f[0], "correlationId", out->correlation_id, reason, rsz);
    if (rc == 0)
        rc = take_text(f[1], "errorType", out->error_type, sizeof out->error_type, reason, rsz);
    if (rc == 0)
        rc = take_status_code(f[2], &out->status_code, reason, rsz);
    if (rc == 0)
        rc = take_text(f[3], "description", out->description, sizeof out->description, reason, rsz);
    return rc;
}

/* On failure: release what out owns but keep a correlation id already taken. */
static int parse_failed(camrtc_sigmsg *out, int rc)
{
    char corr[CAMRTC_SIGMSG_MAX_ID + 1];
    memcpy(corr, out->correlation_id, sizeof corr);
    camrtc_sigmsg_clear(out);
    memcpy(out->correlation_id, corr, sizeof corr);
    return rc;
}

int camrtc_sigmsg_parse_from_client(const char *json, size_t len, camrtc_sigmsg *out, char *reason,
                                    size_t reason_sz)
{
    if (!out)
        return sigmsg_fail(CAMRTC_EINVAL, reason, reason_sz, "no output");
    memset(out, 0, sizeof *out);
    if (!json)
        return sigmsg_fail(CAMRTC_EINVAL, reason, reason_sz, "no input");
    cJSON *root;
    int rc = parse_object(json, len, CAMRTC_SIGMSG_MAX_JSON, &root, reason, reason_sz);
    if (rc < 0)
        return rc;
    enum { K_ACTION, K_RECIPIENT, K_PAYLOAD, K_CORR, K_ICE, K_N };
    static const char *const keys[K_N] = {"action", "RecipientClientId", "MessagePayload", "CorrelationId",
                                          "IceServerList"};
    const cJSON *f[K_N];
    rc = collect(root, keys, K_N, f, reason, reason_sz);
    /* The correlation id first, so that a refusal can still be answered. */
    if (rc == 0)
        rc = take_id(f[K_CORR], "CorrelationId", out->correlation_id, reason, reason_sz);
    if (rc == 0) {
        const cJSON *a = f[K_ACTION];
        if (absent(a))
            rc = sigmsg_fail(CAMRTC_EPROTO, reason, reason_sz, "missing action");
        else if (!cJSON_IsString(a) || !a->valuestring)
            rc = sigmsg_fail(CAMRTC_EPROTO, reason, reason_sz, "action must be a string");
        else if ((out->type = camrtc_sigmsg_type_parse(a->valuestring)) == CAMRTC_SIGMSG_UNKNOWN)
            rc = sigmsg_fail(CAMRTC_EPROTO, reason, reason_sz, "unknown action");
        else if (!sigmsg_client_may_send(out->type))
            rc = sigmsg_fail(CAMRTC_EPROTO, reason, reason_sz, "action %s cannot be sent by a client",
                      camrtc_sigmsg_type_name(out->type));
    }
    if (rc == 0)
        rc = take_id(f[K_RECIPIENT], "RecipientClientId", out->peer_id, reason, reason_sz);
    if (rc == 0)
        rc = take_payload(f[K_PAYLOAD], "MessagePayload", true, out, reason, reason_sz);
    if (rc == 0)
        rc = take_ice_list(f[K_ICE], out, reason, reason_sz);
    cJSON_Delete(root);
    if (rc < 0)
        return parse_failed(out, rc);
    if (reason && reason_sz)
        reason[0] = '\0';
    return CAMRTC_OK;
}

int camrtc_sigmsg_parse_from_service(const char *json, size_t len, camrtc_sigmsg *out, char *reason,
                                     size_t reason_sz)
{
    if (!out)
        return sigmsg_fail(CAMRTC_EINVAL, reason, reason_sz, "no output");
    memset(out, 0, sizeof *out);
    if (!json)
        return sigmsg_fail(CAMRTC_EINVAL, reason, reason_sz, "no input");
    cJSON *root;
    int rc = parse_object(json, len, CAMRTC_SIGMSG_MAX_JSON, &root, reason, reason_sz);
    if (rc < 0)
        return rc;
    enum { K_SENDER, K_TYPE, K_PAYLOAD, K_STATUS, K_ICE, K_N };
    static const char *const keys[K_N] = {"senderClientId", "messageType", "messagePayload", "statusResponse",
                                          "IceServerList"};
    const cJSON *f[K_N];
    rc = collect(root, keys, K_N, f, reason, reason_sz);
    if (rc == 0) {
        const cJSON *t = f[K_TYPE];
        if (absent(t))
            rc = sigmsg_fail(CAMRTC_EPROTO, reason, reason_sz, "missing messageType");
        else if (!cJSON_IsString(t) || !t->valuestring)
            rc = sigmsg_fail(CAMRTC_EPROTO, reason, reason_sz, "messageType must be a string");
        else if ((out->type = camrtc_sigmsg_type_parse(t->valuestring)) == CAMRTC_SIGMSG_UNKNOWN)
            rc = sigmsg_fail(CAMRTC_EUNSUPPORTED, reason, reason_sz, "unknown messageType");
    }
    if (rc == 0)
        rc = take_id(f[K_SENDER], "senderClientId", out->peer_id, reason, reason_sz);
    if (rc == 0)
        rc = take_payload(f[K_PAYLOAD], "messagePayload", sigmsg_client_may_send(out->type), out, reason, reason_sz);
    if (rc == 0 && out->type == CAMRTC_SIGMSG_STATUS_RESPONSE)
        rc = take_status(f[K_STATUS], out, reason, reason_sz);
    if (rc == 0)
        rc = take_ice_list(f[K_ICE], out, reason, reason_sz);
    cJSON_Delete(root);
    if (rc < 0) {
        camrtc_sigmsg_type t = out->type;
        parse_failed(out, rc);
        if (rc == CAMRTC_EUNSUPPORTED)
            out->type = t;
        return rc;
    }
    if (reason && reason_sz)
        reason[0] = '\0';
    return CAMRTC_OK;
}

/* ---- writing ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

/* Append s[0..n) as the inside of a JSON string: runs of bytes that need no
 * escaping (plain ASCII and valid UTF-8) are copied whole. */
static int append_escaped(camrtc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t start = i, elen = 0;
        char esc[8];
        while (i < n) {
            i += sigmsg_plain_prefix(p + i, n - i);
            if (i == n)
                break;
            unsigned char c = p[i];
            if (c >= 0x80) {
                size_t k = utf8_len(p + i, n - i);
                if (k) {
                    i += k;
                    continue;
                }
                memcpy(esc, "\\ufffd", 6);
                elen = 6;
            } else if (c == '"' || c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)c;
                elen = 2;
            } else {
                esc[0] = '\\';
                elen = 2;
                switch (c) {
                case '\b': esc[1] = 'b'; break;
                case '\f': esc[1] = 'f'; break;
                case '\n': esc[1] = 'n'; break;
                case '\r': esc[1] = 'r'; break;
                case '\t': esc[1] = 't'; break;
                default:
                    memcpy(esc + 1, "u00", 3);
                    esc[4] = hex[c >> 4];
                    esc[5] = hex[c & 15];
                    elen = 6;
                }
            }
            break;
        }
        int rc = camrtc_buf_append(b, p + start, i - start);
        if (rc == 0 && elen) {
            rc = camrtc_buf_append(b, esc, elen);
            i++;
        }
        if (rc < 0)
            return rc;
    }
    return CAMRTC_OK;
}

/* Append ,"key":"value" (no comma when first). */
static int append_member(camrtc_buf *b, bool first, const char *key, const char *val, size_t vlen)
{
    int rc = camrtc_buf_append_str(b, first ? "\"" : ",\"");
    if (rc == 0)
        rc = camrtc_buf_append_str(b, key);
    if (rc == 0)
        rc = camrtc_buf_append(b, "\":\"", 3);
    if (rc == 0)
        rc = append_escaped(b, val, vlen);
    if (rc == 0)
        rc = camrtc_buf_append(b, "\"", 1);
    return rc;
}

static bool id_ok(const char *id)
{
    size_t n = strnlen(id, CAMRTC_SIGMSG_MAX_ID + 1);
    return n == 0 || camrtc_str_is_name(id, n, CAMRTC_SIGMSG_MAX_ID);
}

int camrtc_sigmsg_write_to_service(camrtc_buf *out, const camrtc_sigmsg *m)
{
    if (!out || !m || !sigmsg_client_may_send(m->type) || !m->payload || m->payload_len == 0 || !id_ok(m->peer_id) ||
        !id_ok(m->correlation_id))
        return CAMRTC_EINVAL;
    size_t orig = out->len;
    const char *t = camrtc_sigmsg_type_name(m->type);
    int rc = camrtc_buf_append(out, "{", 1);
    if (rc == 0)
        rc = append_member(out, true, "action", t, strlen(t));
    if (rc == 0 && m->peer_id[0])
        rc = append_member(out, false, "RecipientClientId", m->peer_id, strlen(m->peer_id));
    if (rc == 0)
        rc = append_member(out, false, "MessagePayload", m->payload, m->payload_len);
    if (rc == 0 && m->correlation_id[0])
        rc = append_member(out, false, "CorrelationId", m->correlation_id, strlen(m->correlation_id));
    if (rc == 0 && m->ice_server_list && m->type == CAMRTC_SIGMSG_SDP_OFFER) {
        rc = camrtc_buf_append_str(out, ",\"IceServerList\":");
        if (rc == 0)
            rc = camrtc_buf_append_str(out, m->ice_server_list);
    }
    if (rc == 0)
        rc = camrtc_buf_append(out, "}", 1);
    if (rc < 0)
        out->len = orig;
    return rc;
}

int camrtc_sigmsg_write_to_client(camrtc_buf *out, const camrtc_sigmsg *m)
{
    if (!out || !m || m->type <= CAMRTC_SIGMSG_UNKNOWN || (unsigned)m->type >= N_TYPES || !id_ok(m->peer_id))
        return CAMRTC_EINVAL;
    bool status = m->type == CAMRTC_SIGMSG_STATUS_RESPONSE;
    if (status && (m->status_code < 0 || m->status_code > 999 || !id_ok(m->correlation_id)))
        return CAMRTC_EINVAL;
    size_t orig = out->len;
    const char *t = camrtc_sigmsg_type_name(m->type);
    int rc = camrtc_buf_append(out, "{", 1);
    bool first = true;
    if (rc == 0 && m->peer_id[0]) {
        rc = append_member(out, first, "senderClientId", m->peer_id, strlen(m->peer_id));
        first = false;
    }
    if (rc == 0)
        rc = append_member(out, first, "messageType", t, strlen(t));
    if (rc == 0 && m->payload)
        rc = append_member(out, false, "messagePayload", m->payload, m->payload_len);
    if (rc == 0 && m->ice_server_list && m->type == CAMRTC_SIGMSG_SDP_OFFER) {
        rc = camrtc_buf_append_str(out, ",\"IceServerList\":");
        if (rc == 0)
            rc = camrtc_buf_append_str(out, m->ice_server_list);
    }
    if (rc == 0 && status) {
        char code[8];
        snprintf(code, sizeof code, "%d", m->status_code);
        rc = camrtc_buf_append_str(out, ",\"statusResponse\":{");
        if (rc == 0)
            rc = append_member(out, true, "correlationId", m->correlation_id, strlen(m->correlation_id));
        if (rc == 0)
            rc = append_member(out, false, "errorType", m->error_type, strnlen(m->error_type, sizeof m->error_type));
        if (rc == 0)
            rc = append_member(out, false, "statusCode", code, strlen(code));
        if (rc == 0)
            rc = append_member(out, false, "description", m->description,
                               strnlen(m->description, sizeof m->description));
        if (rc == 0)
            rc = camrtc_buf_append(out, "}", 1);
    }
    if (rc == 0)
        rc = camrtc_buf_append(out, "}", 1);
    if (rc < 0)
        out->len = orig;
    return rc;
}

/* ---- payload helpers ---- */

int camrtc_sigmsg_set_payload_json(camrtc_sigmsg *m, const char *json, size_t len)
{
    if (!m || (!json && len))
        return CAMRTC_EINVAL;
    if (len > CAMRTC_SIGMSG_MAX_PAYLOAD)
        return CAMRTC_ETOOBIG;
    size_t cap = CAMRTC_BASE64_ENCODED_SIZE(len);
    char *p = malloc(cap);
    if (!p)
        return CAMRTC_ENOMEM;
    int n = camrtc_base64_encode(json ? json : "", len, p, cap);
    if (n < 0) {
        free(p);
        return n;
    }
    free(m->payload);
    m->payload = p;
    m->payload_len = (size_t)n;
    return CAMRTC_OK;
}

int camrtc_sigmsg_get_payload_json(const camrtc_sigmsg *m, camrtc_buf *out)
{
    if (!m || !out)
        return CAMRTC_EINVAL;
    if (!m->payload)
        return CAMRTC_ENOTFOUND;
    int rc = sigmsg_check_base64(m->payload, m->payload_len);
    if (rc < 0)
        return rc;
    size_t need = m->payload_len / 4 * 3;
    rc = camrtc_buf_reserve(out, need);
    if (rc < 0)
        return rc;
    int n = camrtc_base64_decode(m->payload, m->payload_len, camrtc_buf_data(out) + out->len, need);
    if (n < 0)
        return n;
    out->len += (size_t)n;
    return CAMRTC_OK;
}

int camrtc_sigmsg_build_sdp_json(camrtc_buf *out, const char *type, const char *sdp)
{
    if (!out || !type || !sdp)
        return CAMRTC_EINVAL;
    size_t orig = out->len;
    int rc = camrtc_buf_append(out, "{", 1);
    if (rc == 0)
        rc = append_member(out, true, "type", type, strlen(type));
    if (rc == 0)
        rc = append_member(out, false, "sdp", sdp, strlen(sdp));
    if (rc == 0)
        rc = camrtc_buf_append(out, "}", 1);
    if (rc < 0)
        out->len = orig;
    return rc;
}

int camrtc_sigmsg_build_candidate_json(camrtc_buf *out, const char *candidate, const char *sdp_mid,
                                       int sdp_mline_index)
{
    if (!out || !candidate)
        return CAMRTC_EINVAL;
    size_t orig = out->len;
    int rc = camrtc_buf_append(out, "{", 1);
    if (rc == 0)
        rc = append_member(out, true, "candidate", candidate, strlen(candidate));
    if (rc == 0 && sdp_mid)
        rc = append_member(out, false, "sdpMid", sdp_mid, strlen(sdp_mid));
    if (rc == 0 && sdp_mline_index >= 0)
        rc = camrtc_buf_appendf(out, ",\"sdpMLineIndex\":%d", sdp_mline_index);
    if (rc == 0)
        rc = camrtc_buf_append(out, "}", 1);
    if (rc < 0)
        out->len = orig;
    return rc;
}

static int append_string_member(camrtc_buf *dst, const cJSON *it)
{
    return camrtc_buf_append(dst, it->valuestring, strlen(it->valuestring));
}

int camrtc_sigmsg_parse_sdp_json(const char *json, size_t len, char *type, size_t type_sz, camrtc_buf *sdp)
{
    if (!json || !type || type_sz == 0 || !sdp)
        return CAMRTC_EINVAL;
    cJSON *root;
    int rc = parse_object(json, len, CAMRTC_SIGMSG_MAX_PAYLOAD, &root, NULL, 0);
    if (rc < 0)
        return rc;
    static const char *const keys[] = {"type", "sdp"};
    const cJSON *f[2];
    rc = collect(root, keys, 2, f, NULL, 0);
    if (rc == 0 && (!cJSON_IsString(f[0]) || !cJSON_IsString(f[1]) || !f[0]->valuestring || !f[1]->valuestring))
        rc = CAMRTC_EPROTO;
    if (rc == 0 && strcmp(f[0]->valuestring, "offer") != 0 && strcmp(f[0]->valuestring, "answer") != 0)
        rc = CAMRTC_EPROTO;
    if (rc == 0 && camrtc_strlcpy(type, f[0]->valuestring, type_sz) < 0)
        rc = CAMRTC_EINVAL;
    if (rc == 0)
        rc = append_string_member(sdp, f[1]);
    cJSON_Delete(root);
    return rc;
}

int camrtc_sigmsg_parse_candidate_json(const char *json, size_t len, camrtc_buf *candidate, char *sdp_mid,
                                       size_t mid_sz, int *sdp_mline_index)
{
    if (!json || !candidate || !sdp_mid || mid_sz == 0 || !sdp_mline_index)
        return CAMRTC_EINVAL;
    cJSON *root;
    int rc = parse_object(json, len, CAMRTC_SIGMSG_MAX_PAYLOAD, &root, NULL, 0);
    if (rc < 0)
        return rc;
    static const char *const keys[] = {"candidate", "sdpMid", "sdpMLineIndex"};
    const cJSON *f[3];
    rc = collect(root, keys, 3, f, NULL, 0);
    if (rc == 0 && (!cJSON_IsString(f[0]) || !f[0]->valuestring))
        rc = CAMRTC_EPROTO;
    sdp_mid[0] = '\0';
    if (rc == 0 && !absent(f[1])) {
        if (!cJSON_IsString(f[1]) || !f[1]->valuestring || camrtc_strlcpy(sdp_mid, f[1]->valuestring, mid_sz) < 0)
            rc = CAMRTC_EPROTO;
    }
    *sdp_mline_index = -1;
    if (rc == 0 && !absent(f[2])) {
        double d = cJSON_IsNumber(f[2]) ? f[2]->valuedouble : -1;
        if (!(d >= 0 && d <= 65535) || d != (double)(int)d)
            rc = CAMRTC_EPROTO;
        else
            *sdp_mline_index = (int)d;
    }
    if (rc == 0)
        rc = append_string_member(candidate, f[0]);
    if (rc < 0) {
        sdp_mid[0] = '\0';
        *sdp_mline_index = -1;
    }
    cJSON_Delete(root);
    return rc;
}

void camrtc_sigmsg_clear(camrtc_sigmsg *m)
{
    if (!m)
        return;
    free(m->payload);
    free(m->ice_server_list);
    memset(m, 0, sizeof *m);
}

