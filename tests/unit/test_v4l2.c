/* The V4L2 capture source against a fake device (there is no camera on the build
 * machine). The fake answers the ioctls the way a UVC driver does: it lists formats,
 * snaps a requested size to the one it has for that format, grants buffers, and fills
 * each dequeued buffer with a known pattern (YUYV, NV12, YU12) or a real JPEG (MJPEG).
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

typedef struct fake_fmt {
    uint32_t fourcc;
    int w, h;           /* the one size the fake has for this format */
} fake_fmt;

typedef struct fake_dev {
    /* What the device is like. */
    int open_err;                 /* negative errno from open, or 0 */
    int sfmt_err, streamon_err;   /* negative errno from S_FMT / STREAMON, or 0 */
    bool querycap_fails;
    uint32_t caps;
    fake_fmt fmts[6];
    int nfmts;
    unsigned grant;               /* buffers REQBUFS gives */
    int max_fps;
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
    int fps;
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

/* TRY_FMT/S_FMT: an unknown format becomes the first; the size snaps to the format's. */
static void fake_fix_fmt(const fake_dev *d, struct v4l2_pix_format *p)
{
    const fake_fmt *f = fake_find(d, p->pixelformat);
    if (!f)
        f = &d->fmts[0];
    p->pixelformat = f->fourcc;
    p->width = (uint32_t)f->w;
    p->height = (uint32_t)f->h;
    p->field = V4L2_FIELD_NONE;
    switch (f->fourcc) {
    case V4L2_PIX_FMT_YUYV:
        p->bytesperline = (uint32_t)f->w * 2;
        p->sizeimage = p->bytesperline * (uint32_t)f->h;
        break;
    case V4L2_PIX_FMT_MJPEG:
        p->bytesperline = 0;
        p->sizeimage = (uint32_t)(f->w * f->h * 2);
        break;
    default: /* NV12, YU12 */
        p->bytesperline = (uint32_t)f->w;
        p->sizeimage = (uint32_t)(f->w * f->h * 3 / 2);
    }
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
    case VIDIOC_S_FMT: {
        if (d->sfmt_err)
            return d->sfmt_err;
        struct v4l2_pix_format *p = &((struct v4l2_format *)arg)->fmt.pix;
        fake_fix_fmt(d, p);
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
        if (d->fps > d->max_fps)
            d->fps = d->max_fps;
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
        .fmts = {{V4L2_PIX_FMT_MJPEG, 64, 32}, {V4L2_PIX_FMT_YUYV, 640, 480}},
        .nfmts = 2,
        .grant = 4,
        .max_fps = 30,
        .fps = 30,
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
    /* small.jpg's top-left quadrant (full-range Y 29, see test_convert.c). */
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
    CHECK(abs(y - 29) <= 4);
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
        d.fmts[0] = (fake_fmt){fourccs[i], 320, 240};
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
    d.fmts[0] = (fake_fmt){V4L2_PIX_FMT_H264, 640, 480};
    d.fmts[1] = (fake_fmt){V4L2_PIX_FMT_RGB24, 640, 480};
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
                     frame_rate_is_what_the_driver_gives,
                     broken_and_short_frames_are_dropped_and_counted, stalled_stream_times_out,
                     device_errors_are_clear, real_device_absent);
}
