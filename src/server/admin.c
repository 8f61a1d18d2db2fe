/* The loopback-only admin endpoint of the local service: lets tests and
 * operators make the service behave like AWS during maintenance.
 *
 *   POST /admin/announce {"ChannelARN"|"ChannelName": ..., "MessageType": "GO_AWAY"|"RECONNECT_ICE_SERVER"}
 *        → {"Clients": n}
 *   GET  /admin/stats    → counters as JSON
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/sigmsg.h"
#include "server/service_internal.h"

static void reply_error(sconn *sc, int status, const char *type, const char *msg, bool keep_alive)
{
    sig_reply r = {0};
    sig_reply_error(&r, status, type, "%s", msg);
    sig_service_reply(sc, &r, keep_alive);
}

static void stats(sconn *sc, const camrtc_http_msg *m)
{
    camrtc_signaling *s = sc->srv;
    const sig_hub_stats *h = sig_hub_get_stats(s->hub);
    const sig_service_stats *g = &s->stats;
    camrtc_buf b = {0};
    camrtc_buf_appendf(&b,
        "{\"Connections\":%zu,\"WebSocketClients\":%zu,\"Channels\":%zu,"
        "\"Service\":{\"RestCalls\":%llu,\"WebSocketUpgrades\":%llu,\"AuthFailures\":%llu,\"HttpErrors\":%llu,"
        "\"HttpBadRequests\":%llu,\"HttpTimeouts\":%llu,\"WebSocketProtocolErrors\":%llu,\"SlowClients\":%llu},",
        s->n_conns, sig_hub_connection_count(s->hub), sig_store_count(s->store),
        (unsigned long long)g->rest_calls, (unsigned long long)g->ws_upgrades,
        (unsigned long long)g->auth_failures, (unsigned long long)g->http_errors,
        (unsigned long long)g->http_bad_requests, (unsigned long long)g->http_timeouts,
        (unsigned long long)g->ws_protocol_errors, (unsigned long long)g->slow_clients);
    camrtc_buf_appendf(&b,
        "\"Hub\":{\"Connects\":%llu,\"RefusedViewerLimit\":%llu,\"RefusedRate\":%llu,\"MastersReplaced\":%llu,"
        "\"MessagesIn\":%llu,\"MessagesRouted\":%llu,\"MessagesHeld\":%llu,\"MessagesExpired\":%llu,"
        "\"DroppedMalformed\":%llu,\"DroppedTooLarge\":%llu,\"DroppedRate\":%llu,\"DroppedNoRecipient\":%llu,"
        "\"StatusResponses\":%llu,\"IdleClosed\":%llu,\"DurationClosed\":%llu,\"GoAwaySent\":%llu,"
        "\"DroppedClosedConnection\":%llu}}",
        (unsigned long long)h->connects, (unsigned long long)h->refused_viewer_limit,
        (unsigned long long)h->refused_rate, (unsigned long long)h->masters_replaced,
        (unsigned long long)h->messages_in, (unsigned long long)h->messages_routed,
        (unsigned long long)h->messages_held, (unsigned long long)h->messages_expired,
        (unsigned long long)h->dropped_malformed, (unsigned long long)h->dropped_too_large,
        (unsigned long long)h->dropped_rate, (unsigned long long)h->dropped_no_recipient,
        (unsigned long long)h->status_responses, (unsigned long long)h->idle_closed,
        (unsigned long long)h->duration_closed, (unsigned long long)h->go_away_sent,
        (unsigned long long)h->dropped_closed_conn);
    sig_service_respond(sc, 200, NULL, "application/json", camrtc_buf_data(&b), b.len, m->keep_alive);
    camrtc_buf_free(&b);
}

static const char *get_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void announce(sconn *sc, const camrtc_http_msg *m)
{
    camrtc_signaling *s = sc->srv;
    cJSON *o = cJSON_ParseWithLength((const char *)m->body, m->body_len);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        reply_error(sc, 400, "SerializationException", "body must be a JSON object", m->keep_alive);
        return;
    }
    const char *arn = get_str(o, "ChannelARN"), *name = get_str(o, "ChannelName");
    const char *type_s = get_str(o, "MessageType");
    camrtc_sigmsg_type type = type_s ? camrtc_sigmsg_type_parse(type_s) : CAMRTC_SIGMSG_UNKNOWN;
    const sig_channel *ch = arn ? sig_store_find_arn(s->store, arn) : name ? sig_store_find_name(s->store, name) : NULL;
    if (type != CAMRTC_SIGMSG_GO_AWAY && type != CAMRTC_SIGMSG_RECONNECT_ICE_SERVER) {
        reply_error(sc, 400, "InvalidArgumentException", "MessageType must be GO_AWAY or RECONNECT_ICE_SERVER",
                    m->keep_alive);
    } else if (!ch) {
        reply_error(sc, 404, "ResourceNotFoundException", "The requested channel is not found or not active.",
                    m->keep_alive);
    } else {
        int n = sig_hub_announce(s->hub, ch->arn, type, camrtc_now_us());
        CAMRTC_LOGI(s->log, "signaling", "admin: %s to %d clients of %s", type_s, n < 0 ? 0 : n, ch->name);
        char body[64];
        int len = snprintf(body, sizeof body, "{\"Clients\":%d}", n < 0 ? 0 : n);
        sig_service_respond(sc, 200, NULL, "application/json", body, (size_t)len, m->keep_alive);
    }
    cJSON_Delete(o);
}

void sig_admin_handle(sconn *sc, const camrtc_http_msg *m)
{
    if (!sc->loopback) {
        reply_error(sc, 403, "AccessDeniedException", "the admin endpoint answers loopback clients only", false);
        return;
    }
    if (strcmp(m->path, "/admin/stats") == 0 && strcmp(m->method, "GET") == 0)
        stats(sc, m);
    else if (strcmp(m->path, "/admin/announce") == 0 && strcmp(m->method, "POST") == 0)
        announce(sc, m);
    else
        reply_error(sc, 404, "UnknownOperationException", "Unknown admin operation", m->keep_alive);
}
