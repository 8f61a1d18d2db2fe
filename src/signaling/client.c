/* The signaling client's glue: drives the sans-I/O core (sigcore.c) from libuv.
 *
 * HTTP requests go through the one-shot HTTP client, WebSockets through wsclient,
 * timers through one uv timer, the endpoint cache through a small file. Events
 * for the application are queued while the core runs and delivered after it
 * returns, so the application may call camrtc_sigclient_send from any callback
 * without re-entering the core.
 */
#include "camrtc/sigclient.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "camrtc/codec.h"
#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/httpclient.h"
#include "camrtc/iotcreds.h"
#include "camrtc/tls.h"
#include "camrtc/wsclient.h"
#include "signaling/sigcore.h"

#define MOD "sigclient"
#define MAX_HTTP 8
#define MAX_WS 4

typedef enum ev_kind { EV_STATE, EV_MESSAGE, EV_STATUS, EV_ICE } ev_kind;

typedef struct event {
    struct event *next;
    ev_kind kind;
    char state[32], why[200];
    camrtc_sigmsg msg;             /* owned copy */
    camrtc_kvs_ice_config ice;
} event;

typedef struct http_slot {
    camrtc_sigclient *c;
    uint32_t id;                   /* 0 = free */
    bool cancelled;
} http_slot;

typedef struct ws_slot {
    camrtc_sigclient *c;
    uint32_t id;                   /* 0 = free */
    camrtc_wsclient *ws;
} ws_slot;

struct camrtc_sigclient {
    uv_loop_t *loop;
    camrtc_log *log;
    camrtc_rng rng;
    sigcore *core;
    camrtc_sigclient_callbacks cb;
    void *ud;
    camrtc_tls_config *tls;        /* made on first https/wss use */
    bool tls_failed;
    char ca_file[1024];
    uv_timer_t timer;
    camrtc_time_us timer_at;
    bool timer_armed;
    http_slot http[MAX_HTTP];
    ws_slot ws[MAX_WS];
    event *ev_head, *ev_tail;
    bool draining, stopping, stopped, freed_pending, handles_closing;
    int handles_open;
    int64_t clock_offset_s;
    char client_id[257];
    char cache_path[1024];
    char state[32];
    /* IoT credentials */
    bool iot;
    camrtc_tls_config *iot_tls;
    char iot_endpoint[256], iot_role_alias[256], iot_thing[256];
    bool iot_fetching;
    uv_timer_t iot_timer;
    int64_t creds_expiration;
};

static camrtc_time_us mono(void)
{
    return camrtc_now_us();
}

static int64_t wall(const camrtc_sigclient *c)
{
    return (int64_t)time(NULL) + c->clock_offset_s;
}

/* ---------- events ---------- */

static event *ev_new(camrtc_sigclient *c, ev_kind k)
{
    event *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->kind = k;
    if (c->ev_tail)
        c->ev_tail->next = e;
    else
        c->ev_head = e;
    c->ev_tail = e;
    return e;
}

static void copy_msg(camrtc_sigmsg *dst, const camrtc_sigmsg *src)
{
    *dst = *src;
    dst->payload = NULL;
    dst->ice_server_list = NULL;
    if (src->payload) {
        dst->payload = malloc(src->payload_len + 1);
        if (dst->payload) {
            memcpy(dst->payload, src->payload, src->payload_len);
            dst->payload[src->payload_len] = '\0';
        } else {
            dst->payload_len = 0;
        }
    }
    if (src->ice_server_list)
        dst->ice_server_list = strdup(src->ice_server_list);
}

static void timer_rearm(camrtc_sigclient *c);
static void finish_stop(camrtc_sigclient *c);
static void maybe_free(camrtc_sigclient *c);

/* Deliver queued events; called after every entry into the core. */
static void after_core(camrtc_sigclient *c)
{
    timer_rearm(c);
    if (c->draining)
        return;
    c->draining = true;
    while (c->ev_head) {
        event *e = c->ev_head;
        c->ev_head = e->next;
        if (!c->ev_head)
            c->ev_tail = NULL;
        switch (e->kind) {
        case EV_STATE:
            if (c->cb.on_state)
                c->cb.on_state(c->ud, e->state, e->why);
            break;
        case EV_MESSAGE:
            if (c->cb.on_message)
                c->cb.on_message(c->ud, &e->msg);
            break;
        case EV_STATUS:
            if (c->cb.on_status)
                c->cb.on_status(c->ud, &e->msg);
            break;
        case EV_ICE:
            if (c->cb.on_ice_config)
                c->cb.on_ice_config(c->ud, &e->ice);
            break;
        }
        camrtc_sigmsg_clear(&e->msg);
        free(e);
    }
    c->draining = false;
    if (c->stopped && !c->freed_pending)
        finish_stop(c);
}

/* ---------- timers ---------- */

static void on_timer(uv_timer_t *t)
{
    camrtc_sigclient *c = t->data;
    c->timer_armed = false;
    sigcore_handle_timeout(c->core, mono(), wall(c));
    after_core(c);
}

static void timer_rearm(camrtc_sigclient *c)
{
    if (!c->core || c->freed_pending)
        return;
    camrtc_time_us next = sigcore_next_timeout(c->core);
    if (next == CAMRTC_TIME_NEVER) {
        if (c->timer_armed)
            uv_timer_stop(&c->timer);
        c->timer_armed = false;
        return;
    }
    if (c->timer_armed && c->timer_at == next)
        return;
    camrtc_time_us now = mono();
    uint64_t ms = next > now ? (next - now + 999) / 1000 : 0;
    c->timer_at = next;
    c->timer_armed = true;
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* ---------- endpoint cache file ---------- */

static void cache_load(camrtc_sigclient *c)
{
    if (!c->cache_path[0])
        return;
    FILE *f = fopen(c->cache_path, "rb");
    if (!f)
        return;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *o = cJSON_ParseWithLength(buf, n);
    const cJSON *arn = cJSON_GetObjectItemCaseSensitive(o, "ChannelARN");
    const cJSON *wss = cJSON_GetObjectItemCaseSensitive(o, "WSS");
    const cJSON *https = cJSON_GetObjectItemCaseSensitive(o, "HTTPS");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "Expires");
    sigcore_cache cache;
    memset(&cache, 0, sizeof cache);
    if (cJSON_IsString(arn) && cJSON_IsString(wss) && cJSON_IsString(https) && cJSON_IsNumber(exp) &&
        camrtc_strlcpy(cache.channel_arn, arn->valuestring, sizeof cache.channel_arn) == 0 &&
        camrtc_strlcpy(cache.wss, wss->valuestring, sizeof cache.wss) == 0 &&
        camrtc_strlcpy(cache.https, https->valuestring, sizeof cache.https) == 0) {
        cache.expires = (int64_t)exp->valuedouble;
        sigcore_set_cache(c->core, &cache);
        CAMRTC_LOGD(c->log, MOD, "endpoint cache %s loaded", c->cache_path);
    } else {
        CAMRTC_LOGW(c->log, MOD, "ignoring malformed endpoint cache %s", c->cache_path);
    }
    cJSON_Delete(o);
}

static void io_cache_save(void *ud, const sigcore_cache *cache)
{
    camrtc_sigclient *c = ud;
    if (!c->cache_path[0])
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "ChannelARN", cache->channel_arn);
    cJSON_AddStringToObject(o, "WSS", cache->wss);
    cJSON_AddStringToObject(o, "HTTPS", cache->https);
    cJSON_AddNumberToObject(o, "Expires", (double)cache->expires);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return;
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", c->cache_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    bool ok = fd >= 0;
    size_t len = strlen(text);
    if (ok)
        ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (ok)
        ok = rename(tmp, c->cache_path) == 0;
    if (!ok) {
        CAMRTC_LOGW(c->log, MOD, "cannot write endpoint cache %s: %s", c->cache_path, strerror(errno));
        unlink(tmp);
    }
    free(text);
}

/* The cache file name: one per endpoint, region, channel and role. */
static void cache_path_for(camrtc_sigclient *c, const camrtc_sigclient_config *cfg)
{
    if (!cfg->cache_dir)
        return;
    char key[2048];
    snprintf(key, sizeof key, "%s|%s|%s|%s|%s", cfg->endpoint ? cfg->endpoint : "", cfg->region,
             cfg->channel_arn ? cfg->channel_arn : "", cfg->channel_name ? cfg->channel_name : "",
             cfg->viewer ? "VIEWER" : "MASTER");
    uint8_t h[32];
    camrtc_sha256(key, strlen(key), h);
    char hex[65];
    camrtc_hex_encode(h, 16, hex, sizeof hex);
    mkdir(cfg->cache_dir, 0700);
    int n = snprintf(c->cache_path, sizeof c->cache_path, "%s/endpoints-%s.json", cfg->cache_dir, hex);
    if (n < 0 || (size_t)n >= sizeof c->cache_path)
        c->cache_path[0] = '\0';
}

/* ---------- HTTP ---------- */

static void on_http(void *ud, int err, const camrtc_http_msg *m)
{
    http_slot *s = ud;
    camrtc_sigclient *c = s->c;
    uint32_t id = s->id;
    bool cancelled = s->cancelled;
    s->id = 0;
    s->cancelled = false;
    if (c->freed_pending) {
        maybe_free(c);
        return;
    }
    if (cancelled)
        return;
    if (m)
        sigcore_http_response(c->core, id, m->status, m->headers, m->n_headers, m->body, m->body_len, mono(),
                              wall(c));
    else
        sigcore_http_failed(c->core, id, err, mono(), wall(c));
    after_core(c);
}

/* The CA bundle is parsed on first use only: loading the system bundle costs more
 * than a whole connect to a local http:// endpoint. */
static camrtc_tls_config *client_tls(camrtc_sigclient *c)
{
    if (!c->tls && !c->tls_failed) {
        char err[256];
        c->tls = camrtc_tls_config_new_client(c->ca_file[0] ? c->ca_file : NULL, true, &c->rng, err, sizeof err);
        if (!c->tls) {
            c->tls_failed = true;
            CAMRTC_LOGE(c->log, MOD, "TLS: %s", err);
        }
    }
    return c->tls;
}

static void io_http(void *ud, uint32_t id, const camrtc_kvs_request *req)
{
    camrtc_sigclient *c = ud;
    http_slot *s = NULL;
    for (int i = 0; i < MAX_HTTP && !s; i++)
        if (!c->http[i].id)
            s = &c->http[i];
    int rc = CAMRTC_ELIMIT;
    if (s) {
        s->c = c;
        s->id = id;
        s->cancelled = false;
        /* The core enforces its own deadline; this one only bounds a lost request. */
        rc = camrtc_httpclient_request(c->loop, req->url, "POST", req->headers, req->n_headers,
                                       camrtc_buf_data(&req->body), req->body.len,
                                       strncmp(req->url, "https:", 6) ? NULL : client_tls(c), 30000, on_http, s);
        if (rc < 0)
            s->id = 0;
    }
    /* Never call the core from inside it: a request that cannot start is left to the
     * core's deadline, which turns it into a retry. */
    if (rc < 0)
        CAMRTC_LOGW(c->log, MOD, "cannot start request to %s: %s", req->url, camrtc_strerror(rc));
}

static void io_http_cancel(void *ud, uint32_t id)
{
    camrtc_sigclient *c = ud;
    for (int i = 0; i < MAX_HTTP; i++)
        if (c->http[i].id == id)
            c->http[i].cancelled = true;
}

/* ---------- WebSocket ---------- */

static ws_slot *ws_find(camrtc_sigclient *c, uint32_t id)
{
    for (int i = 0; i < MAX_WS; i++)
        if (c->ws[i].id == id)
            return &c->ws[i];
    return NULL;
}

static void ws_on_open(camrtc_wsclient *w, void *ud)
{
    ws_slot *s = ud;
    camrtc_sigclient *c = s->c;
    sigcore_ws_open(c->core, s->id, mono(), wall(c));
    after_core(c);
}

static void ws_on_text(camrtc_wsclient *w, void *ud, const uint8_t *data, size_t len)
{
    ws_slot *s = ud;
    camrtc_sigclient *c = s->c;
    sigcore_ws_message(c->core, s->id, data, len, mono(), wall(c));
    after_core(c);
}

static void ws_on_pong(camrtc_wsclient *w, void *ud)
{
    ws_slot *s = ud;
    camrtc_sigclient *c = s->c;
    sigcore_ws_pong(c->core, s->id, mono());
    after_core(c);
}

static void ws_on_close(camrtc_wsclient *w, void *ud, int err, int http_status, uint16_t code)
{
    ws_slot *s = ud;
    camrtc_sigclient *c = s->c;
    uint32_t id = s->id;
    s->id = 0;
    s->ws = NULL;
    if (c->freed_pending) {
        maybe_free(c);
        return;
    }
    CAMRTC_LOGD(c->log, MOD, "WebSocket %u closed (%s, HTTP %d, code %u)", id, camrtc_strerror(err), http_status,
                code);
    sigcore_ws_closed(c->core, id, err, http_status, NULL, 0, mono(), wall(c));
    after_core(c);
}

static const camrtc_wsclient_callbacks ws_cb = {
    .on_open = ws_on_open, .on_text = ws_on_text, .on_pong = ws_on_pong, .on_close = ws_on_close,
};

static void io_ws_open(void *ud, uint32_t id, const char *url)
{
    camrtc_sigclient *c = ud;
    ws_slot *s = ws_find(c, 0);
    if (!s) {
        CAMRTC_LOGW(c->log, MOD, "too many WebSockets open; the core's deadline will retry");
        return;
    }
    s->c = c;
    s->id = id;
    int rc = camrtc_wsclient_connect(c->loop, url, strncmp(url, "wss:", 4) ? NULL : client_tls(c), &c->rng, &ws_cb,
                                     s, &s->ws);
    if (rc < 0) {
        CAMRTC_LOGW(c->log, MOD, "cannot open WebSocket: %s", camrtc_strerror(rc));
        s->id = 0;
        s->ws = NULL;
    }
}

static void io_ws_send(void *ud, uint32_t id, const char *text, size_t len)
{
    camrtc_sigclient *c = ud;
    ws_slot *s = ws_find(c, id);
    if (s && s->ws)
        camrtc_wsclient_send_text(s->ws, text, len);
}

static void io_ws_ping(void *ud, uint32_t id)
{
    camrtc_sigclient *c = ud;
    ws_slot *s = ws_find(c, id);
    if (s && s->ws)
        camrtc_wsclient_send_ping(s->ws);
}

static void io_ws_close(void *ud, uint32_t id)
{
    camrtc_sigclient *c = ud;
    ws_slot *s = ws_find(c, id);
    if (s && s->ws)
        camrtc_wsclient_close(s->ws, 1000, "closing");
}

/* ---------- credentials ---------- */

static void iot_fetch(camrtc_sigclient *c);

static void on_iot_timer(uv_timer_t *t)
{
    iot_fetch(t->data);
}

static void on_iot_creds(void *ud, int err, const camrtc_aws_config *cfg, const char *why)
{
    camrtc_sigclient *c = ud;
    c->iot_fetching = false;
    if (c->freed_pending)
        return;
    if (err < 0 || !cfg) {
        CAMRTC_LOGW(c->log, MOD, "IoT credentials: %s; retrying in 5 s", why ? why : camrtc_strerror(err));
        uv_timer_start(&c->iot_timer, on_iot_timer, 5000, 0);
        return;
    }
    camrtc_aws_creds creds = {cfg->access_key_id, cfg->secret_access_key, cfg->session_token};
    c->creds_expiration = cfg->expiration;
    CAMRTC_LOGI(c->log, MOD, "IoT credentials for %s until %lld", cfg->access_key_id, (long long)cfg->expiration);
    sigcore_set_credentials(c->core, &creds, cfg->expiration, mono(), wall(c));
    int64_t at = camrtc_iot_creds_refresh_at(cfg);
    int64_t in = at - (int64_t)time(NULL);
    uv_timer_start(&c->iot_timer, on_iot_timer, in > 1 ? (uint64_t)in * 1000 : 1000, 0);
    after_core(c);
}

static void iot_fetch(camrtc_sigclient *c)
{
    if (c->iot_fetching || c->freed_pending)
        return;
    camrtc_iot_config ic = {
        .endpoint = c->iot_endpoint, .role_alias = c->iot_role_alias, .thing_name = c->iot_thing,
    };
    if (camrtc_iot_creds_fetch(c->loop, &ic, c->iot_tls, on_iot_creds, c) == CAMRTC_OK)
        c->iot_fetching = true;
    else
        uv_timer_start(&c->iot_timer, on_iot_timer, 5000, 0);
}

static void io_need_credentials(void *ud)
{
    camrtc_sigclient *c = ud;
    if (c->iot)
        iot_fetch(c);
}

/* ---------- core events ---------- */

static void io_state(void *ud, sigcore_state st, const char *why)
{
    camrtc_sigclient *c = ud;
    snprintf(c->state, sizeof c->state, "%s", sigcore_state_name(st));
    event *e = ev_new(c, EV_STATE);
    if (e) {
        snprintf(e->state, sizeof e->state, "%s", sigcore_state_name(st));
        snprintf(e->why, sizeof e->why, "%s", why ? why : "");
    }
    if (st == SIGCORE_STOPPED)
        c->stopped = true;
}

static void io_message(void *ud, const camrtc_sigmsg *m)
{
    event *e = ev_new(ud, EV_MESSAGE);
    if (e)
        copy_msg(&e->msg, m);
}

static void io_status(void *ud, const camrtc_sigmsg *m)
{
    event *e = ev_new(ud, EV_STATUS);
    if (e)
        copy_msg(&e->msg, m);
}

static void io_ice(void *ud, const camrtc_kvs_ice_config *ice)
{
    event *e = ev_new(ud, EV_ICE);
    if (e)
        e->ice = *ice;
}

/* Static credentials: need_credentials stays NULL so the core backs off and retries
 * with the same keys (they may have been refused by a clock problem or a race). */
static const sigcore_io core_io_static = {
    .http = io_http,
    .http_cancel = io_http_cancel,
    .ws_open = io_ws_open,
    .ws_send = io_ws_send,
    .ws_ping = io_ws_ping,
    .ws_close = io_ws_close,
    .need_credentials = NULL,
    .cache_save = io_cache_save,
    .state = io_state,
    .message = io_message,
    .status = io_status,
    .ice_config = io_ice,
};

static const sigcore_io core_io = {
    .http = io_http,
    .http_cancel = io_http_cancel,
    .ws_open = io_ws_open,
    .ws_send = io_ws_send,
    .ws_ping = io_ws_ping,
    .ws_close = io_ws_close,
    .need_credentials = io_need_credentials,
    .cache_save = io_cache_save,
    .state = io_state,
    .message = io_message,
    .status = io_status,
    .ice_config = io_ice,
};

/* ---------- lifecycle ---------- */

static void random_client_id(camrtc_sigclient *c)
{
    uint8_t r[6];
    camrtc_rng_bytes(&c->rng, r, sizeof r);
    char hex[13];
    camrtc_hex_encode(r, sizeof r, hex, sizeof hex);
    snprintf(c->client_id, sizeof c->client_id, "camrtc-viewer-%s", hex);
}

/* Free the client once it is stopped and libuv holds nothing of it any more. */
static void maybe_free(camrtc_sigclient *c)
{
    if (!c->freed_pending || c->handles_open > 0)
        return;
    for (int i = 0; i < MAX_HTTP; i++)
        if (c->http[i].id)
            return;   /* its callback comes back here */
    for (int i = 0; i < MAX_WS; i++)
        if (c->ws[i].ws)
            return;
    if (c->core)
        sigcore_free(c->core);
    if (c->tls)
        camrtc_tls_config_free(c->tls);
    if (c->iot_tls)
        camrtc_tls_config_free(c->iot_tls);
    camrtc_rng_free(&c->rng);
    while (c->ev_head) {
        event *e = c->ev_head;
        c->ev_head = e->next;
        camrtc_sigmsg_clear(&e->msg);
        free(e);
    }
    free(c);
}

static void handle_closed(uv_handle_t *h)
{
    camrtc_sigclient *c = h->data;
    c->handles_open--;
    maybe_free(c);
}

static void close_handles(camrtc_sigclient *c)
{
    if (c->handles_closing)
        return;
    c->handles_closing = true;
    uv_close((uv_handle_t *)&c->timer, handle_closed);
    uv_close((uv_handle_t *)&c->iot_timer, handle_closed);
}

static void finish_stop(camrtc_sigclient *c)
{
    if (c->freed_pending)
        return;
    c->freed_pending = true;
    if (c->cb.on_stopped)
        c->cb.on_stopped(c->ud);
    for (int i = 0; i < MAX_WS; i++)
        if (c->ws[i].ws)
            camrtc_wsclient_abort(c->ws[i].ws);   /* ws_on_close comes back to maybe_free */
    close_handles(c);
}

camrtc_sigclient *camrtc_sigclient_start(uv_loop_t *loop, const camrtc_sigclient_config *cfg,
                                         const camrtc_sigclient_callbacks *cb, void *ud, camrtc_log *log,
                                         char *err, size_t errsz)
{
    if (!cfg->region || !*cfg->region) {
        snprintf(err, errsz, "no region: give --region or set AWS_REGION");
        return NULL;
    }
    camrtc_sigclient *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->log = log;
    c->cb = *cb;
    c->ud = ud;
    c->clock_offset_s = cfg->clock_offset_s;
    snprintf(c->state, sizeof c->state, "new");
    if (camrtc_rng_init(&c->rng) < 0) {
        snprintf(err, errsz, "cannot seed the random generator");
        free(c);
        return NULL;
    }
    if (cfg->viewer) {
        if (cfg->client_id)
            snprintf(c->client_id, sizeof c->client_id, "%s", cfg->client_id);
        else
            random_client_id(c);
    }
    char control[CAMRTC_KVS_MAX_URL];
    if (cfg->endpoint && *cfg->endpoint)
        snprintf(control, sizeof control, "%s", cfg->endpoint);
    else if (camrtc_kvs_control_endpoint(cfg->region, control, sizeof control) < 0) {
        snprintf(err, errsz, "bad region '%s'", cfg->region);
        goto fail;
    }
    if (cfg->ca_file) {
        if (access(cfg->ca_file, R_OK) < 0) {
            snprintf(err, errsz, "cannot read the CA file %s", cfg->ca_file);
            goto fail;
        }
        snprintf(c->ca_file, sizeof c->ca_file, "%s", cfg->ca_file);
    }

    sigcore_config sc = {
        .viewer = cfg->viewer,
        .client_id = cfg->viewer ? c->client_id : NULL,
        .channel_name = cfg->channel_name,
        .channel_arn = cfg->channel_arn,
        .create_if_missing = cfg->create_if_missing,
        .msg_ttl_s = cfg->msg_ttl_s,
        .region = cfg->region,
        .control_endpoint = control,
        .ping_interval = CAMRTC_MS(cfg->ping_interval_ms),
        .pong_timeout = CAMRTC_MS(cfg->pong_timeout_ms),
        .max_connection = CAMRTC_SEC(cfg->max_connection_s),
        .http_timeout = CAMRTC_MS(cfg->http_timeout_ms),
    };
    c->core = sigcore_new(&sc, cfg->iot ? &core_io : &core_io_static, c, &c->rng, log, err, errsz);
    if (!c->core)
        goto fail;
    cache_path_for(c, cfg);
    cache_load(c);

    uv_timer_init(loop, &c->timer);
    c->timer.data = c;
    uv_timer_init(loop, &c->iot_timer);
    c->iot_timer.data = c;
    c->handles_open = 2;

    if (cfg->iot) {
        const camrtc_sigclient_iot *iot = cfg->iot;
        if (!iot->endpoint || !iot->role_alias || !iot->thing_name || !iot->cert_file || !iot->key_file) {
            snprintf(err, errsz, "IoT credentials need an endpoint, role alias, thing name, certificate and key");
            goto fail_handles;
        }
        c->iot = true;
        snprintf(c->iot_endpoint, sizeof c->iot_endpoint, "%s", iot->endpoint);
        snprintf(c->iot_role_alias, sizeof c->iot_role_alias, "%s", iot->role_alias);
        snprintf(c->iot_thing, sizeof c->iot_thing, "%s", iot->thing_name);
        c->iot_tls = camrtc_tls_config_new_client_cert(iot->ca_file, iot->cert_file, iot->key_file, &c->rng, err,
                                                       errsz);
        if (!c->iot_tls)
            goto fail_handles;
        iot_fetch(c);   /* the core starts once credentials arrive */
    } else {
        if (!cfg->creds.access_key_id || !cfg->creds.secret_access_key) {
            snprintf(err, errsz, "no AWS credentials");
            goto fail_handles;
        }
        sigcore_set_credentials(c->core, &cfg->creds, 0, mono(), wall(c));
    }
    if (sigcore_start(c->core, mono(), wall(c)) < 0) {
        snprintf(err, errsz, "cannot start the signaling client");
        goto fail_handles;
    }
    after_core(c);
    return c;

fail_handles:
    /* Handles are initialised: free through the loop. */
    c->freed_pending = true;
    close_handles(c);
    return NULL;
fail:
    if (c->core)
        sigcore_free(c->core);
    if (c->tls)
        camrtc_tls_config_free(c->tls);
    camrtc_rng_free(&c->rng);
    free(c);
    return NULL;
}

int camrtc_sigclient_send(camrtc_sigclient *c, camrtc_sigmsg_type type, const char *recipient,
                          const char *payload_json, size_t len, char *corr_out, size_t corr_sz)
{
    if (c->freed_pending || c->stopping)
        return CAMRTC_ESTATE;
    int rc = sigcore_send(c->core, type, recipient, payload_json, len, corr_out, corr_sz, mono());
    after_core(c);
    return rc;
}

const char *camrtc_sigclient_state(const camrtc_sigclient *c)
{
    return c->state;
}

const char *camrtc_sigclient_client_id(const camrtc_sigclient *c)
{
    return c->client_id;
}

void camrtc_sigclient_get_stats(const camrtc_sigclient *c, camrtc_sigclient_stats *out)
{
    const sigcore_stats *s = sigcore_get_stats(c->core);
    memset(out, 0, sizeof *out);
    out->http_calls = s->http_calls;
    out->http_errors = s->http_errors;
    out->ws_connects = s->ws_connects;
    out->ws_failures = s->ws_failures;
    out->reconnects = s->reconnects;
    out->messages_in = s->messages_in;
    out->messages_out = s->messages_out;
    out->dropped_too_large = s->dropped_too_large;
    out->dropped_malformed = s->dropped_malformed;
    out->status_responses = s->status_responses;
    out->go_aways = s->go_aways;
    out->ice_refreshes = s->ice_refreshes;
    out->dead_connections = s->dead_connections;
    out->clock_corrections = s->clock_corrections;
}

void camrtc_sigclient_stop(camrtc_sigclient *c)
{
    if (c->stopping || c->freed_pending)
        return;
    c->stopping = true;
    uv_timer_stop(&c->iot_timer);
    sigcore_stop(c->core, mono());
    after_core(c);
}
