/* Annex-B splitting, the SPS's first bytes, and access-unit boundaries (ITU-T H.264
 * Annex B, 7.3.2.1 SPS syntax, 7.4.1.2.3 order of NAL units in an access unit). */
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "media/h264_int.h"

/* Offset of the next 00 00 01 at or after off, or len. */
static size_t find_start_code(const uint8_t *buf, size_t len, size_t off)
{
    for (size_t i = off; i + 3 <= len; i++) {
        /* Skip fast: a start code needs buf[i+2] == 1 and two zeros before it. */
        if (buf[i + 2] > 1)
            i += 2;
        else if (buf[i] == 0 && buf[i + 1] == 0 && buf[i + 2] == 1)
            return i;
    }
    return len;
}

bool h264_next_nal(const uint8_t *buf, size_t len, size_t *off, h264_nal_pos *out)
{
    size_t pos = *off;
    for (;;) {
        size_t sc = find_start_code(buf, len, pos);
        if (sc >= len)
            return false;
        size_t nal = sc + 3;
        /* The zero_byte of a 4-byte start code belongs to the start code (the previous
         * unit's trailing zeros are never part of it, see below). */
        if (sc > 0 && buf[sc - 1] == 0)
            sc--;
        size_t next = find_start_code(buf, len, nal);
        size_t end = next;
        /* trailing_zero_8bits, and the zero_byte of the next 4-byte start code. */
        while (end > nal && buf[end - 1] == 0)
            end--;
        if (end == nal) { /* empty unit: a start code right after another */
            pos = next;
            *off = next;
            continue;
        }
        out->sc = sc;
        out->nal = nal;
        out->len = end - nal;
        *off = next;
        return true;
    }
}

int camrtc_h264_split(const uint8_t *annexb, size_t len,
                      void (*fn)(void *user, const uint8_t *nal, size_t len), void *user)
{
    if (!annexb && len)
        return CAMRTC_EINVAL;
    size_t first = find_start_code(annexb, len, 0);
    /* Only zero bytes may precede the first start code (leading_zero_8bits, B.2). */
    for (size_t i = 0; i < first; i++)
        if (annexb[i] != 0)
            return CAMRTC_EPROTO;
    size_t off = 0;
    int n = 0;
    h264_nal_pos p;
    while (n < INT32_MAX && h264_next_nal(annexb, len, &off, &p)) {
        if (fn)
            fn(user, annexb + p.nal, p.len);
        n++;
    }
    return n;
}

/* Copy up to cap RBSP bytes of a NAL (after its header byte), removing emulation
 * prevention bytes (00 00 03 -> 00 00, 7.4.1). Returns the count copied. */
static size_t nal_to_rbsp(const uint8_t *nal, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int zeros = 0;
    for (size_t i = 1; i < len && n < cap; i++) {
        if (zeros >= 2 && nal[i] == 3) {
            zeros = 0;
            continue;
        }
        zeros = nal[i] == 0 ? zeros + 1 : 0;
        out[n++] = nal[i];
    }
    return n;
}

int camrtc_h264_find_sps(const uint8_t *annexb, size_t len, uint8_t *profile_idc,
                         uint8_t *constraints, uint8_t *level_idc)
{
    if (!annexb)
        return CAMRTC_ENOTFOUND;
    size_t off = 0;
    h264_nal_pos p;
    while (h264_next_nal(annexb, len, &off, &p)) {
        if ((annexb[p.nal] & 0x1f) != H264_NAL_SPS)
            continue;
        uint8_t rbsp[3];
        if (nal_to_rbsp(annexb + p.nal, p.len, rbsp, sizeof rbsp) < sizeof rbsp)
            continue; /* too short to be an SPS: look for another */
        if (profile_idc)
            *profile_idc = rbsp[0];
        if (constraints)
            *constraints = rbsp[1];
        if (level_idc)
            *level_idc = rbsp[2];
        return CAMRTC_OK;
    }
    return CAMRTC_ENOTFOUND;
}

/* ---- SPS picture size (7.3.2.1.1, 7.4.2.1.1) -------------------------------------------- */

/* Reads bits MSB first from an RBSP; reading past the end sets bad instead of failing
 * at each call, and the caller checks once. */
typedef struct bitreader {
    const uint8_t *p;
    size_t len, bit;
    bool bad;
} bitreader;

static uint32_t br_u(bitreader *b, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++) {
        if (b->bit >= b->len * 8) {
            b->bad = true;
            return 0;
        }
        v = (v << 1) | ((b->p[b->bit / 8] >> (7 - b->bit % 8)) & 1);
        b->bit++;
    }
    return v;
}

/* ue(v), Exp-Golomb (9.1); more than 31 leading zeros is malformed. */
static uint32_t br_ue(bitreader *b)
{
    int zeros = 0;
    while (!b->bad && br_u(b, 1) == 0)
        if (++zeros > 31) {
            b->bad = true;
            return 0;
        }
    if (b->bad)
        return 0;
    return (uint32_t)(((uint64_t)1 << zeros) - 1 + br_u(b, zeros));
}

static int32_t br_se(bitreader *b)
{
    uint32_t k = br_ue(b);
    return (k & 1) ? (int32_t)((k + 1) / 2) : -(int32_t)(k / 2);
}

/* scaling_list() (7.3.2.1.1.1): delta_scale is se(v) in -128..127 (7.4.2.1.1.1); a value
 * outside it is malformed (and would overflow the sum below). */
static void skip_scaling_list(bitreader *b, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && !b->bad; j++) {
        if (next != 0) {
            int32_t delta = br_se(b);
            if (delta < -128 || delta > 127) {
                b->bad = true;
                return;
            }
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
}

/* Profiles whose SPS carries chroma_format_idc and bit depths (7.3.2.1.1). */
static bool high_profile(uint32_t p)
{
    static const uint8_t ids[] = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135};
    for (size_t i = 0; i < sizeof ids; i++)
        if (p == ids[i])
            return true;
    return false;
}

/* Walk the SPS up to frame cropping and compute the displayed size. */
static int sps_size(bitreader *b, int *width, int *height)
{
    uint32_t profile = br_u(b, 8);
    br_u(b, 16); /* constraint flags, level_idc */
    br_ue(b);    /* seq_parameter_set_id */
    uint32_t chroma = 1;
    bool separate = false;
    if (high_profile(profile)) {
        chroma = br_ue(b);
        if (chroma > 3)
            return CAMRTC_EPROTO;
        if (chroma == 3)
            separate = br_u(b, 1);
        br_ue(b); /* bit_depth_luma_minus8 */
        br_ue(b); /* bit_depth_chroma_minus8 */
        br_u(b, 1);
        if (br_u(b, 1)) /* seq_scaling_matrix_present_flag */
            for (int i = 0; i < (chroma != 3 ? 8 : 12) && !b->bad; i++)
                if (br_u(b, 1))
                    skip_scaling_list(b, i < 6 ? 16 : 64);
    }
    br_ue(b); /* log2_max_frame_num_minus4 */
    uint32_t poc_type = br_ue(b);
    if (poc_type == 0) {
        br_ue(b);
    } else if (poc_type == 1) {
        br_u(b, 1);
        br_se(b);
        br_se(b);
        uint32_t n = br_ue(b);
        if (n > 255)
            return CAMRTC_EPROTO;
        for (uint32_t i = 0; i < n && !b->bad; i++)
            br_se(b);
    } else if (poc_type != 2) {
        return CAMRTC_EPROTO;
    }
    br_ue(b);   /* max_num_ref_frames */
    br_u(b, 1); /* gaps_in_frame_num_value_allowed_flag */
    uint32_t w_mbs = br_ue(b) + 1, h_units = br_ue(b) + 1;
    uint32_t frame_mbs_only = br_u(b, 1);
    if (!frame_mbs_only)
        br_u(b, 1);
    br_u(b, 1); /* direct_8x8_inference_flag */
    uint32_t crop[4] = {0, 0, 0, 0};
    if (br_u(b, 1))
        for (int i = 0; i < 4; i++)
            crop[i] = br_ue(b);
    if (b->bad || w_mbs > 1024 || h_units > 1024)
        return CAMRTC_EPROTO;
    /* Crop units in luma samples (Table 6-1, equations 7-19 .. 7-22). */
    uint32_t array_type = separate ? 0 : chroma;
    uint32_t cx = array_type == 0 ? 1 : (array_type == 3 ? 1 : 2);
    uint32_t cy = (array_type == 0 ? 1 : (array_type == 1 ? 2 : 1)) * (2 - frame_mbs_only);
    int64_t w = (int64_t)w_mbs * 16 - (int64_t)cx * (crop[0] + (int64_t)crop[1]);
    int64_t h = (int64_t)h_units * 16 * (2 - frame_mbs_only) - (int64_t)cy * (crop[2] + (int64_t)crop[3]);
    if (w <= 0 || h <= 0)
        return CAMRTC_EPROTO;
    *width = (int)w;
    *height = (int)h;
    return CAMRTC_OK;
}

int camrtc_h264_sps_size(const uint8_t *annexb, size_t len, int *width, int *height)
{
    if (!annexb || !width || !height)
        return CAMRTC_EINVAL;
    size_t off = 0;
    h264_nal_pos p;
    while (h264_next_nal(annexb, len, &off, &p)) {
        if ((annexb[p.nal] & 0x1f) != H264_NAL_SPS)
            continue;
        /* Everything up to the cropping fits well within this (scaling lists included). */
        uint8_t rbsp[512];
        bitreader b = {rbsp, nal_to_rbsp(annexb + p.nal, p.len, rbsp, sizeof rbsp), 0, false};
        return sps_size(&b, width, height);
    }
    return CAMRTC_ENOTFOUND;
}

/* NAL types that, after a slice, open the next access unit (7.4.1.2.3). */
static bool starts_au_after_slice(uint8_t type)
{
    return type == H264_NAL_AUD || type == H264_NAL_SEI || type == H264_NAL_SPS ||
           type == H264_NAL_PPS || (type >= 14 && type <= 18);
}

int h264_next_au(const uint8_t *buf, size_t len, size_t *off, size_t *start, size_t *au_len,
                 bool *keyframe, bool *has_slice)
{
    size_t pos = *off;
    h264_nal_pos p;
    bool any = false, slice = false, idr = false;
    size_t first = 0, end = 0;
    for (;;) {
        size_t before = pos;
        if (!h264_next_nal(buf, len, &pos, &p))
            break;
        uint8_t hdr = buf[p.nal];
        if (hdr & 0x80)
            return CAMRTC_EPROTO; /* forbidden_zero_bit */
        uint8_t type = hdr & 0x1f;
        bool vcl = type == H264_NAL_SLICE || type == H264_NAL_IDR;
        /* first_mb_in_slice is ue(v) right after the header: 0 is the single bit '1'. */
        bool first_mb0 = vcl && p.len > 1 && (buf[p.nal + 1] & 0x80);
        bool boundary = any && ((type == H264_NAL_AUD) || (slice && starts_au_after_slice(type)) ||
                                (slice && vcl && first_mb0));
        if (boundary) {
            pos = before; /* this NAL belongs to the next AU */
            break;
        }
        if (!any)
            first = p.sc;
        any = true;
        end = p.nal + p.len;
        slice |= vcl;
        idr |= type == H264_NAL_IDR;
    }
    if (!any) {
        *off = len;
        return 0;
    }
    *off = pos;
    *start = first;
    *au_len = end - first;
    *keyframe = idr;
    *has_slice = slice;
    return 1;
}

/* ---- the camrtc SEI (user_data_unregistered, 7.3.2.3.1 and Annex D) ------------------------ */

static const uint8_t camrtc_sei_uuid[16] = CAMRTC_SEI_UUID_BYTES;

#define SEI_USER_DATA_UNREGISTERED 5

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

size_t camrtc_h264_write_camrtc_sei(uint8_t *out, uint64_t frame_id, camrtc_time_us capture_us)
{
    memcpy(out, camrtc_sei_uuid, 16);
    out[16] = CAMRTC_SEI_VERSION;
    put_u64(out + 17, frame_id);
    put_u64(out + 25, capture_us);
    return CAMRTC_SEI_PAYLOAD_SIZE;
}

/* Reads an RBSP byte by byte straight from the NAL, dropping each
 * emulation_prevention_three_byte (00 00 03 -> 00 00, 7.4.1): no copy, so an SEI of any
 * size is walked in place. */
typedef struct rbsp_reader {
    const uint8_t *p;
    size_t len, pos;
    int zeros;                     /* zero bytes just read */
} rbsp_reader;

static bool rb_byte(rbsp_reader *r, uint8_t *out)
{
    if (r->pos < r->len && r->zeros >= 2 && r->p[r->pos] == 3) {
        r->pos++;
        r->zeros = 0;
    }
    if (r->pos >= r->len)
        return false;
    *out = r->p[r->pos++];
    r->zeros = *out == 0 ? r->zeros + 1 : 0;
    return true;
}

/* more_rbsp_data() for an SEI (7.2): anything left before the rbsp_stop_one_bit byte. */
static bool rb_more(const rbsp_reader *r)
{
    return r->pos < r->len && !(r->pos + 1 == r->len && r->p[r->pos] == 0x80);
}

/* payloadType and payloadSize: a run of 0xFF bytes (255 each) plus one last byte
 * (7.3.2.3.1). A run is bounded by the NAL, so the sum cannot overflow. */
static bool rb_ff_coded(rbsp_reader *r, size_t *v)
{
    uint8_t b;
    *v = 0;
    do {
        if (!rb_byte(r, &b))
            return false;
        *v += b;
    } while (b == 0xFF);
    return true;
}

static uint64_t rb_u64(rbsp_reader *r, bool *ok)
{
    uint64_t v = 0;
    uint8_t b = 0;
    for (int i = 0; i < 8; i++) {
        *ok &= rb_byte(r, &b);
        v = (v << 8) | b;
    }
    return v;
}

/* One user_data_unregistered payload of size bytes: ours when the UUID and version match.
 * Consumes exactly size bytes (or fails). Returns 1 for ours, 0 for not, -1 truncated. */
static int read_user_data(rbsp_reader *r, size_t size, uint64_t *frame_id, camrtc_time_us *capture_us)
{
    size_t used = 0;
    bool ours = size >= CAMRTC_SEI_PAYLOAD_SIZE;
    uint8_t b;
    for (; ours && used < 16; used++) {
        if (!rb_byte(r, &b))
            return -1;
        ours = b == camrtc_sei_uuid[used];
    }
    if (ours) {
        bool ok = rb_byte(r, &b);
        ours = ok && b == CAMRTC_SEI_VERSION;
        used++;
        if (!ok)
            return -1;
    }
    if (ours) {
        bool ok = true;
        uint64_t id = rb_u64(r, &ok), cap = rb_u64(r, &ok);
        if (!ok)
            return -1;
        used += 16;
        *frame_id = id;
        *capture_us = cap;
    }
    for (; used < size; used++) /* the rest: another message, or fields of a later version */
        if (!rb_byte(r, &b))
            return -1;
    return ours ? 1 : 0;
}

int camrtc_h264_read_camrtc_sei(const uint8_t *nal, size_t len, uint64_t *frame_id,
                                camrtc_time_us *capture_us)
{
    if (!nal || !frame_id || !capture_us)
        return CAMRTC_EINVAL;
    if (len < 2 || (nal[0] & 0x80) || (nal[0] & 0x1f) != H264_NAL_SEI)
        return CAMRTC_ENOTFOUND;
    rbsp_reader r = {nal, len, 1, 0};
    /* Each message takes at least two bytes, so this loop ends by itself; the bound
     * only makes that plain. */
    for (size_t guard = 0; guard < len && rb_more(&r); guard++) {
        size_t type, size;
        if (!rb_ff_coded(&r, &type) || !rb_ff_coded(&r, &size))
            return CAMRTC_EPROTO;
        int got;
        if (type == SEI_USER_DATA_UNREGISTERED) {
            got = read_user_data(&r, size, frame_id, capture_us);
        } else {
            uint8_t b;
            got = 0;
            for (size_t i = 0; i < size && got == 0; i++)
                if (!rb_byte(&r, &b))
                    got = -1;
        }
        if (got < 0)
            return CAMRTC_EPROTO;
        if (got > 0)
            return CAMRTC_OK;
    }
    return CAMRTC_ENOTFOUND;
}
