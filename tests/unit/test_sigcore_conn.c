/* The signaling core's WebSocket side: refused upgrades, keepalive and dead connections,
 * graceful reconnects (connection limit, GO_AWAY) without losing messages, received message
 * handling, the send queue, the viewer table and stop. Virtual time, recording fake glue. */
#include "check.h"
#include "sigcore_fake.h"

#define OFFER_JSON "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}"
#define CAND_JSON "{\"candidate\":\"candidate:1 1 udp 2122260223 192.0.2.9 54321 typ host\",\"sdpMid\":\"0\"," \
    "\"sdpMLineIndex\":0}"

/* Start and answer the control plane up to the WebSocket upgrade (not opened). */
static bool to_upgrade(fake *f)
{
    return sigcore_start(f->c, f->now, fk_wall(f)) == 0 && fk_ok(f, FK_DESCRIBE, DESCRIBE_OK) &&
           fk_ok(f, FK_ENDPOINT, ENDPOINTS_OK) && fk_ok(f, FK_ICE, ICE_OK) && f->n_ws == 1;
}

static void refuse(fake *f, int status, const camrtc_kv *hd, size_t n)
{
    sigcore_ws_closed(f->c, fk_last_ws(f)->id, CAMRTC_EAUTH, status, hd, n, f->now, fk_wall(f));
}

TEST(refused_upgrade_routed_by_status)
{
    fake f;
    /* 403 → credentials. */
    CHECK(fk_init(&f, NULL, true));
    CHECK(to_upgrade(&f));
    refuse(&f, 403, NULL, 0);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_WAIT_CREDENTIALS);
    CHECK_EQ_INT(f.need_creds, 1);
    CHECK(fk_advance(&f, CAMRTC_SEC(11)));
    sigcore_set_credentials(f.c, &fk_creds, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(f.n_ws, 2);   /* the upgrade again, freshly presigned */
    CHECK_EQ_INT(f.n_http, 3);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->ws_failures, 1);
    fk_free(&f);

    /* 404 → drop the cache, Describe. */
    CHECK(fk_init(&f, NULL, true));
    CHECK(to_upgrade(&f));
    refuse(&f, 404, NULL, 0);
    CHECK_EQ_INT(f.last_cache.expires, 0);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_DESCRIBE);
    fk_free(&f);

    /* 502, or a TCP failure with no status → GetSignalingChannelEndpoint. */
    CHECK(fk_init(&f, NULL, true));
    CHECK(to_upgrade(&f));
    refuse(&f, 502, NULL, 0);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    refuse(&f, 0, NULL, 0);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    fk_free(&f);

    /* 403 whose Date shows our clock is off: presign again at once with the corrected clock. */
    CHECK(fk_init(&f, NULL, true));
    CHECK(to_upgrade(&f));
    char date[30], want[17], v[32];
    camrtc_time_http(fk_wall(&f) + 3600, date);
    camrtc_kv hd[1] = {{"Date", date}};
    refuse(&f, 403, hd, 1);
    CHECK_EQ_INT(f.n_ws, 2);
    CHECK_EQ_INT(f.need_creds, 0);
    camrtc_time_amz(fk_wall(&f) + 3600, want);
    CHECK_EQ_STR(fk_query(fk_last_ws(&f)->url, "X-Amz-Date", v, sizeof v), want);
    fk_free(&f);
}

TEST(upgrade_deadline_closes_and_retries)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(to_upgrade(&f));
    fk_ws *w = fk_last_ws(&f);
    CHECK(fk_advance(&f, CAMRTC_SEC(5) - 1));
    CHECK(!w->close_asked);
    CHECK(fk_advance(&f, 1));
    CHECK(w->close_asked);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    /* The abandoned socket opening late is closed again and changes nothing. */
    sigcore_ws_open(f.c, w->id, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_GET_ENDPOINT);
    fk_free(&f);
}

TEST(ping_when_idle_dead_after_pong_timeout_then_direct_reconnect)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    f.auto_pong = false;
    uint32_t id = fk_last_ws(&f)->id;
    camrtc_time_us t0 = f.now;
    /* A message at 9 s postpones the ping. */
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(9)));
    CHECK_EQ_INT(f.n_pings, 0);
    fk_deliver_msg(&f, id, CAMRTC_SIGMSG_SDP_OFFER, "viewer-1", OFFER_JSON);
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(19) - 1));
    CHECK_EQ_INT(f.n_pings, 0);
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(19)));
    CHECK_EQ_INT(f.n_pings, 1);
    CHECK_EQ_INT(f.pings[0], id);
    /* A pong keeps it alive: the next ping is ping_interval after it. */
    f.now += CAMRTC_SEC(1);
    sigcore_ws_pong(f.c, id, f.now);
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(30) - 1));
    CHECK_EQ_INT(f.n_pings, 1);
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(30)));
    CHECK_EQ_INT(f.n_pings, 2);
    /* Silence for pong_timeout: dead. */
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(35) - 1));
    CHECK(!f.ws[0].close_asked);
    size_t calls = f.n_http;
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(35)));
    CHECK(f.ws[0].close_asked);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->dead_connections, 1);
    CHECK(sigcore_get_state(f.c) != SIGCORE_CONNECTED);
    /* Straight back with a fresh presigned URL; no control-plane call. */
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(f.n_ws, 2);
    CHECK_EQ_INT(f.n_http, calls);
    CHECK(fk_last_ws(&f)->id != id);
    sigcore_ws_open(f.c, fk_last_ws(&f)->id, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->reconnects, 1);
    /* A message on the dead one (closing) is still delivered; its close changes nothing. */
    fk_deliver_msg(&f, id, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON);
    CHECK_EQ_INT(f.n_messages, 2);
    sigcore_ws_closed(f.c, id, 0, 0, NULL, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    fk_free(&f);
}

TEST(direct_reconnect_failure_falls_back_to_routing)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    uint32_t id = fk_last_ws(&f)->id;
    sigcore_ws_closed(f.c, id, CAMRTC_ECLOSED, 0, NULL, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(f.n_ws, 2);
    refuse(&f, 500, NULL, 0);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    CHECK_EQ_INT(f.n_ws, 3);
    fk_free(&f);
}

/* Every correlation id sent, in order, with the socket it went on. */
static size_t sent_on(const fake *f, uint32_t ws_id)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_sends; i++)
        n += f->sends[i].ws_id == ws_id;
    return n;
}

static bool sent_once(const fake *f, const char *corr)
{
    size_t n = 0;
    char needle[4096];
    snprintf(needle, sizeof needle, "\"CorrelationId\":\"%s\"", corr);
    for (size_t i = 0; i < f->n_sends; i++)
        n += strstr(f->sends[i].text, needle) != NULL;
    return n == 1;
}

TEST(connection_limit_graceful_reconnect_loses_nothing)
{
    sigcore_config cfg = fk_config();
    cfg.max_connection = CAMRTC_SEC(60);
    fake f;
    CHECK(fk_init(&f, &cfg, true));
    /* Queued before the first connection, flushed in order when it opens. */
    char corr[8][CAMRTC_SIGMSG_MAX_ID + 1];
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), corr[0],
                              sizeof corr[0], f.now), 0);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON, strlen(CAND_JSON), corr[1],
                              sizeof corr[1], f.now), 0);
    CHECK_EQ_INT(f.n_sends, 0);
    CHECK(fk_connect(&f));
    uint32_t old = fk_last_ws(&f)->id;
    CHECK_EQ_INT(f.n_sends, 2);
    CHECK(strstr(f.sends[0].text, corr[0]));
    CHECK(strstr(f.sends[1].text, corr[1]));
    camrtc_time_us t0 = f.now;
    size_t states = f.n_states, calls = f.n_http;

    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(60) - 1));
    CHECK_EQ_INT(f.n_ws, 1);
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(60)));
    /* A second socket, old one still up and still used. */
    CHECK_EQ_INT(f.n_ws, 2);
    CHECK_EQ_INT(f.n_http, calls);
    uint32_t nw = fk_last_ws(&f)->id;
    CHECK(nw != old);
    CHECK(!f.ws[0].close_asked);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    /* While the replacement opens, sends are held: the service may already have
     * retired the old connection once it saw the new upgrade. */
    int sends_before = f.n_sends;
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON, strlen(CAND_JSON), corr[2],
                              sizeof corr[2], f.now), 0);
    CHECK_EQ_INT(f.n_sends, sends_before);
    fk_deliver_msg(&f, old, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON);
    CHECK_EQ_INT(f.n_messages, 1);

    /* The new one opens: sending moves, then the old one is closed. */
    f.now += CAMRTC_MS(300);
    sigcore_ws_open(f.c, nw, f.now, fk_wall(&f));
    CHECK(f.ws[0].close_asked);
    CHECK(!f.ws[1].close_asked);
    CHECK_EQ_INT(f.sends[f.n_sends - 1].ws_id, nw);   /* the held message went out on the new one */
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON, strlen(CAND_JSON), corr[3],
                              sizeof corr[3], f.now), 0);
    CHECK_EQ_INT(f.sends[f.n_sends - 1].ws_id, nw);
    /* Whatever was still in flight on the old one is delivered. */
    fk_deliver_msg(&f, old, CAMRTC_SIGMSG_SDP_OFFER, "viewer-2", OFFER_JSON);
    fk_deliver_msg(&f, nw, CAMRTC_SIGMSG_SDP_OFFER, "viewer-3", OFFER_JSON);
    CHECK_EQ_INT(f.n_messages, 3);
    sigcore_ws_closed(f.c, old, 0, 0, NULL, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    CHECK_EQ_INT(f.n_states, states);   /* never left "connected" */
    for (int i = 0; i < 4; i++)
        CHECK(sent_once(&f, corr[i]));
    CHECK_EQ_INT(sent_on(&f, old), 2);
    CHECK_EQ_INT(sent_on(&f, nw), 2);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->messages_out, 4);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->reconnects, 1);
    /* And again an hour-slice later from the new connection's start. */
    CHECK(fk_run_to(&f, f.now + CAMRTC_SEC(60)));
    CHECK_EQ_INT(f.n_ws, 3);
    fk_free(&f);
}

TEST(go_away_describes_then_reconnects_gracefully)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    uint32_t old = fk_last_ws(&f)->id;
    size_t calls = f.n_http;
    fk_deliver_msg(&f, old, CAMRTC_SIGMSG_GO_AWAY, NULL, NULL);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->go_aways, 1);
    CHECK_EQ_INT(f.n_http, calls + 1);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_DESCRIBE);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    char corr[CAMRTC_SIGMSG_MAX_ID + 1];
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), corr,
                              sizeof corr, f.now), 0);
    CHECK_EQ_INT(f.sends[f.n_sends - 1].ws_id, old);
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    CHECK_EQ_INT(f.n_ws, 2);
    CHECK(!f.ws[0].close_asked);
    uint32_t nw = fk_last_ws(&f)->id;
    sigcore_ws_open(f.c, nw, f.now, fk_wall(&f));
    CHECK(f.ws[0].close_asked);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), corr,
                              sizeof corr, f.now), 0);
    CHECK_EQ_INT(f.sends[f.n_sends - 1].ws_id, nw);
    /* The old socket's close does not disturb anything. */
    sigcore_ws_closed(f.c, old, 0, 0, NULL, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    fk_free(&f);
}

TEST(go_away_while_old_connection_drops)
{
    /* The service closes the old socket before the replacement is ready: the flow goes on. */
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    uint32_t old = fk_last_ws(&f)->id;
    fk_deliver_msg(&f, old, CAMRTC_SIGMSG_GO_AWAY, NULL, NULL);
    sigcore_ws_closed(f.c, old, 0, 0, NULL, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_DESCRIBE);
    char corr[CAMRTC_SIGMSG_MAX_ID + 1];
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), corr,
                              sizeof corr, f.now), 0);
    size_t sends = f.n_sends;
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    sigcore_ws_open(f.c, fk_last_ws(&f)->id, f.now, fk_wall(&f));
    CHECK_EQ_INT(f.n_sends, sends + 1);   /* the queued answer */
    CHECK(sent_once(&f, corr));
    fk_free(&f);
}

TEST(reconnect_ice_server_fetches_new_config)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    size_t calls = f.n_http;
    fk_deliver_msg(&f, fk_last_ws(&f)->id, CAMRTC_SIGMSG_RECONNECT_ICE_SERVER, NULL, NULL);
    CHECK_EQ_INT(f.n_http, calls + 1);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ICE);
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    CHECK_EQ_INT(f.n_ice, 2);
    CHECK_EQ_INT(f.n_ws, 1);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    /* A failed refresh backs off and tries again; the connection stays. */
    fk_deliver_msg(&f, fk_last_ws(&f)->id, CAMRTC_SIGMSG_RECONNECT_ICE_SERVER, NULL, NULL);
    fk_answer(&f, fk_last_http(&f), 500, NULL, "{}");
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    CHECK_EQ_INT(f.n_ice, 3);
    CHECK_EQ_INT(f.n_ws, 1);
    fk_free(&f);
}

TEST(oversize_malformed_unknown_dropped_and_counted)
{
    sigcore_config cfg = fk_config();
    cfg.max_message = 600;
    fake f;
    CHECK(fk_init(&f, &cfg, true));
    CHECK(fk_connect(&f));
    uint32_t id = fk_last_ws(&f)->id;
    char big[2048];
    snprintf(big, sizeof big, "{\"type\":\"offer\",\"sdp\":\"%0900d\"}", 0);
    fk_deliver_msg(&f, id, CAMRTC_SIGMSG_SDP_OFFER, "viewer-1", big);
    fk_deliver(&f, id, "not json");
    fk_deliver(&f, id, "{\"messageType\":\"SDP_OFFER\",\"senderClientId\":\"bad id!\",\"messagePayload\":\"e30=\"}");
    fk_deliver(&f, id, "{\"messageType\":\"SDP_OFFER\"}");
    fk_deliver(&f, id, "{\"messageType\":\"NEW_THING\",\"messagePayload\":\"e30=\"}");
    const sigcore_stats *st = sigcore_get_stats(f.c);
    CHECK_EQ_INT(st->dropped_too_large, 1);
    CHECK_EQ_INT(st->dropped_malformed, 3);
    CHECK_EQ_INT(st->dropped_unknown_type, 1);
    CHECK_EQ_INT(st->messages_in, 0);
    CHECK_EQ_INT(f.n_messages, 0);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    fk_deliver_msg(&f, id, CAMRTC_SIGMSG_SDP_OFFER, "viewer-1", OFFER_JSON);
    CHECK_EQ_INT(f.n_messages, 1);
    CHECK_EQ_INT(f.last_msg_type, CAMRTC_SIGMSG_SDP_OFFER);
    CHECK_EQ_STR(f.last_msg_peer, "viewer-1");
    fk_free(&f);
}

TEST(status_response_surfaced_with_correlation_id)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    char corr[CAMRTC_SIGMSG_MAX_ID + 1];
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), corr,
                              sizeof corr, f.now), 0);
    char text[600];
    snprintf(text, sizeof text,
             "{\"senderClientId\":\"\",\"messageType\":\"STATUS_RESPONSE\",\"statusResponse\":{\"correlationId\":"
             "\"%s\",\"errorType\":\"InvalidArgumentException\",\"statusCode\":\"400\",\"description\":\"no\"}}",
             corr);
    fk_deliver(&f, fk_last_ws(&f)->id, text);
    CHECK_EQ_INT(f.n_status, 1);
    CHECK_EQ_STR(f.last_status_corr, corr);
    CHECK_EQ_INT(f.last_status_code, 400);
    CHECK_EQ_INT(f.n_messages, 0);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->status_responses, 1);
    fk_free(&f);
}

TEST(sent_message_is_pascal_case_with_fresh_correlation_ids)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    char c1[CAMRTC_SIGMSG_MAX_ID + 1], c2[CAMRTC_SIGMSG_MAX_ID + 1];
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), c1,
                              sizeof c1, f.now), 0);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), c2,
                              sizeof c2, f.now), 0);
    CHECK(strcmp(c1, c2) != 0);
    CHECK(camrtc_str_is_name(c1, strlen(c1), CAMRTC_SIGMSG_MAX_ID));
    const char *t = f.sends[0].text;
    CHECK(strstr(t, "\"action\":\"SDP_ANSWER\""));
    CHECK(strstr(t, "\"RecipientClientId\":\"viewer-1\""));
    CHECK(strstr(t, "\"MessagePayload\":\""));
    /* What the service would parse out of it. */
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    CHECK_EQ_INT(camrtc_sigmsg_parse_from_client(t, strlen(t), &m, NULL, 0), 0);
    CHECK_EQ_STR(m.correlation_id, c1);
    camrtc_buf b;
    memset(&b, 0, sizeof b);
    CHECK_EQ_INT(camrtc_sigmsg_get_payload_json(&m, &b), 0);
    CHECK_EQ_STR(camrtc_buf_cstr(&b), OFFER_JSON);
    camrtc_buf_free(&b);
    camrtc_sigmsg_clear(&m);
    /* Bad input. */
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, NULL, OFFER_JSON, strlen(OFFER_JSON), NULL, 0, f.now),
                 CAMRTC_EINVAL);   /* a master must name the viewer */
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_GO_AWAY, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), NULL, 0,
                              f.now), CAMRTC_EINVAL);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "bad id", OFFER_JSON, strlen(OFFER_JSON), NULL, 0,
                              f.now), CAMRTC_EINVAL);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, 0, NULL, 0, f.now),
                 CAMRTC_EINVAL);
    static char huge[CAMRTC_SIGMSG_MAX_PAYLOAD + 2];
    memset(huge, 'a', sizeof huge - 1);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", huge, strlen(huge), NULL, 0, f.now),
                 CAMRTC_ETOOBIG);
    char tiny[2];
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), tiny,
                              sizeof tiny, f.now), CAMRTC_EINVAL);
    CHECK_EQ_INT(f.n_sends, 2);
    fk_free(&f);

    /* A viewer sends to the master: no recipient. */
    sigcore_config cfg = fk_config();
    cfg.viewer = true;
    cfg.client_id = "viewer-7";
    CHECK(fk_init(&f, &cfg, true));
    CHECK(fk_connect(&f));
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_OFFER, NULL, OFFER_JSON, strlen(OFFER_JSON), NULL, 0, f.now), 0);
    CHECK(!strstr(f.sends[0].text, "RecipientClientId"));
    fk_free(&f);
}

TEST(queue_bound_gives_elimit)
{
    sigcore_config cfg = fk_config();
    cfg.max_queued = 3;
    fake f;
    CHECK(fk_init(&f, &cfg, true));
    char corr[4][CAMRTC_SIGMSG_MAX_ID + 1];
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON, strlen(CAND_JSON),
                                  corr[i], sizeof corr[i], f.now), 0);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON, strlen(CAND_JSON), corr[3],
                              sizeof corr[3], f.now), CAMRTC_ELIMIT);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->queued_dropped, 1);
    CHECK(fk_connect(&f));
    CHECK_EQ_INT(f.n_sends, 3);
    for (int i = 0; i < 3; i++)
        CHECK(strstr(f.sends[i].text, corr[i]));
    /* Connected: no queue, no limit. */
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", CAND_JSON, strlen(CAND_JSON), NULL,
                                  0, f.now), 0);
    CHECK_EQ_INT(f.n_sends, 13);
    fk_free(&f);
}

TEST(viewer_table_keeps_ten_most_recent)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    uint32_t id = fk_last_ws(&f)->id;
    char name[16];
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof name, "v%d", i);
        fk_deliver_msg(&f, id, CAMRTC_SIGMSG_SDP_OFFER, name, OFFER_JSON);
    }
    fk_deliver_msg(&f, id, CAMRTC_SIGMSG_ICE_CANDIDATE, "v3", CAND_JSON);
    const char *ids[16];
    CHECK_EQ_INT(sigcore_viewers(f.c, ids, 16), 10);
    CHECK_EQ_STR(ids[0], "v3");
    CHECK_EQ_STR(ids[1], "v11");
    CHECK_EQ_STR(ids[2], "v10");
    CHECK_EQ_STR(ids[8], "v4");
    CHECK_EQ_STR(ids[9], "v2");
    CHECK_EQ_INT(sigcore_viewers(f.c, ids, 2), 2);
    CHECK_EQ_INT(f.n_messages, 13);
    fk_free(&f);
}

TEST(stop_closes_and_reports_stopped)
{
    /* Connected: close, wait for the glue's confirmation. */
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), NULL, 0,
                              f.now), 0);
    sigcore_stop(f.c, f.now);
    CHECK(f.ws[0].close_asked);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_STOPPING);
    CHECK_EQ_INT(sigcore_send(f.c, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", OFFER_JSON, strlen(OFFER_JSON), NULL, 0,
                              f.now), CAMRTC_ESTATE);
    fk_deliver_msg(&f, f.ws[0].id, CAMRTC_SIGMSG_SDP_OFFER, "viewer-1", OFFER_JSON);
    CHECK_EQ_INT(f.n_messages, 0);
    sigcore_ws_closed(f.c, f.ws[0].id, 0, 0, NULL, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_STOPPED);
    CHECK_EQ_INT(f.states[f.n_states - 1], SIGCORE_STOPPED);
    CHECK_EQ_INT(sigcore_next_timeout(f.c), CAMRTC_TIME_NEVER);
    fk_free(&f);

    /* A request in flight: cancelled, stopped at once. */
    CHECK(fk_init(&f, NULL, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    sigcore_stop(f.c, f.now);
    CHECK(fk_last_http(&f)->cancelled);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_STOPPED);
    fk_answer(&f, fk_last_http(&f), 200, NULL, DESCRIBE_OK);   /* late: ignored */
    CHECK_EQ_INT(f.n_http, 1);
    fk_free(&f);

    /* The glue never confirms the close: stopped after the deadline anyway. */
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    sigcore_stop(f.c, f.now);
    CHECK(fk_advance(&f, CAMRTC_SEC(6)));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_STOPPED);
    fk_free(&f);

    /* While backing off: nothing left, stopped at once; no timer fires afterwards. */
    CHECK(fk_init(&f, NULL, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    fk_answer(&f, fk_last_http(&f), 500, NULL, "{}");
    sigcore_stop(f.c, f.now);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_STOPPED);
    CHECK(fk_advance(&f, CAMRTC_SEC(60)));
    CHECK_EQ_INT(f.n_http, 1);
    fk_free(&f);
}

TEST(new_rejects_bad_configuration)
{
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 1), 0);
    sigcore_io io = {.http = fk_io_http, .ws_open = fk_io_ws_open, .ws_send = fk_io_ws_send,
                     .ws_close = fk_io_ws_close};
    char err[200];
    sigcore_config cfg = fk_config();
    sigcore *c = sigcore_new(&cfg, &io, NULL, &rng, NULL, err, sizeof err);
    CHECK(c);
    sigcore_free(c);
    struct { const char *name, *arn, *client, *region; bool viewer; } bad[] = {
        {NULL, NULL, NULL, "us-west-2", false},            /* no channel */
        {"bad name", NULL, NULL, "us-west-2", false},
        {NULL, "not-an-arn", NULL, "us-west-2", false},
        {"cam-1", NULL, NULL, "us-west-2", true},          /* viewer without id */
        {"cam-1", NULL, "AWS_x", "us-west-2", true},
        {"cam-1", NULL, "a b", "us-west-2", true},
        {"cam-1", NULL, NULL, NULL, false},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg = fk_config();
        cfg.channel_name = bad[i].name;
        cfg.channel_arn = bad[i].arn;
        cfg.client_id = bad[i].client;
        cfg.viewer = bad[i].viewer;
        cfg.region = bad[i].region;
        err[0] = '\0';
        c = sigcore_new(&cfg, &io, NULL, &rng, NULL, err, sizeof err);
        if (c) {
            fprintf(stderr, "case %zu accepted\n", i);
            sigcore_free(c);
            CHECK(!c);
        }
        CHECK(err[0]);
    }
    io.ws_send = NULL;
    cfg = fk_config();
    CHECK(!sigcore_new(&cfg, &io, NULL, &rng, NULL, err, sizeof err));
    camrtc_rng_free(&rng);
}

TEST(credentials_never_logged)
{
    FILE *out = tmpfile();
    CHECK(out);
    camrtc_log lg = {CAMRTC_LOG_TRACE, out};
    fake f;
    CHECK(fk_init(&f, NULL, true));
    sigcore_free(f.c);
    sigcore_io io = {
        .http = fk_io_http, .http_cancel = fk_io_http_cancel, .ws_open = fk_io_ws_open, .ws_send = fk_io_ws_send,
        .ws_ping = fk_io_ws_ping, .ws_close = fk_io_ws_close, .need_credentials = fk_io_need_credentials,
        .state = fk_io_state, .message = fk_io_message,
    };
    sigcore_config cfg = fk_config();
    f.c = sigcore_new(&cfg, &io, &f, &f.rng, &lg, NULL, 0);
    CHECK(f.c);
    camrtc_aws_creds cr = {"AKIDLOGGED", "SECRETSHOULDNOTAPPEAR", "TOKENSHOULDNOTAPPEAR"};
    sigcore_set_credentials(f.c, &cr, 0, f.now, fk_wall(&f));
    CHECK(fk_connect(&f));
    fk_deliver(&f, fk_last_ws(&f)->id, "{\"messageType\":\"SDP_OFFER\",\"senderClientId\":\"v\","
                                       "\"messagePayload\":\"UEFZTE9BRFNFQ1JFVA==\",\"x\":1,\"x\":2}");
    fk_answer(&f, &f.http[0], 403, "AccessDeniedException", "{}");
    refuse(&f, 403, NULL, 0);
    sigcore_stop(f.c, f.now);
    fk_free(&f);
    fflush(out);
    rewind(out);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = '\0';
    fclose(out);
    CHECK(n > 0);
    CHECK(strstr(text, "AKIDLOGGED"));
    CHECK(!strstr(text, "SECRETSHOULDNOTAPPEAR"));
    CHECK(!strstr(text, "TOKENSHOULDNOTAPPEAR"));
    CHECK(!strstr(text, "X-Amz-Signature"));
    CHECK(!strstr(text, "UEFZTE9BRFNFQ1JFVA"));   /* nor a payload */
}

int main(void)
{
    return RUN_TESTS(refused_upgrade_routed_by_status, upgrade_deadline_closes_and_retries,
                     ping_when_idle_dead_after_pong_timeout_then_direct_reconnect,
                     direct_reconnect_failure_falls_back_to_routing,
                     connection_limit_graceful_reconnect_loses_nothing, go_away_describes_then_reconnects_gracefully,
                     go_away_while_old_connection_drops, reconnect_ice_server_fetches_new_config,
                     oversize_malformed_unknown_dropped_and_counted, status_response_surfaced_with_correlation_id,
                     sent_message_is_pascal_case_with_fresh_correlation_ids, queue_bound_gives_elimit,
                     viewer_table_keeps_ten_most_recent, stop_closes_and_reports_stopped,
                     new_rejects_bad_configuration, credentials_never_logged);
}
