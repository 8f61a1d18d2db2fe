/* The media pipeline with real threads and a real uv loop: the test pattern at a small
 * size, NAL order and tags, forced IDRs and bitrate changes through the control ring,
 * drop-to-IDR on a full output ring, the capture-thread path, pre-encoded input, and a
 * clean stop. Every run is bounded twice: by max_frames and by a watchdog timer. */
#include "check.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include <uv.h>

#include "camrtc/encoder.h"
#include "camrtc/error.h"
#include "camrtc/pipeline.h"

#define MAX_SEEN 20000
#define WATCHDOG_MS 20000

typedef struct seen {
    uint8_t type;
    bool keyframe, last;
    uint64_t frame_id;
    size_t len;
    uint32_t rtp_ts;
    uint8_t sps_idc;             /* an SPS's profile_idc, else 0 */
} seen;

typedef struct ctx {
    uv_loop_t loop;
    uv_timer_t watchdog;
    camrtc_pipeline *p;
    seen *s;
    int n;
    bool ended, timed_out;
    int end_status;
    /* test knobs */
    bool stall;                  /* on the first NAL, stall until the encoder had to drop */
    int hold;                    /* keep this many NALs unreleased (for the stop test) */
    const camrtc_nal *held[8];
    int nheld;
    int stop_after;              /* stop the loop after this many NALs (0 = at the end) */
    uint64_t idr_after_frame;    /* ask for an IDR when this frame is complete (0 = never) */
    uint64_t profile_after_frame;    /* switch to `profile` when this frame is complete */
    camrtc_h264_profile profile;
    bool asked;
    uint64_t encoded_at_ask;     /* frames the encoder had finished when we asked */
    FILE *out;                   /* write Annex-B here */
    struct slow *slow;           /* the slow-encoder test's state */
} ctx;

/* Whether nal ends frame after_frame (0 = never) and nothing was asked yet: then it is
 * asked now, and how many frames the encoder had finished is noted. */
static bool ask_now(ctx *c, const camrtc_nal *nal, uint64_t after_frame)
{
    if (!after_frame || c->asked || !nal->last_of_frame || nal->frame_id != after_frame)
        return false;
    c->asked = true;
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c->p, &st);
    c->encoded_at_ask = st.frames_encoded;
    return true;
}

static void on_nal(void *user, const camrtc_nal *nal)
{
    ctx *c = user;
    if (c->n < MAX_SEEN)
        c->s[c->n++] = (seen){nal->type, nal->keyframe, nal->last_of_frame, nal->frame_id,
                              nal->len, nal->rtp_ts, nal->type == 7 && nal->len > 1 ? nal->data[1] : 0};
    if (c->out) {
        fwrite("\0\0\0\1", 1, 4, c->out);
        fwrite(nal->data, 1, nal->len, c->out);
    }
    if (c->stall && c->n == 1) {
        /* A loop that stops draining: wait (bounded, 5 s) until the ring overflowed. */
        camrtc_pipeline_stats st = {0};
        for (int i = 0; i < 500 && st.nals_dropped_ring_full == 0; i++) {
            usleep(10000);
            camrtc_pipeline_get_stats(c->p, &st);
        }
    }
    if (ask_now(c, nal, c->idr_after_frame)) {
        camrtc_pipeline_force_idr(c->p);
        camrtc_pipeline_set_bitrate(c->p, 300);
    }
    if (ask_now(c, nal, c->profile_after_frame))
        camrtc_pipeline_set_profile(c->p, c->profile);
    if (c->nheld < c->hold)
        c->held[c->nheld++] = nal;
    else
        camrtc_pipeline_release(c->p, nal);
    if (c->stop_after && c->n >= c->stop_after)
        uv_stop(&c->loop);
}

static void on_end(void *user, int status)
{
    ctx *c = user;
    c->ended = true;
    c->end_status = status;
    uv_stop(&c->loop);
}

static void on_watchdog(uv_timer_t *t)
{
    ctx *c = t->data;
    c->timed_out = true;
    uv_stop(&c->loop);
}

static void ctx_init(ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->s = calloc(MAX_SEEN, sizeof(seen));
    uv_loop_init(&c->loop);
    uv_timer_init(&c->loop, &c->watchdog);
    c->watchdog.data = c;
    uv_timer_start(&c->watchdog, on_watchdog, WATCHDOG_MS, 0);
}

/* Free the pipeline, let the loop close the handles, free the rest. */
static void ctx_done(ctx *c)
{
    camrtc_pipeline_free(c->p);
    c->p = NULL;
    uv_close((uv_handle_t *)&c->watchdog, NULL);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    uv_loop_close(&c->loop);
    free(c->s);
}

static int start(ctx *c, const char *spec, int w, int h, int fps,
                 const camrtc_pipeline_settings *set0)
{
    camrtc_source_config src = {.spec = spec, .width = w, .height = h, .fps = fps};
    camrtc_encoder_config enc = {.bitrate_kbps = 800};
    camrtc_pipeline_settings set = *set0;
    set.on_end = on_end;
    char err[160] = "";
    int r = camrtc_pipeline_new(&c->loop, &src, &enc, on_nal, c, &set, &c->p, err, sizeof(err));
    if (r < 0)
        fprintf(stderr, "pipeline: %s\n", err);
    return r;
}

/* Frames come whole and in order: ids go up, each ends with exactly one last_of_frame. */
static int check_frames(const ctx *c, bool consecutive)
{
    for (int i = 0; i < c->n; i++) {
        const seen *x = &c->s[i];
        bool first = i == 0 || c->s[i - 1].last;
        if (!first && x->frame_id != c->s[i - 1].frame_id)
            return i;                                   /* frame changed without its end */
        if (first && i > 0) {
            uint64_t prev = c->s[i - 1].frame_id;
            if (x->frame_id <= prev || (consecutive && x->frame_id != prev + 1))
                return i;
        }
        if (!first && x->rtp_ts != c->s[i - 1].rtp_ts)
            return i;                                   /* one timestamp per frame */
    }
    return -1;
}

TEST(paced_testsrc_frames_arrive_in_order)
{
    ctx c;
    ctx_init(&c);
    camrtc_pipeline_settings set = {.max_frames = 20};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 120, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    CHECK_EQ_INT(c.end_status, CAMRTC_OK);
    CHECK(c.n >= 20 + 2);
    CHECK_EQ_INT(c.s[0].type, 7);                       /* starts with SPS, PPS, IDR */
    CHECK(c.s[0].keyframe);
    CHECK_EQ_INT(c.s[0].frame_id, 0);
    CHECK_EQ_INT(check_frames(&c, true), -1);
    CHECK(c.s[c.n - 1].last);
    CHECK_EQ_INT(c.s[c.n - 1].frame_id, 19);
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c.p, &st);
    CHECK_EQ_INT(st.frames_encoded, 20);
    CHECK_EQ_INT(st.nals_delivered, (uint64_t)c.n);
    CHECK_EQ_INT(st.nals_out, (uint64_t)c.n);
    CHECK(st.encode_us_total > 0);
    ctx_done(&c);
}

/* A consumer that gives every NAL back at once keeps few in flight: the pool reuses
 * those slots and never gives the others a buffer. Taking free slots in ring order
 * would have put a buffer in every slot once more NALs than slots went through. */
TEST(released_nals_reuse_a_few_buffers)
{
    ctx c;
    ctx_init(&c);
    /* Paced (120 fps, about 1 s): unpaced, the encoder could outrun the loop and fill
     * the 16-item ring, and the drops to the next IDR would leave too few NALs. */
    camrtc_pipeline_settings set = {.max_frames = 120, .out_capacity = 16};
    CHECK_EQ_INT(start(&c, "testsrc", 320, 240, 120, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c.p, &st);
    CHECK(st.nals_delivered > 3 * 32);                 /* 32 slots: 2 x the ring */
    CHECK_EQ_INT(st.nals_dropped_no_buffer, 0);
    CHECK(st.nal_buffers > 0);
    CHECK(st.nal_buffers < 32);
    ctx_done(&c);
}

TEST(forced_idr_and_bitrate_travel_the_control_ring)
{
    ctx c;
    ctx_init(&c);
    c.idr_after_frame = 5;
    camrtc_pipeline_settings set = {.max_frames = 30};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 60, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    CHECK_EQ_INT(check_frames(&c, true), -1);
    /* keyint is 2 s (120 frames): only frame 0 and the requested one are IDRs. When we
     * asked, the encoder had finished k frames: the request is read before frame k (if
     * the encoder was still waiting for it) or k + 1, or k + 2 if frame k ended between
     * our look at the counter and the request: no timing involved. */
    uint64_t idr_frames[4];
    int nidr = 0;
    for (int i = 0; i < c.n && nidr < 4; i++)
        if (c.s[i].type == 5 && (nidr == 0 || idr_frames[nidr - 1] != c.s[i].frame_id))
            idr_frames[nidr++] = c.s[i].frame_id;
    CHECK_EQ_INT(nidr, 2);
    CHECK_EQ_INT(idr_frames[0], 0);
    uint64_t k = c.encoded_at_ask;
    CHECK(k >= 6);
    CHECK(idr_frames[1] >= k && idr_frames[1] <= k + 2);
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c.p, &st);
    CHECK_EQ_INT(st.bitrate_changes, 1);
    CHECK_EQ_INT(st.idr_requests, 1);
    CHECK_EQ_INT(camrtc_pipeline_set_bitrate(c.p, 5), CAMRTC_EINVAL);
    ctx_done(&c);
}

/* A profile switch travels the control ring: the encoder thread reopens x264, and the
 * stream goes from SPS profile_idc 66 to 100 at an IDR, the first picture after the
 * switch, read at frame k, k + 1 or k + 2 (as for a forced IDR above). */
TEST(profile_switch_travels_the_control_ring_and_starts_with_an_idr)
{
    ctx c;
    ctx_init(&c);
    c.profile_after_frame = 5;
    c.profile = CAMRTC_H264_HIGH;
    camrtc_pipeline_settings set = {.max_frames = 30};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 60, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    CHECK_EQ_INT(check_frames(&c, true), -1);
    /* Every SPS in order: 66 ... 66, then 100 ... 100; IDRs only at frame 0 and at the
     * first High SPS (keyint is 120 frames). */
    int nsps = 0, switches = 0, nidr = 0;
    uint8_t prev = 0;
    uint64_t high_from = 0, idr_frames[4];
    for (int i = 0; i < c.n; i++) {
        const seen *x = &c.s[i];
        if (x->type == 5 && (nidr == 0 || idr_frames[nidr - 1] != x->frame_id) && nidr < 4)
            idr_frames[nidr++] = x->frame_id;
        if (x->type != 7)
            continue;
        if (nsps++ == 0)
            CHECK_EQ_INT(x->sps_idc, 66);
        else if (x->sps_idc != prev) {
            switches++;
            CHECK_EQ_INT(x->sps_idc, 100);
            high_from = x->frame_id;
        }
        prev = x->sps_idc;
    }
    CHECK_EQ_INT(switches, 1);
    CHECK_EQ_INT(nidr, 2);
    CHECK_EQ_INT(idr_frames[0], 0);
    CHECK_EQ_INT(idr_frames[1], high_from);
    uint64_t k = c.encoded_at_ask;
    CHECK(k >= 6);
    CHECK(high_from >= k && high_from <= k + 2);
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c.p, &st);
    CHECK_EQ_INT(st.profile_changes, 1);
    CHECK_EQ_INT(st.profile_failures, 0);
    CHECK_EQ_INT(camrtc_pipeline_set_profile(c.p, (camrtc_h264_profile)9), CAMRTC_EINVAL);
    ctx_done(&c);
}

TEST(full_output_ring_drops_until_the_next_idr)
{
    ctx c;
    ctx_init(&c);
    c.stall = true;
    camrtc_pipeline_settings set = {.max_frames = 150, .out_capacity = 8};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 120, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c.p, &st);
    printf("  delivered %d NALs; dropped: ring full %llu, no buffer %llu, to IDR %llu; "
           "IDRs asked %llu\n", c.n, (unsigned long long)st.nals_dropped_ring_full,
           (unsigned long long)st.nals_dropped_no_buffer,
           (unsigned long long)st.nals_dropped_to_idr, (unsigned long long)st.idr_requests);
    CHECK(st.nals_dropped_ring_full > 0);
    CHECK(st.idr_requests > 0);
    CHECK_EQ_INT(st.nals_out, (uint64_t)c.n);
    /* After every gap (a frame left unfinished or skipped) the next frame is an IDR
     * that starts with its SPS: the loop never sees a picture whose reference is lost. */
    int resyncs = 0;
    for (int i = 1; i < c.n; i++) {
        const seen *x = &c.s[i], *prev = &c.s[i - 1];
        if (x->frame_id == prev->frame_id)
            continue;
        bool gap = !prev->last || x->frame_id != prev->frame_id + 1;
        if (gap) {
            resyncs++;
            CHECK(x->keyframe);
            CHECK_EQ_INT(x->type, 7);
        }
        CHECK(x->frame_id > prev->frame_id);
    }
    CHECK(resyncs > 0);
    /* Once the loop keeps up again the stream runs to the end without gaps. */
    CHECK(c.s[c.n - 1].last);
    CHECK_EQ_INT(c.s[c.n - 1].frame_id, 149);
    ctx_done(&c);
}

TEST(capture_thread_path_delivers_newest_frames_in_order)
{
    ctx c;
    ctx_init(&c);
    camrtc_pipeline_settings set = {.max_frames = 15, .capture_thread = true};
    CHECK_EQ_INT(start(&c, "testsrc", 176, 144, 100, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    CHECK_EQ_INT(check_frames(&c, false), -1);          /* newest-first may skip ids */
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c.p, &st);
    CHECK_EQ_INT(st.frames_encoded, 15);
    CHECK(st.frames_captured >= 15);
    CHECK(st.frames_encoded + st.raw_dropped_old + st.raw_dropped_full <= st.frames_captured);
    ctx_done(&c);
}

/* A slow encoder: after each picture it waits (bounded) until the capture thread has
 * captured SLOW_BEHIND more frames. The hand-off must then give it the newest frame
 * every time, dropping the older ones: the next picture is at least SLOW_BEHIND frames
 * on. A FIFO of CAMRTC_PIPELINE_RAW_CAP buffers that drops the frame just captured when
 * full would give a picture at most RAW_CAP frames on; SLOW_BEHIND is above that. */
#define SLOW_BEHIND (CAMRTC_PIPELINE_RAW_CAP + 3)
#define SLOW_FRAMES 8

typedef struct slow {
    camrtc_pipeline *p;             /* set before the first picture can arrive (see below) */
    atomic_bool ready;
    uint64_t ids[SLOW_FRAMES];
    int n;
    bool waited_out;                /* a wait hit its bound (the capture thread stalled) */
} slow;

static void slow_on_picture(void *user, const camrtc_frame *f)
{
    ctx *c = user;
    slow *sl = c->slow;
    if (sl->n < SLOW_FRAMES)
        sl->ids[sl->n++] = f->frame_id;
    for (int i = 0; i < 5000 && !atomic_load(&sl->ready); i++)
        usleep(1000);               /* sl->p is written by the test thread after _new */
    if (!atomic_load(&sl->ready)) {
        sl->waited_out = true;
        return;
    }
    camrtc_pipeline_stats st = {0};
    for (int i = 0; i < 5000; i++) {           /* at most 5 s */
        camrtc_pipeline_get_stats(sl->p, &st);
        if (st.frames_captured >= f->frame_id + 1 + SLOW_BEHIND)
            return;
        usleep(1000);
    }
    sl->waited_out = true;
}

TEST(slow_encoder_gets_the_newest_frame_and_older_ones_are_dropped)
{
    ctx c;
    ctx_init(&c);
    slow *sl = calloc(1, sizeof(*sl));
    c.slow = sl;
    camrtc_pipeline_settings set = {.max_frames = SLOW_FRAMES, .capture_thread = true,
                                    .on_picture = slow_on_picture};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 200, &set), CAMRTC_OK);
    sl->p = c.p;
    atomic_store(&sl->ready, true);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    CHECK(!sl->waited_out);
    CHECK_EQ_INT(sl->n, SLOW_FRAMES);
    /* The first picture is frame 0 unless the capture thread (200 fps) got a frame in
     * before the encoder thread first ran (a busy machine): then the older ones were
     * dropped as well, and count with the gaps. */
    uint64_t gaps = sl->ids[0];
    printf("  encoded frame ids: %llu", (unsigned long long)sl->ids[0]);
    for (int i = 1; i < sl->n; i++) {
        printf(" %llu", (unsigned long long)sl->ids[i]);
        CHECK(sl->ids[i] >= sl->ids[i - 1] + SLOW_BEHIND);   /* the newest, not the next */
        gaps += sl->ids[i] - sl->ids[i - 1] - 1;
    }
    printf("\n");
    CHECK_EQ_INT(check_frames(&c, false), -1);
    /* Every frame skipped between two pictures was dropped and counted. The capture
     * thread counts a drop just after it replaced the frame: wait (bounded) for it. */
    camrtc_pipeline_stats st = {0};
    for (int i = 0; i < 2000; i++) {
        camrtc_pipeline_get_stats(c.p, &st);
        if (st.raw_dropped_old >= gaps)
            break;
        usleep(1000);
    }
    CHECK(st.raw_dropped_old >= gaps);
    CHECK_EQ_INT(st.raw_dropped_full, 0);
    CHECK_EQ_INT(st.frames_encoded, SLOW_FRAMES);
    ctx_done(&c);
    free(sl);
}

TEST(stop_midway_with_nals_still_held_frees_everything)
{
    ctx c;
    ctx_init(&c);
    c.hold = 3;                                         /* never released: freed by the pipeline */
    c.stop_after = 25;
    camrtc_pipeline_settings set = {.unpaced = true, .capture_thread = true};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 30, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(!c.ended);
    CHECK(c.n >= 25);
    ctx_done(&c);                                       /* joins threads; LSan checks the rest */

    ctx_init(&c);
    c.stop_after = 10;
    set = (camrtc_pipeline_settings){.unpaced = true};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 30, &set), CAMRTC_OK);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(c.n >= 10);
    ctx_done(&c);
}

TEST(consumer_keeping_every_buffer_gets_no_more_and_it_is_counted)
{
    ctx c;
    ctx_init(&c);
    c.hold = 8;                                         /* the whole pool: 2 x capacity 4 */
    camrtc_pipeline_settings set = {.max_frames = 30, .out_capacity = 4};
    CHECK_EQ_INT(start(&c, "testsrc", 160, 128, 240, &set), CAMRTC_OK);  /* loop keeps up */
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    camrtc_pipeline_stats st;
    camrtc_pipeline_get_stats(c.p, &st);
    CHECK_EQ_INT(c.n, 8);
    CHECK(st.nals_dropped_no_buffer > 0);
    CHECK_EQ_INT(st.nals_out, 8);
    ctx_done(&c);
}

static void write_stream(const char *path, int frames)
{
    ctx c;
    ctx_init(&c);
    c.out = fopen(path, "wb");
    camrtc_pipeline_settings set = {.max_frames = (uint64_t)frames, .unpaced = true};
    if (c.out && start(&c, "testsrc", 160, 128, 30, &set) == 0)
        uv_run(&c.loop, UV_RUN_DEFAULT);
    if (c.out)
        fclose(c.out);
    ctx_done(&c);
}

TEST(pre_encoded_stream_is_paced_and_split_into_nals)
{
    char path[] = "/tmp/camrtc_test_pipeline_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    write_stream(path, 12);
    char spec[64];
    snprintf(spec, sizeof(spec), "h264:%s", path);

    ctx c;
    ctx_init(&c);
    c.idr_after_frame = 2;                              /* ignored: the file has its own */
    camrtc_pipeline_settings set = {.max_frames = 12};
    int r = start(&c, spec, 0, 0, 120, &set);
    unlink(path);
    CHECK_EQ_INT(r, CAMRTC_OK);
    CHECK(camrtc_pipeline_source_info(c.p)->encoded);
    CHECK_EQ_INT(camrtc_pipeline_set_profile(c.p, CAMRTC_H264_HIGH), CAMRTC_EUNSUPPORTED);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    CHECK(!c.timed_out);
    CHECK(c.ended);
    CHECK_EQ_INT(c.end_status, CAMRTC_OK);
    CHECK_EQ_INT(check_frames(&c, true), -1);
    CHECK_EQ_INT(c.s[0].type, 7);
    CHECK(c.s[0].keyframe);
    CHECK_EQ_INT(c.s[c.n - 1].frame_id, 11);
    int idr_slices = 0;
    for (int i = 0; i < c.n; i++)
        idr_slices += c.s[i].type == 5;
    CHECK(idr_slices >= 1);
    for (int i = 0; i < c.n; i++)
        if (c.s[i].frame_id > 0)
            CHECK(c.s[i].type != 5);                    /* no IDR was made up */
    ctx_done(&c);
}

/* n frames of a 64x48 y4m (frame k: luma k * 20, grey chroma) into fd. */
static bool write_y4m_frames(int fd, int n)
{
    static const char hdr[] = "YUV4MPEG2 W64 H48 F30:1 C420jpeg\n";
    uint8_t planes[64 * 48 * 3 / 2];
    bool ok = write(fd, hdr, sizeof(hdr) - 1) == (ssize_t)(sizeof(hdr) - 1);
    for (int k = 0; k < n && ok; k++) {
        memset(planes, k * 20, 64 * 48);
        memset(planes + 64 * 48, 128, 64 * 48 / 2);
        ok = write(fd, "FRAME\n", 6) == 6 &&
             write(fd, planes, sizeof(planes)) == (ssize_t)sizeof(planes);
    }
    return ok;
}

/* Run an unpaced pipeline on a y4m spec until it ends (max_frames 0: the source's end):
 * it must end cleanly with frames in order, the last one last_id. *encoded (may be NULL)
 * gets frames_encoded. false when anything differs (printed). */
static bool run_y4m(const char *spec, uint64_t max_frames, uint64_t last_id, uint64_t *encoded)
{
    ctx c;
    ctx_init(&c);
    camrtc_pipeline_settings set = {.max_frames = max_frames, .unpaced = true};
    bool ok = start(&c, spec, 0, 0, 0, &set) == CAMRTC_OK;
    if (ok) {
        uv_run(&c.loop, UV_RUN_DEFAULT);
        ok = !c.timed_out && c.ended && c.end_status == CAMRTC_OK && check_frames(&c, true) == -1 &&
             c.n > 0 && c.s[c.n - 1].last && c.s[c.n - 1].frame_id == last_id;
        camrtc_pipeline_stats st;
        camrtc_pipeline_get_stats(c.p, &st);
        if (encoded)
            *encoded = st.frames_encoded;
        if (!ok)
            fprintf(stderr, "run_y4m %s: timed_out %d ended %d status %d frames %zu last id %llu\n", spec,
                    c.timed_out, c.ended, c.end_status, (size_t)c.n,
                    c.n ? (unsigned long long)c.s[c.n - 1].frame_id : 0ull);
    }
    ctx_done(&c);
    return ok;
}

/* A mapped y4m file: its frames go to x264 straight from the read-only mapping (at
 * unaligned addresses), and the file loops with frame ids still counting. */
TEST(y4m_file_loops_through_the_encoder)
{
    char path[] = "/tmp/camrtc_test_pipeline_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    bool wrote = write_y4m_frames(fd, 3);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof(spec), "y4m:%s", path);
    CHECK(wrote);
    bool ok = run_y4m(spec, 7, 6, NULL);
    unlink(path);
    CHECK(ok);
}

/* y4m from a pipe plays once: the source's CAMRTC_ECLOSED ends the pipeline cleanly. */
TEST(y4m_pipe_ends_the_pipeline_after_its_frames)
{
    int fds[2];
    CHECK_EQ_INT(pipe(fds), 0);
    bool wrote = write_y4m_frames(fds[1], 5);   /* 23 kB: within the pipe's buffer */
    close(fds[1]);
    char spec[64];
    snprintf(spec, sizeof(spec), "y4m:/dev/fd/%d", fds[0]);
    CHECK(wrote);
    uint64_t encoded = 0;
    bool ok = run_y4m(spec, 0, 4, &encoded);   /* the source opens its own descriptor */
    close(fds[0]);
    CHECK(ok);
    CHECK_EQ_INT(encoded, 5);
}

TEST(bad_source_or_size_is_a_clear_error)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    camrtc_pipeline *p = (camrtc_pipeline *)&loop;
    char err[160] = "";
    camrtc_source_config src = {.spec = "nosuch:thing"};
    CHECK(camrtc_pipeline_new(&loop, &src, NULL, on_nal, NULL, NULL, &p, err, sizeof(err)) < 0);
    CHECK(p == NULL);
    CHECK(err[0] != '\0');
    camrtc_source_config ok = {.spec = "testsrc", .width = 160, .height = 128};
    camrtc_encoder_config enc = {.width = 161, .height = 128};
    err[0] = '\0';
    CHECK_EQ_INT(camrtc_pipeline_new(&loop, &ok, &enc, on_nal, NULL, NULL, &p, err, sizeof(err)),
                 CAMRTC_EINVAL);
    CHECK(strstr(err, "161x128") != NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&loop), 0);
}

int main(void)
{
    return RUN_TESTS(paced_testsrc_frames_arrive_in_order, released_nals_reuse_a_few_buffers,
                     forced_idr_and_bitrate_travel_the_control_ring,
                     profile_switch_travels_the_control_ring_and_starts_with_an_idr,
                     full_output_ring_drops_until_the_next_idr,
                     capture_thread_path_delivers_newest_frames_in_order,
                     slow_encoder_gets_the_newest_frame_and_older_ones_are_dropped,
                     stop_midway_with_nals_still_held_frees_everything,
                     consumer_keeping_every_buffer_gets_no_more_and_it_is_counted,
                     pre_encoded_stream_is_paced_and_split_into_nals,
                     y4m_file_loops_through_the_encoder,
                     y4m_pipe_ends_the_pipeline_after_its_frames,
                     bad_source_or_size_is_a_clear_error);
}
