/* A TURN server model (RFC 8656) for tests: see turn_server.h.
 *
 * Deliberately plain: a fixed table of allocations found by linear search, each with a
 * small table of permissions and channels. UDP only, one user, one realm.
 */
#include "turn_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/stun.h"

#define TS_MAX_PERMS 16
#define TS_MAX_CHANNELS 16
#define TS_PERM_LIFETIME CAMRTC_SEC(300)     /* §9 */
#define TS_CHANNEL_LIFETIME CAMRTC_SEC(600)  /* §12 */
#define TS_CHANNEL_MIN 0x4000
#define TS_CHANNEL_MAX 0x4FFF

typedef struct ts_perm {
    bool used;
    camrtc_addr ip;              /* port ignored (§9: permissions are per IP) */
    camrtc_time_us expires_at;
} ts_perm;

typedef struct ts_channel {
    uint16_t number;             /* 0 = unused */
    camrtc_addr peer;
    camrtc_time_us expires_at;
} ts_channel;

typedef struct ts_alloc {
    bool used;
    camrtc_addr client;          /* the 5-tuple is (client, listen, UDP) */
    camrtc_addr relayed;
    uint8_t txid[12];            /* of the Allocate that made it: a retransmission gets the same answer */
    bool lingering;              /* deallocated, 5-tuple still held (turn_server_set_linger) */
    uint32_t lifetime;
    camrtc_time_us expires_at;
    ts_perm perms[TS_MAX_PERMS];
    ts_channel channels[TS_MAX_CHANNELS];
} ts_alloc;

struct turn_server {
    turn_server_config cfg;
    char *realm, *username, *password;
    uint8_t key[16];
    camrtc_rng own_rng;
    camrtc_rng *rng;
    char nonce[25];              /* 24 hex digits */
    camrtc_time_us nonce_at;     /* when nonce was made (0 = not yet) */
    uint16_t next_port;
    camrtc_time_us linger;
    ts_alloc *allocs;
    turn_server_stats stats;
    uint8_t out[65536 + 128];
};

/* The parts of a request every handler needs. */
typedef struct ts_req {
    camrtc_time_us now;
    const camrtc_addr *from;
    const camrtc_stun_msg *m;
    uint16_t method;
} ts_req;

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

static void new_nonce(turn_server *s, camrtc_time_us now)
{
    uint8_t r[12];
    camrtc_rng_bytes(s->rng, r, sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(s->nonce + 2 * i, 3, "%02x", r[i]);
    s->nonce_at = now ? now : 1;
}

turn_server *turn_server_new(const turn_server_config *cfg)
{
    if (!cfg || !cfg->username || !cfg->password || !cfg->send)
        return NULL;
    turn_server *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (!s->cfg.max_allocations)
        s->cfg.max_allocations = 64;
    if (!s->cfg.default_lifetime_s)
        s->cfg.default_lifetime_s = 600;
    if (!s->cfg.max_lifetime_s)
        s->cfg.max_lifetime_s = 3600;
    s->next_port = cfg->relay_port_base ? cfg->relay_port_base : 49152;
    s->realm = dup_str(cfg->realm ? cfg->realm : "camrtc.test");
    s->username = dup_str(cfg->username);
    s->password = dup_str(cfg->password);
    s->allocs = calloc(s->cfg.max_allocations, sizeof *s->allocs);
    if (cfg->rng) {
        s->rng = cfg->rng;
    } else if (camrtc_rng_init_seed(&s->own_rng, cfg->seed) == 0) {
        s->rng = &s->own_rng;
    }
    if (!s->realm || !s->username || !s->password || !s->allocs || !s->rng ||
        camrtc_stun_longterm_key(s->username, s->realm, strlen(s->realm), s->password, s->key) != 0) {
        turn_server_free(s);
        return NULL;
    }
    s->cfg.realm = s->realm;
    s->cfg.username = s->username;
    s->cfg.password = s->password;
    new_nonce(s, 1);
    return s;
}

void turn_server_free(turn_server *s)
{
    if (!s)
        return;
    if (s->rng == &s->own_rng)
        camrtc_rng_free(&s->own_rng);
    free(s->realm);
    free(s->username);
    free(s->password);
    free(s->allocs);
    free(s);
}

const turn_server_stats *turn_server_get_stats(const turn_server *s)
{
    return &s->stats;
}

void turn_server_set_linger(turn_server *s, camrtc_time_us linger)
{
    s->linger = linger;
}

void turn_server_rotate_nonce(turn_server *s)
{
    new_nonce(s, s->nonce_at);
}

/* ---- lookups ---- */

static ts_alloc *alloc_by_client(turn_server *s, const camrtc_addr *client)
{
    for (unsigned i = 0; i < s->cfg.max_allocations; i++)
        if (s->allocs[i].used && camrtc_addr_equal(&s->allocs[i].client, client))
            return &s->allocs[i];
    return NULL;
}

static ts_alloc *alloc_by_relayed(turn_server *s, const camrtc_addr *relayed)
{
    for (unsigned i = 0; i < s->cfg.max_allocations; i++)
        if (s->allocs[i].used && !s->allocs[i].lingering && camrtc_addr_equal(&s->allocs[i].relayed, relayed))
            return &s->allocs[i];
    return NULL;
}

static ts_perm *perm_find(ts_alloc *a, const camrtc_addr *peer)
{
    for (size_t i = 0; i < TS_MAX_PERMS; i++)
        if (a->perms[i].used && camrtc_addr_ip_equal(&a->perms[i].ip, peer))
            return &a->perms[i];
    return NULL;
}

static ts_channel *chan_by_number(ts_alloc *a, uint16_t n)
{
    for (size_t i = 0; i < TS_MAX_CHANNELS; i++)
        if (a->channels[i].number == n)
            return &a->channels[i];
    return NULL;
}

static ts_channel *chan_by_peer(ts_alloc *a, const camrtc_addr *peer)
{
    for (size_t i = 0; i < TS_MAX_CHANNELS; i++)
        if (a->channels[i].number && camrtc_addr_equal(&a->channels[i].peer, peer))
            return &a->channels[i];
    return NULL;
}

bool turn_server_owns(const turn_server *s, const camrtc_addr *addr)
{
    if (camrtc_addr_equal(&s->cfg.listen, addr))
        return true;
    return alloc_by_relayed((turn_server *)s, addr) != NULL;
}

size_t turn_server_allocation_count(const turn_server *s)
{
    size_t n = 0;
    for (unsigned i = 0; i < s->cfg.max_allocations; i++)
        n += s->allocs[i].used && !s->allocs[i].lingering;
    return n;
}

/* ---- responses ---- */

static void send_to_client(turn_server *s, const camrtc_addr *to, int n)
{
    if (n > 0)
        s->cfg.send(s->cfg.user, &s->cfg.listen, to, s->out, (size_t)n);
}

static void reply_init(turn_server *s, camrtc_stun_builder *b, const ts_req *r, uint16_t cls)
{
    camrtc_stun_build_init(b, s->out, sizeof s->out, camrtc_stun_type(r->method, cls), r->m->txid);
}

/* A success or error to an authenticated request ends with MESSAGE-INTEGRITY. */
static void reply_finish(turn_server *s, camrtc_stun_builder *b, const ts_req *r)
{
    camrtc_stun_add_integrity(b, s->key, sizeof s->key);
    camrtc_stun_add_fingerprint(b);
    send_to_client(s, r->from, camrtc_stun_build_finish(b));
}

static void reply_error(turn_server *s, const ts_req *r, int code, const char *reason)
{
    camrtc_stun_builder b;
    reply_init(s, &b, r, CAMRTC_STUN_ERROR);
    camrtc_stun_add_error(&b, code, reason);
    s->stats.bad_requests++;
    reply_finish(s, &b, r);
}

/* 401 / 438: REALM and NONCE, no MESSAGE-INTEGRITY (RFC 8489 §9.2.4). */
static void reply_challenge(turn_server *s, const ts_req *r, int code)
{
    camrtc_stun_builder b;
    reply_init(s, &b, r, CAMRTC_STUN_ERROR);
    camrtc_stun_add_error(&b, code, code == 401 ? "Unauthorized" : "Stale Nonce");
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_REALM, s->realm);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_NONCE, s->nonce);
    camrtc_stun_add_fingerprint(&b);
    send_to_client(s, r->from, camrtc_stun_build_finish(&b));
    if (code == 401)
        s->stats.auth_challenges++;
    else
        s->stats.stale_nonces++;
}

static bool attr_equals(const camrtc_stun_msg *m, uint16_t type, const char *want)
{
    const char *v;
    size_t n;
    return camrtc_stun_get_string(m, type, &v, &n) == 0 && n == strlen(want) && memcmp(v, want, n) == 0;
}

/* The long-term credential check (RFC 8489 §9.2.4). True when the request may go on. */
static bool authenticate(turn_server *s, const ts_req *r)
{
    const camrtc_stun_msg *m = r->m;
    if (s->cfg.nonce_lifetime && r->now >= s->nonce_at + s->cfg.nonce_lifetime)
        new_nonce(s, r->now);
    if (m->integrity < 0 || !camrtc_stun_find(m, CAMRTC_STUN_A_USERNAME) || !camrtc_stun_find(m, CAMRTC_STUN_A_NONCE) ||
        !camrtc_stun_find(m, CAMRTC_STUN_A_REALM)) {
        reply_challenge(s, r, 401);
        return false;
    }
    if (!attr_equals(m, CAMRTC_STUN_A_USERNAME, s->username) || !attr_equals(m, CAMRTC_STUN_A_REALM, s->realm) ||
        camrtc_stun_check_integrity(m, s->key, sizeof s->key) != CAMRTC_OK) {
        reply_challenge(s, r, 401);
        return false;
    }
    if (!attr_equals(m, CAMRTC_STUN_A_NONCE, s->nonce)) {
        reply_challenge(s, r, 438);
        return false;
    }
    return true;
}

/* ---- requests ---- */

static camrtc_time_us lifetime_of(turn_server *s, const camrtc_stun_msg *m, uint32_t *life)
{
    uint32_t v;
    if (camrtc_stun_get_u32(m, CAMRTC_STUN_A_LIFETIME, &v) != 0)
        v = s->cfg.default_lifetime_s;
    if (v > s->cfg.max_lifetime_s)
        v = s->cfg.max_lifetime_s;
    *life = v;
    return CAMRTC_SEC(v);
}

static void reply_allocated(turn_server *s, const ts_req *r, const ts_alloc *a)
{
    camrtc_stun_builder b;
    reply_init(s, &b, r, CAMRTC_STUN_SUCCESS);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &a->relayed);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &a->client);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_LIFETIME, a->lifetime);
    reply_finish(s, &b, r);
}

static ts_alloc *alloc_free_slot(turn_server *s)
{
    for (unsigned i = 0; i < s->cfg.max_allocations; i++)
        if (!s->allocs[i].used)
            return &s->allocs[i];
    return NULL;
}

/* §7.2 */
static void reply_mismatch(turn_server *s, const ts_req *r)
{
    s->stats.mismatches++;
    reply_error(s, r, 437, "Allocation Mismatch");
}

static void do_allocate(turn_server *s, const ts_req *r, ts_alloc *a)
{
    if (a) {
        if (memcmp(a->txid, r->m->txid, 12) == 0 && !a->lingering)
            reply_allocated(s, r, a);   /* a retransmission: same answer */
        else
            reply_mismatch(s, r);
        return;
    }
    const camrtc_stun_attr *tr = camrtc_stun_find(r->m, CAMRTC_STUN_A_REQUESTED_TRANSPORT);
    if (!tr || tr->len != 4) {
        reply_error(s, r, 400, "Bad Request");
        return;
    }
    if (camrtc_stun_value(r->m, tr)[0] != 17) {
        reply_error(s, r, 442, "Unsupported Transport Protocol");
        return;
    }
    a = alloc_free_slot(s);
    if (!a) {
        reply_error(s, r, 486, "Allocation Quota Reached");
        return;
    }
    memset(a, 0, sizeof *a);
    a->used = true;
    a->client = *r->from;
    a->relayed = s->cfg.relay_ip;
    a->relayed.port = s->next_port++;
    memcpy(a->txid, r->m->txid, 12);
    a->expires_at = r->now + lifetime_of(s, r->m, &a->lifetime);
    s->stats.allocations++;
    reply_allocated(s, r, a);
}

/* §7.4: Refresh; LIFETIME 0 deletes the allocation. */
static void do_refresh(turn_server *s, const ts_req *r, ts_alloc *a)
{
    uint32_t life;
    camrtc_time_us d = lifetime_of(s, r->m, &life);
    if (life == 0) {
        if (!a->lingering)
            s->stats.deallocations++;
        if (s->linger && !a->lingering) {
            a->lingering = true;
            a->expires_at = r->now + s->linger;
        } else if (!s->linger) {
            a->used = false;
        }
    } else if (a->lingering) {
        reply_mismatch(s, r);
        return;
    } else {
        a->lifetime = life;
        a->expires_at = r->now + d;
        s->stats.refreshes++;
    }
    camrtc_stun_builder b;
    reply_init(s, &b, r, CAMRTC_STUN_SUCCESS);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_LIFETIME, life);
    reply_finish(s, &b, r);
}

/* Install or refresh a permission for peer's IP; false when the table is full. */
static bool perm_install(ts_alloc *a, const camrtc_addr *peer, camrtc_time_us now)
{
    ts_perm *p = perm_find(a, peer);
    for (size_t i = 0; !p && i < TS_MAX_PERMS; i++)
        if (!a->perms[i].used)
            p = &a->perms[i];
    if (!p)
        return false;
    p->used = true;
    p->ip = *peer;
    p->ip.port = 0;
    p->expires_at = now + TS_PERM_LIFETIME;
    return true;
}

static bool peer_ok(turn_server *s, const ts_req *r, const ts_alloc *a, camrtc_addr *peer)
{
    if (camrtc_stun_get_xor_addr(r->m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, peer) != 0) {
        reply_error(s, r, 400, "Bad Request");
        return false;
    }
    if (peer->family != a->relayed.family) {
        reply_error(s, r, 443, "Peer Address Family Mismatch");
        return false;
    }
    return true;
}

static void reply_ok(turn_server *s, const ts_req *r)
{
    camrtc_stun_builder b;
    reply_init(s, &b, r, CAMRTC_STUN_SUCCESS);
    reply_finish(s, &b, r);
}

/* §9.2 */
static void do_create_permission(turn_server *s, const ts_req *r, ts_alloc *a)
{
    camrtc_addr peer;
    if (!peer_ok(s, r, a, &peer))
        return;
    if (!perm_install(a, &peer, r->now)) {
        reply_error(s, r, 508, "Insufficient Capacity");
        return;
    }
    s->stats.permissions++;
    reply_ok(s, r);
}

/* §12.2: a channel number is bound to one peer and a peer to one number. */
static void do_channel_bind(turn_server *s, const ts_req *r, ts_alloc *a)
{
    uint32_t v;
    camrtc_addr peer;
    if (camrtc_stun_get_u32(r->m, CAMRTC_STUN_A_CHANNEL_NUMBER, &v) != 0) {
        reply_error(s, r, 400, "Bad Request");
        return;
    }
    if (!peer_ok(s, r, a, &peer))
        return;
    uint16_t num = (uint16_t)(v >> 16);
    ts_channel *c = chan_by_number(a, num), *byp = chan_by_peer(a, &peer);
    if (num < TS_CHANNEL_MIN || num > TS_CHANNEL_MAX || c != byp) {
        reply_error(s, r, 400, "Bad Request");
        return;
    }
    if (!c)
        c = chan_by_number(a, 0);
    if (!c || !perm_install(a, &peer, r->now)) {
        reply_error(s, r, 508, "Insufficient Capacity");
        return;
    }
    c->number = num;
    c->peer = peer;
    c->expires_at = r->now + TS_CHANNEL_LIFETIME;
    s->stats.channel_binds++;
    reply_ok(s, r);
}

static void on_request(turn_server *s, const ts_req *r)
{
    ts_alloc *a = alloc_by_client(s, r->from);
    /* coturn's order: a taken 5-tuple is refused before the credentials are looked at. */
    if (s->linger && r->method == CAMRTC_STUN_ALLOCATE && a && (a->lingering || memcmp(a->txid, r->m->txid, 12))) {
        reply_mismatch(s, r);
        return;
    }
    if (!authenticate(s, r))
        return;
    if (r->method == CAMRTC_STUN_ALLOCATE) {
        do_allocate(s, r, a);
        return;
    }
    if (r->method != CAMRTC_STUN_REFRESH && r->method != CAMRTC_STUN_CREATE_PERMISSION &&
        r->method != CAMRTC_STUN_CHANNEL_BIND) {
        reply_error(s, r, 400, "Bad Request");
        return;
    }
    if (!a || (a->lingering && r->method != CAMRTC_STUN_REFRESH)) {
        reply_error(s, r, 437, "Allocation Mismatch");
        return;
    }
    if (r->method == CAMRTC_STUN_REFRESH)
        do_refresh(s, r, a);
    else if (r->method == CAMRTC_STUN_CREATE_PERMISSION)
        do_create_permission(s, r, a);
    else
        do_channel_bind(s, r, a);
}

/* ---- relaying ---- */

static void send_to_peer(turn_server *s, ts_alloc *a, const camrtc_addr *peer, const uint8_t *data, size_t len)
{
    s->cfg.send(s->cfg.user, &a->relayed, peer, data, len);
}

/* §11.2: a Send indication from the client. */
static int on_send_indication(turn_server *s, const camrtc_addr *from, const camrtc_stun_msg *m)
{
    ts_alloc *a = alloc_by_client(s, from);
    camrtc_addr peer;
    const camrtc_stun_attr *d = camrtc_stun_find(m, CAMRTC_STUN_A_DATA);
    if (!a || a->lingering || !d || camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &peer) != 0)
        return CAMRTC_EPROTO;
    if (!perm_find(a, &peer)) {
        s->stats.dropped_no_permission++;
        return CAMRTC_OK;
    }
    s->stats.to_peer_indications++;
    send_to_peer(s, a, &peer, camrtc_stun_value(m, d), d->len);
    return CAMRTC_OK;
}

/* §12.6: ChannelData from the client. */
static int on_client_channel_data(turn_server *s, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    ts_alloc *a = alloc_by_client(s, from);
    if (!a || a->lingering || len < 4)
        return CAMRTC_EPROTO;
    uint16_t num = (uint16_t)((data[0] << 8) | data[1]);
    size_t n = (size_t)((data[2] << 8) | data[3]);
    ts_channel *c = num ? chan_by_number(a, num) : NULL;
    if (!c || n > len - 4)
        return CAMRTC_EPROTO;
    if (!perm_find(a, &c->peer)) {
        s->stats.dropped_no_permission++;
        return CAMRTC_OK;
    }
    s->stats.to_peer_channel_data++;
    send_to_peer(s, a, &c->peer, data + 4, n);
    return CAMRTC_OK;
}

/* §11.3 / §12.7: a datagram from a peer to a relayed address. */
static int on_peer_data(turn_server *s, ts_alloc *a, const camrtc_addr *peer, const uint8_t *data, size_t len)
{
    if (!perm_find(a, peer)) {
        s->stats.dropped_no_permission++;
        return CAMRTC_OK;
    }
    ts_channel *c = chan_by_peer(a, peer);
    int n;
    if (c && len <= 0xFFFF && len + 4 <= sizeof s->out) {
        s->out[0] = (uint8_t)(c->number >> 8);
        s->out[1] = (uint8_t)c->number;
        s->out[2] = (uint8_t)(len >> 8);
        s->out[3] = (uint8_t)len;
        memcpy(s->out + 4, data, len);
        n = (int)len + 4;
        s->stats.to_client_channel_data++;
    } else {
        uint8_t txid[12];
        camrtc_rng_bytes(s->rng, txid, sizeof txid);
        camrtc_stun_builder b;
        camrtc_stun_build_init(&b, s->out, sizeof s->out,
                               camrtc_stun_type(CAMRTC_STUN_DATA, CAMRTC_STUN_INDICATION), txid);
        camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, peer);
        camrtc_stun_add(&b, CAMRTC_STUN_A_DATA, data, len);
        n = camrtc_stun_build_finish(&b);
        if (n < 0)
            return n;
        s->stats.to_client_indications++;
    }
    send_to_client(s, &a->client, n);
    return CAMRTC_OK;
}

static int on_listen_input(turn_server *s, camrtc_time_us now, const camrtc_addr *from, const uint8_t *data,
                           size_t len)
{
    if (len >= 4 && data[0] >= 0x40 && data[0] <= 0x4F)
        return on_client_channel_data(s, from, data, len);
    camrtc_stun_msg m;
    if (camrtc_stun_parse(&m, data, len) != 0)
        return CAMRTC_EPROTO;
    uint16_t cls = camrtc_stun_class(m.type), method = camrtc_stun_method(m.type);
    if (cls == CAMRTC_STUN_INDICATION && method == CAMRTC_STUN_SEND)
        return on_send_indication(s, from, &m);
    if (cls == CAMRTC_STUN_INDICATION && method == CAMRTC_STUN_BINDING) {
        s->stats.keepalives++;   /* only there to keep a NAT mapping open */
        return CAMRTC_OK;
    }
    if (cls != CAMRTC_STUN_REQUEST)
        return CAMRTC_EPROTO;
    if (m.fingerprint >= 0 && camrtc_stun_check_fingerprint(&m) != CAMRTC_OK)
        return CAMRTC_EPROTO;
    ts_req r = {.now = now, .from = from, .m = &m, .method = method};
    uint64_t before = s->stats.auth_challenges + s->stats.stale_nonces;
    on_request(s, &r);
    return s->stats.auth_challenges + s->stats.stale_nonces != before ? CAMRTC_EAUTH : CAMRTC_OK;
}

int turn_server_input(turn_server *s, camrtc_time_us now, const camrtc_addr *from, const camrtc_addr *to,
                      const uint8_t *data, size_t len)
{
    int rc;
    turn_server_handle_timeout(s, now);
    if (camrtc_addr_equal(to, &s->cfg.listen)) {
        rc = on_listen_input(s, now, from, data, len);
    } else {
        ts_alloc *a = alloc_by_relayed(s, to);
        if (!a)
            return CAMRTC_ENOTFOUND;
        rc = on_peer_data(s, a, from, data, len);
    }
    if (rc == CAMRTC_EPROTO)
        s->stats.dropped++;
    return rc;
}

/* ---- expiry ---- */

static void expire_alloc(turn_server *s, ts_alloc *a, camrtc_time_us now)
{
    if (now >= a->expires_at) {
        a->used = false;
        if (!a->lingering)   /* a deallocated one only lets go of its 5-tuple now */
            s->stats.expired_allocations++;
        return;
    }
    for (size_t i = 0; i < TS_MAX_PERMS; i++) {
        if (a->perms[i].used && now >= a->perms[i].expires_at) {
            a->perms[i].used = false;
            s->stats.expired_permissions++;
        }
    }
    for (size_t i = 0; i < TS_MAX_CHANNELS; i++) {
        if (a->channels[i].number && now >= a->channels[i].expires_at) {
            a->channels[i].number = 0;
            s->stats.expired_channels++;
        }
    }
}

void turn_server_handle_timeout(turn_server *s, camrtc_time_us now)
{
    for (unsigned i = 0; i < s->cfg.max_allocations; i++)
        if (s->allocs[i].used)
            expire_alloc(s, &s->allocs[i], now);
}

static camrtc_time_us min_t(camrtc_time_us a, camrtc_time_us b)
{
    return a < b ? a : b;
}

camrtc_time_us turn_server_next_timeout(const turn_server *s)
{
    camrtc_time_us at = CAMRTC_TIME_NEVER;
    for (unsigned i = 0; i < s->cfg.max_allocations; i++) {
        const ts_alloc *a = &s->allocs[i];
        if (!a->used)
            continue;
        at = min_t(at, a->expires_at);
        for (size_t k = 0; k < TS_MAX_PERMS; k++)
            if (a->perms[k].used)
                at = min_t(at, a->perms[k].expires_at);
        for (size_t k = 0; k < TS_MAX_CHANNELS; k++)
            if (a->channels[k].number)
                at = min_t(at, a->channels[k].expires_at);
    }
    return at;
}
