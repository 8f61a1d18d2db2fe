/* The simulated network itself: link impairments (delay and jitter bounds, loss rate,
 * reordering, duplication, rate limit), the NAT behaviours of RFC 4787, timers, running,
 * and determinism of the trace for a seed. */
#include "check.h"
#include "sim.h"

#include "camrtc/error.h"

#define MAXRX 20000

/* A socket that records what it receives: the sequence number in the first 4 bytes,
 * the send time in the next 8, the arrival time and the source. */
typedef struct rx {
    size_t n;
    uint32_t seq[MAXRX];
    camrtc_time_us sent[MAXRX], at[MAXRX];
    camrtc_addr from[MAXRX];
} rx;

static void rx_cb(void *user, sim_sock *sock, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    rx *r = user;
    if (r->n >= MAXRX || len < 12)
        return;
    memcpy(&r->seq[r->n], data, 4);
    memcpy(&r->sent[r->n], data + 4, 8);
    r->at[r->n] = sim_now(sim_sock_sim(sock));
    r->from[r->n] = *from;
    r->n++;
}

static void send_seq(sim_sock *k, const camrtc_addr *to, uint32_t seq, size_t len)
{
    uint8_t buf[1500] = {0};
    camrtc_time_us now = sim_now(sim_sock_sim(k));
    memcpy(buf, &seq, 4);
    memcpy(buf + 4, &now, 8);
    sim_udp_send(k, to, buf, len < 12 ? 12 : len);
}

static camrtc_addr mk(const char *ip, uint16_t port)
{
    camrtc_addr a;
    camrtc_addr_parse(&a, ip, port);
    return a;
}

/* Two public hosts a (10.0.0.1... no: 198.51.100.1) and b (203.0.113.1), a socket each. */
typedef struct duo {
    sim *s;
    sim_host *a, *b;
    sim_sock *ka, *kb;
    rx *ra, *rb;
} duo;

static void duo_init(duo *d, uint64_t seed)
{
    d->s = sim_new(seed);
    d->a = sim_host_new(d->s, "a", NULL);
    d->b = sim_host_new(d->s, "b", NULL);
    sim_host_add_addr(d->a, "198.51.100.1");
    sim_host_add_addr(d->b, "203.0.113.1");
    d->ra = calloc(1, sizeof *d->ra);
    d->rb = calloc(1, sizeof *d->rb);
    camrtc_addr la = mk("198.51.100.1", 1000), lb = mk("203.0.113.1", 2000);
    d->ka = sim_udp_bind(d->a, &la, rx_cb, d->ra);
    d->kb = sim_udp_bind(d->b, &lb, rx_cb, d->rb);
}

static void duo_free(duo *d)
{
    sim_free(d->s);
    free(d->ra);
    free(d->rb);
}

TEST(delay_and_jitter_within_bounds)
{
    duo d;
    duo_init(&d, 1);
    sim_host_set_link(d.a, SIM_UP, &(sim_link_config){.delay = CAMRTC_MS(10), .jitter = CAMRTC_MS(5)});
    sim_host_set_link(d.b, SIM_DOWN, &(sim_link_config){.delay = CAMRTC_MS(5)});
    for (uint32_t i = 0; i < 2000; i++) {
        send_seq(d.ka, sim_sock_addr(d.kb), i, 100);
        sim_run_for(d.s, CAMRTC_MS(1));
    }
    sim_run_for(d.s, CAMRTC_SEC(1));
    CHECK_EQ_INT(d.rb->n, 2000);
    camrtc_time_us lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < d.rb->n; i++) {
        camrtc_time_us owd = d.rb->at[i] - d.rb->sent[i];
        lo = owd < lo ? owd : lo;
        hi = owd > hi ? owd : hi;
    }
    CHECK(lo >= CAMRTC_MS(15));
    CHECK(hi <= CAMRTC_MS(20));
    CHECK(hi - lo > CAMRTC_MS(4));   /* the jitter is really applied */
    CHECK(camrtc_addr_equal(&d.rb->from[0], sim_sock_addr(d.ka)));
    duo_free(&d);
}

TEST(loss_rate_close_to_configured)
{
    duo d;
    duo_init(&d, 7);
    sim_host_set_link(d.a, SIM_UP, &(sim_link_config){.delay = CAMRTC_MS(1), .loss = 0.2});
    for (uint32_t i = 0; i < 10000; i++)
        send_seq(d.ka, sim_sock_addr(d.kb), i, 50);
    sim_run_for(d.s, CAMRTC_SEC(1));
    const sim_link_stats *ls = sim_host_link_stats(d.a, SIM_UP);
    printf("  loss 0.2 over 10000: %zu received, %llu lost\n", d.rb->n, (unsigned long long)ls->lost);
    CHECK_EQ_INT(ls->packets, 10000);
    CHECK_EQ_INT(ls->lost + d.rb->n, 10000);
    CHECK(d.rb->n > 7800 && d.rb->n < 8200);
    /* A cut link loses everything. */
    sim_host_set_link(d.a, SIM_UP, &(sim_link_config){.loss = 1.0});
    for (uint32_t i = 0; i < 100; i++)
        send_seq(d.ka, sim_sock_addr(d.kb), i, 50);
    size_t before = d.rb->n;
    sim_run_for(d.s, CAMRTC_SEC(1));
    CHECK_EQ_INT(d.rb->n, before);
    duo_free(&d);
}

TEST(reorder_and_duplicate)
{
    duo d;
    duo_init(&d, 3);
    sim_host_set_link(d.a, SIM_UP, &(sim_link_config){.delay = CAMRTC_MS(10), .reorder = 0.1,
                                                      .reorder_delay = CAMRTC_MS(5), .dup = 0.05});
    for (uint32_t i = 0; i < 2000; i++) {
        send_seq(d.ka, sim_sock_addr(d.kb), i, 50);
        sim_run_for(d.s, CAMRTC_MS(1));
    }
    sim_run_for(d.s, CAMRTC_SEC(1));
    const sim_link_stats *ls = sim_host_link_stats(d.a, SIM_UP);
    size_t late = 0;
    for (size_t i = 1; i < d.rb->n; i++)
        late += d.rb->seq[i] < d.rb->seq[i - 1];
    printf("  reordered %llu, duplicated %llu, out-of-order arrivals %zu\n",
           (unsigned long long)ls->reordered, (unsigned long long)ls->duplicated, late);
    CHECK(ls->reordered > 150 && ls->reordered < 250);
    CHECK(late > 100);
    CHECK(ls->duplicated > 60 && ls->duplicated < 140);
    CHECK_EQ_INT(d.rb->n, 2000 + ls->duplicated);
    /* Held-back packets arrive exactly reorder_delay later. */
    for (size_t i = 0; i < d.rb->n; i++) {
        camrtc_time_us owd = d.rb->at[i] - d.rb->sent[i];
        CHECK(owd == CAMRTC_MS(10) || owd == CAMRTC_MS(15));
    }
    duo_free(&d);
}

TEST(rate_limit_queues_then_drops)
{
    duo d;
    duo_init(&d, 1);
    /* 100 kB/s, a 10 kB queue: ten 1000-byte packets fit, then drops. */
    sim_host_set_link(d.a, SIM_UP, &(sim_link_config){.rate = 100000, .queue_bytes = 10000});
    for (uint32_t i = 0; i < 50; i++)
        send_seq(d.ka, sim_sock_addr(d.kb), i, 1000);
    sim_run_for(d.s, CAMRTC_SEC(1));
    const sim_link_stats *ls = sim_host_link_stats(d.a, SIM_UP);
    CHECK_EQ_INT(d.rb->n, 10);
    CHECK_EQ_INT(ls->queue_drops, 40);
    CHECK_EQ_INT(ls->queue_max, 10000);
    for (size_t i = 0; i < d.rb->n; i++)    /* one packet every 10 ms */
        CHECK_EQ_INT(d.rb->at[i] - d.rb->sent[i], CAMRTC_MS(10) * (i + 1));
    /* Paced at the rate, nothing is dropped. */
    for (uint32_t i = 0; i < 100; i++) {
        send_seq(d.ka, sim_sock_addr(d.kb), i, 1000);
        sim_run_for(d.s, CAMRTC_MS(10));
    }
    sim_run_for(d.s, CAMRTC_SEC(1));
    CHECK_EQ_INT(d.rb->n, 110);
    CHECK_EQ_INT(ls->queue_drops, 40);
    duo_free(&d);
}

TEST(pair_link_applies_to_that_pair_only)
{
    duo d;
    duo_init(&d, 1);
    CHECK_EQ_INT(sim_pair_set_link(d.s, d.a, d.b, &(sim_link_config){.delay = CAMRTC_MS(40)}), 0);
    send_seq(d.ka, sim_sock_addr(d.kb), 1, 20);
    send_seq(d.kb, sim_sock_addr(d.ka), 2, 20);
    sim_run_for(d.s, CAMRTC_SEC(1));
    CHECK_EQ_INT(d.rb->n, 1);
    CHECK_EQ_INT(d.ra->n, 1);
    CHECK_EQ_INT(d.rb->at[0] - d.rb->sent[0], CAMRTC_MS(40));
    CHECK_EQ_INT(d.ra->at[0] - d.ra->sent[0], 0);
    CHECK_EQ_INT(sim_pair_link_stats(d.s, d.a, d.b)->passed, 1);
    CHECK(sim_pair_link_stats(d.s, d.b, d.a) == NULL);
    duo_free(&d);
}

TEST(sockets_bind_and_route)
{
    duo d;
    duo_init(&d, 1);
    camrtc_addr any = mk("198.51.100.1", 0), taken = mk("198.51.100.1", 1000), other = mk("192.0.2.9", 0);
    sim_sock *e1 = sim_udp_bind(d.a, &any, rx_cb, d.ra);
    sim_sock *e2 = sim_udp_bind(d.a, &any, rx_cb, d.ra);
    CHECK(e1 && e2);
    CHECK_EQ_INT(sim_sock_addr(e1)->port, 49152);
    CHECK_EQ_INT(sim_sock_addr(e2)->port, 49153);
    CHECK(sim_udp_bind(d.a, &taken, rx_cb, d.ra) == NULL);
    CHECK(sim_udp_bind(d.a, &other, rx_cb, d.ra) == NULL);
    CHECK_EQ_INT(sim_host_add_addr(d.b, "198.51.100.1"), CAMRTC_EEXIST);
    CHECK_EQ_INT(sim_host_add_addr(d.b, "nonsense"), CAMRTC_EINVAL);
    /* Unknown IP, closed port, too big, wrong family. */
    camrtc_addr nowhere = mk("192.0.2.77", 9), closed = mk("203.0.113.1", 9), v6 = mk("2001:db8::1", 9);
    send_seq(d.ka, &nowhere, 1, 20);
    send_seq(d.ka, &closed, 1, 20);
    static uint8_t big[SIM_MAX_PACKET + 1];
    CHECK_EQ_INT(sim_udp_send(d.ka, &closed, big, sizeof big), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(sim_udp_send(d.ka, &v6, big, 10), CAMRTC_EINVAL);
    sim_udp_close(e1);
    send_seq(d.kb, sim_sock_addr(e2), 1, 20);
    sim_run_for(d.s, CAMRTC_SEC(1));
    const sim_stats *st = sim_get_stats(d.s);
    CHECK_EQ_INT(st->no_route, 1);
    CHECK_EQ_INT(st->no_socket, 1);
    CHECK_EQ_INT(st->too_big, 1);
    CHECK_EQ_INT(st->delivered, 1);
    CHECK_EQ_INT(sim_sock_received(e2), 1);
    duo_free(&d);
}

/* ---- timers and running ---- */

typedef struct tlog {
    int order[16];
    int n;
} tlog;
typedef struct tref {
    tlog *log;
    int id;
} tref;

static void tcb(sim *s, void *user)
{
    tref *r = user;
    if (r->log->n < 16)
        r->log->order[r->log->n++] = r->id;
}

TEST(timers_order_ties_and_cancel)
{
    sim *s = sim_new(1);
    tlog lg = {0};
    tref r[5] = {{&lg, 0}, {&lg, 1}, {&lg, 2}, {&lg, 3}, {&lg, 4}};
    camrtc_time_us t0 = sim_now(s);
    CHECK_EQ_INT(t0, SIM_T0);
    sim_timer_set(s, t0 + 20, tcb, &r[0]);
    sim_timer_set(s, t0 + 10, tcb, &r[1]);
    uint64_t c = sim_timer_set(s, t0 + 10, tcb, &r[2]);
    sim_timer_set(s, t0 + 10, tcb, &r[3]);
    sim_timer_set(s, 0, tcb, &r[4]);            /* in the past: runs now */
    CHECK(c != 0);
    CHECK(sim_timer_cancel(s, c));
    CHECK(!sim_timer_cancel(s, c));
    CHECK(!sim_timer_cancel(s, 12345));
    CHECK_EQ_INT(sim_run_until(s, t0 + 15), 3);
    CHECK_EQ_INT(sim_now(s), t0 + 15);
    CHECK_EQ_INT(lg.n, 3);
    CHECK_EQ_INT(lg.order[0], 4);
    CHECK_EQ_INT(lg.order[1], 1);
    CHECK_EQ_INT(lg.order[2], 3);
    /* The slot of a cancelled timer is reused; its old id stays dead. */
    uint64_t c2 = sim_timer_set(s, t0 + 100, tcb, &r[2]);
    CHECK(c2 != c);
    CHECK(!sim_timer_cancel(s, c));
    sim_run_until(s, t0 + 1000);
    CHECK_EQ_INT(lg.n, 5);
    CHECK_EQ_INT(lg.order[3], 0);
    CHECK_EQ_INT(lg.order[4], 2);
    sim_free(s);
}

static void rearm(sim *s, void *user) { sim_timer_set(s, sim_now(s), rearm, user); }
static bool below3(void *user) { return ((tlog *)user)->n < 3; }

TEST(runs_are_bounded)
{
    sim *s = sim_new(1);
    tlog lg = {0};
    tref r = {&lg, 9};
    for (int i = 1; i <= 5; i++)
        sim_timer_set(s, SIM_T0 + CAMRTC_MS(i * 10), tcb, &r);
    /* Stops as soon as the predicate is false, at that event's time. */
    CHECK(sim_run_while(s, below3, &lg, SIM_T0 + CAMRTC_SEC(1)));
    CHECK_EQ_INT(sim_now(s), SIM_T0 + CAMRTC_MS(30));
    /* Or at max_time. */
    lg.n = 0;
    sim_timer_set(s, SIM_T0 + CAMRTC_SEC(5), tcb, &r);
    CHECK(!sim_run_while(s, below3, &lg, SIM_T0 + CAMRTC_SEC(2)));
    CHECK_EQ_INT(sim_now(s), SIM_T0 + CAMRTC_SEC(2));
    CHECK_EQ_INT(lg.n, 2);
    /* A timer that re-arms itself at the same instant forever hits the event limit. */
    sim_set_max_events(s, 1000);
    sim_timer_set(s, sim_now(s), rearm, NULL);
    CHECK_EQ_INT(sim_run_for(s, CAMRTC_MS(1)), CAMRTC_ELIMIT);
    CHECK_EQ_INT(sim_get_stats(s)->event_limit_hits, 1);
    sim_free(s);
}

/* ---- NATs ---- */

/* A LAN host h behind NAT n, and two public servers: s1 with two ports, s2 with one. */
typedef struct natnet {
    sim *s;
    sim_nat *n;
    sim_host *h, *h2, *s1, *s2;
    sim_sock *kh, *kh2, *k1a, *k1b, *k2;
    rx *rh, *rh2, *r1a, *r1b, *r2;
} natnet;

static void natnet_init(natnet *w, const sim_nat_config *cfg)
{
    w->s = sim_new(5);
    w->n = sim_nat_new(w->s, "nat", "198.51.100.50", cfg);
    w->h = sim_host_new(w->s, "h", w->n);
    w->h2 = sim_host_new(w->s, "h2", w->n);
    w->s1 = sim_host_new(w->s, "s1", NULL);
    w->s2 = sim_host_new(w->s, "s2", NULL);
    sim_host_add_addr(w->h, "192.168.1.10");
    sim_host_add_addr(w->h2, "192.168.1.11");
    sim_host_add_addr(w->s1, "203.0.113.1");
    sim_host_add_addr(w->s2, "203.0.113.2");
    rx **r[] = {&w->rh, &w->rh2, &w->r1a, &w->r1b, &w->r2};
    for (size_t i = 0; i < 5; i++)
        *r[i] = calloc(1, sizeof(rx));
    camrtc_addr a;
    a = mk("192.168.1.10", 5000), w->kh = sim_udp_bind(w->h, &a, rx_cb, w->rh);
    a = mk("192.168.1.11", 5000), w->kh2 = sim_udp_bind(w->h2, &a, rx_cb, w->rh2);
    a = mk("203.0.113.1", 3478), w->k1a = sim_udp_bind(w->s1, &a, rx_cb, w->r1a);
    a = mk("203.0.113.1", 3479), w->k1b = sim_udp_bind(w->s1, &a, rx_cb, w->r1b);
    a = mk("203.0.113.2", 3478), w->k2 = sim_udp_bind(w->s2, &a, rx_cb, w->r2);
    /* Some delay on every link so arrivals are real events. */
    sim_link_config l = {.delay = CAMRTC_MS(5)};
    sim_host_set_link(w->h, SIM_BOTH, &l);
    sim_nat_set_link(w->n, SIM_BOTH, &l);
}

static void natnet_free(natnet *w)
{
    sim_free(w->s);
    free(w->rh);
    free(w->rh2);
    free(w->r1a);
    free(w->r1b);
    free(w->r2);
}

/* The mapped port the last datagram at r came from. */
static uint16_t last_port(const rx *r) { return r->n ? r->from[r->n - 1].port : 0; }

/* Expected behaviour of each classic type. */
typedef struct nat_expect {
    sim_nat_type type;
    bool same_port_other_port, same_port_other_ip;   /* mapping */
    bool in_other_port, in_other_ip;                 /* filtering */
} nat_expect;

static const nat_expect expects[] = {
    {SIM_NAT_FULL_CONE, true, true, true, true},
    {SIM_NAT_RESTRICTED, true, true, true, false},
    {SIM_NAT_PORT_RESTRICTED, true, true, false, false},
    {SIM_NAT_SYMMETRIC, false, false, false, false},
};

TEST(nat_mapping_behaviour_per_type)
{
    for (size_t i = 0; i < sizeof expects / sizeof expects[0]; i++) {
        sim_nat_config cfg = sim_nat_preset(expects[i].type);
        natnet w;
        natnet_init(&w, &cfg);
        send_seq(w.kh, sim_sock_addr(w.k1a), 1, 20);
        send_seq(w.kh, sim_sock_addr(w.k1b), 2, 20);
        send_seq(w.kh, sim_sock_addr(w.k2), 3, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
        CHECK_EQ_INT(w.r1a->n + w.r1b->n + w.r2->n, 3);
        CHECK(camrtc_addr_ip_equal(&w.r1a->from[0], sim_nat_public(w.n)));
        uint16_t p1 = last_port(w.r1a), p2 = last_port(w.r1b), p3 = last_port(w.r2);
        printf("  %s: mapped ports %u %u %u\n", sim_nat_type_name(expects[i].type), p1, p2, p3);
        CHECK_EQ_INT(p1, 40000);
        CHECK_EQ_INT(p1 == p2, expects[i].same_port_other_port);
        CHECK_EQ_INT(p1 == p3, expects[i].same_port_other_ip);
        CHECK_EQ_INT(sim_nat_mappings(w.n), expects[i].same_port_other_ip ? 1 : 3);
        natnet_free(&w);
    }
}

TEST(nat_filtering_behaviour_per_type)
{
    for (size_t i = 0; i < sizeof expects / sizeof expects[0]; i++) {
        sim_nat_config cfg = sim_nat_preset(expects[i].type);
        natnet w;
        natnet_init(&w, &cfg);
        send_seq(w.kh, sim_sock_addr(w.k1a), 1, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
        CHECK_EQ_INT(w.r1a->n, 1);
        camrtc_addr mapped = w.r1a->from[0];
        /* From the endpoint it sent to: always in. */
        send_seq(w.k1a, &mapped, 10, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
        CHECK_EQ_INT(w.rh->n, 1);
        CHECK(camrtc_addr_equal(&w.rh->from[0], sim_sock_addr(w.k1a)));
        /* From another port of the same IP, and from another IP. */
        send_seq(w.k1b, &mapped, 11, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
        CHECK_EQ_INT(w.rh->n, 1 + expects[i].in_other_port);
        size_t before = w.rh->n;
        send_seq(w.k2, &mapped, 12, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
        CHECK_EQ_INT(w.rh->n, before + expects[i].in_other_ip);
        const sim_nat_stats *ns = sim_nat_get_stats(w.n);
        CHECK_EQ_INT(ns->filtered, 2 - expects[i].in_other_port - expects[i].in_other_ip);
        /* A public host cannot reach a LAN address directly. */
        camrtc_addr lan = mk("192.168.1.10", 5000);
        send_seq(w.k1a, &lan, 13, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
        CHECK_EQ_INT(sim_get_stats(w.s)->no_route, 1);
        natnet_free(&w);
    }
}

TEST(nat_mapping_times_out_without_outbound)
{
    sim_nat_config cfg = sim_nat_preset(SIM_NAT_FULL_CONE);
    cfg.timeout = CAMRTC_SEC(30);
    natnet w;
    natnet_init(&w, &cfg);
    send_seq(w.kh, sim_sock_addr(w.k1a), 1, 20);
    sim_run_for(w.s, CAMRTC_SEC(1));
    camrtc_addr mapped = w.r1a->from[0];
    /* Inbound traffic does not refresh (inbound_refresh is off). */
    for (int i = 0; i < 25; i++) {
        send_seq(w.k1a, &mapped, 2, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
    }
    CHECK_EQ_INT(w.rh->n, 25);
    CHECK_EQ_INT(sim_nat_mappings(w.n), 1);
    sim_run_for(w.s, CAMRTC_SEC(5));
    CHECK_EQ_INT(sim_nat_mappings(w.n), 0);
    send_seq(w.k1a, &mapped, 3, 20);
    sim_run_for(w.s, CAMRTC_SEC(1));
    CHECK_EQ_INT(w.rh->n, 25);
    CHECK_EQ_INT(sim_nat_get_stats(w.n)->no_mapping, 1);
    CHECK_EQ_INT(sim_nat_get_stats(w.n)->mappings_expired, 1);
    /* Outbound traffic keeps a mapping alive past the timeout; a new one gets a new port. */
    for (int i = 0; i < 40; i++) {
        send_seq(w.kh, sim_sock_addr(w.k1a), 4, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
    }
    CHECK_EQ_INT(last_port(w.r1a), 40001);
    CHECK_EQ_INT(sim_nat_get_stats(w.n)->mappings_created, 2);
    natnet_free(&w);
}

TEST(nat_hairpin_optional)
{
    for (int hairpin = 0; hairpin <= 1; hairpin++) {
        sim_nat_config cfg = sim_nat_preset(SIM_NAT_FULL_CONE);
        cfg.hairpin = hairpin;
        natnet w;
        natnet_init(&w, &cfg);
        send_seq(w.kh, sim_sock_addr(w.k1a), 1, 20);     /* h gets a mapping */
        sim_run_for(w.s, CAMRTC_SEC(1));
        camrtc_addr mapped = w.r1a->from[0];
        send_seq(w.kh2, &mapped, 2, 20);                 /* h2 → h's public address */
        sim_run_for(w.s, CAMRTC_SEC(1));
        const sim_nat_stats *ns = sim_nat_get_stats(w.n);
        CHECK_EQ_INT(w.rh->n, hairpin);
        CHECK_EQ_INT(ns->hairpinned, hairpin);
        CHECK_EQ_INT(ns->hairpin_refused, !hairpin);
        if (hairpin) {   /* the source is h2's public mapping (RFC 4787 REQ-9) */
            CHECK(camrtc_addr_ip_equal(&w.rh->from[0], sim_nat_public(w.n)));
            CHECK_EQ_INT(w.rh->from[0].port, 40001);
        }
        /* LAN hosts reach each other directly by their private addresses. */
        send_seq(w.kh2, sim_sock_addr(w.kh), 3, 20);
        sim_run_for(w.s, CAMRTC_SEC(1));
        CHECK_EQ_INT(w.rh->n, hairpin + 1);
        CHECK(camrtc_addr_equal(&w.rh->from[w.rh->n - 1], sim_sock_addr(w.kh2)));
        natnet_free(&w);
    }
}

TEST(two_lans_may_use_the_same_private_addresses)
{
    sim *s = sim_new(1);
    sim_nat_config cfg = sim_nat_preset(SIM_NAT_FULL_CONE);
    sim_nat *n1 = sim_nat_new(s, "n1", "198.51.100.1", &cfg);
    sim_nat *n2 = sim_nat_new(s, "n2", "198.51.100.2", &cfg);
    CHECK(sim_nat_new(s, "dup", "198.51.100.2", &cfg) == NULL);
    sim_host *a = sim_host_new(s, "a", n1), *b = sim_host_new(s, "b", n2);
    CHECK_EQ_INT(sim_host_add_addr(a, "10.0.0.1"), 0);
    CHECK_EQ_INT(sim_host_add_addr(b, "10.0.0.1"), 0);
    rx *ra = calloc(1, sizeof *ra), *rb = calloc(1, sizeof *rb);
    camrtc_addr l = mk("10.0.0.1", 1);
    sim_sock *ka = sim_udp_bind(a, &l, rx_cb, ra), *kb = sim_udp_bind(b, &l, rx_cb, rb);
    /* a sends to b's NAT (full cone: b must open the mapping first). */
    camrtc_addr to_a = *sim_nat_public(n1), to_b = *sim_nat_public(n2);
    to_a.port = to_b.port = 40000;
    send_seq(kb, &to_a, 1, 20);   /* opens b's mapping; dropped at n1 (no mapping yet) */
    sim_run_for(s, CAMRTC_MS(10));
    send_seq(ka, &to_b, 2, 20);
    sim_run_for(s, CAMRTC_MS(10));
    send_seq(kb, &to_a, 3, 20);
    sim_run_for(s, CAMRTC_MS(10));
    CHECK_EQ_INT(rb->n, 1);
    CHECK_EQ_INT(ra->n, 1);
    CHECK_EQ_INT(ra->seq[0], 3);
    CHECK(camrtc_addr_equal(&ra->from[0], &to_b));
    sim_free(s);
    free(ra);
    free(rb);
}

/* ---- determinism ---- */

static uint64_t impaired_run(uint64_t seed, size_t *received)
{
    duo d;
    duo_init(&d, seed);
    sim_host_set_link(d.a, SIM_UP, &(sim_link_config){.delay = CAMRTC_MS(20), .jitter = CAMRTC_MS(10),
                                                      .loss = 0.1, .reorder = 0.05,
                                                      .reorder_delay = CAMRTC_MS(7), .dup = 0.02});
    for (uint32_t i = 0; i < 500; i++) {
        send_seq(d.ka, sim_sock_addr(d.kb), i, 100);
        send_seq(d.kb, sim_sock_addr(d.ka), i, 100);
        sim_run_for(d.s, CAMRTC_MS(2));
    }
    sim_run_for(d.s, CAMRTC_SEC(1));
    uint64_t h = sim_trace_hash(d.s);
    *received = d.rb->n;
    duo_free(&d);
    return h;
}

TEST(same_seed_same_trace_other_seed_other_trace)
{
    size_t n1, n2, n3;
    uint64_t h1 = impaired_run(42, &n1), h2 = impaired_run(42, &n2), h3 = impaired_run(43, &n3);
    CHECK(h1 == h2);
    CHECK_EQ_INT(n1, n2);
    CHECK(h1 != h3);
}

int main(void)
{
    return RUN_TESTS(delay_and_jitter_within_bounds, loss_rate_close_to_configured,
                     reorder_and_duplicate, rate_limit_queues_then_drops,
                     pair_link_applies_to_that_pair_only, sockets_bind_and_route,
                     timers_order_ties_and_cancel, runs_are_bounded,
                     nat_mapping_behaviour_per_type, nat_filtering_behaviour_per_type,
                     nat_mapping_times_out_without_outbound, nat_hairpin_optional,
                     two_lans_may_use_the_same_private_addresses,
                     same_seed_same_trace_other_seed_other_trace);
}
