/* What peer_media.c (sessions, offers, answers) and peer_stats.c (status line, stats
 * file, latency samples) share: the state of `camrtc master` / `camrtc viewer`. App layer,
 * not a library API. */
#ifndef CAMRTC_APP_PEER_MEDIA_INT_H
#define CAMRTC_APP_PEER_MEDIA_INT_H

#include <stdint.h>
#include <stdio.h>

#include "app/peer_media.h"
#include "camrtc/cert.h"
#include "camrtc/pcuv.h"
#include "camrtc/pipeline.h"
#include "camrtc/rand.h"
#include "camrtc/time.h"

#define MAX_PENDING 32        /* candidates held per direction before the description */
#define MAX_ENDED 64          /* finished sessions kept for the stats file */
#define DEFAULT_MAX_VIEWERS 10
#define STATUS_MS 1000

typedef struct pending {
    char *line[MAX_PENDING];  /* NULL entry = end-of-candidates */
    unsigned n;
    uint64_t dropped;
} pending;

typedef struct session {
    struct peer_media *m;
    struct session *next;
    char client_id[CAMRTC_SIGMSG_MAX_ID + 1];   /* the viewer's id at a master; "" at a viewer */
    camrtc_pcuv *pc;                            /* NULL once closed */
    char *offer;                                /* master: the offer, until on_ready answers it */
    bool described;                             /* our SDP went out */
    bool remote_set;                            /* the remote SDP is applied */
    bool closing;
    pending out, in;
    camrtc_time_us created_at, connected_at, first_frame_at;
    camrtc_time_us first_rtp_at;                /* master: first media packet sent (of an IDR) */
    char local_cand[CAMRTC_ICE_CANDIDATE_STRLEN], remote_cand[CAMRTC_ICE_CANDIDATE_STRLEN];
    camrtc_pc_stats last;                       /* read at on_close */
    uint64_t turn_moves;                        /* ICE's, read at state changes (gone at on_close) */
    camrtc_iceuv_stats net;
    uint64_t bytes_prev;                        /* for the status line */
    camrtc_pc_state state;
} session;

struct peer_media {
    uv_loop_t *loop;
    const camrtc_log *log;
    peer_media_opts o;
    camrtc_sigclient *client;
    camrtc_rng rng;
    camrtc_cert cert;
    camrtc_kvs_ice_config *ice;                 /* the latest GetIceServerConfig; NULL = none */
    camrtc_pipeline *pipe;
    camrtc_pc_packets pkts;
    session *live, *ended;
    unsigned nlive, nended;
    uint64_t refused, frames_prev;              /* master: viewers refused */
    bool refused_by_master;                     /* viewer: the answer rejected our video */
    FILE *out;
    uv_timer_t status;
    bool status_open, offered, stopping, stopped;
    void (*done)(void *ud);
    void *done_ud;
    camrtc_time_us started_at;
    camrtc_pipeline_stats pipe_stats;           /* as the pipeline stopped */
    int level;                                  /* H.264 level_idc of the encoder and the SDP */
    int width, height, fps;                     /* master: what the encoder makes */
    camrtc_sdp_h264_profile profile;            /* master: the encoder's profile (from its next
                                                 * picture on, after a switch) */
    /* Viewer: capture → frame complete, from the camrtc SEI the master's encoder puts in
     * every picture (same machine: both read the one monotonic clock). */
    uint32_t *lat_us;
    size_t nlat;
    uint64_t lat_dropped;                       /* samples past LAT_MAX */
};

#define LAT_MAX ((size_t)1 << 16)               /* latency samples kept (36 min at 30 fps) */

/* Viewers connected or connecting (live sessions not closing). */
unsigned peer_media_count_active(const peer_media *m);

/* Viewer: one latency sample from a complete frame (the encoder's SEI stamp, when the
 * master runs on this machine), taken at now. */
void peer_stats_frame_latency(peer_media *m, const uint8_t *au, size_t len, camrtc_time_us now);

/* The status line on stderr, every STATUS_MS (a uv_timer callback; data = the peer_media). */
void peer_stats_status_line(uv_timer_t *t);

/* Write the W3C-named stats file (--stats-json), if one was asked for. */
void peer_stats_write(peer_media *m);

#endif
