/* The KVS signaling client's state machine, sans-I/O.
 *
 * It decides which control-plane call to make next (Describe → [Create] →
 * GetSignalingChannelEndpoint → GetIceServerConfig → presigned WebSocket connect),
 * routes errors (401/403 → credentials, 404 → Describe, 400/5xx/timeouts →
 * GetSignalingChannelEndpoint), backs off with full jitter, keeps the connection
 * alive with pings, reconnects before the service's connection limit and on GO_AWAY
 * without losing a queued message, refreshes the ICE configuration before its Ttl,
 * and corrects its clock from the service's Date header.
 *
 * It never touches a socket, a clock or a file: the glue (src/signaling/client.c)
 * performs the HTTP requests and WebSocket operations it asks for through sigcore_io
 * and reports back with the sigcore_* input functions, passing the monotonic time
 * (`now`, microseconds) and the wall-clock time (`wall`, Unix seconds) each time.
 * Every io callback may be invoked from inside any input function; the glue must not
 * call back into the core from inside an io callback (queue instead).
 *
 * Backoff: every failure waits uniform(0, min(cap, base * 2^attempt)) (full jitter) and
 * counts an attempt; the one exception is a 403 "signature expired" whose Date header has
 * just corrected the clock, retried at once. The count goes back to zero once a connection
 * has stayed open for 30 s (not when it opens: a service that accepts and drops at once must
 * not make us spin). A connection that closes or dies is reopened directly (fresh presigned
 * URL, no control-plane call) after a backoff delay; a failure of that falls back to the
 * full routing. Credentials that the glue returns at once after need_credentials are still
 * used no earlier than the backoff delay.
 */
#ifndef CAMRTC_SIGNALING_SIGCORE_H
#define CAMRTC_SIGNALING_SIGCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/kvs.h"
#include "camrtc/log.h"
#include "camrtc/rand.h"
#include "camrtc/sigmsg.h"
#include "camrtc/sigv4.h"
#include "camrtc/time.h"

typedef struct sigcore sigcore;

typedef enum sigcore_state {
    SIGCORE_NEW = 0,
    SIGCORE_DESCRIBE,         /* DescribeSignalingChannel in flight */
    SIGCORE_CREATE,           /* CreateSignalingChannel in flight */
    SIGCORE_GET_ENDPOINT,     /* GetSignalingChannelEndpoint in flight */
    SIGCORE_GET_ICE_CONFIG,   /* GetIceServerConfig in flight (first time) */
    SIGCORE_CONNECTING,       /* WebSocket upgrade in flight */
    SIGCORE_CONNECTED,        /* messages flow */
    SIGCORE_BACKOFF,          /* waiting before the next attempt */
    SIGCORE_WAIT_CREDENTIALS, /* asked the glue for fresh credentials */
    SIGCORE_STOPPING,         /* closing after sigcore_stop */
    SIGCORE_STOPPED,          /* nothing left to do */
} sigcore_state;

/* Name of a state for logs ("describe", "connected", ...). */
const char *sigcore_state_name(sigcore_state s);

typedef struct sigcore_config {
    bool viewer;                    /* role: viewer (needs client_id) or master */
    const char *client_id;          /* viewer's X-Amz-ClientId */
    const char *channel_name;       /* channel by name ... */
    const char *channel_arn;        /* ... or by ARN (then Describe/Create are skipped unless a 404 says otherwise) */
    bool create_if_missing;         /* Create on 404 from Describe (only when asked) */
    int msg_ttl_s;                  /* for Create (0 = 60) */
    const char *region;
    const char *control_endpoint;   /* control-plane base URL ("https://kinesisvideo.<region>.amazonaws.com" or an override) */
    camrtc_time_us ping_interval;   /* 0 = 10 s: WebSocket ping when nothing was received for this long */
    camrtc_time_us pong_timeout;    /* 0 = 5 s: nothing received this long after a ping → the connection is dead */
    camrtc_time_us max_connection;  /* 0 = 55 min: reconnect gracefully before the service's 1 h limit */
    camrtc_time_us backoff_base;    /* 0 = 100 ms */
    camrtc_time_us backoff_cap;     /* 0 = 10 s */
    camrtc_time_us http_timeout;    /* 0 = 5 s per control-plane call and per WebSocket upgrade */
    int64_t ice_refresh_lead_s;     /* 0 = 30: refresh ICE config this long before its Ttl runs out */
    int64_t cache_ttl_s;            /* 0 = 6 h: how long cached endpoints are trusted */
    size_t max_message;             /* 0 = 18750 bytes: larger received messages are dropped and counted */
    size_t max_queued;              /* 0 = 64 messages waiting for a connection; more → CAMRTC_ELIMIT */
} sigcore_config;

/* Endpoints remembered across restarts (the glue stores it on disk). */
typedef struct sigcore_cache {
    char channel_arn[CAMRTC_KVS_MAX_ARN];
    char wss[CAMRTC_KVS_MAX_URL];
    char https[CAMRTC_KVS_MAX_URL];
    int64_t expires;                /* Unix seconds */
} sigcore_cache;

/* Counters. queued_dropped: sends refused because the queue was full plus messages still queued at stop.
 * reconnects: connections opened after the first one. ws_failures: upgrades refused, failed or timed out. */
typedef struct sigcore_stats {
    uint64_t http_calls, http_errors, ws_connects, ws_failures, reconnects, messages_in, messages_out,
        dropped_too_large, dropped_malformed, dropped_unknown_type, status_responses, go_aways, ice_refreshes,
        pings_sent, dead_connections, clock_corrections, queued_dropped;
} sigcore_stats;

typedef struct sigcore_io {
    /* Perform an HTTP request; answer with sigcore_http_response or sigcore_http_failed for id. */
    void (*http)(void *ud, uint32_t id, const camrtc_kvs_request *req);
    /* Abandon request id (it timed out in the core); no answer is expected any more. */
    void (*http_cancel)(void *ud, uint32_t id);
    /* Open a WebSocket to url; answer with sigcore_ws_open, then sigcore_ws_message/pong, and finally
     * sigcore_ws_closed (also when the upgrade is refused, with its HTTP status). */
    void (*ws_open)(void *ud, uint32_t id, const char *url);
    void (*ws_send)(void *ud, uint32_t id, const char *text, size_t len);
    void (*ws_ping)(void *ud, uint32_t id);
    /* Close WebSocket id (close frame if open, else abort); sigcore_ws_closed follows. */
    void (*ws_close)(void *ud, uint32_t id);
    /* The credentials were refused: fetch fresh ones and call sigcore_set_credentials. May be NULL
     * (static credentials): the core then keeps retrying with backoff. */
    void (*need_credentials)(void *ud);
    /* New endpoints to remember (may be NULL). */
    void (*cache_save)(void *ud, const sigcore_cache *c);
    /* Events for the application. */
    void (*state)(void *ud, sigcore_state s, const char *why);
    void (*message)(void *ud, const camrtc_sigmsg *m);      /* SDP_OFFER, SDP_ANSWER, ICE_CANDIDATE */
    void (*status)(void *ud, const camrtc_sigmsg *m);       /* STATUS_RESPONSE (with its correlation id) */
    void (*ice_config)(void *ud, const camrtc_kvs_ice_config *c);
} sigcore_io;

/* Create a core. cfg strings are copied. rng (jitter, correlation ids) and log are borrowed. NULL on a bad
 * configuration (missing channel, viewer without a valid client id, ...) with a reason in err. */
sigcore *sigcore_new(const sigcore_config *cfg, const sigcore_io *io, void *ud, camrtc_rng *rng, camrtc_log *log,
                     char *err, size_t errsz);
/* Free the core (NULL is fine). The glue closes its own sockets and requests; nothing is called back. */
void sigcore_free(sigcore *c);

/* Credentials to sign with (copied); expiration in Unix seconds, 0 = none. Resumes a core waiting for them. */
void sigcore_set_credentials(sigcore *c, const camrtc_aws_creds *creds, int64_t expiration, camrtc_time_us now,
                             int64_t wall);
/* Endpoints loaded from disk before start; ignored when expired or for another channel. */
void sigcore_set_cache(sigcore *c, const sigcore_cache *cache);

/* Begin: with a valid cache, GetIceServerConfig then connect (two calls); else the full flow (GetEndpoint first
 * for a channel given by ARN). Without credentials the core waits for them (need_credentials). CAMRTC_ESTATE when
 * already started or stopped, or when there are no credentials and no need_credentials to ask for them. */
int sigcore_start(sigcore *c, camrtc_time_us now, int64_t wall);
/* Close the WebSocket and stop every timer; the state goes to STOPPED once the glue reports it closed (or after
 * http_timeout if it never does), at once when nothing was open. Queued messages are dropped. */
void sigcore_stop(sigcore *c, camrtc_time_us now);

/* I/O results, for the ids the core handed out; unknown, cancelled or stale ids are ignored. headers/body are
 * borrowed for the call. Every HTTP response's Date header corrects the clock skew. */
void sigcore_http_response(sigcore *c, uint32_t id, int status, const camrtc_kv *headers, size_t n_headers,
                           const uint8_t *body, size_t body_len, camrtc_time_us now, int64_t wall);
void sigcore_http_failed(sigcore *c, uint32_t id, int err, camrtc_time_us now, int64_t wall);
void sigcore_ws_open(sigcore *c, uint32_t id, camrtc_time_us now, int64_t wall);
void sigcore_ws_message(sigcore *c, uint32_t id, const uint8_t *data, size_t len, camrtc_time_us now, int64_t wall);
void sigcore_ws_pong(sigcore *c, uint32_t id, camrtc_time_us now);
/* The WebSocket is gone: err 0 for a clean close; http_status is the refused upgrade's status (0 if none),
 * headers the refusal's headers (Date for clock skew), may be NULL. */
void sigcore_ws_closed(sigcore *c, uint32_t id, int err, int http_status, const camrtc_kv *headers, size_t n_headers,
                       camrtc_time_us now, int64_t wall);

/* Timers: call sigcore_handle_timeout when sigcore_next_timeout's instant has come (calling it early is harmless). */
void sigcore_handle_timeout(sigcore *c, camrtc_time_us now, int64_t wall);
camrtc_time_us sigcore_next_timeout(const sigcore *c);   /* CAMRTC_TIME_NEVER when nothing is pending */

/* Send an SDP offer/answer or ICE candidate. payload_json is the inner JSON ({"type":..,"sdp":..} or
 * {"candidate":..,...}); recipient is the viewer's client id (master; required) or NULL (viewer). A fresh
 * correlation id is written to corr_out (may be NULL). While not connected the message waits in a bounded
 * queue and goes out, in order, once connected. CAMRTC_ELIMIT when the queue is full, CAMRTC_EINVAL on bad input
 * (also when corr_out is too small for the id, at most 30 bytes), CAMRTC_ETOOBIG when the payload is over
 * CAMRTC_SIGMSG_MAX_PAYLOAD, CAMRTC_ESTATE after sigcore_stop. */
int sigcore_send(sigcore *c, camrtc_sigmsg_type type, const char *recipient, const char *payload_json, size_t len,
                 char *corr_out, size_t corr_sz, camrtc_time_us now);

/* The current state: CONNECTED whenever a connection is open, even while a replacement is being prepared. */
sigcore_state sigcore_get_state(const sigcore *c);
/* The counters (owned by the core). */
const sigcore_stats *sigcore_get_stats(const sigcore *c);
/* The clock correction in use: service time minus local time (seconds). */
int64_t sigcore_clock_skew(const sigcore *c);
/* Master: the client ids of the viewers heard from, most recent first (at most 10). Returns the count written to
 * ids; the strings belong to the core and stay valid until the next call into it. */
size_t sigcore_viewers(const sigcore *c, const char **ids, size_t max);

#endif
