/* The test pattern's machine-readable block: what is drawn reads back exactly, survives
 * noise, and a frame without a block (or with a damaged one) is ENOTFOUND. */
#include "camrtc/error.h"
#include "camrtc/media.h"
#include "check.h"

static int draw_and_read(int w, int h, uint64_t id, camrtc_time_us t, uint64_t *rid,
                         camrtc_time_us *rt)
{
    camrtc_frame f;
    if (camrtc_frame_alloc_i420(&f, w, h) < 0)
        return -100;
    camrtc_testsrc_draw(&f, id, t);
    int rc = camrtc_testsrc_read(&f, rid, rt);
    camrtc_frame_free(&f);
    return rc;
}

TEST(block_reads_back_exactly)
{
    static const struct {
        int w, h;
        uint64_t id;
        camrtc_time_us t;
    } cases[] = {
        {1280, 720, 0, 0},
        {1280, 720, 1, 33333},
        {640, 480, 123456, 98765432100ull},
        {320, 240, 0xFFFFFFFFu, 16777215999ull},   /* largest values the block holds */
        {128, 128, 77, 5000},                      /* the smallest frame with a block */
        {1920, 1080, 0x123456789ull, 0x7FFFFFFFFFull},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t id = 0;
        camrtc_time_us t = 0;
        CHECK_EQ_INT(draw_and_read(cases[i].w, cases[i].h, cases[i].id, cases[i].t, &id, &t), 0);
        CHECK_EQ_INT(id, cases[i].id & 0xFFFFFFFFu);
        CHECK_EQ_INT(t, ((cases[i].t / 1000) % (1u << 24)) * 1000);
    }
}

/* Deterministic noise in [-amp, amp] on every luma pixel. */
static void add_noise(camrtc_frame *f, int amp, uint32_t seed)
{
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++) {
            seed = seed * 1664525u + 1013904223u;
            int n = (int)((seed >> 16) % (uint32_t)(2 * amp + 1)) - amp;
            uint8_t *p = &f->plane[0][y * f->stride[0] + x];
            int v = *p + n;
            *p = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
}

TEST(block_survives_noise)
{
    camrtc_frame f;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&f, 320, 240), 0);
    int fails = 0;
    for (uint32_t k = 0; k < 20; k++) {
        camrtc_testsrc_draw(&f, 1000 + k, CAMRTC_MS(4242 + k * 33));
        add_noise(&f, 20, k + 1);
        uint64_t id = 0;
        camrtc_time_us t = 0;
        if (camrtc_testsrc_read(&f, &id, &t) != 0 || id != 1000 + k || t != CAMRTC_MS(4242 + k * 33))
            fails++;
    }
    camrtc_frame_free(&f);
    CHECK_EQ_INT(fails, 0);
}

TEST(block_survives_lost_contrast)
{
    /* A starved encoder pulls black and white together (x264 at QP 51 gave 100 and 156
     * while keeping every cell's side): the reader compares cells with each other. */
    camrtc_frame f;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&f, 256, 256), 0);
    camrtc_testsrc_draw(&f, 4242, 777000);
    for (int y = 0; y < 128; y++)
        for (int x = 0; x < 128; x++) {
            uint8_t *p = &f.plane[0][y * f.stride[0] + x];
            *p = *p > 128 ? 156 : 100;
        }
    add_noise(&f, 10, 3);
    uint64_t id = 0;
    camrtc_time_us t = 0;
    int rc = camrtc_testsrc_read(&f, &id, &t);
    /* Too little contrast left (20 levels): not a block any more. */
    for (int y = 0; y < 128; y++)
        for (int x = 0; x < 128; x++) {
            uint8_t *p = &f.plane[0][y * f.stride[0] + x];
            *p = *p > 128 ? 138 : 118;
        }
    int rc_flat = camrtc_testsrc_read(&f, NULL, NULL);
    camrtc_frame_free(&f);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(id, 4242);
    CHECK_EQ_INT(t, 777000);
    CHECK_EQ_INT(rc_flat, CAMRTC_ENOTFOUND);
}

static void fill_luma(camrtc_frame *f, uint8_t v)
{
    for (int y = 0; y < f->height; y++)
        memset(f->plane[0] + y * f->stride[0], v, (size_t)f->width);
}

TEST(no_block_is_notfound)
{
    camrtc_frame f;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&f, 320, 240), 0);
    uint64_t id = 99;
    int rc[6];
    fill_luma(&f, 16);                 /* all black: all-zero bits must fail the check */
    rc[0] = camrtc_testsrc_read(&f, &id, NULL);
    fill_luma(&f, 235);                /* all white */
    rc[1] = camrtc_testsrc_read(&f, &id, NULL);
    fill_luma(&f, 128);                /* grey: no cell is decisive */
    rc[2] = camrtc_testsrc_read(&f, &id, NULL);
    fill_luma(&f, 128);
    add_noise(&f, 127, 7);             /* noise */
    rc[3] = camrtc_testsrc_read(&f, &id, NULL);
    /* The pattern with its block area painted over. */
    camrtc_testsrc_draw(&f, 5, 5000);
    for (int y = 0; y < CAMRTC_TESTSRC_BLOCK; y++)
        memset(f.plane[0] + y * f.stride[0], 180, CAMRTC_TESTSRC_BLOCK);
    rc[4] = camrtc_testsrc_read(&f, &id, NULL);
    camrtc_frame_free(&f);
    /* Too small to hold a block. */
    rc[5] = draw_and_read(64, 64, 1, 1000, &id, NULL);
    for (int i = 0; i < 6; i++)
        CHECK_EQ_INT(rc[i], CAMRTC_ENOTFOUND);
    CHECK_EQ_INT(id, 99); /* untouched on failure */
}

TEST(one_flipped_cell_fails_the_check)
{
    camrtc_frame f;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&f, 256, 256), 0);
    int passed = 0;
    /* Flip each of the 64 cells in turn: the CRC-8 catches every single-bit error. */
    for (int cell = 0; cell < 64; cell++) {
        camrtc_testsrc_draw(&f, 31337, 123456789);
        int cx = (cell % 8) * 16, cy = (cell / 8) * 16;
        for (int y = cy; y < cy + 16; y++)
            for (int x = cx; x < cx + 16; x++)
                f.plane[0][y * f.stride[0] + x] = (uint8_t)(251 - f.plane[0][y * f.stride[0] + x]);
        passed += camrtc_testsrc_read(&f, NULL, NULL) == 0;
    }
    camrtc_frame_free(&f);
    CHECK_EQ_INT(passed, 0);
}

TEST(pattern_moves_and_small_frames_draw_safely)
{
    camrtc_frame a, b;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&a, 320, 240), 0);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&b, 320, 240), 0);
    camrtc_testsrc_draw(&a, 10, 1000);
    camrtc_testsrc_draw(&b, 40, 1000);
    /* Rows through the moving box (centred at mid-height), below the block: the box has
     * moved between frame 10 and frame 40, so they differ. */
    int diff = 0;
    for (int y = 128; y < 140; y++)
        diff += memcmp(a.plane[0] + y * a.stride[0], b.plane[0] + y * b.stride[0], 320) != 0;
    camrtc_frame_free(&a);
    camrtc_frame_free(&b);
    CHECK(diff > 0);
    /* The smallest sizes (ASan checks the writes stay inside). */
    static const int sizes[][2] = {{16, 16}, {18, 16}, {16, 130}, {130, 16}, {4096, 16}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        camrtc_frame f;
        CHECK_EQ_INT(camrtc_frame_alloc_i420(&f, sizes[i][0], sizes[i][1]), 0);
        camrtc_testsrc_draw(&f, 123456789012ull, 99999999999ull);
        camrtc_frame_free(&f);
    }
}

/* Sum of |horizontal luma steps| along row y: near 0 on the flat bars, large on texture. */
static long row_detail(const camrtc_frame *f, int y)
{
    const uint8_t *r = f->plane[0] + (size_t)y * f->stride[0];
    long d = 0;
    for (int x = 1; x < f->width; x++)
        d += abs(r[x] - r[x - 1]);
    return d;
}

TEST(texture_is_new_every_frame_and_deterministic)
{
    camrtc_frame a, b, c;
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&a, 1280, 720), 0);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&b, 1280, 720), 0);
    CHECK_EQ_INT(camrtc_frame_alloc_i420(&c, 1280, 720), 0);
    camrtc_testsrc_draw(&a, 500, 777000);
    camrtc_testsrc_draw(&b, 501, 777000);
    camrtc_testsrc_draw(&c, 500, 777000);
    /* Rows 200..299: below the block, above the box, clear of the digits. */
    long detail = 0, changed = 0;
    for (int y = 200; y < 300; y++) {
        detail += row_detail(&a, y);
        for (int x = 0; x < 1280; x++)
            changed += a.plane[0][y * a.stride[0] + x] != b.plane[0][y * b.stride[0] + x];
    }
    bool same = memcmp(a.plane[0], c.plane[0], a.bytes) == 0;
    uint64_t id = 0;
    int rc = camrtc_testsrc_read(&b, &id, NULL);
    camrtc_frame_free(&a);
    camrtc_frame_free(&b);
    camrtc_frame_free(&c);
    printf("  rows 200..299: detail %ld, %ld samples changed from frame 500 to 501\n", detail,
           changed);
    /* The bars alone give 6 edges a row (under 100 x 6 x 255); the band (160 samples of
     * 128 +- 48) gives about 160 x 32 a row. Most of the band changes between frames. */
    CHECK(detail > 100 * 2000);
    CHECK(changed > 100 * 100);
    CHECK(same);                                /* a function of frame_id only */
    CHECK_EQ_INT(rc, 0);                        /* the block is untouched */
    CHECK_EQ_INT(id, 501);
}

TEST(ms_since_handles_the_wrap)
{
    camrtc_time_us period = CAMRTC_MS(1u << 24);
    CHECK_EQ_INT(camrtc_testsrc_ms_since(CAMRTC_MS(1000), CAMRTC_MS(1150)), 150);
    /* Read back after the 2^24 ms wrap: the capture was 100 ms before the wrap. */
    CHECK_EQ_INT(camrtc_testsrc_ms_since(CAMRTC_MS((1u << 24) - 100), 5 * period + CAMRTC_MS(20)),
                 120);
    /* A stamp slightly ahead of now (clock skew between threads) is small negative. */
    CHECK_EQ_INT(camrtc_testsrc_ms_since(CAMRTC_MS(500), 3 * period + CAMRTC_MS(498)), -2);
}

int main(void)
{
    return RUN_TESTS(block_reads_back_exactly, block_survives_noise, block_survives_lost_contrast,
                     no_block_is_notfound,
                     one_flipped_cell_fails_the_check, pattern_moves_and_small_frames_draw_safely,
                     texture_is_new_every_frame_and_deterministic, ms_since_handles_the_wrap);
}
