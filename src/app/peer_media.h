/* Video for `camrtc master` and `camrtc viewer`: peer connections (camrtc/pcuv.h) set up
 * over the signaling client (camrtc/sigclient.h).
 *
 * master: one pipeline (source → x264); each SDP_OFFER from a viewer gets its own SENDER
 *         pcuv and an SDP_ANSWER; every NAL is packetized once and sent to every
 *         connected viewer.
 * viewer: one RECEIVER pcuv, offered once signaling is connected; frames go to an
 *         Annex-B file.
 * Both trickle candidates as ICE_CANDIDATE messages, print a status line every second,
 * and write W3C-named statistics as JSON when they stop.
 */
#ifndef CAMRTC_APP_PEER_MEDIA_H
#define CAMRTC_APP_PEER_MEDIA_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "camrtc/kvs.h"
#include "camrtc/log.h"
#include "camrtc/sdp.h"
#include "camrtc/sigclient.h"
#include "camrtc/sigmsg.h"

typedef struct peer_media_opts {
    bool viewer;
    const char *source;           /* master: source spec (NULL = "testsrc") */
    int width, height, fps, bitrate_kbps;
    unsigned max_viewers;         /* master: 0 = 10 */
    bool relay_only;
    const char *stats_json;       /* NULL = none */
    const char *out;              /* viewer: Annex-B output file; NULL = frames are counted only */
    const char *ca_file;          /* TLS for turns: servers */
    /* --h264-profile: CONSTRAINED_BASELINE, MAIN or HIGH. Master: the profile the encoder
     * starts with (constrained baseline when not given); it follows the viewers' offers
     * from there (peer_media.c, master_offer). Viewer: offer only this profile. */
    bool h264_profile_set;
    camrtc_sdp_h264_profile h264_profile;
    /* Viewer: called once, from the loop, when the master's answer rejects our video (it
     * refused this viewer: camrtc_sdp_reject_offer). The peer connection is closed by
     * then and the stats say "refused": true; the caller stops (peer_media_stop) rather
     * than wait for --duration. NULL = keep running. */
    void (*on_refused)(void *ud);
    void *ud;
} peer_media_opts;

typedef struct peer_media peer_media;

/* Start (master: open the source and the encoder). NULL with a reason in err. */
peer_media *peer_media_new(uv_loop_t *loop, const camrtc_log *log, const peer_media_opts *o, char *err,
                           size_t errsz);

/* The signaling client to send through (set once it exists). */
void peer_media_set_client(peer_media *m, camrtc_sigclient *c);

/* Signaling events, passed on from the client's callbacks. */
void peer_media_on_state(peer_media *m, const char *state);
void peer_media_on_message(peer_media *m, const camrtc_sigmsg *msg);
void peer_media_on_ice_config(peer_media *m, const camrtc_kvs_ice_config *c);

/* Close every peer connection politely (DTLS close_notify, TURN deallocation), stop the
 * pipeline, write the stats file; then done(ud) from the loop, after which the caller
 * frees m with peer_media_free. Idempotent. */
void peer_media_stop(peer_media *m, void (*done)(void *ud), void *ud);
void peer_media_free(peer_media *m);

#endif
