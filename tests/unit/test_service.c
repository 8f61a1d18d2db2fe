/* The local signaling service end to end, on loopback, with our own clients:
 * SigV4-signed REST, presigned WebSocket connects, routing, refusals, admin
 * announcements, restart with the same state, TLS. (The official AWS clients do
 * the same against it in the interop suite.) */
#include "check.h"

#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "camrtc/error.h"
#include "camrtc/httpclient.h"
#include "camrtc/rand.h"
#include "camrtc/server.h"
#include "camrtc/sigmsg.h"
#include "camrtc/sigv4.h"
#include "camrtc/tls.h"
#include "camrtc/wsclient.h"

static uv_loop_t loop;
static camrtc_rng rng;
static camrtc_tls_config *client_tls;

static const camrtc_aws_creds local_creds = {CAMRTC_LOCAL_ACCESS_KEY, CAMRTC_LOCAL_SECRET_KEY, NULL};

/* Run the loop until *flag is set or ms pass; true when the flag was set. */
static bool run_until(const bool *flag, int ms)
{
    camrtc_time_us end = camrtc_now_us() + CAMRTC_MS(ms);
    while (!*flag && camrtc_now_us() < end)
        uv_run(&loop, UV_RUN_NOWAIT), usleep(200);
    return *flag;
}

static void run_for(int ms)
{
    bool never = false;
    run_until(&never, ms);
}

/* ---------- REST ---------- */

typedef struct rest_result {
    bool done;
    int err, status;
    char error_type[64];
    cJSON *json;
} rest_result;

static void on_rest(void *ud, int err, const camrtc_http_msg *m)
{
    rest_result *r = ud;
    r->done = true;
    r->err = err;
    if (m) {
        r->status = m->status;
        const char *t = camrtc_http_header(m, "x-amzn-ErrorType");
        snprintf(r->error_type, sizeof r->error_type, "%s", t ? t : "");
        r->json = cJSON_ParseWithLength((const char *)m->body, m->body_len);
    }
}

static rest_result rest(const char *base, const char *path, const char *body, const camrtc_aws_creds *creds,
                        int64_t skew_s)
{
    rest_result r = {0};
    char url[400], host[300];
    snprintf(url, sizeof url, "%s%s", base, path);
    snprintf(host, sizeof host, "%s", strstr(base, "://") + 3);
    camrtc_kv h[8] = {{"host", host}, {"content-type", "application/json"}};
    size_t n = 2;
    camrtc_sigv4_request req = {"POST", path, NULL, h, n, (const uint8_t *)body, strlen(body)};
    camrtc_sigv4_signature sig;
    if (camrtc_sigv4_sign(&req, creds, CAMRTC_LOCAL_REGION, "kinesisvideo", (int64_t)time(NULL) + skew_s, &sig) < 0) {
        r.err = CAMRTC_EINTERNAL;
        return r;
    }
    h[n++] = (camrtc_kv){"x-amz-date", sig.amz_date};
    h[n++] = (camrtc_kv){"authorization", sig.authorization};
    if (camrtc_httpclient_request(&loop, url, "POST", h, n, body, strlen(body), client_tls, 5000, on_rest, &r) < 0) {
        r.err = CAMRTC_EINTERNAL;
        return r;
    }
    run_until(&r.done, 6000);
    return r;
}

static const char *jstr(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b)
        v = cJSON_GetObjectItemCaseSensitive(v, b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* ---------- WebSocket clients ---------- */

#define MAX_MSGS 16

typedef struct wsc {
    camrtc_wsclient *c;
    bool open, closed;
    int err, http_status;
    uint16_t code;
    int n_msgs;
    camrtc_sigmsg msgs[MAX_MSGS];
} wsc;

static void ws_open(camrtc_wsclient *c, void *ud)
{
    ((wsc *)ud)->open = true;
}

static void ws_text(camrtc_wsclient *c, void *ud, const uint8_t *data, size_t len)
{
    wsc *w = ud;
    char reason[128];
    if (w->n_msgs < MAX_MSGS &&
        camrtc_sigmsg_parse_from_service((const char *)data, len, &w->msgs[w->n_msgs], reason, sizeof reason) == 0)
        w->n_msgs++;
}

static void ws_close(camrtc_wsclient *c, void *ud, int err, int http_status, uint16_t code)
{
    wsc *w = ud;
    w->closed = true;
    w->open = false;
    w->err = err;
    w->http_status = http_status;
    w->code = code;
    w->c = NULL;
}

static const camrtc_wsclient_callbacks ws_cb = {.on_open = ws_open, .on_text = ws_text, .on_close = ws_close};

/* Connect a master (client_id NULL) or viewer; signing time is now + skew_s. */
static int ws_connect(wsc *w, const char *wss, const char *arn, const char *client_id, const camrtc_aws_creds *creds,
                      int64_t skew_s, int expires)
{
    memset(w, 0, sizeof *w);
    char url[2048];
    int n = snprintf(url, sizeof url, "%s/?X-Amz-ChannelARN=%s", wss, arn);
    if (client_id)
        snprintf(url + n, sizeof url - (size_t)n, "&X-Amz-ClientId=%s", client_id);
    camrtc_buf signed_url = {0};
    int rc = camrtc_sigv4_presign_url(url, creds, CAMRTC_LOCAL_REGION, "kinesisvideo", (int64_t)time(NULL) + skew_s,
                                      expires, &signed_url);
    if (rc == 0)
        rc = camrtc_wsclient_connect(&loop, camrtc_buf_cstr(&signed_url), client_tls, &rng, &ws_cb, w, &w->c);
    camrtc_buf_free(&signed_url);
    return rc;
}

static void ws_free_msgs(wsc *w)
{
    for (int i = 0; i < w->n_msgs; i++)
        camrtc_sigmsg_clear(&w->msgs[i]);
    w->n_msgs = 0;
}

static int ws_send(wsc *w, camrtc_sigmsg_type type, const char *to, const char *payload_json)
{
    camrtc_sigmsg m = {0};
    m.type = type;
    if (to)
        snprintf(m.peer_id, sizeof m.peer_id, "%s", to);
    camrtc_sigmsg_set_payload_json(&m, payload_json, strlen(payload_json));
    camrtc_buf b = {0};
    int rc = camrtc_sigmsg_write_to_service(&b, &m);
    if (rc == 0)
        rc = camrtc_wsclient_send_text(w->c, camrtc_buf_data(&b), b.len);
    camrtc_buf_free(&b);
    camrtc_sigmsg_clear(&m);
    return rc;
}

static bool payload_is(const camrtc_sigmsg *m, const char *json)
{
    camrtc_buf b = {0};
    bool ok = camrtc_sigmsg_get_payload_json(m, &b) == 0 && b.len == strlen(json) &&
              memcmp(camrtc_buf_data(&b), json, b.len) == 0;
    camrtc_buf_free(&b);
    return ok;
}

/* ---------- the service under test ---------- */

typedef struct svc {
    camrtc_signaling *s;
    char base[300], wss[300];
    char dir[64];
} svc;

static camrtc_log quiet = {CAMRTC_LOG_ERROR, NULL};

static bool svc_start(svc *v, bool tls, const char *dir)
{
    camrtc_signaling_config cfg;
    camrtc_signaling_config_default(&cfg);
    cfg.listen_port = 0;
    cfg.state_dir = dir;
    cfg.tls = tls;
    cfg.turn_urls[0] = "turn:127.0.0.1:3478?transport=udp";
    cfg.n_turn = 1;
    cfg.turn_secret = "s3cret";
    char err[256];
    v->s = camrtc_signaling_start(&loop, &cfg, &quiet, err, sizeof err);
    if (!v->s) {
        fprintf(stderr, "service did not start: %s\n", err);
        return false;
    }
    snprintf(v->base, sizeof v->base, "%s", camrtc_signaling_url(v->s));
    snprintf(v->wss, sizeof v->wss, "%s%s", tls ? "wss" : "ws", strstr(v->base, "://"));
    return true;
}

static void svc_stop(svc *v)
{
    camrtc_signaling_stop(v->s);
    v->s = NULL;
    run_for(300);
}

static const char *create_channel(svc *v, const char *name, char *arn, size_t arnsz)
{
    char body[300];
    snprintf(body, sizeof body, "{\"ChannelName\":\"%s\"}", name);
    rest_result r = rest(v->base, "/createSignalingChannel", body, &local_creds, 0);
    const char *a = r.json ? jstr(r.json, "ChannelARN", NULL) : NULL;
    if (a)
        snprintf(arn, arnsz, "%s", a);
    cJSON_Delete(r.json);
    return a ? arn : NULL;
}

static char tmpdir_template[] = "/tmp/camrtc-svc-XXXXXX";

TEST(rest_control_plane_and_restart_keeps_channels)
{
    char *dir = mkdtemp(strdup(tmpdir_template));
    CHECK(dir);
    svc v;
    CHECK(svc_start(&v, false, dir));
    char arn[512];
    CHECK(create_channel(&v, "lab-channel", arn, sizeof arn));
    CHECK(strstr(arn, "arn:aws:kinesisvideo:us-west-2:111122223333:channel/lab-channel/") == arn);

    rest_result r = rest(v.base, "/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", &local_creds, 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(jstr(r.json, "ChannelInfo", "ChannelARN"), arn);
    cJSON_Delete(r.json);

    char body[700];
    snprintf(body, sizeof body, "{\"ChannelARN\":\"%s\",\"SingleMasterChannelEndpointConfiguration\":"
             "{\"Protocols\":[\"WSS\",\"HTTPS\"],\"Role\":\"MASTER\"}}", arn);
    r = rest(v.base, "/getSignalingChannelEndpoint", body, &local_creds, 0);
    CHECK_EQ_INT(r.status, 200);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(r.json, "ResourceEndpointList");
    CHECK_EQ_INT(cJSON_GetArraySize(list), 2);
    CHECK_EQ_STR(jstr(cJSON_GetArrayItem(list, 0), "ResourceEndpoint", NULL), v.wss);
    cJSON_Delete(r.json);

    snprintf(body, sizeof body, "{\"ChannelARN\":\"%s\",\"ClientId\":\"viewer-1\",\"Service\":\"TURN\"}", arn);
    r = rest(v.base, "/v1/get-ice-server-config", body, &local_creds, 0);
    CHECK_EQ_INT(r.status, 200);
    const cJSON *ice = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.json, "IceServerList"), 0);
    CHECK(jstr(ice, "Username", NULL) && strstr(jstr(ice, "Username", NULL), ":viewer-1"));
    cJSON_Delete(r.json);

    /* Refusals, AWS-shaped. */
    r = rest(v.base, "/describeSignalingChannel", "{\"ChannelName\":\"nope\"}", &local_creds, 0);
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_STR(r.error_type, "ResourceNotFoundException");
    cJSON_Delete(r.json);
    camrtc_aws_creds wrong = {CAMRTC_LOCAL_ACCESS_KEY, "not-the-secret", NULL};
    r = rest(v.base, "/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", &wrong, 0);
    CHECK_EQ_INT(r.status, 403);
    CHECK_EQ_STR(r.error_type, "InvalidSignatureException");
    cJSON_Delete(r.json);
    r = rest(v.base, "/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", &local_creds, -600);
    CHECK_EQ_INT(r.status, 403);
    cJSON_Delete(r.json);
    camrtc_aws_creds unknown = {"AKIDUNKNOWN000000000", CAMRTC_LOCAL_SECRET_KEY, NULL};
    r = rest(v.base, "/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", &unknown, 0);
    CHECK_EQ_INT(r.status, 403);
    CHECK_EQ_STR(r.error_type, "UnrecognizedClientException");
    cJSON_Delete(r.json);

    /* Restart on the same state directory: same ARN. */
    svc_stop(&v);
    CHECK(svc_start(&v, false, dir));
    r = rest(v.base, "/describeSignalingChannel", "{\"ChannelName\":\"lab-channel\"}", &local_creds, 0);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(jstr(r.json, "ChannelInfo", "ChannelARN"), arn);
    cJSON_Delete(r.json);
    svc_stop(&v);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    free(dir);
}

static void exchange(svc *v, const char *arn)
{
    wsc master, viewer, viewer2;
    CHECK_EQ_INT(ws_connect(&master, v->wss, arn, NULL, &local_creds, 0, 299), 0);
    CHECK_EQ_INT(ws_connect(&viewer, v->wss, arn, "viewer-1", &local_creds, 0, 299), 0);
    CHECK_EQ_INT(ws_connect(&viewer2, v->wss, arn, "viewer-2", &local_creds, 0, 299), 0);
    run_until(&master.open, 3000);
    run_until(&viewer.open, 3000);
    run_until(&viewer2.open, 3000);
    CHECK(master.open && viewer.open && viewer2.open);

    const char *offer = "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\"}";
    CHECK_EQ_INT(ws_send(&viewer, CAMRTC_SIGMSG_SDP_OFFER, NULL, offer), 0);
    bool got = false;
    for (int i = 0; i < 100 && !got; i++) {
        run_for(20);
        got = master.n_msgs > 0;
    }
    CHECK(got);
    CHECK_EQ_INT(master.msgs[0].type, CAMRTC_SIGMSG_SDP_OFFER);
    CHECK_EQ_STR(master.msgs[0].peer_id, "viewer-1");
    CHECK(payload_is(&master.msgs[0], offer));

    const char *answer = "{\"type\":\"answer\",\"sdp\":\"v=0\\r\\n\"}";
    CHECK_EQ_INT(ws_send(&master, CAMRTC_SIGMSG_SDP_ANSWER, "viewer-1", answer), 0);
    const char *cand = "{\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host\",\"sdpMid\":\"0\"}";
    CHECK_EQ_INT(ws_send(&master, CAMRTC_SIGMSG_ICE_CANDIDATE, "viewer-1", cand), 0);
    got = false;
    for (int i = 0; i < 100 && !got; i++) {
        run_for(20);
        got = viewer.n_msgs >= 2;
    }
    CHECK(got);
    CHECK_EQ_INT(viewer.msgs[0].type, CAMRTC_SIGMSG_SDP_ANSWER);
    CHECK_EQ_STR(viewer.msgs[0].peer_id, "");   /* from the master: no sender id */
    CHECK(payload_is(&viewer.msgs[0], answer));
    CHECK_EQ_INT(viewer.msgs[1].type, CAMRTC_SIGMSG_ICE_CANDIDATE);
    CHECK_EQ_INT(viewer2.n_msgs, 0);            /* only the named viewer */

    camrtc_wsclient_close(master.c, 1000, "bye");
    camrtc_wsclient_close(viewer.c, 1000, "bye");
    camrtc_wsclient_close(viewer2.c, 1000, "bye");
    run_until(&master.closed, 2000);
    run_until(&viewer.closed, 2000);
    run_until(&viewer2.closed, 2000);
    CHECK(master.closed && viewer.closed && viewer2.closed);
    ws_free_msgs(&master);
    ws_free_msgs(&viewer);
}

TEST(websocket_routing_master_and_viewers)
{
    svc v;
    CHECK(svc_start(&v, false, NULL));
    char arn[512];
    CHECK(create_channel(&v, "route", arn, sizeof arn));
    exchange(&v, arn);
    svc_stop(&v);
}

TEST(websocket_refusals_leave_others_working)
{
    svc v;
    CHECK(svc_start(&v, false, NULL));
    char arn[512];
    CHECK(create_channel(&v, "refuse", arn, sizeof arn));
    wsc viewers[10];
    for (int i = 0; i < 10; i++) {
        char id[32];
        snprintf(id, sizeof id, "v%d", i);
        CHECK_EQ_INT(ws_connect(&viewers[i], v.wss, arn, id, &local_creds, 0, 299), 0);
        /* The service allows 3 connects per second per channel. */
        run_until(&viewers[i].open, 2000);
        if (!viewers[i].open) {
            run_for(1100);
            CHECK_EQ_INT(ws_connect(&viewers[i], v.wss, arn, id, &local_creds, 0, 299), 0);
            run_until(&viewers[i].open, 2000);
        }
        CHECK(viewers[i].open);
    }
    run_for(1100);
    struct { const char *id; const camrtc_aws_creds *creds; int64_t skew; int expires; const char *arn; int status; }
    cases[] = {
        {"v10", &local_creds, 0, 299, arn, 400},                                  /* the 11th viewer */
        {"ok", &(camrtc_aws_creds){CAMRTC_LOCAL_ACCESS_KEY, "wrong", NULL}, 0, 299, arn, 403},
        {"ok", &local_creds, -600, 299, arn, 403},                               /* skewed date */
        {"ok", &local_creds, -400, 60, arn, 403},                                /* expired URL */
        {"ok", &local_creds, 0, 299, "arn:aws:kinesisvideo:us-west-2:111122223333:channel/x/1", 404},
        {"AWS_x", &local_creds, 0, 299, arn, 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wsc w;
        CHECK_EQ_INT(ws_connect(&w, v.wss, cases[i].arn, cases[i].id, cases[i].creds, cases[i].skew,
                                cases[i].expires), 0);
        run_until(&w.closed, 3000);
        CHECK(w.closed && !w.open);
        if (w.http_status != cases[i].status)
            fprintf(stderr, "case %zu: status %d, wanted %d\n", i, w.http_status, cases[i].status);
        CHECK_EQ_INT(w.http_status, cases[i].status);
    }
    /* The ten viewers are still connected and GO_AWAY reaches all of them. */
    for (int i = 0; i < 10; i++)
        CHECK(viewers[i].open);
    CHECK_EQ_INT(camrtc_signaling_client_count(v.s), 10);
    svc_stop(&v);
    for (int i = 0; i < 10; i++) {
        CHECK(viewers[i].closed);
        CHECK_EQ_INT(viewers[i].code, 1001);
        ws_free_msgs(&viewers[i]);
    }
}

TEST(tls_service_with_local_ca)
{
    char *dir = mkdtemp(strdup(tmpdir_template));
    CHECK(dir);
    svc v;
    CHECK(svc_start(&v, true, dir));
    CHECK(strncmp(v.base, "https://", 8) == 0);
    char err[256];
    client_tls = camrtc_tls_config_new_client(camrtc_signaling_ca_path(v.s), true, &rng, err, sizeof err);
    CHECK(client_tls);
    char arn[512];
    CHECK(create_channel(&v, "secure", arn, sizeof arn));
    exchange(&v, arn);
    svc_stop(&v);
    camrtc_tls_config_free(client_tls);
    client_tls = NULL;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    free(dir);
}

/* Start the service with region and account (NULL = the default); it must refuse, with an
 * error naming what was wrong. */
static bool start_refused(const char *region, const char *account, const char *want_err)
{
    camrtc_signaling_config cfg;
    camrtc_signaling_config_default(&cfg);
    cfg.listen_port = 0;
    if (region)
        cfg.region = region;
    if (account)
        cfg.account = account;
    char err[256] = "";
    camrtc_signaling *s = camrtc_signaling_start(&loop, &cfg, &quiet, err, sizeof err);
    if (s)
        camrtc_signaling_stop(s);
    return s == NULL && strstr(err, want_err) != NULL;
}

/* A region or account that could not go into an ARN, a signature scope or the page is
 * refused at start with a message naming it (it used to read "out of memory"). */
TEST(bad_region_or_account_refused_at_start)
{
    static const char *const regions[] = {"x\"</script><", "", "US-WEST-2", "a b"};
    for (size_t i = 0; i < sizeof regions / sizeof regions[0]; i++)
        CHECK(start_refused(regions[i], NULL, "bad region"));
    CHECK(start_refused(NULL, "12345", "bad account"));
    run_for(50);
}

int main(void)
{
    uv_loop_init(&loop);
    camrtc_rng_init(&rng);
    int rc = RUN_TESTS(rest_control_plane_and_restart_keeps_channels, websocket_routing_master_and_viewers,
                       websocket_refusals_leave_others_working, tls_service_with_local_ca,
                       bad_region_or_account_refused_at_start);
    run_for(100);
    uv_loop_close(&loop);
    camrtc_rng_free(&rng);
    return rc;
}
