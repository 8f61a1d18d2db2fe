/* "y4m:PATH": raw I420 frames from a YUV4MPEG2 file, looped at its end.
 *
 * Each read returns the next frame, stamped with camrtc_now_us() at the read (the
 * caller paces reads at the frame rate). The frame's planes point into a buffer this
 * source owns, valid until the next read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "media/source_int.h"
#include "media/y4m_int.h"

#define Y4M_MAGIC "YUV4MPEG2"

/* ---- parsing (no I/O) ------------------------------------------------------------------ */

/* A decimal in [lo, hi] made only of digits, from s[0..n). */
static bool parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "n:d" with both in [1, 2^30]. */
static bool parse_ratio(const char *s, size_t n, long *num, long *den)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return false;
    size_t a = (size_t)(colon - s);
    return parse_int(s, a, 1, 1L << 30, num) && parse_int(colon + 1, n - a - 1, 1, 1L << 30, den);
}

static bool is_420(const char *v, size_t n)
{
    static const char *const ok[] = {"420jpeg", "420", "420paldv", "420mpeg2"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strlen(ok[i]) == n && memcmp(ok[i], v, n) == 0)
            return true;
    return false;
}

/* One "X<value>" token of the header. */
static int parse_tag(const char *tok, size_t n, y4m_info *out, char *err, size_t errsz)
{
    const char *v = tok + 1;
    size_t vn = n - 1;
    long a, b;
    switch (tok[0]) {
    case 'W':
    case 'H':
        /* Even sizes only, like every frame in the pipeline: 4:2:0 chroma then covers
         * the picture exactly and the encoder can take the size as it is. */
        if (!parse_int(v, vn, CAMRTC_FRAME_MIN_DIM, SOURCE_MAX_DIM, &a) || (a & 1)) {
            camrtc_errf(err, errsz, "y4m: bad %s '%.*s' (even, %d..%d)",
                       tok[0] == 'W' ? "width" : "height", (int)(vn > 16 ? 16 : vn), v,
                       CAMRTC_FRAME_MIN_DIM, SOURCE_MAX_DIM);
            return CAMRTC_EPROTO;
        }
        *(tok[0] == 'W' ? &out->width : &out->height) = (int)a;
        return CAMRTC_OK;
    case 'F':
        if (!parse_ratio(v, vn, &a, &b)) {
            camrtc_errf(err, errsz, "y4m: bad frame rate '%.*s'", (int)(vn > 24 ? 24 : vn), v);
            return CAMRTC_EPROTO;
        }
        out->fps_num = (int)a;
        out->fps_den = (int)b;
        return CAMRTC_OK;
    case 'C':
        if (!is_420(v, vn)) {
            camrtc_errf(err, errsz,
                       "y4m: colour space '%.*s' not supported (only 4:2:0 8-bit: 420jpeg, 420, "
                       "420paldv, 420mpeg2)",
                       (int)(vn > 24 ? 24 : vn), v);
            return CAMRTC_EUNSUPPORTED;
        }
        return CAMRTC_OK;
    case 'I': /* interlacing: frames are taken as progressive pictures */
    case 'A': /* pixel aspect: ignored */
    case 'X': /* comments and extensions */
        return CAMRTC_OK;
    default:
        /* Unknown tags are ignored, as the format asks of readers. */
        return CAMRTC_OK;
    }
}

int y4m_parse_header(const char *line, size_t len, y4m_info *out, char *err, size_t errsz)
{
    size_t m = sizeof Y4M_MAGIC - 1;
    if (len < m || memcmp(line, Y4M_MAGIC, m) != 0 || (len > m && line[m] != ' ')) {
        camrtc_errf(err, errsz, "y4m: not a YUV4MPEG2 file (bad magic)");
        return CAMRTC_EPROTO;
    }
    *out = (y4m_info){.fps_num = 30, .fps_den = 1};
    size_t i = m;
    while (i < len) {
        while (i < len && line[i] == ' ')
            i++;
        size_t start = i;
        while (i < len && line[i] != ' ')
            i++;
        if (i > start) {
            int rc = parse_tag(line + start, i - start, out, err, errsz);
            if (rc < 0)
                return rc;
        }
    }
    if (!out->width || !out->height) {
        camrtc_errf(err, errsz, "y4m: header has no W or H");
        return CAMRTC_EPROTO;
    }
    long fps = ((long)out->fps_num + out->fps_den / 2) / out->fps_den;
    out->fps = fps < 1 ? 1 : fps > 240 ? 240 : (int)fps;
    size_t cw = (size_t)(out->width + 1) / 2, ch = (size_t)(out->height + 1) / 2;
    out->frame_bytes = (size_t)out->width * (size_t)out->height + 2 * cw * ch;
    return CAMRTC_OK;
}

int y4m_parse_frame_line(const char *line, size_t len)
{
    if (len < 5 || memcmp(line, "FRAME", 5) != 0 || (len > 5 && line[5] != ' '))
        return CAMRTC_EPROTO;
    return CAMRTC_OK;
}

int y4m_scan(const uint8_t *buf, size_t len, y4m_info *info, char *err, size_t errsz)
{
    const char *s = (const char *)buf;
    const char *nl = memchr(s, '\n', len < Y4M_MAX_LINE + 1 ? len : Y4M_MAX_LINE + 1);
    if (!nl) {
        camrtc_errf(err, errsz, "y4m: no header line");
        return CAMRTC_EPROTO;
    }
    int rc = y4m_parse_header(s, (size_t)(nl - s), info, err, errsz);
    if (rc < 0)
        return rc;
    size_t off = (size_t)(nl - s) + 1;
    int frames = 0;
    while (off < len) {
        size_t rest = len - off;
        const char *fl = s + off;
        const char *e = memchr(fl, '\n', rest < Y4M_MAX_LINE + 1 ? rest : Y4M_MAX_LINE + 1);
        if (!e || y4m_parse_frame_line(fl, (size_t)(e - fl)) < 0) {
            camrtc_errf(err, errsz, "y4m: frame %d: expected a FRAME line", frames);
            return CAMRTC_EPROTO;
        }
        off += (size_t)(e - fl) + 1;
        if (len - off < info->frame_bytes) {
            camrtc_errf(err, errsz, "y4m: frame %d truncated", frames);
            return CAMRTC_EPROTO;
        }
        off += info->frame_bytes;
        if (frames == INT32_MAX)
            break;
        frames++;
    }
    if (frames == 0) {
        camrtc_errf(err, errsz, "y4m: no frames");
        return CAMRTC_EPROTO;
    }
    return frames;
}

/* ---- the file source -------------------------------------------------------------------- */

typedef struct y4m_src {
    camrtc_source base;
    FILE *f;
    char *path;
    y4m_info info;
    long data_start;          /* file offset of the first FRAME line */
    uint8_t *buf;             /* one frame's planes */
    uint64_t next_id;
    uint64_t frames_this_pass;
} y4m_src;

/* Read one line (without '\n') into line[Y4M_MAX_LINE + 1]. Returns its length, -1 at
 * end of file before any byte, -2 when too long or cut by the end of file. */
static long read_line(FILE *f, char *line)
{
    long n = 0;
    for (;;) {
        int c = getc(f);
        if (c == EOF)
            return n == 0 ? -1 : -2;
        if (c == '\n')
            break;
        if (n == Y4M_MAX_LINE)
            return -2;
        line[n++] = (char)c;
    }
    line[n] = 0;
    return n;
}

/* The next frame's planes into y->buf, looping at the end. */
static int y4m_next(y4m_src *y, char *err, size_t errsz)
{
    char line[Y4M_MAX_LINE + 1];
    long n = read_line(y->f, line);
    if (n == -1 && y->frames_this_pass > 0) { /* end of file: start over */
        if (fseek(y->f, y->data_start, SEEK_SET) != 0) {
            camrtc_errf(err, errsz, "y4m: %s: cannot rewind: %s", y->path, strerror(errno));
            return CAMRTC_EIO;
        }
        y->frames_this_pass = 0;
        n = read_line(y->f, line);
    }
    if (n == -1) {
        camrtc_errf(err, errsz, "y4m: %s: no frames", y->path);
        return CAMRTC_EPROTO;
    }
    if (n < 0 || y4m_parse_frame_line(line, (size_t)n) < 0) {
        camrtc_errf(err, errsz, "y4m: %s: frame %llu: expected a FRAME line", y->path,
                   (unsigned long long)y->frames_this_pass);
        return CAMRTC_EPROTO;
    }
    if (fread(y->buf, 1, y->info.frame_bytes, y->f) != y->info.frame_bytes) {
        camrtc_errf(err, errsz, "y4m: %s: frame %llu truncated", y->path,
                   (unsigned long long)y->frames_this_pass);
        return ferror(y->f) ? CAMRTC_EIO : CAMRTC_EPROTO;
    }
    y->frames_this_pass++;
    return CAMRTC_OK;
}

static int y4m_read(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz)
{
    y4m_src *y = (y4m_src *)s;
    int rc = y4m_next(y, err, errsz);
    if (rc < 0)
        return rc;
    int w = y->info.width, h = y->info.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    *out = (camrtc_frame){
        .fmt = CAMRTC_PIX_I420,
        .width = w,
        .height = h,
        .plane = {y->buf, y->buf + (size_t)w * h, y->buf + (size_t)w * h + (size_t)cw * ch},
        .stride = {w, cw, cw},
        .bytes = y->info.frame_bytes,
        .frame_id = y->next_id++,
        .capture_us = camrtc_now_us(),
    };
    return CAMRTC_OK;
}

static void y4m_close(camrtc_source *s)
{
    y4m_src *y = (y4m_src *)s;
    if (y->f)
        fclose(y->f);
    free(y->buf);
    free(y->path);
    free(y);
}

static const source_ops y4m_ops = {.read = y4m_read, .close = y4m_close};

/* Open, parse the header, and read the first frame once so a file without a whole
 * frame fails here rather than later. */
static int y4m_start(y4m_src *y, char *err, size_t errsz)
{
    y->f = fopen(y->path, "rb");
    if (!y->f) {
        camrtc_errf(err, errsz, "y4m: %s: %s", y->path, strerror(errno));
        return errno == ENOENT ? CAMRTC_ENOTFOUND : CAMRTC_EIO;
    }
    char line[Y4M_MAX_LINE + 1];
    long n = read_line(y->f, line);
    if (n < 0) {
        camrtc_errf(err, errsz, "y4m: %s: no header line", y->path);
        return CAMRTC_EPROTO;
    }
    int rc = y4m_parse_header(line, (size_t)n, &y->info, err, errsz);
    if (rc < 0)
        return rc;
    y->data_start = ftell(y->f);
    y->buf = malloc(y->info.frame_bytes);
    if (!y->buf) {
        camrtc_errf(err, errsz, "y4m: out of memory");
        return CAMRTC_ENOMEM;
    }
    if ((rc = y4m_next(y, err, errsz)) < 0)
        return rc;
    if (fseek(y->f, y->data_start, SEEK_SET) != 0) {
        camrtc_errf(err, errsz, "y4m: %s: cannot rewind", y->path);
        return CAMRTC_EIO;
    }
    y->frames_this_pass = 0;
    return CAMRTC_OK;
}

camrtc_source *source_y4m_open(const char *path, const camrtc_source_config *cfg, char *err,
                               size_t errsz)
{
    y4m_src *y = calloc(1, sizeof *y);
    if (!y || !(y->path = strdup(path))) {
        free(y);
        camrtc_errf(err, errsz, "y4m: out of memory");
        return NULL;
    }
    if (y4m_start(y, err, errsz) < 0) {
        y4m_close(&y->base);
        return NULL;
    }
    y->base.ops = &y4m_ops;
    y->base.info = (camrtc_source_info){.width = y->info.width,
                                        .height = y->info.height,
                                        .fps = cfg->fps ? cfg->fps : y->info.fps,
                                        .fmt = CAMRTC_PIX_I420};
    return &y->base;
}
