/* RTP header codec (RFC 3550 §5.1, RFC 8285) and the NACK send history. */
#include "check.h"

#include "camrtc/error.h"
#include "camrtc/rtp.h"
#include "camrtc/rtp_history.h"

/* V=2 P=1 X=1 CC=2, M=1 PT=96, seq 0x1234, ts 0xdeadbeef, ssrc 0x11223344, two CSRCs,
 * one-byte extension (id 1 len 1, a padding byte, id 3 len 2) in 2 words, payload
 * "abc", then 3 bytes of padding. */
static const uint8_t sample[] = {
    0xb2, 0xe0, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0xbe, 0xde, 0x00, 0x02, 0x10, 0xaa, 0x00, 0x31, 0xbb, 0xcc, 0x00, 0x00,
    'a', 'b', 'c', 0x00, 0x00, 0x03,
};

TEST(rtp_parse_full_header)
{
    camrtc_rtp_header h;
    CHECK_EQ_INT(camrtc_rtp_parse(sample, sizeof sample, &h), CAMRTC_OK);
    CHECK(h.marker);
    CHECK_EQ_INT(h.pt, 96);
    CHECK_EQ_INT(h.seq, 0x1234);
    CHECK_EQ_INT(h.ts, 0xdeadbeefu);
    CHECK_EQ_INT(h.ssrc, 0x11223344u);
    CHECK_EQ_INT(h.csrc_count, 2);
    CHECK_EQ_INT(h.csrc[1], 2);
    CHECK(h.has_ext);
    CHECK_EQ_INT(h.ext_profile, 0xbede);
    CHECK_EQ_INT(h.ext_count, 2);
    CHECK_EQ_INT(h.ext[0].id, 1);
    CHECK_EQ_INT(h.ext[0].len, 1);
    CHECK_EQ_INT(h.ext[0].data[0], 0xaa);
    CHECK_EQ_INT(h.ext[1].id, 3);
    CHECK_EQ_INT(h.ext[1].len, 2);
    CHECK_EQ_INT(h.ext[1].data[1], 0xcc);
    CHECK_EQ_INT(h.header_len, 32);
    CHECK_EQ_INT(h.padding_len, 3);
    CHECK_EQ_INT(h.payload_len, 3);
    CHECK_EQ_MEM(h.payload, "abc", 3);
    const uint8_t *d;
    size_t n;
    CHECK_EQ_INT(camrtc_rtp_find_ext(&h, 3, &d, &n), CAMRTC_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(camrtc_rtp_find_ext(&h, 4, &d, &n), CAMRTC_ENOTFOUND);
}

TEST(rtp_write_matches_sample_header)
{
    camrtc_rtp_header h;
    CHECK_EQ_INT(camrtc_rtp_parse(sample, sizeof sample, &h), CAMRTC_OK);
    uint8_t out[64];
    /* The sample's padding byte between elements is not reproduced: the writer packs
     * the elements and pads at the end, so the block is 1+1 + 1+2 = 5 → 8 bytes. */
    int n = camrtc_rtp_write_header(&h, out, sizeof out);
    CHECK_EQ_INT(n, 32);
    CHECK_EQ_INT(camrtc_rtp_header_size(&h), 32);
    CHECK_EQ_INT(out[0], 0x92);   /* P is never written */
    CHECK_EQ_MEM(out + 1, sample + 1, 23);
    static const uint8_t ext[] = {0x10, 0xaa, 0x31, 0xbb, 0xcc, 0, 0, 0};
    CHECK_EQ_MEM(out + 24, ext, 8);
    CHECK_EQ_INT(camrtc_rtp_write_header(&h, out, 31), CAMRTC_ETOOBIG);
}

TEST(rtp_roundtrip_two_byte_form)
{
    uint8_t big[20], out[128];
    memset(big, 7, sizeof big);
    camrtc_rtp_header h = {.pt = 111, .seq = 65535, .ts = 1, .ssrc = 2};
    h.ext[0] = (camrtc_rtp_ext){5, 0, NULL};        /* len 0: two-byte form only */
    h.ext[1] = (camrtc_rtp_ext){200, 20, big};      /* id > 14 and len > 16 */
    h.ext_count = 2;
    int n = camrtc_rtp_write_header(&h, out, sizeof out);
    CHECK_EQ_INT(n, 12 + 4 + 24);
    memcpy(out + n, "xy", 2);
    camrtc_rtp_header p;
    CHECK_EQ_INT(camrtc_rtp_parse(out, (size_t)n + 2, &p), CAMRTC_OK);
    CHECK_EQ_INT(p.ext_profile, 0x1000);
    CHECK_EQ_INT(p.ext_count, 2);
    CHECK_EQ_INT(p.ext[0].id, 5);
    CHECK_EQ_INT(p.ext[0].len, 0);
    CHECK_EQ_INT(p.ext[1].id, 200);
    CHECK_EQ_INT(p.ext[1].len, 20);
    CHECK_EQ_MEM(p.ext[1].data, big, 20);
    CHECK_EQ_INT(p.payload_len, 2);
    CHECK_EQ_INT(p.seq, 65535);
    CHECK(!p.marker);
}

TEST(rtp_roundtrip_plain_and_rewrite)
{
    camrtc_rtp_header h = {.marker = true, .pt = 96, .seq = 7, .ts = 90000, .ssrc = 0xabcdef01u};
    uint8_t out[16];
    CHECK_EQ_INT(camrtc_rtp_write_header(&h, out, sizeof out), 12);
    camrtc_rtp_set_seq(out, 65535);
    camrtc_rtp_set_ts(out, 0xfffffff0u);
    camrtc_rtp_set_ssrc(out, 42);
    camrtc_rtp_header p;
    CHECK_EQ_INT(camrtc_rtp_parse(out, 12, &p), CAMRTC_OK);
    CHECK_EQ_INT(p.seq, 65535);
    CHECK_EQ_INT(p.ts, 0xfffffff0u);
    CHECK_EQ_INT(p.ssrc, 42);
    CHECK(p.marker);
    CHECK_EQ_INT(p.payload_len, 0);
    CHECK(!p.has_ext);
    CHECK(camrtc_rtp_is_v2(out, 12));
}

TEST(rtp_write_rejects_bad_fields)
{
    camrtc_rtp_header h = {.pt = 128};
    uint8_t out[64];
    CHECK_EQ_INT(camrtc_rtp_write_header(&h, out, sizeof out), CAMRTC_EINVAL);
    h.pt = 0;
    h.csrc_count = 16;
    CHECK_EQ_INT(camrtc_rtp_header_size(&h), CAMRTC_EINVAL);
    h.csrc_count = 0;
    h.ext_count = 1;
    h.ext[0] = (camrtc_rtp_ext){0, 1, (const uint8_t *)"x"};
    CHECK_EQ_INT(camrtc_rtp_header_size(&h), CAMRTC_EINVAL);
}

static int parse_bytes(const uint8_t *p, size_t n)
{
    camrtc_rtp_header h;
    return camrtc_rtp_parse(p, n, &h);
}

TEST(rtp_malformed_rejected)
{
    uint8_t b[64];
    memcpy(b, sample, sizeof sample);
    CHECK_EQ_INT(parse_bytes(b, 11), CAMRTC_EPROTO);                /* short */
    CHECK_EQ_INT(parse_bytes(b, 12 + 7), CAMRTC_EPROTO);            /* CSRCs cut */
    CHECK_EQ_INT(parse_bytes(b, 12 + 8 + 6), CAMRTC_EPROTO);        /* extension cut */
    b[0] = 0x72;
    CHECK_EQ_INT(parse_bytes(b, sizeof sample), CAMRTC_EPROTO);     /* version 1 */
    memcpy(b, sample, sizeof sample);
    b[sizeof sample - 1] = 0;
    CHECK_EQ_INT(parse_bytes(b, sizeof sample), CAMRTC_EPROTO);     /* zero padding count */
    b[sizeof sample - 1] = 7;
    CHECK_EQ_INT(parse_bytes(b, sizeof sample), CAMRTC_EPROTO);     /* padding into header */
    memcpy(b, sample, sizeof sample);
    b[27] = 0x3f;   /* id 3 len 16: runs past the 8-byte block */
    CHECK_EQ_INT(parse_bytes(b, sizeof sample), CAMRTC_EPROTO);
    b[27] = 0xf5;   /* id 15: stop, keep id 1 */
    camrtc_rtp_header h;
    CHECK_EQ_INT(camrtc_rtp_parse(b, sizeof sample, &h), CAMRTC_OK);
    CHECK_EQ_INT(h.ext_count, 1);
    CHECK_EQ_INT(camrtc_rtp_parse(NULL, 0, &h), CAMRTC_EINVAL);
}

TEST(rtp_too_many_extensions)
{
    /* 17 one-byte elements of 1 byte each: 34 bytes → 9 words. */
    uint8_t b[12 + 4 + 36] = {0x90, 96};
    b[12] = 0xbe;
    b[13] = 0xde;
    b[15] = 9;
    for (int i = 0; i < 17; i++)
        b[16 + 2 * i] = (uint8_t)((1 + i % 14) << 4);
    CHECK_EQ_INT(parse_bytes(b, sizeof b), CAMRTC_ETOOBIG);
}

TEST(rtp_seq_newer_wraps)
{
    CHECK(camrtc_rtp_seq_newer(0, 65535));
    CHECK(camrtc_rtp_seq_newer(10, 65530));
    CHECK(!camrtc_rtp_seq_newer(65535, 0));
    CHECK(!camrtc_rtp_seq_newer(5, 5));
    CHECK(camrtc_rtp_seq_newer(32767, 0));
    CHECK(!camrtc_rtp_seq_newer(32768, 0));
}

/* ---- send history ------------------------------------------------------------------------ */

static void fill(uint8_t *p, size_t n, uint16_t seq)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seq + i);
}

static int has(camrtc_rtp_history *h, camrtc_time_us now, uint16_t seq, size_t want_len)
{
    const uint8_t *p;
    size_t n;
    if (camrtc_rtp_history_get(h, now, seq, &p, &n) != CAMRTC_OK)
        return 0;
    uint8_t want[1500];
    fill(want, want_len, seq);
    return n == want_len && memcmp(p, want, n) == 0;
}

TEST(history_lookup_and_wrap)
{
    camrtc_rtp_history *h = camrtc_rtp_history_new(NULL);
    CHECK(h);
    uint8_t pkt[1200];
    /* 200 packets across the 65535 → 0 wrap. */
    for (int i = 0; i < 200; i++) {
        uint16_t seq = (uint16_t)(65436 + i);
        fill(pkt, 100 + (size_t)i, seq);
        CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(i), seq, pkt, 100 + (size_t)i), CAMRTC_OK);
    }
    CHECK_EQ_INT(camrtc_rtp_history_count(h), 200);
    CHECK(has(h, CAMRTC_MS(200), 65436, 100));
    CHECK(has(h, CAMRTC_MS(200), 65535, 199));
    CHECK(has(h, CAMRTC_MS(200), 0, 200));
    CHECK(has(h, CAMRTC_MS(200), 99, 299));
    CHECK(!has(h, CAMRTC_MS(200), 100, 0));
    CHECK(!has(h, CAMRTC_MS(200), 65435, 0));
    const camrtc_rtp_history_stats *st = camrtc_rtp_history_get_stats(h);
    CHECK_EQ_INT(st->hits, 4);
    CHECK_EQ_INT(st->miss_unknown, 2);
    /* Not newer than the last: refused. */
    CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(200), 99, pkt, 10), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(200), 50, pkt, 10), CAMRTC_EINVAL);
    CHECK_EQ_INT(st->rejected, 2);
    camrtc_rtp_history_free(h);
}

TEST(history_evicts_by_age)
{
    camrtc_rtp_history_config cfg = {.max_age = CAMRTC_MS(500), .max_bytes = 1 << 20};
    camrtc_rtp_history *h = camrtc_rtp_history_new(&cfg);
    CHECK(h);
    uint8_t pkt[100];
    for (int i = 0; i < 100; i++) {   /* one packet every 10 ms */
        fill(pkt, sizeof pkt, (uint16_t)i);
        CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(10 * i), (uint16_t)i, pkt, sizeof pkt), CAMRTC_OK);
    }
    /* At 990 ms packets sent before 490 ms were evicted on the way. */
    CHECK_EQ_INT(camrtc_rtp_history_count(h), 51);
    CHECK(!has(h, CAMRTC_MS(990), 48, 100));
    CHECK(has(h, CAMRTC_MS(990), 49, 100));
    /* Still stored, but too old by the time the NACK comes. */
    CHECK(!has(h, CAMRTC_MS(1000), 49, 100));
    const camrtc_rtp_history_stats *st = camrtc_rtp_history_get_stats(h);
    CHECK_EQ_INT(st->evicted_age, 49);
    CHECK_EQ_INT(st->miss_too_old, 1);
    CHECK_EQ_INT(st->miss_unknown, 1);
    camrtc_rtp_history_free(h);
}

TEST(history_evicts_by_bytes_and_count)
{
    camrtc_rtp_history_config cfg = {.max_age = CAMRTC_SEC(10), .max_bytes = 10000, .max_packets = 64};
    camrtc_rtp_history *h = camrtc_rtp_history_new(&cfg);
    CHECK(h);
    uint8_t pkt[1500];
    size_t sizes[] = {1200, 700, 1500, 1, 999};
    for (int i = 0; i < 1000; i++) {
        size_t n = sizes[i % 5];
        fill(pkt, n, (uint16_t)i);
        CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(i), (uint16_t)i, pkt, n), CAMRTC_OK);
        CHECK(camrtc_rtp_history_bytes(h) <= 10000);
        CHECK(has(h, CAMRTC_MS(i), (uint16_t)i, n));
    }
    /* The newest packets that fit are all there, in order, with intact bytes. */
    size_t kept = camrtc_rtp_history_count(h);
    CHECK(kept >= 5 && kept < 64);
    for (size_t k = 0; k < kept; k++) {
        int i = 999 - (int)k;
        CHECK(has(h, CAMRTC_MS(999), (uint16_t)i, sizes[i % 5]));
    }
    CHECK(!has(h, CAMRTC_MS(999), (uint16_t)(999 - kept), 0));
    CHECK(camrtc_rtp_history_get_stats(h)->evicted_space > 900);
    CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(1000), 1000, pkt, 10001), CAMRTC_ETOOBIG);

    /* Count bound: tiny packets fill the 64 entries first. */
    camrtc_rtp_history_config c2 = {.max_bytes = 100000, .max_packets = 64};
    camrtc_rtp_history *h2 = camrtc_rtp_history_new(&c2);
    CHECK(h2);
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(camrtc_rtp_history_put(h2, 0, (uint16_t)i, pkt, 10), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rtp_history_count(h2), 64);
    camrtc_rtp_history_free(h2);
    camrtc_rtp_history_free(h);
}

TEST(history_sized_from_bitrate)
{
    /* 2.5 Mbit/s for 1 s: 312500 bytes plus a quarter. */
    CHECK_EQ_INT(camrtc_rtp_history_bytes_for(2500000, CAMRTC_SEC(1)), 390625);
    CHECK_EQ_INT(camrtc_rtp_history_bytes_for(1000000, CAMRTC_MS(500)), 78125);
}

TEST(history_restart_on_jump)
{
    camrtc_rtp_history *h = camrtc_rtp_history_new(NULL);
    CHECK(h);
    uint8_t pkt[10] = {0};
    CHECK_EQ_INT(camrtc_rtp_history_put(h, 0, 100, pkt, 10), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rtp_history_put(h, 0, 101, pkt, 10), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rtp_history_put(h, 0, 30000, pkt, 10), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rtp_history_count(h), 1);
    const uint8_t *p;
    size_t n;
    CHECK_EQ_INT(camrtc_rtp_history_get(h, 0, 30000, &p, &n), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rtp_history_get(h, 0, 100, &p, &n), CAMRTC_ENOTFOUND);
    camrtc_rtp_history_free(h);
}

TEST(history_entries_grow_while_wrapped)
{
    /* The entry ring starts small: first it wraps (1 packet per ms, 40 ms kept), then the
     * rate goes up tenfold and it must grow with its oldest entry in the middle; every
     * packet younger than max_age stays findable with intact bytes. */
    camrtc_rtp_history_config cfg = {.max_age = CAMRTC_MS(40), .max_bytes = 1000000, .max_packets = 1000};
    camrtc_rtp_history *h = camrtc_rtp_history_new(&cfg);
    CHECK(h);
    uint8_t pkt[300];
    uint16_t seq = 65000;   /* across the 16-bit wrap too */
    for (int ms = 0; ms < 300; ms++)
        for (int k = 0; k < (ms < 150 ? 1 : 10); k++, seq++) {
            size_t n = 20 + (size_t)(seq % 250);
            fill(pkt, n, seq);
            CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(ms), seq, pkt, n), CAMRTC_OK);
        }
    CHECK_EQ_INT(camrtc_rtp_history_capacity(h), 1000);
    CHECK(camrtc_rtp_history_count(h) >= 400 && camrtc_rtp_history_count(h) <= 410);
    for (uint16_t k = 1; k <= 400; k++) {
        uint16_t s2 = (uint16_t)(seq - k);
        CHECK(has(h, CAMRTC_MS(299), s2, 20 + (size_t)(s2 % 250)));
    }
    CHECK_EQ_INT(camrtc_rtp_history_get_stats(h)->evicted_space, 0);
    camrtc_rtp_history_free(h);
}

TEST(history_capacity_and_last_seq)
{
    /* Defaults: 390625 bytes / 200 = 1953 entries; an explicit count is kept, capped. */
    camrtc_rtp_history *h = camrtc_rtp_history_new(NULL);
    CHECK(h);
    if (!h)
        return;
    CHECK_EQ_INT(camrtc_rtp_history_capacity(h), 1953);
    uint16_t last = 1;
    CHECK(!camrtc_rtp_history_last_seq(h, &last));
    CHECK_EQ_INT(last, 1);
    uint8_t pkt[10] = {0};
    CHECK_EQ_INT(camrtc_rtp_history_put(h, 0, 65535, pkt, 10), CAMRTC_OK);
    CHECK(camrtc_rtp_history_last_seq(h, &last));
    CHECK_EQ_INT(last, 65535);
    CHECK_EQ_INT(camrtc_rtp_history_put(h, 0, 0, pkt, 10), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_rtp_history_put(h, 0, 0, pkt, 10), CAMRTC_EINVAL);   /* refused: stays 0 */
    CHECK(camrtc_rtp_history_last_seq(h, &last));
    CHECK_EQ_INT(last, 0);
    camrtc_rtp_history_free(h);
    camrtc_rtp_history_config c = {.max_packets = 100};
    h = camrtc_rtp_history_new(&c);
    CHECK(h && camrtc_rtp_history_capacity(h) == 100);
    camrtc_rtp_history_free(h);
    c.max_packets = 100000;
    h = camrtc_rtp_history_new(&c);
    CHECK(h && camrtc_rtp_history_capacity(h) == 32768);
    camrtc_rtp_history_free(h);
}

TEST(history_peek_sees_old_packets_without_counting)
{
    camrtc_rtp_history_config cfg = {.max_age = CAMRTC_MS(500)};
    camrtc_rtp_history *h = camrtc_rtp_history_new(&cfg);
    CHECK(h);
    if (!h)
        return;
    uint8_t pkt[10] = {1, 2, 3};
    CHECK_EQ_INT(camrtc_rtp_history_put(h, CAMRTC_MS(100), 7, pkt, sizeof pkt), CAMRTC_OK);
    const uint8_t *p = NULL;
    size_t n = 0;
    camrtc_time_us at = 0;
    /* Too old for a NACK at 700 ms, still there to peek at, with its time. */
    CHECK_EQ_INT(camrtc_rtp_history_get(h, CAMRTC_MS(700), 7, &p, &n), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_rtp_history_peek(h, 7, &p, &n, &at), CAMRTC_OK);
    CHECK_EQ_INT(n, sizeof pkt);
    CHECK_EQ_INT(at, CAMRTC_MS(100));
    CHECK(p && p[2] == 3);
    CHECK_EQ_INT(camrtc_rtp_history_peek(h, 8, NULL, NULL, NULL), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_rtp_history_peek(NULL, 7, NULL, NULL, NULL), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_rtp_history_get_stats(h)->lookups, 1);   /* only the get */
    camrtc_rtp_history_free(h);
}

int main(void)
{
    return RUN_TESTS(rtp_parse_full_header, rtp_write_matches_sample_header, rtp_roundtrip_two_byte_form,
                     rtp_roundtrip_plain_and_rewrite, rtp_write_rejects_bad_fields, rtp_malformed_rejected,
                     rtp_too_many_extensions, rtp_seq_newer_wraps, history_lookup_and_wrap, history_evicts_by_age,
                     history_evicts_by_bytes_and_count, history_sized_from_bitrate, history_restart_on_jump,
                     history_entries_grow_while_wrapped, history_capacity_and_last_seq,
                     history_peek_sees_old_packets_without_counting);
}
