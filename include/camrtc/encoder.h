/* The H.264 encoder: a thin wrapper of libx264 tuned for real-time WebRTC.
 *
 * Settings (see camrtc_encoder_config in camrtc/media.h): preset "ultrafast" and tune
 * "zerolatency" (no B-frames, no lookahead: one picture in, its NALs out), constrained
 * baseline by default, CBR-like rate control (ABR with a VBV of about one frame, so no
 * picture is much larger than the average and the send pacer never bursts), SPS/PPS
 * repeated on every IDR (a viewer that joins late only needs the next IDR), slices of at
 * most slice_max_size bytes (one slice per RTP packet, RFC 6184 §5.6 single NAL unit
 * mode).
 *
 * Slice-level output: with one x264 thread, x264 hands each NAL to us as soon as it has
 * written it (x264_param_t.nalu_process), from inside x264_encoder_encode, and we pass it
 * on at once. Which NAL is the last of the picture is known only when
 * x264_encoder_encode returns, so the encoder holds back exactly one NAL: each NAL is
 * handed on when the next one is finished, and the last one (flagged last_of_frame, the
 * RTP marker bit of RFC 6184 §5.1) right after x264_encoder_encode returns. The first
 * slice of a picture thus leaves after two slices are encoded instead of after the whole
 * picture, and the last-of-frame flag stays on a real NAL (no empty marker items).
 * With threads > 1 x264 uses sliced threads, whose callbacks arrive out of order from
 * several threads; then NALs are handed on after x264_encoder_encode returns.
 *
 * Keyframes: by default an IDR every keyint frames. With intra_refresh the stream has
 * one IDR at the start (and one on each forced request); after that a column of intra
 * macroblocks sweeps across the picture, and keyint is the period of that sweep: every
 * keyint frames a new wave starts with a recovery point SEI (H.264 D.2.7), and a decoder
 * that joins anywhere shows a clean picture after at most one wave. No picture is much
 * bigger than another, which suits a one-frame VBV; the price is that a viewer who
 * joins late waits up to keyint frames unless it asks for an IDR (PLI/FIR).
 *
 * Frame SEI: unless the config sets no_frame_sei, every picture carries one SEI NAL
 * (user_data_unregistered with camrtc's UUID, see camrtc/media.h) holding its frame_id
 * and capture_us, so a receiver, or `camrtc probe`, knows which captured frame a picture
 * is without decoding it. It comes after SPS/PPS and before the first slice, and is
 * handed on like every other NAL (tagged with the picture's frame_id, keyframe on an
 * IDR). It costs about 40 bytes per picture (some 10 kbit/s at 30 fps).
 *
 * An encoder is used by one thread at a time (in camrtc, the pipeline's encoder thread).
 */
#ifndef CAMRTC_ENCODER_H
#define CAMRTC_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "camrtc/media.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_encoder camrtc_encoder;

/* Called for every NAL, in order, on the encoding thread. nal->data is valid only during
 * the call (copy it to keep it). */
typedef void (*camrtc_encoder_nal_fn)(void *user, const camrtc_nal *nal);

/* Defaults used when the config leaves a field at 0. */
#define CAMRTC_ENCODER_DEFAULT_KBPS 2500
#define CAMRTC_ENCODER_DEFAULT_LEVEL 31
#define CAMRTC_ENCODER_DEFAULT_SLICE_MAX 1100
#define CAMRTC_ENCODER_MIN_SIZE 16
#define CAMRTC_ENCODER_MAX_SIZE 8192

/* Create an encoder for I420 pictures of cfg->width x cfg->height (even, 16..8192) at
 * cfg->fps (1..240; 0 = 30). On failure returns a negative code (CAMRTC_EINVAL for a bad
 * configuration, CAMRTC_ENOMEM, CAMRTC_EUNSUPPORTED when x264 refuses it) and writes a
 * one-line reason into err (may be NULL). */
int camrtc_encoder_new(const camrtc_encoder_config *cfg, camrtc_encoder_nal_fn on_nal,
                       void *user, camrtc_encoder **out, char *err, size_t errsz);

/* Free the encoder (NULL is fine). */
void camrtc_encoder_free(camrtc_encoder *e);

/* Encode one I420 picture of the configured size. frame->frame_id and frame->capture_us
 * are copied into every NAL of the picture (and into its frame SEI); rtp_ts = capture_us * 90 / 1000 + offset
 * (mod 2^32). Calls on_nal for each NAL before returning. Returns the number of NALs
 * handed on (0 is possible), CAMRTC_EINVAL for a frame of the wrong size or format,
 * CAMRTC_EINTERNAL when x264 fails. */
int camrtc_encoder_encode(camrtc_encoder *e, const camrtc_frame *frame);

/* Make the next picture an IDR (with SPS/PPS in front). */
void camrtc_encoder_force_idr(camrtc_encoder *e);

/* Change the target bitrate (and the VBV with it) from the next picture on.
 * CAMRTC_EINVAL outside 16..100000 kbit/s, CAMRTC_EUNSUPPORTED when x264 refuses. */
int camrtc_encoder_set_bitrate(camrtc_encoder *e, int kbps);

/* Switch to another H.264 profile from the next picture on: x264 is closed and opened
 * again with the same settings (size, fps, level, current bitrate, slices, keyint) and
 * the new profile, so the next picture is an IDR with a new SPS/PPS. Use it only when
 * every receiver accepts the new profile (a decoder set up for constrained baseline may
 * show nothing of a High stream). Same thread as camrtc_encoder_encode. CAMRTC_OK
 * (also when the profile is already the current one: nothing changes), CAMRTC_EINVAL
 * for an unknown profile, CAMRTC_EUNSUPPORTED when x264 refuses (the encoder then keeps
 * its old profile). */
int camrtc_encoder_set_profile(camrtc_encoder *e, camrtc_h264_profile profile);

/* The profile the encoder makes now. */
camrtc_h264_profile camrtc_encoder_profile(const camrtc_encoder *e);

/* The current target bitrate in kbit/s. */
int camrtc_encoder_bitrate(const camrtc_encoder *e);

/* A fixed offset added to every rtp_ts (default 0). A sender may use it to start the RTP
 * clock at a value of its choice (RFC 3550 §5.1 recommends a random one; the caller
 * chooses, the encoder draws nothing itself). */
void camrtc_encoder_set_rtp_offset(camrtc_encoder *e, uint32_t offset);

/* The 90 kHz RTP timestamp of a capture time (RFC 6184 §5.1): capture_us * 90 / 1000 +
 * offset, mod 2^32. */
uint32_t camrtc_encoder_rtp_ts(camrtc_time_us capture_us, uint32_t offset);

#ifdef __cplusplus
}
#endif
#endif
