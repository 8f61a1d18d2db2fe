/* The TURN client (RFC 8656) against a scripted fake server: every message the client
 * sends is recorded and parsed, the test answers by hand. Virtual time throughout. */
#include "check.h"

#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "camrtc/turn.h"

#define USER "alice"
#define PASS "s3cret"
#define REALM "camrtc.test"
#define T0 CAMRTC_SEC(1)
#define MAX_SENT 64
#define MAX_EVS 16

typedef struct sent_msg {
    uint8_t b[2048];
    size_t len;
} sent_msg;

typedef struct fx {
    camrtc_rng rng;
    camrtc_turn *t;
    camrtc_time_us now;
    sent_msg sent[MAX_SENT];
    int nsent;
    camrtc_turn_event ev[MAX_EVS];
    uint8_t evdata[MAX_EVS][256];
    int nev;
    uint8_t key[16];
    camrtc_addr server, relayed, mapped, peer, peer2;
} fx;

static void fx_send(void *user, const uint8_t *data, size_t len)
{
    fx *f = user;
    if (f->nsent < MAX_SENT && len <= sizeof f->sent[0].b) {
        memcpy(f->sent[f->nsent].b, data, len);
        f->sent[f->nsent].len = len;
    }
    f->nsent++;
}

static void fx_event(void *user, const camrtc_turn_event *ev)
{
    fx *f = user;
    if (f->nev >= MAX_EVS)
        return;
    f->ev[f->nev] = *ev;
    if (ev->data && ev->len <= sizeof f->evdata[0]) {
        memcpy(f->evdata[f->nev], ev->data, ev->len);
        f->ev[f->nev].data = f->evdata[f->nev];
    }
    f->nev++;
}

static bool fx_init_cfg(fx *f, const camrtc_turn_config *cfg)
{
    memset(f, 0, sizeof *f);
    if (camrtc_rng_init_seed(&f->rng, 42) != 0)
        return false;
    f->now = T0;
    camrtc_addr_parse(&f->server, "192.0.2.1", 3478);
    camrtc_addr_parse(&f->relayed, "192.0.2.1", 49152);
    camrtc_addr_parse(&f->mapped, "198.51.100.7", 40000);
    camrtc_addr_parse(&f->peer, "203.0.113.5", 5000);
    camrtc_addr_parse(&f->peer2, "2001:db8::5", 6000);
    camrtc_stun_longterm_key(USER, REALM, strlen(REALM), PASS, f->key);
    camrtc_turn_config c = *cfg;
    c.server = f->server;
    static const camrtc_turn_io io = {fx_send, fx_event};
    f->t = camrtc_turn_new(&c, &io, f, &f->rng, NULL);
    return f->t != NULL;
}

static bool fx_init(fx *f, bool stream)
{
    /* Keepalives off here so the timer checks see only the timer under test. */
    camrtc_turn_config c = {.username = USER, .password = PASS, .stream = stream, .keepalive = CAMRTC_TIME_NEVER};
    return fx_init_cfg(f, &c);
}

static void fx_free(fx *f)
{
    camrtc_turn_free(f->t);
    camrtc_rng_free(&f->rng);
}

/* The k-th message the client sent (negative: from the end), parsed. */
static bool fx_msg(fx *f, int k, camrtc_stun_msg *m)
{
    if (k < 0)
        k += f->nsent;
    if (k < 0 || k >= f->nsent || k >= MAX_SENT)
        return false;
    return camrtc_stun_parse(m, f->sent[k].b, f->sent[k].len) == 0;
}

static bool has_str(const camrtc_stun_msg *m, uint16_t type, const char *want)
{
    const char *s;
    size_t n;
    return camrtc_stun_get_string(m, type, &s, &n) == 0 && n == strlen(want) && memcmp(s, want, n) == 0;
}

static int fx_in(fx *f, const uint8_t *b, int n)
{
    if (n <= 0)
        return CAMRTC_EINTERNAL;
    return camrtc_turn_input(f->t, f->now, b, (size_t)n);
}

/* Answer request m with a message that begins with type and ends with integrity under
 * key (NULL: none) and a FINGERPRINT. The attributes in between come from add(). */
typedef void (*add_fn)(fx *f, camrtc_stun_builder *b, const void *arg);

static int fx_answer(fx *f, const camrtc_stun_msg *req, uint16_t cls, const uint8_t *key, add_fn add,
                     const void *arg)
{
    uint8_t buf[1024];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(camrtc_stun_method(req->type), cls), req->txid);
    if (add)
        add(f, &b, arg);
    if (key)
        camrtc_stun_add_integrity(&b, key, 16);
    camrtc_stun_add_fingerprint(&b);
    return fx_in(f, buf, camrtc_stun_build_finish(&b));
}

static void add_challenge(fx *f, camrtc_stun_builder *b, const void *arg)
{
    const int *code = arg;
    camrtc_stun_add_error(b, code[0], NULL);
    camrtc_stun_add_string(b, CAMRTC_STUN_A_REALM, REALM);
    camrtc_stun_add_string(b, CAMRTC_STUN_A_NONCE, code[1] ? "nonce-2" : "nonce-1");
}

static void add_error(fx *f, camrtc_stun_builder *b, const void *arg)
{
    camrtc_stun_add_error(b, *(const int *)arg, NULL);
}

static void add_allocated(fx *f, camrtc_stun_builder *b, const void *arg)
{
    camrtc_stun_add_xor_addr(b, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &f->relayed);
    camrtc_stun_add_xor_addr(b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &f->mapped);
    camrtc_stun_add_u32(b, CAMRTC_STUN_A_LIFETIME, *(const uint32_t *)arg);
}

static void add_lifetime(fx *f, camrtc_stun_builder *b, const void *arg)
{
    camrtc_stun_add_u32(b, CAMRTC_STUN_A_LIFETIME, *(const uint32_t *)arg);
}

/* 401 with nonce-1 (second=0) or 438 / nonce-2. */
static int fx_challenge(fx *f, int k, int code, int second)
{
    camrtc_stun_msg m;
    if (!fx_msg(f, k, &m))
        return CAMRTC_EINTERNAL;
    int arg[2] = {code, second};
    return fx_answer(f, &m, CAMRTC_STUN_ERROR, NULL, add_challenge, arg);
}

static int fx_ok_last(fx *f, add_fn add, const void *arg)
{
    camrtc_stun_msg m;
    if (!fx_msg(f, -1, &m))
        return CAMRTC_EINTERNAL;
    return fx_answer(f, &m, CAMRTC_STUN_SUCCESS, f->key, add, arg);
}

/* Start and go through 401 → Allocate success with lifetime. */
static bool fx_allocate(fx *f, uint32_t lifetime)
{
    if (camrtc_turn_start(f->t, f->now) != 0 || fx_challenge(f, -1, 401, 0) != 0)
        return false;
    return fx_ok_last(f, add_allocated, &lifetime) == 0 && camrtc_turn_get_state(f->t) == CAMRTC_TURN_ALLOCATED;
}

/* Run timers up to t (bounded steps). */
static void fx_run_until(fx *f, camrtc_time_us t)
{
    for (int i = 0; i < 1000; i++) {
        camrtc_time_us at = camrtc_turn_next_timeout(f->t);
        if (at > t)
            break;
        f->now = at > f->now ? at : f->now;
        camrtc_turn_handle_timeout(f->t, f->now);
    }
    if (t > f->now)
        f->now = t;
}

static int count_method(fx *f, int from, uint16_t method)
{
    int n = 0;
    camrtc_stun_msg m;
    for (int k = from; k < f->nsent && k < MAX_SENT; k++)
        if (fx_msg(f, k, &m) && camrtc_stun_method(m.type) == method && camrtc_stun_class(m.type) == CAMRTC_STUN_REQUEST)
            n++;
    return n;
}

/* The last request of method, or -1. */
static int find_last(fx *f, uint16_t method)
{
    camrtc_stun_msg m;
    for (int k = (f->nsent < MAX_SENT ? f->nsent : MAX_SENT) - 1; k >= 0; k--)
        if (fx_msg(f, k, &m) && camrtc_stun_method(m.type) == method && camrtc_stun_class(m.type) == CAMRTC_STUN_REQUEST)
            return k;
    return -1;
}

/* ---- the allocation dance ---- */

TEST(allocate_401_then_authenticated_allocate)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_NEW);
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_ESTATE);
    CHECK_EQ_INT(f.nsent, 1);

    /* First Allocate: no credentials yet (§7.1). */
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, 0, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_ALLOCATE, CAMRTC_STUN_REQUEST));
    const camrtc_stun_attr *a = camrtc_stun_find(&m, CAMRTC_STUN_A_REQUESTED_TRANSPORT);
    CHECK(a && a->len == 4);
    CHECK_EQ_MEM(camrtc_stun_value(&m, a), "\x11\0\0\0", 4);
    uint32_t life = 0;
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_LIFETIME, &life), 0);
    CHECK_EQ_INT(life, 600);
    CHECK(!camrtc_stun_find(&m, CAMRTC_STUN_A_USERNAME));
    CHECK(m.integrity < 0);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATING);
    uint8_t txid1[12];
    memcpy(txid1, m.txid, 12);

    CHECK_EQ_INT(fx_challenge(&f, 0, 401, 0), CAMRTC_OK);
    CHECK_EQ_INT(f.nsent, 2);
    CHECK(fx_msg(&f, 1, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_ALLOCATE, CAMRTC_STUN_REQUEST));
    CHECK(memcmp(m.txid, txid1, 12) != 0);   /* a new transaction */
    CHECK(camrtc_stun_find(&m, CAMRTC_STUN_A_REQUESTED_TRANSPORT));
    CHECK(has_str(&m, CAMRTC_STUN_A_USERNAME, USER));
    CHECK(has_str(&m, CAMRTC_STUN_A_REALM, REALM));
    CHECK(has_str(&m, CAMRTC_STUN_A_NONCE, "nonce-1"));
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
    /* MESSAGE-INTEGRITY then FINGERPRINT, nothing else after the integrity. */
    CHECK_EQ_INT(m.integrity + 2, (int)m.nattrs);
    CHECK_EQ_INT(m.fingerprint + 1, (int)m.nattrs);

    /* A response to this Allocate is the client's; a Binding response is not. */
    uint8_t buf[128];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_ALLOCATE, CAMRTC_STUN_SUCCESS), m.txid);
    CHECK(camrtc_turn_is_mine(f.t, buf, (size_t)camrtc_stun_build_finish(&b)));
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_SUCCESS), txid1);
    CHECK(!camrtc_turn_is_mine(f.t, buf, (size_t)camrtc_stun_build_finish(&b)));
    CHECK(camrtc_turn_is_mine(f.t, (const uint8_t *)"\x40\x00\x00\x00", 4));
    CHECK(!camrtc_turn_is_mine(f.t, (const uint8_t *)"\x80\x00\x00\x00", 4));

    uint32_t granted = 600;
    CHECK_EQ_INT(fx_ok_last(&f, add_allocated, &granted), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATED);
    CHECK_EQ_INT(f.nev, 1);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_ALLOCATED);
    CHECK(camrtc_addr_equal(&f.ev[0].relayed, &f.relayed));
    CHECK(camrtc_addr_equal(&f.ev[0].mapped, &f.mapped));
    const camrtc_turn_stats *st = camrtc_turn_get_stats(f.t);
    CHECK_EQ_INT(st->auth_retries, 1);
    CHECK_EQ_INT(st->requests_sent, 2);
    CHECK_EQ_INT(st->dropped, 0);
    fx_free(&f);
}

TEST(stale_nonce_retries_with_new_nonce)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 438, 1), CAMRTC_OK);
    CHECK_EQ_INT(f.nsent, 3);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, 2, &m));
    CHECK(has_str(&m, CAMRTC_STUN_A_NONCE, "nonce-2"));
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->stale_nonces, 1);
    uint32_t granted = 600;
    CHECK_EQ_INT(fx_ok_last(&f, add_allocated, &granted), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATED);

    /* A stale nonce on a later Refresh is retried the same way. */
    fx_run_until(&f, T0 + CAMRTC_SEC(540));
    int k = find_last(&f, CAMRTC_STUN_REFRESH);
    CHECK(k >= 0);
    CHECK_EQ_INT(fx_challenge(&f, k, 438, 0), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_REFRESH);
    CHECK(has_str(&m, CAMRTC_STUN_A_NONCE, "nonce-1"));
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->stale_nonces, 2);
    fx_free(&f);
}

TEST(wrong_password_fails_with_401)
{
    fx f;
    camrtc_turn_config c = {.username = USER, .password = "wrong"};
    CHECK(fx_init_cfg(&f, &c));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_EAUTH);
    /* The server refuses the credentials: a second 401 is final. */
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    CHECK_EQ_INT(f.nsent, 2);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_FAILED);
    CHECK_EQ_INT(f.nev, 1);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
    CHECK_EQ_INT(f.ev[0].code, 401);
    CHECK_EQ_INT(f.ev[0].err, CAMRTC_EAUTH);
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), CAMRTC_TIME_NEVER);
    fx_free(&f);
}

TEST(try_alternate_and_other_errors_fail)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, 0, &m));
    int code = 300;   /* redirection is not supported */
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, NULL, add_error, &code), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, 1);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
    CHECK_EQ_INT(f.ev[0].code, 300);
    CHECK_EQ_INT(f.ev[0].err, CAMRTC_EUNSUPPORTED);
    fx_free(&f);

    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    code = 486;
    CHECK_EQ_INT(fx_ok_last(&f, NULL, NULL), CAMRTC_OK);   /* success without addresses */
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
    CHECK_EQ_INT(f.ev[0].err, CAMRTC_EPROTO);
    fx_free(&f);

    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, f.key, add_error, &code), CAMRTC_OK);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
    CHECK_EQ_INT(f.ev[0].code, 486);
    CHECK_EQ_INT(f.ev[0].err, CAMRTC_ELIMIT);
    fx_free(&f);
}

/* 437 to an authenticated Allocate: a stale allocation of ours holds this 5-tuple. The
 * client deletes it (Refresh LIFETIME 0) and allocates again, once; a second 437 fails. */
TEST(allocation_mismatch_clears_the_stale_allocation_once)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, -1, &m));
    int code = 437;
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, f.key, add_error, &code), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, 0);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_REFRESH);
    uint32_t lt = 99;
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_LIFETIME, &lt), CAMRTC_OK);
    CHECK_EQ_INT(lt, 0);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);
    lt = 0;
    CHECK_EQ_INT(fx_ok_last(&f, add_lifetime, &lt), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_ALLOCATE);
    lt = 600;
    CHECK_EQ_INT(fx_ok_last(&f, add_allocated, &lt), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATED);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_ALLOCATED);
    fx_free(&f);

    /* The server keeps answering 437 (the allocation is someone else's): fail after one try. */
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, f.key, add_error, &code), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    int refused = 441; /* Wrong Credentials: not ours to delete */
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, f.key, add_error, &refused), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_ALLOCATE);
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, f.key, add_error, &code), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, 1);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
    CHECK_EQ_INT(f.ev[0].code, 437);
    fx_free(&f);
}

/* coturn checks the 5-tuple before the credentials: a 437 answers the first, unauthenticated
 * Allocate when a deallocated allocation still holds this 5-tuple (it lingers after Refresh
 * LIFETIME 0). The clearing Refresh goes out anyway; its 401 gives the nonce. When the 5-tuple
 * stays taken, the client fails with code 437 (its owner may move to another port). */
TEST(mismatch_to_the_unauthenticated_allocate_clears_with_the_refresh_challenge)
{
    for (int still_taken = 0; still_taken <= 1; still_taken++) {
        fx f;
        CHECK(fx_init(&f, false));
        CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
        camrtc_stun_msg m;
        CHECK(fx_msg(&f, -1, &m));
        CHECK(m.integrity < 0);
        int code = 437;
        CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, NULL, add_error, &code), CAMRTC_OK);
        CHECK_EQ_INT(f.nev, 0);
        /* Refresh LIFETIME 0, unauthenticated (no nonce yet), then with credentials. */
        CHECK(fx_msg(&f, -1, &m));
        CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_REFRESH);
        CHECK(m.integrity < 0);
        CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
        CHECK(fx_msg(&f, -1, &m));
        CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_REFRESH);
        uint32_t lt = 99;
        CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_LIFETIME, &lt), CAMRTC_OK);
        CHECK_EQ_INT(lt, 0);
        CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);
        lt = 0;
        CHECK_EQ_INT(fx_ok_last(&f, add_lifetime, &lt), CAMRTC_OK);
        /* Allocate again, with credentials. */
        CHECK(fx_msg(&f, -1, &m));
        CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_ALLOCATE);
        CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);
        if (still_taken) {
            CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, f.key, add_error, &code), CAMRTC_OK);
            CHECK_EQ_INT(f.nev, 1);
            CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
            CHECK_EQ_INT(f.ev[0].code, 437);
            CHECK_EQ_INT(f.ev[0].err, CAMRTC_ESTATE);
            CHECK_EQ_INT(count_method(&f, 0, CAMRTC_STUN_ALLOCATE), 2);   /* bounded: no third */
        } else {
            lt = 600;
            CHECK_EQ_INT(fx_ok_last(&f, add_allocated, &lt), CAMRTC_OK);
            CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATED);
            CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_ALLOCATED);
        }
        fx_free(&f);
    }
}

/* ---- timers ---- */

TEST(refresh_a_minute_before_expiry_or_halfway)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK(fx_allocate(&f, 600));
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), T0 + CAMRTC_SEC(540));
    int before = f.nsent;
    fx_run_until(&f, T0 + CAMRTC_SEC(540) - 1);
    CHECK_EQ_INT(f.nsent, before);
    fx_run_until(&f, T0 + CAMRTC_SEC(540));
    CHECK_EQ_INT(f.nsent, before + 1);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_REFRESH, CAMRTC_STUN_REQUEST));
    uint32_t life = 0;
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_LIFETIME, &life), 0);
    CHECK_EQ_INT(life, 600);
    CHECK(has_str(&m, CAMRTC_STUN_A_USERNAME, USER));
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);

    /* The server grants only 100 s: refresh half-way. */
    uint32_t granted = 100;
    CHECK_EQ_INT(fx_ok_last(&f, add_lifetime, &granted), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->refreshes, 1);
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), f.now + CAMRTC_SEC(50));
    fx_free(&f);
}

static int fx_ok_k(fx *f, int k, add_fn add, const void *arg)
{
    camrtc_stun_msg m;
    if (!fx_msg(f, k, &m))
        return CAMRTC_EINTERNAL;
    return fx_answer(f, &m, CAMRTC_STUN_SUCCESS, f->key, add, arg);
}

TEST(permission_and_channel_bind_with_their_refreshes)
{
    fx f;
    CHECK(fx_init(&f, false));
    /* Asked for before the allocation exists: sent once it does. */
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer, true), CAMRTC_OK);
    CHECK(fx_allocate(&f, 3600));
    CHECK_EQ_INT(f.nsent, 4);
    camrtc_stun_msg m;
    camrtc_addr a;
    uint32_t ch = 0;
    CHECK(fx_msg(&f, 2, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_CREATE_PERMISSION, CAMRTC_STUN_REQUEST));
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &a), 0);
    CHECK(camrtc_addr_equal(&a, &f.peer));
    CHECK(has_str(&m, CAMRTC_STUN_A_USERNAME, USER));
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);
    CHECK(fx_msg(&f, 3, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_CHANNEL_BIND, CAMRTC_STUN_REQUEST));
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_CHANNEL_NUMBER, &ch), 0);
    CHECK_EQ_INT(ch, 0x40000000u);   /* channel 0x4000, then 16 reserved zero bits */
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &a), 0);
    CHECK(camrtc_addr_equal(&a, &f.peer));
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);

    CHECK_EQ_INT(fx_ok_k(&f, 2, NULL, NULL), CAMRTC_OK);
    CHECK_EQ_INT(fx_ok_k(&f, 3, NULL, NULL), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, 2);
    CHECK_EQ_INT(f.ev[1].type, CAMRTC_TURN_EV_PERMISSION);
    CHECK_EQ_INT(f.ev[1].err, CAMRTC_OK);
    CHECK(camrtc_addr_equal(&f.ev[1].peer, &f.peer));
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->permissions, 1);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->channel_binds, 1);
    /* Calling again keeps what is installed: nothing new is sent. */
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer, true), CAMRTC_OK);
    CHECK_EQ_INT(f.nsent, 4);

    /* Permission refreshed every 240 s (it lives 300 s), channel every 540 s (600 s). */
    camrtc_time_us t_bound = f.now;
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), t_bound + CAMRTC_SEC(240));
    fx_run_until(&f, t_bound + CAMRTC_SEC(240));
    CHECK_EQ_INT(f.nsent, 5);
    CHECK_EQ_INT(count_method(&f, 4, CAMRTC_STUN_CREATE_PERMISSION), 1);
    CHECK_EQ_INT(fx_ok_last(&f, NULL, NULL), CAMRTC_OK);
    fx_run_until(&f, t_bound + CAMRTC_SEC(480));
    CHECK_EQ_INT(count_method(&f, 4, CAMRTC_STUN_CREATE_PERMISSION), 2);
    CHECK_EQ_INT(fx_ok_last(&f, NULL, NULL), CAMRTC_OK);
    fx_run_until(&f, t_bound + CAMRTC_SEC(540) - 1);
    CHECK_EQ_INT(count_method(&f, 4, CAMRTC_STUN_CHANNEL_BIND), 0);
    fx_run_until(&f, t_bound + CAMRTC_SEC(540));
    CHECK_EQ_INT(count_method(&f, 4, CAMRTC_STUN_CHANNEL_BIND), 1);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_CHANNEL_NUMBER, &ch), 0);
    CHECK_EQ_INT(ch, 0x40000000u);   /* the same number */
    CHECK_EQ_INT(fx_ok_last(&f, NULL, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->permissions, 3);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->channel_binds, 2);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->dropped, 0);
    CHECK_EQ_INT(f.nev, 2);   /* successful refreshes are silent */

    /* A second peer gets the next channel number. */
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer2, true), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_CHANNEL_NUMBER, &ch), 0);
    CHECK_EQ_INT(ch, 0x40010000u);
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &a), 0);
    CHECK(camrtc_addr_equal(&a, &f.peer2));
    fx_free(&f);
}

TEST(permission_refused_and_given_up)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK(fx_allocate(&f, 3600));
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer, false), CAMRTC_OK);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, -1, &m));
    int code = 403;
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_ERROR, f.key, add_error, &code), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, 2);
    CHECK_EQ_INT(f.ev[1].type, CAMRTC_TURN_EV_PERMISSION);
    CHECK_EQ_INT(f.ev[1].err, CAMRTC_EAUTH);
    CHECK_EQ_INT(f.ev[1].code, 403);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATED);

    /* No answer at all: retransmitted, then reported as timed out. */
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer2, false), CAMRTC_OK);
    int before = f.nsent;
    fx_run_until(&f, f.now + CAMRTC_SEC(60));
    CHECK_EQ_INT(count_method(&f, before - 1, CAMRTC_STUN_CREATE_PERMISSION), 7);
    CHECK_EQ_INT(f.nev, 3);
    CHECK_EQ_INT(f.ev[2].type, CAMRTC_TURN_EV_PERMISSION);
    CHECK_EQ_INT(f.ev[2].err, CAMRTC_ETIMEDOUT);
    CHECK(camrtc_addr_equal(&f.ev[2].peer, &f.peer2));
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATED);
    fx_free(&f);
}

/* ---- data both ways ---- */

static void add_peer_data(fx *f, camrtc_stun_builder *b, const void *arg)
{
    camrtc_stun_add_xor_addr(b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &f->peer);
    camrtc_stun_add(b, CAMRTC_STUN_A_DATA, arg, strlen(arg));
}

static int fx_data_indication(fx *f, const char *data)
{
    uint8_t buf[512], txid[12] = {9, 9, 9};
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_DATA, CAMRTC_STUN_INDICATION), txid);
    if (data)
        add_peer_data(f, &b, data);
    else
        camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &f->peer);
    return fx_in(f, buf, camrtc_stun_build_finish(&b));
}

TEST(send_indication_then_channel_data_and_both_back)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK(fx_allocate(&f, 3600));
    /* First use installs a permission, and the data goes as a Send indication. */
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"hello", 5), CAMRTC_OK);
    CHECK_EQ_INT(f.nsent, 4);
    camrtc_stun_msg m;
    camrtc_addr a;
    CHECK(fx_msg(&f, 2, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_CREATE_PERMISSION, CAMRTC_STUN_REQUEST));
    CHECK(fx_msg(&f, 3, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_SEND, CAMRTC_STUN_INDICATION));
    CHECK_EQ_INT(camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &a), 0);
    CHECK(camrtc_addr_equal(&a, &f.peer));
    const camrtc_stun_attr *d = camrtc_stun_find(&m, CAMRTC_STUN_A_DATA);
    CHECK(d && d->len == 5);
    CHECK_EQ_MEM(camrtc_stun_value(&m, d), "hello", 5);
    CHECK(m.integrity < 0);   /* indications are not authenticated */
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->sent_indications, 1);

    /* Once the channel is bound, ChannelData: 4-byte header, no padding over UDP. */
    CHECK_EQ_INT(fx_ok_k(&f, 2, NULL, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer, true), CAMRTC_OK);
    CHECK_EQ_INT(count_method(&f, 4, CAMRTC_STUN_CHANNEL_BIND), 1);
    /* Before the bind is answered: still indications. */
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"x", 1), CAMRTC_OK);
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(camrtc_stun_method(m.type), CAMRTC_STUN_SEND);
    CHECK_EQ_INT(fx_ok_k(&f, find_last(&f, CAMRTC_STUN_CHANNEL_BIND), NULL, NULL), CAMRTC_OK);
    int before = f.nsent;
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"hello", 5), CAMRTC_OK);
    CHECK_EQ_INT(f.nsent, before + 1);
    CHECK_EQ_INT(f.sent[before].len, 9);
    CHECK_EQ_MEM(f.sent[before].b, "\x40\x00\x00\x05hello", 9);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->sent_channel_data, 1);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->sent_indications, 2);

    /* From the peer: a Data indication, ChannelData (with padding, allowed on UDP). */
    int nev = f.nev;
    CHECK_EQ_INT(fx_data_indication(&f, "abc"), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, nev + 1);
    CHECK_EQ_INT(f.ev[nev].type, CAMRTC_TURN_EV_DATA);
    CHECK(camrtc_addr_equal(&f.ev[nev].peer, &f.peer));
    CHECK_EQ_INT(f.ev[nev].len, 3);
    CHECK_EQ_MEM(f.ev[nev].data, "abc", 3);
    static const uint8_t cd[] = {0x40, 0x00, 0x00, 0x03, 'x', 'y', 'z', 0};
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, cd, sizeof cd), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, nev + 2);
    CHECK_EQ_INT(f.ev[nev + 1].type, CAMRTC_TURN_EV_DATA);
    CHECK(camrtc_addr_equal(&f.ev[nev + 1].peer, &f.peer));
    CHECK_EQ_INT(f.ev[nev + 1].len, 3);
    CHECK_EQ_MEM(f.ev[nev + 1].data, "xyz", 3);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->recv_indications, 1);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->recv_channel_data, 1);

    /* Unknown channel, a length past the end, a Data indication without DATA: dropped. */
    static const uint8_t unknown[] = {0x40, 0x01, 0x00, 0x01, 'q'};
    static const uint8_t too_long[] = {0x40, 0x00, 0x00, 0x09, 'q'};
    static const uint8_t reserved[] = {0x50, 0x00, 0x00, 0x01, 'q'};
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, unknown, sizeof unknown), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, too_long, sizeof too_long), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, reserved, sizeof reserved), CAMRTC_EPROTO);
    CHECK_EQ_INT(fx_data_indication(&f, NULL), CAMRTC_EPROTO);
    CHECK_EQ_INT(f.nev, nev + 2);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->dropped, 4);
    fx_free(&f);
}

TEST(stream_channel_data_is_padded_both_ways)
{
    fx f;
    CHECK(fx_init(&f, true));
    CHECK(fx_allocate(&f, 3600));
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer, true), CAMRTC_OK);
    CHECK_EQ_INT(fx_ok_k(&f, 2, NULL, NULL), CAMRTC_OK);
    CHECK_EQ_INT(fx_ok_k(&f, 3, NULL, NULL), CAMRTC_OK);
    int before = f.nsent;
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"hello", 5), CAMRTC_OK);
    CHECK_EQ_INT(f.sent[before].len, 12);   /* §12.5: padded to 4 over TCP/TLS */
    CHECK_EQ_MEM(f.sent[before].b, "\x40\x00\x00\x05hello\0\0\0", 12);
    CHECK_EQ_INT(camrtc_turn_frame_len(f.sent[before].b, 12), 12);
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"abcd", 4), CAMRTC_OK);
    CHECK_EQ_INT(f.sent[before + 1].len, 8);
    static const uint8_t cd[] = {0x40, 0x00, 0x00, 0x01, 'z', 0, 0, 0};
    int nev = f.nev;
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, cd, sizeof cd), CAMRTC_OK);
    CHECK_EQ_INT(f.ev[nev].type, CAMRTC_TURN_EV_DATA);
    CHECK_EQ_INT(f.ev[nev].len, 1);
    fx_free(&f);
}

TEST(keepalive_after_15_quiet_seconds_over_udp_only)
{
    fx f;
    camrtc_turn_config c = {.username = USER, .password = PASS};
    CHECK(fx_init_cfg(&f, &c));
    CHECK(fx_allocate(&f, 600));
    camrtc_time_us t_alloc = f.now;
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), t_alloc + CAMRTC_SEC(15));
    fx_run_until(&f, t_alloc + CAMRTC_SEC(15));
    CHECK_EQ_INT(f.nsent, 3);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, 2, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_INDICATION));
    CHECK_EQ_INT(camrtc_stun_check_fingerprint(&m), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->keepalives, 1);
    /* Traffic to the server resets the timer. */
    f.now = t_alloc + CAMRTC_SEC(20);
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"x", 1), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), t_alloc + CAMRTC_SEC(20) + CAMRTC_MS(250));   /* the permission */
    CHECK_EQ_INT(fx_ok_k(&f, find_last(&f, CAMRTC_STUN_CREATE_PERMISSION), NULL, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), t_alloc + CAMRTC_SEC(35));
    fx_run_until(&f, t_alloc + CAMRTC_SEC(600));
    CHECK(camrtc_turn_get_stats(f.t)->keepalives >= 30);
    fx_free(&f);

    /* Over a stream the connection itself is kept: no keepalive. */
    c.stream = true;
    CHECK(fx_init_cfg(&f, &c));
    CHECK(fx_allocate(&f, 600));
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), f.now + CAMRTC_SEC(540));
    fx_free(&f);
}

/* ---- transactions ---- */

TEST(udp_retransmits_with_doubling_rto_then_gives_up)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    /* 250 ms, doubling, 6 retransmissions, then a last wait of 16 RTOs (RFC 8489 §6.2.1). */
    static const camrtc_time_us want[] = {250, 750, 1750, 3750, 7750, 15750};
    for (size_t i = 0; i < 6; i++) {
        CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), T0 + CAMRTC_MS(want[i]));
        f.now = camrtc_turn_next_timeout(f.t);
        camrtc_turn_handle_timeout(f.t, f.now);
        CHECK_EQ_INT(f.nsent, (int)i + 2);
        CHECK_EQ_INT(f.sent[i + 1].len, f.sent[0].len);
        CHECK_EQ_MEM(f.sent[i + 1].b, f.sent[0].b, f.sent[0].len);   /* same transaction */
    }
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), T0 + CAMRTC_MS(15750 + 4000));
    f.now = camrtc_turn_next_timeout(f.t) - 1;
    camrtc_turn_handle_timeout(f.t, f.now);
    CHECK_EQ_INT(f.nev, 0);
    f.now++;
    camrtc_turn_handle_timeout(f.t, f.now);
    CHECK_EQ_INT(f.nsent, 7);
    CHECK_EQ_INT(f.nev, 1);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
    CHECK_EQ_INT(f.ev[0].err, CAMRTC_ETIMEDOUT);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_FAILED);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->retransmits, 6);
    fx_free(&f);
}

TEST(a_late_answer_to_a_retransmitted_request_counts)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    fx_run_until(&f, T0 + CAMRTC_MS(800));
    CHECK_EQ_INT(f.nsent, 3);
    CHECK_EQ_INT(fx_challenge(&f, 0, 401, 0), CAMRTC_OK);   /* answers the first copy */
    CHECK_EQ_INT(f.nsent, 4);
    /* The duplicate answer to the old transaction is dropped. */
    CHECK_EQ_INT(fx_challenge(&f, 1, 401, 0), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->dropped, 1);
    fx_free(&f);
}

TEST(stream_has_no_retransmission_only_a_timeout)
{
    fx f;
    CHECK(fx_init(&f, true));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), T0 + CAMRTC_SEC(10));
    fx_run_until(&f, T0 + CAMRTC_SEC(60));
    CHECK_EQ_INT(f.nsent, 1);
    CHECK_EQ_INT(f.nev, 1);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_FAILED);
    CHECK_EQ_INT(f.ev[0].err, CAMRTC_ETIMEDOUT);
    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->retransmits, 0);
    fx_free(&f);
}

/* ---- deallocation ---- */

TEST(close_deallocates_with_lifetime_zero)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK(fx_allocate(&f, 600));
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer, true), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_close(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_CLOSING);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, -1, &m));
    CHECK_EQ_INT(m.type, camrtc_stun_type(CAMRTC_STUN_REFRESH, CAMRTC_STUN_REQUEST));
    uint32_t life = 1;
    CHECK_EQ_INT(camrtc_stun_get_u32(&m, CAMRTC_STUN_A_LIFETIME, &life), 0);
    CHECK_EQ_INT(life, 0);
    CHECK_EQ_INT(camrtc_stun_check_integrity(&m, f.key, 16), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    /* Only the deallocation is pending now. */
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), f.now + CAMRTC_MS(250));
    uint32_t zero = 0;
    CHECK_EQ_INT(fx_ok_last(&f, add_lifetime, &zero), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_CLOSED);
    CHECK_EQ_INT(f.ev[f.nev - 1].type, CAMRTC_TURN_EV_CLOSED);
    CHECK_EQ_INT(f.ev[f.nev - 1].err, CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_next_timeout(f.t), CAMRTC_TIME_NEVER);
    CHECK_EQ_INT(camrtc_turn_close(f.t, f.now), CAMRTC_OK);   /* idempotent, no second event */
    CHECK_EQ_INT(f.ev[f.nev - 1].type, CAMRTC_TURN_EV_CLOSED);
    int nev = f.nev;
    CHECK_EQ_INT(camrtc_turn_close(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(f.nev, nev);
    fx_free(&f);
}

TEST(close_gives_up_without_answer_and_closes_at_once_when_unallocated)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK(fx_allocate(&f, 600));
    CHECK_EQ_INT(camrtc_turn_close(f.t, f.now), CAMRTC_OK);
    fx_run_until(&f, f.now + CAMRTC_SEC(60));
    CHECK_EQ_INT(count_method(&f, 0, CAMRTC_STUN_REFRESH), 7);
    CHECK_EQ_INT(f.ev[f.nev - 1].type, CAMRTC_TURN_EV_CLOSED);
    CHECK_EQ_INT(f.ev[f.nev - 1].err, CAMRTC_ETIMEDOUT);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_CLOSED);
    fx_free(&f);

    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_close(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(f.nsent, 0);
    CHECK_EQ_INT(f.nev, 1);
    CHECK_EQ_INT(f.ev[0].type, CAMRTC_TURN_EV_CLOSED);
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_ESTATE);
    fx_free(&f);
}

/* ---- hostile input ---- */

TEST(malformed_and_unauthenticated_responses_are_dropped)
{
    fx f;
    CHECK(fx_init(&f, false));
    CHECK_EQ_INT(camrtc_turn_start(f.t, f.now), CAMRTC_OK);
    CHECK_EQ_INT(fx_challenge(&f, -1, 401, 0), CAMRTC_OK);
    camrtc_stun_msg m;
    CHECK(fx_msg(&f, -1, &m));
    uint32_t granted = 600;
    int dropped = 0;

    /* A success without MESSAGE-INTEGRITY, or with one under another key. */
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_SUCCESS, NULL, add_allocated, &granted), CAMRTC_EAUTH);
    dropped++;
    uint8_t other[16];
    memset(other, 0x5a, sizeof other);
    CHECK_EQ_INT(fx_answer(&f, &m, CAMRTC_STUN_SUCCESS, other, add_allocated, &granted), CAMRTC_EAUTH);
    dropped++;
    /* A forged error without integrity (only 401/438 may come without). */
    int code = 403;
    uint8_t buf[256];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_ALLOCATE, CAMRTC_STUN_ERROR), m.txid);
    camrtc_stun_add_error(&b, code, NULL);
    camrtc_stun_add_integrity(&b, other, 16);
    CHECK_EQ_INT(fx_in(&f, buf, camrtc_stun_build_finish(&b)), CAMRTC_EAUTH);
    dropped++;

    /* Unknown transaction, wrong method, broken FINGERPRINT, truncated, garbage. */
    uint8_t txid[12] = {1, 2, 3};
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_ALLOCATE, CAMRTC_STUN_SUCCESS), txid);
    camrtc_stun_add_integrity(&b, f.key, 16);
    CHECK_EQ_INT(fx_in(&f, buf, camrtc_stun_build_finish(&b)), CAMRTC_EPROTO);
    dropped++;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_REFRESH, CAMRTC_STUN_SUCCESS), m.txid);
    camrtc_stun_add_integrity(&b, f.key, 16);
    CHECK_EQ_INT(fx_in(&f, buf, camrtc_stun_build_finish(&b)), CAMRTC_EPROTO);
    dropped++;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_ALLOCATE, CAMRTC_STUN_SUCCESS), m.txid);
    add_allocated(&f, &b, &granted);
    camrtc_stun_add_integrity(&b, f.key, 16);
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    CHECK(n > 0);
    buf[n - 1] ^= 1;
    CHECK_EQ_INT(fx_in(&f, buf, n), CAMRTC_EPROTO);
    dropped++;
    buf[n - 1] ^= 1;
    CHECK_EQ_INT(fx_in(&f, buf, n - 4), CAMRTC_EPROTO);
    dropped++;
    static const uint8_t garbage[] = {0x01, 0x02, 0x03, 0x04, 0x05};
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, garbage, sizeof garbage), CAMRTC_EPROTO);
    dropped++;
    static const uint8_t high[] = {0xff, 0xff, 0x00, 0x00};
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, high, sizeof high), CAMRTC_EPROTO);
    dropped++;
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, garbage, 0), CAMRTC_EPROTO);
    dropped++;
    /* Data before there is an allocation. */
    static const uint8_t cd[] = {0x40, 0x00, 0x00, 0x01, 'z'};
    CHECK_EQ_INT(camrtc_turn_input(f.t, f.now, cd, sizeof cd), CAMRTC_EPROTO);
    dropped++;
    CHECK_EQ_INT(fx_data_indication(&f, "abc"), CAMRTC_EPROTO);
    dropped++;
    /* A request from the server. */
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), txid);
    CHECK_EQ_INT(fx_in(&f, buf, camrtc_stun_build_finish(&b)), CAMRTC_EPROTO);
    dropped++;

    CHECK_EQ_INT(camrtc_turn_get_stats(f.t)->dropped, dropped);
    CHECK_EQ_INT(f.nev, 0);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATING);
    /* The genuine answer still works. */
    CHECK_EQ_INT(fx_ok_last(&f, add_allocated, &granted), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_get_state(f.t), CAMRTC_TURN_ALLOCATED);
    fx_free(&f);
}

TEST(bad_arguments_and_bounds)
{
    fx f;
    CHECK(fx_init(&f, false));
    camrtc_addr none = {0};
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &none, false), CAMRTC_EINVAL);
    /* The peer table is bounded. */
    camrtc_addr p = f.peer;
    for (int i = 0; i < CAMRTC_TURN_MAX_PEERS; i++) {
        p.port = (uint16_t)(1000 + i);
        CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &p, false), CAMRTC_OK);
    }
    p.port = 999;
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &p, false), CAMRTC_ELIMIT);
    CHECK_EQ_INT(camrtc_turn_permit(f.t, f.now, &f.peer, false), CAMRTC_ELIMIT);
    fx_free(&f);
    CHECK(fx_init(&f, false));
    CHECK(fx_allocate(&f, 600));
    uint8_t big[9000] = {0};
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, big, sizeof big), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_turn_send_to(f.t, f.now, &f.peer, big, 1200), CAMRTC_OK);
    camrtc_turn_config c = {.username = NULL, .password = PASS};
    static const camrtc_turn_io io = {fx_send, fx_event};
    CHECK(camrtc_turn_new(&c, &io, &f, &f.rng, NULL) == NULL);
    fx_free(&f);
}

/* ---- stream framing ---- */

static int stun_sample(uint8_t *buf, size_t cap)
{
    static const uint8_t txid[12] = {7};
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, cap, camrtc_stun_type(CAMRTC_STUN_DATA, CAMRTC_STUN_INDICATION), txid);
    camrtc_stun_add(&b, CAMRTC_STUN_A_DATA, "abcdefg", 7);
    return camrtc_stun_build_finish(&b);
}

TEST(frame_len_on_split_partial_and_garbage_streams)
{
    uint8_t s[256];
    int n = stun_sample(s, sizeof s);
    CHECK_EQ_INT(n, 20 + 12);
    CHECK_EQ_INT(camrtc_turn_frame_len(s, 0), 0);
    for (int i = 1; i < n; i++)
        CHECK_EQ_INT(camrtc_turn_frame_len(s, (size_t)i), 0);
    CHECK_EQ_INT(camrtc_turn_frame_len(s, (size_t)n), n);
    /* ChannelData padded to 4, then another STUN message right after it. */
    static const uint8_t cd[] = {0x40, 0x02, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0};
    memcpy(s + n, cd, sizeof cd);
    int n2 = stun_sample(s + n + sizeof cd, sizeof s - n - sizeof cd);
    size_t total = (size_t)n + sizeof cd + (size_t)n2;
    CHECK_EQ_INT(camrtc_turn_frame_len(s, total), n);
    for (size_t i = 0; i < sizeof cd; i++)
        CHECK_EQ_INT(camrtc_turn_frame_len(s + n, i), 0);
    CHECK_EQ_INT(camrtc_turn_frame_len(s + n, total - (size_t)n), 12);
    CHECK(camrtc_turn_is_channel_data(s + n, sizeof cd));
    CHECK(!camrtc_turn_is_channel_data(s, (size_t)n));

    /* Cut the whole stream arriving 5 bytes at a time, as a TCP reader would. */
    uint8_t acc[256];
    size_t have = 0, fed = 0;
    int frames = 0, lens[4] = {0};
    for (int step = 0; step < 100 && fed < total; step++) {
        size_t chunk = total - fed < 5 ? total - fed : 5;
        memcpy(acc + have, s + fed, chunk);
        have += chunk;
        fed += chunk;
        for (int k = 0; k < 4; k++) {
            int len = camrtc_turn_frame_len(acc, have);
            CHECK(len >= 0);
            if (len == 0)
                break;
            if (frames < 4)
                lens[frames] = len;
            frames++;
            memmove(acc, acc + len, have - (size_t)len);
            have -= (size_t)len;
        }
    }
    CHECK_EQ_INT(frames, 3);
    CHECK_EQ_INT(have, 0);
    CHECK_EQ_INT(lens[0], n);
    CHECK_EQ_INT(lens[1], 12);
    CHECK_EQ_INT(lens[2], n2);

    /* Garbage: a first byte that is neither, a wrong cookie, a length not a multiple of 4. */
    static const uint8_t g1[] = {0x80, 0, 0, 0};
    static const uint8_t g2[] = {0x16, 0x03, 0x01, 0x00};   /* a TLS record on a TURN stream */
    static const uint8_t g3[] = {0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef};
    static const uint8_t g4[] = {0x00, 0x01, 0x00, 0x05};
    CHECK_EQ_INT(camrtc_turn_frame_len(g1, 1), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_turn_frame_len(g2, sizeof g2), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_turn_frame_len(g3, sizeof g3), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_turn_frame_len(g4, sizeof g4), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_turn_frame_len(g3, 3), 0);   /* not enough to judge yet */
}

int main(void)
{
    return RUN_TESTS(allocate_401_then_authenticated_allocate, stale_nonce_retries_with_new_nonce,
                     wrong_password_fails_with_401, try_alternate_and_other_errors_fail,
                     allocation_mismatch_clears_the_stale_allocation_once,
                     mismatch_to_the_unauthenticated_allocate_clears_with_the_refresh_challenge,
                     refresh_a_minute_before_expiry_or_halfway, permission_and_channel_bind_with_their_refreshes,
                     permission_refused_and_given_up, send_indication_then_channel_data_and_both_back,
                     stream_channel_data_is_padded_both_ways, keepalive_after_15_quiet_seconds_over_udp_only,
                     udp_retransmits_with_doubling_rto_then_gives_up,
                     a_late_answer_to_a_retransmitted_request_counts, stream_has_no_retransmission_only_a_timeout,
                     close_deallocates_with_lifetime_zero,
                     close_gives_up_without_answer_and_closes_at_once_when_unallocated,
                     malformed_and_unauthenticated_responses_are_dropped, bad_arguments_and_bounds,
                     frame_len_on_split_partial_and_garbage_streams);
}
