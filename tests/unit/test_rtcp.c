/* RTCP codecs: SR, RR, SDES, BYE, NACK, PLI, FIR, REMB, transport-cc; compound and
 * reduced-size packets; malformed input. */
#include "check.h"

#include "camrtc/error.h"
#include "camrtc/rtp.h"

/* Decode exactly one packet from buf, which must hold nothing else. */
static int one(const uint8_t *buf, size_t n, camrtc_rtcp_packet *pkt)
{
    camrtc_rtcp_iter it;
    camrtc_rtcp_iter_init(&it, buf, n);
    int rc = camrtc_rtcp_iter_next(&it, pkt);
    if (rc != 1)
        return rc < 0 ? rc : -100;
    camrtc_rtcp_packet extra;
    return camrtc_rtcp_iter_next(&it, &extra) == 0 ? 1 : -101;
}

static const camrtc_rtcp_rb rb2[2] = {
    {.ssrc = 0x01020304, .fraction_lost = 25, .cumulative_lost = 1000, .ext_highest_seq = 0x1ffff,
     .jitter = 90, .lsr = 0xaabbccdd, .dlsr = 65536},
    {.ssrc = 5, .fraction_lost = 255, .cumulative_lost = -3, .ext_highest_seq = 7, .jitter = 0, .lsr = 0, .dlsr = 0},
};

TEST(rtcp_sr_sdes_bye_compound)
{
    uint8_t buf[512];
    camrtc_rtcp_sr_info info = {.ntp = 0xe1234567890abcdeull, .rtp_ts = 3000, .packet_count = 10,
                                .octet_count = 12000};
    int a = camrtc_rtcp_write_sr(buf, sizeof buf, 0xcafe, &info, rb2, 2);
    CHECK_EQ_INT(a, 4 + 24 + 48);
    int b = camrtc_rtcp_write_sdes_cname(buf + a, sizeof buf - (size_t)a, 0xcafe, "camrtc-cname");
    CHECK_EQ_INT(b, 4 + 20);   /* 4 ssrc + 2 + 12 text + 1 end = 19 → 20 */
    uint32_t gone[2] = {0xcafe, 0xbeef};
    int c = camrtc_rtcp_write_bye(buf + a + b, sizeof buf - (size_t)(a + b), gone, 2);
    CHECK_EQ_INT(c, 12);
    size_t total = (size_t)(a + b + c);
    CHECK_EQ_INT(camrtc_rtcp_validate(buf, total), CAMRTC_OK);

    camrtc_rtcp_iter it;
    camrtc_rtcp_packet p;
    camrtc_rtcp_iter_init(&it, buf, total);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_SR);
    CHECK_EQ_INT(p.ssrc, 0xcafe);
    CHECK(p.u.sr.info.ntp == info.ntp);
    CHECK_EQ_INT(p.u.sr.info.rtp_ts, 3000);
    CHECK_EQ_INT(p.u.sr.info.octet_count, 12000);
    CHECK_EQ_INT(p.u.sr.n_rb, 2);
    CHECK_EQ_INT(p.u.sr.rb[0].cumulative_lost, 1000);
    CHECK_EQ_INT(p.u.sr.rb[0].lsr, 0xaabbccddu);
    CHECK_EQ_INT(p.u.sr.rb[1].cumulative_lost, -3);
    CHECK_EQ_INT(p.u.sr.rb[1].fraction_lost, 255);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_SDES);
    CHECK_EQ_INT(p.u.sdes.n_chunks, 1);
    CHECK_EQ_INT(p.u.sdes.chunk[0].ssrc, 0xcafe);
    CHECK_EQ_INT(p.u.sdes.chunk[0].cname_len, 12);
    CHECK_EQ_MEM(p.u.sdes.chunk[0].cname, "camrtc-cname", 12);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_BYE);
    CHECK_EQ_INT(p.u.bye.n_ssrc, 2);
    CHECK_EQ_INT(p.u.bye.ssrc[1], 0xbeef);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 0);
}

TEST(rtcp_rr_roundtrip_and_bounds)
{
    uint8_t buf[1024];
    camrtc_rtcp_packet p;
    int n = camrtc_rtcp_write_rr(buf, sizeof buf, 77, rb2, 2);
    CHECK_EQ_INT(n, 8 + 48);
    CHECK_EQ_INT(one(buf, (size_t)n, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_RR);
    CHECK_EQ_INT(p.ssrc, 77);
    CHECK_EQ_INT(p.u.rr.n_rb, 2);
    CHECK_EQ_INT(p.u.rr.rb[0].ext_highest_seq, 0x1ffff);
    CHECK_EQ_INT(p.u.rr.rb[0].dlsr, 65536);
    CHECK_EQ_INT(p.u.rr.rb[1].cumulative_lost, -3);
    /* An empty RR (receiver with nothing to report) is 8 bytes. */
    CHECK_EQ_INT(camrtc_rtcp_write_rr(buf, sizeof buf, 77, NULL, 0), 8);
    CHECK_EQ_INT(camrtc_rtcp_write_rr(buf, 7, 77, NULL, 0), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_rtcp_write_rr(buf, sizeof buf, 77, rb2, 32), CAMRTC_EINVAL);
    /* Cumulative loss beyond 24 bits is clamped. */
    camrtc_rtcp_rb big = {.cumulative_lost = 50000000};
    n = camrtc_rtcp_write_rr(buf, sizeof buf, 1, &big, 1);
    CHECK_EQ_INT(one(buf, (size_t)n, &p), 1);
    CHECK_EQ_INT(p.u.rr.rb[0].cumulative_lost, 0x7fffff);
}

TEST(rtcp_nack_roundtrip)
{
    /* 65535 and 0..15 share one item across the wrap; 100 starts a new one; 117 is 17
     * away from 100, so a third item; 117 twice is harmless. */
    uint16_t seqs[] = {65535, 0, 3, 15, 100, 101, 116, 117, 117, 300};
    uint8_t buf[128];
    int n = camrtc_rtcp_write_nack(buf, sizeof buf, 1, 2, seqs, 10);
    CHECK_EQ_INT(n, 12 + 4 * 4);
    camrtc_rtcp_packet p;
    CHECK_EQ_INT(one(buf, (size_t)n, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_NACK);
    CHECK_EQ_INT(p.type, CAMRTC_RTCP_RTPFB);
    CHECK_EQ_INT(p.ssrc, 1);
    CHECK_EQ_INT(p.media_ssrc, 2);
    CHECK_EQ_INT(p.u.nack.n_items, 4);
    /* Item 1: PID 65535, BLP bits for 0 (bit 0), 3 (bit 3), 15 (bit 15). */
    CHECK_EQ_INT(buf[12], 0xff);
    CHECK_EQ_INT(buf[13], 0xff);
    CHECK_EQ_INT(buf[14], 0x80);
    CHECK_EQ_INT(buf[15], 0x09);
    uint16_t out[32];
    size_t got = camrtc_rtcp_nack_seqs(&p, out, 32);
    uint16_t want[] = {65535, 0, 3, 15, 100, 101, 116, 117, 300};
    CHECK_EQ_INT(got, 9);
    CHECK_EQ_MEM(out, want, sizeof want);
    /* A short output array still reports the total. */
    CHECK_EQ_INT(camrtc_rtcp_nack_seqs(&p, out, 2), 9);
    CHECK_EQ_INT(camrtc_rtcp_write_nack(buf, sizeof buf, 1, 2, seqs, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_rtcp_write_nack(buf, 20, 1, 2, seqs, 10), CAMRTC_ETOOBIG);
}

TEST(rtcp_pli_fir_remb)
{
    uint8_t buf[256];
    camrtc_rtcp_packet p;
    int n = camrtc_rtcp_write_pli(buf, sizeof buf, 10, 20);
    CHECK_EQ_INT(n, 12);
    static const uint8_t pli[] = {0x81, 206, 0, 2, 0, 0, 0, 10, 0, 0, 0, 20};
    CHECK_EQ_MEM(buf, pli, 12);
    CHECK_EQ_INT(one(buf, (size_t)n, &p), 1);   /* reduced-size: alone, no SR/RR first */
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_PLI);
    CHECK_EQ_INT(p.media_ssrc, 20);

    n = camrtc_rtcp_write_fir(buf, sizeof buf, 10, 20, 7);
    CHECK_EQ_INT(n, 20);
    CHECK_EQ_INT(one(buf, (size_t)n, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_FIR);
    CHECK_EQ_INT(p.media_ssrc, 0);
    CHECK_EQ_INT(p.u.fir.n, 1);
    CHECK_EQ_INT(p.u.fir.entry[0].ssrc, 20);
    CHECK_EQ_INT(p.u.fir.entry[0].seq_nr, 7);

    uint32_t ssrcs[2] = {0x1111, 0x2222};
    n = camrtc_rtcp_write_remb(buf, sizeof buf, 10, 1000000, ssrcs, 2);
    CHECK_EQ_INT(n, 28);
    /* 1 000 000 = 250000 << 2: exponent 2, mantissa 250000 (0x3d090). */
    CHECK_EQ_INT(buf[17], (2 << 2) | 0x3);
    CHECK_EQ_INT(buf[18], 0xd0);
    CHECK_EQ_INT(buf[19], 0x90);
    CHECK_EQ_INT(one(buf, (size_t)n, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_REMB);
    CHECK(p.u.remb.bitrate_bps == 1000000);
    CHECK_EQ_INT(p.u.remb.n_ssrc, 2);
    CHECK_EQ_INT(p.u.remb.ssrc[1], 0x2222);
    /* Precision: 18 significant bits, rounded down. */
    n = camrtc_rtcp_write_remb(buf, sizeof buf, 10, 123456789, NULL, 0);
    CHECK_EQ_INT(one(buf, (size_t)n, &p), 1);
    CHECK(p.u.remb.bitrate_bps <= 123456789 && p.u.remb.bitrate_bps > 123456789 - 512);
}

/* A transport-cc feedback built by hand from the draft's §3.1 layout:
 * base seq 65530, 20 packets, reference time -2 (signed 24 bits), fb count 9.
 *   chunk 1: run length, symbol 1 (small delta), run 10      → 0x200a
 *   chunk 2: status vector, 2-bit: 2 0 1 1 0 0 1             → 0xc000|10 00 01 01 00 00 01 = 0xe141
 *   chunk 3: status vector, 1-bit: 1 0 1 (then 11 unused)    → 0x8000|1 0 1 0... = 0xa800
 * deltas: 10 × 1 byte (4, 5, ...), 2 bytes (-8), 1 byte ×3 (chunk 2), 1 byte ×2 (chunk 3). */
static const uint8_t twcc_pkt[] = {
    0x8f, 205, 0x00, 0x0b,                     /* V=2 FMT=15 RTPFB, length 11 (48 bytes) */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0xff, 0xfa, 0x00, 0x14, 0xff, 0xff, 0xfe, 0x09,
    0x20, 0x0a, 0xe1, 0x41, 0xa8, 0x00,
    4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
    0xff, 0xf8, 20, 21, 22,
    30, 31,
    0, 0, 0, 0, 0,                             /* zero fill to the 32-bit boundary */
};

TEST(rtcp_twcc_parse)
{
    CHECK_EQ_INT(sizeof twcc_pkt, 48);
    camrtc_rtcp_packet p;
    CHECK_EQ_INT(one(twcc_pkt, sizeof twcc_pkt, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_TWCC);
    CHECK_EQ_INT(p.u.twcc.base_seq, 65530);
    CHECK_EQ_INT(p.u.twcc.status_count, 20);
    CHECK_EQ_INT(p.u.twcc.ref_time, -2);
    CHECK_EQ_INT(p.u.twcc.fb_count, 9);
    camrtc_twcc_status st[32];
    size_t n = 0;
    CHECK_EQ_INT(camrtc_rtcp_twcc_decode(&p, st, 32, &n), CAMRTC_OK);
    CHECK_EQ_INT(n, 20);
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_INT(st[i].seq, (uint16_t)(65530 + i));
        CHECK_EQ_INT(st[i].symbol, 1);
        CHECK_EQ_INT(st[i].delta_250us, 4 + i);
    }
    CHECK_EQ_INT(st[5].seq, 65535);
    CHECK_EQ_INT(st[6].seq, 0);
    CHECK_EQ_INT(st[10].symbol, 2);
    CHECK_EQ_INT(st[10].delta_250us, -8);
    CHECK_EQ_INT(st[11].symbol, 0);
    CHECK_EQ_INT(st[12].delta_250us, 20);
    CHECK_EQ_INT(st[13].delta_250us, 21);
    CHECK_EQ_INT(st[14].symbol, 0);
    CHECK_EQ_INT(st[15].symbol, 0);
    CHECK_EQ_INT(st[16].delta_250us, 22);
    CHECK_EQ_INT(st[17].symbol, 1);
    CHECK_EQ_INT(st[17].delta_250us, 30);
    CHECK_EQ_INT(st[18].symbol, 0);
    CHECK_EQ_INT(st[19].delta_250us, 31);
    CHECK_EQ_INT(st[19].seq, 13);
    /* Partial decode. */
    CHECK_EQ_INT(camrtc_rtcp_twcc_decode(&p, st, 3, &n), CAMRTC_OK);
    CHECK_EQ_INT(n, 3);
}

static int validate_mod(const uint8_t *src, size_t n, size_t at, uint8_t v)
{
    uint8_t b[128];
    memcpy(b, src, n);
    b[at] = v;
    return camrtc_rtcp_validate(b, n);
}

TEST(rtcp_twcc_malformed)
{
    size_t n = sizeof twcc_pkt;
    CHECK_EQ_INT(camrtc_rtcp_validate(twcc_pkt, n), CAMRTC_OK);
    /* Cut to 36 bytes: the 17 delta bytes no longer fit. */
    CHECK_EQ_INT(validate_mod(twcc_pkt, 36, 3, 8), CAMRTC_EPROTO);
    /* 65535 packets: the chunks run out before covering them. */
    uint8_t b[64];
    memcpy(b, twcc_pkt, n);
    b[14] = b[15] = 0xff;
    b[26] = 0x00;
    b[27] = 0x20;   /* a run of 32 not-received: ends just short of the deltas' end */
    CHECK_EQ_INT(camrtc_rtcp_validate(b, n), CAMRTC_EPROTO);
    /* Reserved 2-bit symbol 3. */
    CHECK_EQ_INT(validate_mod(twcc_pkt, n, 22, 0xf1), CAMRTC_EPROTO);
    /* A run of length zero. */
    CHECK_EQ_INT(validate_mod(twcc_pkt, n, 21, 0x00), CAMRTC_EPROTO);
    /* Too short for the fixed part. */
    static const uint8_t shortp[] = {0x8f, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1, 0, 1};
    CHECK_EQ_INT(camrtc_rtcp_validate(shortp, sizeof shortp), CAMRTC_EPROTO);
}

TEST(rtcp_malformed_rejected)
{
    uint8_t buf[256];
    int n = camrtc_rtcp_write_rr(buf, sizeof buf, 77, rb2, 2);
    CHECK_EQ_INT(camrtc_rtcp_validate(buf, (size_t)n), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rtcp_validate(buf, 0), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_rtcp_validate(buf, 3), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_rtcp_validate(buf, (size_t)n - 4), CAMRTC_EPROTO);   /* length past end */
    CHECK_EQ_INT(validate_mod(buf, (size_t)n, 0, 0x42), CAMRTC_EPROTO);        /* version 1 */
    CHECK_EQ_INT(validate_mod(buf, (size_t)n, 0, 0x83), CAMRTC_EPROTO);        /* RC 3: blocks past end */
    /* Padding bit with a zero or oversized count. */
    buf[n - 1] = 0;
    CHECK_EQ_INT(validate_mod(buf, (size_t)n, 0, 0xa2), CAMRTC_EPROTO);
    buf[n - 1] = 200;
    CHECK_EQ_INT(validate_mod(buf, (size_t)n, 0, 0xa2), CAMRTC_EPROTO);
    /* Trailing garbage after a good packet. */
    n = camrtc_rtcp_write_pli(buf, sizeof buf, 1, 2);
    buf[n] = 0x80;
    CHECK_EQ_INT(camrtc_rtcp_validate(buf, (size_t)n + 1), CAMRTC_EPROTO);
    /* Feedback shorter than its two SSRCs. */
    static const uint8_t fb_short[] = {0x81, 206, 0, 1, 0, 0, 0, 1};
    CHECK_EQ_INT(camrtc_rtcp_validate(fb_short, sizeof fb_short), CAMRTC_EPROTO);
    /* NACK without an item; FIR without an entry. */
    static const uint8_t nack0[] = {0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
    CHECK_EQ_INT(camrtc_rtcp_validate(nack0, sizeof nack0), CAMRTC_EPROTO);
    static const uint8_t fir0[] = {0x84, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0};
    CHECK_EQ_INT(camrtc_rtcp_validate(fir0, sizeof fir0), CAMRTC_EPROTO);
    /* SDES item running past the packet; a chunk without its end byte. */
    static const uint8_t sdes_bad[] = {0x81, 202, 0, 2, 0, 0, 0, 1, 1, 9, 'a', 'b'};
    CHECK_EQ_INT(camrtc_rtcp_validate(sdes_bad, sizeof sdes_bad), CAMRTC_EPROTO);
    static const uint8_t sdes_noend[] = {0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b'};
    CHECK_EQ_INT(camrtc_rtcp_validate(sdes_noend, sizeof sdes_noend), CAMRTC_EPROTO);
    /* BYE reason longer than what is left. */
    static const uint8_t bye_bad[] = {0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'x', 'y', 'z'};
    CHECK_EQ_INT(camrtc_rtcp_validate(bye_bad, sizeof bye_bad), CAMRTC_EPROTO);
    /* REMB announcing more SSRCs than it carries. */
    static const uint8_t remb_bad[] = {0x8f, 206, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0, 'R', 'E', 'M', 'B', 3, 0, 0, 1};
    CHECK_EQ_INT(camrtc_rtcp_validate(remb_bad, sizeof remb_bad), CAMRTC_EPROTO);
}

TEST(rtcp_unknown_types_skipped)
{
    /* APP, then an AFB that is not REMB, then a PLI: the first two come back as OTHER. */
    static const uint8_t c[] = {
        0x80, 204, 0, 2, 0, 0, 0, 1, 'n', 'a', 'm', 'e',
        0x8f, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 'G', 'O', 'O', 'G',
        0x81, 206, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2,
    };
    camrtc_rtcp_iter it;
    camrtc_rtcp_packet p;
    camrtc_rtcp_iter_init(&it, c, sizeof c);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_OTHER);
    CHECK_EQ_INT(p.type, 204);
    CHECK_EQ_INT(p.body_len, 8);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_OTHER);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_PLI);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 0);
}

TEST(rtcp_browser_rr_sdes_compound)
{
    /* The shape a browser sends as a receiver: RR with one block, then SDES with a
     * 16-character CNAME (4 + 2 + 16 + 1 = 23 → 24 bytes of chunk). */
    static const uint8_t c[] = {
        0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,
        0x6b, 0x8b, 0x45, 0x67, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2a, 0x5c,
        0x00, 0x00, 0x00, 0x0c, 0x8a, 0x3b, 0x29, 0x1f, 0x00, 0x00, 0x4e, 0x20,
        0x81, 0xca, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01,
        0x01, 0x10, 'y', 'F', 'm', '0', 'p', 'Q', 'x', '3', 'k', 'L', '9', 'u', 'N', 'd', 'W', 'e',
        0x00, 0x00,
    };
    camrtc_rtcp_iter it;
    camrtc_rtcp_packet p;
    camrtc_rtcp_iter_init(&it, c, sizeof c);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_RR);
    CHECK_EQ_INT(p.u.rr.rb[0].ssrc, 0x6b8b4567u);
    CHECK_EQ_INT(p.u.rr.rb[0].ext_highest_seq, 0x12a5c);
    CHECK_EQ_INT(p.u.rr.rb[0].jitter, 12);
    CHECK_EQ_INT(p.u.rr.rb[0].dlsr, 20000);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_SDES);
    CHECK_EQ_INT(p.u.sdes.chunk[0].cname_len, 16);
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 0);
}

TEST(rtcp_rtt_from_report_block)
{
    /* RFC 3550 §6.4.1 example: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000
     * (46853.125 s), DLSR = 0x0005:4000 (5.250 s) → RTT 6.125 s. */
    CHECK_EQ_INT(camrtc_rtcp_rtt_us(0xb7108000u, 0xb7052000u, 0x00054000u), 6125000);
    CHECK_EQ_INT(camrtc_rtcp_rtt_us(0xb7108000u, 0, 0x00054000u), -1);
    CHECK_EQ_INT(camrtc_rtcp_rtt_us(0x00000010u, 0xfffffff0u, 0x10u), 244);   /* across the wrap: 16/65536 s */
    CHECK_EQ_INT(camrtc_rtcp_rtt_us(0x1000u, 0x1000u, 0x10u), -1);
    CHECK_EQ_INT(camrtc_rtcp_ntp_mid(0x0000b7108000ffffull), 0xb7108000u);
}

int main(void)
{
    return RUN_TESTS(rtcp_sr_sdes_bye_compound, rtcp_rr_roundtrip_and_bounds, rtcp_nack_roundtrip, rtcp_pli_fir_remb,
                     rtcp_twcc_parse, rtcp_twcc_malformed, rtcp_malformed_rejected, rtcp_unknown_types_skipped,
                     rtcp_browser_rr_sdes_compound, rtcp_rtt_from_report_block);
}
