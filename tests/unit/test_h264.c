/* Annex-B splitting, the SPS's profile/level bytes, and access-unit boundaries, on
 * hand-made buffers and on streams x264 made (tests/unit/data/media/make_media.py; the
 * per-frame files in h264dir/ are libavcodec's own cut, the ground truth for ours). */
#include <stdlib.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "check.h"
#include "media/h264_int.h"

static uint8_t *load_data(const char *name, size_t *len)
{
    const char *dir = getenv("CAMRTC_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/media/%s", dir ? dir : "tests/unit/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 16);
    *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
    fclose(f);
    return buf;
}

typedef struct collected {
    int n;
    const uint8_t *nal[16];
    size_t len[16];
} collected;

static void collect(void *user, const uint8_t *nal, size_t len)
{
    collected *c = user;
    if (c->n < 16) {
        c->nal[c->n] = nal;
        c->len[c->n] = len;
    }
    c->n++;
}

TEST(split_start_codes_of_3_and_4_bytes)
{
    static const uint8_t s[] = {
        0, 0, 0, 1, 0x09, 0xf0,             /* 4-byte start code, AUD */
        0, 0, 1, 0x67, 0x42, 0, 0x1f,       /* 3-byte, SPS with a zero inside */
        0, 0, 1, 0x68, 0xce, 0, 0, 0,       /* PPS + trailing_zero_8bits */
        0, 0, 1,                            /* an empty unit: skipped */
        0, 0, 0, 1, 0x65, 0x88, 0x80,       /* IDR */
    };
    collected c = {0};
    CHECK_EQ_INT(camrtc_h264_split(s, sizeof s, collect, &c), 4);
    CHECK_EQ_INT(c.n, 4);
    CHECK_EQ_INT(c.len[0], 2);
    CHECK_EQ_INT(c.nal[0][0], 0x09);
    CHECK_EQ_INT(c.len[1], 4);
    CHECK_EQ_INT(c.nal[1][0], 0x67);
    /* A NAL never ends in a zero byte (rbsp_trailing_bits): zeros before a start code
     * are padding, so the PPS here is 2 bytes. */
    CHECK_EQ_INT(c.len[2], 2);
    CHECK_EQ_INT(c.nal[2][1], 0xce);
    CHECK_EQ_INT(c.len[3], 3);
    CHECK(c.nal[3] == s + sizeof s - 3);
}

TEST(split_garbage_and_empty)
{
    static const uint8_t junk[] = {'h', 'e', 'l', 'l', 'o', 0, 0, 1, 0x65, 1};
    static const uint8_t zeros[64] = {0};
    static const uint8_t no_sc[] = {1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t lead0[] = {0, 0, 0, 0, 0, 0, 1, 0x41, 0x9a};
    static const uint8_t only_sc[] = {0, 0, 1};
    collected c = {0};
    CHECK_EQ_INT(camrtc_h264_split(junk, sizeof junk, collect, &c), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_h264_split(no_sc, sizeof no_sc, collect, &c), CAMRTC_EPROTO);
    CHECK_EQ_INT(c.n, 0);
    CHECK_EQ_INT(camrtc_h264_split(zeros, sizeof zeros, collect, &c), 0);
    CHECK_EQ_INT(camrtc_h264_split(only_sc, sizeof only_sc, collect, &c), 0);
    CHECK_EQ_INT(camrtc_h264_split(NULL, 0, collect, &c), 0);
    CHECK_EQ_INT(camrtc_h264_split(NULL, 5, collect, &c), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_h264_split(lead0, sizeof lead0, collect, &c), 1);
    CHECK_EQ_INT(c.len[0], 2);
}

TEST(find_sps_in_x264_stream)
{
    size_t len = 0;
    uint8_t *s = load_data("stream.h264", &len);
    CHECK(s);
    uint8_t p = 0, c = 0, l = 0;
    int rc = camrtc_h264_find_sps(s, len, &p, &c, &l);
    /* Also only the second half (no SPS until the second IDR). */
    uint8_t p2 = 0;
    int rc_tail = camrtc_h264_find_sps(s + 100, len - 100, &p2, NULL, NULL);
    free(s);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(p, 66);    /* x264 ultrafast: Constrained Baseline (42 c0 0a) */
    CHECK_EQ_INT(c, 0xc0);
    CHECK_EQ_INT(l, 10);
    CHECK_EQ_INT(rc_tail, 0);
    CHECK_EQ_INT(p2, 66);
}

TEST(find_sps_removes_emulation_prevention)
{
    /* profile_idc 0 and constraints 0 make 00 00; a level byte <= 3 after them must be
     * escaped by an emulation prevention byte 03 (7.4.1), which the reader removes. */
    static const uint8_t s[] = {0, 0, 1, 0x67, 0x00, 0x00, 0x03, 0x02, 0xff};
    uint8_t p = 9, c = 9, l = 9;
    CHECK_EQ_INT(camrtc_h264_find_sps(s, sizeof s, &p, &c, &l), 0);
    CHECK_EQ_INT(p, 0);
    CHECK_EQ_INT(c, 0);
    CHECK_EQ_INT(l, 2);
}

TEST(find_sps_absent_or_short)
{
    static const uint8_t no_sps[] = {0, 0, 1, 0x68, 0xce, 0x3c, 0x80, 0, 0, 1, 0x65, 0x88};
    static const uint8_t short_sps[] = {0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x67, 0x4d, 0x40, 0x1f};
    uint8_t p = 0, l = 0;
    CHECK_EQ_INT(camrtc_h264_find_sps(no_sps, sizeof no_sps, &p, NULL, &l), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_h264_find_sps(NULL, 0, &p, NULL, &l), CAMRTC_ENOTFOUND);
    /* The first SPS is cut short: the second one counts. */
    CHECK_EQ_INT(camrtc_h264_find_sps(short_sps, sizeof short_sps, &p, NULL, &l), 0);
    CHECK_EQ_INT(p, 0x4d);
    CHECK_EQ_INT(l, 0x1f);
}

TEST(sps_size_of_x264_streams)
{
    size_t len = 0;
    uint8_t *s = load_data("stream.h264", &len);
    CHECK(s);
    int w = 0, h = 0;
    int rc = camrtc_h264_sps_size(s, len, &w, &h);
    free(s);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(w, 64);
    CHECK_EQ_INT(h, 64);
}

static uint8_t *from_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *b = malloc(n);
    for (size_t i = 0; b && i < n; i++) {
        unsigned v = 0;
        sscanf(hex + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    *len = n;
    return b;
}

TEST(sps_size_profiles_and_cropping)
{
    /* SPS units libx264 wrote (preset veryfast, via python3-av): High 1080p (68 rows of
     * macroblocks, 8 luma rows cropped), Main 360p (crop 8), High 4:4:4 720p (crop units
     * of 1 sample: chroma_format_idc 3). */
    static const struct {
        const char *hex;
        int w, h;
    } v[] = {
        {"000000016764003eacd940780227e5840000030004007a12003c20106580", 1920, 1080},
        {"00000001674d403eeca05017fcb08000000300800f42400784020cb0", 640, 360},
        {"0000000167f4003e919b280a00b7420000030002003d09001e100832c0", 1280, 720},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t len = 0;
        uint8_t *b = from_hex(v[i].hex, &len);
        CHECK(b);
        int w = 0, h = 0;
        int rc = camrtc_h264_sps_size(b, len, &w, &h);
        free(b);
        CHECK_EQ_INT(rc, 0);
        CHECK_EQ_INT(w, v[i].w);
        CHECK_EQ_INT(h, v[i].h);
    }
}

TEST(sps_size_bad_or_absent)
{
    static const uint8_t cut[] = {0, 0, 1, 0x67, 0x64, 0x00, 0x28, 0xac};
    static const uint8_t none[] = {0, 0, 1, 0x68, 0xce, 0x3c, 0x80};
    /* 33 zero bits: an Exp-Golomb code longer than any valid one. */
    static const uint8_t long_ue[] = {0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0x00, 0x00, 0x03, 0x00, 0x00,
                                      0x03, 0x00, 0x00, 0x80};
    int w = 0, h = 0;
    CHECK_EQ_INT(camrtc_h264_sps_size(cut, sizeof cut, &w, &h), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_h264_sps_size(none, sizeof none, &w, &h), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_h264_sps_size(long_ue, sizeof long_ue, &w, &h), CAMRTC_EPROTO);
    CHECK_EQ_INT(w, 0);
}

TEST(access_units_match_libavcodec_cut)
{
    size_t len = 0;
    uint8_t *s = load_data("stream.h264", &len);
    CHECK(s);
    size_t off = 0, start = 0, n = 0;
    bool key = false, slice = false;
    int count = 0, mismatches = 0, keys = 0, rc;
    while ((rc = h264_next_au(s, len, &off, &start, &n, &key, &slice)) == 1 && count < 64) {
        char name[64];
        snprintf(name, sizeof name, "h264dir/frame-%04d.h264", count + 1);
        size_t want_len = 0;
        uint8_t *want = load_data(name, &want_len);
        if (!want || want_len != n || memcmp(want, s + start, n) != 0 || !slice) {
            fprintf(stderr, "AU %d: %zu bytes, file %zu\n", count, n, want_len);
            mismatches++;
        }
        if (key)
            keys |= 1 << count;
        free(want);
        count++;
    }
    free(s);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(count, 12);
    CHECK_EQ_INT(mismatches, 0);
    CHECK_EQ_INT(keys, (1 << 0) | (1 << 6)); /* IDR every 6 frames */
}

TEST(access_units_start_at_aud)
{
    size_t len = 0;
    uint8_t *s = load_data("aud.h264", &len);
    CHECK(s);
    size_t off = 0, start = 0, n = 0;
    bool key = false, slice = false;
    int count = 0, keys = 0, bad = 0;
    while (h264_next_au(s, len, &off, &start, &n, &key, &slice) == 1 && count < 64) {
        /* Each unit begins with a start code and then the AUD (type 9). */
        size_t sc = s[start + 2] == 1 ? 3 : 4;
        if ((s[start + sc] & 0x1f) != H264_NAL_AUD || !slice)
            bad++;
        keys |= key << count;
        count++;
    }
    free(s);
    CHECK_EQ_INT(count, 4);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(keys, 0x5); /* IDR, P, IDR, P */
}

TEST(access_unit_rules_on_hand_made_stream)
{
    /* SPS PPS IDR(first_mb 0) IDR(first_mb != 0) | P(first_mb 0) | SEI P | P  */
    static const uint8_t s[] = {
        0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 1, 0x68, 0xce,
        0, 0, 1, 0x65, 0x88, 0x11,      /* first_mb_in_slice = 0 (bit '1') */
        0, 0, 1, 0x65, 0x40, 0x22,      /* first_mb_in_slice != 0: same picture */
        0, 0, 1, 0x41, 0x9a, 0x33,      /* new picture */
        0, 0, 1, 0x06, 0x05, 0x80,      /* SEI after a slice: new AU */
        0, 0, 1, 0x41, 0x9a, 0x44,      /* first slice of that AU */
        0, 0, 1, 0x41, 0x9a, 0x55,      /* new picture */
    };
    size_t off = 0, start, n;
    bool key, slice;
    size_t starts[8], lens[8];
    int keys = 0, count = 0;
    while (count < 8 && h264_next_au(s, sizeof s, &off, &start, &n, &key, &slice) == 1) {
        starts[count] = start;
        lens[count] = n;
        keys |= key << count;
        count++;
    }
    CHECK_EQ_INT(count, 4);
    CHECK_EQ_INT(starts[0], 0);
    CHECK_EQ_INT(lens[0], 24);
    CHECK_EQ_INT(starts[1], 24);
    CHECK_EQ_INT(lens[1], 6);
    CHECK_EQ_INT(starts[2], 30);
    CHECK_EQ_INT(lens[2], 12);
    CHECK_EQ_INT(starts[3], 42);
    CHECK_EQ_INT(keys, 1);
}

TEST(access_unit_forbidden_bit_is_eproto)
{
    static const uint8_t s[] = {0, 0, 1, 0x65, 0x88, 0, 0, 1, 0xe5, 0x88};
    size_t off = 0, start, n;
    bool key, slice;
    CHECK_EQ_INT(h264_next_au(s, sizeof s, &off, &start, &n, &key, &slice), CAMRTC_EPROTO);
    /* Nothing at all. */
    off = 0;
    CHECK_EQ_INT(h264_next_au(s, 2, &off, &start, &n, &key, &slice), 0);
}

/* ---- the camrtc SEI --------------------------------------------------------------------- */

/* A growing SEI NAL for the tests, written here independently of the parser:
 * raw RBSP bytes first, then escaped (emulation prevention, 7.4.1) into nal. */
typedef struct sei_nal {
    uint8_t rbsp[1024];
    size_t rlen;
    uint8_t nal[1400];
    size_t len;
} sei_nal;

static void sei_put(sei_nal *n, const uint8_t *p, size_t len)
{
    memcpy(n->rbsp + n->rlen, p, len);
    n->rlen += len;
}

/* payloadType or payloadSize: 0xFF per 255, then the rest (7.3.2.3.1). */
static void sei_put_ff(sei_nal *n, size_t v)
{
    for (; v >= 255; v -= 255)
        n->rbsp[n->rlen++] = 0xFF;
    n->rbsp[n->rlen++] = (uint8_t)v;
}

static void sei_message(sei_nal *n, size_t type, const uint8_t *payload, size_t size)
{
    sei_put_ff(n, type);
    sei_put_ff(n, size);
    sei_put(n, payload, size);
}

/* Header byte 0x06, the escaped RBSP, rbsp_trailing_bits 0x80. */
static void sei_finish(sei_nal *n)
{
    n->len = 0;
    n->nal[n->len++] = 0x06;
    int zeros = 0;
    for (size_t i = 0; i < n->rlen; i++) {
        if (zeros == 2 && n->rbsp[i] <= 3) {
            n->nal[n->len++] = 3;
            zeros = 0;
        }
        n->nal[n->len++] = n->rbsp[i];
        zeros = n->rbsp[i] == 0 ? zeros + 1 : 0;
    }
    n->nal[n->len++] = 0x80;
}

static size_t count_escapes(const sei_nal *n)
{
    return n->len - 2 - n->rlen;
}

TEST(camrtc_sei_payload_layout)
{
    static const uint8_t uuid[16] = CAMRTC_SEI_UUID_BYTES;
    uint8_t p[CAMRTC_SEI_PAYLOAD_SIZE + 1];
    p[CAMRTC_SEI_PAYLOAD_SIZE] = 0xEE;
    CHECK_EQ_INT(camrtc_h264_write_camrtc_sei(p, 0x0102030405060708ull, 0x1112131415161718ull),
                 CAMRTC_SEI_PAYLOAD_SIZE);
    CHECK_EQ_INT(CAMRTC_SEI_PAYLOAD_SIZE, 33);
    CHECK(memcmp(p, uuid, 16) == 0);
    CHECK_EQ_INT(p[16], 1);                     /* version */
    CHECK_EQ_INT(p[17], 0x01);                  /* big-endian */
    CHECK_EQ_INT(p[24], 0x08);
    CHECK_EQ_INT(p[25], 0x11);
    CHECK_EQ_INT(p[32], 0x18);
    CHECK_EQ_INT(p[33], 0xEE);                  /* nothing written past the payload */
}

TEST(camrtc_sei_reads_back_through_emulation_prevention)
{
    /* Values full of zero bytes: the escaped NAL holds 00 00 03 sequences that the
     * reader must drop. */
    static const uint64_t ids[] = {0, 1, 0x0000000100000000ull, UINT64_MAX};
    static const camrtc_time_us caps[] = {0, 0x0000000000000302ull, 0x0100000000000003ull, 42};
    size_t escapes = 0;
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        sei_nal *n = calloc(1, sizeof *n);
        uint8_t p[CAMRTC_SEI_PAYLOAD_SIZE];
        camrtc_h264_write_camrtc_sei(p, ids[i], caps[i]);
        sei_message(n, 5, p, sizeof p);
        sei_finish(n);
        escapes += count_escapes(n);
        uint64_t id = 7;
        camrtc_time_us cap = 7;
        CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(n->nal, n->len, &id, &cap), CAMRTC_OK);
        CHECK(id == ids[i]);
        CHECK(cap == caps[i]);
        /* Without the trailing bits it still reads (the message is complete). */
        CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(n->nal, n->len - 1, &id, &cap), CAMRTC_OK);
        free(n);
    }
    CHECK(escapes >= 4);                        /* the test really exercised escaping */
}

TEST(camrtc_sei_found_among_other_messages)
{
    /* A recovery point (type 6), a message of type 300 and size 300 (0xFF-coded type
     * and size), someone else's user data, then ours. */
    sei_nal *n = calloc(1, sizeof *n);
    static const uint8_t rp[] = {0x84};
    uint8_t big[300], other[40], ours[CAMRTC_SEI_PAYLOAD_SIZE];
    memset(big, 0, sizeof big);                 /* zeros: escaped throughout */
    memset(other, 0x5A, sizeof other);
    camrtc_h264_write_camrtc_sei(ours, 1234, 5678);
    sei_message(n, 6, rp, sizeof rp);
    sei_message(n, 300, big, sizeof big);
    sei_message(n, 5, other, sizeof other);
    sei_message(n, 5, ours, sizeof ours);
    sei_finish(n);
    uint64_t id = 0;
    camrtc_time_us cap = 0;
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(n->nal, n->len, &id, &cap), CAMRTC_OK);
    CHECK_EQ_INT(id, 1234);
    CHECK_EQ_INT(cap, 5678);
    free(n);

    /* A later version's payload may be longer: the extra bytes are skipped. */
    n = calloc(1, sizeof *n);
    uint8_t longer[CAMRTC_SEI_PAYLOAD_SIZE + 8];
    memset(longer, 0x77, sizeof longer);
    camrtc_h264_write_camrtc_sei(longer, 9, 10);
    sei_message(n, 5, longer, sizeof longer);
    sei_finish(n);
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(n->nal, n->len, &id, &cap), CAMRTC_OK);
    CHECK_EQ_INT(id, 9);
    free(n);
}

static int read_one(const uint8_t *payload, size_t size, size_t type)
{
    sei_nal *n = calloc(1, sizeof *n);
    sei_message(n, type, payload, size);
    sei_finish(n);
    uint64_t id = 99;
    camrtc_time_us cap = 99;
    int r = camrtc_h264_read_camrtc_sei(n->nal, n->len, &id, &cap);
    if (r != CAMRTC_OK && (id != 99 || cap != 99))
        r = 1;                                  /* outputs touched on failure: a bug */
    free(n);
    return r;
}

TEST(camrtc_sei_not_ours_is_enotfound)
{
    uint8_t p[CAMRTC_SEI_PAYLOAD_SIZE];
    camrtc_h264_write_camrtc_sei(p, 1, 2);
    CHECK_EQ_INT(read_one(p, sizeof p, 5), CAMRTC_OK);
    CHECK_EQ_INT(read_one(p, sizeof p, 4), CAMRTC_ENOTFOUND);      /* other payloadType */
    CHECK_EQ_INT(read_one(p, sizeof p - 1, 5), CAMRTC_ENOTFOUND);  /* too short for v1 */
    p[16] = 2;
    CHECK_EQ_INT(read_one(p, sizeof p, 5), CAMRTC_ENOTFOUND);      /* unknown version */
    p[16] = 1;
    p[15] ^= 1;
    CHECK_EQ_INT(read_one(p, sizeof p, 5), CAMRTC_ENOTFOUND);      /* another UUID */

    uint64_t id;
    camrtc_time_us cap;
    static const uint8_t slice[] = {0x65, 0x88, 0x80};
    static const uint8_t empty_sei[] = {0x06, 0x80};
    static const uint8_t forbidden[] = {0x86, 0x05, 0x00, 0x80};
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(slice, sizeof slice, &id, &cap), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(empty_sei, sizeof empty_sei, &id, &cap), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(forbidden, sizeof forbidden, &id, &cap), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(empty_sei, 1, &id, &cap), CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(NULL, 4, &id, &cap), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(slice, sizeof slice, NULL, &cap), CAMRTC_EINVAL);
}

TEST(camrtc_sei_truncated_anywhere_is_eproto)
{
    sei_nal *n = calloc(1, sizeof *n);
    uint8_t p[CAMRTC_SEI_PAYLOAD_SIZE];
    camrtc_h264_write_camrtc_sei(p, 0x100000000ull, 0x30000);
    sei_message(n, 5, p, sizeof p);
    sei_finish(n);
    /* Cut after the header byte and payloadType, up to the last payload byte. */
    int bad = 0;
    for (size_t cut = 2; cut + 1 < n->len; cut++) {
        uint64_t id;
        camrtc_time_us cap;
        bad += camrtc_h264_read_camrtc_sei(n->nal, cut, &id, &cap) != CAMRTC_EPROTO;
    }
    CHECK_EQ_INT(bad, 0);
    free(n);

    /* A payloadSize far past the end of the NAL. */
    static const uint8_t huge[] = {0x06, 0x05, 0xFF, 0xFF, 0xFF, 0x10, 0xb4, 0xdf, 0x80};
    uint64_t id;
    camrtc_time_us cap;
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(huge, sizeof huge, &id, &cap), CAMRTC_EPROTO);
    /* A run of 0xFF with no end. */
    static const uint8_t ff[] = {0x06, 0xFF, 0xFF, 0xFF};
    CHECK_EQ_INT(camrtc_h264_read_camrtc_sei(ff, sizeof ff, &id, &cap), CAMRTC_EPROTO);
}

int main(void)
{
    return RUN_TESTS(split_start_codes_of_3_and_4_bytes, split_garbage_and_empty,
                     find_sps_in_x264_stream, find_sps_removes_emulation_prevention,
                     find_sps_absent_or_short, sps_size_of_x264_streams,
                     sps_size_profiles_and_cropping, sps_size_bad_or_absent,
                     access_units_match_libavcodec_cut,
                     access_units_start_at_aud, access_unit_rules_on_hand_made_stream,
                     access_unit_forbidden_bit_is_eproto, camrtc_sei_payload_layout,
                     camrtc_sei_reads_back_through_emulation_prevention,
                     camrtc_sei_found_among_other_messages, camrtc_sei_not_ours_is_enotfound,
                     camrtc_sei_truncated_anywhere_is_eproto);
}
