/* The peer connection without a network: SDP glue between a viewer and a master, the
 * RFC 7983 demultiplexer's decisions and counters, the shared packet list (fan-out), the
 * receive path fed with SRTP packets protected here, RTCP feedback at the sender, and
 * the keyframe-first rule. SRTP is keyed directly (pc_install_keys) as a finished DTLS
 * handshake would; whole connections over the simulated network are in test_pc_sim.c. */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/srtp.h"
#include "pc/pc_int.h"

typedef struct peer {
    camrtc_rng rng;
    camrtc_cert cert;
    camrtc_pc *pc;
    unsigned keyframe_wanted, frames, decodable, candidates;
    uint8_t last_frame[8192];
    size_t last_len;
} peer;

static void on_event(void *user, const camrtc_pc_event *ev)
{
    peer *p = user;
    if (ev->type == CAMRTC_PC_EV_KEYFRAME_WANTED)
        p->keyframe_wanted++;
    if (ev->type == CAMRTC_PC_EV_CANDIDATE)
        p->candidates++;
    if (ev->type == CAMRTC_PC_EV_FRAME) {
        p->frames++;
        if (ev->frame->decodable)
            p->decodable++;
        p->last_len = ev->frame->len < sizeof p->last_frame ? ev->frame->len : sizeof p->last_frame;
        memcpy(p->last_frame, ev->frame->data, p->last_len);
    }
}

static const camrtc_pc_io io = {.event = on_event};

static int peer_init(peer *p, camrtc_pc_role role, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    if (camrtc_rng_init_seed(&p->rng, seed) < 0)
        return CAMRTC_EINTERNAL;
    int rc = camrtc_cert_self_signed(role == CAMRTC_PC_SENDER ? "master" : "viewer", 30, &p->rng, &p->cert);
    if (rc != CAMRTC_OK)
        return rc;
    camrtc_pc_config cfg = {.role = role, .cert = &p->cert, .rng = &p->rng};
    rc = camrtc_pc_new(&p->pc, &cfg, &io, p);
    if (rc == CAMRTC_OK) {
        camrtc_addr a;
        camrtc_addr_parse(&a, role == CAMRTC_PC_SENDER ? "10.0.0.1" : "10.0.0.2", 5000);
        rc = camrtc_pc_add_host(p->pc, 1000, 0, &a);
    }
    return rc < 0 ? rc : CAMRTC_OK;
}

static void peer_free(peer *p)
{
    camrtc_pc_free(p->pc);
    camrtc_cert_free(&p->cert);
    camrtc_rng_free(&p->rng);
}

/* Viewer offers, master answers, viewer accepts: both negotiated, nothing sent. */
static int negotiate(peer *m, peer *v)
{
    camrtc_buf offer, answer;
    camrtc_buf_init(&offer, 0, 4096);
    camrtc_buf_init(&answer, 0, 4096);
    char reason[128] = "";
    int rc = camrtc_pc_create_offer(v->pc, 1000, &offer);
    if (rc == CAMRTC_OK)
        rc = camrtc_pc_answer_offer(m->pc, 1000, (const char *)camrtc_buf_data(&offer), offer.len, &answer,
                                    reason, sizeof reason);
    if (rc == CAMRTC_OK)
        rc = camrtc_pc_set_answer(v->pc, 1000, (const char *)camrtc_buf_data(&answer), answer.len, reason,
                                  sizeof reason);
    if (rc != CAMRTC_OK)
        fprintf(stderr, "negotiate: %s (%s)\n", camrtc_strerror(rc), reason);
    camrtc_buf_free(&offer);
    camrtc_buf_free(&answer);
    return rc;
}

static camrtc_srtp_keying test_keys(void)
{
    camrtc_srtp_keying k = {.profile = CAMRTC_SRTP_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};
    for (int i = 0; i < 16; i++) {
        k.client_key[i] = (uint8_t)(i + 1);
        k.server_key[i] = (uint8_t)(0x80 + i);
    }
    for (int i = 0; i < 14; i++) {
        k.client_salt[i] = (uint8_t)(0x40 + i);
        k.server_salt[i] = (uint8_t)(0xc0 + i);
    }
    return k;
}

TEST(sdp_glue_negotiates_h264_and_roles)
{
    peer m, v;
    CHECK_EQ_INT(peer_init(&m, CAMRTC_PC_SENDER, 1), CAMRTC_OK);
    CHECK_EQ_INT(peer_init(&v, CAMRTC_PC_RECEIVER, 2), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pc_payload_type(m.pc), -1);
    CHECK_EQ_INT(negotiate(&m, &v), CAMRTC_OK);
    CHECK(camrtc_pc_payload_type(m.pc) >= 96);
    CHECK_EQ_INT(camrtc_pc_payload_type(m.pc), camrtc_pc_payload_type(v.pc));
    /* The master answers active (DTLS client), the viewer is server; the offerer controls ICE. */
    CHECK(m.pc->dtls_client);
    CHECK(!v.pc->dtls_client);
    CHECK(camrtc_ice_is_controlling(camrtc_pc_ice(v.pc)));
    CHECK(!camrtc_ice_is_controlling(camrtc_pc_ice(m.pc)));
    CHECK_EQ_INT(camrtc_pc_get_state(m.pc), CAMRTC_PC_CONNECTING);
    CHECK_EQ_INT(camrtc_pc_get_state(v.pc), CAMRTC_PC_CONNECTING);
    CHECK(m.candidates >= 1 && v.candidates >= 1);   /* host candidates trickled */
    /* Wrong order and twice are refused. */
    camrtc_buf b;
    camrtc_buf_init(&b, 0, 4096);
    CHECK_EQ_INT(camrtc_pc_create_offer(m.pc, 1000, &b), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_pc_create_offer(v.pc, 1000, &b), CAMRTC_ESTATE);
    camrtc_buf_free(&b);
    peer_free(&m);
    peer_free(&v);
}

TEST(bad_sdp_is_refused_and_counted)
{
    peer m, v;
    CHECK_EQ_INT(peer_init(&m, CAMRTC_PC_SENDER, 3), CAMRTC_OK);
    CHECK_EQ_INT(peer_init(&v, CAMRTC_PC_RECEIVER, 4), CAMRTC_OK);
    camrtc_buf b;
    camrtc_buf_init(&b, 0, 4096);
    char reason[128] = "";
    static const char junk[] = "v=0\r\nthis is not sdp\r\n";
    CHECK_EQ_INT(camrtc_pc_answer_offer(m.pc, 1000, junk, strlen(junk), &b, reason, sizeof reason),
                 CAMRTC_EPROTO);
    CHECK(reason[0] != '\0');
    /* Well-formed but no video we can send. */
    static const char audio_only[] =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtcp-mux\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n"
        "a=fingerprint:sha-256 "
        "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n"
        "a=rtpmap:111 opus/48000/2\r\n";
    CHECK_EQ_INT(camrtc_pc_answer_offer(m.pc, 1000, audio_only, strlen(audio_only), &b, reason, sizeof reason),
                 CAMRTC_EUNSUPPORTED);
    /* An answer before an offer; then a junk answer. */
    CHECK_EQ_INT(camrtc_pc_set_answer(v.pc, 1000, junk, strlen(junk), reason, sizeof reason), CAMRTC_ESTATE);
    camrtc_buf_reset(&b);
    CHECK_EQ_INT(camrtc_pc_create_offer(v.pc, 1000, &b), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pc_set_answer(v.pc, 1000, junk, strlen(junk), reason, sizeof reason), CAMRTC_EPROTO);
    camrtc_pc_stats ms, vs;
    camrtc_pc_get_stats(m.pc, &ms);
    camrtc_pc_get_stats(v.pc, &vs);
    CHECK_EQ_INT(ms.sdp_errors, 2);
    CHECK_EQ_INT(vs.sdp_errors, 1);
    CHECK_EQ_INT(camrtc_pc_get_state(m.pc), CAMRTC_PC_NEW);
    /* Bad trickled candidates are counted too. */
    CHECK(camrtc_pc_add_remote_candidate(v.pc, 1000, "candidate:garbage") < 0);
    camrtc_pc_get_stats(v.pc, &vs);
    CHECK_EQ_INT(vs.bad_candidates, 1);
    camrtc_buf_free(&b);
    peer_free(&m);
    peer_free(&v);
}

TEST(demux_sends_each_class_to_its_counter)
{
    peer v;
    CHECK_EQ_INT(peer_init(&v, CAMRTC_PC_RECEIVER, 5), CAMRTC_OK);
    camrtc_pc_stats s;
    /* No DTLS endpoint yet (no answer): DTLS dropped and counted. */
    static const uint8_t dtls[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    pc_handle_data(v.pc, 2000, dtls, sizeof dtls);
    camrtc_pc_get_stats(v.pc, &s);
    CHECK_EQ_INT(s.dropped_dtls, 1);
    /* RTP before keys, an unknown first byte, an empty datagram: demux drops. */
    uint8_t rtp[20] = {0x80, 102};
    pc_handle_data(v.pc, 2000, rtp, sizeof rtp);
    static const uint8_t other[] = {0xff, 1, 2, 3};
    pc_handle_data(v.pc, 2000, other, sizeof other);
    pc_handle_data(v.pc, 2000, other, 0);
    static const uint8_t zrtp[] = {16, 0, 0, 0};
    pc_handle_data(v.pc, 2000, zrtp, sizeof zrtp);
    camrtc_pc_get_stats(v.pc, &s);
    CHECK_EQ_INT(s.dropped_demux, 4);
    /* With keys: RTP and RTCP go to SRTP, which rejects unauthenticated bytes. */
    camrtc_srtp_keying k = test_keys();
    CHECK_EQ_INT(pc_install_keys(v.pc, &k, false), CAMRTC_OK);
    pc_handle_data(v.pc, 2000, rtp, sizeof rtp);
    uint8_t rtcp[24] = {0x81, 201, 0, 5};
    pc_handle_data(v.pc, 2000, rtcp, sizeof rtcp);
    camrtc_pc_get_stats(v.pc, &s);
    CHECK_EQ_INT(s.srtp_errors, 2);
    CHECK_EQ_INT(s.dropped_demux, 4);
    peer_free(&v);
}

TEST(packet_list_is_shared_and_flags_frames)
{
    camrtc_pc_packets l;
    CHECK_EQ_INT(camrtc_pc_packets_init(&l, 0), CAMRTC_OK);
    static const uint8_t sps[] = {0x67, 0x42, 0xe0, 0x1f, 0xda};
    static const uint8_t pps[] = {0x68, 0xce, 0x3c, 0x80};
    uint8_t idr[3000];
    idr[0] = 0x65;
    for (size_t i = 1; i < sizeof idr; i++)
        idr[i] = (uint8_t)(i | 1);
    camrtc_nal n = {.data = sps, .len = sizeof sps, .type = 7, .keyframe = true, .rtp_ts = 9000};
    CHECK_EQ_INT(camrtc_pc_packetize(&l, &n), CAMRTC_OK);
    CHECK_EQ_INT(l.n, 0);   /* held for the STAP-A */
    n = (camrtc_nal){.data = pps, .len = sizeof pps, .type = 8, .keyframe = true, .rtp_ts = 9000};
    CHECK_EQ_INT(camrtc_pc_packetize(&l, &n), CAMRTC_OK);
    n = (camrtc_nal){.data = idr, .len = sizeof idr, .type = 5, .keyframe = true, .last_of_frame = true,
                     .rtp_ts = 9000};
    CHECK_EQ_INT(camrtc_pc_packetize(&l, &n), CAMRTC_OK);
    CHECK_EQ_INT(l.n, 4);   /* STAP-A + three FU-A fragments */
    CHECK(l.pkt[0].first_of_frame && l.pkt[0].keyframe);
    CHECK_EQ_INT(l.pkt[0].buf[l.header_room] & 0x1f, CAMRTC_H264_NAL_STAP_A);
    CHECK_EQ_INT(l.pkt[1].buf[l.header_room] & 0x1f, CAMRTC_H264_NAL_FU_A);
    CHECK(!l.pkt[1].first_of_frame && !l.pkt[2].marker);
    CHECK(l.pkt[3].marker);
    for (size_t i = 0; i < l.n; i++) {
        CHECK_EQ_INT(l.pkt[i].rtp_ts, 9000);
        CHECK(l.header_room + l.pkt[i].payload_len + 16 <= 1200);
    }
    /* The next frame starts again. */
    static const uint8_t p1[] = {0x41, 0x9a, 0x02};
    n = (camrtc_nal){.data = p1, .len = sizeof p1, .type = 1, .last_of_frame = true, .rtp_ts = 12000};
    CHECK_EQ_INT(camrtc_pc_packetize(&l, &n), CAMRTC_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK(l.pkt[0].first_of_frame && !l.pkt[0].keyframe && l.pkt[0].marker);
    camrtc_pc_packets_free(&l);
}

/* Protect an RTP packet as the master would, for the viewer (keys: we are the client). */
static size_t protect_rtp(camrtc_srtp *tx, uint8_t *out, size_t cap, int pt, uint16_t seq, uint32_t ts,
                          bool marker, const uint8_t *payload, size_t len)
{
    camrtc_rtp_header h;
    memset(&h, 0, sizeof h);
    h.pt = (uint8_t)pt;
    h.seq = seq;
    h.ts = ts;
    h.ssrc = 0x1234;
    h.marker = marker;
    int hl = camrtc_rtp_write_header(&h, out, cap);
    memcpy(out + hl, payload, len);
    int n = camrtc_srtp_protect(tx, out, (size_t)hl + len, cap);
    return n > 0 ? (size_t)n : 0;
}

/* A sender and a receiver (seeds seed, seed + 1), negotiated, with SRTP keys installed in
 * one of them (the sender when key_sender, else the receiver) and *tx an SRTP sender on
 * the other side's keys, for feeding it packets by hand. false when any step failed. */
static bool keyed_pair(peer *m, peer *v, uint64_t seed, bool key_sender, camrtc_srtp **tx)
{
    if (peer_init(m, CAMRTC_PC_SENDER, seed) != CAMRTC_OK ||
        peer_init(v, CAMRTC_PC_RECEIVER, seed + 1) != CAMRTC_OK || negotiate(m, v) != CAMRTC_OK)
        return false;
    camrtc_srtp_keying k = test_keys();
    camrtc_pc *keyed = key_sender ? m->pc : v->pc;
    return pc_install_keys(keyed, &k, key_sender) == CAMRTC_OK &&
           camrtc_srtp_new(tx, &k, !key_sender, CAMRTC_SRTP_SEND, NULL) == CAMRTC_OK;
}

TEST(receive_path_turns_srtp_into_frames)
{
    peer m, v;
    camrtc_srtp *tx = NULL;
    CHECK(keyed_pair(&m, &v, 6, false, &tx));
    int pt = camrtc_pc_payload_type(v.pc);
    /* One IDR frame as a single NAL unit packet (first_mb_in_slice 0: ue(v) "1"). */
    static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x21, 0x43};
    uint8_t pkt[256];
    size_t n = protect_rtp(tx, pkt, sizeof pkt, pt, 100, 90000, true, idr, sizeof idr);
    CHECK(n > 0);
    pc_handle_data(v.pc, 2000, pkt, n);
    CHECK_EQ_INT(v.frames, 1);
    /* No SPS/PPS came before it (issue 6, finding 1: the STAP-A was lost): the IDR cannot
     * be decoded, and the viewer asks for another at once. */
    CHECK_EQ_INT(v.decodable, 0);
    camrtc_pc_stats s;
    camrtc_pc_get_stats(v.pc, &s);
    CHECK_EQ_INT(s.pli_sent, 1);
    CHECK_EQ_INT(v.last_len, 4 + sizeof idr);
    CHECK_EQ_MEM(v.last_frame + 4, idr, sizeof idr);
    /* A replay of the same packet is an SRTP error; a wrong payload type is dropped. */
    pc_handle_data(v.pc, 2000, pkt, n);
    n = protect_rtp(tx, pkt, sizeof pkt, pt + 1 == 128 ? 0 : pt + 1, 101, 93000, true, idr, sizeof idr);
    pc_handle_data(v.pc, 2000, pkt, n);
    camrtc_pc_get_stats(v.pc, &s);
    CHECK_EQ_INT(s.srtp_errors, 1);
    CHECK_EQ_INT(s.rtp_wrong_pt, 1);
    CHECK_EQ_INT(s.frames_received, 1);
    CHECK_EQ_INT(s.packets_received, 1);
    /* Packet 101 was never delivered (wrong pt), 102 arrives: a hole that is NACKed.
     * The NACK goes nowhere (no ICE pair) but is counted. */
    n = protect_rtp(tx, pkt, sizeof pkt, pt, 102, 96000, true, idr, sizeof idr);
    pc_handle_data(v.pc, 3000, pkt, n);
    camrtc_pc_handle_timeout(v.pc, CAMRTC_MS(200));
    camrtc_pc_get_stats(v.pc, &s);
    CHECK(s.nack_sent >= 1);
    CHECK(s.nack_seqs_sent >= 1);
    camrtc_srtp_free(tx);
    peer_free(&m);
    peer_free(&v);
}

TEST(sender_handles_feedback_and_starts_on_keyframe)
{
    peer m, v;
    CHECK_EQ_INT(peer_init(&m, CAMRTC_PC_SENDER, 8), CAMRTC_OK);
    CHECK_EQ_INT(peer_init(&v, CAMRTC_PC_RECEIVER, 9), CAMRTC_OK);
    CHECK_EQ_INT(negotiate(&m, &v), CAMRTC_OK);
    /* Before keys nothing goes out. */
    static const uint8_t p1[] = {0x41, 0x9a, 0x02};
    camrtc_nal n = {.data = p1, .len = sizeof p1, .type = 1, .last_of_frame = true};
    CHECK_EQ_INT(camrtc_pc_send_nal(m.pc, 2000, &n), 0);
    camrtc_pc_stats s;
    camrtc_pc_get_stats(m.pc, &s);
    CHECK_EQ_INT(s.nals_dropped_not_ready, 1);
    camrtc_srtp_keying k = test_keys();
    CHECK_EQ_INT(pc_install_keys(m.pc, &k, true), CAMRTC_OK);
    /* Feedback from the viewer (server keys). */
    camrtc_srtp *tx = NULL;
    CHECK_EQ_INT(camrtc_srtp_new(&tx, &k, false, CAMRTC_SRTP_SEND, NULL), CAMRTC_OK);
    uint8_t b[256];
    int len = camrtc_rtcp_write_pli(b, sizeof b - 32, 0x99, m.pc->ssrc);
    CHECK(len > 0);
    len = camrtc_srtp_protect_rtcp(tx, b, (size_t)len, sizeof b);
    pc_handle_data(m.pc, 3000, b, (size_t)len);
    CHECK_EQ_INT(m.keyframe_wanted, 1);
    uint16_t lost[] = {5, 6};
    len = camrtc_rtcp_write_nack(b, sizeof b - 32, 0x99, m.pc->ssrc, lost, 2);
    len = camrtc_srtp_protect_rtcp(tx, b, (size_t)len, sizeof b);
    pc_handle_data(m.pc, 3000, b, (size_t)len);
    /* An RR whose LSR is our SR time 20 ms ago, DLSR 5 ms: RTT 15 ms. */
    camrtc_time_us t_sr = CAMRTC_SEC(10);
    camrtc_rtcp_rb rb = {.ssrc = m.pc->ssrc, .fraction_lost = 12, .cumulative_lost = 3,
                         .lsr = camrtc_rtcp_ntp_mid(pc_ntp(t_sr)), .dlsr = 5 * 65536 / 1000};
    len = camrtc_rtcp_write_rr(b, sizeof b - 32, 0x99, &rb, 1);
    len = camrtc_srtp_protect_rtcp(tx, b, (size_t)len, sizeof b);
    pc_handle_data(m.pc, t_sr + CAMRTC_MS(20), b, (size_t)len);
    /* Garbage that authenticates: an RTCP packet with a broken length. */
    static const uint8_t bad[] = {0x80, 200, 0x00, 0x40, 0, 0, 0, 1};
    memcpy(b, bad, sizeof bad);
    len = camrtc_srtp_protect_rtcp(tx, b, sizeof bad, sizeof b);
    if (len > 0)
        pc_handle_data(m.pc, t_sr + CAMRTC_MS(21), b, (size_t)len);
    /* Connected (white box: no network here): non-IDR frames wait for a keyframe. */
    m.pc->state = CAMRTC_PC_CONNECTED;
    m.pc->need_keyframe = true;
    CHECK_EQ_INT(camrtc_pc_send_nal(m.pc, t_sr + CAMRTC_MS(22), &n), 0);
    CHECK(m.pc->need_keyframe);
    static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x21};
    camrtc_nal key = {.data = idr, .len = sizeof idr, .type = 5, .keyframe = true, .last_of_frame = true};
    camrtc_pc_send_nal(m.pc, t_sr + CAMRTC_MS(23), &key);   /* ICE has no pair: not sent, but started */
    CHECK(!m.pc->need_keyframe);
    camrtc_pc_get_stats(m.pc, &s);
    CHECK_EQ_INT(s.nals_dropped_wait_key, 1);
    CHECK_EQ_INT(s.pli_count, 1);
    CHECK_EQ_INT(s.nack_count, 1);
    CHECK_EQ_INT(s.nack_seqs, 2);
    CHECK_EQ_INT(s.nack_misses, 2);
    CHECK_EQ_INT(s.rr_received, 1);
    CHECK_EQ_INT(s.fraction_lost, 12);
    CHECK_EQ_INT(s.remote_packets_lost, 3);
    CHECK(s.round_trip_time >= CAMRTC_MS(14) && s.round_trip_time <= CAMRTC_MS(16));
    CHECK(len <= 0 || s.rtcp_malformed == 1);
    camrtc_srtp_free(tx);
    peer_free(&m);
    peer_free(&v);
}

/* Issue 6, finding 4: a gap given up while the last PLI is younger than pli_interval
 * leaves the jitter buffer's PLI pending; when an IDR has come and decoded meanwhile,
 * that PLI is no longer wanted (it brought a second IDR after every blackout). */
TEST(a_pending_pli_is_dropped_once_an_idr_repaired_the_picture)
{
    peer m, v;
    camrtc_srtp *tx = NULL;
    CHECK(keyed_pair(&m, &v, 12, false, &tx));
    int pt = camrtc_pc_payload_type(v.pc);
    static const uint8_t stap[] = {0x78, 0, 4, 0x67, 0x42, 0xe0, 0x1f, 0, 2, 0x68, 0xce};
    static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x21}, p_slice[] = {0x41, 0x9a, 0x02};
    struct { camrtc_time_us at; uint16_t seq; uint32_t ts; bool marker; const uint8_t *pl; size_t len; } in[] = {
        {CAMRTC_MS(1), 100, 0, false, stap, sizeof stap},
        {CAMRTC_MS(1), 101, 0, true, idr, sizeof idr},
        {CAMRTC_MS(40), 103, 3000, true, p_slice, sizeof p_slice},      /* 102 lost */
        {CAMRTC_MS(300), 105, 9000, true, p_slice, sizeof p_slice},     /* 104 lost */
        {CAMRTC_MS(600), 106, 12000, false, stap, sizeof stap},         /* the IDR asked for */
        {CAMRTC_MS(600), 107, 12000, true, idr, sizeof idr},
    };
    camrtc_pc_stats s;
    uint8_t pkt[256];
    /* Every 10 ms of virtual time up to 1 s: the packets due, then the timeout. */
    size_t next = 0;
    for (camrtc_time_us t = 0; t <= CAMRTC_SEC(1); t += CAMRTC_MS(10)) {
        for (; next < sizeof in / sizeof in[0] && in[next].at <= t; next++) {
            size_t n = protect_rtp(tx, pkt, sizeof pkt, pt, in[next].seq, in[next].ts, in[next].marker, in[next].pl,
                                   in[next].len);
            CHECK(n > 0);
            pc_handle_data(v.pc, t, pkt, n);
        }
        v.pc->now = t;              /* white box: ICE has no pair here and would fail */
        pc_recv_timeout(v.pc, t);
        camrtc_pc_get_stats(v.pc, &s);
        if (t == CAMRTC_MS(290))
            CHECK_EQ_INT(s.pli_sent, 1);   /* 102 given up at 240 ms */
    }
    camrtc_pc_get_stats(v.pc, &s);
    CHECK_EQ_INT(s.frames_received, 4);
    CHECK_EQ_INT(s.frames_decodable, 2);
    CHECK_EQ_INT(s.packets_lost, 2);
    CHECK_EQ_INT(s.pli_sent, 1);
    camrtc_srtp_free(tx);
    peer_free(&m);
    peer_free(&v);
}

/* Issue 6, finding 3: a NACK is answered with at most PC_NACK_RESEND_MAX packets, and a
 * seq asked again before a resend could have arrived (max(RTT, 10 ms)) is not resent
 * again: after an outage a receiver's repeated NACKs brought a flood. */
TEST(sender_resends_each_nacked_seq_once_per_rtt_and_bounds_a_burst)
{
    peer m, v;
    camrtc_srtp *tx = NULL;
    CHECK(keyed_pair(&m, &v, 10, true, &tx));
    /* Connected (white box): an IDR of over 100 packets goes into the history (ICE has no
     * pair, so nothing leaves, but everything is recorded and "resent"). */
    m.pc->state = CAMRTC_PC_CONNECTED;
    m.pc->need_keyframe = false;
    static uint8_t idr[120 * 1100];   /* about 113 packets */
    for (size_t i = 0; i < sizeof idr; i++)
        idr[i] = (uint8_t)(i * 7 + 1);
    idr[0] = 0x65;
    uint16_t first = m.pc->seq;
    camrtc_nal key = {.data = idr, .len = sizeof idr, .type = 5, .keyframe = true, .last_of_frame = true};
    camrtc_time_us t = CAMRTC_SEC(5);
    camrtc_pc_send_nal(m.pc, t, &key);
    uint16_t sent = (uint16_t)(m.pc->seq - first);
    CHECK(sent >= 100 && sent < 130);
    uint16_t seqs[100];
    for (int i = 0; i < 100; i++)
        seqs[i] = (uint16_t)(first + i);
    uint8_t b[PC_RTCP_MAX];
    camrtc_pc_stats s;
    /* The whole frame NACKed three times: at once, 5 ms later, 20 ms later. */
    static const int at_ms[3] = {1, 6, 21};
    static const uint64_t repeats[3] = {0, 64, 64}, over[3] = {36, 36 + 0, 36 + 0 + 36};
    for (int r = 0; r < 3; r++) {
        int len = camrtc_rtcp_write_nack(b, sizeof b - 32, 0x99, m.pc->ssrc, seqs, 100);
        CHECK(len > 0);
        len = camrtc_srtp_protect_rtcp(tx, b, (size_t)len, sizeof b);
        CHECK(len > 0);
        pc_handle_data(m.pc, t + CAMRTC_MS(at_ms[r]), b, (size_t)len);
        camrtc_pc_get_stats(m.pc, &s);
        CHECK_EQ_INT(s.nack_count, (uint64_t)r + 1);
        CHECK_EQ_INT(s.nack_repeats, repeats[r]);
        CHECK_EQ_INT(s.nack_over_limit, over[r]);
        CHECK_EQ_INT(s.nack_misses, 0);
    }
    /* The second NACK resent the 36 the first left out (64 crossed it); the third, 20 ms
     * on, all again, the first 64 of them. */
    CHECK_EQ_INT(s.nack_seqs, 300);
    camrtc_srtp_free(tx);
    peer_free(&m);
    peer_free(&v);
}

/* Protect the RTCP packet b[0..len) as the viewer would and hand it to the master. */
static void feed_rtcp(camrtc_pc *pc, camrtc_srtp *tx, camrtc_time_us now, uint8_t *b, size_t cap, int len)
{
    CHECK(len > 0);
    if (len <= 0)
        return;
    len = camrtc_srtp_protect_rtcp(tx, b, (size_t)len, cap);
    CHECK(len > 0);
    if (len > 0)
        pc_handle_data(pc, now, b, (size_t)len);
}

static void feed_pli(peer *m, camrtc_srtp *tx, camrtc_time_us now)
{
    uint8_t b[128];
    feed_rtcp(m->pc, tx, now, b, sizeof b, camrtc_rtcp_write_pli(b, sizeof b - 32, 0x99, m->pc->ssrc));
}

static void feed_fir(peer *m, camrtc_srtp *tx, camrtc_time_us now, uint32_t from, uint8_t seq_nr)
{
    uint8_t b[128];
    feed_rtcp(m->pc, tx, now, b, sizeof b, camrtc_rtcp_write_fir(b, sizeof b - 32, from, m->pc->ssrc, seq_nr));
}

/* An RR about our stream that makes the RTT rtt: it echoes our SR time of a second ago
 * with DLSR 10 ms, and arrives at now. */
static void feed_rr_rtt(peer *m, camrtc_srtp *tx, camrtc_time_us now, camrtc_time_us rtt)
{
    uint8_t b[128];
    camrtc_time_us dlsr = CAMRTC_MS(10), t_sr = now - rtt - dlsr;
    camrtc_rtcp_rb rb = {.ssrc = m->pc->ssrc, .lsr = camrtc_rtcp_ntp_mid(pc_ntp(t_sr)),
                         .dlsr = (uint32_t)(dlsr * 65536 / 1000000)};
    feed_rtcp(m->pc, tx, now, b, sizeof b, camrtc_rtcp_write_rr(b, sizeof b - 32, 0x99, &rb, 1));
}

/* A keyed master, connected (white box: ICE has no pair, so nothing leaves, but a sent
 * IDR counts as begun), that has sent no IDR yet. */
static bool connected_master(peer *m, peer *v, uint64_t seed, camrtc_srtp **tx)
{
    if (!keyed_pair(m, v, seed, true, tx))
        return false;
    m->pc->state = CAMRTC_PC_CONNECTED;
    m->pc->need_keyframe = true;
    return true;
}

static void send_idr(peer *m, camrtc_time_us now)
{
    static const uint8_t idr[] = {0x65, 0x88, 0x84, 0x21};
    camrtc_nal key = {.data = idr, .len = sizeof idr, .type = 5, .keyframe = true, .last_of_frame = true};
    camrtc_pc_send_nal(m->pc, now, &key);
    CHECK(!m->pc->need_keyframe);
}

/* A PLI the viewer sent before our IDR reached it arrives within about one RTT of the
 * IDR going out (max(RTT + 10 ms, 20 ms), pc_int.h): the IDR answers it and the encoder
 * is not asked for another (RFC 4585 section 6.3.1). A later PLI asks for one as before. */
TEST(a_pli_crossing_the_idr_in_flight_is_ignored_and_a_later_one_answered)
{
    peer m, v;
    camrtc_srtp *tx = NULL;
    CHECK(connected_master(&m, &v, 30, &tx));
    camrtc_pc_stats s;
    /* RTT 50 ms from an RR: the window is 60 ms. */
    feed_rr_rtt(&m, tx, CAMRTC_SEC(2), CAMRTC_MS(50));
    camrtc_pc_get_stats(m.pc, &s);
    CHECK(s.round_trip_time >= CAMRTC_MS(49) && s.round_trip_time <= CAMRTC_MS(51));
    /* Before any IDR went out a PLI is answered. */
    feed_pli(&m, tx, CAMRTC_SEC(2) + 1);
    CHECK_EQ_INT(m.keyframe_wanted, 1);
    camrtc_time_us t1 = CAMRTC_SEC(3);
    send_idr(&m, t1);
    feed_pli(&m, tx, t1 + CAMRTC_MS(40));   /* crossed the IDR: ignored */
    CHECK_EQ_INT(m.keyframe_wanted, 1);
    feed_pli(&m, tx, t1 + CAMRTC_MS(55));   /* so did this one */
    CHECK_EQ_INT(m.keyframe_wanted, 1);
    feed_pli(&m, tx, t1 + CAMRTC_MS(65));   /* sent after the IDR reached the viewer */
    CHECK_EQ_INT(m.keyframe_wanted, 2);
    camrtc_pc_get_stats(m.pc, &s);
    CHECK_EQ_INT(s.pli_count, 4);
    CHECK_EQ_INT(s.pli_ignored, 2);
    /* On a LAN (RTT 2 ms) the floor of 20 ms holds. */
    camrtc_time_us t2 = CAMRTC_SEC(5);
    feed_rr_rtt(&m, tx, t2 - CAMRTC_MS(100), CAMRTC_MS(2));
    send_idr(&m, t2);
    feed_pli(&m, tx, t2 + CAMRTC_MS(15));
    CHECK_EQ_INT(m.keyframe_wanted, 2);
    feed_pli(&m, tx, t2 + CAMRTC_MS(25));
    CHECK_EQ_INT(m.keyframe_wanted, 3);
    camrtc_pc_get_stats(m.pc, &s);
    CHECK_EQ_INT(s.pli_count, 6);
    CHECK_EQ_INT(s.pli_ignored, 3);
    camrtc_srtp_free(tx);
    peer_free(&m);
    peer_free(&v);
}

/* With no RTT measured yet (no RR, no ICE pair) the window is the default RTT (100 ms)
 * plus the slack: a PLI 105 ms after the IDR is still taken as crossing it. */
TEST(with_the_rtt_unknown_a_pli_crossing_the_idr_uses_the_default_window)
{
    peer m, v;
    camrtc_srtp *tx = NULL;
    CHECK(connected_master(&m, &v, 32, &tx));
    camrtc_time_us t1 = CAMRTC_SEC(3);
    send_idr(&m, t1);
    feed_pli(&m, tx, t1 + CAMRTC_MS(105));
    camrtc_pc_stats s;
    camrtc_pc_get_stats(m.pc, &s);
    CHECK_EQ_INT(s.round_trip_time, 0);
    CHECK_EQ_INT(m.keyframe_wanted, 0);
    CHECK_EQ_INT(s.pli_ignored, 1);
    feed_pli(&m, tx, t1 + CAMRTC_MS(115));
    CHECK_EQ_INT(m.keyframe_wanted, 1);
    camrtc_pc_get_stats(m.pc, &s);
    CHECK_EQ_INT(s.pli_count, 2);
    CHECK_EQ_INT(s.pli_ignored, 1);
    camrtc_srtp_free(tx);
    peer_free(&m);
    peer_free(&v);
}

/* FIR (RFC 5104 section 4.3.1.1): a repetition keeps the Seq nr of its request and is not
 * answered again; a new Seq nr, or the same from another sender SSRC (its own number
 * space), is a new request, answered even just after an IDR. */
TEST(a_repeated_fir_is_ignored_and_a_new_seq_nr_answered)
{
    peer m, v;
    camrtc_srtp *tx = NULL;
    CHECK(connected_master(&m, &v, 34, &tx));
    camrtc_time_us t = CAMRTC_SEC(3);
    feed_fir(&m, tx, t, 0x99, 7);
    CHECK_EQ_INT(m.keyframe_wanted, 1);
    send_idr(&m, t + CAMRTC_MS(30));
    feed_fir(&m, tx, t + CAMRTC_MS(40), 0x99, 7);    /* repeated: the IDR answers it */
    feed_fir(&m, tx, t + CAMRTC_SEC(2), 0x99, 7);    /* however late */
    CHECK_EQ_INT(m.keyframe_wanted, 1);
    send_idr(&m, t + CAMRTC_SEC(3));
    feed_fir(&m, tx, t + CAMRTC_SEC(3) + CAMRTC_MS(5), 0x99, 8);
    CHECK_EQ_INT(m.keyframe_wanted, 2);
    feed_fir(&m, tx, t + CAMRTC_SEC(3) + CAMRTC_MS(6), 0x77, 8);
    CHECK_EQ_INT(m.keyframe_wanted, 3);
    feed_fir(&m, tx, t + CAMRTC_SEC(3) + CAMRTC_MS(7), 0x77, 8);
    CHECK_EQ_INT(m.keyframe_wanted, 3);
    camrtc_pc_stats s;
    camrtc_pc_get_stats(m.pc, &s);
    CHECK_EQ_INT(s.fir_count, 6);
    CHECK_EQ_INT(s.fir_ignored, 3);
    CHECK_EQ_INT(s.pli_ignored, 0);
    camrtc_srtp_free(tx);
    peer_free(&m);
    peer_free(&v);
}

TEST(state_names_and_role)
{
    CHECK_EQ_STR(camrtc_pc_state_name(CAMRTC_PC_CONNECTED), "connected");
    CHECK_EQ_STR(camrtc_pc_state_name(CAMRTC_PC_FAILED), "failed");
    CHECK_EQ_STR(camrtc_pc_state_name((camrtc_pc_state)42), "?");
    peer v;
    CHECK_EQ_INT(peer_init(&v, CAMRTC_PC_RECEIVER, 10), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pc_get_role(v.pc), CAMRTC_PC_RECEIVER);
    CHECK_EQ_INT(camrtc_pc_get_state(v.pc), CAMRTC_PC_NEW);
    static const uint8_t p1[] = {0x41, 0x9a, 0x02};
    camrtc_nal n = {.data = p1, .len = sizeof p1, .type = 1, .last_of_frame = true};
    CHECK_EQ_INT(camrtc_pc_send_nal(v.pc, 2000, &n), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_pc_close(v.pc, 2000), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_pc_get_state(v.pc), CAMRTC_PC_CLOSED);
    peer_free(&v);
    camrtc_pc *pc = NULL;
    camrtc_pc_config bad = {0};
    CHECK_EQ_INT(camrtc_pc_new(&pc, &bad, &io, NULL), CAMRTC_EINVAL);
}

int main(void)
{
    return RUN_TESTS(sdp_glue_negotiates_h264_and_roles, bad_sdp_is_refused_and_counted,
                     demux_sends_each_class_to_its_counter, packet_list_is_shared_and_flags_frames,
                     receive_path_turns_srtp_into_frames, sender_handles_feedback_and_starts_on_keyframe,
                     sender_resends_each_nacked_seq_once_per_rtt_and_bounds_a_burst,
                     a_pending_pli_is_dropped_once_an_idr_repaired_the_picture,
                     a_pli_crossing_the_idr_in_flight_is_ignored_and_a_later_one_answered,
                     with_the_rtt_unknown_a_pli_crossing_the_idr_uses_the_default_window,
                     a_repeated_fir_is_ignored_and_a_new_seq_nr_answered, state_names_and_role);
}
