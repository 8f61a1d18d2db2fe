/* H.264 negotiation internals (h264.c), used by negotiate.c. */
#ifndef CAMRTC_SDP_H264_H
#define CAMRTC_SDP_H264_H

#include "sdp/sdp_int.h"

/* What we can send. */
typedef struct sdp_h264_prefs {
    unsigned profiles;                 /* bits 1u << camrtc_sdp_h264_profile */
    int min_level, max_level;          /* level_idc (or CAMRTC_SDP_H264_LEVEL_1B) */
    bool no_mode0;
} sdp_h264_prefs;

/* The payload type chosen from an offer. */
typedef struct sdp_h264_choice {
    const camrtc_sdp_codec *codec;     /* in the offer */
    camrtc_sdp_h264_fmtp fmtp;         /* the offer's parameters for it */
    int send_level;                    /* min(ours, theirs) */
    int answer_level;                  /* the level our answer states */
    int rtx_pt;                        /* unused by sdp_h264_choose: -1 */
} sdp_h264_choice;

/* Choose the H.264 payload type of offer section m we send (rules in sdp.h at
 * camrtc_sdp_answer). CAMRTC_EUNSUPPORTED with a reason listing why each was refused. */
int sdp_h264_choose(const camrtc_sdp_media *m, const sdp_h264_prefs *prefs, sdp_h264_choice *out, char *reason,
                    size_t reasonsz);

/* The rtx payload type of m whose apt is pt (RFC 4588 §8.6), or -1. */
int sdp_rtx_for(const camrtc_sdp_media *m, uint8_t pt);

/* level_idc is one of H.264 Table A-1 (9 = 1b). */
bool sdp_h264_level_known(int level);

#endif
