/* Inside the sources: each kind embeds a camrtc_source as its first member and fills in
 * an ops table; source.c picks the kind from the spec's prefix. */
#ifndef CAMRTC_MEDIA_SOURCE_INT_H
#define CAMRTC_MEDIA_SOURCE_INT_H

#include <stdarg.h>
#include <stdio.h>

#include "camrtc/media.h"
#include "camrtc/str.h"

typedef struct source_ops {
    int (*read)(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz);
    int (*read_au)(camrtc_source *s, const uint8_t **au, size_t *len, bool *keyframe, char *err,
                   size_t errsz);
    void (*close)(camrtc_source *s);
} source_ops;

struct camrtc_source {
    const source_ops *ops;
    camrtc_source_info info;
};

/* Largest frame the file sources will hold in memory (a 4096x4096 I420 picture, or an
 * H.264 access unit). */
#define SOURCE_MAX_FRAME_BYTES ((size_t)4096 * 4096 * 3 / 2)
/* Largest whole H.264 stream file h264:FILE loads. */
#define SOURCE_MAX_H264_FILE ((size_t)256 << 20)
/* Largest width/height a source may deliver. */
#define SOURCE_MAX_DIM 4096

/* The kinds. path is the part of the spec after the prefix; cfg was checked by source.c. */
camrtc_source *source_testsrc_open(const camrtc_source_config *cfg, char *err, size_t errsz);
camrtc_source *source_y4m_open(const char *path, const camrtc_source_config *cfg, char *err,
                               size_t errsz);
camrtc_source *source_h264dir_open(const char *dir, const camrtc_source_config *cfg, char *err,
                                   size_t errsz);
camrtc_source *source_h264file_open(const char *path, const camrtc_source_config *cfg, char *err,
                                    size_t errsz);
camrtc_source *source_v4l2_open(const char *path, const camrtc_source_config *cfg, char *err,
                                size_t errsz);

#endif
