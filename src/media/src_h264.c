/* Pre-encoded H.264 sources; their access units bypass the encoder.
 *
 * "h264dir:DIR": DIR/frame-0001.h264, frame-0002.h264, ... one Annex-B access unit per
 *   file (the layout of the sample frames shipped with the KVS WebRTC C SDK), read one
 *   file per call, looped after the last.
 * "h264:FILE": one Annex-B elementary stream, loaded whole and cut into access units
 *   by h264_next_au (H.264 7.4.1.2.3), looped.
 * A unit is a keyframe when it holds an IDR slice. Files are checked when they are
 * opened (the stream file entirely, the directory's first frame), so a wrong path or a
 * file that is not H.264 fails at open with a reason.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "camrtc/error.h"
#include "media/h264_int.h"
#include "media/source_int.h"

/* Bound on the number of frame files looked for in a directory. */
#define H264DIR_MAX_FILES 1000000

/* Read a whole file of at most max bytes into *buf, growing it (and *cap) only when the
 * file is larger than any before: reading frame after frame allocates nothing. */
static int load_file(const char *path, size_t max, uint8_t **buf, size_t *cap, size_t *len,
                     char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        camrtc_errf(err, errsz, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? CAMRTC_ENOTFOUND : CAMRTC_EIO;
    }
    int rc = CAMRTC_OK;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        camrtc_errf(err, errsz, "%s: cannot read", path);
        rc = CAMRTC_EIO;
    } else if (size == 0) {
        camrtc_errf(err, errsz, "%s: empty file", path);
        rc = CAMRTC_EPROTO;
    } else if ((unsigned long)size > max) {
        camrtc_errf(err, errsz, "%s: too large (%ld bytes, at most %zu)", path, size, max);
        rc = CAMRTC_ETOOBIG;
    } else if ((size_t)size > *cap) {
        uint8_t *nb = realloc(*buf, (size_t)size);
        if (!nb) {
            camrtc_errf(err, errsz, "%s: out of memory", path);
            rc = CAMRTC_ENOMEM;
        } else {
            *buf = nb;
            *cap = (size_t)size;
        }
    }
    if (rc == CAMRTC_OK && fread(*buf, 1, (size_t)size, f) != (size_t)size) {
        camrtc_errf(err, errsz, "%s: read failed", path);
        rc = CAMRTC_EIO;
    }
    if (rc == CAMRTC_OK)
        *len = (size_t)size;
    fclose(f);
    return rc;
}

/* Whether buf is valid Annex-B holding exactly one access unit with a slice. */
static int check_one_au(const uint8_t *buf, size_t len, bool *keyframe)
{
    if (camrtc_h264_split(buf, len, NULL, NULL) <= 0)
        return CAMRTC_EPROTO;
    size_t off = 0, start, n;
    bool slice = false;
    if (h264_next_au(buf, len, &off, &start, &n, keyframe, &slice) != 1 || !slice)
        return CAMRTC_EPROTO;
    /* More units after the first (a whole stream in one file) is fine for sending, as long
     * as the file is valid; the keyframe flag then describes the first. */
    return CAMRTC_OK;
}

/* The stream's own picture size, when its first SPS says it. */
static void sps_info(camrtc_source_info *info, const uint8_t *buf, size_t len)
{
    int w, h;
    if (camrtc_h264_sps_size(buf, len, &w, &h) == 0) {
        info->width = w;
        info->height = h;
    }
}

/* ---- h264dir ------------------------------------------------------------------------- */

typedef struct h264dir_src {
    camrtc_source base;
    char *dir;
    unsigned count;           /* frame-0001 .. frame-<count> exist */
    unsigned next;            /* 1-based */
    uint8_t *buf;             /* the current frame file, reused */
    size_t cap;
} h264dir_src;

static void frame_path(const h264dir_src *d, unsigned i, char *path, size_t n)
{
    snprintf(path, n, "%s/frame-%04u.h264", d->dir, i);
}

static int h264dir_read_au(camrtc_source *s, const uint8_t **au, size_t *len, bool *keyframe,
                           char *err, size_t errsz)
{
    h264dir_src *d = (h264dir_src *)s;
    if (d->next > d->count)
        d->next = 1;
    char path[4096];
    frame_path(d, d->next, path, sizeof path);
    size_t n = 0;
    char why[256];
    int rc = load_file(path, SOURCE_MAX_FRAME_BYTES, &d->buf, &d->cap, &n, why, sizeof why);
    if (rc < 0) {
        camrtc_errf(err, errsz, "h264dir: %s", why);
        return rc;
    }
    if (check_one_au(d->buf, n, keyframe) < 0) {
        camrtc_errf(err, errsz, "h264dir: %s: not an H.264 access unit (Annex-B)", path);
        return CAMRTC_EPROTO;
    }
    d->next++;
    *au = d->buf;
    *len = n;
    return CAMRTC_OK;
}

static void h264dir_close(camrtc_source *s)
{
    h264dir_src *d = (h264dir_src *)s;
    free(d->buf);
    free(d->dir);
    free(d);
}

static const source_ops h264dir_ops = {.read_au = h264dir_read_au, .close = h264dir_close};

camrtc_source *source_h264dir_open(const char *dir, const camrtc_source_config *cfg, char *err,
                                   size_t errsz)
{
    struct stat st;
    if (stat(dir, &st) != 0) {
        camrtc_errf(err, errsz, "h264dir: %s: %s", dir,
                   errno == ENOENT ? "no such directory" : strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        camrtc_errf(err, errsz, "h264dir: %s: not a directory", dir);
        return NULL;
    }
    h264dir_src *d = calloc(1, sizeof *d);
    if (!d || !(d->dir = strdup(dir))) {
        free(d);
        camrtc_errf(err, errsz, "h264dir: out of memory");
        return NULL;
    }
    d->base.ops = &h264dir_ops;
    char path[4096];
    while (d->count < H264DIR_MAX_FILES) {
        frame_path(d, d->count + 1, path, sizeof path);
        if (stat(path, &st) != 0)
            break;
        d->count++;
    }
    if (d->count == 0) {
        camrtc_errf(err, errsz, "h264dir: %s: no frame-0001.h264 in it", dir);
        h264dir_close(&d->base);
        return NULL;
    }
    /* Read the first frame now so garbage fails at open; the next read starts over. */
    const uint8_t *au;
    size_t n;
    bool key;
    d->next = 1;
    if (h264dir_read_au(&d->base, &au, &n, &key, err, errsz) < 0) {
        h264dir_close(&d->base);
        return NULL;
    }
    d->next = 1;
    d->base.info = (camrtc_source_info){
        .encoded = true, .width = cfg->width, .height = cfg->height, .fps = cfg->fps ? cfg->fps : 30};
    sps_info(&d->base.info, au, n);
    return &d->base;
}

/* ---- h264 (one stream file) ------------------------------------------------------------- */

typedef struct h264file_src {
    camrtc_source base;
    uint8_t *data;
    size_t len;
    size_t pos;
} h264file_src;

static int h264file_read_au(camrtc_source *s, const uint8_t **au, size_t *len, bool *keyframe,
                            char *err, size_t errsz)
{
    h264file_src *h = (h264file_src *)s;
    /* The stream was checked at open: it has at least one AU with a slice, so at most one
     * wrap plus the trailing slice-less units are passed before one is found. */
    for (int wraps = 0; wraps < 2;) {
        size_t start, n;
        bool slice;
        int rc = h264_next_au(h->data, h->len, &h->pos, &start, &n, keyframe, &slice);
        if (rc < 0) {
            camrtc_errf(err, errsz, "h264: malformed NAL unit");
            return rc;
        }
        if (rc == 0) {
            h->pos = 0;
            wraps++;
            continue;
        }
        if (!slice)
            continue;
        *au = h->data + start;
        *len = n;
        return CAMRTC_OK;
    }
    camrtc_errf(err, errsz, "h264: no access units");
    return CAMRTC_EPROTO;
}

static void h264file_close(camrtc_source *s)
{
    h264file_src *h = (h264file_src *)s;
    free(h->data);
    free(h);
}

static const source_ops h264file_ops = {.read_au = h264file_read_au, .close = h264file_close};

/* Every NAL valid and at least one access unit with a slice. */
static int check_stream(const uint8_t *buf, size_t len)
{
    if (camrtc_h264_split(buf, len, NULL, NULL) <= 0)
        return CAMRTC_EPROTO;
    size_t off = 0, start, n;
    bool key, slice, any_slice = false;
    int rc;
    while ((rc = h264_next_au(buf, len, &off, &start, &n, &key, &slice)) == 1)
        any_slice |= slice;
    return rc < 0 || !any_slice ? CAMRTC_EPROTO : CAMRTC_OK;
}

camrtc_source *source_h264file_open(const char *path, const camrtc_source_config *cfg, char *err,
                                    size_t errsz)
{
    h264file_src *h = calloc(1, sizeof *h);
    if (!h) {
        camrtc_errf(err, errsz, "h264: out of memory");
        return NULL;
    }
    char why[256];
    size_t cap = 0;
    if (load_file(path, SOURCE_MAX_H264_FILE, &h->data, &cap, &h->len, why, sizeof why) < 0) {
        camrtc_errf(err, errsz, "h264: %s", why);
        h264file_close(&h->base);
        return NULL;
    }
    if (check_stream(h->data, h->len) < 0) {
        camrtc_errf(err, errsz, "h264: %s: not an H.264 Annex-B stream with slices", path);
        h264file_close(&h->base);
        return NULL;
    }
    h->base.ops = &h264file_ops;
    h->base.info = (camrtc_source_info){
        .encoded = true, .width = cfg->width, .height = cfg->height, .fps = cfg->fps ? cfg->fps : 30};
    sps_info(&h->base.info, h->data, h->len);
    return &h->base;
}
