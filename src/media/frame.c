/* I420 frame planes: one allocation holding Y, then U, then V, so a frame has one owner
 * and one free. */
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/media.h"

int camrtc_frame_alloc_i420(camrtc_frame *f, int w, int h)
{
    if (!f)
        return CAMRTC_EINVAL;
    memset(f, 0, sizeof *f);
    if (w < CAMRTC_FRAME_MIN_DIM || h < CAMRTC_FRAME_MIN_DIM || w > CAMRTC_FRAME_MAX_DIM ||
        h > CAMRTC_FRAME_MAX_DIM || (w & 1) || (h & 1))
        return CAMRTC_EINVAL;
    size_t ysize = (size_t)w * (size_t)h;
    size_t csize = ysize / 4;
    uint8_t *mem = malloc(ysize + 2 * csize);
    if (!mem)
        return CAMRTC_ENOMEM;
    f->fmt = CAMRTC_PIX_I420;
    f->width = w;
    f->height = h;
    f->plane[0] = mem;
    f->plane[1] = mem + ysize;
    f->plane[2] = mem + ysize + csize;
    f->stride[0] = w;
    f->stride[1] = w / 2;
    f->stride[2] = w / 2;
    f->bytes = ysize + 2 * csize;
    return CAMRTC_OK;
}

void camrtc_frame_free(camrtc_frame *f)
{
    if (!f)
        return;
    free(f->plane[0]);
    memset(f, 0, sizeof *f);
}
