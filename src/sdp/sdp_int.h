/* Internals shared by the SDP files: the string arena every camrtc_sdp owns, and small
 * helpers for building descriptions. */
#ifndef CAMRTC_SDP_INT_H
#define CAMRTC_SDP_INT_H

#include <stdarg.h>

#include "camrtc/sdp.h"

/* A new empty description with its arena; NULL on allocation failure. */
camrtc_sdp *sdp_new(void);

/* Copy n bytes of s (plus a NUL) into sdp's arena. NULL on allocation failure. */
const char *sdp_strndup(camrtc_sdp *sdp, const char *s, size_t n);
const char *sdp_strdup(camrtc_sdp *sdp, const char *s);
const char *sdp_printf(camrtc_sdp *sdp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write a reason for a failure (reasonsz 0 = none wanted). */
void sdp_reason(char *reason, size_t reasonsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Well-known header extension URIs. */
#define SDP_URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define SDP_URI_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define SDP_URI_TWCC "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

/* Rank of a level for comparisons: level 1b sits between 1.0 and 1.1. */
int sdp_h264_level_rank(int level);

/* "profile-level-id" text (6 hex digits) for a profile_idc/iop and a level, writing level
 * 1b the way the profile needs (RFC 6184 §8.1). */
void sdp_h264_plid_format(char out[7], uint8_t profile_idc, uint8_t profile_iop, int level);

/* True when payload type pt of m has feedback value (an exact match, or a "*" line). */
bool sdp_has_fb(const camrtc_sdp_media *m, int pt, const char *value);

#endif
