/* The KVS signaling client's state machine (see sigcore.h): the flow of control-plane
 * calls, error routing, backoff, timers and the lifecycle. The WebSocket side (connections,
 * received messages, the send queue) is in sigcore_ws.c.
 *
 * Two things run side by side. The *flow* is the one control-plane sequence in progress
 * (Describe, Create, GetSignalingChannelEndpoint, GetIceServerConfig, connect, or a wait
 * between them); at most one HTTP request or WebSocket upgrade is in flight for it. The
 * *connection* is the open WebSocket messages go through (`cur`). The flow also runs while
 * a connection is up (ICE refresh, GO_AWAY, the connection limit): the reported state is
 * "connected" whenever a connection is open, else the flow's step. A new connection
 * replaces the old one only once it is open, so sending never stops.
 *
 * Backoff: every failure waits uniform(0, min(cap, base * 2^attempt)) and increments
 * attempt (full jitter); the only exception is a 403 "signature expired" whose Date header
 * just corrected the clock, retried at once. attempt goes back to 0 once a connection has
 * stayed open for SIGCORE_STABLE, not when it opens, so a service that accepts and then
 * drops connections at once cannot make us loop without delay.
 */
#include "signaling/sigcore_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"

static const char *const state_names[] = {
    [SIGCORE_NEW] = "new",
    [SIGCORE_DESCRIBE] = "describe",
    [SIGCORE_CREATE] = "create",
    [SIGCORE_GET_ENDPOINT] = "get-endpoint",
    [SIGCORE_GET_ICE_CONFIG] = "get-ice-config",
    [SIGCORE_CONNECTING] = "connecting",
    [SIGCORE_CONNECTED] = "connected",
    [SIGCORE_BACKOFF] = "backoff",
    [SIGCORE_WAIT_CREDENTIALS] = "wait-credentials",
    [SIGCORE_STOPPING] = "stopping",
    [SIGCORE_STOPPED] = "stopped",
};

const char *sigcore_state_name(sigcore_state s)
{
    if ((unsigned)s < sizeof state_names / sizeof state_names[0] && state_names[s])
        return state_names[s];
    return "unknown";
}

static const char *op_name(camrtc_kvs_op op)
{
    switch (op) {
    case CAMRTC_KVS_DESCRIBE_CHANNEL: return "DescribeSignalingChannel";
    case CAMRTC_KVS_CREATE_CHANNEL: return "CreateSignalingChannel";
    case CAMRTC_KVS_GET_ENDPOINT: return "GetSignalingChannelEndpoint";
    case CAMRTC_KVS_GET_ICE_CONFIG: return "GetIceServerConfig";
    }
    return "?";
}

/* ---------- small helpers ---------- */

static camrtc_time_us tmin(camrtc_time_us a, camrtc_time_us b)
{
    return a < b ? a : b;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
    free(s);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static int64_t signing_time(const sigcore *c)
{
    return c->last_wall + c->skew;
}

static bool have_creds(const sigcore *c)
{
    return c->akid && c->secret;
}

static camrtc_aws_creds creds_of(const sigcore *c)
{
    camrtc_aws_creds cr = {c->akid, c->secret, c->token};
    return cr;
}

static uint32_t new_id(sigcore *c)
{
    if (++c->next_id == 0)
        c->next_id = 1;
    return c->next_id;
}

static sigcore_state compute_state(const sigcore *c)
{
    if (c->stopped)
        return SIGCORE_STOPPED;
    if (c->stopping)
        return SIGCORE_STOPPING;
    if (!c->started)
        return SIGCORE_NEW;
    if (c->cur >= 0)
        return SIGCORE_CONNECTED;
    switch (c->flow) {
    case STEP_DESCRIBE: return SIGCORE_DESCRIBE;
    case STEP_CREATE: return SIGCORE_CREATE;
    case STEP_GET_ENDPOINT: return SIGCORE_GET_ENDPOINT;
    case STEP_GET_ICE: return SIGCORE_GET_ICE_CONFIG;
    case STEP_CONNECT: return SIGCORE_CONNECTING;
    case STEP_WAIT_CREDS: return SIGCORE_WAIT_CREDENTIALS;
    case STEP_BACKOFF:
    case STEP_IDLE: break;
    }
    return SIGCORE_BACKOFF;
}

/* Report the state if it changed; called after every transition. */
void sc_update_state(sigcore *c, const char *why)
{
    sigcore_state s = compute_state(c);
    if (s == c->reported)
        return;
    c->reported = s;
    CAMRTC_LOGD(c->log, MOD, "%s (%s)", sigcore_state_name(s), why);
    if (c->io.state)
        c->io.state(c->ud, s, why);
}

/* The next backoff delay; full jitter over an exponentially growing bound. */
static camrtc_time_us backoff_next(sigcore *c)
{
    camrtc_time_us bound = c->backoff_cap;
    if (c->attempt < 63 && c->backoff_base <= (c->backoff_cap >> c->attempt))
        bound = c->backoff_base << c->attempt;
    if (bound > UINT32_MAX)
        bound = UINT32_MAX;
    if (c->attempt < 1000)
        c->attempt++;
    return camrtc_rng_uniform(c->rng, (uint32_t)bound);
}

/* The attempt counter is reset once a connection has proved stable. */
void sc_note_stable(sigcore *c, camrtc_time_us now)
{
    /* Only while the flow rests: failures of a replacement behind a stable connection still add up. */
    if (c->cur >= 0 && c->flow == STEP_IDLE && c->attempt && now - c->ws[c->cur].opened_at >= SIGCORE_STABLE)
        c->attempt = 0;
}

/* Correct the clock from a response's Date header. True when the correction changed. */
bool sc_apply_skew(sigcore *c, const camrtc_kv *headers, size_t n, int64_t wall)
{
    if (!headers || !n)
        return false;
    int64_t s;
    if (camrtc_kvs_clock_skew(headers, n, wall, &s) < 0)
        return false;
    /* Both clocks are whole seconds: a difference of one second is only truncation. */
    if (s - c->skew <= 1 && c->skew - s <= 1)
        return false;
    CAMRTC_LOGI(c->log, MOD, "clock corrected from the service's Date: skew %+" PRId64 " s (was %+" PRId64 " s)",
                s, c->skew);
    c->skew = s;
    c->stats.clock_corrections++;
    return true;
}

/* The channel name inside an ARN "arn:aws:kinesisvideo:<region>:<acct>:channel/<name>/<ms>". */
static bool arn_names_channel(const char *arn, const char *name)
{
    const char *p = strstr(arn, ":channel/");
    if (!p)
        return false;
    p += strlen(":channel/");
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    return n == strlen(name) && memcmp(p, name, n) == 0;
}

/* ---------- the flow ---------- */

static void cache_drop(sigcore *c)
{
    c->have_endpoints = false;
    c->cache_given = false;
    /* A channel known by name may have been deleted and re-created under a new ARN. */
    if (c->cfg_arn[0])
        camrtc_strlcpy(c->arn, c->cfg_arn, sizeof c->arn);
    else
        c->arn[0] = '\0';
    if (c->io.cache_save) {
        sigcore_cache empty;
        memset(&empty, 0, sizeof empty);
        c->io.cache_save(c->ud, &empty);
    }
}

/* Wait, then run step `next`. */
static void flow_backoff(sigcore *c, flow_step next, const char *why, camrtc_time_us now)
{
    camrtc_time_us d = backoff_next(c);
    c->flow = STEP_BACKOFF;
    c->resume = next;
    c->backoff_until = now + d;
    CAMRTC_LOGD(c->log, MOD, "backing off %" PRIu64 " ms (attempt %u)", d / 1000, c->attempt);
    sc_update_state(c, why);
}

/* Route a failed step (KVS-PROTOCOL.md, "error routing"). */
void sc_flow_fail(sigcore *c, flow_step failed, camrtc_kvs_error_class cls, bool retry_now, const char *why,
                      camrtc_time_us now)
{
    if (retry_now) {
        CAMRTC_LOGI(c->log, MOD, "retrying at once with the corrected clock");
        sc_flow_go(c, failed, why, now);
        return;
    }
    switch (cls) {
    case CAMRTC_KVS_ERR_AUTH:
        if (c->io.need_credentials) {
            /* Still bounded by backoff: credentials that come back at once cannot spin us. */
            c->not_before = now + backoff_next(c);
            c->flow = STEP_WAIT_CREDS;
            c->resume = failed;
            sc_update_state(c, why);
            c->io.need_credentials(c->ud);
            return;
        }
        flow_backoff(c, failed, why, now);
        return;
    case CAMRTC_KVS_ERR_NOT_FOUND:
        cache_drop(c);
        flow_backoff(c, STEP_DESCRIBE, why, now);
        return;
    case CAMRTC_KVS_ERR_NONE:
    case CAMRTC_KVS_ERR_RETRY:
        break;
    }
    flow_backoff(c, c->arn[0] ? STEP_GET_ENDPOINT : STEP_DESCRIBE, why, now);
}

/* Abandon whatever the flow has in flight. */
void sc_flow_abort(sigcore *c, camrtc_time_us now)
{
    if (c->http_id) {
        if (c->io.http_cancel)
            c->io.http_cancel(c->ud, c->http_id);
        c->http_id = 0;
    }
    if (c->pending >= 0) {
        sc_slot_close(c, c->pending, now);
        c->pending = -1;
    }
    c->flow = STEP_IDLE;
}

/* The flow has nothing left to do. */
void sc_flow_idle(sigcore *c, const char *why, camrtc_time_us now)
{
    c->flow = STEP_IDLE;
    c->reconnect = false;
    if (c->cur >= 0 && c->ice_wanted) {
        sc_flow_go(c, STEP_GET_ICE, "the service asked for new ICE servers", now);
        return;
    }
    if (c->cur < 0) {   /* cannot happen: every path without a connection leads to one */
        flow_backoff(c, STEP_CONNECT, why, now);
        return;
    }
    sc_update_state(c, why);
}

static int http_start(sigcore *c, flow_step s, camrtc_time_us now)
{
    camrtc_kvs_op op;
    camrtc_kvs_params p;
    memset(&p, 0, sizeof p);
    const char *base = c->control;
    const char *name = c->channel_name[0] ? c->channel_name : c->learned_name;
    switch (s) {
    case STEP_DESCRIBE:
        op = CAMRTC_KVS_DESCRIBE_CHANNEL;
        if (c->arn[0])
            p.channel_arn = c->arn;
        else
            p.channel_name = name;
        break;
    case STEP_CREATE:
        op = CAMRTC_KVS_CREATE_CHANNEL;
        p.channel_name = name;
        p.msg_ttl_s = c->msg_ttl_s;
        break;
    case STEP_GET_ENDPOINT:
        op = CAMRTC_KVS_GET_ENDPOINT;
        p.channel_arn = c->arn;
        p.viewer = c->viewer;
        break;
    default:
        op = CAMRTC_KVS_GET_ICE_CONFIG;
        base = c->https;
        p.channel_arn = c->arn;
        p.viewer = c->viewer;
        p.client_id = c->viewer ? c->client_id : NULL;
        break;
    }
    camrtc_aws_creds cr = creds_of(c);
    camrtc_kvs_request req;
    memset(&req, 0, sizeof req);
    int rc = camrtc_kvs_build(&req, op, base, &p, &cr, c->region, signing_time(c));
    if (rc < 0) {
        camrtc_kvs_request_free(&req);
        CAMRTC_LOGW(c->log, MOD, "cannot build %s: %s", op_name(op), camrtc_strerror(rc));
        return rc;
    }
    c->flow = s;
    c->http_id = new_id(c);
    c->http_op = op;
    c->http_deadline = now + c->http_timeout;
    c->stats.http_calls++;
    CAMRTC_LOGD(c->log, MOD, "%s (request %" PRIu32 ", key %s)", op_name(op), c->http_id, c->akid);
    uint32_t id = c->http_id;
    sc_update_state(c, op_name(op));
    c->io.http(c->ud, id, &req);
    camrtc_kvs_request_free(&req);
    return CAMRTC_OK;
}

static int ws_start(sigcore *c, camrtc_time_us now)
{
    int i = sc_slot_alloc(c);
    if (i < 0)
        return CAMRTC_ELIMIT;
    camrtc_buf url;
    memset(&url, 0, sizeof url);
    url.max_cap = SIGCORE_MAX_URL_BYTES;
    camrtc_aws_creds cr = creds_of(c);
    int rc = camrtc_kvs_ws_url(&url, c->wss, c->arn, c->viewer ? c->client_id : NULL, &cr, c->region,
                               signing_time(c), 0);
    const char *text = rc < 0 ? NULL : camrtc_buf_cstr(&url);
    if (!text) {
        camrtc_buf_free(&url);
        CAMRTC_LOGW(c->log, MOD, "cannot presign the WebSocket URL: %s", camrtc_strerror(rc < 0 ? rc : CAMRTC_ENOMEM));
        return rc < 0 ? rc : CAMRTC_ENOMEM;
    }
    ws_conn *w = &c->ws[i];
    memset(w, 0, sizeof *w);
    w->id = new_id(c);
    w->phase = WS_CONNECTING;
    w->deadline = now + c->http_timeout;
    c->pending = i;
    c->flow = STEP_CONNECT;
    CAMRTC_LOGD(c->log, MOD, "opening WebSocket %" PRIu32, w->id);
    sc_update_state(c, c->cur >= 0 ? "opening a replacement connection" : "opening the connection");
    c->io.ws_open(c->ud, w->id, text);
    camrtc_buf_free(&url);
    return CAMRTC_OK;
}

void sc_flow_go(sigcore *c, flow_step s, const char *why, camrtc_time_us now)
{
    if (s == STEP_IDLE) {
        sc_flow_idle(c, why, now);
        return;
    }
    if (!have_creds(c)) {
        c->flow = STEP_WAIT_CREDS;
        c->resume = s;
        c->not_before = now;
        sc_update_state(c, "no credentials yet");
        if (c->io.need_credentials)
            c->io.need_credentials(c->ud);
        return;
    }
    if (c->creds_expiration && signing_time(c) >= c->creds_expiration && !c->creds_refresh_asked &&
        c->io.need_credentials) {
        /* Ask once for fresh ones; sign with these meanwhile (the service has the last word). */
        c->creds_refresh_asked = true;
        c->io.need_credentials(c->ud);
    }
    /* Steps that need what an earlier step learns fall back to that step. */
    if ((s == STEP_GET_ENDPOINT || s == STEP_GET_ICE || s == STEP_CONNECT) && !c->arn[0])
        s = STEP_DESCRIBE;
    if ((s == STEP_GET_ICE || s == STEP_CONNECT) && !c->have_endpoints)
        s = STEP_GET_ENDPOINT;
    if (s == STEP_CREATE && !c->channel_name[0] && !c->learned_name[0])
        s = STEP_DESCRIBE;
    CAMRTC_LOGD(c->log, MOD, "next: %s (%s)", s == STEP_CONNECT ? "connect" : "request", why);
    int rc = s == STEP_CONNECT ? ws_start(c, now) : http_start(c, s, now);
    if (rc < 0) {
        if (s == STEP_CONNECT)
            c->stats.ws_failures++;
        else
            c->stats.http_errors++;
        sc_flow_fail(c, s, CAMRTC_KVS_ERR_RETRY, false, camrtc_strerror(rc), now);
    }
}

/* The connection in use went away (closed by the service or found dead). */
void sc_connection_lost(sigcore *c, const char *why, camrtc_time_us now)
{
    c->cur = -1;
    switch (c->flow) {
    case STEP_IDLE:
        /* Straight to a fresh presigned URL: the endpoints are still good. */
        flow_backoff(c, STEP_CONNECT, why, now);
        return;
    case STEP_CONNECT:
        break;   /* the replacement is already on its way */
    default:
        c->reconnect = true;
        break;
    }
    sc_update_state(c, why);
}

/* ---------- lifecycle ---------- */

static bool valid_client_id(const char *id)
{
    return id && camrtc_str_is_name(id, strlen(id), CAMRTC_SIGMSG_MAX_ID) && strncmp(id, "AWS_", 4) != 0;
}

static bool copy_cfg_str(char *dst, size_t dsz, const char *src)
{
    return camrtc_strlcpy(dst, src ? src : "", dsz) == CAMRTC_OK;
}

sigcore *sigcore_new(const sigcore_config *cfg, const sigcore_io *io, void *ud, camrtc_rng *rng, camrtc_log *log,
                     char *err, size_t errsz)
{
    const char *bad = NULL;
    if (!cfg || !io || !rng)
        bad = "missing configuration, io or random generator";
    else if (!io->http || !io->ws_open || !io->ws_send || !io->ws_close)
        bad = "io needs http, ws_open, ws_send and ws_close";
    else if ((!cfg->channel_name || !*cfg->channel_name) && (!cfg->channel_arn || !*cfg->channel_arn))
        bad = "no channel name or ARN";
    else if (cfg->channel_name && *cfg->channel_name &&
             !camrtc_str_is_name(cfg->channel_name, strlen(cfg->channel_name), 256))
        bad = "channel name must match [A-Za-z0-9_.-]{1,256}";
    else if (cfg->channel_arn && *cfg->channel_arn &&
             (strncmp(cfg->channel_arn, "arn:", 4) != 0 || strlen(cfg->channel_arn) >= CAMRTC_KVS_MAX_ARN))
        bad = "malformed channel ARN";
    else if (cfg->viewer && !valid_client_id(cfg->client_id))
        bad = "a viewer needs a client id matching [A-Za-z0-9_.-]{1,256}, not starting with AWS_";
    else if (!cfg->region || !camrtc_str_is_name(cfg->region, strlen(cfg->region), 63))
        bad = "missing or malformed region";
    else if (!cfg->control_endpoint || !*cfg->control_endpoint ||
             strlen(cfg->control_endpoint) >= CAMRTC_KVS_MAX_URL)
        bad = "missing control-plane endpoint";
    else if (cfg->msg_ttl_s < 0 || cfg->ice_refresh_lead_s < 0 || cfg->cache_ttl_s < 0)
        bad = "negative setting";
    if (bad) {
        if (err && errsz)
            snprintf(err, errsz, "%s", bad);
        return NULL;
    }
    sigcore *c = calloc(1, sizeof *c);
    if (!c) {
        if (err && errsz)
            snprintf(err, errsz, "out of memory");
        return NULL;
    }
    c->viewer = cfg->viewer;
    c->create_if_missing = cfg->create_if_missing;
    c->msg_ttl_s = cfg->msg_ttl_s;
    copy_cfg_str(c->client_id, sizeof c->client_id, cfg->viewer ? cfg->client_id : NULL);
    copy_cfg_str(c->channel_name, sizeof c->channel_name, cfg->channel_name);
    copy_cfg_str(c->cfg_arn, sizeof c->cfg_arn, cfg->channel_arn);
    copy_cfg_str(c->arn, sizeof c->arn, cfg->channel_arn);
    copy_cfg_str(c->region, sizeof c->region, cfg->region);
    copy_cfg_str(c->control, sizeof c->control, cfg->control_endpoint);
    c->ping_interval = cfg->ping_interval ? cfg->ping_interval : CAMRTC_SEC(10);
    c->pong_timeout = cfg->pong_timeout ? cfg->pong_timeout : CAMRTC_SEC(5);
    c->max_connection = cfg->max_connection ? cfg->max_connection : CAMRTC_SEC(55 * 60);
    c->backoff_base = cfg->backoff_base ? cfg->backoff_base : CAMRTC_MS(100);
    c->backoff_cap = cfg->backoff_cap ? cfg->backoff_cap : CAMRTC_SEC(10);
    if (c->backoff_cap < c->backoff_base)
        c->backoff_cap = c->backoff_base;
    c->http_timeout = cfg->http_timeout ? cfg->http_timeout : CAMRTC_SEC(5);
    c->ice_lead_s = cfg->ice_refresh_lead_s ? cfg->ice_refresh_lead_s : 30;
    c->cache_ttl_s = cfg->cache_ttl_s ? cfg->cache_ttl_s : 6 * 3600;
    c->max_message = cfg->max_message ? cfg->max_message : 18750;
    c->max_queued = cfg->max_queued ? cfg->max_queued : 64;
    c->queue = calloc(c->max_queued, sizeof *c->queue);
    if (!c->queue) {
        free(c);
        if (err && errsz)
            snprintf(err, errsz, "out of memory");
        return NULL;
    }
    c->io = *io;
    c->ud = ud;
    c->rng = rng;
    c->log = log;
    c->cur = c->pending = -1;
    c->ice_refresh_at = CAMRTC_TIME_NEVER;
    c->reported = SIGCORE_NEW;
    return c;
}

void sigcore_free(sigcore *c)
{
    if (!c)
        return;
    sc_queue_clear(c, false);
    free(c->queue);
    wipe_free(c->akid);
    wipe_free(c->secret);
    wipe_free(c->token);
    free(c);
}

void sigcore_set_credentials(sigcore *c, const camrtc_aws_creds *creds, int64_t expiration, camrtc_time_us now,
                             int64_t wall)
{
    if (!c || !creds || !creds->access_key_id || !creds->secret_access_key)
        return;
    char *akid = dup_str(creds->access_key_id);
    char *secret = dup_str(creds->secret_access_key);
    char *token = creds->session_token && *creds->session_token ? dup_str(creds->session_token) : NULL;
    if (!akid || !secret || (creds->session_token && *creds->session_token && !token)) {
        wipe_free(akid);
        wipe_free(secret);
        wipe_free(token);
        CAMRTC_LOGE(c->log, MOD, "out of memory storing credentials");
        return;
    }
    wipe_free(c->akid);
    wipe_free(c->secret);
    wipe_free(c->token);
    c->akid = akid;
    c->secret = secret;
    c->token = token;
    c->creds_expiration = expiration;
    c->creds_refresh_asked = false;
    c->last_wall = wall;
    CAMRTC_LOGI(c->log, MOD, "credentials for access key %s%s", akid, token ? " (session)" : "");
    if (c->stopping || c->stopped || c->flow != STEP_WAIT_CREDS)
        return;
    sc_note_stable(c, now);
    if (now < c->not_before) {
        c->flow = STEP_BACKOFF;
        c->backoff_until = c->not_before;
        sc_update_state(c, "new credentials; waiting out the backoff");
        return;
    }
    sc_flow_go(c, c->resume, "new credentials", now);
}

void sigcore_set_cache(sigcore *c, const sigcore_cache *cache)
{
    if (!c || !cache)
        return;
    if (c->started) {
        CAMRTC_LOGW(c->log, MOD, "endpoint cache given after start: ignored");
        return;
    }
    c->cache = *cache;
    c->cache.channel_arn[sizeof c->cache.channel_arn - 1] = '\0';
    c->cache.wss[sizeof c->cache.wss - 1] = '\0';
    c->cache.https[sizeof c->cache.https - 1] = '\0';
    c->cache_given = true;
}

static bool cache_usable(const sigcore *c, int64_t wall)
{
    const sigcore_cache *k = &c->cache;
    if (!c->cache_given || !k->channel_arn[0] || !k->wss[0] || !k->https[0])
        return false;
    if (k->expires <= wall) {
        CAMRTC_LOGD(c->log, MOD, "endpoint cache expired");
        return false;
    }
    bool same = c->cfg_arn[0] ? strcmp(k->channel_arn, c->cfg_arn) == 0
                              : arn_names_channel(k->channel_arn, c->channel_name);
    if (!same)
        CAMRTC_LOGD(c->log, MOD, "endpoint cache is for another channel");
    return same;
}

int sigcore_start(sigcore *c, camrtc_time_us now, int64_t wall)
{
    if (!c)
        return CAMRTC_EINVAL;
    if (c->started || c->stopping || c->stopped)
        return CAMRTC_ESTATE;
    if (!have_creds(c) && !c->io.need_credentials)
        return CAMRTC_ESTATE;
    c->started = true;
    c->last_wall = wall;
    c->reconnect = true;
    if (cache_usable(c, wall)) {
        camrtc_strlcpy(c->arn, c->cache.channel_arn, sizeof c->arn);
        camrtc_strlcpy(c->wss, c->cache.wss, sizeof c->wss);
        camrtc_strlcpy(c->https, c->cache.https, sizeof c->https);
        c->have_endpoints = true;
        sc_flow_go(c, STEP_GET_ICE, "endpoints from the cache", now);
    } else if (c->arn[0]) {
        sc_flow_go(c, STEP_GET_ENDPOINT, "channel given by ARN", now);
    } else {
        sc_flow_go(c, STEP_DESCRIBE, "start", now);
    }
    return CAMRTC_OK;
}

void sigcore_stop(sigcore *c, camrtc_time_us now)
{
    if (!c || c->stopping || c->stopped)
        return;
    if (c->http_id && c->io.http_cancel)
        c->io.http_cancel(c->ud, c->http_id);
    c->http_id = 0;
    c->flow = STEP_IDLE;
    c->stopping = true;
    for (int i = 0; i < SIGCORE_MAX_SOCKETS; i++)
        sc_slot_close(c, i, now);
    c->cur = c->pending = -1;
    sc_queue_clear(c, true);
    sc_update_state(c, "stopped by the application");
    sc_maybe_stopped(c);
}

/* ---------- HTTP results ---------- */

static void ice_config_ok(sigcore *c, const camrtc_kvs_ice_config *ice, camrtc_time_us now)
{
    int64_t ttl = -1;
    for (size_t i = 0; i < ice->n_servers && i < CAMRTC_KVS_MAX_ICE_SERVERS; i++)
        if (ice->servers[i].ttl_s > 0 && (ttl < 0 || ice->servers[i].ttl_s < ttl))
            ttl = ice->servers[i].ttl_s;
    if (ttl > 0) {
        int64_t in = ttl - c->ice_lead_s;
        if (in <= 0)   /* a Ttl not longer than the lead: refresh halfway, never in a loop */
            in = ttl / 2;
        if (in < 1)
            in = 1;
        c->ice_refresh_at = now + CAMRTC_SEC(in);
    } else {
        c->ice_refresh_at = CAMRTC_TIME_NEVER;
    }
    if (c->got_ice)
        c->stats.ice_refreshes++;
    c->got_ice = true;
    c->ice_wanted = false;
    CAMRTC_LOGD(c->log, MOD, "%zu ICE servers, next refresh in %" PRId64 " s", ice->n_servers,
                ttl > 0 ? (int64_t)((c->ice_refresh_at - now) / 1000000) : (int64_t)-1);
    if (c->io.ice_config)
        c->io.ice_config(c->ud, ice);
}

static void http_ok(sigcore *c, camrtc_kvs_op op, const uint8_t *body, size_t len, camrtc_time_us now,
                    int64_t wall)
{
    int rc = CAMRTC_OK;
    switch (op) {
    case CAMRTC_KVS_DESCRIBE_CHANNEL: {
        camrtc_kvs_channel ch;
        memset(&ch, 0, sizeof ch);
        rc = camrtc_kvs_parse_describe(body, len, &ch);
        if (rc < 0 || !ch.arn[0])
            break;
        camrtc_strlcpy(c->arn, ch.arn, sizeof c->arn);
        if (ch.name[0] && camrtc_str_is_name(ch.name, strlen(ch.name), 256))
            camrtc_strlcpy(c->learned_name, ch.name, sizeof c->learned_name);
        if (ch.status[0] && strcmp(ch.status, "ACTIVE") != 0) {
            CAMRTC_LOGI(c->log, MOD, "channel is %.31s, not ACTIVE yet", ch.status);
            flow_backoff(c, STEP_DESCRIBE, "channel not active yet", now);
            return;
        }
        sc_flow_go(c, STEP_GET_ENDPOINT, "channel described", now);
        return;
    }
    case CAMRTC_KVS_CREATE_CHANNEL: {
        char arn[CAMRTC_KVS_MAX_ARN];
        arn[0] = '\0';
        rc = camrtc_kvs_parse_create(body, len, arn, sizeof arn);
        if (rc < 0 || !arn[0])
            break;
        camrtc_strlcpy(c->arn, arn, sizeof c->arn);
        CAMRTC_LOGI(c->log, MOD, "channel created");
        sc_flow_go(c, STEP_GET_ENDPOINT, "channel created", now);
        return;
    }
    case CAMRTC_KVS_GET_ENDPOINT: {
        camrtc_kvs_endpoints ep;
        memset(&ep, 0, sizeof ep);
        rc = camrtc_kvs_parse_endpoints(body, len, &ep);
        if (rc < 0 || !ep.wss[0] || !ep.https[0])
            break;
        camrtc_strlcpy(c->wss, ep.wss, sizeof c->wss);
        camrtc_strlcpy(c->https, ep.https, sizeof c->https);
        c->have_endpoints = true;
        if (c->io.cache_save) {
            sigcore_cache k;
            memset(&k, 0, sizeof k);
            camrtc_strlcpy(k.channel_arn, c->arn, sizeof k.channel_arn);
            camrtc_strlcpy(k.wss, c->wss, sizeof k.wss);
            camrtc_strlcpy(k.https, c->https, sizeof k.https);
            k.expires = wall + c->cache_ttl_s;
            c->io.cache_save(c->ud, &k);
        }
        sc_flow_go(c, STEP_GET_ICE, "endpoints known", now);
        return;
    }
    case CAMRTC_KVS_GET_ICE_CONFIG: {
        camrtc_kvs_ice_config *ice = calloc(1, sizeof *ice);   /* ~12 KB: not on the stack */
        if (!ice) {
            rc = CAMRTC_ENOMEM;
            break;
        }
        rc = camrtc_kvs_parse_ice_config(body, len, ice);
        if (rc >= 0)
            ice_config_ok(c, ice, now);
        free(ice);
        if (rc < 0)
            break;
        if (c->reconnect || c->cur < 0)
            sc_flow_go(c, STEP_CONNECT, "ICE servers known", now);
        else
            sc_flow_idle(c, "ICE servers refreshed", now);
        return;
    }
    }
    c->stats.http_errors++;
    CAMRTC_LOGW(c->log, MOD, "%s: unusable answer (%s)", op_name(op), camrtc_strerror(rc < 0 ? rc : CAMRTC_EPROTO));
    sc_flow_fail(c, c->flow, CAMRTC_KVS_ERR_RETRY, false, "unusable answer", now);
}

/* The HTTP result for id if it belongs to the step in flight; clears it. */
static bool take_http(sigcore *c, uint32_t id, camrtc_time_us now, int64_t wall)
{
    if (!c || c->stopping || c->stopped || !id || id != c->http_id)
        return false;
    c->http_id = 0;
    c->last_wall = wall;
    sc_note_stable(c, now);
    return true;
}

void sigcore_http_response(sigcore *c, uint32_t id, int status, const camrtc_kv *headers, size_t n_headers,
                           const uint8_t *body, size_t body_len, camrtc_time_us now, int64_t wall)
{
    if (!c)
        return;
    bool corrected = sc_apply_skew(c, headers, n_headers, wall);
    if (!take_http(c, id, now, wall))
        return;
    camrtc_kvs_op op = c->http_op;
    if (status >= 200 && status < 300) {
        http_ok(c, op, body ? body : (const uint8_t *)"", body ? body_len : 0, now, wall);
        return;
    }
    camrtc_kvs_error e;
    memset(&e, 0, sizeof e);
    camrtc_kvs_parse_error(status, headers, n_headers, body, body ? body_len : 0, &e);
    c->stats.http_errors++;
    CAMRTC_LOGW(c->log, MOD, "%s: HTTP %d %.127s: %.200s", op_name(op), status, e.type, e.message);
    if (op == CAMRTC_KVS_DESCRIBE_CHANNEL && e.cls == CAMRTC_KVS_ERR_NOT_FOUND && c->create_if_missing &&
        (c->channel_name[0] || c->learned_name[0])) {
        sc_flow_go(c, STEP_CREATE, "channel not found", now);
        return;
    }
    char why[64];
    snprintf(why, sizeof why, "%s: HTTP %d", op_name(op), status);
    sc_flow_fail(c, c->flow, e.cls, e.cls == CAMRTC_KVS_ERR_AUTH && e.signature_expired && corrected, why, now);
}

void sigcore_http_failed(sigcore *c, uint32_t id, int err, camrtc_time_us now, int64_t wall)
{
    if (!take_http(c, id, now, wall))
        return;
    c->stats.http_errors++;
    CAMRTC_LOGW(c->log, MOD, "%s failed: %s", op_name(c->http_op), camrtc_strerror(err));
    sc_flow_fail(c, c->flow, CAMRTC_KVS_ERR_RETRY, false, camrtc_strerror(err), now);
}

/* ---------- timers ---------- */

void sigcore_handle_timeout(sigcore *c, camrtc_time_us now, int64_t wall)
{
    if (!c || c->stopped)
        return;
    c->last_wall = wall;
    sc_note_stable(c, now);
    for (int i = 0; i < SIGCORE_MAX_SOCKETS; i++) {
        ws_conn *w = &c->ws[i];
        if (w->phase == WS_CLOSING && now >= w->deadline) {
            memset(w, 0, sizeof *w);   /* the glue never confirmed: stop waiting */
        } else if (w->phase == WS_CONNECTING && now >= w->deadline && i == c->pending) {
            sc_slot_close(c, i, now);
            c->pending = -1;
            c->stats.ws_failures++;
            CAMRTC_LOGW(c->log, MOD, "WebSocket upgrade timed out");
            sc_flow_fail(c, STEP_CONNECT, CAMRTC_KVS_ERR_RETRY, false, "WebSocket upgrade timed out", now);
        }
    }
    if (c->stopping) {
        sc_maybe_stopped(c);
        return;
    }
    if (c->http_id && now >= c->http_deadline) {
        uint32_t id = c->http_id;
        c->http_id = 0;
        if (c->io.http_cancel)
            c->io.http_cancel(c->ud, id);
        c->stats.http_errors++;
        CAMRTC_LOGW(c->log, MOD, "%s timed out", op_name(c->http_op));
        sc_flow_fail(c, c->flow, CAMRTC_KVS_ERR_RETRY, false, "request timed out", now);
    }
    if (c->flow == STEP_BACKOFF && now >= c->backoff_until)
        sc_flow_go(c, c->resume, "backoff over", now);
    if (c->cur >= 0) {
        ws_conn *w = &c->ws[c->cur];
        if (w->ping_out && now >= w->ping_at + c->pong_timeout) {
            CAMRTC_LOGW(c->log, MOD, "nothing received for %" PRIu64 " ms after a ping: connection dead",
                        (now - w->ping_at) / 1000);
            c->stats.dead_connections++;
            sc_slot_close(c, c->cur, now);
            sc_connection_lost(c, "connection dead", now);
        } else if (!w->ping_out && now >= w->last_rx + c->ping_interval) {
            w->ping_out = true;
            w->ping_at = now;
            c->stats.pings_sent++;
            if (c->io.ws_ping)
                c->io.ws_ping(c->ud, w->id);
        }
    }
    if (c->cur >= 0 && c->flow == STEP_IDLE) {
        if (now >= c->ws[c->cur].opened_at + c->max_connection) {
            CAMRTC_LOGI(c->log, MOD, "connection limit near: reconnecting gracefully");
            c->reconnect = true;
            sc_flow_go(c, STEP_CONNECT, "connection limit", now);
        } else if (c->ice_wanted || now >= c->ice_refresh_at) {
            sc_flow_go(c, STEP_GET_ICE, "ICE servers about to expire", now);
        }
    }
}

camrtc_time_us sigcore_next_timeout(const sigcore *c)
{
    if (!c || c->stopped || !c->started)
        return CAMRTC_TIME_NEVER;
    camrtc_time_us t = CAMRTC_TIME_NEVER;
    for (int i = 0; i < SIGCORE_MAX_SOCKETS; i++)
        if (c->ws[i].phase == WS_CLOSING || c->ws[i].phase == WS_CONNECTING)
            t = tmin(t, c->ws[i].deadline);
    if (c->stopping)
        return t;
    if (c->http_id)
        t = tmin(t, c->http_deadline);
    if (c->flow == STEP_BACKOFF)
        t = tmin(t, c->backoff_until);
    if (c->cur >= 0) {
        const ws_conn *w = &c->ws[c->cur];
        t = tmin(t, w->ping_out ? w->ping_at + c->pong_timeout : w->last_rx + c->ping_interval);
        if (c->flow == STEP_IDLE) {
            t = tmin(t, w->opened_at + c->max_connection);
            t = tmin(t, c->ice_wanted ? 0 : c->ice_refresh_at);
        }
    }
    return t;
}

/* ---------- queries ---------- */

sigcore_state sigcore_get_state(const sigcore *c)
{
    return c ? compute_state(c) : SIGCORE_STOPPED;
}

const sigcore_stats *sigcore_get_stats(const sigcore *c)
{
    return &c->stats;
}

int64_t sigcore_clock_skew(const sigcore *c)
{
    return c->skew;
}
