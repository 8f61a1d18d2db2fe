/* TURN client (RFC 8656) as a sans-I/O state machine.
 *
 * Shape: one allocation; every request lives in a transaction slot embedded in what it
 * is about (the allocation, or one peer's permission / channel). A retransmission
 * rebuilds the request with the same transaction id, so no request bytes are kept.
 * Timers (retransmissions, refreshes) are deadlines in those slots; next_timeout is
 * the earliest of them.
 */
#include "camrtc/turn.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "ice/turn_int.h"

#define MOD "turn"

/* Bounds; each one counted or refused when hit. */
#define TURN_MAX_PEERS CAMRTC_TURN_MAX_PEERS
#define TURN_MAX_CRED 512          /* RFC 8489 §14.3/14.9/14.10: < 513 / 763 bytes */
#define TURN_MAX_DATA CAMRTC_TURN_MAX_DATA
#define TURN_MAX_AUTH_RETRIES 3    /* 401/438 retries per request before giving up */

/* Timers from RFC 8656. */
#define TURN_PERM_REFRESH CAMRTC_SEC(240)    /* permissions live 300 s (§9) */
#define TURN_CHAN_REFRESH CAMRTC_SEC(540)    /* channels live 600 s (§12) */
#define TURN_STREAM_TIMEOUT CAMRTC_SEC(10)   /* one try over TCP/TLS (no retransmission) */

enum { PERM_NONE, PERM_PENDING, PERM_OK, PERM_FAILED };
/* ALLOC_REQ_CLEAR: Refresh LIFETIME 0 sent while allocating, after a 437 Allocation Mismatch
 * (the server still holds an allocation on our 5-tuple, e.g. from an earlier run of ours that
 * died on the same port); then Allocate again, once. A second 437 fails the client with code
 * 437: the owner may try again from another local port (RFC 8656 §7.4). */
enum { ALLOC_REQ_ALLOCATE, ALLOC_REQ_REFRESH, ALLOC_REQ_DEALLOCATE, ALLOC_REQ_CLEAR };

/* One outstanding request. */
typedef struct turn_txn {
    bool active;
    bool authed;              /* built with MESSAGE-INTEGRITY */
    uint8_t txid[12];
    camrtc_time_us next_at;   /* next retransmission, or give-up */
    camrtc_time_us rto;
    unsigned sent;            /* transmissions so far */
    unsigned auth_retries;    /* 401/438 answered in this chain */
} turn_txn;

typedef struct turn_peer {
    bool used;
    camrtc_addr addr;
    int perm;                 /* PERM_* */
    camrtc_time_us perm_refresh_at;
    turn_txn perm_tx;
    bool want_channel;
    uint16_t channel;         /* 0 = none assigned */
    bool chan_bound;
    camrtc_time_us chan_refresh_at;
    turn_txn chan_tx;
} turn_peer;

struct camrtc_turn {
    camrtc_turn_config cfg;   /* strings point at our copies below */
    char *username, *password, *software;
    camrtc_turn_io io;
    void *user;
    camrtc_rng *rng;
    const camrtc_log *log;
    camrtc_turn_state state;
    camrtc_turn_stats stats;

    /* Long-term credentials (RFC 8489 §9.2): REALM and NONCE from the last challenge. */
    uint8_t realm[TURN_MAX_CRED], nonce[TURN_MAX_CRED];
    size_t realm_len, nonce_len;
    uint8_t key[16];
    bool have_key;

    /* The allocation and its one request slot (Allocate, Refresh or deallocation). */
    int alloc_req;
    bool cleared;             /* one ALLOC_REQ_CLEAR already tried */
    turn_txn alloc_tx;
    uint32_t lifetime;        /* granted, seconds */
    camrtc_time_us refresh_at;
    camrtc_addr relayed, mapped;
    camrtc_time_us last_tx;   /* last send to the server (keepalive timer) */

    turn_peer peers[TURN_MAX_PEERS];
    uint16_t next_channel;

    uint8_t out[TURN_MAX_DATA + 256];   /* every outgoing message is built here */
};

/* ---- small helpers ---- */

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static void emit(camrtc_turn *t, camrtc_turn_event *ev)
{
    if (t->io.event)
        t->io.event(t->user, ev);
}

static void emit_simple(camrtc_turn *t, camrtc_turn_event_type type, int err, int code)
{
    camrtc_turn_event ev = {.type = type, .err = err, .code = code};
    emit(t, &ev);
}

static void stop_all_txns(camrtc_turn *t)
{
    t->alloc_tx.active = false;
    for (size_t i = 0; i < TURN_MAX_PEERS; i++) {
        t->peers[i].perm_tx.active = false;
        t->peers[i].chan_tx.active = false;
    }
}

static void fail(camrtc_turn *t, int err, int code)
{
    if (code == 437)   /* the 5-tuple is taken: the owner may allocate from another one */
        CAMRTC_LOGI(t->log, MOD, "allocation failed: %s (code %d)", camrtc_errname(err), code);
    else
        CAMRTC_LOGW(t->log, MOD, "allocation failed: %s (code %d)", camrtc_errname(err), code);
    t->state = CAMRTC_TURN_FAILED;
    stop_all_txns(t);
    emit_simple(t, CAMRTC_TURN_EV_FAILED, err, code);
}

static void closed(camrtc_turn *t, int err)
{
    t->state = CAMRTC_TURN_CLOSED;
    stop_all_txns(t);
    emit_simple(t, CAMRTC_TURN_EV_CLOSED, err, 0);
}

/* ---- building requests ---- */

static void add_auth(camrtc_turn *t, camrtc_stun_builder *b, turn_txn *tx)
{
    tx->authed = t->have_key;
    if (!t->have_key)
        return;
    camrtc_stun_add_string(b, CAMRTC_STUN_A_USERNAME, t->username);
    camrtc_stun_add(b, CAMRTC_STUN_A_REALM, t->realm, t->realm_len);
    camrtc_stun_add(b, CAMRTC_STUN_A_NONCE, t->nonce, t->nonce_len);
    camrtc_stun_add_integrity(b, t->key, sizeof t->key);
}

static void start_msg(camrtc_turn *t, camrtc_stun_builder *b, uint16_t method, const turn_txn *tx)
{
    camrtc_stun_build_init(b, t->out, sizeof t->out, camrtc_stun_type(method, CAMRTC_STUN_REQUEST), tx->txid);
    if (t->software)
        camrtc_stun_add_string(b, CAMRTC_STUN_A_SOFTWARE, t->software);
}

/* Allocate (§7.1), Refresh (§7.3) or deallocation (Refresh with LIFETIME 0, §7.3). */
static int build_alloc_req(camrtc_turn *t, camrtc_stun_builder *b)
{
    turn_txn *tx = &t->alloc_tx;
    if (t->alloc_req == ALLOC_REQ_ALLOCATE) {
        static const uint8_t udp[4] = {17, 0, 0, 0};   /* REQUESTED-TRANSPORT: UDP, §14.7 */
        start_msg(t, b, CAMRTC_STUN_ALLOCATE, tx);
        camrtc_stun_add(b, CAMRTC_STUN_A_REQUESTED_TRANSPORT, udp, sizeof udp);
        camrtc_stun_add_u32(b, CAMRTC_STUN_A_LIFETIME, t->cfg.lifetime_s);
    } else {
        start_msg(t, b, CAMRTC_STUN_REFRESH, tx);
        camrtc_stun_add_u32(b, CAMRTC_STUN_A_LIFETIME,
                            t->alloc_req == ALLOC_REQ_REFRESH ? t->cfg.lifetime_s : 0);
    }
    add_auth(t, b, tx);
    camrtc_stun_add_fingerprint(b);
    return camrtc_stun_build_finish(b);
}

static int build_perm_req(camrtc_turn *t, camrtc_stun_builder *b, turn_peer *p)
{
    start_msg(t, b, CAMRTC_STUN_CREATE_PERMISSION, &p->perm_tx);
    camrtc_stun_add_xor_addr(b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &p->addr);
    add_auth(t, b, &p->perm_tx);
    camrtc_stun_add_fingerprint(b);
    return camrtc_stun_build_finish(b);
}

static int build_chan_req(camrtc_turn *t, camrtc_stun_builder *b, turn_peer *p)
{
    /* CHANNEL-NUMBER: the number, then 16 reserved bits (§14.1). */
    start_msg(t, b, CAMRTC_STUN_CHANNEL_BIND, &p->chan_tx);
    camrtc_stun_add_u32(b, CAMRTC_STUN_A_CHANNEL_NUMBER, (uint32_t)p->channel << 16);
    camrtc_stun_add_xor_addr(b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &p->addr);
    add_auth(t, b, &p->chan_tx);
    camrtc_stun_add_fingerprint(b);
    return camrtc_stun_build_finish(b);
}

/* Everything to the server goes out here: the keepalive timer counts from the last send. */
static void out_send(camrtc_turn *t, camrtc_time_us now, size_t n)
{
    t->last_tx = now;
    t->io.send(t->user, t->out, n);
}

/* Build the request a slot stands for (same txid on every retransmission) and send it. */
static int transmit(camrtc_turn *t, camrtc_time_us now, turn_txn *tx, turn_peer *p)
{
    camrtc_stun_builder b;
    int n;
    if (tx == &t->alloc_tx)
        n = build_alloc_req(t, &b);
    else if (p && tx == &p->perm_tx)
        n = build_perm_req(t, &b, p);
    else
        n = build_chan_req(t, &b, p);
    if (n < 0) {
        CAMRTC_LOGE(t->log, MOD, "request does not fit: %s", camrtc_errname(n));
        return n;
    }
    out_send(t, now, (size_t)n);
    return CAMRTC_OK;
}

/* Start a new transaction in slot tx (a fresh txid) and send its first copy. */
static int txn_start(camrtc_turn *t, camrtc_time_us now, turn_txn *tx, turn_peer *p, unsigned auth_retries)
{
    memset(tx, 0, sizeof *tx);
    if (camrtc_rng_bytes(t->rng, tx->txid, sizeof tx->txid) != 0)
        return CAMRTC_ECRYPTO;
    tx->active = true;
    tx->auth_retries = auth_retries;
    tx->rto = t->cfg.rto;
    tx->sent = 1;
    tx->next_at = now + (t->cfg.stream ? TURN_STREAM_TIMEOUT : tx->rto);
    t->stats.requests_sent++;
    int rc = transmit(t, now, tx, p);
    if (rc < 0)
        tx->active = false;
    return rc;
}

/* ---- peers ---- */

static turn_peer *peer_find(camrtc_turn *t, const camrtc_addr *a)
{
    for (size_t i = 0; i < TURN_MAX_PEERS; i++)
        if (t->peers[i].used && camrtc_addr_equal(&t->peers[i].addr, a))
            return &t->peers[i];
    return NULL;
}

static turn_peer *peer_by_channel(camrtc_turn *t, uint16_t ch)
{
    for (size_t i = 0; i < TURN_MAX_PEERS; i++)
        if (t->peers[i].used && t->peers[i].channel == ch)
            return &t->peers[i];
    return NULL;
}

static turn_peer *peer_add(camrtc_turn *t, const camrtc_addr *a)
{
    for (size_t i = 0; i < TURN_MAX_PEERS; i++) {
        turn_peer *p = &t->peers[i];
        if (!p->used) {
            memset(p, 0, sizeof *p);
            p->used = true;
            p->addr = *a;
            return p;
        }
    }
    return NULL;
}

/* Once allocated: ask for what a peer still lacks. */
static int peer_kick(camrtc_turn *t, camrtc_time_us now, turn_peer *p)
{
    int rc = CAMRTC_OK;
    if ((p->perm == PERM_NONE || p->perm == PERM_FAILED) && !p->perm_tx.active) {
        p->perm = PERM_PENDING;
        rc = txn_start(t, now, &p->perm_tx, p, 0);
    }
    if (rc == CAMRTC_OK && p->want_channel && !p->chan_bound && !p->chan_tx.active) {
        if (p->channel == 0) {
            if (t->next_channel > TURN_CHANNEL_MAX)
                return CAMRTC_ELIMIT;   /* cannot happen with TURN_MAX_PEERS < 4096 */
            p->channel = t->next_channel++;
        }
        /* A ChannelBind also installs the permission (§12.2); sending both is harmless
         * and keeps the two refresh cycles independent. */
        rc = txn_start(t, now, &p->chan_tx, p, 0);
    }
    return rc;
}

/* ---- lifecycle ---- */

camrtc_turn *camrtc_turn_new(const camrtc_turn_config *cfg, const camrtc_turn_io *io, void *user,
                             camrtc_rng *rng, const camrtc_log *log)
{
    if (!cfg || !io || !io->send || !rng || !cfg->username || !cfg->password ||
        strlen(cfg->username) > TURN_MAX_CRED || (cfg->software && strlen(cfg->software) > 127))
        return NULL;
    camrtc_turn *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->cfg = *cfg;
    t->username = dup_str(cfg->username);
    t->password = dup_str(cfg->password);
    t->software = dup_str(cfg->software);
    if (!t->username || !t->password || (cfg->software && !t->software)) {
        camrtc_turn_free(t);
        return NULL;
    }
    t->cfg.username = t->username;
    t->cfg.password = t->password;
    t->cfg.software = t->software;
    if (t->cfg.lifetime_s == 0)
        t->cfg.lifetime_s = 600;
    if (t->cfg.rto == 0)
        t->cfg.rto = CAMRTC_MS(250);
    if (t->cfg.max_retrans == 0)
        t->cfg.max_retrans = 6;
    if (t->cfg.keepalive == 0)
        t->cfg.keepalive = CAMRTC_SEC(15);
    t->io = *io;
    t->user = user;
    t->rng = rng;
    t->log = log;
    t->next_channel = TURN_CHANNEL_MIN;
    return t;
}

void camrtc_turn_free(camrtc_turn *t)
{
    if (!t)
        return;
    free(t->username);
    free(t->password);
    free(t->software);
    free(t);
}

int camrtc_turn_start(camrtc_turn *t, camrtc_time_us now)
{
    if (t->state != CAMRTC_TURN_NEW)
        return CAMRTC_ESTATE;
    t->state = CAMRTC_TURN_ALLOCATING;
    t->alloc_req = ALLOC_REQ_ALLOCATE;
    int rc = txn_start(t, now, &t->alloc_tx, NULL, 0);
    if (rc < 0)
        fail(t, rc, 0);
    return rc;
}

int camrtc_turn_close(camrtc_turn *t, camrtc_time_us now)
{
    if (t->state == CAMRTC_TURN_CLOSING || t->state == CAMRTC_TURN_CLOSED)
        return CAMRTC_OK;
    if (t->state != CAMRTC_TURN_ALLOCATED) {
        /* Nothing (known) to deallocate. */
        closed(t, CAMRTC_OK);
        return CAMRTC_OK;
    }
    stop_all_txns(t);
    t->state = CAMRTC_TURN_CLOSING;
    t->alloc_req = ALLOC_REQ_DEALLOCATE;
    int rc = txn_start(t, now, &t->alloc_tx, NULL, 0);
    if (rc < 0)
        closed(t, rc);
    return rc;
}

camrtc_turn_state camrtc_turn_get_state(const camrtc_turn *t)
{
    return t->state;
}

const camrtc_turn_stats *camrtc_turn_get_stats(const camrtc_turn *t)
{
    return &t->stats;
}

/* ---- permissions and sending ---- */

int camrtc_turn_permit(camrtc_turn *t, camrtc_time_us now, const camrtc_addr *peer, bool bind_channel)
{
    if (!peer || (peer->family != 4 && peer->family != 6))
        return CAMRTC_EINVAL;
    if (t->state != CAMRTC_TURN_NEW && t->state != CAMRTC_TURN_ALLOCATING && t->state != CAMRTC_TURN_ALLOCATED)
        return CAMRTC_ESTATE;
    turn_peer *p = peer_find(t, peer);
    if (!p && !(p = peer_add(t, peer)))
        return CAMRTC_ELIMIT;
    if (bind_channel)
        p->want_channel = true;
    /* Before the allocation exists the peer waits; on_allocated kicks it. */
    return t->state == CAMRTC_TURN_ALLOCATED ? peer_kick(t, now, p) : CAMRTC_OK;
}

static int send_indication(camrtc_turn *t, camrtc_time_us now, const camrtc_addr *peer, const uint8_t *data,
                           size_t len)
{
    /* Send indication (§11.1): XOR-PEER-ADDRESS and DATA; indications are not
     * authenticated and not retransmitted. */
    uint8_t txid[12];
    if (camrtc_rng_bytes(t->rng, txid, sizeof txid) != 0)
        return CAMRTC_ECRYPTO;
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, t->out, sizeof t->out, camrtc_stun_type(CAMRTC_STUN_SEND, CAMRTC_STUN_INDICATION),
                           txid);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, peer);
    camrtc_stun_add(&b, CAMRTC_STUN_A_DATA, data, len);
    int n = camrtc_stun_build_finish(&b);
    if (n < 0)
        return n;
    t->stats.sent_indications++;
    out_send(t, now, (size_t)n);
    return CAMRTC_OK;
}

int camrtc_turn_send_to(camrtc_turn *t, camrtc_time_us now, const camrtc_addr *peer, const uint8_t *data,
                        size_t len)
{
    if (t->state != CAMRTC_TURN_ALLOCATED)
        return CAMRTC_ESTATE;
    if (!peer || (!data && len))
        return CAMRTC_EINVAL;
    if (len > TURN_MAX_DATA)
        return CAMRTC_ETOOBIG;
    turn_peer *p = peer_find(t, peer);
    if (!p) {
        int rc = camrtc_turn_permit(t, now, peer, false);
        if (rc < 0)
            return rc;
        p = peer_find(t, peer);
    }
    if (p && p->chan_bound) {
        int n = turn_write_channel_data(t->out, sizeof t->out, p->channel, data, len, t->cfg.stream);
        if (n < 0)
            return n;
        t->stats.sent_channel_data++;
        out_send(t, now, (size_t)n);
        return CAMRTC_OK;
    }
    return send_indication(t, now, peer, data, len);
}

/* ---- responses ---- */

/* Which slot a response belongs to (NULL: none), and its peer. */
static turn_txn *match_txn(camrtc_turn *t, const uint8_t txid[12], turn_peer **pp)
{
    *pp = NULL;
    if (t->alloc_tx.active && memcmp(t->alloc_tx.txid, txid, 12) == 0)
        return &t->alloc_tx;
    for (size_t i = 0; i < TURN_MAX_PEERS; i++) {
        turn_peer *p = &t->peers[i];
        if (!p->used)
            continue;
        *pp = p;
        if (p->perm_tx.active && memcmp(p->perm_tx.txid, txid, 12) == 0)
            return &p->perm_tx;
        if (p->chan_tx.active && memcmp(p->chan_tx.txid, txid, 12) == 0)
            return &p->chan_tx;
    }
    *pp = NULL;
    return NULL;
}

static uint16_t expected_method(camrtc_turn *t, const turn_txn *tx, const turn_peer *p)
{
    if (tx == &t->alloc_tx)
        return t->alloc_req == ALLOC_REQ_ALLOCATE ? CAMRTC_STUN_ALLOCATE : CAMRTC_STUN_REFRESH;
    return tx == &p->perm_tx ? CAMRTC_STUN_CREATE_PERMISSION : CAMRTC_STUN_CHANNEL_BIND;
}

/* Take REALM and NONCE from a 401/438 (RFC 8489 §9.2.5) and derive the key. */
static int take_challenge(camrtc_turn *t, const camrtc_stun_msg *m)
{
    const char *realm, *nonce;
    size_t rlen, nlen;
    if (camrtc_stun_get_string(m, CAMRTC_STUN_A_NONCE, &nonce, &nlen) != 0 || nlen == 0 || nlen > TURN_MAX_CRED)
        return CAMRTC_EPROTO;
    if (camrtc_stun_get_string(m, CAMRTC_STUN_A_REALM, &realm, &rlen) == 0) {
        if (rlen == 0 || rlen > TURN_MAX_CRED)
            return CAMRTC_EPROTO;
        memcpy(t->realm, realm, rlen);
        t->realm_len = rlen;
    } else if (t->realm_len == 0) {
        return CAMRTC_EPROTO;   /* a first challenge must name the realm */
    }
    memcpy(t->nonce, nonce, nlen);
    t->nonce_len = nlen;
    int rc = camrtc_stun_longterm_key(t->username, (const char *)t->realm, t->realm_len, t->password, t->key);
    if (rc < 0)
        return rc;
    t->have_key = true;
    return CAMRTC_OK;
}

/* 401 and 438: retry with credentials / the new nonce, or give up. Returns true when
 * the request was sent again. */
static bool retry_auth(camrtc_turn *t, camrtc_time_us now, turn_txn *tx, turn_peer *p, int code,
                       const camrtc_stun_msg *m)
{
    /* A 401 to a request that already carried our credentials means they are wrong. */
    if (code == 401 && tx->authed)
        return false;
    if (tx->auth_retries >= TURN_MAX_AUTH_RETRIES || take_challenge(t, m) < 0)
        return false;
    if (code == 438)
        t->stats.stale_nonces++;
    else
        t->stats.auth_retries++;
    return txn_start(t, now, tx, p, tx->auth_retries + 1) == CAMRTC_OK;
}

static int err_for_code(int code)
{
    switch (code) {
    case 300: return CAMRTC_EUNSUPPORTED;   /* Try-Alternate: redirection is not supported */
    case 401: case 403: case 438: return CAMRTC_EAUTH;
    case 437: return CAMRTC_ESTATE;          /* Allocation Mismatch */
    case 486: case 508: return CAMRTC_ELIMIT; /* quota / insufficient capacity */
    default: return CAMRTC_EPROTO;
    }
}

static void schedule_refresh(camrtc_turn *t, camrtc_time_us now, uint32_t lifetime)
{
    t->lifetime = lifetime;
    /* Refresh a minute early; half-way through lifetimes too short for that. */
    camrtc_time_us life = CAMRTC_SEC(lifetime);
    t->refresh_at = now + (lifetime > 120 ? life - CAMRTC_SEC(60) : life / 2);
}

static void reallocate(camrtc_turn *t, camrtc_time_us now);

static void on_alloc_success(camrtc_turn *t, camrtc_time_us now, const camrtc_stun_msg *m)
{
    uint32_t lifetime;
    if (camrtc_stun_get_u32(m, CAMRTC_STUN_A_LIFETIME, &lifetime) != 0)
        lifetime = t->cfg.lifetime_s;
    t->alloc_tx.active = false;
    if (t->alloc_req == ALLOC_REQ_DEALLOCATE) {
        closed(t, CAMRTC_OK);
        return;
    }
    if (t->alloc_req == ALLOC_REQ_CLEAR) {
        reallocate(t, now);
        return;
    }
    if (t->alloc_req == ALLOC_REQ_REFRESH) {
        t->stats.refreshes++;
        if (lifetime == 0) {
            fail(t, CAMRTC_EEXPIRED, 0);
            return;
        }
        schedule_refresh(t, now, lifetime);
        return;
    }
    camrtc_turn_event ev = {.type = CAMRTC_TURN_EV_ALLOCATED};
    if (camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &ev.relayed) != 0 || lifetime == 0) {
        fail(t, CAMRTC_EPROTO, 0);
        return;
    }
    camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &ev.mapped);
    t->relayed = ev.relayed;
    t->mapped = ev.mapped;
    t->state = CAMRTC_TURN_ALLOCATED;
    schedule_refresh(t, now, lifetime);
    emit(t, &ev);
    /* Peers asked for before the allocation existed. */
    for (size_t i = 0; i < TURN_MAX_PEERS && t->state == CAMRTC_TURN_ALLOCATED; i++)
        if (t->peers[i].used)
            peer_kick(t, now, &t->peers[i]);
}

/* Allocate again after the stale allocation was cleared (or the server refused to). */
static void reallocate(camrtc_turn *t, camrtc_time_us now)
{
    t->alloc_req = ALLOC_REQ_ALLOCATE;
    if (txn_start(t, now, &t->alloc_tx, NULL, 0) < 0)
        fail(t, CAMRTC_EINTERNAL, 0);
}

static void on_alloc_error(camrtc_turn *t, camrtc_time_us now, int code)
{
    t->alloc_tx.active = false;
    if (t->alloc_req == ALLOC_REQ_CLEAR) {
        reallocate(t, now);
        return;
    }
    if (t->alloc_req == ALLOC_REQ_ALLOCATE && code == 437 && !t->cleared) {
        /* RFC 8656 §7.2: 437 to an Allocate means this 5-tuple is taken. If it is ours
         * (same credentials), a Refresh with LIFETIME 0 deletes it. Servers may check the
         * 5-tuple before the credentials (coturn does), so this can answer our first,
         * unauthenticated Allocate: the Refresh then draws the 401 that gives us a nonce. */
        CAMRTC_LOGD(t->log, MOD, "437 to Allocate: clearing a stale allocation on this 5-tuple");
        t->cleared = true;
        t->alloc_req = ALLOC_REQ_CLEAR;
        if (txn_start(t, now, &t->alloc_tx, NULL, 0) < 0)
            fail(t, CAMRTC_EINTERNAL, 0);
        return;
    }
    if (t->alloc_req == ALLOC_REQ_DEALLOCATE) {
        /* 437: the allocation is already gone; any other answer ends it as well. */
        closed(t, code == 437 ? CAMRTC_OK : err_for_code(code));
        return;
    }
    fail(t, err_for_code(code), code);
}

static void on_perm_result(camrtc_turn *t, camrtc_time_us now, turn_peer *p, int err, int code)
{
    bool was_ok = p->perm == PERM_OK;
    p->perm_tx.active = false;
    if (err == CAMRTC_OK) {
        p->perm = PERM_OK;
        p->perm_refresh_at = now + TURN_PERM_REFRESH;
        t->stats.permissions++;
    } else {
        p->perm = PERM_FAILED;
    }
    if (err == CAMRTC_OK && was_ok)
        return;   /* a refresh: nothing new to report */
    camrtc_turn_event ev = {.type = CAMRTC_TURN_EV_PERMISSION, .err = err, .code = code, .peer = p->addr};
    emit(t, &ev);
}

static void on_chan_result(camrtc_turn *t, camrtc_time_us now, turn_peer *p, int err, int code)
{
    p->chan_tx.active = false;
    if (err == CAMRTC_OK) {
        p->chan_bound = true;
        p->chan_refresh_at = now + TURN_CHAN_REFRESH;
        t->stats.channel_binds++;
        return;
    }
    /* Keep using Send indications; the channel number stays reserved for this peer. */
    CAMRTC_LOGD(t->log, MOD, "ChannelBind refused: %d", code);
    p->chan_bound = false;
    p->want_channel = false;
}

/* RFC 8489 §9.2.5: a response to an authenticated request must carry a valid
 * MESSAGE-INTEGRITY, except the 401/438 challenges (the server could not compute one).
 * Other errors without it are accepted (servers send 400 without), with it must verify. */
static int check_response_auth(camrtc_turn *t, const turn_txn *tx, const camrtc_stun_msg *m, bool is_error, int code)
{
    if (m->fingerprint >= 0 && camrtc_stun_check_fingerprint(m) != CAMRTC_OK)
        return CAMRTC_EPROTO;
    if (!tx->authed || (is_error && (code == 401 || code == 438)))
        return CAMRTC_OK;
    int rc = camrtc_stun_check_integrity(m, t->key, sizeof t->key);
    if (rc == CAMRTC_ENOTFOUND && is_error)
        return CAMRTC_OK;
    return rc == CAMRTC_OK ? CAMRTC_OK : CAMRTC_EAUTH;
}

static int on_response(camrtc_turn *t, camrtc_time_us now, const camrtc_stun_msg *m)
{
    turn_peer *p;
    turn_txn *tx = match_txn(t, m->txid, &p);
    if (!tx || camrtc_stun_method(m->type) != expected_method(t, tx, p))
        return CAMRTC_EPROTO;   /* late, duplicate or foreign */
    bool is_error = camrtc_stun_class(m->type) == CAMRTC_STUN_ERROR;
    int code = 0;
    if (is_error && camrtc_stun_get_error(m, &code, NULL, NULL) != 0)
        return CAMRTC_EPROTO;
    int rc = check_response_auth(t, tx, m, is_error, code);
    if (rc < 0)
        return rc;
    if (is_error && (code == 401 || code == 438) && retry_auth(t, now, tx, p, code, m))
        return CAMRTC_OK;
    if (tx == &t->alloc_tx) {
        if (is_error)
            on_alloc_error(t, now, code);
        else
            on_alloc_success(t, now, m);
    } else if (tx == &p->perm_tx) {
        on_perm_result(t, now, p, is_error ? err_for_code(code) : CAMRTC_OK, code);
    } else {
        on_chan_result(t, now, p, is_error ? err_for_code(code) : CAMRTC_OK, code);
    }
    return CAMRTC_OK;
}

bool camrtc_turn_is_mine(const camrtc_turn *t, const uint8_t *data, size_t len)
{
    if (camrtc_turn_is_channel_data(data, len))
        return true;
    if (!camrtc_stun_is_message(data, len))
        return false;
    uint16_t type = (uint16_t)((data[0] << 8) | data[1]);
    uint16_t cls = camrtc_stun_class(type);
    if (cls == CAMRTC_STUN_INDICATION)
        return camrtc_stun_method(type) == CAMRTC_STUN_DATA;
    if (cls != CAMRTC_STUN_SUCCESS && cls != CAMRTC_STUN_ERROR)
        return false;
    const uint8_t *txid = data + 8;
    if (t->alloc_tx.active && memcmp(t->alloc_tx.txid, txid, 12) == 0)
        return true;
    for (size_t i = 0; i < TURN_MAX_PEERS; i++) {
        const turn_peer *p = &t->peers[i];
        if (p->used && ((p->perm_tx.active && memcmp(p->perm_tx.txid, txid, 12) == 0) ||
                        (p->chan_tx.active && memcmp(p->chan_tx.txid, txid, 12) == 0)))
            return true;
    }
    return false;
}

/* ---- incoming data ---- */

static int on_data_indication(camrtc_turn *t, const camrtc_stun_msg *m)
{
    camrtc_turn_event ev = {.type = CAMRTC_TURN_EV_DATA};
    const camrtc_stun_attr *d = camrtc_stun_find(m, CAMRTC_STUN_A_DATA);
    if (!d || camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &ev.peer) != 0)
        return CAMRTC_EPROTO;
    ev.data = camrtc_stun_value(m, d);
    ev.len = d->len;
    t->stats.recv_indications++;
    emit(t, &ev);
    return CAMRTC_OK;
}

static int on_channel_data(camrtc_turn *t, const uint8_t *data, size_t len)
{
    camrtc_turn_event ev = {.type = CAMRTC_TURN_EV_DATA};
    uint16_t ch;
    if (turn_read_channel_data(data, len, &ch, &ev.data, &ev.len) != 0)
        return CAMRTC_EPROTO;
    /* A channel whose bind is still pending counts: the server may use it as soon as
     * it has answered, before that answer reaches us. */
    turn_peer *p = ch >= TURN_CHANNEL_MIN && ch <= TURN_CHANNEL_MAX ? peer_by_channel(t, ch) : NULL;
    if (!p || !(p->chan_bound || p->chan_tx.active))
        return CAMRTC_ENOTFOUND;
    ev.peer = p->addr;
    t->stats.recv_channel_data++;
    emit(t, &ev);
    return CAMRTC_OK;
}

static int input_stun(camrtc_turn *t, camrtc_time_us now, const uint8_t *data, size_t len)
{
    camrtc_stun_msg m;
    if (camrtc_stun_parse(&m, data, len) != 0)
        return CAMRTC_EPROTO;
    uint16_t cls = camrtc_stun_class(m.type);
    if (cls == CAMRTC_STUN_SUCCESS || cls == CAMRTC_STUN_ERROR)
        return on_response(t, now, &m);
    if (cls == CAMRTC_STUN_INDICATION && camrtc_stun_method(m.type) == CAMRTC_STUN_DATA &&
        t->state == CAMRTC_TURN_ALLOCATED)
        return on_data_indication(t, &m);
    return CAMRTC_EPROTO;   /* requests, or data outside an allocation */
}

int camrtc_turn_input(camrtc_turn *t, camrtc_time_us now, const uint8_t *data, size_t len)
{
    int rc;
    if (!data || len == 0)
        rc = CAMRTC_EPROTO;
    else if (camrtc_turn_is_channel_data(data, len))
        rc = t->state == CAMRTC_TURN_ALLOCATED ? on_channel_data(t, data, len) : CAMRTC_EPROTO;
    else
        rc = input_stun(t, now, data, len);
    if (rc < 0) {
        t->stats.dropped++;
        CAMRTC_LOGD(t->log, MOD, "dropped %zu bytes from the server: %s", len, camrtc_errname(rc));
        if (rc != CAMRTC_EAUTH)
            rc = CAMRTC_EPROTO;
    }
    return rc;
}

/* ---- timers ---- */

/* Retransmit (UDP, doubling the RTO, RFC 8489 §6.2.1) or give up. Returns true when
 * the transaction gave up. */
static bool txn_tick(camrtc_turn *t, camrtc_time_us now, turn_txn *tx, turn_peer *p)
{
    if (!tx->active || now < tx->next_at)
        return false;
    if (t->cfg.stream || tx->sent > t->cfg.max_retrans) {
        tx->active = false;
        return true;
    }
    tx->rto *= 2;
    tx->sent++;
    /* After the last retransmission wait Rm = 16 initial RTOs before giving up
     * (RFC 8489 §6.2.1). */
    tx->next_at = now + (tx->sent > t->cfg.max_retrans ? 16 * t->cfg.rto : tx->rto);
    t->stats.retransmits++;
    if (transmit(t, now, tx, p) < 0) {
        tx->active = false;
        return true;
    }
    return false;
}

static void alloc_tick(camrtc_turn *t, camrtc_time_us now)
{
    if (txn_tick(t, now, &t->alloc_tx, NULL)) {
        if (t->alloc_req == ALLOC_REQ_DEALLOCATE)
            closed(t, CAMRTC_ETIMEDOUT);
        else
            fail(t, CAMRTC_ETIMEDOUT, 0);
        return;
    }
    if (t->state == CAMRTC_TURN_ALLOCATED && !t->alloc_tx.active && now >= t->refresh_at) {
        t->alloc_req = ALLOC_REQ_REFRESH;
        if (txn_start(t, now, &t->alloc_tx, NULL, 0) < 0)
            fail(t, CAMRTC_EINTERNAL, 0);
    }
}

/* Over UDP a NAT between us and the server forgets our mapping after a quiet while
 * (RFC 4787 REQ-5 allows 2 minutes, many NATs use less); then the server sees a new
 * 5-tuple and answers the next Refresh with 437. A Binding indication (RFC 8489 §6.3,
 * no answer expected) to the server after keepalive without sending keeps it open. */
static camrtc_time_us keepalive_at(const camrtc_turn *t)
{
    if (t->cfg.stream || t->cfg.keepalive > CAMRTC_TIME_NEVER - t->last_tx)
        return CAMRTC_TIME_NEVER;
    return t->last_tx + t->cfg.keepalive;
}

static void keepalive_tick(camrtc_turn *t, camrtc_time_us now)
{
    if (now < keepalive_at(t))
        return;
    uint8_t txid[12];
    camrtc_stun_builder b;
    if (camrtc_rng_bytes(t->rng, txid, sizeof txid) != 0)
        return;
    camrtc_stun_build_init(&b, t->out, sizeof t->out, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_INDICATION),
                           txid);
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    if (n > 0) {
        t->stats.keepalives++;
        out_send(t, now, (size_t)n);
    }
}

static void peer_tick(camrtc_turn *t, camrtc_time_us now, turn_peer *p)
{
    if (txn_tick(t, now, &p->perm_tx, p)) {
        on_perm_result(t, now, p, CAMRTC_ETIMEDOUT, 0);
        if (t->state != CAMRTC_TURN_ALLOCATED)
            return;
    }
    if (txn_tick(t, now, &p->chan_tx, p))
        on_chan_result(t, now, p, CAMRTC_ETIMEDOUT, 0);
    if (p->perm == PERM_OK && !p->perm_tx.active && now >= p->perm_refresh_at)
        txn_start(t, now, &p->perm_tx, p, 0);
    if (p->chan_bound && !p->chan_tx.active && now >= p->chan_refresh_at)
        txn_start(t, now, &p->chan_tx, p, 0);
}

int camrtc_turn_handle_timeout(camrtc_turn *t, camrtc_time_us now)
{
    if (t->state == CAMRTC_TURN_ALLOCATING || t->state == CAMRTC_TURN_CLOSING) {
        alloc_tick(t, now);
        return CAMRTC_OK;
    }
    if (t->state != CAMRTC_TURN_ALLOCATED)
        return CAMRTC_OK;
    alloc_tick(t, now);
    for (size_t i = 0; i < TURN_MAX_PEERS && t->state == CAMRTC_TURN_ALLOCATED; i++)
        if (t->peers[i].used)
            peer_tick(t, now, &t->peers[i]);
    if (t->state == CAMRTC_TURN_ALLOCATED)
        keepalive_tick(t, now);
    return CAMRTC_OK;
}

static camrtc_time_us earliest(camrtc_time_us a, camrtc_time_us b)
{
    return a < b ? a : b;
}

static camrtc_time_us txn_deadline(const turn_txn *tx)
{
    return tx->active ? tx->next_at : CAMRTC_TIME_NEVER;
}

camrtc_time_us camrtc_turn_next_timeout(const camrtc_turn *t)
{
    if (t->state == CAMRTC_TURN_ALLOCATING || t->state == CAMRTC_TURN_CLOSING)
        return txn_deadline(&t->alloc_tx);
    if (t->state != CAMRTC_TURN_ALLOCATED)
        return CAMRTC_TIME_NEVER;
    camrtc_time_us at = t->alloc_tx.active ? t->alloc_tx.next_at : t->refresh_at;
    at = earliest(at, keepalive_at(t));
    for (size_t i = 0; i < TURN_MAX_PEERS; i++) {
        const turn_peer *p = &t->peers[i];
        if (!p->used)
            continue;
        at = earliest(at, txn_deadline(&p->perm_tx));
        at = earliest(at, txn_deadline(&p->chan_tx));
        if (p->perm == PERM_OK && !p->perm_tx.active)
            at = earliest(at, p->perm_refresh_at);
        if (p->chan_bound && !p->chan_tx.active)
            at = earliest(at, p->chan_refresh_at);
    }
    return at;
}
