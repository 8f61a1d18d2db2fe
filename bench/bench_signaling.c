/* Load generator for KVS-style signaling relays (ours, or the Node reference).
 *
 *   bench_signaling --url ws://127.0.0.1:PORT --channels FILE --mode latency|throughput|idle [options]
 *
 * FILE holds one channel ARN per line. Each channel gets one master and --viewers
 * viewers, connected with SigV4-presigned URLs (the local key pair unless
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are set). Viewers send SDP offers to their
 * master; the master answers each to the sender. Prints one JSON object per line.
 *
 * latency:    one channel, each viewer sends --messages offers --interval-ms apart;
 *             one-way latency of every offer and answer (same clock at both ends).
 * throughput: every channel, each viewer keeps --window offers outstanding for
 *             --seconds; messages delivered to clients per second.
 * idle:       connect everything, print {"event":"connected",...}, stay --hold-s seconds.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "camrtc/codec.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/server.h"
#include "camrtc/sigv4.h"
#include "camrtc/time.h"
#include "camrtc/wsclient.h"

#define MAX_CLIENTS 4096
#define MAX_VIEWERS 64
#define FIFO_CAP 1024
#define MAX_CONNECTING 64

typedef struct client client;
typedef struct channel channel;

struct client {
    channel *ch;
    int index;                    /* -1 = master, else viewer index */
    char id[32];
    camrtc_wsclient *ws;
    bool open, done;
    /* send times of messages in flight towards this client, in order */
    camrtc_time_us fifo[FIFO_CAP];
    unsigned head, tail;
    int sent;
    uv_timer_t timer;
};

struct channel {
    char arn[512];
    client master;
    client viewers[MAX_VIEWERS];
};

typedef struct bench {
    uv_loop_t *loop;
    camrtc_rng rng;
    const char *url, *mode;
    channel *channels;
    int n_channels, n_viewers;
    int messages, interval_ms, window, seconds, hold_s;
    int to_connect, connecting, connected, failed, closed;
    client *queue[MAX_CLIENTS];
    int queued, next_queued;
    char offer[2048], answer_tail[2048];
    size_t offer_len;
    camrtc_time_us *samples;
    size_t n_samples, cap_samples;
    uint64_t delivered;
    bool measuring;
    camrtc_time_us t0;
    uv_timer_t phase;
    const char *label;
    camrtc_aws_creds creds;
} bench;

static bench B;

static void fifo_push(client *c, camrtc_time_us t)
{
    if (c->tail - c->head < FIFO_CAP)
        c->fifo[c->tail++ % FIFO_CAP] = t;
}

static camrtc_time_us fifo_pop(client *c)
{
    if (c->head == c->tail)
        return 0;
    return c->fifo[c->head++ % FIFO_CAP];
}

static void sample(camrtc_time_us sent)
{
    if (!sent || !B.measuring)
        return;
    if (B.n_samples == B.cap_samples) {
        size_t n = B.cap_samples ? B.cap_samples * 2 : 4096;
        camrtc_time_us *p = realloc(B.samples, n * sizeof *p);
        if (!p)
            return;
        B.samples = p;
        B.cap_samples = n;
    }
    B.samples[B.n_samples++] = camrtc_now_us() - sent;
}

static void send_offer(client *v)
{
    if (!v->open || !v->ch->master.open)
        return;
    if (camrtc_wsclient_send_text(v->ws, B.offer, B.offer_len) == CAMRTC_OK) {
        fifo_push(&v->ch->master, camrtc_now_us());
        v->sent++;
    }
}

static void send_answer(client *m, const char *viewer_id)
{
    char msg[2300];
    int n = snprintf(msg, sizeof msg, "{\"action\":\"SDP_ANSWER\",\"RecipientClientId\":\"%s\",%s", viewer_id,
                     B.answer_tail);
    if (n <= 0 || (size_t)n >= sizeof msg)
        return;
    client *v = NULL;
    for (int i = 0; i < B.n_viewers; i++)
        if (!strcmp(m->ch->viewers[i].id, viewer_id))
            v = &m->ch->viewers[i];
    if (!v)
        return;
    if (camrtc_wsclient_send_text(m->ws, msg, (size_t)n) == CAMRTC_OK)
        fifo_push(v, camrtc_now_us());
}

static void on_text(camrtc_wsclient *ws, void *ud, const uint8_t *data, size_t len)
{
    client *c = ud;
    if (B.measuring)
        B.delivered++;
    if (c->index < 0) {
        /* master: an offer from a viewer; answer it */
        const char *p = memmem(data, len, "\"senderClientId\":\"", 18);
        if (!p)
            return;
        p += 18;
        const char *e = memchr(p, '"', len - (size_t)(p - (const char *)data));
        if (!e || e - p >= 32)
            return;
        char id[32];
        memcpy(id, p, (size_t)(e - p));
        id[e - p] = '\0';
        if (!strcmp(B.mode, "latency"))
            sample(fifo_pop(c));
        send_answer(c, id);
    } else {
        if (!strcmp(B.mode, "latency"))
            sample(fifo_pop(c));
        else if (!strcmp(B.mode, "throughput"))
            send_offer(c);
    }
}

static void connect_more(void);

static void on_open(camrtc_wsclient *ws, void *ud)
{
    client *c = ud;
    c->open = true;
    B.connecting--;
    B.connected++;
    connect_more();
}

static void on_close(camrtc_wsclient *ws, void *ud, int err, int http_status, uint16_t code)
{
    client *c = ud;
    if (!c->open) {
        B.connecting--;
        B.failed++;
        fprintf(stderr, "bench: client %s failed to connect: %s (HTTP %d)\n", c->id, camrtc_strerror(err),
                http_status);
        connect_more();
    }
    c->open = false;
    c->ws = NULL;
    B.closed++;
}

static const camrtc_wsclient_callbacks ws_cb = {.on_open = on_open, .on_text = on_text, .on_close = on_close};

static int start_client(client *c)
{
    char url[2048];
    if (c->index < 0)
        snprintf(url, sizeof url, "%s/?X-Amz-ChannelARN=%s", B.url, c->ch->arn);
    else
        snprintf(url, sizeof url, "%s/?X-Amz-ChannelARN=%s&X-Amz-ClientId=%s", B.url, c->ch->arn, c->id);
    /* The ARN goes in raw: the presigner re-encodes every query parameter. */
    camrtc_buf signed_url = {0};
    int rc = camrtc_sigv4_presign_url(url, &B.creds, CAMRTC_LOCAL_REGION, "kinesisvideo", (int64_t)time(NULL),
                                      299, &signed_url);
    if (rc == CAMRTC_OK)
        rc = camrtc_wsclient_connect(B.loop, camrtc_buf_cstr(&signed_url), NULL, &B.rng, &ws_cb, c, &c->ws);
    camrtc_buf_free(&signed_url);
    return rc;
}

static void connect_more(void)
{
    while (B.connecting < MAX_CONNECTING && B.next_queued < B.queued) {
        client *c = B.queue[B.next_queued++];
        B.connecting++;
        int rc = start_client(c);
        if (rc < 0) {
            B.connecting--;
            B.failed++;
            fprintf(stderr, "bench: cannot start client %s: %s\n", c->id, camrtc_strerror(rc));
        }
    }
}

static int cmp_u64(const void *a, const void *b)
{
    camrtc_time_us x = *(const camrtc_time_us *)a, y = *(const camrtc_time_us *)b;
    return x < y ? -1 : x > y;
}

static void close_all(void)
{
    for (int i = 0; i < B.n_channels; i++) {
        channel *ch = &B.channels[i];
        if (ch->master.ws)
            camrtc_wsclient_close(ch->master.ws, 1000, "bench done");
        for (int k = 0; k < B.n_viewers; k++)
            if (ch->viewers[k].ws)
                camrtc_wsclient_close(ch->viewers[k].ws, 1000, "bench done");
    }
    uv_close((uv_handle_t *)&B.phase, NULL);
}

static void on_latency_tick(uv_timer_t *t)
{
    client *v = t->data;
    if (v->sent >= B.messages) {
        uv_timer_stop(t);
        return;
    }
    send_offer(v);
}

static void finish_latency(void)
{
    B.measuring = false;
    qsort(B.samples, B.n_samples, sizeof *B.samples, cmp_u64);
    size_t n = B.n_samples;
    double p50 = n ? (double)B.samples[n / 2] : 0, p99 = n ? (double)B.samples[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] : 0;
    size_t expected = (size_t)B.n_viewers * (size_t)B.messages * 2;
    printf("{\"bench\":\"signaling_relay_latency\",\"impl\":\"%s\",\"viewers\":%d,\"p50_us\":%.0f,\"p99_us\":%.0f,"
           "\"samples\":%zu,\"expected\":%zu}\n", B.label, B.n_viewers, p50, p99, n, expected);
    fflush(stdout);
    close_all();
}

static void on_phase(uv_timer_t *t)
{
    static int step;
    step++;
    camrtc_time_us now = camrtc_now_us();
    if (B.connecting > 0 || B.next_queued < B.queued) {
        if (now - B.t0 > CAMRTC_SEC(60)) {
            fprintf(stderr, "bench: connecting took over 60 s (%d connected, %d failed)\n", B.connected, B.failed);
            close_all();
        } else {
            uv_timer_start(t, on_phase, 50, 0);
        }
        step = 0;
        return;
    }
    if (!strcmp(B.mode, "idle")) {
        if (step == 1) {
            printf("{\"event\":\"connected\",\"impl\":\"%s\",\"clients\":%d,\"failed\":%d}\n", B.label, B.connected,
                   B.failed);
            fflush(stdout);
            uv_timer_start(t, on_phase, (uint64_t)B.hold_s * 1000, 0);
        } else {
            close_all();
        }
        return;
    }
    if (!strcmp(B.mode, "latency")) {
        if (step == 1) {
            B.measuring = true;
            channel *ch = &B.channels[0];
            for (int k = 0; k < B.n_viewers; k++) {
                client *v = &ch->viewers[k];
                uv_timer_init(B.loop, &v->timer);
                v->timer.data = v;
                /* Stagger the viewers across the interval. */
                uv_timer_start(&v->timer, on_latency_tick, (uint64_t)(k * B.interval_ms / B.n_viewers),
                               (uint64_t)B.interval_ms);
            }
            uv_timer_start(t, on_phase, (uint64_t)B.messages * (uint64_t)B.interval_ms + 1000, 0);
        } else {
            channel *ch = &B.channels[0];
            for (int k = 0; k < B.n_viewers; k++)
                uv_close((uv_handle_t *)&ch->viewers[k].timer, NULL);
            finish_latency();
        }
        return;
    }
    /* throughput: warm up 1 s, measure --seconds */
    if (step == 1) {
        for (int i = 0; i < B.n_channels; i++)
            for (int k = 0; k < B.n_viewers; k++)
                for (int w = 0; w < B.window; w++)
                    send_offer(&B.channels[i].viewers[k]);
        uv_timer_start(t, on_phase, 1000, 0);
    } else if (step == 2) {
        B.measuring = true;
        B.delivered = 0;
        B.t0 = now;
        uv_timer_start(t, on_phase, (uint64_t)B.seconds * 1000, 0);
    } else {
        B.measuring = false;
        double secs = (double)(now - B.t0) / 1e6;
        printf("{\"bench\":\"signaling_throughput\",\"impl\":\"%s\",\"channels\":%d,\"viewers\":%d,\"window\":%d,"
               "\"msgs_per_s\":%.0f,\"seconds\":%.2f}\n", B.label, B.n_channels, B.n_viewers, B.window,
               (double)B.delivered / secs, secs);
        fflush(stdout);
        close_all();
    }
}

static int load_channels(const char *path, int limit)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    B.channels = calloc((size_t)limit, sizeof *B.channels);
    char line[512];
    while (B.n_channels < limit && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!*line)
            continue;
        snprintf(B.channels[B.n_channels++].arn, sizeof B.channels[0].arn, "%s", line);
    }
    fclose(f);
    return B.n_channels;
}

static void build_messages(void)
{
    /* A payload the size of a small real offer: ~1 KB of base64. */
    char inner[760];
    memset(inner, 'a', sizeof inner);
    memcpy(inner, "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n", 30);
    memcpy(inner + sizeof inner - 2, "\"}", 2);
    char b64[1100];
    camrtc_base64_encode(inner, sizeof inner, b64, sizeof b64);
    B.offer_len = (size_t)snprintf(B.offer, sizeof B.offer, "{\"action\":\"SDP_OFFER\",\"MessagePayload\":\"%s\"}", b64);
    snprintf(B.answer_tail, sizeof B.answer_tail, "\"MessagePayload\":\"%s\"}", b64);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, 0, 'u'}, {"channels", required_argument, 0, 'c'},
        {"mode", required_argument, 0, 'm'}, {"viewers", required_argument, 0, 'v'},
        {"messages", required_argument, 0, 'n'}, {"interval-ms", required_argument, 0, 'i'},
        {"window", required_argument, 0, 'w'}, {"seconds", required_argument, 0, 's'},
        {"hold-s", required_argument, 0, 'H'}, {"max-channels", required_argument, 0, 'C'},
        {"label", required_argument, 0, 'l'}, {0, 0, 0, 0},
    };
    const char *chan_file = NULL;
    int max_channels = 1000;
    signal(SIGPIPE, SIG_IGN);
    B.mode = "latency";
    B.n_viewers = 10;
    B.messages = 200;
    B.interval_ms = 10;
    B.window = 8;
    B.seconds = 5;
    B.hold_s = 3;
    B.label = "camrtc";
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u': B.url = optarg; break;
        case 'c': chan_file = optarg; break;
        case 'm': B.mode = optarg; break;
        case 'v': B.n_viewers = atoi(optarg); break;
        case 'n': B.messages = atoi(optarg); break;
        case 'i': B.interval_ms = atoi(optarg); break;
        case 'w': B.window = atoi(optarg); break;
        case 's': B.seconds = atoi(optarg); break;
        case 'H': B.hold_s = atoi(optarg); break;
        case 'C': max_channels = atoi(optarg); break;
        case 'l': B.label = optarg; break;
        default: return 2;
        }
    }
    if (!B.url || !chan_file || B.n_viewers < 0 || B.n_viewers > MAX_VIEWERS || B.interval_ms < 1 ||
        B.messages < 1 || B.window < 1 || B.seconds < 1 || max_channels < 1) {
        fprintf(stderr, "usage: bench_signaling --url ws://HOST:PORT --channels FILE --mode latency|throughput|idle\n"
                        "  [--viewers N] [--messages N --interval-ms MS] [--window N --seconds S] [--hold-s S]\n"
                        "  [--max-channels N] [--label NAME]\n");
        return 2;
    }
    if (!strcmp(B.mode, "latency"))
        max_channels = 1;
    if (load_channels(chan_file, max_channels) <= 0) {
        fprintf(stderr, "bench: no channel ARNs in %s\n", chan_file);
        return 2;
    }
    B.creds.access_key_id = getenv("AWS_ACCESS_KEY_ID") ? getenv("AWS_ACCESS_KEY_ID") : CAMRTC_LOCAL_ACCESS_KEY;
    B.creds.secret_access_key =
        getenv("AWS_SECRET_ACCESS_KEY") ? getenv("AWS_SECRET_ACCESS_KEY") : CAMRTC_LOCAL_SECRET_KEY;
    build_messages();
    camrtc_rng_init(&B.rng);
    uv_loop_t loop;
    uv_loop_init(&loop);
    B.loop = &loop;
    for (int i = 0; i < B.n_channels; i++) {
        channel *ch = &B.channels[i];
        ch->master.ch = ch;
        ch->master.index = -1;
        snprintf(ch->master.id, sizeof ch->master.id, "master-%d", i);
        if (B.queued < MAX_CLIENTS)
            B.queue[B.queued++] = &ch->master;
        for (int k = 0; k < B.n_viewers; k++) {
            client *v = &ch->viewers[k];
            v->ch = ch;
            v->index = k;
            snprintf(v->id, sizeof v->id, "viewer-%d", k);
            if (B.queued < MAX_CLIENTS)
                B.queue[B.queued++] = v;
        }
    }
    B.t0 = camrtc_now_us();
    connect_more();
    uv_timer_init(&loop, &B.phase);
    uv_timer_start(&B.phase, on_phase, 50, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    camrtc_rng_free(&B.rng);
    free(B.samples);
    free(B.channels);
    return B.failed ? 1 : 0;
}
