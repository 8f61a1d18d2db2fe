/* Fuzzes the H.264 Annex-B helpers: camrtc_h264_split, camrtc_h264_find_sps,
 * camrtc_h264_sps_size (an Exp-Golomb bit reader), camrtc_h264_read_camrtc_sei (on the whole
 * input as one NAL and on every NAL split out of it) and the
 * access-unit splitter (src/media/h264_int.h). Every NAL handed out must lie inside the
 * input and never end in a zero byte; access units must tile forward through the input. */
#include <stdint.h>
#include <stdlib.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "media/h264_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct span {
    const uint8_t *base;
    size_t size;
    size_t count;
} span;

static void on_nal(void *user, const uint8_t *nal, size_t len)
{
    span *s = user;
    if (len == 0 || nal < s->base || nal + len > s->base + s->size || nal[len - 1] == 0)
        abort();
    s->count++;
    /* The SEI reader on every unit: an answer from the documented set, nothing else. */
    uint64_t id;
    camrtc_time_us cap;
    int r = camrtc_h264_read_camrtc_sei(nal, len, &id, &cap);
    if (r != CAMRTC_OK && r != CAMRTC_ENOTFOUND && r != CAMRTC_EPROTO)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    span s = {data, size, 0};
    int n = camrtc_h264_split(data, size, on_nal, &s);
    if (n >= 0 && (size_t)n != s.count)
        abort();

    uint64_t id;
    camrtc_time_us cap;
    int r = camrtc_h264_read_camrtc_sei(data, size, &id, &cap);
    if (r != CAMRTC_OK && r != CAMRTC_ENOTFOUND && r != CAMRTC_EPROTO && !(r == CAMRTC_EINVAL && !data))
        abort();

    uint8_t p, c, l;
    camrtc_h264_find_sps(data, size, &p, &c, &l);
    int w = 0, h = 0;
    if (camrtc_h264_sps_size(data, size, &w, &h) == 0 && (w <= 0 || h <= 0 || w > 16384 || h > 32768))
        abort();

    size_t off = 0, start, len, last_end = 0;
    bool key, slice;
    int rc;
    for (size_t guard = 0; guard <= size; guard++) {
        size_t before = off;
        rc = h264_next_au(data, size, &off, &start, &len, &key, &slice);
        if (rc <= 0)
            break;
        if (start < last_end || start + len > size || len == 0 || off <= before || off > size)
            abort();
        last_end = start + len;
    }
    return 0;
}
