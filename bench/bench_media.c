/* The media side's costs, one JSON object per line:
 *
 *   bench_media [--frames N] [--rounds R] [--seconds S] [--only PHASE]
 *
 *   --only all (default) runs every phase below; --only encode the raw/pipeline
 *   comparison alone; --only raw and --only pipeline one run of one side (no JSON for
 *   the other phases), with callgrind's instrumentation on only around that run: this
 *   is how bench/media_instr.py counts the instructions of each side.
 *
 *   rss_720p30        VmRSS of the process before and while a 720p30 testsrc pipeline
 *                     runs (capture → x264 → loop), measured first so the later phases'
 *                     buffers are not in it.
 *   encode_raw_x264   x264_encoder_encode called directly, same settings as
 *                     camrtc_encoder (ultrafast, zerolatency, constrained baseline,
 *                     2500 kbit/s, one-frame VBV, 1100-byte slices, 1 thread), on N
 *                     pre-made 720p I420 test-pattern frames (default 300).
 *   encode_pipeline   the same N frames from a Y4M file through the whole pipeline,
 *                     unpaced: read, encoder thread, output ring, uv_async, on_nal.
 *                     Latency per frame is capture (read) → last NAL on the loop.
 *                     The two alternate for R rounds (default 9), one line each. Both
 *                     time from opening x264 (and the source) to closing it, and give
 *                     process CPU, page faults and context switches per frame; the
 *                     pipeline also the loop thread's own CPU (its wake-ups per NAL).
 *   pipeline_vs_raw   the ratios (goal: <= 1.1), from the medians and from the best
 *                     round of each side, and the median of the per-round ratios.
 *   slice_latency     720p at 30 fps, 2500 kbit/s, 1 x264 thread, paced testsrc (its
 *                     moving texture costs about 9 slices a picture): capture → first
 *                     NAL on the loop and capture → last NAL, p50/p90 (the gain of
 *                     slice-level output).
 *   ring_transfer     SPSC ring, two threads, 8-byte items: ns per item.
 *   convert_720p      libyuv YUYV → I420 and NV12 → I420 per 720p frame.
 *   testsrc_draw      drawing one 720p test pattern (goal: < 1 ms).
 */
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <uv.h>
#include <x264.h>

#include "camrtc/encoder.h"
#include "camrtc/error.h"
#include "camrtc/media.h"
#include "camrtc/pipeline.h"
#include "camrtc/ring.h"

#include "bench_util.h"

/* callgrind counts only what runs between START and STOP (bench/media_instr.py runs
 * valgrind with --instr-atstart=no); outside valgrind the macros do nothing. */
#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif
#endif
#ifndef CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#define W 1280
#define H 720
#define FPS 30
#define KBPS 2500
#define MAX_FRAMES 1000
#define MAX_ROUNDS 15

/* CPU time of the whole process (all threads) in us: unlike wall time, it does not
 * grow when other processes take the cores. */
static uint64_t cpu_us(void)
{
    return bench_clock_ns(CLOCK_PROCESS_CPUTIME_ID) / 1000u;
}

/* Kernel work the CPU time hides the cause of: page faults and context switches of the
 * whole process (every thread) so far. */
typedef struct kernel_counts {
    long faults, switches;
} kernel_counts;

static kernel_counts kernel_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (kernel_counts){ru.ru_minflt + ru.ru_majflt, ru.ru_nvcsw + ru.ru_nivcsw};
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v in place. */
static double pct_ms(uint64_t *v, int n, int pct)
{
    if (n <= 0)
        return 0;
    qsort(v, (size_t)n, sizeof(*v), cmp_u64);
    int i = (n - 1) * pct / 100;
    return (double)v[i] / 1000.0;
}

static double mean_ms(const uint64_t *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s += (double)v[i];
    return n ? s / n / 1000.0 : 0;
}

/* ---- a pipeline run on a private loop ------------------------------------------------------ */

typedef struct run {
    uv_loop_t loop;
    camrtc_pipeline *p;
    uint64_t first_us[MAX_FRAMES], last_us[MAX_FRAMES];   /* capture → on the loop */
    uint64_t first_emit[MAX_FRAMES], last_emit[MAX_FRAMES]; /* capture → out of x264 */
    int nals[MAX_FRAMES];
    int frames;
    bool first_seen;
    long rss_max;
    double encode_ms_mean;         /* time inside camrtc_encoder_encode, per frame */
    double cpu_ms_per_frame;       /* process CPU time (every thread) per frame */
    double loop_cpu_ms_per_frame;  /* of which the loop thread's (this thread's) */
    double faults_per_frame, switches_per_frame;
    uv_timer_t timer;
} run;

static void run_on_nal(void *user, const camrtc_nal *nal)
{
    run *r = user;
    uint64_t now = camrtc_now_us();
    if (r->frames < MAX_FRAMES) {
        if (!r->first_seen) {
            r->first_us[r->frames] = now - nal->capture_us;
            r->first_emit[r->frames] = nal->encoded_us - nal->capture_us;
            r->nals[r->frames] = 0;
        }
        r->first_seen = true;
        r->nals[r->frames]++;
        if (nal->last_of_frame) {
            r->last_emit[r->frames] = nal->encoded_us - nal->capture_us;
            r->last_us[r->frames++] = now - nal->capture_us;
            r->first_seen = false;
        }
    }
    camrtc_pipeline_release(r->p, nal);
}

static void run_on_end(void *user, int status)
{
    run *r = user;
    if (status < 0)
        fprintf(stderr, "bench_media: pipeline stopped: %s\n", camrtc_strerror(status));
    uv_stop(&r->loop);
}

static void run_on_timer(uv_timer_t *t)
{
    run *r = t->data;
    long kb = bench_rss_kb();
    if (kb > r->rss_max)
        r->rss_max = kb;
}

/* Run a pipeline until max_frames; returns wall time in us, or 0 on failure. Paced runs
 * sample the RSS every 200 ms; unpaced ones (the timed comparison with raw x264) run
 * nothing of ours beside the pipeline. */
static uint64_t run_pipeline(run *r, const char *spec, uint64_t max_frames, bool unpaced)
{
    memset(r, 0, sizeof(*r));
    uv_loop_init(&r->loop);
    uv_timer_init(&r->loop, &r->timer);
    r->timer.data = r;
    if (!unpaced)
        uv_timer_start(&r->timer, run_on_timer, 200, 200);
    camrtc_source_config src = {.spec = spec, .width = W, .height = H, .fps = FPS};
    camrtc_encoder_config enc = {.bitrate_kbps = KBPS};
    camrtc_pipeline_settings set = {.on_end = run_on_end, .max_frames = max_frames,
                                    .unpaced = unpaced};
    char err[200];
    /* From opening the source and x264 to closing them, as the raw side's window. */
    uint64_t t0 = camrtc_now_us(), c0 = cpu_us();
    uint64_t l0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
    kernel_counts k0 = kernel_now();
    int rc = camrtc_pipeline_new(&r->loop, &src, &enc, run_on_nal, r, &set, &r->p, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "bench_media: %s: %s\n", spec, err);
    else {
        uv_run(&r->loop, UV_RUN_DEFAULT);
        camrtc_pipeline_stats st;
        camrtc_pipeline_get_stats(r->p, &st);
        r->encode_ms_mean = st.frames_encoded ?
            (double)st.encode_us_total / 1000.0 / (double)st.frames_encoded : 0;
    }
    camrtc_pipeline_free(r->p);
    uint64_t t1 = camrtc_now_us();
    if (r->frames) {
        r->cpu_ms_per_frame = (double)(cpu_us() - c0) / 1000.0 / r->frames;
        r->loop_cpu_ms_per_frame =
            (double)(bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - l0) / 1e6 / r->frames;
        kernel_counts k1 = kernel_now();
        r->faults_per_frame = (double)(k1.faults - k0.faults) / r->frames;
        r->switches_per_frame = (double)(k1.switches - k0.switches) / r->frames;
    }
    uv_close((uv_handle_t *)&r->timer, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);
    return rc < 0 ? 0 : t1 - t0;
}

/* ---- phases ------------------------------------------------------------------------------------ */

static void bench_rss(int seconds)
{
    long idle = bench_rss_kb();
    run *r = calloc(1, sizeof(*r));
    run_pipeline(r, "testsrc", (uint64_t)seconds * FPS, false);
    printf("{\"bench\":\"media\",\"what\":\"rss_720p30\",\"seconds\":%d,\"frames\":%d,"
           "\"rss_kb_before\":%ld,\"rss_kb_running_max\":%ld,\"rss_kb_pipeline\":%ld}\n",
           seconds, r->frames, idle, r->rss_max, r->rss_max - idle);
    free(r);
}

static int write_y4m(const char *path, const camrtc_frame *f, int n);

/* The test pattern, as testsrc draws it (its texture band makes every picture cost
 * bits, as a camera's do). */
static int make_frames(camrtc_frame *f, int n)
{
    for (int i = 0; i < n; i++) {
        if (camrtc_frame_alloc_i420(&f[i], W, H) < 0)
            return -1;
        camrtc_testsrc_draw(&f[i], (uint64_t)i, (uint64_t)i * 33333);
    }
    return 0;
}

static int write_y4m(const char *path, const camrtc_frame *f, int n)
{
    FILE *o = fopen(path, "wb");
    if (!o)
        return -1;
    fprintf(o, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", W, H, FPS);
    for (int i = 0; i < n; i++) {
        fputs("FRAME\n", o);
        fwrite(f[i].plane[0], 1, f[i].bytes, o);
    }
    return fclose(o);
}

/* x264 set up as camrtc_encoder does (encoder.c), without the slice callback. */
static x264_t *open_raw_x264(void)
{
    x264_param_t p;
    x264_param_default_preset(&p, "ultrafast", "zerolatency");
    p.i_log_level = X264_LOG_ERROR;
    p.i_threads = 1;
    p.b_sliced_threads = 0;
    p.i_width = W;
    p.i_height = H;
    p.i_csp = X264_CSP_I420;
    p.i_fps_num = FPS;
    p.i_fps_den = 1;
    p.b_vfr_input = 0;
    p.i_level_idc = 31;
    p.i_keyint_max = 2 * FPS;
    p.rc.i_rc_method = X264_RC_ABR;
    p.rc.i_bitrate = KBPS;
    p.rc.i_vbv_max_bitrate = KBPS;
    p.rc.i_vbv_buffer_size = (KBPS + FPS - 1) / FPS;
    p.b_repeat_headers = 1;
    p.b_annexb = 0;
    p.i_slice_max_size = 1100;
    x264_param_apply_profile(&p, "baseline");
    return x264_encoder_open(&p);
}

/* One round of one side: frames/s (wall), process CPU ms per frame (all threads),
 * latency ms per frame (raw: inside x264_encoder_encode; pipeline: capture → last NAL
 * on the loop) and, for the pipeline, ms per frame inside camrtc_encoder_encode. */
typedef struct round_result {
    double fps, cpu_ms, lat_ms, enc_ms;
} round_result;

static bool bench_raw(const camrtc_frame *f, int n, uint64_t *lat, round_result *res)
{
    /* Opening and closing x264 count, as they do in the pipeline's run. */
    CALLGRIND_START_INSTRUMENTATION;
    uint64_t t0 = camrtc_now_us(), c0 = cpu_us();
    kernel_counts k0 = kernel_now();
    x264_t *h = open_raw_x264();
    if (!h) {
        CALLGRIND_STOP_INSTRUMENTATION;
        return false;
    }
    size_t bytes = 0;
    for (int i = 0; i < n; i++) {
        x264_picture_t pic, out;
        x264_picture_init(&pic);
        pic.img.i_csp = X264_CSP_I420;
        pic.img.i_plane = 3;
        for (int k = 0; k < 3; k++) {
            pic.img.plane[k] = f[i].plane[k];
            pic.img.i_stride[k] = f[i].stride[k];
        }
        pic.i_pts = i;
        x264_nal_t *nals;
        int nn;
        uint64_t s = camrtc_now_us();
        int sz = x264_encoder_encode(h, &nals, &nn, &pic, &out);
        lat[i] = camrtc_now_us() - s;
        bytes += sz > 0 ? (size_t)sz : 0;
    }
    x264_encoder_close(h);
    double secs = (double)(camrtc_now_us() - t0) / 1e6;
    res->cpu_ms = (double)(cpu_us() - c0) / 1000.0 / n;
    kernel_counts k1 = kernel_now();
    CALLGRIND_STOP_INSTRUMENTATION;
    res->fps = n / secs;
    res->lat_ms = res->enc_ms = mean_ms(lat, n);
    printf("{\"bench\":\"media\",\"what\":\"encode_raw_x264\",\"size\":\"%dx%d\",\"frames\":%d,"
           "\"bytes\":%zu,\"fps\":%.1f,\"cpu_ms_per_frame\":%.3f,\"ms_per_frame_mean\":%.3f,"
           "\"ms_p50\":%.3f,\"ms_p95\":%.3f,\"faults_per_frame\":%.1f,\"switches_per_frame\":%.1f,"
           "\"loadavg\":%.2f}\n", W, H, n, bytes, res->fps, res->cpu_ms, res->lat_ms,
           pct_ms(lat, n, 50), pct_ms(lat, n, 95), (double)(k1.faults - k0.faults) / n,
           (double)(k1.switches - k0.switches) / n, bench_loadavg());
    return true;
}

static bool bench_pipe(run *r, const char *spec, int n, round_result *res)
{
    CALLGRIND_START_INSTRUMENTATION;
    uint64_t us = run_pipeline(r, spec, (uint64_t)n, true);
    CALLGRIND_STOP_INSTRUMENTATION;
    if (!us || r->frames != n) {
        fprintf(stderr, "bench_media: the pipeline delivered %d of %d frames\n", r->frames, n);
        return false;
    }
    *res = (round_result){.fps = r->frames / ((double)us / 1e6), .cpu_ms = r->cpu_ms_per_frame,
                          .lat_ms = mean_ms(r->last_us, r->frames), .enc_ms = r->encode_ms_mean};
    printf("{\"bench\":\"media\",\"what\":\"encode_pipeline\",\"size\":\"%dx%d\",\"frames\":%d,"
           "\"fps\":%.1f,\"cpu_ms_per_frame\":%.3f,\"loop_cpu_ms_per_frame\":%.3f,"
           "\"encode_ms_mean\":%.3f,"
           "\"capture_to_last_nal_ms_mean\":%.3f,\"ms_p50\":%.3f,\"ms_p95\":%.3f,"
           "\"faults_per_frame\":%.1f,\"switches_per_frame\":%.1f,\"loadavg\":%.2f}\n",
           W, H, r->frames, res->fps, res->cpu_ms, r->loop_cpu_ms_per_frame, res->enc_ms, res->lat_ms,
           pct_ms(r->last_us, r->frames, 50), pct_ms(r->last_us, r->frames, 95),
           r->faults_per_frame, r->switches_per_frame, bench_loadavg());
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One metric over the rounds: pipeline over raw from the medians, from the best round of
 * each side (the highest fps, the lowest cost), and the median of the per-round ratios
 * (a raw round and the pipeline round right after it share the machine's load). hi:
 * higher is better (fps), so the ratio is raw over pipeline, and best is the highest. */
typedef struct ratio3 {
    double of_medians, of_bests, paired_median;
} ratio3;

static ratio3 ratios(const round_result *raw, const round_result *pipe, int rounds,
                     size_t field, bool hi)
{
    double a[MAX_ROUNDS], b[MAX_ROUNDS], q[MAX_ROUNDS];
    for (int i = 0; i < rounds; i++) {
        a[i] = *(const double *)((const char *)&raw[i] + field);
        b[i] = *(const double *)((const char *)&pipe[i] + field);
        q[i] = hi ? a[i] / b[i] : b[i] / a[i];
    }
    double ma = median(a, rounds), mb = median(b, rounds);  /* sorted now */
    double ba = hi ? a[rounds - 1] : a[0], bb = hi ? b[rounds - 1] : b[0];
    return (ratio3){.of_medians = hi ? ma / mb : mb / ma, .of_bests = hi ? ba / bb : bb / ba,
                    .paired_median = median(q, rounds)};
}

static void print_ratio(const char *name, ratio3 q, bool last)
{
    printf("\"%s\":%.3f,\"%s_best\":%.3f,\"%s_paired\":%.3f%s", name, q.of_medians, name,
           q.of_bests, name, q.paired_median, last ? "" : ",");
}

/* The same n test-pattern frames in memory and in a Y4M file. Returns the file's path
 * in path (unlinked by the caller), or false. */
static bool prepare_frames(camrtc_frame *f, int n, char *path, bool need_file)
{
    if (!need_file)
        return make_frames(f, n) == 0;
    int fd = mkstemp(path);
    if (fd < 0)
        return false;
    close(fd);
    if (make_frames(f, n) < 0 || write_y4m(path, f, n) < 0) {
        unlink(path);
        return false;
    }
    return true;
}

static void bench_encode(int n, int rounds)
{
    camrtc_frame *f = calloc((size_t)n, sizeof(*f));
    uint64_t *lat = calloc((size_t)n, sizeof(*lat));
    run *r = calloc(1, sizeof(*r));
    char path[] = "/tmp/bench_media_XXXXXX", spec[64];
    round_result raw[MAX_ROUNDS], pipe[MAX_ROUNDS];
    if (!f || !lat || !r || !prepare_frames(f, n, path, true)) {
        fprintf(stderr, "bench_media: cannot prepare the frames\n");
        goto out;
    }
    snprintf(spec, sizeof(spec), "y4m:%s", path);
    /* Alternate the two (shared machine: load comes and goes). */
    bool ok = true;
    for (int i = 0; i < rounds && ok; i++)
        ok = bench_raw(f, n, lat, &raw[i]) && bench_pipe(r, spec, n, &pipe[i]);
    unlink(path);
    if (!ok)
        goto out;
    /* cpu: process CPU time per frame, pipeline over raw (all threads: source read, hand-off,
     * loop; the least sensitive to other processes). throughput: frames/s of raw x264 over
     * the pipeline's. encode: time per picture inside the pipeline's encoder (wrapper, slice
     * callback, ring) over raw x264's. latency: capture → last NAL on the loop over raw
     * x264's time per picture (adds the hand-off to the loop thread). */
    printf("{\"bench\":\"media\",\"what\":\"pipeline_vs_raw\",\"frames\":%d,\"rounds\":%d,", n,
           rounds);
    print_ratio("cpu_ratio", ratios(raw, pipe, rounds, offsetof(round_result, cpu_ms), false), false);
    print_ratio("throughput_ratio", ratios(raw, pipe, rounds, offsetof(round_result, fps), true), false);
    print_ratio("encode_ratio", ratios(raw, pipe, rounds, offsetof(round_result, enc_ms), false), false);
    print_ratio("latency_ratio", ratios(raw, pipe, rounds, offsetof(round_result, lat_ms), false), true);
    printf(",\"goal\":1.1,\"loadavg\":%.2f}\n", bench_loadavg());
out:
    for (int i = 0; f && i < n; i++)
        camrtc_frame_free(&f[i]);
    free(f);
    free(lat);
    free(r);
}

/* One run of one side, for callgrind (see the top of the file). */
static int bench_one(int n, bool pipeline)
{
    camrtc_frame *f = calloc((size_t)n, sizeof(*f));
    uint64_t *lat = calloc((size_t)n, sizeof(*lat));
    run *r = calloc(1, sizeof(*r));
    char path[] = "/tmp/bench_media_XXXXXX", spec[64];
    round_result res;
    bool ok = f && lat && r && prepare_frames(f, n, path, pipeline);
    if (ok && pipeline) {
        snprintf(spec, sizeof(spec), "y4m:%s", path);
        ok = bench_pipe(r, spec, n, &res);
        unlink(path);
    } else if (ok) {
        ok = bench_raw(f, n, lat, &res);
    }
    for (int i = 0; f && i < n; i++)
        camrtc_frame_free(&f[i]);
    free(f);
    free(lat);
    free(r);
    return ok ? 0 : 1;
}

static void print_slices(const char *content, run *r)
{
    int n = r->frames, multi = 0;
    long nals = 0;
    for (int i = 0; i < n; i++) {
        nals += r->nals[i];
        multi += r->nals[i] > 1;
    }
    double fm = mean_ms(r->first_us, n), lm = mean_ms(r->last_us, n);
    double fe = mean_ms(r->first_emit, n), le = mean_ms(r->last_emit, n);
    /* pct_ms sorts: take every percentile of one array before the next. */
    double f50 = pct_ms(r->first_us, n, 50), f90 = pct_ms(r->first_us, n, 90);
    double l50 = pct_ms(r->last_us, n, 50), l90 = pct_ms(r->last_us, n, 90);
    printf("{\"bench\":\"media\",\"what\":\"slice_latency\",\"content\":\"%s\","
           "\"size\":\"%dx%d\",\"fps\":%d,\"kbps\":%d,\"x264_threads\":1,\"frames\":%d,"
           "\"nals_per_frame\":%.1f,\"multi_nal_frames\":%d,", content, W, H, FPS, KBPS, n,
           n ? (double)nals / n : 0, multi);
    printf("\"first_nal_ms_p50\":%.3f,\"first_nal_ms_p90\":%.3f,\"first_nal_ms_mean\":%.3f,"
           "\"last_nal_ms_p50\":%.3f,\"last_nal_ms_p90\":%.3f,\"last_nal_ms_mean\":%.3f,"
           "\"first_out_of_encoder_ms_mean\":%.3f,\"last_out_of_encoder_ms_mean\":%.3f,"
           "\"loadavg\":%.2f}\n", f50, f90, fm, l50, l90, lm, fe, le, bench_loadavg());
}

/* Paced at 30 fps, so the loop is idle when each NAL comes: the pure hand-off latency.
 * testsrc's texture band costs about 9 slices per picture at 2.5 Mbit/s, as a camera
 * image does, so the first NAL can leave well before the last. */
static void bench_slices(int seconds)
{
    run *r = calloc(1, sizeof(*r));
    run_pipeline(r, "testsrc", (uint64_t)seconds * FPS, false);
    print_slices("testsrc", r);
    free(r);
}

/* ---- the test pattern's own cost ------------------------------------------------------------- */

static void bench_testsrc_draw(void)
{
    enum { N = 300 };
    camrtc_frame f;
    if (camrtc_frame_alloc_i420(&f, W, H) < 0)
        return;
    uint64_t lat[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = camrtc_now_us();
        camrtc_testsrc_draw(&f, (uint64_t)i, t0);
        lat[i] = camrtc_now_us() - t0;
    }
    double m = mean_ms(lat, N);
    printf("{\"bench\":\"media\",\"what\":\"testsrc_draw\",\"size\":\"%dx%d\",\"frames\":%d,"
           "\"us_mean\":%.1f,\"us_p50\":%.1f,\"us_p90\":%.1f,\"goal_us\":1000,\"loadavg\":%.2f}\n",
           W, H, N, m * 1000.0, pct_ms(lat, N, 50) * 1000.0, pct_ms(lat, N, 90) * 1000.0,
           bench_loadavg());
    camrtc_frame_free(&f);
}

/* ---- ring --------------------------------------------------------------------------------------- */

#define RING_ITEMS 5000000u

typedef struct ring_arg {
    camrtc_ring *r;
    atomic_bool bad;
} ring_arg;

static void *ring_consumer(void *a)
{
    ring_arg *ra = a;
    for (uint64_t i = 0; i < RING_ITEMS; i++) {
        uint64_t v;
        while (!camrtc_ring_pop_copy(ra->r, &v))
            sched_yield();          /* two cores shared with others: let the producer run */
        if (v != i)
            atomic_store(&ra->bad, true);
    }
    return NULL;
}

static void bench_ring(void)
{
    ring_arg ra = {.r = camrtc_ring_new(1024, sizeof(uint64_t))};
    pthread_t t;
    uint64_t t0 = camrtc_now_us();
    pthread_create(&t, NULL, ring_consumer, &ra);
    for (uint64_t i = 0; i < RING_ITEMS; i++)
        while (!camrtc_ring_push(ra.r, &i))
            sched_yield();
    pthread_join(t, NULL);
    double ns = (double)(camrtc_now_us() - t0) * 1000.0 / RING_ITEMS;
    printf("{\"bench\":\"media\",\"what\":\"ring_transfer\",\"items\":%u,\"item_bytes\":8,"
           "\"capacity\":1024,\"ns_per_item\":%.2f,\"order_ok\":%s,\"loadavg\":%.2f}\n", RING_ITEMS,
           ns, atomic_load(&ra.bad) ? "false" : "true", bench_loadavg());
    camrtc_ring_free(ra.r);
}

/* ---- conversion ------------------------------------------------------------------------------------ */

static void bench_convert_one(camrtc_pixfmt fmt, const char *name)
{
    enum { N = 300 };
    size_t ysz = (size_t)W * H;
    uint8_t *mem = malloc(ysz * 2);
    for (size_t i = 0; i < ysz * 2; i++)
        mem[i] = (uint8_t)(i * 7 + (i >> 11));
    camrtc_frame src = {.fmt = fmt, .width = W, .height = H};
    if (fmt == CAMRTC_PIX_YUYV) {
        src.plane[0] = mem;
        src.stride[0] = W * 2;
        src.bytes = ysz * 2;
    } else {
        src.plane[0] = mem;
        src.plane[1] = mem + ysz;
        src.stride[0] = W;
        src.stride[1] = W;
    }
    camrtc_frame dst;
    camrtc_frame_alloc_i420(&dst, W, H);
    camrtc_converter *cv = NULL;
    int rc = camrtc_converter_new(&cv, NULL, 0);
    uint64_t t0 = camrtc_now_us();
    for (int i = 0; i < N && rc == 0; i++)
        rc = camrtc_converter_run(cv, &src, &dst);
    double us = (double)(camrtc_now_us() - t0) / N;
    printf("{\"bench\":\"media\",\"what\":\"convert_720p\",\"from\":\"%s\",\"to\":\"I420\","
           "\"frames\":%d,\"us_per_frame\":%.1f,\"ok\":%s}\n", name, N, us, rc == 0 ? "true" : "false");
    camrtc_frame_free(&dst);
    camrtc_converter_free(cv);
    free(mem);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_media [--frames 1..%d] [--rounds 1..%d] [--seconds 1..%d]\n"
                    "                   [--only all|encode|raw|pipeline]\n",
            MAX_FRAMES, MAX_ROUNDS, MAX_FRAMES / FPS);
}

int main(int argc, char **argv)
{
    int frames = 300, rounds = 9, seconds = 3;
    const char *only = "all";
    static const struct option longs[] = {{"frames", 1, 0, 'n'}, {"rounds", 1, 0, 'r'},
                                          {"seconds", 1, 0, 's'}, {"only", 1, 0, 'o'},
                                          {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'n')
            frames = atoi(optarg);
        else if (c == 'r')
            rounds = atoi(optarg);
        else if (c == 's')
            seconds = atoi(optarg);
        else if (c == 'o')
            only = optarg;
        else {
            usage();
            return 2;
        }
    }
    if (frames < 1 || frames > MAX_FRAMES || rounds < 1 || rounds > MAX_ROUNDS || seconds < 1 ||
        seconds * FPS > MAX_FRAMES || optind != argc) {
        usage();
        return 2;
    }
    if (strcmp(only, "raw") == 0 || strcmp(only, "pipeline") == 0)
        return bench_one(frames, only[0] == 'p');
    if (strcmp(only, "encode") == 0) {
        bench_encode(frames, rounds);
        return 0;
    }
    if (strcmp(only, "all") != 0) {
        usage();
        return 2;
    }
    bench_rss(seconds);
    bench_encode(frames, rounds);
    bench_slices(seconds);
    bench_ring();
    bench_convert_one(CAMRTC_PIX_YUYV, "YUYV");
    bench_convert_one(CAMRTC_PIX_NV12, "NV12");
    bench_testsrc_draw();
    return 0;
}
