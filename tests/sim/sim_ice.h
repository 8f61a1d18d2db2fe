/* A camrtc ICE agent on a simulated host, and a signaling channel between two of them.
 *
 * sim_ice binds one sim socket per address of its host, registers each with
 * camrtc_ice_add_host (and binds more when the agent asks, io.open_udp), feeds the agent every datagram, and keeps one sim timer at
 * camrtc_ice_next_timeout. What the agent reports is recorded with virtual timestamps
 * (state changes, selected pairs, roles, data) and mixed into the sim's trace hash, so
 * two runs with one seed can be compared.
 *
 * Signaling stands in for SDP offer/answer + trickle: the "description" (ufrag/pwd),
 * each local candidate and end-of-candidates travel to the linked peer with configurable
 * one-way delays, so candidates may arrive before the credentials, or late. When a peer
 * learns new remote credentials and that changes its own (a remote ICE restart), it sends
 * its new description back, as an answer would.
 * Only UDP is simulated: TCP/TLS TURN streams are refused (tested against coturn).
 */
#ifndef CAMRTC_SIM_ICE_H
#define CAMRTC_SIM_ICE_H

#include "camrtc/ice.h"
#include "camrtc/log.h"
#include "camrtc/rand.h"
#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_ICE_MAX_SOCKS (SIM_MAX_ADDRS + 4)   /* one per address, then the agent's open_udp */
#define SIM_ICE_MAX_RECORDS 512
#define SIM_ICE_MAX_SIGNALS 256    /* signaling messages queued at one peer */

typedef struct sim_ice_opts {
    camrtc_ice_config ice;            /* the agent's config */
    camrtc_time_us signal_delay;      /* one-way delay of candidates and end-of-candidates */
    camrtc_time_us description_delay; /* one-way delay of the credentials */
    bool manual_description;          /* sim_ice_start does not send the credentials */
    bool hold_candidates;             /* keep candidates until sim_ice_release_candidates */
    bool no_end_of_candidates;        /* never signal end-of-candidates */
    uint16_t port;                    /* bind the host sockets on this port (0 = ephemeral) */
    bool no_open_udp;                 /* the glue offers no io.open_udp */
} sim_ice_opts;

/* One recorded agent event. */
typedef struct sim_ice_record {
    camrtc_time_us at;
    camrtc_ice_event_type type;
    int value;                        /* STATE: state; CANDIDATE: type; ROLE: controlling;
                                         SELECTED: local type * 4 + remote type; DATA: len */
} sim_ice_record;

typedef struct sim_ice_msg sim_ice_msg;

typedef struct sim_ice_peer {
    /* Read by tests. */
    char name[16];
    camrtc_ice_state state;
    camrtc_time_us state_first[CAMRTC_ICE_CLOSED + 1]; /* first time each state was reached; 0 = never */
    camrtc_time_us state_last[CAMRTC_ICE_CLOSED + 1];  /* last time */
    camrtc_time_us started_at;
    unsigned selected_changes;
    camrtc_ice_candidate sel_local, sel_remote;      /* the last selected pair */
    unsigned cands_signalled[CAMRTC_ICE_RELAY + 1];  /* local candidates by type */
    unsigned gathering_done, role_changes, server_errors;
    uint64_t data_rx, data_rx_bytes;
    uint8_t last_data[64];
    size_t last_data_len;
    uint64_t signals_dropped;                        /* queue full */
    uint64_t bad_candidates;                         /* a signalled line did not parse */
    uint64_t stream_requests;                        /* TCP/TLS TURN asked for and refused */
    unsigned turn_socks;                             /* sockets opened for the agent (io.open_udp) */
    sim_ice_record records[SIM_ICE_MAX_RECORDS];
    size_t n_records;
    uint64_t records_dropped;

    /* Internals. */
    sim *s;
    sim_host *h;
    sim_ice_opts o;
    camrtc_rng rng;
    camrtc_log log;
    camrtc_ice_agent *agent;
    sim_sock *socks[SIM_ICE_MAX_SOCKS];
    int n_socks;
    uint64_t timer;
    camrtc_time_us timer_at;
    struct sim_ice_peer *other;
    sim_ice_msg *inbox;               /* signaling to us, sorted by delivery time */
    size_t n_inbox;
    uint64_t sig_timer;
    camrtc_time_us sig_timer_at;
    uint64_t sig_seq;
    sim_ice_msg *held;                /* held candidates (hold_candidates), in order */
    char sent_ufrag[257];             /* our ufrag in the last description we sent */
} sim_ice_peer;

/* An agent named name on host h (one socket per address of h). Its camrtc_rng is seeded
 * from the sim's PRNG. NULL on error. */
sim_ice_peer *sim_ice_new(sim *s, sim_host *h, const char *name, const sim_ice_opts *o);

/* Free the agent (no TURN deallocation; call camrtc_ice_close first for that), its sockets,
 * timers and queued signaling. */
void sim_ice_free(sim_ice_peer *p);

/* Register a STUN/TURN server (camrtc_ice_add_server). */
int sim_ice_add_server(sim_ice_peer *p, const camrtc_ice_server *srv);

/* Let a and b signal to each other. */
void sim_ice_link(sim_ice_peer *a, sim_ice_peer *b);

/* Start gathering and (unless manual_description) send the credentials. */
int sim_ice_start(sim_ice_peer *p);

/* Send our current credentials to the other peer (it calls set_remote_credentials). */
int sim_ice_send_description(sim_ice_peer *p);

/* Send the held candidates (and end-of-candidates if it came) now. */
void sim_ice_release_candidates(sim_ice_peer *p);

/* camrtc_ice_send now. */
int sim_ice_send(sim_ice_peer *p, const void *data, size_t len);

/* camrtc_ice_restart now, then send the new credentials. */
int sim_ice_restart(sim_ice_peer *p);

/* camrtc_ice_close now. */
int sim_ice_close(sim_ice_peer *p);

/* True when p has reached state (at some time). */
bool sim_ice_reached(const sim_ice_peer *p, camrtc_ice_state state);

/* A predicate for sim_run_while over two peers (sim_ice_peer *[2]): true until both are
 * CONNECTED or COMPLETED. */
bool sim_ice_connecting(void *pair_of_peers);

#ifdef __cplusplus
}
#endif
#endif
