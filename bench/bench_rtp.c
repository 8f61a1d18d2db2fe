/* The RTP send path and the cost of fan-out per viewer (issue 6, Bench), one JSON object
 * per line:
 *
 *   bench_rtp [--frames N] [--rounds R] [--passes P]
 *
 *   stream          the media: N frames of the 720p30 test pattern encoded at 2500 kbit/s
 *                   by camrtc_encoder (in a child process, so x264's memory is not in this
 *                   process's RSS), kept as NAL units.
 *   fanout          1 and then 10 SENDER peer connections, fed the same NAL units: each
 *                   NAL is packetized once (camrtc_pc_packetize) and sent to every pc
 *                   (camrtc_pc_send_packets). CPU time of this thread per frame (the loop
 *                   thread's work: RTP header, NACK history, SRTP, sendmsg), goal for 10
 *                   viewers at 30 fps: 5 % of a core = 1667 us per frame.
 *   fanout_memory   heap bytes (mallinfo2) and RSS with 1 and with 10 connected pcs, per
 *                   extra pc (goal: RSS <= 4 MB + encoder buffers with 1 viewer, <= 300 KB
 *                   per extra viewer). The NACK history is the packet list's, shared by
 *                   all pcs (camrtc_pc_packets_share_history), reported on its own.
 *                   mallinfo2 reads 0 under ASan.
 *   fanout_memory_parts  the heap of a sender pc's larger parts, each made alone: NACK
 *                   history, SRTP sessions, DTLS endpoint, the two parsed descriptions.
 *   send_path       one pc: camrtc_pc_send_nal (packetize + RTP header + history + SRTP
 *                   AES_CM_128_HMAC_SHA1_80 + sendmsg) in packets/s, beside raw libsrtp2:
 *                   srtp_protect on the same packets, already packetized, + the same
 *                   sendmsg. The ratio's goal is >= 0.85.
 *   srtp_crypto     srtp_protect of 1200-byte packets by libsrtp2 as Debian builds it (on
 *                   NSS), measured in a child process, then by libsrtp2 on the
 *                   AES-ICM and HMAC-SHA1 camrtc plugs into it (srtp_mbedtls.c): packets/s
 *                   and their ratio. send_path's raw side uses the latter (one process).
 *   srtp_gcm_raw    raw libsrtp2 with AEAD_AES_128_GCM on the same packets, for the record:
 *                   our DTLS cannot negotiate it (mbedtls 2.28 has no GCM use_srtp profile).
 *
 * The peer connections are real ones: each SENDER is connected to a RECEIVER in this
 * process through an in-memory network on a virtual clock (ICE checks, the DTLS
 * handshake, SRTP keys from the exporter), then the receiver is freed and the sender's
 * datagrams go to a UDP socket connected to a sink on 127.0.0.1, which this process
 * drains between frames, outside the timed sections. Consent freshness (RFC 7675) is set
 * to an hour so the senders stay connected without their receivers. Timings take the
 * best of alternating rounds (shared machine); loadavg says how loaded it was.
 */
#include <getopt.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#include "camrtc/buf.h"
#include "camrtc/cert.h"
#include "camrtc/dtls.h"
#include "camrtc/encoder.h"
#include "camrtc/error.h"
#include "camrtc/media.h"
#include "camrtc/pc.h"
#include "camrtc/rand.h"
#include "camrtc/rtp.h"
#include "camrtc/rtp_history.h"
#include "camrtc/sdp.h"
#include "camrtc/srtp.h"

#include "bench_util.h"

#define W 1280
#define H 720
#define FPS 30
#define KBPS 2500
#define FRAME_US 33333u
#define MAX_FRAMES 3000
#define MAX_NALS 200000
#define MAX_STREAM_BYTES (64u << 20)
#define MAX_VIEWERS 10
#define PKT_MAX 1600                  /* one datagram in the in-memory network or the sink */
#define QUEUE_LEN 64                  /* datagrams in flight in the in-memory network */
#define MAX_CANDS 8                   /* trickled candidate lines kept per endpoint */
#define RAW_PT 102
#define RAW_SSRC 0x5eed1234u

/* ---- small measuring helpers ---------------------------------------------------------- */

/* Heap bytes in use: small chunks plus the large ones malloc maps on their own. */
static long heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

/* ---- the stream --------------------------------------------------------------------- */

typedef struct stream {
    camrtc_nal *nal;
    size_t n_nal;
    size_t *frame_start;              /* index of each frame's first NAL; [frames] = n_nal */
    size_t frames;
    uint8_t *bytes;
    size_t n_bytes;
} stream;

/* How a NAL unit travels from the encoding child to us. */
typedef struct nal_rec {
    uint32_t len;
    uint8_t type, keyframe, last_of_frame, pad;
    uint32_t rtp_ts;
    uint32_t frame_id;
} nal_rec;

static bool write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w <= 0)
            return false;
        b += w;
        n -= (size_t)w;
    }
    return true;
}

/* 1 when n bytes were read, 0 at end of file before the first byte, -1 otherwise. */
static int read_all(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, b + got, n - got);
        if (r < 0)
            return -1;
        if (r == 0)
            return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

typedef struct child_ctx {
    int fd;
    bool failed;
} child_ctx;

static void child_on_nal(void *user, const camrtc_nal *nal)
{
    child_ctx *c = user;
    nal_rec r = {.len = (uint32_t)nal->len, .type = nal->type, .keyframe = nal->keyframe,
                 .last_of_frame = nal->last_of_frame, .rtp_ts = nal->rtp_ts,
                 .frame_id = (uint32_t)nal->frame_id};
    if (!c->failed && (!write_all(c->fd, &r, sizeof r) || !write_all(c->fd, nal->data, nal->len)))
        c->failed = true;
}

/* In the child: encode frames pictures of the test pattern and write them to fd. */
static int child_encode(int fd, int frames)
{
    camrtc_encoder_config ec = {.width = W, .height = H, .fps = FPS, .bitrate_kbps = KBPS};
    child_ctx c = {.fd = fd};
    camrtc_encoder *enc = NULL;
    char err[200] = "";
    if (camrtc_encoder_new(&ec, child_on_nal, &c, &enc, err, sizeof err) < 0) {
        fprintf(stderr, "bench_rtp: encoder: %s\n", err);
        return 1;
    }
    camrtc_frame f;
    if (camrtc_frame_alloc_i420(&f, W, H) < 0) {
        camrtc_encoder_free(enc);
        return 1;
    }
    for (int i = 0; i < frames && !c.failed; i++) {
        f.frame_id = (uint64_t)i;
        f.capture_us = CAMRTC_SEC(1) + (uint64_t)i * FRAME_US;
        camrtc_testsrc_draw(&f, f.frame_id, f.capture_us);
        if (camrtc_encoder_encode(enc, &f) < 0)
            c.failed = true;
    }
    camrtc_frame_free(&f);
    camrtc_encoder_free(enc);
    return c.failed ? 1 : 0;
}

/* Read NAL records until the child closes the pipe. */
static int read_stream(int fd, stream *s)
{
    size_t cap_nal = 0, cap_bytes = 0;
    size_t *off = NULL;
    nal_rec r;
    int rc;
    while ((rc = read_all(fd, &r, sizeof r)) == 1) {
        if (r.len == 0 || r.len > (1u << 20) || s->n_nal >= MAX_NALS || s->n_bytes + r.len > MAX_STREAM_BYTES)
            goto bad;
        if (s->n_nal == cap_nal) {
            cap_nal = cap_nal ? cap_nal * 2 : 1024;
            camrtc_nal *nn = realloc(s->nal, cap_nal * sizeof *nn);
            size_t *no = nn ? realloc(off, cap_nal * sizeof *no) : NULL;
            if (nn)
                s->nal = nn;
            if (!nn || !no)
                goto bad;
            off = no;
        }
        if (s->n_bytes + r.len > cap_bytes) {
            cap_bytes = (s->n_bytes + r.len) * 2;
            uint8_t *nb = realloc(s->bytes, cap_bytes);
            if (!nb)
                goto bad;
            s->bytes = nb;
        }
        if (read_all(fd, s->bytes + s->n_bytes, r.len) != 1)
            goto bad;
        s->nal[s->n_nal] = (camrtc_nal){.len = r.len, .type = r.type, .keyframe = r.keyframe,
                                        .last_of_frame = r.last_of_frame, .rtp_ts = r.rtp_ts,
                                        .frame_id = r.frame_id};
        off[s->n_nal++] = s->n_bytes;
        s->n_bytes += r.len;
    }
    if (rc < 0)
        goto bad;
    /* The byte buffer may have moved while growing: point the NALs into it now. */
    for (size_t i = 0; i < s->n_nal; i++)
        s->nal[i].data = s->bytes + off[i];
    free(off);
    return 0;
bad:
    free(off);
    return -1;
}

/* frame_start[f] .. frame_start[f + 1] are the NALs of frame f (a trailing frame
 * without its last NAL is left out). */
static int index_frames(stream *s)
{
    s->frame_start = calloc(s->n_nal + 1, sizeof *s->frame_start);
    if (!s->frame_start)
        return -1;
    size_t f = 0, start = 0;
    for (size_t i = 0; i < s->n_nal; i++) {
        if (s->nal[i].last_of_frame) {
            s->frame_start[f++] = start;
            start = i + 1;
        }
    }
    s->frame_start[f] = start;
    s->frames = f;
    return f ? 0 : -1;
}

/* Encode in a child process (x264's buffers stay out of our RSS) and load the NALs. */
static int make_stream(stream *s, int frames)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        int rc = child_encode(p[1], frames);
        close(p[1]);
        _exit(rc);
    }
    close(p[1]);
    int rc = read_stream(p[0], s);
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (rc < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return index_frames(s);
}

static void stream_free(stream *s)
{
    free(s->nal);
    free(s->frame_start);
    free(s->bytes);
    memset(s, 0, sizeof *s);
}

/* ---- the sink: a connected UDP socket and its receiver -------------------------------- */

typedef struct sink {
    int tx, rx;
    uint64_t received;
} sink;

static int sink_open(sink *k)
{
    k->tx = socket(AF_INET, SOCK_DGRAM, 0);
    k->rx = socket(AF_INET, SOCK_DGRAM, 0);
    if (k->tx < 0 || k->rx < 0)
        return -1;
    /* Room for a whole frame to ten viewers between two drains. */
    int big = 4 << 20;
    setsockopt(k->rx, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(k->tx, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (bind(k->rx, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(k->rx, (struct sockaddr *)&a, &al) < 0 ||
        connect(k->tx, (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    return 0;
}

static void sink_close(sink *k)
{
    if (k->tx >= 0)
        close(k->tx);
    if (k->rx >= 0)
        close(k->rx);
}

/* The one send call of both paths. */
static bool sink_send(const sink *k, const uint8_t *data, size_t len)
{
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    return sendmsg(k->tx, &m, 0) == (ssize_t)len;
}

static void sink_drain(sink *k)
{
    uint8_t b[2048];
    for (int i = 0; i < 100000 && recv(k->rx, b, sizeof b, MSG_DONTWAIT) > 0; i++)
        k->received++;
}

/* ---- peer connections connected in memory ------------------------------------------- */

typedef struct bench bench;

typedef struct endpoint {
    bench *b;
    camrtc_pc *pc;
    camrtc_addr addr;                 /* our one host candidate */
    struct endpoint *peer;
    camrtc_pc_state state;
    bool to_sink;                     /* connected: datagrams go to the sink socket */
    char cand[MAX_CANDS][256];
    int n_cand, cand_sent;
    bool gathered, gathered_sent;
    uint64_t datagrams, send_errors, keyframe_wanted;
} endpoint;

typedef struct dgram {
    endpoint *to;
    camrtc_addr from;
    size_t len;
    uint8_t data[PKT_MAX];
} dgram;

struct bench {
    camrtc_rng rng_m, rng_v;
    camrtc_cert cert_m, cert_v;       /* one certificate for the master, one for viewers */
    camrtc_time_us now;               /* virtual clock of every pc */
    sink sink;
    endpoint tx[MAX_VIEWERS], rx;     /* senders; the receiver of the link being connected */
    dgram q[QUEUE_LEN];               /* the in-memory network: FIFO, no loss */
    size_t q_head, q_n;
    uint64_t q_dropped;
};

static void io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    (void)sock;
    (void)to;                         /* one pair per link: the sink or the peer */
    endpoint *e = user;
    bench *b = e->b;
    e->datagrams++;
    if (e->to_sink) {
        if (!sink_send(&b->sink, data, len))
            e->send_errors++;
        return;
    }
    if (!e->peer || b->q_n == QUEUE_LEN || len > PKT_MAX) {
        b->q_dropped++;               /* ICE and DTLS retransmit */
        return;
    }
    dgram *d = &b->q[(b->q_head + b->q_n++) % QUEUE_LEN];
    d->to = e->peer;
    d->from = e->addr;
    d->len = len;
    memcpy(d->data, data, len);
}

static void io_event(void *user, const camrtc_pc_event *ev)
{
    endpoint *e = user;
    switch (ev->type) {
    case CAMRTC_PC_EV_STATE:
        e->state = ev->state;
        break;
    case CAMRTC_PC_EV_CANDIDATE:
        if (e->n_cand < MAX_CANDS)
            snprintf(e->cand[e->n_cand++], sizeof e->cand[0], "%s", ev->line);
        break;
    case CAMRTC_PC_EV_GATHERING_DONE:
        e->gathered = true;
        break;
    case CAMRTC_PC_EV_KEYFRAME_WANTED:
        e->keyframe_wanted++;         /* the stream starts on an IDR anyway */
        break;
    case CAMRTC_PC_EV_FRAME:
        break;
    }
}

static const camrtc_pc_io bench_io = {.send_udp = io_send_udp, .event = io_event};

static int endpoint_new(bench *b, endpoint *e, camrtc_pc_role role, int index)
{
    memset(e, 0, sizeof *e);
    e->b = b;
    bool sender = role == CAMRTC_PC_SENDER;
    camrtc_pc_config cfg = {.role = role, .cert = sender ? &b->cert_m : &b->cert_v,
                            .rng = sender ? &b->rng_m : &b->rng_v};
    /* The receiver is freed once connected: keep consent from failing the sender. */
    cfg.ice.consent_interval = CAMRTC_SEC(3600);
    cfg.ice.consent_disconnect = CAMRTC_SEC(3600);
    cfg.ice.consent_timeout = CAMRTC_SEC(3600);
    int rc = camrtc_pc_new(&e->pc, &cfg, &bench_io, e);
    if (rc < 0)
        return rc;
    char ip[32];
    snprintf(ip, sizeof ip, "10.0.%d.%d", sender ? 1 : 2, index + 1);
    camrtc_addr_parse(&e->addr, ip, 5000);
    return camrtc_pc_add_host(e->pc, b->now, 0, &e->addr);
}

/* Trickle what one side has gathered to the other (after the descriptions). */
static void trickle(bench *b, endpoint *from, endpoint *to)
{
    for (; from->cand_sent < from->n_cand; from->cand_sent++)
        camrtc_pc_add_remote_candidate(to->pc, b->now, from->cand[from->cand_sent]);
    if (from->gathered && !from->gathered_sent) {
        from->gathered_sent = true;
        camrtc_pc_add_remote_candidate(to->pc, b->now, NULL);
    }
}

/* Offer (receiver), answer (sender), set the answer: the signaling, without a channel. */
static int exchange_sdp(bench *b, endpoint *s, endpoint *r)
{
    camrtc_buf offer, answer;
    char reason[128] = "";
    camrtc_buf_init(&offer, 0, 4096);
    camrtc_buf_init(&answer, 0, 4096);
    int rc = camrtc_pc_create_offer(r->pc, b->now, &offer);
    if (rc == CAMRTC_OK)
        rc = camrtc_pc_answer_offer(s->pc, b->now, (const char *)camrtc_buf_data(&offer), offer.len, &answer,
                                    reason, sizeof reason);
    if (rc == CAMRTC_OK)
        rc = camrtc_pc_set_answer(r->pc, b->now, (const char *)camrtc_buf_data(&answer), answer.len, reason,
                                  sizeof reason);
    if (rc != CAMRTC_OK)
        fprintf(stderr, "bench_rtp: SDP: %s (%s)\n", camrtc_strerror(rc), reason);
    camrtc_buf_free(&offer);
    camrtc_buf_free(&answer);
    return rc;
}

static void fire_timer(bench *b, endpoint *e)
{
    if (camrtc_pc_next_timeout(e->pc) <= b->now)
        camrtc_pc_handle_timeout(e->pc, b->now);
}

static bool is_done(const endpoint *e)
{
    return e->state == CAMRTC_PC_FAILED || e->state == CAMRTC_PC_CLOSED;
}

/* Deliver datagrams in order and jump the clock to the next timer when none is in
 * flight, until both ends are CONNECTED (or 20 s of virtual time have passed). */
static int run_link(bench *b, endpoint *s, endpoint *r)
{
    camrtc_time_us limit = b->now + CAMRTC_SEC(20);
    for (int guard = 0; guard < 200000; guard++) {
        if (s->state == CAMRTC_PC_CONNECTED && r->state == CAMRTC_PC_CONNECTED)
            return CAMRTC_OK;
        if (is_done(s) || is_done(r))
            return CAMRTC_EPROTO;
        trickle(b, r, s);
        trickle(b, s, r);
        if (b->q_n) {
            dgram *d = &b->q[b->q_head];
            uint8_t data[PKT_MAX];
            size_t len = d->len;
            endpoint *to = d->to;
            camrtc_addr from = d->from;
            memcpy(data, d->data, len);   /* the input may queue more into this slot's ring */
            b->q_head = (b->q_head + 1) % QUEUE_LEN;
            b->q_n--;
            camrtc_pc_udp_input(to->pc, b->now, 0, &from, data, len);
            continue;
        }
        camrtc_time_us t = camrtc_pc_next_timeout(s->pc), tr = camrtc_pc_next_timeout(r->pc);
        if (tr < t)
            t = tr;
        if (t > limit)
            return CAMRTC_ETIMEDOUT;
        if (t > b->now)
            b->now = t;
        fire_timer(b, s);
        fire_timer(b, r);
    }
    return CAMRTC_ETIMEDOUT;
}

/* A new SENDER pc tx[i], connected through a temporary RECEIVER, then sending to the sink. */
static int connect_sender(bench *b, int i)
{
    endpoint *s = &b->tx[i], *r = &b->rx;
    int rc = endpoint_new(b, s, CAMRTC_PC_SENDER, i);
    if (rc >= 0)
        rc = endpoint_new(b, r, CAMRTC_PC_RECEIVER, i);
    s->peer = r;
    r->peer = s;
    if (rc >= 0)
        rc = exchange_sdp(b, s, r);
    if (rc >= 0)
        rc = run_link(b, s, r);
    if (rc < 0)
        fprintf(stderr, "bench_rtp: link %d did not connect: %s (sender %s, receiver %s)\n", i,
                camrtc_strerror(rc), camrtc_pc_state_name(s->state), camrtc_pc_state_name(r->state));
    s->to_sink = true;
    s->peer = NULL;
    camrtc_pc_free(r->pc);
    memset(r, 0, sizeof *r);
    b->q_head = b->q_n = 0;
    return rc;
}

static int bench_init(bench *b)
{
    b->now = CAMRTC_SEC(1);
    b->sink.tx = b->sink.rx = -1;
    if (camrtc_rng_init(&b->rng_m) < 0 || camrtc_rng_init(&b->rng_v) < 0)
        return -1;
    if (camrtc_cert_self_signed("master", 30, &b->rng_m, &b->cert_m) < 0 ||
        camrtc_cert_self_signed("viewer", 30, &b->rng_v, &b->cert_v) < 0)
        return -1;
    return sink_open(&b->sink);
}

static void bench_free(bench *b)
{
    for (int i = 0; i < MAX_VIEWERS; i++)
        camrtc_pc_free(b->tx[i].pc);
    camrtc_cert_free(&b->cert_m);
    camrtc_cert_free(&b->cert_v);
    camrtc_rng_free(&b->rng_m);
    camrtc_rng_free(&b->rng_v);
    sink_close(&b->sink);
}

/* ---- fan-out ---------------------------------------------------------------------------- */

typedef struct fan_result {
    double cpu_us_per_frame, wall_us_per_frame;
    uint64_t packets, errors;
} fan_result;

/* One pass over the stream to viewers pcs: packetize each NAL once, send it to all. */
static void fan_pass(bench *b, const stream *s, camrtc_pc_packets *list, int viewers, fan_result *r)
{
    uint64_t cpu = 0, wall = 0;
    memset(r, 0, sizeof *r);
    for (size_t f = 0; f < s->frames; f++) {
        uint64_t c0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID), w0 = bench_clock_ns(CLOCK_MONOTONIC);
        for (size_t i = s->frame_start[f]; i < s->frame_start[f + 1]; i++) {
            if (camrtc_pc_packetize(list, &s->nal[i]) != CAMRTC_OK) {
                r->errors++;
                continue;
            }
            for (int v = 0; v < viewers; v++) {
                int n = camrtc_pc_send_packets(b->tx[v].pc, b->now, list);
                if (n < 0)
                    r->errors++;
                else
                    r->packets += (uint64_t)n;
            }
        }
        for (int v = 0; v < viewers; v++)   /* SR reports: loop-thread work too */
            fire_timer(b, &b->tx[v]);
        cpu += bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
        wall += bench_clock_ns(CLOCK_MONOTONIC) - w0;
        sink_drain(&b->sink);
        b->now += FRAME_US;
    }
    r->cpu_us_per_frame = (double)cpu / 1000.0 / (double)s->frames;
    r->wall_us_per_frame = (double)wall / 1000.0 / (double)s->frames;
}

static uint64_t datagrams_sent(const bench *b, int viewers)
{
    uint64_t n = 0;
    for (int v = 0; v < viewers; v++)
        n += b->tx[v].datagrams;
    return n;
}

static bool all_connected(const bench *b, int viewers)
{
    for (int v = 0; v < viewers; v++)
        if (camrtc_pc_get_state(b->tx[v].pc) != CAMRTC_PC_CONNECTED)
            return false;
    return true;
}

/* Best (lowest CPU) of passes runs; prints one line. */
static fan_result fan_run(bench *b, const stream *s, camrtc_pc_packets *list, int viewers, int passes)
{
    fan_result best = {0}, r;
    uint64_t d0 = datagrams_sent(b, viewers), k0 = b->sink.received, errors = 0;
    double cpu_sum = 0;
    for (int p = 0; p < passes; p++) {
        fan_pass(b, s, list, viewers, &r);
        errors += r.errors;
        cpu_sum += r.cpu_us_per_frame;
        if (p == 0 || r.cpu_us_per_frame < best.cpu_us_per_frame)
            best = r;
    }
    sink_drain(&b->sink);
    uint64_t sent = datagrams_sent(b, viewers) - d0, got = b->sink.received - k0;
    double goal = 1e6 / FPS * 0.05;
    printf("{\"bench\":\"rtp\",\"what\":\"fanout\",\"viewers\":%d,\"frames_per_pass\":%zu,\"passes\":%d,"
           "\"packets_per_frame\":%.1f,\"cpu_us_per_frame\":%.1f,\"cpu_us_per_frame_mean\":%.1f,"
           "\"wall_us_per_frame\":%.1f,\"core_pct_at_30fps\":%.2f,\"goal_us_per_frame_10_viewers\":%.0f,"
           "\"errors\":%llu,\"datagrams_sent\":%llu,\"sink_received\":%llu,\"all_connected\":%s,"
           "\"io\":\"sendmsg on a UDP socket connected to a 127.0.0.1 sink, drained outside the timing\","
           "\"loadavg\":%.2f}\n",
           viewers, s->frames, passes, (double)best.packets / (double)s->frames, best.cpu_us_per_frame,
           cpu_sum / passes, best.wall_us_per_frame, best.cpu_us_per_frame * FPS / 1e4, goal,
           (unsigned long long)errors, (unsigned long long)sent, (unsigned long long)got,
           all_connected(b, viewers) ? "true" : "false", bench_loadavg());
    return best;
}

/* Heap and RSS after the freed receivers' memory is given back (they are the bench's
 * scaffolding, not part of a master). */
static void mem_point(long *heap, long *rss)
{
    malloc_trim(0);
    *heap = heap_bytes();
    *rss = bench_rss_kb();
}

/* Where a sender pc's heap goes: its larger parts made alone, with the same defaults
 * the pc uses (the pc keeps the remote offer and its answer as parsed camrtc_sdp). */
static void print_memory_parts(bench *b)
{
    long h = heap_bytes();
    camrtc_rtp_history_config hc = {0};
    camrtc_rtp_history *hist = camrtc_rtp_history_new(&hc);
    long history = heap_bytes() - h;
    camrtc_srtp_keying k = {.profile = CAMRTC_SRTP_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};
    camrtc_srtp *tx = NULL, *rx = NULL;
    h = heap_bytes();
    camrtc_srtp_new(&tx, &k, true, CAMRTC_SRTP_SEND, NULL);
    camrtc_srtp_new(&rx, &k, true, CAMRTC_SRTP_RECV, NULL);
    long srtp = heap_bytes() - h;
    camrtc_dtls_callbacks cb = {0};
    camrtc_dtls_config dc = {.role = CAMRTC_DTLS_CLIENT, .cert = &b->cert_m, .rng = &b->rng_m};
    camrtc_dtls *d = NULL;
    h = heap_bytes();
    int rc = camrtc_dtls_new(&d, &dc, &cb);
    long dtls = rc == CAMRTC_OK ? heap_bytes() - h : -1;
    printf("{\"bench\":\"rtp\",\"what\":\"fanout_memory_parts\",\"nack_history_bytes\":%ld,"
           "\"srtp_send_and_recv_bytes\":%ld,\"dtls_endpoint_before_handshake_bytes\":%ld,"
           "\"sdp_offer_and_answer_bytes\":%zu,\"loadavg\":%.2f}\n",
           history, srtp, dtls, 2 * sizeof(camrtc_sdp), bench_loadavg());
    camrtc_dtls_free(d);
    camrtc_srtp_free(tx);
    camrtc_srtp_free(rx);
    camrtc_rtp_history_free(hist);
}

static int bench_fanout(bench *b, const stream *s, int passes)
{
    camrtc_pc_packets list;
    if (camrtc_pc_packets_init(&list, 0) != CAMRTC_OK)
        return -1;
    /* One NACK history for every pc, held by the list (as the master does): made before
     * the baseline, it is reported on its own. */
    long hs = heap_bytes();
    if (camrtc_pc_packets_share_history(&list, NULL) != CAMRTC_OK) {
        camrtc_pc_packets_free(&list);
        return -1;
    }
    hs = heap_bytes() - hs;
    long h0, r0, h1, r1, h1s, r1s, h10, r10, h10s, r10s;
    mem_point(&h0, &r0);
    int rc = connect_sender(b, 0);
    mem_point(&h1, &r1);
    if (rc >= 0) {
        fan_run(b, s, &list, 1, passes);
        mem_point(&h1s, &r1s);
        for (int i = 1; i < MAX_VIEWERS && rc >= 0; i++)
            rc = connect_sender(b, i);
    }
    if (rc >= 0) {
        mem_point(&h10, &r10);
        fan_run(b, s, &list, MAX_VIEWERS, passes);
        mem_point(&h10s, &r10s);
        int extra = MAX_VIEWERS - 1;
        printf("{\"bench\":\"rtp\",\"what\":\"fanout_memory\",\"heap_bytes_first_pc_connected\":%ld,"
               "\"heap_bytes_first_pc_streaming\":%ld,\"heap_bytes_per_extra_pc_connected\":%ld,"
               "\"heap_bytes_per_extra_pc_streaming\":%ld,\"rss_kb_no_pc\":%ld,\"rss_kb_stream_held\":%zu,"
               "\"rss_kb_1_viewer\":%ld,\"rss_kb_1_viewer_without_stream\":%ld,\"rss_kb_added_by_first_viewer\":%ld,\"rss_kb_10_viewers\":%ld,"
               "\"rss_kb_per_extra_viewer\":%ld,\"goal_rss_kb_1_viewer\":4096,\"goal_rss_kb_per_extra_viewer\":300,"
               "\"shared_nack_history_bytes\":%ld,"
               "\"encoder\":\"in a child process: not in these figures\",\"loadavg\":%.2f}\n",
               h1 - h0, h1s - h0, (h10 - h1s) / extra, (h10s - h1s) / extra, r0, s->n_bytes / 1024, r1s,
               r1s - (long)(s->n_bytes / 1024), r1s - r0, r10s, (r10s - r1s) / extra, hs, bench_loadavg());
        print_memory_parts(b);
    }
    camrtc_pc_packets_free(&list);
    return rc;
}

/* ---- the send path vs raw libsrtp2 ------------------------------------------------------ */

typedef struct raw_pkts {
    uint8_t *mem;                     /* plaintext RTP packets, PKT_MAX apart */
    size_t *len;
    size_t *frame_start;              /* per frame, like stream.frame_start */
    size_t n;
} raw_pkts;

/* The stream packetized once as our send path would, with RTP headers, for the raw loop. */
static int make_raw_pkts(const stream *s, raw_pkts *rp)
{
    camrtc_pc_packets list;
    if (camrtc_pc_packets_init(&list, 0) != CAMRTC_OK)
        return -1;
    size_t cap = 0;
    int rc = 0;
    rp->frame_start = calloc(s->frames + 1, sizeof *rp->frame_start);
    if (!rp->frame_start)
        rc = -1;
    for (size_t f = 0; f < s->frames && rc == 0; f++) {
        rp->frame_start[f] = rp->n;
        for (size_t i = s->frame_start[f]; i < s->frame_start[f + 1] && rc == 0; i++) {
            if (camrtc_pc_packetize(&list, &s->nal[i]) != CAMRTC_OK) {
                rc = -1;
                break;
            }
            for (size_t k = 0; k < list.n && rc == 0; k++) {
                if (rp->n == cap) {
                    cap = cap ? cap * 2 : 4096;
                    uint8_t *m = realloc(rp->mem, cap * PKT_MAX);
                    size_t *l = m ? realloc(rp->len, cap * sizeof *l) : NULL;
                    if (m)
                        rp->mem = m;
                    if (!m || !l) {
                        rc = -1;
                        break;
                    }
                    rp->len = l;
                }
                const camrtc_pc_packet *p = &list.pkt[k];
                camrtc_rtp_header h = {.marker = p->marker, .pt = RAW_PT, .ts = p->rtp_ts, .ssrc = RAW_SSRC};
                uint8_t *out = rp->mem + rp->n * PKT_MAX;
                int hl = camrtc_rtp_write_header(&h, out, PKT_MAX);
                if (hl < 0 || (size_t)hl + p->payload_len + SRTP_MAX_TRAILER_LEN > PKT_MAX) {
                    rc = -1;
                    break;
                }
                memcpy(out + hl, p->buf + list.header_room, p->payload_len);
                rp->len[rp->n++] = (size_t)hl + p->payload_len;
            }
        }
    }
    if (rp->frame_start)
        rp->frame_start[s->frames] = rp->n;
    camrtc_pc_packets_free(&list);
    return rc;
}

static void raw_free(raw_pkts *rp)
{
    free(rp->mem);
    free(rp->len);
    free(rp->frame_start);
}

/* A libsrtp2 send session set up as src/srtp does it, with a random key. gcm picks
 * AEAD_AES_128_GCM (12-byte salt, RFC 7714) instead of AES_CM_128_HMAC_SHA1_80. */
static srtp_t raw_session(camrtc_rng *rng, bool gcm, srtp_err_status_t *err)
{
    uint8_t key[30];
    camrtc_rng_bytes(rng, key, sizeof key);
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    if (gcm) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
    }
    pol.ssrc.type = ssrc_any_outbound;
    pol.key = key;
    pol.window_size = CAMRTC_SRTP_DEFAULT_WINDOW;
    pol.allow_repeat_tx = 1;
    srtp_t sess = NULL;
    *err = srtp_create(&sess, &pol);
    return *err == srtp_err_status_ok ? sess : NULL;
}

/* One pass of raw protect + sendmsg; the sequence number goes on across passes so
 * libsrtp sees fresh indexes, as it would with a real sender. Returns timed ns. */
static uint64_t raw_pass(bench *b, srtp_t sess, const raw_pkts *rp, size_t frames, uint16_t *seq,
                         uint64_t *sent, uint64_t *errors)
{
    uint8_t tx[PKT_MAX];
    uint64_t ns = 0;
    for (size_t f = 0; f < frames; f++) {
        uint64_t t0 = bench_clock_ns(CLOCK_MONOTONIC);
        for (size_t i = rp->frame_start[f]; i < rp->frame_start[f + 1]; i++) {
            memcpy(tx, rp->mem + i * PKT_MAX, rp->len[i]);   /* protect works in place */
            tx[2] = (uint8_t)(*seq >> 8);
            tx[3] = (uint8_t)*seq;
            (*seq)++;
            int len = (int)rp->len[i];
            if (srtp_protect(sess, tx, &len) != srtp_err_status_ok || !sink_send(&b->sink, tx, (size_t)len))
                (*errors)++;
            else
                (*sent)++;
        }
        ns += bench_clock_ns(CLOCK_MONOTONIC) - t0;
        sink_drain(&b->sink);
    }
    return ns;
}

/* One pass of camrtc_pc_send_nal over the stream on pc tx[0]. Returns timed ns. */
static uint64_t ours_pass(bench *b, const stream *s, uint64_t *sent, uint64_t *errors)
{
    camrtc_pc *pc = b->tx[0].pc;
    uint64_t ns = 0;
    for (size_t f = 0; f < s->frames; f++) {
        uint64_t t0 = bench_clock_ns(CLOCK_MONOTONIC);
        for (size_t i = s->frame_start[f]; i < s->frame_start[f + 1]; i++) {
            int n = camrtc_pc_send_nal(pc, b->now, &s->nal[i]);
            if (n < 0)
                (*errors)++;
            else
                *sent += (uint64_t)n;
        }
        ns += bench_clock_ns(CLOCK_MONOTONIC) - t0;
        fire_timer(b, &b->tx[0]);
        sink_drain(&b->sink);
        b->now += FRAME_US;
    }
    return ns;
}

typedef struct path_stat {
    double best_pps;
    uint64_t sent, errors;
} path_stat;

static void keep_best(path_stat *p, uint64_t packets, uint64_t ns)
{
    double pps = ns ? (double)packets * 1e9 / (double)ns : 0;
    if (pps > p->best_pps)
        p->best_pps = pps;
}

static int bench_send_path(bench *b, const stream *s, int rounds)
{
    raw_pkts rp = {0};
    if (make_raw_pkts(s, &rp) < 0) {
        raw_free(&rp);
        return -1;
    }
    srtp_err_status_t e_cm = srtp_err_status_ok, e_gcm = srtp_err_status_ok;
    srtp_t cm = raw_session(&b->rng_m, false, &e_cm), gcm = raw_session(&b->rng_m, true, &e_gcm);
    if (!cm) {
        fprintf(stderr, "bench_rtp: srtp_create (AES-CM) failed: %d\n", (int)e_cm);
        raw_free(&rp);
        return -1;
    }
    /* About 50k packets per round and path. */
    int reps = (int)(50000 / (rp.n ? rp.n : 1)) + 1;
    path_stat ours = {0}, raw = {0}, raw_gcm = {0};
    uint16_t seq_cm = 1, seq_gcm = 1;
    for (int r = 0; r < rounds; r++) {
        uint64_t ns = 0, before = ours.sent;
        for (int k = 0; k < reps; k++)
            ns += ours_pass(b, s, &ours.sent, &ours.errors);
        keep_best(&ours, ours.sent - before, ns);
        before = raw.sent;
        ns = 0;
        for (int k = 0; k < reps; k++)
            ns += raw_pass(b, cm, &rp, s->frames, &seq_cm, &raw.sent, &raw.errors);
        keep_best(&raw, raw.sent - before, ns);
        if (gcm) {
            before = raw_gcm.sent;
            ns = 0;
            for (int k = 0; k < reps; k++)
                ns += raw_pass(b, gcm, &rp, s->frames, &seq_gcm, &raw_gcm.sent, &raw_gcm.errors);
            keep_best(&raw_gcm, raw_gcm.sent - before, ns);
        }
    }
    printf("{\"bench\":\"rtp\",\"what\":\"send_path\",\"profile\":\"AES_CM_128_HMAC_SHA1_80\","
           "\"packets_per_pass\":%zu,\"rounds\":%d,\"passes_per_round\":%d,\"ours_pps\":%.0f,\"raw_pps\":%.0f,"
           "\"ratio\":%.3f,\"goal\":0.85,\"ours_us_per_packet\":%.3f,\"raw_us_per_packet\":%.3f,"
           "\"ours_errors\":%llu,\"raw_errors\":%llu,\"ours\":\"camrtc_pc_send_nal: packetize+header+history+SRTP+sendmsg\","
           "\"raw\":\"memcpy+srtp_protect+sendmsg of the same packets, pre-packetized\",\"loadavg\":%.2f}\n",
           rp.n, rounds, reps, ours.best_pps, raw.best_pps, raw.best_pps > 0 ? ours.best_pps / raw.best_pps : 0,
           ours.best_pps > 0 ? 1e6 / ours.best_pps : 0, raw.best_pps > 0 ? 1e6 / raw.best_pps : 0,
           (unsigned long long)ours.errors, (unsigned long long)raw.errors, bench_loadavg());
    printf("{\"bench\":\"rtp\",\"what\":\"srtp_gcm_raw\",\"profile\":\"AEAD_AES_128_GCM\",\"available\":%s,"
           "\"srtp_create_status\":%d,\"raw_gcm_pps\":%.0f,\"raw_cm_pps\":%.0f,\"gcm_over_cm\":%.3f,\"errors\":%llu,"
           "\"camrtc_dtls_negotiates_gcm\":false,"
           "\"note\":\"raw libsrtp2 only: our DTLS (mbedtls 2.28) has no use_srtp GCM profile, so a pc cannot use it\","
           "\"loadavg\":%.2f}\n",
           gcm ? "true" : "false", (int)e_gcm, raw_gcm.best_pps, raw.best_pps,
           raw.best_pps > 0 ? raw_gcm.best_pps / raw.best_pps : 0, (unsigned long long)raw_gcm.errors, bench_loadavg());
    srtp_dealloc(cm);
    if (gcm)
        srtp_dealloc(gcm);
    raw_free(&rp);
    return 0;
}

/* ---- main ----------------------------------------------------------------------------------- */

static void print_stream(const stream *s)
{
    size_t idr = 0;
    for (size_t i = 0; i < s->n_nal; i++)
        idr += s->nal[i].type == 5 && s->nal[i].last_of_frame;
    double secs = (double)s->frames / FPS;
    printf("{\"bench\":\"rtp\",\"what\":\"stream\",\"source\":\"testsrc\",\"size\":\"%dx%d\",\"fps\":%d,"
           "\"target_kbps\":%d,\"frames\":%zu,\"nals\":%zu,\"idr_frames\":%zu,\"bytes\":%zu,\"kbps\":%.0f,"
           "\"encoder\":\"camrtc_encoder in a child process\"}\n",
           W, H, FPS, KBPS, s->frames, s->n_nal, idr, s->n_bytes, (double)s->n_bytes * 8 / secs / 1000);
}

/* ---- srtp_crypto: libsrtp2 on NSS, then on camrtc's mbedtls types ------------------------- */

static double srtp_pps(int packets, int rounds)
{
    uint8_t key[30];
    for (int i = 0; i < 30; i++)
        key[i] = (uint8_t)i;
    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
    pol.ssrc.type = ssrc_any_outbound;
    pol.key = key;
    pol.window_size = 128;
    srtp_t sess;
    if (srtp_create(&sess, &pol) != srtp_err_status_ok)
        return 0;
    uint8_t pkt[1300];
    double best = 0;
    uint32_t seq = 0;
    for (int r = 0; r < rounds; r++) {
        uint64_t t0 = camrtc_now_us();
        for (int i = 0; i < packets; i++, seq++) {
            memset(pkt, 0xab, 1200);
            pkt[0] = 0x80;
            pkt[1] = 96;
            pkt[2] = (uint8_t)(seq >> 8);
            pkt[3] = (uint8_t)seq;
            int len = 1200;
            if (srtp_protect(sess, pkt, &len) != srtp_err_status_ok) {
                srtp_dealloc(sess);
                return 0;
            }
        }
        uint64_t us = camrtc_now_us() - t0;
        double pps = us ? packets * 1e6 / (double)us : 0;
        if (pps > best)
            best = pps;
    }
    srtp_dealloc(sess);
    return best;
}

/* Stock libsrtp2 in a child process (camrtc_srtp_library_init replaces libsrtp's types for
 * the whole process, and libsrtp's srtp_init fails when called a second time), then
 * libsrtp2 on camrtc's types here. */
static void bench_srtp_crypto(int rounds)
{
    int fd[2];
    double stock = 0;
    if (pipe(fd) == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fd[0]);
            double v = srtp_init() == srtp_err_status_ok ? srtp_pps(50000, rounds) : 0;
            _exit(write(fd[1], &v, sizeof v) == (ssize_t)sizeof v ? 0 : 1);
        }
        close(fd[1]);
        if (pid > 0) {
            if (read(fd[0], &stock, sizeof stock) != (ssize_t)sizeof stock)
                stock = 0;
            waitpid(pid, NULL, 0);
        }
        close(fd[0]);
    }
    bool ours = camrtc_srtp_library_init() == CAMRTC_OK && camrtc_srtp_crypto_is_mbedtls();
    double mbed = ours ? srtp_pps(50000, rounds) : 0;
    printf("{\"bench\":\"rtp\",\"what\":\"srtp_crypto\",\"packet_bytes\":1200,"
           "\"stock_libsrtp2_pps\":%.0f,\"libsrtp2_on_mbedtls_pps\":%.0f,\"ratio\":%.2f,"
           "\"loadavg\":%.2f}\n", stock, mbed, stock > 0 ? mbed / stock : 0, bench_loadavg());
}

int main(int argc, char **argv)
{
    int frames = 300, rounds = 5, passes = 3;
    static const struct option longs[] = {
        {"frames", 1, 0, 'n'}, {"rounds", 1, 0, 'r'}, {"passes", 1, 0, 'p'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        if (c == 'n')
            frames = atoi(optarg);
        else if (c == 'r')
            rounds = atoi(optarg);
        else if (c == 'p')
            passes = atoi(optarg);
        else {
            fprintf(stderr, "usage: bench_rtp [--frames N] [--rounds R] [--passes P]\n");
            return 2;
        }
    }
    if (frames < 2 || frames > MAX_FRAMES || rounds < 1 || rounds > 100 || passes < 1 || passes > 100) {
        fprintf(stderr, "bench_rtp: --frames 2..%d, --rounds 1..100, --passes 1..100\n", MAX_FRAMES);
        return 2;
    }
    stream s = {0};
    if (make_stream(&s, frames) < 0) {
        fprintf(stderr, "bench_rtp: cannot encode the stream\n");
        stream_free(&s);
        return 1;
    }
    print_stream(&s);
    bench_srtp_crypto(rounds);
    bench *b = calloc(1, sizeof *b);
    int rc = b && bench_init(b) == 0 ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "bench_rtp: set-up failed (rng, certificate or sockets)\n");
    if (rc == 0)
        rc = bench_fanout(b, &s, passes);
    if (rc == 0)
        rc = bench_send_path(b, &s, rounds);
    if (b)
        bench_free(b);
    free(b);
    stream_free(&s);
    return rc < 0 ? 1 : 0;
}
