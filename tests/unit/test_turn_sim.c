/* The TURN client against the TURN server model (tests/sim/turn_server.h): two clients
 * relaying to each other through their allocations, a third plain host, permissions,
 * channels, refreshes over an hour of virtual time, stale nonces, deallocation.
 *
 * The wiring is a tiny lossless router in this file: a FIFO of datagrams delivered by
 * destination address, on a virtual clock. */
#include "check.h"

#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "camrtc/turn.h"
#include "turn_server.h"

#define QCAP 256
#define MAXDG 2048
#define T0 CAMRTC_SEC(1)

typedef struct dgram {
    camrtc_addr from, to;
    size_t len;
    uint8_t b[MAXDG];
} dgram;

typedef struct net net;

typedef struct client {
    net *n;
    camrtc_addr addr;
    camrtc_turn *t;
    camrtc_addr relayed;
    int allocated, failed, closed, fail_code, perm_ok, perm_err;
    int ndata;
    camrtc_addr last_peer;
    char last_data[64];
} client;

struct net {
    camrtc_time_us now;
    camrtc_rng rng;
    turn_server *srv;
    camrtc_addr listen, host_c;
    client a, b;
    dgram q[QCAP];
    size_t head, count;
    uint64_t overflow;
    int c_ndata;               /* datagrams the plain host C received */
    camrtc_addr c_from;
    char c_data[64];
};

static void enqueue(net *n, const camrtc_addr *from, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    if (n->count == QCAP || len > MAXDG) {
        n->overflow++;
        return;
    }
    dgram *d = &n->q[(n->head + n->count) % QCAP];
    d->from = *from;
    d->to = *to;
    d->len = len;
    memcpy(d->b, data, len);
    n->count++;
}

static void srv_send(void *user, const camrtc_addr *from, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    enqueue(user, from, to, data, len);
}

static void cl_send(void *user, const uint8_t *data, size_t len)
{
    client *c = user;
    enqueue(c->n, &c->addr, &c->n->listen, data, len);
}

static void copy_str(char *dst, size_t cap, const uint8_t *data, size_t len)
{
    size_t k = len < cap - 1 ? len : cap - 1;
    memcpy(dst, data, k);
    dst[k] = 0;
}

static void cl_event(void *user, const camrtc_turn_event *ev)
{
    client *c = user;
    switch (ev->type) {
    case CAMRTC_TURN_EV_ALLOCATED: c->allocated++; c->relayed = ev->relayed; break;
    case CAMRTC_TURN_EV_FAILED: c->failed++; c->fail_code = ev->code; break;
    case CAMRTC_TURN_EV_CLOSED: c->closed++; break;
    case CAMRTC_TURN_EV_PERMISSION: if (ev->err == CAMRTC_OK) c->perm_ok++; else c->perm_err++; break;
    case CAMRTC_TURN_EV_DATA:
        c->ndata++;
        c->last_peer = ev->peer;
        copy_str(c->last_data, sizeof c->last_data, ev->data, ev->len);
        break;
    }
}

/* Deliver everything queued (bounded: a relay loop would stop here). */
static void pump(net *n)
{
    for (int i = 0; i < 10000 && n->count > 0; i++) {
        dgram d = n->q[n->head];
        n->head = (n->head + 1) % QCAP;
        n->count--;
        if (turn_server_owns(n->srv, &d.to))
            turn_server_input(n->srv, n->now, &d.from, &d.to, d.b, d.len);
        else if (camrtc_addr_equal(&d.to, &n->a.addr))
            camrtc_turn_input(n->a.t, n->now, d.b, d.len);
        else if (camrtc_addr_equal(&d.to, &n->b.addr))
            camrtc_turn_input(n->b.t, n->now, d.b, d.len);
        else if (camrtc_addr_equal(&d.to, &n->host_c)) {
            n->c_ndata++;
            n->c_from = d.from;
            copy_str(n->c_data, sizeof n->c_data, d.b, d.len);
        }
    }
}

static camrtc_time_us min_t(camrtc_time_us x, camrtc_time_us y)
{
    return x < y ? x : y;
}

/* Advance the virtual clock to t, firing every timer on the way. */
static void run_until(net *n, camrtc_time_us t)
{
    pump(n);
    for (int i = 0; i < 100000; i++) {
        camrtc_time_us at = turn_server_next_timeout(n->srv);
        if (n->a.t)
            at = min_t(at, camrtc_turn_next_timeout(n->a.t));
        if (n->b.t)
            at = min_t(at, camrtc_turn_next_timeout(n->b.t));
        if (at > t)
            break;
        if (at > n->now)
            n->now = at;
        turn_server_handle_timeout(n->srv, n->now);
        if (n->a.t)
            camrtc_turn_handle_timeout(n->a.t, n->now);
        if (n->b.t)
            camrtc_turn_handle_timeout(n->b.t, n->now);
        pump(n);
    }
    if (t > n->now)
        n->now = t;
}

static bool client_init(net *n, client *c, const char *ip, uint16_t port, const char *password)
{
    static const camrtc_turn_io io = {cl_send, cl_event};
    c->n = n;
    camrtc_addr_parse(&c->addr, ip, port);
    camrtc_turn_config cfg = {.server = n->listen, .username = "alice", .password = password};
    c->t = camrtc_turn_new(&cfg, &io, c, &n->rng, NULL);
    return c->t != NULL;
}

static bool net_init(net *n, camrtc_time_us nonce_lifetime, const char *b_password)
{
    memset(n, 0, sizeof *n);
    n->now = T0;
    if (camrtc_rng_init_seed(&n->rng, 7) != 0)
        return false;
    camrtc_addr_parse(&n->listen, "192.0.2.1", 3478);
    camrtc_addr_parse(&n->host_c, "203.0.113.9", 7000);
    turn_server_config cfg = {.listen = n->listen, .username = "alice", .password = "pw", .seed = 99,
                              .nonce_lifetime = nonce_lifetime, .send = srv_send, .user = n};
    camrtc_addr_parse(&cfg.relay_ip, "192.0.2.1", 0);
    n->srv = turn_server_new(&cfg);
    return n->srv && client_init(n, &n->a, "10.0.0.1", 5000, "pw") &&
           client_init(n, &n->b, "10.0.0.2", 6000, b_password);
}

static void net_free(net *n)
{
    camrtc_turn_free(n->a.t);
    camrtc_turn_free(n->b.t);
    turn_server_free(n->srv);
    camrtc_rng_free(&n->rng);
}

static bool both_allocated(net *n)
{
    camrtc_turn_start(n->a.t, n->now);
    camrtc_turn_start(n->b.t, n->now);
    pump(n);
    return n->a.allocated == 1 && n->b.allocated == 1;
}

/* Send text from client c to peer and deliver it. */
static int say(net *n, client *c, const camrtc_addr *peer, const char *text)
{
    int rc = camrtc_turn_send_to(c->t, n->now, peer, (const uint8_t *)text, strlen(text));
    pump(n);
    return rc;
}

TEST(two_clients_relay_to_each_other_both_ways)
{
    net n;
    CHECK(net_init(&n, 0, "pw"));
    CHECK(both_allocated(&n));
    CHECK(!camrtc_addr_equal(&n.a.relayed, &n.b.relayed));
    CHECK_EQ_INT(turn_server_allocation_count(n.srv), 2);
    const turn_server_stats *ss = turn_server_get_stats(n.srv);
    CHECK_EQ_INT(ss->allocations, 2);
    CHECK_EQ_INT(ss->auth_challenges, 2);

    /* Send indications first (a permission is installed on first use). */
    CHECK_EQ_INT(camrtc_turn_permit(n.b.t, n.now, &n.a.relayed, false), CAMRTC_OK);
    CHECK_EQ_INT(say(&n, &n.a, &n.b.relayed, "ping"), CAMRTC_OK);
    CHECK_EQ_INT(n.b.ndata, 1);
    CHECK_EQ_STR(n.b.last_data, "ping");
    CHECK(camrtc_addr_equal(&n.b.last_peer, &n.a.relayed));
    CHECK_EQ_INT(say(&n, &n.b, &n.a.relayed, "pong"), CAMRTC_OK);
    CHECK_EQ_INT(n.a.ndata, 1);
    CHECK_EQ_STR(n.a.last_data, "pong");
    CHECK(camrtc_addr_equal(&n.a.last_peer, &n.b.relayed));
    CHECK_EQ_INT(ss->to_peer_indications, 2);
    CHECK_EQ_INT(ss->to_client_indications, 2);

    /* Then channels both ways. */
    CHECK_EQ_INT(camrtc_turn_permit(n.a.t, n.now, &n.b.relayed, true), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_permit(n.b.t, n.now, &n.a.relayed, true), CAMRTC_OK);
    pump(&n);
    CHECK_EQ_INT(camrtc_turn_get_stats(n.a.t)->channel_binds, 1);
    CHECK_EQ_INT(camrtc_turn_get_stats(n.b.t)->channel_binds, 1);
    CHECK_EQ_INT(say(&n, &n.a, &n.b.relayed, "over a channel"), CAMRTC_OK);
    CHECK_EQ_STR(n.b.last_data, "over a channel");
    CHECK_EQ_INT(say(&n, &n.b, &n.a.relayed, "and back"), CAMRTC_OK);
    CHECK_EQ_STR(n.a.last_data, "and back");
    CHECK(camrtc_addr_equal(&n.a.last_peer, &n.b.relayed));
    CHECK_EQ_INT(ss->to_peer_channel_data, 2);
    CHECK_EQ_INT(ss->to_client_channel_data, 2);
    CHECK_EQ_INT(camrtc_turn_get_stats(n.a.t)->recv_channel_data, 1);
    CHECK_EQ_INT(camrtc_turn_get_stats(n.a.t)->dropped, 0);
    CHECK_EQ_INT(camrtc_turn_get_stats(n.b.t)->dropped, 0);
    CHECK_EQ_INT(ss->dropped, 0);
    CHECK_EQ_INT(n.overflow, 0);
    net_free(&n);
}

TEST(data_from_a_peer_without_permission_is_dropped)
{
    net n;
    CHECK(net_init(&n, 0, "pw"));
    CHECK(both_allocated(&n));
    const turn_server_stats *ss = turn_server_get_stats(n.srv);
    /* Plain host C writes to A's relayed address: A has no permission for C. */
    enqueue(&n, &n.host_c, &n.a.relayed, (const uint8_t *)"knock", 5);
    pump(&n);
    CHECK_EQ_INT(n.a.ndata, 0);
    CHECK_EQ_INT(ss->dropped_no_permission, 1);
    /* A permission for another IP does not let C through either. */
    CHECK_EQ_INT(camrtc_turn_permit(n.a.t, n.now, &n.b.relayed, false), CAMRTC_OK);
    pump(&n);
    enqueue(&n, &n.host_c, &n.a.relayed, (const uint8_t *)"knock", 5);
    pump(&n);
    CHECK_EQ_INT(n.a.ndata, 0);
    CHECK_EQ_INT(ss->dropped_no_permission, 2);

    /* Once A permits C (any port: permissions are per IP), C's data flows, both ways. */
    camrtc_addr c_other_port = n.host_c;
    c_other_port.port = 1;
    CHECK_EQ_INT(camrtc_turn_permit(n.a.t, n.now, &c_other_port, false), CAMRTC_OK);
    pump(&n);
    CHECK_EQ_INT(n.a.perm_ok, 2);
    enqueue(&n, &n.host_c, &n.a.relayed, (const uint8_t *)"knock", 5);
    pump(&n);
    CHECK_EQ_INT(n.a.ndata, 1);
    CHECK_EQ_STR(n.a.last_data, "knock");
    CHECK(camrtc_addr_equal(&n.a.last_peer, &n.host_c));
    CHECK_EQ_INT(say(&n, &n.a, &n.host_c, "who is there"), CAMRTC_OK);
    CHECK_EQ_INT(n.c_ndata, 1);
    CHECK_EQ_STR(n.c_data, "who is there");
    CHECK(camrtc_addr_equal(&n.c_from, &n.a.relayed));

    /* A Send indication (written by hand: the client always permits first) toward an
     * IP without permission is dropped by the server too. */
    camrtc_addr stranger;
    camrtc_addr_parse(&stranger, "198.51.100.50", 9);
    uint8_t buf[128], txid[12] = {1};
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_SEND, CAMRTC_STUN_INDICATION), txid);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_PEER_ADDRESS, &stranger);
    camrtc_stun_add(&b, CAMRTC_STUN_A_DATA, "x", 1);
    int len = camrtc_stun_build_finish(&b);
    CHECK(len > 0);
    enqueue(&n, &n.a.addr, &n.listen, buf, (size_t)len);
    pump(&n);
    CHECK_EQ_INT(ss->dropped_no_permission, 3);
    CHECK_EQ_INT(ss->to_peer_indications, 1);
    net_free(&n);
}

TEST(an_hour_of_refreshes_with_stale_nonces_keeps_everything_alive)
{
    net n;
    /* Nonces go stale every 5 minutes: each refresh meets a 438 now and then. */
    CHECK(net_init(&n, CAMRTC_SEC(300), "pw"));
    CHECK(both_allocated(&n));
    CHECK_EQ_INT(camrtc_turn_permit(n.a.t, n.now, &n.b.relayed, true), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_turn_permit(n.b.t, n.now, &n.a.relayed, false), CAMRTC_OK);
    pump(&n);
    run_until(&n, T0 + CAMRTC_SEC(3600));
    const turn_server_stats *ss = turn_server_get_stats(n.srv);
    CHECK_EQ_INT(ss->expired_allocations, 0);
    CHECK_EQ_INT(ss->expired_permissions, 0);
    CHECK_EQ_INT(ss->expired_channels, 0);
    CHECK(ss->stale_nonces > 0);
    CHECK(camrtc_turn_get_stats(n.a.t)->stale_nonces > 0);
    CHECK(camrtc_turn_get_stats(n.a.t)->refreshes >= 6);
    CHECK(camrtc_turn_get_stats(n.a.t)->permissions >= 14);
    CHECK(camrtc_turn_get_stats(n.a.t)->channel_binds >= 6);
    CHECK_EQ_INT(camrtc_turn_get_state(n.a.t), CAMRTC_TURN_ALLOCATED);
    CHECK_EQ_INT(camrtc_turn_get_state(n.b.t), CAMRTC_TURN_ALLOCATED);
    CHECK(ss->keepalives > 0);
    CHECK_EQ_INT(ss->dropped, 0);
    CHECK_EQ_INT(say(&n, &n.a, &n.b.relayed, "still here"), CAMRTC_OK);
    CHECK_EQ_STR(n.b.last_data, "still here");
    CHECK_EQ_INT(say(&n, &n.b, &n.a.relayed, "me too"), CAMRTC_OK);
    CHECK_EQ_STR(n.a.last_data, "me too");
    CHECK_EQ_INT(camrtc_turn_get_stats(n.a.t)->dropped, 0);
    net_free(&n);
}

TEST(close_deallocates_and_a_silent_client_expires)
{
    net n;
    CHECK(net_init(&n, 0, "pw"));
    CHECK(both_allocated(&n));
    CHECK_EQ_INT(camrtc_turn_close(n.a.t, n.now), CAMRTC_OK);
    pump(&n);
    CHECK_EQ_INT(n.a.closed, 1);
    CHECK_EQ_INT(turn_server_allocation_count(n.srv), 1);
    CHECK_EQ_INT(turn_server_get_stats(n.srv)->deallocations, 1);
    CHECK(!turn_server_owns(n.srv, &n.a.relayed));

    /* B goes silent (freed without deallocation): its allocation expires at 600 s. */
    camrtc_turn_free(n.b.t);
    n.b.t = NULL;
    run_until(&n, T0 + CAMRTC_SEC(599));
    CHECK_EQ_INT(turn_server_allocation_count(n.srv), 1);
    run_until(&n, T0 + CAMRTC_SEC(601));
    CHECK_EQ_INT(turn_server_allocation_count(n.srv), 0);
    CHECK_EQ_INT(turn_server_get_stats(n.srv)->expired_allocations, 1);
    CHECK_EQ_INT(turn_server_next_timeout(n.srv), CAMRTC_TIME_NEVER);
    net_free(&n);
}

TEST(wrong_password_is_refused_by_the_server)
{
    net n;
    CHECK(net_init(&n, 0, "not-pw"));
    camrtc_turn_start(n.b.t, n.now);
    pump(&n);
    CHECK_EQ_INT(n.b.failed, 1);
    CHECK_EQ_INT(n.b.fail_code, 401);
    CHECK_EQ_INT(camrtc_turn_get_state(n.b.t), CAMRTC_TURN_FAILED);
    CHECK_EQ_INT(turn_server_allocation_count(n.srv), 0);
    CHECK_EQ_INT(turn_server_get_stats(n.srv)->auth_challenges, 2);
    net_free(&n);
}

TEST(rotated_nonce_is_answered_438_and_retried)
{
    net n;
    CHECK(net_init(&n, 0, "pw"));
    CHECK(both_allocated(&n));
    turn_server_rotate_nonce(n.srv);
    CHECK_EQ_INT(camrtc_turn_permit(n.a.t, n.now, &n.b.relayed, false), CAMRTC_OK);
    pump(&n);
    CHECK_EQ_INT(n.a.perm_ok, 1);
    CHECK_EQ_INT(turn_server_get_stats(n.srv)->stale_nonces, 1);
    CHECK_EQ_INT(camrtc_turn_get_stats(n.a.t)->stale_nonces, 1);
    net_free(&n);
}

int main(void)
{
    return RUN_TESTS(two_clients_relay_to_each_other_both_ways, data_from_a_peer_without_permission_is_dropped,
                     an_hour_of_refreshes_with_stale_nonces_keeps_everything_alive,
                     close_deallocates_and_a_silent_client_expires, wrong_password_is_refused_by_the_server,
                     rotated_nonce_is_answered_438_and_retried);
}
