/* H.264 RTP depacketizer (RFC 6184 §5.6-§5.8, packetization-mode 1): rebuilds Annex-B
 * access units from single NAL, STAP-A and FU-A packets that arrive in sequence order,
 * in one buffer allocated at creation. Loss shows as a sequence gap: the frame it falls
 * in is flagged incomplete, and a FU-A NAL with a hole is dropped whole, since a decoder
 * fed half a slice does worse than one told the slice is missing. */
#include "camrtc/h264_rtp.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/bytes.h"
#include "camrtc/error.h"

#define START_CODE_LEN 4
#define LATE_WINDOW 1000     /* this far behind the last seq: late; further: a jump */
#define MIN_FRAME_BYTES 64

struct camrtc_h264_depack {
    camrtc_h264_frame_cb on_frame;
    void *user;
    uint8_t *buf;
    size_t cap, len;
    bool have_seq;
    uint16_t last_seq;
    /* The frame being assembled. */
    bool in_frame, broken, truncated, keyframe, has_sps, has_pps;
    uint32_t ts;
    uint16_t first_seq, frame_last;
    unsigned nals;
    /* A FU-A NAL in progress starts at fu_start (its start code) in buf. */
    bool in_fu, fu_skip;
    size_t fu_start;
    /* Every frame since the last complete IDR was complete. */
    bool chain_ok;
    /* An SPS and a PPS came at some point: without them no IDR can be decoded, and when
     * the very first packet (the STAP-A holding them) is lost nothing else tells. */
    bool sps_seen, pps_seen;
    /* The frame being assembled came right after a sequence gap: only an IDR that starts
     * at macroblock 0 is known not to have lost anything in it. */
    bool gap_before;
    /* The first frame after creation: nothing tells whether its first packets came
     * before we started listening, except the first slice's first_mb_in_slice. */
    bool check_first_mb, seen_vcl;
    camrtc_h264_depack_stats stats;
};

camrtc_h264_depack *camrtc_h264_depack_new(size_t max_frame_bytes, camrtc_h264_frame_cb on_frame, void *user)
{
    if (!on_frame)
        return NULL;
    if (max_frame_bytes == 0)
        max_frame_bytes = CAMRTC_H264_DEPACK_DEFAULT_MAX_FRAME;
    if (max_frame_bytes < MIN_FRAME_BYTES)
        max_frame_bytes = MIN_FRAME_BYTES;
    camrtc_h264_depack *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->buf = malloc(max_frame_bytes);
    if (!d->buf) {
        free(d);
        return NULL;
    }
    d->cap = max_frame_bytes;
    d->on_frame = on_frame;
    d->user = user;
    return d;
}

void camrtc_h264_depack_free(camrtc_h264_depack *d)
{
    if (!d)
        return;
    free(d->buf);
    free(d);
}

const camrtc_h264_depack_stats *camrtc_h264_depack_get_stats(const camrtc_h264_depack *d)
{
    return &d->stats;
}

/* ---- the frame buffer ------------------------------------------------------------------ */

/* Append bytes; past the bound the frame is cut (flagged, counted once) and the rest of
 * it ignored. */
static bool put(camrtc_h264_depack *d, const uint8_t *p, size_t n)
{
    if (d->truncated)
        return false;
    if (n > d->cap - d->len) {
        d->truncated = d->broken = true;
        d->stats.too_big++;
        return false;
    }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
    return true;
}

static const uint8_t start_code[START_CODE_LEN] = {0, 0, 0, 1};

/* H.264 §7.3.3: a slice header starts with first_mb_in_slice as ue(v), and 0 is the
 * single bit 1. The first slice of a picture must start at macroblock 0 (no arbitrary
 * slice order in the profiles WebRTC uses), so a first frame whose first slice starts
 * elsewhere lost its beginning. */
static void check_first_slice(camrtc_h264_depack *d, uint8_t header, const uint8_t *body, size_t n)
{
    uint8_t type = header & 0x1f;
    if (d->seen_vcl || type < 1 || type > 5)
        return;
    d->seen_vcl = true;
    if (d->check_first_mb && (n == 0 || !(body[0] & 0x80)))
        d->broken = true;
}

static void nal_done(camrtc_h264_depack *d, uint8_t header)
{
    uint8_t type = header & 0x1f;
    d->nals++;
    d->keyframe |= type == 5;
    d->has_sps |= type == 7;
    d->has_pps |= type == 8;
    d->sps_seen |= type == 7;
    d->pps_seen |= type == 8;
}

static void put_nal(camrtc_h264_depack *d, const uint8_t *nal, size_t n)
{
    size_t mark = d->len;
    check_first_slice(d, nal[0], nal + 1, n - 1);
    if (put(d, start_code, START_CODE_LEN) && put(d, nal, n))
        nal_done(d, nal[0]);
    else
        d->len = mark;
}

/* Drop a FU-A NAL in progress: rewind to its start code. */
static void drop_fu(camrtc_h264_depack *d)
{
    if (d->in_fu) {
        d->len = d->fu_start;
        d->in_fu = false;
        d->stats.nals_dropped++;
        d->broken = true;
    }
}

static void finish_frame(camrtc_h264_depack *d, bool marker)
{
    if (!d->in_frame)
        return;
    drop_fu(d);
    camrtc_h264_frame f = {
        .data = d->buf, .len = d->len, .rtp_ts = d->ts, .first_seq = d->first_seq,
        .last_seq = d->frame_last, .nals = d->nals, .keyframe = d->keyframe,
        .has_params = d->has_sps && d->has_pps,
    };
    /* After a gap a P frame may have lost its first packets, or a whole frame it refers
     * to was lost; an IDR refers to nothing, and its first slice told whether its start
     * came (check_first_slice). */
    f.complete = marker && !d->broken && (!d->gap_before || f.keyframe);
    /* A P frame decodes only if every frame back to the last IDR did; an IDR only with
     * parameter sets (H.264 §7.4.1.2.1; x264 sends them before each IDR). */
    if (f.complete && f.keyframe)
        d->chain_ok = d->sps_seen && d->pps_seen;
    else if (!f.complete)
        d->chain_ok = false;
    f.decodable = f.complete && d->chain_ok;
    d->stats.frames++;
    d->stats.frames_incomplete += !f.complete;
    d->stats.frames_decodable += f.decodable;
    d->in_frame = false;
    d->fu_skip = false;
    d->on_frame(d->user, &f);
}

static void start_frame(camrtc_h264_depack *d, uint16_t seq, uint32_t ts, bool gap, bool first)
{
    d->in_frame = true;
    /* After a gap, as for the first frame, the lost packets may have been this frame's
     * first ones: the first slice's first_mb_in_slice tells for an IDR, finish_frame
     * judges the rest. A gap before an IDR's start must not spoil the IDR. */
    d->check_first_mb = first || gap;
    d->gap_before = gap;
    d->seen_vcl = false;
    d->ts = ts;
    d->first_seq = seq;
    d->len = 0;
    d->nals = 0;
    d->broken = false;
    d->truncated = d->keyframe = d->has_sps = d->has_pps = false;
    d->in_fu = d->fu_skip = false;
}

/* ---- payload formats ------------------------------------------------------------------- */

/* STAP-A (§5.7.1): checked whole before anything is copied. */
static int put_stap_a(camrtc_h264_depack *d, const uint8_t *p, size_t n)
{
    size_t pos = 1, count = 0;
    while (pos < n) {
        if (n - pos < 2)
            return CAMRTC_EPROTO;
        size_t sz = camrtc_rd16(p + pos);
        if (sz == 0 || sz > n - pos - 2 || (p[pos + 2] & 0x80))
            return CAMRTC_EPROTO;
        pos += 2 + sz;
        count++;
    }
    if (count == 0)
        return CAMRTC_EPROTO;
    for (pos = 1; pos < n; pos += 2 + camrtc_rd16(p + pos))
        put_nal(d, p + pos + 2, camrtc_rd16(p + pos));
    return CAMRTC_OK;
}

/* FU-A (§5.8): the NAL header is rebuilt from the FU indicator's F and NRI and the FU
 * header's type; fragments are appended in place. */
static int put_fu_a(camrtc_h264_depack *d, const uint8_t *p, size_t n)
{
    if (n < 3)
        return CAMRTC_EPROTO;
    bool start = p[1] & 0x80, end = p[1] & 0x40;
    if (start) {
        drop_fu(d);   /* a new start while one is open: the old one lost its end */
        d->fu_skip = false;
        d->fu_start = d->len;
        uint8_t header = (uint8_t)((p[0] & 0xe0) | (p[1] & 0x1f));
        check_first_slice(d, header, p + 2, n - 2);
        if (!put(d, start_code, START_CODE_LEN) || !put(d, &header, 1)) {
            d->len = d->fu_start;
            d->fu_skip = !end;
            return CAMRTC_OK;
        }
        d->in_fu = true;
    } else if (!d->in_fu) {
        /* A middle or end fragment whose start was lost: count the NAL once. */
        if (!d->fu_skip)
            d->stats.nals_dropped++;
        d->fu_skip = !end;
        d->broken = true;
        return CAMRTC_OK;
    }
    if (!put(d, p + 2, n - 2)) {
        d->len = d->fu_start;
        d->in_fu = false;
        d->fu_skip = !end;
        return CAMRTC_OK;
    }
    if (end) {
        d->in_fu = false;
        nal_done(d, d->buf[d->fu_start + START_CODE_LEN]);
    }
    return CAMRTC_OK;
}

static int put_payload(camrtc_h264_depack *d, const uint8_t *p, size_t n)
{
    if (n == 0 || (p[0] & 0x80))
        return CAMRTC_EPROTO;
    uint8_t type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) {
        drop_fu(d);   /* a FU-A left open by a lost end fragment */
        d->fu_skip = false;
        put_nal(d, p, n);
        return CAMRTC_OK;
    }
    if (type == CAMRTC_H264_NAL_STAP_A) {
        drop_fu(d);
        d->fu_skip = false;
        return put_stap_a(d, p, n);
    }
    if (type == CAMRTC_H264_NAL_FU_A)
        return put_fu_a(d, p, n);
    return CAMRTC_EUNSUPPORTED;   /* STAP-B, MTAP, FU-B (interleaved mode) or reserved */
}

/* ---- the packet path ------------------------------------------------------------------- */

int camrtc_h264_depack_push(camrtc_h264_depack *d, uint16_t seq, uint32_t ts, bool marker, const uint8_t *payload,
                            size_t len)
{
    if (!d || (!payload && len))
        return CAMRTC_EINVAL;
    d->stats.packets++;
    bool gap = false, first = !d->have_seq;
    if (d->have_seq) {
        uint16_t behind = (uint16_t)(d->last_seq - seq);
        if (behind < LATE_WINDOW) {
            d->stats.late++;
            return CAMRTC_OK;
        }
        gap = (uint16_t)(seq - d->last_seq) != 1;
    }
    d->have_seq = true;
    d->last_seq = seq;
    if (gap) {
        /* The rest of an open FU-A NAL is skipped without counting it again; with no
         * FU-A open, a middle fragment after the gap means its start was lost. */
        bool was_fu = d->in_fu;
        d->stats.gaps++;
        drop_fu(d);
        d->fu_skip = was_fu;
        d->broken = true;
    }
    /* A new timestamp ends the frame before it; its marker must have been lost. */
    if (d->in_frame && ts != d->ts)
        finish_frame(d, false);
    if (!d->in_frame)
        start_frame(d, seq, ts, gap, first);
    d->frame_last = seq;
    int rc = put_payload(d, payload, len);
    if (rc < 0) {
        d->broken = true;
        if (rc == CAMRTC_EUNSUPPORTED)
            d->stats.unsupported++;
        else
            d->stats.malformed++;
    }
    if (marker)
        finish_frame(d, true);
    return rc;
}

void camrtc_h264_depack_flush(camrtc_h264_depack *d)
{
    if (d)
        finish_frame(d, false);
}
