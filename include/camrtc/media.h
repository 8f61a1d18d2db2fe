/* The media side: sources of raw or pre-encoded video, libyuv conversion, the x264
 * encoder thread, and the encoded-slice ring that feeds the loop thread.
 *
 * Threads: a blocking source (V4L2) runs on its own capture thread and hands frames to
 * the encoder thread as "the newest frame" (a lock-free mailbox: a frame the encoder had
 * no time for is replaced by the next, so the oldest is dropped, counted; see
 * camrtc/pipeline.h).
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

/* Bounds on frame sizes accepted anywhere in media (allocation, conversion, sources). */
#define CAMRTC_FRAME_MIN_DIM 16
#define CAMRTC_FRAME_MAX_DIM 8192

/* Convert any camrtc_frame to I420 at dst's size (scaling when sizes differ). dst must
 * be an I420 frame with its planes allocated. All I420 in camrtc is BT.601 limited
 * range (Y 16..235, Cb/Cr 16..240), as x264 signals it: MJPEG's full-range samples are
 * rescaled to it (black 0 -> 16, white 255 -> 235); the other formats pass unchanged. CAMRTC_EPROTO for a bad MJPEG frame (or
 * a packed frame shorter than its size says), CAMRTC_EINVAL for sizes out of range.
 * This one-shot form opens libyuv for the call (CAMRTC_EUNSUPPORTED when it cannot be
 * loaded); a per-frame caller keeps a camrtc_converter. */
int camrtc_convert_to_i420(const camrtc_frame *src, camrtc_frame *dst);

/* A converter: libyuv, opened for it when it is made rather than linked into every
 * camrtc process (src/media/dynlib.h), and the scratch frame for the intermediate I420
 * picture when a format other than I420 is scaled (allocated only when the source
 * size changes: no allocation in the steady state). One thread at a time. */
typedef struct camrtc_converter camrtc_converter;

/* Make a converter. CAMRTC_EUNSUPPORTED with err naming the library and its Debian
 * package when libyuv cannot be loaded; CAMRTC_ENOMEM. */
int camrtc_converter_new(camrtc_converter **out, char *err, size_t errsz);

/* camrtc_convert_to_i420 with this converter's libyuv and scratch frame. */
int camrtc_converter_run(camrtc_converter *cv, const camrtc_frame *src, camrtc_frame *dst);

/* The scratch frame (zeroed until a conversion needed it); for tests. */
const camrtc_frame *camrtc_converter_scratch(const camrtc_converter *cv);

/* Free a converter and close its libyuv; NULL is accepted. */
void camrtc_converter_free(camrtc_converter *cv);

/* Allocate / free the planes of an I420 frame of w x h (even sizes, 16..8192), in one
 * allocation owned by f. camrtc_frame_free only for frames made by alloc_i420; it
 * zeroes f and accepts a zeroed frame. */
int camrtc_frame_alloc_i420(camrtc_frame *f, int w, int h);
void camrtc_frame_free(camrtc_frame *f);

/* ---- the test pattern's machine-readable block ------------------------------------ */

/* Burn frame_id and capture time into an I420 frame (moving pattern, large digits, and
 * a block of 64 black/white cells of 16x16 luma pixels in the top-left corner that
 * survives compression). The pattern includes a band of pseudo-random texture that
 * changes every frame (deterministic: a function of frame_id), so an encoder spends
 * real bits on every picture, as with a camera. The block needs a frame of at least 128x128
 * (CAMRTC_TESTSRC_BLOCK); smaller frames get the pattern only. */
#define CAMRTC_TESTSRC_BLOCK 128
void camrtc_testsrc_draw(camrtc_frame *f, uint64_t frame_id, camrtc_time_us capture_us);

/* Read the block back from a decoded I420 frame: CAMRTC_OK and the values, or
 * CAMRTC_ENOTFOUND when the block is not there (too little contrast, a cell neither
 * clearly dark nor clearly light, or the check bits fail). The block carries only frame_id mod 2^32 and the capture
 * time in whole milliseconds mod 2^24 (about 4.6 hours): *capture_us comes back as
 * ((capture_us / 1000) mod 2^24) * 1000; compare with camrtc_testsrc_ms_since. */
int camrtc_testsrc_read(const camrtc_frame *f, uint64_t *frame_id, camrtc_time_us *capture_us);

/* Milliseconds from a capture time read back by camrtc_testsrc_read to now (same
 * clock, camrtc_now_us), handling the 2^24 ms wrap: the latency of a frame. */
int64_t camrtc_testsrc_ms_since(camrtc_time_us read_capture_us, camrtc_time_us now);

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

/* Open a source. On failure returns NULL and writes a one-line reason into err.
 * cfg->width/height: 0x0 or even 16..4096; cfg->fps: 0..240; anything else is refused.
 * testsrc uses them as given; V4L2 picks, among the formats and sizes the camera lists
 * (and the frame intervals of each), one that delivers the rate, then the closest size,
 * then raw before MJPEG (info says what it got); y4m and the H.264 sources keep their
 * own size. */
camrtc_source *camrtc_source_open(const camrtc_source_config *cfg, char *err, size_t errsz);
void camrtc_source_close(camrtc_source *s);
const camrtc_source_info *camrtc_source_get_info(const camrtc_source *s);

/* Raw sources: the next frame (blocking for V4L2; immediately for paced sources, which
 * the caller paces). The frame stays valid until the next call, and its planes are
 * read-only (y4m hands out pointers into a read-only mapping of the file). CAMRTC_ECLOSED
 * at end of a non-looping input, CAMRTC_EIO / CAMRTC_EPROTO with a message in err.
 * Every raw source stamps out->capture_us itself with camrtc_now_us(): at the read for
 * testsrc and y4m (so pace the reads), at dequeue for V4L2; frame_id counts from 0 and
 * keeps counting across loops of a file. The file sources (y4m, h264dir, h264) loop
 * forever, so they never return CAMRTC_ECLOSED, except y4m from a pipe or FIFO
 * ("y4m:/dev/stdin"), which cannot be rewound: it plays once, then CAMRTC_ECLOSED. A y4m
 * file that shrinks while open gives CAMRTC_EIO. V4L2 waits at most 2 s for a frame
 * (CAMRTC_ETIMEDOUT), and drops and counts frames the driver marks broken.
 * Raw frames are I420 (testsrc, y4m) or the camera's YUYV / NV12 / I420 / MJPEG (V4L2):
 * use camrtc_convert_to_i420_scratch to bring them to the encoder's size. MJPEG
 * decodes to full-range (JFIF) samples; the conversion rescales them to the limited
 * range every other frame in camrtc uses (see camrtc_convert_to_i420). */
int camrtc_source_read(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz);

/* Encoded sources: the next access unit in Annex-B, start codes included (valid until
 * the next call); *keyframe when it holds an IDR slice. h264dir reads one file per call;
 * h264 cuts the stream it loaded at open. Their info gives width/height from the first
 * SPS (else as configured, 0 when not set) and fps as configured (default 30). */
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
    int keyint;                    /* 0 = 2 s of frames: the IDR period, or with
                                      intra_refresh the period of the refresh wave */
    bool intra_refresh;            /* no periodic IDR: see camrtc/encoder.h */
    camrtc_h264_profile profile;
    int level_idc;                 /* 0 = 31 */
    int slice_max_size;            /* 0 = 1100 bytes: one slice fits an RTP packet */
    int threads;                   /* x264 threads, 0 = 1 (sliced threads off) */
    const char *preset;            /* NULL = "ultrafast" */
    bool no_frame_sei;             /* leave out the camrtc SEI (frame id, capture time)
                                      that every picture carries by default */
} camrtc_encoder_config;

/* Parse and serialize H.264 bits used by tests and SDP: the first SPS's profile_idc,
 * constraint flags and level_idc from Annex-B data. CAMRTC_ENOTFOUND when there is none. */
int camrtc_h264_find_sps(const uint8_t *annexb, size_t len, uint8_t *profile_idc,
                         uint8_t *constraints, uint8_t *level_idc);

/* The picture size (after frame cropping) the first SPS in Annex-B data declares.
 * CAMRTC_ENOTFOUND without an SPS, CAMRTC_EPROTO for a malformed one. */
int camrtc_h264_sps_size(const uint8_t *annexb, size_t len, int *width, int *height);

/* Split Annex-B data into NAL units: calls fn (may be NULL) for each, without its start
 * code and trailing zero bytes; empty units are skipped. Returns the number of units,
 * or CAMRTC_EPROTO when anything but zero bytes precedes the first start code. */
int camrtc_h264_split(const uint8_t *annexb, size_t len,
                      void (*fn)(void *user, const uint8_t *nal, size_t len), void *user);

/* ---- the camrtc SEI: frame id and capture time in the bitstream ---------------------- */

/* Every picture camrtc encodes carries one SEI user_data_unregistered message (payloadType
 * 5, H.264 Annex D): the 16-byte UUID below (generated once for camrtc), then
 * version 1: a version byte (1), frame_id (u64) and capture_us (u64), big-endian. These
 * are the values the test pattern burns into its pixels (there only frame_id mod 2^32
 * and capture ms mod 2^24), so a receiver can read them without decoding a picture.
 * A reader accepts version 1 with more bytes after capture_us (room for later fields). */
#define CAMRTC_SEI_UUID_BYTES {0xb4, 0xdf, 0x6d, 0x21, 0x4b, 0xa7, 0x4b, 0x06, \
                               0xa5, 0x19, 0x95, 0x28, 0x29, 0x86, 0xbb, 0x53}
#define CAMRTC_SEI_VERSION 1
#define CAMRTC_SEI_PAYLOAD_SIZE (16 + 1 + 8 + 8)

/* Write the payload of that message (UUID, version, values; no SEI header) into out,
 * which holds at least CAMRTC_SEI_PAYLOAD_SIZE bytes. Returns CAMRTC_SEI_PAYLOAD_SIZE. */
size_t camrtc_h264_write_camrtc_sei(uint8_t *out, uint64_t frame_id, camrtc_time_us capture_us);

/* Find the camrtc message in one SEI NAL unit (no start code, header byte first, as in
 * camrtc_nal.data): walks every sei_message (7.3.2.3.1), emulation prevention bytes
 * removed. CAMRTC_OK and the values when found; CAMRTC_ENOTFOUND for another NAL type, an
 * SEI without our UUID, or another version; CAMRTC_EPROTO when a message runs past the end
 * of the NAL before ours was found; CAMRTC_EINVAL for NULL arguments. */
int camrtc_h264_read_camrtc_sei(const uint8_t *nal, size_t len, uint64_t *frame_id,
                                camrtc_time_us *capture_us);

#ifdef __cplusplus
}
#endif
#endif
