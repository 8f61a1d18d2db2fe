/* The libuv ICE adapter: two adapters on one loop over 127.0.0.1 find each other, carry
 * data both ways and close; the lifecycle edges (close before gathering, bad URLs, a TURN
 * stream that cannot connect). Every run is bounded by a uv timer that fails the test. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "camrtc/error.h"
#include "camrtc/iceuv.h"
#include "camrtc/kvs.h"
#include "camrtc/stun.h"
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

/* A UDP "TURN server" for which every 5-tuple is taken: it answers each request with 437
 * (RFC 8656 §7.2) and notes the source ports. The agent clears, then moves the allocation to
 * a fresh socket from the adapter (io.open_udp), CAMRTC_ICE_TURN_MOVES times, then gives up. */
typedef struct taken_server {
    harness h;                   /* first: side.h points here */
    uv_udp_t udp;
    unsigned requests;
    uint16_t ports[8];
    unsigned nports;
    uint8_t rbuf[1500];
} taken_server;

static void taken_alloc(uv_handle_t *hd, size_t suggested, uv_buf_t *buf)
{
    taken_server *t = hd->data;
    buf->base = (char *)t->rbuf;
    buf->len = sizeof t->rbuf;
}

static void taken_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from, unsigned flags)
{
    taken_server *t = u->data;
    camrtc_stun_msg m;
    if (n > 0 && from && camrtc_stun_parse(&m, (const uint8_t *)buf->base, (size_t)n) == CAMRTC_OK &&
        camrtc_stun_class(m.type) == CAMRTC_STUN_REQUEST) {
        t->requests++;
        uint16_t port = ntohs(((const struct sockaddr_in *)from)->sin_port);
        bool seen = false;
        for (unsigned i = 0; i < t->nports; i++)
            seen |= t->ports[i] == port;
        if (!seen && t->nports < 8)
            t->ports[t->nports++] = port;
        uint8_t out[128];
        camrtc_stun_builder b;
        camrtc_stun_build_init(&b, out, sizeof out, camrtc_stun_type(camrtc_stun_method(m.type), CAMRTC_STUN_ERROR),
                               m.txid);
        camrtc_stun_add_error(&b, 437, "Allocation Mismatch");
        camrtc_stun_add_fingerprint(&b);
        int len = camrtc_stun_build_finish(&b);
        if (len > 0)
            uv_udp_try_send(u, &(uv_buf_t){.base = (char *)out, .len = (size_t)len}, 1, from);
    }
}

static void taken_on_close(camrtc_iceuv *u, void *ud)
{
    side *s = ud;
    on_close(u, ud);
    uv_close((uv_handle_t *)&((taken_server *)s->h)->udp, NULL);
}

TEST(iceuv_turn_udp_moves_to_fresh_sockets_while_the_server_answers_437)
{
    taken_server t;
    CHECK_EQ_INT(harness_init(&t.h), 0);
    t.requests = t.nports = 0;
    struct sockaddr_in sin;
    struct sockaddr_storage ss;
    int sslen = (int)sizeof ss;
    uv_ip4_addr("127.0.0.1", 0, &sin);
    uv_udp_init(&t.h.loop, &t.udp);
    t.udp.data = &t;
    CHECK_EQ_INT(uv_udp_bind(&t.udp, (const struct sockaddr *)&sin, 0), 0);
    CHECK_EQ_INT(uv_udp_getsockname(&t.udp, (struct sockaddr *)&ss, &sslen), 0);
    CHECK_EQ_INT(uv_udp_recv_start(&t.udp, taken_alloc, taken_recv), 0);
    camrtc_iceuv_config cfg = loopback_config(true);
    cfg.ice.policy = CAMRTC_ICE_POLICY_RELAY;
    static const camrtc_iceuv_callbacks gcb = { .on_event = on_event_gather_only, .on_close = taken_on_close };
    CHECK_EQ_INT(camrtc_iceuv_new(&t.h.loop, &cfg, &gcb, &t.h.a, &t.h.a.u), CAMRTC_OK);
    char url[64];
    snprintf(url, sizeof url, "turn:127.0.0.1:%u", (unsigned)ntohs(((struct sockaddr_in *)&ss)->sin_port));
    CHECK_EQ_INT(camrtc_iceuv_add_server(t.h.a.u, url, "user", "pass"), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_gather(t.h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(harness_run(&t.h), 0);
    CHECK(!t.h.timed_out);
    CHECK(t.h.a.gathered);
    CHECK_EQ_INT(t.h.a.candidates, 0);
    /* Allocate, clearing Refresh, Allocate: from the host socket, then from each fresh one. */
    CHECK_EQ_INT(t.nports, 1 + CAMRTC_ICE_TURN_MOVES);
    CHECK_EQ_INT(t.requests, 3 * (1 + CAMRTC_ICE_TURN_MOVES));
    CHECK_EQ_INT(t.h.a.close_calls, 1);
}

/* ---- GetIceServerConfig → servers ------------------------------------------------------ */

/* A GetIceServerConfig answer shaped as AWS sends it (KVS us-west-2, 2024): two entries,
 * each one TURN server by three URIs (turn: UDP, turns: "UDP" i.e. DTLS, turns: TCP i.e. TLS)
 * with its own REST credentials ("<expiry>:<base64 of the channel>", base64 HMAC), Ttl 300.
 * %s are the hosts: the real names (35-90-63-38.t-ae7dd61a.kinesisvideo.us-west-2.amazonaws.com)
 * for the parser, numeric addresses for the adapter, which would otherwise look them up. */
static const char aws_ice_fmt[] =
    "{\"IceServerList\":[{\"Password\":\"H8TZ5pAjOkalNVQJ5UgQt3Godj3URm/3lsfcJYLMwOs=\",\"Ttl\":300,"
    "\"Uris\":[\"turn:%s:443?transport=udp\",\"turns:%s:443?transport=udp\",\"turns:%s:443?transport=tcp\"],"
    "\"Username\":\"1733547000:djE6YXJuOmF3czpraW5lc2lzdmlkZW86dXMtd2VzdC0yOjExMTEyMjIyMzMzMzpjaGFubmVsL2RlbW8vMTcwMDAwMDAwMDAwMA==\"},"
    "{\"Password\":\"7Kw5G4K9SpLYEvibvZiTg48uoa5vJ7X3I/MxCkmBqAs=\",\"Ttl\":300,"
    "\"Uris\":[\"turn:%s:443?transport=udp\",\"turns:%s:443?transport=udp\",\"turns:%s:443?transport=tcp\"],"
    "\"Username\":\"1733547001:djE6YXJuOmF3czpraW5lc2lzdmlkZW86dXMtd2VzdC0yOjExMTEyMjIyMzMzMzpjaGFubmVsL2RlbW8vMTcwMDAwMDAwMDAwMA==\"}]}";

static int parse_aws_body(const char *h1, const char *h2, camrtc_kvs_ice_config *out)
{
    char body[2048];
    int n = snprintf(body, sizeof body, aws_ice_fmt, h1, h1, h1, h2, h2, h2);
    if (n < 0 || (size_t)n >= sizeof body)
        return CAMRTC_ETOOBIG;
    return camrtc_kvs_parse_ice_config((const uint8_t *)body, (size_t)n, out);
}

static void check_server(const camrtc_iceuv *u, unsigned i, camrtc_ice_transport transport, const char *host,
                         uint16_t port, const char *user, const char *pass)
{
    camrtc_iceuv_server_info si;
    CHECK_EQ_INT(camrtc_iceuv_get_server(u, i, &si), CAMRTC_OK);
    CHECK(si.url->turn);
    CHECK_EQ_INT(si.url->transport, transport);
    CHECK_EQ_STR(si.url->host, host);
    CHECK_EQ_INT(si.url->port, port);
    CHECK_EQ_STR(si.username ? si.username : "(none)", user ? user : "(none)");
    CHECK_EQ_STR(si.password ? si.password : "(none)", pass ? pass : "(none)");
}

/* Closes u at once and runs the loop to on_close: the stats are read there. */
static void close_and_run(harness *h, camrtc_iceuv *u)
{
    camrtc_iceuv_close(u);
    CHECK_EQ_INT(harness_run(h), 0);
    CHECK(!h->timed_out);
}

TEST(iceuv_kvs_aws_config_takes_turn_udp_and_tls_skips_dtls)
{
    /* The real names fit the parser's fields. */
    camrtc_kvs_ice_config real;
    CHECK_EQ_INT(parse_aws_body("35-90-63-38.t-ae7dd61a.kinesisvideo.us-west-2.amazonaws.com",
                                "54-188-75-37.t-ae7dd61a.kinesisvideo.us-west-2.amazonaws.com", &real), CAMRTC_OK);
    CHECK_EQ_INT(real.n_servers, 2);
    CHECK_EQ_INT(real.servers[1].n_uris, 3);
    CHECK_EQ_STR(real.servers[1].uris[2], "turns:54-188-75-37.t-ae7dd61a.kinesisvideo.us-west-2.amazonaws.com:443?transport=tcp");

    camrtc_kvs_ice_config cfg;
    CHECK_EQ_INT(parse_aws_body("127.0.0.1", "127.0.0.2", &cfg), CAMRTC_OK);
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    camrtc_iceuv_config c = loopback_config(true);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &c, &cbs, &h.a, &h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_add_kvs_servers(h.a.u, &cfg), 4);
    CHECK_EQ_INT(camrtc_iceuv_get_stats(h.a.u)->servers_skipped, 2);   /* the two turns:?transport=udp */
    CHECK_EQ_INT(camrtc_iceuv_server_count(h.a.u), 4);
    const camrtc_kvs_ice_server *s1 = &cfg.servers[0], *s2 = &cfg.servers[1];
    /* In the answer's order, each with its own entry's credentials. */
    check_server(h.a.u, 0, CAMRTC_ICE_UDP, "127.0.0.1", 443, s1->username, s1->password);
    check_server(h.a.u, 1, CAMRTC_ICE_TLS, "127.0.0.1", 443, s1->username, s1->password);
    check_server(h.a.u, 2, CAMRTC_ICE_UDP, "127.0.0.2", 443, s2->username, s2->password);
    check_server(h.a.u, 3, CAMRTC_ICE_TLS, "127.0.0.2", 443, s2->username, s2->password);
    CHECK(strncmp(s2->username, "1733547001:", 11) == 0);
    camrtc_iceuv_server_info si;
    CHECK_EQ_INT(camrtc_iceuv_get_server(h.a.u, 4, &si), CAMRTC_ENOTFOUND);
    close_and_run(&h, h.a.u);
    CHECK_EQ_INT(h.a.close_calls, 1);
    CHECK_EQ_INT(h.a.stats.servers_skipped, 2);
}

/* An entry of n URIs "turn:127.0.0.1:<first_port + k>" with credentials u/p. */
static void fill_turn_entry(camrtc_kvs_ice_server *s, size_t n, unsigned first_port)
{
    memset(s, 0, sizeof *s);
    for (size_t k = 0; k < n; k++)
        snprintf(s->uris[k], sizeof s->uris[k], "turn:127.0.0.1:%u", first_port + (unsigned)k);
    s->n_uris = n;
    snprintf(s->username, sizeof s->username, "u");
    snprintf(s->password, sizeof s->password, "p");
    s->ttl_s = 300;
}

TEST(iceuv_kvs_stun_without_credentials_bad_uris_skipped_not_fatal)
{
    camrtc_kvs_ice_config cfg;
    memset(&cfg, 0, sizeof cfg);
    camrtc_kvs_ice_server *s = &cfg.servers[0];
    fill_turn_entry(s, 4, 3478);
    snprintf(s->uris[0], sizeof s->uris[0], "stun:127.0.0.1:3478");
    snprintf(s->uris[1], sizeof s->uris[1], "stuns:127.0.0.1");                 /* unsupported */
    snprintf(s->uris[2], sizeof s->uris[2], "turn:bad host?transport=udp");    /* malformed */
    snprintf(s->uris[3], sizeof s->uris[3], "turn:127.0.0.1:3479?transport=tcp");
    fill_turn_entry(&cfg.servers[1], 1, 3480);      /* a TURN server without authentication */
    cfg.servers[1].username[0] = cfg.servers[1].password[0] = '\0';
    cfg.n_servers = 2;

    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    camrtc_iceuv_config c = loopback_config(true);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &c, &cbs, &h.a, &h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_add_kvs_servers(h.a.u, NULL), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_iceuv_add_kvs_servers(h.a.u, &cfg), 3);
    CHECK_EQ_INT(camrtc_iceuv_get_stats(h.a.u)->servers_skipped, 2);
    camrtc_iceuv_server_info si;
    CHECK_EQ_INT(camrtc_iceuv_get_server(h.a.u, 0, &si), CAMRTC_OK);
    CHECK(!si.url->turn);
    CHECK(si.username == NULL && si.password == NULL);   /* STUN takes no credentials */
    check_server(h.a.u, 1, CAMRTC_ICE_TCP, "127.0.0.1", 3479, "u", "p");
    check_server(h.a.u, 2, CAMRTC_ICE_UDP, "127.0.0.1", 3480, NULL, NULL);
    /* After gathering was asked for, nothing more is taken. */
    CHECK_EQ_INT(camrtc_iceuv_gather(h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_add_kvs_servers(h.a.u, &cfg), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_iceuv_server_count(h.a.u), 3);
    close_and_run(&h, h.a.u);
    CHECK_EQ_INT(h.a.close_calls, 1);
}

TEST(iceuv_kvs_uris_past_the_server_bound_are_skipped_and_counted)
{
    camrtc_kvs_ice_config cfg;
    memset(&cfg, 0, sizeof cfg);
    for (size_t i = 0; i < 3; i++)
        fill_turn_entry(&cfg.servers[i], CAMRTC_KVS_MAX_ICE_URIS, 4000 + 10 * (unsigned)i);
    cfg.n_servers = 3;
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    camrtc_iceuv_config c = loopback_config(true);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &c, &cbs, &h.a, &h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_add_kvs_servers(h.a.u, &cfg), CAMRTC_ICEUV_MAX_SERVERS);
    CHECK_EQ_INT(camrtc_iceuv_get_stats(h.a.u)->servers_skipped, 3 * CAMRTC_KVS_MAX_ICE_URIS - CAMRTC_ICEUV_MAX_SERVERS);
    CHECK_EQ_INT(camrtc_iceuv_server_count(h.a.u), CAMRTC_ICEUV_MAX_SERVERS);
    /* The first ones in the answer's order are the ones kept. */
    check_server(h.a.u, CAMRTC_ICEUV_MAX_SERVERS - 1, CAMRTC_ICE_UDP, "127.0.0.1", 4013, "u", "p");
    close_and_run(&h, h.a.u);
    CHECK_EQ_INT(h.a.close_calls, 1);
}

/* Servers are made one by one as they are added: a driver with several (a name to
 * resolve, TURN over TCP to a closed port, STUN and TURN over UDP where nothing answers)
 * still connects to one with none, and both free everything on close (LSan in the
 * sanitizer build). */
TEST(iceuv_drivers_with_no_and_several_servers_connect_and_free_all)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    uint16_t port = closed_tcp_port(&h.loop);
    CHECK(port != 0);
    camrtc_iceuv_config ca = loopback_config(true), cb = loopback_config(false);
    ca.ice.gather_timeout = CAMRTC_MS(300);   /* the silent servers end gathering soon */
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &ca, &cbs, &h.a, &h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_new(&h.loop, &cb, &cbs, &h.b, &h.b.u), CAMRTC_OK);
    h.a.peer = &h.b;
    h.b.peer = &h.a;
    char tcp[64], udp[64];
    snprintf(tcp, sizeof tcp, "turn:localhost:%u?transport=tcp", (unsigned)port);
    snprintf(udp, sizeof udp, "turn:127.0.0.1:%u", (unsigned)port);
    CHECK_EQ_INT(camrtc_iceuv_add_server(h.a.u, tcp, "user", "pass"), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_add_server(h.a.u, udp, "user", NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_add_server(h.a.u, "stun:127.0.0.1:9", NULL, NULL), CAMRTC_OK);
    CHECK(camrtc_iceuv_add_server(h.a.u, "turn:", "u", "p") < 0);   /* refused: not counted */
    CHECK_EQ_INT(camrtc_iceuv_server_count(h.a.u), 3);
    CHECK_EQ_INT(camrtc_iceuv_server_count(h.b.u), 0);
    check_server(h.a.u, 0, CAMRTC_ICE_TCP, "localhost", port, "user", "pass");
    check_server(h.a.u, 1, CAMRTC_ICE_UDP, "127.0.0.1", port, "user", NULL);
    camrtc_ice_agent *aa = camrtc_iceuv_agent(h.a.u), *ab = camrtc_iceuv_agent(h.b.u);
    CHECK_EQ_INT(camrtc_iceuv_set_remote_credentials(h.a.u, camrtc_ice_local_ufrag(ab), camrtc_ice_local_pwd(ab)), 0);
    CHECK_EQ_INT(camrtc_iceuv_set_remote_credentials(h.b.u, camrtc_ice_local_ufrag(aa), camrtc_ice_local_pwd(aa)), 0);
    CHECK_EQ_INT(camrtc_iceuv_gather(h.a.u), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_iceuv_gather(h.b.u), CAMRTC_OK);
    CHECK(camrtc_iceuv_socket_count(h.a.u) >= 1);
    uv_timer_start(&h.resend, on_resend, RESEND_MS, RESEND_MS);
    CHECK_EQ_INT(harness_run(&h), 0);

    CHECK(!h.timed_out);
    CHECK(h.a.selected && h.b.selected);
    CHECK_EQ_STR(h.a.received, "hello from b");
    CHECK_EQ_STR(h.b.received, "hello from a");
    CHECK_EQ_INT(h.a.close_calls, 1);
    CHECK_EQ_INT(h.b.close_calls, 1);
}

int main(void)
{
    return RUN_TESTS(iceuv_loopback_connects_carries_data_and_closes, iceuv_close_before_gather_calls_on_close_once,
                     iceuv_refuses_bad_urls_and_late_servers, iceuv_turn_tcp_refused_ends_gathering_without_relay,
                     iceuv_turn_udp_moves_to_fresh_sockets_while_the_server_answers_437,
                     iceuv_kvs_aws_config_takes_turn_udp_and_tls_skips_dtls,
                     iceuv_kvs_stun_without_credentials_bad_uris_skipped_not_fatal,
                     iceuv_kvs_uris_past_the_server_bound_are_skipped_and_counted,
                     iceuv_drivers_with_no_and_several_servers_connect_and_free_all);
}
