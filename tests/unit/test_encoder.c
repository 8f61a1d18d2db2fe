/* The x264 wrapper: profiles in the SPS, forced IDRs, slice sizes, last-of-frame
 * tagging, SPS/PPS on every IDR, bitrate changes, bad configurations. Frames are made
 * here (a moving gradient plus deterministic noise, so pictures cost real bits), so the
 * test depends only on the encoder. */
#include "check.h"

#include "camrtc/encoder.h"
#include "camrtc/error.h"
#include "media/dynlib.h"

#include <x264.h>     /* X264_BUILD: the soname number */

#define STR_(x) #x
#define STR(x) STR_(x)

#define MAX_NALS 4096

typedef struct {
    int n;
    camrtc_nal nal[MAX_NALS];       /* data copied into bytes below */
    uint8_t *bytes[MAX_NALS];
} sink;

static void sink_nal(void *user, const camrtc_nal *nal)
{
    sink *s = user;
    if (s->n >= MAX_NALS)
        return;
    s->bytes[s->n] = malloc(nal->len);
    memcpy(s->bytes[s->n], nal->data, nal->len);
    s->nal[s->n] = *nal;
    s->nal[s->n].data = s->bytes[s->n];
    s->n++;
}

static void sink_clear(sink *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->bytes[i]);
    s->n = 0;
}

typedef struct {
    camrtc_frame f;
    uint8_t *mem;
} picture;

static void picture_alloc(picture *p, int w, int h)
{
    size_t ysz = (size_t)w * h, csz = (size_t)(w / 2) * (h / 2);
    p->mem = malloc(ysz + 2 * csz);
    p->f = (camrtc_frame){.fmt = CAMRTC_PIX_I420, .width = w, .height = h,
        .plane = {p->mem, p->mem + ysz, p->mem + ysz + csz}, .stride = {w, w / 2, w / 2}};
}

/* A picture that changes every frame and has noise in it, so slices fill up. */
static void picture_draw(picture *p, uint64_t n, int noise)
{
    uint32_t seed = (uint32_t)n * 2654435761u + 1;
    for (int y = 0; y < p->f.height; y++)
        for (int x = 0; x < p->f.width; x++) {
            seed = seed * 1103515245u + 12345u;
            int v = (x + y + (int)n * 4) & 0xff;
            if (noise)
                v ^= (int)(seed >> 24) & noise;
            p->f.plane[0][(size_t)y * p->f.stride[0] + x] = (uint8_t)v;
        }
    for (int i = 1; i < 3; i++)
        for (int y = 0; y < p->f.height / 2; y++)
            memset(p->f.plane[i] + (size_t)y * p->f.stride[i], (int)(128 + n * i) & 0xff,
                   (size_t)p->f.width / 2);
    p->f.frame_id = n;
    p->f.capture_us = 1000000 + n * 33333;
}

static int encode_n(camrtc_encoder *e, picture *p, uint64_t first, int count, int noise)
{
    for (int i = 0; i < count; i++) {
        picture_draw(p, first + (uint64_t)i, noise);
        int r = camrtc_encoder_encode(e, &p->f);
        if (r < 0)
            return r;
    }
    return 0;
}

static camrtc_encoder_config small_config(void)
{
    return (camrtc_encoder_config){.width = 160, .height = 96, .fps = 30, .bitrate_kbps = 500};
}

static const camrtc_nal *find_type(const sink *s, int type)
{
    for (int i = 0; i < s->n; i++)
        if (s->nal[i].type == type)
            return &s->nal[i];
    return NULL;
}

/* profile_idc, constraint flags, level_idc of the SPS (RFC 6184 §8.1 profile-level-id
 * is these three bytes). */
static void check_sps(camrtc_h264_profile prof, int want_profile, int want_level)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    c.profile = prof;
    c.level_idc = want_level == 31 ? 0 : want_level;
    camrtc_encoder *e = NULL;
    char err[160] = "";
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, err, sizeof(err)), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    CHECK_EQ_INT(encode_n(e, &p, 0, 1, 0), 0);
    const camrtc_nal *sps = find_type(s, 7);
    CHECK(sps != NULL);
    CHECK(sps->len >= 4);
    printf("  profile %d: SPS profile-level-id %02x%02x%02x\n", (int)prof, sps->data[1],
           sps->data[2], sps->data[3]);
    CHECK_EQ_INT(sps->data[1], want_profile);
    CHECK_EQ_INT(sps->data[3], want_level);
    if (prof == CAMRTC_H264_CONSTRAINED_BASELINE) {
        /* x264 writes constraint_set0 and constraint_set1 (0xc0): with profile_idc 66,
         * constraint_set1 is what makes it Constrained Baseline (H.264 A.2.1.1), which
         * a receiver that offered 42e01f accepts (RFC 6184 §8.1: the level-asymmetry
         * and profile match rules look at set1 for baseline). */
        CHECK(sps->data[2] & 0x40);
        CHECK(sps->data[2] & 0x80);
    }
    if (prof == CAMRTC_H264_MAIN)
        CHECK(sps->data[2] & 0x40);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

TEST(sps_profile_level_constrained_baseline) { check_sps(CAMRTC_H264_CONSTRAINED_BASELINE, 66, 31); }
TEST(sps_profile_level_main) { check_sps(CAMRTC_H264_MAIN, 77, 31); }
TEST(sps_profile_level_high_level_40) { check_sps(CAMRTC_H264_HIGH, 100, 40); }

TEST(forced_idr_is_the_next_picture)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    CHECK_EQ_INT(encode_n(e, &p, 0, 10, 15), 0);
    sink_clear(s);
    CHECK_EQ_INT(encode_n(e, &p, 10, 3, 15), 0);
    CHECK(find_type(s, 5) == NULL);             /* keyint is 60: no IDR by itself */
    sink_clear(s);
    camrtc_encoder_force_idr(e);
    CHECK_EQ_INT(encode_n(e, &p, 13, 1, 15), 0);
    CHECK(s->n >= 3);
    CHECK_EQ_INT(s->nal[0].type, 7);
    CHECK_EQ_INT(s->nal[1].type, 8);
    CHECK(find_type(s, 5) != NULL);
    for (int i = 0; i < s->n; i++) {
        CHECK(s->nal[i].keyframe);
        CHECK_EQ_INT(s->nal[i].frame_id, 13);
    }
    sink_clear(s);
    CHECK_EQ_INT(encode_n(e, &p, 14, 1, 15), 0);  /* and only that one */
    CHECK(find_type(s, 5) == NULL);
    CHECK(!s->nal[0].keyframe);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

/* x264 estimates the slice size while it codes, so a slice may pass the limit by a
 * few bytes (its NAL overhead estimate, escaping). */
#define SLICE_TOLERANCE 40

static void check_slices(int threads)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = {.width = 320, .height = 240, .fps = 30, .bitrate_kbps = 4000,
                               .slice_max_size = 400, .threads = threads};
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    int slices = 0, frames_with_many = 0;
    size_t biggest = 0;
    for (uint64_t n = 0; n < 8; n++) {
        sink_clear(s);
        CHECK_EQ_INT(encode_n(e, &p, n, 1, 63), 0);
        int in_frame = 0, last = 0;
        for (int i = 0; i < s->n; i++) {
            const camrtc_nal *x = &s->nal[i];
            CHECK_EQ_INT(x->frame_id, n);
            CHECK_EQ_INT(x->rtp_ts, camrtc_encoder_rtp_ts(1000000 + n * 33333, 0));
            if (x->type == 1 || x->type == 5) {
                in_frame++;
                if (x->len > biggest)
                    biggest = x->len;
                CHECK(x->len <= (size_t)c.slice_max_size + SLICE_TOLERANCE);
            }
            if (x->last_of_frame) {
                last++;
                CHECK_EQ_INT(i, s->n - 1);      /* on the last NAL, and only there */
            }
            if (i > 0)
                CHECK(x->encoded_us >= s->nal[i - 1].encoded_us);
        }
        CHECK_EQ_INT(last, 1);
        slices += in_frame;
        frames_with_many += in_frame > 2;
    }
    printf("  threads %d: %d slices in 8 frames, biggest %zu bytes\n", threads, slices, biggest);
    CHECK(frames_with_many == 8);               /* the limit really split the pictures */
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

TEST(slices_stay_under_slice_max_size_and_last_of_frame_once) { check_slices(1); }
TEST(sliced_threads_keep_order_and_last_of_frame) { check_slices(2); }

TEST(sps_pps_repeat_on_every_idr)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    c.keyint = 5;
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    int idrs = 0;
    for (uint64_t n = 0; n < 20; n++) {
        sink_clear(s);
        CHECK_EQ_INT(encode_n(e, &p, n, 1, 7), 0);
        if (!find_type(s, 5))
            continue;
        idrs++;
        CHECK_EQ_INT(s->nal[0].type, 7);
        CHECK_EQ_INT(s->nal[1].type, 8);
        CHECK(s->nal[s->n - 1].last_of_frame);
    }
    CHECK_EQ_INT(idrs, 4);                      /* frames 0, 5, 10, 15 */
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

TEST(intra_refresh_makes_no_periodic_idr_but_honours_a_forced_one)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    c.intra_refresh = true;
    c.keyint = 10;
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    CHECK_EQ_INT(encode_n(e, &p, 0, 1, 7), 0);
    CHECK(find_type(s, 5) != NULL);             /* the stream starts with an IDR */
    sink_clear(s);
    CHECK_EQ_INT(encode_n(e, &p, 1, 30, 7), 0);
    CHECK(find_type(s, 5) == NULL);             /* then refreshes by columns, no IDR */
    sink_clear(s);
    camrtc_encoder_force_idr(e);
    CHECK_EQ_INT(encode_n(e, &p, 31, 1, 7), 0);
    CHECK(find_type(s, 5) != NULL);
    CHECK_EQ_INT(s->nal[0].type, 7);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

/* Does this SEI NAL (no start code) hold a recovery point message (payload type 6,
 * H.264 D.1.7)? Walks every message of the NAL; emulation prevention bytes are rare in
 * x264's short headers and would at worst hide a message (the test would then fail). */
static bool sei_has_recovery_point(const uint8_t *d, size_t len)
{
    size_t i = 1;                               /* after the NAL header */
    while (i < len && d[i] != 0x80) {           /* 0x80: rbsp_trailing_bits */
        int type = 0, size = 0;
        while (i < len && d[i] == 0xFF)
            type += d[i++];
        if (i >= len)
            return false;
        type += d[i++];
        while (i < len && d[i] == 0xFF)
            size += d[i++];
        if (i >= len)
            return false;
        size += d[i++];
        if (type == 6)
            return true;
        i += (size_t)size;
    }
    return false;
}

TEST(intra_refresh_sweeps_the_picture_every_keyint_frames)
{
    /* With intra_refresh, keyint is not ignored: it is the period of the refresh wave,
     * and each wave starts with a recovery point SEI (what a decoder that joins late
     * waits for). keyint 8 over 40 frames: a wave starts every 8 frames. */
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    c.intra_refresh = true;
    c.keyint = 8;
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    int waves[8], nwaves = 0;
    for (uint64_t n = 0; n < 40; n++) {
        sink_clear(s);
        CHECK_EQ_INT(encode_n(e, &p, n, 1, 7), 0);
        bool rp = false;
        for (int i = 0; i < s->n; i++)
            if (s->nal[i].type == 6 && sei_has_recovery_point(s->nal[i].data, s->nal[i].len))
                rp = true;
        if (rp && nwaves < 8)
            waves[nwaves++] = (int)n;
    }
    printf("  recovery points at frames");
    for (int i = 0; i < nwaves; i++)
        printf(" %d", waves[i]);
    printf("\n");
    CHECK(nwaves >= 4);
    for (int i = 1; i < nwaves; i++)
        CHECK_EQ_INT(waves[i] - waves[i - 1], 8);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

static size_t bytes_of(const sink *s)
{
    size_t b = 0;
    for (int i = 0; i < s->n; i++)
        b += s->nal[i].len;
    return b;
}

TEST(bitrate_change_takes_effect)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = {.width = 320, .height = 240, .fps = 30, .bitrate_kbps = 3000};
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    CHECK_EQ_INT(encode_n(e, &p, 0, 20, 63), 0);
    sink_clear(s);
    CHECK_EQ_INT(encode_n(e, &p, 20, 10, 63), 0);
    size_t high = bytes_of(s);
    CHECK_EQ_INT(camrtc_encoder_set_bitrate(e, 150), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_encoder_bitrate(e), 150);
    CHECK_EQ_INT(encode_n(e, &p, 30, 20, 63), 0);
    sink_clear(s);
    CHECK_EQ_INT(encode_n(e, &p, 50, 10, 63), 0);
    size_t low = bytes_of(s);
    printf("  10 frames: %zu bytes at 3000 kbit/s, %zu at 150 kbit/s\n", high, low);
    CHECK(low * 3 < high);
    CHECK_EQ_INT(camrtc_encoder_set_bitrate(e, 0), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_encoder_set_bitrate(e, 1000000), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_encoder_bitrate(e), 150);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

/* The SPS of the NALs in s, parsed back with camrtc_h264_find_sps (as Annex-B). */
static int sps_of(const sink *s, uint8_t *profile_idc, uint8_t *constraints, uint8_t *level_idc)
{
    const camrtc_nal *sps = find_type(s, 7);
    if (!sps)
        return CAMRTC_ENOTFOUND;
    uint8_t annexb[256] = {0, 0, 0, 1};
    size_t n = sps->len < sizeof annexb - 4 ? sps->len : sizeof annexb - 4;
    memcpy(annexb + 4, sps->data, n);
    return camrtc_h264_find_sps(annexb, n + 4, profile_idc, constraints, level_idc);
}

/* One encoder, three profiles in turn: after each switch the next picture is an IDR
 * led by an SPS of the new profile (its constraint flags as x264 writes them) at the
 * same level, the bitrate set before stays, and the pictures after it are plain P. */
static void check_profile_switch(int threads)
{
    static const struct {
        camrtc_h264_profile profile;
        uint8_t idc, constraints;
    } steps[] = {
        {CAMRTC_H264_HIGH, 100, 0x00},
        {CAMRTC_H264_MAIN, 77, 0x40},              /* constraint_set1: Main */
        {CAMRTC_H264_CONSTRAINED_BASELINE, 66, 0xc0},   /* set0 + set1 (A.2.1.1) */
    };
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    c.level_idc = 40;
    c.threads = threads;
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    CHECK_EQ_INT(encode_n(e, &p, 0, 5, 15), 0);
    CHECK_EQ_INT(camrtc_encoder_set_bitrate(e, 300), CAMRTC_OK);
    uint64_t n = 5;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        sink_clear(s);
        CHECK_EQ_INT(camrtc_encoder_set_profile(e, steps[k].profile), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_encoder_profile(e), steps[k].profile);
        CHECK_EQ_INT(encode_n(e, &p, n++, 1, 15), 0);
        CHECK(s->n >= 3);
        CHECK_EQ_INT(s->nal[0].type, 7);           /* SPS, PPS, ..., IDR slices */
        CHECK_EQ_INT(s->nal[1].type, 8);
        CHECK(find_type(s, 5) != NULL);
        CHECK(find_type(s, 1) == NULL);
        CHECK(s->nal[0].keyframe && s->nal[s->n - 1].last_of_frame);
        uint8_t idc = 0, cons = 0xff, level = 0;
        CHECK_EQ_INT(sps_of(s, &idc, &cons, &level), CAMRTC_OK);
        printf("  threads %d, switched to profile %d: SPS profile-level-id %02x%02x%02x\n", threads,
               (int)steps[k].profile, idc, cons, level);
        CHECK_EQ_INT(idc, steps[k].idc);
        CHECK_EQ_INT(cons, steps[k].constraints);
        CHECK_EQ_INT(level, 40);
        CHECK_EQ_INT(camrtc_encoder_bitrate(e), 300);
        sink_clear(s);
        CHECK_EQ_INT(encode_n(e, &p, n, 3, 15), 0);   /* then P pictures, no new SPS */
        n += 3;
        CHECK(find_type(s, 7) == NULL);
        CHECK(find_type(s, 5) == NULL);
        CHECK(find_type(s, 1) != NULL);
    }
    /* The same profile again changes nothing (no IDR); an unknown one is refused. */
    sink_clear(s);
    CHECK_EQ_INT(camrtc_encoder_set_profile(e, CAMRTC_H264_CONSTRAINED_BASELINE), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_encoder_set_profile(e, (camrtc_h264_profile)7), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_encoder_profile(e), CAMRTC_H264_CONSTRAINED_BASELINE);
    CHECK_EQ_INT(encode_n(e, &p, n, 1, 15), 0);
    CHECK(find_type(s, 5) == NULL);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

TEST(profile_switch_reopens_x264_and_starts_with_an_idr) { check_profile_switch(1); }
TEST(profile_switch_with_sliced_threads) { check_profile_switch(2); }

TEST(absurd_configurations_are_refused_with_a_reason)
{
    static const int sizes[][2] = {{0, 0}, {15, 16}, {16, 15}, {321, 240}, {320, 241},
                                   {9000, 100}, {100, 9000}, {-2, 100}};
    sink s0 = {0};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        camrtc_encoder_config c = {.width = sizes[i][0], .height = sizes[i][1]};
        camrtc_encoder *e = (camrtc_encoder *)&s0;
        char err[160] = "";
        CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, &s0, &e, err, sizeof(err)), CAMRTC_EINVAL);
        CHECK(e == NULL);
        CHECK(strstr(err, "size") != NULL);
    }
    camrtc_encoder_config bad[] = {
        {.width = 64, .height = 64, .fps = 1000},
        {.width = 64, .height = 64, .bitrate_kbps = 5},
        {.width = 64, .height = 64, .level_idc = 99},
        {.width = 64, .height = 64, .slice_max_size = 10},
        {.width = 64, .height = 64, .profile = (camrtc_h264_profile)7},
        {.width = 64, .height = 64, .threads = 100},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        camrtc_encoder *e = NULL;
        char err[160] = "";
        CHECK_EQ_INT(camrtc_encoder_new(&bad[i], sink_nal, &s0, &e, err, sizeof(err)), CAMRTC_EINVAL);
        CHECK(err[0] != '\0');
    }
    camrtc_encoder_config c = {.width = 64, .height = 64, .preset = "warpspeed"};
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, &s0, &e, NULL, 0), CAMRTC_EINVAL);

    /* A picture of the wrong size or format is refused, not read out of bounds. */
    c.preset = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, &s0, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, 32, 32);
    picture_draw(&p, 0, 0);
    CHECK_EQ_INT(camrtc_encoder_encode(e, &p.f), CAMRTC_EINVAL);
    p.f.width = 64;
    p.f.fmt = CAMRTC_PIX_NV12;
    CHECK_EQ_INT(camrtc_encoder_encode(e, &p.f), CAMRTC_EINVAL);
    CHECK_EQ_INT(s0.n, 0);
    free(p.mem);
    camrtc_encoder_free(e);
}

TEST(rtp_timestamp_is_90khz_from_capture_time_with_offset)
{
    CHECK_EQ_INT(camrtc_encoder_rtp_ts(0, 0), 0);
    CHECK_EQ_INT(camrtc_encoder_rtp_ts(1000000, 0), 90000);
    CHECK_EQ_INT(camrtc_encoder_rtp_ts(33333, 0), 2999);
    CHECK_EQ_INT(camrtc_encoder_rtp_ts(1000000, 0xfffffff0u), 90000 - 16);
    /* 9 * 2^32 ticks of 90 kHz (2^32 * 100 us) later it is where it started. */
    uint64_t wrap_us = ((uint64_t)1 << 32) * 100;
    CHECK_EQ_INT(camrtc_encoder_rtp_ts(wrap_us + 1000000, 7), 90007);

    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    camrtc_encoder_set_rtp_offset(e, 1234);
    picture p;
    picture_alloc(&p, c.width, c.height);
    CHECK_EQ_INT(encode_n(e, &p, 3, 1, 0), 0);
    CHECK(s->n > 0);
    CHECK_EQ_INT(s->nal[0].rtp_ts, (1000000 + 3 * 33333) * 90 / 1000 + 1234);
    CHECK_EQ_INT(s->nal[0].capture_us, 1000000 + 3 * 33333);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

/* The camrtc SEI of one picture's NALs: how many NALs carry it, and where. */
typedef struct {
    int count, index, first_slice;
    uint64_t frame_id;
    camrtc_time_us capture_us;
} sei_seen;

static sei_seen find_camrtc_sei(const sink *s)
{
    sei_seen r = {0, -1, -1, 0, 0};
    for (int i = 0; i < s->n; i++) {
        const camrtc_nal *x = &s->nal[i];
        if ((x->type == 1 || x->type == 5) && r.first_slice < 0)
            r.first_slice = i;
        uint64_t id;
        camrtc_time_us cap;
        if (camrtc_h264_read_camrtc_sei(x->data, x->len, &id, &cap) == CAMRTC_OK) {
            r.count++;
            r.index = i;
            r.frame_id = id;
            r.capture_us = cap;
        }
    }
    return r;
}

/* Every picture carries exactly one camrtc SEI with its own frame id and capture time,
 * handed on as a NAL of its own before the first slice, tagged like the picture's other
 * NALs (keyframe on an IDR, never last_of_frame), through both output paths. */
static void check_frame_sei(int threads)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    c.keyint = 4;
    c.threads = threads;
    c.slice_max_size = 200;
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    int idrs = 0;
    for (uint64_t n = 0; n < 10; n++) {
        sink_clear(s);
        if (n == 6)
            camrtc_encoder_force_idr(e);
        CHECK_EQ_INT(encode_n(e, &p, n, 1, 15), 0);
        sei_seen r = find_camrtc_sei(s);
        CHECK_EQ_INT(r.count, 1);
        if (r.count != 1)
            break;
        const camrtc_nal *sei = &s->nal[r.index];
        CHECK_EQ_INT(sei->type, 6);
        CHECK_EQ_INT(r.frame_id, n);
        CHECK_EQ_INT(r.capture_us, 1000000 + n * 33333);
        CHECK_EQ_INT(sei->frame_id, n);
        CHECK(r.first_slice > r.index);
        CHECK(!sei->last_of_frame);
        CHECK(s->nal[s->n - 1].last_of_frame);
        bool idr = find_type(s, 5) != NULL;
        idrs += idr;
        CHECK_EQ_INT(sei->keyframe, idr);
        CHECK_EQ_INT(sei->rtp_ts, s->nal[r.first_slice].rtp_ts);
    }
    CHECK_EQ_INT(idrs, 3);                      /* 0, 4, the forced 6 (the next is 10) */
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

TEST(every_picture_carries_its_frame_id_and_capture_time_in_an_sei) { check_frame_sei(1); }
TEST(sliced_threads_carry_the_sei_too) { check_frame_sei(2); }

TEST(frame_sei_can_be_turned_off)
{
    sink *s = calloc(1, sizeof(*s));
    camrtc_encoder_config c = small_config();
    c.no_frame_sei = true;
    camrtc_encoder *e = NULL;
    CHECK_EQ_INT(camrtc_encoder_new(&c, sink_nal, s, &e, NULL, 0), CAMRTC_OK);
    picture p;
    picture_alloc(&p, c.width, c.height);
    CHECK_EQ_INT(encode_n(e, &p, 0, 5, 15), 0);
    CHECK(s->n >= 5);
    CHECK_EQ_INT(find_camrtc_sei(s).count, 0);
    free(p.mem);
    camrtc_encoder_free(e);
    sink_clear(s);
    free(s);
}

/* x264 is opened at run time (media/dynlib.h): a library or function that is not there
 * is an error naming it and the package to install, with nothing left open. */
TEST(missing_library_or_function_is_a_clear_error)
{
    void (*fn)(void) = NULL;
    void *h = (void *)1;
    char err[256] = "";
    const camrtc_dynsym none[] = {{"x264_encoder_close", &fn}};
    CHECK_EQ_INT(camrtc_dynlib_open(&h, "libcamrtc-no-such.so.0", "camrtc-no-such", none, 1, err, sizeof err),
                 CAMRTC_EUNSUPPORTED);
    CHECK(h == NULL);
    CHECK(strstr(err, "libcamrtc-no-such.so.0") != NULL);
    CHECK(strstr(err, "Debian package camrtc-no-such") != NULL);
    const camrtc_dynsym bad[] = {{"x264_encoder_close", &fn}, {"x264_no_such_function", &fn}};
    CHECK_EQ_INT(camrtc_dynlib_open(&h, "libx264.so." STR(X264_BUILD), "libx264", bad, 2, err, sizeof err),
                 CAMRTC_EUNSUPPORTED);
    CHECK(h == NULL);
    CHECK(strstr(err, "x264_no_such_function") != NULL);
    const camrtc_dynsym good[] = {{"x264_encoder_close", &fn}};
    CHECK_EQ_INT(camrtc_dynlib_open(&h, "libx264.so." STR(X264_BUILD), "libx264", good, 1, err, sizeof err),
                 CAMRTC_OK);
    CHECK(h != NULL && fn != NULL);
    camrtc_dynlib_close(h);
}

int main(void)
{
    return RUN_TESTS(sps_profile_level_constrained_baseline, sps_profile_level_main,
                     sps_profile_level_high_level_40, forced_idr_is_the_next_picture,
                     slices_stay_under_slice_max_size_and_last_of_frame_once,
                     sliced_threads_keep_order_and_last_of_frame, sps_pps_repeat_on_every_idr,
                     intra_refresh_makes_no_periodic_idr_but_honours_a_forced_one,
                     intra_refresh_sweeps_the_picture_every_keyint_frames,
                     bitrate_change_takes_effect, profile_switch_reopens_x264_and_starts_with_an_idr,
                     profile_switch_with_sliced_threads, absurd_configurations_are_refused_with_a_reason,
                     rtp_timestamp_is_90khz_from_capture_time_with_offset,
                     every_picture_carries_its_frame_id_and_capture_time_in_an_sei,
                     sliced_threads_carry_the_sei_too, frame_sei_can_be_turned_off,
                     missing_library_or_function_is_a_clear_error);
}
