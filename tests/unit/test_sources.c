/* The sources behind camrtc_source_open: testsrc, y4m:PATH (files written here, in a
 * temporary directory), h264dir:DIR and h264:FILE (committed samples), and the clear
 * errors for bad specs, sizes, headers, truncated and garbage files. */
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "check.h"

/* ---- helpers ------------------------------------------------------------------------ */

static char tmpdir[256];

static bool make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/camrtc_test_sources_XXXXXX");
    return mkdtemp(tmpdir) != NULL;
}

/* Files written under tmpdir, removed at the end. */
static char written[48][300];
static int nwritten;

static const char *tmpfile_write(const char *name, const void *data, size_t len)
{
    if (nwritten == 48)
        return NULL;
    char *path = written[nwritten++];
    snprintf(path, 300, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    fwrite(data, 1, len, f);
    fclose(f);
    return path;
}

static const char *data_path(const char *name)
{
    static char path[1024];
    const char *dir = getenv("CAMRTC_TEST_DATA");
    snprintf(path, sizeof path, "%s/media/%s", dir ? dir : "tests/unit/data", name);
    return path;
}

static uint8_t *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 16);
    *len = buf ? fread(buf, 1, 1 << 16, f) : 0;
    fclose(f);
    return buf;
}

/* Open spec; on failure keep the reason in err. */
static camrtc_source *open_spec(const char *spec, int w, int h, int fps, char *err, size_t errsz)
{
    camrtc_source_config cfg = {.spec = spec, .width = w, .height = h, .fps = fps};
    return camrtc_source_open(&cfg, err, errsz);
}

static bool contains(const char *s, const char *sub)
{
    if (!strstr(s, sub)) {
        fprintf(stderr, "  \"%s\" lacks \"%s\"\n", s, sub);
        return false;
    }
    return true;
}

/* Expect open to fail with a reason containing sub. */
static bool fails_with(const char *spec, int w, int h, int fps, const char *sub)
{
    char err[256] = "";
    camrtc_source *s = open_spec(spec, w, h, fps, err, sizeof err);
    if (s) {
        fprintf(stderr, "  %s opened\n", spec);
        camrtc_source_close(s);
        return false;
    }
    return contains(err, sub);
}

/* ---- testsrc and the spec ------------------------------------------------------------------ */

TEST(testsrc_defaults_and_frames)
{
    char err[256];
    camrtc_source *s = open_spec("testsrc", 0, 0, 0, err, sizeof err);
    CHECK(s);
    const camrtc_source_info *in = camrtc_source_get_info(s);
    bool info_ok = in->width == 1280 && in->height == 720 && in->fps == 30 && !in->encoded &&
                   !in->blocking && in->fmt == CAMRTC_PIX_I420;
    int bad = 0;
    for (uint64_t i = 0; i < 3; i++) {
        camrtc_frame f;
        uint64_t id = 99;
        camrtc_time_us t = 0;
        if (camrtc_source_read(s, &f, err, sizeof err) != 0 || f.frame_id != i || f.width != 1280 ||
            f.capture_us == 0 || camrtc_testsrc_read(&f, &id, &t) != 0 || id != i ||
            t != ((f.capture_us / 1000) % (1u << 24)) * 1000)
            bad++;
    }
    const uint8_t *au;
    size_t len;
    bool key;
    int rc_au = camrtc_source_read_au(s, &au, &len, &key, err, sizeof err);
    camrtc_source_close(s);
    CHECK(info_ok);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(rc_au, CAMRTC_ESTATE);
}

TEST(testsrc_any_size_and_rate)
{
    char err[256];
    static const int sizes[][2] = {{16, 16}, {320, 240}, {4096, 2160}, {1920, 1080}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        camrtc_source *s = open_spec("testsrc", sizes[i][0], sizes[i][1], 15, err, sizeof err);
        CHECK(s);
        camrtc_frame f;
        int rc = camrtc_source_read(s, &f, err, sizeof err);
        int fps = camrtc_source_get_info(s)->fps;
        bool same = f.width == sizes[i][0] && f.height == sizes[i][1];
        camrtc_source_close(s);
        CHECK_EQ_INT(rc, 0);
        CHECK(same);
        CHECK_EQ_INT(fps, 15);
    }
}

TEST(absurd_config_is_refused_clearly)
{
    CHECK(fails_with("testsrc", 17, 16, 0, "out of range"));
    CHECK(fails_with("testsrc", -2, 16, 0, "out of range"));
    CHECK(fails_with("testsrc", 8, 8, 0, "out of range"));
    CHECK(fails_with("testsrc", 100000, 720, 0, "out of range"));
    CHECK(fails_with("testsrc", 1280, 0, 0, "out of range"));
    CHECK(fails_with("testsrc", 0, 0, 1000, "frame rate"));
    CHECK(fails_with("testsrc", 0, 0, -1, "frame rate"));
    CHECK(fails_with("webcam", 0, 0, 0, "unknown source"));
    CHECK(fails_with("testsrcx", 0, 0, 0, "unknown source"));
    CHECK(fails_with("y4m:", 0, 0, 0, "missing path"));
    CHECK(fails_with("", 0, 0, 0, "no source"));
    char err[64];
    CHECK(camrtc_source_open(NULL, err, sizeof err) == NULL);
    CHECK(camrtc_source_open(&(camrtc_source_config){0}, NULL, 0) == NULL);
}

/* ---- y4m ------------------------------------------------------------------------------- */

#define YW 32
#define YH 16
#define YFRAME (YW * YH * 3 / 2)

/* The bytes of a y4m file of header + n frames (frame k's bytes all k + 1), in a static
 * buffer; *len its length. */
static const uint8_t *y4m_bytes(const char *header, int n, size_t *len)
{
    static uint8_t buf[8192];
    *len = strlen(header);
    memcpy(buf, header, *len);
    for (int k = 0; k < n; k++) {
        const char *fl = k == 1 ? "FRAME Ixyz\n" : "FRAME\n"; /* parameters are allowed */
        memcpy(buf + *len, fl, strlen(fl));
        *len += strlen(fl);
        memset(buf + *len, k + 1, YFRAME);
        *len += YFRAME;
    }
    return buf;
}

/* That file, cut to keep bytes (0: whole). */
static const char *write_y4m(const char *name, const char *header, int n, size_t keep)
{
    size_t len;
    const uint8_t *buf = y4m_bytes(header, n, &len);
    return tmpfile_write(name, buf, keep && keep < len ? keep : len);
}

static char spec_buf[1200];
static const char *spec_of(const char *kind, const char *path)
{
    snprintf(spec_buf, sizeof spec_buf, "%s:%s", kind, path ? path : "(null)");
    return spec_buf;
}

TEST(y4m_reads_and_loops)
{
    const char *p = write_y4m("good.y4m", "YUV4MPEG2 W32 H16 F25:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n",
                              3, 0);
    CHECK(p);
    char err[256];
    camrtc_source *s = open_spec(spec_of("y4m", p), 0, 0, 0, err, sizeof err);
    if (!s)
        fprintf(stderr, "  %s\n", err);
    CHECK(s);
    const camrtc_source_info *in = camrtc_source_get_info(s);
    bool info_ok = in->width == YW && in->height == YH && in->fps == 25 && !in->encoded &&
                   in->fmt == CAMRTC_PIX_I420;
    int bad = 0;
    for (int i = 0; i < 7; i++) {
        camrtc_frame f;
        int v = i % 3 + 1;
        if (camrtc_source_read(s, &f, err, sizeof err) != 0 || f.frame_id != (uint64_t)i ||
            f.width != YW || f.height != YH || f.plane[0][0] != v || f.plane[0][YW * YH - 1] != v ||
            f.plane[1][0] != v || f.plane[2][YW * YH / 4 - 1] != v || f.capture_us == 0)
            bad++;
    }
    camrtc_source_close(s);
    CHECK(info_ok);
    CHECK_EQ_INT(bad, 0);
}

/* A file is mapped, not copied: each frame's planes point into the file's bytes, so
 * frame 1 starts exactly one FRAME line and one frame after frame 0, and the second pass
 * hands out the same memory again. */
TEST(y4m_frames_point_into_the_mapped_file)
{
    const char *p = write_y4m("mapped.y4m", "YUV4MPEG2 W32 H16\n", 3, 0);
    char err[256];
    camrtc_source *s = open_spec(spec_of("y4m", p), 0, 0, 0, err, sizeof err);
    CHECK(s);
    const uint8_t *y[4] = {0};
    for (int i = 0; i < 4; i++) {
        camrtc_frame f;
        if (camrtc_source_read(s, &f, err, sizeof err) == 0)
            y[i] = f.plane[0];
    }
    camrtc_source_close(s);
    CHECK(y[0] && y[1] && y[3]);
    CHECK(y[1] - y[0] == (ptrdiff_t)(strlen("FRAME Ixyz\n") + YFRAME));
    CHECK(y[3] == y[0]);
}

/* A file that shrinks while mapped: the next read fails cleanly instead of touching a
 * page past the new end (SIGBUS). */
TEST(y4m_file_shrinking_while_open_is_an_error)
{
    const char *hdr = "YUV4MPEG2 W32 H16\n";
    const char *p = write_y4m("shrinks.y4m", hdr, 3, 0);
    char err[256] = "";
    camrtc_source *s = open_spec(spec_of("y4m", p), 0, 0, 0, err, sizeof err);
    CHECK(s);
    camrtc_frame f;
    int rc0 = camrtc_source_read(s, &f, err, sizeof err);
    int cut = truncate(p, (off_t)(strlen(hdr) + 6 + YFRAME));
    int rc1 = camrtc_source_read(s, &f, err, sizeof err);
    int rc2 = camrtc_source_read(s, &f, err, sizeof err);
    camrtc_source_close(s);
    CHECK_EQ_INT(rc0, 0);
    CHECK_EQ_INT(cut, 0);
    CHECK_EQ_INT(rc1, CAMRTC_EIO);
    CHECK(contains(err, "shrank"));
    CHECK_EQ_INT(rc2, CAMRTC_EIO);
}

/* y4m from a pipe, "y4m:/dev/fd/N" (as `ffmpeg -f yuv4mpegpipe -` would feed it). The
 * pipe holds every byte and its write end is closed before the source opens it (an
 * anonymous pipe opens without waiting for a writer), so reads never block: the source
 * sees the bytes, then the end of the stream. */
static camrtc_source *open_pipe(const uint8_t *bytes, size_t len, char *err, size_t errsz)
{
    int fds[2];
    if (len > 4096 || pipe(fds) != 0)  /* 4096: within any pipe's buffer, no blocking */
        return NULL;
    bool wrote = write(fds[1], bytes, len) == (ssize_t)len;
    close(fds[1]);
    camrtc_source *s = NULL;
    if (wrote) {
        char path[64];
        snprintf(path, sizeof path, "/dev/fd/%d", fds[0]);
        s = open_spec(spec_of("y4m", path), 0, 0, 0, err, errsz);
    }
    close(fds[0]);                 /* the source opened its own descriptor */
    return s;
}

TEST(y4m_pipe_plays_once_then_ends)
{
    size_t len;
    const uint8_t *b = y4m_bytes("YUV4MPEG2 W32 H16 F25:1\n", 3, &len);
    char err[256] = "";
    camrtc_source *s = open_pipe(b, len, err, sizeof err);
    if (!s)
        fprintf(stderr, "  %s\n", err);
    CHECK(s);
    int bad = 0, rc[2];
    for (int i = 0; i < 3; i++) {
        camrtc_frame f;
        if (camrtc_source_read(s, &f, err, sizeof err) != 0 || f.frame_id != (uint64_t)i ||
            f.plane[0][0] != i + 1 || f.plane[2][YW * YH / 4 - 1] != i + 1)
            bad++;
    }
    for (int i = 0; i < 2; i++) {
        camrtc_frame f;
        rc[i] = camrtc_source_read(s, &f, err, sizeof err);
    }
    CHECK_EQ_INT(camrtc_source_get_info(s)->fps, 25);
    camrtc_source_close(s);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(rc[0], CAMRTC_ECLOSED);
    CHECK_EQ_INT(rc[1], CAMRTC_ECLOSED);
}

TEST(y4m_pipe_truncated_and_empty)
{
    const char *hdr = "YUV4MPEG2 W32 H16\n";
    size_t len;
    const uint8_t *b = y4m_bytes(hdr, 3, &len);
    char err[256] = "";
    camrtc_source *s = open_pipe(b, len - YFRAME / 2, err, sizeof err);
    CHECK(s);
    int rc[3];
    for (int i = 0; i < 3; i++) {
        camrtc_frame f;
        rc[i] = camrtc_source_read(s, &f, err, sizeof err);
    }
    camrtc_source_close(s);
    CHECK_EQ_INT(rc[0], 0);
    CHECK_EQ_INT(rc[1], 0);
    CHECK_EQ_INT(rc[2], CAMRTC_EPROTO);
    CHECK(contains(err, "frame 2 truncated"));
    /* A header and no frame, or nothing at all: fails at open, as a file does. */
    CHECK(!open_pipe((const uint8_t *)hdr, strlen(hdr), err, sizeof err));
    CHECK(contains(err, "no frames"));
    CHECK(!open_pipe((const uint8_t *)"", 0, err, sizeof err));
    CHECK(contains(err, "no header line"));
}

TEST(y4m_header_defaults_and_rate_override)
{
    /* No F (30 assumed), no C (4:2:0 assumed), 30000:1001 rounds to 30. */
    const char *p1 = write_y4m("nof.y4m", "YUV4MPEG2 W32 H16\n", 1, 0);
    const char *p2 = write_y4m("ntsc.y4m", "YUV4MPEG2 H16 W32 F30000:1001 C420mpeg2\n", 1, 0);
    char err[256];
    camrtc_source *a = open_spec(spec_of("y4m", p1), 0, 0, 0, err, sizeof err);
    camrtc_source *b = open_spec(spec_of("y4m", p2), 0, 0, 0, err, sizeof err);
    camrtc_source *c = open_spec(spec_of("y4m", p2), 0, 0, 12, err, sizeof err);
    int fa = a ? camrtc_source_get_info(a)->fps : -1;
    int fb = b ? camrtc_source_get_info(b)->fps : -1;
    int fc = c ? camrtc_source_get_info(c)->fps : -1;
    camrtc_source_close(a);
    camrtc_source_close(b);
    camrtc_source_close(c);
    CHECK_EQ_INT(fa, 30);
    CHECK_EQ_INT(fb, 30);
    CHECK_EQ_INT(fc, 12);
}

TEST(y4m_truncated)
{
    const char *hdr = "YUV4MPEG2 W32 H16 F30:1\n";
    size_t two = strlen(hdr) + 2 * (6 + YFRAME) + 5; /* two frames and change */
    const char *p = write_y4m("cut.y4m", hdr, 3, two + YFRAME / 2);
    char err[256] = "";
    camrtc_source *s = open_spec(spec_of("y4m", p), 0, 0, 0, err, sizeof err);
    CHECK(s);
    camrtc_frame f;
    int rc[3];
    for (int i = 0; i < 3; i++)
        rc[i] = camrtc_source_read(s, &f, err, sizeof err);
    camrtc_source_close(s);
    CHECK_EQ_INT(rc[0], 0);
    CHECK_EQ_INT(rc[1], 0);
    CHECK_EQ_INT(rc[2], CAMRTC_EPROTO);
    CHECK(contains(err, "frame 2 truncated"));
    /* Cut inside the first frame: fails at open. */
    p = write_y4m("cut1.y4m", hdr, 1, strlen(hdr) + 6 + 100);
    CHECK(fails_with(spec_of("y4m", p), 0, 0, 0, "truncated"));
}

TEST(y4m_bad_headers)
{
    static const struct {
        const char *header, *why;
    } cases[] = {
        {"YUV4MPEG3 W32 H16\n", "bad magic"},
        {"YUV4MPEG2W32 H16\n", "bad magic"},
        {"RIFF....WAVEfmt \n", "bad magic"},
        {"YUV4MPEG2 W32 H16 C444\n", "'444' not supported"},
        {"YUV4MPEG2 W32 H16 C420p10\n", "not supported"},
        {"YUV4MPEG2 W32 H16 Cmono\n", "not supported"},
        {"YUV4MPEG2 H16 F30:1\n", "no W or H"},
        {"YUV4MPEG2 W0 H16\n", "bad width"},
        {"YUV4MPEG2 W32 H99999\n", "bad height"},
        {"YUV4MPEG2 W-32 H16\n", "bad width"},
        {"YUV4MPEG2 W33 H16\n", "bad width '33' (even, 16..4096)"},
        {"YUV4MPEG2 W8 H16\n", "bad width"},
        {"YUV4MPEG2 W32 H16 F30:0\n", "bad frame rate"},
        {"YUV4MPEG2 W32 H16 F30\n", "bad frame rate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.y4m", i);
        const char *p = write_y4m(name, cases[i].header, 1, 0);
        CHECK(p);
        CHECK(fails_with(spec_of("y4m", p), 0, 0, 0, cases[i].why));
    }
    nwritten -= (int)(sizeof cases / sizeof cases[0]);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        unlink(written[nwritten + (int)i]);
}

TEST(y4m_no_frames_garbage_and_missing)
{
    const char *hdr = "YUV4MPEG2 W32 H16\n";
    const char *p = tmpfile_write("empty_body.y4m", hdr, strlen(hdr));
    CHECK(fails_with(spec_of("y4m", p), 0, 0, 0, "no frames"));
    p = tmpfile_write("empty.y4m", "", 0);
    CHECK(fails_with(spec_of("y4m", p), 0, 0, 0, "no header"));
    char junk[200];
    snprintf(junk, sizeof junk, "%sFRAMES\n%s", hdr, "0123456789");
    p = tmpfile_write("junk.y4m", junk, strlen(junk));
    CHECK(fails_with(spec_of("y4m", p), 0, 0, 0, "expected a FRAME line"));
    CHECK(fails_with("y4m:/nonexistent/camrtc.y4m", 0, 0, 0, "No such file"));
}

/* ---- h264dir and h264 ------------------------------------------------------------------ */

/* Read n units and compare each with h264dir/frame-XXXX.h264 (looping over 12). */
static int compare_units(camrtc_source *s, int n, int *keys)
{
    int bad = 0;
    char err[256];
    *keys = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *au;
        size_t len, want_len = 0;
        bool key;
        char name[64];
        snprintf(name, sizeof name, "h264dir/frame-%04d.h264", i % 12 + 1);
        uint8_t *want = load(data_path(name), &want_len);
        if (camrtc_source_read_au(s, &au, &len, &key, err, sizeof err) != 0 || !want ||
            len != want_len || memcmp(au, want, len) != 0)
            bad++;
        if (key)
            *keys |= 1 << i;
        free(want);
    }
    return bad;
}

TEST(h264dir_reads_in_order_and_loops)
{
    char err[256];
    camrtc_source *s = open_spec(spec_of("h264dir", data_path("h264dir")), 0, 0, 0, err, sizeof err);
    if (!s)
        fprintf(stderr, "  %s\n", err);
    CHECK(s);
    const camrtc_source_info *in = camrtc_source_get_info(s);
    /* The size comes from the stream's SPS (64x64). */
    bool info_ok = in->encoded && !in->blocking && in->fps == 30 && in->width == 64 &&
                   in->height == 64;
    int keys = 0;
    int bad = compare_units(s, 26, &keys);
    camrtc_frame f;
    int rc_raw = camrtc_source_read(s, &f, err, sizeof err);
    camrtc_source_close(s);
    CHECK(info_ok);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(keys, (1 << 0) | (1 << 6) | (1 << 12) | (1 << 18) | (1 << 24));
    CHECK_EQ_INT(rc_raw, CAMRTC_ESTATE);
}

TEST(h264file_splits_and_loops)
{
    char err[256];
    camrtc_source *s = open_spec(spec_of("h264", data_path("stream.h264")), 0, 0, 25, err,
                                 sizeof err);
    CHECK(s);
    int fps = camrtc_source_get_info(s)->fps;
    int keys = 0;
    int bad = compare_units(s, 25, &keys);
    camrtc_source_close(s);
    CHECK_EQ_INT(fps, 25);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(keys, (1 << 0) | (1 << 6) | (1 << 12) | (1 << 18) | (1 << 24));
}

TEST(h264_garbage_and_empty)
{
    static const char text[] = "this is not video, just some text\n";
    static const uint8_t params_only[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0, 0, 0, 1, 0x68, 0xce};
    CHECK(fails_with("h264:/nonexistent/x.h264", 0, 0, 0, "No such file"));
    const char *p = tmpfile_write("text.h264", text, sizeof text - 1);
    CHECK(fails_with(spec_of("h264", p), 0, 0, 0, "not an H.264"));
    p = tmpfile_write("zero.h264", "", 0);
    CHECK(fails_with(spec_of("h264", p), 0, 0, 0, "empty file"));
    p = tmpfile_write("params.h264", params_only, sizeof params_only);
    CHECK(fails_with(spec_of("h264", p), 0, 0, 0, "with slices"));
    /* Directories: missing, not a directory, without frames, with a garbage frame, empty frame. */
    CHECK(fails_with("h264dir:/nonexistent/dir", 0, 0, 0, "no such directory"));
    CHECK(fails_with(spec_of("h264dir", p), 0, 0, 0, "not a directory"));
    CHECK(fails_with(spec_of("h264dir", tmpdir), 0, 0, 0, "no frame-0001.h264"));
    p = tmpfile_write("frame-0001.h264", text, sizeof text - 1);
    CHECK(fails_with(spec_of("h264dir", tmpdir), 0, 0, 0, "not an H.264 access unit"));
    p = tmpfile_write("frame-0001.h264", "", 0);
    CHECK(fails_with(spec_of("h264dir", tmpdir), 0, 0, 0, "empty file"));
    unlink(p);
}

TEST(h264dir_bad_file_later_is_an_error_on_read)
{
    size_t len = 0;
    uint8_t *first = load(data_path("h264dir/frame-0001.h264"), &len);
    CHECK(first);
    tmpfile_write("frame-0001.h264", first, len);
    free(first);
    tmpfile_write("frame-0002.h264", "garbage", 7);
    char err[256];
    camrtc_source *s = open_spec(spec_of("h264dir", tmpdir), 0, 0, 0, err, sizeof err);
    CHECK(s);
    const uint8_t *au;
    size_t n;
    bool key = false;
    int rc1 = camrtc_source_read_au(s, &au, &n, &key, err, sizeof err);
    int rc2 = camrtc_source_read_au(s, &au, &n, &key, err, sizeof err);
    bool said = strstr(err, "frame-0002.h264") != NULL;
    camrtc_source_close(s);
    CHECK_EQ_INT(rc1, 0);
    CHECK_EQ_INT(rc2, CAMRTC_EPROTO);
    CHECK(said);
}

static void cleanup(void)
{
    for (int i = 0; i < nwritten; i++)
        unlink(written[i]);
    rmdir(tmpdir);
}

int main(void)
{
    if (!make_tmpdir()) {
        perror("mkdtemp");
        return 1;
    }
    int rc = RUN_TESTS(testsrc_defaults_and_frames, testsrc_any_size_and_rate,
                       absurd_config_is_refused_clearly, y4m_reads_and_loops,
                       y4m_frames_point_into_the_mapped_file,
                       y4m_file_shrinking_while_open_is_an_error, y4m_pipe_plays_once_then_ends,
                       y4m_pipe_truncated_and_empty,
                       y4m_header_defaults_and_rate_override, y4m_truncated, y4m_bad_headers,
                       y4m_no_frames_garbage_and_missing, h264dir_reads_in_order_and_loops,
                       h264file_splits_and_loops, h264_garbage_and_empty,
                       h264dir_bad_file_later_is_an_error_on_read);
    cleanup();
    return rc;
}
