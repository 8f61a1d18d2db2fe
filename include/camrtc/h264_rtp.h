/* H.264 over RTP (RFC 6184, packetization-mode 1, non-interleaved), sans-I/O.
 *
 * Packetizer (RFC 6184 §5.6, §5.7.1, §5.8): takes one NAL unit at a time, as slices come
 * out of the encoder (camrtc_nal). SPS and PPS are copied and held back, then sent
 * together as one STAP-A just before the next NAL (normally the IDR slice). A NAL that
 * fits the payload budget goes as a single NAL unit packet, a larger one as FU-A
 * fragments. The marker bit is set on the last packet of a NAL flagged last_of_frame
 * (RFC 6184 §5.1). Payloads are written into caller buffers behind a headroom reserved
 * for the RTP header, so a payload made once can be sent to many viewers with only the
 * header rewritten (DESIGN.md, "Memory and speed habits"). No allocation.
 *
 * Depacketizer (RFC 6184 §5.6-§5.8, receive side): single NAL, STAP-A and FU-A packets in
 * sequence order (a jitter buffer in front does the reordering). It rebuilds Annex-B
 * access units in one buffer allocated at creation and hands each one out when its
 * marker bit arrives or the RTP timestamp changes. A gap in sequence numbers marks the
 * frame incomplete; a FU-A with a gap inside is dropped whole (counted). Each frame also
 * says whether it can be decoded: a complete IDR frame once an SPS and a PPS have come
 * (in it or before), or a complete frame with an unbroken chain of complete frames back
 * to such an IDR. The very first frame has no sequence number before it to check, so it
 * counts as complete only if its first slice starts at macroblock 0 (first_mb_in_slice,
 * H.264 §7.3.3); a frame right after a gap only if it is also an IDR: what the gap took
 * then belonged to the frames before it, which an IDR does not need.
 */
#ifndef CAMRTC_H264_RTP_H
#define CAMRTC_H264_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/media.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_H264_NAL_STAP_A 24
#define CAMRTC_H264_NAL_FU_A 28

/* ---- packetizer ---------------------------------------------------------------------- */

#define CAMRTC_H264_DEFAULT_MTU 1200
#define CAMRTC_H264_PARAM_MAX 4          /* SPS/PPS NAL units held back at once */
#define CAMRTC_H264_PARAM_BYTES 1024     /* their total size bound */

typedef struct camrtc_h264_pack_config {
    size_t mtu;             /* bytes of the whole RTP packet incl. SRTP tag (default 1200) */
    size_t header_room;     /* bytes kept free in front of each payload for the RTP header
                             * (default 12; more when header extensions are sent) */
    size_t srtp_room;       /* bytes kept free after the payload for the SRTP tag (default 16,
                             * enough for AEAD_AES_128_GCM and AES_CM_128_HMAC_SHA1_80) */
} camrtc_h264_pack_config;

/* Fill cfg with the defaults above. */
void camrtc_h264_pack_config_default(camrtc_h264_pack_config *cfg);

typedef enum camrtc_h264_pkt_kind {
    CAMRTC_H264_PKT_SINGLE = 0,
    CAMRTC_H264_PKT_STAP_A,
    CAMRTC_H264_PKT_FU_A,
} camrtc_h264_pkt_kind;

/* What camrtc_h264_pack_next produced. The payload is at buf + header_room. */
typedef struct camrtc_h264_pkt_info {
    size_t payload_len;
    bool marker;            /* last packet of the access unit */
    uint32_t rtp_ts;        /* 90 kHz, the NAL's rtp_ts */
    camrtc_h264_pkt_kind kind;
    bool keyframe;          /* the NAL's keyframe flag */
    uint64_t frame_id;
} camrtc_h264_pkt_info;

typedef struct camrtc_h264_pack_stats {
    uint64_t nals;
    uint64_t packets;
    uint64_t stap_a;
    uint64_t fu_a;          /* FU-A packets (fragments) */
    uint64_t params_dropped;/* SPS/PPS over the CAMRTC_H264_PARAM_* bounds */
} camrtc_h264_pack_stats;

/* The packetizer is a plain caller-owned struct; the fields are private. */
typedef struct camrtc_h264_packer {
    size_t payload_max, header_room;
    /* Copies of the held-back parameter sets. */
    uint8_t params[CAMRTC_H264_PARAM_BYTES];
    size_t params_bytes;
    /* NAL units waiting to go out, in order: the held-back parameter sets (pointing into
     * params) and then the pushed NAL (caller memory). */
    struct { const uint8_t *data; size_t len; bool param; } q[CAMRTC_H264_PARAM_MAX + 1];
    size_t q_head, q_n;
    size_t fu_off;          /* bytes of q[q_head] already sent as FU-A fragments */
    bool ready;             /* the queue is to be drained (a non-parameter NAL, or the end of a frame) */
    bool last_of_frame, keyframe;
    uint32_t rtp_ts;
    uint64_t frame_id;
    camrtc_h264_pack_stats stats;
} camrtc_h264_packer;

/* Initialise p. cfg NULL means the defaults. CAMRTC_EINVAL when the payload budget
 * (mtu - header_room - srtp_room) is below 16 bytes or above 65535. */
int camrtc_h264_pack_init(camrtc_h264_packer *p, const camrtc_h264_pack_config *cfg);

/* Largest payload a packet will carry: mtu - header_room - srtp_room. The buffers given
 * to camrtc_h264_pack_next need header_room + this many bytes. */
size_t camrtc_h264_pack_payload_max(const camrtc_h264_packer *p);

/* Give the packetizer one NAL unit (no start code). SPS (7) and PPS (8) are copied and
 * held back (returns CAMRTC_OK, no packets yet) unless they end the frame; any other NAL
 * is referenced, not copied: nal->data must stay valid until camrtc_h264_pack_next has
 * returned 0. CAMRTC_ESTATE when the previous NAL is not drained yet, CAMRTC_EINVAL for
 * an empty NAL or one whose forbidden_zero bit is set. */
int camrtc_h264_pack_push(camrtc_h264_packer *p, const camrtc_nal *nal);

/* Write the next packet's payload to buf + header_room (buf has room for cap bytes in
 * all). Returns 1 with *info filled, 0 when everything pushed so far is out, or
 * CAMRTC_ETOOBIG when cap < header_room + payload_max. */
int camrtc_h264_pack_next(camrtc_h264_packer *p, uint8_t *buf, size_t cap, camrtc_h264_pkt_info *info);

/* Counters so far. */
const camrtc_h264_pack_stats *camrtc_h264_pack_get_stats(const camrtc_h264_packer *p);

/* ---- depacketizer -------------------------------------------------------------------- */

#define CAMRTC_H264_DEPACK_DEFAULT_MAX_FRAME (2u << 20)   /* 2 MiB of Annex-B per frame */

/* One access unit handed out by the depacketizer. data is Annex-B (00 00 00 01 before
 * each NAL) and stays valid only during the callback. */
typedef struct camrtc_h264_frame {
    const uint8_t *data;
    size_t len;
    uint32_t rtp_ts;
    uint16_t first_seq, last_seq;
    unsigned nals;
    bool complete;          /* no sequence gap, ended by the marker bit, nothing dropped */
    bool keyframe;          /* holds an IDR slice (type 5) */
    bool has_params;        /* holds SPS and PPS */
    bool decodable;         /* complete IDR with SPS/PPS seen, or complete with a complete chain since one */
} camrtc_h264_frame;

typedef struct camrtc_h264_depack_stats {
    uint64_t packets;
    uint64_t frames;
    uint64_t frames_incomplete;
    uint64_t frames_decodable;
    uint64_t gaps;              /* sequence gaps seen */
    uint64_t nals_dropped;      /* FU-A NAL units lost to a gap or a missing start/end */
    uint64_t malformed;         /* packets that did not parse (dropped) */
    uint64_t unsupported;       /* STAP-B, MTAP, FU-B, reserved types (dropped) */
    uint64_t late;              /* older than the last sequence number (dropped) */
    uint64_t too_big;           /* frames cut at max_frame_bytes */
} camrtc_h264_depack_stats;

typedef void (*camrtc_h264_frame_cb)(void *user, const camrtc_h264_frame *frame);

typedef struct camrtc_h264_depack camrtc_h264_depack;

/* Create a depacketizer with a frame buffer of max_frame_bytes (0 = the default; at
 * least 64) and the callback that receives each access unit. The callback must not call
 * back into the depacketizer. NULL when out of memory or on_frame is NULL. */
camrtc_h264_depack *camrtc_h264_depack_new(size_t max_frame_bytes, camrtc_h264_frame_cb on_frame,
                                           void *user);
void camrtc_h264_depack_free(camrtc_h264_depack *d);

/* Feed one RTP payload with its sequence number, timestamp and marker bit, in sequence
 * order. May call on_frame up to twice (the previous frame ended by a timestamp change,
 * then this one ended by its marker). Returns CAMRTC_OK, or CAMRTC_EPROTO /
 * CAMRTC_EUNSUPPORTED for a packet that was dropped (counted, and its frame marked
 * incomplete); the state stays usable either way. A packet up to 1000 sequence numbers
 * behind the last one (or a duplicate) is dropped as late (counted, CAMRTC_OK); a larger
 * jump either way counts as a gap. */
int camrtc_h264_depack_push(camrtc_h264_depack *d, uint16_t seq, uint32_t ts, bool marker,
                            const uint8_t *payload, size_t len);

/* Hand out the frame being assembled, if any, as it is (incomplete unless its marker
 * came). For the end of a stream. */
void camrtc_h264_depack_flush(camrtc_h264_depack *d);

/* Counters so far. */
const camrtc_h264_depack_stats *camrtc_h264_depack_get_stats(const camrtc_h264_depack *d);

#ifdef __cplusplus
}
#endif
#endif
