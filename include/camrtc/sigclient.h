/* The KVS signaling client on a libuv loop: master or viewer of a signaling channel.
 *
 * Finds the channel (Describe, Create when asked), its endpoints and ICE servers, and
 * keeps a SigV4-presigned WebSocket to the signaling service for as long as it runs:
 * through service restarts, GO_AWAY, dead connections, expired credentials, a skewed
 * clock and the service's one-hour connection limit. Works against AWS itself or any
 * KVS-compatible endpoint (`camrtc signaling`). Every callback runs on the loop thread,
 * one at a time (the official SDK spawns a thread per received message; we never do).
 * The protocol decisions live in the sans-I/O core (src/signaling/sigcore.h); this is
 * its glue to sockets, timers and the endpoint cache file.
 */
#ifndef CAMRTC_SIGCLIENT_H
#define CAMRTC_SIGCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/kvs.h"
#include "camrtc/log.h"
#include "camrtc/sigmsg.h"
#include "camrtc/sigv4.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_sigclient camrtc_sigclient;

typedef struct camrtc_sigclient_callbacks {
    /* Every state change: state is a short name ("describe", "connected", "backoff", ...). */
    void (*on_state)(void *ud, const char *state, const char *why);
    /* SDP_OFFER, SDP_ANSWER, ICE_CANDIDATE; m->peer_id is the viewer's id at a master, "" at a viewer. */
    void (*on_message)(void *ud, const camrtc_sigmsg *m);
    /* A STATUS_RESPONSE for a message we sent (m->correlation_id says which). May be NULL. */
    void (*on_status)(void *ud, const camrtc_sigmsg *m);
    /* ICE servers from GetIceServerConfig, first and after every refresh. May be NULL. */
    void (*on_ice_config)(void *ud, const camrtc_kvs_ice_config *c);
    /* The client has stopped after camrtc_sigclient_stop; it is freed after this returns. May be NULL. */
    void (*on_stopped)(void *ud);
} camrtc_sigclient_callbacks;

/* Where credentials come from when they are not static: the AWS IoT credentials provider. */
typedef struct camrtc_sigclient_iot {
    const char *endpoint;      /* credentials endpoint host, e.g. "c1234.credentials.iot.us-west-2.amazonaws.com" */
    const char *role_alias;
    const char *thing_name;
    const char *cert_file, *key_file, *ca_file;
} camrtc_sigclient_iot;

typedef struct camrtc_sigclient_config {
    bool viewer;                    /* else master */
    const char *client_id;          /* viewer id ([A-Za-z0-9_.-]{1,256}, not "AWS_..."); NULL = a random one */
    const char *channel_name;       /* the channel by name, or ... */
    const char *channel_arn;        /* ... by ARN */
    bool create_if_missing;         /* create the channel when Describe says it does not exist */
    int msg_ttl_s;                  /* for a created channel (0 = 60) */
    const char *region;             /* required */
    const char *endpoint;           /* control-plane endpoint override (e.g. "http://127.0.0.1:8443"); NULL = AWS */
    camrtc_aws_creds creds;         /* static credentials (copied); ignored when iot is set */
    const camrtc_sigclient_iot *iot;/* NULL = static credentials */
    const char *ca_file;            /* CA bundle for https/wss; NULL = the system bundle */
    const char *cache_dir;          /* endpoint cache directory; NULL = no cache */
    int64_t clock_offset_s;         /* pretend the local clock is off by this much (tests of skew correction) */
    /* Tunables (0 = the defaults of src/signaling/sigcore.h). */
    uint32_t ping_interval_ms, pong_timeout_ms, max_connection_s, http_timeout_ms;
} camrtc_sigclient_config;

typedef struct camrtc_sigclient_stats {
    uint64_t http_calls, http_errors, ws_connects, ws_failures, reconnects, messages_in, messages_out,
        dropped_too_large, dropped_malformed, status_responses, go_aways, ice_refreshes, dead_connections,
        clock_corrections;
} camrtc_sigclient_stats;

/* Start a client on loop (strings in cfg are copied; log is borrowed). NULL with a one-line reason in err on
 * an unusable configuration. */
camrtc_sigclient *camrtc_sigclient_start(uv_loop_t *loop, const camrtc_sigclient_config *cfg,
                                         const camrtc_sigclient_callbacks *cb, void *ud, camrtc_log *log,
                                         char *err, size_t errsz);

/* Send an SDP offer/answer or an ICE candidate (payload_json is the inner JSON). recipient: the viewer's id
 * (master, required) or NULL (viewer). The fresh correlation id goes to corr_out (may be NULL). Queued while
 * not connected. CAMRTC_ELIMIT when the queue is full, CAMRTC_EINVAL on bad input. */
int camrtc_sigclient_send(camrtc_sigclient *c, camrtc_sigmsg_type type, const char *recipient,
                          const char *payload_json, size_t len, char *corr_out, size_t corr_sz);

/* Current state name. */
const char *camrtc_sigclient_state(const camrtc_sigclient *c);

/* Counters. */
void camrtc_sigclient_get_stats(const camrtc_sigclient *c, camrtc_sigclient_stats *out);

/* The viewer id in use (viewers), or "" (master). */
const char *camrtc_sigclient_client_id(const camrtc_sigclient *c);

/* Close the WebSocket (close frame) and stop; on_stopped follows, then the client is freed. */
void camrtc_sigclient_stop(camrtc_sigclient *c);

#ifdef __cplusplus
}
#endif
#endif
