/* Raw frame -> I420 conversion with libyuv: exact pixel values for the packed and
 * semi-planar formats, scaling, MJPEG from a small committed JPEG, and the checks on
 * sizes and lengths. */
#include <stdlib.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "check.h"

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

static int Y(const camrtc_frame *f, int x, int y)
{
    return f->plane[0][y * f->stride[0] + x];
}
static int U(const camrtc_frame *f, int x, int y)
{
    return f->plane[1][(y / 2) * f->stride[1] + x / 2];
}
static int V(const camrtc_frame *f, int x, int y)
{
    return f->plane[2][(y / 2) * f->stride[2] + x / 2];
}

/* YUYV 16x16: Y = x*8 + y, U = 100 + x/2 (per pair), V = 50 + 3*y. */
static void make_yuyv(uint8_t *buf, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x += 2) {
            uint8_t *p = buf + y * w * 2 + x * 2;
            p[0] = (uint8_t)(x * 8 + y);
            p[1] = (uint8_t)(100 + x / 2);
            p[2] = (uint8_t)((x + 1) * 8 + y);
            p[3] = (uint8_t)(50 + 3 * y);
        }
}

TEST(yuyv_to_i420_exact)
{
    uint8_t yuyv[16 * 16 * 2];
    make_yuyv(yuyv, 16, 16);
    camrtc_frame src = {.fmt = CAMRTC_PIX_YUYV, .width = 16, .height = 16,
                        .plane = {yuyv}, .stride = {32}, .bytes = sizeof yuyv};
    camrtc_frame dst;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&dst, 16, 16), 0);
    int rc = camrtc_convert_to_i420(&src, &dst);
    bool ok = rc == 0;
    for (int y = 0; ok && y < 16; y++)
        for (int x = 0; x < 16; x++) {
            /* Chroma of two rows is averaged with rounding up: (a + b + 1) / 2. */
            int want_v = ((50 + 3 * (y & ~1)) + (50 + 3 * (y | 1)) + 1) / 2;
            if (Y(&dst, x, y) != x * 8 + y || U(&dst, x, y) != 100 + (x & ~1) / 2 ||
                V(&dst, x, y) != want_v) {
                fprintf(stderr, "at %d,%d: %d %d %d\n", x, y, Y(&dst, x, y), U(&dst, x, y),
                        V(&dst, x, y));
                ok = false;
                break;
            }
        }
    camrtc_frame_free(&dst);
    CHECK_EQ_INT(rc, 0);
    CHECK(ok);
}

TEST(nv12_to_i420_exact)
{
    uint8_t y[16 * 16], uv[16 * 8];
    for (int i = 0; i < 16 * 16; i++)
        y[i] = (uint8_t)i;
    for (int i = 0; i < 8 * 8; i++) {
        uv[2 * i] = (uint8_t)(10 + i);
        uv[2 * i + 1] = (uint8_t)(200 - i);
    }
    camrtc_frame src = {.fmt = CAMRTC_PIX_NV12, .width = 16, .height = 16,
                        .plane = {y, uv}, .stride = {16, 16}};
    camrtc_frame dst;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&dst, 16, 16), 0);
    int rc = camrtc_convert_to_i420(&src, &dst);
    int bad = 0;
    for (int i = 0; i < 16 * 16; i++)
        bad += dst.plane[0][i] != (uint8_t)i;
    for (int i = 0; i < 8 * 8; i++)
        bad += dst.plane[1][i] != 10 + i || dst.plane[2][i] != 200 - i;
    camrtc_frame_free(&dst);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(bad, 0);
}

static void fill_i420(camrtc_frame *f, uint8_t y, uint8_t u, uint8_t v)
{
    for (int r = 0; r < f->height; r++)
        memset(f->plane[0] + r * f->stride[0], y, (size_t)f->width);
    for (int r = 0; r < f->height / 2; r++) {
        memset(f->plane[1] + r * f->stride[1], u, (size_t)f->width / 2);
        memset(f->plane[2] + r * f->stride[2], v, (size_t)f->width / 2);
    }
}

TEST(i420_copy_and_scale_keep_flat_colours)
{
    camrtc_frame src, same, small, big;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&src, 64, 48), 0);
    fill_i420(&src, 81, 90, 240);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&same, 64, 48), 0);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&small, 32, 16), 0);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&big, 128, 96), 0);
    int rc1 = camrtc_convert_to_i420(&src, &same);
    int rc2 = camrtc_convert_to_i420(&src, &small);
    int rc3 = camrtc_convert_to_i420(&src, &big);
    int got[9] = {Y(&same, 63, 47), U(&same, 10, 10), V(&same, 5, 40),
                  Y(&small, 31, 15), U(&small, 0, 0),   V(&small, 30, 14),
                  Y(&big, 127, 95),  U(&big, 64, 50),   V(&big, 0, 95)};
    camrtc_frame_free(&src);
    camrtc_frame_free(&same);
    camrtc_frame_free(&small);
    camrtc_frame_free(&big);
    CHECK_EQ_INT(rc1, 0);
    CHECK_EQ_INT(rc2, 0);
    CHECK_EQ_INT(rc3, 0);
    for (int i = 0; i < 9; i += 3) {
        CHECK_EQ_INT(got[i], 81);
        CHECK_EQ_INT(got[i + 1], 90);
        CHECK_EQ_INT(got[i + 2], 240);
    }
}

TEST(yuyv_scaled_with_reused_scratch)
{
    uint8_t yuyv[64 * 32 * 2];
    for (size_t i = 0; i < sizeof yuyv; i += 4) {
        yuyv[i] = yuyv[i + 2] = 120;
        yuyv[i + 1] = 60;
        yuyv[i + 3] = 180;
    }
    camrtc_frame src = {.fmt = CAMRTC_PIX_YUYV, .width = 64, .height = 32,
                        .plane = {yuyv}, .bytes = sizeof yuyv};
    camrtc_frame dst;
    camrtc_converter *cv = NULL;
    char err[128] = "";
    CHECK_EQ_INT(camrtc_converter_new(&cv, err, sizeof err), 0);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&dst, 32, 16), 0);
    bool fresh = camrtc_converter_scratch(cv)->plane[0] == NULL;
    int rc1 = camrtc_converter_run(cv, &src, &dst);
    const camrtc_frame *scratch = camrtc_converter_scratch(cv);
    uint8_t *first = scratch->plane[0];
    int rc2 = camrtc_converter_run(cv, &src, &dst);
    bool reused = first && scratch->plane[0] == first && scratch->width == 64 && scratch->height == 32;
    int y = Y(&dst, 17, 9), u = U(&dst, 17, 9), v = V(&dst, 17, 9);
    camrtc_converter_free(cv);
    camrtc_frame_free(&dst);
    CHECK(fresh);
    CHECK_EQ_INT(rc1, 0);
    CHECK_EQ_INT(rc2, 0);
    CHECK(reused);
    CHECK_EQ_INT(y, 120);
    CHECK_EQ_INT(u, 60);
    CHECK_EQ_INT(v, 180);
}

TEST(bad_sizes_and_lengths_are_refused)
{
    uint8_t yuyv[16 * 16 * 2] = {0};
    camrtc_frame src = {.fmt = CAMRTC_PIX_YUYV, .width = 16, .height = 16,
                        .plane = {yuyv}, .bytes = sizeof yuyv};
    camrtc_frame dst, odd = {0};
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&dst, 16, 16), 0);
    /* Allocation bounds. */
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&odd, 17, 16), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&odd, 8, 16), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&odd, 16, 8194), CAMRTC_EINVAL);
    CHECK(odd.plane[0] == NULL);
    camrtc_frame_free(&odd); /* a zeroed frame frees fine */

    int rc_ok = camrtc_convert_to_i420(&src, &dst);
    src.bytes = sizeof yuyv - 1;               /* one byte short */
    int rc_short = camrtc_convert_to_i420(&src, &dst);
    src.bytes = sizeof yuyv;
    src.width = 0;
    int rc_zero = camrtc_convert_to_i420(&src, &dst);
    src.width = 100000;
    int rc_huge = camrtc_convert_to_i420(&src, &dst);
    src.width = 16;
    src.fmt = (camrtc_pixfmt)42;
    int rc_fmt = camrtc_convert_to_i420(&src, &dst);
    src.fmt = CAMRTC_PIX_YUYV;
    camrtc_frame bad_dst = dst;
    bad_dst.width = 15;
    int rc_dst_odd = camrtc_convert_to_i420(&src, &bad_dst);
    bad_dst = dst;
    bad_dst.plane[2] = NULL;
    int rc_dst_noplane = camrtc_convert_to_i420(&src, &bad_dst);
    bad_dst = dst;
    bad_dst.fmt = CAMRTC_PIX_NV12;
    int rc_dst_fmt = camrtc_convert_to_i420(&src, &bad_dst);
    camrtc_frame_free(&dst);
    CHECK_EQ_INT(rc_ok, 0);
    CHECK_EQ_INT(rc_short, CAMRTC_EPROTO);
    CHECK_EQ_INT(rc_zero, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc_huge, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc_fmt, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc_dst_odd, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc_dst_noplane, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc_dst_fmt, CAMRTC_EINVAL);
}

/* small.jpg (make_media.py): 64x32, quadrants of 32x16. It was made from limited-range
 * colours (41,240,110) (145,54,34) (82,90,240) (235,128,128); JPEG (JFIF) stores them
 * full range as (29,255,108) (150,44,21) (77,85,255) (255,128,128), libyuv decodes those,
 * and the conversion brings them back to limited range: the originals come out. */
static const int quad[4][3] = {{41, 240, 110}, {145, 54, 34}, {82, 90, 240}, {235, 128, 128}};

static bool near(int got, int want)
{
    return abs(got - want) <= 4;
}

/* Check the quadrant centres of a decoded small.jpg at any size. */
static int quadrant_errors(const camrtc_frame *f)
{
    int bad = 0;
    for (int q = 0; q < 4; q++) {
        int x = (q % 2) * f->width / 2 + f->width / 4, y = (q / 2) * f->height / 2 + f->height / 4;
        if (!near(Y(f, x, y), quad[q][0]) || !near(U(f, x, y), quad[q][1]) ||
            !near(V(f, x, y), quad[q][2])) {
            fprintf(stderr, "quadrant %d: %d %d %d\n", q, Y(f, x, y), U(f, x, y), V(f, x, y));
            bad++;
        }
    }
    return bad;
}

TEST(mjpeg_decodes_and_scales)
{
    size_t len = 0;
    uint8_t *jpg = load_data("small.jpg", &len);
    CHECK(jpg);
    camrtc_frame src = {.fmt = CAMRTC_PIX_MJPEG, .width = 64, .height = 32,
                        .plane = {jpg}, .bytes = len};
    camrtc_frame full, half;
    int a1 = camrtc_frame_alloc_i420(&full, 64, 32), a2 = camrtc_frame_alloc_i420(&half, 32, 16);
    int rc1 = camrtc_convert_to_i420(&src, &full);
    int rc2 = camrtc_convert_to_i420(&src, &half);
    int bad1 = rc1 == 0 ? quadrant_errors(&full) : -1;
    int bad2 = rc2 == 0 ? quadrant_errors(&half) : -1;
    camrtc_frame_free(&full);
    camrtc_frame_free(&half);
    free(jpg);
    CHECK_EQ_INT(a1, 0);
    CHECK_EQ_INT(a2, 0);
    CHECK_EQ_INT(rc1, 0);
    CHECK_EQ_INT(rc2, 0);
    CHECK_EQ_INT(bad1, 0);
    CHECK_EQ_INT(bad2, 0);
}

/* The range mapping itself, on the extremes and the middle: full-range black, white
 * and the chroma limits land on the limited-range ones (H.273 / BT.601 video range). */
TEST(mjpeg_full_range_maps_to_limited_range)
{
    size_t len = 0;
    uint8_t *jpg = load_data("small.jpg", &len);
    CHECK(jpg);
    camrtc_frame src = {.fmt = CAMRTC_PIX_MJPEG, .width = 64, .height = 32,
                        .plane = {jpg}, .bytes = len};
    camrtc_frame f;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&f, 64, 32), 0);
    int rc = camrtc_convert_to_i420(&src, &f);
    /* Every sample is inside the limited range, whatever the JPEG held. */
    int lo_y = 255, hi_y = 0, lo_c = 255, hi_c = 0;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 64; x++) {
            lo_y = Y(&f, x, y) < lo_y ? Y(&f, x, y) : lo_y;
            hi_y = Y(&f, x, y) > hi_y ? Y(&f, x, y) : hi_y;
            int c[2] = {U(&f, x, y), V(&f, x, y)};
            for (int k = 0; k < 2; k++) {
                lo_c = c[k] < lo_c ? c[k] : lo_c;
                hi_c = c[k] > hi_c ? c[k] : hi_c;
            }
        }
    /* The white quadrant (full-range Y 255) is exactly limited white, and the chroma
     * that was at the full-range top (U 255 in quadrant 0) exactly 240. */
    int white = Y(&f, 48, 24), u_top = U(&f, 16, 8);
    camrtc_frame_free(&f);
    free(jpg);
    CHECK_EQ_INT(rc, 0);
    CHECK(lo_y >= 16 && hi_y <= 235);
    CHECK(lo_c >= 16 && hi_c <= 240);
    CHECK(abs(white - 235) <= 1);
    CHECK(abs(u_top - 240) <= 1);
}

TEST(bad_mjpeg_is_eproto)
{
    size_t len = 0;
    uint8_t *jpg = load_data("small.jpg", &len);
    CHECK(jpg);
    uint8_t garbage[256];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 37 + 11);
    camrtc_frame dst;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&dst, 64, 32), 0);
    camrtc_frame src = {.fmt = CAMRTC_PIX_MJPEG, .width = 64, .height = 32,
                        .plane = {garbage}, .bytes = sizeof garbage};
    int rc_garbage = camrtc_convert_to_i420(&src, &dst);
    src.plane[0] = jpg;
    src.bytes = 20; /* the headers cut short */
    int rc_cut = camrtc_convert_to_i420(&src, &dst);
    src.bytes = 0;
    int rc_empty = camrtc_convert_to_i420(&src, &dst);
    camrtc_frame_free(&dst);
    free(jpg);
    CHECK_EQ_INT(rc_garbage, CAMRTC_EPROTO);
    CHECK_EQ_INT(rc_cut, CAMRTC_EPROTO);
    CHECK_EQ_INT(rc_empty, CAMRTC_EPROTO);
}

int main(void)
{
    return RUN_TESTS(yuyv_to_i420_exact, nv12_to_i420_exact, i420_copy_and_scale_keep_flat_colours,
                     yuyv_scaled_with_reused_scratch, bad_sizes_and_lengths_are_refused,
                     mjpeg_decodes_and_scales, mjpeg_full_range_maps_to_limited_range,
                     bad_mjpeg_is_eproto);
}
