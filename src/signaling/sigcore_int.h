/* Internals of the signaling core (sigcore.h), shared by its two files: sigcore.c runs the
 * control-plane flow (calls, error routing, backoff, timers, lifecycle); sigcore_ws.c the
 * WebSocket side (connections, received messages, the send queue, the viewer table).
 */
#ifndef CAMRTC_SIGNALING_SIGCORE_INT_H
#define CAMRTC_SIGNALING_SIGCORE_INT_H

#include "signaling/sigcore.h"

#define MOD "sigcore"
#define SIGCORE_MAX_VIEWERS 10
#define SIGCORE_MAX_SOCKETS 4
#define SIGCORE_STABLE CAMRTC_SEC(30)
#define SIGCORE_MAX_URL_BYTES 16384   /* a presigned URL with a long session token */

typedef enum flow_step {
    STEP_IDLE = 0,
    STEP_DESCRIBE,
    STEP_CREATE,
    STEP_GET_ENDPOINT,
    STEP_GET_ICE,
    STEP_CONNECT,
    STEP_BACKOFF,
    STEP_WAIT_CREDS,
} flow_step;

typedef enum ws_phase { WS_FREE = 0, WS_CONNECTING, WS_OPEN, WS_CLOSING } ws_phase;

typedef struct ws_conn {
    uint32_t id;
    ws_phase phase;
    camrtc_time_us deadline;    /* CONNECTING: upgrade deadline; CLOSING: when we stop waiting for it */
    camrtc_time_us opened_at, last_rx, ping_at;
    bool ping_out;
} ws_conn;

struct sigcore {
    /* configuration */
    bool viewer, create_if_missing;
    int msg_ttl_s;
    char client_id[CAMRTC_SIGMSG_MAX_ID + 1];
    char channel_name[257];
    char cfg_arn[CAMRTC_KVS_MAX_ARN];
    char region[64];
    char control[CAMRTC_KVS_MAX_URL];
    camrtc_time_us ping_interval, pong_timeout, max_connection, backoff_base, backoff_cap, http_timeout;
    int64_t ice_lead_s, cache_ttl_s;
    size_t max_message, max_queued;

    sigcore_io io;
    void *ud;
    camrtc_rng *rng;
    camrtc_log *log;

    /* credentials (owned copies; the secret is wiped when replaced) */
    char *akid, *secret, *token;
    int64_t creds_expiration;
    bool creds_refresh_asked;

    /* what we know about the channel */
    char arn[CAMRTC_KVS_MAX_ARN];
    char learned_name[257];
    char wss[CAMRTC_KVS_MAX_URL], https[CAMRTC_KVS_MAX_URL];
    bool have_endpoints;
    sigcore_cache cache;
    bool cache_given;

    /* the flow */
    bool started, stopping, stopped;
    flow_step flow, resume;
    bool reconnect;             /* the flow ends with a new connection even if one is open */
    bool ice_wanted;            /* RECONNECT_ICE_SERVER: fetch the ICE config when the flow is free */
    bool got_ice;
    camrtc_time_us backoff_until, not_before, ice_refresh_at;
    unsigned attempt;
    uint32_t next_id;
    uint32_t http_id;
    camrtc_kvs_op http_op;
    camrtc_time_us http_deadline;
    int64_t skew, last_wall;

    /* connections */
    ws_conn ws[SIGCORE_MAX_SOCKETS];
    int cur, pending;
    bool ever_connected;

    /* messages waiting for a connection: a ring of max_queued buffers */
    camrtc_buf *queue;
    size_t q_head, q_len;
    uint64_t corr_counter;

    /* master: viewers heard from, most recent first */
    char viewers[SIGCORE_MAX_VIEWERS][CAMRTC_SIGMSG_MAX_ID + 1];
    size_t n_viewers;

    sigcore_state reported;
    sigcore_stats stats;
};

/* sigcore.c: the flow. */

/* Report the state to the glue if it changed; called after every transition. */
void sc_update_state(sigcore *c, const char *why);
/* Reset the backoff count once the connection has been open SIGCORE_STABLE with nothing else going on. */
void sc_note_stable(sigcore *c, camrtc_time_us now);
/* Correct the clock from a response's Date header (headers may be NULL); true when the skew changed. */
bool sc_apply_skew(sigcore *c, const camrtc_kv *headers, size_t n, int64_t wall);
/* Run step s now (or wait for credentials); failures to even start it are routed like any failure. */
void sc_flow_go(sigcore *c, flow_step s, const char *why, camrtc_time_us now);
/* Route a failed step by class: AUTH → credentials, NOT_FOUND → Describe, else GetEndpoint, after a backoff;
 * retry_now repeats it at once (the clock was just corrected). */
void sc_flow_fail(sigcore *c, flow_step failed, camrtc_kvs_error_class cls, bool retry_now, const char *why,
                  camrtc_time_us now);
/* The flow has nothing left to do (it may still start an ICE fetch the service asked for). */
void sc_flow_idle(sigcore *c, const char *why, camrtc_time_us now);
/* Abandon the flow's request or upgrade in flight. */
void sc_flow_abort(sigcore *c, camrtc_time_us now);
/* The connection in use is gone (closed or dead): reconnect directly after a backoff. */
void sc_connection_lost(sigcore *c, const char *why, camrtc_time_us now);

/* sigcore_ws.c: connections and the queue. */

/* Free every queued message, counting them as dropped when count. */
void sc_queue_clear(sigcore *c, bool count);
/* Send the queued messages, oldest first, on the connection in use. */
void sc_queue_flush(sigcore *c);
/* A free socket slot (forgetting the oldest closing one if needed), or -1. */
int sc_slot_alloc(sigcore *c);
/* Ask the glue to close socket slot i; stop waiting for its confirmation after http_timeout. */
void sc_slot_close(sigcore *c, int i, camrtc_time_us now);
/* While stopping: STOPPED once no socket is left. */
void sc_maybe_stopped(sigcore *c);

#endif
