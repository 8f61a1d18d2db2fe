/* Fuzzes the YUV4MPEG2 parser on memory: the header line, FRAME lines, and the walk over
 * a whole file (src/media/y4m_int.h). Whatever y4m_scan accepts must be consistent: a
 * positive frame count whose frames fit in the input, sizes within bounds.
 *
 * Then the y4m source itself reads the same bytes both ways it can (src/media/src_y4m.c):
 * mapped, from a memfd, and streamed, from a pipe. It must agree with y4m_scan: when the
 * scan finds n frames, the mapped source loops over them (frame n is frame 0 again, at
 * the same place in the mapping) and the pipe gives n frames then CAMRTC_ECLOSED; when
 * the scan fails, both fail (at open, or on a read within the first pass). */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "media/y4m_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CHECKED 512          /* frames whose place is remembered for the loop check */

static camrtc_source *open_fd(int fd)
{
    char spec[64];
    snprintf(spec, sizeof spec, "y4m:/proc/self/fd/%d", fd);
    char err[128];
    camrtc_source_config cfg = {.spec = spec};
    return camrtc_source_open(&cfg, err, sizeof err);
}

/* Touch a frame's first and last byte (a read past the mapping would fault). */
static void touch(const camrtc_frame *f)
{
    size_t c = (size_t)(f->width / 2) * (size_t)(f->height / 2);
    volatile uint8_t sink = f->plane[0][0] ^ f->plane[2][c - 1];
    (void)sink;
}

/* Reads until an error; returns how many frames came before it (at most limit + 1). */
static int read_until_error(camrtc_source *s, int limit, int *last_rc)
{
    char err[128];
    for (int i = 0; i <= limit; i++) {
        camrtc_frame f;
        *last_rc = camrtc_source_read(s, &f, err, sizeof err);
        if (*last_rc < 0)
            return i;
        touch(&f);
    }
    return limit + 1;
}

static void check_mapped(const uint8_t *data, size_t size, int n)
{
    int fd = memfd_create("fuzz_y4m", MFD_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return;
    }
    camrtc_source *s = open_fd(fd);
    close(fd);                   /* the source opened its own descriptor */
    if (n <= 0) {
        /* Each frame takes at least "FRAME\n" and 16x16 4:2:0 (384 bytes). */
        int rc = 0;
        if (s && read_until_error(s, (int)(size / 390) + 1, &rc) > (int)(size / 390))
            abort();             /* the scan failed, but the source read on and on */
        camrtc_source_close(s);
        return;
    }
    if (!s)
        abort();                 /* the scan accepted it */
    static const uint8_t *first[MAX_CHECKED];
    char err[128];
    for (int i = 0; i < 2 * n && i < 2 * MAX_CHECKED; i++) {
        camrtc_frame f;
        if (camrtc_source_read(s, &f, err, sizeof err) != 0 || f.frame_id != (uint64_t)i)
            abort();
        touch(&f);
        if (i < n && i < MAX_CHECKED)
            first[i] = f.plane[0];
        else if (i >= n && i - n < MAX_CHECKED && f.plane[0] != first[i - n])
            abort();             /* the second pass is the first one again */
    }
    camrtc_source_close(s);
}

static void check_pipe(const uint8_t *data, size_t size, int n)
{
    int fds[2];
    if (pipe(fds) != 0)
        return;
    /* Never block: bytes the pipe cannot hold at once are not tried. */
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    bool wrote = size == 0 || write(fds[1], data, size) == (ssize_t)size;
    close(fds[1]);
    camrtc_source *s = wrote ? open_fd(fds[0]) : NULL;
    close(fds[0]);
    if (!wrote)
        return;
    int rc = 0;
    if (n > 0) {
        if (!s || read_until_error(s, n, &rc) != n || rc != CAMRTC_ECLOSED)
            abort();             /* n frames, then the end of the stream */
    } else if (s) {
        int got = read_until_error(s, (int)(size / 390) + 1, &rc);
        if (got > (int)(size / 390) || rc == CAMRTC_ECLOSED)
            abort();             /* the scan failed: so must a read, not end cleanly */
    }
    camrtc_source_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    y4m_info info;
    char err[128];
    int n = y4m_scan(data, size, &info, err, sizeof err);
    if (n > 0) {
        if (info.width < 16 || info.height < 16 || (info.width & 1) || (info.height & 1) || info.width > 4096 || info.height > 4096 ||
            info.fps < 1 || info.fps > 240)
            abort();
        /* Each frame needs at least "FRAME\n" plus its planes. */
        if ((size_t)n > size / (info.frame_bytes + 6))
            abort();
    } else if (n == 0 || strlen(err) == 0) {
        abort(); /* a failure always says why */
    }
    /* The line parsers on their own, on the whole input as one line. */
    y4m_parse_header((const char *)data, size, &info, err, sizeof err);
    y4m_parse_frame_line((const char *)data, size);
    check_mapped(data, size, n);
    check_pipe(data, size, n);
    return 0;
}
