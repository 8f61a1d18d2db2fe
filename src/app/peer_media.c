/* Video for `camrtc master` and `camrtc viewer` (peer_media.h).
 *
 * One "session" per peer connection: the pcuv, the description it waits for, and the
 * candidates that arrive or leave too early. Order on the signaling channel matters
 * (KVS relays messages in order): our candidates are gathered while the description is
 * being made, so they wait until the SDP_OFFER/SDP_ANSWER is sent; remote candidates
 * wait until the remote description is applied. The status line and the stats file are
 * in peer_stats.c; the state both share is in peer_media_int.h.
 */
#include "app/peer_media.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "camrtc/buf.h"
#include "camrtc/cert.h"
#include "camrtc/crypto.h"
#include "camrtc/error.h"
#include "camrtc/media.h"
#include "camrtc/pcuv.h"
#include "camrtc/pipeline.h"
#include "camrtc/rand.h"
#include "camrtc/rtp_history.h"
#include "camrtc/sdp.h"
#include "camrtc/srtp.h"
#include "camrtc/time.h"

#include "app/peer_media_int.h"

static const char MOD[] = "media";

/* ---- pending candidates ------------------------------------------------------------------ */

static void pending_push(pending *p, const char *line)
{
    if (p->n >= MAX_PENDING) {
        p->dropped++;
        return;
    }
    char *copy = line ? strdup(line) : NULL;
    if (line && !copy) {
        p->dropped++;
        return;
    }
    p->line[p->n++] = copy;
}

static void pending_clear(pending *p)
{
    for (unsigned i = 0; i < p->n; i++)
        free(p->line[i]);
    p->n = 0;
}

/* ---- signaling out -------------------------------------------------------------------------- */

/* To client_id at a master; a viewer's messages go to the master whatever it says. */
static void send_json(peer_media *m, const char *client_id, camrtc_sigmsg_type type, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text || !m->client) {
        free(text);
        return;
    }
    int rc = camrtc_sigclient_send(m->client, type, m->o.viewer ? NULL : client_id, text, strlen(text), NULL, 0);
    if (rc < 0)
        CAMRTC_LOGW(m->log, MOD, "cannot send %s: %s", camrtc_sigmsg_type_name(type), camrtc_strerror(rc));
    free(text);
}

static void send_description(peer_media *m, const char *client_id, const char *type, const char *sdp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    cJSON_AddStringToObject(o, "sdp", sdp);
    send_json(m, client_id, m->o.viewer ? CAMRTC_SIGMSG_SDP_OFFER : CAMRTC_SIGMSG_SDP_ANSWER, o);
}

/* A local candidate as KVS and browsers carry it (KVS-PROTOCOL.md: candidate, sdpMid,
 * sdpMLineIndex). End-of-candidates is not sent: KVS peers do not expect it. */
static void send_candidate(peer_media *m, session *s, const char *line)
{
    if (!line)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "candidate", line);
    cJSON_AddStringToObject(o, "sdpMid", "0");
    cJSON_AddNumberToObject(o, "sdpMLineIndex", 0);
    send_json(m, s->client_id, CAMRTC_SIGMSG_ICE_CANDIDATE, o);
}

/* Our description went out: the candidates gathered meanwhile follow it. */
static void described(peer_media *m, session *s)
{
    s->described = true;
    for (unsigned i = 0; i < s->out.n; i++)
        send_candidate(m, s, s->out.line[i]);
    pending_clear(&s->out);
}

/* The remote description is applied: the candidates that came early can be used. */
static void remote_set(session *s)
{
    s->remote_set = true;
    for (unsigned i = 0; i < s->in.n && s->pc; i++)
        camrtc_pcuv_add_remote_candidate(s->pc, s->in.line[i]);
    pending_clear(&s->in);
}

/* ---- refusing a viewer -------------------------------------------------------------------- */

/* Random ice-chars (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/"), n - 1 of them and a NUL. */
static void random_ice_chars(camrtc_rng *rng, char *out, size_t n)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i + 1 < n; i++)
        out[i] = chars[camrtc_rng_uniform(rng, sizeof chars - 1)];
    out[n - 1] = '\0';
}

/* Tell a refused viewer at once, rather than leave it waiting for a timeout: an answer
 * that rejects every m= line of its offer (camrtc_sdp_reject_offer). No pc exists for
 * it: the ICE credentials are random text and the fingerprint our certificate's, there
 * only because aiortc checks both on every section, rejected or not. */
static void send_refusal(peer_media *m, const char *client_id, const camrtc_sdp *offer)
{
    uint8_t fp[CAMRTC_SHA256_LEN];
    char ufrag[9], pwd[25];
    random_ice_chars(&m->rng, ufrag, sizeof ufrag);
    random_ice_chars(&m->rng, pwd, sizeof pwd);
    camrtc_sdp_local l = {.ice_ufrag = ufrag, .ice_pwd = pwd, .fingerprint = fp};
    camrtc_sdp *answer = NULL;
    camrtc_buf b = {0};
    int rc = camrtc_sha256(m->cert.cert_der, m->cert.cert_len, fp);
    if (rc == CAMRTC_OK)
        rc = camrtc_sdp_reject_offer(offer, &l, &answer);
    if (rc == CAMRTC_OK)
        rc = camrtc_sdp_write(answer, &b);
    const char *text = rc == CAMRTC_OK ? camrtc_buf_cstr(&b) : NULL;
    if (text) {
        send_description(m, client_id, "answer", text);
        CAMRTC_LOGD(m->log, MOD, "timeline: %s: refusal sent (every m= line rejected)", client_id);
    } else {
        CAMRTC_LOGW(m->log, MOD, "viewer %s: cannot make the refusing answer: %s", client_id,
                    camrtc_strerror(rc < 0 ? rc : CAMRTC_ENOMEM));
    }
    camrtc_sdp_free(answer);
    camrtc_buf_free(&b);
}

/* The same from the offer's text; an offer that does not parse has no m= line to reject
 * and gets no answer. */
static void send_refusal_text(peer_media *m, const char *client_id, const char *sdp)
{
    camrtc_sdp *offer = NULL;
    if (sdp && camrtc_sdp_parse(sdp, strlen(sdp), &offer, NULL, 0) == CAMRTC_OK)
        send_refusal(m, client_id, offer);
    camrtc_sdp_free(offer);
}

/* ---- sessions -------------------------------------------------------------------------------- */

static void session_free(session *s)
{
    pending_clear(&s->out);
    pending_clear(&s->in);
    free(s->offer);
    free(s);
}

static void session_close(session *s)
{
    if (s->closing)
        return;
    s->closing = true;
    camrtc_pcuv_close(s->pc);
}

static void finish_stop(peer_media *m);

static void on_pc_close(camrtc_pcuv *p, void *ud)
{
    session *s = ud;
    peer_media *m = s->m;
    camrtc_pcuv_get_stats(p, &s->last);
    s->net = *camrtc_pcuv_net_stats(p);
    s->pc = NULL;
    for (session **pp = &m->live; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    m->nlive--;
    if (s->client_id[0])
        CAMRTC_LOGI(m->log, MOD, "viewer %s closed (%u left)", s->client_id, m->nlive);
    if (m->nended < MAX_ENDED) {
        s->next = m->ended;
        m->ended = s;
        m->nended++;
    } else {
        session_free(s);
    }
    if (m->stopping && !m->live)
        finish_stop(m);
}

static void on_pc_event(camrtc_pcuv *p, void *ud, const camrtc_pc_event *ev)
{
    session *s = ud;
    peer_media *m = s->m;
    const char *who = s->client_id[0] ? s->client_id : "master";
    switch (ev->type) {
    case CAMRTC_PC_EV_STATE:
        s->state = ev->state;
        s->turn_moves = camrtc_ice_get_stats(camrtc_pc_ice(camrtc_pcuv_pc(p)))->turn_moves;
        CAMRTC_LOGI(m->log, MOD, "%s: %s%s%s", who, camrtc_pc_state_name(ev->state),
                    ev->state == CAMRTC_PC_FAILED ? ": " : "", ev->state == CAMRTC_PC_FAILED ? camrtc_strerror(ev->error) : "");
        if (ev->state == CAMRTC_PC_CONNECTED) {
            s->connected_at = camrtc_now_us();
            camrtc_ice_candidate l, r;
            if (camrtc_ice_get_selected(camrtc_pc_ice(camrtc_pcuv_pc(p)), &l, &r) == CAMRTC_OK) {
                camrtc_ice_candidate_format(&l, s->local_cand, sizeof s->local_cand);
                camrtc_ice_candidate_format(&r, s->remote_cand, sizeof s->remote_cand);
            }
            /* A new viewer starts on an IDR: the pc sent the newest one held already
             * (camrtc_pc_config.fanout), or it asked for one (KEYFRAME_WANTED). */
            camrtc_pc_stats st;
            camrtc_pcuv_get_stats(p, &st);
            if (st.packets_sent && !s->first_rtp_at) {
                s->first_rtp_at = s->connected_at;
                CAMRTC_LOGD(m->log, MOD, "timeline: %s: first RTP sent (held IDR)", who);
            }
        } else if (ev->state == CAMRTC_PC_FAILED || ev->state == CAMRTC_PC_CLOSED) {
            session_close(s);   /* the remote said goodbye, or it failed: freed from on_pc_close */
        }
        break;
    case CAMRTC_PC_EV_CANDIDATE:
        if (s->described)
            send_candidate(m, s, ev->line);
        else
            pending_push(&s->out, ev->line);
        break;
    case CAMRTC_PC_EV_GATHERING_DONE:
        break;
    case CAMRTC_PC_EV_KEYFRAME_WANTED:
        CAMRTC_LOGD(m->log, MOD, "timeline: %s: keyframe wanted", who);
        if (m->pipe)
            camrtc_pipeline_force_idr(m->pipe);
        break;
    case CAMRTC_PC_EV_FRAME: {
        camrtc_time_us now = camrtc_now_us();
        if (!s->first_frame_at) {
            s->first_frame_at = now;
            CAMRTC_LOGD(m->log, MOD, "timeline: first frame (complete %d, decodable %d)", ev->frame->complete,
                        ev->frame->decodable);
        }
        if (ev->frame->complete)
            peer_stats_frame_latency(m, ev->frame->data, ev->frame->len, now);
        if (m->out && fwrite(ev->frame->data, 1, ev->frame->len, m->out) != ev->frame->len)
            CAMRTC_LOGW(m->log, MOD, "cannot write %s", m->o.out);
        break;
    }
    }
}

/* Sockets are bound: the viewer offers, the master answers the offer it holds. */
static void on_pc_ready(camrtc_pcuv *p, void *ud)
{
    session *s = ud;
    peer_media *m = s->m;
    camrtc_buf b;
    if (camrtc_buf_init(&b, 0, 16384) != CAMRTC_OK) {
        session_close(s);
        return;
    }
    char reason[160] = "";
    int rc;
    if (m->o.viewer) {
        rc = camrtc_pcuv_create_offer(p, &b);
    } else {
        rc = camrtc_pcuv_answer_offer(p, s->offer, strlen(s->offer), &b, reason, sizeof reason);
        if (rc < 0 && rc != CAMRTC_ENOMEM)
            send_refusal_text(m, s->client_id, s->offer);   /* e.g. no fingerprint, no rtcp-mux */
        free(s->offer);
        s->offer = NULL;
    }
    char *sdp = rc == CAMRTC_OK ? camrtc_buf_cstr(&b) : NULL;
    if (!sdp) {
        /* e.g. a viewer that offers no H.264 profile our encoder produces */
        CAMRTC_LOGW(m->log, MOD, "refusing %s: %s%s%s", s->client_id[0] ? s->client_id : "the answer",
                    camrtc_strerror(rc < 0 ? rc : CAMRTC_ENOMEM), reason[0] ? ": " : "", reason);
        m->refused += !m->o.viewer;
        camrtc_buf_free(&b);
        session_close(s);
        return;
    }
    send_description(m, s->client_id, m->o.viewer ? "offer" : "answer", sdp);
    CAMRTC_LOGD(m->log, MOD, "timeline: %s sent", m->o.viewer ? "offer" : "answer");
    camrtc_buf_free(&b);
    described(m, s);
    if (!m->o.viewer)
        remote_set(s);
}

static const camrtc_pcuv_callbacks pc_cb = {.on_ready = on_pc_ready, .on_event = on_pc_event, .on_close = on_pc_close};

/* The lowest H.264 level whose limits (ITU-T H.264 Table A-1: frame size and macroblock
 * rate) fit the picture, so that the encoder and the SDP answer say the same thing. */
static int h264_level_for(int width, int height, int fps)
{
    static const struct { int level; long max_fs, max_mbps; } levels[] = {
        {31, 3600, 108000}, {32, 5120, 216000}, {40, 8192, 245760}, {42, 8704, 522240},
        {50, 22080, 589824}, {51, 36864, 983040}, {52, 36864, 2073600},
    };
    long mbs = (long)((width + 15) / 16) * ((height + 15) / 16);
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (mbs <= levels[i].max_fs && mbs * fps <= levels[i].max_mbps)
            return levels[i].level;
    return 52;
}

/* "3.1", or "1b". */
static const char *level_name(int level, char *buf, size_t n)
{
    if (level == CAMRTC_SDP_H264_LEVEL_1B)
        return "1b";
    unsigned v = (unsigned)level % 100;         /* level_idc is 10..62 (H.264 Table A-1) */
    snprintf(buf, n, "%u.%u", v / 10, v % 10);
    return buf;
}

/* The encoder's name for a profile the SDP side chose (CONSTRAINED_BASELINE, MAIN, HIGH). */
static camrtc_h264_profile encoder_profile(camrtc_sdp_h264_profile p)
{
    return p == CAMRTC_SDP_H264_MAIN ? CAMRTC_H264_MAIN
         : p == CAMRTC_SDP_H264_HIGH ? CAMRTC_H264_HIGH : CAMRTC_H264_CONSTRAINED_BASELINE;
}

static session *session_new(peer_media *m, const char *client_id, unsigned h264_profiles)
{
    session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->m = m;
    snprintf(s->client_id, sizeof s->client_id, "%s", client_id);
    s->created_at = camrtc_now_us();
    camrtc_pc_config pc = {0};
    pc.role = m->o.viewer ? CAMRTC_PC_RECEIVER : CAMRTC_PC_SENDER;
    pc.cert = &m->cert;
    pc.log = m->log;
    pc.ice.policy = m->o.relay_only ? CAMRTC_ICE_POLICY_RELAY : CAMRTC_ICE_POLICY_ALL;
    /* Master: the labels of the encoder's profile this offer takes at the encoder's level
     * (plan_video), so the answer says what the stream is. Viewer: what it offers. */
    pc.h264_profiles = h264_profiles;
    pc.h264_max_level = m->level;
    if (!m->o.viewer)
        pc.fanout = &m->pkts;   /* start from the newest IDR every viewer got */
    camrtc_iceuv_config net = {.ca_file = m->o.ca_file, .log = m->log};
    if (camrtc_pcuv_new(m->loop, &pc, &net, &pc_cb, s, &s->pc) != CAMRTC_OK) {
        free(s);
        return NULL;
    }
    if (m->ice)
        camrtc_pcuv_add_kvs_servers(s->pc, m->ice);
    s->next = m->live;
    m->live = s;
    m->nlive++;
    return s;
}

static session *find_live(peer_media *m, const char *client_id)
{
    for (session *s = m->live; s; s = s->next)
        if (!s->closing && strcmp(s->client_id, client_id) == 0)
            return s;
    return NULL;
}

unsigned peer_media_count_active(const peer_media *m)
{
    unsigned n = 0;
    for (const session *s = m->live; s; s = s->next)
        n += !s->closing;
    return n;
}

/* ---- the pipeline (master) ------------------------------------------------------------------- */

/* Every NAL is packetized once, whether or not anyone watches (the packetizer keeps
 * SPS/PPS for the STAP-A before the IDR), and the same packets go to every viewer. */
static void on_nal(void *user, const camrtc_nal *nal)
{
    peer_media *m = user;
    if (nal->type == 7)   /* SPS: an IDR access unit begins */
        CAMRTC_LOGD(m->log, MOD, "timeline: IDR (frame %llu) out of the encoder", (unsigned long long)nal->frame_id);
    if (camrtc_pc_packetize(&m->pkts, nal) == CAMRTC_OK &&
        camrtc_pc_packets_store(&m->pkts, camrtc_now_us()) == CAMRTC_OK)   /* for viewers yet to connect */
        for (session *s = m->live; s; s = s->next)
            if (!s->closing && s->state == CAMRTC_PC_CONNECTED &&
                camrtc_pcuv_send_packets(s->pc, &m->pkts) > 0 && !s->first_rtp_at) {
                s->first_rtp_at = camrtc_now_us();   /* packets flow from a keyframe on (pc.h) */
                CAMRTC_LOGD(m->log, MOD, "timeline: %s: first RTP sent", s->client_id);
            }
    camrtc_pipeline_release(m->pipe, nal);
}

/* ---- public ----------------------------------------------------------------------------------- */

peer_media *peer_media_new(uv_loop_t *loop, const camrtc_log *log, const peer_media_opts *o, char *err,
                           size_t errsz)
{
    peer_media *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    m->loop = loop;
    m->log = log;
    m->o = *o;
    if (!m->o.max_viewers)
        m->o.max_viewers = DEFAULT_MAX_VIEWERS;
    m->started_at = camrtc_now_us();
    if (camrtc_rng_init(&m->rng) != CAMRTC_OK) {
        snprintf(err, errsz, "no entropy");
        free(m);
        return NULL;
    }
    /* One NACK history for all viewers, sized for the encoder's bitrate (the default's,
     * 2.5 Mbit/s, when not given); a viewer sends no video and needs none. */
    camrtc_rtp_history_config hist = {0};
    if (o->bitrate_kbps > 0)
        hist.max_bytes = camrtc_rtp_history_bytes_for((uint64_t)o->bitrate_kbps * 1000, CAMRTC_RTP_HISTORY_DEFAULT_AGE);
    /* libsrtp's one-time setup runs its self-tests (about 30 ms): do it now, like the
     * certificate, rather than inside the first viewer's connection. */
    if (camrtc_srtp_library_init() != CAMRTC_OK ||
        camrtc_cert_self_signed("camrtc", 30, &m->rng, &m->cert) != CAMRTC_OK ||
        camrtc_pc_packets_init(&m->pkts, 0) != CAMRTC_OK ||
        (!o->viewer && camrtc_pc_packets_share_history(&m->pkts, &hist) != CAMRTC_OK)) {
        snprintf(err, errsz, "cannot make the DTLS certificate");
        camrtc_cert_free(&m->cert);
        camrtc_rng_free(&m->rng);
        free(m);
        return NULL;
    }
    if (o->out && !(m->out = fopen(o->out, "wb"))) {
        snprintf(err, errsz, "cannot open %s for writing", o->out);
        peer_media_free(m);
        return NULL;
    }
    m->level = 52;   /* a viewer only stores the stream: it takes any level */
    if (!o->viewer) {
        camrtc_source_config src = {.spec = o->source ? o->source : "testsrc", .width = o->width,
                                    .height = o->height, .fps = o->fps};
        m->width = o->width ? o->width : 1280;
        m->height = o->height ? o->height : 720;
        m->fps = o->fps ? o->fps : 30;
        m->level = h264_level_for(m->width, m->height, m->fps);
        m->profile = o->h264_profile_set ? o->h264_profile : CAMRTC_SDP_H264_CONSTRAINED_BASELINE;
        camrtc_encoder_config enc = {.width = o->width, .height = o->height, .fps = o->fps,
                                     .bitrate_kbps = o->bitrate_kbps, .profile = encoder_profile(m->profile),
                                     .level_idc = m->level};
        if (camrtc_pipeline_new(loop, &src, &enc, on_nal, m, NULL, &m->pipe, err, errsz) != CAMRTC_OK) {
            peer_media_free(m);
            return NULL;
        }
    }
    uv_timer_init(loop, &m->status);
    m->status.data = m;
    m->status_open = true;
    uv_timer_start(&m->status, peer_stats_status_line, STATUS_MS, STATUS_MS);
    return m;
}

void peer_media_set_client(peer_media *m, camrtc_sigclient *c)
{
    m->client = c;
}

void peer_media_on_state(peer_media *m, const char *state)
{
    /* The viewer offers once, on its first connection to the signaling service. */
    if (!m->o.viewer || m->offered || m->stopping || strcmp(state, "connected") != 0)
        return;
    m->offered = true;
    /* --h264-profile: offer only that profile (high as constrained high, the one we offer). */
    unsigned profiles = 0;
    if (m->o.h264_profile_set)
        profiles = m->o.h264_profile == CAMRTC_SDP_H264_HIGH ? camrtc_sdp_h264_labels(CAMRTC_SDP_H264_HIGH)
                                                             : 1u << m->o.h264_profile;
    session *s = session_new(m, "", profiles);
    int rc = s ? camrtc_pcuv_start(s->pc) : CAMRTC_ENOMEM;
    if (rc < 0) {
        CAMRTC_LOGE(m->log, MOD, "cannot start the peer connection: %s", camrtc_strerror(rc));
        if (s)
            session_close(s);
    }
}

void peer_media_on_ice_config(peer_media *m, const camrtc_kvs_ice_config *c)
{
    if (!m->ice && !(m->ice = malloc(sizeof *m->ice)))
        return;
    *m->ice = *c;
}

/* The "payload" of a message as JSON (the client already checked and decoded it). */
static cJSON *payload_of(const camrtc_sigmsg *msg)
{
    camrtc_buf b = {0};
    cJSON *o = NULL;
    if (camrtc_sigmsg_get_payload_json(msg, &b) == 0)
        o = cJSON_ParseWithLength((const char *)camrtc_buf_data(&b), b.len);
    camrtc_buf_free(&b);
    return o;
}

/* "constrained-baseline 3.1, high 4.0": the H.264 the offer has that we could send. */
static void describe_offer(const int *lv, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int p = 0; p < CAMRTC_SDP_H264_OTHER && used + 1 < n; p++) {
        char l[8];
        if (lv[p]) {
            int k = snprintf(out + used, n - used, "%s%s %s", used ? ", " : "", camrtc_sdp_h264_profile_name(p),
                             level_name(lv[p], l, sizeof l));
            used = k > 0 && used + (size_t)k < n ? used + (size_t)k : n - 1;
        }
    }
    if (!used)
        snprintf(out, n, "none");
}

/* Say why the viewer is refused, and count it. */
static void refuse_video(peer_media *m, const char *from, const camrtc_sdp_h264_plan *plan, const int *lv)
{
    char offered[160], need[8], has[8];
    describe_offer(lv, offered, sizeof offered);
    m->refused++;
    switch (plan->verdict) {
    case CAMRTC_SDP_H264_REFUSE_BUSY:
        if (camrtc_pipeline_source_info(m->pipe)->encoded)
            CAMRTC_LOGW(m->log, MOD, "refusing viewer %s: its offer (H.264 %s) needs %s, and a pre-encoded "
                        "source cannot change profile", from, offered, camrtc_sdp_h264_profile_name(plan->encode));
        else
            CAMRTC_LOGW(m->log, MOD, "refusing viewer %s: its offer (H.264 %s) needs %s, but the one encoder "
                        "makes %s for %u other viewer(s)", from, offered,
                        camrtc_sdp_h264_profile_name(plan->encode), camrtc_sdp_h264_profile_name(m->profile),
                        peer_media_count_active(m));
        break;
    case CAMRTC_SDP_H264_REFUSE_LEVEL:
        CAMRTC_LOGW(m->log, MOD, "refusing viewer %s: its offer's highest H.264 level is %s (%s), below level %s "
                    "that %dx%d at %d fps needs", from, level_name(plan->offer_level, has, sizeof has), offered,
                    level_name(m->level, need, sizeof need), m->width, m->height, m->fps);
        break;
    default:
        CAMRTC_LOGW(m->log, MOD, "refusing viewer %s: its offer has no H.264 we can send (constrained-baseline, "
                    "baseline, main, constrained-high or high with packetization-mode=1)", from);
        break;
    }
}

/* Which profile this viewer is answered with (camrtc_sdp_h264_decide). One encoder feeds
 * every viewer, so a viewer gets only what it makes now; when the offer wants another
 * profile and nobody else is connected or connecting, the encoder switches first (from
 * its next picture, an IDR, on: camrtc_pipeline_set_profile). false when the viewer is
 * refused (logged and counted). */
static bool plan_video(peer_media *m, const char *from, const camrtc_sdp *offer, camrtc_sdp_h264_plan *plan)
{
    int lv[CAMRTC_SDP_H264_NPROFILES];
    camrtc_sdp_h264_offer_levels(offer, true, lv);   /* camrtc_pc answers packetization-mode 1 only */
    bool can_switch = peer_media_count_active(m) == 0 && !camrtc_pipeline_source_info(m->pipe)->encoded;
    camrtc_sdp_h264_decide(lv, m->profile, m->level, can_switch, plan);
    if (plan->verdict != CAMRTC_SDP_H264_KEEP && plan->verdict != CAMRTC_SDP_H264_SWITCH) {
        refuse_video(m, from, plan, lv);
        return false;
    }
    if (plan->verdict == CAMRTC_SDP_H264_SWITCH) {
        int rc = camrtc_pipeline_set_profile(m->pipe, encoder_profile(plan->encode));
        if (rc < 0) {
            m->refused++;
            CAMRTC_LOGW(m->log, MOD, "refusing viewer %s: cannot switch the encoder to %s: %s", from,
                        camrtc_sdp_h264_profile_name(plan->encode), camrtc_strerror(rc));
            return false;
        }
        CAMRTC_LOGI(m->log, MOD, "viewer %s: switching the encoder from %s to %s (no other viewer)", from,
                    camrtc_sdp_h264_profile_name(m->profile), camrtc_sdp_h264_profile_name(plan->encode));
        m->profile = plan->encode;
        camrtc_pc_packets_forget_keyframe(&m->pkts);   /* join from the new profile's IDR */
    }
    return true;
}

/* A viewer we serve: its own pc, started with the offer it answers once its sockets are
 * bound (on_pc_ready). */
static void take_viewer(peer_media *m, const char *from, const char *sdp, const camrtc_sdp_h264_plan *plan)
{
    session *s = session_new(m, from, plan->labels);
    if (s && !(s->offer = strdup(sdp))) {
        session_close(s);
        return;
    }
    int rc = s ? camrtc_pcuv_start(s->pc) : CAMRTC_ENOMEM;
    if (rc < 0) {
        CAMRTC_LOGW(m->log, MOD, "viewer %s: cannot start: %s", from, camrtc_strerror(rc));
        if (s)
            session_close(s);
        return;
    }
    CAMRTC_LOGI(m->log, MOD, "viewer %s: offer taken (%u viewers)", from, peer_media_count_active(m));
    /* Ask for the IDR now, not when the connection is up: the next capture tick and the
     * encode then overlap ICE and DTLS, and the pc starts from it once keyed. */
    if (m->pipe) {
        CAMRTC_LOGD(m->log, MOD, "timeline: %s: IDR requested (offer)", from);
        camrtc_pipeline_force_idr(m->pipe);
    }
}

/* An offer: a viewer we serve gets a pc; one we refuse (logged and counted) gets an
 * answer rejecting all it offered, and nothing else is kept for it. */
static void master_offer(peer_media *m, const char *from, const char *sdp)
{
    CAMRTC_LOGD(m->log, MOD, "timeline: %s: offer received", from);
    session *old = find_live(m, from);
    if (old) {   /* the viewer started over */
        CAMRTC_LOGI(m->log, MOD, "viewer %s offers again: replacing its connection", from);
        session_close(old);
    }
    camrtc_sdp *offer = NULL;
    char why[160] = "";
    if (camrtc_sdp_parse(sdp, strlen(sdp), &offer, why, sizeof why) != CAMRTC_OK) {
        m->refused++;
        CAMRTC_LOGW(m->log, MOD, "refusing viewer %s: its offer does not parse: %s", from, why);
        return;   /* no m= line to reject: nothing to answer */
    }
    camrtc_sdp_h264_plan plan;
    if (peer_media_count_active(m) >= m->o.max_viewers) {
        m->refused++;
        CAMRTC_LOGW(m->log, MOD, "refusing viewer %s: %u viewers already (--max-viewers)", from, m->o.max_viewers);
        send_refusal(m, from, offer);
    } else if (!plan_video(m, from, offer, &plan)) {
        send_refusal(m, from, offer);
    } else {
        take_viewer(m, from, sdp, &plan);
    }
    camrtc_sdp_free(offer);
}

/* Viewer: does the master's answer refuse us (every video m= line rejected, as
 * camrtc_sdp_reject_offer makes it)? Then say so, close, and let the caller stop now
 * rather than wait for media that will not come. */
static bool viewer_refused(peer_media *m, session *s, const char *sdp)
{
    camrtc_sdp *answer = NULL;
    bool all = false, refused = false;
    if (camrtc_sdp_parse(sdp, strlen(sdp), &answer, NULL, 0) == CAMRTC_OK)
        refused = camrtc_sdp_answer_rejects_video(answer, &all);
    camrtc_sdp_free(answer);
    if (!refused)
        return false;   /* camrtc_pcuv_set_answer reads it, or says what is wrong with it */
    m->refused_by_master = true;
    CAMRTC_LOGE(m->log, MOD, "the master refused this viewer (%s)", all ? "all media rejected" : "video rejected");
    session_close(s);
    if (m->o.on_refused)
        m->o.on_refused(m->o.ud);
    return true;
}

static void remote_candidate(peer_media *m, session *s, const cJSON *p)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "candidate");
    if (!cJSON_IsString(c))
        return;
    const char *line = c->valuestring[0] ? c->valuestring : NULL;   /* "" = end-of-candidates */
    if (s->remote_set && s->pc)
        camrtc_pcuv_add_remote_candidate(s->pc, line);
    else
        pending_push(&s->in, line);
    (void)m;
}

void peer_media_on_message(peer_media *m, const camrtc_sigmsg *msg)
{
    if (m->stopping)
        return;
    cJSON *p = payload_of(msg);
    const cJSON *sdp = cJSON_GetObjectItemCaseSensitive(p, "sdp");
    switch (msg->type) {
    case CAMRTC_SIGMSG_SDP_OFFER:
        if (!m->o.viewer && msg->peer_id[0] && cJSON_IsString(sdp))
            master_offer(m, msg->peer_id, sdp->valuestring);
        break;
    case CAMRTC_SIGMSG_SDP_ANSWER: {
        session *s = m->o.viewer ? find_live(m, "") : NULL;
        if (!s || !cJSON_IsString(sdp) || s->remote_set)
            break;
        char reason[160] = "";
        CAMRTC_LOGD(m->log, MOD, "timeline: answer received");
        if (viewer_refused(m, s, sdp->valuestring))
            break;
        int rc = camrtc_pcuv_set_answer(s->pc, sdp->valuestring, strlen(sdp->valuestring), reason, sizeof reason);
        if (rc < 0) {
            CAMRTC_LOGE(m->log, MOD, "the master's answer is refused: %s %s", camrtc_strerror(rc), reason);
            session_close(s);
        } else {
            remote_set(s);
        }
        break;
    }
    case CAMRTC_SIGMSG_ICE_CANDIDATE: {
        session *s = find_live(m, m->o.viewer ? "" : msg->peer_id);
        if (s)
            remote_candidate(m, s, p);
        break;
    }
    default:
        break;
    }
    cJSON_Delete(p);
}

static void finish_stop(peer_media *m)
{
    if (m->stopped)
        return;
    m->stopped = true;
    peer_stats_write(m);
    if (m->out) {
        fclose(m->out);
        m->out = NULL;
    }
    if (m->done)
        m->done(m->done_ud);
}

void peer_media_stop(peer_media *m, void (*done)(void *ud), void *ud)
{
    if (m->stopping)
        return;
    m->stopping = true;
    m->done = done;
    m->done_ud = ud;
    if (m->pipe)
        camrtc_pipeline_get_stats(m->pipe, &m->pipe_stats);
    camrtc_pipeline_free(m->pipe);
    m->pipe = NULL;
    if (m->status_open) {
        m->status_open = false;
        uv_close((uv_handle_t *)&m->status, NULL);
    }
    if (!m->live) {
        finish_stop(m);
        return;
    }
    for (session *s = m->live; s; s = s->next)
        session_close(s);
}

void peer_media_free(peer_media *m)
{
    if (!m)
        return;
    camrtc_pipeline_free(m->pipe);
    for (session *s = m->live; s;) {   /* only if the loop ended early */
        session *n = s->next;
        session_free(s);
        s = n;
    }
    for (session *s = m->ended; s;) {
        session *n = s->next;
        session_free(s);
        s = n;
    }
    if (m->out)
        fclose(m->out);
    free(m->ice);
    camrtc_pc_packets_free(&m->pkts);
    camrtc_cert_free(&m->cert);
    camrtc_rng_free(&m->rng);
    free(m->lat_us);
    free(m);
}
