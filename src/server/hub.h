/* The data plane of the local KVS-compatible signaling service, sans-I/O.
 *
 * The uv glue owns sockets and WebSocket sessions and calls in here; the hub
 * owns channel presence (one master, up to max_viewers viewers per channel),
 * message routing (viewer -> master, master -> the named viewer), messages held
 * for a recipient not yet connected (MessageTtlSeconds), rate limits, and the
 * idle / maximum-duration / GO_AWAY timers. It tells the glue what to send or
 * close through sig_hub_io. Behaviour follows /work/shared/KVS-PROTOCOL.md,
 * "Data plane (WebSocket)" and "Quotas and behaviour"; message JSON is
 * camrtc_sigmsg's.
 *
 * Re-entrancy: the glue must not call back into the hub from inside send or
 * close (queue the work instead). The hub's state is consistent before each io
 * call, and a connection the hub asks to close is already forgotten when close
 * is called: frames that still arrive for it, and the glue's later
 * sig_hub_disconnect, are ignored.
 *
 * Cost: hash tables by connection id and by channel ARN, fixed per-channel
 * viewer arrays, one min-heap of deadlines (one entry per connection and per
 * channel). A message costs two hash lookups, at most max_viewers id compares
 * and its parse and serialization (holding one also scans the channel's held
 * queue, at most max_held_messages); activity costs O(1) (timer keys are
 * refreshed lazily, when they come due). A connection record is about 120
 * bytes plus its client id.
 */
#ifndef CAMRTC_SERVER_HUB_H
#define CAMRTC_SERVER_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "camrtc/log.h"
#include "camrtc/sigmsg.h"
#include "camrtc/time.h"

typedef struct sig_hub sig_hub;

typedef struct sig_hub_config {
    int max_viewers;              /* 10 per channel */
    int connects_per_s;           /* 3 per channel (burst 3); 0 = unlimited */
    int sdp_per_s;                /* 5 offers+answers per connection per second (burst 5); 0 = unlimited */
    int candidates_per_s;         /* 20 ICE candidates per connection per second (burst 20); 0 = unlimited */
    camrtc_time_us idle_timeout;  /* 10 min without any frame from the client -> close; 0 = never */
    camrtc_time_us max_duration;  /* 1 h per connection; 0 = unlimited */
    camrtc_time_us go_away_lead;  /* GO_AWAY is sent this long before max_duration (clamped to <= 60 s) */
    int max_held_messages;        /* 100 messages held per channel */
    size_t max_held_bytes;        /* 1 MiB of held message text per channel */
    int max_connections;          /* 100000 in the whole hub; 0 = unlimited */
} sig_hub_config;

/* Fill c with the KVS defaults listed beside each field. */
void sig_hub_config_default(sig_hub_config *c);

typedef struct sig_hub_io {
    /* Send one text frame to connection conn_id. text is borrowed for the call. */
    void (*send)(void *ud, uint64_t conn_id, const char *text, size_t len);
    /* Close connection conn_id with a WebSocket close code and reason (static
     * string). The hub has already forgotten conn_id. */
    void (*close)(void *ud, uint64_t conn_id, uint16_t code, const char *reason);
} sig_hub_io;

/* Close codes the hub uses (RFC 6455 section 7.4.1). */
#define SIG_HUB_CLOSE_REPLACED 1000   /* a newer connection took this master/client id */
#define SIG_HUB_CLOSE_GOING_AWAY 1001 /* idle, maximum duration, GO_AWAY, channel deleted */

typedef struct sig_hub_stats {
    uint64_t connects, refused_viewer_limit, refused_rate, masters_replaced, messages_in, messages_routed,
        messages_held, messages_expired, dropped_malformed, dropped_too_large, dropped_rate, dropped_no_recipient,
        status_responses, idle_closed, duration_closed, go_away_sent;
    uint64_t viewers_replaced;  /* a viewer reconnected with a client id already connected */
    uint64_t dropped_held_full; /* recipient absent and the channel's held queue at its bound */
    uint64_t refused_connections; /* max_connections reached */
    uint64_t dropped_closed_conn; /* frames from a connection already replaced or closed */
} sig_hub_stats;

/* Create a hub. cfg and io are copied; ud is passed to io; log may be NULL and
 * must outlive the hub. Returns NULL on allocation failure or when cfg or io
 * (send and close) is missing or cfg has a negative limit. */
sig_hub *sig_hub_new(const sig_hub_config *cfg, const sig_hub_io *io, void *ud, camrtc_log *log);

/* Free the hub and everything it holds. No io calls are made. h may be NULL. */
void sig_hub_free(sig_hub *h);

/* A WebSocket connect for channel_arn (already authenticated and known to exist
 * by the caller). client_id NULL = master, otherwise a viewer id matching
 * [A-Za-z0-9_.-]{1,256} and not starting with "AWS_". msg_ttl_s is the
 * channel's MessageTtlSeconds (5..120). Returns CAMRTC_OK with *conn_id (> 0);
 * CAMRTC_ELIMIT (viewer limit, connect rate or max_connections) with *why set to
 * a static message for the HTTP refusal; CAMRTC_EINVAL (bad arguments, *why
 * set too); CAMRTC_ENOMEM. A new master replaces the old one and a viewer
 * reconnecting with a connected client id replaces that connection (the old
 * one is closed with SIG_HUB_CLOSE_REPLACED). Messages held for the new
 * connection are sent before this returns. */
int sig_hub_connect(sig_hub *h, const char *channel_arn, int msg_ttl_s, const char *client_id, camrtc_time_us now,
                    uint64_t *conn_id, const char **why);

/* A text message of len bytes arrived on conn_id (also counts as activity).
 * It is parsed (camrtc_sigmsg_parse_from_client), rate-limited and routed:
 * viewer -> the channel's master (RecipientClientId ignored) with
 * senderClientId = the viewer's id; master -> the viewer named by
 * RecipientClientId (refused when missing). A recipient not connected gets the
 * message when it connects, if within the channel's TTL and the held-queue
 * bounds. Refused messages are dropped and counted; when the message had a
 * CorrelationId the sender also gets a STATUS_RESPONSE (statusCode "400",
 * errorType InvalidArgumentException or ClientLimitExceededException). Unknown
 * conn_id: ignored. */
void sig_hub_message(sig_hub *h, uint64_t conn_id, const char *text, size_t len, camrtc_time_us now);

/* Any frame (including ping) from the client: refreshes its idle timer. O(1). */
void sig_hub_activity(sig_hub *h, uint64_t conn_id, camrtc_time_us now);

/* The transport of conn_id is gone (a peer disconnect, or after a close the hub
 * asked for). Unknown ids are ignored. Makes no io calls. */
void sig_hub_disconnect(sig_hub *h, uint64_t conn_id);

/* Run the timers due at now: idle timeouts, GO_AWAY before max_duration then
 * the close at max_duration (or go_away_lead after an announced GO_AWAY), and
 * expiry of held messages. */
void sig_hub_handle_timeout(sig_hub *h, camrtc_time_us now);

/* When sig_hub_handle_timeout should next be called; CAMRTC_TIME_NEVER when
 * nothing is pending. May be earlier than needed (after activity the deadline
 * is refreshed only when it comes), never later. */
camrtc_time_us sig_hub_next_timeout(const sig_hub *h);

/* Admin: send GO_AWAY or RECONNECT_ICE_SERVER to every client of the channel.
 * GO_AWAY also schedules each one's close at most go_away_lead later. Returns
 * the number of clients told, CAMRTC_ENOTFOUND when the hub has no such channel,
 * CAMRTC_EINVAL for another type. */
int sig_hub_announce(sig_hub *h, const char *channel_arn, camrtc_sigmsg_type type, camrtc_time_us now);

/* The channel was deleted: close all its connections (SIG_HUB_CLOSE_GOING_AWAY)
 * and drop its held messages. Unknown channels are ignored. */
void sig_hub_channel_deleted(sig_hub *h, const char *channel_arn);

/* Counters since sig_hub_new. */
const sig_hub_stats *sig_hub_get_stats(const sig_hub *h);

/* Connections currently known to the hub. */
size_t sig_hub_connection_count(const sig_hub *h);

/* Bytes of hub memory per connection (its record, excluding the client id
 * string and the shared tables), for capacity planning. */
size_t sig_hub_connection_size(void);

#endif
