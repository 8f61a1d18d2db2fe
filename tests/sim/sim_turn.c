/* A TURN server (the sans-I/O model of turn_server.h) on a simulated host.
 *
 * The host's raw receiver hands the model every datagram for the listen address and the
 * relayed addresses (which ports those are is the model's business: turn_server_owns
 * tells); what the model emits leaves the host from the address it names. The model's
 * expiry timer is driven by one sim timer. */
#include "sim.h"

#include <stdlib.h>

#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "turn_server.h"

/* If data is a STUN Binding request, write its success response into out (RFC 8489
 * §6.3.1: XOR-MAPPED-ADDRESS = the source as seen here; FINGERPRINT when the request had
 * one) and return its length; else 0. */
static size_t binding_answer(const camrtc_addr *from, const uint8_t *data, size_t len,
                             uint8_t *out, size_t cap)
{
    camrtc_stun_msg m;
    if (!camrtc_stun_is_message(data, len) || camrtc_stun_parse(&m, data, len) < 0 ||
        m.type != camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST))
        return 0;
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, out, cap, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_SUCCESS), m.txid);
    camrtc_stun_add_xor_addr(&b, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, from);
    if (m.fingerprint >= 0)
        camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    return n > 0 ? (size_t)n : 0;
}

static void stun_recv(void *user, sim_sock *sock, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    uint8_t out[128];
    size_t n = binding_answer(from, data, len, out, sizeof out);
    if (n)
        sim_udp_send(sock, from, out, n);
}

sim_sock *sim_stun_new(sim *s, sim_host *h, uint16_t port)
{
    const camrtc_addr *ip = sim_host_addr(h, 0);
    if (!ip)
        return NULL;
    camrtc_addr a = *ip;
    a.port = port;
    return sim_udp_bind(h, &a, stun_recv, NULL);
}

struct sim_turn {
    sim *s;
    sim_host *h;
    turn_server *srv;
    camrtc_addr listen;
    uint64_t timer;
    camrtc_time_us timer_at;
    uint64_t not_ours;           /* datagrams for ports the server does not own */
};

static void turn_timer(sim *s, void *user);

/* Keep the one sim timer at the model's next deadline. */
static void reschedule(sim_turn *t)
{
    camrtc_time_us at = turn_server_next_timeout(t->srv);
    sim_timer_keep(t->s, &t->timer, &t->timer_at, at, turn_timer, t);
}

static void turn_timer(sim *s, void *user)
{
    sim_turn *t = user;
    t->timer = 0;
    turn_server_handle_timeout(t->srv, sim_now(s));
    reschedule(t);
}

static void turn_send(void *user, const camrtc_addr *from, const camrtc_addr *to,
                      const uint8_t *data, size_t len)
{
    sim_turn *t = user;
    sim_host_send_from(t->h, from, to, data, len);
}

static void turn_raw(void *user, sim_host *h, const camrtc_addr *from, const camrtc_addr *to,
                     const uint8_t *data, size_t len)
{
    sim_turn *t = user;
    uint8_t out[128];
    size_t n = camrtc_addr_equal(to, &t->listen) ? binding_answer(from, data, len, out, sizeof out) : 0;
    if (n) {
        sim_host_send_from(h, to, from, out, n);
        return;
    }
    if (turn_server_input(t->srv, sim_now(t->s), from, to, data, len) == CAMRTC_ENOTFOUND)
        t->not_ours++;
    reschedule(t);
}

sim_turn *sim_turn_new(sim *s, sim_host *h, uint16_t port, const char *username, const char *password)
{
    const camrtc_addr *ip = sim_host_addr(h, 0);
    if (!ip)
        return NULL;
    sim_turn *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->s = s;
    t->h = h;
    t->listen = *ip;
    t->listen.port = port;
    turn_server_config cfg = {
        .listen = t->listen,
        .relay_ip = *ip,
        .username = username,
        .password = password,
        .seed = sim_rand_u64(s),
        .send = turn_send,
        .user = t,
    };
    t->srv = turn_server_new(&cfg);
    if (!t->srv) {
        free(t);
        return NULL;
    }
    sim_host_set_raw(h, turn_raw, t);
    return t;
}

void sim_turn_free(sim_turn *t)
{
    if (!t)
        return;
    if (t->timer)
        sim_timer_cancel(t->s, t->timer);
    sim_host_set_raw(t->h, NULL, NULL);
    turn_server_free(t->srv);
    free(t);
}

const camrtc_addr *sim_turn_addr(const sim_turn *t) { return &t->listen; }
struct turn_server *sim_turn_server(sim_turn *t) { return t->srv; }
