/* One WebRTC peer connection for H.264 video, sans-I/O.
 *
 * A camrtc_pc composes the protocol modules of one transport: an ICE agent (ice.h), DTLS
 * (dtls.h) keyed SRTP/SRTCP (srtp.h), and the RTP stages: H.264 packetizer and send
 * history for NACK on the sending side, jitter buffer and depacketizer on the receiving
 * side, RTCP reports and feedback on both. Like the ICE agent it never touches a socket
 * or a clock: the glue registers sockets (camrtc_pc_add_host), feeds datagrams
 * (camrtc_pc_udp_input), calls camrtc_pc_handle_timeout at camrtc_pc_next_timeout, and
 * gets datagrams to send and events through a callback table.
 *
 * Roles (the KVS model): the SENDER is the master, it answers an offer and sends video;
 * the RECEIVER is a viewer, it makes a recvonly offer and receives. The master answers
 * a=setup:active and so is the DTLS client; the viewer offers actpass and is the DTLS
 * server. The offerer is the ICE controlling agent (RFC 8445 section 6.1.1).
 *
 * Datagrams on the selected pair are told apart by their first byte (RFC 7983 section 7,
 * demux.h): DTLS goes to the DTLS endpoint, RTP and RTCP (RFC 5761 section 4) to SRTP.
 * A DTLS fingerprint that does not match the SDP fails the connection; no keys, no media.
 * Malformed SDP, RTP, RTCP and anything unknown are dropped with counters.
 *
 * Sending: camrtc_pc_send_nal packetizes one NAL unit (RFC 6184: STAP-A for SPS/PPS,
 * FU-A, MTU 1200), writes the RTP header (negotiated payload type, the NAL's 90 kHz
 * timestamp, marker on the last packet of a frame), keeps the plaintext in the NACK
 * history, protects and sends. Every connection starts on a keyframe: NAL units are
 * dropped until an IDR access unit begins, and CAMRTC_PC_EV_KEYFRAME_WANTED is raised
 * when media becomes possible. A pc given the fan-out list (camrtc_pc_config.fanout) instead
 * starts, as soon as SRTP is keyed, with the packets its shared history holds from the newest
 * IDR on (SPS/PPS first), rebuilt with its own header as NACK resends are, and asks for a
 * keyframe only when there is none young enough or some of its packets are gone. For fan-out, a camrtc_pc_packets list is filled once per
 * NAL (camrtc_pc_packetize) and sent to many connections (camrtc_pc_send_packets), each
 * rewriting only sequence number, timestamp offset, SSRC and payload type. Such a list can
 * carry the NACK history for all its connections (camrtc_pc_packets_share_history), so
 * that the history's memory does not grow with the number of viewers.
 *
 * RTCP (RFC 3550 section 6, RFC 4585, RFC 5104): the sender answers generic NACK from its
 * history, reports PLI/FIR as KEYFRAME_WANTED (but not a PLI that crossed the IDR sent to
 * that viewer about one RTT before, nor a repeated FIR), reads RTT and loss from receiver
 * reports and sends SR about every second; the receiver sends NACK for holes, PLI when a frame
 * cannot be completed, and RR about every second. Frames come out as CAMRTC_PC_EV_FRAME
 * (Annex-B, with complete/decodable/keyframe flags).
 */
#ifndef CAMRTC_PC_H
#define CAMRTC_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/cert.h"
#include "camrtc/h264_rtp.h"
#include "camrtc/ice.h"
#include "camrtc/jitter.h"
#include "camrtc/log.h"
#include "camrtc/media.h"
#include "camrtc/rand.h"
#include "camrtc/rtp_history.h"
#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum camrtc_pc_role {
    CAMRTC_PC_SENDER = 0,     /* master: answers, DTLS client, sends H.264 */
    CAMRTC_PC_RECEIVER,       /* viewer: offers recvonly, DTLS server, receives */
} camrtc_pc_role;

typedef enum camrtc_pc_state {  /* RTCPeerConnectionState */
    CAMRTC_PC_NEW = 0,
    CAMRTC_PC_CONNECTING,     /* a remote description is set; ICE and DTLS are running */
    CAMRTC_PC_CONNECTED,      /* ICE has a pair and SRTP is keyed: media flows */
    CAMRTC_PC_DISCONNECTED,   /* ICE consent lost for a while; may come back */
    CAMRTC_PC_FAILED,         /* ICE or DTLS failed (fingerprint mismatch included) */
    CAMRTC_PC_CLOSED,
} camrtc_pc_state;

struct camrtc_pc_packets;

/* Default interval of SR (sender) and RR (receiver) reports. */
#define CAMRTC_PC_DEFAULT_REPORT_INTERVAL CAMRTC_SEC(1)
/* How old the newest keyframe of a fan-out history may be for a new connection to start
 * from it (camrtc_pc_config.fanout); older, and the connection asks for a new one. */
#define CAMRTC_PC_DEFAULT_JOIN_MAX_AGE CAMRTC_MS(500)
/* Most packets one NAL unit may be cut into (about 4.6 MB at MTU 1200); more → ETOOBIG. */
#define CAMRTC_PC_MAX_PACKETS_PER_NAL 4096

typedef struct camrtc_pc_config {
    camrtc_pc_role role;
    camrtc_ice_config ice;            /* controlling is set from the role */
    const camrtc_cert *cert;          /* our DTLS certificate; borrowed, must outlive the pc */
    camrtc_rng *rng;                  /* borrowed */
    const camrtc_log *log;            /* borrowed */
    size_t mtu;                       /* RTP packet incl. SRTP tag; 0 = 1200 */
    uint32_t ssrc;                    /* our SSRC; 0 = random */
    const char *cname;                /* RTCP CNAME; NULL = "camrtc" */
    camrtc_time_us report_interval;   /* SR/RR; 0 = 1 s */
    camrtc_rtp_history_config history;/* sender: NACK history (zeros = defaults) */
    camrtc_jitter_config jitter;      /* receiver: jitter buffer (zeros = defaults) */
    camrtc_time_us pli_interval;      /* receiver: at least this between PLIs; 0 = 500 ms */
    unsigned h264_profiles;           /* sender: camrtc_sdp_local.h264_profiles; 0 = default */
    int h264_max_level;               /* camrtc_sdp_local.h264_max_level; 0 = 31 */
    /* Sender: the fan-out packet list (with a shared history) this pc will be sent;
     * borrowed, must outlive the pc. When SRTP is keyed the pc starts from the newest IDR
     * that history holds (see camrtc_pc_packets_store) instead of waiting for a new one.
     * NULL = always wait for a new keyframe. */
    const struct camrtc_pc_packets *fanout;
    camrtc_time_us join_max_age;      /* sender: 0 = CAMRTC_PC_DEFAULT_JOIN_MAX_AGE */
} camrtc_pc_config;

typedef enum camrtc_pc_event_type {
    CAMRTC_PC_EV_STATE,           /* state changed: state (and error for FAILED) */
    CAMRTC_PC_EV_CANDIDATE,       /* a local candidate to trickle: line ("candidate:...") */
    CAMRTC_PC_EV_GATHERING_DONE,  /* end-of-candidates to signal */
    CAMRTC_PC_EV_KEYFRAME_WANTED, /* sender: give an IDR soon (new connection, PLI, FIR) */
    CAMRTC_PC_EV_FRAME,           /* receiver: one access unit: frame */
} camrtc_pc_event_type;

typedef struct camrtc_pc_event {
    camrtc_pc_event_type type;
    camrtc_pc_state state;            /* STATE */
    int error;                        /* STATE FAILED: CAMRTC_ECERT, CAMRTC_ETIMEDOUT, ... */
    const char *line;                 /* CANDIDATE */
    const camrtc_h264_frame *frame;   /* FRAME: valid during the callback */
} camrtc_pc_event;

/* The glue's side. send_udp and the stream calls are the ICE agent's (ice.h) passed
 * through; event reports what happened. Callbacks must not free the pc. */
typedef struct camrtc_pc_io {
    void (*send_udp)(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len);
    void (*open_stream)(void *user, int stream, const camrtc_addr *to, bool tls);
    void (*send_stream)(void *user, int stream, const uint8_t *data, size_t len);
    void (*close_stream)(void *user, int stream);
    void (*event)(void *user, const camrtc_pc_event *ev);
    int (*open_udp)(void *user, const camrtc_addr *local);   /* optional, as in ice.h */
} camrtc_pc_io;

/* Counters, named after the W3C webrtc-stats members they stand for. */
typedef struct camrtc_pc_stats {
    /* outbound-rtp (sender) */
    uint64_t packets_sent, bytes_sent, header_bytes_sent;   /* packetsSent, bytesSent (payload) */
    uint64_t retransmitted_packets_sent, retransmitted_bytes_sent;
    uint64_t frames_sent, key_frames_sent;
    uint64_t nack_count, pli_count, fir_count;   /* feedback received */
    uint64_t pli_ignored;                        /* PLIs that crossed the IDR sent to them: no new one */
    uint64_t fir_ignored;                        /* FIRs repeating a Seq nr already served */
    uint64_t nack_seqs, nack_misses;             /* seqs asked for; not in the history */
    uint64_t nack_repeats;                       /* asked again within an RTT of a resend: not resent */
    uint64_t nack_over_limit;                    /* over PC_NACK_RESEND_MAX in one NACK: not resent */
    uint64_t nals_dropped_not_ready;             /* before SRTP was keyed */
    uint64_t nals_dropped_wait_key;              /* before the first keyframe */
    uint64_t join_packets_sent;                  /* started from the fan-out history (in packets_sent) */
    /* remote-inbound-rtp (from RR) */
    camrtc_time_us round_trip_time;              /* last RTT measured from an RR; 0 = none */
    uint8_t fraction_lost;                       /* /256, last RR */
    int32_t remote_packets_lost;                 /* cumulative, last RR */
    uint64_t remb_bps;                           /* last REMB; 0 = none */
    uint64_t twcc_feedback;                      /* transport-cc packets received */
    /* inbound-rtp (receiver) */
    uint64_t packets_received, bytes_received, packets_lost, packets_duplicated;
    uint64_t frames_received, frames_decodable, key_frames_received, frames_incomplete;
    uint64_t nack_sent, nack_seqs_sent, pli_sent; /* feedback sent: nackCount, pliCount */
    /* RTCP */
    uint64_t sr_sent, rr_sent, sr_received, rr_received, rtcp_received;
    /* transport and drops */
    uint64_t dropped_demux;       /* neither DTLS nor RTP/RTCP, or RTP before keys */
    uint64_t dropped_dtls;        /* DTLS datagrams with no endpoint yet */
    uint64_t srtp_errors;         /* SRTP/SRTCP auth, replay or malformed */
    uint64_t rtp_malformed, rtcp_malformed;
    uint64_t rtp_wrong_pt;        /* an RTP payload type we did not agree to */
    uint64_t bad_candidates;      /* remote candidate lines that did not parse */
    uint64_t sdp_errors;          /* remote descriptions refused */
    camrtc_time_us connected_at;  /* when the state first became CONNECTED; 0 = never */
} camrtc_pc_stats;

typedef struct camrtc_pc camrtc_pc;

/* Create a peer connection. cfg->cert and cfg->rng are required (log may be NULL).
 * Initialises libsrtp (camrtc_srtp_library_init). Returns CAMRTC_OK, CAMRTC_EINVAL,
 * CAMRTC_ENOMEM or CAMRTC_ECRYPTO. */
int camrtc_pc_new(camrtc_pc **out, const camrtc_pc_config *cfg, const camrtc_pc_io *io, void *user);

/* Free at once (no io calls). Call camrtc_pc_close first for a polite goodbye. NULL is fine. */
void camrtc_pc_free(camrtc_pc *pc);

/* The glue's UDP sockets and servers, passed to the ICE agent: before the description
 * calls below, which start gathering. */
int camrtc_pc_add_host(camrtc_pc *pc, camrtc_time_us now, int sock, const camrtc_addr *local);
int camrtc_pc_add_server(camrtc_pc *pc, camrtc_time_us now, const camrtc_ice_server *srv);

/* The ICE agent, for the stream calls (camrtc_ice_stream_*) of TURN over TCP/TLS. */
camrtc_ice_agent *camrtc_pc_ice(camrtc_pc *pc);

/* RECEIVER: make the offer (recvonly H.264, trickle, actpass), append its text to out and
 * start gathering (candidates follow as events). CAMRTC_ESTATE when not a RECEIVER or
 * called twice; CAMRTC_ENOMEM; CAMRTC_ETOOBIG (out->max_cap). */
int camrtc_pc_create_offer(camrtc_pc *pc, camrtc_time_us now, camrtc_buf *out);

/* RECEIVER: the remote answer. CAMRTC_EPROTO (malformed SDP) or CAMRTC_EUNSUPPORTED
 * (nothing we offered, no ICE/DTLS parameters), both counted in sdp_errors and with a
 * reason when reasonsz > 0; CAMRTC_ESTATE without an offer. */
int camrtc_pc_set_answer(camrtc_pc *pc, camrtc_time_us now, const char *sdp, size_t len, char *reason,
                         size_t reasonsz);

/* SENDER: the remote offer: answer it (sendonly H.264, a=setup:active), append the answer
 * to out, and start gathering. Errors as camrtc_pc_set_answer. */
int camrtc_pc_answer_offer(camrtc_pc *pc, camrtc_time_us now, const char *sdp, size_t len, camrtc_buf *out,
                           char *reason, size_t reasonsz);

/* A trickled remote candidate ("candidate:..." with or without "a="); an empty line or
 * NULL means end-of-candidates. A bad line is counted (bad_candidates) and returned as
 * CAMRTC_EPROTO / CAMRTC_EUNSUPPORTED (mDNS names); the pc keeps working. */
int camrtc_pc_add_remote_candidate(camrtc_pc *pc, camrtc_time_us now, const char *line);

/* A datagram from UDP socket sock. */
int camrtc_pc_udp_input(camrtc_pc *pc, camrtc_time_us now, int sock, const camrtc_addr *from,
                        const uint8_t *data, size_t len);

/* Timers: call handle_timeout when next_timeout has come. */
int camrtc_pc_handle_timeout(camrtc_pc *pc, camrtc_time_us now);
camrtc_time_us camrtc_pc_next_timeout(const camrtc_pc *pc);

/* ---- sending ------------------------------------------------------------------------- */

/* Packets made from one NAL unit, shared by every pc it is sent to (fan-out). Payloads
 * sit behind room for the RTP header; the per-pc send copies each packet once (SRTP
 * works in place), so the list stays reusable. */
typedef struct camrtc_pc_packet {
    uint8_t *buf;             /* header_room free bytes, then the payload */
    size_t payload_len;
    uint32_t rtp_ts;
    bool marker;              /* last packet of the access unit */
    bool keyframe;            /* from an IDR access unit */
    bool first_of_frame;      /* the first packet of its access unit */
    uint32_t id;              /* fan-out-wide packet number (key in the shared history) */
} camrtc_pc_packet;

typedef struct camrtc_pc_packets {
    camrtc_h264_packer packer;
    size_t header_room, stride;       /* bytes per packet slot */
    uint8_t *mem;                     /* slots */
    camrtc_pc_packet *pkt;
    size_t n, cap;
    bool frame_open;                  /* a packet of the current access unit went out */
    uint64_t frame_id;
    camrtc_rtp_history *history;      /* shared NACK history; NULL = each pc keeps its own */
    uint32_t next_id;                 /* id of the next packet made */
    bool have_key;                    /* key_id is set */
    uint32_t key_id;                  /* id of the first packet of the newest IDR access unit */
} camrtc_pc_packets;

/* Set up a packet list for mtu (0 = 1200). CAMRTC_OK, CAMRTC_EINVAL, CAMRTC_ENOMEM. */
int camrtc_pc_packets_init(camrtc_pc_packets *l, size_t mtu);
void camrtc_pc_packets_free(camrtc_pc_packets *l);

/* Give the list one NACK history shared by every pc it is sent to (cfg NULL = defaults,
 * as camrtc_pc_config.history). A packet's payload is the same for every viewer, only the
 * 12-byte header differs, so the history keeps each packet once under the list's packet
 * id, and a pc keeps only a ring mapping its own RTP sequence numbers to ids (4 bytes a
 * packet); on a NACK it rebuilds its header in front of the shared payload. Such a pc
 * allocates no history of its own. The list then must outlive every pc it is sent to.
 * CAMRTC_OK, CAMRTC_EINVAL (twice), CAMRTC_ENOMEM. */
int camrtc_pc_packets_share_history(camrtc_pc_packets *l, const camrtc_rtp_history_config *cfg);

/* Replace the list's packets with those made from nal (none while SPS/PPS are held back
 * for the STAP-A that precedes the next NAL). The payloads are copied into the list, so
 * nal->data is read during the call only. CAMRTC_OK, CAMRTC_EINVAL (empty NAL),
 * CAMRTC_ETOOBIG (more than CAMRTC_PC_MAX_PACKETS_PER_NAL packets), CAMRTC_ENOMEM. */
int camrtc_pc_packetize(camrtc_pc_packets *l, const camrtc_nal *nal);

/* Keep the list's packets in its shared history now, whether or not any pc is sent them,
 * so that a pc that connects later can start from the newest IDR (camrtc_pc_config.fanout).
 * Idempotent; camrtc_pc_send_packets does it too. CAMRTC_OK, or CAMRTC_EINVAL without a
 * shared history. */
int camrtc_pc_packets_store(camrtc_pc_packets *l, camrtc_time_us now);

/* The stream starts over (the encoder switched profile): forget the held IDR, so that no pc
 * joins from pictures made before; the next IDR access unit is held again. */
void camrtc_pc_packets_forget_keyframe(camrtc_pc_packets *l);

/* Send a packet list on this pc: header with our SSRC, sequence, payload type and
 * timestamp offset; history; SRTP; ICE. Drops (and counts) while not connected or until
 * a keyframe starts. The first send of a list with a shared history stores its packets
 * there (whether or not this pc sends them); for a list without one the pc keeps its own
 * history, made on first use. Returns the packets sent (0 when dropped) or a negative
 * error (CAMRTC_ENOMEM when the history could not be made). */
int camrtc_pc_send_packets(camrtc_pc *pc, camrtc_time_us now, const camrtc_pc_packets *l);

/* Packetize and send one NAL unit on this pc only (its own packet list). */
int camrtc_pc_send_nal(camrtc_pc *pc, camrtc_time_us now, const camrtc_nal *nal);

/* Ask the remote sender for a keyframe now (receiver; sends a PLI once media has come,
 * at most one per pli_interval). CAMRTC_ESTATE for a sender. */
int camrtc_pc_request_keyframe(camrtc_pc *pc, camrtc_time_us now);

/* ---- state ----------------------------------------------------------------------------- */

/* Send DTLS close_notify and an RTCP BYE, close ICE; state CLOSED. */
int camrtc_pc_close(camrtc_pc *pc, camrtc_time_us now);

camrtc_pc_state camrtc_pc_get_state(const camrtc_pc *pc);
const char *camrtc_pc_state_name(camrtc_pc_state s);
camrtc_pc_role camrtc_pc_get_role(const camrtc_pc *pc);

/* A copy of the counters (receiver packet counts are read from the jitter buffer). */
void camrtc_pc_get_stats(const camrtc_pc *pc, camrtc_pc_stats *out);

/* What was negotiated: payload type (-1 before), and the profile the encoder must use. */
int camrtc_pc_payload_type(const camrtc_pc *pc);

#ifdef __cplusplus
}
#endif
#endif
