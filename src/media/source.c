/* Picks the source kind from the spec ("kind:argument") and forwards the calls. */
#include <string.h>

#include "camrtc/error.h"
#include "media/source_int.h"

#define SOURCE_MAX_FPS 240

/* A wanted size is 0 (use the source's own) or even and within 16..4096. */
static bool wanted_dim_ok(int v)
{
    return v == 0 || (v >= CAMRTC_FRAME_MIN_DIM && v <= SOURCE_MAX_DIM && !(v & 1));
}

static bool check_config(const camrtc_source_config *cfg, char *err, size_t errsz)
{
    if (!cfg || !cfg->spec || !*cfg->spec) {
        camrtc_errf(err, errsz, "no source given");
        return false;
    }
    if (!wanted_dim_ok(cfg->width) || !wanted_dim_ok(cfg->height) ||
        (cfg->width == 0) != (cfg->height == 0)) {
        camrtc_errf(err, errsz, "size %dx%d out of range (even, %d..%d, or 0x0 for the default)",
                   cfg->width, cfg->height, CAMRTC_FRAME_MIN_DIM, SOURCE_MAX_DIM);
        return false;
    }
    if (cfg->fps < 0 || cfg->fps > SOURCE_MAX_FPS) {
        camrtc_errf(err, errsz, "frame rate %d out of range (1..%d, or 0 for the default)",
                   cfg->fps, SOURCE_MAX_FPS);
        return false;
    }
    return true;
}

/* The argument after "prefix:" when spec starts with it, else NULL. */
static const char *arg_of(const char *spec, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(spec, prefix, n) != 0 || spec[n] != ':')
        return NULL;
    return spec + n + 1;
}

camrtc_source *camrtc_source_open(const camrtc_source_config *cfg, char *err, size_t errsz)
{
    camrtc_errf(err, errsz, "%s", "");
    if (!check_config(cfg, err, errsz))
        return NULL;
    const char *spec = cfg->spec, *arg;
    if (strcmp(spec, "testsrc") == 0)
        return source_testsrc_open(cfg, err, errsz);
    if ((arg = arg_of(spec, "y4m")) || (arg = arg_of(spec, "h264dir")) ||
        (arg = arg_of(spec, "h264")) || (arg = arg_of(spec, "v4l2"))) {
        if (!*arg) {
            camrtc_errf(err, errsz, "%s: missing path after ':'", spec);
            return NULL;
        }
        if (arg_of(spec, "y4m"))
            return source_y4m_open(arg, cfg, err, errsz);
        if (arg_of(spec, "h264dir"))
            return source_h264dir_open(arg, cfg, err, errsz);
        if (arg_of(spec, "h264"))
            return source_h264file_open(arg, cfg, err, errsz);
        return source_v4l2_open(arg, cfg, err, errsz);
    }
    camrtc_errf(err, errsz,
               "unknown source '%s' (testsrc, y4m:PATH, v4l2:/dev/videoN, h264dir:DIR, h264:FILE)",
               spec);
    return NULL;
}

void camrtc_source_close(camrtc_source *s)
{
    if (s)
        s->ops->close(s);
}

const camrtc_source_info *camrtc_source_get_info(const camrtc_source *s)
{
    return s ? &s->info : NULL;
}

int camrtc_source_read(camrtc_source *s, camrtc_frame *out, char *err, size_t errsz)
{
    if (!s || !out)
        return CAMRTC_EINVAL;
    if (!s->ops->read) {
        camrtc_errf(err, errsz, "this source delivers H.264 access units, not raw frames");
        return CAMRTC_ESTATE;
    }
    return s->ops->read(s, out, err, errsz);
}

int camrtc_source_read_au(camrtc_source *s, const uint8_t **au, size_t *len, bool *keyframe,
                          char *err, size_t errsz)
{
    if (!s || !au || !len || !keyframe)
        return CAMRTC_EINVAL;
    if (!s->ops->read_au) {
        camrtc_errf(err, errsz, "this source delivers raw frames, not H.264 access units");
        return CAMRTC_ESTATE;
    }
    return s->ops->read_au(s, au, len, keyframe, err, errsz);
}
