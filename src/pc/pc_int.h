/* Internals of the peer connection (src/pc), shared by its files and by white-box tests. */
#ifndef CAMRTC_PC_INT_H
#define CAMRTC_PC_INT_H

#include "camrtc/dtls.h"
#include "camrtc/pc.h"
#include "camrtc/rtp.h"
#include "camrtc/sdp.h"
#include "camrtc/srtp.h"

/* One RTP packet's largest size on our side: MTU bound plus slack for received packets. */
#define PC_PKT_MAX 1500
/* RTCP compound packets we build (SR/RR + SDES, NACK, PLI) stay under this. */
#define PC_RTCP_MAX 1200
/* NACKed sequence numbers handled from one feedback packet, and sent in one NACK. */
#define PC_NACK_MAX 256
/* Retransmissions for one NACK at most: a burst larger than this (~75 KB) risks the
 * receiver's socket buffer (Linux default ~208 KB of truesize, about 90 such datagrams);
 * what is left out the receiver asks for again. */
#define PC_NACK_RESEND_MAX 64
/* When each recent seq was last resent, for answering repeated NACKs once (a power of
 * two; a seq this far back is past any receiver's wait). */
#define PC_RESENT_RING 1024
/* A seq resent less than max(RTT, this) ago is not resent again: the receiver asked
 * before the first resend could reach it. */
#define PC_RESEND_MIN_GAP CAMRTC_MS(10)
/* A PLI (RFC 4585 section 6.3.1) that reaches us less than max(RTT + SLACK, FLOOR) after
 * an IDR began going out to that viewer was sent before the IDR reached it: it "crossed"
 * the IDR in flight and the IDR answers it; a second IDR would be a bitrate spike for
 * every viewer of the one encoder. The RTT is the RR's (RFC 3550 section 6.4.1), else the ICE
 * pair's, else DEFAULT_RTT. Why these numbers:
 * - SLACK: the viewer needs the whole IDR, not its first packet, and its jitter buffer
 *   releases it a little later; 10 ms is the burst of a ~12 KB IDR at 10 Mbit/s.
 * - FLOOR: on a LAN the RTT is ~1 ms and the IDR's burst and the viewer's assembly are all
 *   there is; 20 ms covers that and is still under one frame interval at 30 fps.
 * - DEFAULT_RTT: before the first RR (about a second in) and without an ICE measure; a
 *   continental path is well under 100 ms. Too long only means a genuine PLI is dropped
 *   and asked again (the viewer repeats it); too short answers a crossing one (as before).
 * - MAX: an implausible RTT (a bad LSR/DLSR) must not mute keyframe requests for long. */
#define PC_PLI_CROSS_SLACK CAMRTC_MS(10)
#define PC_PLI_CROSS_FLOOR CAMRTC_MS(20)
#define PC_PLI_CROSS_DEFAULT_RTT CAMRTC_MS(100)
#define PC_PLI_CROSS_MAX CAMRTC_SEC(1)

typedef struct pc_resent {
    uint16_t seq;
    bool used;
    camrtc_time_us at;                /* when seq was last resent */
} pc_resent;

struct camrtc_pc {
    camrtc_pc_config cfg;
    camrtc_pc_io io;
    void *user;
    char cname[64];
    camrtc_pc_state state;
    camrtc_time_us now;               /* the time of the call being served (for callbacks) */

    camrtc_ice_agent *ice;
    camrtc_ice_state ice_state;
    bool gathering;

    uint8_t fingerprint[32];          /* ours */
    camrtc_sdp *offer;                /* ours (RECEIVER) or theirs (SENDER) */
    camrtc_sdp *answer;               /* theirs (RECEIVER) or ours (SENDER) */
    camrtc_sdp_negotiated neg;
    bool negotiated;

    camrtc_dtls *dtls;
    bool dtls_client;
    camrtc_srtp *srtp_tx, *srtp_rx;   /* keyed once DTLS is connected */

    /* Sender. */
    uint32_t ssrc;                    /* ours (also the sender SSRC of our feedback) */
    uint16_t seq;
    uint32_t ts_offset;
    uint32_t last_ts;                 /* RTP timestamp of the last packet sent */
    camrtc_time_us last_ts_at;        /* and when */
    bool sent_any;
    bool need_keyframe;               /* drop until an IDR access unit starts */
    bool joined;                      /* started from cfg.fanout's history ... */
    uint32_t join_end;                /* ... with every list packet before this id */
    camrtc_rtp_history *history;      /* our own, for lists without a shared one; lazily */
    camrtc_rtp_history *shared;       /* the fan-out list's history we map into (borrowed) */
    uint32_t *id_map;                 /* RTP seq & id_mask → packet id in shared */
    size_t id_mask;                   /* ring size - 1 (a power of two dividing 65536) */
    size_t mapped;                    /* the last `mapped` seqs before seq are in id_map */
    camrtc_pc_packets own;            /* for camrtc_pc_send_nal */
    uint32_t sr_packets, sr_octets;   /* RFC 3550 SR sender's counts */
    pc_resent resent[PC_RESENT_RING];  /* by seq & (PC_RESENT_RING - 1) */
    camrtc_time_us next_report;       /* SR or RR */
    bool key_sent;                    /* an IDR went out to this viewer ... */
    camrtc_time_us key_sent_at;       /* ... its first packet then (live or joined) */
    bool fir_served;                  /* a FIR was answered: ... */
    uint32_t fir_from;                /* ... from this SSRC ... */
    uint8_t fir_seq;                  /* ... with this Seq nr (RFC 5104 section 4.3.1.1) */

    /* Receiver. */
    camrtc_jitter *jitter;
    camrtc_h264_depack *depack;
    uint32_t remote_ssrc;
    bool got_rtp;
    uint32_t base_ext_seq;
    uint64_t expected_prior, received_prior;
    uint32_t lsr;                     /* middle bits of the last SR's NTP time */
    camrtc_time_us lsr_at;            /* when it arrived; 0 = none yet */
    double jitter_est;                /* RFC 3550 A.8 interarrival jitter, timestamp units */
    int64_t last_transit;
    bool have_transit;
    camrtc_time_us last_pli;
    bool pli_sent_once;
    bool need_key;                    /* a gap or an undecodable frame since the last good IDR */

    uint8_t scratch[PC_PKT_MAX + CAMRTC_SRTP_MAX_OVERHEAD];   /* received packets */
    uint8_t txbuf[PC_PKT_MAX + CAMRTC_SRTP_MAX_OVERHEAD];     /* sent RTP packets */
    camrtc_pc_stats st;
};

/* pc.c */
void pc_set_state(camrtc_pc *pc, camrtc_pc_state s, int error);
void pc_emit(camrtc_pc *pc, const camrtc_pc_event *ev);
/* One datagram from the selected pair (after ICE): the RFC 7983 demultiplexer. Also the
 * entry point of the fuzz target. */
void pc_handle_data(camrtc_pc *pc, camrtc_time_us now, const uint8_t *data, size_t len);
/* Key SRTP as a finished DTLS handshake would (tests and fuzzing use it directly). */
int pc_install_keys(camrtc_pc *pc, const camrtc_srtp_keying *k, bool local_is_client);

/* pc_send.c */
int pc_send_init(camrtc_pc *pc);
void pc_send_free(camrtc_pc *pc);
/* Protect and send an RTCP compound (copied; len <= PC_RTCP_MAX). */
void pc_send_rtcp(camrtc_pc *pc, const uint8_t *pkt, size_t len);
void pc_send_report_sr(camrtc_pc *pc, camrtc_time_us now);
/* SRTP is keyed: start from the newest IDR in cfg.fanout's history. False when there is
 * no such start (then a new keyframe is needed). */
bool pc_send_join(camrtc_pc *pc, camrtc_time_us now);
void pc_on_nack(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_packet *p);
/* A PLI or FIR that names our SSRC: counted, and KEYFRAME_WANTED raised unless it crossed
 * the IDR on its way (PLI) or repeats a request already served (FIR). */
void pc_on_keyframe_request(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_packet *p);
void pc_on_rr_block(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_rb *rb);
/* NTP-format time (32.32) from our monotonic microseconds: only differences matter. */
uint64_t pc_ntp(camrtc_time_us now);

/* pc_recv.c */
int pc_recv_init(camrtc_pc *pc);
void pc_recv_free(camrtc_pc *pc);
void pc_on_rtp(camrtc_pc *pc, camrtc_time_us now, uint8_t *pkt, size_t len);
void pc_recv_timeout(camrtc_pc *pc, camrtc_time_us now);
void pc_send_report_rr(camrtc_pc *pc, camrtc_time_us now);
void pc_on_sr(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_packet *p);
camrtc_time_us pc_recv_next_timeout(const camrtc_pc *pc);

#endif
