/* The test pattern: colour bars, a moving band of fresh texture (so pictures cost bits
 * as a camera's do), a moving box, the frame number and capture time in large 7-segment
 * digits for people, and a block of 64 cells for machines.
 *
 * The block sits in the top-left 128x128 pixels: 8 x 8 cells of 16x16 luma, each black
 * (16) or white (235), chroma neutral. Cells line up with H.264's 16x16 macroblocks, so
 * even at a low bitrate each one decodes to a flat area near its value; the reader
 * averages the 8x8 centre of each cell, which also washes out noise, and sorts the
 * cells into dark and light by comparing them with each other. The 64 bits, cell 0
 * (top-left) first, row by row, most significant bit first:
 *   frame_id mod 2^32 (32) | capture time in ms mod 2^24 (24) | check (8)
 * The check is a CRC-8 (polynomial x^8+x^2+x+1) of the first 7 bytes XOR 0xA5, so an
 * all-black or all-white area never passes (a real block always holds both colours);
 * the reader also wants every cell clearly dark or light before it believes the block.
 */
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/media.h"

#define CELL 16
#define CELLS_PER_ROW 8
#define BLOCK (CELL * CELLS_PER_ROW)
#define Y_BLACK 16
#define Y_WHITE 235
/* The reader compares cells with each other rather than with fixed levels: an encoder
 * starved of bits pulls black and white towards each other (x264 at QP 51 can leave
 * 100 and 156), yet the order stays. It wants the darkest and lightest cell means at
 * least MIN_CONTRAST apart, and every cell in the outer quarters of that range. */
#define MIN_CONTRAST 40

/* ---- pixels ------------------------------------------------------------------------ */

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Fill a rectangle (clipped to the frame) with one YUV colour. */
static void fill_rect(camrtc_frame *f, int x, int y, int w, int h, uint8_t Y, uint8_t U, uint8_t V)
{
    int x0 = clampi(x, 0, f->width), x1 = clampi(x + w, 0, f->width);
    int y0 = clampi(y, 0, f->height), y1 = clampi(y + h, 0, f->height);
    if (x0 >= x1 || y0 >= y1)
        return;
    for (int r = y0; r < y1; r++)
        memset(f->plane[0] + (size_t)r * f->stride[0] + x0, Y, (size_t)(x1 - x0));
    int cw = (f->width + 1) / 2, chh = (f->height + 1) / 2;
    int cx0 = x0 / 2, cx1 = clampi((x1 + 1) / 2, 0, cw);
    int cy0 = y0 / 2, cy1 = clampi((y1 + 1) / 2, 0, chh);
    for (int r = cy0; r < cy1; r++) {
        memset(f->plane[1] + (size_t)r * f->stride[1] + cx0, U, (size_t)(cx1 - cx0));
        memset(f->plane[2] + (size_t)r * f->stride[2] + cx0, V, (size_t)(cx1 - cx0));
    }
}

/* ---- bars and the moving box ---------------------------------------------------------- */

/* 75% colour bars in BT.601 limited-range YCbCr: white, yellow, cyan, green, magenta,
 * red, blue. */
static const uint8_t bars[7][3] = {
    {180, 128, 128}, {162, 44, 142}, {131, 156, 44}, {112, 72, 58},
    {84, 184, 198},  {65, 100, 212}, {35, 212, 114},
};

static void draw_background(camrtc_frame *f)
{
    for (int i = 0; i < 7; i++) {
        int x0 = f->width * i / 7, x1 = f->width * (i + 1) / 7;
        fill_rect(f, x0, 0, x1 - x0, f->height, bars[i][0], bars[i][1], bars[i][2]);
    }
}

/* A box that crosses the frame left to right, one box width every 30 frames, so motion
 * and its smoothness are easy to see. */
static void draw_box(camrtc_frame *f, uint64_t frame_id)
{
    int side = f->height / 6 > 4 ? f->height / 6 : 4;
    int travel = f->width > side ? f->width - side : 1;
    int step = side / 30 > 2 ? side / 30 : 2;
    int x = (int)((frame_id * (uint64_t)step) % (uint64_t)travel);
    fill_rect(f, x, f->height / 2 - side / 2, side, side, 235, 90, 240);
}

/* ---- moving detail ------------------------------------------------------------------ */

/* splitmix64's finaliser: a good 64-bit mix, so that consecutive seeds look unrelated. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* A full-height band of pseudo-random texture, new in every frame and moving across
 * the picture: the detail a camera image has and the bars do not. It costs an encoder
 * real bits in every picture (720p at 2.5 Mbit/s fills about 9 slices of 1100 bytes,
 * where the bars alone need one), spread over every row, so slices end all through the
 * picture's encoding and the first can leave early (the slice gain is measurable).
 * Luma only, 128 +- TEXTURE_AMP / 2; the band is an eighth of the width, a multiple of
 * 16, and moves TEXTURE_STEP pixels a frame. Deterministic: row y of frame n comes
 * from xorshift64 seeded with mix64(n, y), 8 samples per step. About 0.1 ms at 720p.
 * Drawn before the box, the digits and the block, which stay clean. */
#define TEXTURE_AMP 96
#define TEXTURE_STEP 8

static void draw_texture(camrtc_frame *f, uint64_t frame_id)
{
    int bw = (f->width / 8) & ~15;
    if (bw < 16)
        return;
    int travel = f->width - bw;
    int x0 = travel > 0 ? (int)((frame_id * TEXTURE_STEP) % (uint64_t)travel) & ~1 : 0;
    for (int y = 0; y < f->height; y++) {
        uint8_t *row = f->plane[0] + (size_t)y * f->stride[0] + x0;
        uint64_t st = mix64((frame_id << 16) ^ (uint64_t)y) | 1;   /* xorshift needs != 0 */
        for (int x = 0; x < bw; x += 8) {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            for (int k = 0; k < 8; k++) {      /* bw is a multiple of 16 */
                int r = (int)((st >> (8 * k)) & 0xff);
                row[x + k] = (uint8_t)(128 - TEXTURE_AMP / 2 + ((r * TEXTURE_AMP) >> 8));
            }
        }
    }
}

/* ---- 7-segment digits -------------------------------------------------------------- */

/* Segments a..g in bits 0..6 for the digits 0..9. */
static const uint8_t seg_digits[10] = {0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F};

static void draw_digit(camrtc_frame *f, int x, int y, int dw, int dh, int digit)
{
    int t = dh / 10 > 1 ? dh / 10 : 1;
    int half = dh / 2;
    uint8_t s = seg_digits[digit];
    /* {x, y, w, h} of a..g relative to the digit's corner. */
    const int seg[7][4] = {
        {0, 0, dw, t},               /* a */
        {dw - t, 0, t, half},        /* b */
        {dw - t, half, t, dh - half},/* c */
        {0, dh - t, dw, t},          /* d */
        {0, half, t, dh - half},     /* e */
        {0, 0, t, half},             /* f */
        {0, half - t / 2, dw, t},    /* g */
    };
    for (int i = 0; i < 7; i++)
        if (s & (1u << i))
            fill_rect(f, x + seg[i][0], y + seg[i][1], seg[i][2], seg[i][3], Y_WHITE, 128, 128);
}

/* value in decimal, at least min_digits wide, white on a black plate. */
static void draw_number(camrtc_frame *f, int x, int y, int dh, uint64_t value, int min_digits)
{
    char txt[24];
    int n = 0;
    do {
        txt[n++] = (char)(value % 10);
        value /= 10;
    } while (value && n < (int)sizeof txt);
    while (n < min_digits && n < (int)sizeof txt)
        txt[n++] = 0;
    int dw = dh / 2, gap = dw / 3 > 1 ? dw / 3 : 1;
    fill_rect(f, x - gap, y - gap, n * (dw + gap) + gap, dh + 2 * gap, Y_BLACK, 128, 128);
    for (int i = 0; i < n; i++)
        draw_digit(f, x + i * (dw + gap), y, dw, dh, txt[n - 1 - i]);
}

/* ---- the machine-readable block -------------------------------------------------------- */

static uint8_t crc8(const uint8_t *p, size_t n)
{
    uint8_t c = 0;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (uint8_t)(c & 0x80 ? (c << 1) ^ 0x07 : c << 1);
    }
    return c ^ 0xA5;
}

static uint8_t block_check(uint64_t word)
{
    uint8_t b[7];
    for (int i = 0; i < 7; i++)
        b[i] = (uint8_t)(word >> (56 - 8 * i));
    return crc8(b, sizeof b);
}

static void draw_block(camrtc_frame *f, uint64_t frame_id, camrtc_time_us capture_us)
{
    uint64_t ms = (capture_us / 1000) & 0xFFFFFF;
    uint64_t word = ((frame_id & 0xFFFFFFFFu) << 32) | (ms << 8);
    word |= block_check(word);
    for (int i = 0; i < 64; i++) {
        bool one = (word >> (63 - i)) & 1;
        fill_rect(f, (i % CELLS_PER_ROW) * CELL, (i / CELLS_PER_ROW) * CELL, CELL, CELL,
                  one ? Y_WHITE : Y_BLACK, 128, 128);
    }
}

void camrtc_testsrc_draw(camrtc_frame *f, uint64_t frame_id, camrtc_time_us capture_us)
{
    if (!f || f->fmt != CAMRTC_PIX_I420 || !f->plane[0] || !f->plane[1] || !f->plane[2] ||
        f->width < 2 || f->height < 2)
        return;
    draw_background(f);
    draw_texture(f, frame_id);
    draw_box(f, frame_id);
    /* Two lines of digits at the bottom left: frame number, then time in ms. */
    int dh = f->height / 10 > 6 ? f->height / 10 : 6;
    int line = dh + dh / 3;
    int x = dh / 4 + 2;
    draw_number(f, x, f->height - 2 * line, dh, frame_id, 6);
    draw_number(f, x, f->height - line, dh, (capture_us / 1000) % 100000000u, 8);
    /* Only frames that hold the whole block get one. */
    if (f->width >= BLOCK && f->height >= BLOCK)
        draw_block(f, frame_id, capture_us);
}

/* Average luma of the 8x8 centre of cell i. */
static int cell_mean(const camrtc_frame *f, int i)
{
    int x0 = (i % CELLS_PER_ROW) * CELL + CELL / 4, y0 = (i / CELLS_PER_ROW) * CELL + CELL / 4;
    int sum = 0;
    for (int r = 0; r < CELL / 2; r++) {
        const uint8_t *row = f->plane[0] + (size_t)(y0 + r) * f->stride[0] + x0;
        for (int c = 0; c < CELL / 2; c++)
            sum += row[c];
    }
    return sum / (CELL / 2 * CELL / 2);
}

int camrtc_testsrc_read(const camrtc_frame *f, uint64_t *frame_id, camrtc_time_us *capture_us)
{
    if (!f || f->fmt != CAMRTC_PIX_I420 || !f->plane[0] || f->width < BLOCK ||
        f->height < BLOCK || f->stride[0] < f->width)
        return CAMRTC_ENOTFOUND;
    int mean[64], lo = 255, hi = 0;
    for (int i = 0; i < 64; i++) {
        mean[i] = cell_mean(f, i);
        lo = mean[i] < lo ? mean[i] : lo;
        hi = mean[i] > hi ? mean[i] : hi;
    }
    if (hi - lo < MIN_CONTRAST)
        return CAMRTC_ENOTFOUND;
    /* Twice the values, so the middle and the quarter bands stay in integers. */
    int mid2 = lo + hi, band2 = (hi - lo) / 2;
    uint64_t word = 0;
    for (int i = 0; i < 64; i++) {
        int d2 = 2 * mean[i] - mid2;
        if (d2 > -band2 && d2 < band2)
            return CAMRTC_ENOTFOUND; /* neither clearly dark nor clearly light */
        word = (word << 1) | (d2 > 0);
    }
    if ((uint8_t)word != block_check(word & ~(uint64_t)0xFF))
        return CAMRTC_ENOTFOUND;
    if (frame_id)
        *frame_id = word >> 32;
    if (capture_us)
        *capture_us = ((word >> 8) & 0xFFFFFF) * 1000;
    return CAMRTC_OK;
}

int64_t camrtc_testsrc_ms_since(camrtc_time_us read_capture_us, camrtc_time_us now)
{
    uint64_t then_ms = (read_capture_us / 1000) & 0xFFFFFF;
    uint64_t now_ms = (now / 1000) & 0xFFFFFF;
    /* Modular difference, taken as signed so a slightly "future" stamp is small negative. */
    int64_t d = (int64_t)((now_ms - then_ms) & 0xFFFFFF);
    return d >= 0x800000 ? d - 0x1000000 : d;
}
