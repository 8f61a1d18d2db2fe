/* H.264 Annex-B helpers shared inside media (sources, fuzz targets, tests).
 *
 * Annex-B (ITU-T H.264 Annex B.1): each NAL unit is preceded by a start code
 * 00 00 01, optionally with one more leading zero byte (00 00 00 01, zero_byte +
 * start_code_prefix_one_3bytes). Trailing zero bytes after a NAL are padding.
 */
#ifndef CAMRTC_MEDIA_H264_INT_H
#define CAMRTC_MEDIA_H264_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* NAL unit types we look at (H.264 Table 7-1). */
enum {
    H264_NAL_SLICE = 1,
    H264_NAL_IDR = 5,
    H264_NAL_SEI = 6,
    H264_NAL_SPS = 7,
    H264_NAL_PPS = 8,
    H264_NAL_AUD = 9,
};

/* One NAL unit found in an Annex-B buffer: [sc, nal) is its start code, [nal, nal+len)
 * the unit itself (header byte first, trailing zeros removed). */
typedef struct h264_nal_pos {
    size_t sc;
    size_t nal;
    size_t len;
} h264_nal_pos;

/* The next NAL unit at or after *off: true and *off moved past it, or false when there
 * is none. Bytes before the first start code are skipped (h264_split reports them). */
bool h264_next_nal(const uint8_t *buf, size_t len, size_t *off, h264_nal_pos *out);

/* The next access unit at or after *off (H.264 7.4.1.2.3): its span [*start, *start +
 * *au_len) in buf, start codes included; *keyframe when it holds an IDR slice. A new AU
 * begins at an AUD, SPS, PPS, SEI (or types 14..18) that follows a slice, or at a slice
 * with first_mb_in_slice == 0 that follows a slice. Returns 1 with an AU, 0 at the end,
 * CAMRTC_EPROTO for a NAL with forbidden_zero_bit set. An AU without any slice (only
 * parameter sets at the end of a stream) is returned too; *has_slice tells. */
int h264_next_au(const uint8_t *buf, size_t len, size_t *off, size_t *start, size_t *au_len,
                 bool *keyframe, bool *has_slice);

#endif
