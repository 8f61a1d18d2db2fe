/* "v4l2:/dev/videoN": a camera through Video4Linux2 memory-mapped streaming I/O.
 *
 * Tested only against the fake device in tests/unit/test_v4l2.c: there is no camera on
 * the build machine. Every open/ioctl/mmap/poll goes through a v4l2_dev_ops table
 * (v4l2_dev.c is the real one), so that fake runs exactly this code.
 *
 * The sequence (V4L2 API, "Streaming I/O (Memory Mapping)"):
 *   open -> VIDIOC_QUERYCAP (a capture device with streaming?) -> VIDIOC_ENUM_FMT (which
 *   of YUYV, NV12, YUV420, MJPEG it has) -> for each, VIDIOC_ENUM_FRAMESIZES and, per
 *   size, VIDIOC_ENUM_FRAMEINTERVALS (the fastest rate there); a driver that does not
 *   enumerate sizes gets VIDIOC_TRY_FMT at the wanted size instead -> the best mode
 *   (see choose_mode) -> VIDIOC_S_FMT -> VIDIOC_S_PARM (frame rate) -> VIDIOC_REQBUFS 4
 *   mmap buffers -> VIDIOC_QUERYBUF + mmap + VIDIOC_QBUF each -> VIDIOC_STREAMON. Then
 *   each read: give back the previous buffer (QBUF), poll, DQBUF.
 *
 * read() blocks (up to V4L2_SRC_TIMEOUT_MS): it belongs on a capture thread. The frame
 * it returns points into the driver's buffer and stays valid until the next read, which
 * is when the buffer goes back to the driver. capture_us is camrtc_now_us() at dequeue.
 */
#include <errno.h>
#include <linux/videodev2.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "media/source_int.h"
#include "media/v4l2_int.h"

/* Formats we take, in order of preference: raw first (no decode), MJPEG last. A camera
 * that offers a size or a rate only in MJPEG still gets it, because the rate and the
 * size come before format preference (choose_mode). */
static const struct {
    uint32_t fourcc;
    camrtc_pixfmt fmt;
} formats[] = {
    {V4L2_PIX_FMT_YUYV, CAMRTC_PIX_YUYV},
    {V4L2_PIX_FMT_NV12, CAMRTC_PIX_NV12},
    {V4L2_PIX_FMT_YUV420, CAMRTC_PIX_I420},
    {V4L2_PIX_FMT_MJPEG, CAMRTC_PIX_MJPEG},
};
#define NFORMATS (sizeof formats / sizeof formats[0])
/* A broken buffer is requeued and the next one taken, this many times per read. */
#define V4L2_SRC_MAX_SKIPS 8
/* Bounds on the enumerations a driver answers (a real camera lists a few dozen). */
#define V4L2_SRC_MAX_ENUM 64

typedef struct v4l2_src {
    camrtc_source base;
    const v4l2_dev_ops *ops;
    char *path;
    int fd;
    struct {
        void *p;
        size_t len;
    } buf[V4L2_SRC_MAX_BUFFERS];
    unsigned nbuf;
    int held;                  /* buffer index lent to the caller, or -1 */
    bool streaming;
    uint32_t fourcc;
    int width, height, bpl;
    uint64_t next_id;
    uint64_t dropped;
} v4l2_src;

static int xioctl(v4l2_src *v, unsigned long req, void *arg)
{
    return v->ops->ioctl(v->ops->ctx, v->fd, req, arg);
}

static void fourcc_str(uint32_t f, char out[5])
{
    for (int i = 0; i < 4; i++) {
        char c = (char)((f >> (8 * i)) & 0xff);
        out[i] = c >= 32 && c < 127 ? c : '?';
    }
    out[4] = 0;
}

/* The usual reasons, in words a user can act on. */
static void errno_reason(v4l2_src *v, const char *what, int e, char *err, size_t errsz)
{
    if (e == -ENOENT || e == -ENODEV || e == -ENXIO)
        camrtc_errf(err, errsz, "v4l2: %s: no such device", v->path);
    else if (e == -EBUSY)
        camrtc_errf(err, errsz, "v4l2: %s: device busy (another program is using the camera)",
                   v->path);
    else if (e == -EACCES || e == -EPERM)
        camrtc_errf(err, errsz, "v4l2: %s: permission denied (is the user in the 'video' group?)",
                   v->path);
    else
        camrtc_errf(err, errsz, "v4l2: %s: %s failed: %s", v->path, what, strerror(-e));
}

/* ---- open: capabilities and format -------------------------------------------------------- */

static int check_caps(v4l2_src *v, char *err, size_t errsz)
{
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    int e = xioctl(v, VIDIOC_QUERYCAP, &cap);
    if (e < 0) {
        camrtc_errf(err, errsz, "v4l2: %s: not a V4L2 device (%s)", v->path, strerror(-e));
        return CAMRTC_EUNSUPPORTED;
    }
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE)) {
        camrtc_errf(err, errsz, "v4l2: %s (%.32s): not a video capture device%s", v->path,
                   (const char *)cap.card,
                   (caps & V4L2_CAP_VIDEO_CAPTURE_MPLANE) ? " (multi-planar API not supported)" : "");
        return CAMRTC_EUNSUPPORTED;
    }
    if (!(caps & V4L2_CAP_STREAMING)) {
        camrtc_errf(err, errsz, "v4l2: %s: no streaming I/O support", v->path);
        return CAMRTC_EUNSUPPORTED;
    }
    return CAMRTC_OK;
}

/* Which of our formats the device lists: bit i for formats[i]. */
static unsigned list_formats(v4l2_src *v, char *offered, size_t offered_sz)
{
    unsigned have = 0;
    size_t used = 0;
    offered[0] = 0;
    for (uint32_t i = 0; i < 64; i++) {
        struct v4l2_fmtdesc d;
        memset(&d, 0, sizeof d);
        d.index = i;
        d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (xioctl(v, VIDIOC_ENUM_FMT, &d) < 0)
            break;
        for (size_t k = 0; k < NFORMATS; k++)
            if (d.pixelformat == formats[k].fourcc)
                have |= 1u << k;
        char fc[5];
        fourcc_str(d.pixelformat, fc);
        if (used + 6 < offered_sz)
            used += (size_t)snprintf(offered + used, offered_sz - used, "%s%s", used ? " " : "", fc);
    }
    return have;
}

static void set_pix(struct v4l2_format *f, uint32_t fourcc, int w, int h)
{
    memset(f, 0, sizeof *f);
    f->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f->fmt.pix.width = (uint32_t)w;
    f->fmt.pix.height = (uint32_t)h;
    f->fmt.pix.pixelformat = fourcc;
    f->fmt.pix.field = V4L2_FIELD_NONE;
}

/* ---- open: choosing a mode (format, size, rate) ---------------------------------------------- */

/* One way the camera can deliver: formats[k] at w x h, at most fps_milli / 1000 frames a
 * second (0 when the driver does not say). */
typedef struct v4l2_mode {
    int k;
    int w, h;
    int64_t fps_milli;
} v4l2_mode;

/* Frames per second x 1000 of a frame interval (seconds per frame): 0 for a zero
 * fraction, at most 1000 fps (whatever the driver says, the sums below stay small). */
#define V4L2_SRC_MAX_FPS_MILLI 1000000
static int64_t fract_fps_milli(const struct v4l2_fract *f)
{
    if (f->numerator == 0 || f->denominator == 0)
        return 0;
    uint64_t v = (uint64_t)f->denominator * 1000u / f->numerator;
    return v > V4L2_SRC_MAX_FPS_MILLI ? V4L2_SRC_MAX_FPS_MILLI : (int64_t)v;
}

/* The fastest rate the driver lists for fourcc at w x h, x 1000; 0 when it lists none
 * (VIDIOC_ENUM_FRAMEINTERVALS is optional). A stepwise or continuous range has its
 * fastest rate at the smallest interval, stepwise.min. */
static int64_t max_fps_milli(v4l2_src *v, uint32_t fourcc, int w, int h)
{
    int64_t best = 0;
    for (uint32_t i = 0; i < V4L2_SRC_MAX_ENUM; i++) {
        struct v4l2_frmivalenum fi;
        memset(&fi, 0, sizeof fi);
        fi.index = i;
        fi.pixel_format = fourcc;
        fi.width = (uint32_t)w;
        fi.height = (uint32_t)h;
        if (xioctl(v, VIDIOC_ENUM_FRAMEINTERVALS, &fi) < 0)
            break;
        if (fi.type != V4L2_FRMIVAL_TYPE_DISCRETE) {
            int64_t f = fract_fps_milli(&fi.stepwise.min);
            return f > best ? f : best;
        }
        int64_t f = fract_fps_milli(&fi.discrete);
        best = f > best ? f : best;
    }
    return best;
}

/* Does the mode deliver fps? An unknown rate is taken as yes (we cannot tell), and
 * 29.97 counts as 30 (NTSC-style 1001/30000 intervals): 0.2 % of slack. */
static bool rate_ok(const v4l2_mode *m, int fps)
{
    return m->fps_milli == 0 || m->fps_milli * 1002 >= (int64_t)fps * 1000000;
}

static int64_t size_dist(const v4l2_mode *m, int w, int h)
{
    return llabs((long long)m->w - w) + llabs((long long)m->h - h);
}

/* Is a better than b for w x h at fps? The rate comes first: it is the smoothness and
 * the latency a viewer sees (a frame every 100 ms adds up to 100 ms), while a size is
 * cheap to fix by scaling. So: the mode that delivers the rate; when neither does, the
 * faster; then the closer size. Ties keep b, the earlier and so preferred format. */
static bool mode_better(const v4l2_mode *a, const v4l2_mode *b, int w, int h, int fps)
{
    bool ra = rate_ok(a, fps), rb = rate_ok(b, fps);
    if (ra != rb)
        return ra;
    if (!ra && a->fps_milli != b->fps_milli)
        return a->fps_milli > b->fps_milli;
    return size_dist(a, w, h) < size_dist(b, w, h);
}

/* The size in [min, max] nearest to want on the grid min + n * step (64-bit: the
 * driver's numbers are any uint32; a result out of range is refused by the caller). */
static int snap(int want, uint32_t min, uint32_t max, uint32_t step)
{
    int64_t lo = min, hi = max, st = step ? step : 1;
    if (hi < lo)
        return 0;
    int64_t x = want < lo ? lo : want > hi ? hi : want;
    x = lo + (x - lo + st / 2) / st * st;
    if (x > hi)
        x -= st;
    return x > CAMRTC_FRAME_MAX_DIM ? 0 : (int)x;
}

/* The best size of formats[k] from VIDIOC_ENUM_FRAMESIZES into *best (when better than
 * what it holds, or when have is false). False when the driver does not enumerate. */
static bool best_listed_size(v4l2_src *v, int k, int w, int h, int fps, v4l2_mode *best,
                             bool *have)
{
    uint32_t fourcc = formats[k].fourcc;
    bool listed = false;
    for (uint32_t i = 0; i < V4L2_SRC_MAX_ENUM; i++) {
        struct v4l2_frmsizeenum fs;
        memset(&fs, 0, sizeof fs);
        fs.index = i;
        fs.pixel_format = fourcc;
        if (xioctl(v, VIDIOC_ENUM_FRAMESIZES, &fs) < 0)
            break;
        listed = true;
        v4l2_mode m = {.k = k};
        if (fs.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
            m.w = (int)fs.discrete.width;
            m.h = (int)fs.discrete.height;
        } else {                    /* stepwise or continuous: one range, the nearest in it */
            m.w = snap(w, fs.stepwise.min_width, fs.stepwise.max_width, fs.stepwise.step_width);
            m.h = snap(h, fs.stepwise.min_height, fs.stepwise.max_height,
                       fs.stepwise.step_height);
        }
        if (m.w < 2 || m.h < 2 || m.w > CAMRTC_FRAME_MAX_DIM || m.h > CAMRTC_FRAME_MAX_DIM)
            continue;
        m.fps_milli = max_fps_milli(v, fourcc, m.w, m.h);
        if (!*have || mode_better(&m, best, w, h, fps)) {
            *best = m;
            *have = true;
        }
        if (fs.type != V4L2_FRMSIZE_TYPE_DISCRETE)
            break;
    }
    return listed;
}

/* Without size enumeration: what VIDIOC_TRY_FMT makes of w x h (optional too: without
 * it, assume the size is met), at a rate we cannot know. False if the format changed. */
static bool tried_size(v4l2_src *v, int k, int w, int h, v4l2_mode *m)
{
    struct v4l2_format f;
    set_pix(&f, formats[k].fourcc, w, h);
    if (xioctl(v, VIDIOC_TRY_FMT, &f) < 0)
        set_pix(&f, formats[k].fourcc, w, h);
    if (f.fmt.pix.pixelformat != formats[k].fourcc)
        return false;
    *m = (v4l2_mode){.k = k, .w = (int)f.fmt.pix.width, .h = (int)f.fmt.pix.height};
    return true;
}

/* The best mode among the offered formats for w x h at fps; false when none is usable. */
static bool choose_mode(v4l2_src *v, unsigned have_fmts, int w, int h, int fps, v4l2_mode *best)
{
    bool have = false;
    for (int k = 0; k < (int)NFORMATS; k++) {
        if (!(have_fmts & (1u << k)))
            continue;
        if (best_listed_size(v, k, w, h, fps, best, &have))
            continue;
        v4l2_mode m = {0};
        if (tried_size(v, k, w, h, &m) && (!have || mode_better(&m, best, w, h, fps))) {
            *best = m;
            have = true;
        }
    }
    return have;
}

/* Bytes a row needs at least, and the frame's least size, for a format. */
static size_t min_bpl(uint32_t fourcc, int w)
{
    return fourcc == V4L2_PIX_FMT_YUYV ? (size_t)w * 2 : (size_t)w;
}

static size_t min_frame_bytes(const v4l2_src *v)
{
    size_t y = (size_t)v->bpl * (size_t)v->height;
    switch (v->fourcc) {
    case V4L2_PIX_FMT_YUYV:
        return y;
    case V4L2_PIX_FMT_NV12:
        return y + (size_t)v->bpl * (size_t)((v->height + 1) / 2);
    case V4L2_PIX_FMT_YUV420:
        return y + 2 * (size_t)(v->bpl / 2) * (size_t)((v->height + 1) / 2);
    default:
        return 4; /* MJPEG: checked by the decoder */
    }
}

static int set_format(v4l2_src *v, const camrtc_source_config *cfg, char *err, size_t errsz)
{
    char offered[128];
    unsigned have = list_formats(v, offered, sizeof offered);
    if (!have) {
        camrtc_errf(err, errsz, "v4l2: %s: no supported pixel format (device offers: %s; we take "
                   "YUYV, NV12, YU12, MJPG)", v->path, offered[0] ? offered : "none");
        return CAMRTC_EUNSUPPORTED;
    }
    int w = cfg->width ? cfg->width : 1280, h = cfg->height ? cfg->height : 720;
    v4l2_mode m = {0};
    if (!choose_mode(v, have, w, h, cfg->fps ? cfg->fps : 30, &m)) {
        camrtc_errf(err, errsz, "v4l2: %s: the driver refused every format", v->path);
        return CAMRTC_EUNSUPPORTED;
    }
    struct v4l2_format f;
    set_pix(&f, formats[m.k].fourcc, m.w, m.h);
    int e = xioctl(v, VIDIOC_S_FMT, &f);
    if (e < 0) {
        errno_reason(v, "VIDIOC_S_FMT", e, err, errsz);
        return e == -EBUSY ? CAMRTC_ELIMIT : CAMRTC_EIO;
    }
    /* The driver has the last word: use what it says it set, after checking it. */
    v->fourcc = f.fmt.pix.pixelformat;
    v->width = (int)f.fmt.pix.width;
    v->height = (int)f.fmt.pix.height;
    bool ours = false;
    for (size_t i = 0; i < NFORMATS; i++)
        if (formats[i].fourcc == v->fourcc) {
            ours = true;
            v->base.info.fmt = formats[i].fmt;
        }
    if (!ours || f.fmt.pix.width < 2 || f.fmt.pix.height < 2 ||
        f.fmt.pix.width > CAMRTC_FRAME_MAX_DIM || f.fmt.pix.height > CAMRTC_FRAME_MAX_DIM) {
        char fc[5];
        fourcc_str(v->fourcc, fc);
        camrtc_errf(err, errsz, "v4l2: %s: driver set an unusable format %s %ux%u", v->path, fc,
                   f.fmt.pix.width, f.fmt.pix.height);
        return CAMRTC_EPROTO;
    }
    size_t bpl = f.fmt.pix.bytesperline;
    if (v->fourcc == V4L2_PIX_FMT_MJPEG || bpl == 0)
        bpl = min_bpl(v->fourcc, v->width);
    if (bpl < min_bpl(v->fourcc, v->width) || bpl > (size_t)4 * CAMRTC_FRAME_MAX_DIM) {
        camrtc_errf(err, errsz, "v4l2: %s: driver gave bytes per line %zu for width %d", v->path,
                   bpl, v->width);
        return CAMRTC_EPROTO;
    }
    v->bpl = (int)bpl;
    return CAMRTC_OK;
}

/* Ask for the frame rate; a driver without VIDIOC_S_PARM keeps its own (assumed wanted). */
static void set_rate(v4l2_src *v, int fps)
{
    v->base.info.fps = fps;
    struct v4l2_streamparm p;
    memset(&p, 0, sizeof p);
    p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(v, VIDIOC_G_PARM, &p) < 0 || !(p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME))
        return;
    p.parm.capture.timeperframe.numerator = 1;
    p.parm.capture.timeperframe.denominator = (uint32_t)fps;
    if (xioctl(v, VIDIOC_S_PARM, &p) < 0)
        return;
    uint32_t n = p.parm.capture.timeperframe.numerator, d = p.parm.capture.timeperframe.denominator;
    if (n && d && d / n >= 1 && d / n <= 240)
        v->base.info.fps = (int)((d + n / 2) / n);
}

/* ---- open: buffers ------------------------------------------------------------------ */

static int map_buffers(v4l2_src *v, char *err, size_t errsz)
{
    struct v4l2_requestbuffers rb;
    memset(&rb, 0, sizeof rb);
    rb.count = V4L2_SRC_BUFFERS;
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    int e = xioctl(v, VIDIOC_REQBUFS, &rb);
    if (e < 0) {
        if (e == -EINVAL)
            camrtc_errf(err, errsz, "v4l2: %s: no memory-mapped streaming", v->path);
        else
            errno_reason(v, "VIDIOC_REQBUFS", e, err, errsz);
        return e == -EBUSY ? CAMRTC_ELIMIT : CAMRTC_EIO;
    }
    if (rb.count < 2) {
        camrtc_errf(err, errsz, "v4l2: %s: driver gave %u buffers (need 2)", v->path, rb.count);
        return CAMRTC_EIO;
    }
    v->nbuf = rb.count < V4L2_SRC_MAX_BUFFERS ? rb.count : V4L2_SRC_MAX_BUFFERS;
    for (unsigned i = 0; i < v->nbuf; i++) {
        struct v4l2_buffer b;
        memset(&b, 0, sizeof b);
        b.index = i;
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b.memory = V4L2_MEMORY_MMAP;
        if ((e = xioctl(v, VIDIOC_QUERYBUF, &b)) < 0 || b.length == 0 ||
            (e = v->ops->mmap(v->ops->ctx, v->fd, b.length, b.m.offset, &v->buf[i].p)) < 0) {
            errno_reason(v, "buffer mapping", e < 0 ? e : -EINVAL, err, errsz);
            return CAMRTC_EIO;
        }
        v->buf[i].len = b.length;
        if ((e = xioctl(v, VIDIOC_QBUF, &b)) < 0) {
            errno_reason(v, "VIDIOC_QBUF", e, err, errsz);
            return CAMRTC_EIO;
        }
    }
    int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if ((e = xioctl(v, VIDIOC_STREAMON, &type)) < 0) {
        errno_reason(v, "VIDIOC_STREAMON", e, err, errsz);
        return e == -EBUSY ? CAMRTC_ELIMIT : CAMRTC_EIO;
    }
    v->streaming = true;
    return CAMRTC_OK;
}

/* ---- read ----------------------------------------------------------------------------- */

static int requeue(v4l2_src *v, unsigned index)
{
    struct v4l2_buffer b;
    memset(&b, 0, sizeof b);
    b.index = index;
    b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b.memory = V4L2_MEMORY_MMAP;
    return xioctl(v, VIDIOC_QBUF, &b);
}

static void fill_frame(v4l2_src *v, const struct v4l2_buffer *b, camrtc_frame *out)
{
    uint8_t *p = v->buf[b->index].p;
    size_t y = (size_t)v->bpl * (size_t)v->height;
    *out = (camrtc_frame){.fmt = v->base.info.fmt, .width = v->width, .height = v->height,
                          .bytes = b->bytesused, .frame_id = v->next_id++,
                          .capture_us = camrtc_now_us()};
    out->plane[0] = p;
    out->stride[0] = v->bpl;
    if (v->fourcc == V4L2_PIX_FMT_NV12) {
        out->plane[1] = p + y;
        out->stride[1] = v->bpl;
    } else if (v->fourcc == V4L2_PIX_FMT_YUV420) {
        out->plane[1] = p + y;
        out->plane[2] = p + y + (size_t)(v->bpl / 2) * (size_t)((v->height + 1) / 2);
        out->stride[1] = out->stride[2] = v->bpl / 2;
    } else if (v->fourcc == V4L2_PIX_FMT_MJPEG) {
        out->stride[0] = 0;
    }
}

/* Wait for and take one filled buffer. 1 with *b, 0 to try again, < 0 error. */
static int dequeue(v4l2_src *v, struct v4l2_buffer *b, char *err, size_t errsz)
{
    int n = v->ops->poll(v->ops->ctx, v->fd, V4L2_SRC_TIMEOUT_MS);
    if (n == -EINTR)
        return 0;
    if (n < 0) {
        errno_reason(v, "poll", n, err, errsz);
        return CAMRTC_EIO;
    }
    if (n == 0) {
        camrtc_errf(err, errsz, "v4l2: %s: no frame within %d ms", v->path, V4L2_SRC_TIMEOUT_MS);
        return CAMRTC_ETIMEDOUT;
    }
    memset(b, 0, sizeof *b);
    b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    b->memory = V4L2_MEMORY_MMAP;
    int e = xioctl(v, VIDIOC_DQBUF, b);
    if (e == -EAGAIN || e == -EINTR)
        return 0;
    if (e < 0) {
        errno_reason(v, "VIDIOC_DQBUF", e, err, errsz);
        return CAMRTC_EIO;
    }
    if (b->index >= v->nbuf) {
        camrtc_errf(err, errsz, "v4l2: %s: driver returned buffer %u of %u", v->path, b->index,
                   v->nbuf);
        return CAMRTC_EPROTO;
    }
    return 1;
}

static int v4l2_read(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz)
{
    v4l2_src *v = (v4l2_src *)s;
    if (v->held >= 0) {
        int e = requeue(v, (unsigned)v->held);
        v->held = -1;
        if (e < 0) {
            errno_reason(v, "VIDIOC_QBUF", e, err, errsz);
            return CAMRTC_EIO;
        }
    }
    for (int tries = 0; tries < V4L2_SRC_MAX_SKIPS; tries++) {
        struct v4l2_buffer b;
        int rc = dequeue(v, &b, err, errsz);
        if (rc < 0)
            return rc;
        if (rc == 0)
            continue;
        /* A frame the driver marks broken, or shorter than the format needs, is dropped. */
        if ((b.flags & V4L2_BUF_FLAG_ERROR) || b.bytesused > v->buf[b.index].len ||
            b.bytesused < min_frame_bytes(v)) {
            v->dropped++;
            if (requeue(v, b.index) < 0) {
                camrtc_errf(err, errsz, "v4l2: %s: VIDIOC_QBUF failed", v->path);
                return CAMRTC_EIO;
            }
            continue;
        }
        v->held = (int)b.index;
        fill_frame(v, &b, out);
        return CAMRTC_OK;
    }
    camrtc_errf(err, errsz, "v4l2: %s: no good frame in %d tries (%llu dropped so far)", v->path,
               V4L2_SRC_MAX_SKIPS, (unsigned long long)v->dropped);
    return CAMRTC_EPROTO;
}

/* ---- close and open --------------------------------------------------------------------- */

static void v4l2_close(camrtc_source *s)
{
    v4l2_src *v = (v4l2_src *)s;
    if (v->fd >= 0) {
        if (v->streaming) {
            int type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
            xioctl(v, VIDIOC_STREAMOFF, &type);
        }
        for (unsigned i = 0; i < v->nbuf; i++)
            if (v->buf[i].p)
                v->ops->munmap(v->ops->ctx, v->buf[i].p, v->buf[i].len);
        if (v->nbuf) { /* give the buffers back to the driver */
            struct v4l2_requestbuffers rb;
            memset(&rb, 0, sizeof rb);
            rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
            rb.memory = V4L2_MEMORY_MMAP;
            xioctl(v, VIDIOC_REQBUFS, &rb);
        }
        v->ops->close(v->ops->ctx, v->fd);
    }
    free(v->path);
    free(v);
}

static const source_ops v4l2_ops = {.read = v4l2_read, .close = v4l2_close};

uint64_t v4l2_source_dropped(const camrtc_source *s)
{
    return s ? ((const v4l2_src *)s)->dropped : 0;
}

camrtc_source *v4l2_source_open_with(const v4l2_dev_ops *ops, const char *path,
                                     const camrtc_source_config *cfg, char *err, size_t errsz)
{
    v4l2_src *v = calloc(1, sizeof *v);
    if (!v || !(v->path = strdup(path))) {
        free(v);
        camrtc_errf(err, errsz, "v4l2: out of memory");
        return NULL;
    }
    v->base.ops = &v4l2_ops;
    v->ops = ops;
    v->held = -1;
    v->base.info.blocking = true;
    v->fd = ops->open(ops->ctx, path);
    if (v->fd < 0) {
        errno_reason(v, "open", v->fd, err, errsz);
        v4l2_close(&v->base);
        return NULL;
    }
    if (check_caps(v, err, errsz) < 0 || set_format(v, cfg, err, errsz) < 0) {
        v4l2_close(&v->base);
        return NULL;
    }
    set_rate(v, cfg->fps ? cfg->fps : 30);
    if (map_buffers(v, err, errsz) < 0) {
        v4l2_close(&v->base);
        return NULL;
    }
    v->base.info.width = v->width;
    v->base.info.height = v->height;
    return &v->base;
}

camrtc_source *source_v4l2_open(const char *path, const camrtc_source_config *cfg, char *err,
                                size_t errsz)
{
    return v4l2_source_open_with(v4l2_dev_real(), path, cfg, err, errsz);
}
