/* "y4m:PATH": raw I420 frames from a YUV4MPEG2 file, looped at its end.
 *
 * Each read returns the next frame, stamped with camrtc_now_us() at the read (the
 * caller paces reads at the frame rate). The frame's planes are read-only and point
 * into memory this source owns (the mapped file, or one frame's buffer when the file
 * cannot be mapped), valid until the next read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* ---- the file source -------------------------------------------------------------------- *
 *
 * Two ways to read, one behaviour:
 *   mapped   a regular file is mapped whole (read-only) and each frame's planes point
 *            straight into the mapping: no copy (the encoder reads the page cache), and
 *            the frame stays valid until the source is closed.
 *   stream   when mapping is not possible (a pipe or FIFO, a file larger than the
 *            address space, a file system without mmap), stdio reads each frame into
 *            one buffer, valid until the next read. A pipe cannot be rewound: it plays
 *            once and then reads end with CAMRTC_ECLOSED.
 * Both check every FRAME line and every frame's length, and loop at the end.
 *
 * A mapped file that shrinks under us would raise SIGBUS on the pages past its new end:
 * every read checks the size first (one fstat, far cheaper than the copy it replaces)
 * and fails cleanly (CAMRTC_EIO) once it has shrunk. What that cannot cover is a file
 * cut during the one frame time between the check and the encoder reading the planes;
 * a file being streamed is not expected to be rewritten in place (write a new file and
 * rename it over the old one: the mapping keeps the old one). A file that grows is read
 * as it was when opened. */

typedef struct y4m_src {
    camrtc_source base;
    char *path;
    y4m_info info;
    int fd;                   /* mapped: kept open for the size check */
    const uint8_t *map;       /* mapped: the whole file, or NULL when streaming */
    size_t map_len;
    size_t page;              /* mapped: the page size, for madvise */
    size_t pos;               /* mapped: offset of the next FRAME line */
    FILE *f;                  /* stream */
    bool seekable;            /* stream: false for a pipe (no loop) */
    bool pending;             /* stream: buf holds the first frame, not yet handed out */
    long data_start;          /* offset of the first FRAME line */
    uint8_t *buf;             /* stream: one frame's planes */
    const uint8_t *planes;    /* the current frame's planes (in map or buf) */
    uint64_t next_id;
    uint64_t frames_this_pass;
} y4m_src;

static int err_frame_line(y4m_src *y, char *err, size_t errsz)
{
    camrtc_errf(err, errsz, "y4m: %s: frame %llu: expected a FRAME line", y->path,
               (unsigned long long)y->frames_this_pass);
    return CAMRTC_EPROTO;
}

static int err_truncated(y4m_src *y, char *err, size_t errsz)
{
    camrtc_errf(err, errsz, "y4m: %s: frame %llu truncated", y->path,
               (unsigned long long)y->frames_this_pass);
    return CAMRTC_EPROTO;
}

static int err_no_frames(y4m_src *y, char *err, size_t errsz)
{
    camrtc_errf(err, errsz, "y4m: %s: no frames", y->path);
    return CAMRTC_EPROTO;
}

/* ---- mapped -------------------------------------------------------------------------- */

/* The size of the file now, or -1. */
static long long file_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
}

/* Ask the kernel to start reading [off, off + len) of the mapping (a hint: errors do
 * not matter). madvise wants a page-aligned start. */
static void map_prefetch(const y4m_src *y, size_t off, size_t len)
{
    if (off >= y->map_len)
        return;
    size_t start = off - off % y->page;
    size_t end = len > y->map_len - off ? y->map_len : off + len;
    madvise((void *)(y->map + start), end - start, MADV_WILLNEED);
}

/* The next frame's planes in place, looping at the end. */
static int map_next(y4m_src *y, char *err, size_t errsz)
{
    long long now = file_size(y->fd);
    if (now < 0 || (unsigned long long)now < y->map_len) {
        camrtc_errf(err, errsz, "y4m: %s: the file shrank while in use (%lld of %zu bytes)",
                   y->path, now, y->map_len);
        return CAMRTC_EIO;
    }
    if (y->pos == y->map_len && y->frames_this_pass > 0) { /* end of file: start over */
        y->pos = (size_t)y->data_start;
        y->frames_this_pass = 0;
    }
    if (y->pos == y->map_len)
        return err_no_frames(y, err, errsz);
    const char *line = (const char *)y->map + y->pos;
    size_t rest = y->map_len - y->pos;
    const char *nl = memchr(line, '\n', rest < Y4M_MAX_LINE + 1 ? rest : Y4M_MAX_LINE + 1);
    if (!nl || y4m_parse_frame_line(line, (size_t)(nl - line)) < 0)
        return err_frame_line(y, err, errsz);
    size_t off = y->pos + (size_t)(nl - line) + 1;
    if (y->map_len - off < y->info.frame_bytes)
        return err_truncated(y, err, errsz);
    y->planes = y->map + off;
    y->pos = off + y->info.frame_bytes;
    y->frames_this_pass++;
    /* Read ahead the next frame (the first again at the end) while this one is encoded;
     * Y4M_MAX_LINE covers the longest FRAME line we accept. */
    size_t next = y->pos < y->map_len ? y->pos : (size_t)y->data_start;
    map_prefetch(y, next, y->info.frame_bytes + Y4M_MAX_LINE + 1);
    return CAMRTC_OK;
}

/* Map a regular file whole. false (nothing changed) when it cannot be: the caller then
 * streams it. */
static bool map_file(y4m_src *y)
{
    struct stat st;
    if (fstat(y->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (unsigned long long)st.st_size > SIZE_MAX)
        return false;
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, y->fd, 0);
    if (m == MAP_FAILED)
        return false;
    long page = sysconf(_SC_PAGESIZE);
    y->map = m;
    y->map_len = (size_t)st.st_size;
    y->page = page > 0 ? (size_t)page : 4096;
    /* Frames are read front to back: read ahead eagerly (the kernel may also drop pages
     * behind us sooner under memory pressure). */
    madvise(m, y->map_len, MADV_SEQUENTIAL);
    return true;
}

/* The header, then the first frame once so a file without a whole frame fails here. */
static int map_start(y4m_src *y, char *err, size_t errsz)
{
    const char *s = (const char *)y->map;
    const char *nl = memchr(s, '\n', y->map_len < Y4M_MAX_LINE + 1 ? y->map_len : Y4M_MAX_LINE + 1);
    if (!nl) {
        camrtc_errf(err, errsz, "y4m: %s: no header line", y->path);
        return CAMRTC_EPROTO;
    }
    int rc = y4m_parse_header(s, (size_t)(nl - s), &y->info, err, errsz);
    if (rc < 0)
        return rc;
    y->pos = (size_t)(nl - s) + 1;
    y->data_start = (long)y->pos;
    if ((rc = map_next(y, err, errsz)) < 0)
        return rc;
    y->pos = (size_t)y->data_start;
    y->frames_this_pass = 0;
    return CAMRTC_OK;
}

/* ---- stream -------------------------------------------------------------------------- */

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

/* The next frame's planes into y->buf, looping at the end (a pipe: CAMRTC_ECLOSED). */
static int stream_next(y4m_src *y, char *err, size_t errsz)
{
    if (y->pending) {              /* a pipe's first frame, read at open */
        y->pending = false;
        y->frames_this_pass++;
        return CAMRTC_OK;
    }
    char line[Y4M_MAX_LINE + 1];
    long n = read_line(y->f, line);
    if (n == -1 && y->frames_this_pass > 0) { /* end of file: start over */
        if (!y->seekable)
            return CAMRTC_ECLOSED;
        if (fseek(y->f, y->data_start, SEEK_SET) != 0) {
            camrtc_errf(err, errsz, "y4m: %s: cannot rewind: %s", y->path, strerror(errno));
            return CAMRTC_EIO;
        }
        y->frames_this_pass = 0;
        n = read_line(y->f, line);
    }
    if (n == -1)
        return err_no_frames(y, err, errsz);
    if (n < 0 || y4m_parse_frame_line(line, (size_t)n) < 0)
        return err_frame_line(y, err, errsz);
    if (fread(y->buf, 1, y->info.frame_bytes, y->f) != y->info.frame_bytes) {
        int rc = err_truncated(y, err, errsz);
        return ferror(y->f) ? CAMRTC_EIO : rc;
    }
    y->frames_this_pass++;
    return CAMRTC_OK;
}

/* The header, then the first frame once so a file without a whole frame fails here; a
 * pipe keeps that frame for the first read instead of rewinding. Takes over y->fd. */
static int stream_start(y4m_src *y, char *err, size_t errsz)
{
    y->f = fdopen(y->fd, "rb");
    if (!y->f) {
        camrtc_errf(err, errsz, "y4m: %s: %s", y->path, strerror(errno));
        return CAMRTC_EIO;
    }
    y->fd = -1;                    /* fclose closes it */
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
    y->seekable = y->data_start >= 0;
    y->buf = malloc(y->info.frame_bytes);
    if (!y->buf) {
        camrtc_errf(err, errsz, "y4m: out of memory");
        return CAMRTC_ENOMEM;
    }
    y->planes = y->buf;
    if ((rc = stream_next(y, err, errsz)) < 0)
        return rc;
    y->frames_this_pass = 0;
    if (!y->seekable) {
        y->pending = true;
        return CAMRTC_OK;
    }
    if (fseek(y->f, y->data_start, SEEK_SET) != 0) {
        camrtc_errf(err, errsz, "y4m: %s: cannot rewind", y->path);
        return CAMRTC_EIO;
    }
    return CAMRTC_OK;
}

/* ---- the source ---------------------------------------------------------------------- */

static int y4m_read(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz)
{
    y4m_src *y = (y4m_src *)s;
    int rc = y->map ? map_next(y, err, errsz) : stream_next(y, err, errsz);
    if (rc < 0)
        return rc;
    int w = y->info.width, h = y->info.height, cw = (w + 1) / 2, ch = (h + 1) / 2;
    /* Read-only planes (a PROT_READ mapping when mapped): nothing writes into a source's
     * frame, and camrtc_frame has no const planes. */
    uint8_t *p = (uint8_t *)(uintptr_t)y->planes;
    *out = (camrtc_frame){
        .fmt = CAMRTC_PIX_I420,
        .width = w,
        .height = h,
        .plane = {p, p + (size_t)w * h, p + (size_t)w * h + (size_t)cw * ch},
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
    if (y->map)
        munmap((void *)(uintptr_t)y->map, y->map_len);
    if (y->f)
        fclose(y->f);
    if (y->fd >= 0)
        close(y->fd);
    free(y->buf);
    free(y->path);
    free(y);
}

static const source_ops y4m_ops = {.read = y4m_read, .close = y4m_close};

static int y4m_start(y4m_src *y, char *err, size_t errsz)
{
    y->fd = open(y->path, O_RDONLY | O_CLOEXEC);
    if (y->fd < 0) {
        int e = errno;
        camrtc_errf(err, errsz, "y4m: %s: %s", y->path, strerror(e));
        return e == ENOENT ? CAMRTC_ENOTFOUND : CAMRTC_EIO;
    }
    return map_file(y) ? map_start(y, err, errsz) : stream_start(y, err, errsz);
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
    y->fd = -1;
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
