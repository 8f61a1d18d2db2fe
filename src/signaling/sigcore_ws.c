/* The signaling core's WebSocket side (see sigcore.h and sigcore_int.h): the connections and
 * their replacement, received messages, the send queue and the viewer table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "signaling/sigcore_int.h"

/* ---------- the message queue ---------- */

void sc_queue_clear(sigcore *c, bool count)
{
    while (c->q_len) {
        camrtc_buf_free(&c->queue[c->q_head]);
        c->q_head = (c->q_head + 1) % c->max_queued;
        c->q_len--;
        if (count)
            c->stats.queued_dropped++;
    }
    c->q_head = 0;
}

static void send_now(sigcore *c, const camrtc_buf *b)
{
    c->io.ws_send(c->ud, c->ws[c->cur].id, (const char *)camrtc_buf_data(b), b->len);
    c->stats.messages_out++;
}

/* Send everything that waited for a connection, oldest first. */
void sc_queue_flush(sigcore *c)
{
    while (c->q_len && c->cur >= 0) {
        camrtc_buf *b = &c->queue[c->q_head];
        send_now(c, b);
        camrtc_buf_free(b);
        c->q_head = (c->q_head + 1) % c->max_queued;
        c->q_len--;
    }
}

/* ---------- sockets ---------- */

static int slot_of(const sigcore *c, uint32_t id)
{
    if (!id)
        return -1;
    for (int i = 0; i < SIGCORE_MAX_SOCKETS; i++)
        if (c->ws[i].phase != WS_FREE && c->ws[i].id == id)
            return i;
    return -1;
}

int sc_slot_alloc(sigcore *c)
{
    int victim = -1;
    for (int i = 0; i < SIGCORE_MAX_SOCKETS; i++) {
        if (c->ws[i].phase == WS_FREE)
            return i;
        if (c->ws[i].phase == WS_CLOSING && (victim < 0 || c->ws[i].deadline < c->ws[victim].deadline))
            victim = i;
    }
    /* Only closing sockets can fill the table (one open, one connecting): forget the oldest. */
    if (victim >= 0)
        memset(&c->ws[victim], 0, sizeof c->ws[victim]);
    return victim;
}

/* Ask the glue to close socket i and stop waiting for it after http_timeout. */
void sc_slot_close(sigcore *c, int i, camrtc_time_us now)
{
    ws_conn *w = &c->ws[i];
    if (w->phase == WS_FREE || w->phase == WS_CLOSING)
        return;
    w->phase = WS_CLOSING;
    w->deadline = now + c->http_timeout;
    c->io.ws_close(c->ud, w->id);
}

static bool sockets_in_use(const sigcore *c)
{
    for (int i = 0; i < SIGCORE_MAX_SOCKETS; i++)
        if (c->ws[i].phase != WS_FREE)
            return true;
    return false;
}

void sc_maybe_stopped(sigcore *c)
{
    if (c->stopping && !c->stopped && !sockets_in_use(c)) {
        c->stopped = true;
        sc_update_state(c, "every connection closed");
    }
}

/* ---------- WebSocket results ---------- */

void sigcore_ws_open(sigcore *c, uint32_t id, camrtc_time_us now, int64_t wall)
{
    if (!c || c->stopping || c->stopped)
        return;
    int i = slot_of(c, id);
    if (i >= 0 && c->ws[i].phase == WS_CLOSING)
        c->io.ws_close(c->ud, id);   /* abandoned while connecting: make sure it does not stay open */
    if (i < 0 || i != c->pending || c->ws[i].phase != WS_CONNECTING)
        return;
    c->last_wall = wall;
    ws_conn *w = &c->ws[i];
    w->phase = WS_OPEN;
    w->opened_at = w->last_rx = now;
    w->ping_out = false;
    c->stats.ws_connects++;
    if (c->ever_connected)
        c->stats.reconnects++;
    c->ever_connected = true;
    int old = c->cur;
    c->cur = i;
    c->pending = -1;
    CAMRTC_LOGD(c->log, MOD, "WebSocket %" PRIu32 " open", id);
    /* Sending moves to the new connection before the old one is closed: nothing is lost. */
    if (old >= 0)
        sc_slot_close(c, old, now);
    sc_queue_flush(c);
    sc_flow_idle(c, old >= 0 ? "reconnected" : "connected", now);
}

void sigcore_ws_pong(sigcore *c, uint32_t id, camrtc_time_us now)
{
    if (!c)
        return;
    int i = slot_of(c, id);
    if (i < 0 || c->ws[i].phase != WS_OPEN)
        return;
    c->ws[i].last_rx = now;
    c->ws[i].ping_out = false;
}

static void remember_viewer(sigcore *c, const char *id)
{
    size_t i = 0;
    while (i < c->n_viewers && strcmp(c->viewers[i], id) != 0)
        i++;
    if (i == c->n_viewers) {   /* new: the oldest falls off the end when full */
        if (c->n_viewers < SIGCORE_MAX_VIEWERS)
            c->n_viewers++;
        i = c->n_viewers - 1;
    }
    memmove(c->viewers[1], c->viewers[0], i * sizeof c->viewers[0]);
    camrtc_strlcpy(c->viewers[0], id, sizeof c->viewers[0]);
}

static void go_away(sigcore *c, camrtc_time_us now)
{
    c->stats.go_aways++;
    c->reconnect = true;
    switch (c->flow) {
    case STEP_DESCRIBE:
    case STEP_CREATE:
        return;   /* already on the way */
    case STEP_BACKOFF:
    case STEP_WAIT_CREDS:
        c->resume = STEP_DESCRIBE;
        return;
    default:
        sc_flow_abort(c, now);
        c->reconnect = true;
        sc_flow_go(c, STEP_DESCRIBE, "GO_AWAY", now);
        return;
    }
}

void sigcore_ws_message(sigcore *c, uint32_t id, const uint8_t *data, size_t len, camrtc_time_us now, int64_t wall)
{
    if (!c || c->stopping || c->stopped)
        return;
    int i = slot_of(c, id);
    if (i < 0 || (c->ws[i].phase != WS_OPEN && c->ws[i].phase != WS_CLOSING))
        return;
    c->last_wall = wall;
    sc_note_stable(c, now);
    c->ws[i].last_rx = now;
    c->ws[i].ping_out = false;
    if (!data)
        return;
    if (len > c->max_message) {
        c->stats.dropped_too_large++;
        CAMRTC_LOGW(c->log, MOD, "dropped a %zu-byte message (limit %zu)", len, c->max_message);
        return;
    }
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    char reason[160];
    reason[0] = '\0';
    int rc = camrtc_sigmsg_parse_from_service((const char *)data, len, &m, reason, sizeof reason);
    if (rc < 0) {
        if (rc == CAMRTC_EUNSUPPORTED) {
            c->stats.dropped_unknown_type++;
            CAMRTC_LOGD(c->log, MOD, "ignored a message of an unknown type");
        } else if (rc == CAMRTC_ETOOBIG) {
            c->stats.dropped_too_large++;
            CAMRTC_LOGW(c->log, MOD, "dropped a message: %s", reason);
        } else {
            c->stats.dropped_malformed++;
            CAMRTC_LOGW(c->log, MOD, "dropped a malformed message: %s", reason);
        }
        camrtc_sigmsg_clear(&m);
        return;
    }
    c->stats.messages_in++;
    switch (m.type) {
    case CAMRTC_SIGMSG_SDP_OFFER:
    case CAMRTC_SIGMSG_SDP_ANSWER:
    case CAMRTC_SIGMSG_ICE_CANDIDATE:
        if (!c->viewer && m.peer_id[0])
            remember_viewer(c, m.peer_id);
        if (c->io.message)
            c->io.message(c->ud, &m);
        break;
    case CAMRTC_SIGMSG_STATUS_RESPONSE:
        c->stats.status_responses++;
        CAMRTC_LOGI(c->log, MOD, "status %d %.127s for message %.64s", m.status_code, m.error_type,
                    m.correlation_id);
        if (c->io.status)
            c->io.status(c->ud, &m);
        break;
    case CAMRTC_SIGMSG_GO_AWAY:
        /* Only the connection in use matters; an old one is being replaced already. */
        if (i == c->cur) {
            CAMRTC_LOGI(c->log, MOD, "GO_AWAY: describing the channel and reconnecting");
            go_away(c, now);
        }
        break;
    case CAMRTC_SIGMSG_RECONNECT_ICE_SERVER:
        CAMRTC_LOGI(c->log, MOD, "RECONNECT_ICE_SERVER: fetching new ICE servers");
        c->ice_wanted = true;
        if (c->flow == STEP_IDLE && c->cur >= 0)
            sc_flow_go(c, STEP_GET_ICE, "the service asked for new ICE servers", now);
        break;
    case CAMRTC_SIGMSG_UNKNOWN:
        c->stats.dropped_unknown_type++;
        break;
    }
    camrtc_sigmsg_clear(&m);
}

void sigcore_ws_closed(sigcore *c, uint32_t id, int err, int http_status, const camrtc_kv *headers, size_t n_headers,
                       camrtc_time_us now, int64_t wall)
{
    if (!c || c->stopped)
        return;
    int i = slot_of(c, id);
    if (i < 0)
        return;
    c->last_wall = wall;
    bool corrected = sc_apply_skew(c, headers, n_headers, wall);
    sc_note_stable(c, now);
    memset(&c->ws[i], 0, sizeof c->ws[i]);
    if (c->stopping) {
        sc_maybe_stopped(c);
        return;
    }
    if (i == c->pending) {
        c->pending = -1;
        c->stats.ws_failures++;
        camrtc_kvs_error_class cls = CAMRTC_KVS_ERR_RETRY;
        if (http_status == 401 || http_status == 403)
            cls = CAMRTC_KVS_ERR_AUTH;
        else if (http_status == 404)
            cls = CAMRTC_KVS_ERR_NOT_FOUND;
        char why[64];
        if (http_status)
            snprintf(why, sizeof why, "WebSocket upgrade refused: HTTP %d", http_status);
        else
            snprintf(why, sizeof why, "WebSocket connect failed: %s", camrtc_strerror(err));
        CAMRTC_LOGW(c->log, MOD, "%s", why);
        /* A 403 whose Date just moved our clock is most likely an expired signature. */
        sc_flow_fail(c, STEP_CONNECT, cls, http_status == 403 && corrected, why, now);
    } else if (i == c->cur) {
        CAMRTC_LOGW(c->log, MOD, "connection closed by the service (%s)", camrtc_strerror(err));
        sc_connection_lost(c, "connection closed", now);
    }
}

/* ---------- sending ---------- */

int sigcore_send(sigcore *c, camrtc_sigmsg_type type, const char *recipient, const char *payload_json, size_t len,
                 char *corr_out, size_t corr_sz, camrtc_time_us now)
{
    if (!c || !payload_json || !len)
        return CAMRTC_EINVAL;
    if (c->stopping || c->stopped)
        return CAMRTC_ESTATE;
    if (type != CAMRTC_SIGMSG_SDP_OFFER && type != CAMRTC_SIGMSG_SDP_ANSWER && type != CAMRTC_SIGMSG_ICE_CANDIDATE)
        return CAMRTC_EINVAL;
    if (!c->viewer && (!recipient || !camrtc_str_is_name(recipient, strlen(recipient), CAMRTC_SIGMSG_MAX_ID)))
        return CAMRTC_EINVAL;
    /* While a replacement connection is being opened the service may already have
     * retired the old one (the newest master wins): hold messages until the new one
     * is open rather than risk them on the old one. */
    bool hold = c->cur < 0 || c->pending >= 0;
    if (hold && c->q_len >= c->max_queued) {
        c->stats.queued_dropped++;
        CAMRTC_LOGW(c->log, MOD, "send queue full (%zu messages): message refused", c->max_queued);
        return CAMRTC_ELIMIT;
    }
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    if (!c->viewer)
        camrtc_strlcpy(m.peer_id, recipient, sizeof m.peer_id);
    /* A counter for uniqueness here, random bits so ids do not repeat across restarts. */
    uint32_t r = 0;
    camrtc_rng_bytes(c->rng, &r, sizeof r);
    snprintf(m.correlation_id, sizeof m.correlation_id, "%" PRIu64 ".%08" PRIx32, ++c->corr_counter, r);
    if (corr_out && corr_sz <= strlen(m.correlation_id))
        return CAMRTC_EINVAL;
    int rc = camrtc_sigmsg_set_payload_json(&m, payload_json, len);
    camrtc_buf out;
    memset(&out, 0, sizeof out);
    if (rc == CAMRTC_OK)
        rc = camrtc_sigmsg_write_to_service(&out, &m);
    if (rc == CAMRTC_OK && corr_out)
        camrtc_strlcpy(corr_out, m.correlation_id, corr_sz);
    camrtc_sigmsg_clear(&m);
    if (rc < 0) {
        camrtc_buf_free(&out);
        return rc;
    }
    (void)now;
    if (!hold) {
        send_now(c, &out);
        camrtc_buf_free(&out);
    } else {
        c->queue[(c->q_head + c->q_len) % c->max_queued] = out;
        c->q_len++;
    }
    return CAMRTC_OK;
}

size_t sigcore_viewers(const sigcore *c, const char **ids, size_t max)
{
    size_t n = 0;
    for (; n < c->n_viewers && n < max; n++)
        ids[n] = c->viewers[n];
    return n;
}
