/* The media pipeline: source → (capture thread) → encoder thread → loop thread.
 *
 *   capture thread      only for blocking sources (V4L2): reads frames, converts them to
 *                       I420 at the target size straight into a free raw buffer (the copy
 *                       a V4L2 buffer needs anyway), and publishes it as the newest frame.
 *   encoder thread      paces the other sources at fps on its own absolute clock
 *                       (clock_nanosleep), converts with libyuv when needed, encodes with
 *                       x264 (camrtc/encoder.h) and pushes each NAL as x264 finishes it.
 *                       Pre-encoded sources (h264:, h264dir:) bypass x264: their access
 *                       units are paced the same way and split into NALs.
 *   loop thread         a uv_async handle wakes it; it drains every NAL present and calls
 *                       on_nal for each, in order. The consumer hands each NAL back with
 *                       camrtc_pipeline_release when done with its bytes.
 *
 * Bounds and drops (every one counted in camrtc_pipeline_stats):
 *   - raw frames (3 buffers): the capture thread publishes each frame as "the newest";
 *     the encoder always takes the newest, and a frame replaced before the encoder took
 *     it is dropped (raw_dropped_old): when the encoder falls behind, the oldest frames
 *     go and the newest is encoded (a live camera should show now, not catch up). The
 *     capture thread never waits and always has a buffer to fill. Lock-free: one atomic
 *     exchange each way plus an SPSC ring of free buffers (see pipeline.c).
 *   - output ring / NAL buffer pool: when either is full the encoder thread drops NALs
 *     until the next IDR and asks x264 for one at once, so the loop never sees a picture
 *     that refers to a lost one.
 *   - control ring (loop → encoder): force IDR, set bitrate, set profile; full →
 *     CAMRTC_ELIMIT. Messages are handled in order between two pictures.
 *
 * Threads never share protocol state; only the rings, the atomics of the stats, and the
 * NAL buffers (owned by whoever holds their index) cross threads.
 */
#ifndef CAMRTC_PIPELINE_H
#define CAMRTC_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/media.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_pipeline camrtc_pipeline;

/* Called on the loop thread for each NAL, in encoding order. The NAL (and its bytes)
 * stays valid until camrtc_pipeline_release(p, nal). Do not free the pipeline from
 * inside this callback (use on_end, or a later loop callback). */
typedef void (*camrtc_pipeline_nal_fn)(void *user, const camrtc_nal *nal);

/* Called once on the loop thread after the encoder thread has stopped by itself and
 * every NAL before has been delivered: status is CAMRTC_OK at the end of the input or
 * after max_frames, or the error that stopped it. The pipeline may be freed from here. */
typedef void (*camrtc_pipeline_end_fn)(void *user, int status);

#define CAMRTC_PIPELINE_RAW_CAP 3      /* raw frame buffers: filling, newest, encoding */
#define CAMRTC_PIPELINE_OUT_CAP 256    /* NALs between the encoder thread and the loop */
#define CAMRTC_PIPELINE_CTRL_CAP 16    /* control messages loop → encoder */
#define CAMRTC_PIPELINE_NAL_MAX (4u << 20) /* a bigger NAL is dropped (counted) */

/* The unusual knobs; a zeroed struct (or NULL) gives the defaults. */
typedef struct camrtc_pipeline_settings {
    camrtc_pipeline_end_fn on_end;
    size_t out_capacity;           /* 0 = CAMRTC_PIPELINE_OUT_CAP (rounded to a power of 2) */
    uint64_t max_frames;           /* stop after this many frames (0 = never) */
    bool unpaced;                  /* read paced sources as fast as they go (files, benches) */
    bool capture_thread;           /* use a capture thread even for a paced source (tests) */
    uint32_t rtp_offset;           /* added to every rtp_ts (see camrtc_encoder_set_rtp_offset) */
    /* Called on the encoder thread with each raw picture just before it is encoded
     * (tests: a slow encoder; instrumentation). May block; must not call the pipeline. */
    void (*on_picture)(void *user, const camrtc_frame *picture);
} camrtc_pipeline_settings;

/* Counters, all read with atomic loads: readable from any thread while running. */
typedef struct camrtc_pipeline_stats {
    uint64_t frames_captured;      /* raw frames or access units read from the source */
    uint64_t frames_encoded;       /* pictures through x264 (or access units passed on) */
    uint64_t nals_out;             /* NALs pushed to the loop */
    uint64_t nals_delivered;       /* NALs given to on_nal */
    uint64_t raw_dropped_old;      /* raw frames replaced by a newer one before encoding */
    uint64_t raw_dropped_full;     /* raw frames with no buffer to go in: 0 by design */
    uint64_t nals_dropped_ring_full;  /* NALs that found the output ring full */
    uint64_t nals_dropped_no_buffer;  /* NALs that found no free buffer (consumer holds them) */
    uint64_t nals_dropped_to_idr;  /* NALs dropped while waiting for the IDR after a drop */
    uint64_t nals_dropped_too_big; /* NALs over CAMRTC_PIPELINE_NAL_MAX */
    uint64_t idr_requests;         /* IDRs asked for (control ring or after a drop) */
    uint64_t bitrate_changes;
    uint64_t profile_changes;      /* x264 reopened with another profile */
    uint64_t profile_failures;     /* x264 refused the new profile: the old one goes on */
    uint64_t late_frames;          /* the pacer woke more than one period late */
    uint64_t encode_us_total;      /* time in camrtc_encoder_encode, summed */
    uint64_t encode_us_max;
    uint64_t convert_us_total;     /* time in libyuv conversion, summed */
    uint64_t nal_buffers;          /* NAL slots given a buffer (at first use): the pool's
                                    * memory follows the NALs in flight, not its size */
} camrtc_pipeline_stats;

/* Open the source and start the threads. enc may be NULL, and its width, height and fps
 * may be 0: the source's own are used. The NAL buffers, rings and threads belong to the
 * pipeline. Returns CAMRTC_OK and *out, or a negative code with a one-line reason in err
 * (source that does not open, encoder configuration refused, thread or memory failure). */
int camrtc_pipeline_new(uv_loop_t *loop, const camrtc_source_config *src,
                        const camrtc_encoder_config *enc, camrtc_pipeline_nal_fn on_nal,
                        void *user, const camrtc_pipeline_settings *settings,
                        camrtc_pipeline **out, char *err, size_t errsz);

/* Stop the threads (joins them), free every buffer and close the async handle (its
 * memory goes on the next loop iteration). NALs not yet released become invalid.
 * Loop thread only. NULL is fine. */
void camrtc_pipeline_free(camrtc_pipeline *p);

/* Give a NAL from on_nal back to the pool (loop thread). */
void camrtc_pipeline_release(camrtc_pipeline *p, const camrtc_nal *nal);

/* Ask for an IDR on the next picture (a PLI or FIR came in, or a new viewer). Loop
 * thread only. CAMRTC_ELIMIT when the control ring is full. Ignored by pre-encoded
 * sources, which send their own keyframes. */
int camrtc_pipeline_force_idr(camrtc_pipeline *p);

/* Change the encoder's target bitrate from the next picture on (loop thread).
 * CAMRTC_EINVAL outside 16..100000, CAMRTC_ELIMIT when the control ring is full. */
int camrtc_pipeline_set_bitrate(camrtc_pipeline *p, int kbps);

/* Switch the encoder to another H.264 profile (loop thread). x264 cannot change its
 * profile in place, so the encoder thread closes and reopens it between two pictures
 * (camrtc_encoder_set_profile): the next picture is an IDR with the new SPS/PPS, and
 * every NAL before it is of the old profile. Control messages keep their order, so a
 * force_idr asked after this one lands on the new profile. A profile x264 refuses
 * leaves the old one (counted in profile_failures). CAMRTC_EINVAL for an unknown
 * profile, CAMRTC_EUNSUPPORTED for a pre-encoded source (its profile is the file's),
 * CAMRTC_ELIMIT when the control ring is full. */
int camrtc_pipeline_set_profile(camrtc_pipeline *p, camrtc_h264_profile profile);

/* A snapshot of the counters (any thread). */
void camrtc_pipeline_get_stats(const camrtc_pipeline *p, camrtc_pipeline_stats *st);

/* What the source delivers (size, fps, encoded or raw). */
const camrtc_source_info *camrtc_pipeline_source_info(const camrtc_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
