/* RTP and RTCP packet codecs, sans-I/O.
 *
 * RTP (RFC 3550 §5.1): the fixed header, CSRC list, padding, and header extensions in
 * the one-byte and two-byte forms of RFC 8285 §4.2/§4.3. Parsing never copies: the
 * parsed header points into the caller's packet, and every length read from the wire is
 * checked against what is left. Writing fills a caller buffer.
 *
 * RTCP (RFC 3550 §6): compound packets are walked one packet at a time with
 * camrtc_rtcp_iter. Each packet is checked and its fixed parts decoded: SR and RR with
 * report blocks (§6.4), SDES CNAME (§6.5), BYE (§6.6), generic NACK (RFC 4585 §6.2.1),
 * PLI (RFC 4585 §6.3.1), FIR (RFC 5104 §4.3.1), REMB (draft-alvestrand-rmcat-remb-03)
 * and transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). Reduced-size RTCP
 * (RFC 5506) is accepted: a compound need not start with SR/RR. Writers append one
 * packet each to a caller buffer; a compound packet is their concatenation.
 */
#ifndef CAMRTC_RTP_H
#define CAMRTC_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- RTP ------------------------------------------------------------------------------ */

#define CAMRTC_RTP_HEADER_MIN 12    /* fixed header, no CSRC, no extension */
#define CAMRTC_RTP_MAX_CSRC 15
#define CAMRTC_RTP_MAX_EXT 16       /* extension elements kept; more → CAMRTC_ETOOBIG */

#define CAMRTC_RTP_EXT_ONE_BYTE 0xBEDEu  /* RFC 8285 §4.2 profile */
#define CAMRTC_RTP_EXT_TWO_BYTE 0x1000u  /* RFC 8285 §4.3 profile (low 4 bits: appbits) */

/* One header extension element (RFC 8285). data points into the packet (parse) or into
 * caller memory (write). One-byte form: id 1..14, len 1..16. Two-byte form: id 1..255,
 * len 0..255. */
typedef struct camrtc_rtp_ext {
    uint8_t id;
    uint8_t len;
    const uint8_t *data;
} camrtc_rtp_ext;

/* A parsed (or to-be-written) RTP header. */
typedef struct camrtc_rtp_header {
    bool marker;
    uint8_t pt;                       /* payload type, 0..127 */
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    uint8_t csrc_count;
    uint32_t csrc[CAMRTC_RTP_MAX_CSRC];
    /* Extension: has_ext false → no extension block. ext_profile is the 16-bit
     * "defined by profile" value; elements are decoded only for the RFC 8285 forms. */
    bool has_ext;
    uint16_t ext_profile;
    uint8_t ext_count;
    camrtc_rtp_ext ext[CAMRTC_RTP_MAX_EXT];
    /* Filled by parse only. */
    size_t header_len;                /* offset of the payload in the packet */
    uint8_t padding_len;              /* RFC 3550 §5.1 P bit: bytes removed at the end */
    const uint8_t *payload;
    size_t payload_len;               /* without padding */
} camrtc_rtp_header;

/* True when the first byte looks like RTP/RTCP version 2 (RFC 7983 demultiplexing is the
 * caller's job; this only checks the version bits and the minimum size). */
bool camrtc_rtp_is_v2(const uint8_t *pkt, size_t len);

/* Parse an RTP packet. Returns CAMRTC_OK, CAMRTC_EPROTO when the packet is malformed
 * (wrong version, lengths past the end, bad padding, bad extension element), or
 * CAMRTC_ETOOBIG when it carries more than CAMRTC_RTP_MAX_EXT extension elements.
 * Unknown extension profiles are kept as a raw block (ext_count 0). Elements with
 * id 15 in the one-byte form end the walk (RFC 8285 §4.2). */
int camrtc_rtp_parse(const uint8_t *pkt, size_t len, camrtc_rtp_header *h);

/* The bytes camrtc_rtp_write_header will write for h: 12 + 4*csrc_count, plus the
 * extension block (padded to 32 bits) when ext_count > 0. The one-byte form is used
 * when every element fits it (id 1..14, len 1..16), the two-byte form otherwise.
 * CAMRTC_EINVAL for out-of-range fields (csrc_count > 15, pt > 127, id 0, too many). */
int camrtc_rtp_header_size(const camrtc_rtp_header *h);

/* Write the header described by h (marker, pt, seq, ts, ssrc, CSRCs, extension
 * elements; never padding) to out. Returns the bytes written, CAMRTC_ETOOBIG when cap is
 * too small, CAMRTC_EINVAL as for camrtc_rtp_header_size. */
int camrtc_rtp_write_header(const camrtc_rtp_header *h, uint8_t *out, size_t cap);

/* Find extension element id in a parsed header: its data and length, or
 * CAMRTC_ENOTFOUND. */
int camrtc_rtp_find_ext(const camrtc_rtp_header *h, uint8_t id, const uint8_t **data, size_t *len);

/* Rewrite fields in place in an already written header (the fan-out path: the payload
 * is shared, only sequence number, timestamp and SSRC change per viewer). pkt must
 * hold at least CAMRTC_RTP_HEADER_MIN bytes. */
void camrtc_rtp_set_seq(uint8_t *pkt, uint16_t seq);
void camrtc_rtp_set_ts(uint8_t *pkt, uint32_t ts);
void camrtc_rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc);

/* Wrap-aware comparison of 16-bit sequence numbers: true when a is newer than b
 * (within half the number space, RFC 1982 serial arithmetic). */
static inline bool camrtc_rtp_seq_newer(uint16_t a, uint16_t b)
{
    return a != b && (uint16_t)(a - b) < 0x8000u;
}

/* ---- RTCP ------------------------------------------------------------------------------ */

/* Packet types (RFC 3550 §12.1, RFC 4585 §6.1). */
enum {
    CAMRTC_RTCP_SR = 200,
    CAMRTC_RTCP_RR = 201,
    CAMRTC_RTCP_SDES = 202,
    CAMRTC_RTCP_BYE = 203,
    CAMRTC_RTCP_APP = 204,
    CAMRTC_RTCP_RTPFB = 205,   /* transport-layer feedback */
    CAMRTC_RTCP_PSFB = 206,    /* payload-specific feedback */
};

/* Feedback message types (FMT field). */
enum {
    CAMRTC_RTCP_FMT_NACK = 1,  /* RTPFB, RFC 4585 §6.2.1 */
    CAMRTC_RTCP_FMT_TWCC = 15, /* RTPFB, transport-wide CC */
    CAMRTC_RTCP_FMT_PLI = 1,   /* PSFB, RFC 4585 §6.3.1 */
    CAMRTC_RTCP_FMT_FIR = 4,   /* PSFB, RFC 5104 §4.3.1 */
    CAMRTC_RTCP_FMT_AFB = 15,  /* PSFB application layer feedback (REMB) */
};

/* What camrtc_rtcp_iter_next recognised. */
typedef enum camrtc_rtcp_kind {
    CAMRTC_RTCP_K_OTHER = 0,   /* valid header, unknown or unsupported type: body only */
    CAMRTC_RTCP_K_SR,
    CAMRTC_RTCP_K_RR,
    CAMRTC_RTCP_K_SDES,
    CAMRTC_RTCP_K_BYE,
    CAMRTC_RTCP_K_NACK,
    CAMRTC_RTCP_K_PLI,
    CAMRTC_RTCP_K_FIR,
    CAMRTC_RTCP_K_REMB,
    CAMRTC_RTCP_K_TWCC,
} camrtc_rtcp_kind;

#define CAMRTC_RTCP_MAX_RB 31       /* report count is 5 bits */
#define CAMRTC_RTCP_MAX_SDES 8      /* SDES chunks decoded; more are skipped */
#define CAMRTC_RTCP_MAX_FIR 8       /* FIR entries decoded; more are skipped */
#define CAMRTC_RTCP_MAX_REMB_SSRC 16/* REMB SSRCs decoded; more are skipped */
#define CAMRTC_RTCP_MAX_NACK_ITEMS 256 /* writer bound on PID/BLP pairs */

/* Report block (RFC 3550 §6.4.1). */
typedef struct camrtc_rtcp_rb {
    uint32_t ssrc;
    uint8_t fraction_lost;      /* fixed point, /256 */
    int32_t cumulative_lost;    /* signed 24 bits */
    uint32_t ext_highest_seq;
    uint32_t jitter;            /* in timestamp units */
    uint32_t lsr;               /* middle 32 bits of the last SR's NTP time */
    uint32_t dlsr;              /* delay since last SR, 1/65536 s */
} camrtc_rtcp_rb;

/* Sender info (RFC 3550 §6.4.1). */
typedef struct camrtc_rtcp_sr_info {
    uint64_t ntp;               /* 32.32 fixed point */
    uint32_t rtp_ts;
    uint32_t packet_count;
    uint32_t octet_count;
} camrtc_rtcp_sr_info;

typedef struct camrtc_rtcp_sdes_chunk {
    uint32_t ssrc;
    const char *cname;          /* points into the packet, NOT NUL-terminated; NULL if none */
    uint8_t cname_len;
} camrtc_rtcp_sdes_chunk;

typedef struct camrtc_rtcp_fir_entry {
    uint32_t ssrc;
    uint8_t seq_nr;
} camrtc_rtcp_fir_entry;

/* One packet of a compound, as decoded by camrtc_rtcp_iter_next. Pointers refer to the
 * caller's buffer. */
typedef struct camrtc_rtcp_packet {
    camrtc_rtcp_kind kind;
    uint8_t type;               /* packet type (200..) */
    uint8_t count;              /* RC / SC / FMT field */
    const uint8_t *body;        /* after the 4-byte header, padding removed */
    size_t body_len;
    uint32_t ssrc;              /* SR/RR: sender; feedback: packet sender */
    uint32_t media_ssrc;        /* feedback: media source */
    union {
        struct { camrtc_rtcp_sr_info info; uint8_t n_rb; camrtc_rtcp_rb rb[CAMRTC_RTCP_MAX_RB]; } sr;
        struct { uint8_t n_rb; camrtc_rtcp_rb rb[CAMRTC_RTCP_MAX_RB]; } rr;
        struct { uint8_t n_chunks; camrtc_rtcp_sdes_chunk chunk[CAMRTC_RTCP_MAX_SDES]; } sdes;
        struct { uint8_t n_ssrc; uint32_t ssrc[31]; const char *reason; uint8_t reason_len; } bye;
        struct { size_t n_items; const uint8_t *items; } nack;   /* PID/BLP pairs, see below */
        struct { uint8_t n; camrtc_rtcp_fir_entry entry[CAMRTC_RTCP_MAX_FIR]; } fir;
        struct { uint64_t bitrate_bps; uint8_t n_ssrc; uint32_t ssrc[CAMRTC_RTCP_MAX_REMB_SSRC]; } remb;
        struct {
            uint16_t base_seq;
            uint16_t status_count;
            int32_t ref_time;       /* signed 24 bits, multiples of 64 ms */
            uint8_t fb_count;
        } twcc;
    } u;
} camrtc_rtcp_packet;

/* Walks a compound RTCP packet. Zero-initialise, or use camrtc_rtcp_iter_init. */
typedef struct camrtc_rtcp_iter {
    const uint8_t *data;
    size_t len;
    size_t off;
} camrtc_rtcp_iter;

void camrtc_rtcp_iter_init(camrtc_rtcp_iter *it, const uint8_t *data, size_t len);

/* Decode the next packet into *pkt. Returns 1 when a packet was decoded, 0 at the end
 * of the compound, CAMRTC_EPROTO when the next packet is malformed (bad version, length
 * past the end, bad padding, body too short for its type, inconsistent TWCC chunks);
 * after an error the iterator stays at the end. Unknown types come back as
 * CAMRTC_RTCP_K_OTHER so the caller can skip them. */
int camrtc_rtcp_iter_next(camrtc_rtcp_iter *it, camrtc_rtcp_packet *pkt);

/* Check a whole compound packet: CAMRTC_OK when every packet in it decodes, else the
 * first error. An empty buffer is CAMRTC_EPROTO. */
int camrtc_rtcp_validate(const uint8_t *data, size_t len);

/* Expand the NACK items of a CAMRTC_RTCP_K_NACK packet into lost sequence numbers (PID,
 * then PID+i+1 for each set bit i of BLP). Writes at most max; returns the total number
 * of sequence numbers the packet names (which may exceed max). */
size_t camrtc_rtcp_nack_seqs(const camrtc_rtcp_packet *pkt, uint16_t *out, size_t max);

/* One packet reported in a transport-cc feedback. */
typedef struct camrtc_twcc_status {
    uint16_t seq;               /* transport-wide sequence number */
    uint8_t symbol;             /* 0 not received, 1 small delta, 2 large/negative delta */
    int32_t delta_250us;        /* receive delta in 250 µs units (received packets only) */
} camrtc_twcc_status;

/* Decode the packet status chunks and receive deltas of a CAMRTC_RTCP_K_TWCC packet.
 * Writes min(status_count, max) entries into out and *n; returns CAMRTC_OK or
 * CAMRTC_EPROTO (already ruled out when camrtc_rtcp_iter_next accepted the packet). */
int camrtc_rtcp_twcc_decode(const camrtc_rtcp_packet *pkt, camrtc_twcc_status *out, size_t max, size_t *n);

/* The middle 32 bits of a 64-bit NTP time: the LSR value a receiver echoes for an SR
 * with that time (RFC 3550 §6.4.1). */
static inline uint32_t camrtc_rtcp_ntp_mid(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

/* Round-trip time from a report block (RFC 3550 §6.4.1, Figure 2): arrival is the
 * middle 32 bits of the NTP time the RR arrived at; lsr and dlsr come from the block.
 * Returns microseconds, or -1 when lsr is 0 (no SR received yet) or the result would be
 * negative (clock trouble). */
int64_t camrtc_rtcp_rtt_us(uint32_t arrival, uint32_t lsr, uint32_t dlsr);

/* Writers. Each appends one RTCP packet at out (capacity cap) and returns its length in
 * bytes (a multiple of 4), CAMRTC_ETOOBIG when it does not fit, CAMRTC_EINVAL for bad
 * arguments (too many report blocks, empty lists, a CNAME longer than 255 bytes). */
int camrtc_rtcp_write_sr(uint8_t *out, size_t cap, uint32_t ssrc, const camrtc_rtcp_sr_info *info,
                         const camrtc_rtcp_rb *rb, size_t n_rb);
int camrtc_rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc, const camrtc_rtcp_rb *rb, size_t n_rb);
int camrtc_rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname);
int camrtc_rtcp_write_bye(uint8_t *out, size_t cap, const uint32_t *ssrc, size_t n_ssrc);
/* Generic NACK for seqs (n ≥ 1, in increasing wrap-aware order; duplicates allowed):
 * consecutive numbers within 16 of a PID share one PID/BLP item. At most
 * CAMRTC_RTCP_MAX_NACK_ITEMS items (else CAMRTC_EINVAL). */
int camrtc_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                           const uint16_t *seqs, size_t n);
int camrtc_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc);
/* FIR with one entry; RFC 5104 §4.3.1.2: media_ssrc in the common header is 0. */
int camrtc_rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint8_t seq_nr);
/* REMB: bitrate encoded as 6-bit exponent and 18-bit mantissa (rounded down). */
int camrtc_rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                           const uint32_t *ssrcs, size_t n_ssrc);

#ifdef __cplusplus
}
#endif
#endif
