/* TURN client (RFC 8656), sans-I/O: one allocation on one TURN server.
 *
 * The client speaks to its server through io->send (the caller routes it: a UDP socket,
 * or a TCP/TLS stream to the server); everything the server sends is given back whole to
 * camrtc_turn_input (over a stream, cut it with camrtc_turn_frame_len first). It does the
 * long-term credential dance (401 → REALM/NONCE → retry with MESSAGE-INTEGRITY, 438 stale
 * nonce → retry with the new one), refreshes the allocation before it expires, installs and
 * refreshes permissions (CreatePermission, every 4 min) and channel bindings (ChannelBind,
 * every 9 min), and sends to peers as ChannelData once a channel is bound, as Send
 * indications before. camrtc_turn_close sends Refresh with LIFETIME 0 (deallocation).
 * Requests are retransmitted with RTO back-off over UDP (not over streams).
 */
#ifndef CAMRTC_TURN_H
#define CAMRTC_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/addr.h"
#include "camrtc/log.h"
#include "camrtc/rand.h"
#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_turn camrtc_turn;

#define CAMRTC_TURN_MAX_PEERS 64     /* peers (transport addresses) per client */
#define CAMRTC_TURN_MAX_DATA 8192    /* application bytes per camrtc_turn_send_to */

typedef enum camrtc_turn_state {
    CAMRTC_TURN_NEW = 0,
    CAMRTC_TURN_ALLOCATING,
    CAMRTC_TURN_ALLOCATED,
    CAMRTC_TURN_FAILED,
    CAMRTC_TURN_CLOSING,   /* deallocation sent */
    CAMRTC_TURN_CLOSED,
} camrtc_turn_state;

typedef struct camrtc_turn_config {
    camrtc_addr server;          /* the server's transport address */
    bool stream;                 /* true over TCP/TLS: no retransmissions, ChannelData padded */
    const char *username;
    const char *password;
    uint32_t lifetime_s;         /* 0 = 600: requested allocation lifetime */
    camrtc_time_us rto;          /* 0 = 250 ms: first retransmission over UDP */
    unsigned max_retrans;        /* 0 = 6 */
    const char *software;        /* SOFTWARE attribute, NULL = none */
    camrtc_time_us keepalive;    /* 0 = 15 s; CAMRTC_TIME_NEVER = off. Over UDP, once allocated,
                                  * a Binding indication goes to the server after this long
                                  * without sending it anything, so a NAT on the way keeps the
                                  * mapping (else the server sees a new 5-tuple: 437) */
} camrtc_turn_config;

typedef enum camrtc_turn_event_type {
    CAMRTC_TURN_EV_ALLOCATED,    /* relayed and mapped are set */
    CAMRTC_TURN_EV_FAILED,       /* err (and code when the server answered an error):
                                  * 401 → EAUTH, 300 Try-Alternate → EUNSUPPORTED (no
                                  * redirection), 486/508 → ELIMIT, no answer → ETIMEDOUT */
    CAMRTC_TURN_EV_DATA,         /* peer, data, len: from a Data indication or ChannelData */
    CAMRTC_TURN_EV_PERMISSION,   /* peer: a permission is installed (ok) or refused (err) */
    CAMRTC_TURN_EV_CLOSED,       /* deallocation done (or gave up) */
} camrtc_turn_event_type;

typedef struct camrtc_turn_event {
    camrtc_turn_event_type type;
    int err;                     /* CAMRTC_OK or a camrtc error */
    int code;                    /* STUN error code when the server sent one, else 0 */
    camrtc_addr relayed;         /* ALLOCATED */
    camrtc_addr mapped;          /* ALLOCATED: our address as the server saw it */
    camrtc_addr peer;            /* DATA, PERMISSION */
    const uint8_t *data;         /* DATA (valid during the callback only) */
    size_t len;
} camrtc_turn_event;

typedef struct camrtc_turn_io {
    /* Send len bytes to the server. */
    void (*send)(void *user, const uint8_t *data, size_t len);
    /* Report an event. The callback may call camrtc_turn_send_to but not free t. */
    void (*event)(void *user, const camrtc_turn_event *ev);
} camrtc_turn_io;

typedef struct camrtc_turn_stats {
    uint64_t requests_sent, retransmits, auth_retries, stale_nonces;
    uint64_t sent_channel_data, sent_indications, recv_channel_data, recv_indications;
    uint64_t dropped;            /* server input that was malformed, unauthenticated or unexpected */
    uint64_t refreshes, permissions, channel_binds;  /* successful ones */
    uint64_t keepalives;         /* Binding indications sent to keep a NAT mapping */
} camrtc_turn_stats;

/* Create a client. cfg strings are copied. rng, log must outlive the client. NULL on
 * allocation failure or a bad config (no username/password/send, username over 512
 * bytes, software over 127). */
camrtc_turn *camrtc_turn_new(const camrtc_turn_config *cfg, const camrtc_turn_io *io, void *user,
                             camrtc_rng *rng, const camrtc_log *log);

/* Release the client at once (no deallocation: call camrtc_turn_close first for that). */
void camrtc_turn_free(camrtc_turn *t);

/* Send the first Allocate. */
int camrtc_turn_start(camrtc_turn *t, camrtc_time_us now);

/* One whole message from the server: a STUN message or ChannelData. Malformed or
 * unexpected input is dropped and counted (returns CAMRTC_EPROTO / CAMRTC_EAUTH for the
 * caller's logs; the client stays usable). */
int camrtc_turn_input(camrtc_turn *t, camrtc_time_us now, const uint8_t *data, size_t len);

/* Ask for a permission for peer's IP (and a channel binding when bind_channel). Safe to
 * call again; existing ones are kept and refreshed. Before ALLOCATED the peer is
 * remembered and asked for once the allocation exists. Peers are kept per transport
 * address (at most CAMRTC_TURN_MAX_PEERS, then CAMRTC_ELIMIT); two ports of one IP
 * each refresh their own permission. A PERMISSION event comes when a permission is
 * first installed, and whenever a request for it fails (refreshes that succeed are
 * silent). A refused ChannelBind is not reported: data keeps going as Send indications. */
int camrtc_turn_permit(camrtc_turn *t, camrtc_time_us now, const camrtc_addr *peer, bool bind_channel);

/* Send data to peer through the relay (ChannelData when bound, else a Send indication).
 * Installs a permission on first use. CAMRTC_ESTATE before ALLOCATED, CAMRTC_ETOOBIG
 * over CAMRTC_TURN_MAX_DATA bytes. */
int camrtc_turn_send_to(camrtc_turn *t, camrtc_time_us now, const camrtc_addr *peer,
                        const uint8_t *data, size_t len);

/* True when data, arriving from the server's address, is for this client: ChannelData,
 * a Data indication, or a STUN response to one of its pending requests. When one server
 * address is also the STUN server (coturn answers Binding there), a Binding response
 * that is not the client's goes to srflx gathering instead. Reads only the header. */
bool camrtc_turn_is_mine(const camrtc_turn *t, const uint8_t *data, size_t len);

/* Timers: retransmissions, refreshes, NAT keepalives. */
int camrtc_turn_handle_timeout(camrtc_turn *t, camrtc_time_us now);
camrtc_time_us camrtc_turn_next_timeout(const camrtc_turn *t);

/* Deallocate (Refresh LIFETIME 0); CLOSED event when answered or given up (err
 * CAMRTC_ETIMEDOUT). In any state but ALLOCATED there is nothing to deallocate: the
 * client goes to CLOSED at once with a CLOSED event. Calling it again does nothing. */
int camrtc_turn_close(camrtc_turn *t, camrtc_time_us now);

camrtc_turn_state camrtc_turn_get_state(const camrtc_turn *t);
const camrtc_turn_stats *camrtc_turn_get_stats(const camrtc_turn *t);

/* Stream framing for TURN over TCP/TLS: given the bytes buffered so far, the length of
 * the first whole frame (a STUN message: first byte 0..3; or ChannelData: first byte
 * 0x40..0x7F, padded to 4 bytes), 0 when more bytes are needed, CAMRTC_EPROTO when the
 * stream cannot be a TURN stream (another first byte, a wrong magic cookie, a STUN
 * length that is not a multiple of 4). */
int camrtc_turn_frame_len(const uint8_t *data, size_t avail);

/* True when data starts like ChannelData (first byte 0x40..0x7F, RFC 7983). */
bool camrtc_turn_is_channel_data(const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
