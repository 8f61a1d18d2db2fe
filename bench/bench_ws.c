/* Per-message cost of a server-side camrtc_ws session, without sockets.
 *
 *   bench_ws [--messages N] [--reply-in-callback] [--split]
 *
 * Feeds N masked text frames of a typical KVS size (~1.1 KB: JSON around 1 KB of
 * base64), one frame per camrtc_ws_feed call (--split: each frame in two
 * halves, as when a read ends inside a frame), and answers each with a text
 * message of the same size, drained after every message, as the signaling
 * service does. The replies are sent after feed returns (a relay sending to
 * another client) unless --reply-in-callback. Prints one JSON line.
 *
 * Meant for instruction counts, which are repeatable on a shared machine:
 *   valgrind --tool=callgrind --toggle-collect=bench_loop bench/bench_ws
 * then divide the Ir total by N.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "camrtc/buf.h"
#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/ws.h"

#define N_FRAMES 16 /* distinct frames, fed round-robin */

typedef struct bench {
    camrtc_ws *server;
    camrtc_buf frames[N_FRAMES];
    char reply[2048];
    size_t reply_len;
    camrtc_buf out;
    bool in_callback;
    bool split;
    long received;
    size_t received_bytes;
} bench;

static void on_text(void *ud, const uint8_t *data, size_t len)
{
    bench *b = ud;
    b->received++;
    b->received_bytes += len;
    if (b->in_callback && camrtc_ws_send_text(b->server, b->reply, b->reply_len) < 0)
        abort();
}

static const camrtc_ws_callbacks server_cb = {on_text, NULL, NULL, NULL};

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

int main(int argc, char **argv)
{
    long n = 10000;
    bench b = {0};
    static const struct option opts[] = {
        {"messages", required_argument, NULL, 'n'},
        {"reply-in-callback", no_argument, NULL, 'c'},
        {"split", no_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int o;
    while ((o = getopt_long(argc, argv, "n:cs", opts, NULL)) != -1) {
        if (o == 'n') {
            n = strtol(optarg, NULL, 10);
        } else if (o == 'c') {
            b.in_callback = true;
        } else if (o == 's') {
            b.split = true;
        } else {
            fprintf(stderr, "usage: %s [--messages N] [--reply-in-callback] [--split]\n", argv[0]);
            return 2;
        }
    }
    if (n <= 0)
        return 2;
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 1) < 0)
        return 1;
    make_frames(&b, &rng);
    b.reply_len = kvs_message(&rng, "SDP_ANSWER", 0, b.reply, sizeof b.reply);
    camrtc_ws_config sc = {.server = true};
    b.server = camrtc_ws_new(&sc, &server_cb, &b);
    if (!b.server)
        return 1;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    bench_loop(&b, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    if (b.received != n)
        return 1;
    printf("{\"messages\":%ld,\"message_bytes\":%zu,\"reply_bytes\":%zu,\"ns_per_message\":%.0f,"
           "\"messages_per_s\":%.0f}\n",
           n, b.received_bytes / (size_t)n, b.reply_len, ns / (double)n, (double)n * 1e9 / ns);

    camrtc_ws_free(b.server);
    for (int i = 0; i < N_FRAMES; i++)
        camrtc_buf_free(&b.frames[i]);
    camrtc_buf_free(&b.out);
    camrtc_rng_free(&rng);
    return 0;
}
