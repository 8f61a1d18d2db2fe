/* RTCP compound parsing (RFC 3550 §6, RFC 4585 §6, RFC 5104 §4.3.1, REMB, transport-wide
 * CC feedback) and the writers. Each packet is checked against its own length before any
 * field is read; a compound is walked one packet at a time without copying. */
#include "camrtc/rtp.h"

#include <string.h>

#include "camrtc/bytes.h"
#include "camrtc/error.h"

#define RTCP_HDR 4
#define RB_SIZE 24
#define FB_HDR 8      /* sender SSRC + media SSRC (RFC 4585 §6.1) */

/* ---- report blocks, SR, RR (RFC 3550 §6.4) ------------------------------------------- */

static void read_rb(const uint8_t *p, camrtc_rtcp_rb *rb)
{
    rb->ssrc = camrtc_rd32(p);
    rb->fraction_lost = p[4];
    uint32_t lost = camrtc_rd24(p + 5);
    rb->cumulative_lost = (int32_t)(lost & 0x800000u ? lost | 0xff000000u : lost);  /* sign-extend */
    rb->ext_highest_seq = camrtc_rd32(p + 8);
    rb->jitter = camrtc_rd32(p + 12);
    rb->lsr = camrtc_rd32(p + 16);
    rb->dlsr = camrtc_rd32(p + 20);
}

static int parse_sr(camrtc_rtcp_packet *pkt)
{
    const uint8_t *b = pkt->body;
    if (pkt->body_len < 24 + (size_t)pkt->count * RB_SIZE)
        return CAMRTC_EPROTO;
    pkt->kind = CAMRTC_RTCP_K_SR;
    pkt->ssrc = camrtc_rd32(b);
    pkt->u.sr.info.ntp = (uint64_t)camrtc_rd32(b + 4) << 32 | camrtc_rd32(b + 8);
    pkt->u.sr.info.rtp_ts = camrtc_rd32(b + 12);
    pkt->u.sr.info.packet_count = camrtc_rd32(b + 16);
    pkt->u.sr.info.octet_count = camrtc_rd32(b + 20);
    pkt->u.sr.n_rb = pkt->count;
    for (int i = 0; i < pkt->count; i++)
        read_rb(b + 24 + i * RB_SIZE, &pkt->u.sr.rb[i]);
    return CAMRTC_OK;
}

static int parse_rr(camrtc_rtcp_packet *pkt)
{
    if (pkt->body_len < 4 + (size_t)pkt->count * RB_SIZE)
        return CAMRTC_EPROTO;
    pkt->kind = CAMRTC_RTCP_K_RR;
    pkt->ssrc = camrtc_rd32(pkt->body);
    pkt->u.rr.n_rb = pkt->count;
    for (int i = 0; i < pkt->count; i++)
        read_rb(pkt->body + 4 + i * RB_SIZE, &pkt->u.rr.rb[i]);
    return CAMRTC_OK;
}

/* ---- SDES and BYE (RFC 3550 §6.5, §6.6) ---------------------------------------------- */

/* One chunk: SSRC, items (type, length, text) up to a zero type byte, then padding to the
 * next 32-bit boundary. *pos is relative to the body, which starts 32-bit aligned. */
static int parse_sdes_chunk(const uint8_t *b, size_t n, size_t *pos, camrtc_rtcp_sdes_chunk *c)
{
    if (n - *pos < 4)
        return CAMRTC_EPROTO;
    c->ssrc = camrtc_rd32(b + *pos);
    c->cname = NULL;
    c->cname_len = 0;
    size_t i = *pos + 4;
    for (;;) {
        if (i >= n)
            return CAMRTC_EPROTO;
        uint8_t type = b[i];
        if (type == 0)
            break;
        if (n - i < 2 || b[i + 1] > n - i - 2)
            return CAMRTC_EPROTO;
        if (type == 1 && !c->cname) {
            c->cname = (const char *)b + i + 2;
            c->cname_len = b[i + 1];
        }
        i += 2u + b[i + 1];
    }
    *pos = (i + 4) / 4 * 4;   /* the terminating zero plus padding to 32 bits */
    if (*pos > n)
        return CAMRTC_EPROTO;
    return CAMRTC_OK;
}

static int parse_sdes(camrtc_rtcp_packet *pkt)
{
    size_t pos = 0;
    pkt->kind = CAMRTC_RTCP_K_SDES;
    pkt->u.sdes.n_chunks = 0;
    for (int i = 0; i < pkt->count; i++) {
        camrtc_rtcp_sdes_chunk c;
        int rc = parse_sdes_chunk(pkt->body, pkt->body_len, &pos, &c);
        if (rc < 0)
            return rc;
        if (pkt->u.sdes.n_chunks < CAMRTC_RTCP_MAX_SDES)
            pkt->u.sdes.chunk[pkt->u.sdes.n_chunks++] = c;
    }
    return CAMRTC_OK;
}

static int parse_bye(camrtc_rtcp_packet *pkt)
{
    const uint8_t *b = pkt->body;
    size_t n = pkt->body_len, pos = (size_t)pkt->count * 4;
    if (pos > n)
        return CAMRTC_EPROTO;
    pkt->kind = CAMRTC_RTCP_K_BYE;
    pkt->u.bye.n_ssrc = pkt->count;
    for (int i = 0; i < pkt->count; i++)
        pkt->u.bye.ssrc[i] = camrtc_rd32(b + 4 * i);
    pkt->u.bye.reason = NULL;
    pkt->u.bye.reason_len = 0;
    if (pos < n) {
        if (b[pos] > n - pos - 1)
            return CAMRTC_EPROTO;
        pkt->u.bye.reason = (const char *)b + pos + 1;
        pkt->u.bye.reason_len = b[pos];
    }
    return CAMRTC_OK;
}

/* ---- transport-wide CC feedback (draft-holmer-...-01 §3.1) ---------------------------
 * FCI: base seq (16), status count (16), reference time (24, signed, 64 ms units),
 * feedback packet count (8), packet status chunks, then one receive delta per received
 * packet: 1 byte unsigned for "small delta", 2 bytes signed for "large or negative".
 * Chunks: run length (T=0: symbol 2 bits, run 13 bits) or status vector (T=1; S=0:
 * fourteen 1-bit symbols, S=1: seven 2-bit symbols). */

#define TWCC_FIXED 8

/* Symbol k (0-based) of chunk c, and how many symbols the chunk holds. */
static unsigned chunk_symbols(uint16_t c)
{
    if (!(c & 0x8000u))
        return c & 0x1fffu;
    return c & 0x4000u ? 7 : 14;
}

static uint8_t chunk_symbol(uint16_t c, unsigned k)
{
    if (!(c & 0x8000u))
        return (uint8_t)(c >> 13 & 3);
    if (c & 0x4000u)
        return (uint8_t)(c >> (12 - 2 * k) & 3);
    return (uint8_t)(c >> (13 - k) & 1);
}

/* Walk the chunks twice: the first pass finds where the deltas start and how many bytes
 * they take; the second pairs each status with its delta. Nothing is stored per packet,
 * so a status count of 65535 costs no memory. */
static int twcc_walk(const uint8_t *fci, size_t n, camrtc_twcc_status *out, size_t max, size_t *n_out)
{
    uint16_t base = camrtc_rd16(fci), count = camrtc_rd16(fci + 2);
    size_t pos = TWCC_FIXED, delta_bytes = 0;
    for (unsigned done = 0; done < count;) {
        if (n - pos < 2)
            return CAMRTC_EPROTO;
        uint16_t c = camrtc_rd16(fci + pos);
        pos += 2;
        unsigned syms = chunk_symbols(c);
        if (syms == 0)
            return CAMRTC_EPROTO;   /* a zero-length run would never end the walk usefully */
        for (unsigned k = 0; k < syms && done < count; k++, done++) {
            uint8_t s = chunk_symbol(c, k);
            if (s == 3)
                return CAMRTC_EPROTO;   /* reserved symbol */
            delta_bytes += s;           /* 0, 1 or 2 bytes */
        }
    }
    if (delta_bytes > n - pos)
        return CAMRTC_EPROTO;
    size_t dpos = pos, cpos = TWCC_FIXED, w = 0;
    for (unsigned done = 0; done < count && w < max;) {
        uint16_t c = camrtc_rd16(fci + cpos);
        cpos += 2;
        unsigned syms = chunk_symbols(c);
        for (unsigned k = 0; k < syms && done < count && w < max; k++, done++) {
            camrtc_twcc_status *st = &out[w++];
            st->seq = (uint16_t)(base + done);
            st->symbol = chunk_symbol(c, k);
            st->delta_250us = 0;
            if (st->symbol == 1) {
                st->delta_250us = fci[dpos];
                dpos += 1;
            } else if (st->symbol == 2) {
                st->delta_250us = (int16_t)camrtc_rd16(fci + dpos);
                dpos += 2;
            }
        }
    }
    if (n_out)
        *n_out = w;
    return CAMRTC_OK;
}

static int parse_twcc(camrtc_rtcp_packet *pkt, const uint8_t *fci, size_t n)
{
    if (n < TWCC_FIXED)
        return CAMRTC_EPROTO;
    pkt->kind = CAMRTC_RTCP_K_TWCC;
    pkt->u.twcc.base_seq = camrtc_rd16(fci);
    pkt->u.twcc.status_count = camrtc_rd16(fci + 2);
    uint32_t ref = camrtc_rd24(fci + 4);
    pkt->u.twcc.ref_time = (int32_t)(ref & 0x800000u ? ref | 0xff000000u : ref);
    pkt->u.twcc.fb_count = fci[7];
    return twcc_walk(fci, n, NULL, 0, NULL);
}

int camrtc_rtcp_twcc_decode(const camrtc_rtcp_packet *pkt, camrtc_twcc_status *out, size_t max, size_t *n)
{
    if (!pkt || pkt->kind != CAMRTC_RTCP_K_TWCC || (max && !out))
        return CAMRTC_EINVAL;
    return twcc_walk(pkt->body + FB_HDR, pkt->body_len - FB_HDR, out, max, n);
}

/* ---- feedback (RFC 4585 §6.1) ---------------------------------------------------------- */

static int parse_remb(camrtc_rtcp_packet *pkt, const uint8_t *fci, size_t n)
{
    if (n < 8 || memcmp(fci, "REMB", 4) != 0)
        return CAMRTC_OK;   /* some other application's feedback: K_OTHER */
    uint8_t num = fci[4];
    if ((size_t)num * 4 > n - 8)
        return CAMRTC_EPROTO;
    unsigned exp = fci[5] >> 2;
    uint64_t mantissa = (uint64_t)(fci[5] & 3) << 16 | camrtc_rd16(fci + 6);
    pkt->kind = CAMRTC_RTCP_K_REMB;
    pkt->u.remb.bitrate_bps = mantissa > (UINT64_MAX >> exp) ? UINT64_MAX : mantissa << exp;
    pkt->u.remb.n_ssrc = 0;
    for (unsigned i = 0; i < num && i < CAMRTC_RTCP_MAX_REMB_SSRC; i++)
        pkt->u.remb.ssrc[pkt->u.remb.n_ssrc++] = camrtc_rd32(fci + 8 + 4 * i);
    return CAMRTC_OK;
}

static int parse_fir(camrtc_rtcp_packet *pkt, const uint8_t *fci, size_t n)
{
    if (n < 8 || n % 8)
        return CAMRTC_EPROTO;
    pkt->kind = CAMRTC_RTCP_K_FIR;
    pkt->u.fir.n = 0;
    for (size_t i = 0; i < n / 8 && i < CAMRTC_RTCP_MAX_FIR; i++) {
        pkt->u.fir.entry[i].ssrc = camrtc_rd32(fci + 8 * i);
        pkt->u.fir.entry[i].seq_nr = fci[8 * i + 4];
        pkt->u.fir.n++;
    }
    return CAMRTC_OK;
}

static int parse_fb(camrtc_rtcp_packet *pkt)
{
    if (pkt->body_len < FB_HDR)
        return CAMRTC_EPROTO;
    pkt->ssrc = camrtc_rd32(pkt->body);
    pkt->media_ssrc = camrtc_rd32(pkt->body + 4);
    const uint8_t *fci = pkt->body + FB_HDR;
    size_t n = pkt->body_len - FB_HDR;
    if (pkt->type == CAMRTC_RTCP_RTPFB) {
        if (pkt->count == CAMRTC_RTCP_FMT_NACK) {
            if (n < 4 || n % 4)
                return CAMRTC_EPROTO;
            pkt->kind = CAMRTC_RTCP_K_NACK;
            pkt->u.nack.items = fci;
            pkt->u.nack.n_items = n / 4;
            return CAMRTC_OK;
        }
        if (pkt->count == CAMRTC_RTCP_FMT_TWCC)
            return parse_twcc(pkt, fci, n);
        return CAMRTC_OK;
    }
    if (pkt->count == CAMRTC_RTCP_FMT_PLI) {
        pkt->kind = CAMRTC_RTCP_K_PLI;
        return CAMRTC_OK;
    }
    if (pkt->count == CAMRTC_RTCP_FMT_FIR)
        return parse_fir(pkt, fci, n);
    if (pkt->count == CAMRTC_RTCP_FMT_AFB)
        return parse_remb(pkt, fci, n);
    return CAMRTC_OK;
}

/* ---- the compound walk ----------------------------------------------------------------- */

void camrtc_rtcp_iter_init(camrtc_rtcp_iter *it, const uint8_t *data, size_t len)
{
    it->data = data;
    it->len = data ? len : 0;
    it->off = 0;
}

static int decode_body(camrtc_rtcp_packet *pkt)
{
    switch (pkt->type) {
    case CAMRTC_RTCP_SR: return parse_sr(pkt);
    case CAMRTC_RTCP_RR: return parse_rr(pkt);
    case CAMRTC_RTCP_SDES: return parse_sdes(pkt);
    case CAMRTC_RTCP_BYE: return parse_bye(pkt);
    case CAMRTC_RTCP_RTPFB:
    case CAMRTC_RTCP_PSFB: return parse_fb(pkt);
    default: return CAMRTC_OK;
    }
}

int camrtc_rtcp_iter_next(camrtc_rtcp_iter *it, camrtc_rtcp_packet *pkt)
{
    if (!it || !pkt)
        return CAMRTC_EINVAL;
    if (it->off >= it->len)
        return 0;
    const uint8_t *p = it->data + it->off;
    size_t left = it->len - it->off;
    it->off = it->len;   /* on any error the walk ends here */
    if (left < RTCP_HDR || (p[0] >> 6) != 2)
        return CAMRTC_EPROTO;
    size_t size = ((size_t)camrtc_rd16(p + 2) + 1) * 4;
    if (size > left)
        return CAMRTC_EPROTO;
    memset(pkt, 0, sizeof *pkt);
    pkt->type = p[1];
    pkt->count = p[0] & 0x1f;
    pkt->body = p + RTCP_HDR;
    pkt->body_len = size - RTCP_HDR;
    if (p[0] & 0x20) {
        /* RFC 3550 §6.4.1: the last octet counts the padding, itself included. */
        uint8_t pad = p[size - 1];
        if (pad == 0 || pad > pkt->body_len)
            return CAMRTC_EPROTO;
        pkt->body_len -= pad;
    }
    int rc = decode_body(pkt);
    if (rc < 0)
        return rc;
    it->off = (size_t)(p - it->data) + size;
    return 1;
}

int camrtc_rtcp_validate(const uint8_t *data, size_t len)
{
    if (!data || len == 0)
        return CAMRTC_EPROTO;
    camrtc_rtcp_iter it;
    camrtc_rtcp_packet pkt;
    camrtc_rtcp_iter_init(&it, data, len);
    int rc;
    while ((rc = camrtc_rtcp_iter_next(&it, &pkt)) > 0)
        ;
    return rc;
}

size_t camrtc_rtcp_nack_seqs(const camrtc_rtcp_packet *pkt, uint16_t *out, size_t max)
{
    if (!pkt || pkt->kind != CAMRTC_RTCP_K_NACK)
        return 0;
    size_t total = 0;
    for (size_t i = 0; i < pkt->u.nack.n_items; i++) {
        const uint8_t *item = pkt->u.nack.items + 4 * i;
        uint16_t pid = camrtc_rd16(item), blp = camrtc_rd16(item + 2);
        if (total < max)
            out[total] = pid;
        total++;
        for (int b = 0; b < 16; b++) {
            if (!(blp >> b & 1))
                continue;
            if (total < max)
                out[total] = (uint16_t)(pid + b + 1);
            total++;
        }
    }
    return total;
}

int64_t camrtc_rtcp_rtt_us(uint32_t arrival, uint32_t lsr, uint32_t dlsr)
{
    if (lsr == 0)
        return -1;
    /* All three are in 1/65536 s; the subtraction is modulo 2^32 like the clock. */
    uint32_t rtt = arrival - lsr - dlsr;
    if (rtt > 0x80000000u)
        return -1;
    return (int64_t)((uint64_t)rtt * 1000000u >> 16);
}

/* ---- writers ----------------------------------------------------------------------------- */

/* The common header for a packet of size bytes (a multiple of 4). */
static void write_hdr(uint8_t *out, uint8_t count, uint8_t type, size_t size)
{
    out[0] = (uint8_t)(0x80 | count);
    out[1] = type;
    camrtc_wr16(out + 2, (uint16_t)(size / 4 - 1));
}

static void write_rb(uint8_t *p, const camrtc_rtcp_rb *rb)
{
    camrtc_wr32(p, rb->ssrc);
    p[4] = rb->fraction_lost;
    int32_t lost = rb->cumulative_lost;
    if (lost > 0x7fffff)
        lost = 0x7fffff;   /* clamp to the signed 24-bit range */
    if (lost < -0x800000)
        lost = -0x800000;
    camrtc_wr24(p + 5, (uint32_t)lost & 0xffffffu);
    camrtc_wr32(p + 8, rb->ext_highest_seq);
    camrtc_wr32(p + 12, rb->jitter);
    camrtc_wr32(p + 16, rb->lsr);
    camrtc_wr32(p + 20, rb->dlsr);
}

int camrtc_rtcp_write_sr(uint8_t *out, size_t cap, uint32_t ssrc, const camrtc_rtcp_sr_info *info,
                         const camrtc_rtcp_rb *rb, size_t n_rb)
{
    if (!info || n_rb > CAMRTC_RTCP_MAX_RB || (n_rb && !rb))
        return CAMRTC_EINVAL;
    size_t size = RTCP_HDR + 24 + n_rb * RB_SIZE;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    write_hdr(out, (uint8_t)n_rb, CAMRTC_RTCP_SR, size);
    camrtc_wr32(out + 4, ssrc);
    camrtc_wr32(out + 8, (uint32_t)(info->ntp >> 32));
    camrtc_wr32(out + 12, (uint32_t)info->ntp);
    camrtc_wr32(out + 16, info->rtp_ts);
    camrtc_wr32(out + 20, info->packet_count);
    camrtc_wr32(out + 24, info->octet_count);
    for (size_t i = 0; i < n_rb; i++)
        write_rb(out + 28 + i * RB_SIZE, &rb[i]);
    return (int)size;
}

int camrtc_rtcp_write_rr(uint8_t *out, size_t cap, uint32_t ssrc, const camrtc_rtcp_rb *rb, size_t n_rb)
{
    if (n_rb > CAMRTC_RTCP_MAX_RB || (n_rb && !rb))
        return CAMRTC_EINVAL;
    size_t size = RTCP_HDR + 4 + n_rb * RB_SIZE;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    write_hdr(out, (uint8_t)n_rb, CAMRTC_RTCP_RR, size);
    camrtc_wr32(out + 4, ssrc);
    for (size_t i = 0; i < n_rb; i++)
        write_rb(out + 8 + i * RB_SIZE, &rb[i]);
    return (int)size;
}

int camrtc_rtcp_write_sdes_cname(uint8_t *out, size_t cap, uint32_t ssrc, const char *cname)
{
    if (!cname)
        return CAMRTC_EINVAL;
    size_t n = strlen(cname);
    if (n > 255)
        return CAMRTC_EINVAL;
    /* SSRC, CNAME item (type, length, text), a zero item, padded to 32 bits. */
    size_t chunk = (4 + 2 + n + 1 + 3) / 4 * 4, size = RTCP_HDR + chunk;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    memset(out, 0, size);
    write_hdr(out, 1, CAMRTC_RTCP_SDES, size);
    camrtc_wr32(out + 4, ssrc);
    out[8] = 1;
    out[9] = (uint8_t)n;
    memcpy(out + 10, cname, n);
    return (int)size;
}

int camrtc_rtcp_write_bye(uint8_t *out, size_t cap, const uint32_t *ssrc, size_t n_ssrc)
{
    if (n_ssrc == 0 || n_ssrc > 31 || !ssrc)
        return CAMRTC_EINVAL;
    size_t size = RTCP_HDR + 4 * n_ssrc;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    write_hdr(out, (uint8_t)n_ssrc, CAMRTC_RTCP_BYE, size);
    for (size_t i = 0; i < n_ssrc; i++)
        camrtc_wr32(out + 4 + 4 * i, ssrc[i]);
    return (int)size;
}

static void write_fb_hdr(uint8_t *out, uint8_t fmt, uint8_t type, size_t size, uint32_t sender, uint32_t media)
{
    write_hdr(out, fmt, type, size);
    camrtc_wr32(out + 4, sender);
    camrtc_wr32(out + 8, media);
}

/* Group seqs into PID/BLP items; writes them when out is not NULL. Returns the count. */
static size_t nack_items(const uint16_t *seqs, size_t n, uint8_t *out)
{
    size_t items = 0;
    uint16_t pid = seqs[0], blp = 0;
    for (size_t i = 1; i <= n; i++) {
        uint16_t d = i < n ? (uint16_t)(seqs[i] - pid) : 0xffffu;
        if (i < n && d == 0)
            continue;
        if (i < n && d <= 16) {
            blp |= (uint16_t)(1u << (d - 1));
            continue;
        }
        if (out) {
            camrtc_wr16(out + 4 * items, pid);
            camrtc_wr16(out + 4 * items + 2, blp);
        }
        items++;
        if (i < n) {
            pid = seqs[i];
            blp = 0;
        }
    }
    return items;
}

int camrtc_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                           const uint16_t *seqs, size_t n)
{
    if (!seqs || n == 0)
        return CAMRTC_EINVAL;
    size_t items = nack_items(seqs, n, NULL);
    if (items > CAMRTC_RTCP_MAX_NACK_ITEMS)
        return CAMRTC_EINVAL;
    size_t size = RTCP_HDR + FB_HDR + 4 * items;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    write_fb_hdr(out, CAMRTC_RTCP_FMT_NACK, CAMRTC_RTCP_RTPFB, size, sender_ssrc, media_ssrc);
    nack_items(seqs, n, out + RTCP_HDR + FB_HDR);
    return (int)size;
}

int camrtc_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    size_t size = RTCP_HDR + FB_HDR;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    write_fb_hdr(out, CAMRTC_RTCP_FMT_PLI, CAMRTC_RTCP_PSFB, size, sender_ssrc, media_ssrc);
    return (int)size;
}

int camrtc_rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc,
                          uint8_t seq_nr)
{
    size_t size = RTCP_HDR + FB_HDR + 8;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    write_fb_hdr(out, CAMRTC_RTCP_FMT_FIR, CAMRTC_RTCP_PSFB, size, sender_ssrc, 0);
    camrtc_wr32(out + 12, media_ssrc);
    out[16] = seq_nr;
    out[17] = out[18] = out[19] = 0;
    return (int)size;
}

int camrtc_rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint64_t bitrate_bps,
                           const uint32_t *ssrcs, size_t n_ssrc)
{
    if (n_ssrc > 255 || (n_ssrc && !ssrcs))
        return CAMRTC_EINVAL;
    size_t size = RTCP_HDR + FB_HDR + 8 + 4 * n_ssrc;
    if (!out || size > cap)
        return CAMRTC_ETOOBIG;
    unsigned exp = 0;
    uint64_t mantissa = bitrate_bps;
    while (mantissa > 0x3ffffu) {
        mantissa >>= 1;
        exp++;
    }
    write_fb_hdr(out, CAMRTC_RTCP_FMT_AFB, CAMRTC_RTCP_PSFB, size, sender_ssrc, 0);
    memcpy(out + 12, "REMB", 4);
    out[16] = (uint8_t)n_ssrc;
    out[17] = (uint8_t)(exp << 2 | (mantissa >> 16));
    camrtc_wr16(out + 18, (uint16_t)mantissa);
    for (size_t i = 0; i < n_ssrc; i++)
        camrtc_wr32(out + 20 + 4 * i, ssrcs[i]);
    return (int)size;
}
