/* The sending side of a peer connection: packet lists made once per NAL unit, the
 * per-connection RTP header, NACK history, SRTP and the RTCP a sender handles and sends
 * (RFC 3550 section 6.4.1 SR, RFC 4585 generic NACK and PLI, RFC 5104 FIR). */
#include <stdlib.h>
#include <string.h>

#include "camrtc/bytes.h"
#include "camrtc/error.h"
#include "pc_int.h"

/* ---- packet lists (shared by every pc a NAL goes to) ----------------------------------- */

int camrtc_pc_packets_init(camrtc_pc_packets *l, size_t mtu)
{
    memset(l, 0, sizeof *l);
    camrtc_h264_pack_config pc;
    camrtc_h264_pack_config_default(&pc);
    if (mtu)
        pc.mtu = mtu;
    if (pc.mtu > PC_PKT_MAX)
        return CAMRTC_EINVAL;
    int rc = camrtc_h264_pack_init(&l->packer, &pc);
    if (rc != CAMRTC_OK)
        return rc;
    l->header_room = pc.header_room;
    l->stride = pc.header_room + camrtc_h264_pack_payload_max(&l->packer);
    return CAMRTC_OK;
}

int camrtc_pc_packets_share_history(camrtc_pc_packets *l, const camrtc_rtp_history_config *cfg)
{
    if (l->history)
        return CAMRTC_EINVAL;
    l->history = camrtc_rtp_history_new(cfg);
    return l->history ? CAMRTC_OK : CAMRTC_ENOMEM;
}

void camrtc_pc_packets_free(camrtc_pc_packets *l)
{
    camrtc_rtp_history_free(l->history);
    l->history = NULL;
    free(l->mem);
    free(l->pkt);
    l->mem = NULL;
    l->pkt = NULL;
    l->n = l->cap = 0;
}

/* Room for one more packet: the list grows to the largest NAL seen, then stays. */
static int packets_grow(camrtc_pc_packets *l)
{
    if (l->n < l->cap)
        return CAMRTC_OK;
    if (l->cap >= CAMRTC_PC_MAX_PACKETS_PER_NAL)
        return CAMRTC_ETOOBIG;
    size_t cap = l->cap ? l->cap * 2 : 16;
    uint8_t *mem = realloc(l->mem, cap * l->stride);
    if (!mem)
        return CAMRTC_ENOMEM;
    l->mem = mem;
    camrtc_pc_packet *pkt = realloc(l->pkt, cap * sizeof *pkt);
    if (!pkt)
        return CAMRTC_ENOMEM;
    l->pkt = pkt;
    l->cap = cap;
    for (size_t i = 0; i < cap; i++)   /* mem may have moved */
        l->pkt[i].buf = l->mem + i * l->stride;
    return CAMRTC_OK;
}

int camrtc_pc_packetize(camrtc_pc_packets *l, const camrtc_nal *nal)
{
    l->n = 0;
    int rc = camrtc_h264_pack_push(&l->packer, nal);
    if (rc != CAMRTC_OK)
        return rc;
    for (;;) {
        rc = packets_grow(l);
        if (rc != CAMRTC_OK) {
            /* Drain what is left so the packer accepts the next NAL. */
            uint8_t tmp[PC_PKT_MAX];
            camrtc_h264_pkt_info skip;
            while (camrtc_h264_pack_next(&l->packer, tmp, sizeof tmp, &skip) == 1) {
            }
            l->n = 0;
            return rc;
        }
        camrtc_pc_packet *p = &l->pkt[l->n];
        camrtc_h264_pkt_info info;
        rc = camrtc_h264_pack_next(&l->packer, p->buf, l->stride, &info);
        if (rc <= 0)
            return rc;
        p->payload_len = info.payload_len;
        p->rtp_ts = info.rtp_ts;
        p->marker = info.marker;
        p->keyframe = info.keyframe;
        p->first_of_frame = !l->frame_open || info.frame_id != l->frame_id;
        p->id = l->next_id++;
        if (p->first_of_frame && p->keyframe) {   /* where a new connection can start */
            l->have_key = true;
            l->key_id = p->id;
        }
        l->frame_open = !info.marker;
        l->frame_id = info.frame_id;
        l->n++;
    }
}

/* ---- per connection -------------------------------------------------------------------- */

int pc_send_init(camrtc_pc *pc)
{
    /* The NACK history comes with the first packet list sent: shared or our own. */
    return camrtc_pc_packets_init(&pc->own, pc->cfg.mtu);
}

void pc_send_free(camrtc_pc *pc)
{
    camrtc_rtp_history_free(pc->history);
    pc->history = NULL;
    free(pc->id_map);
    pc->id_map = NULL;
    pc->shared = NULL;
    camrtc_pc_packets_free(&pc->own);
}

/* ---- the shared history ------------------------------------------------------------------ */

/* In the shared history a packet is kept as a template RTP packet: a 12-byte header with
 * the list's timestamp and marker, the low 16 bits of the packet id as sequence number
 * (the history's key) and the whole 32-bit id as SSRC, so that a lookup can tell the
 * packet from one 65536 ids older; then the payload. */
/* Store the list's packets in its shared history, once: the first pc it is sent to
 * does it. buf is scratch of PC_PKT_MAX bytes. */
static void shared_store(const camrtc_pc_packets *l, camrtc_time_us now, uint8_t *buf)
{
    uint16_t last;
    if (!l->history || l->n == 0 ||
        (camrtc_rtp_history_last_seq(l->history, &last) && last == (uint16_t)l->pkt[l->n - 1].id))
        return;
    for (size_t i = 0; i < l->n; i++) {
        const camrtc_pc_packet *p = &l->pkt[i];
        camrtc_rtp_header h;
        memset(&h, 0, sizeof h);
        h.marker = p->marker;
        h.seq = (uint16_t)p->id;
        h.ts = p->rtp_ts;
        h.ssrc = p->id;
        int hl = camrtc_rtp_write_header(&h, buf, PC_PKT_MAX);
        if (hl < 0 || (size_t)hl + p->payload_len > PC_PKT_MAX)
            continue;
        memcpy(buf + hl, p->buf + l->header_room, p->payload_len);
        camrtc_rtp_history_put(l->history, now, (uint16_t)p->id, buf, (size_t)hl + p->payload_len);
    }
}

void camrtc_pc_packets_forget_keyframe(camrtc_pc_packets *l)
{
    if (l)
        l->have_key = false;
}

int camrtc_pc_packets_store(camrtc_pc_packets *l, camrtc_time_us now)
{
    uint8_t buf[PC_PKT_MAX];
    if (!l->history)
        return CAMRTC_EINVAL;
    shared_store(l, now, buf);
    return CAMRTC_OK;
}

/* Make ready to record the packets of list l: map into its shared history (a ring as
 * long as that history, made when first bound) or keep our own history. */
static int bind_history(camrtc_pc *pc, const camrtc_pc_packets *l)
{
    if (!l->history) {
        pc->mapped = 0;   /* what follows is in our own history, not in the map */
        if (!pc->history)
            pc->history = camrtc_rtp_history_new(&pc->cfg.history);
        return pc->history ? CAMRTC_OK : CAMRTC_ENOMEM;
    }
    if (pc->shared == l->history)
        return CAMRTC_OK;
    /* A power of two ring so that seq & mask stays right across the 16-bit wrap. */
    size_t want = camrtc_rtp_history_capacity(l->history), n = 1;
    while (n < want && n < 32768)
        n <<= 1;
    uint32_t *map = malloc(n * sizeof *map);
    if (!map)
        return CAMRTC_ENOMEM;
    free(pc->id_map);
    pc->id_map = map;
    pc->id_mask = n - 1;
    pc->shared = l->history;
    pc->mapped = 0;
    return CAMRTC_OK;
}

/* Record that our packet seq is list packet p (or, without a shared history, keep the
 * plaintext packet pkt in our own). */
static void history_record(camrtc_pc *pc, camrtc_time_us now, const camrtc_pc_packets *l,
                           const camrtc_pc_packet *p, const uint8_t *pkt, size_t len)
{
    if (!l->history) {
        camrtc_rtp_history_put(pc->history, now, pc->seq, pkt, len);
        return;
    }
    pc->id_map[pc->seq & pc->id_mask] = p->id;
    if (pc->mapped <= pc->id_mask)
        pc->mapped++;
}

/* Rebuild our packet seq into txbuf from the shared history: its length, or
 * CAMRTC_ENOTFOUND when we did not map it or the history no longer has it. */
static int shared_rebuild(camrtc_pc *pc, camrtc_time_us now, uint16_t seq)
{
    uint16_t age = (uint16_t)(pc->seq - seq);   /* 1 = the last one sent */
    if (!pc->shared || age == 0 || age > pc->mapped)
        return CAMRTC_ENOTFOUND;
    uint32_t id = pc->id_map[seq & pc->id_mask];
    const uint8_t *t;
    size_t len;
    if (camrtc_rtp_history_get(pc->shared, now, (uint16_t)id, &t, &len) != CAMRTC_OK ||
        len < CAMRTC_RTP_HEADER_MIN || len > PC_PKT_MAX || camrtc_rd32(t + 8) != id)
        return CAMRTC_ENOTFOUND;
    camrtc_rtp_header h;
    memset(&h, 0, sizeof h);
    h.marker = (t[1] & 0x80) != 0;
    h.pt = pc->neg.video_pt;
    h.seq = seq;
    h.ts = camrtc_rd32(t + 4) + pc->ts_offset;
    h.ssrc = pc->ssrc;
    int hl = camrtc_rtp_write_header(&h, pc->txbuf, sizeof pc->txbuf);
    if (hl != CAMRTC_RTP_HEADER_MIN)
        return hl < 0 ? hl : CAMRTC_EPROTO;
    memcpy(pc->txbuf + hl, t + CAMRTC_RTP_HEADER_MIN, len - CAMRTC_RTP_HEADER_MIN);
    return (int)len;
}

/* The RTP header of a video packet of ours in front of pc->txbuf (RFC 3550 section 5.1):
 * negotiated payload type, our next sequence number, SSRC, the source timestamp moved by
 * our offset. Its length, or a negative error. */
static int write_video_header(camrtc_pc *pc, uint32_t src_ts, bool marker)
{
    camrtc_rtp_header h;
    memset(&h, 0, sizeof h);
    h.marker = marker;
    h.pt = pc->neg.video_pt;
    h.seq = pc->seq;
    h.ts = src_ts + pc->ts_offset;
    h.ssrc = pc->ssrc;
    return camrtc_rtp_write_header(&h, pc->txbuf, sizeof pc->txbuf);
}

/* A video packet left: stats and what the next sender report says. */
static void count_sent(camrtc_pc *pc, camrtc_time_us now, size_t header, size_t payload, uint32_t src_ts,
                       bool marker, bool keyframe)
{
    pc->st.packets_sent++;
    pc->st.bytes_sent += payload;
    pc->st.header_bytes_sent += header;
    pc->sr_packets++;
    pc->sr_octets += (uint32_t)payload;
    pc->last_ts = src_ts + pc->ts_offset;
    pc->last_ts_at = now;
    pc->sent_any = true;
    if (marker) {
        pc->st.frames_sent++;
        if (keyframe)
            pc->st.key_frames_sent++;
    }
}

/* The first packet of an IDR access unit is going out to this viewer (handed to SRTP and
 * ICE: if they refuse it, NACK can still fetch it): a PLI that crosses it is stale. */
static void note_key_start(camrtc_pc *pc, camrtc_time_us now)
{
    pc->key_sent = true;
    pc->key_sent_at = now;
}

/* ---- a new connection joins the fan-out ------------------------------------------------ */

/* The template of list packet id, if the shared history h still holds it. */
static const uint8_t *join_template(const camrtc_rtp_history *h, uint32_t id, size_t *len, camrtc_time_us *at)
{
    const uint8_t *t;
    if (camrtc_rtp_history_peek(h, (uint16_t)id, &t, len, at) != CAMRTC_OK || *len < CAMRTC_RTP_HEADER_MIN ||
        *len > PC_PKT_MAX || camrtc_rd32(t + 8) != id)
        return NULL;
    return t;
}

static int send_txbuf(camrtc_pc *pc, camrtc_time_us now, size_t len);

/* Instead of waiting up to a frame interval plus an encode for a new IDR, a viewer that
 * joins a running fan-out gets at once what every other viewer got from the newest IDR on:
 * the same payloads (STAP-A with SPS/PPS first, RFC 6184 section 5.7.1), under our own
 * SSRC, sequence numbers and timestamp offset, rebuilt from the shared history as NACK
 * resends are, and mapped there for NACK like any packet we send. Nothing goes out unless
 * every packet from that IDR to the newest is still held and the IDR is young enough
 * (join_max_age bounds the burst and how stale the first frames are). */
bool pc_send_join(camrtc_pc *pc, camrtc_time_us now)
{
    const camrtc_pc_packets *l = pc->cfg.fanout;
    if (!l || !l->history || !l->have_key || !pc->srtp_tx)
        return false;
    uint32_t first = l->key_id, count = l->next_id - l->key_id;
    camrtc_time_us max_age = pc->cfg.join_max_age ? pc->cfg.join_max_age : CAMRTC_PC_DEFAULT_JOIN_MAX_AGE;
    size_t len;
    camrtc_time_us at;
    if (count == 0 || count > camrtc_rtp_history_capacity(l->history) ||
        !join_template(l->history, first, &len, &at) || (now > at && now - at > max_age))
        return false;
    for (uint32_t i = 1; i < count; i++)
        if (!join_template(l->history, first + i, &len, &at))
            return false;   /* evicted, or never stored (camrtc_pc_packets_store) */
    if (bind_history(pc, l) != CAMRTC_OK)
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *t = join_template(l->history, first + i, &len, &at);
        bool marker = (t[1] & 0x80) != 0;
        uint32_t src_ts = camrtc_rd32(t + 4);
        if (write_video_header(pc, src_ts, marker) != CAMRTC_RTP_HEADER_MIN) {
            if (i == 0)
                return false;   /* cannot happen: the template's header has the same size */
            break;
        }
        size_t payload = len - CAMRTC_RTP_HEADER_MIN;
        memcpy(pc->txbuf + CAMRTC_RTP_HEADER_MIN, t + CAMRTC_RTP_HEADER_MIN, payload);
        pc->id_map[pc->seq & pc->id_mask] = first + i;
        if (pc->mapped <= pc->id_mask)
            pc->mapped++;
        pc->seq++;
        if (i == 0)
            note_key_start(pc, now);   /* this viewer's IDR, however old the pictures */
        if (send_txbuf(pc, now, len) < 0)
            continue;   /* counted by SRTP or ICE; NACK can still fetch it */
        pc->st.join_packets_sent++;
        /* The first frame is the IDR we started from. */
        count_sent(pc, now, CAMRTC_RTP_HEADER_MIN, payload, src_ts, marker, pc->st.frames_sent == 0);
    }
    pc->need_keyframe = false;
    pc->joined = true;
    pc->join_end = l->next_id;
    return true;
}

uint64_t pc_ntp(camrtc_time_us now)
{
    /* Seconds since 1900 of the monotonic clock's zero are unknown; a fixed offset keeps
     * LSR away from 0 (which means "no SR yet"). Only differences are ever used. */
    uint64_t sec = now / 1000000u + 0x83AA7E80u;
    uint64_t frac = ((now % 1000000u) << 32) / 1000000u;
    return (sec << 32) | frac;
}

/* Protect pc->txbuf[0..len) and hand it to ICE. */
static int send_txbuf(camrtc_pc *pc, camrtc_time_us now, size_t len)
{
    int n = camrtc_srtp_protect(pc->srtp_tx, pc->txbuf, len, sizeof pc->txbuf);
    if (n < 0)
        return n;
    return camrtc_ice_send(pc->ice, now, pc->txbuf, (size_t)n);
}

void pc_send_rtcp(camrtc_pc *pc, const uint8_t *pkt, size_t len)
{
    uint8_t b[PC_RTCP_MAX + CAMRTC_SRTP_MAX_OVERHEAD];
    if (!pc->srtp_tx || len > PC_RTCP_MAX)
        return;
    memcpy(b, pkt, len);
    int n = camrtc_srtp_protect_rtcp(pc->srtp_tx, b, len, sizeof b);
    if (n > 0)
        camrtc_ice_send(pc->ice, pc->now, b, (size_t)n);
}

/* The first packet to send: all of them, or while a keyframe is awaited the first packet
 * of an IDR access unit; l->n when there is none. */
static size_t first_to_send(camrtc_pc *pc, const camrtc_pc_packets *l)
{
    if (!pc->need_keyframe)
        return 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->pkt[i].first_of_frame && l->pkt[i].keyframe) {
            pc->need_keyframe = false;
            return i;
        }
    }
    return l->n;
}

int camrtc_pc_send_packets(camrtc_pc *pc, camrtc_time_us now, const camrtc_pc_packets *l)
{
    if (pc->cfg.role != CAMRTC_PC_SENDER)
        return CAMRTC_ESTATE;
    pc->now = now;
    if (l->n == 0)
        return 0;
    shared_store(l, now, pc->txbuf);
    if (!pc->srtp_tx || pc->state != CAMRTC_PC_CONNECTED) {
        pc->st.nals_dropped_not_ready++;
        return 0;
    }
    if (pc->joined && l == pc->cfg.fanout && (int32_t)(l->pkt[l->n - 1].id - pc->join_end) < 0)
        return 0;   /* these went out when we joined */
    size_t i = first_to_send(pc, l);
    if (i == l->n) {
        pc->st.nals_dropped_wait_key++;
        return 0;
    }
    int rc = bind_history(pc, l);
    if (rc != CAMRTC_OK)
        return rc;
    int sent = 0;
    for (; i < l->n; i++) {
        const camrtc_pc_packet *p = &l->pkt[i];
        int hl = write_video_header(pc, p->rtp_ts, p->marker);
        if (hl < 0 || (size_t)hl + p->payload_len > PC_PKT_MAX)
            return hl < 0 ? hl : CAMRTC_ETOOBIG;
        memcpy(pc->txbuf + hl, p->buf + l->header_room, p->payload_len);
        size_t len = (size_t)hl + p->payload_len;
        history_record(pc, now, l, p, pc->txbuf, len);
        pc->seq++;
        if (p->first_of_frame && p->keyframe)
            note_key_start(pc, now);
        if (send_txbuf(pc, now, len) < 0)
            continue;   /* SRTP or ICE refused: counted by them; the history has it for NACK */
        sent++;
        count_sent(pc, now, (size_t)hl, p->payload_len, p->rtp_ts, p->marker, p->keyframe);
    }
    return sent;
}

int camrtc_pc_send_nal(camrtc_pc *pc, camrtc_time_us now, const camrtc_nal *nal)
{
    if (pc->cfg.role != CAMRTC_PC_SENDER)
        return CAMRTC_ESTATE;
    int rc = camrtc_pc_packetize(&pc->own, nal);
    if (rc != CAMRTC_OK)
        return rc;
    return camrtc_pc_send_packets(pc, now, &pc->own);
}

/* ---- RTCP a sender handles --------------------------------------------------------------- */

/* The round-trip time to the viewer: the last RR's, else the ICE pair's; 0 = unknown. */
static camrtc_time_us known_rtt(const camrtc_pc *pc)
{
    if (pc->st.round_trip_time)
        return pc->st.round_trip_time;
    return camrtc_ice_get_stats(pc->ice)->selected_rtt;
}

/* Whether seq was resent so recently that this NACK crossed the resend: the receiver
 * retries after about one RTT, so an ask sooner than that is answered by what is on
 * its way. */
static bool resent_recently(const camrtc_pc *pc, camrtc_time_us now, uint16_t seq)
{
    camrtc_time_us gap = known_rtt(pc);
    if (gap < PC_RESEND_MIN_GAP)
        gap = PC_RESEND_MIN_GAP;
    const pc_resent *r = &pc->resent[seq & (PC_RESENT_RING - 1)];
    return r->used && r->seq == seq && now - r->at < gap;
}

static void note_resent(camrtc_pc *pc, camrtc_time_us now, uint16_t seq)
{
    pc->resent[seq & (PC_RESENT_RING - 1)] = (pc_resent){.seq = seq, .used = true, .at = now};
}

/* Generic NACK (RFC 4585 section 6.2.1): resend the very packet, rebuilt from the shared
 * history or copied from our own; each seq once per RTT, and at most PC_NACK_RESEND_MAX
 * packets for one NACK. */
void pc_on_nack(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_packet *p)
{
    if (!pc->srtp_tx)
        return;   /* not keyed: nothing was sent */
    uint16_t seqs[PC_NACK_MAX];
    size_t n = camrtc_rtcp_nack_seqs(p, seqs, PC_NACK_MAX);
    if (n > PC_NACK_MAX)
        n = PC_NACK_MAX;
    pc->st.nack_count++;
    size_t resent = 0;
    for (size_t i = 0; i < n; i++) {
        pc->st.nack_seqs++;
        if (resent == PC_NACK_RESEND_MAX) {
            pc->st.nack_over_limit++;
            continue;
        }
        if (resent_recently(pc, now, seqs[i])) {
            pc->st.nack_repeats++;
            continue;
        }
        int n_rebuilt = shared_rebuild(pc, now, seqs[i]);
        size_t len;
        if (n_rebuilt > 0) {
            len = (size_t)n_rebuilt;
        } else {
            const uint8_t *pkt;
            if (!pc->history || camrtc_rtp_history_get(pc->history, now, seqs[i], &pkt, &len) != CAMRTC_OK ||
                len > PC_PKT_MAX) {
                pc->st.nack_misses++;
                continue;
            }
            memcpy(pc->txbuf, pkt, len);
        }
        resent++;
        note_resent(pc, now, seqs[i]);
        if (send_txbuf(pc, now, len) >= 0) {
            pc->st.retransmitted_packets_sent++;
            pc->st.retransmitted_bytes_sent += len;
        }
    }
}

/* How long after an IDR began going out a PLI from its viewer may have crossed it
 * (PC_PLI_CROSS_* in pc_int.h say why these numbers). */
static camrtc_time_us pli_cross_window(const camrtc_pc *pc)
{
    camrtc_time_us rtt = known_rtt(pc);
    camrtc_time_us w = (rtt ? rtt : PC_PLI_CROSS_DEFAULT_RTT) + PC_PLI_CROSS_SLACK;
    if (w < PC_PLI_CROSS_FLOOR)
        w = PC_PLI_CROSS_FLOOR;
    return w < PC_PLI_CROSS_MAX ? w : PC_PLI_CROSS_MAX;
}

/* PLI (RFC 4585 section 6.3.1) carries nothing that says which picture it is about: one
 * sent before the viewer had our last IDR reaches us within about an RTT of it, and that
 * IDR is its answer. A later PLI means the picture broke after the IDR: a new one. */
static bool pli_crossed_key(const camrtc_pc *pc, camrtc_time_us now)
{
    return pc->key_sent && now >= pc->key_sent_at && now - pc->key_sent_at < pli_cross_window(pc);
}

/* FIR (RFC 5104 section 4.3.1): the Seq nr grows by one for each new request of a sender
 * and stays the same in its repetitions (section 4.3.1.1), so a repetition of the last
 * request answered is already served. A new Seq nr is a new command, answered even if it
 * crossed an IDR (section 4.3.1.2: a decoder refresh point as soon as possible). */
static bool fir_already_served(camrtc_pc *pc, const camrtc_rtcp_packet *p)
{
    for (unsigned i = 0; i < p->u.fir.n; i++) {
        const camrtc_rtcp_fir_entry *e = &p->u.fir.entry[i];
        if (e->ssrc != pc->ssrc)
            continue;
        if (pc->fir_served && pc->fir_from == p->ssrc && pc->fir_seq == e->seq_nr)
            return true;
        pc->fir_served = true;
        pc->fir_from = p->ssrc;
        pc->fir_seq = e->seq_nr;
        return false;
    }
    return false;
}

void pc_on_keyframe_request(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_packet *p)
{
    if (p->kind == CAMRTC_RTCP_K_PLI) {
        pc->st.pli_count++;
        if (pli_crossed_key(pc, now)) {
            pc->st.pli_ignored++;
            return;
        }
    } else {
        pc->st.fir_count++;
        if (fir_already_served(pc, p)) {
            pc->st.fir_ignored++;
            return;
        }
    }
    camrtc_pc_event k = {.type = CAMRTC_PC_EV_KEYFRAME_WANTED};
    pc_emit(pc, &k);
}

/* A report block about our stream (RFC 3550 section 6.4.1): loss and round-trip time. */
void pc_on_rr_block(camrtc_pc *pc, camrtc_time_us now, const camrtc_rtcp_rb *rb)
{
    if (rb->ssrc != pc->ssrc)
        return;
    pc->st.fraction_lost = rb->fraction_lost;
    pc->st.remote_packets_lost = rb->cumulative_lost;
    int64_t rtt = camrtc_rtcp_rtt_us(camrtc_rtcp_ntp_mid(pc_ntp(now)), rb->lsr, rb->dlsr);
    /* An LSR that is not one of our SRs gives nonsense: keep plausible values only. */
    if (rtt >= 0 && rtt < (int64_t)CAMRTC_SEC(30))
        pc->st.round_trip_time = rtt > 0 ? (camrtc_time_us)rtt : 1;
}

/* SR + SDES CNAME, the compound RFC 3550 section 6.1 asks for. */
void pc_send_report_sr(camrtc_pc *pc, camrtc_time_us now)
{
    uint8_t b[PC_RTCP_MAX];
    /* The RTP time that corresponds to now (RFC 3550 section 6.4.1): the last timestamp
     * sent, moved on by the 90 kHz clock since. */
    uint32_t ts = pc->last_ts + (uint32_t)((now - pc->last_ts_at) * 9u / 100u);
    camrtc_rtcp_sr_info info = {
        .ntp = pc_ntp(now), .rtp_ts = ts, .packet_count = pc->sr_packets, .octet_count = pc->sr_octets,
    };
    int n = camrtc_rtcp_write_sr(b, sizeof b, pc->ssrc, &info, NULL, 0);
    if (n < 0)
        return;
    int m = camrtc_rtcp_write_sdes_cname(b + n, sizeof b - (size_t)n, pc->ssrc, pc->cname);
    if (m < 0)
        return;
    pc_send_rtcp(pc, b, (size_t)(n + m));
    pc->st.sr_sent++;
}
