/* A fake glue for the signaling core's scenario tests: it records every request, WebSocket
 * operation and event the core asks for, and lets a test answer them on a virtual clock
 * (monotonic `now`, local wall clock = WALL0 + now, the service's = WALL0 + now + svc_skew_ms).
 * Nothing here touches a socket or a real clock; the rng is seeded, so runs are identical.
 */
#ifndef CAMRTC_TEST_SIGCORE_FAKE_H
#define CAMRTC_TEST_SIGCORE_FAKE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "camrtc/error.h"
#include "camrtc/sigmsg.h"
#include "camrtc/time.h"
#include "signaling/sigcore.h"

#define WALL0 1763924851   /* 2025-11-23T19:07:31Z */
#define ARN1 "arn:aws:kinesisvideo:us-west-2:123456789012:channel/cam-1/1700000000000"
#define ARN1_ENC "arn%3Aaws%3Akinesisvideo%3Aus-west-2%3A123456789012%3Achannel%2Fcam-1%2F1700000000000"
#define CONTROL "https://kinesisvideo.us-west-2.amazonaws.com"
#define WSS1 "wss://m-1.kinesisvideo.us-west-2.amazonaws.com"
#define HTTPS1 "https://r-1.kinesisvideo.us-west-2.amazonaws.com"

#define DESCRIBE_OK "{\"ChannelInfo\":{\"ChannelARN\":\"" ARN1 "\",\"ChannelName\":\"cam-1\",\"ChannelStatus\":\"ACTIVE\"," \
    "\"ChannelType\":\"SINGLE_MASTER\",\"Version\":\"v1\",\"SingleMasterConfiguration\":{\"MessageTtlSeconds\":60}}}"
#define CREATE_OK "{\"ChannelARN\":\"" ARN1 "\"}"
#define ENDPOINTS_OK "{\"ResourceEndpointList\":[{\"Protocol\":\"WSS\",\"ResourceEndpoint\":\"" WSS1 "\"}," \
    "{\"Protocol\":\"HTTPS\",\"ResourceEndpoint\":\"" HTTPS1 "\"}]}"
/* Two servers: the smaller Ttl (200 s) decides the refresh. */
#define ICE_OK "{\"IceServerList\":[{\"Uris\":[\"turn:192.0.2.1:443?transport=udp\"],\"Username\":\"u1\"," \
    "\"Password\":\"p1\",\"Ttl\":300},{\"Uris\":[\"turns:192.0.2.2:443?transport=tcp\"],\"Username\":\"u2\"," \
    "\"Password\":\"p2\",\"Ttl\":200}]}"
#define NOT_FOUND_BODY "{\"message\":\"The requested channel is not found or not active.\"}"

#define FK_MAX 512

typedef enum fk_op { FK_DESCRIBE, FK_CREATE, FK_ENDPOINT, FK_ICE, FK_OTHER } fk_op;

typedef struct fk_http {
    uint32_t id;
    fk_op op;
    char url[1024];
    char body[2048];
    char amz_date[20];
    char auth[1024];
    bool cancelled;
} fk_http;

typedef struct fk_ws {
    uint32_t id;
    char url[8192];
    bool close_asked;
} fk_ws;

typedef struct fk_send {
    uint32_t ws_id;
    char *text;
} fk_send;

typedef struct fake {
    sigcore *c;
    camrtc_rng rng;
    camrtc_time_us now;
    int64_t svc_skew_ms;        /* the service's clock minus ours */
    bool auto_pong;
    bool overflow;              /* more calls than the records hold */
    fk_http http[FK_MAX];
    size_t n_http;
    fk_ws ws[64];
    size_t n_ws;
    fk_send sends[FK_MAX];
    size_t n_sends;
    uint32_t pings[FK_MAX];
    size_t n_pings;
    int need_creds;
    int cache_saves;
    sigcore_cache last_cache;
    sigcore_state states[FK_MAX];
    size_t n_states;
    char last_why[128];
    int n_messages;
    camrtc_sigmsg_type last_msg_type;
    char last_msg_peer[CAMRTC_SIGMSG_MAX_ID + 1];
    int n_status;
    char last_status_corr[CAMRTC_SIGMSG_MAX_ID + 1];
    int last_status_code;
    int n_ice;
    camrtc_kvs_ice_config last_ice;
} fake;

static inline int64_t fk_wall(const fake *f)
{
    return WALL0 + (int64_t)(f->now / 1000000u);
}

static inline fk_op fk_op_of(const char *url)
{
    const char *p = strrchr(url, '/');
    if (!p)
        return FK_OTHER;
    if (!strcmp(p, "/describeSignalingChannel"))
        return FK_DESCRIBE;
    if (!strcmp(p, "/createSignalingChannel"))
        return FK_CREATE;
    if (!strcmp(p, "/getSignalingChannelEndpoint"))
        return FK_ENDPOINT;
    if (!strcmp(p, "/get-ice-server-config"))
        return FK_ICE;
    return FK_OTHER;
}

static inline void fk_io_http(void *ud, uint32_t id, const camrtc_kvs_request *req)
{
    fake *f = ud;
    if (f->n_http == FK_MAX) {   /* a runaway core: the test's counts will show it */
        f->overflow = true;
        return;
    }
    fk_http *h = &f->http[f->n_http++];
    memset(h, 0, sizeof *h);
    h->id = id;
    snprintf(h->url, sizeof h->url, "%s", req->url);
    h->op = fk_op_of(req->url);
    snprintf(h->body, sizeof h->body, "%.*s", (int)req->body.len, (const char *)camrtc_buf_data(&req->body));
    const char *d = camrtc_kv_get(req->headers, req->n_headers, "x-amz-date");
    snprintf(h->amz_date, sizeof h->amz_date, "%s", d ? d : "");
    const char *a = camrtc_kv_get(req->headers, req->n_headers, "authorization");
    snprintf(h->auth, sizeof h->auth, "%s", a ? a : "");
}

static inline void fk_io_http_cancel(void *ud, uint32_t id)
{
    fake *f = ud;
    for (size_t i = 0; i < f->n_http; i++)
        if (f->http[i].id == id)
            f->http[i].cancelled = true;
}

static inline fk_ws *fk_ws_by_id(fake *f, uint32_t id)
{
    for (size_t i = 0; i < f->n_ws; i++)
        if (f->ws[i].id == id)
            return &f->ws[i];
    return NULL;
}

static inline void fk_io_ws_open(void *ud, uint32_t id, const char *url)
{
    fake *f = ud;
    if (f->n_ws == sizeof f->ws / sizeof f->ws[0]) {
        f->overflow = true;
        return;
    }
    fk_ws *w = &f->ws[f->n_ws++];
    memset(w, 0, sizeof *w);
    w->id = id;
    snprintf(w->url, sizeof w->url, "%s", url);
}

static inline void fk_io_ws_send(void *ud, uint32_t id, const char *text, size_t len)
{
    fake *f = ud;
    if (f->n_sends == FK_MAX) {
        f->overflow = true;
        return;
    }
    fk_send *s = &f->sends[f->n_sends++];
    s->ws_id = id;
    s->text = malloc(len + 1);
    memcpy(s->text, text, len);
    s->text[len] = '\0';
}

static inline void fk_io_ws_ping(void *ud, uint32_t id)
{
    fake *f = ud;
    if (f->n_pings < FK_MAX)
        f->pings[f->n_pings++] = id;
}

static inline void fk_io_ws_close(void *ud, uint32_t id)
{
    fk_ws *w = fk_ws_by_id(ud, id);
    if (w)
        w->close_asked = true;
}

static inline void fk_io_need_credentials(void *ud)
{
    ((fake *)ud)->need_creds++;
}

static inline void fk_io_cache_save(void *ud, const sigcore_cache *k)
{
    fake *f = ud;
    f->cache_saves++;
    f->last_cache = *k;
}

static inline void fk_io_state(void *ud, sigcore_state s, const char *why)
{
    fake *f = ud;
    if (f->n_states < FK_MAX)
        f->states[f->n_states++] = s;
    snprintf(f->last_why, sizeof f->last_why, "%s", why ? why : "");
}

static inline void fk_io_message(void *ud, const camrtc_sigmsg *m)
{
    fake *f = ud;
    f->n_messages++;
    f->last_msg_type = m->type;
    snprintf(f->last_msg_peer, sizeof f->last_msg_peer, "%s", m->peer_id);
}

static inline void fk_io_status(void *ud, const camrtc_sigmsg *m)
{
    fake *f = ud;
    f->n_status++;
    f->last_status_code = m->status_code;
    snprintf(f->last_status_corr, sizeof f->last_status_corr, "%s", m->correlation_id);
}

static inline void fk_io_ice(void *ud, const camrtc_kvs_ice_config *c)
{
    fake *f = ud;
    f->n_ice++;
    f->last_ice = *c;
}

/* The default configuration: master of channel "cam-1" by name. */
static inline sigcore_config fk_config(void)
{
    sigcore_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.channel_name = "cam-1";
    cfg.region = "us-west-2";
    cfg.control_endpoint = CONTROL;
    return cfg;
}

static const camrtc_aws_creds fk_creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};

/* Create the core with cfg (NULL = fk_config()), credentials set, not started. */
static inline bool fk_init(fake *f, const sigcore_config *cfg, bool need_creds_cb)
{
    memset(f, 0, sizeof *f);
    f->now = CAMRTC_SEC(1000);
    f->auto_pong = true;
    if (camrtc_rng_init_seed(&f->rng, 42) < 0)
        return false;
    sigcore_io io = {
        .http = fk_io_http, .http_cancel = fk_io_http_cancel, .ws_open = fk_io_ws_open, .ws_send = fk_io_ws_send,
        .ws_ping = fk_io_ws_ping, .ws_close = fk_io_ws_close, .cache_save = fk_io_cache_save, .state = fk_io_state,
        .message = fk_io_message, .status = fk_io_status, .ice_config = fk_io_ice,
    };
    if (need_creds_cb)
        io.need_credentials = fk_io_need_credentials;
    sigcore_config def = fk_config();
    char err[200];
    f->c = sigcore_new(cfg ? cfg : &def, &io, f, &f->rng, NULL, err, sizeof err);
    if (!f->c) {
        fprintf(stderr, "sigcore_new: %s\n", err);
        return false;
    }
    sigcore_set_credentials(f->c, &fk_creds, 0, f->now, fk_wall(f));
    return true;
}

static inline void fk_free(fake *f)
{
    sigcore_free(f->c);
    for (size_t i = 0; i < f->n_sends; i++)
        free(f->sends[i].text);
    camrtc_rng_free(&f->rng);
}

static inline fk_http *fk_last_http(fake *f)
{
    return &f->http[f->n_http ? f->n_http - 1 : 0];   /* a zeroed record when there is none */
}

static inline fk_ws *fk_last_ws(fake *f)
{
    return &f->ws[f->n_ws ? f->n_ws - 1 : 0];
}

/* Answer request h with status and body; the response carries the service's Date and, for
 * errors, error_type as x-amzn-ErrorType (NULL = none). */
static inline void fk_answer(fake *f, const fk_http *h, int status, const char *error_type, const char *body)
{
    char date[30];
    camrtc_time_http(WALL0 + ((int64_t)f->now / 1000 + f->svc_skew_ms) / 1000, date);
    camrtc_kv hd[3] = {{"Date", date}, {"Content-Type", "application/json"}, {"x-amzn-ErrorType", error_type}};
    size_t n = error_type ? 3 : 2;
    sigcore_http_response(f->c, h->id, status, hd, n, (const uint8_t *)body, body ? strlen(body) : 0, f->now,
                          fk_wall(f));
}

/* Answer the last request with 200 and body when it is op; false otherwise. */
static inline bool fk_ok(fake *f, fk_op op, const char *body)
{
    fk_http *h = fk_last_http(f);
    if (!f->n_http || h->op != op || h->cancelled)
        return false;
    fk_answer(f, h, 200, NULL, body);
    return true;
}

/* Run the timers until `until` (absolute), answering pings with pongs when auto_pong. */
static inline bool fk_run_to(fake *f, camrtc_time_us until)
{
    for (int guard = 0; guard < 100000; guard++) {
        camrtc_time_us t = sigcore_next_timeout(f->c);
        if (t == CAMRTC_TIME_NEVER || t > until) {
            f->now = until;
            return true;
        }
        if (t > f->now)
            f->now = t;
        size_t pings = f->n_pings;
        sigcore_handle_timeout(f->c, f->now, fk_wall(f));
        if (f->auto_pong && f->n_pings > pings)
            sigcore_ws_pong(f->c, f->pings[f->n_pings - 1], f->now);
    }
    fprintf(stderr, "timer loop did not settle: a tight loop\n");
    return false;
}

static inline bool fk_advance(fake *f, camrtc_time_us dt)
{
    return fk_run_to(f, f->now + dt);
}

/* Advance until a new HTTP request or WebSocket open appears (at most limit); true if one did. */
static inline bool fk_run_until_call(fake *f, camrtc_time_us limit)
{
    size_t h = f->n_http, w = f->n_ws;
    camrtc_time_us end = f->now + limit;
    while (f->n_http == h && f->n_ws == w) {
        camrtc_time_us t = sigcore_next_timeout(f->c);
        if (t == CAMRTC_TIME_NEVER || t > end)
            return false;
        if (t > f->now)
            f->now = t;
        size_t pings = f->n_pings;
        sigcore_handle_timeout(f->c, f->now, fk_wall(f));
        if (f->auto_pong && f->n_pings > pings)
            sigcore_ws_pong(f->c, f->pings[f->n_pings - 1], f->now);
    }
    return true;
}

/* Start and answer the whole flow (Describe, GetEndpoint, GetIceConfig, open). */
static inline bool fk_connect(fake *f)
{
    if (sigcore_start(f->c, f->now, fk_wall(f)) < 0)
        return false;
    if (!fk_ok(f, FK_DESCRIBE, DESCRIBE_OK) || !fk_ok(f, FK_ENDPOINT, ENDPOINTS_OK) || !fk_ok(f, FK_ICE, ICE_OK))
        return false;
    fk_ws *w = fk_last_ws(f);
    if (!f->n_ws)
        return false;
    sigcore_ws_open(f->c, w->id, f->now, fk_wall(f));
    return sigcore_get_state(f->c) == SIGCORE_CONNECTED;
}

/* A service -> client message as JSON text (payload is the inner JSON, may be NULL). */
static inline char *fk_service_msg(camrtc_sigmsg_type t, const char *sender, const char *payload)
{
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = t;
    if (sender)
        snprintf(m.peer_id, sizeof m.peer_id, "%s", sender);
    if (payload)
        camrtc_sigmsg_set_payload_json(&m, payload, strlen(payload));
    camrtc_buf b;
    memset(&b, 0, sizeof b);
    char *out = NULL;
    if (camrtc_sigmsg_write_to_client(&b, &m) == CAMRTC_OK)
        out = strdup(camrtc_buf_cstr(&b));
    camrtc_buf_free(&b);
    camrtc_sigmsg_clear(&m);
    return out;
}

/* Deliver text on WebSocket id. */
static inline void fk_deliver(fake *f, uint32_t id, const char *text)
{
    sigcore_ws_message(f->c, id, (const uint8_t *)text, strlen(text), f->now, fk_wall(f));
}

static inline void fk_deliver_msg(fake *f, uint32_t id, camrtc_sigmsg_type t, const char *sender,
                                  const char *payload)
{
    char *text = fk_service_msg(t, sender, payload);
    if (text)
        fk_deliver(f, id, text);
    free(text);
}

/* String member path a.b of a JSON body ("" when absent). */
static inline const char *fk_json_str(const char *body, const char *key, const char *sub, char *out, size_t outsz)
{
    out[0] = '\0';
    cJSON *root = cJSON_Parse(body);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (sub)
        v = cJSON_GetObjectItemCaseSensitive(v, sub);
    if (cJSON_IsString(v))
        snprintf(out, outsz, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(out, outsz, "%d", v->valueint);
    cJSON_Delete(root);
    return out;
}

/* Number of top-level members of a JSON body (-1 if not an object). */
static inline int fk_json_members(const char *body)
{
    cJSON *root = cJSON_Parse(body);
    int n = cJSON_IsObject(root) ? cJSON_GetArraySize(root) : -1;
    cJSON_Delete(root);
    return n;
}

/* The value of query parameter name in url ("" when absent). */
static inline const char *fk_query(const char *url, const char *name, char *out, size_t outsz)
{
    out[0] = '\0';
    const char *q = strchr(url, '?');
    size_t n = strlen(name);
    for (const char *p = q; p && *p;) {
        p++;
        if (!strncmp(p, name, n) && p[n] == '=') {
            size_t len = strcspn(p + n + 1, "&");
            snprintf(out, outsz, "%.*s", (int)len, p + n + 1);
            return out;
        }
        p = strchr(p, '&');
    }
    return out;
}

static inline size_t fk_count_op(const fake *f, fk_op op)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n_http; i++)
        n += f->http[i].op == op;
    return n;
}

static inline bool fk_saw_state(const fake *f, sigcore_state s)
{
    for (size_t i = 0; i < f->n_states; i++)
        if (f->states[i] == s)
            return true;
    return false;
}

#endif
