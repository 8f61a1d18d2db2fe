/* The local signaling service: glue from sockets and timers to the sans-I/O parts.
 *
 * Per connection: bytes go through the HTTP parser until a request arrives; REST
 * calls are SigV4-verified and answered by control.c; a WebSocket upgrade is
 * presign-verified, registered with the hub, and from then on bytes go through the
 * WebSocket session whose text messages the hub routes. The hub asks us to send
 * and close by connection id; its timers run from one uv timer.
 */
#include "camrtc/server.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "camrtc/buf.h"
#include "camrtc/cert.h"
#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/http.h"
#include "camrtc/net.h"
#include "camrtc/rand.h"
#include "camrtc/str.h"
#include "camrtc/tls.h"
#include "camrtc/url.h"
#include "camrtc/ws.h"
#include "server/control.h"
#include "server/hub.h"
#include "server/idmap.h"
#include "server/service_internal.h"
#include "server/store.h"

#define MOD "signaling"
/* A connection in HTTP mode must complete a request within this long. */
#define HTTP_REQUEST_TIMEOUT CAMRTC_SEC(30)
/* Bound on a WebSocket message; KVS payloads are at most 10 KB of base64 JSON. */
#define WS_MAX_MESSAGE (64 * 1024)
/* Bound on bytes queued to one client before it is considered stuck. */
#define CONN_MAX_PENDING (1024 * 1024)

enum { M_HTTP, M_WS, M_CLOSING };

static camrtc_time_us now_us(void)
{
    return camrtc_now_us();
}

static const char *strdup_owned(camrtc_signaling *s, const char *v)
{
    if (!v)
        return NULL;
    if (s->n_owned == sizeof s->owned / sizeof s->owned[0])
        return NULL;
    char *c = strdup(v);
    if (c)
        s->owned[s->n_owned++] = c;
    return c;
}

void camrtc_signaling_config_default(camrtc_signaling_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_host = "127.0.0.1";
    cfg->listen_port = 8443;
    cfg->region = CAMRTC_LOCAL_REGION;
    cfg->account = CAMRTC_LOCAL_ACCOUNT;
    cfg->creds.access_key_id = CAMRTC_LOCAL_ACCESS_KEY;
    cfg->creds.secret_access_key = CAMRTC_LOCAL_SECRET_KEY;
    cfg->ice_ttl_s = 300;
    cfg->rate_limits = true;
    cfg->max_viewers = 10;
    cfg->idle_timeout = CAMRTC_SEC(600);
    cfg->max_duration = CAMRTC_SEC(3600);
    cfg->max_http_body = 64 * 1024;
}

/* ---------- output ---------- */

static void conn_begin_close(sconn *sc)
{
    if (sc->mode == M_CLOSING)
        return;
    sc->mode = M_CLOSING;
    camrtc_conn_close(sc->conn);
}

static void ws_flush(sconn *sc)
{
    camrtc_signaling *s = sc->srv;
    if (!sc->ws || camrtc_ws_pending(sc->ws) == 0)
        return;
    camrtc_buf_reset(&s->scratch);
    if (camrtc_ws_drain(sc->ws, &s->scratch) < 0)
        return;
    int rc = camrtc_conn_write(sc->conn, camrtc_buf_data(&s->scratch), s->scratch.len);
    camrtc_buf_reset(&s->scratch);
    if (rc == CAMRTC_ELIMIT) {
        s->stats.slow_clients++;
        CAMRTC_LOGW(s->log, MOD, "client %llu is not reading; dropping it",
                    (unsigned long long)sc->hub_id);
        sc->mode = M_CLOSING;
        camrtc_conn_abort(sc->conn);
    }
}

/* Output to WebSocket clients is gathered while the loop handles I/O and written once
 * per connection per loop iteration (a uv_check runs right after the I/O callbacks):
 * a burst of messages to one client costs one write, not one per message. */
static void on_flush_check(uv_check_t *h);

static void mark_dirty(sconn *sc)
{
    camrtc_signaling *s = sc->srv;
    if (sc->dirty)
        return;
    sc->dirty = true;
    sc->dirty_next = s->dirty;
    s->dirty = sc;
    if (!s->flush_armed) {
        s->flush_armed = true;
        uv_check_start(&s->flush_check, on_flush_check);
    }
}

static void unmark_dirty(sconn *sc)
{
    if (!sc->dirty)
        return;
    for (sconn **pp = &sc->srv->dirty; *pp; pp = &(*pp)->dirty_next) {
        if (*pp == sc) {
            *pp = sc->dirty_next;
            break;
        }
    }
    sc->dirty = false;
}

static void on_flush_check(uv_check_t *h)
{
    camrtc_signaling *s = h->data;
    while (s->dirty) {
        sconn *sc = s->dirty;
        s->dirty = sc->dirty_next;
        sc->dirty = false;
        if (sc->mode == M_WS)
            ws_flush(sc);
    }
    s->flush_armed = false;
    uv_check_stop(h);
}

static void request_id(camrtc_signaling *s, char out[37])
{
    uint8_t r[16];
    camrtc_rng_bytes(&s->rng, r, sizeof r);
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    char hex[33];
    camrtc_hex_encode(r, sizeof r, hex, sizeof hex);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

void sig_service_respond(sconn *sc, int status, const char *error_type, const char *content_type,
                         const void *body, size_t len, bool keep_alive)
{
    camrtc_signaling *s = sc->srv;
    char date[30], rid[37];
    camrtc_time_http((int64_t)time(NULL), date);
    request_id(s, rid);
    camrtc_kv h[6];
    size_t n = 0;
    h[n++] = (camrtc_kv){"Date", date};
    h[n++] = (camrtc_kv){"Content-Type", content_type ? content_type : "application/json"};
    h[n++] = (camrtc_kv){"x-amzn-RequestId", rid};
    if (error_type)
        h[n++] = (camrtc_kv){"x-amzn-ErrorType", error_type};
    if (!keep_alive)
        h[n++] = (camrtc_kv){"Connection", "close"};
    camrtc_buf_reset(&s->scratch);
    if (camrtc_http_write_response(&s->scratch, status, NULL, h, n, body, len) == CAMRTC_OK)
        camrtc_conn_write(sc->conn, camrtc_buf_data(&s->scratch), s->scratch.len);
    camrtc_buf_reset(&s->scratch);
    if (status >= 400)
        s->stats.http_errors++;
    if (!keep_alive)
        conn_begin_close(sc);
}

void sig_service_reply(sconn *sc, sig_reply *r, bool keep_alive)
{
    sig_service_respond(sc, r->status, r->error_type, "application/json", camrtc_buf_data(&r->body), r->body.len,
                        keep_alive);
    camrtc_buf_free(&r->body);
}

static void respond_error(sconn *sc, int status, const char *type, const char *msg, bool keep_alive)
{
    sig_reply r = {0};
    sig_reply_error(&r, status, type, "%s", msg);
    sig_service_reply(sc, &r, keep_alive);
}

/* ---------- hub glue ---------- */

static void on_hub_timer(uv_timer_t *t);

static void hub_rearm(camrtc_signaling *s)
{
    camrtc_time_us next = sig_hub_next_timeout(s->hub);
    if (next == CAMRTC_TIME_NEVER) {
        if (s->timer_armed)
            uv_timer_stop(&s->hub_timer);
        s->timer_armed = false;
        return;
    }
    /* Re-arming on every message would cost a heap operation each; only move the
     * timer earlier. When it fires late work is found and the timer re-armed. */
    if (s->timer_armed && next >= s->timer_at)
        return;
    camrtc_time_us now = now_us();
    uint64_t ms = next > now ? (next - now + 999) / 1000 : 0;
    s->timer_at = next;
    s->timer_armed = true;
    uv_timer_start(&s->hub_timer, on_hub_timer, ms, 0);
}

static void on_hub_timer(uv_timer_t *t)
{
    camrtc_signaling *s = t->data;
    s->timer_armed = false;
    sig_hub_handle_timeout(s->hub, now_us());
    hub_rearm(s);
}

static sconn *conn_of(camrtc_signaling *s, uint64_t id)
{
    sconn *sc = sig_idmap_get(&s->by_hub_id, id);
    if (!sc && s->connecting) {
        /* The hub delivers held messages from inside sig_hub_connect, before it
         * returns the new id: the first id we do not know is the one connecting. */
        sc = s->connecting;
        sc->hub_id = id;
        if (sig_idmap_put(&s->by_hub_id, id, sc) < 0)
            return NULL;
    }
    return sc;
}

static void hub_send(void *ud, uint64_t id, const char *text, size_t len)
{
    camrtc_signaling *s = ud;
    sconn *sc = conn_of(s, id);
    if (!sc || !sc->ws || sc->mode == M_CLOSING)
        return;
    if (camrtc_ws_send_text(sc->ws, text, len) < 0)
        return;
    /* While connecting, frames wait in the session until the 101 response is out. */
    if (sc->mode == M_WS)
        mark_dirty(sc);
}

static void hub_close(void *ud, uint64_t id, uint16_t code, const char *reason)
{
    camrtc_signaling *s = ud;
    sconn *sc = sig_idmap_get(&s->by_hub_id, id);
    if (!sc || sc->mode == M_CLOSING)
        return;
    if (sc->ws) {
        camrtc_ws_send_close(sc->ws, code, reason);
        ws_flush(sc);
    }
    conn_begin_close(sc);
}

/* ---------- WebSocket mode ---------- */

static void ws_on_text(void *ud, const uint8_t *data, size_t len)
{
    sconn *sc = ud;
    if (sc->mode != M_WS)
        return;
    sig_hub_message(sc->srv->hub, sc->hub_id, (const char *)data, len, now_us());
}

static void ws_on_close(void *ud, uint16_t code, const uint8_t *reason, size_t reason_len)
{
    sconn *sc = ud;
    CAMRTC_LOGD(sc->srv->log, MOD, "client %llu sent close %u", (unsigned long long)sc->hub_id, code);
}

static void ws_input(sconn *sc, const uint8_t *data, size_t len)
{
    camrtc_signaling *s = sc->srv;
    sig_hub_activity(s->hub, sc->hub_id, now_us());
    int rc = camrtc_ws_feed(sc->ws, data, len);
    if (sc->mode == M_CLOSING)
        return;
    if (rc < 0 || camrtc_ws_is_closed(sc->ws))
        ws_flush(sc);   /* the close frame goes out before the socket closes */
    else if (camrtc_ws_pending(sc->ws))
        mark_dirty(sc); /* automatic pongs */
    if (rc < 0) {
        s->stats.ws_protocol_errors++;
        CAMRTC_LOGI(s->log, MOD, "client %llu: WebSocket protocol error (%s); closing",
                    (unsigned long long)sc->hub_id, camrtc_strerror(rc));
        conn_begin_close(sc);
    } else if (camrtc_ws_is_closed(sc->ws)) {
        conn_begin_close(sc);
    }
    hub_rearm(s);
}

static const camrtc_ws_callbacks ws_callbacks = {
    .on_text = ws_on_text,
    .on_binary = NULL,
    .on_pong = NULL,
    .on_close = ws_on_close,
};

static bool valid_client_id(const char *id)
{
    size_t n = strlen(id);
    return camrtc_str_is_name(id, n, 256) && strncmp(id, "AWS_", 4) != 0;
}

static int verify_sigv4(sconn *sc, const camrtc_http_msg *m)
{
    camrtc_signaling *s = sc->srv;
    camrtc_sigv4_request req = {
        .method = m->method,
        .path = m->path,
        .query = m->query,
        .headers = m->headers,
        .n_headers = m->n_headers,
        .payload = m->body,
        .payload_len = m->body_len,
    };
    camrtc_sigv4_verify_config vc = {
        .creds = &s->cfg.creds,
        .region = s->cfg.region,
        .service = "kinesisvideo",
        .now = (int64_t)time(NULL),
        .max_skew_s = 300,
        .max_expires_s = 604800,
    };
    camrtc_sigv4_verify_result res;
    memset(&res, 0, sizeof res);
    int rc = camrtc_sigv4_verify(&req, &vc, &res);
    if (rc == CAMRTC_OK)
        return CAMRTC_OK;
    s->stats.auth_failures++;
    CAMRTC_LOGI(s->log, MOD, "refused %s %s: %s (%s)", m->method, m->path,
                res.error_type ? res.error_type : "?", res.message);
    respond_error(sc, res.http_status ? res.http_status : 403,
                  res.error_type ? res.error_type : "AccessDeniedException", res.message, m->keep_alive);
    return rc;
}

static void handle_upgrade(sconn *sc, const camrtc_http_msg *m)
{
    camrtc_signaling *s = sc->srv;
    const char *key = NULL;
    int status = 400;
    if (camrtc_ws_check_upgrade(m->method, m->version_minor, m->headers, m->n_headers, &key, &status) < 0) {
        if (status == 426) {
            camrtc_kv h[] = {{"Sec-WebSocket-Version", "13"}, {"Connection", "close"}};
            camrtc_buf_reset(&s->scratch);
            if (camrtc_http_write_response(&s->scratch, 426, NULL, h, 2, NULL, 0) == CAMRTC_OK)
                camrtc_conn_write(sc->conn, camrtc_buf_data(&s->scratch), s->scratch.len);
            camrtc_buf_reset(&s->scratch);
            conn_begin_close(sc);
            return;
        }
        respond_error(sc, 400, "InvalidArgumentException", "Invalid WebSocket upgrade request", false);
        return;
    }
    if (verify_sigv4(sc, m) < 0)
        return;

    char arn[512], client_id[300];
    if (camrtc_url_query_get(m->query, "X-Amz-ChannelARN", arn, sizeof arn) < 0) {
        respond_error(sc, 400, "InvalidArgumentException", "X-Amz-ChannelARN is missing or invalid", false);
        return;
    }
    const sig_channel *ch = sig_store_find_arn(s->store, arn);
    if (!ch) {
        respond_error(sc, 404, "ResourceNotFoundException", "The requested channel is not found or not active.",
                      false);
        return;
    }
    int rc = camrtc_url_query_get(m->query, "X-Amz-ClientId", client_id, sizeof client_id);
    bool viewer = rc != CAMRTC_ENOTFOUND;
    if (viewer && (rc < 0 || !valid_client_id(client_id))) {
        respond_error(sc, 400, "InvalidArgumentException",
                      "X-Amz-ClientId must match [a-zA-Z0-9_.-]{1,256} and must not start with AWS_", false);
        return;
    }

    camrtc_ws_config wc = {.server = true, .max_message = WS_MAX_MESSAGE, .rng = &s->rng};
    sc->ws = camrtc_ws_new(&wc, &ws_callbacks, sc);
    if (!sc->ws) {
        respond_error(sc, 500, "InternalFailure", "Out of memory", false);
        return;
    }
    /* The accept response is built now, from the request that is still valid. */
    camrtc_buf accept = {0};
    if (camrtc_ws_write_accept(&accept, key, NULL, 0) < 0) {
        camrtc_buf_free(&accept);
        respond_error(sc, 500, "InternalFailure", "Out of memory", false);
        return;
    }
    const char *why = NULL;
    uint64_t id = 0;
    s->connecting = sc;
    rc = sig_hub_connect(s->hub, ch->arn, ch->msg_ttl_s, viewer ? client_id : NULL, now_us(), &id, &why);
    s->connecting = NULL;
    if (rc < 0) {
        camrtc_buf_free(&accept);
        camrtc_ws_free(sc->ws);
        sc->ws = NULL;
        if (sc->hub_id)
            sig_idmap_del(&s->by_hub_id, sc->hub_id);
        sc->hub_id = 0;
        respond_error(sc, 400, rc == CAMRTC_ELIMIT ? "ClientLimitExceededException" : "InvalidArgumentException",
                      why ? why : camrtc_strerror(rc), false);
        return;
    }
    sc->hub_id = id;
    sig_idmap_put(&s->by_hub_id, id, sc);
    camrtc_conn_write(sc->conn, camrtc_buf_data(&accept), accept.len);
    camrtc_buf_free(&accept);
    sc->mode = M_WS;
    s->stats.ws_upgrades++;
    CAMRTC_LOGI(s->log, MOD, "%s %s connected to %s (client %llu)", viewer ? "viewer" : "master",
                viewer ? client_id : "", ch->name, (unsigned long long)id);
    ws_flush(sc);   /* held messages delivered during connect */
    hub_rearm(s);
}

/* ---------- HTTP mode ---------- */

static void handle_rest(sconn *sc, const camrtc_http_msg *m)
{
    camrtc_signaling *s = sc->srv;
    if (strcmp(m->method, "POST") != 0) {
        respond_error(sc, 404, "UnknownOperationException", "Unknown operation", m->keep_alive);
        return;
    }
    if (verify_sigv4(sc, m) < 0)
        return;
    sig_reply r = {0};
    char deleted[512] = "";
    sig_control_handle(s->store, &s->ctl, m->path, m->body, m->body_len, camrtc_wall_ms(), &r, deleted,
                       sizeof deleted);
    if (deleted[0]) {
        sig_hub_channel_deleted(s->hub, deleted);
        hub_rearm(s);
    }
    s->stats.rest_calls++;
    sig_service_reply(sc, &r, m->keep_alive);
}

static void handle_request(sconn *sc, const camrtc_http_msg *m)
{
    if (m->upgrade && strcmp(m->method, "GET") == 0) {
        handle_upgrade(sc, m);
        return;
    }
    if (strncmp(m->path, "/admin/", 7) == 0) {
        sig_admin_handle(sc, m);
        return;
    }
    if (strcmp(m->method, "GET") == 0 && (strcmp(m->path, "/") == 0 || strcmp(m->path, "/index.html") == 0 ||
                                          strcmp(m->path, "/kvs-webrtc.js") == 0)) {
        sig_page_handle(sc, m);
        return;
    }
    handle_rest(sc, m);
}

static void http_input(sconn *sc, const uint8_t *data, size_t len)
{
    camrtc_signaling *s = sc->srv;
    while (len > 0 && sc->mode == M_HTTP) {
        size_t used = 0;
        int rc = camrtc_http_parser_feed(sc->http, data, len, &used);
        if (rc == CAMRTC_EAGAIN)
            return;
        if (rc < 0) {
            int st = camrtc_http_parser_error_status(sc->http);
            s->stats.http_bad_requests++;
            CAMRTC_LOGI(s->log, MOD, "bad HTTP request (%s): answering %d", camrtc_strerror(rc), st);
            respond_error(sc, st ? st : 400, "SerializationException", camrtc_http_reason(st ? st : 400), false);
            return;
        }
        if (used > len)
            used = len;
        data += used;
        len -= used;
        handle_request(sc, camrtc_http_parser_msg(sc->http));
        if (sc->mode == M_HTTP) {
            camrtc_http_parser_reset(sc->http);
            sc->deadline = now_us() + HTTP_REQUEST_TIMEOUT;
        } else if (sc->mode == M_WS) {
            /* The parser is not needed again on this connection. */
            camrtc_http_parser_free(sc->http);
            free(sc->http);
            sc->http = NULL;
        }
    }
    if (sc->mode == M_WS && len > 0)
        ws_input(sc, data, len);
}

/* ---------- connections ---------- */

static void on_conn_data(camrtc_conn *c, void *ud, const uint8_t *data, size_t len)
{
    sconn *sc = ud;
    if (sc->mode == M_HTTP)
        http_input(sc, data, len);
    else if (sc->mode == M_WS)
        ws_input(sc, data, len);
}

static void maybe_finish_stop(camrtc_signaling *s);

static void on_conn_close(camrtc_conn *c, void *ud, int err)
{
    sconn *sc = ud;
    camrtc_signaling *s = sc->srv;
    unmark_dirty(sc);
    if (sc->hub_id) {
        sig_idmap_del(&s->by_hub_id, sc->hub_id);
        if (s->hub)
            sig_hub_disconnect(s->hub, sc->hub_id);
    }
    if (sc->prev)
        sc->prev->next = sc->next;
    else
        s->conns = sc->next;
    if (sc->next)
        sc->next->prev = sc->prev;
    s->n_conns--;
    if (sc->http) {
        camrtc_http_parser_free(sc->http);
        free(sc->http);
    }
    if (sc->ws)
        camrtc_ws_free(sc->ws);
    free(sc);
    if (s->stopping)
        maybe_finish_stop(s);
    else
        hub_rearm(s);
}

static const camrtc_conn_callbacks conn_callbacks = {
    .on_open = NULL,
    .on_data = on_conn_data,
    .on_close = on_conn_close,
};

static void on_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    camrtc_signaling *s = ud;
    sconn *sc = calloc(1, sizeof *sc);
    if (sc)
        sc->http = malloc(sizeof *sc->http);
    if (!sc || !sc->http || s->stopping) {
        if (sc)
            free(sc->http);
        free(sc);
        camrtc_conn_set_callbacks(c, &(camrtc_conn_callbacks){0}, NULL);
        camrtc_conn_abort(c);
        return;
    }
    sc->srv = s;
    sc->conn = c;
    sc->mode = M_HTTP;
    sc->deadline = now_us() + HTTP_REQUEST_TIMEOUT;
    camrtc_http_parser_init(sc->http, CAMRTC_HTTP_REQUEST, s->cfg.max_http_body);
    bool loop_back = false;
    char ip[64];
    uint16_t port = 0;
    if (camrtc_conn_peer(c, ip, sizeof ip, &port, &loop_back) == CAMRTC_OK)
        sc->loopback = loop_back;
    sc->next = s->conns;
    if (s->conns)
        s->conns->prev = sc;
    s->conns = sc;
    s->n_conns++;
    camrtc_conn_set_max_pending(c, CONN_MAX_PENDING);
    camrtc_conn_set_callbacks(c, &conn_callbacks, sc);
}

/* Close HTTP-mode connections that sit without completing a request. */
static void on_sweep(uv_timer_t *t)
{
    camrtc_signaling *s = t->data;
    camrtc_time_us now = now_us();
    for (sconn *sc = s->conns, *next; sc; sc = next) {
        next = sc->next;
        if (sc->mode == M_HTTP && now > sc->deadline) {
            s->stats.http_timeouts++;
            conn_begin_close(sc);
        }
    }
}

/* ---------- lifecycle ---------- */

static int format_endpoints(camrtc_signaling *s, uint16_t port)
{
    const char *lh = s->cfg.listen_host;
    if (!strcmp(lh, "0.0.0.0") || !strcmp(lh, "::") || !*lh)
        lh = "127.0.0.1";
    bool lv6 = strchr(lh, ':') != NULL;
    snprintf(s->listen_url, sizeof s->listen_url, "%s://%s%s%s:%u", s->cfg.tls ? "https" : "http", lv6 ? "[" : "",
             lh, lv6 ? "]" : "", port);
    if (s->cfg.public_url && *s->cfg.public_url) {
        /* Advertise another base (a proxy in front of us): same scheme pair, its host and port. */
        const char *rest = strstr(s->cfg.public_url, "://");
        if (!rest)
            return CAMRTC_EINVAL;
        rest += 3;
        int a = snprintf(s->url, sizeof s->url, "%s://%s", s->cfg.tls ? "https" : "http", rest);
        int b = snprintf(s->wss_url, sizeof s->wss_url, "%s://%s", s->cfg.tls ? "wss" : "ws", rest);
        if (a < 0 || (size_t)a >= sizeof s->url || b < 0 || (size_t)b >= sizeof s->wss_url)
            return CAMRTC_ETOOBIG;
        return CAMRTC_OK;
    }
    const char *host = s->cfg.public_host;
    if (!host || !*host) {
        host = s->cfg.listen_host;
        if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !*host)
            host = "127.0.0.1";
    }
    bool v6 = strchr(host, ':') != NULL;
    const char *lb = v6 ? "[" : "", *rb = v6 ? "]" : "";
    const char *http = s->cfg.tls ? "https" : "http", *ws = s->cfg.tls ? "wss" : "ws";
    int a = snprintf(s->url, sizeof s->url, "%s://%s%s%s:%u", http, lb, host, rb, port);
    int b = snprintf(s->wss_url, sizeof s->wss_url, "%s://%s%s%s:%u", ws, lb, host, rb, port);
    if (a < 0 || (size_t)a >= sizeof s->url || b < 0 || (size_t)b >= sizeof s->wss_url)
        return CAMRTC_ETOOBIG;
    return CAMRTC_OK;
}

static int setup_tls(camrtc_signaling *s, char *err, size_t errsz)
{
    const char *hosts[4] = {"localhost", "127.0.0.1", "::1", NULL};
    size_t n = 3;
    if (s->cfg.public_host && *s->cfg.public_host && strcmp(s->cfg.public_host, "localhost") &&
        strcmp(s->cfg.public_host, "127.0.0.1") && strcmp(s->cfg.public_host, "::1"))
        hosts[n++] = s->cfg.public_host;
    int rc = camrtc_cert_ensure_local_ca(s->cfg.state_dir, hosts, n, &s->rng, err, errsz);
    if (rc < 0)
        return rc;
    char cert[PATH_MAX], key[PATH_MAX];
    snprintf(cert, sizeof cert, "%s/server.pem", s->cfg.state_dir);
    snprintf(key, sizeof key, "%s/server.key", s->cfg.state_dir);
    snprintf(s->ca_path, sizeof s->ca_path, "%s/ca.pem", s->cfg.state_dir);
    s->tls = camrtc_tls_config_new_server(cert, key, &s->rng, err, errsz);
    return s->tls ? CAMRTC_OK : CAMRTC_ETLS;
}

static void copy_config(camrtc_signaling *s, const camrtc_signaling_config *in)
{
    s->cfg = *in;
    camrtc_signaling_config *c = &s->cfg;
    c->listen_host = strdup_owned(s, in->listen_host ? in->listen_host : "127.0.0.1");
    c->public_host = strdup_owned(s, in->public_host);
    c->public_url = strdup_owned(s, in->public_url);
    c->state_dir = strdup_owned(s, in->state_dir);
    c->region = strdup_owned(s, in->region ? in->region : CAMRTC_LOCAL_REGION);
    c->account = strdup_owned(s, in->account ? in->account : CAMRTC_LOCAL_ACCOUNT);
    c->creds.access_key_id = strdup_owned(s, in->creds.access_key_id);
    c->creds.secret_access_key = strdup_owned(s, in->creds.secret_access_key);
    c->creds.session_token = strdup_owned(s, in->creds.session_token);
    for (size_t i = 0; i < in->n_stun && i < CAMRTC_SIGNALING_MAX_ICE_URLS; i++)
        c->stun_urls[i] = strdup_owned(s, in->stun_urls[i]);
    for (size_t i = 0; i < in->n_turn && i < CAMRTC_SIGNALING_MAX_ICE_URLS; i++)
        c->turn_urls[i] = strdup_owned(s, in->turn_urls[i]);
    c->turn_secret = strdup_owned(s, in->turn_secret);
    c->turn_user = strdup_owned(s, in->turn_user);
    c->turn_password = strdup_owned(s, in->turn_password);
    c->kvs_js_path = strdup_owned(s, in->kvs_js_path);
}

static void free_service(camrtc_signaling *s)
{
    if (s->hub)
        sig_hub_free(s->hub);
    if (s->store)
        sig_store_free(s->store);
    if (s->tls)
        camrtc_tls_config_free(s->tls);
    sig_idmap_free(&s->by_hub_id);
    camrtc_buf_free(&s->scratch);
    camrtc_rng_free(&s->rng);
    for (size_t i = 0; i < s->n_owned; i++)
        free(s->owned[i]);
    free(s);
}

static void on_timer_closed(uv_handle_t *h)
{
    camrtc_signaling *s = h->data;
    s->open_timers--;
    maybe_finish_stop(s);
}

static void maybe_finish_stop(camrtc_signaling *s)
{
    if (!s->stopping || s->n_conns > 0)
        return;
    if (!s->timers_closing) {
        s->timers_closing = true;
        uv_close((uv_handle_t *)&s->hub_timer, on_timer_closed);
        uv_close((uv_handle_t *)&s->sweep_timer, on_timer_closed);
        uv_close((uv_handle_t *)&s->flush_check, on_timer_closed);
        return;
    }
    if (s->open_timers == 0)
        free_service(s);
}

camrtc_signaling *camrtc_signaling_start(uv_loop_t *loop, const camrtc_signaling_config *cfg, camrtc_log *log,
                                         char *err, size_t errsz)
{
    camrtc_signaling *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->log = log;
    if (camrtc_rng_init(&s->rng) < 0) {
        snprintf(err, errsz, "cannot seed the random generator");
        free(s);
        return NULL;
    }
    copy_config(s, cfg);
    if (!s->cfg.creds.access_key_id || !s->cfg.creds.secret_access_key) {
        snprintf(err, errsz, "no credentials configured");
        goto fail;
    }
    if (s->cfg.tls && !s->cfg.state_dir) {
        snprintf(err, errsz, "--tls needs a state directory for its certificates");
        goto fail;
    }
    if (s->cfg.state_dir && mkdir(s->cfg.state_dir, 0700) < 0 && access(s->cfg.state_dir, W_OK) < 0) {
        snprintf(err, errsz, "state directory %s is not writable", s->cfg.state_dir);
        goto fail;
    }
    if (s->cfg.tls && setup_tls(s, err, errsz) < 0)
        goto fail;

    if (!sig_store_region_ok(s->cfg.region)) {
        snprintf(err, errsz, "bad region '%.64s': want 1 to 63 of a-z, 0-9 and '-'", s->cfg.region);
        goto fail;
    }
    if (!sig_store_account_ok(s->cfg.account)) {
        snprintf(err, errsz, "bad account '%.64s': want 12 digits", s->cfg.account);
        goto fail;
    }
    char state_path[PATH_MAX];
    if (s->cfg.state_dir)
        snprintf(state_path, sizeof state_path, "%s/channels.json", s->cfg.state_dir);
    s->store = sig_store_new(s->cfg.region, s->cfg.account, s->cfg.state_dir ? state_path : NULL, log);
    if (!s->store) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    int rc = sig_store_load(s->store);
    if (rc < 0) {
        snprintf(err, errsz, "cannot load channels from %s: %s", state_path, camrtc_strerror(rc));
        goto fail;
    }

    sig_hub_config hc;
    sig_hub_config_default(&hc);
    hc.max_viewers = s->cfg.max_viewers > 0 ? s->cfg.max_viewers : 10;
    if (!s->cfg.rate_limits) {
        hc.connects_per_s = 0;
        hc.sdp_per_s = 0;
        hc.candidates_per_s = 0;
    }
    if (s->cfg.idle_timeout)
        hc.idle_timeout = s->cfg.idle_timeout;
    if (s->cfg.max_duration) {
        hc.max_duration = s->cfg.max_duration;
        if (hc.go_away_lead > hc.max_duration / 2)
            hc.go_away_lead = hc.max_duration / 2;
    }
    static const sig_hub_io io = {.send = hub_send, .close = hub_close};
    s->hub = sig_hub_new(&hc, &io, s, log);
    if (!s->hub) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }

    rc = camrtc_listener_start(loop, s->cfg.listen_host, s->cfg.listen_port, s->tls, on_accept, s, &s->listener);
    if (rc == CAMRTC_OK)
        camrtc_listener_set_log(s->listener, log);
    if (rc < 0) {
        snprintf(err, errsz, "cannot listen on %s:%u: %s", s->cfg.listen_host, s->cfg.listen_port,
                 camrtc_strerror(rc));
        goto fail;
    }
    if (format_endpoints(s, camrtc_listener_port(s->listener)) < 0) {
        snprintf(err, errsz, "bad --public-url or public host name too long");
        camrtc_listener_close(s->listener);
        goto fail;
    }
    s->ctl.region = s->cfg.region;
    s->ctl.wss_endpoint = s->wss_url;
    s->ctl.https_endpoint = s->url;
    s->ctl.ice.stun_urls = s->cfg.stun_urls;
    s->ctl.ice.n_stun = s->cfg.n_stun;
    s->ctl.ice.turn_urls = s->cfg.turn_urls;
    s->ctl.ice.n_turn = s->cfg.n_turn;
    s->ctl.ice.turn_secret = s->cfg.turn_secret;
    s->ctl.ice.turn_user = s->cfg.turn_user;
    s->ctl.ice.turn_password = s->cfg.turn_password;
    s->ctl.ice.ttl_s = s->cfg.ice_ttl_s > 0 ? s->cfg.ice_ttl_s : 300;

    uv_timer_init(loop, &s->hub_timer);
    uv_timer_init(loop, &s->sweep_timer);
    uv_check_init(loop, &s->flush_check);
    s->hub_timer.data = s;
    s->sweep_timer.data = s;
    s->flush_check.data = s;
    s->open_timers = 3;
    uv_timer_start(&s->sweep_timer, on_sweep, 1000, 1000);
    uv_unref((uv_handle_t *)&s->sweep_timer);
    return s;

fail:
    free_service(s);
    return NULL;
}

const char *camrtc_signaling_url(const camrtc_signaling *s)
{
    return s->url;
}

const char *camrtc_signaling_listen_url(const camrtc_signaling *s)
{
    return s->listen_url;
}

const char *camrtc_signaling_ca_path(const camrtc_signaling *s)
{
    return s->ca_path[0] ? s->ca_path : NULL;
}

size_t camrtc_signaling_client_count(const camrtc_signaling *s)
{
    return sig_hub_connection_count(s->hub);
}

/* Peers that never finish their close handshake do not hold the stop up. */
static void on_stop_deadline(uv_timer_t *t)
{
    camrtc_signaling *s = t->data;
    for (sconn *sc = s->conns; sc; sc = sc->next)
        camrtc_conn_abort(sc->conn);
}

void camrtc_signaling_stop(camrtc_signaling *s)
{
    if (s->stopping)
        return;
    s->stopping = true;
    uv_ref((uv_handle_t *)&s->sweep_timer);
    uv_timer_start(&s->sweep_timer, on_stop_deadline, 1000, 0);
    camrtc_listener_close(s->listener);
    s->listener = NULL;
    for (sconn *sc = s->conns; sc; sc = sc->next) {
        if (sc->mode == M_CLOSING)
            continue;
        if (sc->mode == M_WS && sc->ws) {
            camrtc_ws_send_close(sc->ws, 1001, "service stopping");
            ws_flush(sc);
        }
        conn_begin_close(sc);
    }
    maybe_finish_stop(s);
}
