/* ICE agent (RFC 8445, trickle RFC 8838, consent freshness RFC 7675), sans-I/O.
 *
 * One agent = one ICE session with one component (BUNDLE + rtcp-mux, as WebRTC uses).
 * It never touches a socket or a clock. The glue (src/net/iceuv.c on libuv, or the
 * simulated network in tests/sim) binds UDP sockets on the interfaces it is allowed to
 * (camrtc_ice_interface_allowed), registers each with camrtc_ice_add_host, resolves the
 * STUN/TURN server names and registers them with camrtc_ice_add_server, then feeds every
 * datagram to camrtc_ice_udp_input, every TURN stream's bytes to camrtc_ice_stream_input,
 * and calls camrtc_ice_handle_timeout at camrtc_ice_next_timeout. The agent asks the glue
 * to send datagrams, to open/close TCP or TLS streams to TURN servers, and reports events
 * (local candidates to trickle, state, selected pair, application data).
 *
 * Checks: the checklist is paced at Ta; a pair check is retransmitted with RTO back-off;
 * a check received on a pair triggers a check of our own at once; the controlling agent
 * nominates (regular nomination, USE-CANDIDATE) as soon as a valid pair cannot be beaten
 * by a pair still in progress, with no fixed wait. Consent (RFC 7675) is checked on the
 * selected pair; no answer for consent_disconnect → DISCONNECTED, for consent_timeout →
 * FAILED (and sending stops). ICE restart: camrtc_ice_restart gives new local credentials;
 * the selected pair keeps carrying data until a pair of the new generation is selected.
 */
#ifndef CAMRTC_ICE_H
#define CAMRTC_ICE_H

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

/* ---- candidates ------------------------------------------------------------------ */

typedef enum camrtc_ice_cand_type {
    CAMRTC_ICE_HOST = 0,
    CAMRTC_ICE_SRFLX,
    CAMRTC_ICE_PRFLX,
    CAMRTC_ICE_RELAY,
} camrtc_ice_cand_type;

/* Transport of a connection to a STUN/TURN server (candidates themselves are UDP). */
typedef enum camrtc_ice_transport {
    CAMRTC_ICE_UDP = 0,
    CAMRTC_ICE_TCP,
    CAMRTC_ICE_TLS,
} camrtc_ice_transport;

#define CAMRTC_ICE_FOUNDATION_MAX 32
/* Longest SDP candidate line camrtc_ice_candidate_format writes, with its NUL. */
#define CAMRTC_ICE_CANDIDATE_STRLEN 256

typedef struct camrtc_ice_candidate {
    char foundation[CAMRTC_ICE_FOUNDATION_MAX + 1];
    uint16_t component;      /* 1 */
    uint32_t priority;
    camrtc_addr addr;
    camrtc_ice_cand_type type;
    camrtc_addr related;     /* raddr/rport for srflx, prflx, relay (unset for host) */
    bool tcp;                /* a TCP candidate (parsed and ignored by this agent) */
} camrtc_ice_candidate;

/* Parse an SDP candidate attribute: "candidate:..." with or without a leading "a=",
 * as Chromium, Firefox, aiortc and the KVS SDKs write it (extension attributes such as
 * generation, ufrag, network-id, network-cost are skipped). CAMRTC_EPROTO when malformed,
 * CAMRTC_EUNSUPPORTED for a name instead of an address (mDNS ".local"). */
int camrtc_ice_candidate_parse(camrtc_ice_candidate *c, const char *line);

/* Write "candidate:<foundation> 1 udp <prio> <ip> <port> typ <type> [raddr <ip> rport <port>]"
 * (no "a=", no CRLF). Returns the length or CAMRTC_ETOOBIG. */
int camrtc_ice_candidate_format(const camrtc_ice_candidate *c, char *out, size_t outsz);

/* Priority (RFC 8445 §5.1.2.1): type preference (host 126, prflx 110, srflx 100,
 * relay 0 + a transport preference for UDP/TCP/TLS relays), local preference, component. */
uint32_t camrtc_ice_priority(camrtc_ice_cand_type type, uint16_t local_pref, uint16_t component);

/* ---- STUN/TURN server URLs --------------------------------------------------------- */

typedef struct camrtc_ice_url {
    bool turn;                   /* turn:/turns: (else stun:/stuns:) */
    camrtc_ice_transport transport;
    char host[256];              /* name or numeric address, without brackets */
    uint16_t port;
} camrtc_ice_url;

/* Parse "stun:host[:port]", "turn:host[:port][?transport=udp|tcp]",
 * "turns:host[:port][?transport=tcp]" (RFC 7064/7065; IPv6 in brackets). Default ports
 * 3478 and 5349; turn: defaults to UDP, turns: to TLS. CAMRTC_EPROTO when malformed,
 * CAMRTC_EUNSUPPORTED for stuns: and turns:?transport=udp (DTLS). */
int camrtc_ice_url_parse(camrtc_ice_url *u, const char *url);

/* ---- the agent ----------------------------------------------------------------------- */

typedef struct camrtc_ice_agent camrtc_ice_agent;

typedef enum camrtc_ice_state {   /* RTCIceConnectionState */
    CAMRTC_ICE_NEW = 0,
    CAMRTC_ICE_CHECKING,
    CAMRTC_ICE_CONNECTED,          /* a pair is selected; data may flow */
    CAMRTC_ICE_COMPLETED,          /* checks done, remote end-of-candidates known */
    CAMRTC_ICE_DISCONNECTED,       /* consent lost for a while; may come back */
    CAMRTC_ICE_FAILED,
    CAMRTC_ICE_CLOSED,
} camrtc_ice_state;

typedef enum camrtc_ice_policy {
    CAMRTC_ICE_POLICY_ALL = 0,
    CAMRTC_ICE_POLICY_RELAY,       /* only relay candidates are gathered and paired */
} camrtc_ice_policy;

typedef struct camrtc_ice_config {
    bool controlling;
    camrtc_ice_policy policy;
    bool include_loopback;         /* gather host candidates on loopback too (tests) */
    const char *interfaces;        /* comma-separated interface names to use; NULL = all */
    const char *ufrag, *pwd;       /* fixed local credentials (tests); NULL = random */
    uint64_t tiebreaker;           /* 0 = random */
    camrtc_time_us ta;             /* 0 = 50 ms: pacing of ordinary checks */
    camrtc_time_us rto;            /* 0 = 100 ms: first check retransmission (doubles, capped 1.6 s) */
    unsigned max_retrans;          /* 0 = 7 retransmissions per check */
    camrtc_time_us consent_interval;   /* 0 = 5 s (each randomized 0.8..1.2) */
    camrtc_time_us consent_disconnect; /* 0 = 5 s without an answer → DISCONNECTED */
    camrtc_time_us consent_timeout;    /* 0 = 30 s without an answer → FAILED */
    camrtc_time_us gather_timeout;     /* 0 = 5 s: give up on a server that does not answer */
    unsigned max_remote_candidates;    /* 0 = 64; more are dropped and counted */
    unsigned max_pairs;                /* 0 = 128 */
    uint32_t turn_lifetime_s;          /* 0 = 600 */
    const char *software;              /* SOFTWARE in our requests; NULL = none */
} camrtc_ice_config;

/* A STUN or TURN server with its address already resolved. */
typedef struct camrtc_ice_server {
    bool turn;
    camrtc_ice_transport transport;
    camrtc_addr addr;
    const char *username;          /* TURN long-term credentials (copied) */
    const char *password;
} camrtc_ice_server;

typedef enum camrtc_ice_event_type {
    CAMRTC_ICE_EV_CANDIDATE,       /* a local candidate to signal: cand, line */
    CAMRTC_ICE_EV_GATHERING_DONE,  /* end-of-candidates for this generation */
    CAMRTC_ICE_EV_STATE,           /* state changed: state */
    CAMRTC_ICE_EV_SELECTED,        /* selected pair changed: local, remote */
    CAMRTC_ICE_EV_DATA,            /* application data on a valid pair: data, len */
    CAMRTC_ICE_EV_ROLE,            /* role changed after a conflict: controlling */
    CAMRTC_ICE_EV_SERVER_ERROR,    /* a STUN/TURN server failed: server, err, code */
} camrtc_ice_event_type;

typedef struct camrtc_ice_event {
    camrtc_ice_event_type type;
    const camrtc_ice_candidate *cand;  /* CANDIDATE */
    const char *line;                  /* CANDIDATE: its SDP line */
    camrtc_ice_state state;            /* STATE */
    const camrtc_ice_candidate *local, *remote; /* SELECTED */
    const uint8_t *data;               /* DATA (valid during the callback only) */
    size_t len;
    bool controlling;                  /* ROLE */
    const camrtc_ice_server *server;   /* SERVER_ERROR */
    int err, code;                     /* SERVER_ERROR */
} camrtc_ice_event;

typedef struct camrtc_ice_io {
    /* Send a datagram from the UDP socket registered as sock. */
    void (*send_udp)(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len);
    /* Open a TCP (tls = false) or TLS stream to a TURN server; report with
     * camrtc_ice_stream_connected / _input / _closed using the same stream id. */
    void (*open_stream)(void *user, int stream, const camrtc_addr *to, bool tls);
    /* Write to an open stream. */
    void (*send_stream)(void *user, int stream, const uint8_t *data, size_t len);
    /* Close a stream (no camrtc_ice_stream_closed call follows). */
    void (*close_stream)(void *user, int stream);
    /* Report an event. The callback may call camrtc_ice_send and the getters, not free. */
    void (*event)(void *user, const camrtc_ice_event *ev);
    /* Optional: bind one more UDP socket on local's IP (the port the kernel picks) and return
     * its id (>= 0 and unlike any other socket's; its datagrams go to camrtc_ice_udp_input
     * with that id), or a negative error. Not a host candidate: the agent asks for one only to move a UDP TURN allocation
     * off a 5-tuple the server still holds for another allocation (437 after clearing,
     * RFC 8656 §7.4), at most CAMRTC_ICE_TURN_MOVES times per server. It stays open until
     * the glue ends. NULL: such an allocation fails (a SERVER_ERROR with code 437). */
    int (*open_udp)(void *user, const camrtc_addr *local);
} camrtc_ice_io;

/* How many times one UDP TURN allocation may move to a fresh socket (open_udp). */
#define CAMRTC_ICE_TURN_MOVES 2

typedef struct camrtc_ice_stats {
    uint64_t checks_sent, checks_retransmitted, checks_received, checks_succeeded, checks_failed;
    uint64_t triggered_checks, nominations, role_conflicts, prflx_candidates;
    uint64_t bad_integrity, bad_fingerprint, unknown_ufrag, malformed; /* dropped STUN */
    uint64_t dropped_unknown_source;   /* non-STUN data from an address with no valid pair */
    uint64_t dropped_remote_candidates, dropped_pairs;
    uint64_t consent_sent, consent_lost;
    uint64_t turn_moves;               /* UDP TURN allocations moved to a fresh socket (open_udp) */
    uint64_t data_sent, data_received, bytes_sent, bytes_received;
    camrtc_time_us selected_rtt;       /* last RTT measured on the selected pair */
} camrtc_ice_stats;

/* True when a host candidate may be gathered on interface ifname with address addr under
 * cfg (loopback only with include_loopback; link-local IPv6 never; interface filter). */
bool camrtc_ice_interface_allowed(const camrtc_ice_config *cfg, const char *ifname, const camrtc_addr *addr);

/* Create an agent. cfg strings are copied; rng and log must outlive it. NULL on
 * allocation failure. */
camrtc_ice_agent *camrtc_ice_new(const camrtc_ice_config *cfg, const camrtc_ice_io *io, void *user,
                                 camrtc_rng *rng, const camrtc_log *log);

/* Free at once: no more io calls (call camrtc_ice_close first to deallocate TURN). */
void camrtc_ice_free(camrtc_ice_agent *a);

/* Local credentials of the current generation (valid until the next restart). */
const char *camrtc_ice_local_ufrag(const camrtc_ice_agent *a);
const char *camrtc_ice_local_pwd(const camrtc_ice_agent *a);

/* Register a bound UDP socket (sock is the glue's id for it) with its local address. */
int camrtc_ice_add_host(camrtc_ice_agent *a, camrtc_time_us now, int sock, const camrtc_addr *local);

/* Register a STUN or TURN server (before or after camrtc_ice_gather). */
int camrtc_ice_add_server(camrtc_ice_agent *a, camrtc_time_us now, const camrtc_ice_server *srv);

/* Start gathering: host candidates at once, then server-reflexive and relay ones. */
int camrtc_ice_gather(camrtc_ice_agent *a, camrtc_time_us now);

/* The remote side's credentials. New credentials after a selection mean the remote side
 * restarted: a new generation begins (and our own credentials change if they have not yet). */
int camrtc_ice_set_remote_credentials(camrtc_ice_agent *a, camrtc_time_us now, const char *ufrag, const char *pwd);

/* A remote candidate (trickled or from the SDP). */
int camrtc_ice_add_remote_candidate(camrtc_ice_agent *a, camrtc_time_us now, const camrtc_ice_candidate *c);

/* The remote side has no more candidates for the current generation. */
int camrtc_ice_remote_end_of_candidates(camrtc_ice_agent *a, camrtc_time_us now);

/* A datagram arrived on UDP socket sock. */
int camrtc_ice_udp_input(camrtc_ice_agent *a, camrtc_time_us now, int sock, const camrtc_addr *from,
                         const uint8_t *data, size_t len);

/* A stream the agent asked for is open / has bytes / has closed (err = why). */
int camrtc_ice_stream_connected(camrtc_ice_agent *a, camrtc_time_us now, int stream);
int camrtc_ice_stream_input(camrtc_ice_agent *a, camrtc_time_us now, int stream, const uint8_t *data, size_t len);
int camrtc_ice_stream_closed(camrtc_ice_agent *a, camrtc_time_us now, int stream, int err);

/* Timers. */
int camrtc_ice_handle_timeout(camrtc_ice_agent *a, camrtc_time_us now);
camrtc_time_us camrtc_ice_next_timeout(const camrtc_ice_agent *a);

/* Send application data (DTLS, SRTP) on the selected pair. CAMRTC_ESTATE with none. */
int camrtc_ice_send(camrtc_ice_agent *a, camrtc_time_us now, const uint8_t *data, size_t len);

/* ICE restart: new local ufrag/pwd, a new gathering and checklist; the old selected pair
 * keeps working until one of the new generation is selected. */
int camrtc_ice_restart(camrtc_ice_agent *a, camrtc_time_us now);

/* Close: deallocate TURN allocations, close streams, stop checks; state CLOSED. */
int camrtc_ice_close(camrtc_ice_agent *a, camrtc_time_us now);

camrtc_ice_state camrtc_ice_get_state(const camrtc_ice_agent *a);
const char *camrtc_ice_state_name(camrtc_ice_state s);
bool camrtc_ice_is_controlling(const camrtc_ice_agent *a);

/* The selected pair; CAMRTC_ENOTFOUND when none. */
int camrtc_ice_get_selected(const camrtc_ice_agent *a, camrtc_ice_candidate *local, camrtc_ice_candidate *remote);

const camrtc_ice_stats *camrtc_ice_get_stats(const camrtc_ice_agent *a);

#ifdef __cplusplus
}
#endif
#endif
