/* The signaling core's control-plane flow: call order and bodies, the endpoint cache, clock
 * skew, error routing and backoff. Virtual time, a recording fake glue (sigcore_fake.h). */
#include "check.h"
#include "sigcore_fake.h"

TEST(full_flow_order_and_bodies)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    char v[1024];
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_NEW);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), CAMRTC_OK);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), CAMRTC_ESTATE);

    fk_http *h = fk_last_http(&f);
    CHECK_EQ_INT(f.n_http, 1);
    CHECK_EQ_INT(h->op, FK_DESCRIBE);
    CHECK_EQ_STR(h->url, CONTROL "/describeSignalingChannel");
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelName", NULL, v, sizeof v), "cam-1");
    CHECK_EQ_INT(fk_json_members(h->body), 1);
    CHECK(strstr(h->auth, "Credential=AKIDEXAMPLE/"));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_DESCRIBE);
    fk_answer(&f, h, 200, NULL, DESCRIBE_OK);

    h = fk_last_http(&f);
    CHECK_EQ_INT(f.n_http, 2);
    CHECK_EQ_INT(h->op, FK_ENDPOINT);
    CHECK_EQ_STR(h->url, CONTROL "/getSignalingChannelEndpoint");
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelARN", NULL, v, sizeof v), ARN1);
    CHECK_EQ_STR(fk_json_str(h->body, "SingleMasterChannelEndpointConfiguration", "Role", v, sizeof v), "MASTER");
    CHECK(strstr(h->body, "\"Protocols\":[\"WSS\",\"HTTPS\"]"));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_GET_ENDPOINT);
    CHECK_EQ_INT(f.cache_saves, 0);
    fk_answer(&f, h, 200, NULL, ENDPOINTS_OK);

    /* Endpoints learned: remembered for the next start. */
    CHECK_EQ_INT(f.cache_saves, 1);
    CHECK_EQ_STR(f.last_cache.channel_arn, ARN1);
    CHECK_EQ_STR(f.last_cache.wss, WSS1);
    CHECK_EQ_STR(f.last_cache.https, HTTPS1);
    CHECK_EQ_INT(f.last_cache.expires, fk_wall(&f) + 6 * 3600);

    h = fk_last_http(&f);
    CHECK_EQ_INT(f.n_http, 3);
    CHECK_EQ_INT(h->op, FK_ICE);
    CHECK_EQ_STR(h->url, HTTPS1 "/v1/get-ice-server-config");
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelARN", NULL, v, sizeof v), ARN1);
    CHECK_EQ_STR(fk_json_str(h->body, "ClientId", NULL, v, sizeof v), "");   /* master: none */
    CHECK_EQ_STR(fk_json_str(h->body, "Service", NULL, v, sizeof v), "TURN");
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_GET_ICE_CONFIG);
    fk_answer(&f, h, 200, NULL, ICE_OK);
    CHECK_EQ_INT(f.n_ice, 1);
    CHECK_EQ_INT(f.last_ice.n_servers, 2);

    CHECK_EQ_INT(f.n_ws, 1);
    fk_ws *w = fk_last_ws(&f);
    CHECK(!strncmp(w->url, WSS1 "/?", strlen(WSS1) + 2));
    CHECK_EQ_STR(fk_query(w->url, "X-Amz-ChannelARN", v, sizeof v), ARN1_ENC);
    CHECK_EQ_STR(fk_query(w->url, "X-Amz-ClientId", v, sizeof v), "");
    CHECK(fk_query(w->url, "X-Amz-Signature", v, sizeof v)[0]);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTING);
    sigcore_ws_open(f.c, w->id, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);

    static const sigcore_state want[] = {SIGCORE_DESCRIBE, SIGCORE_GET_ENDPOINT, SIGCORE_GET_ICE_CONFIG,
                                         SIGCORE_CONNECTING, SIGCORE_CONNECTED};
    CHECK_EQ_INT(f.n_states, 5);
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_INT(f.states[i], want[i]);
    CHECK_EQ_STR(sigcore_state_name(SIGCORE_CONNECTED), "connected");
    const sigcore_stats *st = sigcore_get_stats(f.c);
    CHECK_EQ_INT(st->http_calls, 3);
    CHECK_EQ_INT(st->ws_connects, 1);
    CHECK_EQ_INT(st->http_errors, 0);
    CHECK_EQ_INT(f.need_creds, 0);
    fk_free(&f);
}

TEST(viewer_flow_passes_role_and_client_id)
{
    sigcore_config cfg = fk_config();
    cfg.viewer = true;
    cfg.client_id = "viewer-1";
    fake f;
    CHECK(fk_init(&f, &cfg, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    char v[1024];
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    CHECK_EQ_STR(fk_json_str(fk_last_http(&f)->body, "SingleMasterChannelEndpointConfiguration", "Role", v,
                             sizeof v), "VIEWER");
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK_EQ_STR(fk_json_str(fk_last_http(&f)->body, "ClientId", NULL, v, sizeof v), "viewer-1");
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    CHECK_EQ_STR(fk_query(fk_last_ws(&f)->url, "X-Amz-ClientId", v, sizeof v), "viewer-1");
    fk_free(&f);
}

TEST(create_only_when_asked)
{
    /* Not asked: a missing channel is not created; Describe is retried after a backoff. */
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    fk_answer(&f, fk_last_http(&f), 404, "ResourceNotFoundException", NOT_FOUND_BODY);
    CHECK_EQ_INT(f.n_http, 1);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_DESCRIBE);
    CHECK_EQ_INT(fk_count_op(&f, FK_CREATE), 0);
    fk_free(&f);

    /* Asked: Create follows at once, then the endpoint of the new ARN. */
    sigcore_config cfg = fk_config();
    cfg.create_if_missing = true;
    cfg.msg_ttl_s = 30;
    CHECK(fk_init(&f, &cfg, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    fk_answer(&f, fk_last_http(&f), 404, "ResourceNotFoundException", NOT_FOUND_BODY);
    CHECK_EQ_INT(f.n_http, 2);
    fk_http *h = fk_last_http(&f);
    CHECK_EQ_INT(h->op, FK_CREATE);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CREATE);
    char v[1024];
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelName", NULL, v, sizeof v), "cam-1");
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelType", NULL, v, sizeof v), "SINGLE_MASTER");
    CHECK_EQ_STR(fk_json_str(h->body, "SingleMasterConfiguration", "MessageTtlSeconds", v, sizeof v), "30");
    fk_answer(&f, h, 200, NULL, CREATE_OK);
    h = fk_last_http(&f);
    CHECK_EQ_INT(h->op, FK_ENDPOINT);
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelARN", NULL, v, sizeof v), ARN1);
    fk_free(&f);
}

TEST(arn_skips_describe)
{
    sigcore_config cfg = fk_config();
    cfg.channel_name = NULL;
    cfg.channel_arn = ARN1;
    fake f;
    CHECK(fk_init(&f, &cfg, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK_EQ_INT(f.n_http, 1);
    char v[1024];
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    CHECK_EQ_STR(fk_json_str(fk_last_http(&f)->body, "ChannelARN", NULL, v, sizeof v), ARN1);
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    CHECK_EQ_INT(f.n_ws, 1);
    CHECK_EQ_INT(fk_count_op(&f, FK_DESCRIBE), 0);
    fk_free(&f);
}

static sigcore_cache cache_for(const char *arn, int64_t expires)
{
    sigcore_cache k;
    memset(&k, 0, sizeof k);
    snprintf(k.channel_arn, sizeof k.channel_arn, "%s", arn);
    snprintf(k.wss, sizeof k.wss, "wss://cached.example");
    snprintf(k.https, sizeof k.https, "https://cached.example");
    k.expires = expires;
    return k;
}

TEST(cache_gives_exactly_two_calls)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    sigcore_cache k = cache_for(ARN1, fk_wall(&f) + 3600);
    sigcore_set_cache(f.c, &k);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK_EQ_INT(f.n_http, 1);
    fk_http *h = fk_last_http(&f);
    CHECK_EQ_INT(h->op, FK_ICE);
    CHECK_EQ_STR(h->url, "https://cached.example/v1/get-ice-server-config");
    char v[1024];
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelARN", NULL, v, sizeof v), ARN1);
    fk_answer(&f, h, 200, NULL, ICE_OK);
    CHECK_EQ_INT(f.n_ws, 1);
    CHECK(!strncmp(fk_last_ws(&f)->url, "wss://cached.example/?", 22));
    sigcore_ws_open(f.c, fk_last_ws(&f)->id, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    CHECK_EQ_INT(f.n_http + f.n_ws, 2);
    CHECK_EQ_INT(f.cache_saves, 0);
    fk_free(&f);
}

TEST(cache_for_other_channel_or_expired_ignored)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    sigcore_cache k = cache_for("arn:aws:kinesisvideo:us-west-2:123456789012:channel/cam-10/1700000000000",
                                fk_wall(&f) + 3600);
    sigcore_set_cache(f.c, &k);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_DESCRIBE);
    fk_free(&f);

    CHECK(fk_init(&f, NULL, true));
    k = cache_for(ARN1, fk_wall(&f));   /* expires now */
    sigcore_set_cache(f.c, &k);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_DESCRIBE);
    fk_free(&f);

    /* By ARN: another ARN is another channel. */
    sigcore_config cfg = fk_config();
    cfg.channel_name = NULL;
    cfg.channel_arn = ARN1;
    CHECK(fk_init(&f, &cfg, true));
    k = cache_for("arn:aws:kinesisvideo:us-west-2:123456789012:channel/cam-1/1700000000001", fk_wall(&f) + 60);
    sigcore_set_cache(f.c, &k);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    fk_free(&f);
}

TEST(ice_refresh_at_ttl_minus_30s)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    camrtc_time_us t0 = f.now;
    size_t states = f.n_states, calls = f.n_http;
    /* The smallest Ttl is 200 s: nothing until 170 s. */
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(170) - 1));
    CHECK_EQ_INT(f.n_http, calls);
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(170)));
    CHECK_EQ_INT(f.n_http, calls + 1);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ICE);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_CONNECTED);
    fk_answer(&f, fk_last_http(&f), 200, NULL, ICE_OK);
    CHECK_EQ_INT(f.n_ice, 2);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->ice_refreshes, 1);
    /* The connection was not disturbed. */
    CHECK_EQ_INT(f.n_ws, 1);
    CHECK(!f.ws[0].close_asked);
    CHECK_EQ_INT(f.n_states, states);
    /* And the next one 170 s later. */
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(340)));
    CHECK_EQ_INT(f.n_http, calls + 2);
    fk_free(&f);
}

TEST(ice_refresh_short_ttl_is_ttl_minus_lead)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    /* First refresh of the 200 s Ttl, answered with a 35 s Ttl: the next one is due
     * 35 - 30 = 5 s later, not halfway. */
    camrtc_time_us t0 = f.now;
    CHECK(fk_run_to(&f, t0 + CAMRTC_SEC(170)));
    size_t calls = f.n_http;
    f.now = t0 + CAMRTC_SEC(170);
    fk_answer(&f, fk_last_http(&f), 200, NULL,
              "{\"IceServerList\":[{\"Uris\":[\"turn:192.0.2.1:443\"],\"Username\":\"u\",\"Password\":\"p\","
              "\"Ttl\":35}]}");
    camrtc_time_us t1 = f.now;
    CHECK(fk_run_to(&f, t1 + CAMRTC_SEC(5) - 1));
    CHECK_EQ_INT(f.n_http, calls);
    CHECK(fk_run_to(&f, t1 + CAMRTC_SEC(5)));
    CHECK_EQ_INT(f.n_http, calls + 1);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ICE);
    fk_free(&f);
}

TEST(clock_skew_from_date_used_in_next_signatures)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    f.svc_skew_ms = 600000;   /* our clock is ten minutes slow */
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    char want[17], v[64];
    camrtc_time_amz(fk_wall(&f), want);
    CHECK_EQ_STR(fk_last_http(&f)->amz_date, want);   /* nothing known yet */
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    CHECK_EQ_INT(sigcore_clock_skew(f.c), 600);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->clock_corrections, 1);
    camrtc_time_amz(fk_wall(&f) + 600, want);
    CHECK_EQ_STR(fk_last_http(&f)->amz_date, want);
    char date8[9];
    camrtc_time_amz_date(fk_wall(&f) + 600, date8);
    CHECK(strstr(fk_last_http(&f)->auth, date8));
    f.now += CAMRTC_SEC(2);
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    camrtc_time_amz(fk_wall(&f) + 600, want);
    CHECK_EQ_STR(fk_query(fk_last_ws(&f)->url, "X-Amz-Date", v, sizeof v), want);
    /* Whole-second Date headers of a clock 600.5 s ahead read 600 or 601: that is truncation, not a
     * change, and the signatures keep using the correction made. */
    f.svc_skew_ms = 600500;
    sigcore_ws_open(f.c, fk_last_ws(&f)->id, f.now, fk_wall(&f));
    for (int i = 0; i < 6; i++) {
        f.now += CAMRTC_MS(300);
        fk_deliver_msg(&f, fk_last_ws(&f)->id, CAMRTC_SIGMSG_RECONNECT_ICE_SERVER, NULL, NULL);
        camrtc_time_amz(fk_wall(&f) + 600, want);
        CHECK_EQ_STR(fk_last_http(&f)->amz_date, want);
        CHECK(fk_ok(&f, FK_ICE, ICE_OK));
    }
    CHECK_EQ_INT(sigcore_get_stats(f.c)->clock_corrections, 1);
    CHECK_EQ_INT(sigcore_clock_skew(f.c), 600);
    fk_free(&f);
}

#define SIG_EXPIRED "{\"message\":\"Signature expired: 20251123T190731Z is now earlier than 20251123T191231Z " \
    "(20251123T192231Z - 5 min.)\"}"

TEST(signature_expired_retries_at_once_with_corrected_clock)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    f.svc_skew_ms = 900000;
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    fk_answer(&f, fk_last_http(&f), 403, "InvalidSignatureException", SIG_EXPIRED);
    /* Same instant, no backoff, no credential refresh. */
    CHECK_EQ_INT(f.n_http, 2);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_DESCRIBE);
    CHECK_EQ_INT(f.need_creds, 0);
    char want[17];
    camrtc_time_amz(fk_wall(&f) + 900, want);
    CHECK_EQ_STR(fk_last_http(&f)->amz_date, want);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->clock_corrections, 1);
    /* Expired again with the clock already right: not the clock, so no second immediate retry. */
    fk_answer(&f, fk_last_http(&f), 403, "InvalidSignatureException", SIG_EXPIRED);
    CHECK_EQ_INT(f.n_http, 2);
    CHECK_EQ_INT(f.need_creds, 1);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_WAIT_CREDENTIALS);
    fk_free(&f);
}

TEST(forbidden_asks_for_credentials_and_resumes)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    fk_answer(&f, fk_last_http(&f), 403, "AccessDeniedException", "{\"message\":\"User is not authorized\"}");
    CHECK_EQ_INT(f.need_creds, 1);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_WAIT_CREDENTIALS);
    CHECK_EQ_INT(f.states[f.n_states - 1], SIGCORE_WAIT_CREDENTIALS);
    /* Nothing happens without credentials, however long we wait. */
    size_t calls = f.n_http;
    CHECK(fk_advance(&f, CAMRTC_SEC(120)));
    CHECK_EQ_INT(f.n_http, calls);
    camrtc_aws_creds fresh = {"AKIDFRESH", "secret2", "token2"};
    sigcore_set_credentials(f.c, &fresh, fk_wall(&f) + 3600, f.now, fk_wall(&f));
    CHECK_EQ_INT(f.n_http, calls + 1);
    fk_http *h = fk_last_http(&f);
    CHECK_EQ_INT(h->op, FK_ENDPOINT);   /* the same step again */
    CHECK(strstr(h->auth, "Credential=AKIDFRESH/"));
    fk_free(&f);

    /* Without a credentials source: back off and retry the same step with the same keys. */
    CHECK(fk_init(&f, NULL, false));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    fk_answer(&f, fk_last_http(&f), 403, "AccessDeniedException", "{\"message\":\"no\"}");
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    fk_free(&f);
}

TEST(start_without_credentials_waits_for_them)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    sigcore_free(f.c);
    sigcore_io io = {.http = fk_io_http, .ws_open = fk_io_ws_open, .ws_send = fk_io_ws_send,
                     .ws_close = fk_io_ws_close, .state = fk_io_state};
    sigcore_config cfg = fk_config();
    f.c = sigcore_new(&cfg, &io, &f, &f.rng, NULL, NULL, 0);
    CHECK(f.c);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), CAMRTC_ESTATE);   /* nobody could ever give them */
    sigcore_free(f.c);
    io.need_credentials = fk_io_need_credentials;
    f.c = sigcore_new(&cfg, &io, &f, &f.rng, NULL, NULL, 0);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), CAMRTC_OK);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_WAIT_CREDENTIALS);
    CHECK_EQ_INT(f.need_creds, 1);
    CHECK_EQ_INT(f.n_http, 0);
    sigcore_set_credentials(f.c, &fk_creds, 0, f.now, fk_wall(&f));
    CHECK_EQ_INT(f.n_http, 1);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_DESCRIBE);
    fk_free(&f);
}

TEST(not_found_drops_cache_and_describes_again)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    sigcore_cache k = cache_for(ARN1, fk_wall(&f) + 3600);
    sigcore_set_cache(f.c, &k);
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ICE);
    fk_answer(&f, fk_last_http(&f), 404, "ResourceNotFoundException", NOT_FOUND_BODY);
    /* The saved cache is overwritten by an expired, empty one. */
    CHECK_EQ_INT(f.cache_saves, 1);
    CHECK_EQ_INT(f.last_cache.expires, 0);
    CHECK_EQ_STR(f.last_cache.wss, "");
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    fk_http *h = fk_last_http(&f);
    CHECK_EQ_INT(h->op, FK_DESCRIBE);
    char v[1024];
    CHECK_EQ_STR(fk_json_str(h->body, "ChannelName", NULL, v, sizeof v), "cam-1");
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    fk_free(&f);

    /* ...then Create when allowed (the channel was deleted under us). */
    sigcore_config cfg = fk_config();
    cfg.create_if_missing = true;
    CHECK(fk_init(&f, &cfg, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    fk_answer(&f, fk_last_http(&f), 404, "ResourceNotFoundException", NOT_FOUND_BODY);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    fk_answer(&f, fk_last_http(&f), 404, "ResourceNotFoundException", NOT_FOUND_BODY);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_CREATE);
    fk_free(&f);
}

TEST(server_errors_and_timeouts_back_off_then_get_endpoint)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    CHECK(fk_ok(&f, FK_ENDPOINT, ENDPOINTS_OK));
    /* 500 on GetIceServerConfig. */
    fk_answer(&f, fk_last_http(&f), 500, "InternalFailure", "{\"message\":\"oops\"}");
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    size_t calls = f.n_http;
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(f.n_http, calls + 1);
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);

    /* No answer at all: the core's deadline (5 s) cancels it. */
    camrtc_time_us sent = f.now;
    fk_http *h = fk_last_http(&f);
    CHECK(fk_run_to(&f, sent + CAMRTC_SEC(5) - 1));
    CHECK(!h->cancelled);
    CHECK(fk_run_to(&f, sent + CAMRTC_SEC(5)));
    CHECK(h->cancelled);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    /* A late answer to the cancelled request is ignored. */
    calls = f.n_http;
    fk_answer(&f, h, 200, NULL, ENDPOINTS_OK);
    CHECK_EQ_INT(f.n_http, calls);
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_GET_ENDPOINT);

    /* A transport failure, a throttle, a 400: the same route. */
    sigcore_http_failed(f.c, fk_last_http(&f)->id, CAMRTC_ECONNREFUSED, f.now, fk_wall(&f));
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    fk_answer(&f, fk_last_http(&f), 429, "ClientLimitExceededException", "{\"message\":\"slow down\"}");
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    fk_answer(&f, fk_last_http(&f), 400, "InvalidArgumentException", "{\"message\":\"bad\"}");
    CHECK(fk_run_until_call(&f, CAMRTC_SEC(11)));
    CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    /* A 200 that is not the expected JSON counts as a failure too. */
    fk_answer(&f, fk_last_http(&f), 200, NULL, "<html>");
    CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
    CHECK_EQ_INT(sigcore_get_stats(f.c)->http_errors, 6);
    fk_free(&f);
}

TEST(backoff_full_jitter_bounded_and_growing)
{
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    CHECK(fk_ok(&f, FK_DESCRIBE, DESCRIBE_OK));
    camrtc_time_us early_max = 0, late_max = 0, late_sum = 0;
    for (unsigned n = 0; n < 30; n++) {
        fk_answer(&f, fk_last_http(&f), 503, "ServiceUnavailable", "{}");
        CHECK_EQ_INT(sigcore_get_state(f.c), SIGCORE_BACKOFF);
        camrtc_time_us d = sigcore_next_timeout(f.c) - f.now;
        camrtc_time_us bound = n < 7 ? CAMRTC_MS(100) << n : CAMRTC_SEC(10);
        if (bound > CAMRTC_SEC(10))
            bound = CAMRTC_SEC(10);
        if (d > bound) {
            fprintf(stderr, "attempt %u: delay %llu > bound %llu\n", n, (unsigned long long)d,
                    (unsigned long long)bound);
            CHECK(d <= bound);
        }
        if (n < 3 && d > early_max)
            early_max = d;
        if (n >= 10) {
            late_sum += d;
            if (d > late_max)
                late_max = d;
        }
        f.now += d;
        sigcore_handle_timeout(f.c, f.now, fk_wall(&f));
        CHECK_EQ_INT(fk_last_http(&f)->op, FK_ENDPOINT);
    }
    CHECK(early_max <= CAMRTC_MS(400));
    CHECK(late_max > CAMRTC_SEC(5));              /* it did grow to near the cap */
    CHECK(late_sum / 20 > CAMRTC_SEC(3));         /* mean of uniform(0, 10 s) */
    fk_free(&f);
}

TEST(no_tight_loop_over_a_minute_of_failures)
{
    /* Every request fails at once. */
    fake f;
    CHECK(fk_init(&f, NULL, true));
    CHECK_EQ_INT(sigcore_start(f.c, f.now, fk_wall(&f)), 0);
    camrtc_time_us end = f.now + CAMRTC_SEC(60);
    int guard = 0;
    while (f.now < end && guard++ < 10000) {
        fk_http *h = fk_last_http(&f);
        if (!h->cancelled)
            sigcore_http_failed(f.c, h->id, CAMRTC_ECONNREFUSED, f.now, fk_wall(&f));
        h->cancelled = true;
        if (!fk_run_until_call(&f, end - f.now))
            break;
    }
    /* Full jitter up to 0.1, 0.2 ... 6.4 s, then 10 s: about 6 s, then ~5 s per attempt. */
    CHECK(f.n_http >= 8);
    CHECK(f.n_http <= 30);
    fk_free(&f);

    /* The service accepts every WebSocket and drops it at once. */
    CHECK(fk_init(&f, NULL, true));
    CHECK(fk_connect(&f));
    end = f.now + CAMRTC_SEC(60);
    guard = 0;
    while (f.now < end && guard++ < 10000) {
        fk_ws *w = fk_last_ws(&f);
        sigcore_ws_open(f.c, w->id, f.now, fk_wall(&f));
        sigcore_ws_closed(f.c, w->id, CAMRTC_ECLOSED, 0, NULL, 0, f.now, fk_wall(&f));
        if (!fk_run_until_call(&f, end - f.now))
            break;
        CHECK_EQ_INT(f.n_http, 3);   /* straight reconnects: no control-plane call */
    }
    CHECK(!f.overflow);
    CHECK(f.n_ws >= 8);
    CHECK(f.n_ws <= 30);
    CHECK(sigcore_get_stats(f.c)->reconnects >= 5);
    fk_free(&f);
}

int main(void)
{
    return RUN_TESTS(full_flow_order_and_bodies, viewer_flow_passes_role_and_client_id, create_only_when_asked,
                     arn_skips_describe, cache_gives_exactly_two_calls, cache_for_other_channel_or_expired_ignored,
                     ice_refresh_at_ttl_minus_30s, ice_refresh_short_ttl_is_ttl_minus_lead,
                     clock_skew_from_date_used_in_next_signatures,
                     signature_expired_retries_at_once_with_corrected_clock,
                     forbidden_asks_for_credentials_and_resumes, start_without_credentials_waits_for_them,
                     not_found_drops_cache_and_describes_again, server_errors_and_timeouts_back_off_then_get_endpoint,
                     backoff_full_jitter_bounded_and_growing, no_tight_loop_over_a_minute_of_failures);
}
