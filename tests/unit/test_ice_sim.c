/* ICE scenarios on the simulated network: two camrtc ICE agents (A controlling, B
 * controlled unless said otherwise) on hosts that are public or behind NATs of each
 * RFC 4787 kind, with a STUN/TURN server on the internet, lossy and slow links, trickle
 * orders, role conflict, consent loss, ICE restart, relay-only policy and determinism.
 *
 * Every scenario checks the state reached, the selected pair's candidate types, data in
 * both directions after connecting, and a bound on the virtual time to connect (printed).
 * Virtual time is deterministic, so such bounds are exact properties of the code, not of
 * the machine. CAMRTC_LOG=debug prints each state change with its virtual time;
 * SIM_TRACE=1 prints every datagram delivered or dropped. */
#include "check.h"
#include "sim_ice.h"

#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "turn_server.h"

#define PUBLIC (-1)   /* a host on the internet, no NAT */
#define TURN_USER "sim-user"
#define TURN_PASS "sim-pass"

typedef struct scen {
    uint64_t seed;
    int nat_a, nat_b;              /* PUBLIC or a sim_nat_type */
    bool turn_a, turn_b;           /* give the TURN server (everyone gets the STUN server) */
    sim_link_config link_a, link_b;/* each host's uplink, both directions */
    camrtc_time_us nat_timeout;    /* 0 = the NATs' default (120 s) */
    bool same_lan;                 /* B sits in A's LAN (nat_b ignored) */
    bool dual_stack;               /* public hosts also get an IPv6 address */
    bool stun_on_turn;             /* the TURN server is the STUN server too (else a separate one) */
    camrtc_time_us turn_linger;    /* the TURN server keeps deallocated 5-tuples this long (coturn) */
    bool earlier_run_a;            /* an agent on A's host and port allocated and deallocated first */
    sim_ice_opts oa, ob;
} scen;

typedef struct world {
    sim *s;
    sim_nat *na, *nb;
    sim_host *ha, *hb, *srv, *stun_host;
    sim_turn *turn;
    camrtc_addr stun;              /* the STUN server given to both */
    sim_ice_peer *p[2];            /* A, B */
} world;

static scen scen_default(int nat_a, int nat_b)
{
    scen sc = {.seed = 1, .nat_a = nat_a, .nat_b = nat_b};
    sc.oa.ice.controlling = true;
    sc.oa.signal_delay = sc.ob.signal_delay = CAMRTC_MS(20);
    sc.oa.description_delay = sc.ob.description_delay = CAMRTC_MS(20);
    return sc;
}

static sim_host *side(world *w, const scen *sc, int nat, const char *name, const char *nat_ip,
                      const char *lan_ip, const char *public_ip, const char *ip6, sim_nat **n)
{
    if (nat != PUBLIC && !*n) {
        sim_nat_config cfg = sim_nat_preset((sim_nat_type)nat);
        cfg.timeout = sc->nat_timeout;
        *n = sim_nat_new(w->s, name, nat_ip, &cfg);
    }
    sim_host *h = sim_host_new(w->s, name, nat != PUBLIC ? *n : NULL);
    sim_host_add_addr(h, nat != PUBLIC ? lan_ip : public_ip);
    if (sc->dual_stack && nat == PUBLIC)
        sim_host_add_addr(h, ip6);
    return h;
}

static void add_servers(world *w, sim_ice_peer *p, bool turn)
{
    camrtc_ice_server stun = {.turn = false, .transport = CAMRTC_ICE_UDP, .addr = w->stun};
    sim_ice_add_server(p, &stun);
    if (turn) {
        camrtc_ice_server t = {.turn = true, .transport = CAMRTC_ICE_UDP, .addr = *sim_turn_addr(w->turn),
                               .username = TURN_USER, .password = TURN_PASS};
        sim_ice_add_server(p, &t);
    }
}

/* SIM_TRACE=1 prints every packet delivery and drop. */
static void print_trace(void *user, camrtc_time_us now, const char *what, const camrtc_addr *from,
                        const camrtc_addr *to, const uint8_t *data, size_t len)
{
    char f[CAMRTC_ADDR_STRLEN], t[CAMRTC_ADDR_STRLEN], kind[64] = "";
    camrtc_stun_msg m;
    if (camrtc_stun_is_message(data, len) && camrtc_stun_parse(&m, data, len) == CAMRTC_OK)
        snprintf(kind, sizeof kind, "stun method %03x class %03x tx %02x%02x%s", camrtc_stun_method(m.type),
                 camrtc_stun_class(m.type), m.txid[0], m.txid[1],
                 camrtc_stun_find(&m, CAMRTC_STUN_A_USE_CANDIDATE) ? " USE-CANDIDATE" : "");
    else if (len >= 4 && data[0] >= 0x40 && data[0] <= 0x4f)   /* RFC 8656 §12.4 */
        snprintf(kind, sizeof kind, "channel %02x%02x", data[0], data[1]);
    else if (len)
        snprintf(kind, sizeof kind, "first byte %u", data[0]);
    printf("    %9.3f ms %-9s %s -> %s (%zu) %s\n", (double)(now - SIM_T0) / 1000.0, what,
           camrtc_addr_format(from, f, sizeof f), camrtc_addr_format(to, t, sizeof t), len, kind);
}

static bool no_relay_yet(void *user)
{
    return ((sim_ice_peer *)user)->cands_signalled[CAMRTC_ICE_RELAY] == 0;
}

/* An earlier run of A's program, on A's host and (fixed) port: it allocates on the TURN
 * server, deallocates on close and is gone; the server may still hold that 5-tuple. */
static bool earlier_run(world *w, const scen *sc)
{
    sim_ice_peer *p = sim_ice_new(w->s, w->ha, "A0", &sc->oa);
    if (!p)
        return false;
    add_servers(w, p, true);
    bool ok = sim_ice_start(p) >= 0 && sim_run_while(w->s, no_relay_yet, p, sim_now(w->s) + CAMRTC_SEC(2));
    ok = ok && sim_ice_close(p) >= 0;
    sim_run_for(w->s, CAMRTC_MS(100));   /* the deallocation and its answer */
    sim_ice_free(p);
    return ok;
}

/* Build the network and the two agents, and start both. False on a setup failure. */
static bool world_start(world *w, const scen *sc)
{
    memset(w, 0, sizeof *w);
    w->s = sim_new(sc->seed);
    if (getenv("SIM_TRACE"))
        sim_set_trace(w->s, print_trace, NULL);
    w->srv = sim_host_new(w->s, "srv", NULL);
    sim_host_add_addr(w->srv, "203.0.113.10");
    w->turn = sim_turn_new(w->s, w->srv, 3478, TURN_USER, TURN_PASS);
    w->stun_host = sim_host_new(w->s, "stun", NULL);
    sim_host_add_addr(w->stun_host, "203.0.113.20");
    sim_sock *stun = sim_stun_new(w->s, w->stun_host, 3478);
    if (!w->turn || !stun)
        return false;
    w->stun = sc->stun_on_turn ? *sim_turn_addr(w->turn) : *sim_sock_addr(stun);
    w->ha = side(w, sc, sc->nat_a, "a", "198.51.100.1", "10.0.1.10", "198.51.100.11", "2001:db8::11", &w->na);
    if (sc->same_lan)
        w->hb = side(w, sc, sc->nat_a, "b", NULL, "10.0.1.11", NULL, NULL, &w->na);
    else
        w->hb = side(w, sc, sc->nat_b, "b", "198.51.100.2", "10.0.2.10", "198.51.100.12", "2001:db8::12", &w->nb);
    sim_host_set_link(w->ha, SIM_BOTH, &sc->link_a);
    sim_host_set_link(w->hb, SIM_BOTH, &sc->link_b);
    turn_server_set_linger(sim_turn_server(w->turn), sc->turn_linger);
    if (sc->earlier_run_a && !earlier_run(w, sc))
        return false;
    w->p[0] = sim_ice_new(w->s, w->ha, "A", &sc->oa);
    w->p[1] = sim_ice_new(w->s, w->hb, "B", &sc->ob);
    if (!w->p[0] || !w->p[1])
        return false;
    add_servers(w, w->p[0], sc->turn_a);
    add_servers(w, w->p[1], sc->turn_b);
    sim_ice_link(w->p[0], w->p[1]);
    return sim_ice_start(w->p[0]) >= 0 && sim_ice_start(w->p[1]) >= 0;
}

static void world_free(world *w)
{
    /* Every candidate line one agent wrote, the other could parse. */
    if (w->p[0] && w->p[1] && (w->p[0]->bad_candidates || w->p[1]->bad_candidates)) {
        fprintf(stderr, "  unparsable candidate lines: A %llu, B %llu\n",
                (unsigned long long)w->p[0]->bad_candidates, (unsigned long long)w->p[1]->bad_candidates);
        check_failed_ = 1;
    }
    sim_ice_free(w->p[0]);
    sim_ice_free(w->p[1]);
    sim_turn_free(w->turn);
    sim_free(w->s);
    memset(w, 0, sizeof *w);
}

/* A config whose DISCONNECTED needs several lost consent rounds: for tests about
 * something else than consent timing. */
static void patient_consent(scen *sc)
{
    sc->oa.ice.consent_disconnect = sc->ob.ice.consent_disconnect = CAMRTC_SEC(15);
}

/* A test on one world that is freed however the test ends (a failed CHECK returns early). */
#define SCENARIO(name) \
    static void name##_run(world *w); \
    TEST(name) { world w_ = {0}; name##_run(&w_); world_free(&w_); } \
    static void name##_run(world *w)

/* Run until both are connected (true) or max_time of virtual time has passed. */
static bool world_connect(world *w, camrtc_time_us max_time)
{
    return sim_run_while(w->s, sim_ice_connecting, w->p, sim_now(w->s) + max_time);
}

/* When p first reached CONNECTED (or COMPLETED, if it went there directly); 0 if never. */
static camrtc_time_us connected_at(const sim_ice_peer *p)
{
    camrtc_time_us c = p->state_first[CAMRTC_ICE_CONNECTED], d = p->state_first[CAMRTC_ICE_COMPLETED];
    return c && (!d || c < d) ? c : d;
}

/* Virtual time from the start to the later of the two sides connecting. */
static camrtc_time_us connect_time(const world *w)
{
    camrtc_time_us a = connected_at(w->p[0]), b = connected_at(w->p[1]);
    return (a > b ? a : b) - w->p[0]->started_at;
}

static const char *ctype(camrtc_ice_cand_type t)
{
    static const char *const names[] = {"host", "srflx", "prflx", "relay"};
    return (unsigned)t <= CAMRTC_ICE_RELAY ? names[t] : "?";
}

static void print_connect(const char *what, const world *w)
{
    printf("  %-34s connected after %7.1f ms: A %s-%s, B %s-%s\n", what,
           (double)connect_time(w) / 1000.0,
           ctype(w->p[0]->sel_local.type),
           ctype(w->p[0]->sel_remote.type),
           ctype(w->p[1]->sel_local.type),
           ctype(w->p[1]->sel_remote.type));
}

/* Send n datagrams each way 10 ms apart (first byte 23: a DTLS record, RFC 7983), then
 * let them arrive. Returns how many each side received (in rx[0] for A, rx[1] for B). */
static void exchange(world *w, int n, uint64_t rx[2])
{
    uint64_t before[2] = {w->p[0]->data_rx, w->p[1]->data_rx};
    for (int i = 0; i < n; i++) {
        uint8_t msg[40] = {23, 'A', (uint8_t)i};
        sim_ice_send(w->p[0], msg, sizeof msg);
        msg[1] = 'B';
        sim_ice_send(w->p[1], msg, sizeof msg);
        sim_run_for(w->s, CAMRTC_MS(10));
    }
    sim_run_for(w->s, CAMRTC_SEC(1));
    rx[0] = w->p[0]->data_rx - before[0];
    rx[1] = w->p[1]->data_rx - before[1];
}

static bool is_relay_pair(const sim_ice_peer *p)
{
    return p->sel_local.type == CAMRTC_ICE_RELAY || p->sel_remote.type == CAMRTC_ICE_RELAY;
}

/* ---- direct ---- */

SCENARIO(direct_host_to_host)
{
    scen sc = scen_default(PUBLIC, PUBLIC);
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    print_connect("direct", w);
    CHECK(connect_time(w) < CAMRTC_MS(200));
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(w->p[i]->sel_local.type, CAMRTC_ICE_HOST);
        CHECK_EQ_INT(w->p[i]->sel_remote.type, CAMRTC_ICE_HOST);
        CHECK_EQ_INT(w->p[i]->cands_signalled[CAMRTC_ICE_HOST], 1);
    }
    CHECK(camrtc_addr_ip_equal(&w->p[0]->sel_remote.addr, sim_host_addr(w->hb, 0)));
    CHECK(camrtc_addr_ip_equal(&w->p[1]->sel_remote.addr, sim_host_addr(w->ha, 0)));
    uint64_t rx[2];
    exchange(w, 20, rx);
    CHECK_EQ_INT(rx[0], 20);
    CHECK_EQ_INT(rx[1], 20);
    CHECK_EQ_INT(w->p[1]->last_data[1], 'A');
    CHECK_EQ_INT(w->p[0]->last_data[1], 'B');
    /* Checks finished and both sides sent end-of-candidates: COMPLETED. */
    sim_run_for(w->s, CAMRTC_SEC(2));
    CHECK(sim_ice_reached(w->p[0], CAMRTC_ICE_COMPLETED) || sim_ice_reached(w->p[1], CAMRTC_ICE_COMPLETED));
    CHECK(!sim_ice_reached(w->p[0], CAMRTC_ICE_FAILED));
    CHECK(!sim_ice_reached(w->p[1], CAMRTC_ICE_FAILED));
}

/* ---- every NAT combination ---- */

/* Combinations hole punching cannot open (RFC 5128 §3.3/§4.1): a symmetric NAT against a
 * port-restricted or symmetric one. */
static bool needs_relay(int a, int b)
{
    bool sym_a = a == SIM_NAT_SYMMETRIC, sym_b = b == SIM_NAT_SYMMETRIC;
    return (sym_a && (b == SIM_NAT_PORT_RESTRICTED || sym_b)) || (sym_b && a == SIM_NAT_PORT_RESTRICTED);
}

SCENARIO(every_nat_combination)
{
    for (int a = SIM_NAT_FULL_CONE; a <= SIM_NAT_SYMMETRIC; a++) {
        for (int b = SIM_NAT_FULL_CONE; b <= SIM_NAT_SYMMETRIC; b++) {
            bool relay = needs_relay(a, b);
            scen sc = scen_default(a, b);
            sc.turn_a = sc.turn_b = relay;
            CHECK(world_start(w, &sc));
            char what[64];
            snprintf(what, sizeof what, "%s / %s%s", sim_nat_type_name((sim_nat_type)a),
                     sim_nat_type_name((sim_nat_type)b), relay ? " (TURN)" : "");
            if (!world_connect(w, CAMRTC_SEC(10))) {
                fprintf(stderr, "  %s: not connected (A %s, B %s)\n", what,
                        camrtc_ice_state_name(w->p[0]->state), camrtc_ice_state_name(w->p[1]->state));
                CHECK(false);
            }
            print_connect(what, w);
            CHECK(connect_time(w) < (relay ? CAMRTC_SEC(3) : CAMRTC_SEC(2)));
            for (int i = 0; i < 2; i++) {
                CHECK_EQ_INT(is_relay_pair(w->p[i]), relay);
                CHECK(w->p[i]->sel_remote.type != CAMRTC_ICE_HOST);  /* the other is behind a NAT */
                CHECK(w->p[i]->cands_signalled[CAMRTC_ICE_SRFLX] >= 1);
            }
            uint64_t rx[2];
            exchange(w, 20, rx);
            CHECK_EQ_INT(rx[0], 20);
            CHECK_EQ_INT(rx[1], 20);
            world_free(w);
        }
    }
}

SCENARIO(symmetric_both_sides_without_turn_fails)
{
    scen sc = scen_default(SIM_NAT_SYMMETRIC, SIM_NAT_SYMMETRIC);
    CHECK(world_start(w, &sc));
    CHECK(!world_connect(w, CAMRTC_SEC(60)));
    printf("  symmetric / symmetric, no TURN: A %s at %.1f s, B %s\n", camrtc_ice_state_name(w->p[0]->state),
           (double)(w->p[0]->state_first[CAMRTC_ICE_FAILED] - w->p[0]->started_at) / 1e6,
           camrtc_ice_state_name(w->p[1]->state));
    CHECK(sim_ice_reached(w->p[0], CAMRTC_ICE_FAILED));
    CHECK(sim_ice_reached(w->p[1], CAMRTC_ICE_FAILED));
    CHECK(!sim_ice_reached(w->p[0], CAMRTC_ICE_CONNECTED));
}

/* ---- impaired paths ---- */

SCENARIO(twenty_percent_loss)
{
    scen sc = scen_default(SIM_NAT_PORT_RESTRICTED, SIM_NAT_RESTRICTED);
    sc.seed = 20;
    sc.link_a = sc.link_b = (sim_link_config){.delay = CAMRTC_MS(10), .jitter = CAMRTC_MS(5), .loss = 0.2};
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(20)));
    print_connect("20 % loss each way on both uplinks", w);
    CHECK(connect_time(w) < CAMRTC_SEC(10));
    CHECK(!is_relay_pair(w->p[0]));
    CHECK(camrtc_ice_get_stats(w->p[0]->agent)->checks_retransmitted +
          camrtc_ice_get_stats(w->p[1]->agent)->checks_retransmitted > 0);
    uint64_t rx[2];
    exchange(w, 100, rx);
    /* Each datagram crosses two lossy links: 0.8 * 0.8 = 64 % arrive on average. */
    printf("  data under loss: A got %llu/100, B got %llu/100\n", (unsigned long long)rx[0],
           (unsigned long long)rx[1]);
    CHECK(rx[0] > 45 && rx[0] < 85);
    CHECK(rx[1] > 45 && rx[1] < 85);
}

SCENARIO(rtt_300_ms)
{
    scen sc = scen_default(SIM_NAT_FULL_CONE, PUBLIC);
    sc.link_a = sc.link_b = (sim_link_config){.delay = CAMRTC_MS(75)};  /* 4 x 75 ms per round trip */
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(20)));
    print_connect("300 ms RTT", w);
    /* Candidates cross at 20 ms; A's check reaches B at 170 ms (B's triggered check goes
     * back), A's pair is valid at 320 ms and nothing beats host-host, so A nominates at
     * once: B gets USE-CANDIDATE at 470 ms, together with the answer to its own triggered
     * check, and selects; A selects on the answer at 620 ms. RTO (100 ms) < RTT here, so
     * checks are retransmitted while their answers are on the way: answers to earlier
     * transmissions must still count (RFC 8445 §7.3.1.4: a cancelled transaction's answers
     * are still awaited for an RTO). */
    CHECK(connect_time(w) >= CAMRTC_MS(300));
    CHECK(connected_at(w->p[1]) - w->p[1]->started_at < CAMRTC_MS(550));
    CHECK(connect_time(w) < CAMRTC_MS(700));
    uint64_t rx[2];
    exchange(w, 20, rx);
    CHECK_EQ_INT(rx[0], 20);
    CHECK_EQ_INT(rx[1], 20);
    sim_run_for(w->s, CAMRTC_SEC(12));     /* consent measured the RTT */
    camrtc_time_us rtt = camrtc_ice_get_stats(w->p[0]->agent)->selected_rtt;
    printf("  measured RTT %.1f ms\n", (double)rtt / 1000.0);
    CHECK(rtt >= CAMRTC_MS(300) && rtt < CAMRTC_MS(310));
}

/* ---- roles ---- */

SCENARIO(role_conflict_both_controlling)
{
    scen sc = scen_default(PUBLIC, SIM_NAT_FULL_CONE);
    sc.ob.ice.controlling = true;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("both controlling", w);
    CHECK(connect_time(w) < CAMRTC_SEC(1));
    bool ca = camrtc_ice_is_controlling(w->p[0]->agent), cb = camrtc_ice_is_controlling(w->p[1]->agent);
    CHECK(ca != cb);                                  /* exactly one stays controlling */
    CHECK_EQ_INT(w->p[0]->role_changes + w->p[1]->role_changes, 1);
    CHECK(camrtc_ice_get_stats(w->p[0]->agent)->role_conflicts +
          camrtc_ice_get_stats(w->p[1]->agent)->role_conflicts >= 1);
    /* Both agree on the pair. */
    CHECK(camrtc_addr_equal(&w->p[0]->sel_local.addr, &w->p[1]->sel_remote.addr) ||
          w->p[1]->sel_remote.type == CAMRTC_ICE_PRFLX);
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
}

SCENARIO(role_conflict_both_controlled)
{
    scen sc = scen_default(SIM_NAT_RESTRICTED, PUBLIC);
    sc.oa.ice.controlling = false;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("both controlled", w);
    CHECK(connect_time(w) < CAMRTC_SEC(1));
    CHECK(camrtc_ice_is_controlling(w->p[0]->agent) != camrtc_ice_is_controlling(w->p[1]->agent));
    CHECK_EQ_INT(w->p[0]->role_changes + w->p[1]->role_changes, 1);
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
}

/* ---- trickle orders ---- */

SCENARIO(trickle_candidates_before_credentials)
{
    scen sc = scen_default(PUBLIC, SIM_NAT_FULL_CONE);
    /* Candidates cross in 10 ms, the credentials ("the SDP") only after 400 ms. */
    sc.oa.signal_delay = sc.ob.signal_delay = CAMRTC_MS(10);
    sc.oa.description_delay = sc.ob.description_delay = CAMRTC_MS(400);
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("candidates before credentials", w);
    /* No one can authenticate a check before the credentials are known. */
    CHECK(connect_time(w) >= CAMRTC_MS(400));
    CHECK(connect_time(w) < CAMRTC_MS(800));
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
}

SCENARIO(trickle_late_candidates_one_side)
{
    /* B (public) holds its candidates for 3 s: A has nothing to check, but B's checks
     * reach A, which learns B as peer-reflexive and answers with triggered checks. */
    scen sc = scen_default(PUBLIC, PUBLIC);
    sc.ob.hold_candidates = true;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(3)));
    print_connect("B's candidates held 3 s", w);
    CHECK(connect_time(w) < CAMRTC_MS(500));
    CHECK_EQ_INT(w->p[0]->sel_remote.type, CAMRTC_ICE_PRFLX);
    CHECK(camrtc_ice_get_stats(w->p[0]->agent)->prflx_candidates >= 1);
    sim_run_until(w->s, w->p[0]->started_at + CAMRTC_SEC(3));
    sim_ice_release_candidates(w->p[1]);
    sim_run_for(w->s, CAMRTC_SEC(1));
    CHECK(!sim_ice_reached(w->p[0], CAMRTC_ICE_DISCONNECTED));
    CHECK(!sim_ice_reached(w->p[0], CAMRTC_ICE_FAILED));
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
}

SCENARIO(trickle_late_candidates_both_sides)
{
    /* Both behind NATs hold their candidates for 2 s: nothing can start before. */
    scen sc = scen_default(SIM_NAT_RESTRICTED, SIM_NAT_PORT_RESTRICTED);
    sc.oa.hold_candidates = sc.ob.hold_candidates = true;
    CHECK(world_start(w, &sc));
    CHECK(!world_connect(w, CAMRTC_SEC(2)));
    CHECK_EQ_INT(w->p[0]->state_first[CAMRTC_ICE_FAILED], 0);
    sim_ice_release_candidates(w->p[0]);
    sim_ice_release_candidates(w->p[1]);
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    print_connect("both sides' candidates held 2 s", w);
    CHECK(connect_time(w) >= CAMRTC_SEC(2));
    CHECK(connect_time(w) < CAMRTC_MS(2600));
    CHECK(!is_relay_pair(w->p[0]));
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
}

/* ---- consent freshness ---- */

SCENARIO(consent_loss_disconnects_then_fails)
{
    scen sc = scen_default(PUBLIC, SIM_NAT_PORT_RESTRICTED);
    camrtc_time_us interval = CAMRTC_SEC(1), disc = CAMRTC_SEC(4), fail = CAMRTC_SEC(12);
    for (int i = 0; i < 2; i++) {
        camrtc_ice_config *c = i ? &sc.ob.ice : &sc.oa.ice;
        c->consent_interval = interval;
        c->consent_disconnect = disc;
        c->consent_timeout = fail;
    }
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    print_connect("consent (then the path is cut)", w);
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
    sim_run_for(w->s, CAMRTC_SEC(3));     /* some consent rounds succeed */
    CHECK(camrtc_ice_get_stats(w->p[0]->agent)->consent_sent > 0);
    CHECK(!sim_ice_reached(w->p[0], CAMRTC_ICE_DISCONNECTED));
    /* Cut B's uplink in both directions. */
    camrtc_time_us cut = sim_now(w->s);
    sim_host_set_link(w->hb, SIM_BOTH, &(sim_link_config){.loss = 1.0});
    sim_run_for(w->s, fail + 3 * interval);
    for (int i = 0; i < 2; i++) {
        const sim_ice_peer *p = w->p[i];
        camrtc_time_us d = p->state_first[CAMRTC_ICE_DISCONNECTED], f = p->state_first[CAMRTC_ICE_FAILED];
        printf("  %s: DISCONNECTED %.2f s, FAILED %.2f s after the cut (config %.0f / %.0f s, interval %.0f s)\n",
               p->name, d ? (double)(d - cut) / 1e6 : -1.0, f ? (double)(f - cut) / 1e6 : -1.0,
               (double)disc / 1e6, (double)fail / 1e6, (double)interval / 1e6);
        CHECK(d && f && f > d);
        /* The last answer came at most one (randomized, x1.2) interval before the cut. */
        CHECK(d - cut + interval * 6 / 5 >= disc && d - cut <= disc + interval);
        CHECK(f - cut + interval * 6 / 5 >= fail && f - cut <= fail + interval);
        CHECK_EQ_INT(p->state, CAMRTC_ICE_FAILED);
    }
    /* Sending stops on FAILED. */
    uint8_t msg[8] = {23};
    uint64_t sent = camrtc_ice_get_stats(w->p[0]->agent)->data_sent;
    sim_ice_send(w->p[0], msg, sizeof msg);
    CHECK_EQ_INT(camrtc_ice_get_stats(w->p[0]->agent)->data_sent, sent);
}

SCENARIO(consent_comes_back_after_a_short_cut)
{
    scen sc = scen_default(PUBLIC, PUBLIC);
    for (int i = 0; i < 2; i++) {
        camrtc_ice_config *c = i ? &sc.ob.ice : &sc.oa.ice;
        c->consent_interval = CAMRTC_SEC(1);
        c->consent_disconnect = CAMRTC_SEC(3);
        c->consent_timeout = CAMRTC_SEC(20);
    }
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    sim_run_for(w->s, CAMRTC_SEC(2));
    sim_host_set_link(w->hb, SIM_BOTH, &(sim_link_config){.loss = 1.0});
    sim_run_for(w->s, CAMRTC_SEC(6));
    CHECK(sim_ice_reached(w->p[0], CAMRTC_ICE_DISCONNECTED));
    sim_host_set_link(w->hb, SIM_BOTH, &(sim_link_config){0});
    sim_run_for(w->s, CAMRTC_SEC(3));
    CHECK(w->p[0]->state == CAMRTC_ICE_CONNECTED || w->p[0]->state == CAMRTC_ICE_COMPLETED);
    CHECK(!sim_ice_reached(w->p[0], CAMRTC_ICE_FAILED));
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
}

/* ---- ICE restart ---- */

typedef struct pump {
    world *w;
    bool on;
    uint64_t sent;
} pump;

/* Both sides send a datagram every 20 ms while on. */
static void pump_tick(sim *s, void *user)
{
    pump *pm = user;
    if (!pm->on)
        return;
    uint8_t msg[20] = {23, 'p'};
    sim_ice_send(pm->w->p[0], msg, sizeof msg);
    sim_ice_send(pm->w->p[1], msg, sizeof msg);
    pm->sent++;
    sim_timer_set(s, sim_now(s) + CAMRTC_MS(20), pump_tick, pm);
}

static bool restart_pending(void *user)
{
    world *w = user;
    return w->p[0]->selected_changes < 2 || w->p[1]->selected_changes < 2;
}

SCENARIO(ice_restart_keeps_data_flowing)
{
    scen sc = scen_default(SIM_NAT_FULL_CONE, SIM_NAT_RESTRICTED);
    sc.link_a = sc.link_b = (sim_link_config){.delay = CAMRTC_MS(25)};
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    print_connect("before restart", w);
    CHECK_EQ_INT(w->p[0]->selected_changes, 1);
    pump pm = {w, true, 0};
    sim_timer_set(w->s, sim_now(w->s), pump_tick, &pm);
    sim_run_for(w->s, CAMRTC_SEC(1));
    char old_ufrag[257];
    snprintf(old_ufrag, sizeof old_ufrag, "%s", camrtc_ice_local_ufrag(w->p[0]->agent));
    uint64_t rx_before[2] = {w->p[0]->data_rx, w->p[1]->data_rx};
    camrtc_time_us t_restart = sim_now(w->s);
    CHECK_EQ_INT(sim_ice_restart(w->p[0]), 0);
    CHECK(strcmp(old_ufrag, camrtc_ice_local_ufrag(w->p[0]->agent)) != 0);
    bool reselected = sim_run_while(w->s, restart_pending, w, t_restart + CAMRTC_SEC(5));
    camrtc_time_us t_new = sim_now(w->s);
    uint64_t rx_during[2] = {w->p[0]->data_rx - rx_before[0], w->p[1]->data_rx - rx_before[1]};
    printf("  restart: new pair after %.1f ms; during it A got %llu, B got %llu datagrams\n",
           (double)(t_new - t_restart) / 1000.0, (unsigned long long)rx_during[0],
           (unsigned long long)rx_during[1]);
    CHECK(reselected);
    CHECK(t_new - t_restart < CAMRTC_SEC(1));
    /* Data kept flowing: every 20 ms tick of the restart's duration arrived (one may be in flight). */
    uint64_t ticks = (t_new - t_restart) / CAMRTC_MS(20);
    CHECK(rx_during[0] + 2 >= ticks && rx_during[1] + 2 >= ticks);
    /* B restarted too (new credentials) and both stayed up. */
    for (int i = 0; i < 2; i++) {
        CHECK(!sim_ice_reached(w->p[i], CAMRTC_ICE_DISCONNECTED));
        CHECK(!sim_ice_reached(w->p[i], CAMRTC_ICE_FAILED));
    }
    sim_run_for(w->s, CAMRTC_SEC(1));
    pm.on = false;
    sim_run_for(w->s, CAMRTC_SEC(1));
    printf("  pumped %llu each way; A got %llu, B got %llu\n", (unsigned long long)pm.sent,
           (unsigned long long)w->p[0]->data_rx, (unsigned long long)w->p[1]->data_rx);
    CHECK(w->p[0]->data_rx + 1 >= pm.sent && w->p[1]->data_rx + 1 >= pm.sent);
}

/* ---- relay-only policy ---- */

SCENARIO(relay_only_one_side)
{
    scen sc = scen_default(SIM_NAT_FULL_CONE, PUBLIC);
    sc.turn_a = true;
    sc.oa.ice.policy = CAMRTC_ICE_POLICY_RELAY;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("relay policy on A", w);
    CHECK(connect_time(w) < CAMRTC_SEC(2));
    CHECK_EQ_INT(w->p[0]->cands_signalled[CAMRTC_ICE_HOST], 0);
    CHECK_EQ_INT(w->p[0]->cands_signalled[CAMRTC_ICE_SRFLX], 0);
    CHECK(w->p[0]->cands_signalled[CAMRTC_ICE_RELAY] >= 1);
    CHECK_EQ_INT(w->p[0]->sel_local.type, CAMRTC_ICE_RELAY);
    CHECK_EQ_INT(w->p[1]->sel_remote.type, CAMRTC_ICE_RELAY);
    CHECK(camrtc_addr_ip_equal(&w->p[1]->sel_remote.addr, sim_turn_addr(w->turn)));
    uint64_t rx[2];
    exchange(w, 20, rx);
    CHECK_EQ_INT(rx[0], 20);
    CHECK_EQ_INT(rx[1], 20);
}

SCENARIO(relay_only_both_sides)
{
    scen sc = scen_default(SIM_NAT_PORT_RESTRICTED, SIM_NAT_FULL_CONE);
    sc.turn_a = sc.turn_b = true;
    sc.oa.ice.policy = sc.ob.ice.policy = CAMRTC_ICE_POLICY_RELAY;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("relay policy on both", w);
    CHECK(connect_time(w) < CAMRTC_SEC(2));
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(w->p[i]->cands_signalled[CAMRTC_ICE_HOST], 0);
        CHECK_EQ_INT(w->p[i]->cands_signalled[CAMRTC_ICE_SRFLX], 0);
        CHECK_EQ_INT(w->p[i]->sel_local.type, CAMRTC_ICE_RELAY);
        CHECK_EQ_INT(w->p[i]->sel_remote.type, CAMRTC_ICE_RELAY);
    }
    uint64_t rx[2];
    exchange(w, 20, rx);
    CHECK_EQ_INT(rx[0], 20);
    CHECK_EQ_INT(rx[1], 20);
}

/* The rare relay-only failure of bench/ice_bench.py, made deterministic. coturn keeps a
 * deallocated allocation's 5-tuple for about a second (its timers tick once a second) and
 * refuses an Allocate from it with 437 before any credential check; a new process that gets
 * the port of a recent one (here: a fixed port, behind a NAT that keeps its mapping) is
 * refused, and clearing (Refresh LIFETIME 0) does not free the 5-tuple either. */
static scen lingering_allocation_scen(bool open_udp)
{
    scen sc = scen_default(SIM_NAT_FULL_CONE, PUBLIC);
    sc.turn_a = sc.turn_b = true;
    sc.oa.ice.policy = sc.ob.ice.policy = CAMRTC_ICE_POLICY_RELAY;
    sc.turn_linger = CAMRTC_SEC(1);
    sc.earlier_run_a = true;
    sc.oa.port = 40000;
    sc.oa.no_open_udp = !open_udp;
    return sc;
}

/* RFC 8656 §7.4: A allocates again from a fresh socket (another 5-tuple) and connects. */
SCENARIO(relay_moves_off_a_port_the_server_still_holds)
{
    scen sc = lingering_allocation_scen(true);
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("relay after a 437 on A's port", w);
    CHECK(connect_time(w) < CAMRTC_SEC(2));
    /* Refused before and after clearing, then allocated from the fresh socket. */
    CHECK_EQ_INT(turn_server_get_stats(sim_turn_server(w->turn))->mismatches, 2);
    CHECK_EQ_INT(w->p[0]->turn_socks, 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(w->p[0]->agent)->turn_moves, 1);
    CHECK_EQ_INT(w->p[0]->server_errors, 0);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(w->p[i]->sel_local.type, CAMRTC_ICE_RELAY);
        CHECK_EQ_INT(w->p[i]->sel_remote.type, CAMRTC_ICE_RELAY);
    }
    uint64_t rx[2];
    exchange(w, 20, rx);
    CHECK_EQ_INT(rx[0], 20);
    CHECK_EQ_INT(rx[1], 20);
    /* Closing deallocates from the socket the allocation lives on. */
    uint64_t before = turn_server_get_stats(sim_turn_server(w->turn))->deallocations;
    CHECK(sim_ice_close(w->p[0]) >= 0);
    sim_run_for(w->s, CAMRTC_MS(100));
    CHECK_EQ_INT(turn_server_get_stats(sim_turn_server(w->turn))->deallocations, before + 1);
}

/* The failure as it was: without a fresh socket A's allocation fails with 437 and A, relay
 * only, has no candidate at all. */
SCENARIO(relay_without_a_fresh_socket_fails_on_a_held_port)
{
    scen sc = lingering_allocation_scen(false);
    CHECK(world_start(w, &sc));
    CHECK(!world_connect(w, CAMRTC_SEC(10)));
    CHECK_EQ_INT(w->p[0]->server_errors, 1);
    bool saw_437 = false;
    for (size_t i = 0; i < w->p[0]->n_records; i++)
        saw_437 |= w->p[0]->records[i].type == CAMRTC_ICE_EV_SERVER_ERROR && w->p[0]->records[i].value == 437;
    CHECK(saw_437);
    CHECK_EQ_INT(w->p[0]->cands_signalled[CAMRTC_ICE_RELAY], 0);
    CHECK_EQ_INT(w->p[0]->gathering_done, 1);
    CHECK_EQ_INT(camrtc_ice_get_stats(w->p[0]->agent)->turn_moves, 0);
}

/* ---- long sessions, LANs, IPv6, messy paths ---- */

/* Stay up for t of virtual time, with a data exchange every minute; false on any drop. */
static bool stays_up(world *w, camrtc_time_us t)
{
    camrtc_time_us start = sim_now(w->s);
    for (camrtc_time_us done = 0; done < t; done += CAMRTC_SEC(60)) {
        uint64_t rx[2];
        exchange(w, 3, rx);
        if (rx[0] != 3 || rx[1] != 3) {
            fprintf(stderr, "  data lost after %llu s: A got %llu/3, B got %llu/3\n",
                    (unsigned long long)(done / 1000000u), (unsigned long long)rx[0], (unsigned long long)rx[1]);
            return false;
        }
        sim_run_for(w->s, CAMRTC_SEC(60) - CAMRTC_MS(1030));
    }
    for (int i = 0; i < 2; i++) {
        camrtc_time_us d = w->p[i]->state_first[CAMRTC_ICE_DISCONNECTED];
        if (d) {
            fprintf(stderr, "  %s DISCONNECTED %.3f s into a healthy session (consent interval %.1f s, "
                    "disconnect after %.1f s)\n", w->p[i]->name, (double)(d - start) / 1e6,
                    (double)(w->p[i]->o.ice.consent_interval ? w->p[i]->o.ice.consent_interval : CAMRTC_SEC(5)) / 1e6,
                    (double)(w->p[i]->o.ice.consent_disconnect ? w->p[i]->o.ice.consent_disconnect : CAMRTC_SEC(5)) / 1e6);
            return false;
        }
    }
    return true;
}

SCENARIO(healthy_path_never_disconnects)
{
    /* Default consent settings, a perfect path, two minutes: consent must never lapse. */
    scen sc = scen_default(PUBLIC, PUBLIC);
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    print_connect("healthy path, default consent", w);
    CHECK(stays_up(w, CAMRTC_SEC(120)));
}

SCENARIO(stun_and_turn_on_one_server)
{
    /* One address serves Binding (STUN) and TURN, as coturn does: Binding answers must
     * reach srflx gathering, not the TURN client. */
    scen sc = scen_default(SIM_NAT_PORT_RESTRICTED, SIM_NAT_FULL_CONE);
    sc.turn_a = sc.turn_b = true;
    sc.stun_on_turn = true;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    sim_run_for(w->s, CAMRTC_SEC(6));
    print_connect("STUN and TURN on one address", w);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(w->p[i]->server_errors, 0);
        CHECK(w->p[i]->cands_signalled[CAMRTC_ICE_SRFLX] >= 1);
        CHECK(w->p[i]->cands_signalled[CAMRTC_ICE_RELAY] >= 1);
        CHECK(w->p[i]->gathering_done >= 1);
    }
    /* Gathering ended with the answers, not with the 5 s gather timeout. */
    CHECK(sim_ice_reached(w->p[0], CAMRTC_ICE_COMPLETED));
    CHECK(w->p[0]->state_first[CAMRTC_ICE_COMPLETED] - w->p[0]->started_at < CAMRTC_SEC(1));
}

SCENARIO(consent_keeps_nat_bindings_alive)
{
    /* NAT mappings live 30 s; consent (every ~5 s) must keep them open for 5 minutes. */
    scen sc = scen_default(SIM_NAT_PORT_RESTRICTED, SIM_NAT_SYMMETRIC);
    sc.nat_timeout = CAMRTC_SEC(30);
    sc.turn_a = sc.turn_b = true;    /* PR / symmetric needs the relay */
    patient_consent(&sc);
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("NAT timeout 30 s, 5 min session", w);
    CHECK(stays_up(w, CAMRTC_SEC(300)));
    CHECK(sim_nat_get_stats(w->na)->mappings_expired == 0 || sim_nat_mappings(w->na) >= 1);
    CHECK_EQ_INT(w->p[0]->selected_changes, 1);
}

SCENARIO(relay_survives_allocation_and_permission_refreshes)
{
    /* 25 virtual minutes through TURN: the allocation (600 s), permissions (300 s) and
     * channels (600 s) must all be refreshed in time. */
    scen sc = scen_default(SIM_NAT_SYMMETRIC, SIM_NAT_SYMMETRIC);
    sc.turn_a = sc.turn_b = true;
    patient_consent(&sc);
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("TURN session of 25 min", w);
    CHECK(stays_up(w, CAMRTC_SEC(25 * 60)));
    const turn_server_stats *ts = turn_server_get_stats(sim_turn_server(w->turn));
    printf("  TURN server: %llu allocations, %llu refreshes, %llu permissions, %llu channel binds, "
           "expired %llu/%llu/%llu, dropped without permission %llu\n",
           (unsigned long long)ts->allocations, (unsigned long long)ts->refreshes,
           (unsigned long long)ts->permissions, (unsigned long long)ts->channel_binds,
           (unsigned long long)ts->expired_allocations, (unsigned long long)ts->expired_permissions,
           (unsigned long long)ts->expired_channels, (unsigned long long)ts->dropped_no_permission);
    /* The allocation the selected pair runs through was refreshed all along. (The other
     * side's own allocation is unused: its symmetric NAT forgets the mapping to the server
     * after 120 s idle, long before the next refresh, so the server may expire it; that
     * does not touch the session.) */
    CHECK(ts->refreshes >= 2);
    CHECK(ts->channel_binds >= 2 * 2);
    CHECK(turn_server_allocation_count(sim_turn_server(w->turn)) >= 1);
    CHECK(is_relay_pair(w->p[0]) && is_relay_pair(w->p[1]));
    CHECK_EQ_INT(w->p[0]->selected_changes, 1);
}

SCENARIO(same_lan_uses_host_candidates)
{
    scen sc = scen_default(SIM_NAT_PORT_RESTRICTED, PUBLIC);
    sc.same_lan = true;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    print_connect("both in one LAN", w);
    CHECK(connect_time(w) < CAMRTC_MS(200));
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(w->p[i]->sel_local.type, CAMRTC_ICE_HOST);
        CHECK_EQ_INT(w->p[i]->sel_remote.type, CAMRTC_ICE_HOST);
    }
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
    CHECK_EQ_INT(sim_nat_get_stats(w->na)->hairpin_refused, 0);
}

SCENARIO(dual_stack_pairs_within_a_family)
{
    scen sc = scen_default(PUBLIC, PUBLIC);
    sc.dual_stack = true;
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(5)));
    print_connect("dual stack", w);
    CHECK(connect_time(w) < CAMRTC_MS(200));
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(w->p[i]->cands_signalled[CAMRTC_ICE_HOST], 2);
        CHECK_EQ_INT(w->p[i]->sel_local.addr.family, w->p[i]->sel_remote.addr.family);
        CHECK_EQ_INT(w->p[i]->sel_local.type, CAMRTC_ICE_HOST);
    }
    /* No check ever crossed families: the sim has no route for that, and counts it. */
    CHECK_EQ_INT(sim_get_stats(w->s)->no_route, 0);
    uint64_t rx[2];
    exchange(w, 10, rx);
    CHECK_EQ_INT(rx[0], 10);
    CHECK_EQ_INT(rx[1], 10);
}

SCENARIO(duplicated_reordered_rate_limited_path)
{
    scen sc = scen_default(SIM_NAT_RESTRICTED, SIM_NAT_FULL_CONE);
    sc.seed = 9;
    sc.link_a = (sim_link_config){.delay = CAMRTC_MS(20), .dup = 0.2, .reorder = 0.2,
                                  .reorder_delay = CAMRTC_MS(40)};
    sc.link_b = (sim_link_config){.delay = CAMRTC_MS(5), .rate = 20000, .queue_bytes = 3000};
    CHECK(world_start(w, &sc));
    CHECK(world_connect(w, CAMRTC_SEC(10)));
    print_connect("dup + reorder / 20 kB/s", w);
    CHECK(connect_time(w) < CAMRTC_SEC(2));
    CHECK(!is_relay_pair(w->p[0]));
    uint64_t rx[2];
    exchange(w, 20, rx);
    /* Duplicates reach the application too (ICE does not dedupe; SRTP/DTLS do). */
    CHECK(rx[0] >= 20 && rx[1] >= 20);
    CHECK(sim_host_link_stats(w->ha, SIM_UP)->duplicated > 0);
}

/* ---- determinism ---- */

typedef struct trace_result {
    uint64_t hash;
    size_t n[2];
    sim_ice_record rec[2][64];
    camrtc_time_us connected;
} trace_result;

static void traced_run(uint64_t seed, trace_result *r)
{
    memset(r, 0, sizeof *r);
    scen sc = scen_default(SIM_NAT_PORT_RESTRICTED, SIM_NAT_FULL_CONE);
    sc.seed = seed;
    sc.link_a = sc.link_b = (sim_link_config){.delay = CAMRTC_MS(15), .jitter = CAMRTC_MS(10), .loss = 0.1,
                                              .reorder = 0.05, .reorder_delay = CAMRTC_MS(5)};
    world wo, *w = &wo;
    if (world_start(w, &sc) && world_connect(w, CAMRTC_SEC(10)))
        r->connected = connect_time(w);
    uint64_t rx[2];
    if (w->p[0] && w->p[1])
        exchange(w, 20, rx);
    r->hash = sim_trace_hash(w->s);
    for (int i = 0; i < 2 && w->p[i]; i++) {
        r->n[i] = w->p[i]->n_records < 64 ? w->p[i]->n_records : 64;
        memcpy(r->rec[i], w->p[i]->records, r->n[i] * sizeof(sim_ice_record));
    }
    world_free(w);
}

TEST(same_seed_same_event_trace)
{
    static trace_result r1, r2, r3;
    traced_run(77, &r1);
    traced_run(77, &r2);
    traced_run(78, &r3);
    CHECK(r1.connected > 0);
    printf("  seed 77: connected after %.1f ms twice; seed 78: %.1f ms\n", (double)r1.connected / 1000.0,
           (double)r3.connected / 1000.0);
    CHECK(r1.hash == r2.hash);
    CHECK_EQ_INT(r1.connected, r2.connected);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ_INT(r1.n[i], r2.n[i]);
        CHECK(r1.n[i] > 3);
        CHECK_EQ_MEM(r1.rec[i], r2.rec[i], r1.n[i] * sizeof(sim_ice_record));
    }
    CHECK(r1.hash != r3.hash);
}

int main(void)
{
    return RUN_TESTS(direct_host_to_host, every_nat_combination, symmetric_both_sides_without_turn_fails,
                     twenty_percent_loss, rtt_300_ms, role_conflict_both_controlling, role_conflict_both_controlled,
                     trickle_candidates_before_credentials, trickle_late_candidates_one_side,
                     trickle_late_candidates_both_sides, consent_loss_disconnects_then_fails,
                     consent_comes_back_after_a_short_cut, ice_restart_keeps_data_flowing,
                     relay_only_one_side, relay_only_both_sides, relay_moves_off_a_port_the_server_still_holds,
                     relay_without_a_fresh_socket_fails_on_a_held_port, healthy_path_never_disconnects,
                     stun_and_turn_on_one_server, consent_keeps_nat_bindings_alive,
                     relay_survives_allocation_and_permission_refreshes, same_lan_uses_host_candidates,
                     dual_stack_pairs_within_a_family, duplicated_reordered_rate_limited_path,
                     same_seed_same_event_trace);
}
