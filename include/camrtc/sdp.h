/* SDP (RFC 8866) for WebRTC: parse, serialize, offer/answer (RFC 3264, JSEP RFC 8829)
 * and H.264 negotiation (RFC 6184 §8), sans-I/O.
 *
 * camrtc_sdp is one session description. camrtc_sdp_parse builds it from text (bounded:
 * CAMRTC_SDP_MAX_* below; a malformed line is CAMRTC_EPROTO with a reason, an unknown
 * attribute is kept or, past the bound, dropped and counted). camrtc_sdp_write turns it
 * back into text. camrtc_sdp_answer answers a remote offer the way the master does
 * (sendonly H.264), camrtc_sdp_reject_offer when it refuses one; camrtc_sdp_create_offer
 * makes the viewer's offer (recvonly H.264) and camrtc_sdp_accept_answer reads the answer
 * to it (camrtc_sdp_answer_rejects_video: was it a refusal?). Both negotiation calls give back a
 * camrtc_sdp_negotiated: the remote transport parameters (ICE, DTLS fingerprint and role)
 * and the agreed video codec (payload type, rtx, feedback, header extensions, and the
 * H.264 profile and level the encoder must follow).
 *
 * What is written: BUNDLE (RFC 8843) with rtcp-mux (RFC 5761), a=mid, a=msid (RFC 8830),
 * a=ssrc with cname (RFC 5576), trickle ICE (RFC 8838/8840) with optional
 * end-of-candidates, a=setup (RFC 8842) and a=fingerprint (RFC 8122).
 *
 * Objects: every string in a camrtc_sdp points into memory owned by that camrtc_sdp and
 * lives until camrtc_sdp_free. Treat a camrtc_sdp as read-only; the functions here are
 * the only ones that fill it.
 */
#ifndef CAMRTC_SDP_H
#define CAMRTC_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds on remote input. */
#define CAMRTC_SDP_MAX_LEN 65536       /* bytes in one description */
#define CAMRTC_SDP_MAX_LINES 2048
#define CAMRTC_SDP_MAX_LINE 1024       /* bytes in one line, without CRLF */
#define CAMRTC_SDP_MAX_MEDIA 16        /* m= sections */
#define CAMRTC_SDP_MAX_FMTS 64         /* payload types on one m= line */
#define CAMRTC_SDP_MAX_RTCP_FB 256     /* a=rtcp-fb lines in one m= section */
#define CAMRTC_SDP_MAX_EXTMAP 24
#define CAMRTC_SDP_MAX_SSRC 16         /* a=ssrc lines in one m= section */
#define CAMRTC_SDP_MAX_SSRC_GROUPS 4
#define CAMRTC_SDP_MAX_CANDIDATES 32   /* more are dropped and counted */
#define CAMRTC_SDP_MAX_ATTRS 32        /* unknown attributes kept per section; more dropped */
#define CAMRTC_SDP_MAX_FINGERPRINT 64  /* bytes of a hash (sha-512) */

typedef enum camrtc_sdp_media_type {
    CAMRTC_SDP_AUDIO = 0,
    CAMRTC_SDP_VIDEO,
    CAMRTC_SDP_APPLICATION,
    CAMRTC_SDP_OTHER,
} camrtc_sdp_media_type;

typedef enum camrtc_sdp_direction {
    CAMRTC_SDP_SENDRECV = 0,           /* also the default when none is given */
    CAMRTC_SDP_SENDONLY,
    CAMRTC_SDP_RECVONLY,
    CAMRTC_SDP_INACTIVE,
} camrtc_sdp_direction;

/* a=setup (RFC 4145/8842): who starts the DTLS handshake. */
typedef enum camrtc_sdp_setup {
    CAMRTC_SDP_SETUP_NONE = 0,         /* absent */
    CAMRTC_SDP_SETUP_ACTPASS,
    CAMRTC_SDP_SETUP_ACTIVE,           /* DTLS client */
    CAMRTC_SDP_SETUP_PASSIVE,          /* DTLS server */
    CAMRTC_SDP_SETUP_HOLDCONN,
} camrtc_sdp_setup;

typedef struct camrtc_sdp_fingerprint {
    char alg[8];                       /* "sha-256" (lower case); "" when absent */
    uint8_t hash[CAMRTC_SDP_MAX_FINGERPRINT];
    size_t len;                        /* 32 for sha-256 */
} camrtc_sdp_fingerprint;

/* One payload type: its rtpmap and fmtp. */
typedef struct camrtc_sdp_codec {
    uint8_t pt;
    const char *name;                  /* "H264", "rtx", ...; NULL without a=rtpmap */
    uint32_t clock;
    uint8_t channels;                  /* 0 when not given */
    const char *fmtp;                  /* parameters after "a=fmtp:<pt> ", or NULL */
} camrtc_sdp_codec;

typedef struct camrtc_sdp_rtcp_fb {
    int pt;                            /* -1 for "*" (every payload type) */
    const char *value;                 /* "nack", "nack pli", "ccm fir", "goog-remb", ... */
} camrtc_sdp_rtcp_fb;

typedef struct camrtc_sdp_extmap {
    uint16_t id;                       /* 1..14 one-byte, up to 255 two-byte (RFC 8285) */
    const char *direction;             /* "sendonly", ... after the id, or NULL */
    const char *uri;
    const char *attributes;            /* extension attributes after the URI, or NULL */
} camrtc_sdp_extmap;

typedef struct camrtc_sdp_ssrc {
    uint32_t ssrc;
    const char *attr;                  /* "cname:..." or "msid:..." etc. */
} camrtc_sdp_ssrc;

typedef struct camrtc_sdp_ssrc_group {
    const char *semantics;             /* "FID", "SIM", ... */
    uint32_t ssrcs[4];
    size_t n;
} camrtc_sdp_ssrc_group;

/* An attribute this module does not interpret, kept as it came. */
typedef struct camrtc_sdp_attr {
    const char *name;
    const char *value;                 /* NULL for a flag attribute */
} camrtc_sdp_attr;

typedef struct camrtc_sdp_media {
    camrtc_sdp_media_type type;
    const char *media;                 /* the m= media token: "video", "audio", ... */
    uint16_t port;                     /* 0 = rejected or bundle-only */
    const char *proto;                 /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", ... */
    const char *fmt;                   /* the format list as written */
    bool rtp;                          /* proto carries RTP: fmt is a list of payload types */
    const char *conn;                  /* c= value ("IN IP4 0.0.0.0"), or NULL */
    const char *mid;
    camrtc_sdp_direction direction;
    bool rtcp_mux, rtcp_rsize, end_of_candidates, bundle_only;
    const char *ice_ufrag, *ice_pwd;   /* media level; see camrtc_sdp_ice_ufrag */
    camrtc_sdp_fingerprint fingerprint;
    camrtc_sdp_setup setup;
    const char *msid;                  /* "<stream> <track>", or NULL */
    uint16_t sctp_port;                /* a=sctp-port (or the old a=sctpmap), 0 when absent */
    uint32_t max_message_size;         /* 0 when absent */
    camrtc_sdp_codec codecs[CAMRTC_SDP_MAX_FMTS];   /* in m= line order (RTP only) */
    size_t n_codecs;
    camrtc_sdp_rtcp_fb rtcp_fb[CAMRTC_SDP_MAX_RTCP_FB];
    size_t n_rtcp_fb;
    camrtc_sdp_extmap extmap[CAMRTC_SDP_MAX_EXTMAP];
    size_t n_extmap;
    camrtc_sdp_ssrc ssrcs[CAMRTC_SDP_MAX_SSRC];
    size_t n_ssrcs;
    camrtc_sdp_ssrc_group ssrc_groups[CAMRTC_SDP_MAX_SSRC_GROUPS];
    size_t n_ssrc_groups;
    const char *candidates[CAMRTC_SDP_MAX_CANDIDATES]; /* "candidate:..." for camrtc_ice_candidate_parse */
    size_t n_candidates;
    camrtc_sdp_attr attrs[CAMRTC_SDP_MAX_ATTRS];
    size_t n_attrs;
} camrtc_sdp_media;

typedef struct camrtc_sdp_arena camrtc_sdp_arena;

typedef struct camrtc_sdp {
    const char *origin_user;           /* o= username ("-") */
    uint64_t sess_id, sess_version;
    const char *origin_addr;           /* o= "<nettype> <addrtype> <address>" */
    const char *name;                  /* s= */
    uint64_t t_start, t_stop;
    const char *bundle[CAMRTC_SDP_MAX_MEDIA]; /* mids of a=group:BUNDLE; [0] is the tag */
    size_t n_bundle;
    bool ice_trickle, ice_lite;        /* a=ice-options:trickle, a=ice-lite at either level */
    const char *msid_semantic;         /* "WMS *", or NULL */
    const char *ice_ufrag, *ice_pwd;   /* session level */
    camrtc_sdp_fingerprint fingerprint;
    camrtc_sdp_setup setup;
    camrtc_sdp_media media[CAMRTC_SDP_MAX_MEDIA];
    size_t n_media;
    camrtc_sdp_attr attrs[CAMRTC_SDP_MAX_ATTRS];
    size_t n_attrs;
    /* Input that was well-formed but not kept: attributes past CAMRTC_SDP_MAX_ATTRS,
     * candidates past CAMRTC_SDP_MAX_CANDIDATES, rtpmap/fmtp/rtcp-fb for a payload type
     * not on the m= line, lines of types this module does not use (b=, i=, k=, ...). */
    uint32_t dropped;
    camrtc_sdp_arena *arena_;          /* private: owns every string above */
} camrtc_sdp;

/* ---- parse and write ------------------------------------------------------------------ */

/* Parse len bytes of SDP (CRLF or LF line ends) into a new camrtc_sdp (*out, free with
 * camrtc_sdp_free). Checked: v=0 first; o= with six fields, s=, t= before the first m=;
 * m= lines; the attributes this module interprets (a bad value is an error, not a skip).
 * Returns CAMRTC_OK; CAMRTC_EPROTO for malformed input, CAMRTC_ETOOBIG past a bound,
 * CAMRTC_ENOMEM; on failure *out is NULL and reason (when reasonsz > 0) says which line
 * and why. */
int camrtc_sdp_parse(const char *text, size_t len, camrtc_sdp **out, char *reason, size_t reasonsz);

/* Free a description from this module (NULL is fine). */
void camrtc_sdp_free(camrtc_sdp *sdp);

/* Append the SDP text of sdp to out (CRLF line ends). CAMRTC_OK, CAMRTC_ENOMEM or
 * CAMRTC_ETOOBIG (out->max_cap). */
int camrtc_sdp_write(const camrtc_sdp *sdp, camrtc_buf *out);

/* ICE credentials, fingerprint and setup of a media section: its own, else the session's
 * (RFC 8839 §5.4, RFC 8122 §5). NULL / NULL / len 0 / SETUP_NONE when neither has one. */
const char *camrtc_sdp_ice_ufrag(const camrtc_sdp *sdp, const camrtc_sdp_media *m);
const char *camrtc_sdp_ice_pwd(const camrtc_sdp *sdp, const camrtc_sdp_media *m);
const camrtc_sdp_fingerprint *camrtc_sdp_get_fingerprint(const camrtc_sdp *sdp, const camrtc_sdp_media *m);
camrtc_sdp_setup camrtc_sdp_get_setup(const camrtc_sdp *sdp, const camrtc_sdp_media *m);

/* The codec entry of payload type pt in m, or NULL. */
const camrtc_sdp_codec *camrtc_sdp_find_codec(const camrtc_sdp_media *m, int pt);

/* Parse "sha-256 AB:CD:..." (an a=fingerprint value). CAMRTC_EPROTO when malformed,
 * CAMRTC_EUNSUPPORTED for a hash other than sha-1/224/256/384/512. */
int camrtc_sdp_fingerprint_parse(camrtc_sdp_fingerprint *fp, const char *value);

/* ---- H.264 (RFC 6184 §8.1) -------------------------------------------------------------- */

/* Profiles by profile_idc and profile-iop (the constraint flags), RFC 6184 §8.1 table
 * plus Constrained High (640c) as WebRTC uses it. */
typedef enum camrtc_sdp_h264_profile {
    CAMRTC_SDP_H264_CONSTRAINED_BASELINE = 0,  /* 42e0, 4240, 4d80, 58c0 ... */
    CAMRTC_SDP_H264_BASELINE,                  /* 4200, 5880 ... */
    CAMRTC_SDP_H264_MAIN,                      /* 4d00 */
    CAMRTC_SDP_H264_CONSTRAINED_HIGH,          /* 640c */
    CAMRTC_SDP_H264_HIGH,                      /* 6400 */
    CAMRTC_SDP_H264_OTHER,                     /* extended, high 10/4:2:2/4:4:4, ... */
} camrtc_sdp_h264_profile;

/* level_idc value this module uses for level 1b (written as 11 + constraint_set3 for
 * baseline/main, as 9 for the high profiles). It orders between 10 and 11. */
#define CAMRTC_SDP_H264_LEVEL_1B 9

typedef struct camrtc_sdp_h264_fmtp {
    uint8_t profile_idc, profile_iop, level_idc; /* profile-level-id; default 42000a */
    camrtc_sdp_h264_profile profile;
    int level;                         /* level_idc, or CAMRTC_SDP_H264_LEVEL_1B */
    int packetization_mode;            /* 0 (default), 1, 2 */
    bool level_asymmetry_allowed;
} camrtc_sdp_h264_fmtp;

/* Parse H.264 fmtp parameters ("a=b;c=d", spaces after ';' allowed; NULL = none given).
 * Unknown parameters (sprop-parameter-sets, max-mbps, ...) are skipped. Absent
 * profile-level-id means Baseline level 1.0 (RFC 6184 §8.1). CAMRTC_EPROTO when a value
 * we read is malformed. */
int camrtc_sdp_h264_fmtp_parse(camrtc_sdp_h264_fmtp *f, const char *fmtp);

/* The profile for a profile_idc and profile-iop pair. */
camrtc_sdp_h264_profile camrtc_sdp_h264_profile_of(uint8_t profile_idc, uint8_t profile_iop);

/* Name of a profile ("constrained-baseline", ...). */
const char *camrtc_sdp_h264_profile_name(camrtc_sdp_h264_profile p);

/* ---- negotiation ---------------------------------------------------------------------- */

/* Feedback (a=rtcp-fb) and header extensions (a=extmap) we can use; bits. */
#define CAMRTC_SDP_FB_NACK 0x01u       /* "nack" */
#define CAMRTC_SDP_FB_PLI 0x02u        /* "nack pli" */
#define CAMRTC_SDP_FB_FIR 0x04u        /* "ccm fir" */
#define CAMRTC_SDP_FB_REMB 0x08u       /* "goog-remb" */
#define CAMRTC_SDP_FB_TWCC 0x10u       /* "transport-cc" */
#define CAMRTC_SDP_FB_ALL 0x1fu
#define CAMRTC_SDP_EXT_MID 0x01u       /* urn:ietf:params:rtp-hdrext:sdes:mid */
#define CAMRTC_SDP_EXT_ABS_SEND_TIME 0x02u
#define CAMRTC_SDP_EXT_TWCC 0x04u      /* transport-wide-cc-extensions-01 */
#define CAMRTC_SDP_EXT_ALL 0x07u
/* For the config fields below whose 0 means "the default": ask for none with this. */
#define CAMRTC_SDP_NONE 0x80000000u

/* Profiles we can send, as bits (1u << camrtc_sdp_h264_profile). */
#define CAMRTC_SDP_H264_CAN_SEND_DEFAULT                                                      \
    ((1u << CAMRTC_SDP_H264_CONSTRAINED_BASELINE) | (1u << CAMRTC_SDP_H264_BASELINE) |        \
     (1u << CAMRTC_SDP_H264_MAIN) | (1u << CAMRTC_SDP_H264_CONSTRAINED_HIGH) |                \
     (1u << CAMRTC_SDP_H264_HIGH))

/* What our side is: shared by offers and answers. Strings are copied. */
typedef struct camrtc_sdp_local {
    const char *ice_ufrag, *ice_pwd;   /* required */
    const uint8_t *fingerprint;        /* SHA-256 of our DTLS certificate, 32 bytes; required */
    bool trickle;                      /* a=ice-options:trickle */
    const char *const *candidates;     /* "candidate:..." lines known now (may be NULL) */
    size_t n_candidates;
    bool end_of_candidates;            /* gathering is done: write a=end-of-candidates */
    uint64_t sess_id;                  /* o= session id; 0 = 1 */
    uint64_t sess_version;             /* o= version */
    const char *cname;                 /* RTCP CNAME for a=ssrc; NULL = "camrtc" */
    const char *stream_id, *track_id;  /* a=msid; NULL = "camrtc" / "video0" */
    uint32_t video_ssrc, rtx_ssrc;     /* our sending SSRCs; rtx is answered only with an rtx_ssrc */
    unsigned feedback;                 /* CAMRTC_SDP_FB_* we implement; 0 = ALL */
    unsigned extensions;               /* CAMRTC_SDP_EXT_* we implement; 0 = ALL */
    bool no_rtx;                       /* never negotiate rtx (retransmit on the media SSRC) */
    /* H.264: profiles we can send (0 = CAN_SEND_DEFAULT) and the level range: an offer
     * whose level is below min_level is not acceptable (the stream would not fit);
     * max_level is the most our encoder makes (0 = 31, i.e. 3.1). */
    unsigned h264_profiles;
    int h264_min_level, h264_max_level;
    /* packetization-mode 0 (single NAL unit) is accepted, after mode 1: the packetizer then
     * sends each NAL unit in one packet (no STAP-A, no FU-A), which works because the
     * encoder keeps every slice under the MTU (slice_max_size). Set this to refuse it. */
    bool h264_no_mode0;
} camrtc_sdp_local;

/* How the master answers. */
typedef struct camrtc_sdp_answer_config {
    camrtc_sdp_local local;
    bool video_send, video_recv;       /* what we do with video: the master sends only */
    bool accept_audio;                 /* else audio is rejected (port 0) */
    bool audio_send, audio_recv;       /* with accept_audio: our audio direction */
    camrtc_sdp_setup setup;            /* our role when the offer says actpass:
                                        * ACTIVE (0/NONE = ACTIVE, like the KVS SDKs) or PASSIVE */
} camrtc_sdp_answer_config;

/* How the viewer offers. */
typedef struct camrtc_sdp_offer_config {
    camrtc_sdp_local local;
    camrtc_sdp_direction video_direction;   /* 0 = SENDRECV; the viewer uses RECVONLY */
} camrtc_sdp_offer_config;

/* The outcome of a negotiation: what the transport and the media stages must use. */
typedef struct camrtc_sdp_negotiated {
    /* Transport (from the BUNDLE-tagged remote media section). Strings point into the
     * remote camrtc_sdp. */
    const char *remote_ufrag, *remote_pwd;
    camrtc_sdp_fingerprint remote_fingerprint;
    bool dtls_client;                  /* we are DTLS client (a=setup:active on our side) */
    bool remote_trickle, remote_ice_lite;
    const camrtc_sdp_media *transport; /* remote section whose candidates to use */
    /* Video. */
    bool video;                        /* a video section was accepted */
    const char *video_mid;
    camrtc_sdp_direction video_direction;   /* ours, as written in our description */
    uint8_t video_pt;
    int rtx_pt;                        /* -1 = none */
    unsigned feedback;                 /* CAMRTC_SDP_FB_* agreed */
    int ext_mid, ext_abs_send_time, ext_twcc;   /* header extension ids, 0 = none */
    camrtc_sdp_h264_profile profile;   /* the profile the stream is labelled with */
    uint8_t profile_idc, profile_iop;  /* as written in the agreed profile-level-id */
    int send_level;                    /* level_idc we may encode at (min of ours and theirs);
                                        * CAMRTC_SDP_H264_LEVEL_1B is possible: set
                                        * h264_min_level to what the stream needs */
    int packetization_mode;            /* 0: single NAL units only (no STAP-A/FU-A) */
    camrtc_sdp_h264_profile encode_profile; /* what the encoder makes: CONSTRAINED_BASELINE,
                                        * MAIN or HIGH (a subset of what was agreed) */
    /* Other sections: how many were rejected (audio, data channel, unknown). */
    unsigned rejected;
    bool audio;                        /* an audio section was accepted (accept_audio) */
    int audio_pt;
} camrtc_sdp_negotiated;

/* Answer a remote offer as described in cfg (the master: sendonly H.264):
 * - video: the offer's H.264 payload type we can send, chosen in this order:
 *   profile (constrained baseline, baseline, main, constrained high, high; only those in
 *   h264_profiles), packetization-mode 1 over 0, the higher agreed level, offer order;
 *   its level must be at least h264_min_level. The answer carries exactly that payload
 *   type (same profile; level = min(ours, theirs), or ours when both sides allow level
 *   asymmetry), its rtx if offered, the feedback and header extensions both sides know.
 * - audio: rejected with port 0 unless accept_audio (then opus, PCMU or PCMA);
 * - application (data channel) and anything else: rejected with port 0 and the same proto;
 * - mids mirrored; BUNDLE lists the accepted mids, the offer's tag first when accepted;
 * - a=setup: cfg->setup when the offer says actpass, else the opposite of the offer's.
 * On success *answer (free with camrtc_sdp_free) and *neg (pointing into offer).
 * CAMRTC_EUNSUPPORTED with a reason when no acceptable H.264 is offered or the offer
 * lacks what WebRTC needs (ICE credentials, a sha-256 fingerprint, rtcp-mux on video);
 * CAMRTC_EINVAL for a bad cfg; CAMRTC_ENOMEM. */
int camrtc_sdp_answer(const camrtc_sdp *offer, const camrtc_sdp_answer_config *cfg, camrtc_sdp **answer,
                      camrtc_sdp_negotiated *neg, char *reason, size_t reasonsz);

/* Refuse an offer as a whole (RFC 3264 §6): an answer that rejects every m= section, in
 * the offer's order, with port 0, the offer's media and proto, its first format and its
 * mid; no BUNDLE group, no candidates. The master sends it to a viewer it will not serve
 * (too many viewers, no H.264 it can send) so the viewer learns it at once, and keeps no
 * state for it. local may be NULL: then the sections carry nothing more, which is all
 * JSEP (RFC 8829 §5.3.1, §5.8) asks of a rejected section and all Chromium needs (with
 * its default bundle policy; max-bundle wants a BUNDLE group in any answer). With
 * local (its ICE credentials, fingerprint and sess_id; the rest unused) every section gets
 * ICE, DTLS (a=setup active, or passive to an active offer), rtcp-mux where offered and
 * the echoed format's rtpmap/fmtp: aiortc checks those on rejected sections too.
 * *answer is freed with camrtc_sdp_free. CAMRTC_EINVAL (bad local), CAMRTC_ENOMEM. */
int camrtc_sdp_reject_offer(const camrtc_sdp *offer, const camrtc_sdp_local *local, camrtc_sdp **answer);

/* Does this answer (to our offer) refuse our video? True when it has a video m= section
 * and every one is rejected (port 0 without a=bundle-only, RFC 3264 §6, RFC 8843 §6):
 * the viewer then stops instead of waiting for media. *all_rejected (when not NULL) says
 * whether every m= section of the answer is rejected, as camrtc_sdp_reject_offer makes. */
bool camrtc_sdp_answer_rejects_video(const camrtc_sdp *answer, bool *all_rejected);

/* Make our offer (the viewer): one video section, mid "0", BUNDLE, rtcp-mux, rtcp-rsize,
 * H.264 payload types 102 (42e01f mode 1), 104 (42e01f mode 0), 106 (42001f mode 1),
 * 108 (4d001f mode 1), 110 (640c1f mode 1) each with rtx (pt + 1) unless no_rtx, filtered
 * by h264_profiles, level max_level, level-asymmetry-allowed=1; a=setup:actpass.
 * *offer is freed with camrtc_sdp_free. CAMRTC_EINVAL, CAMRTC_ENOMEM. */
int camrtc_sdp_create_offer(const camrtc_sdp_offer_config *cfg, camrtc_sdp **offer);

/* Read the remote answer to our offer: the first payload type of its video section that
 * we offered as H.264, with the answer's profile/level (the level we may send is the
 * answer's level), its rtx, feedback and extensions; DTLS role from its a=setup
 * (active → we are server). *neg points into answer. CAMRTC_EUNSUPPORTED with a reason
 * when the answer picks nothing we offered or lacks ICE/DTLS parameters. */
int camrtc_sdp_accept_answer(const camrtc_sdp *offer, const camrtc_sdp *answer, camrtc_sdp_negotiated *neg,
                             char *reason, size_t reasonsz);


/* ---- one encoder for every viewer: which H.264 profile to answer with --------------------
 *
 * The master has one encoder and many viewers, so every viewer must accept what that
 * encoder makes: a stream whose profile or level is not what the answer says may decode
 * to nothing (the black screen of a profile mismatch). For each offer, the master
 * answers with the profile the encoder makes now when the offer accepts it; else, when
 * nobody else watches, it switches the encoder first; else it refuses. These two pure
 * functions make that decision; the caller does the switching. */

#define CAMRTC_SDP_H264_NPROFILES (CAMRTC_SDP_H264_OTHER + 1)

/* The profile labels (bits 1u << camrtc_sdp_h264_profile, as camrtc_sdp_local.h264_profiles)
 * a stream from an encoder making `encode` may carry in SDP (RFC 6184 §8.1):
 * CONSTRAINED_BASELINE as constrained baseline or baseline (a baseline decoder takes it),
 * MAIN as main, HIGH as high or constrained high (H.264 A.2.4.2: no B slices, progressive
 * frames; camrtc's x264 settings make neither B slices nor fields). 0 for other values. */
unsigned camrtc_sdp_h264_labels(camrtc_sdp_h264_profile encode);

/* The highest level an offer accepts for each profile label, from its first video section
 * that carries RTP and is not disabled: levels[p] is a level_idc (CAMRTC_SDP_H264_LEVEL_1B
 * for 1b), or 0 when no payload type of profile p is there. Only H.264 payload types we
 * can send count: a well-formed fmtp, packetization-mode 1, or 0 unless no_mode0. */
void camrtc_sdp_h264_offer_levels(const camrtc_sdp *offer, bool no_mode0, int levels[CAMRTC_SDP_H264_NPROFILES]);

typedef enum camrtc_sdp_h264_verdict {
    CAMRTC_SDP_H264_KEEP = 0,          /* answer with the profile the encoder makes now */
    CAMRTC_SDP_H264_SWITCH,            /* switch the encoder to plan.encode, then answer */
    CAMRTC_SDP_H264_REFUSE_BUSY,       /* another profile would do, but others watch this one */
    CAMRTC_SDP_H264_REFUSE_LEVEL,      /* profiles we make, all below the level we need */
    CAMRTC_SDP_H264_REFUSE_PROFILE,    /* no H.264 profile we can make */
} camrtc_sdp_h264_verdict;

typedef struct camrtc_sdp_h264_plan {
    camrtc_sdp_h264_verdict verdict;
    camrtc_sdp_h264_profile encode;    /* KEEP: the current profile; SWITCH: the new one;
                                        * REFUSE_BUSY: the one the offer would take */
    unsigned labels;                   /* KEEP, SWITCH: h264_profiles for the answer: the
                                        * labels of encode offered at need_level or above */
    int offer_level;                   /* the highest level offered for any profile we make
                                        * (0 = none): what REFUSE_LEVEL reports */
} camrtc_sdp_h264_plan;

/* Decide for one offer (levels from camrtc_sdp_h264_offer_levels). current is what the
 * encoder makes now (CONSTRAINED_BASELINE, MAIN or HIGH); need_level the level_idc it
 * encodes at (what the picture size and rate need: an offer must accept at least that);
 * can_switch says that no other viewer is connected or connecting (and the encoder can
 * change profile at all). In this order:
 * - KEEP when the offer has a label of current at need_level or above;
 * - SWITCH (can_switch) or REFUSE_BUSY (not) when it has one of another profile: the
 *   first of constrained baseline, main, high (the most widely decodable first);
 * - REFUSE_LEVEL when it has labels of profiles we make, all below need_level;
 * - REFUSE_PROFILE otherwise. */
void camrtc_sdp_h264_decide(const int levels[CAMRTC_SDP_H264_NPROFILES], camrtc_sdp_h264_profile current,
                            int need_level, bool can_switch, camrtc_sdp_h264_plan *out);

#ifdef __cplusplus
}
#endif
#endif
