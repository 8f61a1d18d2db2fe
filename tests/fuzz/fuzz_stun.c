/* Fuzzes the STUN parser, every getter, the integrity and fingerprint checks, and the
 * builder. Invariants (abort when broken):
 *   - camrtc_stun_is_message is true for whatever camrtc_stun_parse accepts;
 *   - every attribute index lies inside the message;
 *   - re-building the accepted attributes with the builder, plus MESSAGE-INTEGRITY and
 *     FINGERPRINT, parses again to the same attributes and passes both checks.
 * Random bytes rarely carry the magic cookie and a matching length, so each input is also
 * tried with its header repaired: the fuzzer then spends its time in the attribute walk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/stun.h"

static const uint8_t KEY[] = "VOkJxbRl1RmTxUk/WvJxBt";

static void exercise_getters(const camrtc_stun_msg *m)
{
    camrtc_addr a;
    uint32_t u32;
    uint64_t u64;
    const char *s;
    size_t n;
    int code;
    for (unsigned i = 0; i < m->nattrs; i++) {
        const camrtc_stun_attr *at = &m->attrs[i];
        if ((size_t)at->off + at->len > m->len || at->off < CAMRTC_STUN_HEADER + 4)
            abort();
        if (camrtc_stun_find(m, at->type) == NULL)
            abort();
        camrtc_stun_get_xor_addr(m, at->type, &a);
        camrtc_stun_get_addr(m, at->type, &a);
        camrtc_stun_get_u32(m, at->type, &u32);
        camrtc_stun_get_u64(m, at->type, &u64);
        camrtc_stun_get_string(m, at->type, &s, &n);
    }
    if (camrtc_stun_get_error(m, &code, &s, &n) == CAMRTC_OK && (code < 300 || code > 699))
        abort();
    if (camrtc_stun_get_string(m, CAMRTC_STUN_A_REALM, &s, &n) == CAMRTC_OK) {
        uint8_t key[16];
        camrtc_stun_longterm_key("user", s, n, "pass", key);
        camrtc_stun_check_integrity(m, key, sizeof key);
    }
    camrtc_stun_check_integrity(m, KEY, sizeof KEY - 1);
    camrtc_stun_check_integrity_sha256(m, KEY, sizeof KEY - 1);
    camrtc_stun_check_fingerprint(m);
}

static bool is_integrity(uint16_t type)
{
    return type == CAMRTC_STUN_A_MESSAGE_INTEGRITY || type == CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256 ||
           type == CAMRTC_STUN_A_FINGERPRINT;
}

/* Build the accepted attributes again, protect them, and parse the result. */
static void rebuild(const camrtc_stun_msg *m)
{
    size_t cap = m->len + 64;
    uint8_t *buf = malloc(cap);
    if (!buf)
        abort();
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, cap, m->type, m->txid);
    unsigned kept = 0;
    for (unsigned i = 0; i < m->nattrs; i++) {
        const camrtc_stun_attr *at = &m->attrs[i];
        if (is_integrity(at->type))
            continue;
        camrtc_stun_add(&b, at->type, camrtc_stun_value(m, at), at->len);
        kept++;
    }
    camrtc_stun_add_integrity(&b, KEY, sizeof KEY - 1);
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    /* Only the 64 KiB length field or the attribute table may stand in the way. */
    if (n < 0) {
        if (n != CAMRTC_ETOOBIG || m->len + 32 <= 20 + 0xfffc)
            abort();
        free(buf);
        return;
    }
    camrtc_stun_msg r;
    int rc = camrtc_stun_parse(&r, buf, (size_t)n);
    if (rc == CAMRTC_ETOOBIG && kept + 2 > CAMRTC_STUN_MAX_ATTRS) {
        free(buf);
        return;
    }
    if (rc != CAMRTC_OK || r.nattrs != kept + 2 || camrtc_stun_check_integrity(&r, KEY, sizeof KEY - 1) != CAMRTC_OK ||
        camrtc_stun_check_fingerprint(&r) != CAMRTC_OK || r.type != m->type || memcmp(r.txid, m->txid, 12) != 0)
        abort();
    for (unsigned i = 0, j = 0; i < m->nattrs; i++) {
        const camrtc_stun_attr *at = &m->attrs[i];
        if (is_integrity(at->type))
            continue;
        const camrtc_stun_attr *bt = &r.attrs[j++];
        if (bt->type != at->type || bt->len != at->len ||
            memcmp(camrtc_stun_value(&r, bt), camrtc_stun_value(m, at), at->len) != 0)
            abort();
    }
    free(buf);
}

static void one(const uint8_t *data, size_t size)
{
    camrtc_stun_msg m;
    bool is = camrtc_stun_is_message(data, size);
    int rc = camrtc_stun_parse(&m, data, size);
    if (rc == CAMRTC_OK && !is)
        abort();
    if (rc != CAMRTC_OK && rc != CAMRTC_EPROTO && rc != CAMRTC_ETOOBIG)
        abort();
    if (rc == CAMRTC_OK) {
        exercise_getters(&m);
        rebuild(&m);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    /* Repair the header (top bits, cookie, length) and try again. */
    if (size >= CAMRTC_STUN_HEADER && size % 4 == 0 && size - CAMRTC_STUN_HEADER <= 0xffff) {
        uint8_t *p = malloc(size);
        if (!p)
            abort();
        memcpy(p, data, size);
        p[0] &= 0x3f;
        p[2] = (uint8_t)((size - CAMRTC_STUN_HEADER) >> 8);
        p[3] = (uint8_t)(size - CAMRTC_STUN_HEADER);
        p[4] = 0x21, p[5] = 0x12, p[6] = 0xa4, p[7] = 0x42;
        one(p, size);
        free(p);
    }
    return 0;
}
