/* The ICE agent, sans-I/O: two agents wired through a small in-test fake network (a queue
 * of datagrams with a fixed one-way delay on a virtual clock, an optional full-cone NAT per
 * peer, a switch to make a peer vanish, and a fake STUN server). Every run is bounded and
 * deterministic (seeded random numbers). */
#include "check.h"

#include "camrtc/error.h"
#include "camrtc/ice.h"
#include "camrtc/stun.h"

#define MAXQ 512
#define SOCK 7

typedef struct pkt {
    camrtc_time_us at;
    camrtc_addr from, to;
    uint8_t data[1500];
    size_t len;
    int stream;           /* > 0: bytes on that TURN stream to peer 0, not a datagram */
} pkt;

struct net;

typedef struct peer {
    struct net *net;
    int idx;
    camrtc_ice_agent *a;
    camrtc_rng rng;
    camrtc_addr addr;     /* its socket's address */
    camrtc_addr nat;      /* when set: what the others see (full-cone NAT) */
    bool gone;            /* drops everything to and from it */
    bool auto_trickle;    /* hand each local candidate to the other peer at once */
    camrtc_ice_candidate cands[16];
    unsigned ncands;
    unsigned gathering_done, selected, role_events, server_errors;
    camrtc_ice_candidate sel_local, sel_remote;
    camrtc_ice_state states[32];
    camrtc_time_us state_at[32];
    unsigned nstates;
    unsigned ndata;
    uint8_t last_data[64];
    size_t last_len;
} tpeer;

typedef struct net {
    camrtc_time_us now, delay;
    tpeer p[2];
    pkt q[MAXQ];
    unsigned nq;
    camrtc_addr stun_server;  /* answered by the fake when set and stun_alive */
    bool stun_alive;
    unsigned stun_requests;
    /* A fake TURN server (RFC 8656) with one allocation: long-term credentials u/p. */
    camrtc_addr turn_server, relayed, turn_client;
    camrtc_addr permitted[4];
    unsigned npermitted;
    camrtc_addr chan_peer[4];
    uint16_t chan_num[4];
    unsigned nchan, turn_relayed_to, turn_relayed_from, deallocations;
    int turn_stream;          /* the stream peer 0 opened to it (TURN over TCP), 0 = UDP */
    bool turn_stream_tls;
    unsigned streams_closed;
} net;

static camrtc_addr mkaddr(const char *ip, uint16_t port)
{
    camrtc_addr a;
    camrtc_addr_parse(&a, ip, port);
    return a;
}

static const camrtc_addr *seen_as(const tpeer *p)
{
    return p->nat.family ? &p->nat : &p->addr;
}

static void enqueue(net *n, const camrtc_addr *from, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    if (n->nq >= MAXQ || len > sizeof n->q[0].data)
        return;
    pkt *k = &n->q[n->nq++];
    k->stream = 0;
    k->at = n->now + n->delay;
    k->from = *from;
    k->to = *to;
    memcpy(k->data, data, len);
    k->len = len;
}

/* The fake STUN server answers a Binding request with the sender's public address. */
static void stun_server_answer(net *n, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    camrtc_stun_msg m;
    n->stun_requests++;
    if (!n->stun_alive || camrtc_stun_parse(&m, data, len) != 0)
        return;
    uint8_t buf[256];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_SUCCESS), m.txid);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, from);
    camrtc_stun_add_fingerprint(&b);
    int l = camrtc_stun_build_finish(&b);
    if (l > 0)
        enqueue(n, &n->stun_server, from, buf, (size_t)l);
}


/* ---- the fake TURN server ------------------------------------------------------------- */

/* Server to client: a datagram, or stream bytes (ChannelData padded to 4, RFC 8656 §12.5). */
static void turn_to_client(net *n, const uint8_t *data, size_t len)
{
    if (!n->turn_stream) {
        enqueue(n, &n->turn_server, &n->turn_client, data, len);
        return;
    }
    uint8_t pad[4] = {0};
    enqueue(n, &n->turn_server, &n->turn_client, data, len);
    if (n->nq)
        n->q[n->nq - 1].stream = n->turn_stream;
    if (len % 4 && data[0] >= 0x40 && data[0] <= 0x7f) {
        enqueue(n, &n->turn_server, &n->turn_client, pad, 4 - len % 4);
        if (n->nq)
            n->q[n->nq - 1].stream = n->turn_stream;
    }
}

static void turn_reply(net *n, const camrtc_stun_msg *m, uint16_t cls, bool relayed)
{
    uint8_t key[16], buf[256];
    camrtc_stun_longterm_key("u", "r", 1, "p", key);
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(camrtc_stun_method(m->type), cls), m->txid);
    if (cls == CAMRTC_STUN_ERROR) {
        camrtc_stun_add_error(&b, 401, "Unauthorized");
        camrtc_stun_add(&b, CAMRTC_STUN_A_REALM, "r", 1);
        camrtc_stun_add(&b, CAMRTC_STUN_A_NONCE, "n", 1);
    } else {
        if (relayed) {
            camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_RELAYED_ADDRESS, &n->relayed);
            camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &n->turn_client);
            camrtc_stun_add_u32(&b, CAMRTC_STUN_A_LIFETIME, 600);
        }
        camrtc_stun_add_integrity(&b, key, sizeof key);
    }
    camrtc_stun_add_fingerprint(&b);
    int l = camrtc_stun_build_finish(&b);
    if (l > 0)
        turn_to_client(n, buf, (size_t)l);
}

static bool turn_permitted(const net *n, const camrtc_addr *peer)
{
    for (unsigned i = 0; i < n->npermitted; i++)
        if (camrtc_addr_ip_equal(&n->permitted[i], peer))
            return true;
    return false;
}

static void turn_relay_out(net *n, const camrtc_addr *peer, const uint8_t *data, size_t len)
{
    if (!turn_permitted(n, peer))
        return;
    n->turn_relayed_to++;
    enqueue(n, &n->relayed, peer, data, len);
}

static void turn_request(net *n, const camrtc_stun_msg *m)
{
    uint8_t key[16];
    camrtc_stun_longterm_key("u", "r", 1, "p", key);
    if (camrtc_stun_check_integrity(m, key, sizeof key) != CAMRTC_OK) {
        turn_reply(n, m, CAMRTC_STUN_ERROR, false);
        return;
    }
    camrtc_addr peer;
    uint32_t v;
    switch (camrtc_stun_method(m->type)) {
    case CAMRTC_STUN_ALLOCATE:
        turn_reply(n, m, CAMRTC_STUN_SUCCESS, true);
        return;
    case CAMRTC_STUN_REFRESH:
        if (camrtc_stun_get_u32(m, CAMRTC_STUN_A_LIFETIME, &v) == CAMRTC_OK && v == 0)
            n->deallocations++;
        break;
    case CAMRTC_STUN_CREATE_PERMISSION:
        if (camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &peer) == CAMRTC_OK && n->npermitted < 4 &&
            !turn_permitted(n, &peer))
            n->permitted[n->npermitted++] = peer;
        break;
    case CAMRTC_STUN_CHANNEL_BIND:
        if (camrtc_stun_get_xor_addr(m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &peer) == CAMRTC_OK &&
            camrtc_stun_get_u32(m, CAMRTC_STUN_A_CHANNEL_NUMBER, &v) == CAMRTC_OK && n->nchan < 4) {
            n->chan_peer[n->nchan] = peer;
            n->chan_num[n->nchan++] = (uint16_t)(v >> 16);
            if (n->npermitted < 4 && !turn_permitted(n, &peer))
                n->permitted[n->npermitted++] = peer; /* a channel installs a permission too */
        }
        break;
    }
    turn_reply(n, m, CAMRTC_STUN_SUCCESS, false);
}

/* From the client, to the server's address. */
static void turn_from_client(net *n, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    n->turn_client = *from;
    if (len >= 4 && data[0] >= 0x40 && data[0] <= 0x7f) { /* ChannelData */
        uint16_t ch = (uint16_t)(data[0] << 8 | data[1]);
        size_t dl = (size_t)(data[2] << 8 | data[3]);
        for (unsigned i = 0; i < n->nchan; i++)
            if (n->chan_num[i] == ch && dl + 4 <= len)
                turn_relay_out(n, &n->chan_peer[i], data + 4, dl);
        return;
    }
    camrtc_stun_msg m;
    if (camrtc_stun_parse(&m, data, len) != 0)
        return;
    if (camrtc_stun_class(m.type) == CAMRTC_STUN_REQUEST) {
        turn_request(n, &m);
    } else if (camrtc_stun_method(m.type) == CAMRTC_STUN_SEND) {
        camrtc_addr peer;
        const camrtc_stun_attr *d = camrtc_stun_find(&m, CAMRTC_STUN_A_DATA);
        if (d && camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &peer) == CAMRTC_OK)
            turn_relay_out(n, &peer, camrtc_stun_value(&m, d), d->len);
    }
}

/* From a peer, to the relayed address: ChannelData when bound, else a Data indication. */
static void turn_from_peer(net *n, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    if (!turn_permitted(n, from))
        return;
    n->turn_relayed_from++;
    uint8_t buf[1600];
    for (unsigned i = 0; i < n->nchan; i++) {
        if (camrtc_addr_equal(&n->chan_peer[i], from) && len + 4 <= sizeof buf) {
            buf[0] = (uint8_t)(n->chan_num[i] >> 8);
            buf[1] = (uint8_t)n->chan_num[i];
            buf[2] = (uint8_t)(len >> 8);
            buf[3] = (uint8_t)len;
            memcpy(buf + 4, data, len);
            turn_to_client(n, buf, len + 4);
            return;
        }
    }
    static const uint8_t txid[12] = {9};
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_DATA, CAMRTC_STUN_INDICATION), txid);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, from);
    camrtc_stun_add(&b, CAMRTC_STUN_A_DATA, data, len);
    int l = camrtc_stun_build_finish(&b);
    if (l > 0)
        turn_to_client(n, buf, (size_t)l);
}

static void io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    tpeer *p = user;
    net *n = p->net;
    if (sock != SOCK || p->gone)
        return;
    if (n->stun_server.family && camrtc_addr_equal(to, &n->stun_server)) {
        stun_server_answer(n, seen_as(p), data, len);
        return;
    }
    enqueue(n, seen_as(p), to, data, len);
}

static void io_event(void *user, const camrtc_ice_event *ev)
{
    tpeer *p = user;
    tpeer *other = &p->net->p[1 - p->idx];
    switch (ev->type) {
    case CAMRTC_ICE_EV_CANDIDATE:
        if (p->ncands < 16)
            p->cands[p->ncands++] = *ev->cand;
        CHECK(!strncmp(ev->line, "candidate:", 10));
        if (p->auto_trickle && other->a)
            camrtc_ice_add_remote_candidate(other->a, p->net->now, ev->cand);
        break;
    case CAMRTC_ICE_EV_GATHERING_DONE:
        p->gathering_done++;
        break;
    case CAMRTC_ICE_EV_STATE:
        if (p->nstates < 32) {
            p->state_at[p->nstates] = p->net->now;
            p->states[p->nstates++] = ev->state;
        }
        break;
    case CAMRTC_ICE_EV_SELECTED:
        p->selected++;
        p->sel_local = *ev->local;
        p->sel_remote = *ev->remote;
        break;
    case CAMRTC_ICE_EV_DATA:
        p->ndata++;
        p->last_len = ev->len < sizeof p->last_data ? ev->len : sizeof p->last_data;
        memcpy(p->last_data, ev->data, p->last_len);
        break;
    case CAMRTC_ICE_EV_ROLE:
        p->role_events++;
        break;
    case CAMRTC_ICE_EV_SERVER_ERROR:
        p->server_errors++;
        break;
    }
}

static void io_open_stream(void *user, int stream, const camrtc_addr *to, bool tls)
{
    tpeer *p = user;
    if (camrtc_addr_equal(to, &p->net->turn_server)) {
        p->net->turn_stream = stream;
        p->net->turn_stream_tls = tls;
    }
}

static void io_send_stream(void *user, int stream, const uint8_t *data, size_t len)
{
    tpeer *p = user;
    if (stream == p->net->turn_stream)
        enqueue(p->net, seen_as(p), &p->net->turn_server, data, len);
}

static void io_close_stream(void *user, int stream)
{
    tpeer *p = user;
    if (stream == p->net->turn_stream)
        p->net->streams_closed++;
}

static const camrtc_ice_io test_io = {.send_udp = io_send_udp, .open_stream = io_open_stream,
                                      .send_stream = io_send_stream, .close_stream = io_close_stream,
                                      .event = io_event};

static camrtc_ice_config base_cfg(bool controlling)
{
    camrtc_ice_config c;
    memset(&c, 0, sizeof c);
    c.controlling = controlling;
    c.consent_interval = CAMRTC_SEC(1);
    c.consent_disconnect = CAMRTC_SEC(3);
    c.consent_timeout = CAMRTC_SEC(8);
    return c;
}

static bool peer_init(net *n, int i, const camrtc_ice_config *cfg, const char *ip, uint16_t port)
{
    tpeer *p = &n->p[i];
    memset(p, 0, sizeof *p);
    p->net = n;
    p->idx = i;
    p->addr = mkaddr(ip, port);
    camrtc_rng_init_seed(&p->rng, 1000 + (uint64_t)i);
    p->a = camrtc_ice_new(cfg, &test_io, p, &p->rng, NULL);
    return p->a && camrtc_ice_add_host(p->a, n->now, SOCK, &p->addr) == CAMRTC_OK;
}

/* Two peers on 10.0.0.1 and 10.0.0.2, 10 ms apart, A's role given. */
static bool net_init(net *n, const camrtc_ice_config *ca, const camrtc_ice_config *cb)
{
    memset(n, 0, sizeof *n);
    n->now = CAMRTC_SEC(100);
    n->delay = CAMRTC_MS(10);
    return peer_init(n, 0, ca, "10.0.0.1", 5000) && peer_init(n, 1, cb, "10.0.0.2", 6000);
}

static void net_free(net *n)
{
    for (int i = 0; i < 2; i++) {
        camrtc_ice_free(n->p[i].a);
        camrtc_rng_free(&n->p[i].rng);
    }
}

static void give_credentials(net *n, int to)
{
    const tpeer *from = &n->p[1 - to];
    camrtc_ice_set_remote_credentials(n->p[to].a, n->now, camrtc_ice_local_ufrag(from->a),
                                      camrtc_ice_local_pwd(from->a));
}

static void give_candidates(net *n, int to)
{
    const tpeer *from = &n->p[1 - to];
    for (unsigned i = 0; i < from->ncands; i++)
        camrtc_ice_add_remote_candidate(n->p[to].a, n->now, &from->cands[i]);
}

static int peer_at(net *n, const camrtc_addr *to)
{
    for (int i = 0; i < 2; i++)
        if (camrtc_addr_equal(seen_as(&n->p[i]), to))
            return i;
    return -1;
}

static void deliver_due(net *n)
{
    for (unsigned k = 0; k < n->nq;) {
        if (n->q[k].at > n->now) {
            k++;
            continue;
        }
        pkt d = n->q[k];
        memmove(&n->q[k], &n->q[k + 1], (n->nq - k - 1) * sizeof n->q[0]); /* keep the order */
        n->nq--;
        k = 0; /* the queue changes under us: look again from the start */
        if (d.stream) {
            /* Cut in two to exercise the agent's reassembly of frames. */
            size_t half = d.len > 3 ? 3 : d.len;
            camrtc_ice_stream_input(n->p[0].a, n->now, d.stream, d.data, half);
            camrtc_ice_stream_input(n->p[0].a, n->now, d.stream, d.data + half, d.len - half);
            continue;
        }
        if (n->turn_server.family && camrtc_addr_equal(&d.to, &n->turn_server)) {
            turn_from_client(n, &d.from, d.data, d.len);
            continue;
        }
        if (n->relayed.family && camrtc_addr_equal(&d.to, &n->relayed)) {
            turn_from_peer(n, &d.from, d.data, d.len);
            continue;
        }
        int i = peer_at(n, &d.to);
        if (i >= 0 && !n->p[i].gone)
            camrtc_ice_udp_input(n->p[i].a, n->now, SOCK, &d.from, d.data, d.len);
    }
}

/* Advance the virtual clock to until, delivering datagrams and firing timers in order. */
static void run_until(net *n, camrtc_time_us until)
{
    for (int guard = 0; guard < 200000; guard++) {
        camrtc_time_us next = until;
        for (unsigned k = 0; k < n->nq; k++)
            if (n->q[k].at < next)
                next = n->q[k].at;
        for (int i = 0; i < 2; i++) {
            camrtc_time_us t = camrtc_ice_next_timeout(n->p[i].a);
            if (t < next)
                next = t;
        }
        if (next > n->now)
            n->now = next;
        deliver_due(n);
        for (int i = 0; i < 2; i++)
            if (camrtc_ice_next_timeout(n->p[i].a) <= n->now)
                camrtc_ice_handle_timeout(n->p[i].a, n->now);
        if (n->now >= until)
            return;
    }
}

static void run_for(net *n, camrtc_time_us d)
{
    run_until(n, n->now + d);
}

static bool saw_state(const tpeer *p, camrtc_ice_state s, camrtc_time_us *at)
{
    for (unsigned i = 0; i < p->nstates; i++)
        if (p->states[i] == s) {
            if (at)
                *at = p->state_at[i];
            return true;
        }
    return false;
}

/* Gather, exchange credentials and candidates both ways. */
static void start_both(net *n)
{
    camrtc_ice_gather(n->p[0].a, n->now);
    camrtc_ice_gather(n->p[1].a, n->now);
    give_credentials(n, 0);
    give_credentials(n, 1);
    give_candidates(n, 0);
    give_candidates(n, 1);
}

static bool connected(const tpeer *p)
{
    camrtc_ice_state s = camrtc_ice_get_state(p->a);
    return s == CAMRTC_ICE_CONNECTED || s == CAMRTC_ICE_COMPLETED;
}

/* ---- tests ---------------------------------------------------------------------------- */

TEST(connect_controlling_controlled)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    CHECK_EQ_INT(n.p[0].ncands, 1);
    CHECK_EQ_INT(n.p[0].cands[0].type, CAMRTC_ICE_HOST);
    CHECK_EQ_INT(n.p[0].gathering_done, 1);
    give_credentials(&n, 0);
    give_credentials(&n, 1);
    give_candidates(&n, 1);
    give_candidates(&n, 0);
    /* The first check goes out the moment the first pair forms: no clock advance. */
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_sent, 1);
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_CHECKING);
    camrtc_time_us t0 = n.now;
    run_for(&n, CAMRTC_MS(500));
    net *np = &n;
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    CHECK_EQ_INT(n.p[0].selected, 1);
    CHECK_EQ_INT(n.p[1].selected, 1);
    CHECK(camrtc_addr_equal(&n.p[0].sel_remote.addr, &n.p[1].addr));
    CHECK(camrtc_addr_equal(&n.p[1].sel_remote.addr, &n.p[0].addr));
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->nominations, 1);
    /* No artificial wait: check, answer, nomination, answer = 4 one-way trips. */
    camrtc_time_us at;
    CHECK(saw_state(&n.p[0], CAMRTC_ICE_CONNECTED, &at));
    CHECK(at - t0 <= 4 * n.delay);
    CHECK(saw_state(&n.p[1], CAMRTC_ICE_CONNECTED, &at));
    CHECK(at - t0 <= 4 * n.delay);

    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"\x17hello", 6), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ice_send(n.p[1].a, n.now, (const uint8_t *)"\x17world", 6), CAMRTC_OK);
    run_for(&n, CAMRTC_MS(50));
    CHECK_EQ_INT(n.p[1].ndata, 1);
    CHECK_EQ_MEM(n.p[1].last_data, "\x17hello", 6);
    CHECK_EQ_INT(n.p[0].ndata, 1);
    CHECK_EQ_MEM(n.p[0].last_data, "\x17world", 6);

    camrtc_ice_candidate l, r;
    CHECK_EQ_INT(camrtc_ice_get_selected(n.p[0].a, &l, &r), CAMRTC_OK);
    CHECK(camrtc_addr_equal(&l.addr, &n.p[0].addr));
    /* Consent keeps it up for a long quiet time. */
    run_for(&n, CAMRTC_SEC(20));
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    CHECK(camrtc_ice_get_stats(n.p[0].a)->consent_sent >= 15);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->consent_lost, 0);
    CHECK_EQ_INT(camrtc_ice_close(n.p[0].a, n.now), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_CLOSED);
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    net_free(&n);
}

TEST(completed_after_end_of_candidates)
{
    net n;
    camrtc_ice_config ca = base_cfg(false), cb = base_cfg(true); /* B controls this time */
    CHECK(net_init(&n, &ca, &cb));
    start_both(&n);
    run_for(&n, CAMRTC_MS(300));
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_CONNECTED);
    camrtc_ice_remote_end_of_candidates(n.p[0].a, n.now);
    camrtc_ice_remote_end_of_candidates(n.p[1].a, n.now);
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_COMPLETED);
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[1].a), CAMRTC_ICE_COMPLETED);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[1].a)->nominations, 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->nominations, 0);
    net_free(&n);
}

static void role_conflict_case(bool controlling)
{
    net n;
    camrtc_ice_config ca = base_cfg(controlling), cb = base_cfg(controlling);
    ca.tiebreaker = 5;
    cb.tiebreaker = 9;
    CHECK(net_init(&n, &ca, &cb));
    start_both(&n);
    run_for(&n, CAMRTC_MS(500));
    net *np = &n;
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    /* RFC 8445 §7.3.1.1: the larger tie-breaker controls. */
    CHECK(!camrtc_ice_is_controlling(n.p[0].a));
    CHECK(camrtc_ice_is_controlling(n.p[1].a));
    CHECK_EQ_INT(n.p[0].role_events + n.p[1].role_events, 1);
    CHECK(camrtc_ice_get_stats(n.p[0].a)->role_conflicts + camrtc_ice_get_stats(n.p[1].a)->role_conflicts >= 1);
    CHECK_EQ_INT(n.p[0].selected, 1);
    CHECK_EQ_INT(n.p[1].selected, 1);
    net_free(&n);
}

TEST(role_conflict_both_controlling)
{
    role_conflict_case(true);
}

TEST(role_conflict_both_controlled)
{
    role_conflict_case(false);
}

/* B knows nothing of A at first: A's checks reach B, which answers them (it can check the
 * integrity with its own pwd) and remembers the pair; once A's credentials arrive B's
 * triggered check goes out at once. A's candidate was never signalled: it is prflx at B. */
TEST(checks_before_remote_credentials)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    give_credentials(&n, 0);
    give_candidates(&n, 0);
    run_for(&n, CAMRTC_MS(200));
    const camrtc_ice_stats *sa = camrtc_ice_get_stats(n.p[0].a), *sb = camrtc_ice_get_stats(n.p[1].a);
    CHECK(sb->checks_received >= 1);
    CHECK_EQ_INT(sb->checks_sent, 0);
    CHECK(sa->checks_succeeded >= 1);   /* B answered */
    CHECK_EQ_INT(sb->prflx_candidates, 1);
    CHECK(!connected(&n.p[1]));
    give_credentials(&n, 1);
    CHECK_EQ_INT(sb->checks_sent, 1);  /* triggered at once */
    run_for(&n, CAMRTC_MS(300));
    net *np = &n;
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    CHECK_EQ_INT(n.p[1].sel_remote.type, CAMRTC_ICE_PRFLX);
    net_free(&n);
}

/* Trickled candidates that arrive before the credentials form pairs but wait for them. */
TEST(candidates_before_credentials)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    n.p[0].auto_trickle = n.p[1].auto_trickle = true;
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_sent, 0);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[1].a)->checks_sent, 0);
    give_credentials(&n, 0);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_sent, 1);
    run_for(&n, CAMRTC_MS(100));
    give_credentials(&n, 1);
    run_for(&n, CAMRTC_MS(300));
    net *np = &n;
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    net_free(&n);
}

/* B sits behind a NAT: its signalled host address is unreachable, its checks reveal the
 * mapped one (§7.3.1.3 at A), and A's answers show B its mapped address (§7.2.5.3.1). */
TEST(peer_reflexive_through_nat)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    n.p[1].nat = mkaddr("203.0.113.7", 40000);
    start_both(&n);
    run_for(&n, CAMRTC_SEC(1));
    net *np = &n;
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    CHECK(camrtc_addr_equal(&n.p[0].sel_remote.addr, &n.p[1].nat));
    CHECK_EQ_INT(n.p[0].sel_remote.type, CAMRTC_ICE_PRFLX);
    CHECK(camrtc_ice_get_stats(n.p[0].a)->prflx_candidates >= 1);
    CHECK(camrtc_ice_get_stats(n.p[1].a)->prflx_candidates >= 1);
    CHECK_EQ_INT(camrtc_ice_send(n.p[1].a, n.now, (const uint8_t *)"\x80x", 2), CAMRTC_OK);
    run_for(&n, CAMRTC_MS(50));
    CHECK_EQ_INT(n.p[0].ndata, 1);
    net_free(&n);
}

TEST(consent_lost_disconnected_then_failed)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    start_both(&n);
    run_for(&n, CAMRTC_SEC(2));
    CHECK(connected(&n.p[0]));
    camrtc_time_us gone_at = n.now;
    n.p[1].gone = true;
    run_for(&n, CAMRTC_SEC(15));
    camrtc_time_us disc, fail;
    CHECK(saw_state(&n.p[0], CAMRTC_ICE_DISCONNECTED, &disc));
    CHECK(saw_state(&n.p[0], CAMRTC_ICE_FAILED, &fail));
    /* DISCONNECTED: 3 s after the first request that went unanswered, sent at most one
     * consent interval (randomized up to 1.2 s) after B vanished. FAILED: 8 s after the last
     * answer, which came at most an interval and a round trip before. */
    CHECK(disc >= gone_at + CAMRTC_SEC(3) - n.delay);
    CHECK(disc <= gone_at + CAMRTC_SEC(3) + CAMRTC_MS(1200));
    CHECK(fail >= gone_at + CAMRTC_SEC(8) - CAMRTC_MS(1200) - 2 * n.delay);
    CHECK(fail <= gone_at + CAMRTC_SEC(8) + n.delay);
    CHECK(fail > disc);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->consent_lost, 1);
    /* FAILED stops the data. */
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_ice_get_selected(n.p[0].a, NULL, NULL), CAMRTC_ENOTFOUND);
    net_free(&n);
}

TEST(consent_recovers_before_timeout)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    start_both(&n);
    run_for(&n, CAMRTC_SEC(2));
    n.p[1].gone = true;
    run_for(&n, CAMRTC_SEC(4));
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_DISCONNECTED);
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"x", 1), CAMRTC_OK); /* may still send */
    n.p[1].gone = false;
    run_for(&n, CAMRTC_SEC(3));
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_CONNECTED);
    CHECK(!saw_state(&n.p[0], CAMRTC_ICE_FAILED, NULL));
    net_free(&n);
}

/* A restarts: data keeps flowing on the old pair until the new generation selects. */
TEST(restart_keeps_old_pair_then_switches)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    start_both(&n);
    run_for(&n, CAMRTC_MS(500));
    CHECK(connected(&n.p[0]));
    char old_a[64], old_b[64];
    snprintf(old_a, sizeof old_a, "%s", camrtc_ice_local_ufrag(n.p[0].a));
    snprintf(old_b, sizeof old_b, "%s", camrtc_ice_local_ufrag(n.p[1].a));

    n.p[0].ncands = n.p[1].ncands = 0;
    CHECK_EQ_INT(camrtc_ice_restart(n.p[0].a, n.now), CAMRTC_OK);
    CHECK(strcmp(old_a, camrtc_ice_local_ufrag(n.p[0].a)) != 0);
    CHECK_EQ_INT(n.p[0].ncands, 1);              /* candidates announced again */
    CHECK_EQ_INT(n.p[0].gathering_done, 2);
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"\x17old1", 5), CAMRTC_OK);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.p[1].ndata, 1);

    /* The offer reaches B: new remote credentials, so B restarts too. */
    give_credentials(&n, 1);
    CHECK(strcmp(old_b, camrtc_ice_local_ufrag(n.p[1].a)) != 0);
    give_candidates(&n, 1);
    CHECK_EQ_INT(camrtc_ice_send(n.p[1].a, n.now, (const uint8_t *)"\x17old2", 5), CAMRTC_OK);
    run_for(&n, CAMRTC_MS(1500)); /* consent on the old pair goes on with the old credentials */
    CHECK_EQ_INT(n.p[0].ndata, 1);
    CHECK_EQ_INT(n.p[0].selected, 1);
    CHECK(connected(&n.p[0]) && connected(&n.p[1]));

    /* The answer reaches A: the new generation is checked and selected. */
    give_credentials(&n, 0);
    give_candidates(&n, 0);
    run_for(&n, CAMRTC_MS(500));
    CHECK_EQ_INT(n.p[0].selected, 2);
    CHECK_EQ_INT(n.p[1].selected, 2);
    CHECK(connected(&n.p[0]) && connected(&n.p[1]));
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"\x17new", 4), CAMRTC_OK);
    run_for(&n, CAMRTC_SEC(10));
    CHECK_EQ_INT(n.p[1].ndata, 2);
    CHECK(connected(&n.p[0]) && connected(&n.p[1]));
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->consent_lost, 0);
    net_free(&n);
}

static int build_check(uint8_t *buf, size_t cap, const char *user, const char *key, bool fingerprint)
{
    static const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, cap, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), txid);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, user);
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 1234);
    camrtc_stun_add_u64(&b, CAMRTC_STUN_A_ICE_CONTROLLED, 77);
    camrtc_stun_add_integrity(&b, (const uint8_t *)key, strlen(key));
    if (fingerprint)
        camrtc_stun_add_fingerprint(&b);
    return camrtc_stun_build_finish(&b);
}

TEST(bad_stun_dropped_and_counted)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.ufrag = "aaaa";
    ca.pwd = "0123456789012345678901";
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_agent *a = n.p[0].a;
    const camrtc_ice_stats *s = camrtc_ice_get_stats(a);
    camrtc_addr from = mkaddr("10.9.9.9", 999);
    uint8_t buf[512];
    int len = build_check(buf, sizeof buf, "aaaa:bbbb", "wrong-password-wrong-pw", true);
    CHECK(len > 0);
    camrtc_ice_udp_input(a, n.now, SOCK, &from, buf, (size_t)len);
    CHECK_EQ_INT(s->bad_integrity, 1);
    len = build_check(buf, sizeof buf, "zzzz:bbbb", "0123456789012345678901", true);
    camrtc_ice_udp_input(a, n.now, SOCK, &from, buf, (size_t)len);
    CHECK_EQ_INT(s->unknown_ufrag, 1);
    len = build_check(buf, sizeof buf, "aaaa:bbbb", "0123456789012345678901", false);
    camrtc_ice_udp_input(a, n.now, SOCK, &from, buf, (size_t)len);
    CHECK_EQ_INT(s->bad_fingerprint, 1);
    len = build_check(buf, sizeof buf, "aaaa:bbbb", "0123456789012345678901", true);
    buf[len - 1] ^= 1; /* a damaged FINGERPRINT */
    camrtc_ice_udp_input(a, n.now, SOCK, &from, buf, (size_t)len);
    CHECK_EQ_INT(s->bad_fingerprint, 2);
    CHECK_EQ_INT(s->checks_received, 0);
    CHECK_EQ_INT(n.nq, 0); /* nothing was answered */
    /* The right credentials: answered, and a prflx pair is remembered. */
    len = build_check(buf, sizeof buf, "aaaa:bbbb", "0123456789012345678901", true);
    camrtc_ice_udp_input(a, n.now, SOCK, &from, buf, (size_t)len);
    CHECK_EQ_INT(s->checks_received, 1);
    CHECK_EQ_INT(n.nq, 1);
    CHECK_EQ_INT(s->prflx_candidates, 1);
    net_free(&n);
}

TEST(data_before_selection_dropped)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    static const uint8_t dtls[] = {0x16, 0xfe, 0xfd, 0, 0};
    camrtc_ice_udp_input(n.p[0].a, n.now, SOCK, &n.p[1].addr, dtls, sizeof dtls);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->dropped_unknown_source, 1);
    CHECK_EQ_INT(n.p[0].ndata, 0);
    /* After connecting, the same bytes from an unrelated address are still dropped. */
    camrtc_ice_gather(n.p[1].a, n.now);
    give_credentials(&n, 0);
    give_credentials(&n, 1);
    give_candidates(&n, 0);
    give_candidates(&n, 1);
    run_for(&n, CAMRTC_MS(300));
    CHECK(connected(&n.p[0]));
    camrtc_addr stranger = mkaddr("10.0.0.3", 6000);
    camrtc_ice_udp_input(n.p[0].a, n.now, SOCK, &stranger, dtls, sizeof dtls);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->dropped_unknown_source, 2);
    camrtc_ice_udp_input(n.p[0].a, n.now, SOCK, &n.p[1].addr, dtls, sizeof dtls);
    CHECK_EQ_INT(n.p[0].ndata, 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->data_received, 1);
    net_free(&n);
}

TEST(relay_policy_signals_no_host)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.policy = CAMRTC_ICE_POLICY_RELAY;
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    CHECK_EQ_INT(n.p[0].ncands, 0);
    CHECK_EQ_INT(n.p[0].gathering_done, 1);
    give_credentials(&n, 0);
    give_candidates(&n, 0);
    run_for(&n, CAMRTC_MS(300));
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_sent, 0); /* nothing to pair with */
    CHECK(!connected(&n.p[0]));
    net_free(&n);
}

TEST(loopback_and_interface_filter)
{
    camrtc_ice_config c;
    memset(&c, 0, sizeof c);
    camrtc_addr lo = mkaddr("127.0.0.1", 0), lo6 = mkaddr("::1", 0), ll6 = mkaddr("fe80::1", 0);
    camrtc_addr eth = mkaddr("192.168.1.5", 0);
    CHECK(!camrtc_ice_interface_allowed(&c, "lo", &lo));
    CHECK(!camrtc_ice_interface_allowed(&c, "lo", &lo6));
    CHECK(camrtc_ice_interface_allowed(&c, "eth0", &eth));
    CHECK(!camrtc_ice_interface_allowed(&c, "eth0", &ll6));
    c.include_loopback = true;
    CHECK(camrtc_ice_interface_allowed(&c, "lo", &lo));
    c.interfaces = "eth0, wlan0";
    CHECK(camrtc_ice_interface_allowed(&c, "eth0", &eth));
    CHECK(camrtc_ice_interface_allowed(&c, "wlan0", &eth));
    CHECK(!camrtc_ice_interface_allowed(&c, "eth1", &eth));
    CHECK(!camrtc_ice_interface_allowed(&c, "eth", &eth));
    CHECK(!camrtc_ice_interface_allowed(&c, "lo", &lo));

    /* The agent refuses a loopback socket unless asked to use loopback. */
    camrtc_rng rng;
    camrtc_rng_init_seed(&rng, 3);
    camrtc_ice_config cfg = base_cfg(true);
    camrtc_ice_agent *a = camrtc_ice_new(&cfg, &test_io, NULL, &rng, NULL);
    CHECK(a);
    camrtc_addr lop = mkaddr("127.0.0.1", 5000);
    int rc = camrtc_ice_add_host(a, 0, 1, &lop);
    camrtc_ice_free(a);
    cfg.include_loopback = true;
    a = camrtc_ice_new(&cfg, &test_io, NULL, &rng, NULL);
    int rc2 = a ? camrtc_ice_add_host(a, 0, 1, &lop) : -100;
    camrtc_ice_free(a);
    camrtc_rng_free(&rng);
    CHECK_EQ_INT(rc, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc2, CAMRTC_OK);
}

TEST(fails_when_all_pairs_fail_after_end_of_candidates)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    n.p[1].gone = true;
    start_both(&n);
    run_for(&n, CAMRTC_SEC(10));
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_CHECKING); /* the peer may still trickle */
    camrtc_ice_remote_end_of_candidates(n.p[0].a, n.now);
    CHECK_EQ_INT(camrtc_ice_get_state(n.p[0].a), CAMRTC_ICE_FAILED);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_failed, 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_retransmitted, 7);
    net_free(&n);
}

TEST(fails_after_bounded_time_without_end_of_candidates)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    n.p[1].gone = true;
    start_both(&n);
    run_for(&n, CAMRTC_SEC(30));
    camrtc_time_us at;
    CHECK(saw_state(&n.p[0], CAMRTC_ICE_FAILED, &at));
    CHECK(at > n.now - CAMRTC_SEC(30) + CAMRTC_SEC(8)); /* consent_timeout after the last check failed */
    net_free(&n);
}

TEST(srflx_from_stun_server_and_server_timeout)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.gather_timeout = cb.gather_timeout = CAMRTC_SEC(2);
    CHECK(net_init(&n, &ca, &cb));
    n.p[0].nat = mkaddr("198.51.100.1", 30000);
    n.stun_server = mkaddr("192.0.2.10", 3478);
    n.stun_alive = true;
    camrtc_ice_server srv = {.turn = false, .transport = CAMRTC_ICE_UDP, .addr = n.stun_server};
    CHECK_EQ_INT(camrtc_ice_add_server(n.p[0].a, n.now, &srv), CAMRTC_OK);
    camrtc_ice_gather(n.p[0].a, n.now);
    CHECK_EQ_INT(n.p[0].ncands, 1);
    CHECK_EQ_INT(n.p[0].gathering_done, 0);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.p[0].ncands, 2);
    CHECK_EQ_INT(n.p[0].cands[1].type, CAMRTC_ICE_SRFLX);
    CHECK(camrtc_addr_equal(&n.p[0].cands[1].addr, &n.p[0].nat));
    CHECK(camrtc_addr_equal(&n.p[0].cands[1].related, &n.p[0].addr));
    CHECK(n.p[0].cands[1].priority < n.p[0].cands[0].priority);
    CHECK(strcmp(n.p[0].cands[1].foundation, n.p[0].cands[0].foundation) != 0);
    CHECK_EQ_INT(n.p[0].gathering_done, 1);
    CHECK_EQ_INT(n.p[0].server_errors, 0);

    /* A server that never answers: retried, then reported, and gathering still ends. */
    n.stun_alive = false;
    n.stun_requests = 0;
    camrtc_ice_server srv2 = {.turn = false, .transport = CAMRTC_ICE_UDP, .addr = n.stun_server};
    CHECK_EQ_INT(camrtc_ice_add_server(n.p[1].a, n.now, &srv2), CAMRTC_OK);
    camrtc_ice_gather(n.p[1].a, n.now);
    CHECK_EQ_INT(n.p[1].gathering_done, 0);
    run_for(&n, CAMRTC_SEC(3));
    CHECK(n.stun_requests >= 3);
    CHECK_EQ_INT(n.p[1].server_errors, 1);
    CHECK_EQ_INT(n.p[1].gathering_done, 1);
    net_free(&n);
}

TEST(bounds_on_remote_candidates_and_pairs)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.max_remote_candidates = 4;
    ca.max_pairs = 3;
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    for (int i = 0; i < 6; i++) {
        camrtc_ice_candidate c;
        memset(&c, 0, sizeof c);
        snprintf(c.foundation, sizeof c.foundation, "%d", i);
        c.component = 1;
        c.priority = 1000u + (unsigned)i;
        c.type = CAMRTC_ICE_HOST;
        c.addr = mkaddr("10.1.1.1", (uint16_t)(7000 + i));
        camrtc_ice_add_remote_candidate(n.p[0].a, n.now, &c);
    }
    const camrtc_ice_stats *s = camrtc_ice_get_stats(n.p[0].a);
    CHECK_EQ_INT(s->dropped_remote_candidates, 2);
    CHECK_EQ_INT(s->dropped_pairs, 1);
    net_free(&n);
}


/* A gathers under relay policy through a UDP TURN server (401 challenge, then allocation),
 * signals only its relay candidate, and connects to B through it: permission and channel
 * before the first check, checks and data through the relay, deallocation on close. */
TEST(relay_only_through_turn)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.policy = CAMRTC_ICE_POLICY_RELAY;
    CHECK(net_init(&n, &ca, &cb));
    n.turn_server = mkaddr("192.0.2.50", 3478);
    n.relayed = mkaddr("192.0.2.50", 50000);
    camrtc_ice_server srv = {.turn = true, .transport = CAMRTC_ICE_UDP, .addr = n.turn_server,
                             .username = "u", .password = "p"};
    CHECK_EQ_INT(camrtc_ice_add_server(n.p[0].a, n.now, &srv), CAMRTC_OK);
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    CHECK_EQ_INT(n.p[0].gathering_done, 0);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.p[0].gathering_done, 1);
    CHECK_EQ_INT(n.p[0].ncands, 1);
    CHECK_EQ_INT(n.p[0].cands[0].type, CAMRTC_ICE_RELAY);
    CHECK(camrtc_addr_equal(&n.p[0].cands[0].addr, &n.relayed));
    CHECK(camrtc_addr_equal(&n.p[0].cands[0].related, &n.p[0].addr));
    start_both(&n);
    run_for(&n, CAMRTC_MS(1000));
    net *np = &n;
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    CHECK_EQ_INT(n.p[0].sel_local.type, CAMRTC_ICE_RELAY);
    CHECK(camrtc_addr_equal(&n.p[1].sel_remote.addr, &n.relayed));
    CHECK_EQ_INT(n.nchan, 1);
    CHECK(n.turn_relayed_to >= 2 && n.turn_relayed_from >= 2);
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"\x17ping", 5), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ice_send(n.p[1].a, n.now, (const uint8_t *)"\x17pong", 5), CAMRTC_OK);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.p[1].ndata, 1);
    CHECK_EQ_MEM(n.p[1].last_data, "\x17ping", 5);
    CHECK_EQ_INT(n.p[0].ndata, 1);
    CHECK_EQ_MEM(n.p[0].last_data, "\x17pong", 5);
    /* Data from B reaches A only through the relay: straight to A's socket it is dropped. */
    camrtc_ice_udp_input(n.p[0].a, n.now, SOCK, &n.p[1].addr, (const uint8_t *)"\x17x", 2);
    CHECK_EQ_INT(n.p[0].ndata, 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->dropped_unknown_source, 1);
    run_for(&n, CAMRTC_SEC(10)); /* consent through the relay */
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    camrtc_ice_close(n.p[0].a, n.now);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.deallocations, 1);
    net_free(&n);
}

TEST(turn_server_silent_reports_error_and_ends_gathering)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.gather_timeout = CAMRTC_SEC(2);
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_server srv = {.turn = true, .transport = CAMRTC_ICE_UDP, .addr = mkaddr("192.0.2.99", 3478),
                             .username = "u", .password = "p"};
    CHECK_EQ_INT(camrtc_ice_add_server(n.p[0].a, n.now, &srv), CAMRTC_OK);
    camrtc_ice_gather(n.p[0].a, n.now);
    CHECK_EQ_INT(n.p[0].ncands, 1); /* the host candidate at once */
    run_for(&n, CAMRTC_SEC(3));
    CHECK_EQ_INT(n.p[0].server_errors, 1);
    CHECK_EQ_INT(n.p[0].gathering_done, 1);
    CHECK_EQ_INT(n.p[0].ncands, 1);
    net_free(&n);
}

static camrtc_ice_candidate host_cand(const char *ip, uint16_t port, uint32_t prio, const char *foundation)
{
    camrtc_ice_candidate c;
    memset(&c, 0, sizeof c);
    snprintf(c.foundation, sizeof c.foundation, "%s", foundation);
    c.component = 1;
    c.priority = prio;
    c.type = CAMRTC_ICE_HOST;
    c.addr = mkaddr(ip, port);
    return c;
}

/* B paces its ordinary checks 10 s apart and spends the first one on a dead address; A's
 * check on the live pair triggers B's own check at once (§7.3.1.4), so both connect in a few
 * round trips instead of after B's next ordinary check. */
TEST(triggered_check_does_not_wait_for_pacing)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    cb.ta = CAMRTC_SEC(10);
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    give_credentials(&n, 1);
    camrtc_ice_candidate dead = host_cand("10.0.0.1", 5999, 2147483647u, "9");
    camrtc_ice_add_remote_candidate(n.p[1].a, n.now, &dead);
    give_candidates(&n, 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[1].a)->checks_sent, 1); /* to the dead one */
    camrtc_time_us t0 = n.now;
    give_credentials(&n, 0);
    give_candidates(&n, 0);
    run_for(&n, CAMRTC_MS(200));
    camrtc_time_us at;
    CHECK(saw_state(&n.p[1], CAMRTC_ICE_CONNECTED, &at));
    CHECK(at - t0 <= 4 * n.delay);
    CHECK(camrtc_ice_get_stats(n.p[1].a)->triggered_checks >= 1);
    CHECK(camrtc_addr_equal(&n.p[1].sel_remote.addr, &n.p[0].addr));
    net_free(&n);
}

/* A better pair that never answers delays nomination by at most 2 RTT of the valid pair
 * (capped 100 ms), not until that pair times out. */
TEST(nominates_without_waiting_for_a_dead_better_pair)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    give_credentials(&n, 0);
    give_credentials(&n, 1);
    camrtc_ice_candidate dead = host_cand("10.0.0.2", 6999, 2147483647u, "9"); /* above any real host */
    camrtc_time_us t0 = n.now;
    camrtc_ice_add_remote_candidate(n.p[0].a, n.now, &dead);
    give_candidates(&n, 0);
    give_candidates(&n, 1);
    run_for(&n, CAMRTC_MS(300));
    camrtc_time_us at;
    CHECK(saw_state(&n.p[0], CAMRTC_ICE_CONNECTED, &at));
    CHECK(at - t0 <= CAMRTC_MS(50) + 2 * n.delay + CAMRTC_MS(40) + 2 * n.delay);
    /* It did give the better pair its grace of 2 RTT (40 ms): B's check reaches A at 10 ms,
     * A's triggered check is answered at 30 ms, the nomination goes at 70 and is answered at 90. */
    CHECK_EQ_INT(at - t0, CAMRTC_MS(90));
    CHECK(camrtc_addr_equal(&n.p[0].sel_remote.addr, &n.p[1].addr));
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_failed, 0); /* the dead one is still trying */
    net_free(&n);
}

/* The same through TURN over TCP: the agent asks for a stream, starts the allocation once
 * it is connected, cuts the server's bytes into frames, and closes the stream at the end. */
TEST(relay_over_tcp_stream)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.policy = CAMRTC_ICE_POLICY_RELAY;
    CHECK(net_init(&n, &ca, &cb));
    n.turn_server = mkaddr("192.0.2.50", 443);
    n.relayed = mkaddr("192.0.2.50", 50000);
    camrtc_ice_server srv = {.turn = true, .transport = CAMRTC_ICE_TCP, .addr = n.turn_server,
                             .username = "u", .password = "p"};
    CHECK_EQ_INT(camrtc_ice_add_server(n.p[0].a, n.now, &srv), CAMRTC_OK);
    camrtc_ice_gather(n.p[0].a, n.now);
    camrtc_ice_gather(n.p[1].a, n.now);
    CHECK(n.turn_stream > 0);
    CHECK(!n.turn_stream_tls);
    CHECK_EQ_INT(n.nq, 0); /* nothing before the stream is up */
    run_for(&n, CAMRTC_MS(30));
    CHECK_EQ_INT(camrtc_ice_stream_connected(n.p[0].a, n.now, n.turn_stream), CAMRTC_OK);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.p[0].ncands, 1);
    CHECK_EQ_INT(n.p[0].cands[0].type, CAMRTC_ICE_RELAY);
    CHECK_EQ_INT(n.p[0].gathering_done, 1);
    start_both(&n);
    run_for(&n, CAMRTC_MS(1000));
    net *np = &n;
    CHECK(connected(&np->p[0]) && connected(&np->p[1]));
    CHECK_EQ_INT(camrtc_ice_send(n.p[0].a, n.now, (const uint8_t *)"\x17ping", 5), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_ice_send(n.p[1].a, n.now, (const uint8_t *)"\x17pong", 5), CAMRTC_OK);
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.p[1].ndata, 1);
    CHECK_EQ_INT(n.p[0].ndata, 1);
    CHECK_EQ_MEM(n.p[0].last_data, "\x17pong", 5);
    camrtc_ice_close(n.p[0].a, n.now);
    CHECK_EQ_INT(n.streams_closed, 0); /* kept open for the deallocation's answer */
    run_for(&n, CAMRTC_MS(100));
    CHECK_EQ_INT(n.streams_closed, 1);
    /* Garbage on a stream that is not a TURN stream is refused. */
    CHECK(camrtc_ice_stream_input(n.p[0].a, n.now, 12345, (const uint8_t *)"x", 1) < 0);
    net_free(&n);
}

/* Default consent timing (requests every 4-6 s, DISCONNECTED after 5 s unanswered): a
 * healthy path must never look disconnected between two requests. */
TEST(healthy_path_with_default_consent_stays_connected)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    ca.consent_interval = ca.consent_disconnect = ca.consent_timeout = 0;
    cb.consent_interval = cb.consent_disconnect = cb.consent_timeout = 0;
    CHECK(net_init(&n, &ca, &cb));
    start_both(&n);
    run_for(&n, CAMRTC_SEC(120));
    CHECK(connected(&n.p[0]) && connected(&n.p[1]));
    CHECK(!saw_state(&n.p[0], CAMRTC_ICE_DISCONNECTED, NULL));
    CHECK(!saw_state(&n.p[1], CAMRTC_ICE_DISCONNECTED, NULL));
    CHECK(camrtc_ice_get_stats(n.p[0].a)->consent_sent >= 120 / 6);
    net_free(&n);
}

/* RTT 300 ms, RTO 100 ms: checks are retransmitted and replaced by triggered ones while
 * their answers are on the way; those answers still count, so both sides connect in
 * four one-way trips. */
TEST(long_rtt_counts_answers_to_cancelled_checks)
{
    net n;
    camrtc_ice_config ca = base_cfg(true), cb = base_cfg(false);
    CHECK(net_init(&n, &ca, &cb));
    n.delay = CAMRTC_MS(150);
    camrtc_time_us t0 = n.now;
    start_both(&n);
    run_for(&n, CAMRTC_SEC(2));
    camrtc_time_us at;
    CHECK(saw_state(&n.p[0], CAMRTC_ICE_CONNECTED, &at));
    CHECK(at - t0 <= 4 * n.delay);
    CHECK(saw_state(&n.p[1], CAMRTC_ICE_CONNECTED, &at));
    CHECK(at - t0 <= 4 * n.delay);
    CHECK(camrtc_ice_get_stats(n.p[0].a)->checks_retransmitted >= 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(n.p[0].a)->checks_failed, 0);
    net_free(&n);
}

/* ---- a UDP TURN allocation moving off a taken 5-tuple (RFC 8656 §7.4) ---- */

/* One agent, relay only, and a TURN server that refuses every Allocate and Refresh with 437
 * (its 5-tuples all stay taken). The agent moves to a fresh socket (io.open_udp) at most
 * CAMRTC_ICE_TURN_MOVES times, then reports the server once and ends gathering. */
typedef struct mv {
    camrtc_addr server, host;
    int socks_opened, open_fails_from;  /* open_udp fails once socks_opened reaches this */
    int last_sock;                      /* socket of the last request */
    uint8_t req[1500];
    size_t req_len;
    int requests, errors, last_code, gathering_done;
} mv;

static void mv_send(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    mv *m = user;
    if (!camrtc_addr_equal(to, &m->server) || len > sizeof m->req)
        return;
    m->last_sock = sock;
    memcpy(m->req, data, len);
    m->req_len = len;
    m->requests++;
}

static int mv_open_udp(void *user, const camrtc_addr *local)
{
    mv *m = user;
    if (!camrtc_addr_ip_equal(local, &m->host) || m->socks_opened >= m->open_fails_from)
        return CAMRTC_EIO;
    return SOCK + 1 + m->socks_opened++;
}

static void mv_event(void *user, const camrtc_ice_event *ev)
{
    mv *m = user;
    if (ev->type == CAMRTC_ICE_EV_SERVER_ERROR) {
        m->errors++;
        m->last_code = ev->code;
    } else if (ev->type == CAMRTC_ICE_EV_GATHERING_DONE) {
        m->gathering_done++;
    }
}

/* Answer each request with 437 on the socket it came from, until nothing more is asked. */
static void mv_run(camrtc_ice_agent *a, mv *m, camrtc_time_us now)
{
    for (int i = 0; i < 50 && m->req_len; i++) {
        camrtc_stun_msg req;
        size_t len = m->req_len;
        m->req_len = 0;
        if (camrtc_stun_parse(&req, m->req, len) != 0)
            continue;
        uint8_t buf[128];
        camrtc_stun_builder b;
        camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(camrtc_stun_method(req.type), CAMRTC_STUN_ERROR),
                               req.txid);
        camrtc_stun_add_error(&b, 437, "Allocation Mismatch");
        camrtc_stun_add_fingerprint(&b);
        int n = camrtc_stun_build_finish(&b);
        if (n > 0)
            camrtc_ice_udp_input(a, now, m->last_sock, &m->server, buf, (size_t)n);
    }
}

TEST(turn_moves_to_a_fresh_socket_a_bounded_number_of_times)
{
    for (int fails_from = CAMRTC_ICE_TURN_MOVES; fails_from >= 0; fails_from -= CAMRTC_ICE_TURN_MOVES) {
        mv m = {.open_fails_from = fails_from};
        m.server = mkaddr("192.0.2.1", 3478);
        m.host = mkaddr("10.0.0.1", 5000);
        camrtc_ice_config c = base_cfg(true);
        c.policy = CAMRTC_ICE_POLICY_RELAY;
        const camrtc_ice_io io = {.send_udp = mv_send, .event = mv_event, .open_udp = mv_open_udp};
        camrtc_rng rng;
        camrtc_rng_init_seed(&rng, 7);
        camrtc_ice_agent *a = camrtc_ice_new(&c, &io, &m, &rng, NULL);
        CHECK(a);
        camrtc_time_us now = CAMRTC_SEC(100);
        CHECK_EQ_INT(camrtc_ice_add_host(a, now, SOCK, &m.host), CAMRTC_OK);
        camrtc_ice_server srv = {.turn = true, .addr = m.server, .username = "u", .password = "p"};
        CHECK_EQ_INT(camrtc_ice_add_server(a, now, &srv), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_ice_gather(a, now), CAMRTC_OK);
        mv_run(a, &m, now);
        /* Per 5-tuple: Allocate, clearing Refresh, Allocate again; then a move, or the end. */
        CHECK_EQ_INT(m.socks_opened, fails_from);
        CHECK_EQ_INT((int)camrtc_ice_get_stats(a)->turn_moves, fails_from);
        CHECK_EQ_INT(m.requests, 3 * (fails_from + 1));
        CHECK_EQ_INT(m.errors, 1);
        CHECK_EQ_INT(m.last_code, 437);
        CHECK_EQ_INT(m.gathering_done, 1);
        /* Datagrams on a socket nobody opened are not the agent's. */
        CHECK_EQ_INT(camrtc_ice_udp_input(a, now, SOCK + 40, &m.server, m.req, 20), CAMRTC_ENOTFOUND);
        camrtc_ice_free(a);
        camrtc_rng_free(&rng);
    }
}

int main(void)
{
    return RUN_TESTS(connect_controlling_controlled, completed_after_end_of_candidates, role_conflict_both_controlling,
                     role_conflict_both_controlled, checks_before_remote_credentials, candidates_before_credentials,
                     peer_reflexive_through_nat, consent_lost_disconnected_then_failed, consent_recovers_before_timeout,
                     restart_keeps_old_pair_then_switches, bad_stun_dropped_and_counted, data_before_selection_dropped,
                     relay_policy_signals_no_host, loopback_and_interface_filter,
                     fails_when_all_pairs_fail_after_end_of_candidates,
                     fails_after_bounded_time_without_end_of_candidates, srflx_from_stun_server_and_server_timeout,
                     bounds_on_remote_candidates_and_pairs, relay_only_through_turn,
                     turn_server_silent_reports_error_and_ends_gathering, triggered_check_does_not_wait_for_pacing,
                     nominates_without_waiting_for_a_dead_better_pair, relay_over_tcp_stream,
                     healthy_path_with_default_consent_stays_connected, long_rtt_counts_answers_to_cancelled_checks,
                     turn_moves_to_a_fresh_socket_a_bounded_number_of_times);
}
