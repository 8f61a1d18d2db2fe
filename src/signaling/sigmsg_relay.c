/* The relay fast path of the signaling message codec: parse a client message and
 * write it on to its recipient with one copy of the payload (see sigmsg.h,
 * camrtc_sigmsg_relay_*). Messages the strict flat scanner does not take go through
 * the reference cJSON parser in sigmsg.c, so both paths accept exactly the same. */
#include "camrtc/sigmsg.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "signaling/sigmsg_int.h"

/* ---- relaying ---- */

enum { FLAT_ABSENT, FLAT_NULL, FLAT_STRING };

/* A member value found by scan_flat: a string's raw bytes, or null. */
typedef struct flat_val {
    const char *s;
    size_t n;
    int kind;
} flat_val;

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (unsigned char)*p <= ' ' && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* s[0..n) equals key (n bytes, lower-case letters only) ignoring ASCII case: a
 * byte ORed with 0x20 equals a lower-case letter only when it is that letter
 * in either case. Eight bytes at a time (the last word may overlap). */
static bool key_eq(const char *s, const char *key, size_t n)
{
    const uint64_t fold = 0x2020202020202020ull;
    if (n < 8) {
        for (size_t i = 0; i < n; i++)
            if ((s[i] | 0x20) != key[i])
                return false;
        return true;
    }
    for (size_t i = 0; i + 8 < n; i += 8)
        if ((load8(s + i) | fold) != load8(key + i))
            return false;
    return (load8(s + n - 8) | fold) == load8(key + n - 8);
}

/* The index of the key s[0..n) matches in keys (lower case), or -1. */
static int find_key(const char *s, size_t n, const char *const *keys, const uint8_t *key_lens, int nkeys)
{
    for (int k = 0; k < nkeys; k++)
        if (n == key_lens[k] && key_eq(s, keys[k], n))
            return k;
    return -1;
}

/* Scan len bytes as a JSON object whose member values are all strings or null,
 * strictly (RFC 8259 whitespace only, nothing after the object). Keys and the
 * values of unlisted keys must be plain (no escapes, control or non-ASCII
 * bytes). The values of listed keys are returned raw and unchecked: a value
 * with an escape ends at the escaped quote, so the caller must refuse any byte
 * outside what it accepts (its validation is stricter than "plain"). Returns
 * false for anything else, malformed or only unusual (numbers, nesting, escapes,
 * a listed key twice): the reference parser then decides and explains. */
static bool scan_flat(const char *json, size_t len, const char *const *keys, const uint8_t *key_lens, int nkeys,
                      flat_val *vals)
{
    const char *p = json, *end = json + len;
    for (int k = 0; k < nkeys; k++)
        vals[k].kind = FLAT_ABSENT;
    p = skip_ws(p, end);
    if (p == end || *p != '{')
        return false;
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return skip_ws(p + 1, end) == end;
    for (;;) {
        if (p == end || *p != '"')
            return false;
        const char *ks = ++p;
        const char *q = memchr(p, '"', (size_t)(end - p));
        if (!q)
            return false;
        size_t kn = (size_t)(q - ks);
        p = skip_ws(q + 1, end);
        if (p == end || *p != ':')
            return false;
        p = skip_ws(p + 1, end);
        flat_val v = {NULL, 0, FLAT_NULL};
        if (p < end && *p == '"') {
            p++;
            if (!(q = memchr(p, '"', (size_t)(end - p))))
                return false;
            v.s = p;
            v.n = (size_t)(q - p);
            v.kind = FLAT_STRING;
            p = q + 1;
        } else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            p += 4;
        } else {
            return false;
        }
        /* A listed key is all letters, so plain; another must be checked. */
        int k = find_key(ks, kn, keys, key_lens, nkeys);
        if (k >= 0) {
            if (vals[k].kind != FLAT_ABSENT)
                return false;
            vals[k] = v;
        } else if (sigmsg_plain_prefix((const unsigned char *)ks, kn) != kn ||
                   (v.kind == FLAT_STRING && sigmsg_plain_prefix((const unsigned char *)v.s, v.n) != v.n)) {
            return false;
        }
        p = skip_ws(p, end);
        if (p == end)
            return false;
        if (*p == '}')
            return skip_ws(p + 1, end) == end;
        if (*p != ',')
            return false;
        p = skip_ws(p + 1, end);
    }
}

/* An optional id as take_id takes it; false where take_id would refuse. */
/* camrtc_str_is_name's test, by table: ids are checked on every message. */
static bool is_name(const char *s, size_t n)
{
    static const bool name_char[256] = {
        ['-'] = 1, ['.'] = 1, ['_'] = 1,
        ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
        ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
        ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1,
        ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
        ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
        ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
        ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
    };
    if (n == 0 || n > CAMRTC_SIGMSG_MAX_ID)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!name_char[(unsigned char)s[i]])
            return false;
    return true;
}

static bool flat_id(const flat_val *v, char dst[CAMRTC_SIGMSG_MAX_ID + 1])
{
    dst[0] = '\0';
    if (v->kind != FLAT_STRING || v->n == 0)
        return true;
    if (!is_name(v->s, v->n))
        return false;
    memcpy(dst, v->s, v->n);
    dst[v->n] = '\0';
    return true;
}

/* The common client message, accepted in place; false sends it to the reference
 * parser (which may accept it too: IceServerList, escapes, other value types). */
static bool relay_fast(const char *json, size_t len, camrtc_sigmsg_relay *out)
{
    /* camrtc_sigmsg_parse_from_client's keys, in lower case. */
    enum { K_ACTION, K_RECIPIENT, K_PAYLOAD, K_CORR, K_ICE, K_N };
    static const char *const keys[K_N] = {"action", "recipientclientid", "messagepayload", "correlationid",
                                          "iceserverlist"};
    static const uint8_t key_lens[K_N] = {6, 17, 14, 13, 13};
    flat_val v[K_N];
    if (len > CAMRTC_SIGMSG_MAX_JSON || !scan_flat(json, len, keys, key_lens, K_N, v))
        return false;
    if (v[K_ICE].kind == FLAT_STRING || v[K_ACTION].kind != FLAT_STRING || v[K_PAYLOAD].kind != FLAT_STRING ||
        v[K_PAYLOAD].n == 0)
        return false;
    const flat_val *a = &v[K_ACTION];
    camrtc_sigmsg_type t = a->n == 9 ? CAMRTC_SIGMSG_SDP_OFFER
                           : a->n == 10 ? CAMRTC_SIGMSG_SDP_ANSWER
                           : a->n == 13 ? CAMRTC_SIGMSG_ICE_CANDIDATE : CAMRTC_SIGMSG_UNKNOWN;
    if (t && memcmp(a->s, camrtc_sigmsg_type_name(t), a->n) != 0)
        t = CAMRTC_SIGMSG_UNKNOWN;
    if (t == CAMRTC_SIGMSG_UNKNOWN || !flat_id(&v[K_RECIPIENT], out->peer_id) ||
        !flat_id(&v[K_CORR], out->correlation_id) || sigmsg_check_base64(v[K_PAYLOAD].s, v[K_PAYLOAD].n) != CAMRTC_OK)
        return false;
    out->type = t;
    out->payload = v[K_PAYLOAD].s;
    out->payload_len = v[K_PAYLOAD].n;
    return true;
}

static void relay_reset(camrtc_sigmsg_relay *r)
{
    r->type = CAMRTC_SIGMSG_UNKNOWN;
    r->peer_id[0] = '\0';
    r->correlation_id[0] = '\0';
    r->payload = r->ice_server_list = NULL;
    r->payload_len = r->ice_len = 0;
    r->owned_ = r->owned_ice_ = NULL;
}

int camrtc_sigmsg_relay_parse(const char *json, size_t len, camrtc_sigmsg_relay *out, char *reason,
                              size_t reason_sz)
{
    if (!out)
        return sigmsg_fail(CAMRTC_EINVAL, reason, reason_sz, "no output");
    relay_reset(out);
    if (json && relay_fast(json, len, out)) {
        if (reason && reason_sz)
            reason[0] = '\0';
        return CAMRTC_OK;
    }
    relay_reset(out);
    camrtc_sigmsg m;
    int rc = camrtc_sigmsg_parse_from_client(json, len, &m, reason, reason_sz);
    memcpy(out->correlation_id, m.correlation_id, sizeof out->correlation_id);
    if (rc < 0)
        return rc;
    out->type = m.type;
    memcpy(out->peer_id, m.peer_id, sizeof out->peer_id);
    out->payload = out->owned_ = m.payload;
    out->payload_len = m.payload_len;
    out->ice_server_list = out->owned_ice_ = m.ice_server_list;
    out->ice_len = m.ice_server_list ? strlen(m.ice_server_list) : 0;
    return CAMRTC_OK;
}

static char *put(char *d, const char *s, size_t n)
{
    memcpy(d, s, n);
    return d + n;
}

#define PUT_LIT(d, lit) put((d), (lit), sizeof(lit) - 1)

int camrtc_sigmsg_relay_write(camrtc_buf *out, const camrtc_sigmsg_relay *r, const char *sender_id)
{
    if (!out || !r || !sender_id || !sigmsg_client_may_send(r->type) || !r->payload || r->payload_len == 0)
        return CAMRTC_EINVAL;
    size_t slen = sender_id[0] ? strnlen(sender_id, CAMRTC_SIGMSG_MAX_ID + 1) : 0;
    if (slen && !is_name(sender_id, slen))
        return CAMRTC_EINVAL;
    /* The payload was validated as base64 and the other strings are names:
     * nothing needs escaping, so the message is assembled by length. */
    static const char sender_key[] = "\"senderClientId\":\"", type_key[] = "\"messageType\":\"",
                      payload_key[] = "\",\"messagePayload\":\"", ice_key[] = ",\"IceServerList\":";
    const char *t = camrtc_sigmsg_type_name(r->type);
    size_t tlen = r->type == CAMRTC_SIGMSG_SDP_OFFER ? 9 : r->type == CAMRTC_SIGMSG_SDP_ANSWER ? 10 : 13;
    bool ice = r->ice_server_list && r->type == CAMRTC_SIGMSG_SDP_OFFER;
    size_t need = 1 + (slen ? sizeof sender_key - 1 + slen + 2 : 0) + sizeof type_key - 1 + tlen +
                  sizeof payload_key - 1 + r->payload_len + 1 + (ice ? sizeof ice_key - 1 + r->ice_len : 0) + 1;
    int rc = camrtc_buf_reserve(out, need);
    if (rc < 0)
        return rc;
    char *d = (char *)camrtc_buf_data(out) + out->len;
    *d++ = '{';
    if (slen) {
        d = PUT_LIT(d, sender_key);
        d = put(d, sender_id, slen);
        d = PUT_LIT(d, "\",");
    }
    d = PUT_LIT(d, type_key);
    d = put(d, t, tlen);
    d = PUT_LIT(d, payload_key);
    d = put(d, r->payload, r->payload_len);
    *d++ = '"';
    if (ice) {
        d = PUT_LIT(d, ice_key);
        d = put(d, r->ice_server_list, r->ice_len);
    }
    *d++ = '}';
    out->len += need;
    return CAMRTC_OK;
}

void camrtc_sigmsg_relay_clear(camrtc_sigmsg_relay *r)
{
    if (!r)
        return;
    if (r->owned_ || r->owned_ice_) {
        free(r->owned_);
        free(r->owned_ice_);
    }
    relay_reset(r);
}
