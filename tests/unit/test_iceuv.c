/* The libuv ICE adapter: two adapters on one loop over 127.0.0.1 find each other, carry
 * data both ways and close; the lifecycle edges (close before gathering, bad URLs, a TURN
 * stream that cannot connect). Every run is bounded by a uv timer that fails the test. */
#include <arpa/inet.h>
#include <signal.h>
#include <string.h>

#include <uv.h>

#include "camrtc/error.h"
#include "camrtc/iceuv.h"
#include "check.h"

#define FAIL_AFTER_MS 5000
#define RESEND_MS 20

typedef struct side {
    struct harness *h;
    const char *name;
    camrtc_iceuv *u;
    struct side *peer;
    bool selected, got_data, closed, gathered;
    unsigned close_calls, candidates;
    camrtc_ice_candidate local, remote;
    char received[64];
    camrtc_iceuv_stats stats;     /* the adapter's counters, read in on_close */
} side;

typedef struct harness {
    uv_loop_t loop;
    uv_timer_t fail, resend;
    side a, b;
    bool timed_out, closing;
} harness;

static void close_all(harness *h)
{
    if (h->closing)
        return;
    h->closing = true;
    uv_timer_stop(&h->resend);
    camrtc_iceuv_close(h->a.u);
    camrtc_iceuv_close(h->b.u);
}

static void on_fail_timer(uv_timer_t *t)
{
    harness *h = t->data;
    h->timed_out = true;
    close_all(h);
}

/* Each side repeats its message until the other has it: the controlled side's pair may
 * become valid a moment after the controlling side selected. */
static void send_hello(side *s)
{
    char msg[64];
    snprintf(msg, sizeof msg, "hello from %s", s->name);
    camrtc_iceuv_send(s->u, (const uint8_t *)msg, strlen(msg));
}

static void on_resend(uv_timer_t *t)
{
    harness *h = t->data;
    if (h->a.selected && !h->b.got_data)
        send_hello(&h->a);
    if (h->b.selected && !h->a.got_data)
        send_hello(&h->b);
    if (h->a.got_data && h->b.got_data)
        close_all(h);
}

static void on_event(camrtc_iceuv *u, void *ud, const camrtc_ice_event *ev)
{
    side *s = ud;
    switch (ev->type) {
    case CAMRTC_ICE_EV_CANDIDATE:
        s->candidates++;
        if (s->peer)
            camrtc_iceuv_add_remote_candidate(s->peer->u, ev->line);
        break;
    case CAMRTC_ICE_EV_GATHERING_DONE:
        s->gathered = true;
        if (s->peer)
            camrtc_iceuv_remote_end_of_candidates(s->peer->u);
        break;
    case CAMRTC_ICE_EV_SELECTED:
        s->selected = true;
        s->local = *ev->local;
        s->remote = *ev->remote;
        send_hello(s);
        break;
    case CAMRTC_ICE_EV_DATA:
        if (ev->len < sizeof s->received) {
            memcpy(s->received, ev->data, ev->len);
            s->received[ev->len] = '\0';
            s->got_data = true;
        }
        break;
    default:
        break;
    }
}

static void on_close(camrtc_iceuv *u, void *ud)
{
    side *s = ud;
    s->stats = *camrtc_iceuv_get_stats(u);
    s->closed = true;
    s->close_calls++;
    harness *h = s->h;
    if (h->a.closed && (h->b.closed || !h->b.u)) {
        uv_close((uv_handle_t *)&h->fail, NULL);
        uv_close((uv_handle_t *)&h->resend, NULL);
    }
}

static const camrtc_iceuv_callbacks cbs = { .on_event = on_event, .on_close = on_close };

static camrtc_iceuv_config loopback_config(bool controlling)
{
    camrtc_iceuv_config cfg = {0};
    cfg.ice.controlling = controlling;
    cfg.ice.include_loopback = true;
    cfg.ice.interfaces = "lo";
    return cfg;
}

static int harness_init(harness *h)
{
    memset(h, 0, sizeof *h);
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&h->loop) < 0)
        return -1;
    uv_timer_init(&h->loop, &h->fail);
    uv_timer_init(&h->loop, &h->resend);
    h->fail.data = h->resend.data = h;
    uv_timer_start(&h->fail, on_fail_timer, FAIL_AFTER_MS, 0);
    h->a = (side){ .h = h, .name = "a" };
    h->b = (side){ .h = h, .name = "b" };
    return 0;
}

/* Runs the loop to its end: bounded by the fail timer, which closes everything. */
static int harness_run(harness *h)
{
    uv_run(&h->loop, UV_RUN_DEFAULT);
    return uv_loop_close(&h->loop);
}

TEST(iceuv_loopback_connects_carries_data_and_closes)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    camrtc_iceuv_config ca = loopback_config(true), cb = loopback_config(false);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &ca, &cbs, &h.a, &h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &cb, &cbs, &h.b, &h.b.u), CAMRTC_OK);
    h.a.peer = &h.b;
    h.b.peer = &h.a;
    camrtc_ice_agent *aa = camrtc_iceuv_agent(h.a.u), *ab = camrtc_iceuv_agent(h.b.u);
    CHECK_EQ_INT(camrtc_iceuv_set_remote_credentials(h.a.u, camrtc_ice_local_ufrag(ab), camrtc_ice_local_pwd(ab)), 0);
    CHECK_EQ_INT(camrtc_iceuv_set_remote_credentials(h.b.u, camrtc_ice_local_ufrag(aa), camrtc_ice_local_pwd(aa)), 0);
    CHECK_EQ_INT(camrtc_iceuv_gather(h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_gather(h.b.u), CAMRTC_OK);
    CHECK(camrtc_iceuv_socket_count(h.a.u) >= 1);
    CHECK_EQ_INT(camrtc_iceuv_gather(h.a.u), CAMRTC_ESTATE);
    uv_timer_start(&h.resend, on_resend, RESEND_MS, RESEND_MS);
    CHECK_EQ_INT(harness_run(&h), 0);

    CHECK(!h.timed_out);
    CHECK(h.a.gathered && h.b.gathered);
    CHECK(h.a.candidates >= 1 && h.b.candidates >= 1);
    CHECK(h.a.selected && h.b.selected);
    CHECK_EQ_INT(h.a.local.type, CAMRTC_ICE_HOST);
    CHECK(camrtc_addr_is_loopback(&h.a.local.addr));
    CHECK(camrtc_addr_is_loopback(&h.b.local.addr));
    /* Both ends agree on the pair. */
    CHECK(camrtc_addr_equal(&h.a.local.addr, &h.b.remote.addr));
    CHECK(camrtc_addr_equal(&h.a.remote.addr, &h.b.local.addr));
    CHECK_EQ_STR(h.a.received, "hello from b");
    CHECK_EQ_STR(h.b.received, "hello from a");
    CHECK_EQ_INT(h.a.close_calls, 1);
    CHECK_EQ_INT(h.b.close_calls, 1);
}

TEST(iceuv_close_before_gather_calls_on_close_once)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    camrtc_iceuv_config cfg = loopback_config(true);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &cfg, &cbs, &h.a, &h.a.u), CAMRTC_OK);
    camrtc_iceuv_close(h.a.u);
    camrtc_iceuv_close(h.a.u);   /* idempotent */
    CHECK(!h.a.closed);          /* on_close only from the loop */
    CHECK_EQ_INT(harness_run(&h), 0);
    CHECK(!h.timed_out);
    CHECK_EQ_INT(h.a.close_calls, 1);
}

TEST(iceuv_refuses_bad_urls_and_late_servers)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    camrtc_iceuv_config cfg = loopback_config(true);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &cfg, &cbs, &h.a, &h.a.u), CAMRTC_OK);
    CHECK(camrtc_iceuv_add_server(h.a.u, "http://127.0.0.1:3478", NULL, NULL) < 0);
    CHECK(camrtc_iceuv_add_server(h.a.u, "turn:", "u", "p") < 0);
    CHECK_EQ_INT(camrtc_iceuv_add_remote_candidate(h.a.u, "candidate:not a candidate"), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_iceuv_send(h.a.u, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_iceuv_gather(h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_add_server(h.a.u, "stun:127.0.0.1:3478", NULL, NULL), CAMRTC_ESTATE);
    camrtc_iceuv_close(h.a.u);
    CHECK_EQ_INT(camrtc_iceuv_send(h.a.u, (const uint8_t *)"x", 1), CAMRTC_ECLOSED);
    CHECK_EQ_INT(harness_run(&h), 0);
    CHECK(!h.timed_out);
    CHECK_EQ_INT(h.a.close_calls, 1);
}

/* A TCP port with nothing listening: bind one, read its number, close it. */
static uint16_t closed_tcp_port(uv_loop_t *loop)
{
    uv_tcp_t t;
    struct sockaddr_in sin;
    struct sockaddr_storage ss;
    int len = (int)sizeof ss;
    uv_ip4_addr("127.0.0.1", 0, &sin);
    uv_tcp_init(loop, &t);
    uint16_t port = 0;
    if (uv_tcp_bind(&t, (const struct sockaddr *)&sin, 0) == 0 &&
        uv_tcp_getsockname(&t, (struct sockaddr *)&ss, &len) == 0)
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return port;
}

static void on_event_gather_only(camrtc_iceuv *u, void *ud, const camrtc_ice_event *ev)
{
    side *s = ud;
    if (ev->type == CAMRTC_ICE_EV_CANDIDATE)
        s->candidates++;
    if (ev->type == CAMRTC_ICE_EV_GATHERING_DONE && !s->gathered) {
        s->gathered = true;
        camrtc_iceuv_close(u);   /* from inside an event: acted on once the agent returns */
    }
}

TEST(iceuv_turn_tcp_refused_ends_gathering_without_relay)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    uint16_t port = closed_tcp_port(&h.loop);
    CHECK(port != 0);
    camrtc_iceuv_config cfg = loopback_config(true);
    cfg.ice.policy = CAMRTC_ICE_POLICY_RELAY;
    cfg.ice.gather_timeout = CAMRTC_MS(2000);
    static const camrtc_iceuv_callbacks gcb = { .on_event = on_event_gather_only, .on_close = on_close };
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &cfg, &gcb, &h.a, &h.a.u), CAMRTC_OK);
    char url[64];
    snprintf(url, sizeof url, "turn:127.0.0.1:%u?transport=tcp", (unsigned)port);
    CHECK_EQ_INT(camrtc_iceuv_add_server(h.a.u, url, "user", "pass"), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_gather(h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(harness_run(&h), 0);
    CHECK(!h.timed_out);
    CHECK(h.a.gathered);
    CHECK_EQ_INT(h.a.candidates, 0);   /* relay policy, and the relay failed */
    CHECK_EQ_INT(h.a.stats.streams_opened, 1);
    CHECK_EQ_INT(h.a.stats.streams_failed, 1);
    CHECK_EQ_INT(h.a.close_calls, 1);
}

int main(void)
{
    return RUN_TESTS(iceuv_loopback_connects_carries_data_and_closes, iceuv_close_before_gather_calls_on_close_once,
                     iceuv_refuses_bad_urls_and_late_servers, iceuv_turn_tcp_refused_ends_gathering_without_relay);
}
