/* The libuv peer connection: a SENDER and a RECEIVER pcuv on one loop over 127.0.0.1.
 * Offer, answer and candidates go through an in-process mailbox (delivered from a timer,
 * as a signaling channel would); H.264 from tests/unit/data/media/stream.h264 goes
 * through the pipeline, is packetized once and sent; the receiver gets whole decodable
 * frames; both close politely. Every run is bounded by a uv timer that fails the test. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "camrtc/cert.h"
#include "camrtc/error.h"
#include "camrtc/pcuv.h"
#include "camrtc/pipeline.h"
#include "check.h"

#define FAIL_AFTER_MS 10000
#define TICK_MS 5
#define WANT_FRAMES 30
#define MAX_MSGS 64

typedef struct side {
    struct harness *h;
    camrtc_pcuv *p;
    struct side *peer;
    bool ready, connected, closed;
    bool closed_by_us;            /* camrtc_pcuv_close was called on this side */
    bool saw_closed_first;        /* the pc went CLOSED before we closed it: the remote's goodbye */
    unsigned close_calls, candidates, keyframe_wanted;
    uint64_t frames, decodable, first_frame_keyframe_ok;
    bool first_frame_seen;
    camrtc_pc_stats stats;        /* read in on_close */
    camrtc_iceuv_stats net;       /* read in on_close */
    uint64_t send_calls;          /* read in on_close */
    uint64_t complete_frames;
    size_t min_frame_len;
} side;

typedef enum { MSG_OFFER, MSG_ANSWER, MSG_CANDIDATE } msg_type;

typedef struct msg {
    side *to;
    msg_type type;
    char *text;                   /* NULL candidate = end-of-candidates */
} msg;

typedef struct harness {
    uv_loop_t loop;
    uv_timer_t fail, tick;
    camrtc_rng rng;
    camrtc_cert cert;
    side tx, rx;
    camrtc_pipeline *pipe;
    camrtc_pc_packets pkts;
    msg box[MAX_MSGS];
    unsigned nbox;
    unsigned sdp_errors, lost_msgs;
    uint64_t nals_sent;
    bool timed_out, closing;
    bool sender_leaves;           /* only the sender closes; the receiver follows its goodbye */
    unsigned want_frames;         /* the receiver's frames before closing */
    unsigned big_frames;          /* > 0: the tick sends this many big IDR frames, no pipeline */
    unsigned big_sent;
} harness;

/* ---- mailbox --------------------------------------------------------------------------- */

static void post(side *to, msg_type type, const char *text)
{
    harness *h = to->h;
    if (h->nbox >= MAX_MSGS) {
        h->lost_msgs++;
        return;
    }
    char *copy = text ? strdup(text) : NULL;
    if (text && !copy) {
        h->lost_msgs++;
        return;
    }
    h->box[h->nbox++] = (msg){.to = to, .type = type, .text = copy};
}

static void deliver(harness *h, msg *m)
{
    side *s = m->to;
    char reason[128] = "";
    if (m->type == MSG_OFFER) {
        camrtc_buf b;
        if (camrtc_buf_init(&b, 0, 8192) != CAMRTC_OK)
            return;
        if (camrtc_pcuv_answer_offer(s->p, m->text, strlen(m->text), &b, reason, sizeof reason) == CAMRTC_OK)
            post(s->peer, MSG_ANSWER, camrtc_buf_cstr(&b));
        else
            h->sdp_errors++;
        camrtc_buf_free(&b);
    } else if (m->type == MSG_ANSWER) {
        if (camrtc_pcuv_set_answer(s->p, m->text, strlen(m->text), reason, sizeof reason) != CAMRTC_OK)
            h->sdp_errors++;
    } else {
        camrtc_pcuv_add_remote_candidate(s->p, m->text);
    }
}

/* Deliver what is in the box now; messages posted meanwhile wait for the next tick. */
static void flush_box(harness *h)
{
    msg now[MAX_MSGS];
    unsigned n = h->nbox;
    memcpy(now, h->box, n * sizeof now[0]);
    h->nbox = 0;
    for (unsigned i = 0; i < n; i++) {
        if (!h->closing)
            deliver(h, &now[i]);
        free(now[i].text);
    }
}

/* ---- closing ---------------------------------------------------------------------------- */

static void close_side(side *s)
{
    s->closed_by_us = true;
    camrtc_pcuv_close(s->p);
}

static void close_all(harness *h)
{
    if (h->closing)
        return;
    h->closing = true;
    camrtc_pipeline_free(h->pipe);
    h->pipe = NULL;
    close_side(&h->tx);
    if (!h->sender_leaves || h->timed_out)
        close_side(&h->rx);
}

static void on_fail(uv_timer_t *t)
{
    harness *h = t->data;
    h->timed_out = true;
    if (h->closing)
        close_side(&h->rx);
    close_all(h);
}

/* One IDR slice of BIG_NAL bytes (about 25 packets): more datagrams than the driver's
 * send queue holds, so a frame leaves in several batches. */
#define BIG_NAL 30000

static void send_big_frame(harness *h)
{
    static const size_t len = BIG_NAL;
    uint8_t *nal = malloc(len);
    if (!nal)
        return;
    nal[0] = 0x65;   /* nal_ref_idc 3, type 5 (IDR) */
    for (size_t i = 1; i < len; i++)
        nal[i] = (uint8_t)(0x40 + i % 61);   /* never 00 00 0x: no start code inside */
    nal[1] = 0x88;   /* the slice header's first bit: first_mb_in_slice = 0 (H.264 7.3.3) */
    camrtc_nal n = {.data = nal, .len = len, .type = 5, .keyframe = true, .last_of_frame = true,
                    .frame_id = h->big_sent, .rtp_ts = 3000u * h->big_sent};
    if (camrtc_pcuv_send_nal(h->tx.p, &n) > 0)
        h->big_sent++;
    free(nal);
}

static void on_tick(uv_timer_t *t)
{
    harness *h = t->data;
    flush_box(h);
    if (h->big_frames && !h->closing && h->tx.p && h->big_sent < h->big_frames &&
        camrtc_pcuv_state(h->tx.p) == CAMRTC_PC_CONNECTED)
        send_big_frame(h);
    if (h->rx.frames >= h->want_frames)
        close_all(h);
}

/* ---- pcuv callbacks --------------------------------------------------------------------- */

static void on_ready(camrtc_pcuv *p, void *ud)
{
    side *s = ud;
    s->ready = true;
    if (camrtc_pc_get_role(camrtc_pcuv_pc(p)) != CAMRTC_PC_RECEIVER)
        return;
    camrtc_buf b;
    if (camrtc_buf_init(&b, 0, 8192) != CAMRTC_OK)
        return;
    if (camrtc_pcuv_create_offer(p, &b) == CAMRTC_OK)
        post(s->peer, MSG_OFFER, camrtc_buf_cstr(&b));
    camrtc_buf_free(&b);
}

static void on_event(camrtc_pcuv *p, void *ud, const camrtc_pc_event *ev)
{
    side *s = ud;
    switch (ev->type) {
    case CAMRTC_PC_EV_STATE:
        if (ev->state == CAMRTC_PC_CONNECTED)
            s->connected = true;
        if (ev->state == CAMRTC_PC_CLOSED && !s->closed_by_us) {
            s->saw_closed_first = true;
            close_side(s);   /* the remote said goodbye: close our side too */
        }
        break;
    case CAMRTC_PC_EV_CANDIDATE:
        s->candidates++;
        post(s->peer, MSG_CANDIDATE, ev->line);
        break;
    case CAMRTC_PC_EV_GATHERING_DONE:
        post(s->peer, MSG_CANDIDATE, NULL);
        break;
    case CAMRTC_PC_EV_KEYFRAME_WANTED:
        s->keyframe_wanted++;
        break;
    case CAMRTC_PC_EV_FRAME:
        if (!s->first_frame_seen) {
            s->first_frame_seen = true;
            s->first_frame_keyframe_ok = ev->frame->keyframe && ev->frame->has_params;
        }
        s->frames++;
        s->decodable += ev->frame->decodable;
        s->complete_frames += ev->frame->complete;
        if (!s->min_frame_len || ev->frame->len < s->min_frame_len)
            s->min_frame_len = ev->frame->len;
        break;
    }
}

static void on_close(camrtc_pcuv *p, void *ud)
{
    side *s = ud;
    camrtc_pcuv_get_stats(p, &s->stats);
    s->net = *camrtc_pcuv_net_stats(p);
    s->send_calls = camrtc_pcuv_udp_send_calls(p);
    s->closed = true;
    s->close_calls++;
    s->p = NULL;
    harness *h = s->h;
    if (h->tx.closed && h->rx.closed) {
        uv_close((uv_handle_t *)&h->fail, NULL);
        uv_close((uv_handle_t *)&h->tick, NULL);
    }
}

static const camrtc_pcuv_callbacks cbs = {.on_ready = on_ready, .on_event = on_event, .on_close = on_close};

/* ---- media --------------------------------------------------------------------------------- */

static void on_nal(void *user, const camrtc_nal *nal)
{
    harness *h = user;
    /* Packetized once, as for many viewers; the pc drops until it is connected and a
     * keyframe starts. */
    if (h->tx.p && camrtc_pcuv_state(h->tx.p) == CAMRTC_PC_CONNECTED &&
        camrtc_pc_packetize(&h->pkts, nal) == CAMRTC_OK && camrtc_pcuv_send_packets(h->tx.p, &h->pkts) > 0)
        h->nals_sent++;
    camrtc_pipeline_release(h->pipe, nal);
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static int harness_init(harness *h)
{
    memset(h, 0, sizeof *h);
    signal(SIGPIPE, SIG_IGN);
    if (uv_loop_init(&h->loop) < 0 || camrtc_rng_init(&h->rng) != CAMRTC_OK)
        return -1;
    if (camrtc_cert_self_signed("test_pcuv", 30, &h->rng, &h->cert) != CAMRTC_OK)
        return -1;
    if (camrtc_pc_packets_init(&h->pkts, 0) != CAMRTC_OK)
        return -1;
    uv_timer_init(&h->loop, &h->fail);
    uv_timer_init(&h->loop, &h->tick);
    h->fail.data = h->tick.data = h;
    uv_timer_start(&h->fail, on_fail, FAIL_AFTER_MS, 0);
    uv_timer_start(&h->tick, on_tick, TICK_MS, TICK_MS);
    h->tx = (side){.h = h, .peer = &h->rx};
    h->rx = (side){.h = h, .peer = &h->tx};
    h->want_frames = WANT_FRAMES;
    return 0;
}

static void harness_done(harness *h)
{
    for (unsigned i = 0; i < h->nbox; i++)
        free(h->box[i].text);
    camrtc_pc_packets_free(&h->pkts);
    camrtc_cert_free(&h->cert);
    camrtc_rng_free(&h->rng);
}

static camrtc_pc_config loopback_pc(harness *h, camrtc_pc_role role)
{
    camrtc_pc_config c = {0};
    c.role = role;
    c.cert = &h->cert;
    c.ice.include_loopback = true;
    c.ice.interfaces = "lo";
    return c;
}

static int new_side(harness *h, side *s, camrtc_pc_role role)
{
    camrtc_pc_config c = loopback_pc(h, role);
    return camrtc_pcuv_new(&h->loop, &c, NULL, &cbs, s, &s->p);
}

TEST(pcuv_loopback_streams_h264_and_closes)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    CHECK_EQ_INT(new_side(&h, &h.tx, CAMRTC_PC_SENDER), CAMRTC_OK);
    CHECK_EQ_INT(new_side(&h, &h.rx, CAMRTC_PC_RECEIVER), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pcuv_start(h.tx.p), CAMRTC_OK);
    CHECK(h.tx.ready);                     /* no name to resolve: ready at once */
    CHECK_EQ_INT(camrtc_pcuv_start(h.tx.p), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_pcuv_start(h.rx.p), CAMRTC_OK);

    const char *dir = getenv("CAMRTC_TEST_DATA");
    char spec[512];
    snprintf(spec, sizeof spec, "h264:%s/media/stream.h264", dir ? dir : "tests/unit/data");
    camrtc_source_config src = {.spec = spec, .fps = 60};
    char err[160];
    CHECK_EQ_INT(camrtc_pipeline_new(&h.loop, &src, NULL, on_nal, &h, NULL, &h.pipe, err, sizeof err), CAMRTC_OK);

    uv_run(&h.loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&h.loop), 0);
    harness_done(&h);

    CHECK(!h.timed_out);
    CHECK_EQ_INT(h.sdp_errors, 0);
    CHECK_EQ_INT(h.lost_msgs, 0);
    CHECK(h.tx.candidates >= 1 && h.rx.candidates >= 1);
    CHECK(h.tx.connected && h.rx.connected);
    CHECK(h.tx.keyframe_wanted >= 1);      /* a new connection asks for an IDR */
    CHECK(h.rx.frames >= WANT_FRAMES);
    CHECK(h.rx.first_frame_keyframe_ok);   /* the sender starts on a keyframe with SPS/PPS */
    CHECK_EQ_INT(h.rx.decodable, h.rx.frames);   /* loopback: nothing lost */
    CHECK(h.tx.stats.packets_sent > 0);
    CHECK(h.tx.stats.key_frames_sent >= 1);
    CHECK(h.rx.stats.frames_received >= WANT_FRAMES);
    CHECK(h.rx.stats.bytes_received > 0);
    CHECK(h.nals_sent > 0);
    CHECK_EQ_INT(h.tx.close_calls, 1);
    CHECK_EQ_INT(h.rx.close_calls, 1);
    /* Every datagram queued left through the socket (batched or not). */
    CHECK(h.tx.send_calls >= 1 && h.tx.send_calls <= h.tx.net.udp_sent + h.tx.net.udp_send_failed);
    CHECK_EQ_INT(h.tx.net.udp_send_failed, 0);
}

/* Frames of about 25 packets each: the sender's datagrams wait for the end of the loop
 * iteration and leave together (sendmmsg), a frame filling the send queue more than once;
 * the receiver still gets every frame whole, and the sender made far fewer system calls
 * than it sent datagrams. */
TEST(pcuv_big_frames_leave_in_batches_and_arrive_whole)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    h.big_frames = h.want_frames = 6;
    CHECK_EQ_INT(new_side(&h, &h.tx, CAMRTC_PC_SENDER), CAMRTC_OK);
    CHECK_EQ_INT(new_side(&h, &h.rx, CAMRTC_PC_RECEIVER), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pcuv_start(h.tx.p), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pcuv_start(h.rx.p), CAMRTC_OK);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&h.loop), 0);
    harness_done(&h);
    CHECK(!h.timed_out);
    CHECK(h.big_sent >= 6);
    CHECK(h.rx.frames >= 6);
    CHECK_EQ_INT(h.rx.complete_frames, h.rx.frames);
    CHECK(h.rx.min_frame_len >= BIG_NAL);   /* Annex-B: the NAL and its start code */
    CHECK_EQ_INT(h.rx.stats.packets_lost, 0);
    CHECK(h.tx.stats.packets_sent >= 6 * (BIG_NAL / 1200));
    CHECK_EQ_INT(h.tx.net.udp_send_failed, 0);
    /* ICE checks and the DTLS handshake go one or two at a time; the media in runs of up
     * to the queue's 16: well under half as many calls as datagrams overall. */
    CHECK(h.tx.send_calls * 2 < h.tx.net.udp_sent);
}

TEST(pcuv_calls_out_of_order_and_close_before_start)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    CHECK_EQ_INT(camrtc_pcuv_new(&h.loop, NULL, NULL, &cbs, &h.tx, &h.tx.p), CAMRTC_EINVAL);
    camrtc_pc_config nocert = loopback_pc(&h, CAMRTC_PC_SENDER);
    nocert.cert = NULL;
    CHECK_EQ_INT(camrtc_pcuv_new(&h.loop, &nocert, NULL, &cbs, &h.tx, &h.tx.p), CAMRTC_EINVAL);
    CHECK_EQ_INT(new_side(&h, &h.tx, CAMRTC_PC_SENDER), CAMRTC_OK);
    CHECK_EQ_INT(new_side(&h, &h.rx, CAMRTC_PC_RECEIVER), CAMRTC_OK);
    camrtc_buf b;
    CHECK_EQ_INT(camrtc_buf_init(&b, 0, 8192), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pcuv_create_offer(h.rx.p, &b), CAMRTC_ESTATE);   /* before on_ready */
    CHECK_EQ_INT(camrtc_pcuv_answer_offer(h.tx.p, "v=0\r\n", 5, &b, NULL, 0), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_pcuv_add_server(h.tx.p, "bogus:x", NULL, NULL) < 0, 1);
    camrtc_pcuv_close(h.tx.p);
    camrtc_pcuv_close(h.tx.p);                                            /* idempotent */
    CHECK_EQ_INT(camrtc_pcuv_start(h.tx.p), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_pcuv_send_nal(h.tx.p, &(camrtc_nal){.data = (const uint8_t *)"\x65", .len = 1}),
                 CAMRTC_ECLOSED);
    CHECK_EQ_INT(camrtc_pcuv_start(h.rx.p), CAMRTC_OK);
    CHECK(h.rx.ready);
    camrtc_buf_free(&b);
    camrtc_pcuv_close(h.rx.p);
    CHECK(!h.tx.closed && !h.rx.closed);   /* on_close only from the loop */
    uv_run(&h.loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&h.loop), 0);
    harness_done(&h);
    CHECK(!h.timed_out);
    CHECK_EQ_INT(h.tx.close_calls, 1);
    CHECK_EQ_INT(h.rx.close_calls, 1);
    CHECK_EQ_INT(h.rx.stats.packets_received, 0);
}

/* The sender leaves alone: its DTLS close_notify (RFC 5246 section 7.2.1) crosses the
 * socket and the receiver's pc goes CLOSED by itself; the receiver then closes too. */
TEST(pcuv_receiver_sees_the_senders_goodbye)
{
    harness h;
    CHECK_EQ_INT(harness_init(&h), 0);
    h.sender_leaves = true;
    CHECK_EQ_INT(new_side(&h, &h.tx, CAMRTC_PC_SENDER), CAMRTC_OK);
    CHECK_EQ_INT(new_side(&h, &h.rx, CAMRTC_PC_RECEIVER), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pcuv_start(h.tx.p), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pcuv_start(h.rx.p), CAMRTC_OK);
    const char *dir = getenv("CAMRTC_TEST_DATA");
    char spec[512];
    snprintf(spec, sizeof spec, "h264:%s/media/stream.h264", dir ? dir : "tests/unit/data");
    camrtc_source_config src = {.spec = spec, .fps = 60};
    char err[160];
    CHECK_EQ_INT(camrtc_pipeline_new(&h.loop, &src, NULL, on_nal, &h, NULL, &h.pipe, err, sizeof err), CAMRTC_OK);
    uv_run(&h.loop, UV_RUN_DEFAULT);
    CHECK_EQ_INT(uv_loop_close(&h.loop), 0);
    harness_done(&h);
    CHECK(!h.timed_out);
    CHECK(h.rx.frames >= WANT_FRAMES);
    CHECK(h.rx.saw_closed_first);
    CHECK(!h.tx.saw_closed_first);
    CHECK_EQ_INT(h.tx.close_calls, 1);
    CHECK_EQ_INT(h.rx.close_calls, 1);
}

int main(void)
{
    return RUN_TESTS(pcuv_loopback_streams_h264_and_closes, pcuv_big_frames_leave_in_batches_and_arrive_whole,
                     pcuv_calls_out_of_order_and_close_before_start, pcuv_receiver_sees_the_senders_goodbye);
}
