/* H.264 RTP packetizer (RFC 6184, packetization-mode 1): single NAL unit packets (§5.6),
 * STAP-A for the parameter sets (§5.7.1) and FU-A for NAL units larger than the payload
 * budget (§5.8). Works in caller buffers; allocates nothing. */
#include "camrtc/h264_rtp.h"

#include <string.h>

#include "camrtc/bytes.h"
#include "camrtc/error.h"

#define NAL_SPS 7
#define NAL_PPS 8

void camrtc_h264_pack_config_default(camrtc_h264_pack_config *cfg)
{
    cfg->mtu = CAMRTC_H264_DEFAULT_MTU;
    cfg->header_room = 12;
    cfg->srtp_room = 16;
}

int camrtc_h264_pack_init(camrtc_h264_packer *p, const camrtc_h264_pack_config *cfg)
{
    camrtc_h264_pack_config def;
    if (!p)
        return CAMRTC_EINVAL;
    if (!cfg) {
        camrtc_h264_pack_config_default(&def);
        cfg = &def;
    }
    if (cfg->mtu < cfg->header_room + cfg->srtp_room + 16 || cfg->mtu - cfg->header_room - cfg->srtp_room > 65535)
        return CAMRTC_EINVAL;
    memset(p, 0, sizeof *p);
    p->payload_max = cfg->mtu - cfg->header_room - cfg->srtp_room;
    p->header_room = cfg->header_room;
    return CAMRTC_OK;
}

size_t camrtc_h264_pack_payload_max(const camrtc_h264_packer *p)
{
    return p->payload_max;
}

const camrtc_h264_pack_stats *camrtc_h264_pack_get_stats(const camrtc_h264_packer *p)
{
    return &p->stats;
}

static void enqueue(camrtc_h264_packer *p, const uint8_t *data, size_t len, bool param)
{
    size_t i = p->q_head + p->q_n++;
    p->q[i].data = data;
    p->q[i].len = len;
    p->q[i].param = param;
}

/* SPS and PPS are copied: the encoder's buffer is released before the IDR slice they
 * belong with arrives. */
static int hold_param(camrtc_h264_packer *p, const camrtc_nal *nal)
{
    if (p->q_n == CAMRTC_H264_PARAM_MAX || nal->len > CAMRTC_H264_PARAM_BYTES - p->params_bytes) {
        p->stats.params_dropped++;
        return CAMRTC_ETOOBIG;
    }
    uint8_t *copy = p->params + p->params_bytes;
    memcpy(copy, nal->data, nal->len);
    p->params_bytes += nal->len;
    enqueue(p, copy, nal->len, true);
    return CAMRTC_OK;
}

int camrtc_h264_pack_push(camrtc_h264_packer *p, const camrtc_nal *nal)
{
    if (!p || !nal || !nal->data || nal->len == 0 || (nal->data[0] & 0x80))
        return CAMRTC_EINVAL;
    if (p->ready)
        return CAMRTC_ESTATE;
    uint8_t type = nal->data[0] & 0x1f;
    bool param = type == NAL_SPS || type == NAL_PPS;
    int rc = param ? hold_param(p, nal) : CAMRTC_OK;
    if (rc < 0)
        return rc;
    if (!param)
        enqueue(p, nal->data, nal->len, false);
    p->stats.nals++;
    /* The packets of one push share the timestamp of the NAL that releases them; held
     * parameter sets belong to the same access unit as the slice that follows. */
    p->rtp_ts = nal->rtp_ts;
    p->frame_id = nal->frame_id;
    p->keyframe = nal->keyframe;
    p->last_of_frame = nal->last_of_frame;
    p->ready = !param || nal->last_of_frame;
    p->fu_off = 0;
    return CAMRTC_OK;
}

/* How many queued parameter sets from the head fit one STAP-A (RFC 6184 §5.7.1: one
 * byte of STAP-A header, then a 16-bit size before each NAL). */
static size_t stap_count(const camrtc_h264_packer *p, size_t *bytes)
{
    size_t n = 0, total = 1;
    while (n < p->q_n && p->q[p->q_head + n].param && total + 2 + p->q[p->q_head + n].len <= p->payload_max) {
        total += 2 + p->q[p->q_head + n].len;
        n++;
    }
    *bytes = total;
    return n;
}

static void pop(camrtc_h264_packer *p, size_t n)
{
    p->q_head += n;
    p->q_n -= n;
    p->fu_off = 0;
    if (p->q_n == 0) {
        p->q_head = 0;
        p->params_bytes = 0;
        p->ready = false;
    }
}

static size_t write_stap(camrtc_h264_packer *p, uint8_t *out, size_t n)
{
    /* F is the OR of the aggregated F bits, NRI their maximum (§5.7.1). */
    uint8_t f = 0, nri = 0;
    size_t pos = 1;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *nal = p->q[p->q_head + i].data;
        size_t len = p->q[p->q_head + i].len;
        f |= nal[0] & 0x80;
        if ((nal[0] & 0x60) > nri)
            nri = nal[0] & 0x60;
        camrtc_wr16(out + pos, (uint16_t)len);
        memcpy(out + pos + 2, nal, len);
        pos += 2 + len;
    }
    out[0] = (uint8_t)(f | nri | CAMRTC_H264_NAL_STAP_A);
    pop(p, n);
    p->stats.stap_a++;
    return pos;
}

/* One FU-A fragment of the head NAL: FU indicator (F, NRI, type 28), FU header (S, E,
 * original type), then the next slice of the NAL without its header byte (§5.8). */
static size_t write_fu(camrtc_h264_packer *p, uint8_t *out, bool *end)
{
    const uint8_t *nal = p->q[p->q_head].data;
    size_t len = p->q[p->q_head].len;
    bool start = p->fu_off == 0;
    if (start)
        p->fu_off = 1;
    size_t chunk = len - p->fu_off;
    if (chunk > p->payload_max - 2)
        chunk = p->payload_max - 2;
    *end = p->fu_off + chunk == len;
    out[0] = (uint8_t)((nal[0] & 0xe0) | CAMRTC_H264_NAL_FU_A);
    out[1] = (uint8_t)((start ? 0x80 : 0) | (*end ? 0x40 : 0) | (nal[0] & 0x1f));
    memcpy(out + 2, nal + p->fu_off, chunk);
    p->fu_off += chunk;
    p->stats.fu_a++;
    if (*end)
        pop(p, 1);
    return 2 + chunk;
}

int camrtc_h264_pack_next(camrtc_h264_packer *p, uint8_t *buf, size_t cap, camrtc_h264_pkt_info *info)
{
    if (!p || !info)
        return CAMRTC_EINVAL;
    if (!p->ready || p->q_n == 0)
        return 0;
    if (!buf || cap < p->header_room + p->payload_max)
        return CAMRTC_ETOOBIG;
    uint8_t *out = buf + p->header_room;
    size_t stap_bytes, n_stap = stap_count(p, &stap_bytes);
    size_t head_len = p->q[p->q_head].len;
    memset(info, 0, sizeof *info);
    if (n_stap >= 2) {
        info->payload_len = write_stap(p, out, n_stap);
        info->kind = CAMRTC_H264_PKT_STAP_A;
    } else if (p->fu_off == 0 && head_len <= p->payload_max) {
        memcpy(out, p->q[p->q_head].data, head_len);
        info->payload_len = head_len;
        info->kind = CAMRTC_H264_PKT_SINGLE;
        pop(p, 1);
    } else {
        bool end;
        info->payload_len = write_fu(p, out, &end);
        info->kind = CAMRTC_H264_PKT_FU_A;
    }
    info->rtp_ts = p->rtp_ts;
    info->keyframe = p->keyframe;
    info->frame_id = p->frame_id;
    info->marker = p->q_n == 0 && p->last_of_frame;   /* RFC 6184 §5.1 */
    p->stats.packets++;
    return 1;
}
