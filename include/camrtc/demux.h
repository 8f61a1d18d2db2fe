/* Telling the protocols on one WebRTC 5-tuple apart (RFC 7983 section 7).
 *
 * With BUNDLE and rtcp-mux, STUN, DTLS, TURN ChannelData, RTP and RTCP all
 * arrive on one socket; the first byte says which:
 *     0..3     STUN            (RFC 5764 / 7983)
 *     16..19   ZRTP            (reported as OTHER: WebRTC does not use it)
 *     20..63   DTLS
 *     64..79   TURN ChannelData (RFC 7983 section 7, after RFC 8656 section 12)
 *     128..191 RTP or RTCP
 * RTP and RTCP are then told apart by the second byte (RFC 5761 section 4):
 * RTCP packet types 192..223 (SR 200, RR 201, SDES 202, BYE 203, APP 204,
 * RTPFB 205, PSFB 206, XR 207) collide with RTP marker+payload type 64..95,
 * which is why those payload types are never used with rtcp-mux.
 * Pure functions; no state.
 */
#ifndef CAMRTC_DEMUX_H
#define CAMRTC_DEMUX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum camrtc_demux_class {
    CAMRTC_DEMUX_OTHER = 0,      /* drop (and count) */
    CAMRTC_DEMUX_STUN,
    CAMRTC_DEMUX_DTLS,
    CAMRTC_DEMUX_TURN_CHANNEL,
    CAMRTC_DEMUX_RTP,            /* RTP or RTCP by the first byte alone */
    CAMRTC_DEMUX_RTCP,           /* only from camrtc_demux_classify_packet */
} camrtc_demux_class;

/* The class of a datagram from its first byte alone: STUN, DTLS, TURN_CHANNEL,
 * RTP (meaning RTP or RTCP) or OTHER. */
camrtc_demux_class camrtc_demux_classify(uint8_t first_byte);

/* The class of a whole datagram: as camrtc_demux_classify, but RTP/RTCP split
 * by the second byte (RFC 5761 section 4). Empty input, or an RTP/RTCP packet
 * shorter than its fixed header (12 bytes RTP, 8 RTCP), is OTHER. */
camrtc_demux_class camrtc_demux_classify_packet(const uint8_t *data, size_t len);

/* A short name for logs ("stun", "dtls", ...). */
const char *camrtc_demux_class_name(camrtc_demux_class c);

#ifdef __cplusplus
}
#endif
#endif
