/* The receiving side of a peer connection: SRTP unprotect, jitter buffer, depacketizer,
 * and the RTCP a receiver sends: generic NACK and PLI (RFC 4585 sections 6.2.1, 6.3.1)
 * and receiver reports (RFC 3550 section 6.4.2, appendix A.3 and A.8). */
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "pc_int.h"

static void on_frame(void *user, const camrtc_h264_frame *f)
{
    camrtc_pc *pc = user;
    pc->st.frames_received++;
    if (f->decodable)
        pc->st.frames_decodable++;
    if (f->keyframe)
        pc->st.key_frames_received++;
    if (!f->complete)
        pc->st.frames_incomplete++;
    camrtc_pc_event ev = {.type = CAMRTC_PC_EV_FRAME, .frame = f};
    pc_emit(pc, &ev);
    /* A frame the decoder cannot use: the picture is broken until the next IDR. */
    if (!f->decodable) {
        pc->need_key = true;
        camrtc_pc_request_keyframe(pc, pc->now);
    } else if (f->keyframe) {
        pc->need_key = false;   /* repaired: a PLI still pending is no longer wanted */
    }
}

int pc_recv_init(camrtc_pc *pc)
{
    camrtc_jitter_config jc = pc->cfg.jitter;
    if (!jc.pli_interval)
        jc.pli_interval = pc->cfg.pli_interval;
    pc->jitter = camrtc_jitter_new(&jc);
    pc->depack = camrtc_h264_depack_new(0, on_frame, pc);
    return pc->jitter && pc->depack ? CAMRTC_OK : CAMRTC_ENOMEM;
}

void pc_recv_free(camrtc_pc *pc)
{
    camrtc_jitter_free(pc->jitter);
    camrtc_h264_depack_free(pc->depack);
    pc->jitter = NULL;
    pc->depack = NULL;
}

static void send_pli(camrtc_pc *pc, camrtc_time_us now)
{
    if (!pc->got_rtp || !pc->srtp_tx)
        return;
    if (pc->pli_sent_once && now - pc->last_pli < pc->cfg.pli_interval)
        return;
    uint8_t b[64];
    int n = camrtc_rtcp_write_pli(b, sizeof b, pc->ssrc, pc->remote_ssrc);
    if (n < 0)
        return;
    pc_send_rtcp(pc, b, (size_t)n);
    pc->pli_sent_once = true;
    pc->last_pli = now;
    pc->st.pli_sent++;
}

int camrtc_pc_request_keyframe(camrtc_pc *pc, camrtc_time_us now)
{
    if (pc->cfg.role != CAMRTC_PC_RECEIVER)
        return CAMRTC_ESTATE;
    pc->now = now;
    send_pli(pc, now);
    return CAMRTC_OK;
}

static void send_nacks(camrtc_pc *pc, camrtc_time_us now)
{
    uint16_t seqs[PC_NACK_MAX];
    size_t n = camrtc_jitter_nack(pc->jitter, now, seqs, PC_NACK_MAX);
    if (n == 0 || !pc->srtp_tx)
        return;
    uint8_t b[PC_RTCP_MAX];
    int len = camrtc_rtcp_write_nack(b, sizeof b, pc->ssrc, pc->remote_ssrc, seqs, n);
    if (len < 0)
        return;
    pc_send_rtcp(pc, b, (size_t)len);
    pc->st.nack_sent++;
    pc->st.nack_seqs_sent += n;
}

/* Everything the jitter buffer can give now: packets in order to the depacketizer. */
static void drain(camrtc_pc *pc, camrtc_time_us now)
{
    camrtc_jitter_out o;
    while (camrtc_jitter_poll(pc->jitter, now, &o) == 1) {
        if (o.kind == CAMRTC_JITTER_GAP) {
            pc->need_key = true;
        } else if (o.kind == CAMRTC_JITTER_PLI) {
            /* The jitter buffer's PLI may have waited out the rate limit while an IDR
             * came and repaired the picture: asking then would bring a second IDR. */
            if (pc->need_key)
                send_pli(pc, now);
        } else if (o.kind == CAMRTC_JITTER_PACKET) {
            camrtc_rtp_header h;
            if (camrtc_rtp_parse(o.data, o.len, &h) == CAMRTC_OK)
                camrtc_h264_depack_push(pc->depack, h.seq, h.ts, h.marker, h.payload, h.payload_len);
        }
        /* GAP: the depacketizer also sees the jump in sequence numbers itself. */
    }
    send_nacks(pc, now);
}

/* RFC 3550 appendix A.8: interarrival jitter in timestamp units (90 kHz). */
static void update_jitter(camrtc_pc *pc, camrtc_time_us now, uint32_t ts)
{
    int64_t arrival = (int64_t)(now * 9u / 100u);
    int64_t transit = (int64_t)(uint32_t)((uint32_t)arrival - ts);
    if (pc->have_transit) {
        int64_t d = transit - pc->last_transit;
        if (d < 0)
            d = -d;
        if (d < 90000 * 10)   /* ignore absurd jumps (timestamp discontinuity) */
            pc->jitter_est += ((double)d - pc->jitter_est) / 16.0;
    }
    pc->last_transit = transit;
    pc->have_transit = true;
}

/* The jitter buffer spaces NACK retries by the RTT: give it ICE's latest measure before
 * it may NACK (a packet can reveal a hole before any timeout has run). */
static void update_rtt(camrtc_pc *pc)
{
    const camrtc_ice_stats *is = camrtc_ice_get_stats(pc->ice);
    if (is->selected_rtt)
        camrtc_jitter_set_rtt(pc->jitter, is->selected_rtt);
}

void pc_on_rtp(camrtc_pc *pc, camrtc_time_us now, uint8_t *pkt, size_t len)
{
    if (pc->cfg.role != CAMRTC_PC_RECEIVER) {
        pc->st.dropped_demux++;
        return;
    }
    int n = camrtc_srtp_unprotect(pc->srtp_rx, pkt, len);
    if (n < 0) {
        pc->st.srtp_errors++;
        return;
    }
    camrtc_rtp_header h;
    if (camrtc_rtp_parse(pkt, (size_t)n, &h) != CAMRTC_OK) {
        pc->st.rtp_malformed++;
        return;
    }
    if (h.pt != pc->neg.video_pt) {
        pc->st.rtp_wrong_pt++;
        return;
    }
    if (!pc->got_rtp) {
        pc->got_rtp = true;
        CAMRTC_LOGD(pc->cfg.log, "pc", "timeline: first RTP received");
        pc->remote_ssrc = h.ssrc;
    } else if (h.ssrc != pc->remote_ssrc) {
        pc->st.dropped_demux++;   /* one video stream per connection */
        return;
    }
    update_jitter(pc, now, h.ts);
    update_rtt(pc);
    int rc = camrtc_jitter_insert(pc->jitter, now, h.seq, pkt, (size_t)n);
    if (rc == CAMRTC_OK) {
        if (pc->st.packets_received == 0)
            pc->base_ext_seq = camrtc_jitter_get_stats(pc->jitter)->ext_highest;
        pc->st.packets_received++;
        pc->st.bytes_received += h.payload_len;
    }
    drain(pc, now);
}

void pc_recv_timeout(camrtc_pc *pc, camrtc_time_us now)
{
    update_rtt(pc);
    drain(pc, now);
}

camrtc_time_us pc_recv_next_timeout(const camrtc_pc *pc)
{
    return camrtc_jitter_next_timeout(pc->jitter);
}

void pc_on_sr(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_packet *p)
{
    if (pc->got_rtp && p->ssrc != pc->remote_ssrc)
        return;
    pc->lsr = camrtc_rtcp_ntp_mid(p->u.sr.info.ntp);
    pc->lsr_at = now;
}

/* The report block about the stream we receive (RFC 3550 section 6.4.1, appendix A.3). */
static void fill_block(camrtc_pc *pc, camrtc_time_us now, camrtc_rtcp_rb *rb)
{
    const camrtc_jitter_stats *js = camrtc_jitter_get_stats(pc->jitter);
    uint64_t expected = (uint64_t)(uint32_t)(js->ext_highest - pc->base_ext_seq) + 1;
    uint64_t received = pc->st.packets_received;
    int64_t lost = (int64_t)expected - (int64_t)received;
    uint64_t exp_int = expected - pc->expected_prior;
    int64_t lost_int = (int64_t)exp_int - (int64_t)(received - pc->received_prior);
    pc->expected_prior = expected;
    pc->received_prior = received;
    memset(rb, 0, sizeof *rb);
    rb->ssrc = pc->remote_ssrc;
    rb->fraction_lost = exp_int && lost_int > 0 ? (uint8_t)(((uint64_t)lost_int << 8) / exp_int) : 0;
    rb->cumulative_lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : (int32_t)lost;
    rb->ext_highest_seq = js->ext_highest;
    rb->jitter = (uint32_t)pc->jitter_est;
    if (pc->lsr_at) {
        rb->lsr = pc->lsr;
        rb->dlsr = (uint32_t)(((now - pc->lsr_at) << 16) / 1000000u);
    }
}

/* RR (with a block once media came) + SDES CNAME. */
void pc_send_report_rr(camrtc_pc *pc, camrtc_time_us now)
{
    uint8_t b[PC_RTCP_MAX];
    camrtc_rtcp_rb rb;
    size_t n_rb = 0;
    if (pc->got_rtp) {
        fill_block(pc, now, &rb);
        n_rb = 1;
    }
    int n = camrtc_rtcp_write_rr(b, sizeof b, pc->ssrc, &rb, n_rb);
    if (n < 0)
        return;
    int m = camrtc_rtcp_write_sdes_cname(b + n, sizeof b - (size_t)n, pc->ssrc, pc->cname);
    if (m < 0)
        return;
    pc_send_rtcp(pc, b, (size_t)(n + m));
    pc->st.rr_sent++;
}
