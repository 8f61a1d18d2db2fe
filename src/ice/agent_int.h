/* Internals of the ICE agent, shared by agent.c (lifecycle, input demultiplexing, data),
 * agent_checks.c (pairs, connectivity checks, nomination), agent_gather.c (host, srflx and
 * relay candidates, TURN clients and their streams) and agent_consent.c (selection,
 * consent freshness, state decisions).
 *
 * Indices instead of pointers: pairs name their local and remote candidates by index in
 * a->locals / a->remotes. Local candidates are never removed (a restart re-announces them),
 * so a local index stays valid for the agent's life; remote candidates and pairs are cleared
 * together when a new generation starts.
 */
#ifndef CAMRTC_ICE_AGENT_INT_H
#define CAMRTC_ICE_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "camrtc/ice.h"
#include "camrtc/stun.h"
#include "camrtc/turn.h"

#define ICE_MOD "ice"

#define ICE_MAX_HOSTS 8        /* registered UDP sockets */
#define ICE_MAX_LOCALS 32      /* host + srflx + relay + local prflx */
#define ICE_MAX_SERVERS 8      /* STUN and TURN servers */
#define ICE_MAX_SRFLX_TX (ICE_MAX_SERVERS * ICE_MAX_HOSTS)
#define ICE_CRED_MAX 256       /* RFC 8839 §5.4: ice-ufrag/ice-pwd are at most 256 chars */
#define ICE_STUN_BUF 1280      /* a check with 256-char ufrags and SOFTWARE fits */
#define ICE_SOFTWARE_MAX 127   /* RFC 8489 §14.14: fewer than 128 characters */
#define ICE_STREAM_BUF (65536 + 24) /* one whole TURN frame: STUN 20 + 65532, ChannelData 4 + 65535 + pad */
#define ICE_RTO_MAX CAMRTC_MS(1600)
#define ICE_NOMINATE_WAIT_MAX CAMRTC_MS(100)
#define ICE_CONSENT_IDS 4
#define ICE_OLD_TX 4           /* cancelled checks per pair whose answers still count */

typedef struct ice_host {
    int sock;                  /* the glue's id */
    camrtc_addr addr;
    int local;                 /* index of its host candidate, -1 under relay policy */
} ice_host;

typedef struct ice_local {
    camrtc_ice_candidate c;
    int host;                  /* ice_host index of the base socket (host, srflx, prflx via host) */
    int relay;                 /* ice_relay index for relay candidates (and prflx seen via one), else -1 */
    int base;                  /* local index of the base candidate (itself for host and relay) */
    uint16_t local_pref;
    bool signalled;            /* EV_CANDIDATE sent for the current generation */
} ice_local;

typedef struct ice_remote {
    camrtc_ice_candidate c;
} ice_remote;

typedef enum ice_pair_state {
    ICE_PAIR_FROZEN = 0,
    ICE_PAIR_WAITING,
    ICE_PAIR_IN_PROGRESS,
    ICE_PAIR_SUCCEEDED,
    ICE_PAIR_FAILED,
} ice_pair_state;

/* One STUN request in flight with its retransmission schedule. */
typedef struct ice_tx {
    bool active;
    uint8_t id[12];
    camrtc_time_us first_sent, next_retx, rto;
    unsigned retx;
} ice_tx;

/* A check replaced by a triggered one is cancelled, not forgotten: its answer still counts
 * (§7.3.1.4). With an RTT longer than the RTO, the answer to an early transmission is often
 * the first to arrive. */
typedef struct ice_old_tx {
    bool live, controlling;
    uint8_t id[12];
    camrtc_time_us first_sent;
} ice_old_tx;

typedef struct ice_pair {
    int local, remote;         /* local is always a base (host or relay candidate) */
    uint64_t prio;
    ice_pair_state state;
    ice_tx tx;
    bool tx_use_cand;          /* the transaction in flight carries USE-CANDIDATE */
    bool tx_controlling;       /* our role when it was sent (for a 487 answer) */
    ice_old_tx old[ICE_OLD_TX];
    unsigned old_next;
    bool triggered;            /* a triggered check waits for the remote credentials */
    bool valid;                /* on the valid list (§7.2.5.3.2) */
    bool nominated;            /* nomination done (controlling: USE-CANDIDATE answered) */
    bool remote_nominated;     /* controlled: USE-CANDIDATE received on it */
    camrtc_time_us valid_at, rtt;
} ice_pair;

/* A Binding request to a STUN server from one host socket (srflx gathering). */
typedef struct ice_srflx_tx {
    int server, host;
    ice_tx tx;
    camrtc_time_us deadline;
    bool done;
} ice_srflx_tx;

struct camrtc_ice_agent;

/* One TURN allocation (one per TURN server). */
typedef struct ice_relay {
    struct camrtc_ice_agent *agent;
    int server;
    camrtc_turn *turn;
    int host;                  /* UDP TURN: the host socket it started on; -1 over a stream */
    int own_sock;              /* UDP TURN moved off a taken 5-tuple: the glue's socket it uses now, else -1 */
    unsigned moves;            /* fresh sockets asked for (at most CAMRTC_ICE_TURN_MOVES) */
    bool move_pending;         /* failed with 437: move once the TURN client has returned */
    int stream;                /* TCP/TLS TURN: stream id, else -1 */
    bool stream_open;
    uint8_t *sbuf;             /* stream bytes not yet cut into frames */
    size_t slen;
    int local;                 /* its relay candidate, -1 before ALLOCATED */
    bool done;                 /* gathering: allocated or failed */
    bool failed;
    bool closing;              /* closed by the agent: stream kept open for the deallocation answer */
    camrtc_time_us deadline;
} ice_relay;

typedef struct ice_server {
    camrtc_ice_server s;       /* username/password point into the copies below */
    char *username, *password;
    bool started;
    bool error_reported;       /* one EV_SERVER_ERROR per server while gathering */
} ice_server;

/* The pair that carries data, with the credentials of its generation so consent keeps
 * working across a restart until a new pair is selected. */
typedef struct ice_sel {
    bool active;
    unsigned gen;
    int base;                  /* local index of the base it sends from */
    camrtc_ice_candidate local, remote;
    char lufrag[ICE_CRED_MAX + 1], lpwd[ICE_CRED_MAX + 1];
    char rufrag[ICE_CRED_MAX + 1], rpwd[ICE_CRED_MAX + 1];
    uint64_t prio;
    uint8_t consent_ids[ICE_CONSENT_IDS][12]; /* the last requests (RFC 7675 sends, never retransmits) */
    camrtc_time_us consent_sent_at[ICE_CONSENT_IDS];
    bool consent_live[ICE_CONSENT_IDS];
    unsigned consent_next_slot;
    camrtc_time_us next_consent, last_answer;
    bool awaiting;             /* a consent request is unanswered since unanswered_since */
    camrtc_time_us unanswered_since;
    bool disconnected;
} ice_sel;

struct camrtc_ice_agent {
    camrtc_ice_config cfg;     /* defaults filled in; strings point to owned copies */
    char *interfaces, *software;
    camrtc_ice_io io;
    void *user;
    camrtc_rng *rng;
    const camrtc_log *log;

    bool controlling;
    uint64_t tiebreaker;
    camrtc_ice_state state;
    bool closed;
    camrtc_time_us now;        /* time of the current entry point (TURN callbacks carry none) */

    /* Current generation. */
    unsigned gen;
    char lufrag[ICE_CRED_MAX + 1], lpwd[ICE_CRED_MAX + 1];
    char rufrag[ICE_CRED_MAX + 1], rpwd[ICE_CRED_MAX + 1];
    bool have_remote;          /* remote credentials known for this generation */
    bool remote_eoc;           /* remote end-of-candidates for this generation */
    bool local_restart_pending;/* we restarted and wait for the remote's new credentials */
    bool gathering, gathering_done;
    camrtc_time_us gather_deadline;

    ice_host hosts[ICE_MAX_HOSTS];
    unsigned nhosts;
    ice_local locals[ICE_MAX_LOCALS];
    unsigned nlocals;
    ice_server servers[ICE_MAX_SERVERS];
    unsigned nservers;
    ice_srflx_tx srflx[ICE_MAX_SRFLX_TX];
    unsigned nsrflx;
    ice_relay relays[ICE_MAX_SERVERS];
    unsigned nrelays;

    ice_remote *remotes;       /* cfg.max_remote_candidates */
    unsigned nremotes;
    ice_pair *pairs;           /* cfg.max_pairs */
    unsigned npairs;

    camrtc_time_us next_check; /* Ta pacing of ordinary checks */
    bool checks_started;       /* a check of this generation was sent */
    bool checklist_done;       /* a pair of this generation is selected: no more ordinary checks */
    int nominating;            /* pair index with a nomination in flight, -1 none */
    camrtc_time_us nominate_at;/* controlling: when to nominate despite pending better pairs */
    camrtc_time_us last_progress; /* for the bounded FAILED decision */

    ice_sel sel;
    bool consent_failed;

    camrtc_ice_stats stats;
};

/* agent.c */
void ice_emit(camrtc_ice_agent *a, const camrtc_ice_event *ev);
void ice_set_state(camrtc_ice_agent *a, camrtc_ice_state s);
void ice_random_id(camrtc_ice_agent *a, uint8_t id[12]);
void ice_send_from(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *to, const uint8_t *data,
                   size_t len);
void ice_input_from_base(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                         const uint8_t *data, size_t len);
camrtc_time_us ice_min_time(camrtc_time_us x, camrtc_time_us y);

/* agent_checks.c */
int ice_add_remote(camrtc_ice_agent *a, camrtc_time_us now, const camrtc_ice_candidate *c);
void ice_pair_local(camrtc_ice_agent *a, camrtc_time_us now, int local);
void ice_recompute_priorities(camrtc_ice_agent *a);
void ice_handle_request(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                        const camrtc_stun_msg *m);
bool ice_handle_check_response(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                               const camrtc_stun_msg *m);
void ice_checks_timeout(camrtc_ice_agent *a, camrtc_time_us now);
camrtc_time_us ice_checks_next_timeout(const camrtc_ice_agent *a);
void ice_send_pending_triggered(camrtc_ice_agent *a, camrtc_time_us now);
bool ice_pair_is_valid_route(const camrtc_ice_agent *a, int base, const camrtc_addr *from);
uint32_t ice_prflx_priority(const camrtc_ice_agent *a, int local);
void ice_tx_start(camrtc_ice_agent *a, ice_tx *t, camrtc_time_us now, camrtc_time_us rto);

/* agent_gather.c */
int ice_gather_start(camrtc_ice_agent *a, camrtc_time_us now);
void ice_gather_host(camrtc_ice_agent *a, camrtc_time_us now, int host);
void ice_gather_server(camrtc_ice_agent *a, camrtc_time_us now, int server);
bool ice_gather_udp_input(camrtc_ice_agent *a, camrtc_time_us now, int host, const camrtc_addr *from,
                          const uint8_t *data, size_t len);
bool ice_relay_sock_input(camrtc_ice_agent *a, camrtc_time_us now, int sock, const camrtc_addr *from,
                          const uint8_t *data, size_t len);
void ice_gather_timeout(camrtc_ice_agent *a, camrtc_time_us now);
camrtc_time_us ice_gather_next_timeout(const camrtc_ice_agent *a);
void ice_announce_locals(camrtc_ice_agent *a);
void ice_relays_close(camrtc_ice_agent *a, camrtc_time_us now);
void ice_relays_free(camrtc_ice_agent *a);
int ice_relay_by_stream(const camrtc_ice_agent *a, int stream);
int ice_relay_stream_input(camrtc_ice_agent *a, camrtc_time_us now, int r, const uint8_t *data, size_t len);
void ice_relay_stream_closed(camrtc_ice_agent *a, camrtc_time_us now, int r, int err);
void ice_relay_stream_connected(camrtc_ice_agent *a, camrtc_time_us now, int r);

/* agent_consent.c */
void ice_select(camrtc_ice_agent *a, camrtc_time_us now, int pair);
void ice_consent_timeout(camrtc_ice_agent *a, camrtc_time_us now);
camrtc_time_us ice_consent_next_timeout(const camrtc_ice_agent *a);
bool ice_consent_response(camrtc_ice_agent *a, camrtc_time_us now, int base, const camrtc_addr *from,
                          const camrtc_stun_msg *m);
void ice_update_state(camrtc_ice_agent *a, camrtc_time_us now);
camrtc_time_us ice_state_next_timeout(const camrtc_ice_agent *a);

#endif
