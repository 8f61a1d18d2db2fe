/* AWS IoT credentials provider: the response parser, the refresh time, and a
 * real fetch over mutual TLS on 127.0.0.1 against a tiny server run here with
 * the net module's listener. Every loop run is bounded by a guard timer. */
#include "check.h"

#include <signal.h>
#include <stdint.h>

#include "camrtc/error.h"
#include "camrtc/http.h"
#include "camrtc/iotcreds.h"
#include "camrtc/net.h"
#include "camrtc/rand.h"
#include "camrtc/tls.h"

#define GUARD_MS 20000

static const char good_body[] =
    "{\"credentials\":{\"accessKeyId\":\"ASIAIOTEXAMPLE\",\"secretAccessKey\":\"wJalrXUtnFEMI/K7MDENG+bPxRfiCY\","
    "\"sessionToken\":\"IQoJb3JpZ2luX2VjEXAMPLETOKEN==\",\"expiration\":\"2026-11-23T20:07:31Z\"}}";

static int parse_str(const char *s, camrtc_aws_config *out)
{
    return camrtc_iot_creds_parse((const uint8_t *)s, strlen(s), out);
}

/* ---------- parser ---------- */

TEST(parse_good_response)
{
    camrtc_aws_config c;
    CHECK_EQ_INT(parse_str(good_body, &c), 0);
    CHECK_EQ_STR(c.access_key_id, "ASIAIOTEXAMPLE");
    CHECK_EQ_STR(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCY");
    CHECK_EQ_STR(c.session_token, "IQoJb3JpZ2luX2VjEXAMPLETOKEN==");
    CHECK_EQ_INT(c.expiration, 1795464451);
    CHECK_EQ_STR(c.source, "iot");
    CHECK_EQ_STR(c.region, "");
    CHECK_EQ_STR(c.endpoint, "");
    CHECK_EQ_INT(c.obtained, 0);
    /* Extra fields and whitespace are fine; the body need not be NUL-terminated. */
    static const char extra[] = " {\"credentials\" : {\"expiration\":\"2026-11-23T20:07:31.000Z\", \"accessKeyId\":\"A\","
                                "\"secretAccessKey\":\"S\",\"sessionToken\":\"T\",\"other\":[1,2]}, \"x\":null}XYZ";
    CHECK_EQ_INT(camrtc_iot_creds_parse((const uint8_t *)extra, sizeof extra - 4, &c), 0);
    CHECK_EQ_STR(c.access_key_id, "A");
    CHECK_EQ_INT(c.expiration, 1795464451);
}

TEST(parse_bad_responses)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"message\":\"Access Denied\"}",
        "{\"credentials\":\"x\"}",
        "{\"credentials\":{\"secretAccessKey\":\"S\",\"sessionToken\":\"T\",\"expiration\":\"2026-11-23T20:07:31Z\"}}",
        "{\"credentials\":{\"accessKeyId\":1,\"secretAccessKey\":\"S\",\"sessionToken\":\"T\","
        "\"expiration\":\"2026-11-23T20:07:31Z\"}}",
        "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"T\"}}",
        "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"T\","
        "\"expiration\":\"tomorrow\"}}",
        "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"T\","
        "\"expiration\":1795464451}}",
        "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S p\",\"sessionToken\":\"T\","
        "\"expiration\":\"2026-11-23T20:07:31Z\"}}",
        "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"T\\r\\nX: y\","
        "\"expiration\":\"2026-11-23T20:07:31Z\"}}",
        "{\"credentials\":{\"accessKeyId\":\"\",\"secretAccessKey\":\"S\",\"sessionToken\":\"T\","
        "\"expiration\":\"2026-11-23T20:07:31Z\"}}",
        "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\\u0000x\",\"sessionToken\":\"T\","
        "\"expiration\":\"2026-11-23T20:07:31Z\"}}",
        "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"T\","
        "\"expiration\":\"2026-11-23T20:07:31Z\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        camrtc_aws_config c;
        int rc = parse_str(bad[i], &c);
        if (rc != CAMRTC_EPROTO)
            fprintf(stderr, "case %zu: %d\n", i, rc);
        CHECK_EQ_INT(rc, CAMRTC_EPROTO);
        CHECK_EQ_STR(c.secret_access_key, "");
        CHECK_EQ_STR(c.source, "");
    }
    camrtc_aws_config c;
    CHECK_EQ_INT(camrtc_iot_creds_parse(NULL, 0, &c), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_iot_creds_parse(NULL, 5, &c), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_iot_creds_parse((const uint8_t *)"{}", 2, NULL), CAMRTC_EINVAL);
}

TEST(parse_oversize)
{
    camrtc_aws_config c;
    /* A body over the bound, even valid JSON with the credentials first. */
    size_t n = CAMRTC_IOT_CREDS_MAX_BODY + 1;
    char *big = malloc(n + 1);
    CHECK(big != NULL);
    size_t head = strlen(good_body) - 1; /* without the final '}' */
    memcpy(big, good_body, head);
    big[head] = ',';
    big[head + 1] = '"';
    big[head + 2] = 'p';
    big[head + 3] = '"';
    big[head + 4] = ':';
    big[head + 5] = '"';
    memset(big + head + 6, 'x', n - head - 8);
    big[n - 2] = '"';
    big[n - 1] = '}';
    big[n] = '\0';
    int over = camrtc_iot_creds_parse((const uint8_t *)big, n, &c);
    /* The same shape one byte shorter parses. */
    big[n - 3] = '"';
    big[n - 2] = '}';
    int fits = camrtc_iot_creds_parse((const uint8_t *)big, n - 1, &c);
    free(big);
    CHECK_EQ_INT(over, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(fits, CAMRTC_OK);

    /* A session token longer than its slot (4095 bytes). */
    char body[8192];
    char token[4200];
    memset(token, 'T', 4096);
    token[4096] = '\0';
    snprintf(body, sizeof body,
             "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"%s\","
             "\"expiration\":\"2026-11-23T20:07:31Z\"}}", token);
    CHECK_EQ_INT(parse_str(body, &c), CAMRTC_ETOOBIG);
    CHECK_EQ_STR(c.access_key_id, "");
    token[4095] = '\0';
    snprintf(body, sizeof body,
             "{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"%s\","
             "\"expiration\":\"2026-11-23T20:07:31Z\"}}", token);
    CHECK_EQ_INT(parse_str(body, &c), CAMRTC_OK);
    CHECK_EQ_INT(strlen(c.session_token), 4095);
}

TEST(expired_credentials_parse_and_are_due_at_once)
{
    camrtc_aws_config c;
    CHECK_EQ_INT(parse_str("{\"credentials\":{\"accessKeyId\":\"A\",\"secretAccessKey\":\"S\",\"sessionToken\":\"T\","
                           "\"expiration\":\"2001-01-01T00:00:00Z\"}}", &c), 0);
    CHECK_EQ_INT(c.expiration, 978307200);
    c.obtained = 978307200 + 60; /* issued after they expired */
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&c), 978307200);
}

TEST(refresh_time)
{
    camrtc_aws_config c;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&c), INT64_MAX);
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(NULL), INT64_MAX);
    c.expiration = 1000000;
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&c), 1000000 - 300);  /* lifetime unknown */
    c.obtained = 1000000 - 3600;
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&c), 1000000 - 300);  /* one hour: 5 min before */
    c.obtained = 1000000 - 600;
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&c), 1000000 - 300);  /* exactly where both agree */
    c.obtained = 1000000 - 200;
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&c), 1000000 - 100);  /* short: half the lifetime */
    c.obtained = 1000000;
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&c), 1000000);
}

TEST(request_url)
{
    char url[512];
    camrtc_iot_config cfg = {.endpoint = "c1abc2def3.credentials.iot.us-west-2.amazonaws.com",
                             .role_alias = "KvsCameraIoTRoleAlias", .thing_name = "cam-1:front_door"};
    CHECK_EQ_INT(camrtc_iot_creds_url(&cfg, url, sizeof url), 0);
    CHECK_EQ_STR(url, "https://c1abc2def3.credentials.iot.us-west-2.amazonaws.com/role-aliases/"
                      "KvsCameraIoTRoleAlias/credentials");
    cfg.endpoint = "https://127.0.0.1:8443/";
    cfg.role_alias = "a=b,c@d-e_f";
    CHECK_EQ_INT(camrtc_iot_creds_url(&cfg, url, sizeof url), 0);
    CHECK_EQ_STR(url, "https://127.0.0.1:8443/role-aliases/a=b,c@d-e_f/credentials");
    CHECK_EQ_INT(camrtc_iot_creds_url(&cfg, url, 20), CAMRTC_ETOOBIG);
    CHECK_EQ_STR(url, "");

    static const struct { const char *ep, *alias, *thing; } bad[] = {
        {"host/evil", "a", "t"},      {"user@host", "a", "t"}, {"host?x", "a", "t"}, {"", "a", "t"},
        {NULL, "a", "t"},             {"host", "a/b", "t"},    {"host", "a b", "t"}, {"host", "", "t"},
        {"host", NULL, "t"},          {"host", "a", "t\r\nX: y"}, {"host", "a", "t@x"}, {"host", "a", ""},
        {"host", "a", NULL},          {"http://host", "a", "t"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        camrtc_iot_config b = {.endpoint = bad[i].ep, .role_alias = bad[i].alias, .thing_name = bad[i].thing};
        CHECK_EQ_INT(camrtc_iot_creds_url(&b, url, sizeof url), CAMRTC_EINVAL);
    }
    char long_alias[200];
    memset(long_alias, 'a', 129);
    long_alias[129] = '\0';
    cfg.role_alias = long_alias;
    CHECK_EQ_INT(camrtc_iot_creds_url(&cfg, url, sizeof url), CAMRTC_EINVAL);
    long_alias[128] = '\0';
    CHECK_EQ_INT(camrtc_iot_creds_url(&cfg, url, sizeof url), CAMRTC_OK);
}

/* ---------- fetch over mutual TLS ---------- */

static const char *data_path(const char *name)
{
    static char path[4][512];
    static int next;
    const char *dir = getenv("CAMRTC_TEST_DATA");
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/tls/%s", dir ? dir : "tests/unit/data", name);
    return p;
}

typedef struct env {
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    camrtc_rng rng;
    camrtc_tls_config *scfg, *ccfg;
    camrtc_listener *l;
    camrtc_http_parser parser;
    char response[2048];
    /* what the server saw */
    int accepted, requests;
    char method[16], target[256], thing[256], host[64];
    /* what the client got */
    int calls, err;
    camrtc_aws_config creds;
    char why[400];
} env;

static void guard_cb(uv_timer_t *t)
{
    env *e = t->data;
    e->timed_out = true;
    uv_stop(&e->loop);
}

static void srv_data(camrtc_conn *c, void *ud, const uint8_t *data, size_t len)
{
    env *e = ud;
    int rc = camrtc_http_parser_feed(&e->parser, data, len, NULL);
    if (rc == CAMRTC_EAGAIN)
        return;
    if (rc == CAMRTC_OK) {
        const camrtc_http_msg *m = camrtc_http_parser_msg(&e->parser);
        e->requests++;
        snprintf(e->method, sizeof e->method, "%s", m->method);
        snprintf(e->target, sizeof e->target, "%s", m->target);
        const char *thing = camrtc_http_header(m, "x-amzn-iot-thingname");
        snprintf(e->thing, sizeof e->thing, "%s", thing ? thing : "(none)");
        const char *host = camrtc_http_header(m, "host");
        snprintf(e->host, sizeof e->host, "%s", host ? host : "(none)");
        camrtc_conn_write(c, e->response, strlen(e->response));
    }
    camrtc_conn_close(c);
}

static void srv_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->accepted++;
    camrtc_http_parser_reset(&e->parser);
    static const camrtc_conn_callbacks cb = {.on_data = srv_data};
    camrtc_conn_set_callbacks(c, &cb, e);
}

static void on_creds(void *ud, int err, const camrtc_aws_config *creds, const char *why)
{
    env *e = ud;
    e->calls++;
    e->err = err;
    if (creds)
        e->creds = *creds;
    snprintf(e->why, sizeof e->why, "%s", why ? why : "");
    if (e->l) {
        camrtc_listener_close(e->l);
        e->l = NULL;
    }
}

/* Server requiring certificates from ca.pem, answering status/date/body; the
 * client presents client.pem unless with_cert is false. */
static bool env_init(env *e, bool with_cert, int status, const char *date, const char *body)
{
    memset(e, 0, sizeof *e);
    uv_loop_init(&e->loop);
    uv_timer_init(&e->loop, &e->guard);
    e->guard.data = e;
    uv_timer_start(&e->guard, guard_cb, GUARD_MS, 0);
    uv_unref((uv_handle_t *)&e->guard);
    camrtc_rng_init_seed(&e->rng, 77);
    camrtc_http_parser_init(&e->parser, CAMRTC_HTTP_REQUEST, 4096);
    char err[200] = "";
    e->scfg = camrtc_tls_config_new_server(data_path("server.pem"), data_path("server.key"), &e->rng, err, sizeof err);
    if (!e->scfg || camrtc_tls_config_require_client_cert(e->scfg, data_path("ca.pem"), err, sizeof err) != 0) {
        fprintf(stderr, "server tls: %s\n", err);
        return false;
    }
    e->ccfg = with_cert ? camrtc_tls_config_new_client_cert(data_path("ca.pem"), data_path("client.pem"),
                                                            data_path("client.key"), &e->rng, err, sizeof err)
                        : camrtc_tls_config_new_client(data_path("ca.pem"), true, &e->rng, err, sizeof err);
    if (!e->ccfg) {
        fprintf(stderr, "client tls: %s\n", err);
        return false;
    }
    snprintf(e->response, sizeof e->response,
             "HTTP/1.1 %d X\r\n%s%s%sContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", status,
             date ? "Date: " : "", date ? date : "", date ? "\r\n" : "", strlen(body), body);
    return camrtc_listener_start(&e->loop, "127.0.0.1", 0, e->scfg, srv_accept, e, &e->l) == 0;
}

static int env_fetch(env *e)
{
    char ep[64];
    snprintf(ep, sizeof ep, "127.0.0.1:%u", (unsigned)camrtc_listener_port(e->l));
    camrtc_iot_config cfg = {.endpoint = ep, .role_alias = "camera-alias", .thing_name = "cam-1",
                             .timeout_ms = 15000};
    int rc = camrtc_iot_creds_fetch(&e->loop, &cfg, e->ccfg, on_creds, e);
    if (rc != 0 && e->l) {
        camrtc_listener_close(e->l);
        e->l = NULL;
    }
    return rc;
}

/* Run to completion; false when a handle was left open. */
static bool env_done(env *e)
{
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&e->guard, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    bool clean = uv_loop_close(&e->loop) == 0;
    camrtc_http_parser_free(&e->parser);
    camrtc_tls_config_free(e->scfg);
    camrtc_tls_config_free(e->ccfg);
    camrtc_rng_free(&e->rng);
    return clean;
}

TEST(fetch_over_mutual_tls)
{
    env e;
    bool ok = env_init(&e, true, 200, "Mon, 23 Nov 2026 19:07:31 GMT", good_body);
    int rc = ok ? env_fetch(&e) : -100;
    int calls_before_run = e.calls;
    bool clean = env_done(&e);
    CHECK(ok);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(calls_before_run, 0);
    CHECK(!e.timed_out);
    CHECK(clean);
    CHECK_EQ_INT(e.calls, 1);
    CHECK_EQ_INT(e.err, 0);
    CHECK_EQ_STR(e.why, "");
    CHECK_EQ_INT(e.requests, 1);
    CHECK_EQ_STR(e.method, "GET");
    CHECK_EQ_STR(e.target, "/role-aliases/camera-alias/credentials");
    CHECK_EQ_STR(e.thing, "cam-1");
    CHECK(strncmp(e.host, "127.0.0.1:", 10) == 0);
    CHECK_EQ_STR(e.creds.access_key_id, "ASIAIOTEXAMPLE");
    CHECK_EQ_STR(e.creds.secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCY");
    CHECK_EQ_STR(e.creds.session_token, "IQoJb3JpZ2luX2VjEXAMPLETOKEN==");
    CHECK_EQ_STR(e.creds.source, "iot");
    CHECK_EQ_INT(e.creds.expiration, 1795464451);
    CHECK_EQ_INT(e.creds.obtained, 1795460851); /* the server's Date */
    CHECK_EQ_INT(camrtc_iot_creds_refresh_at(&e.creds), 1795464451 - 300);
}

TEST(fetch_without_client_cert_is_refused)
{
    env e;
    bool ok = env_init(&e, false, 200, NULL, good_body);
    int rc = ok ? env_fetch(&e) : -100;
    bool clean = env_done(&e);
    CHECK(ok);
    CHECK_EQ_INT(rc, 0);
    CHECK(!e.timed_out);
    CHECK(clean);
    CHECK_EQ_INT(e.calls, 1);
    CHECK(e.err < 0);
    CHECK_EQ_STR(e.creds.access_key_id, "");
    CHECK(strstr(e.why, "IoT credentials provider 127.0.0.1:") == e.why);
    CHECK_EQ_INT(e.accepted, 0); /* the handshake never completed */
    CHECK_EQ_INT(e.requests, 0);
}

TEST(fetch_error_statuses)
{
    static const struct { int status; const char *body; int err; const char *why_end; } cases[] = {
        {403, "{\"message\":\"Access Denied\"}", CAMRTC_EAUTH, "answered 403: Access Denied"},
        {401, "{}", CAMRTC_EAUTH, "answered 401"},
        {404, "{\"message\":\"Role alias does not exist\"}", CAMRTC_ENOTFOUND, "answered 404: Role alias does not exist"},
        {429, "", CAMRTC_ELIMIT, "answered 429"},
        {500, "{\"message\":\"bad\\r\\nthing\"}", CAMRTC_EPROTO, "answered 500: bad??thing"},
        {200, "{\"message\":\"ok?\"}", CAMRTC_EPROTO, "sent an unusable response: malformed protocol input"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        env e;
        bool ok = env_init(&e, true, cases[i].status, NULL, cases[i].body);
        int rc = ok ? env_fetch(&e) : -100;
        bool clean = env_done(&e);
        size_t wl = strlen(e.why), el = strlen(cases[i].why_end);
        if (e.err != cases[i].err || wl < el || strcmp(e.why + wl - el, cases[i].why_end) != 0)
            fprintf(stderr, "case %zu: err %d why '%s'\n", i, e.err, e.why);
        CHECK(ok);
        CHECK_EQ_INT(rc, 0);
        CHECK(clean);
        CHECK_EQ_INT(e.calls, 1);
        CHECK_EQ_INT(e.err, cases[i].err);
        CHECK(wl >= el && strcmp(e.why + wl - el, cases[i].why_end) == 0);
        CHECK_EQ_STR(e.creds.access_key_id, "");
    }
}

TEST(fetch_of_already_expired_credentials_fails)
{
    env e;
    /* The server's clock says an hour after the expiration. */
    bool ok = env_init(&e, true, 200, "Mon, 23 Nov 2026 21:07:31 GMT", good_body);
    int rc = ok ? env_fetch(&e) : -100;
    bool clean = env_done(&e);
    CHECK(ok);
    CHECK_EQ_INT(rc, 0);
    CHECK(clean);
    CHECK_EQ_INT(e.calls, 1);
    CHECK_EQ_INT(e.err, CAMRTC_EEXPIRED);
    CHECK(strstr(e.why, "expired at 20261123T200731Z (it is 20261123T210731Z)") != NULL);
    CHECK(strstr(e.why, "wJalr") == NULL);
    CHECK_EQ_STR(e.creds.access_key_id, "");
}

TEST(fetch_rejects_bad_config_at_once)
{
    env e;
    bool ok = env_init(&e, true, 200, NULL, good_body);
    camrtc_iot_config cfg = {.endpoint = "127.0.0.1:1", .role_alias = "../x", .thing_name = "cam"};
    int a = camrtc_iot_creds_fetch(&e.loop, &cfg, e.ccfg, on_creds, &e);
    cfg.role_alias = "x";
    int b = camrtc_iot_creds_fetch(&e.loop, &cfg, NULL, on_creds, &e);
    int c = camrtc_iot_creds_fetch(&e.loop, NULL, e.ccfg, on_creds, &e);
    int d = camrtc_iot_creds_fetch(&e.loop, &cfg, e.ccfg, NULL, &e);
    camrtc_listener_close(e.l);
    e.l = NULL;
    bool clean = env_done(&e);
    CHECK(ok);
    CHECK_EQ_INT(a, CAMRTC_EINVAL);
    CHECK_EQ_INT(b, CAMRTC_EINVAL);
    CHECK_EQ_INT(c, CAMRTC_EINVAL);
    CHECK_EQ_INT(d, CAMRTC_EINVAL);
    CHECK(clean);
    CHECK_EQ_INT(e.calls, 0);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return RUN_TESTS(parse_good_response, parse_bad_responses, parse_oversize,
                     expired_credentials_parse_and_are_due_at_once, refresh_time, request_url,
                     fetch_over_mutual_tls, fetch_without_client_cert_is_refused, fetch_error_statuses,
                     fetch_of_already_expired_credentials_fails, fetch_rejects_bad_config_at_once);
}
