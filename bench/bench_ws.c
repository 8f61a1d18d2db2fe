/* Per-message cost and idle memory of a server-side camrtc_ws session, against
 * plain wslay doing the same work in the same run. No sockets.
 *
 *   bench_ws [--messages N] [--rounds R] [--reply-in-callback] [--split]
 *
 * Feeds N masked text frames of a typical KVS size (~1.1 KB: JSON around 1 KB of
 * base64), one frame per feed (--split: each frame in two halves, as when a read
 * ends inside a frame), and answers each with a text message of the same size,
 * written out after every message, as the signaling service does. The replies
 * are sent after the input is consumed (a relay sending to another client)
 * unless --reply-in-callback.
 *
 * The same workload (same frames, replies and count) runs through a camrtc_ws
 * session and through a wslay event context used the straightforward way:
 * wslay_event_context_server_init with recv/send callbacks over memory,
 * wslay_event_recv, wslay_event_queue_msg + wslay_event_send (wslay checks the
 * UTF-8 of received text itself). The two alternate for R rounds of N messages;
 * the best round of each counts. Idle heap per session: mallinfo2 over 1000
 * sessions of each kind, kept alive after one message each.
 *
 * Prints one JSON object per line: one per implementation, then the ratio.
 * For instruction counts, repeatable on a shared machine:
 *   valgrind --tool=callgrind --toggle-collect=bench_loop bench/bench_ws --rounds 1
 * (bench_loop_wslay for wslay), then divide the Ir total by N (plus the
 * warm-up's WARMUP messages).
 */
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wslay/wslay.h>

#include "camrtc/buf.h"
#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/ws.h"

#define N_FRAMES 16        /* distinct frames, fed round-robin */
#define N_IDLE 1000        /* sessions held for the idle heap figure */
#define WARMUP 1000        /* untimed messages per implementation before the rounds */
#define MAX_ROUNDS 101

typedef struct bench {
    camrtc_ws *server;     /* the camrtc session the callback answers on */
    camrtc_buf frames[N_FRAMES];
    char reply[2048];
    size_t reply_len;
    camrtc_buf out;        /* where every session's output goes */
    bool in_callback;
    bool split;
    long received;
    size_t received_bytes;
} bench;

/* What an application keeps per wslay connection: the context, and the input
 * it is handing over. */
typedef struct raw_session {
    wslay_event_context_ptr ctx;
    const uint8_t *in;
    size_t in_len;
    bench *b;
} raw_session;

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* camrtc_ws */

static void on_text(void *ud, const uint8_t *data, size_t len)
{
    bench *b = ud;
    (void)data;
    b->received++;
    b->received_bytes += len;
    if (b->in_callback && camrtc_ws_send_text(b->server, b->reply, b->reply_len) < 0)
        abort();
}

static const camrtc_ws_callbacks server_cb = {on_text, NULL, NULL, NULL};

static camrtc_ws *camrtc_session_new(bench *b)
{
    camrtc_ws_config sc = {.server = true};
    camrtc_ws *ws = camrtc_ws_new(&sc, &server_cb, b);
    if (!ws)
        abort();
    return ws;
}

/* The measured part: everything the session does for n messages. */
__attribute__((noinline)) static void bench_loop(bench *b, long n)
{
    for (long i = 0; i < n; i++) {
        const camrtc_buf *f = &b->frames[i % N_FRAMES];
        size_t half = b->split ? f->len / 2 : 0;
        if (camrtc_ws_feed(b->server, camrtc_buf_data(f), half) < 0 ||
            camrtc_ws_feed(b->server, camrtc_buf_data(f) + half, f->len - half) < 0)
            abort();
        if (!b->in_callback && camrtc_ws_send_text(b->server, b->reply, b->reply_len) < 0)
            abort();
        camrtc_buf_reset(&b->out);
        if (camrtc_ws_drain(b->server, &b->out) < 0)
            abort();
    }
}

/* Plain wslay */

static ssize_t raw_recv_cb(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user_data)
{
    raw_session *s = user_data;
    (void)flags;
    if (s->in_len == 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    size_t n = len < s->in_len ? len : s->in_len;
    memcpy(buf, s->in, n);
    s->in += n;
    s->in_len -= n;
    return (ssize_t)n;
}

static ssize_t raw_send_cb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                           void *user_data)
{
    raw_session *s = user_data;
    (void)flags;
    if (camrtc_buf_append(&s->b->out, data, len) < 0) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    return (ssize_t)len;
}

static void raw_queue_reply(raw_session *s)
{
    struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)s->b->reply, s->b->reply_len};
    if (wslay_event_queue_msg(s->ctx, &m) != 0)
        abort();
}

static void raw_msg_cb(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                       void *user_data)
{
    raw_session *s = user_data;
    (void)ctx;
    if (arg->opcode != WSLAY_TEXT_FRAME)
        return;
    s->b->received++;
    s->b->received_bytes += arg->msg_length;
    if (s->b->in_callback)
        raw_queue_reply(s);
}

static const struct wslay_event_callbacks raw_cbs = {
    .recv_callback = raw_recv_cb,
    .send_callback = raw_send_cb,
    .on_msg_recv_callback = raw_msg_cb,
};

static raw_session *raw_session_new(bench *b)
{
    raw_session *s = calloc(1, sizeof *s);
    if (!s || wslay_event_context_server_init(&s->ctx, &raw_cbs, s) != 0)
        abort();
    s->b = b;
    wslay_event_config_set_max_recv_msg_length(s->ctx, CAMRTC_WS_DEFAULT_MAX_MESSAGE);
    return s;
}

static void raw_session_free(raw_session *s)
{
    wslay_event_context_free(s->ctx);
    free(s);
}

static void raw_feed(raw_session *s, const uint8_t *data, size_t len)
{
    if (len == 0)
        return;
    s->in = data;
    s->in_len = len;
    if (wslay_event_recv(s->ctx) != 0 || s->in_len != 0)
        abort();
}

/* The same work as bench_loop, through wslay. */
__attribute__((noinline)) static void bench_loop_wslay(raw_session *s, long n)
{
    bench *b = s->b;
    for (long i = 0; i < n; i++) {
        const camrtc_buf *f = &b->frames[i % N_FRAMES];
        size_t half = b->split ? f->len / 2 : 0;
        camrtc_buf_reset(&b->out);
        raw_feed(s, camrtc_buf_data(f), half);
        raw_feed(s, camrtc_buf_data(f) + half, f->len - half);
        if (!b->in_callback)
            raw_queue_reply(s);
        if (wslay_event_send(s->ctx) != 0)
            abort();
    }
}

/* Workload */

/* A KVS-style message with about 1 KB of base64 in messagePayload. */
static size_t kvs_message(camrtc_rng *rng, const char *action, int n, char *out, size_t outsz)
{
    uint8_t raw[768];
    char b64[1040];
    if (camrtc_rng_bytes(rng, raw, sizeof raw) < 0 || camrtc_base64_encode(raw, sizeof raw, b64, sizeof b64) < 0)
        abort();
    int len = snprintf(out, outsz,
                       "{\"action\":\"%s\",\"RecipientClientId\":\"viewer-%04d\",\"MessagePayload\":\"%s\","
                       "\"CorrelationId\":\"%08d\"}",
                       action, n, b64, n);
    if (len < 0 || (size_t)len >= outsz)
        abort();
    return (size_t)len;
}

/* Masked frames as a client sends them, made by a client session. */
static void make_frames(bench *b, camrtc_rng *rng)
{
    camrtc_ws_config cc = {.server = false, .rng = rng};
    camrtc_ws_callbacks none = {0};
    camrtc_ws *client = camrtc_ws_new(&cc, &none, NULL);
    if (!client)
        abort();
    for (int i = 0; i < N_FRAMES; i++) {
        char msg[2048];
        size_t len = kvs_message(rng, "SDP_OFFER", i, msg, sizeof msg);
        if (camrtc_ws_send_text(client, msg, len) < 0 || camrtc_ws_drain(client, &b->frames[i]) < 0)
            abort();
    }
    camrtc_ws_free(client);
}

/* Heap held per idle session: N_IDLE sessions of each kind, each after one
 * message and its reply, all alive at the moment of measuring. */
static double idle_heap_camrtc(bench *b)
{
    camrtc_ws **all = calloc(N_IDLE, sizeof *all);
    if (!all)
        abort();
    camrtc_ws *keep = b->server;
    size_t before = heap_in_use();
    for (int i = 0; i < N_IDLE; i++) {
        all[i] = b->server = camrtc_session_new(b);
        bench_loop(b, 1);
    }
    size_t after = heap_in_use();
    for (int i = 0; i < N_IDLE; i++)
        camrtc_ws_free(all[i]);
    free(all);
    b->server = keep;
    return ((double)after - (double)before) / N_IDLE;
}

static double idle_heap_wslay(bench *b)
{
    raw_session **all = calloc(N_IDLE, sizeof *all);
    if (!all)
        abort();
    size_t before = heap_in_use();
    for (int i = 0; i < N_IDLE; i++) {
        all[i] = raw_session_new(b);
        bench_loop_wslay(all[i], 1);
    }
    size_t after = heap_in_use();
    for (int i = 0; i < N_IDLE; i++)
        raw_session_free(all[i]);
    free(all);
    return ((double)after - (double)before) / N_IDLE;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_impl(const char *impl, const bench *b, long n, int rounds, double best, double med, double heap)
{
    printf("{\"bench\":\"ws_relay_session\",\"impl\":\"%s\",\"messages\":%ld,\"rounds\":%d,"
           "\"message_bytes\":%zu,\"reply_bytes\":%zu,\"reply_in_callback\":%s,\"split\":%s,"
           "\"ns_per_message\":%.1f,\"ns_per_message_median\":%.1f,\"messages_per_s\":%.0f,"
           "\"idle_heap_bytes_per_session\":%.0f}\n",
           impl, n, rounds, b->frames[0].len, b->reply_len, b->in_callback ? "true" : "false",
           b->split ? "true" : "false", best, med, 1e9 / best, heap);
}

int main(int argc, char **argv)
{
    long n = 10000;
    int rounds = 5;
    bench b = {0};
    static const struct option opts[] = {
        {"messages", required_argument, NULL, 'n'},
        {"rounds", required_argument, NULL, 'r'},
        {"reply-in-callback", no_argument, NULL, 'c'},
        {"split", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "n:r:cs", opts, NULL)) != -1) {
        if (o == 'n') {
            n = strtol(optarg, NULL, 10);
        } else if (o == 'r') {
            rounds = (int)strtol(optarg, NULL, 10);
        } else if (o == 'c') {
            b.in_callback = true;
        } else if (o == 's') {
            b.split = true;
        } else {
            fprintf(stderr, "usage: %s [--messages N] [--rounds R] [--reply-in-callback] [--split]\n", argv[0]);
            return 2;
        }
    }
    if (n <= 0 || rounds <= 0 || rounds > MAX_ROUNDS)
        return 2;
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 1) < 0)
        return 1;
    make_frames(&b, &rng);
    b.reply_len = kvs_message(&rng, "SDP_ANSWER", 0, b.reply, sizeof b.reply);
    b.server = camrtc_session_new(&b);
    raw_session *raw = raw_session_new(&b);

    /* Both must put the same bytes on the wire for the same input. */
    bench_loop(&b, 1);
    camrtc_buf first = {0};
    if (camrtc_buf_append(&first, camrtc_buf_data(&b.out), b.out.len) < 0)
        return 1;
    bench_loop_wslay(raw, 1);
    if (first.len == 0 || first.len != b.out.len || memcmp(camrtc_buf_data(&first), camrtc_buf_data(&b.out), first.len)) {
        fprintf(stderr, "bench_ws: camrtc and wslay wrote different replies\n");
        return 1;
    }
    camrtc_buf_free(&first);
    bench_loop(&b, WARMUP);
    bench_loop_wslay(raw, WARMUP);

    double t_camrtc[MAX_ROUNDS], t_raw[MAX_ROUNDS];
    b.received = 0;
    b.received_bytes = 0;
    for (int r = 0; r < rounds; r++) {
        double t0 = now_ns();
        bench_loop(&b, n);
        double t1 = now_ns();
        bench_loop_wslay(raw, n);
        double t2 = now_ns();
        t_camrtc[r] = (t1 - t0) / (double)n;
        t_raw[r] = (t2 - t1) / (double)n;
    }
    if (b.received != 2 * n * rounds)
        return 1;
    double best_camrtc = t_camrtc[0], best_raw = t_raw[0];
    for (int r = 1; r < rounds; r++) {
        best_camrtc = t_camrtc[r] < best_camrtc ? t_camrtc[r] : best_camrtc;
        best_raw = t_raw[r] < best_raw ? t_raw[r] : best_raw;
    }
    double med_camrtc = median(t_camrtc, rounds), med_raw = median(t_raw, rounds);

    double heap_camrtc = idle_heap_camrtc(&b);
    double heap_raw = idle_heap_wslay(&b);

    print_impl("camrtc", &b, n, rounds, best_camrtc, med_camrtc, heap_camrtc);
    print_impl("raw_wslay", &b, n, rounds, best_raw, med_raw, heap_raw);
    printf("{\"bench\":\"ws_relay_session_vs_wslay\",\"ratio\":%.3f,\"ratio_median\":%.3f,"
           "\"idle_heap_ratio\":%.3f,\"camrtc_ns_per_message\":%.1f,\"raw_wslay_ns_per_message\":%.1f,"
           "\"camrtc_idle_heap_bytes\":%.0f,\"raw_wslay_idle_heap_bytes\":%.0f,"
           "\"reply_in_callback\":%s,\"split\":%s}\n",
           best_camrtc / best_raw, med_camrtc / med_raw, heap_raw > 0 ? heap_camrtc / heap_raw : 0.0, best_camrtc,
           best_raw, heap_camrtc, heap_raw, b.in_callback ? "true" : "false", b.split ? "true" : "false");

    raw_session_free(raw);
    camrtc_ws_free(b.server);
    for (int i = 0; i < N_FRAMES; i++)
        camrtc_buf_free(&b.frames[i]);
    camrtc_buf_free(&b.out);
    camrtc_rng_free(&rng);
    return 0;
}
