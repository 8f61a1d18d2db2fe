/* The media pipeline: capture thread → newest-frame mailbox → encoder thread → output
 * ring → loop.
 * See camrtc/pipeline.h for the shape, the bounds and the drop rules.
 *
 * Who owns what, across threads:
 *   - NAL buffers (slots): an index travels encoder → loop in `out` and loop → encoder
 *     in `free_slots`; whoever holds the index owns the slot. The ring's release/acquire
 *     pair publishes the slot's contents with the index.
 *   - raw buffers: the capture thread fills one and publishes its index in the `latest`
 *     mailbox (capture → encoder); the encoder gives each back through `raw_free`. A
 *     frame the encoder never took comes back to the capture thread out of the mailbox
 *     itself (see "raw hand-off" below).
 *   - control: `ctrl` carries small messages loop → encoder.
 * Everything else is private to one thread, except the stats (atomics) and the stop and
 * end flags.
 */
#include "camrtc/pipeline.h"
#include "camrtc/str.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camrtc/encoder.h"
#include "camrtc/error.h"
#include "camrtc/ring.h"

/* The empty mailbox (no raw frame waiting). */
#define RAW_NONE UINT32_MAX

enum ctrl_type { CTRL_FORCE_IDR = 1, CTRL_SET_BITRATE, CTRL_SET_PROFILE };

typedef struct ctrl_msg {
    int type;
    int value;
} ctrl_msg;

typedef struct nal_slot {
    uint8_t *buf;
    size_t cap;
    camrtc_nal nal;                /* what on_nal sees; data points into buf */
} nal_slot;

/* The counters, each written by one thread and read by any. */
typedef struct pipe_stats {
    _Atomic uint64_t frames_captured, frames_encoded, nals_out, nals_delivered;
    _Atomic uint64_t raw_dropped_old, raw_dropped_full;
    _Atomic uint64_t nals_dropped_ring_full, nals_dropped_no_buffer, nals_dropped_to_idr,
        nals_dropped_too_big;
    _Atomic uint64_t idr_requests, bitrate_changes, late_frames;
    _Atomic uint64_t profile_changes, profile_failures;
    _Atomic uint64_t encode_us_total, encode_us_max, convert_us_total, nal_buffers;
} pipe_stats;

struct camrtc_pipeline {
    uv_loop_t *loop;
    uv_async_t *async;             /* heap: it outlives the pipeline until its close cb */
    camrtc_pipeline_nal_fn on_nal;
    void *user;
    camrtc_pipeline_settings set;
    camrtc_source *src;
    camrtc_source_info info;
    int width, height, fps;
    bool end_reported;             /* loop thread */

    /* encoder thread */
    camrtc_encoder *enc;           /* NULL for pre-encoded sources */
    pthread_t enc_thread;
    bool enc_started;
    camrtc_frame conv;             /* conversion target */
    camrtc_converter *conv_cv;     /* libyuv for the encoder thread; made when first needed */
    bool waiting_idr;              /* dropping NALs until the next IDR */
    uint64_t drop_frame_id;
    uint32_t *free_stack;          /* free slot indices, encoder thread only (take_free_slot) */
    size_t free_top;
    uint64_t frames_done;
    uint64_t au_count;             /* pre-encoded: access units read, the frame ids */
    bool au_key;
    camrtc_time_us au_capture_us;
    bool au_have_held;
    const uint8_t *au_held;
    size_t au_held_len;

    /* capture thread (blocking sources) */
    bool use_capture;
    pthread_t cap_thread;
    bool cap_started;
    camrtc_frame raw[CAMRTC_PIPELINE_RAW_CAP];
    camrtc_converter *cap_cv;      /* libyuv for the capture thread */
    _Atomic uint32_t latest;       /* the newest raw frame not yet taken, or RAW_NONE */
    uint32_t cap_spare;            /* capture thread: a buffer back from the mailbox */
    camrtc_ring *raw_free;         /* encoder → capture: buffers done with */
    sem_t raw_sem;                 /* posted after each publish (and to stop) */
    bool sem_ok;
    atomic_bool cap_done;
    _Atomic int cap_status;

    camrtc_ring *ctrl, *out, *free_slots;
    nal_slot *slots;
    size_t nslots;

    atomic_bool stop;              /* loop → threads: stop now */
    atomic_bool finished;          /* encoder thread → loop: no more NALs will come */
    _Atomic int end_status;
    pipe_stats st;
};

#define INC(field) atomic_fetch_add_explicit(&p->st.field, 1, memory_order_relaxed)
#define ADD(field, v) atomic_fetch_add_explicit(&p->st.field, (v), memory_order_relaxed)
#define LOAD(field) atomic_load_explicit(&p->st.field, memory_order_relaxed)

/* ---- pacing ---------------------------------------------------------------------------- */

typedef struct pacer {
    struct timespec next;
    long period_ns;
} pacer;

static void pacer_init(pacer *pc, int fps)
{
    clock_gettime(CLOCK_MONOTONIC, &pc->next);
    pc->period_ns = 1000000000L / fps;
}

/* Sleep until the next frame time on an absolute clock, so the time spent encoding does
 * not add up into drift. After a stall of more than a period the schedule restarts from
 * now instead of bursting to catch up (a late frame is counted). */
static void pacer_wait(camrtc_pipeline *p, pacer *pc)
{
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &pc->next, NULL) == EINTR) {
    }
    pc->next.tv_nsec += pc->period_ns;
    while (pc->next.tv_nsec >= 1000000000L) {
        pc->next.tv_nsec -= 1000000000L;
        pc->next.tv_sec++;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long late_ns = (long long)(now.tv_sec - pc->next.tv_sec) * 1000000000LL +
                        (now.tv_nsec - pc->next.tv_nsec);
    if (late_ns > 0) {
        INC(late_frames);
        pc->next = now;
    }
}

/* ---- output: encoder thread → loop ------------------------------------------------------ */

/* A NAL had to be dropped: drop the rest until an IDR, and ask for one now. */
static void begin_drop(camrtc_pipeline *p, const camrtc_nal *n)
{
    p->waiting_idr = true;
    p->drop_frame_id = n->frame_id;
    if (p->enc) {
        camrtc_encoder_force_idr(p->enc);
        INC(idr_requests);
    }
}

/* Free slots on the encoder thread: a stack with the most recently returned on top.
 * The loop hands slots back through free_slots in the order it is done with them;
 * moving them onto the stack before each take makes the encoder reuse the few slots in
 * circulation (warm in cache) while the rest of the pool stays untouched. A slot's
 * buffer is allocated at its first use, so the pool costs memory for the most NALs
 * ever in flight at once (a keyframe's worth), not for 2 x the ring's capacity; taking
 * slots in ring order would have touched every one of them. */
static int take_free_slot(camrtc_pipeline *p)
{
    uint32_t idx;
    while (camrtc_ring_pop_copy(p->free_slots, &idx))
        p->free_stack[p->free_top++] = idx;    /* stack + ring + in flight = nslots */
    return p->free_top ? (int)p->free_stack[--p->free_top] : -1;
}

static void give_back_slot(camrtc_pipeline *p, int idx)
{
    p->free_stack[p->free_top++] = (uint32_t)idx;
}

static bool slot_fit(camrtc_pipeline *p, nal_slot *s, size_t len)
{
    if (s->cap >= len)
        return true;
    size_t cap = s->cap ? s->cap : 2048;
    while (cap < len)
        cap *= 2;
    uint8_t *b = realloc(s->buf, cap);
    if (!b)
        return false;
    if (!s->cap)
        INC(nal_buffers);
    s->buf = b;
    s->cap = cap;
    return true;
}

/* Copy one NAL into a free slot and publish it to the loop (encoder thread). */
static void out_push(camrtc_pipeline *p, const camrtc_nal *n)
{
    if (n->len > CAMRTC_PIPELINE_NAL_MAX) {
        INC(nals_dropped_too_big);
        begin_drop(p, n);
        return;
    }
    if (p->waiting_idr) {
        if (!n->keyframe || n->frame_id == p->drop_frame_id) {
            INC(nals_dropped_to_idr);
            return;
        }
        p->waiting_idr = false;
    }
    uint32_t *item = camrtc_ring_push_slot(p->out);
    if (!item) {
        INC(nals_dropped_ring_full);
        begin_drop(p, n);
        return;
    }
    int idx = take_free_slot(p);
    if (idx < 0) {
        INC(nals_dropped_no_buffer);
        begin_drop(p, n);
        return;
    }
    nal_slot *s = &p->slots[idx];
    if (!slot_fit(p, s, n->len)) {
        give_back_slot(p, idx);
        INC(nals_dropped_no_buffer);
        begin_drop(p, n);
        return;
    }
    memcpy(s->buf, n->data, n->len);
    s->nal = *n;
    s->nal.data = s->buf;
    *item = (uint32_t)idx;
    camrtc_ring_push_commit(p->out);
    INC(nals_out);
    uv_async_send(p->async);
}

static void on_encoder_nal(void *user, const camrtc_nal *nal)
{
    out_push(user, nal);
}

/* ---- control: loop → encoder thread ----------------------------------------------------- */

/* x264 is reopened here, on the encoder thread, between two pictures (encoder.h). */
static void set_profile(camrtc_pipeline *p, camrtc_h264_profile profile)
{
    if (camrtc_encoder_profile(p->enc) == profile)
        return;
    if (camrtc_encoder_set_profile(p->enc, profile) == CAMRTC_OK)
        INC(profile_changes);
    else
        INC(profile_failures);
}

static void handle_control(camrtc_pipeline *p)
{
    ctrl_msg m;
    /* Bounded by the ring's capacity: the loop may push while we drain. */
    for (size_t i = 0; i < CAMRTC_PIPELINE_CTRL_CAP && camrtc_ring_pop_copy(p->ctrl, &m); i++) {
        if (!p->enc)
            continue;               /* a pre-encoded stream has its own keyframes */
        if (m.type == CTRL_FORCE_IDR)
            camrtc_encoder_force_idr(p->enc);
        else if (m.type == CTRL_SET_BITRATE && camrtc_encoder_set_bitrate(p->enc, m.value) == 0)
            INC(bitrate_changes);
        else if (m.type == CTRL_SET_PROFILE)
            set_profile(p, (camrtc_h264_profile)m.value);
    }
}

static int push_control(camrtc_pipeline *p, int type, int value)
{
    ctrl_msg m = {type, value};
    return camrtc_ring_push(p->ctrl, &m) ? CAMRTC_OK : CAMRTC_ELIMIT;
}

/* ---- encoding a raw picture -------------------------------------------------------------- */

static int encode_picture(camrtc_pipeline *p, const camrtc_frame *f)
{
    if (p->set.on_picture)
        p->set.on_picture(p->user, f);
    camrtc_time_us t0 = camrtc_now_us();
    int r = camrtc_encoder_encode(p->enc, f);
    uint64_t us = camrtc_now_us() - t0;
    ADD(encode_us_total, us);
    if (us > LOAD(encode_us_max))
        atomic_store_explicit(&p->st.encode_us_max, us, memory_order_relaxed);
    if (r >= 0)
        INC(frames_encoded);
    return r < 0 ? r : 0;
}

/* Bring f to I420 at the target size into p->conv unless it already is. A source
 * whose first frames needed nothing has no converter yet: it is made here, once. */
static int to_target(camrtc_pipeline *p, const camrtc_frame *f, camrtc_frame *conv,
                     const camrtc_frame **out)
{
    if (f->fmt == CAMRTC_PIX_I420 && f->width == p->width && f->height == p->height) {
        *out = f;
        return 0;
    }
    if (!p->conv_cv) {
        int r = camrtc_converter_new(&p->conv_cv, NULL, 0);
        if (r < 0)
            return r;
    }
    camrtc_time_us t0 = camrtc_now_us();
    int r = camrtc_converter_run(p->conv_cv, f, conv);
    ADD(convert_us_total, camrtc_now_us() - t0);
    conv->frame_id = f->frame_id;
    conv->capture_us = f->capture_us;
    *out = conv;
    return r;
}

static bool enough_frames(camrtc_pipeline *p)
{
    return p->set.max_frames && ++p->frames_done >= p->set.max_frames;
}

/* Paced raw source on the encoder thread: read, convert, encode, at fps. */
static int run_paced_raw(camrtc_pipeline *p)
{
    pacer pc;
    pacer_init(&pc, p->fps);
    char err[128];
    while (!atomic_load(&p->stop)) {
        if (!p->set.unpaced)
            pacer_wait(p, &pc);
        handle_control(p);          /* after the sleep: a PLI that came in it counts now */
        camrtc_frame f;
        int r = camrtc_source_read(p->src, &f, err, sizeof(err));
        if (r == CAMRTC_ECLOSED)
            return CAMRTC_OK;
        if (r < 0)
            return r;
        INC(frames_captured);
        const camrtc_frame *pic;
        r = to_target(p, &f, &p->conv, &pic);
        if (r < 0)
            return r;
        r = encode_picture(p, pic);
        if (r < 0)
            return r;
        if (enough_frames(p))
            return CAMRTC_OK;
    }
    return CAMRTC_OK;
}

/* ---- raw hand-off: capture thread → encoder thread ------------------------------------------
 *
 * A live camera should show now, not catch up: when the encoder falls behind, the
 * frames it drops must be the oldest. A FIFO ring cannot do that without the producer
 * taking items back (which breaks single-producer/single-consumer), so the hand-off is
 * a one-slot mailbox holding the index of the newest frame, plus the `raw_free` ring
 * for buffers the encoder is done with:
 *
 *   capture: fill a buffer (the spare, else one from raw_free); old = exchange(latest,
 *            it); if old is a frame, the encoder never saw it: count it dropped and
 *            keep its buffer as the spare for the next capture.
 *   encoder: idx = exchange(latest, RAW_NONE); encode; push idx to raw_free.
 *
 * Both sides use one atomic exchange (acq_rel: it publishes the buffer's pixels one
 * way and hands the buffer back the other) and nothing blocks or allocates. With
 * three buffers the capture thread always has one to fill: at most one is in the
 * mailbox and one with the encoder, so the third is the spare or in raw_free.
 */

/* Capture thread: a buffer to fill. */
static bool raw_take_buffer(camrtc_pipeline *p, uint32_t *idx)
{
    if (p->cap_spare != RAW_NONE) {
        *idx = p->cap_spare;
        p->cap_spare = RAW_NONE;
        return true;
    }
    return camrtc_ring_pop_copy(p->raw_free, idx);
}

/* Capture thread: make idx the newest frame; an older one still waiting is dropped. */
static void raw_publish(camrtc_pipeline *p, uint32_t idx)
{
    uint32_t old = atomic_exchange_explicit(&p->latest, idx, memory_order_acq_rel);
    if (old != RAW_NONE) {
        INC(raw_dropped_old);
        p->cap_spare = old;
    }
    sem_post(&p->raw_sem);
}

/* Encoder thread: the newest frame, or RAW_NONE. */
static uint32_t raw_take_latest(camrtc_pipeline *p)
{
    return atomic_exchange_explicit(&p->latest, RAW_NONE, memory_order_acq_rel);
}

/* Wait for a frame from the capture thread. The semaphore counts publishes, and a
 * frame may replace one that was posted for, so posts can outnumber frames: drain
 * them before looking (every post drained was made after its publish, so the look
 * that follows sees that frame: no wake-up is lost), then look, then sleep. RAW_NONE
 * when told to stop, or when the capture thread has ended and nothing is left. */
static uint32_t raw_wait(camrtc_pipeline *p)
{
    for (;;) {
        while (sem_trywait(&p->raw_sem) == 0) {
        }
        if (atomic_load(&p->stop))
            return RAW_NONE;
        bool done = atomic_load(&p->cap_done);     /* before the look: see its last frame */
        uint32_t idx = raw_take_latest(p);
        if (idx != RAW_NONE || done)
            return idx;
        while (sem_wait(&p->raw_sem) < 0 && errno == EINTR) {
        }
    }
}

/* Frames from the capture thread: always the newest (see above). */
static int run_from_capture(camrtc_pipeline *p)
{
    while (!atomic_load(&p->stop)) {
        uint32_t idx = raw_wait(p);
        if (idx == RAW_NONE)
            return atomic_load(&p->cap_done) ? atomic_load(&p->cap_status) : CAMRTC_OK;
        handle_control(p);          /* after the wait: a PLI that came in it counts now */
        int r = encode_picture(p, &p->raw[idx]);
        camrtc_ring_push(p->raw_free, &idx);       /* never full: it can hold every buffer */
        if (r < 0)
            return r;
        if (enough_frames(p))
            return CAMRTC_OK;
    }
    return CAMRTC_OK;
}

/* ---- pre-encoded access units -------------------------------------------------------------- */

/* camrtc_h264_split's callback: hand on the NAL before this one (the last of the access
 * unit is known only when the split ends, as in the encoder). */
static void au_push_held(camrtc_pipeline *p, bool last)
{
    camrtc_nal n = {
        .data = p->au_held, .len = p->au_held_len, .type = p->au_held[0] & 0x1f,
        .keyframe = p->au_key, .last_of_frame = last, .frame_id = p->au_count,
        .capture_us = p->au_capture_us,
        .rtp_ts = camrtc_encoder_rtp_ts(p->au_capture_us, p->set.rtp_offset),
        .encoded_us = camrtc_now_us(),
    };
    out_push(p, &n);
}

static void on_au_nal(void *user, const uint8_t *nal, size_t len)
{
    camrtc_pipeline *p = user;
    if (len == 0)
        return;
    if (p->au_have_held)
        au_push_held(p, false);
    p->au_held = nal;
    p->au_held_len = len;
    p->au_have_held = true;
}

static int run_encoded(camrtc_pipeline *p)
{
    pacer pc;
    pacer_init(&pc, p->fps);
    char err[128];
    while (!atomic_load(&p->stop)) {
        if (!p->set.unpaced)
            pacer_wait(p, &pc);
        handle_control(p);          /* after the sleep: a PLI that came in it counts now */
        const uint8_t *au;
        size_t len;
        bool key;
        int r = camrtc_source_read_au(p->src, &au, &len, &key, err, sizeof(err));
        if (r == CAMRTC_ECLOSED)
            return CAMRTC_OK;
        if (r < 0)
            return r;
        INC(frames_captured);
        p->au_key = key;
        p->au_capture_us = camrtc_now_us();
        p->au_have_held = false;
        r = camrtc_h264_split(au, len, on_au_nal, p);
        if (r < 0)
            return r;
        if (p->au_have_held)
            au_push_held(p, true);
        p->au_count++;
        INC(frames_encoded);
        if (enough_frames(p))
            return CAMRTC_OK;
    }
    return CAMRTC_OK;
}

static void *encoder_main(void *arg)
{
    camrtc_pipeline *p = arg;
    int r;
    if (p->info.encoded)
        r = run_encoded(p);
    else if (p->use_capture)
        r = run_from_capture(p);
    else
        r = run_paced_raw(p);
    atomic_store(&p->end_status, r);
    atomic_store(&p->finished, true);
    uv_async_send(p->async);
    return NULL;
}

/* ---- the capture thread ------------------------------------------------------------------ */

static void capture_end(camrtc_pipeline *p, int status)
{
    atomic_store(&p->cap_status, status);
    atomic_store(&p->cap_done, true);
    sem_post(&p->raw_sem);
}

/* Read (blocking, or paced when a paced source is forced onto this thread), convert
 * straight into a free raw buffer, pass it on. */
static void *capture_main(void *arg)
{
    camrtc_pipeline *p = arg;
    pacer pc;
    pacer_init(&pc, p->fps);
    char err[128];
    while (!atomic_load(&p->stop)) {
        if (!p->info.blocking && !p->set.unpaced)
            pacer_wait(p, &pc);
        camrtc_frame f;
        int r = camrtc_source_read(p->src, &f, err, sizeof(err));
        if (r < 0) {
            capture_end(p, r == CAMRTC_ECLOSED ? CAMRTC_OK : r);
            return NULL;
        }
        INC(frames_captured);
        uint32_t idx;
        if (!raw_take_buffer(p, &idx)) {
            INC(raw_dropped_full);  /* cannot happen with 3 buffers (see raw hand-off) */
            continue;
        }
        camrtc_frame *dst = &p->raw[idx];
        camrtc_time_us t0 = camrtc_now_us();
        r = camrtc_converter_run(p->cap_cv, &f, dst);
        ADD(convert_us_total, camrtc_now_us() - t0);
        dst->frame_id = f.frame_id;
        dst->capture_us = f.capture_us;
        if (r < 0) {
            capture_end(p, r);      /* the buffer stays out of circulation: we stop */
            return NULL;
        }
        raw_publish(p, idx);
    }
    return NULL;
}

/* ---- the loop side ---------------------------------------------------------------------- */

static void on_async(uv_async_t *a)
{
    camrtc_pipeline *p = a->data;
    /* Read `finished` first: every NAL pushed before it was set is visible below. */
    bool finished = atomic_load(&p->finished);
    size_t n = camrtc_ring_count(p->out);   /* only what is here now: bounded */
    for (size_t i = 0; i < n; i++) {
        uint32_t idx;
        if (!camrtc_ring_pop_copy(p->out, &idx))
            break;
        INC(nals_delivered);
        p->on_nal(p->user, &p->slots[idx].nal);
    }
    if (finished && !p->end_reported && camrtc_ring_count(p->out) == 0) {
        p->end_reported = true;
        if (p->set.on_end)
            p->set.on_end(p->user, atomic_load(&p->end_status));  /* may free p: return */
        return;
    }
    if (camrtc_ring_count(p->out) > 0)
        uv_async_send(p->async);            /* more came while we drained: next turn */
}

void camrtc_pipeline_release(camrtc_pipeline *p, const camrtc_nal *nal)
{
    if (!p || !nal)
        return;
    const nal_slot *s = (const nal_slot *)((const char *)nal - offsetof(nal_slot, nal));
    if (s < p->slots || s >= p->slots + p->nslots)
        return;                             /* not one of ours */
    uint32_t idx = (uint32_t)(s - p->slots);
    camrtc_ring_push(p->free_slots, &idx);  /* never full: it holds every index */
}

int camrtc_pipeline_force_idr(camrtc_pipeline *p)
{
    INC(idr_requests);
    return push_control(p, CTRL_FORCE_IDR, 0);
}

int camrtc_pipeline_set_bitrate(camrtc_pipeline *p, int kbps)
{
    if (kbps < 16 || kbps > 100000)
        return CAMRTC_EINVAL;
    return push_control(p, CTRL_SET_BITRATE, kbps);
}

int camrtc_pipeline_set_profile(camrtc_pipeline *p, camrtc_h264_profile profile)
{
    if (profile != CAMRTC_H264_CONSTRAINED_BASELINE && profile != CAMRTC_H264_MAIN &&
        profile != CAMRTC_H264_HIGH)
        return CAMRTC_EINVAL;
    if (p->info.encoded)
        return CAMRTC_EUNSUPPORTED;         /* the file's profile is the file's */
    return push_control(p, CTRL_SET_PROFILE, (int)profile);
}

void camrtc_pipeline_get_stats(const camrtc_pipeline *p0, camrtc_pipeline_stats *st)
{
    camrtc_pipeline *p = (camrtc_pipeline *)p0;   /* atomic loads need non-const */
    *st = (camrtc_pipeline_stats){
        .frames_captured = LOAD(frames_captured), .frames_encoded = LOAD(frames_encoded),
        .nals_out = LOAD(nals_out), .nals_delivered = LOAD(nals_delivered),
        .raw_dropped_old = LOAD(raw_dropped_old), .raw_dropped_full = LOAD(raw_dropped_full),
        .nals_dropped_ring_full = LOAD(nals_dropped_ring_full),
        .nals_dropped_no_buffer = LOAD(nals_dropped_no_buffer),
        .nals_dropped_to_idr = LOAD(nals_dropped_to_idr),
        .nals_dropped_too_big = LOAD(nals_dropped_too_big),
        .idr_requests = LOAD(idr_requests), .bitrate_changes = LOAD(bitrate_changes),
        .profile_changes = LOAD(profile_changes), .profile_failures = LOAD(profile_failures),
        .late_frames = LOAD(late_frames), .encode_us_total = LOAD(encode_us_total),
        .encode_us_max = LOAD(encode_us_max), .convert_us_total = LOAD(convert_us_total),
        .nal_buffers = LOAD(nal_buffers),
    };
}

const camrtc_source_info *camrtc_pipeline_source_info(const camrtc_pipeline *p)
{
    return &p->info;
}

/* ---- setup and teardown ------------------------------------------------------------------ */

static void free_async(uv_handle_t *h)
{
    free(h);
}

static int setup_output(camrtc_pipeline *p)
{
    size_t cap = p->set.out_capacity ? p->set.out_capacity : CAMRTC_PIPELINE_OUT_CAP;
    p->out = camrtc_ring_new(cap, sizeof(uint32_t));
    p->ctrl = camrtc_ring_new(CAMRTC_PIPELINE_CTRL_CAP, sizeof(ctrl_msg));
    if (!p->out || !p->ctrl)
        return CAMRTC_ENOMEM;
    /* Twice as many buffers as the ring holds: the ring fills before the pool runs out
     * even while the consumer still holds a ring's worth (e.g. being packetized); a
     * consumer that keeps more shows up as no_buffer drops. */
    p->nslots = 2 * camrtc_ring_capacity(p->out);
    p->free_slots = camrtc_ring_new(p->nslots, sizeof(uint32_t));
    p->slots = calloc(p->nslots, sizeof(*p->slots));
    p->free_stack = calloc(p->nslots, sizeof(*p->free_stack));
    if (!p->free_slots || !p->slots || !p->free_stack)
        return CAMRTC_ENOMEM;
    for (size_t i = p->nslots; i-- > 0;)
        give_back_slot(p, (int)i);             /* slot 0 on top */
    return CAMRTC_OK;
}

static int setup_capture(camrtc_pipeline *p)
{
    atomic_init(&p->latest, RAW_NONE);
    p->cap_spare = RAW_NONE;
    p->raw_free = camrtc_ring_new(CAMRTC_PIPELINE_RAW_CAP, sizeof(uint32_t));
    if (!p->raw_free)
        return CAMRTC_ENOMEM;
    for (uint32_t i = 0; i < CAMRTC_PIPELINE_RAW_CAP; i++) {
        if (camrtc_frame_alloc_i420(&p->raw[i], p->width, p->height) < 0)
            return CAMRTC_ENOMEM;
        camrtc_ring_push(p->raw_free, &i);
    }
    if (sem_init(&p->raw_sem, 0, 0) < 0)
        return CAMRTC_ENOMEM;
    p->sem_ok = true;
    return CAMRTC_OK;
}

static int setup_encoder(camrtc_pipeline *p, const camrtc_encoder_config *enc,
                         char *err, size_t errsz)
{
    camrtc_encoder_config c = enc ? *enc : (camrtc_encoder_config){0};
    c.width = p->width;
    c.height = p->height;
    c.fps = p->fps;
    int r = camrtc_encoder_new(&c, on_encoder_nal, p, &p->enc, err, errsz);
    if (r < 0)
        return r;
    camrtc_encoder_set_rtp_offset(p->enc, p->set.rtp_offset);
    if (!p->use_capture && camrtc_frame_alloc_i420(&p->conv, p->width, p->height) < 0) {
        camrtc_errf(err, errsz, "out of memory");
        return CAMRTC_ENOMEM;
    }
    /* libyuv only when frames need it: the capture thread copies every frame into its
     * buffers, the encoder thread converts a raw source's frames of another format or
     * size. testsrc at the encoder's size needs none, so it never loads libyuv. */
    if (p->use_capture)
        return camrtc_converter_new(&p->cap_cv, err, errsz);
    if (p->info.fmt != CAMRTC_PIX_I420 || p->info.width != p->width || p->info.height != p->height)
        return camrtc_converter_new(&p->conv_cv, err, errsz);
    return CAMRTC_OK;
}

/* Everything but the threads; on failure the caller frees what was made. */
static int setup(camrtc_pipeline *p, const camrtc_source_config *src,
                 const camrtc_encoder_config *enc, char *err, size_t errsz)
{
    p->src = camrtc_source_open(src, err, errsz);
    if (!p->src)
        return CAMRTC_EINVAL;
    p->info = *camrtc_source_get_info(p->src);
    p->width = enc && enc->width ? enc->width : p->info.width;
    p->height = enc && enc->height ? enc->height : p->info.height;
    p->fps = enc && enc->fps ? enc->fps : p->info.fps;
    if (p->fps <= 0)
        p->fps = 30;
    p->use_capture = !p->info.encoded && (p->info.blocking || p->set.capture_thread);
    int r = setup_output(p);
    if (r == 0 && p->use_capture)
        r = setup_capture(p);
    if (r < 0) {
        camrtc_errf(err, errsz, "out of memory");
        return r;
    }
    if (!p->info.encoded)
        r = setup_encoder(p, enc, err, errsz);
    if (r < 0)
        return r;
    p->async = calloc(1, sizeof(*p->async));
    if (!p->async || uv_async_init(p->loop, p->async, on_async) < 0) {
        free(p->async);
        p->async = NULL;
        camrtc_errf(err, errsz, "uv_async_init failed");
        return CAMRTC_ENOMEM;
    }
    p->async->data = p;
    return CAMRTC_OK;
}

static int start_threads(camrtc_pipeline *p, char *err, size_t errsz)
{
    if (pthread_create(&p->enc_thread, NULL, encoder_main, p) != 0) {
        camrtc_errf(err, errsz, "cannot start the encoder thread");
        return CAMRTC_ENOMEM;
    }
    p->enc_started = true;
    if (p->use_capture) {
        if (pthread_create(&p->cap_thread, NULL, capture_main, p) != 0) {
            camrtc_errf(err, errsz, "cannot start the capture thread");
            return CAMRTC_ENOMEM;
        }
        p->cap_started = true;
    }
    return CAMRTC_OK;
}

int camrtc_pipeline_new(uv_loop_t *loop, const camrtc_source_config *src,
                        const camrtc_encoder_config *enc, camrtc_pipeline_nal_fn on_nal,
                        void *user, const camrtc_pipeline_settings *settings,
                        camrtc_pipeline **out, char *err, size_t errsz)
{
    *out = NULL;
    if (!loop || !src || !on_nal) {
        camrtc_errf(err, errsz, "missing loop, source or callback");
        return CAMRTC_EINVAL;
    }
    camrtc_pipeline *p = calloc(1, sizeof(*p));
    if (!p) {
        camrtc_errf(err, errsz, "out of memory");
        return CAMRTC_ENOMEM;
    }
    p->loop = loop;
    p->on_nal = on_nal;
    p->user = user;
    if (settings)
        p->set = *settings;
    int r = setup(p, src, enc, err, errsz);
    if (r == 0)
        r = start_threads(p, err, errsz);
    if (r < 0) {
        camrtc_pipeline_free(p);
        return r;
    }
    *out = p;
    return CAMRTC_OK;
}

void camrtc_pipeline_free(camrtc_pipeline *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, true);
    if (p->sem_ok)
        sem_post(&p->raw_sem);              /* wake an encoder waiting for a frame */
    if (p->cap_started)
        pthread_join(p->cap_thread, NULL);  /* a blocking read returns within a frame */
    if (p->enc_started)
        pthread_join(p->enc_thread, NULL);
    if (p->async)
        uv_close((uv_handle_t *)p->async, free_async);
    if (p->sem_ok)
        sem_destroy(&p->raw_sem);
    for (size_t i = 0; i < p->nslots && p->slots; i++)
        free(p->slots[i].buf);
    free(p->slots);
    free(p->free_stack);
    for (int i = 0; i < CAMRTC_PIPELINE_RAW_CAP; i++)
        camrtc_frame_free(&p->raw[i]);
    camrtc_converter_free(p->cap_cv);
    camrtc_frame_free(&p->conv);
    camrtc_converter_free(p->conv_cv);
    camrtc_ring_free(p->raw_free);
    camrtc_ring_free(p->ctrl);
    camrtc_ring_free(p->out);
    camrtc_ring_free(p->free_slots);
    camrtc_encoder_free(p->enc);
    camrtc_source_close(p->src);
    free(p);
}
