/* Any raw frame -> I420 at the encoder's size, with libyuv.
 *
 * When the source size equals the destination size the conversion writes straight into
 * dst. Otherwise the source is first brought to I420 at its own size (in a scratch
 * frame; skipped for I420 sources) and then scaled with I420Scale. Every size and
 * length is checked here, because the source side (a camera driver, a file) is outside
 * our control and libyuv trusts its arguments.
 */
#include <libyuv.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "camrtc/str.h"
#include "dynlib.h"

/* libyuv, opened by each converter (see dynlib.h for why it is not linked); each entry
 * has the type libyuv's headers declare. */
#define YUV_SONAME "libyuv.so.0"
#define YUV_PACKAGE "libyuv0"

struct camrtc_converter {
    void *dl;
    __typeof__(&I420Scale) i420_scale;
    __typeof__(&I420Copy) i420_copy;
    __typeof__(&YUY2ToI420) yuy2_to_i420;
    __typeof__(&NV12ToI420) nv12_to_i420;
    __typeof__(&MJPGSize) mjpg_size;
    __typeof__(&MJPGToI420) mjpg_to_i420;
    camrtc_frame scratch;       /* the intermediate I420 picture when scaling */
};

static bool dim_ok(int w, int h)
{
    return w >= 2 && h >= 2 && w <= CAMRTC_FRAME_MAX_DIM && h <= CAMRTC_FRAME_MAX_DIM;
}

static bool dst_ok(const camrtc_frame *d)
{
    return d->fmt == CAMRTC_PIX_I420 && d->width >= CAMRTC_FRAME_MIN_DIM &&
           d->height >= CAMRTC_FRAME_MIN_DIM && d->width <= CAMRTC_FRAME_MAX_DIM &&
           d->height <= CAMRTC_FRAME_MAX_DIM && !(d->width & 1) && !(d->height & 1) &&
           d->plane[0] && d->plane[1] && d->plane[2] && d->stride[0] >= d->width &&
           d->stride[1] >= d->width / 2 && d->stride[2] >= d->width / 2;
}

/* (Re)allocate scratch as I420 of w x h (any size >= 2, odd allowed: chroma rounds up).
 * Same single-block layout as camrtc_frame_alloc_i420, so camrtc_frame_free frees it. */
static int scratch_ensure(camrtc_frame *s, int w, int h)
{
    if (s->plane[0] && s->width == w && s->height == h)
        return CAMRTC_OK;
    camrtc_frame_free(s);
    int cw = (w + 1) / 2, ch = (h + 1) / 2;
    size_t ysize = (size_t)w * (size_t)h, csize = (size_t)cw * (size_t)ch;
    uint8_t *mem = malloc(ysize + 2 * csize);
    if (!mem)
        return CAMRTC_ENOMEM;
    s->fmt = CAMRTC_PIX_I420;
    s->width = w;
    s->height = h;
    s->plane[0] = mem;
    s->plane[1] = mem + ysize;
    s->plane[2] = mem + ysize + csize;
    s->stride[0] = w;
    s->stride[1] = cw;
    s->stride[2] = cw;
    s->bytes = ysize + 2 * csize;
    return CAMRTC_OK;
}

static int scale_i420(const camrtc_converter *cv, const camrtc_frame *s, camrtc_frame *d)
{
    int rc = cv->i420_scale(s->plane[0], s->stride[0], s->plane[1], s->stride[1], s->plane[2],
                       s->stride[2], s->width, s->height, d->plane[0], d->stride[0], d->plane[1],
                       d->stride[1], d->plane[2], d->stride[2], d->width, d->height,
                       kFilterBilinear);
    return rc == 0 ? CAMRTC_OK : CAMRTC_EINVAL;
}

static int copy_i420(const camrtc_converter *cv, const camrtc_frame *s, camrtc_frame *d)
{
    if (s->stride[0] < s->width || s->stride[1] < (s->width + 1) / 2 ||
        s->stride[2] < (s->width + 1) / 2 || !s->plane[0] || !s->plane[1] || !s->plane[2])
        return CAMRTC_EINVAL;
    if (s->width != d->width || s->height != d->height)
        return scale_i420(cv, s, d);
    cv->i420_copy(s->plane[0], s->stride[0], s->plane[1], s->stride[1], s->plane[2], s->stride[2],
             d->plane[0], d->stride[0], d->plane[1], d->stride[1], d->plane[2], d->stride[2],
             d->width, d->height);
    return CAMRTC_OK;
}

static int from_yuyv(const camrtc_converter *cv, const camrtc_frame *s, camrtc_frame *t)
{
    /* One YUYV macropixel (4 bytes) covers two pixels. */
    size_t row = (size_t)((s->width + 1) / 2) * 4;
    int stride = s->stride[0] ? s->stride[0] : (int)row;
    if (!s->plane[0] || (size_t)stride < row ||
        s->bytes < (size_t)stride * (size_t)(s->height - 1) + row)
        return CAMRTC_EPROTO;
    cv->yuy2_to_i420(s->plane[0], stride, t->plane[0], t->stride[0], t->plane[1], t->stride[1],
               t->plane[2], t->stride[2], s->width, s->height);
    return CAMRTC_OK;
}

static int from_nv12(const camrtc_converter *cv, const camrtc_frame *s, camrtc_frame *t)
{
    if (!s->plane[0] || !s->plane[1] || s->stride[0] < s->width ||
        s->stride[1] < 2 * ((s->width + 1) / 2))
        return CAMRTC_EINVAL;
    cv->nv12_to_i420(s->plane[0], s->stride[0], s->plane[1], s->stride[1], t->plane[0], t->stride[0],
               t->plane[1], t->stride[1], t->plane[2], t->stride[2], s->width, s->height);
    return CAMRTC_OK;
}

/* JPEG (JFIF) samples use the full 0..255 range; camrtc's I420 is limited ("video")
 * range, Y 16..235 and Cb/Cr 16..240 (BT.601), which is what x264 marks in the stream
 * by default and what every decoder assumes when the VUI says nothing. Fed unchanged,
 * full-range samples would show with crushed blacks and clipped whites. We rescale
 * the samples rather than flag full range in the VUI (video_full_range_flag): that
 * keeps one range for every source and does not depend on a browser honouring the
 * flag. Tables built per call: 512 bytes, next to nothing against a JPEG decode. */
static void full_to_limited_plane(uint8_t *p, int stride, int w, int h, const uint8_t lut[256])
{
    for (int y = 0; y < h; y++) {
        uint8_t *row = p + (size_t)y * (size_t)stride;
        for (int x = 0; x < w; x++)
            row[x] = lut[row[x]];
    }
}

static void full_to_limited(camrtc_frame *f)
{
    uint8_t luma[256], chroma[256];
    for (int v = 0; v < 256; v++) {
        luma[v] = (uint8_t)(16 + (v * 219 + 127) / 255);
        int d = (v - 128) * 224;            /* rounded half away from zero */
        chroma[v] = (uint8_t)(128 + (d >= 0 ? (d + 127) / 255 : -((-d + 127) / 255)));
    }
    int cw = (f->width + 1) / 2, ch = (f->height + 1) / 2;
    full_to_limited_plane(f->plane[0], f->stride[0], f->width, f->height, luma);
    full_to_limited_plane(f->plane[1], f->stride[1], cw, ch, chroma);
    full_to_limited_plane(f->plane[2], f->stride[2], cw, ch, chroma);
}

/* JPEG carries its own size; trust that over the frame's (a camera may switch). */
static int from_mjpeg(camrtc_converter *cv, const camrtc_frame *s, camrtc_frame *d)
{
    int jw = 0, jh = 0;
    if (!s->plane[0] || s->bytes < 4 || cv->mjpg_size(s->plane[0], s->bytes, &jw, &jh) != 0 ||
        !dim_ok(jw, jh))
        return CAMRTC_EPROTO;
    camrtc_frame *t = d;
    if (jw != d->width || jh != d->height) {
        int rc = scratch_ensure(&cv->scratch, jw, jh);
        if (rc < 0)
            return rc;
        t = &cv->scratch;
    }
    if (cv->mjpg_to_i420(s->plane[0], s->bytes, t->plane[0], t->stride[0], t->plane[1], t->stride[1],
                   t->plane[2], t->stride[2], jw, jh, jw, jh) != 0)
        return CAMRTC_EPROTO;
    int rc = t == d ? CAMRTC_OK : scale_i420(cv, t, d);
    if (rc == CAMRTC_OK)
        full_to_limited(d);                 /* after scaling: fewer samples when smaller */
    return rc;
}

int camrtc_converter_new(camrtc_converter **out, char *err, size_t errsz)
{
    *out = NULL;
    camrtc_converter *cv = calloc(1, sizeof *cv);
    if (!cv) {
        camrtc_errf(err, errsz, "out of memory");
        return CAMRTC_ENOMEM;
    }
    const camrtc_dynsym syms[] = {
        {"I420Scale", &cv->i420_scale},     {"I420Copy", &cv->i420_copy},
        {"YUY2ToI420", &cv->yuy2_to_i420},  {"NV12ToI420", &cv->nv12_to_i420},
        {"MJPGSize", &cv->mjpg_size},       {"MJPGToI420", &cv->mjpg_to_i420},
    };
    int rc = camrtc_dynlib_open(&cv->dl, YUV_SONAME, YUV_PACKAGE, syms, sizeof syms / sizeof syms[0],
                                err, errsz);
    if (rc < 0) {
        free(cv);
        return rc;
    }
    *out = cv;
    return CAMRTC_OK;
}

void camrtc_converter_free(camrtc_converter *cv)
{
    if (!cv)
        return;
    camrtc_frame_free(&cv->scratch);
    camrtc_dynlib_close(cv->dl);
    free(cv);
}

const camrtc_frame *camrtc_converter_scratch(const camrtc_converter *cv)
{
    return &cv->scratch;
}

int camrtc_converter_run(camrtc_converter *cv, const camrtc_frame *src, camrtc_frame *dst)
{
    if (!cv || !src || !dst || !dst_ok(dst))
        return CAMRTC_EINVAL;
    if (src->fmt == CAMRTC_PIX_MJPEG)
        return from_mjpeg(cv, src, dst);
    if (!dim_ok(src->width, src->height))
        return CAMRTC_EINVAL;
    if (src->fmt == CAMRTC_PIX_I420)
        return copy_i420(cv, src, dst);
    if (src->fmt != CAMRTC_PIX_YUYV && src->fmt != CAMRTC_PIX_NV12)
        return CAMRTC_EINVAL;

    bool same = src->width == dst->width && src->height == dst->height;
    camrtc_frame *t = dst;
    if (!same) {
        int rc = scratch_ensure(&cv->scratch, src->width, src->height);
        if (rc < 0)
            return rc;
        t = &cv->scratch;
    }
    int rc = src->fmt == CAMRTC_PIX_YUYV ? from_yuyv(cv, src, t) : from_nv12(cv, src, t);
    if (rc < 0 || same)
        return rc;
    return scale_i420(cv, t, dst);
}

int camrtc_convert_to_i420(const camrtc_frame *src, camrtc_frame *dst)
{
    camrtc_converter *cv;
    int rc = camrtc_converter_new(&cv, NULL, 0);
    if (rc < 0)
        return rc;
    rc = camrtc_converter_run(cv, src, dst);
    camrtc_converter_free(cv);
    return rc;
}
