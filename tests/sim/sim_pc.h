/* A camrtc peer connection on a simulated host, and a signaling channel between two of
 * them (tests/sim).
 *
 * sim_pc binds one sim socket per address of its host, registers each with
 * camrtc_pc_add_host (and binds more when the pc's ICE agent asks, io.open_udp, to move a
 * TURN allocation off a 5-tuple the server still holds), feeds every datagram to the pc
 * and keeps one sim timer at camrtc_pc_next_timeout. The SDP offer, the answer, trickled
 * candidates and end-of-candidates travel to the linked peer as text after signal_delay,
 * as a signaling service would carry them. A test can tamper with a description in transit
 * (tamper_fingerprint) to check that DTLS refuses the wrong certificate.
 */
#ifndef CAMRTC_SIM_PC_H
#define CAMRTC_SIM_PC_H

#include "camrtc/cert.h"
#include "camrtc/pc.h"
#include "sim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIM_PC_MAX_SOCKS (SIM_MAX_ADDRS + 4)   /* one per address, then the agent's open_udp */

typedef struct sim_pc_msg sim_pc_msg;
typedef struct sim_pc sim_pc;

/* How the glue is made (sim_pc_new_opts); zeros = as sim_pc_new. */
typedef struct sim_pc_opts {
    uint16_t port;                    /* bind the host sockets on this port (0 = ephemeral) */
    bool no_open_udp;                 /* the glue offers no camrtc_pc_io.open_udp */
} sim_pc_opts;

typedef void (*sim_pc_frame_cb)(void *user, sim_pc *p, const camrtc_h264_frame *f);

struct sim_pc {
    /* Read by tests. */
    char name[16];
    camrtc_pc_state state;
    camrtc_time_us state_at[CAMRTC_PC_CLOSED + 1];   /* first time each state was reached */
    int fail_error;
    unsigned keyframe_wanted;
    camrtc_time_us first_frame_at;                   /* 0 = no frame yet */
    uint64_t frames;
    uint64_t sdp_errors;                             /* a description was refused */
    char sdp_reason[128];
    unsigned gathering_done;                         /* end-of-candidates events */
    unsigned turn_socks;                             /* sockets opened for the agent (io.open_udp) */

    /* Set by tests before sim_pc_offer. */
    camrtc_time_us signal_delay;                     /* one-way, every signaling message */
    bool tamper_fingerprint;                         /* flip a hex digit of our a=fingerprint */
    sim_pc_frame_cb on_frame;
    void *frame_user;

    /* Internals. */
    sim *s;
    sim_host *h;
    camrtc_rng rng;
    camrtc_log log;
    camrtc_cert cert;
    camrtc_pc *pc;
    sim_sock *socks[SIM_PC_MAX_SOCKS];
    int n_socks;
    uint64_t timer;
    camrtc_time_us timer_at;
    sim_pc *other;
    sim_pc_msg *inbox;
    uint64_t sig_timer, sig_seq;
    camrtc_time_us sig_timer_at;
};

/* A pc of role on host h; cfg may be NULL (defaults) and its cert, rng and log are
 * replaced by the sim_pc's own. NULL on error. */
sim_pc *sim_pc_new(sim *s, sim_host *h, const char *name, camrtc_pc_role role, const camrtc_pc_config *cfg);
/* The same with glue options o (NULL = zeros). */
sim_pc *sim_pc_new_opts(sim *s, sim_host *h, const char *name, camrtc_pc_role role, const camrtc_pc_config *cfg,
                        const sim_pc_opts *o);
void sim_pc_free(sim_pc *p);

/* Register a STUN/TURN server (camrtc_pc_add_server): before sim_pc_offer. */
int sim_pc_add_server(sim_pc *p, const camrtc_ice_server *srv);

/* Let viewer and master signal to each other. */
void sim_pc_link(sim_pc *a, sim_pc *b);

/* The RECEIVER makes its offer and sends it. */
int sim_pc_offer(sim_pc *p);

/* Re-arm the timer after a call into p->pc made by the test. */
void sim_pc_reschedule(sim_pc *p);

/* Hand a datagram to the pc's data path as if it came over the selected pair. */
void sim_pc_inject(sim_pc *p, const uint8_t *data, size_t len);

/* A predicate for sim_run_while over sim_pc *[2]: true until both are CONNECTED. */
bool sim_pc_connecting(void *pair);

#ifdef __cplusplus
}
#endif
#endif
