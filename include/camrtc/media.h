/* The media side: sources of raw or pre-encoded video, libyuv conversion, the x264
 * encoder thread, and the encoded-slice ring that feeds the loop thread.
 *
 * Threads: a blocking source (V4L2) runs on its own capture thread and hands frames to
 * the encoder thread through a camrtc_ring (full → oldest raw frame dropped, counted).
 * Paced sources (testsrc, y4m, h264dir, h264) are read by the encoder thread on its own
 * clock. The encoder thread pushes camrtc_nal items into the output ring as x264 finishes
 * each slice and wakes the loop with uv_async_send; the loop drains the ring. Control
 * (force IDR, new bitrate) travels loop → encoder on its own ring.
 */
#ifndef CAMRTC_MEDIA_H
#define CAMRTC_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- raw frames ------------------------------------------------------------------ */

typedef enum camrtc_pixfmt {
    CAMRTC_PIX_I420 = 0,
    CAMRTC_PIX_NV12,
    CAMRTC_PIX_YUYV,
    CAMRTC_PIX_MJPEG,
} camrtc_pixfmt;

/* A raw frame. Planes point into memory owned by whoever produced the frame. For I420:
 * plane[0..2] = Y, U, V with stride[0..2]; NV12: Y, UV; YUYV and MJPEG: plane[0] with
 * bytes = its length. */
typedef struct camrtc_frame {
    camrtc_pixfmt fmt;
    int width, height;
    uint8_t *plane[3];
    int stride[3];
    size_t bytes;                  /* packed formats: valid bytes in plane[0] */
    uint64_t frame_id;             /* source's frame counter, from 0 */
    camrtc_time_us capture_us;     /* camrtc_now_us() when captured */
} camrtc_frame;

/* Convert any camrtc_frame to I420 at dst's size (scaling when sizes differ). dst must
 * be an I420 frame with its planes allocated. CAMRTC_EPROTO for a bad MJPEG frame,
 * CAMRTC_EINVAL for sizes out of range. */
int camrtc_convert_to_i420(const camrtc_frame *src, camrtc_frame *dst);

/* Allocate / free the planes of an I420 frame of w x h (even sizes, 16..8192). */
int camrtc_frame_alloc_i420(camrtc_frame *f, int w, int h);
void camrtc_frame_free(camrtc_frame *f);

/* ---- the test pattern's machine-readable block ------------------------------------ */

/* Burn frame_id and capture time into an I420 frame (moving pattern, large digits, and
 * a block of 64 black/white cells of 16x16 luma pixels in the top-left corner that
 * survives compression). */
void camrtc_testsrc_draw(camrtc_frame *f, uint64_t frame_id, camrtc_time_us capture_us);

/* Read the block back from a decoded I420 frame: CAMRTC_OK and the values, or
 * CAMRTC_ENOTFOUND when the block is not there (check bits fail). */
int camrtc_testsrc_read(const camrtc_frame *f, uint64_t *frame_id, camrtc_time_us *capture_us);

/* ---- sources ------------------------------------------------------------------------ */

typedef struct camrtc_source camrtc_source;

typedef struct camrtc_source_config {
    const char *spec;     /* "testsrc", "y4m:PATH", "v4l2:/dev/videoN", "h264dir:DIR", "h264:FILE" */
    int width, height;    /* wanted size (0 = the source's own or 1280x720 for testsrc) */
    int fps;              /* wanted rate (0 = the source's own or 30) */
} camrtc_source_config;

typedef struct camrtc_source_info {
    bool encoded;         /* delivers H.264 access units (bypasses the encoder) */
    bool blocking;        /* needs a capture thread (V4L2) */
    int width, height, fps;
    camrtc_pixfmt fmt;    /* raw sources */
} camrtc_source_info;

/* Open a source. On failure returns NULL and writes a one-line reason into err. */
camrtc_source *camrtc_source_open(const camrtc_source_config *cfg, char *err, size_t errsz);
void camrtc_source_close(camrtc_source *s);
const camrtc_source_info *camrtc_source_get_info(const camrtc_source *s);

/* Raw sources: the next frame (blocking for V4L2; immediately for paced sources, which
 * the caller paces). The frame stays valid until the next call. CAMRTC_ECLOSED at end
 * of a non-looping input, CAMRTC_EIO / CAMRTC_EPROTO with a message in err. */
int camrtc_source_read(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz);

/* Encoded sources: the next access unit in Annex-B (valid until the next call). */
int camrtc_source_read_au(camrtc_source *s, const uint8_t **au, size_t *len, bool *keyframe,
                          char *err, size_t errsz);

/* ---- encoded output ------------------------------------------------------------------ */

/* One NAL unit (no start code) as it leaves the encoder, in a buffer owned by the
 * pipeline until the consumer calls camrtc_pipeline_release. */
typedef struct camrtc_nal {
    const uint8_t *data;
    size_t len;
    uint8_t type;                  /* nal_unit_type (5 IDR, 1 slice, 7 SPS, 8 PPS, ...) */
    bool keyframe;                 /* part of an IDR access unit (SPS/PPS included) */
    bool last_of_frame;            /* the last NAL of its access unit */
    uint64_t frame_id;
    camrtc_time_us capture_us;
    uint32_t rtp_ts;               /* 90 kHz, from capture time */
    camrtc_time_us encoded_us;     /* when the encoder handed it on */
} camrtc_nal;

typedef enum camrtc_h264_profile {
    CAMRTC_H264_CONSTRAINED_BASELINE = 0,  /* profile-level-id 42e01f */
    CAMRTC_H264_MAIN,
    CAMRTC_H264_HIGH,
} camrtc_h264_profile;

typedef struct camrtc_encoder_config {
    int width, height, fps;
    int bitrate_kbps;              /* 0 = 2500 */
    int keyint;                    /* 0 = 2 s of frames; ignored with intra_refresh */
    bool intra_refresh;
    camrtc_h264_profile profile;
    int level_idc;                 /* 0 = 31 */
    int slice_max_size;            /* 0 = 1100 bytes: one slice fits an RTP packet */
    int threads;                   /* x264 threads, 0 = 1 (sliced threads off) */
    const char *preset;            /* NULL = "ultrafast" */
} camrtc_encoder_config;

/* Parse and serialize H.264 bits used by tests and SDP: the first SPS's profile_idc,
 * constraint flags and level_idc from Annex-B data. CAMRTC_ENOTFOUND when there is none. */
int camrtc_h264_find_sps(const uint8_t *annexb, size_t len, uint8_t *profile_idc,
                         uint8_t *constraints, uint8_t *level_idc);

/* Split Annex-B data into NAL units: calls fn for each (without start code). */
int camrtc_h264_split(const uint8_t *annexb, size_t len,
                      void (*fn)(void *user, const uint8_t *nal, size_t len), void *user);

#ifdef __cplusplus
}
#endif
#endif
