/* The receive-side jitter buffer: in-order release, reordering, wrap at 65535, holes
 * given up after the delay, NACK lists with retry spacing, PLI requests. Virtual time. */
#include "check.h"

#include "camrtc/error.h"
#include "camrtc/h264_rtp.h"
#include "camrtc/jitter.h"
#include "camrtc/rtp.h"
#include "camrtc/rtp_history.h"

#define T0 CAMRTC_SEC(100)
#define PC_TEST_NACKS 512

/* A packet whose bytes name its sequence number. */
static int put(camrtc_jitter *j, camrtc_time_us now, uint16_t seq)
{
    uint8_t pkt[4] = {(uint8_t)(seq >> 8), (uint8_t)seq, 0xaa, 0x55};
    return camrtc_jitter_insert(j, now, seq, pkt, sizeof pkt);
}

/* Poll everything due at now; record released seqs (and -gap_count for a gap, 99999
 * for a PLI) into out. Bounded by max. */
static int drain(camrtc_jitter *j, camrtc_time_us now, long *out, int max)
{
    camrtc_jitter_out o;
    int n = 0;
    while (n < max && camrtc_jitter_poll(j, now, &o) == 1) {
        if (o.kind == CAMRTC_JITTER_PACKET) {
            if (o.len != 4 || o.data[0] != (uint8_t)(o.seq >> 8) || o.data[1] != (uint8_t)o.seq)
                return -1;
            out[n++] = o.seq;
        } else if (o.kind == CAMRTC_JITTER_GAP) {
            out[n++] = -(long)o.gap_count;
        } else {
            out[n++] = 99999;
        }
    }
    return n;
}

static camrtc_jitter *mk(size_t slots)
{
    camrtc_jitter_config cfg = {.slots = slots, .max_delay = CAMRTC_MS(100), .initial_rtt = CAMRTC_MS(20),
                                .pli_interval = CAMRTC_MS(300), .nack_max_tries = 3};
    return camrtc_jitter_new(&cfg);
}

TEST(jitter_in_order_release)
{
    camrtc_jitter *j = mk(64);
    CHECK(j);
    long out[16];
    CHECK_EQ_INT(camrtc_jitter_next_timeout(j), CAMRTC_TIME_NEVER);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(put(j, T0 + (camrtc_time_us)i, (uint16_t)(10 + i)), CAMRTC_OK);
        CHECK_EQ_INT(drain(j, T0 + (camrtc_time_us)i, out, 16), 1);
        CHECK_EQ_INT(out[0], 10 + i);
    }
    CHECK_EQ_INT(camrtc_jitter_next_timeout(j), CAMRTC_TIME_NEVER);
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->released, 5);
    camrtc_jitter_free(j);
}

TEST(jitter_reorder_within_window_across_wrap)
{
    camrtc_jitter *j = mk(64);
    CHECK(j);
    /* 65533 first, then the rest shuffled around the wrap. */
    static const uint16_t order[] = {65533, 65535, 0, 65534, 3, 2, 1, 4};
    long out[32];
    int n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        CHECK_EQ_INT(put(j, T0, order[i]), CAMRTC_OK);
        int k = drain(j, T0, out + n, 32 - n);
        CHECK(k >= 0);
        n += k;
    }
    static const long want[] = {65533, 65534, 65535, 0, 1, 2, 3, 4};
    CHECK_EQ_INT(n, 8);
    for (int i = 0; i < 8; i++)
        CHECK_EQ_INT(out[i], want[i]);
    /* Extended numbers kept counting through the wrap. */
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->ext_highest, 0x20004);
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->lost, 0);
    camrtc_jitter_free(j);
}

TEST(jitter_gives_up_hole_after_delay_and_asks_pli)
{
    camrtc_jitter *j = mk(64);
    CHECK(j);
    long out[16];
    CHECK_EQ_INT(put(j, T0, 100), CAMRTC_OK);
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(10), 103), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(10), out, 16), 1);
    /* 101 and 102 missing: NACK due now, give-up at 103's arrival + 100 ms. */
    CHECK_EQ_INT(camrtc_jitter_next_timeout(j), 0);
    uint16_t seqs[8];
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(10), seqs, 8), 2);
    CHECK_EQ_INT(camrtc_jitter_next_timeout(j), T0 + CAMRTC_MS(30));   /* the NACK retry, one RTT on */
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(12), 104), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(109), out, 16), 0);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(110), out, 16), 4);
    CHECK_EQ_INT(out[0], -2);        /* gap of two */
    CHECK_EQ_INT(out[1], 99999);     /* PLI */
    CHECK_EQ_INT(out[2], 103);
    CHECK_EQ_INT(out[3], 104);
    const camrtc_jitter_stats *st = camrtc_jitter_get_stats(j);
    CHECK_EQ_INT(st->lost, 2);
    CHECK_EQ_INT(st->plis, 1);
    /* The retransmission arrives too late. */
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(120), 101), CAMRTC_ETIMEDOUT);
    CHECK_EQ_INT(st->late, 1);
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(120), 104), CAMRTC_ETIMEDOUT);
    /* A second hole soon after: the PLI waits for the interval. */
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(130), 106), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(230), out, 16), 2);
    CHECK_EQ_INT(out[0], -1);
    CHECK_EQ_INT(out[1], 106);
    CHECK_EQ_INT(camrtc_jitter_next_timeout(j), T0 + CAMRTC_MS(410));
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(409), out, 16), 0);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(410), out, 16), 1);
    CHECK_EQ_INT(out[0], 99999);
    CHECK_EQ_INT(st->plis, 2);
    camrtc_jitter_free(j);
}

TEST(jitter_nack_list_tries_and_spacing)
{
    camrtc_jitter *j = mk(64);
    CHECK(j);
    uint16_t seqs[16];
    long out[16];
    CHECK_EQ_INT(put(j, T0, 65534), CAMRTC_OK);
    CHECK_EQ_INT(put(j, T0, 3), CAMRTC_OK);       /* 65535, 0, 1, 2 missing */
    drain(j, T0, out, 16);
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0, seqs, 16), 4);
    CHECK_EQ_INT(seqs[0], 65535);
    CHECK_EQ_INT(seqs[1], 0);
    CHECK_EQ_INT(seqs[3], 2);
    /* Not again before one RTT (20 ms). */
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(19), seqs, 16), 0);
    /* 0 arrives; the others are asked a second time. */
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(5), 0), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(20), seqs, 16), 3);
    CHECK_EQ_INT(seqs[0], 65535);
    CHECK_EQ_INT(seqs[1], 1);
    CHECK_EQ_INT(seqs[2], 2);
    /* A longer RTT spaces the third try, up to a quarter of the wait (25 ms). */
    camrtc_jitter_set_rtt(j, CAMRTC_MS(50));
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(44), seqs, 16), 0);
    /* A short output array: the rest stay due. */
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(70), seqs, 1), 1);
    CHECK_EQ_INT(seqs[0], 65535);
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(70), seqs, 16), 2);
    /* Three tries each: no more. */
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(99), seqs, 16), 0);
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->nacks, 4 + 3 + 3);
    /* Retransmissions fill the holes: everything comes out in order. */
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(80), 2), CAMRTC_OK);
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(80), 1), CAMRTC_OK);
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(80), 1), CAMRTC_EEXIST);
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(81), 65535), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(81), out, 16), 5);
    CHECK_EQ_INT(out[0], 65535);
    CHECK_EQ_INT(out[1], 0);
    CHECK_EQ_INT(out[4], 3);
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->duplicates, 1);
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->lost, 0);
    camrtc_jitter_free(j);
}

TEST(jitter_overflow_and_restart)
{
    camrtc_jitter *j = mk(16);
    CHECK(j);
    long out[64];
    CHECK_EQ_INT(put(j, T0, 1), CAMRTC_OK);
    for (uint16_t s = 3; s <= 16; s++)
        CHECK_EQ_INT(put(j, T0, s), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0, out, 64), 1);
    /* 18 would need 17 slots from the hole at 2: refused, and 2 is given up at once. */
    CHECK_EQ_INT(put(j, T0, 18), CAMRTC_ELIMIT);
    CHECK_EQ_INT(drain(j, T0, out, 64), 1 + 1 + 14);
    CHECK_EQ_INT(out[0], -1);
    CHECK_EQ_INT(out[1], 99999);
    CHECK_EQ_INT(out[2], 3);
    CHECK_EQ_INT(out[15], 16);
    /* 19 makes 17 and 18 holes that NACK can recover. */
    CHECK_EQ_INT(put(j, T0, 19), CAMRTC_OK);
    uint16_t seqs[4];
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0, seqs, 4), 2);
    CHECK_EQ_INT(seqs[1], 18);
    CHECK_EQ_INT(put(j, T0, 17), CAMRTC_OK);
    CHECK_EQ_INT(put(j, T0, 18), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0, out, 64), 3);
    /* Empty buffer, then a jump far ahead: restart there, one gap reported. */
    CHECK_EQ_INT(put(j, T0 + CAMRTC_SEC(1), 30000), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_SEC(1), out, 64), 3);
    CHECK_EQ_INT(out[0], -(30000 - 20));
    CHECK_EQ_INT(out[1], 99999);
    CHECK_EQ_INT(out[2], 30000);
    CHECK_EQ_INT(put(j, T0 + CAMRTC_SEC(1), 30001), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_SEC(1), out, 64), 1);
    CHECK_EQ_INT(out[0], 30001);
    uint8_t big[1501] = {0};
    CHECK_EQ_INT(camrtc_jitter_insert(j, T0, 30002, big, sizeof big), CAMRTC_ETOOBIG);
    camrtc_jitter_free(j);
    camrtc_jitter_config bad = {.slots = 100};
    CHECK(camrtc_jitter_new(&bad) == NULL);
}

/* Issue 6, finding 2: on a local path ICE measures an RTT of microseconds; retries that
 * close would all leave before the first answer could come back, then nothing for the
 * rest of the wait. They are spaced by nack_min_interval instead, and by default there
 * are enough of them to fill the wait (200 ms / 20 ms). */
TEST(jitter_nack_retries_are_spaced_by_a_floor_over_the_whole_wait)
{
    camrtc_jitter *j = camrtc_jitter_new(NULL);
    CHECK(j);
    camrtc_jitter_set_rtt(j, 100);   /* 0.1 ms */
    long out[16];
    uint16_t seqs[4];
    CHECK_EQ_INT(put(j, T0, 10), CAMRTC_OK);
    CHECK_EQ_INT(put(j, T0, 12), CAMRTC_OK);
    drain(j, T0, out, 16);
    int tries = 0;
    camrtc_time_us last = 0;
    /* Poll every 0.1 ms for the whole wait (200 ms): bounded, 2000 rounds. */
    for (camrtc_time_us t = T0; t < T0 + CAMRTC_MS(200); t += 100) {
        if (camrtc_jitter_nack(j, t, seqs, 4) == 1) {
            CHECK_EQ_INT(seqs[0], 11);
            CHECK(tries == 0 || t - last >= CAMRTC_MS(20));
            last = t;
            tries++;
        }
    }
    CHECK_EQ_INT(tries, 10);
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(300), seqs, 4), 0);
    camrtc_jitter_free(j);
    /* No RTT measured yet: the initial 100 ms would allow two tries in the wait (seen on
     * real sockets: a packet lost for good in the first second); a quarter of the wait
     * allows four. */
    j = camrtc_jitter_new(NULL);
    CHECK(j);
    CHECK_EQ_INT(put(j, T0, 10), CAMRTC_OK);
    CHECK_EQ_INT(put(j, T0, 12), CAMRTC_OK);
    drain(j, T0, out, 16);
    tries = 0;
    for (camrtc_time_us t = T0; t < T0 + CAMRTC_MS(200); t += CAMRTC_MS(1))
        tries += (int)camrtc_jitter_nack(j, t, seqs, 4);
    CHECK_EQ_INT(tries, 4);
    camrtc_jitter_free(j);
}

/* Issue 6, finding 3: after an outage the first packet behind it opens a hole of
 * hundreds. It is not NACKed (the resends would come as a flood of media older than
 * the wait) but given up at once, with a PLI; a small hole next to it still is NACKed. */
TEST(jitter_big_hole_is_given_up_at_once_not_nacked)
{
    camrtc_jitter_config cfg = {.slots = 1024, .nack_max_hole = 64};
    camrtc_jitter *j = camrtc_jitter_new(&cfg);
    CHECK(j);
    long out[16];
    uint16_t seqs[PC_TEST_NACKS];
    CHECK_EQ_INT(put(j, T0, 1000), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0, out, 16), 1);
    /* 1001..1064: a hole of exactly 64, NACKed. */
    CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(1), 1065), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(1), out, 16), 0);
    CHECK_EQ_INT(camrtc_jitter_nack(j, T0 + CAMRTC_MS(1), seqs, PC_TEST_NACKS), 64);
    for (uint16_t s = 1001; s <= 1064; s++)
        CHECK_EQ_INT(put(j, T0 + CAMRTC_MS(2), s), CAMRTC_OK);
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(2), out, 16), 16);   /* bounded by out: more remain */
    CHECK_EQ_INT(out[0], 1001);
    long rest[64];
    CHECK_EQ_INT(drain(j, T0 + CAMRTC_MS(2), rest, 64), 64 - 16 + 1);
    /* 1.5 s dark: 1066..1465 (400) missing when 1466 arrives. */
    camrtc_time_us back = T0 + CAMRTC_MS(1500);
    CHECK_EQ_INT(put(j, back, 1466), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_jitter_nack(j, back, seqs, PC_TEST_NACKS), 0);
    CHECK_EQ_INT(camrtc_jitter_next_timeout(j), 0);
    CHECK_EQ_INT(drain(j, back, out, 16), 3);
    CHECK_EQ_INT(out[0], -400);
    CHECK_EQ_INT(out[1], 99999);
    CHECK_EQ_INT(out[2], 1466);
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->big_holes, 1);
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->lost, 400);
    /* A late resend of the hole is dropped; a one-packet hole after it is NACKed. */
    CHECK_EQ_INT(put(j, back + 10, 1100), CAMRTC_ETIMEDOUT);
    CHECK_EQ_INT(put(j, back + 20, 1468), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_jitter_nack(j, back + 20, seqs, PC_TEST_NACKS), 1);
    CHECK_EQ_INT(seqs[0], 1467);
    /* The initial RTT (100 ms) capped at a quarter of the wait. */
    CHECK_EQ_INT(camrtc_jitter_next_timeout(j), back + 20 + CAMRTC_MS(50));
    camrtc_jitter_free(j);
}

/* Random reordering inside a window smaller than the delay: every packet comes out
 * once, in order, with no loss reported. */
TEST(jitter_random_reorder_no_loss)
{
    camrtc_jitter *j = mk(128);
    CHECK(j);
    uint32_t rng = 77;
    uint16_t seqs[2000];
    for (int i = 0; i < 2000; i++)
        seqs[i] = (uint16_t)(64000 + i);
    /* Swap each packet with one up to 8 places later. */
    for (int i = 0; i < 2000; i++) {
        rng = rng * 1103515245u + 12345u;
        int k = i + (int)(rng >> 16) % 9;
        if (k < 2000) {
            uint16_t t = seqs[i];
            seqs[i] = seqs[k];
            seqs[k] = t;
        }
    }
    long out[64];
    uint16_t expect = 64000;
    bool first = true;
    int released = 0;
    for (int i = 0; i < 2000; i++) {
        camrtc_time_us now = T0 + CAMRTC_MS(i);
        int rc = put(j, now, seqs[i]);
        if (first) {
            /* The buffer starts at the first packet it sees; anything older is late. */
            expect = seqs[i];
            first = false;
        }
        if (rc == CAMRTC_ETIMEDOUT)
            continue;
        CHECK_EQ_INT(rc, CAMRTC_OK);
        int n = drain(j, now, out, 64);
        CHECK(n >= 0);
        for (int k = 0; k < n; k++) {
            CHECK_EQ_INT(out[k], expect);
            expect++;
            released++;
        }
    }
    CHECK_EQ_INT(camrtc_jitter_get_stats(j)->lost, 0);
    CHECK_EQ_INT((uint16_t)(expect - 1), (uint16_t)(64000 + 1999));
    CHECK(released >= 1990);
    camrtc_jitter_free(j);
}

/* ---- end to end: packetizer → history → lossy link → jitter → NACK → resend → depack --- */

#define NET_MAX 4096
#define NET_PKT 1300

typedef struct net_pkt {
    camrtc_time_us at;
    size_t len;
    uint8_t data[NET_PKT];
} net_pkt;

/* A one-way link with 5 % loss and 20-30 ms delay (so packets reorder), virtual time. */
typedef struct net {
    net_pkt q[NET_MAX];
    int n;
    uint32_t rng;
    int dropped;
} net;

static uint32_t net_rand(net *nw)
{
    nw->rng = nw->rng * 1664525u + 1013904223u;
    return nw->rng >> 8;
}

static void net_send(net *nw, camrtc_time_us now, const uint8_t *p, size_t len)
{
    if (net_rand(nw) % 100 < 5) {
        nw->dropped++;
        return;
    }
    if (nw->n == NET_MAX || len > NET_PKT)
        return;
    net_pkt *q = &nw->q[nw->n++];
    q->at = now + CAMRTC_MS(20) + net_rand(nw) % CAMRTC_MS(10);
    q->len = len;
    memcpy(q->data, p, len);
}

/* Take one packet due at now (any order among the due ones is fine: they reorder). */
static int net_recv(net *nw, camrtc_time_us now, uint8_t *out, size_t *len)
{
    for (int i = 0; i < nw->n; i++) {
        if (nw->q[i].at <= now) {
            *len = nw->q[i].len;
            memcpy(out, nw->q[i].data, *len);
            nw->q[i] = nw->q[--nw->n];
            return 1;
        }
    }
    return 0;
}

typedef struct e2e {
    net fwd;
    camrtc_h264_packer pk;
    camrtc_rtp_history *hist;
    camrtc_jitter *jb;
    camrtc_h264_depack *dp;
    uint16_t seq;
    int frames, decodable, keyframes;
    int bad_after_good;     /* undecodable frames after the first decodable one */
    bool want_key;          /* the receiver asked for a keyframe (a PLI, lossless here) */
} e2e;

static void e2e_frame(void *user, const camrtc_h264_frame *f)
{
    e2e *e = user;
    e->frames++;
    e->bad_after_good += e->decodable && !f->decodable;
    e->decodable += f->decodable;
    e->keyframes += f->keyframe;
    e->want_key |= !f->decodable;
}

static void send_nal(e2e *e, camrtc_time_us now, const camrtc_nal *nal)
{
    uint8_t buf[1200];
    camrtc_h264_pkt_info info;
    if (camrtc_h264_pack_push(&e->pk, nal) < 0)
        return;
    while (camrtc_h264_pack_next(&e->pk, buf, sizeof buf, &info) == 1) {
        camrtc_rtp_header h = {.marker = info.marker, .pt = 102, .seq = e->seq++, .ts = info.rtp_ts, .ssrc = 0x5eed};
        camrtc_rtp_write_header(&h, buf, 12);
        size_t len = 12 + info.payload_len;
        camrtc_rtp_history_put(e->hist, now, h.seq, buf, len);
        net_send(&e->fwd, now, buf, len);
    }
}

/* The receiver's NACK goes back as RTCP (lossless here); the sender answers from its
 * history. */
static void nack_roundtrip(e2e *e, camrtc_time_us now)
{
    uint16_t seqs[64], lost[64 * 17];
    size_t n = camrtc_jitter_nack(e->jb, now, seqs, 64);
    if (n == 0)
        return;
    uint8_t rtcp[512];
    int len = camrtc_rtcp_write_nack(rtcp, sizeof rtcp, 1, 0x5eed, seqs, n);
    camrtc_rtcp_iter it;
    camrtc_rtcp_packet p;
    camrtc_rtcp_iter_init(&it, rtcp, (size_t)len);
    if (len < 0 || camrtc_rtcp_iter_next(&it, &p) != 1)
        return;
    size_t k = camrtc_rtcp_nack_seqs(&p, lost, 64 * 17);
    for (size_t i = 0; i < k; i++) {
        const uint8_t *pkt;
        size_t plen;
        if (camrtc_rtp_history_get(e->hist, now, lost[i], &pkt, &plen) == CAMRTC_OK)
            net_send(&e->fwd, now, pkt, plen);
    }
}

static void receive(e2e *e, camrtc_time_us now)
{
    static uint8_t pkt[NET_PKT];
    size_t len;
    while (net_recv(&e->fwd, now, pkt, &len)) {
        camrtc_rtp_header h;
        if (camrtc_rtp_parse(pkt, len, &h) == CAMRTC_OK)
            camrtc_jitter_insert(e->jb, now, h.seq, pkt, len);
    }
    camrtc_jitter_out o;
    while (camrtc_jitter_poll(e->jb, now, &o) == 1) {
        camrtc_rtp_header h;
        if (o.kind == CAMRTC_JITTER_PACKET && camrtc_rtp_parse(o.data, o.len, &h) == CAMRTC_OK)
            camrtc_h264_depack_push(e->dp, h.seq, h.ts, h.marker, h.payload, h.payload_len);
    }
}

TEST(e2e_nack_recovers_five_percent_loss)
{
    static e2e e;
    memset(&e, 0, sizeof e);
    e.fwd.rng = 2024;
    e.seq = 65000;   /* cross the wrap on the way */
    CHECK_EQ_INT(camrtc_h264_pack_init(&e.pk, NULL), CAMRTC_OK);
    e.hist = camrtc_rtp_history_new(NULL);
    camrtc_jitter_config jc = {.max_delay = CAMRTC_MS(300), .initial_rtt = CAMRTC_MS(60), .nack_max_tries = 5};
    e.jb = camrtc_jitter_new(&jc);
    e.dp = camrtc_h264_depack_new(0, e2e_frame, &e);
    CHECK(e.hist && e.jb && e.dp);
    static uint8_t slice[6000];
    for (size_t i = 0; i < sizeof slice; i++)
        slice[i] = (uint8_t)(i * 31 + 7);
    slice[1] = 0x88;
    static const uint8_t sps[] = {0x67, 0x42, 0xe0, 0x1f, 0xda};
    static const uint8_t pps[] = {0x68, 0xce, 0x3c, 0x80};
    /* 300 frames at 30 fps, an IDR at the start and when asked for: every frame must
     * decode once one has. The link reorders, so the stream may start (the jitter buffer
     * takes its first packet as the start) behind the STAP-A with SPS/PPS: then the
     * first IDR is not decodable and a PLI brings the next one. */
    for (int ms = 0; ms < 10000 + 1000; ms++) {
        camrtc_time_us now = T0 + CAMRTC_MS(ms);
        if (ms % 33 == 0 && ms / 33 < 300) {
            int f = ms / 33;
            uint32_t ts = 3000u * (uint32_t)f;
            bool key = f == 0 || e.want_key;
            e.want_key = false;
            slice[0] = key ? 0x65 : 0x41;
            if (key) {
                camrtc_nal a = {.data = sps, .len = sizeof sps, .rtp_ts = ts, .keyframe = true};
                camrtc_nal b = {.data = pps, .len = sizeof pps, .rtp_ts = ts, .keyframe = true};
                send_nal(&e, now, &a);
                send_nal(&e, now, &b);
            }
            /* Two slices per frame, sizes varying with the frame number. */
            camrtc_nal s1 = {.data = slice, .len = 500 + (size_t)(f * 37) % 2500, .rtp_ts = ts, .keyframe = key};
            camrtc_nal s2 = {.data = slice, .len = 200 + (size_t)(f * 53) % 5000, .rtp_ts = ts, .keyframe = key,
                             .last_of_frame = true};
            send_nal(&e, now, &s1);
            send_nal(&e, now, &s2);
        }
        receive(&e, now);
        if (ms % 10 == 0)
            nack_roundtrip(&e, now);
    }
    camrtc_h264_depack_flush(e.dp);
    const camrtc_jitter_stats *st = camrtc_jitter_get_stats(e.jb);
    CHECK(e.fwd.dropped > 50);              /* the link did lose packets */
    CHECK(st->nacks > 0);
    CHECK_EQ_INT(st->lost, 0);              /* all recovered in time */
    CHECK_EQ_INT(e.frames, 300);
    CHECK(e.keyframes >= 1 && e.keyframes <= 2);
    CHECK(e.decodable >= 300 - 2);
    CHECK_EQ_INT(e.bad_after_good, 0);
    CHECK_EQ_INT(camrtc_h264_depack_get_stats(e.dp)->nals_dropped, 0);
    CHECK(camrtc_rtp_history_get_stats(e.hist)->hits > 0);
    camrtc_h264_depack_free(e.dp);
    camrtc_jitter_free(e.jb);
    camrtc_rtp_history_free(e.hist);
}

int main(void)
{
    return RUN_TESTS(jitter_in_order_release, jitter_reorder_within_window_across_wrap,
                     jitter_gives_up_hole_after_delay_and_asks_pli, jitter_nack_list_tries_and_spacing,
                     jitter_overflow_and_restart, jitter_random_reorder_no_loss,
                     jitter_nack_retries_are_spaced_by_a_floor_over_the_whole_wait,
                     jitter_big_hole_is_given_up_at_once_not_nacked, e2e_nack_recovers_five_percent_loss);
}
