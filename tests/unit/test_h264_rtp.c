/* H.264 RTP packetizer and depacketizer (RFC 6184): packet layouts from the RFC's
 * figures, exact FU-A boundaries, the marker bit, round trips over random sizes and
 * MTUs, and loss handling. */
#include "check.h"

#include "camrtc/error.h"
#include "camrtc/h264_rtp.h"

#define MAX_FRAMES 64

typedef struct got_frame {
    uint8_t *data;
    size_t len;
    camrtc_h264_frame f;
} got_frame;

typedef struct sink {
    got_frame fr[MAX_FRAMES];
    int n;
} sink;

static void on_frame(void *user, const camrtc_h264_frame *f)
{
    sink *s = user;
    if (s->n == MAX_FRAMES)
        return;
    got_frame *g = &s->fr[s->n++];
    g->f = *f;
    g->len = f->len;
    g->data = malloc(f->len ? f->len : 1);
    if (g->data && f->len)
        memcpy(g->data, f->data, f->len);
    g->f.data = g->data;
}

static void sink_clear(sink *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->fr[i].data);
    s->n = 0;
}

/* A sent packet: payload copied out of the packetizer's buffer. */
typedef struct sent {
    uint8_t payload[2048];
    camrtc_h264_pkt_info info;
} sent;

static camrtc_nal mk_nal(const uint8_t *data, size_t len, uint32_t ts, bool last, bool key)
{
    camrtc_nal n = {.data = data, .len = len, .type = data[0] & 0x1f, .rtp_ts = ts, .last_of_frame = last,
                    .keyframe = key};
    return n;
}

/* Push one NAL and drain its packets into out[*n...]. */
static int pack(camrtc_h264_packer *p, const camrtc_nal *nal, sent *out, int *n, int max)
{
    int rc = camrtc_h264_pack_push(p, nal);
    if (rc < 0)
        return rc;
    uint8_t buf[12 + 2048];
    camrtc_h264_pkt_info info;
    while ((rc = camrtc_h264_pack_next(p, buf, sizeof buf, &info)) == 1) {
        if (*n == max)
            return -1000;
        memcpy(out[*n].payload, buf + 12, info.payload_len);
        out[*n].info = info;
        (*n)++;
    }
    return rc;
}

static const uint8_t sps[] = {0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8};
static const uint8_t pps[] = {0x68, 0xce, 0x3c, 0x80};

TEST(stap_a_for_sps_pps_then_idr)
{
    camrtc_h264_packer p;
    CHECK_EQ_INT(camrtc_h264_pack_init(&p, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_pack_payload_max(&p), 1200 - 12 - 16);
    static sent out[8];
    int n = 0;
    uint8_t idr[100] = {0x65, 0x88, 0x84};
    camrtc_nal a = mk_nal(sps, sizeof sps, 9000, false, true), b = mk_nal(pps, sizeof pps, 9000, false, true),
               c = mk_nal(idr, sizeof idr, 9000, true, true);
    CHECK_EQ_INT(pack(&p, &a, out, &n, 8), 0);
    CHECK_EQ_INT(pack(&p, &b, out, &n, 8), 0);
    CHECK_EQ_INT(n, 0);   /* held back until the slice */
    CHECK_EQ_INT(pack(&p, &c, out, &n, 8), 0);
    CHECK_EQ_INT(n, 2);
    /* RFC 6184 Figure 7: STAP-A header (F=0, NRI=3, type 24), then size + NAL each. */
    static const uint8_t want[] = {0x78, 0, 9, 0x67, 0x42, 0xe0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8,
                                   0, 4, 0x68, 0xce, 0x3c, 0x80};
    CHECK_EQ_INT(out[0].info.kind, CAMRTC_H264_PKT_STAP_A);
    CHECK_EQ_INT(out[0].info.payload_len, sizeof want);
    CHECK_EQ_MEM(out[0].payload, want, sizeof want);
    CHECK(!out[0].info.marker);
    CHECK_EQ_INT(out[0].info.rtp_ts, 9000);
    CHECK_EQ_INT(out[1].info.kind, CAMRTC_H264_PKT_SINGLE);
    CHECK_EQ_INT(out[1].info.payload_len, 100);
    CHECK_EQ_MEM(out[1].payload, idr, 100);
    CHECK(out[1].info.marker);
    CHECK(out[1].info.keyframe);
    CHECK_EQ_INT(camrtc_h264_pack_get_stats(&p)->stap_a, 1);
}

TEST(fu_a_boundaries_exact)
{
    camrtc_h264_packer p;
    CHECK_EQ_INT(camrtc_h264_pack_init(&p, NULL), CAMRTC_OK);
    size_t max = camrtc_h264_pack_payload_max(&p);   /* 1172 */
    static uint8_t nal[4000];
    for (size_t i = 0; i < sizeof nal; i++)
        nal[i] = (uint8_t)(i * 7);
    nal[0] = 0x65;
    static sent out[8];
    int n = 0;
    /* Exactly the budget: one single NAL packet. */
    camrtc_nal a = mk_nal(nal, max, 0, true, true);
    CHECK_EQ_INT(pack(&p, &a, out, &n, 8), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0].info.kind, CAMRTC_H264_PKT_SINGLE);
    CHECK_EQ_INT(out[0].info.payload_len, max);
    /* One byte more: two FU-A fragments, the first full (2 + 1170 of the NAL's body),
     * the second with the last 2 bytes. RFC 6184 Figure 14/15: FU indicator keeps F and
     * NRI with type 28; FU header carries S/E and the original type. */
    n = 0;
    a = mk_nal(nal, max + 1, 0, true, true);
    CHECK_EQ_INT(pack(&p, &a, out, &n, 8), 0);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(out[0].info.kind, CAMRTC_H264_PKT_FU_A);
    CHECK_EQ_INT(out[0].info.payload_len, max);
    CHECK_EQ_INT(out[0].payload[0], 0x7c);
    CHECK_EQ_INT(out[0].payload[1], 0x85);
    CHECK_EQ_MEM(out[0].payload + 2, nal + 1, max - 2);
    CHECK(!out[0].info.marker);
    CHECK_EQ_INT(out[1].info.payload_len, 2 + 2);
    CHECK_EQ_INT(out[1].payload[0], 0x7c);
    CHECK_EQ_INT(out[1].payload[1], 0x45);
    CHECK_EQ_MEM(out[1].payload + 2, nal + max - 1, 2);
    CHECK(out[1].info.marker);
    /* 1 + 3 × 1170 bytes: three fragments exactly full, middle one S=0 E=0. */
    n = 0;
    a = mk_nal(nal, 1 + 3 * (max - 2), 0, true, true);
    CHECK_EQ_INT(pack(&p, &a, out, &n, 8), 0);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(out[1].payload[1], 0x05);
    CHECK_EQ_INT(out[2].payload[1], 0x45);
    CHECK_EQ_INT(out[2].info.payload_len, max);
}

TEST(marker_only_on_last_packet_of_frame)
{
    camrtc_h264_pack_config cfg;
    camrtc_h264_pack_config_default(&cfg);
    cfg.mtu = 300;
    camrtc_h264_packer p;
    CHECK_EQ_INT(camrtc_h264_pack_init(&p, &cfg), CAMRTC_OK);
    static uint8_t s1[1000], s2[50], s3[700];
    s1[0] = s2[0] = s3[0] = 0x41;
    static sent out[16];
    int n = 0;
    camrtc_nal a = mk_nal(s1, sizeof s1, 100, false, false), b = mk_nal(s2, sizeof s2, 100, false, false),
               c = mk_nal(s3, sizeof s3, 100, true, false);
    CHECK_EQ_INT(pack(&p, &a, out, &n, 16), 0);
    CHECK_EQ_INT(pack(&p, &b, out, &n, 16), 0);
    CHECK_EQ_INT(pack(&p, &c, out, &n, 16), 0);
    CHECK(n > 3);
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(out[i].info.marker, i == n - 1);
        CHECK(out[i].info.payload_len <= 300 - 28);
    }
    /* Pushing before draining is refused. */
    uint8_t buf[1300];
    camrtc_h264_pkt_info info;
    CHECK_EQ_INT(camrtc_h264_pack_push(&p, &a), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_pack_push(&p, &b), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_h264_pack_next(&p, buf, 100, &info), CAMRTC_ETOOBIG);
    while (camrtc_h264_pack_next(&p, buf, sizeof buf, &info) == 1)
        ;
    CHECK_EQ_INT(camrtc_h264_pack_push(&p, &b), CAMRTC_OK);
    uint8_t bad = 0x80;
    camrtc_nal z = mk_nal(&bad, 1, 0, true, false);
    while (camrtc_h264_pack_next(&p, buf, sizeof buf, &info) == 1)
        ;
    CHECK_EQ_INT(camrtc_h264_pack_push(&p, &z), CAMRTC_EINVAL);
    cfg.mtu = 40;
    CHECK_EQ_INT(camrtc_h264_pack_init(&p, &cfg), CAMRTC_EINVAL);
}

TEST(large_params_and_params_ending_a_frame)
{
    camrtc_h264_pack_config cfg;
    camrtc_h264_pack_config_default(&cfg);
    cfg.mtu = 100;   /* payload budget 72 */
    camrtc_h264_packer p;
    CHECK_EQ_INT(camrtc_h264_pack_init(&p, &cfg), CAMRTC_OK);
    static uint8_t big_sps[100];
    memset(big_sps, 0x11, sizeof big_sps);
    big_sps[0] = 0x67;
    uint8_t idr[10] = {0x65, 0x88, 2, 3};   /* first_mb_in_slice 0 */
    static sent out[16];
    int n = 0;
    camrtc_nal a = mk_nal(big_sps, sizeof big_sps, 5, false, true), b = mk_nal(pps, sizeof pps, 5, false, true),
               c = mk_nal(idr, sizeof idr, 5, true, true);
    CHECK_EQ_INT(pack(&p, &a, out, &n, 16), 0);
    CHECK_EQ_INT(pack(&p, &b, out, &n, 16), 0);
    CHECK_EQ_INT(pack(&p, &c, out, &n, 16), 0);
    /* The SPS does not fit a STAP-A with the PPS: FU-A ×2, then PPS and IDR single. */
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(out[0].info.kind, CAMRTC_H264_PKT_FU_A);
    CHECK_EQ_INT(out[1].info.kind, CAMRTC_H264_PKT_FU_A);
    CHECK_EQ_INT(out[2].info.kind, CAMRTC_H264_PKT_SINGLE);
    CHECK_EQ_INT(out[2].payload[0], 0x68);
    CHECK(out[3].info.marker && !out[2].info.marker);
    sink s = {0};
    camrtc_h264_depack *d = camrtc_h264_depack_new(0, on_frame, &s);
    CHECK(d);
    for (int i = 0; i < n; i++)
        CHECK_EQ_INT(camrtc_h264_depack_push(d, (uint16_t)i, 5, out[i].info.marker, out[i].payload,
                                             out[i].info.payload_len), CAMRTC_OK);
    CHECK_EQ_INT(s.n, 1);
    CHECK(s.fr[0].f.decodable && s.fr[0].f.has_params);
    CHECK_EQ_INT(s.fr[0].len, 4 + sizeof big_sps + 4 + sizeof pps + 4 + sizeof idr);
    CHECK_EQ_MEM(s.fr[0].data + 4, big_sps, sizeof big_sps);
    sink_clear(&s);
    camrtc_h264_depack_free(d);
    /* Parameter sets that end their own access unit go out at once, marker set. */
    n = 0;
    a = mk_nal(sps, sizeof sps, 9, false, true);
    b = mk_nal(pps, sizeof pps, 9, true, true);
    CHECK_EQ_INT(pack(&p, &a, out, &n, 16), 0);
    CHECK_EQ_INT(pack(&p, &b, out, &n, 16), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0].info.kind, CAMRTC_H264_PKT_STAP_A);
    CHECK(out[0].info.marker);
    /* More than CAMRTC_H264_PARAM_MAX held back: refused and counted. */
    for (int i = 0; i < CAMRTC_H264_PARAM_MAX; i++)
        CHECK_EQ_INT(camrtc_h264_pack_push(&p, &a), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_pack_push(&p, &a), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_h264_pack_get_stats(&p)->params_dropped, 1);
}

/* ---- round trips ---------------------------------------------------------------------- */

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Pick a NAL size from 1 byte to 100 KB, mostly small, some very large. */
static size_t rand_size(uint32_t *s)
{
    switch (rng_next(s) % 4) {
    case 0: return 1 + rng_next(s) % 16;
    case 1: return 1 + rng_next(s) % 1500;
    case 2: return 1 + rng_next(s) % 20000;
    default: return 1 + rng_next(s) % 100000;
    }
}

typedef struct rt_ctx {
    camrtc_h264_packer p;
    camrtc_h264_depack *d;
    sink s;
    uint16_t seq;
    uint8_t pkt[12 + 1600];
} rt_ctx;

/* Packetize a NAL and feed each packet straight to the depacketizer. */
static int rt_push(rt_ctx *c, const camrtc_nal *nal)
{
    int rc = camrtc_h264_pack_push(&c->p, nal);
    if (rc < 0)
        return rc;
    camrtc_h264_pkt_info info;
    while ((rc = camrtc_h264_pack_next(&c->p, c->pkt, sizeof c->pkt, &info)) == 1) {
        rc = camrtc_h264_depack_push(c->d, c->seq++, info.rtp_ts, info.marker, c->pkt + 12, info.payload_len);
        if (rc < 0)
            return rc;
    }
    return rc;
}

TEST(roundtrip_random_sizes_and_mtus)
{
    static const size_t mtus[] = {100, 200, 576, 1200, 1500};
    static uint8_t nal[8][100000];
    static uint8_t want[8 * 100004 + 64];
    uint32_t rng = 0x12345678u;
    for (size_t m = 0; m < sizeof mtus / sizeof mtus[0]; m++) {
        rt_ctx *c = calloc(1, sizeof *c);
        CHECK(c);
        camrtc_h264_pack_config cfg;
        camrtc_h264_pack_config_default(&cfg);
        cfg.mtu = mtus[m];
        CHECK_EQ_INT(camrtc_h264_pack_init(&c->p, &cfg), CAMRTC_OK);
        c->d = camrtc_h264_depack_new(0, on_frame, &c->s);
        CHECK(c->d);
        c->seq = (uint16_t)(65500 + m);   /* every run crosses the wrap */
        for (int frame = 0; frame < 12; frame++) {
            bool key = frame % 6 == 0;
            uint32_t ts = 3000u * (uint32_t)frame;
            size_t wlen = 0;
            int count = 1 + (int)(rng_next(&rng) % 5);
            if (key) {
                camrtc_nal a = mk_nal(sps, sizeof sps, ts, false, true), b = mk_nal(pps, sizeof pps, ts, false, true);
                CHECK_EQ_INT(rt_push(c, &a), 0);
                CHECK_EQ_INT(rt_push(c, &b), 0);
                memcpy(want + wlen, "\0\0\0\1", 4);
                memcpy(want + wlen + 4, sps, sizeof sps);
                wlen += 4 + sizeof sps;
                memcpy(want + wlen, "\0\0\0\1", 4);
                memcpy(want + wlen + 4, pps, sizeof pps);
                wlen += 4 + sizeof pps;
            }
            for (int k = 0; k < count; k++) {
                size_t len = rand_size(&rng);
                if (k == 0 && len < 2)
                    len = 2;
                for (size_t i = 0; i < len; i++)
                    nal[k][i] = (uint8_t)rng_next(&rng);
                nal[k][0] = key ? 0x65 : 0x41;
                if (k == 0)
                    nal[k][1] |= 0x80;   /* a first slice starts at macroblock 0 */
                camrtc_nal x = mk_nal(nal[k], len, ts, k == count - 1, key);
                CHECK_EQ_INT(rt_push(c, &x), 0);
                memcpy(want + wlen, "\0\0\0\1", 4);
                memcpy(want + wlen + 4, nal[k], len);
                wlen += 4 + len;
            }
            CHECK_EQ_INT(c->s.n, 1);
            got_frame *g = &c->s.fr[0];
            CHECK(g->f.complete);
            CHECK(g->f.decodable);
            CHECK_EQ_INT(g->f.keyframe, key);
            CHECK_EQ_INT(g->f.has_params, key);
            CHECK_EQ_INT(g->f.rtp_ts, ts);
            CHECK_EQ_INT(g->f.nals, (unsigned)count + (key ? 2u : 0u));
            CHECK_EQ_INT(g->len, wlen);
            CHECK_EQ_MEM(g->data, want, wlen);
            sink_clear(&c->s);
        }
        const camrtc_h264_depack_stats *st = camrtc_h264_depack_get_stats(c->d);
        CHECK_EQ_INT(st->frames, 12);
        CHECK_EQ_INT(st->gaps + st->nals_dropped + st->malformed + st->frames_incomplete, 0);
        camrtc_h264_depack_free(c->d);
        free(c);
    }
}

/* ---- loss ---------------------------------------------------------------------------------- */

/* Packetize one frame of NALs into out (seq numbers assigned later). */
static int frame_packets(camrtc_h264_packer *p, const camrtc_nal *nals, int n_nals, sent *out, int max)
{
    int n = 0;
    for (int i = 0; i < n_nals; i++)
        if (pack(p, &nals[i], out, &n, max) < 0)
            return -1;
    return n;
}

static void feed(camrtc_h264_depack *d, const sent *pk, int n, uint16_t *seq, int skip)
{
    for (int i = 0; i < n; i++, (*seq)++)
        if (i != skip)
            camrtc_h264_depack_push(d, *seq, pk[i].info.rtp_ts, pk[i].info.marker, pk[i].payload,
                                    pk[i].info.payload_len);
}

TEST(loss_in_fu_a_drops_nal_and_flags_frame)
{
    camrtc_h264_packer p;
    CHECK_EQ_INT(camrtc_h264_pack_init(&p, NULL), CAMRTC_OK);
    static uint8_t big[5000], small[300];
    memset(big, 0xab, sizeof big);
    memset(small, 0xcd, sizeof small);
    big[0] = 0x65;
    small[0] = 0x65;
    static sent pk[32];
    sink s = {0};
    camrtc_h264_depack *d = camrtc_h264_depack_new(0, on_frame, &s);
    CHECK(d);
    uint16_t seq = 65533;
    /* Frame 1 (IDR): STAP-A, FU-A ×5 (5000 bytes), single. Lose the 3rd FU-A fragment. */
    camrtc_nal f1[] = {mk_nal(sps, sizeof sps, 0, false, true), mk_nal(pps, sizeof pps, 0, false, true),
                       mk_nal(big, sizeof big, 0, false, true), mk_nal(small, sizeof small, 0, true, true)};
    int n = frame_packets(&p, f1, 4, pk, 32);
    CHECK_EQ_INT(n, 1 + 5 + 1);
    feed(d, pk, n, &seq, 3);
    CHECK_EQ_INT(s.n, 1);
    CHECK(!s.fr[0].f.complete);
    CHECK(!s.fr[0].f.decodable);
    CHECK_EQ_INT(s.fr[0].f.nals, 3);   /* SPS, PPS and the small slice survive */
    CHECK_EQ_INT(s.fr[0].len, 4 + sizeof sps + 4 + sizeof pps + 4 + sizeof small);
    CHECK_EQ_MEM(s.fr[0].data + s.fr[0].len - sizeof small, small, sizeof small);
    const camrtc_h264_depack_stats *st = camrtc_h264_depack_get_stats(d);
    CHECK_EQ_INT(st->nals_dropped, 1);
    CHECK_EQ_INT(st->gaps, 1);
    CHECK_EQ_INT(st->frames_incomplete, 1);

    /* Frame 2 (P), complete: still not decodable, its reference is broken. */
    small[0] = 0x41;
    camrtc_nal f2[] = {mk_nal(small, sizeof small, 3000, true, false)};
    n = frame_packets(&p, f2, 1, pk, 32);
    feed(d, pk, n, &seq, -1);
    CHECK_EQ_INT(s.n, 2);
    CHECK(s.fr[1].f.complete);
    CHECK(!s.fr[1].f.decodable);

    /* Frame 3 (IDR), complete: decodable again, and so is the P frame after it. */
    small[0] = 0x65;
    camrtc_nal f3[] = {mk_nal(small, sizeof small, 6000, true, true)};
    n = frame_packets(&p, f3, 1, pk, 32);
    feed(d, pk, n, &seq, -1);
    small[0] = 0x41;
    camrtc_nal f4[] = {mk_nal(small, sizeof small, 9000, true, false)};
    n = frame_packets(&p, f4, 1, pk, 32);
    feed(d, pk, n, &seq, -1);
    CHECK_EQ_INT(s.n, 4);
    CHECK(s.fr[2].f.decodable && s.fr[2].f.keyframe);
    CHECK(s.fr[3].f.decodable && !s.fr[3].f.keyframe);

    /* Frame 5 (P) loses its marker packet: it ends at frame 6's new timestamp,
     * incomplete; frame 6 follows a gap, so it is incomplete too. */
    camrtc_nal f5[] = {mk_nal(small, sizeof small, 12000, false, false),
                       mk_nal(small, sizeof small, 12000, true, false)};
    n = frame_packets(&p, f5, 2, pk, 32);
    feed(d, pk, n, &seq, 1);
    CHECK_EQ_INT(s.n, 4);
    camrtc_nal f6[] = {mk_nal(small, sizeof small, 15000, true, false)};
    n = frame_packets(&p, f6, 1, pk, 32);
    feed(d, pk, n, &seq, -1);
    CHECK_EQ_INT(s.n, 6);
    CHECK(!s.fr[4].f.complete);
    CHECK_EQ_INT(s.fr[4].f.nals, 1);
    CHECK(!s.fr[5].f.complete);
    CHECK(!s.fr[5].f.decodable);
    CHECK_EQ_INT(st->nals_dropped, 1);   /* whole single NALs lost are not "dropped" by us */
    sink_clear(&s);
    camrtc_h264_depack_free(d);
}

TEST(depack_rejects_bad_payloads)
{
    sink s = {0};
    camrtc_h264_depack *d = camrtc_h264_depack_new(0, on_frame, &s);
    CHECK(d);
    /* STAP-A whose second size runs past the end. */
    static const uint8_t stap_bad[] = {0x78, 0, 2, 0x67, 0x42, 0, 9, 0x68};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 1, 0, false, stap_bad, sizeof stap_bad), CAMRTC_EPROTO);
    /* STAP-A with a zero size. */
    static const uint8_t stap_zero[] = {0x78, 0, 0};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 2, 0, false, stap_zero, sizeof stap_zero), CAMRTC_EPROTO);
    /* Forbidden bit, empty payload, FU-A without payload. */
    static const uint8_t fbit[] = {0xe1, 1};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 3, 0, false, fbit, sizeof fbit), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 4, 0, false, fbit, 0), CAMRTC_EPROTO);
    static const uint8_t fu_short[] = {0x7c, 0x85};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 5, 0, false, fu_short, sizeof fu_short), CAMRTC_EPROTO);
    /* STAP-B (25), MTAP16 (26), FU-B (29): interleaved mode only. */
    static const uint8_t stapb[] = {0x79, 0, 0, 0, 1, 0x41};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 6, 0, false, stapb, sizeof stapb), CAMRTC_EUNSUPPORTED);
    static const uint8_t fub[] = {0x7d, 0x85, 0, 0, 1};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 7, 0, true, fub, sizeof fub), CAMRTC_EUNSUPPORTED);
    const camrtc_h264_depack_stats *st = camrtc_h264_depack_get_stats(d);
    CHECK_EQ_INT(st->malformed, 5);
    CHECK_EQ_INT(st->unsupported, 2);
    CHECK_EQ_INT(s.n, 1);
    CHECK(!s.fr[0].f.complete);
    CHECK_EQ_INT(s.fr[0].len, 0);
    /* A late (older) packet and a duplicate are dropped. */
    static const uint8_t one_nal[] = {0x41, 1, 2};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 5, 100, true, one_nal, sizeof one_nal), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 7, 100, true, one_nal, sizeof one_nal), CAMRTC_OK);
    CHECK_EQ_INT(st->late, 2);
    CHECK_EQ_INT(s.n, 1);
    /* FU-A middle and end fragments without a start: dropped, counted once. */
    static const uint8_t mid[] = {0x7c, 0x05, 9}, end[] = {0x7c, 0x45, 9};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 8, 200, false, mid, sizeof mid), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 9, 200, true, end, sizeof end), CAMRTC_OK);
    CHECK_EQ_INT(st->nals_dropped, 1);
    CHECK_EQ_INT(s.n, 2);
    CHECK(!s.fr[1].f.complete);
    sink_clear(&s);
    camrtc_h264_depack_free(d);
}

TEST(depack_bounds_frame_size)
{
    sink s = {0};
    camrtc_h264_depack *d = camrtc_h264_depack_new(100, on_frame, &s);
    CHECK(d);
    uint8_t nal[60];
    memset(nal, 0x41, sizeof nal);
    /* 64 bytes fit, the next 64 do not: the frame is cut and flagged. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 1, 0, false, nal, sizeof nal), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 2, 0, false, nal, sizeof nal), CAMRTC_OK);
    /* A FU-A that overflows is dropped whole. */
    static const uint8_t fs[] = {0x7c, 0x81, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 3, 0, true, fs, sizeof fs), CAMRTC_OK);
    CHECK_EQ_INT(s.n, 1);
    CHECK(!s.fr[0].f.complete);
    CHECK_EQ_INT(s.fr[0].len, 64);
    CHECK_EQ_INT(camrtc_h264_depack_get_stats(d)->too_big, 1);
    /* The next frame starts clean. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 4, 10, true, nal, 10), CAMRTC_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK(s.fr[1].f.complete);
    CHECK(!s.fr[1].f.decodable);   /* no IDR yet */
    /* flush hands out a frame in progress. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 5, 20, false, nal, 10), CAMRTC_OK);
    camrtc_h264_depack_flush(d);
    CHECK_EQ_INT(s.n, 3);
    CHECK(!s.fr[2].f.complete);
    CHECK_EQ_INT(s.fr[2].len, 14);
    sink_clear(&s);
    camrtc_h264_depack_free(d);
    CHECK(camrtc_h264_depack_new(0, NULL, NULL) == NULL);
}

TEST(first_frame_joined_midway_is_incomplete)
{
    sink s = {0};
    camrtc_h264_depack *d = camrtc_h264_depack_new(0, on_frame, &s);
    CHECK(d);
    /* An IDR slice starting at macroblock 5 (ue(v) 5 = 00110): its frame's start was
     * sent before we listened. */
    static const uint8_t later_slice[] = {0x65, 0x30, 0x11};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 40, 0, true, later_slice, sizeof later_slice), CAMRTC_OK);
    /* A whole IDR frame (first_mb_in_slice 0 = bit 1) with its SPS and PPS next. */
    static const uint8_t first_slice[] = {0x65, 0x88, 0x11};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 41, 3000, false, sps, sizeof sps), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 42, 3000, false, pps, sizeof pps), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 43, 3000, true, first_slice, sizeof first_slice), CAMRTC_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK(!s.fr[0].f.complete);
    CHECK(s.fr[1].f.complete && s.fr[1].f.decodable);
    sink_clear(&s);
    /* A fresh depacketizer whose first packet is a whole first slice: complete, but with
     * no SPS/PPS seen it cannot be decoded (the STAP-A before it was lost). */
    camrtc_h264_depack_free(d);
    d = camrtc_h264_depack_new(0, on_frame, &s);
    CHECK(d);
    static const uint8_t fu_start[] = {0x7c, 0x85, 0x88, 1}, fu_end[] = {0x7c, 0x45, 2};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 7, 0, false, fu_start, sizeof fu_start), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 8, 0, true, fu_end, sizeof fu_end), CAMRTC_OK);
    CHECK_EQ_INT(s.n, 1);
    CHECK(s.fr[0].f.complete && s.fr[0].f.keyframe && !s.fr[0].f.decodable);
    static const uint8_t want[] = {0, 0, 0, 1, 0x65, 0x88, 1, 2};
    CHECK_EQ_INT(s.fr[0].len, sizeof want);
    CHECK_EQ_MEM(s.fr[0].data, want, sizeof want);
    sink_clear(&s);
    camrtc_h264_depack_free(d);
}

/* Issue 6, finding 1: the stream's first packet (the STAP-A with SPS and PPS) is lost;
 * nothing before it reveals the loss. The IDR after it is complete but cannot be
 * decoded, nor the P frames after it, until an IDR with its parameter sets comes; from
 * then on an IDR without them (they were seen) decodes. */
TEST(idr_without_parameter_sets_is_not_decodable)
{
    sink s = {0};
    camrtc_h264_depack *d = camrtc_h264_depack_new(0, on_frame, &s);
    CHECK(d);
    static const uint8_t idr[] = {0x65, 0x88, 0x11}, p_slice[] = {0x41, 0x9a, 0x22};
    uint8_t stap[64];
    size_t n = 0;
    stap[n++] = 0x78;   /* STAP-A, NRI 3 */
    stap[n++] = 0;
    stap[n++] = sizeof sps;
    memcpy(stap + n, sps, sizeof sps);
    n += sizeof sps;
    stap[n++] = 0;
    stap[n++] = sizeof pps;
    memcpy(stap + n, pps, sizeof pps);
    n += sizeof pps;
    /* seq 10 (the STAP-A) never came. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 11, 0, true, idr, sizeof idr), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 12, 3000, true, p_slice, sizeof p_slice), CAMRTC_OK);
    /* The IDR a PLI brought, with its parameter sets. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 13, 6000, false, stap, n), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 14, 6000, true, idr, sizeof idr), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 15, 9000, true, p_slice, sizeof p_slice), CAMRTC_OK);
    /* A later IDR whose STAP-A was lost: the sets seen before still apply. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 17, 12000, true, idr, sizeof idr), CAMRTC_OK);
    CHECK_EQ_INT(s.n, 5);
    CHECK(s.fr[0].f.complete && s.fr[0].f.keyframe && !s.fr[0].f.has_params && !s.fr[0].f.decodable);
    CHECK(s.fr[1].f.complete && !s.fr[1].f.decodable);
    CHECK(s.fr[2].f.keyframe && s.fr[2].f.has_params && s.fr[2].f.decodable);
    CHECK(s.fr[3].f.decodable);
    CHECK(s.fr[4].f.complete && s.fr[4].f.keyframe && s.fr[4].f.decodable);
    CHECK_EQ_INT(camrtc_h264_depack_get_stats(d)->frames_decodable, 3);
    sink_clear(&s);
    camrtc_h264_depack_free(d);
}

/* Issue 6, finding 4: a gap right before an IDR access unit took packets of the frames
 * before it; the IDR is whole (its first slice starts at macroblock 0) and decodes, and
 * so do the frames after it. A P frame after a gap, or an IDR whose start was in the
 * gap, does not. */
TEST(gap_before_an_idr_leaves_it_decodable)
{
    sink s = {0};
    camrtc_h264_depack *d = camrtc_h264_depack_new(0, on_frame, &s);
    CHECK(d);
    static const uint8_t idr[] = {0x65, 0x88, 0x11}, p_slice[] = {0x41, 0x9a, 0x22};
    static const uint8_t fu_start[] = {0x7c, 0x85, 0x88, 1}, fu_mid[] = {0x7c, 0x05, 2},
                         fu_end[] = {0x7c, 0x45, 3};
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 1, 0, false, sps, sizeof sps), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 2, 0, false, pps, sizeof pps), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 3, 0, true, idr, sizeof idr), CAMRTC_OK);
    /* 4..6 lost (a P frame and the IDR's STAP-A); the IDR's FU-A from its start. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 7, 6000, false, fu_start, sizeof fu_start), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 8, 6000, false, fu_mid, sizeof fu_mid), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 9, 6000, true, fu_end, sizeof fu_end), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 10, 9000, true, p_slice, sizeof p_slice), CAMRTC_OK);
    /* 11 lost: the P frame after the gap may be missing its start or a frame before it. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 12, 15000, true, p_slice, sizeof p_slice), CAMRTC_OK);
    /* 13 lost: the start of an IDR; its middle and end come. */
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 14, 18000, false, fu_mid, sizeof fu_mid), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_h264_depack_push(d, 15, 18000, true, fu_end, sizeof fu_end), CAMRTC_OK);
    CHECK_EQ_INT(s.n, 5);
    CHECK(s.fr[0].f.decodable);
    CHECK(s.fr[1].f.keyframe && s.fr[1].f.complete && s.fr[1].f.decodable);
    CHECK(s.fr[2].f.decodable);
    CHECK(!s.fr[3].f.complete && !s.fr[3].f.decodable);
    CHECK(!s.fr[4].f.complete && !s.fr[4].f.decodable);
    sink_clear(&s);
    camrtc_h264_depack_free(d);
}

int main(void)
{
    return RUN_TESTS(stap_a_for_sps_pps_then_idr, fu_a_boundaries_exact, marker_only_on_last_packet_of_frame,
                     large_params_and_params_ending_a_frame,
                     roundtrip_random_sizes_and_mtus, loss_in_fu_a_drops_nal_and_flags_frame,
                     depack_rejects_bad_payloads, depack_bounds_frame_size, first_frame_joined_midway_is_incomplete,
                     idr_without_parameter_sets_is_not_decodable, gap_before_an_idr_leaves_it_decodable);
}
