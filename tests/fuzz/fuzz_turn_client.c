/* Fuzzes the TURN client with server input in each of its states.
 *
 * Input: byte 0 picks the state to drive the client to with a scripted server
 * (0 new, 1 allocating before the challenge, 2 allocating with credentials, 3 allocated
 * with a permission and a bound channel, 4 closing; bit 7 = over a stream). Then records
 * [flags][len hi][len lo][len bytes] follow. flags bit 0: re-sign the record as an answer
 * to the client's last request (its transaction id, MESSAGE-INTEGRITY under the right key,
 * FINGERPRINT), so the fuzzer reaches the response logic past the integrity check;
 * bit 1: fire the next timer first; bit 2: send data to the peer afterwards; bit 3: cut
 * the record with camrtc_turn_frame_len as a stream reader would.
 * Invariants: no crash, no leak, and the state only moves along its legal edges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "camrtc/turn.h"

#define USER "u"
#define PASS "p"
#define REALM "r"

typedef struct fz {
    camrtc_turn *t;
    camrtc_time_us now;
    uint8_t last[2048];   /* the last request the client sent */
    size_t last_len;
    uint8_t key[16];
    camrtc_addr peer, relayed;
} fz;

static void fz_send(void *user, const uint8_t *data, size_t len)
{
    fz *f = user;
    camrtc_stun_msg m;
    if (len <= sizeof f->last && camrtc_stun_parse(&m, data, len) == 0 &&
        camrtc_stun_class(m.type) == CAMRTC_STUN_REQUEST) {
        memcpy(f->last, data, len);
        f->last_len = len;
    }
}

static void fz_event(void *user, const camrtc_turn_event *ev)
{
    fz *f = user;
    /* Touch what an event hands over, so ASan sees a bad pointer. */
    volatile uint8_t sink = 0;
    for (size_t i = 0; ev->data && i < ev->len; i++)
        sink ^= ev->data[i];
    (void)sink;
    if (ev->type == CAMRTC_TURN_EV_DATA)
        camrtc_turn_send_to(f->t, f->now, &ev->peer, (const uint8_t *)"echo", 4);
}

/* Answer the last request with cls: an ERROR-CODE when code, REALM/NONCE for a
 * challenge, the attributes of attrs_from (or a plain Allocate success), then
 * MESSAGE-INTEGRITY (not on challenges) and FINGERPRINT. */
static void answer(fz *f, uint16_t cls, const camrtc_stun_msg *attrs_from, int code, bool challenge)
{
    camrtc_stun_msg req;
    if (f->last_len == 0 || camrtc_stun_parse(&req, f->last, f->last_len) != 0)
        return;
    uint8_t buf[4096];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(camrtc_stun_method(req.type), cls), req.txid);
    if (code)
        camrtc_stun_add_error(&b, code, NULL);
    if (challenge) {
        camrtc_stun_add_string(&b, CAMRTC_STUN_A_REALM, REALM);
        camrtc_stun_add_string(&b, CAMRTC_STUN_A_NONCE, "n");
    }
    if (attrs_from) {
        for (unsigned i = 0; i < attrs_from->nattrs; i++) {
            const camrtc_stun_attr *a = &attrs_from->attrs[i];
            if (a->type == CAMRTC_STUN_A_MESSAGE_INTEGRITY || a->type == CAMRTC_STUN_A_FINGERPRINT ||
                a->type == CAMRTC_STUN_A_MESSAGE_INTEGRITY_SHA256)
                continue;
            camrtc_stun_add(&b, a->type, camrtc_stun_value(attrs_from, a), a->len);
        }
    } else if (cls == CAMRTC_STUN_SUCCESS && camrtc_stun_method(req.type) == CAMRTC_STUN_ALLOCATE) {
        camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &f->relayed);
        camrtc_stun_add_u32(&b, CAMRTC_STUN_A_LIFETIME, 600);
    }
    if (!challenge)
        camrtc_stun_add_integrity(&b, f->key, sizeof f->key);
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    if (n > 0)
        camrtc_turn_input(f->t, f->now, buf, (size_t)n);
}

static void drive_to(fz *f, int target)
{
    if (target >= 1)
        camrtc_turn_start(f->t, f->now);
    if (target >= 2)
        answer(f, CAMRTC_STUN_ERROR, NULL, 401, true);
    if (target >= 3) {
        camrtc_turn_permit(f->t, f->now, &f->peer, true);
        answer(f, CAMRTC_STUN_SUCCESS, NULL, 0, false);   /* Allocate; the peer requests follow */
        answer(f, CAMRTC_STUN_SUCCESS, NULL, 0, false);   /* ChannelBind (sent last) */
    }
    if (target >= 4)
        camrtc_turn_close(f->t, f->now);
}

static bool legal(camrtc_turn_state from, camrtc_turn_state to)
{
    if (from == to)
        return true;
    switch (from) {
    case CAMRTC_TURN_NEW: return to == CAMRTC_TURN_ALLOCATING || to == CAMRTC_TURN_CLOSED;
    case CAMRTC_TURN_ALLOCATING: return to == CAMRTC_TURN_ALLOCATED || to == CAMRTC_TURN_FAILED;
    case CAMRTC_TURN_ALLOCATED: return to == CAMRTC_TURN_FAILED || to == CAMRTC_TURN_CLOSING;
    case CAMRTC_TURN_CLOSING: return to == CAMRTC_TURN_CLOSED;
    default: return false;
    }
}

static void feed(fz *f, uint8_t flags, const uint8_t *rec, size_t len)
{
    if (flags & 8) {
        /* As a stream reader: whole frames only, then what is left as one message. */
        for (int k = 0; k < 64 && len > 0; k++) {
            int n = camrtc_turn_frame_len(rec, len);
            if (n < 0 || (n == 0 && len > 0 && k > 0))
                break;
            if (n == 0)
                n = (int)len;
            if ((size_t)n > len)
                abort();
            camrtc_turn_input(f->t, f->now, rec, (size_t)n);
            rec += n;
            len -= (size_t)n;
        }
        return;
    }
    camrtc_stun_msg m;
    if ((flags & 1) && camrtc_stun_parse(&m, rec, len) == 0) {
        /* The record's class is kept and its attributes (ERROR-CODE included) copied. */
        bool is_err = camrtc_stun_class(m.type) == CAMRTC_STUN_ERROR;
        answer(f, is_err ? CAMRTC_STUN_ERROR : CAMRTC_STUN_SUCCESS, &m, 0, false);
        return;
    }
    /* Exact-size copy so ASan sees reads past the end. */
    uint8_t *p = malloc(len ? len : 1);
    if (!p)
        return;
    if (len)
        memcpy(p, rec, len);
    bool mine = camrtc_turn_is_mine(f->t, p, len);
    int rc = camrtc_turn_input(f->t, f->now, p, len);
    /* Whatever the client accepts, camrtc_turn_is_mine must have claimed. */
    if (!mine && rc == CAMRTC_OK)
        abort();
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fz f;
    memset(&f, 0, sizeof f);
    f.now = CAMRTC_SEC(1);
    camrtc_addr_parse(&f.peer, "203.0.113.5", 5000);
    camrtc_addr_parse(&f.relayed, "192.0.2.1", 49152);
    camrtc_stun_longterm_key(USER, REALM, 1, PASS, f.key);
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 1) != 0)
        return 0;
    camrtc_turn_config cfg = {.username = USER, .password = PASS, .stream = (data[0] & 0x80) != 0};
    camrtc_addr_parse(&cfg.server, "192.0.2.1", 3478);
    static const camrtc_turn_io io = {fz_send, fz_event};
    f.t = camrtc_turn_new(&cfg, &io, &f, &rng, NULL);
    if (!f.t) {
        camrtc_rng_free(&rng);
        return 0;
    }
    drive_to(&f, (data[0] & 0x7F) % 5);
    size_t off = 1;
    for (int rounds = 0; rounds < 256 && off + 3 <= size; rounds++) {
        uint8_t flags = data[off];
        size_t len = ((size_t)data[off + 1] << 8) | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        camrtc_turn_state before = camrtc_turn_get_state(f.t);
        if (flags & 2) {
            camrtc_time_us at = camrtc_turn_next_timeout(f.t);
            if (at != CAMRTC_TIME_NEVER && at > f.now)
                f.now = at;
            camrtc_turn_handle_timeout(f.t, f.now);
        }
        feed(&f, flags, data + off, len);
        if (flags & 4)
            camrtc_turn_send_to(f.t, f.now, &f.peer, data + off, len > 64 ? 64 : len);
        if (!legal(before, camrtc_turn_get_state(f.t)) &&
            !(before == CAMRTC_TURN_ALLOCATED && camrtc_turn_get_state(f.t) == CAMRTC_TURN_CLOSED))
            abort();
        off += len;
    }
    camrtc_turn_close(f.t, f.now);
    camrtc_turn_free(f.t);
    camrtc_rng_free(&rng);
    return 0;
}
