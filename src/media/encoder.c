/* The x264 wrapper: configuration for real-time WebRTC and slice-level output.
 * See camrtc/encoder.h for the choices and why. */
#include "camrtc/encoder.h"
#include "camrtc/str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <x264.h>

#include "camrtc/error.h"
#include "dynlib.h"

/* x264, opened by the encoder that needs it (see dynlib.h for why it is not linked).
 * Each entry has the type x264.h declares; x264_encoder_open is a macro for the
 * build-numbered name, which is also the library's soname number. */
#define STR_(x) #x
#define STR(x) STR_(x)
#define X264_SONAME "libx264.so." STR(X264_BUILD)
#define X264_PACKAGE "libx264-" STR(X264_BUILD)

typedef struct x264_api {
    void *dl;
    __typeof__(&x264_param_default_preset) param_default_preset;
    __typeof__(&x264_param_apply_profile) param_apply_profile;
    __typeof__(&x264_encoder_open) encoder_open;
    __typeof__(&x264_encoder_encode) encoder_encode;
    __typeof__(&x264_encoder_close) encoder_close;
    __typeof__(&x264_encoder_parameters) encoder_parameters;
    __typeof__(&x264_encoder_reconfig) encoder_reconfig;
    __typeof__(&x264_nal_encode) nal_encode;
    __typeof__(&x264_picture_init) picture_init;
} x264_api;

static int x264_api_open(x264_api *x, char *err, size_t errsz)
{
    const camrtc_dynsym syms[] = {
        {"x264_param_default_preset", &x->param_default_preset},
        {"x264_param_apply_profile", &x->param_apply_profile},
        {"x264_encoder_open_" STR(X264_BUILD), &x->encoder_open},
        {"x264_encoder_encode", &x->encoder_encode},
        {"x264_encoder_close", &x->encoder_close},
        {"x264_encoder_parameters", &x->encoder_parameters},
        {"x264_encoder_reconfig", &x->encoder_reconfig},
        {"x264_nal_encode", &x->nal_encode},
        {"x264_picture_init", &x->picture_init},
    };
    return camrtc_dynlib_open(&x->dl, X264_SONAME, X264_PACKAGE, syms, sizeof syms / sizeof syms[0],
                              err, errsz);
}

/* x264_param_t.nalu_process needs an output buffer of i_payload * 3 / 2 + 5 + 64 bytes
 * (x264.h): room for emulation-prevention bytes and the 4-byte length prefix. */
#define NAL_BUF_NEED(payload) ((size_t)(payload) * 3 / 2 + 5 + 64)

/* b_annexb = 0: x264 puts a 4-byte length in front of each NAL instead of a start code.
 * A fixed-size prefix is simpler to strip than a 3- or 4-byte start code. */
#define NAL_PREFIX 4

#define MIN_KBPS 16
#define MAX_KBPS 100000
#define MAX_FPS 240
#define MAX_THREADS 16
#define PRESET_MAX 32        /* x264's preset names are short ("ultrafast") */

struct camrtc_encoder {
    x264_api x;
    x264_t *h;
    /* The checked configuration (preset copied), kept to reopen x264 with another
     * profile (camrtc_encoder_set_profile); bitrate_kbps follows set_bitrate. */
    camrtc_encoder_config cfg;
    char preset[PRESET_MAX];
    camrtc_encoder_nal_fn on_nal;
    void *user;
    bool use_nalu_cb;        /* slice-level output (one x264 thread) */
    int width, height, fps, kbps;
    uint32_t rtp_offset;
    bool force_idr;          /* next picture is an IDR */
    int64_t pts;

    /* The picture being encoded: its tags go into every NAL. */
    uint64_t frame_id;
    camrtc_time_us capture_us;
    bool frame_is_key;       /* an SPS or IDR slice has been seen in this picture */
    bool alloc_failed;
    int emitted;

    /* The camrtc SEI (frame id, capture time; see camrtc/media.h) handed to x264 with
     * each picture. x264 reads the payload while it encodes that picture, and with
     * tune zerolatency (no lookahead, no B-frames) it encodes it inside the same
     * x264_encoder_encode call, so one buffer owned here serves every picture: no
     * allocation per frame, and sei_free stays NULL (x264 frees nothing of ours). */
    bool frame_sei;
    x264_sei_payload_t sei;
    uint8_t sei_buf[CAMRTC_SEI_PAYLOAD_SIZE];

    /* The held-back NAL (see encoder.h) and the two buffers the callback path encodes
     * into: one holds the held NAL while the next is written into the other. */
    bool have_held;
    camrtc_nal held;
    int held_slot;
    uint8_t *buf[2];
    size_t cap[2];
};

uint32_t camrtc_encoder_rtp_ts(camrtc_time_us capture_us, uint32_t offset)
{
    return (uint32_t)(capture_us * 90u / 1000u) + offset;
}

/* A VBV of one frame at the target rate: the encoder may never get more than one frame
 * ahead of the channel, which keeps the sender's queue (and so the latency) short. The
 * price is a softer IDR picture. */
static int vbv_kbit(int kbps, int fps)
{
    int v = (kbps + fps - 1) / fps;
    return v < 1 ? 1 : v;
}

static const char *profile_name(camrtc_h264_profile p)
{
    switch (p) {
    case CAMRTC_H264_CONSTRAINED_BASELINE: return "baseline";
    case CAMRTC_H264_MAIN: return "main";
    case CAMRTC_H264_HIGH: return "high";
    }
    return NULL;
}

/* Fill in the defaults and reject what x264 or a WebRTC receiver cannot use. */
static int check_config(const camrtc_encoder_config *in, camrtc_encoder_config *c,
                        char *err, size_t errsz)
{
    *c = *in;
    if (c->width < CAMRTC_ENCODER_MIN_SIZE || c->width > CAMRTC_ENCODER_MAX_SIZE ||
        c->height < CAMRTC_ENCODER_MIN_SIZE || c->height > CAMRTC_ENCODER_MAX_SIZE ||
        (c->width & 1) || (c->height & 1)) {
        camrtc_errf(err, errsz, "picture size %dx%d: need even sizes from %d to %d",
                c->width, c->height, CAMRTC_ENCODER_MIN_SIZE, CAMRTC_ENCODER_MAX_SIZE);
        return CAMRTC_EINVAL;
    }
    if (c->fps == 0)
        c->fps = 30;
    if (c->bitrate_kbps == 0)
        c->bitrate_kbps = CAMRTC_ENCODER_DEFAULT_KBPS;
    if (c->level_idc == 0)
        c->level_idc = CAMRTC_ENCODER_DEFAULT_LEVEL;
    if (c->slice_max_size == 0)
        c->slice_max_size = CAMRTC_ENCODER_DEFAULT_SLICE_MAX;
    if (c->keyint == 0)
        c->keyint = 2 * c->fps;
    if (c->threads == 0)
        c->threads = 1;
    if (!c->preset)
        c->preset = "ultrafast";
    if (c->fps < 1 || c->fps > MAX_FPS) {
        camrtc_errf(err, errsz, "fps %d: need 1..%d", c->fps, MAX_FPS);
        return CAMRTC_EINVAL;
    }
    if (c->bitrate_kbps < MIN_KBPS || c->bitrate_kbps > MAX_KBPS) {
        camrtc_errf(err, errsz, "bitrate %d kbit/s: need %d..%d", c->bitrate_kbps, MIN_KBPS, MAX_KBPS);
        return CAMRTC_EINVAL;
    }
    if (c->level_idc < 10 || c->level_idc > 62) {
        camrtc_errf(err, errsz, "level_idc %d: need 10..62", c->level_idc);
        return CAMRTC_EINVAL;
    }
    if (c->slice_max_size < 100 || c->slice_max_size > 65535) {
        camrtc_errf(err, errsz, "slice_max_size %d: need 100..65535", c->slice_max_size);
        return CAMRTC_EINVAL;
    }
    if (c->keyint < 1 || c->threads < 1 || c->threads > MAX_THREADS || !profile_name(c->profile)) {
        camrtc_errf(err, errsz, "keyint, threads (1..%d) or profile out of range", MAX_THREADS);
        return CAMRTC_EINVAL;
    }
    return CAMRTC_OK;
}

/* ---- handing NALs on -------------------------------------------------------------- */

static void emit(camrtc_encoder *e, camrtc_nal *nal, bool last)
{
    nal->last_of_frame = last;
    nal->encoded_us = camrtc_now_us();
    e->emitted++;
    e->on_nal(e->user, nal);
}

/* One finished NAL (no prefix): hand on the one held so far and hold this one. data
 * stays valid until the end of the current camrtc_encoder_encode call. */
static void take_nal(camrtc_encoder *e, const uint8_t *data, size_t len, int slot)
{
    if (len == 0)
        return;
    uint8_t type = data[0] & 0x1f;
    if (type == 7 || type == 5)
        e->frame_is_key = true;
    if (e->have_held)
        emit(e, &e->held, false);
    e->held = (camrtc_nal){
        .data = data, .len = len, .type = type, .keyframe = e->frame_is_key,
        .frame_id = e->frame_id, .capture_us = e->capture_us,
        .rtp_ts = camrtc_encoder_rtp_ts(e->capture_us, e->rtp_offset),
    };
    e->held_slot = slot;
    e->have_held = true;
}

static int grow(camrtc_encoder *e, int slot, size_t need)
{
    if (e->cap[slot] >= need)
        return 0;
    size_t cap = e->cap[slot] ? e->cap[slot] : 4096;
    while (cap < need)
        cap *= 2;
    uint8_t *b = realloc(e->buf[slot], cap);
    if (!b)
        return CAMRTC_ENOMEM;
    e->buf[slot] = b;
    e->cap[slot] = cap;
    return 0;
}

/* x264's nalu_process: called from inside x264_encoder_encode as soon as a NAL is
 * written. x264 leaves the escaping (emulation prevention) and the prefix to us:
 * x264_nal_encode into our own buffer. */
static void on_x264_nal(x264_t *h, x264_nal_t *nal, void *opaque)
{
    camrtc_encoder *e = opaque;
    int slot = e->have_held ? !e->held_slot : 0;
    if (grow(e, slot, NAL_BUF_NEED(nal->i_payload)) < 0) {
        e->alloc_failed = true;
        return;
    }
    e->x.nal_encode(h, e->buf[slot], nal);
    if (nal->i_payload > NAL_PREFIX)
        take_nal(e, nal->p_payload + NAL_PREFIX, (size_t)(nal->i_payload - NAL_PREFIX), slot);
}

/* ---- lifecycle ---------------------------------------------------------------------- */

static int open_x264(camrtc_encoder *e, const camrtc_encoder_config *c, char *err, size_t errsz)
{
    x264_param_t p;
    if (e->x.param_default_preset(&p, c->preset, "zerolatency") < 0) {
        camrtc_errf(err, errsz, "unknown x264 preset '%s'", c->preset);
        return CAMRTC_EINVAL;
    }
    p.i_log_level = X264_LOG_ERROR;
    p.i_threads = c->threads;
    /* nalu_process does not work with frame threads; sliced threads keep one picture
     * in flight (zerolatency turns them on anyway). */
    p.b_sliced_threads = c->threads > 1;
    p.i_width = c->width;
    p.i_height = c->height;
    p.i_csp = X264_CSP_I420;
    p.i_fps_num = (uint32_t)c->fps;
    p.i_fps_den = 1;
    p.b_vfr_input = 0;              /* rate control by fps, not by timestamps */
    p.i_level_idc = c->level_idc;
    p.i_keyint_max = c->keyint;
    p.b_intra_refresh = c->intra_refresh;
    p.rc.i_rc_method = X264_RC_ABR;
    p.rc.i_bitrate = c->bitrate_kbps;
    p.rc.i_vbv_max_bitrate = c->bitrate_kbps;
    p.rc.i_vbv_buffer_size = vbv_kbit(c->bitrate_kbps, c->fps);
    p.b_repeat_headers = 1;         /* SPS/PPS in front of every IDR */
    p.b_annexb = 0;                 /* 4-byte length prefix, stripped (NAL_PREFIX) */
    p.b_aud = 0;
    p.i_slice_max_size = c->slice_max_size;
    if (e->use_nalu_cb)
        p.nalu_process = on_x264_nal;
    /* x264 writes the lowest profile_idc the coding tools in use need, and "ultrafast"
     * turns off the tools that make main and high: turn them on for those profiles. */
    if (c->profile != CAMRTC_H264_CONSTRAINED_BASELINE)
        p.b_cabac = 1;
    if (c->profile == CAMRTC_H264_HIGH)
        p.analyse.b_transform_8x8 = 1;
    if (e->x.param_apply_profile(&p, profile_name(c->profile)) < 0) {
        camrtc_errf(err, errsz, "x264 refuses profile %s with these settings", profile_name(c->profile));
        return CAMRTC_EUNSUPPORTED;
    }
    e->h = e->x.encoder_open(&p);
    if (!e->h) {
        camrtc_errf(err, errsz, "x264_encoder_open failed for %dx%d", c->width, c->height);
        return CAMRTC_EUNSUPPORTED;
    }
    return CAMRTC_OK;
}

int camrtc_encoder_new(const camrtc_encoder_config *cfg, camrtc_encoder_nal_fn on_nal,
                       void *user, camrtc_encoder **out, char *err, size_t errsz)
{
    *out = NULL;
    if (!cfg || !on_nal) {
        camrtc_errf(err, errsz, "missing configuration or callback");
        return CAMRTC_EINVAL;
    }
    camrtc_encoder_config c;
    int r = check_config(cfg, &c, err, errsz);
    if (r < 0)
        return r;
    camrtc_encoder *e = calloc(1, sizeof(*e));
    if (!e) {
        camrtc_errf(err, errsz, "out of memory");
        return CAMRTC_ENOMEM;
    }
    if (strlen(c.preset) >= sizeof e->preset) {
        camrtc_errf(err, errsz, "unknown x264 preset '%s'", c.preset);
        free(e);
        return CAMRTC_EINVAL;
    }
    memcpy(e->preset, c.preset, strlen(c.preset) + 1);
    c.preset = e->preset;
    e->cfg = c;
    e->on_nal = on_nal;
    e->user = user;
    e->use_nalu_cb = c.threads == 1;
    e->frame_sei = !c.no_frame_sei;
    e->width = c.width;
    e->height = c.height;
    e->fps = c.fps;
    e->kbps = c.bitrate_kbps;
    r = x264_api_open(&e->x, err, errsz);
    if (r >= 0)
        r = open_x264(e, &c, err, errsz);
    if (r < 0) {
        camrtc_dynlib_close(e->x.dl);
        free(e);
        return r;
    }
    *out = e;
    return CAMRTC_OK;
}

void camrtc_encoder_free(camrtc_encoder *e)
{
    if (!e)
        return;
    e->x.encoder_close(e->h);
    camrtc_dynlib_close(e->x.dl);
    free(e->buf[0]);
    free(e->buf[1]);
    free(e);
}

/* ---- encoding ------------------------------------------------------------------------ */

/* One user_data_unregistered SEI in front of the picture's slices. x264 writes it as its
 * own SEI NAL after SPS/PPS (so it is tagged keyframe on an IDR like them) and before
 * the first slice, and hands it to nalu_process like every other NAL. */
static void attach_frame_sei(camrtc_encoder *e, x264_picture_t *pic, const camrtc_frame *f)
{
    e->sei = (x264_sei_payload_t){
        .payload_size = (int)camrtc_h264_write_camrtc_sei(e->sei_buf, f->frame_id, f->capture_us),
        .payload_type = 5,          /* user_data_unregistered */
        .payload = e->sei_buf,
    };
    pic->extra_sei = (x264_sei_t){.num_payloads = 1, .payloads = &e->sei, .sei_free = NULL};
}

int camrtc_encoder_encode(camrtc_encoder *e, const camrtc_frame *f)
{
    if (!f || f->fmt != CAMRTC_PIX_I420 || f->width != e->width || f->height != e->height ||
        !f->plane[0] || !f->plane[1] || !f->plane[2])
        return CAMRTC_EINVAL;
    x264_picture_t pic, pic_out;
    e->x.picture_init(&pic);
    pic.img.i_csp = X264_CSP_I420;
    pic.img.i_plane = 3;
    for (int i = 0; i < 3; i++) {
        pic.img.plane[i] = f->plane[i];
        pic.img.i_stride[i] = f->stride[i];
    }
    pic.i_pts = e->pts++;
    pic.i_type = e->force_idr ? X264_TYPE_IDR : X264_TYPE_AUTO;
    pic.opaque = e;                 /* handed back to on_x264_nal */
    if (e->frame_sei)
        attach_frame_sei(e, &pic, f);
    e->force_idr = false;
    e->frame_id = f->frame_id;
    e->capture_us = f->capture_us;
    e->frame_is_key = false;
    e->alloc_failed = false;
    e->emitted = 0;
    e->have_held = false;

    x264_nal_t *nals = NULL;
    int n = 0;
    if (e->x.encoder_encode(e->h, &nals, &n, &pic, &pic_out) < 0)
        return CAMRTC_EINTERNAL;
    if (!e->use_nalu_cb) {
        /* Sliced threads: the NALs come back together, in order, prefixed. */
        for (int i = 0; i < n; i++)
            if (nals[i].i_payload > NAL_PREFIX)
                take_nal(e, nals[i].p_payload + NAL_PREFIX,
                         (size_t)(nals[i].i_payload - NAL_PREFIX), 0);
    }
    if (e->have_held) {
        emit(e, &e->held, true);
        e->have_held = false;
    }
    if (e->alloc_failed)
        return CAMRTC_ENOMEM;
    return e->emitted;
}

void camrtc_encoder_force_idr(camrtc_encoder *e)
{
    e->force_idr = true;
}

int camrtc_encoder_set_bitrate(camrtc_encoder *e, int kbps)
{
    if (kbps < MIN_KBPS || kbps > MAX_KBPS)
        return CAMRTC_EINVAL;
    x264_param_t p;
    e->x.encoder_parameters(e->h, &p);
    p.rc.i_bitrate = kbps;
    p.rc.i_vbv_max_bitrate = kbps;
    p.rc.i_vbv_buffer_size = vbv_kbit(kbps, e->fps);
    if (e->x.encoder_reconfig(e->h, &p) < 0)
        return CAMRTC_EUNSUPPORTED;
    e->kbps = kbps;
    e->cfg.bitrate_kbps = kbps;
    return CAMRTC_OK;
}

/* x264_encoder_reconfig cannot change the profile (it is fixed in the SPS x264 made at
 * open), so open a second x264 with the same settings but the new profile, and close
 * the old one only once the new one exists: a failure leaves the encoder as it was.
 * A new x264 starts with an IDR carrying its SPS/PPS, so the stream switches cleanly at
 * the next picture (no picture refers across the switch). */
int camrtc_encoder_set_profile(camrtc_encoder *e, camrtc_h264_profile profile)
{
    if (!profile_name(profile))
        return CAMRTC_EINVAL;
    if (profile == e->cfg.profile)
        return CAMRTC_OK;
    camrtc_encoder_config c = e->cfg;
    c.profile = profile;
    x264_t *old = e->h;
    int r = open_x264(e, &c, NULL, 0);
    if (r < 0) {
        e->h = old;
        return r;
    }
    e->x.encoder_close(old);
    e->cfg.profile = profile;
    e->force_idr = true;        /* a new x264 starts with one anyway: say it */
    return CAMRTC_OK;
}

camrtc_h264_profile camrtc_encoder_profile(const camrtc_encoder *e)
{
    return e->cfg.profile;
}

int camrtc_encoder_bitrate(const camrtc_encoder *e)
{
    return e->kbps;
}

void camrtc_encoder_set_rtp_offset(camrtc_encoder *e, uint32_t offset)
{
    e->rtp_offset = offset;
}
