/* "testsrc": draws the test pattern (testsrc.c) into one I420 frame it owns, stamped
 * with the frame counter and camrtc_now_us() at the moment of the read. */
#include <stdlib.h>

#include "camrtc/error.h"
#include "media/source_int.h"

typedef struct testsrc {
    camrtc_source base;
    camrtc_frame frame;
    uint64_t next_id;
} testsrc;

static int testsrc_read(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz)
{
    testsrc *t = (testsrc *)s;
    t->frame.frame_id = t->next_id++;
    t->frame.capture_us = camrtc_now_us();
    camrtc_testsrc_draw(&t->frame, t->frame.frame_id, t->frame.capture_us);
    *out = t->frame;
    return CAMRTC_OK;
}

static void testsrc_close(camrtc_source *s)
{
    testsrc *t = (testsrc *)s;
    camrtc_frame_free(&t->frame);
    free(t);
}

static const source_ops testsrc_ops = {.read = testsrc_read, .close = testsrc_close};

camrtc_source *source_testsrc_open(const camrtc_source_config *cfg, char *err, size_t errsz)
{
    testsrc *t = calloc(1, sizeof *t);
    if (!t) {
        camrtc_errf(err, errsz, "testsrc: out of memory");
        return NULL;
    }
    int w = cfg->width ? cfg->width : 1280, h = cfg->height ? cfg->height : 720;
    if (camrtc_frame_alloc_i420(&t->frame, w, h) < 0) {
        camrtc_errf(err, errsz, "testsrc: cannot allocate a %dx%d frame", w, h);
        free(t);
        return NULL;
    }
    t->base.ops = &testsrc_ops;
    t->base.info = (camrtc_source_info){
        .width = w, .height = h, .fps = cfg->fps ? cfg->fps : 30, .fmt = CAMRTC_PIX_I420};
    return &t->base;
}
