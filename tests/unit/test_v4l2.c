/* The V4L2 capture source against a fake device (there is no camera on the build
 * machine). The fake answers the ioctls the way a UVC driver does: it lists formats,
 * their sizes (discrete, or one stepwise range like a CSI camera) and the frame
 * intervals of each size, snaps a requested size to the nearest it has for that format,
 * caps the rate at what the size allows, grants buffers, and fills each dequeued buffer
 * with a known pattern (YUYV, NV12, YU12) or a real JPEG (MJPEG).
 * It can also refuse: ENOENT, EBUSY, EACCES, not a capture device, no streaming, no
 * usable format, too few buffers, broken frames, a stalled stream. */
#include <errno.h>
#include <linux/videodev2.h>
#include <stdlib.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "check.h"
#include "media/v4l2_int.h"

#define FAKE_FD 42
#define FAKE_MAX_BUF 8

/* A size the fake offers for a format, and the fastest rate at that size (it also
 * lists 5 fps, as UVC cameras list a few slower rates). */
typedef struct fake_mode {
    int w, h, fps;
} fake_mode;

#define FAKE_MAX_MODES 3
typedef struct fake_fmt {
    uint32_t fourcc;
    fake_mode mode[FAKE_MAX_MODES];   /* w == 0 ends the list */
} fake_fmt;

/* The stepwise range (stepwise devices): sizes from 32x32 to mode[0] in steps of 8. */
#define FAKE_STEP_MIN 32
#define FAKE_STEP 8

typedef struct fake_dev {
    /* What the device is like. */
    int open_err;                 /* negative errno from open, or 0 */
    int sfmt_err, streamon_err;   /* negative errno from S_FMT / STREAMON, or 0 */
    bool querycap_fails;
    uint32_t caps;
    fake_fmt fmts[6];
    int nfmts;
    unsigned grant;               /* buffers REQBUFS gives */
    bool no_enum;                 /* no ENUM_FRAMESIZES / ENUM_FRAMEINTERVALS (old drivers) */
    bool stepwise;                /* sizes as one stepwise range, intervals continuous */
    bool ntsc;                    /* rates are fps * 1000/1001 (29.97 for 30) */
    bool stalled;                 /* poll never says ready */
    int broken_every;             /* every Nth frame is flagged V4L2_BUF_FLAG_ERROR */
    int short_every;              /* every Nth frame has too few bytes */
    uint8_t jpeg[4096];           /* small.jpg, what an MJPEG buffer holds */
    size_t jpeg_len;
    /* State. */
    bool open, streaming;
    uint32_t fourcc;
    int w, h, bpl;
    size_t sizeimage;
    int fps, mode_fps;            /* the rate set, the most the current size allows */
    uint8_t *mem[FAKE_MAX_BUF];
    size_t len[FAKE_MAX_BUF];
    unsigned nbuf;
    unsigned queue[64];           /* FIFO of queued buffer indexes */
    unsigned qhead, qtail;
    unsigned mapped;
    uint32_t frames;              /* frames made so far */
    int streamoffs, released;
    v4l2_dev_ops ops;
} fake_dev;

static const fake_fmt *fake_find(const fake_dev *d, uint32_t fourcc)
{
    for (int i = 0; i < d->nfmts; i++)
        if (d->fmts[i].fourcc == fourcc)
            return &d->fmts[i];
    return NULL;
}

static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The mode of f nearest to w x h (stepwise: w x h itself, snapped to the grid). */
static fake_mode fake_nearest(const fake_dev *d, const fake_fmt *f, int w, int h)
{
    if (d->stepwise) {
        fake_mode m = f->mode[0];
        m.w = FAKE_STEP_MIN + (clampi(w, FAKE_STEP_MIN, m.w) - FAKE_STEP_MIN) / FAKE_STEP * FAKE_STEP;
        m.h = FAKE_STEP_MIN + (clampi(h, FAKE_STEP_MIN, m.h) - FAKE_STEP_MIN) / FAKE_STEP * FAKE_STEP;
        return m;
    }
    fake_mode best = f->mode[0];
    for (int i = 1; i < FAKE_MAX_MODES && f->mode[i].w; i++)
        if (abs(f->mode[i].w - w) + abs(f->mode[i].h - h) < abs(best.w - w) + abs(best.h - h))
            best = f->mode[i];
    return best;
}

/* TRY_FMT/S_FMT: an unknown format becomes the first; the size snaps to the nearest. */
static fake_mode fake_fix_fmt(const fake_dev *d, struct v4l2_pix_format *p)
{
    const fake_fmt *f = fake_find(d, p->pixelformat);
    if (!f)
        f = &d->fmts[0];
    fake_mode m = fake_nearest(d, f, (int)p->width, (int)p->height);
    p->pixelformat = f->fourcc;
    p->width = (uint32_t)m.w;
    p->height = (uint32_t)m.h;
    p->field = V4L2_FIELD_NONE;
    switch (f->fourcc) {
    case V4L2_PIX_FMT_YUYV:
        p->bytesperline = (uint32_t)m.w * 2;
        p->sizeimage = p->bytesperline * (uint32_t)m.h;
        break;
    case V4L2_PIX_FMT_MJPEG:
        p->bytesperline = 0;
        p->sizeimage = (uint32_t)(m.w * m.h * 2);
        break;
    default: /* NV12, YU12 */
        p->bytesperline = (uint32_t)m.w;
        p->sizeimage = (uint32_t)(m.w * m.h * 3 / 2);
    }
    return m;
}

static int fake_enum_sizes(const fake_dev *d, struct v4l2_frmsizeenum *fs)
{
    const fake_fmt *f = fake_find(d, fs->pixel_format);
    if (d->no_enum)
        return -ENOTTY;
    if (!f || fs->index >= FAKE_MAX_MODES || !f->mode[fs->index].w ||
        (d->stepwise && fs->index > 0))
        return -EINVAL;
    if (d->stepwise) {
        fs->type = V4L2_FRMSIZE_TYPE_STEPWISE;
        fs->stepwise = (struct v4l2_frmsize_stepwise){
            FAKE_STEP_MIN, (uint32_t)f->mode[0].w, FAKE_STEP,
            FAKE_STEP_MIN, (uint32_t)f->mode[0].h, FAKE_STEP};
        return 0;
    }
    fs->type = V4L2_FRMSIZE_TYPE_DISCRETE;
    fs->discrete.width = (uint32_t)f->mode[fs->index].w;
    fs->discrete.height = (uint32_t)f->mode[fs->index].h;
    return 0;
}

/* Intervals of a size: 1/fps and 1/5 (discrete), or 1/fps .. 1/1 (continuous). */
static int fake_enum_intervals(const fake_dev *d, struct v4l2_frmivalenum *fi)
{
    const fake_fmt *f = fake_find(d, fi->pixel_format);
    if (d->no_enum)
        return -ENOTTY;
    if (!f)
        return -EINVAL;
    fake_mode m = fake_nearest(d, f, (int)fi->width, (int)fi->height);
    if (m.w != (int)fi->width || m.h != (int)fi->height)
        return -EINVAL;             /* not a size of this format */
    if (d->stepwise) {
        if (fi->index > 0)
            return -EINVAL;
        fi->type = V4L2_FRMIVAL_TYPE_CONTINUOUS;
        fi->stepwise.min = (struct v4l2_fract){1, (uint32_t)m.fps};
        fi->stepwise.max = (struct v4l2_fract){1, 1};
        fi->stepwise.step = (struct v4l2_fract){1, 1};
        return 0;
    }
    if (fi->index > 1 || (fi->index == 1 && m.fps <= 5))
        return -EINVAL;
    fi->type = V4L2_FRMIVAL_TYPE_DISCRETE;
    fi->discrete = (struct v4l2_fract){1, fi->index == 0 ? (uint32_t)m.fps : 5};
    if (d->ntsc)
        fi->discrete = (struct v4l2_fract){1001, fi->discrete.denominator * 1000};
    return 0;
}

/* Y of pixel (x, y) in frame n, the same for every format. */
static uint8_t pattern_y(uint32_t n, int x, int y)
{
    return (uint8_t)(16 + (n * 7 + (uint32_t)x + 2 * (uint32_t)y) % 200);
}

static void fake_fill(fake_dev *d, unsigned i, struct v4l2_buffer *b)
{
    uint8_t *m = d->mem[i];
    uint32_t n = d->frames++;
    size_t used = d->sizeimage;
    if (d->fourcc == V4L2_PIX_FMT_MJPEG) {
        memcpy(m, d->jpeg, d->jpeg_len);
        used = d->jpeg_len;
    } else if (d->fourcc == V4L2_PIX_FMT_YUYV) {
        for (int y = 0; y < d->h; y++)
            for (int x = 0; x < d->w; x++) {
                m[y * d->bpl + 2 * x] = pattern_y(n, x, y);
                m[y * d->bpl + 2 * x + 1] = (x & 1) ? 200 : 60; /* V : U */
            }
    } else {
        for (int y = 0; y < d->h; y++)
            for (int x = 0; x < d->w; x++)
                m[y * d->bpl + x] = pattern_y(n, x, y);
        uint8_t *c = m + d->bpl * d->h;
        size_t cs = (size_t)(d->w / 2) * (size_t)(d->h / 2);
        if (d->fourcc == V4L2_PIX_FMT_NV12)
            for (size_t k = 0; k < cs; k++) {
                c[2 * k] = 60;
                c[2 * k + 1] = 200;
            }
        else {
            memset(c, 60, cs);
            memset(c + cs, 200, cs);
        }
    }
    b->index = i;
    b->bytesused = (uint32_t)used;
    b->sequence = n;
    b->flags = V4L2_BUF_FLAG_MAPPED | V4L2_BUF_FLAG_DONE;
    if (d->broken_every && (n + 1) % (uint32_t)d->broken_every == 0)
        b->flags |= V4L2_BUF_FLAG_ERROR;
    if (d->short_every && (n + 1) % (uint32_t)d->short_every == 0)
        b->bytesused = 100;
}

static int fake_open(void *ctx, const char *path)
{
    fake_dev *d = ctx;
    if (d->open_err)
        return d->open_err;
    d->open = true;
    return FAKE_FD;
}

static void fake_close(void *ctx, int fd)
{
    fake_dev *d = ctx;
    d->open = false;
}

static int fake_reqbufs(fake_dev *d, struct v4l2_requestbuffers *rb)
{
    if (rb->memory != V4L2_MEMORY_MMAP)
        return -EINVAL;
    for (unsigned i = 0; i < d->nbuf; i++)
        free(d->mem[i]);
    d->nbuf = 0;
    d->qhead = d->qtail = 0;
    if (rb->count == 0) {
        d->released++;
        return 0;
    }
    rb->count = rb->count < d->grant ? rb->count : d->grant;
    for (unsigned i = 0; i < rb->count; i++) {
        d->len[i] = d->sizeimage;
        d->mem[i] = calloc(1, d->sizeimage);
    }
    d->nbuf = rb->count;
    return 0;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
    fake_dev *d = ctx;
    if (!d->open || fd != FAKE_FD)
        return -EBADF;
    switch (req) {
    case VIDIOC_QUERYCAP: {
        if (d->querycap_fails)
            return -ENOTTY;
        struct v4l2_capability *c = arg;
        snprintf((char *)c->card, sizeof c->card, "Fake Camera");
        c->capabilities = d->caps | V4L2_CAP_DEVICE_CAPS;
        c->device_caps = d->caps;
        return 0;
    }
    case VIDIOC_ENUM_FMT: {
        struct v4l2_fmtdesc *f = arg;
        if (f->type != V4L2_BUF_TYPE_VIDEO_CAPTURE || f->index >= (uint32_t)d->nfmts)
            return -EINVAL;
        f->pixelformat = d->fmts[f->index].fourcc;
        return 0;
    }
    case VIDIOC_TRY_FMT:
        fake_fix_fmt(d, &((struct v4l2_format *)arg)->fmt.pix);
        return 0;
    case VIDIOC_ENUM_FRAMESIZES:
        return fake_enum_sizes(d, arg);
    case VIDIOC_ENUM_FRAMEINTERVALS:
        return fake_enum_intervals(d, arg);
    case VIDIOC_S_FMT: {
        if (d->sfmt_err)
            return d->sfmt_err;
        struct v4l2_pix_format *p = &((struct v4l2_format *)arg)->fmt.pix;
        d->mode_fps = fake_fix_fmt(d, p).fps;
        if (d->fps > d->mode_fps)
            d->fps = d->mode_fps;
        d->fourcc = p->pixelformat;
        d->w = (int)p->width;
        d->h = (int)p->height;
        d->bpl = (int)p->bytesperline;
        d->sizeimage = p->sizeimage;
        return 0;
    }
    case VIDIOC_G_PARM:
    case VIDIOC_S_PARM: {
        struct v4l2_captureparm *c = &((struct v4l2_streamparm *)arg)->parm.capture;
        if (req == VIDIOC_S_PARM && c->timeperframe.numerator)
            d->fps = (int)(c->timeperframe.denominator / c->timeperframe.numerator);
        if (d->fps > d->mode_fps)
            d->fps = d->mode_fps;
        c->capability = V4L2_CAP_TIMEPERFRAME;
        c->timeperframe.numerator = 1;
        c->timeperframe.denominator = (uint32_t)d->fps;
        return 0;
    }
    case VIDIOC_REQBUFS:
        return fake_reqbufs(d, arg);
    case VIDIOC_QUERYBUF: {
        struct v4l2_buffer *b = arg;
        if (b->index >= d->nbuf)
            return -EINVAL;
        b->length = (uint32_t)d->len[b->index];
        b->m.offset = b->index * 0x100000u;
        return 0;
    }
    case VIDIOC_QBUF: {
        struct v4l2_buffer *b = arg;
        if (b->index >= d->nbuf || d->qtail - d->qhead >= 64)
            return -EINVAL;
        for (unsigned k = d->qhead; k < d->qtail; k++)
            if (d->queue[k % 64] == b->index)
                return -EINVAL; /* queued twice: a bug in the source */
        d->queue[d->qtail++ % 64] = b->index;
        return 0;
    }
    case VIDIOC_DQBUF: {
        if (!d->streaming || d->qhead == d->qtail)
            return -EAGAIN;
        struct v4l2_buffer *b = arg;
        fake_fill(d, d->queue[d->qhead++ % 64], b);
        return 0;
    }
    case VIDIOC_STREAMON:
        if (d->streamon_err)
            return d->streamon_err;
        d->streaming = true;
        return 0;
    case VIDIOC_STREAMOFF:
        d->streaming = false;
        d->streamoffs++;
        return 0;
    default:
        return -ENOTTY;
    }
}

static int fake_mmap(void *ctx, int fd, size_t len, uint32_t offset, void **out)
{
    fake_dev *d = ctx;
    unsigned i = offset / 0x100000u;
    if (i >= d->nbuf || len != d->len[i])
        return -EINVAL;
    *out = d->mem[i];
    d->mapped++;
    return 0;
}

static void fake_munmap(void *ctx, void *addr, size_t len)
{
    fake_dev *d = ctx;
    d->mapped--;
}

static int fake_poll(void *ctx, int fd, int timeout_ms)
{
    fake_dev *d = ctx;
    return !d->stalled && d->streaming && d->qhead != d->qtail ? 1 : 0;
}

static void fake_free(fake_dev *d)
{
    for (unsigned i = 0; i < d->nbuf; i++)
        free(d->mem[i]);
    d->nbuf = 0;
}

/* A UVC-like camera: YUYV at 640x480, MJPEG at 64x32 (the committed small.jpg). */
static fake_dev fake_camera(void)
{
    fake_dev d = {
        .caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_STREAMING,
        .fmts = {{V4L2_PIX_FMT_MJPEG, {{64, 32, 30}}}, {V4L2_PIX_FMT_YUYV, {{640, 480, 30}}}},
        .nfmts = 2,
        .grant = 4,
        .fps = 30,
        .mode_fps = 30,
    };
    const char *dir = getenv("CAMRTC_TEST_DATA");
    char path[1024];
    snprintf(path, sizeof path, "%s/media/small.jpg", dir ? dir : "tests/unit/data");
    FILE *f = fopen(path, "rb");
    if (f) {
        d.jpeg_len = fread(d.jpeg, 1, sizeof d.jpeg, f);
        fclose(f);
    }
    return d;
}

static camrtc_source *open_fake(fake_dev *d, int w, int h, int fps, char *err, size_t errsz)
{
    /* The source keeps a pointer to the table: it lives in d, as long as the device. */
    d->ops = (v4l2_dev_ops){fake_open, fake_close, fake_ioctl, fake_mmap, fake_munmap, fake_poll, d};
    camrtc_source_config cfg = {.spec = "v4l2:/dev/fake", .width = w, .height = h, .fps = fps};
    return v4l2_source_open_with(&d->ops, "/dev/fake", &cfg, err, errsz);
}

/* After close (or a failed open) nothing may be left open or mapped. */
static bool fake_clean(const fake_dev *d)
{
    return !d->open && d->mapped == 0 && !d->streaming;
}

/* ---- tests ------------------------------------------------------------------------- */

/* Read n frames; count those whose luma does not match the pattern after conversion. */
static int read_and_check(camrtc_source *s, int n, int w, int h)
{
    camrtc_frame i420;
    if (camrtc_frame_alloc_i420(&i420, w, h) < 0)
        return -1;
    int bad = 0;
    char err[256];
    for (int k = 0; k < n; k++) {
        camrtc_frame f;
        if (camrtc_source_read(s, &f, err, sizeof err) != 0 || f.frame_id != (uint64_t)k ||
            camrtc_convert_to_i420(&f, &i420) != 0) {
            fprintf(stderr, "  frame %d: %s\n", k, err);
            bad++;
            continue;
        }
        uint32_t seq = (uint32_t)k; /* the fake numbers its frames from 0 */
        int x = (k * 13) % w, y = (k * 7) % h;
        if (i420.plane[0][y * i420.stride[0] + x] != pattern_y(seq, x, y) ||
            i420.plane[1][0] != 60 || i420.plane[2][0] != 200)
            bad++;
    }
    camrtc_frame_free(&i420);
    return bad;
}

TEST(yuyv_negotiated_and_frames_delivered)
{
    fake_dev d = fake_camera();
    char err[256] = "";
    camrtc_source *s = open_fake(&d, 640, 480, 30, err, sizeof err);
    if (!s)
        fprintf(stderr, "  %s\n", err);
    CHECK(s);
    const camrtc_source_info *in = camrtc_source_get_info(s);
    bool info_ok = in->width == 640 && in->height == 480 && in->fmt == CAMRTC_PIX_YUYV &&
                   in->blocking && !in->encoded && in->fps == 30;
    bool mapped = d.mapped == 4 && d.streaming;
    int bad = read_and_check(s, 10, 640, 480);
    /* At most one buffer is out with the caller at any time. */
    unsigned queued = d.qtail - d.qhead;
    camrtc_source_close(s);
    bool clean = fake_clean(&d) && d.streamoffs == 1 && d.released == 1;
    fake_free(&d);
    CHECK(info_ok);
    CHECK(mapped);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(queued, 3);
    CHECK(clean);
}

TEST(exact_size_beats_format_preference)
{
    /* 64x32 exists only as MJPEG: it wins over the preferred YUYV at 640x480. */
    fake_dev d = fake_camera();
    CHECK(d.jpeg_len > 100);
    char err[256] = "";
    camrtc_source *s = open_fake(&d, 64, 32, 0, err, sizeof err);
    CHECK(s);
    const camrtc_source_info *in = camrtc_source_get_info(s);
    bool mjpeg = in->fmt == CAMRTC_PIX_MJPEG && in->width == 64 && in->height == 32;
    camrtc_frame f, i420;
    int rc = camrtc_source_read(s, &f, err, sizeof err);
    int a = camrtc_frame_alloc_i420(&i420, 64, 32);
    int conv = rc == 0 && a == 0 ? camrtc_convert_to_i420(&f, &i420) : -100;
    /* small.jpg's top-left quadrant: full-range Y 29, limited-range 41 after the
     * conversion (see test_convert.c). */
    int y = a == 0 ? i420.plane[0][8 * i420.stride[0] + 16] : -1;
    bool bytes_ok = f.bytes == d.jpeg_len;
    camrtc_frame_free(&i420);
    camrtc_source_close(s);
    bool clean = fake_clean(&d);
    fake_free(&d);
    CHECK(mjpeg);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(conv, 0);
    CHECK(bytes_ok);
    CHECK(abs(y - 41) <= 4);
    CHECK(clean);
}

TEST(closest_size_when_none_exact)
{
    fake_dev d = fake_camera();
    char err[256] = "";
    /* 1280x720 is nowhere: YUYV 640x480 is closer than MJPEG 64x32. */
    camrtc_source *s = open_fake(&d, 1280, 720, 0, err, sizeof err);
    CHECK(s);
    const camrtc_source_info *in = camrtc_source_get_info(s);
    bool ok = in->fmt == CAMRTC_PIX_YUYV && in->width == 640 && in->height == 480;
    camrtc_source_close(s);
    fake_free(&d);
    CHECK(ok);
}

TEST(nv12_and_yu12_frames)
{
    static const uint32_t fourccs[] = {V4L2_PIX_FMT_NV12, V4L2_PIX_FMT_YUV420};
    static const camrtc_pixfmt want[] = {CAMRTC_PIX_NV12, CAMRTC_PIX_I420};
    for (int i = 0; i < 2; i++) {
        fake_dev d = fake_camera();
        d.fmts[0] = (fake_fmt){fourccs[i], {{320, 240, 30}}};
        d.nfmts = 1;
        char err[256] = "";
        camrtc_source *s = open_fake(&d, 320, 240, 0, err, sizeof err);
        CHECK(s);
        bool fmt_ok = camrtc_source_get_info(s)->fmt == want[i];
        int bad = read_and_check(s, 6, 320, 240);
        camrtc_source_close(s);
        fake_free(&d);
        CHECK(fmt_ok);
        CHECK_EQ_INT(bad, 0);
    }
}

TEST(frame_rate_is_what_the_driver_gives)
{
    fake_dev d = fake_camera();
    char err[256] = "";
    camrtc_source *s = open_fake(&d, 640, 480, 60, err, sizeof err);
    CHECK(s);
    int fps = camrtc_source_get_info(s)->fps;
    camrtc_source_close(s);
    fake_free(&d);
    CHECK_EQ_INT(fps, 30);
}

/* A typical USB webcam: raw YUYV is limited by USB bandwidth at 720p (10 fps), MJPEG
 * is not. */
static fake_dev fake_webcam(void)
{
    fake_dev d = fake_camera();
    d.fmts[0] = (fake_fmt){V4L2_PIX_FMT_YUYV, {{640, 480, 30}, {1280, 720, 10}}};
    d.fmts[1] = (fake_fmt){V4L2_PIX_FMT_MJPEG, {{640, 480, 30}, {1280, 720, 30}}};
    return d;
}

/* Open at w x h and fps; what came out: fmt, size, rate. */
static bool opened_as(fake_dev *d, int w, int h, int fps, camrtc_pixfmt fmt, int gw, int gh,
                      int gfps)
{
    char err[256] = "";
    camrtc_source *s = open_fake(d, w, h, fps, err, sizeof err);
    if (!s) {
        fprintf(stderr, "  open: %s\n", err);
        fake_free(d);
        return false;
    }
    const camrtc_source_info *in = camrtc_source_get_info(s);
    bool ok = in->fmt == fmt && in->width == gw && in->height == gh && in->fps == gfps;
    if (!ok)
        fprintf(stderr, "  %dx%d@%d: got fmt %d %dx%d@%d\n", w, h, fps, (int)in->fmt, in->width,
                in->height, in->fps);
    camrtc_source_close(s);
    ok = ok && fake_clean(d);
    fake_free(d);
    return ok;
}

TEST(rate_picks_the_format_that_delivers_it)
{
    fake_dev d = fake_webcam();
    /* 720p30: only MJPEG has it, though YUYV is preferred and has the size. */
    CHECK(opened_as(&d, 1280, 720, 30, CAMRTC_PIX_MJPEG, 1280, 720, 30));
    /* 720p10: YUYV delivers it, and raw is preferred. */
    d = fake_webcam();
    CHECK(opened_as(&d, 1280, 720, 10, CAMRTC_PIX_YUYV, 1280, 720, 10));
    /* 480p30: both do; raw is preferred. */
    d = fake_webcam();
    CHECK(opened_as(&d, 640, 480, 30, CAMRTC_PIX_YUYV, 640, 480, 30));
    /* 29.97 fps (intervals of 1001/30000 s) delivers 30: YUYV 720p at 29.97 wins over
     * MJPEG 720p at 59.94 because raw is preferred. */
    d = fake_webcam();
    d.ntsc = true;
    d.fmts[0].mode[1].fps = 30;
    d.fmts[1].mode[1].fps = 60;
    CHECK(opened_as(&d, 1280, 720, 30, CAMRTC_PIX_YUYV, 1280, 720, 30));
}

TEST(rate_comes_before_size_when_no_mode_has_both)
{
    /* Raw only: 720p at 10 fps or 480p at 30. A 30 fps stream gets 480p (scaled up by
     * the pipeline) rather than a frame every 100 ms. */
    fake_dev d = fake_webcam();
    d.nfmts = 1;
    CHECK(opened_as(&d, 1280, 720, 30, CAMRTC_PIX_YUYV, 640, 480, 30));
    /* When nothing delivers the rate, the fastest, then the closest size. */
    d = fake_webcam();
    d.nfmts = 1;
    CHECK(opened_as(&d, 1280, 720, 60, CAMRTC_PIX_YUYV, 640, 480, 30));
    d = fake_webcam();
    d.nfmts = 1;
    d.fmts[0].mode[0].fps = 15;
    CHECK(opened_as(&d, 1280, 720, 60, CAMRTC_PIX_YUYV, 640, 480, 15));
    d = fake_webcam();
    d.nfmts = 1;
    d.fmts[0].mode[0].fps = 10;             /* both 10: the size decides */
    CHECK(opened_as(&d, 1280, 720, 60, CAMRTC_PIX_YUYV, 1280, 720, 10));
}

TEST(stepwise_sizes_and_continuous_rates)
{
    /* A CSI-style camera: NV12 at any size 32x32..1920x1080 in steps of 8, up to 30 fps. */
    fake_dev d = fake_camera();
    d.stepwise = true;
    d.nfmts = 1;
    d.fmts[0] = (fake_fmt){V4L2_PIX_FMT_NV12, {{1920, 1080, 30}}};
    CHECK(opened_as(&d, 1000, 600, 30, CAMRTC_PIX_NV12, 1000, 600, 30));
    d = fake_camera();
    d.stepwise = true;
    d.nfmts = 1;
    d.fmts[0] = (fake_fmt){V4L2_PIX_FMT_NV12, {{1920, 1080, 30}}};
    CHECK(opened_as(&d, 4000, 2000, 60, CAMRTC_PIX_NV12, 1920, 1080, 30));  /* clamped */
}

TEST(driver_without_enumeration_falls_back_to_try_fmt)
{
    /* No ENUM_FRAMESIZES: the sizes come from TRY_FMT and the rate is not known
     * beforehand, so the closest size wins as before, and S_PARM says the rate. */
    fake_dev d = fake_webcam();
    d.no_enum = true;
    CHECK(opened_as(&d, 1280, 720, 30, CAMRTC_PIX_YUYV, 1280, 720, 10));
    d = fake_camera();
    d.no_enum = true;
    CHECK(opened_as(&d, 1280, 720, 0, CAMRTC_PIX_YUYV, 640, 480, 30));
}

TEST(broken_and_short_frames_are_dropped_and_counted)
{
    fake_dev d = fake_camera();
    d.broken_every = 3;
    d.short_every = 5;
    char err[256] = "";
    camrtc_source *s = open_fake(&d, 640, 480, 0, err, sizeof err);
    CHECK(s);
    int good = 0;
    uint32_t seqs_ok = 0;
    for (int k = 0; k < 10; k++) {
        camrtc_frame f;
        if (camrtc_source_read(s, &f, err, sizeof err) == 0 && f.bytes == 640 * 480 * 2) {
            good++;
            /* frame n is flagged broken when (n+1) % 3 == 0, short when (n+1) % 5 == 0 */
            seqs_ok += f.frame_id == (uint64_t)k;
        }
    }
    uint64_t dropped = v4l2_source_dropped(s);
    uint32_t made = d.frames;
    camrtc_source_close(s);
    fake_free(&d);
    CHECK_EQ_INT(good, 10);
    CHECK_EQ_INT(seqs_ok, 10);
    /* Made = delivered + dropped. */
    CHECK_EQ_INT(made, 10 + dropped);
    CHECK(dropped >= 4);
}

TEST(stalled_stream_times_out)
{
    fake_dev d = fake_camera();
    d.stalled = true;
    char err[256] = "";
    camrtc_source *s = open_fake(&d, 640, 480, 0, err, sizeof err);
    CHECK(s);
    camrtc_frame f;
    int rc = camrtc_source_read(s, &f, err, sizeof err);
    camrtc_source_close(s);
    fake_free(&d);
    CHECK_EQ_INT(rc, CAMRTC_ETIMEDOUT);
    CHECK(strstr(err, "no frame within") != NULL);
}

/* Open must fail with a reason containing sub, leaving nothing open or mapped. */
static bool open_fails(fake_dev *d, const char *sub)
{
    char err[256] = "";
    camrtc_source *s = open_fake(d, 640, 480, 0, err, sizeof err);
    bool ok = !s && strstr(err, sub) && fake_clean(d);
    if (!ok)
        fprintf(stderr, "  got \"%s\", wanted \"%s\"\n", err, sub);
    camrtc_source_close(s);
    fake_free(d);
    return ok;
}

TEST(device_errors_are_clear)
{
    fake_dev d = fake_camera();
    d.open_err = -ENOENT;
    CHECK(open_fails(&d, "no such device"));
    d = fake_camera();
    d.open_err = -EBUSY;
    CHECK(open_fails(&d, "device busy"));
    d = fake_camera();
    d.open_err = -EACCES;
    CHECK(open_fails(&d, "permission denied"));
    d = fake_camera();
    d.sfmt_err = -EBUSY;            /* UVC says busy at S_FMT when another app streams */
    CHECK(open_fails(&d, "device busy"));
    d = fake_camera();
    d.streamon_err = -EBUSY;
    CHECK(open_fails(&d, "device busy"));
    d = fake_camera();
    d.querycap_fails = true;
    CHECK(open_fails(&d, "not a V4L2 device"));
    d = fake_camera();
    d.caps = V4L2_CAP_VIDEO_OUTPUT | V4L2_CAP_STREAMING;
    CHECK(open_fails(&d, "not a video capture device"));
    d = fake_camera();
    d.caps = V4L2_CAP_VIDEO_CAPTURE_MPLANE | V4L2_CAP_STREAMING;
    CHECK(open_fails(&d, "multi-planar"));
    d = fake_camera();
    d.caps = V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_READWRITE;
    CHECK(open_fails(&d, "no streaming I/O"));
    d = fake_camera();
    d.fmts[0] = (fake_fmt){V4L2_PIX_FMT_H264, {{640, 480, 30}}};
    d.fmts[1] = (fake_fmt){V4L2_PIX_FMT_RGB24, {{640, 480, 30}}};
    CHECK(open_fails(&d, "no supported pixel format (device offers: H264 RGB3"));
    d = fake_camera();
    d.grant = 1;
    CHECK(open_fails(&d, "gave 1 buffers"));
}

TEST(real_device_absent)
{
    /* No camera here: the real operations report the missing node clearly. */
    char err[256] = "";
    camrtc_source_config cfg = {.spec = "v4l2:/dev/video-camrtc-none"};
    camrtc_source *s = camrtc_source_open(&cfg, err, sizeof err);
    camrtc_source_close(s);
    CHECK(s == NULL);
    CHECK(strstr(err, "/dev/video-camrtc-none: no such device") != NULL);
}

int main(void)
{
    return RUN_TESTS(yuyv_negotiated_and_frames_delivered, exact_size_beats_format_preference,
                     closest_size_when_none_exact, nv12_and_yu12_frames,
                     frame_rate_is_what_the_driver_gives, rate_picks_the_format_that_delivers_it,
                     rate_comes_before_size_when_no_mode_has_both,
                     stepwise_sizes_and_continuous_rates,
                     driver_without_enumeration_falls_back_to_try_fmt,
                     broken_and_short_frames_are_dropped_and_counted, stalled_stream_times_out,
                     device_errors_are_clear, real_device_absent);
}
