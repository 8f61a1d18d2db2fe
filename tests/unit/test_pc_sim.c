/* Two whole peer connections on the simulated network (virtual clock): the viewer
 * offers, the master answers through a signaling delay, ICE connects, DTLS handshakes,
 * SRTP is keyed, and the master streams pre-encoded H.264 (tests/unit/data/media/h264dir,
 * looped, plus a large synthetic slice every 12 frames so FU-A is used) at 30 fps.
 *
 * Checked: frames come out in order, all decodable, NAL for NAL identical to what was
 * sent; with 5 % loss and 40 ms RTT NACK recovers everything; a PLI reaches the master
 * as a keyframe request; a wrong DTLS fingerprint fails the connection with no media;
 * garbage RTP/RTCP/DTLS is counted and harmless; relay-only through a TURN server that
 * still holds one side's port (coturn after a restart), the allocation moves to a fresh
 * socket (camrtc_pc_io.open_udp) and video flows, and without one it fails cleanly.
 * Virtual time to first frame is printed.
 * CAMRTC_LOG=debug prints state changes with their virtual time. */
#include "check.h"
#include "sim_pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "ice/agent_int.h"
#include "pc/pc_int.h"
#include "turn_server.h"

#define MAX_NALS 8
#define N_AU 12                   /* the files of h264dir */
#define MAX_FRAMES 256
#define BIG_NAL 3000              /* the synthetic slice: about three FU-A fragments */
#define FRAME_US 33333
#define TURN_USER "sim-user"
#define TURN_PASS "sim-pass"
#define HELD_PORT 40000           /* a fixed port, as a restarted program may get again */

typedef struct nalu {
    uint8_t *data;
    size_t len;
} nalu;

typedef struct au {
    nalu nal[MAX_NALS];
    size_t n;
    bool idr;
} au;

typedef struct got_frame {
    uint32_t ts;
    bool complete, decodable, keyframe;
    uint8_t *data;
    size_t len;
} got_frame;

/* What one viewer received, and the first frame its master sent. */
typedef struct rx {
    got_frame frames[MAX_FRAMES];
    size_t n;
    int64_t first_sent;           /* frame_id of the first frame that went out; -1 = none */
} rx;

typedef struct world {
    sim *s;
    sim_host *hm, *hv, *hv2, *hturn;
    sim_turn *turn;               /* relay scenarios */
    sim_pc *master, *viewer;
    sim_pc *master2, *viewer2;    /* fan-out: a second connection fed from the same packets */
    camrtc_pc_packets shared;
    au aus[N_AU];
    uint8_t big[BIG_NAL];
    /* sending */
    uint64_t frame_id;            /* next frame to send */
    uint64_t stop_at_frame;
    uint64_t timer;
    uint64_t nals_pushed;         /* fan-out: NAL units given to the shared packet list */
    camrtc_time_us last_send_at;  /* when send_frame last ran */
    /* receiving */
    rx rx, rx2;
    camrtc_time_us offer_at;
} world;

/* ---- the media ------------------------------------------------------------------------- */

static void add_nal(void *user, const uint8_t *nal, size_t len)
{
    au *a = user;
    if (a->n >= MAX_NALS)
        return;
    a->nal[a->n].data = malloc(len);
    if (!a->nal[a->n].data)
        return;
    memcpy(a->nal[a->n].data, nal, len);
    a->nal[a->n].len = len;
    if ((nal[0] & 0x1f) == 5)
        a->idr = true;
    a->n++;
}

static bool load_media(world *w)
{
    const char *dir = getenv("CAMRTC_TEST_DATA");
    for (int i = 0; i < N_AU; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/media/h264dir/frame-%04d.h264", dir ? dir : "tests/unit/data", i + 1);
        FILE *f = fopen(path, "rb");
        if (!f)
            return false;
        uint8_t buf[8192];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        if (camrtc_h264_split(buf, n, add_nal, &w->aus[i]) <= 0)
            return false;
    }
    /* A non-IDR slice NAL (type 1) with no zero bytes, so no start code can appear. */
    w->big[0] = 0x41;
    for (size_t i = 1; i < BIG_NAL; i++)
        w->big[i] = (uint8_t)(1 + i % 255);
    return true;
}

/* The NAL units of frame id: its file, plus the big slice in every 12th frame. */
static size_t frame_nals(world *w, uint64_t id, nalu *out)
{
    const au *a = &w->aus[id % N_AU];
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        out[n++] = a->nal[i];
    if (id % N_AU == 4)
        out[n++] = (nalu){w->big, BIG_NAL};
    return n;
}

static void send_frame(sim *s, void *user)
{
    world *w = user;
    w->timer = 0;
    w->last_send_at = sim_now(s);
    uint64_t id = w->frame_id++;
    nalu nals[MAX_NALS + 1];
    size_t n = frame_nals(w, id, nals);
    bool idr = w->aus[id % N_AU].idr;
    int sent = 0, sent2 = 0;
    for (size_t i = 0; i < n; i++) {
        camrtc_nal nal = {
            .data = nals[i].data, .len = nals[i].len, .type = nals[i].data[0] & 0x1f, .keyframe = idr,
            .last_of_frame = i + 1 == n, .frame_id = id, .capture_us = sim_now(s),
            .rtp_ts = (uint32_t)(id * 3000u),
        };
        if (!w->master2) {
            int rc = camrtc_pc_send_nal(w->master->pc, sim_now(s), &nal);
            if (rc > 0)
                sent += rc;
            continue;
        }
        /* Fan-out: packetize once, send the same list on both connections. */
        if (camrtc_pc_packetize(&w->shared, &nal) != CAMRTC_OK ||
            camrtc_pc_packets_store(&w->shared, sim_now(s)) != CAMRTC_OK)
            continue;
        w->nals_pushed++;
        int rc = camrtc_pc_send_packets(w->master->pc, sim_now(s), &w->shared);
        if (rc > 0)
            sent += rc;
        rc = camrtc_pc_send_packets(w->master2->pc, sim_now(s), &w->shared);
        if (rc > 0)
            sent2 += rc;
    }
    if (sent > 0 && w->rx.first_sent < 0)
        w->rx.first_sent = (int64_t)id;
    if (sent2 > 0 && w->rx2.first_sent < 0)
        w->rx2.first_sent = (int64_t)id;
    sim_pc_reschedule(w->master);
    if (w->master2)
        sim_pc_reschedule(w->master2);
    if (w->frame_id < w->stop_at_frame)
        w->timer = sim_timer_set(s, sim_now(s) + FRAME_US, send_frame, w);
}

static void on_frame(void *user, sim_pc *p, const camrtc_h264_frame *f)
{
    rx *r = user;
    if (r->n >= MAX_FRAMES)
        return;
    got_frame *g = &r->frames[r->n];
    g->data = malloc(f->len);
    if (!g->data)
        return;
    memcpy(g->data, f->data, f->len);
    g->len = f->len;
    g->ts = f->rtp_ts;
    g->complete = f->complete;
    g->decodable = f->decodable;
    g->keyframe = f->keyframe;
    r->n++;
}

/* ---- the world -------------------------------------------------------------------------- */

typedef struct scen {
    uint64_t seed;
    sim_link_config link_master, link_viewer;
    bool tamper;                  /* the master's answer carries a wrong fingerprint */
    camrtc_pc_config viewer_cfg;
    bool fanout;                  /* a second viewer on its own host, fed from shared packets */
    sim_link_config link_viewer2;
    bool join;                    /* fan-out: master2 may start from the shared history */
    camrtc_time_us join_max_age;
    bool relay;                   /* a TURN server lingering as coturn does; both sides relay only */
    int held;                     /* relay: HELD_* side whose port an earlier run's allocation holds */
    bool no_open_udp;             /* relay: the glue of both sides offers no open_udp */
} scen;

enum { HELD_NONE, HELD_MASTER, HELD_VIEWER };

static bool not_gathered(void *user)
{
    return ((sim_pc *)user)->gathering_done == 0;
}

/* Give p the TURN server (UDP). */
static bool add_turn(world *w, sim_pc *p)
{
    camrtc_ice_server t = {.turn = true, .transport = CAMRTC_ICE_UDP, .addr = *sim_turn_addr(w->turn),
                           .username = TURN_USER, .password = TURN_PASS};
    return sim_pc_add_server(p, &t) == CAMRTC_OK;
}

/* An earlier run of a program on h and HELD_PORT (which role it had does not matter): it
 * allocates on the TURN server, deallocates on close and is gone; the server keeps that
 * 5-tuple for a second and answers 437 to an Allocate from it meanwhile. */
static bool earlier_run(world *w, sim_host *h)
{
    const turn_server_stats *ts = turn_server_get_stats(sim_turn_server(w->turn));
    uint64_t allocs = ts->allocations, deallocs = ts->deallocations;
    camrtc_pc_config c = {.ice.policy = CAMRTC_ICE_POLICY_RELAY};
    sim_pc_opts o = {.port = HELD_PORT};
    sim_pc *p = sim_pc_new_opts(w->s, h, "earlier", CAMRTC_PC_RECEIVER, &c, &o);
    if (!p)
        return false;
    bool ok = add_turn(w, p) && sim_pc_offer(p) == CAMRTC_OK &&
              sim_run_while(w->s, not_gathered, p, sim_now(w->s) + CAMRTC_SEC(2));
    camrtc_pc_close(p->pc, sim_now(w->s));
    sim_pc_reschedule(p);
    sim_run_for(w->s, CAMRTC_MS(100));   /* the deallocation and its answer */
    sim_pc_free(p);
    return ok && ts->allocations == allocs + 1 && ts->deallocations == deallocs + 1;
}

/* The TURN server, and the earlier run on the held side's host. */
static bool relay_start(world *w, const scen *sc)
{
    w->hturn = sim_host_new(w->s, "turn", NULL);
    sim_host_add_addr(w->hturn, "10.0.0.100");
    w->turn = sim_turn_new(w->s, w->hturn, 3478, TURN_USER, TURN_PASS);
    if (!w->turn)
        return false;
    turn_server_set_linger(sim_turn_server(w->turn), CAMRTC_SEC(1));   /* coturn 4.6 */
    return sc->held == HELD_NONE || earlier_run(w, sc->held == HELD_MASTER ? w->hm : w->hv);
}

/* The master or the viewer of a relay scenario: relay only, on HELD_PORT when held. */
static sim_pc *relay_pc(world *w, const scen *sc, bool master)
{
    camrtc_pc_config c = master ? (camrtc_pc_config){0} : sc->viewer_cfg;
    c.ice.policy = CAMRTC_ICE_POLICY_RELAY;
    sim_pc_opts o = {.no_open_udp = sc->no_open_udp};
    if (sc->held == (master ? HELD_MASTER : HELD_VIEWER))
        o.port = HELD_PORT;
    sim_pc *p = sim_pc_new_opts(w->s, master ? w->hm : w->hv, master ? "master" : "viewer",
                                master ? CAMRTC_PC_SENDER : CAMRTC_PC_RECEIVER, &c, &o);
    if (p && !add_turn(w, p)) {
        sim_pc_free(p);
        return NULL;
    }
    return p;
}

static world *world_new(const scen *sc)
{
    world *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->rx.first_sent = w->rx2.first_sent = -1;
    w->s = sim_new(sc->seed);
    if (!w->s || !load_media(w))
        return w;
    w->hm = sim_host_new(w->s, "master", NULL);
    w->hv = sim_host_new(w->s, "viewer", NULL);
    sim_host_add_addr(w->hm, "10.0.0.1");
    sim_host_add_addr(w->hv, "10.0.0.2");
    sim_host_set_link(w->hm, SIM_BOTH, &sc->link_master);
    sim_host_set_link(w->hv, SIM_BOTH, &sc->link_viewer);
    if (sc->relay) {
        if (!relay_start(w, sc))
            return w;
        w->master = relay_pc(w, sc, true);
        w->viewer = relay_pc(w, sc, false);
    } else {
        w->master = sim_pc_new(w->s, w->hm, "master", CAMRTC_PC_SENDER, NULL);
        w->viewer = sim_pc_new(w->s, w->hv, "viewer", CAMRTC_PC_RECEIVER, &sc->viewer_cfg);
    }
    if (!w->master || !w->viewer)
        return w;
    w->master->signal_delay = w->viewer->signal_delay = CAMRTC_MS(30);
    w->master->tamper_fingerprint = sc->tamper;
    w->viewer->on_frame = on_frame;
    w->viewer->frame_user = &w->rx;
    sim_pc_link(w->master, w->viewer);
    if (!sc->fanout)
        return w;
    if (camrtc_pc_packets_init(&w->shared, 0) != CAMRTC_OK ||
        camrtc_pc_packets_share_history(&w->shared, NULL) != CAMRTC_OK)
        return w;
    w->hv2 = sim_host_new(w->s, "viewer2", NULL);
    sim_host_add_addr(w->hv2, "10.0.0.3");
    sim_host_set_link(w->hv2, SIM_BOTH, &sc->link_viewer2);
    camrtc_pc_config mc = {.fanout = sc->join ? &w->shared : NULL, .join_max_age = sc->join_max_age};
    w->master2 = sim_pc_new(w->s, w->hm, "master2", CAMRTC_PC_SENDER, &mc);
    w->viewer2 = sim_pc_new(w->s, w->hv2, "viewer2", CAMRTC_PC_RECEIVER, &sc->viewer_cfg);
    if (!w->master2 || !w->viewer2)
        return w;
    w->master2->signal_delay = w->viewer2->signal_delay = CAMRTC_MS(30);
    w->viewer2->on_frame = on_frame;
    w->viewer2->frame_user = &w->rx2;
    sim_pc_link(w->master2, w->viewer2);
    return w;
}

static void world_free(world *w)
{
    CHECK(w != NULL);
    if (w->timer)
        sim_timer_cancel(w->s, w->timer);
    sim_pc_free(w->master);
    sim_pc_free(w->viewer);
    sim_pc_free(w->master2);
    sim_pc_free(w->viewer2);
    camrtc_pc_packets_free(&w->shared);
    sim_turn_free(w->turn);
    sim_free(w->s);
    for (int i = 0; i < N_AU; i++)
        for (size_t j = 0; j < w->aus[i].n; j++)
            free(w->aus[i].nal[j].data);
    for (size_t i = 0; i < w->rx.n; i++)
        free(w->rx.frames[i].data);
    for (size_t i = 0; i < w->rx2.n; i++)
        free(w->rx2.frames[i].data);
    free(w);
}

/* Offer, then stream `frames` frames from the start (the master drops them until it is
 * connected and an IDR comes), then let the stragglers arrive. */
static void run(world *w, uint64_t frames)
{
    w->offer_at = sim_now(w->s);
    w->stop_at_frame = frames;
    CHECK_EQ_INT(sim_pc_offer(w->viewer), CAMRTC_OK);
    if (w->viewer2)
        CHECK_EQ_INT(sim_pc_offer(w->viewer2), CAMRTC_OK);
    w->timer = sim_timer_set(w->s, sim_now(w->s), send_frame, w);
    sim_run_for(w->s, (camrtc_time_us)frames * FRAME_US + CAMRTC_SEC(2));
}

/* Split a received Annex-B frame and compare it NAL for NAL with frame id. */
static void check_frame_bytes(world *w, const got_frame *g, uint64_t id)
{
    nalu want[MAX_NALS + 1];
    size_t n = frame_nals(w, id, want);
    au got = {0};
    CHECK(camrtc_h264_split(g->data, g->len, add_nal, &got) > 0);
    CHECK_EQ_INT(got.n, n);
    for (size_t i = 0; i < n && i < got.n; i++) {
        CHECK_EQ_INT(got.nal[i].len, want[i].len);
        if (got.nal[i].len == want[i].len)
            CHECK_EQ_MEM(got.nal[i].data, want[i].data, want[i].len);
    }
    for (size_t i = 0; i < got.n; i++)
        free(got.nal[i].data);
}

/* Every frame from the first one sent arrived, in order, decodable and identical. */
static void check_stream(world *w, const rx *r, uint64_t frames)
{
    CHECK(r->first_sent >= 0);
    CHECK(r->n > 0);
    if (r->first_sent < 0 || r->n == 0)
        return;
    CHECK_EQ_INT(r->n, frames - (uint64_t)r->first_sent);
    CHECK(r->frames[0].keyframe);
    for (size_t i = 0; i < r->n; i++) {
        const got_frame *g = &r->frames[i];
        CHECK(g->complete);
        CHECK(g->decodable);
        /* In order with none missing: timestamps 3000 apart. */
        CHECK_EQ_INT((uint32_t)(g->ts - r->frames[0].ts), (uint32_t)(i * 3000u));
        check_frame_bytes(w, g, (uint64_t)r->first_sent + i);
    }
}

static void print_ttff(const world *w, const char *what)
{
    printf("  %s: %zu frames from frame %lld on; connected after %.1f ms, first frame %.1f ms after the "
           "offer (virtual)\n", what, w->rx.n, (long long)w->rx.first_sent,
           w->viewer->state_at[CAMRTC_PC_CONNECTED]
               ? (double)(w->viewer->state_at[CAMRTC_PC_CONNECTED] - w->offer_at) / 1e3 : -1.0,
           w->viewer->first_frame_at ? (double)(w->viewer->first_frame_at - w->offer_at) / 1e3 : -1.0);
}

/* Hand the master pc a generic NACK for seq (white box: as if SRTCP had been opened). */
static void nack_one(camrtc_pc *pc, camrtc_time_us now, uint16_t seq)
{
    uint8_t b[64];
    int len = camrtc_rtcp_write_nack(b, sizeof b, 0x99, pc->ssrc, &seq, 1);
    CHECK(len > 0);
    if (len <= 0)
        return;
    camrtc_rtcp_iter it;
    camrtc_rtcp_iter_init(&it, b, (size_t)len);
    camrtc_rtcp_packet p;
    CHECK_EQ_INT(camrtc_rtcp_iter_next(&it, &p), 1);
    CHECK_EQ_INT(p.kind, CAMRTC_RTCP_K_NACK);
    pc_on_nack(pc, now, &p);
}

/* world_new, or NULL (freed) when the master or the viewer could not be made, or the
 * second pair when the scenario has one. */
static world *world_ok(const scen *sc)
{
    world *w = world_new(sc);
    if (w && w->master && w->viewer && (!sc->fanout || (w->master2 && w->viewer2)))
        return w;
    world_free(w);
    return NULL;
}

/* ---- scenarios ----------------------------------------------------------------------------- */

TEST(clean_path_delivers_identical_frames)
{
    scen sc = {.seed = 1};
    sc.link_master.delay = sc.link_viewer.delay = CAMRTC_MS(5);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    run(w, 90);
    CHECK_EQ_INT(w->master->state, CAMRTC_PC_CONNECTED);
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_CONNECTED);
    CHECK(w->master->keyframe_wanted >= 1);   /* media became possible */
    check_stream(w, &w->rx, 90);
    camrtc_pc_stats ms, vs;
    camrtc_pc_get_stats(w->master->pc, &ms);
    camrtc_pc_get_stats(w->viewer->pc, &vs);
    CHECK_EQ_INT(ms.frames_sent, w->rx.n);
    CHECK_EQ_INT(vs.frames_received, w->rx.n);
    CHECK_EQ_INT(vs.frames_decodable, w->rx.n);
    CHECK_EQ_INT(vs.packets_received, ms.packets_sent);
    CHECK_EQ_INT(vs.packets_lost, 0);
    CHECK_EQ_INT(ms.nack_count, 0);
    CHECK(ms.sr_sent >= 2 && vs.rr_sent >= 2);
    CHECK(vs.sr_received >= 1 && ms.rr_received >= 1);
    CHECK(ms.round_trip_time > 0);              /* from RR LSR/DLSR: 2 x 10 ms of links */
    CHECK(ms.round_trip_time >= CAMRTC_MS(19) && ms.round_trip_time <= CAMRTC_MS(25));
    CHECK(ms.nals_dropped_wait_key + ms.nals_dropped_not_ready > 0);
    CHECK_EQ_INT(camrtc_pc_payload_type(w->master->pc), camrtc_pc_payload_type(w->viewer->pc));
    print_ttff(w, "clean");
    /* Close: the viewer hears close_notify. */
    camrtc_pc_close(w->master->pc, sim_now(w->s));
    sim_pc_reschedule(w->master);
    sim_run_for(w->s, CAMRTC_MS(100));
    CHECK_EQ_INT(w->master->state, CAMRTC_PC_CLOSED);
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_CLOSED);
    world_free(w);
}

TEST(loss_is_recovered_by_nack)
{
    scen sc = {.seed = 7};
    /* 40 ms RTT: 10 ms on each uplink and downlink; 5 % loss each way on the master's link. */
    sc.link_master.delay = sc.link_viewer.delay = CAMRTC_MS(10);
    sc.link_master.loss = 0.05;
    sc.viewer_cfg.jitter.nack_max_tries = 6;
    sc.viewer_cfg.jitter.max_delay = CAMRTC_MS(500);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    run(w, 120);
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_CONNECTED);
    check_stream(w, &w->rx, 120);
    camrtc_pc_stats ms, vs;
    camrtc_pc_get_stats(w->master->pc, &ms);
    camrtc_pc_get_stats(w->viewer->pc, &vs);
    CHECK(ms.nack_count > 0);
    CHECK(vs.nack_sent > 0);
    CHECK(ms.retransmitted_packets_sent > 0);
    CHECK_EQ_INT(vs.packets_lost, 0);
    CHECK_EQ_INT(vs.frames_decodable, vs.frames_received);
    printf("  loss: %llu packets sent, %llu NACKs, %llu resent, RTT %.1f ms\n",
           (unsigned long long)ms.packets_sent, (unsigned long long)ms.nack_count,
           (unsigned long long)ms.retransmitted_packets_sent, (double)ms.round_trip_time / 1e3);
    print_ttff(w, "5% loss");
    world_free(w);
}

TEST(pli_reaches_master_as_keyframe_request)
{
    scen sc = {.seed = 3};
    sc.link_master.delay = sc.link_viewer.delay = CAMRTC_MS(5);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    run(w, 30);
    unsigned before = w->master->keyframe_wanted;
    CHECK_EQ_INT(camrtc_pc_request_keyframe(w->viewer->pc, sim_now(w->s)), CAMRTC_OK);
    sim_pc_reschedule(w->viewer);
    sim_run_for(w->s, CAMRTC_MS(100));
    CHECK_EQ_INT(w->master->keyframe_wanted, before + 1);
    camrtc_pc_stats ms, vs;
    camrtc_pc_get_stats(w->master->pc, &ms);
    camrtc_pc_get_stats(w->viewer->pc, &vs);
    CHECK_EQ_INT(ms.pli_count, 1);
    CHECK_EQ_INT(vs.pli_sent, 1);
    world_free(w);
}

TEST(fingerprint_mismatch_fails_without_media)
{
    scen sc = {.seed = 5, .tamper = true};
    sc.link_master.delay = sc.link_viewer.delay = CAMRTC_MS(5);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    run(w, 60);
    sim_run_for(w->s, CAMRTC_SEC(20));   /* let DTLS timers run out on the master too */
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_FAILED);
    CHECK_EQ_INT(w->viewer->state_at[CAMRTC_PC_CONNECTED], 0);
    CHECK_EQ_INT(w->master->state_at[CAMRTC_PC_CONNECTED], 0);
    CHECK_EQ_INT(w->rx.n, 0);
    camrtc_pc_stats ms;
    camrtc_pc_get_stats(w->master->pc, &ms);
    CHECK_EQ_INT(ms.packets_sent, 0);
    CHECK_EQ_INT(w->rx.first_sent, -1);
    printf("  mismatch: viewer failed (%s), master %s\n", camrtc_strerror(w->viewer->fail_error),
           camrtc_pc_state_name(w->master->state));
    world_free(w);
}

TEST(garbage_is_counted_and_harmless)
{
    scen sc = {.seed = 11};
    sc.link_master.delay = sc.link_viewer.delay = CAMRTC_MS(5);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    run(w, 30);
    size_t frames_before = w->rx.n;
    camrtc_pc_stats m0, v0;
    camrtc_pc_get_stats(w->master->pc, &m0);
    camrtc_pc_get_stats(w->viewer->pc, &v0);
    uint8_t pkt[1400];
    for (int i = 0; i < 400; i++) {
        size_t len = (size_t)(sim_rand_u64(w->s) % sizeof pkt);
        for (size_t k = 0; k < len; k++)
            pkt[k] = (uint8_t)sim_rand_u64(w->s);
        if (len > 1) {
            static const uint8_t first[] = {0x80, 0x80, 0x90, 0x16, 0x17, 0x01, 0xff, 0x41};
            pkt[0] = first[i % 8];
            if (i % 8 == 1)
                pkt[1] = (uint8_t)(200 + i % 8);   /* RTCP packet types */
        }
        sim_pc_inject(w->master, pkt, len);
        sim_pc_inject(w->viewer, pkt, len);
    }
    camrtc_pc_stats m1, v1;
    camrtc_pc_get_stats(w->master->pc, &m1);
    camrtc_pc_get_stats(w->viewer->pc, &v1);
    CHECK(v1.srtp_errors > v0.srtp_errors);
    CHECK(m1.srtp_errors > m0.srtp_errors);
    CHECK(v1.dropped_demux > v0.dropped_demux);
    CHECK(m1.dropped_demux > m0.dropped_demux);
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_CONNECTED);
    /* Still streaming afterwards. */
    w->stop_at_frame = w->frame_id + 30;
    w->timer = sim_timer_set(w->s, sim_now(w->s), send_frame, w);
    sim_run_for(w->s, CAMRTC_SEC(2));
    CHECK(w->rx.n >= frames_before + 30);
    for (size_t i = 0; i < w->rx.n; i++)
        CHECK(w->rx.frames[i].decodable);
    world_free(w);
}

TEST(fanout_packetizes_once_and_a_lossy_viewer_delays_no_one)
{
    scen sc = {.seed = 13, .fanout = true};
    sc.link_master.delay = sc.link_viewer.delay = sc.link_viewer2.delay = CAMRTC_MS(10);
    sc.link_viewer2.loss = 0.05;   /* only the second viewer's path loses */
    sc.viewer_cfg.jitter.nack_max_tries = 6;
    sc.viewer_cfg.jitter.max_delay = CAMRTC_MS(500);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    run(w, 90);
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_CONNECTED);
    CHECK_EQ_INT(w->viewer2->state, CAMRTC_PC_CONNECTED);
    check_stream(w, &w->rx, 90);
    check_stream(w, &w->rx2, 90);
    camrtc_pc_stats m1, m2, v1;
    camrtc_pc_get_stats(w->master->pc, &m1);
    camrtc_pc_get_stats(w->master2->pc, &m2);
    camrtc_pc_get_stats(w->viewer->pc, &v1);
    CHECK_EQ_INT(m1.nack_count, 0);          /* the clean viewer never waited */
    CHECK_EQ_INT(v1.packets_lost, 0);
    CHECK(m2.nack_count > 0);
    /* NACKs were answered from the list's one history; the masters keep none of their own. */
    camrtc_pc_stats m2s;
    camrtc_pc_get_stats(w->master2->pc, &m2s);
    const camrtc_rtp_history_stats *hs = camrtc_rtp_history_get_stats(w->shared.history);
    CHECK(m2.retransmitted_packets_sent > 0);
    CHECK_EQ_INT(m1.retransmitted_packets_sent, 0);
    CHECK_EQ_INT(hs->hits, m2.retransmitted_packets_sent);
    CHECK(w->master->pc->history == NULL && w->master2->pc->history == NULL);
    CHECK(w->master2->pc->id_map != NULL && w->master2->pc->shared == w->shared.history);
    /* At the last send: the newest packet is there, the first one (3 s old, evicted by
     * age) is a miss. */
    camrtc_pc *pc2 = w->master2->pc;
    uint16_t newest = (uint16_t)(pc2->seq - 1), oldest = (uint16_t)(pc2->seq - pc2->mapped);
    CHECK(pc2->mapped > 100);
    nack_one(pc2, w->last_send_at, newest);
    camrtc_pc_get_stats(pc2, &m2s);
    CHECK_EQ_INT(m2s.nack_misses, m2.nack_misses);
    CHECK_EQ_INT(m2s.retransmitted_packets_sent, m2.retransmitted_packets_sent + 1);
    nack_one(pc2, w->last_send_at, oldest);
    camrtc_pc_get_stats(pc2, &m2s);
    CHECK_EQ_INT(m2s.nack_misses, m2.nack_misses + 1);
    CHECK_EQ_INT(m2s.retransmitted_packets_sent, m2.retransmitted_packets_sent + 1);
    /* A sequence number this pc never sent is a miss too. */
    nack_one(pc2, w->last_send_at, pc2->seq);
    camrtc_pc_get_stats(pc2, &m2s);
    CHECK_EQ_INT(m2s.nack_misses, m2.nack_misses + 2);
    /* One packetization: the shared packer saw each NAL once. */
    const camrtc_h264_pack_stats *ps = camrtc_h264_pack_get_stats(&w->shared.packer);
    CHECK_EQ_INT(ps->nals, w->nals_pushed);
    printf("  fan-out: %zu + %zu frames, %llu packets packetized once, NACKs %llu / %llu\n", w->rx.n, w->rx2.n,
           (unsigned long long)ps->packets, (unsigned long long)m1.nack_count, (unsigned long long)m2.nack_count);
    world_free(w);
}

/* The first viewer from the start; the second one offers half-way through frame join_at. */
/* A fan-out world whose second viewer may join from the shared history (join_max_age 0 =
 * the default); NULL when it could not be made (the caller's CHECK fails then). */
static world *join_world(uint64_t seed, camrtc_time_us join_max_age)
{
    scen sc = {.seed = seed, .fanout = true, .join = true, .join_max_age = join_max_age};
    sc.link_master.delay = sc.link_viewer.delay = sc.link_viewer2.delay = CAMRTC_MS(10);
    return world_ok(&sc);
}

/* The first viewer watches from frame 0; at join_at, at_join (may be NULL) runs and the
 * second viewer offers; then the stream goes on to frames. */
static void run_join(world *w, uint64_t join_at, uint64_t frames, void (*at_join)(world *))
{
    w->offer_at = sim_now(w->s);
    w->stop_at_frame = frames;
    CHECK_EQ_INT(sim_pc_offer(w->viewer), CAMRTC_OK);
    w->timer = sim_timer_set(w->s, sim_now(w->s), send_frame, w);
    sim_run_for(w->s, (camrtc_time_us)join_at * FRAME_US + FRAME_US / 2);
    if (at_join)
        at_join(w);
    CHECK_EQ_INT(sim_pc_offer(w->viewer2), CAMRTC_OK);
    sim_run_for(w->s, (camrtc_time_us)(frames - join_at) * FRAME_US + CAMRTC_SEC(2));
}

/* NAL unit type of the first NAL in an RTP payload (inside a STAP-A: the first aggregated). */
static int payload_first_nal(const uint8_t *p, size_t len)
{
    if (len < 1)
        return -1;
    if ((p[0] & 0x1f) == 24)   /* STAP-A: header, then 16-bit size + NAL (RFC 6184 5.7.1) */
        return len >= 4 ? p[3] & 0x1f : -1;
    if ((p[0] & 0x1f) == 28)   /* FU-A: indicator, header with the type */
        return len >= 2 ? p[1] & 0x1f : -1;
    return p[0] & 0x1f;
}

TEST(a_viewer_joining_midstream_starts_from_the_held_idr)
{
    world *w = join_world(17, 0);
    CHECK(w != NULL);
    uint16_t seq0 = w->master2->pc->seq;   /* the first sequence number master2 will use */
    run_join(w, 40, 60, NULL);
    CHECK_EQ_INT(w->viewer2->state, CAMRTC_PC_CONNECTED);
    check_stream(w, &w->rx, 60);
    camrtc_pc_stats m2, v2;
    camrtc_pc_get_stats(w->master2->pc, &m2);
    camrtc_pc_get_stats(w->viewer2->pc, &v2);
    /* It started at once from the IDR every viewer got: no keyframe asked for. */
    CHECK_EQ_INT(w->master2->keyframe_wanted, 0);
    CHECK(m2.join_packets_sent > 0);
    CHECK_EQ_INT(m2.nals_dropped_wait_key, 0);
    /* Every frame from that IDR on, in order, complete, decodable and identical. */
    uint64_t k0 = 60 - (uint64_t)w->rx2.n;
    CHECK(w->rx2.n > 0 && w->rx2.n <= 60);
    CHECK(w->aus[k0 % N_AU].idr);                        /* one of the files IDRs */
    CHECK(w->rx2.first_sent > (int64_t)k0);              /* the live part followed the held one */
    CHECK(w->rx2.first_sent - (int64_t)k0 <= 6);         /* and it was the newest IDR (one every 6) */
    for (size_t i = 0; i < w->rx2.n; i++) {
        const got_frame *g = &w->rx2.frames[i];
        CHECK(g->complete && g->decodable);
        CHECK_EQ_INT(g->keyframe, w->aus[(k0 + i) % N_AU].idr);   /* the first one is */
        CHECK_EQ_INT((uint32_t)(g->ts - w->rx2.frames[0].ts), (uint32_t)(i * 3000u));
        check_frame_bytes(w, g, k0 + i);
    }
    /* Contiguous sequence numbers: nothing missing, nothing asked again. */
    CHECK_EQ_INT(v2.packets_received, m2.packets_sent);
    CHECK_EQ_INT(v2.packets_lost, 0);
    CHECK_EQ_INT(v2.nack_sent, 0);
    CHECK_EQ_INT(v2.pli_sent, 0);
    /* White box: master2's first packet is the STAP-A with SPS and PPS, then the IDR. */
    camrtc_pc *pc2 = w->master2->pc;
    CHECK(pc2->id_map && pc2->mapped >= 2);
    if (pc2->id_map && pc2->mapped >= 2) {
        const uint8_t *t;
        size_t len;
        uint32_t id0 = pc2->id_map[seq0 & pc2->id_mask];
        CHECK_EQ_INT(camrtc_rtp_history_peek(w->shared.history, (uint16_t)id0, &t, &len, NULL), CAMRTC_OK);
        CHECK(len > 16);
        CHECK_EQ_INT(t[12] & 0x1f, 24);
        CHECK_EQ_INT(payload_first_nal(t + 12, len - 12), 7);
        size_t sps = (size_t)t[13] << 8 | t[14];
        CHECK(15 + sps + 3 <= len && (t[15 + sps + 2] & 0x1f) == 8);   /* then the PPS */
        uint32_t id1 = pc2->id_map[(uint16_t)(seq0 + 1) & pc2->id_mask];
        CHECK_EQ_INT(id1, id0 + 1);
        CHECK_EQ_INT(camrtc_rtp_history_peek(w->shared.history, (uint16_t)id1, &t, &len, NULL), CAMRTC_OK);
        CHECK_EQ_INT(payload_first_nal(t + 12, len - 12), 5);
    }
    printf("  join: viewer2 started from frame %llu (held), live from %lld, %llu packets from the history; "
           "first frame %.1f ms after its offer (virtual)\n", (unsigned long long)k0, (long long)w->rx2.first_sent,
           (unsigned long long)m2.join_packets_sent,
           w->viewer2->first_frame_at
               ? (double)(w->viewer2->first_frame_at - w->offer_at - 40 * FRAME_US - FRAME_US / 2) / 1e3 : -1.0);
    world_free(w);
}

TEST(a_joining_viewer_asks_for_an_idr_when_the_held_one_is_too_old)
{
    world *w = join_world(19, 1);
    CHECK(w != NULL);
    run_join(w, 40, 80, NULL);
    CHECK_EQ_INT(w->viewer2->state, CAMRTC_PC_CONNECTED);
    camrtc_pc_stats m2;
    camrtc_pc_get_stats(w->master2->pc, &m2);
    CHECK_EQ_INT(m2.join_packets_sent, 0);
    CHECK_EQ_INT(w->master2->keyframe_wanted, 1);        /* as before: wait for a new IDR */
    CHECK(m2.nals_dropped_wait_key > 0);
    CHECK(w->rx2.first_sent >= 0 && w->aus[w->rx2.first_sent % N_AU].idr);
    check_stream(w, &w->rx2, 80);
    world_free(w);
}

static void forget_at_join(world *w)
{
    CHECK(w->shared.have_key);                      /* the first viewer's IDR */
    camrtc_pc_packets_forget_keyframe(&w->shared);
    CHECK(!w->shared.have_key);
}

/* After camrtc_pc_packets_forget_keyframe (the master's encoder switched profile) no
 * IDR made before is held: a viewer joining then starts from an IDR made after it. */
TEST(forget_keyframe_drops_the_held_idr)
{
    world *w = join_world(23, 0);
    CHECK(w != NULL);
    run_join(w, 40, 80, forget_at_join);
    CHECK_EQ_INT(w->viewer2->state, CAMRTC_PC_CONNECTED);
    uint64_t k0 = 80 - (uint64_t)w->rx2.n;            /* the frame viewer2 started from */
    CHECK(w->rx2.n > 0 && k0 > 40 && w->aus[k0 % N_AU].idr);
    for (size_t i = 0; i < w->rx2.n; i++)
        CHECK(w->rx2.frames[i].complete && w->rx2.frames[i].decodable);
    world_free(w);
}

/* The path goes dark (loss 1.0 both ways on the viewer's link) and comes back. */
typedef struct dark {
    world *w;
    sim_link_config normal;
    camrtc_pc_stats vs_before, ms_before;
} dark;

static void dark_on(sim *s, void *user)
{
    dark *d = user;
    sim_link_config off = d->normal;
    off.loss = 1.0;
    sim_host_set_link(d->w->hv, SIM_BOTH, &off);
    camrtc_pc_get_stats(d->w->viewer->pc, &d->vs_before);
    camrtc_pc_get_stats(d->w->master->pc, &d->ms_before);
    (void)s;
}

static void dark_off(sim *s, void *user)
{
    dark *d = user;
    sim_host_set_link(d->w->hv, SIM_BOTH, &d->normal);
    (void)s;
}

/* Issue 6, findings 3 and 4: a 2.5-s blackout. When the path comes back, the hole it
 * left is larger than NACK should try (nack_max_hole): the viewer NACKs none of it, so
 * the master resends nothing; the viewer gives the hole up at once and sends one PLI,
 * not a second one later although the hole's frames stay undecodable up to the IDR;
 * from the IDR on every frame decodes. */
TEST(a_blackout_brings_one_pli_and_no_nack_flood)
{
    scen sc = {.seed = 11};
    sc.link_master.delay = sc.link_viewer.delay = CAMRTC_MS(5);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    dark d = {.w = w, .normal = sc.link_viewer};
    camrtc_time_us t0 = sim_now(w->s);
    sim_timer_set(w->s, t0 + CAMRTC_SEC(2), dark_on, &d);
    sim_timer_set(w->s, t0 + CAMRTC_MS(4500), dark_off, &d);
    run(w, 210);   /* 7 s */
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_CONNECTED);
    camrtc_pc_stats ms, vs;
    camrtc_pc_get_stats(w->master->pc, &ms);
    camrtc_pc_get_stats(w->viewer->pc, &vs);
    printf("  blackout: viewer NACKed %llu seqs (%llu before), PLIs %llu (%llu before), lost %llu; master "
           "resent %llu (%llu before), misses %llu\n",
           (unsigned long long)vs.nack_seqs_sent, (unsigned long long)d.vs_before.nack_seqs_sent,
           (unsigned long long)vs.pli_sent, (unsigned long long)d.vs_before.pli_sent,
           (unsigned long long)vs.packets_lost, (unsigned long long)ms.retransmitted_packets_sent,
           (unsigned long long)d.ms_before.retransmitted_packets_sent, (unsigned long long)ms.nack_misses);
    CHECK(vs.packets_lost > 64);
    CHECK_EQ_INT(vs.nack_seqs_sent, d.vs_before.nack_seqs_sent);
    CHECK_EQ_INT(ms.retransmitted_packets_sent, d.ms_before.retransmitted_packets_sent);
    CHECK_EQ_INT(vs.pli_sent, d.vs_before.pli_sent + 1);
    /* The frames after the hole: undecodable up to an IDR, then all decodable. */
    size_t bad = 0, first_key = 0, bad_after = 0;
    for (size_t i = 0; i < w->rx.n; i++) {
        const got_frame *g = &w->rx.frames[i];
        if (!g->decodable && !first_key)
            bad++;
        else if (g->decodable && bad && !first_key && g->keyframe)
            first_key = i;
        else if (first_key && !g->decodable)
            bad_after++;
    }
    CHECK(bad > 0 && first_key > 0);
    CHECK_EQ_INT(bad_after, 0);
    world_free(w);
}

/* A viewer asks for a keyframe now (a timer's callback). */
static void ask_keyframe(sim *s, void *user)
{
    sim_pc *v = user;
    CHECK_EQ_INT(camrtc_pc_request_keyframe(v->pc, sim_now(s)), CAMRTC_OK);
    sim_pc_reschedule(v);
}

/* Fan-out, one encoder: viewer A is 50 ms away (RTT 100 ms), viewer B 10 ms (RTT 20 ms).
 * An IDR goes out to both at t0; at t0 + 40 ms both ask for a keyframe. A has not got the
 * IDR yet (it arrives at t0 + 50 ms): its PLI crossed it and reaches the master at
 * t0 + 90 ms, inside A's window, and is ignored. B had the IDR since t0 + 10 ms: its PLI
 * (at the master at t0 + 50 ms, past B's 30-ms window) asks for a new one. */
TEST(fanout_a_stale_pli_brings_no_idr_and_a_genuine_one_does)
{
    scen sc = {.seed = 29, .fanout = true};
    sc.link_master.delay = sc.link_viewer2.delay = CAMRTC_MS(5);
    sc.link_viewer.delay = CAMRTC_MS(45);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    if (!w)
        return;
    w->stop_at_frame = 150;
    CHECK_EQ_INT(sim_pc_offer(w->viewer), CAMRTC_OK);
    CHECK_EQ_INT(sim_pc_offer(w->viewer2), CAMRTC_OK);
    w->timer = sim_timer_set(w->s, sim_now(w->s), send_frame, w);
    sim_run_for(w->s, CAMRTC_MS(2500));   /* connected, and RTT measured from RRs */
    /* On to the next IDR sent (one in every 6 frames). */
    for (int i = 0; i < N_AU && !w->aus[(w->frame_id - 1) % N_AU].idr; i++)
        sim_run_for(w->s, FRAME_US);
    CHECK(w->aus[(w->frame_id - 1) % N_AU].idr);
    camrtc_time_us t0 = w->last_send_at;
    camrtc_pc_stats a0, b0, va, vb;
    camrtc_pc_get_stats(w->master->pc, &a0);
    camrtc_pc_get_stats(w->master2->pc, &b0);
    CHECK(a0.round_trip_time >= CAMRTC_MS(99) && a0.round_trip_time <= CAMRTC_MS(105));
    CHECK(b0.round_trip_time >= CAMRTC_MS(19) && b0.round_trip_time <= CAMRTC_MS(25));
    CHECK_EQ_INT(a0.pli_count + b0.pli_count, 0);
    unsigned ka = w->master->keyframe_wanted, kb = w->master2->keyframe_wanted;
    sim_timer_set(w->s, t0 + CAMRTC_MS(40), ask_keyframe, w->viewer);
    sim_timer_set(w->s, t0 + CAMRTC_MS(40), ask_keyframe, w->viewer2);
    sim_run_for(w->s, CAMRTC_MS(150));    /* both PLIs are in; the next IDR is not out */
    camrtc_pc_stats a1, b1;
    camrtc_pc_get_stats(w->master->pc, &a1);
    camrtc_pc_get_stats(w->master2->pc, &b1);
    camrtc_pc_get_stats(w->viewer->pc, &va);
    camrtc_pc_get_stats(w->viewer2->pc, &vb);
    CHECK_EQ_INT(va.pli_sent, 1);
    CHECK_EQ_INT(vb.pli_sent, 1);
    CHECK_EQ_INT(a1.pli_count, 1);
    CHECK_EQ_INT(a1.pli_ignored, 1);
    CHECK_EQ_INT(w->master->keyframe_wanted, ka);         /* A's stale PLI: no IDR */
    CHECK_EQ_INT(b1.pli_count, 1);
    CHECK_EQ_INT(b1.pli_ignored, 0);
    CHECK_EQ_INT(w->master2->keyframe_wanted, kb + 1);    /* B's genuine one: an IDR */
    world_free(w);
}

/* The IDR a joining viewer starts from (the held one) is its IDR too: a PLI it sends
 * as soon as the first packet arrived crossed that IDR and brings no new one. */
TEST(a_pli_crossing_the_held_idr_a_viewer_joined_from_is_ignored)
{
    world *w = join_world(31, 0);
    CHECK(w != NULL);
    if (!w)
        return;
    w->stop_at_frame = 60;
    CHECK_EQ_INT(sim_pc_offer(w->viewer), CAMRTC_OK);
    w->timer = sim_timer_set(w->s, sim_now(w->s), send_frame, w);
    sim_run_for(w->s, 20 * FRAME_US + FRAME_US / 2);
    CHECK_EQ_INT(sim_pc_offer(w->viewer2), CAMRTC_OK);
    /* Millisecond steps until viewer2 has its first packet (white box), at most 3 s. */
    for (int i = 0; i < 3000 && !w->viewer2->pc->got_rtp; i++)
        sim_run_for(w->s, CAMRTC_MS(1));
    CHECK(w->viewer2->pc->got_rtp);
    camrtc_pc_stats m2;
    camrtc_pc_get_stats(w->master2->pc, &m2);
    CHECK(m2.join_packets_sent > 0);                      /* it joined from the held IDR */
    CHECK_EQ_INT(m2.round_trip_time, 0);                  /* no RR yet: ICE's RTT is used */
    CHECK_EQ_INT(camrtc_pc_request_keyframe(w->viewer2->pc, sim_now(w->s)), CAMRTC_OK);
    sim_pc_reschedule(w->viewer2);
    sim_run_for(w->s, CAMRTC_MS(200));
    camrtc_pc_get_stats(w->master2->pc, &m2);
    CHECK_EQ_INT(m2.pli_count, 1);
    CHECK_EQ_INT(m2.pli_ignored, 1);
    CHECK_EQ_INT(w->master2->keyframe_wanted, 0);
    sim_run_for(w->s, 60 * FRAME_US);
    CHECK(w->rx2.n > 0);
    for (size_t i = 0; i < w->rx2.n; i++)
        CHECK(w->rx2.frames[i].complete && w->rx2.frames[i].decodable);
    world_free(w);
}

/* ---- relay only, from a port the TURN server still holds ---- */

/* coturn keeps a deallocated allocation's 5-tuple for about a second and answers 437 to an
 * Allocate from it; a master or viewer restarted on the port of its previous run meets
 * exactly that. Both sides relay only (ICE transport policy relay), 10 ms links. */
static scen held_port_scen(int held, bool open_udp)
{
    scen sc = {.seed = 37, .relay = true, .held = held, .no_open_udp = !open_udp};
    sc.link_master.delay = sc.link_viewer.delay = CAMRTC_MS(10);
    return sc;
}

static const camrtc_ice_stats *ice_stats(sim_pc *p)
{
    return camrtc_ice_get_stats(camrtc_pc_ice(p->pc));
}

/* RFC 8656 §7.4, through the whole peer connection: the held side is refused before and
 * after clearing, allocates again from one fresh socket the pc asked its glue for, and
 * the connection comes up relay to relay with every frame delivered and decodable. */
static void check_moved(int held)
{
    scen sc = held_port_scen(held, true);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    if (!w)
        return;
    sim_pc *moved = held == HELD_MASTER ? w->master : w->viewer;
    sim_pc *other = held == HELD_MASTER ? w->viewer : w->master;
    run(w, 90);
    CHECK_EQ_INT(w->master->state, CAMRTC_PC_CONNECTED);
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_CONNECTED);
    const turn_server_stats *ts = turn_server_get_stats(sim_turn_server(w->turn));
    CHECK_EQ_INT(ts->mismatches, 2);
    CHECK_EQ_INT(moved->turn_socks, 1);
    CHECK_EQ_INT(ice_stats(moved)->turn_moves, 1);
    CHECK_EQ_INT(other->turn_socks, 0);
    CHECK_EQ_INT(ice_stats(other)->turn_moves, 0);
    sim_pc *both[2] = {w->master, w->viewer};
    for (int i = 0; i < 2; i++) {
        camrtc_ice_candidate l, r;
        CHECK_EQ_INT(camrtc_ice_get_selected(camrtc_pc_ice(both[i]->pc), &l, &r), CAMRTC_OK);
        CHECK_EQ_INT(l.type, CAMRTC_ICE_RELAY);
        CHECK_EQ_INT(r.type, CAMRTC_ICE_RELAY);
    }
    check_stream(w, &w->rx, 90);
    camrtc_pc_stats vs;
    camrtc_pc_get_stats(w->viewer->pc, &vs);
    CHECK_EQ_INT(vs.frames_decodable, w->rx.n);
    print_ttff(w, held == HELD_MASTER ? "relay, master moved" : "relay, viewer moved");
    /* Closing deallocates both, the moved one from the socket it lives on. */
    uint64_t before = ts->deallocations;
    for (int i = 0; i < 2; i++) {
        camrtc_pc_close(both[i]->pc, sim_now(w->s));
        sim_pc_reschedule(both[i]);
    }
    sim_run_for(w->s, CAMRTC_MS(100));
    CHECK_EQ_INT(ts->deallocations, before + 2);
    world_free(w);
}

TEST(relay_only_master_moves_off_a_port_the_turn_server_still_holds)
{
    check_moved(HELD_MASTER);
}

TEST(relay_only_viewer_moves_off_a_port_the_turn_server_still_holds)
{
    check_moved(HELD_VIEWER);
}

/* The same without camrtc_pc_io.open_udp: the master's allocation fails with 437 and, relay
 * only, it has no candidate: ICE fails on both sides, no media, nothing left behind. */
TEST(relay_only_master_without_a_fresh_socket_fails_cleanly_on_a_held_port)
{
    scen sc = held_port_scen(HELD_MASTER, false);
    world *w = world_ok(&sc);
    CHECK(w != NULL);
    if (!w)
        return;
    run(w, 60);
    sim_run_for(w->s, CAMRTC_SEC(40));   /* ICE gives up about 30 s after it started */
    CHECK_EQ_INT(w->master->state, CAMRTC_PC_FAILED);
    CHECK_EQ_INT(w->viewer->state, CAMRTC_PC_FAILED);
    CHECK_EQ_INT(w->master->state_at[CAMRTC_PC_CONNECTED], 0);
    CHECK_EQ_INT(w->viewer->state_at[CAMRTC_PC_CONNECTED], 0);
    CHECK_EQ_INT(w->rx.n, 0);
    CHECK_EQ_INT(w->rx.first_sent, -1);
    camrtc_pc_stats ms;
    camrtc_pc_get_stats(w->master->pc, &ms);
    CHECK_EQ_INT(ms.packets_sent, 0);
    CHECK_EQ_INT(turn_server_get_stats(sim_turn_server(w->turn))->mismatches, 2);
    CHECK_EQ_INT(ice_stats(w->master)->turn_moves, 0);
    CHECK_EQ_INT(w->master->turn_socks, 0);
    /* White box: the agent did ask the pc for a fresh socket (the pass-through), and the
     * pc, whose glue has none, refused. */
    camrtc_ice_agent *a = camrtc_pc_ice(w->master->pc);
    CHECK_EQ_INT(a->nrelays, 1);
    CHECK_EQ_INT(a->relays[0].moves, 1);
    CHECK_EQ_INT(a->relays[0].own_sock, -1);
    CHECK(a->relays[0].failed);
    printf("  relay, no fresh socket: master failed (%s) %.1f s, viewer failed (%s) %.1f s after the offer (virtual)\n",
           camrtc_strerror(w->master->fail_error), (double)(w->master->state_at[CAMRTC_PC_FAILED] - w->offer_at) / 1e6,
           camrtc_strerror(w->viewer->fail_error), (double)(w->viewer->state_at[CAMRTC_PC_FAILED] - w->offer_at) / 1e6);
    world_free(w);
}

int main(void)
{
    return RUN_TESTS(clean_path_delivers_identical_frames, loss_is_recovered_by_nack,
                     pli_reaches_master_as_keyframe_request, fingerprint_mismatch_fails_without_media,
                     garbage_is_counted_and_harmless, fanout_packetizes_once_and_a_lossy_viewer_delays_no_one,
                     a_viewer_joining_midstream_starts_from_the_held_idr,
                     a_joining_viewer_asks_for_an_idr_when_the_held_one_is_too_old,
                     forget_keyframe_drops_the_held_idr, a_blackout_brings_one_pli_and_no_nack_flood,
                     fanout_a_stale_pli_brings_no_idr_and_a_genuine_one_does,
                     a_pli_crossing_the_held_idr_a_viewer_joined_from_is_ignored,
                     relay_only_master_moves_off_a_port_the_turn_server_still_holds,
                     relay_only_viewer_moves_off_a_port_the_turn_server_still_holds,
                     relay_only_master_without_a_fresh_socket_fails_cleanly_on_a_held_port);
}
