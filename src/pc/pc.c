/* The peer connection: lifecycle, SDP glue, ICE and DTLS wiring, and the RFC 7983
 * demultiplexer (pc.h). Sending is in pc_send.c, receiving in pc_recv.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/demux.h"
#include "camrtc/error.h"
#include "pc_int.h"

#define PC_MOD "pc"

static const char *const state_names[] = {"new", "connecting", "connected", "disconnected", "failed", "closed"};

const char *camrtc_pc_state_name(camrtc_pc_state s)
{
    return (unsigned)s <= CAMRTC_PC_CLOSED ? state_names[s] : "?";
}

void pc_emit(camrtc_pc *pc, const camrtc_pc_event *ev)
{
    if (pc->io.event)
        pc->io.event(pc->user, ev);
}

void pc_set_state(camrtc_pc *pc, camrtc_pc_state s, int error)
{
    if (pc->state == s || pc->state == CAMRTC_PC_CLOSED)
        return;
    /* FAILED is final except for close. */
    if (pc->state == CAMRTC_PC_FAILED && s != CAMRTC_PC_CLOSED)
        return;
    pc->state = s;
    if (s == CAMRTC_PC_CONNECTED && !pc->st.connected_at)
        pc->st.connected_at = pc->now;
    camrtc_pc_event ev = {.type = CAMRTC_PC_EV_STATE, .state = s, .error = error};
    pc_emit(pc, &ev);
}

/* Connected needs both a selected ICE pair and SRTP keys. */
static void update_state(camrtc_pc *pc)
{
    bool ice_up = pc->ice_state == CAMRTC_ICE_CONNECTED || pc->ice_state == CAMRTC_ICE_COMPLETED;
    if (pc->ice_state == CAMRTC_ICE_FAILED)
        pc_set_state(pc, CAMRTC_PC_FAILED, CAMRTC_ETIMEDOUT);
    else if (pc->ice_state == CAMRTC_ICE_DISCONNECTED && pc->state == CAMRTC_PC_CONNECTED)
        pc_set_state(pc, CAMRTC_PC_DISCONNECTED, 0);
    else if (ice_up && pc->srtp_tx && pc->srtp_rx)
        pc_set_state(pc, CAMRTC_PC_CONNECTED, 0);
}

/* ---- DTLS ------------------------------------------------------------------------------- */

int pc_install_keys(camrtc_pc *pc, const camrtc_srtp_keying *k, bool local_is_client)
{
    camrtc_srtp_free(pc->srtp_tx);
    camrtc_srtp_free(pc->srtp_rx);
    pc->srtp_tx = pc->srtp_rx = NULL;
    /* Plain NACK resends reuse the sequence number: the history holds plaintext and the
     * send session allows repeats (srtp.h). */
    int rc = camrtc_srtp_new(&pc->srtp_tx, k, local_is_client, CAMRTC_SRTP_SEND, NULL);
    if (rc == CAMRTC_OK)
        rc = camrtc_srtp_new(&pc->srtp_rx, k, local_is_client, CAMRTC_SRTP_RECV, NULL);
    if (rc != CAMRTC_OK) {
        camrtc_srtp_free(pc->srtp_tx);
        pc->srtp_tx = NULL;
        return rc;
    }
    pc->next_report = pc->now + pc->cfg.report_interval;
    return CAMRTC_OK;
}

static void dtls_send(void *user, const uint8_t *data, size_t len)
{
    camrtc_pc *pc = user;
    camrtc_ice_send(pc->ice, pc->now, data, len);
}

static void dtls_event(void *user, const camrtc_dtls_event *ev)
{
    camrtc_pc *pc = user;
    switch (ev->type) {
    case CAMRTC_DTLS_EV_CONNECTED:
        if (!ev->keys || pc_install_keys(pc, ev->keys, pc->dtls_client) != CAMRTC_OK) {
            pc_set_state(pc, CAMRTC_PC_FAILED, CAMRTC_ECRYPTO);
            return;
        }
        CAMRTC_LOGD(pc->cfg.log, PC_MOD, "timeline: DTLS connected");
        /* Every connection starts on a keyframe (issue 6 item 4): the newest one the
         * fan-out holds, sent before CONNECTED is announced, or a new one asked for. With
         * no selected pair (not expected once DTLS is through) nothing could go out. */
        bool ice_up = pc->ice_state == CAMRTC_ICE_CONNECTED || pc->ice_state == CAMRTC_ICE_COMPLETED;
        if (pc->cfg.role == CAMRTC_PC_SENDER && !(ice_up && pc_send_join(pc, pc->now)))
            pc->need_keyframe = true;
        update_state(pc);
        if (pc->need_keyframe) {
            camrtc_pc_event k = {.type = CAMRTC_PC_EV_KEYFRAME_WANTED};
            pc_emit(pc, &k);
        }
        if (pc->cfg.role == CAMRTC_PC_SENDER && pc->st.join_packets_sent)
            CAMRTC_LOGD(pc->cfg.log, PC_MOD, "timeline: started from the held IDR (%llu packets)",
                        (unsigned long long)pc->st.join_packets_sent);
        break;
    case CAMRTC_DTLS_EV_DATA:
        pc->st.dropped_demux++;   /* data channels do not exist yet */
        break;
    case CAMRTC_DTLS_EV_CLOSED:
        pc_set_state(pc, CAMRTC_PC_CLOSED, 0);
        break;
    case CAMRTC_DTLS_EV_FAILED:
        if (pc->cfg.log)
            CAMRTC_LOGW(pc->cfg.log, PC_MOD, "DTLS failed: %s", ev->reason ? ev->reason : "?");
        pc_set_state(pc, CAMRTC_PC_FAILED, ev->error);
        break;
    }
}

static int dtls_create(camrtc_pc *pc)
{
    /* "sha-256 AB:CD:..." from the negotiated bytes. */
    char fp[8 + 3 * CAMRTC_SDP_MAX_FINGERPRINT + 1];
    const camrtc_sdp_fingerprint *f = &pc->neg.remote_fingerprint;
    if (strcmp(f->alg, "sha-256") != 0 || f->len != 32)
        return CAMRTC_EUNSUPPORTED;
    size_t o = (size_t)snprintf(fp, sizeof fp, "sha-256 ");
    for (size_t i = 0; i < f->len; i++)
        o += (size_t)snprintf(fp + o, sizeof fp - o, i ? ":%02X" : "%02X", f->hash[i]);
    pc->dtls_client = pc->neg.dtls_client;
    camrtc_dtls_config dc = {
        .role = pc->dtls_client ? CAMRTC_DTLS_CLIENT : CAMRTC_DTLS_SERVER,
        .cert = pc->cfg.cert,
        .remote_fingerprint = fp,
        .rng = pc->cfg.rng,
    };
    camrtc_dtls_callbacks cb = {.send = dtls_send, .event = dtls_event, .user = pc};
    return camrtc_dtls_new(&pc->dtls, &dc, &cb);
}

/* ---- demultiplexing (RFC 7983 section 7) ----------------------------------------------- */

/* PLI names the media source in its header (RFC 4585 section 6.3.1); FIR in its entries
 * (RFC 5104 section 4.3.1.2). Only a sender has keyframes to give. */
static bool asks_us_for_keyframe(const camrtc_pc *pc, const camrtc_rtcp_packet *p)
{
    if (pc->cfg.role != CAMRTC_PC_SENDER)
        return false;
    if (p->kind == CAMRTC_RTCP_K_PLI)
        return p->media_ssrc == pc->ssrc;
    for (unsigned i = 0; i < p->u.fir.n; i++)
        if (p->u.fir.entry[i].ssrc == pc->ssrc)
            return true;
    return false;
}

static void on_rtcp(camrtc_pc *pc, camrtc_time_us now, uint8_t *pkt, size_t len)
{
    int n = camrtc_srtp_unprotect_rtcp(pc->srtp_rx, pkt, len);
    if (n < 0) {
        pc->st.srtp_errors++;
        return;
    }
    pc->st.rtcp_received++;
    camrtc_rtcp_iter it;
    camrtc_rtcp_iter_init(&it, pkt, (size_t)n);
    camrtc_rtcp_packet p;
    int rc;
    while ((rc = camrtc_rtcp_iter_next(&it, &p)) == 1) {
        switch (p.kind) {
        case CAMRTC_RTCP_K_SR:
            pc->st.sr_received++;
            pc_on_sr(pc, now, &p);
            for (unsigned i = 0; i < p.u.sr.n_rb; i++)
                pc_on_rr_block(pc, now, &p.u.sr.rb[i]);
            break;
        case CAMRTC_RTCP_K_RR:
            pc->st.rr_received++;
            for (unsigned i = 0; i < p.u.rr.n_rb; i++)
                pc_on_rr_block(pc, now, &p.u.rr.rb[i]);
            break;
        case CAMRTC_RTCP_K_NACK:
            if (p.media_ssrc == pc->ssrc)
                pc_on_nack(pc, now, &p);
            break;
        case CAMRTC_RTCP_K_PLI:
        case CAMRTC_RTCP_K_FIR:
            if (asks_us_for_keyframe(pc, &p))
                pc_on_keyframe_request(pc, now, &p);
            break;
        case CAMRTC_RTCP_K_REMB:
            pc->st.remb_bps = p.u.remb.bitrate_bps;
            break;
        case CAMRTC_RTCP_K_TWCC:
            pc->st.twcc_feedback++;
            break;
        default:
            break;
        }
    }
    if (rc < 0)
        pc->st.rtcp_malformed++;
}

void pc_handle_data(camrtc_pc *pc, camrtc_time_us now, const uint8_t *data, size_t len)
{
    pc->now = now;
    switch (camrtc_demux_classify_packet(data, len)) {
    case CAMRTC_DEMUX_DTLS:
        if (!pc->dtls) {
            pc->st.dropped_dtls++;
            return;
        }
        camrtc_dtls_handle_input(pc->dtls, now, data, len);
        return;
    case CAMRTC_DEMUX_RTP:
    case CAMRTC_DEMUX_RTCP:
        break;
    default:
        pc->st.dropped_demux++;
        return;
    }
    if (!pc->srtp_rx || len > PC_PKT_MAX || pc->state == CAMRTC_PC_CLOSED) {
        pc->st.dropped_demux++;
        return;
    }
    /* SRTP works in place: copy to our scratch buffer. */
    memcpy(pc->scratch, data, len);
    if (camrtc_demux_classify_packet(data, len) == CAMRTC_DEMUX_RTCP)
        on_rtcp(pc, now, pc->scratch, len);
    else
        pc_on_rtp(pc, now, pc->scratch, len);
}

/* ---- ICE --------------------------------------------------------------------------------- */

static void ice_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    camrtc_pc *pc = user;
    if (pc->io.send_udp)
        pc->io.send_udp(pc->user, sock, to, data, len);
}

static void ice_open_stream(void *user, int stream, const camrtc_addr *to, bool tls)
{
    camrtc_pc *pc = user;
    if (pc->io.open_stream)
        pc->io.open_stream(pc->user, stream, to, tls);
}

static void ice_send_stream(void *user, int stream, const uint8_t *data, size_t len)
{
    camrtc_pc *pc = user;
    if (pc->io.send_stream)
        pc->io.send_stream(pc->user, stream, data, len);
}

static void ice_close_stream(void *user, int stream)
{
    camrtc_pc *pc = user;
    if (pc->io.close_stream)
        pc->io.close_stream(pc->user, stream);
}

static int ice_open_udp(void *user, const camrtc_addr *local)
{
    camrtc_pc *pc = user;
    return pc->io.open_udp ? pc->io.open_udp(pc->user, local) : CAMRTC_EUNSUPPORTED;
}

static void ice_state(camrtc_pc *pc, camrtc_ice_state st)
{
    pc->ice_state = st;
    bool up = st == CAMRTC_ICE_CONNECTED || st == CAMRTC_ICE_COMPLETED;
    /* The DTLS client speaks first once a pair is selected (RFC 8842 section 5). */
    if (up && pc->dtls && pc->dtls_client && camrtc_dtls_get_state(pc->dtls) == CAMRTC_DTLS_NEW) {
        CAMRTC_LOGD(pc->cfg.log, PC_MOD, "timeline: DTLS ClientHello");
        camrtc_dtls_start(pc->dtls, pc->now);
    }
    update_state(pc);
}

static void ice_event(void *user, const camrtc_ice_event *ev)
{
    camrtc_pc *pc = user;
    switch (ev->type) {
    case CAMRTC_ICE_EV_CANDIDATE: {
        char line[CAMRTC_ICE_CANDIDATE_STRLEN];
        const char *l = ev->line;
        if (!l) {
            camrtc_ice_candidate_format(ev->cand, line, sizeof line);
            l = line;
        }
        camrtc_pc_event e = {.type = CAMRTC_PC_EV_CANDIDATE, .line = l};
        pc_emit(pc, &e);
        break;
    }
    case CAMRTC_ICE_EV_GATHERING_DONE: {
        camrtc_pc_event e = {.type = CAMRTC_PC_EV_GATHERING_DONE};
        pc_emit(pc, &e);
        break;
    }
    case CAMRTC_ICE_EV_STATE:
        ice_state(pc, ev->state);
        break;
    case CAMRTC_ICE_EV_DATA:
        pc_handle_data(pc, pc->now, ev->data, ev->len);
        break;
    default:
        break;
    }
}

static const camrtc_ice_io pc_ice_io = {
    .send_udp = ice_send_udp,
    .open_stream = ice_open_stream,
    .send_stream = ice_send_stream,
    .close_stream = ice_close_stream,
    .event = ice_event,
    .open_udp = ice_open_udp,
};

/* ---- lifecycle --------------------------------------------------------------------------- */

int camrtc_pc_new(camrtc_pc **out, const camrtc_pc_config *cfg, const camrtc_pc_io *io, void *user)
{
    if (!out || !cfg || !cfg->cert || !cfg->rng || !io)
        return CAMRTC_EINVAL;
    *out = NULL;
    int rc = camrtc_srtp_library_init();
    if (rc != CAMRTC_OK)
        return rc;
    camrtc_pc *pc = calloc(1, sizeof *pc);
    if (!pc)
        return CAMRTC_ENOMEM;
    pc->cfg = *cfg;
    pc->io = *io;
    pc->user = user;
    snprintf(pc->cname, sizeof pc->cname, "%s", cfg->cname ? cfg->cname : "camrtc");
    pc->cfg.cname = pc->cname;
    if (!pc->cfg.mtu)
        pc->cfg.mtu = CAMRTC_H264_DEFAULT_MTU;
    if (!pc->cfg.report_interval)
        pc->cfg.report_interval = CAMRTC_PC_DEFAULT_REPORT_INTERVAL;
    if (!pc->cfg.pli_interval)
        pc->cfg.pli_interval = CAMRTC_MS(500);
    pc->cfg.ice.controlling = cfg->role == CAMRTC_PC_RECEIVER;   /* the offerer controls */
    pc->ssrc = cfg->ssrc;
    while (!pc->ssrc)
        camrtc_rng_bytes(cfg->rng, &pc->ssrc, sizeof pc->ssrc);
    uint16_t seq0;
    camrtc_rng_bytes(cfg->rng, &seq0, sizeof seq0);
    pc->seq = seq0 & 0x7fff;   /* room before a wrap, as RFC 3550 section 5.1 allows */
    camrtc_rng_bytes(cfg->rng, &pc->ts_offset, sizeof pc->ts_offset);
    pc->next_report = CAMRTC_TIME_NEVER;

    char fp[CAMRTC_CERT_FINGERPRINT_SIZE];
    rc = camrtc_cert_fingerprint_sha256(cfg->cert->cert_der, cfg->cert->cert_len, fp, sizeof fp);
    if (rc == CAMRTC_OK)
        rc = camrtc_dtls_parse_fingerprint(fp, pc->fingerprint);
    if (rc == CAMRTC_OK) {
        pc->ice = camrtc_ice_new(&pc->cfg.ice, &pc_ice_io, pc, cfg->rng, cfg->log);
        if (!pc->ice)
            rc = CAMRTC_ENOMEM;
    }
    if (rc == CAMRTC_OK)
        rc = cfg->role == CAMRTC_PC_SENDER ? pc_send_init(pc) : pc_recv_init(pc);
    if (rc != CAMRTC_OK) {
        camrtc_pc_free(pc);
        return rc;
    }
    *out = pc;
    return CAMRTC_OK;
}

void camrtc_pc_free(camrtc_pc *pc)
{
    if (!pc)
        return;
    camrtc_ice_free(pc->ice);
    camrtc_dtls_free(pc->dtls);
    camrtc_srtp_free(pc->srtp_tx);
    camrtc_srtp_free(pc->srtp_rx);
    camrtc_sdp_free(pc->offer);
    camrtc_sdp_free(pc->answer);
    pc_send_free(pc);
    pc_recv_free(pc);
    free(pc);
}

int camrtc_pc_add_host(camrtc_pc *pc, camrtc_time_us now, int sock, const camrtc_addr *local)
{
    pc->now = now;
    return camrtc_ice_add_host(pc->ice, now, sock, local);
}

int camrtc_pc_add_server(camrtc_pc *pc, camrtc_time_us now, const camrtc_ice_server *srv)
{
    pc->now = now;
    return camrtc_ice_add_server(pc->ice, now, srv);
}

camrtc_ice_agent *camrtc_pc_ice(camrtc_pc *pc)
{
    return pc->ice;
}

/* ---- SDP ----------------------------------------------------------------------------------- */

static void fill_local(camrtc_pc *pc, camrtc_sdp_local *l)
{
    memset(l, 0, sizeof *l);
    l->ice_ufrag = camrtc_ice_local_ufrag(pc->ice);
    l->ice_pwd = camrtc_ice_local_pwd(pc->ice);
    l->fingerprint = pc->fingerprint;
    l->trickle = true;
    l->sess_id = pc->ssrc;
    l->cname = pc->cname;
    l->video_ssrc = pc->ssrc;
    /* Plain NACK resends on the media SSRC (no RTX); these are the feedback types we
     * act on. */
    l->no_rtx = true;
    l->feedback = CAMRTC_SDP_FB_NACK | CAMRTC_SDP_FB_PLI | CAMRTC_SDP_FB_FIR | CAMRTC_SDP_FB_REMB |
                  CAMRTC_SDP_FB_TWCC;
    l->extensions = CAMRTC_SDP_NONE;
    l->h264_profiles = pc->cfg.h264_profiles;
    l->h264_max_level = pc->cfg.h264_max_level;
    /* Our packetizer uses STAP-A and FU-A: mode 1 only. */
    l->h264_no_mode0 = true;
}

/* Negotiation done: hand the remote transport parameters to ICE, create DTLS. */
static int apply_remote(camrtc_pc *pc, camrtc_time_us now)
{
    const camrtc_sdp_negotiated *n = &pc->neg;
    int rc = dtls_create(pc);
    if (rc != CAMRTC_OK)
        return rc;
    rc = camrtc_ice_set_remote_credentials(pc->ice, now, n->remote_ufrag, n->remote_pwd);
    if (rc < 0)
        return rc;
    pc->negotiated = true;
    if (n->transport) {
        for (size_t i = 0; i < n->transport->n_candidates; i++)
            camrtc_pc_add_remote_candidate(pc, now, n->transport->candidates[i]);
        if (n->transport->end_of_candidates)
            camrtc_ice_remote_end_of_candidates(pc->ice, now);
    }
    pc_set_state(pc, CAMRTC_PC_CONNECTING, 0);
    return CAMRTC_OK;
}

/* Once negotiated, only pc->neg's values are needed: free the two parsed descriptions
 * (about 270 KB together) and forget neg's pointers into them. */
static void drop_descriptions(camrtc_pc *pc)
{
    camrtc_sdp_free(pc->offer);
    camrtc_sdp_free(pc->answer);
    pc->offer = pc->answer = NULL;
    pc->neg.remote_ufrag = pc->neg.remote_pwd = NULL;
    pc->neg.transport = NULL;
    pc->neg.video_mid = NULL;
}

static int start_gathering(camrtc_pc *pc, camrtc_time_us now)
{
    if (pc->gathering)
        return CAMRTC_OK;
    pc->gathering = true;
    return camrtc_ice_gather(pc->ice, now);
}

int camrtc_pc_create_offer(camrtc_pc *pc, camrtc_time_us now, camrtc_buf *out)
{
    if (pc->cfg.role != CAMRTC_PC_RECEIVER || pc->offer || pc->negotiated)
        return CAMRTC_ESTATE;
    pc->now = now;
    camrtc_sdp_offer_config oc;
    memset(&oc, 0, sizeof oc);
    fill_local(pc, &oc.local);
    oc.video_direction = CAMRTC_SDP_RECVONLY;
    int rc = camrtc_sdp_create_offer(&oc, &pc->offer);
    if (rc == CAMRTC_OK)
        rc = camrtc_sdp_write(pc->offer, out);
    if (rc == CAMRTC_OK)
        rc = start_gathering(pc, now);
    return rc;
}

static void set_reason(char *reason, size_t reasonsz, const char *text)
{
    if (reason && reasonsz)
        snprintf(reason, reasonsz, "%s", text);
}

int camrtc_pc_set_answer(camrtc_pc *pc, camrtc_time_us now, const char *sdp, size_t len, char *reason,
                         size_t reasonsz)
{
    if (pc->cfg.role != CAMRTC_PC_RECEIVER || !pc->offer || pc->answer)
        return CAMRTC_ESTATE;
    pc->now = now;
    int rc = camrtc_sdp_parse(sdp, len, &pc->answer, reason, reasonsz);
    if (rc == CAMRTC_OK)
        rc = camrtc_sdp_accept_answer(pc->offer, pc->answer, &pc->neg, reason, reasonsz);
    if (rc == CAMRTC_OK && !pc->neg.video) {
        rc = CAMRTC_EUNSUPPORTED;
        set_reason(reason, reasonsz, "no video accepted");
    }
    if (rc == CAMRTC_OK) {
        rc = apply_remote(pc, now);
        if (rc != CAMRTC_OK)
            set_reason(reason, reasonsz, "bad transport parameters");
    }
    if (rc != CAMRTC_OK) {
        pc->st.sdp_errors++;
        camrtc_sdp_free(pc->answer);
        pc->answer = NULL;
        camrtc_dtls_free(pc->dtls);
        pc->dtls = NULL;
    } else {
        drop_descriptions(pc);
    }
    return rc;
}

int camrtc_pc_answer_offer(camrtc_pc *pc, camrtc_time_us now, const char *sdp, size_t len, camrtc_buf *out,
                           char *reason, size_t reasonsz)
{
    if (pc->cfg.role != CAMRTC_PC_SENDER || pc->offer || pc->negotiated)
        return CAMRTC_ESTATE;
    pc->now = now;
    int rc = camrtc_sdp_parse(sdp, len, &pc->offer, reason, reasonsz);
    if (rc == CAMRTC_OK) {
        camrtc_sdp_answer_config ac;
        memset(&ac, 0, sizeof ac);
        fill_local(pc, &ac.local);
        ac.video_send = true;
        ac.setup = CAMRTC_SDP_SETUP_ACTIVE;   /* like the KVS SDKs: the master is DTLS client */
        rc = camrtc_sdp_answer(pc->offer, &ac, &pc->answer, &pc->neg, reason, reasonsz);
    }
    if (rc == CAMRTC_OK && !pc->neg.video) {
        rc = CAMRTC_EUNSUPPORTED;
        set_reason(reason, reasonsz, "no video accepted");
    }
    if (rc == CAMRTC_OK)
        rc = apply_remote(pc, now);
    if (rc == CAMRTC_OK)
        rc = camrtc_sdp_write(pc->answer, out);
    if (rc == CAMRTC_OK)
        rc = start_gathering(pc, now);
    if (rc != CAMRTC_OK && !pc->negotiated) {
        pc->st.sdp_errors++;
        camrtc_sdp_free(pc->offer);
        camrtc_sdp_free(pc->answer);
        pc->offer = pc->answer = NULL;
        camrtc_dtls_free(pc->dtls);
        pc->dtls = NULL;
    } else if (rc == CAMRTC_OK) {
        drop_descriptions(pc);
    }
    return rc;
}

int camrtc_pc_add_remote_candidate(camrtc_pc *pc, camrtc_time_us now, const char *line)
{
    pc->now = now;
    if (!line || !*line)
        return camrtc_ice_remote_end_of_candidates(pc->ice, now);
    camrtc_ice_candidate c;
    int rc = camrtc_ice_candidate_parse(&c, line);
    if (rc != CAMRTC_OK) {
        pc->st.bad_candidates++;
        return rc;
    }
    return camrtc_ice_add_remote_candidate(pc->ice, now, &c);
}

/* ---- I/O and timers ------------------------------------------------------------------------ */

int camrtc_pc_udp_input(camrtc_pc *pc, camrtc_time_us now, int sock, const camrtc_addr *from,
                        const uint8_t *data, size_t len)
{
    pc->now = now;
    return camrtc_ice_udp_input(pc->ice, now, sock, from, data, len);
}

static camrtc_time_us min_t(camrtc_time_us a, camrtc_time_us b)
{
    return a < b ? a : b;
}

camrtc_time_us camrtc_pc_next_timeout(const camrtc_pc *pc)
{
    camrtc_time_us t = camrtc_ice_next_timeout(pc->ice);
    if (pc->state == CAMRTC_PC_CLOSED || pc->state == CAMRTC_PC_FAILED)
        return t;
    if (pc->dtls)
        t = min_t(t, camrtc_dtls_next_timeout(pc->dtls));
    if (pc->srtp_tx)
        t = min_t(t, pc->next_report);
    if (pc->cfg.role == CAMRTC_PC_RECEIVER)
        t = min_t(t, pc_recv_next_timeout(pc));
    return t;
}

int camrtc_pc_handle_timeout(camrtc_pc *pc, camrtc_time_us now)
{
    pc->now = now;
    camrtc_ice_handle_timeout(pc->ice, now);
    if (pc->state == CAMRTC_PC_CLOSED || pc->state == CAMRTC_PC_FAILED)
        return CAMRTC_OK;
    if (pc->dtls && camrtc_dtls_next_timeout(pc->dtls) <= now)
        camrtc_dtls_handle_timeout(pc->dtls, now);
    if (pc->cfg.role == CAMRTC_PC_RECEIVER)
        pc_recv_timeout(pc, now);
    if (pc->srtp_tx && pc->next_report <= now) {
        /* RFC 3550 section 6.2 wants the interval randomised (0.5..1.5); a fixed one is
         * fine for one sender and one receiver, and keeps simulations simple. */
        pc->next_report = now + pc->cfg.report_interval;
        if (pc->cfg.role == CAMRTC_PC_SENDER)
            pc_send_report_sr(pc, now);
        else
            pc_send_report_rr(pc, now);
    }
    return CAMRTC_OK;
}

int camrtc_pc_close(camrtc_pc *pc, camrtc_time_us now)
{
    pc->now = now;
    if (pc->state == CAMRTC_PC_CLOSED) {
        /* Closed by the peer's close_notify: our ICE side (consent, TURN allocations)
         * still has to be shut down. camrtc_ice_close is idempotent. */
        camrtc_ice_close(pc->ice, now);
        return CAMRTC_OK;
    }
    if (pc->srtp_tx && pc->state == CAMRTC_PC_CONNECTED) {
        uint8_t bye[64];
        int n = camrtc_rtcp_write_bye(bye, sizeof bye - CAMRTC_SRTP_MAX_OVERHEAD, &pc->ssrc, 1);
        if (n > 0)
            pc_send_rtcp(pc, bye, (size_t)n);
    }
    if (pc->dtls)
        camrtc_dtls_close(pc->dtls, now);
    camrtc_ice_close(pc->ice, now);
    pc_set_state(pc, CAMRTC_PC_CLOSED, 0);
    return CAMRTC_OK;
}

camrtc_pc_state camrtc_pc_get_state(const camrtc_pc *pc)
{
    return pc->state;
}

camrtc_pc_role camrtc_pc_get_role(const camrtc_pc *pc)
{
    return pc->cfg.role;
}

int camrtc_pc_payload_type(const camrtc_pc *pc)
{
    return pc->negotiated ? pc->neg.video_pt : -1;
}

void camrtc_pc_get_stats(const camrtc_pc *pc, camrtc_pc_stats *out)
{
    *out = pc->st;
    if (pc->jitter) {
        const camrtc_jitter_stats *j = camrtc_jitter_get_stats(pc->jitter);
        out->packets_lost = j->lost;
        out->packets_duplicated = j->duplicates;
    }
}
