/* The status line, the stats file (W3C webrtc-stats names, --stats-json) and the
 * viewer's latency samples of `camrtc master` / `camrtc viewer` (peer_media_int.h). */
#include "app/peer_media_int.h"

#include <stdlib.h>

#include <cjson/cJSON.h>

#include "camrtc/error.h"
#include "camrtc/media.h"
#include "camrtc/sdp.h"

static const char MOD[] = "media";

/* Frame latency from the encoder's SEI stamp (camrtc_h264_read_camrtc_sei). */
typedef struct lat_scan {
    peer_media *m;
    camrtc_time_us now;
    bool found;
} lat_scan;

static void lat_nal(void *user, const uint8_t *nal, size_t len)
{
    lat_scan *ls = user;
    uint64_t id;
    camrtc_time_us cap;
    if (ls->found || len < 1 || (nal[0] & 0x1f) != 6 ||
        camrtc_h264_read_camrtc_sei(nal, len, &id, &cap) != CAMRTC_OK)
        return;
    ls->found = true;
    peer_media *m = ls->m;
    if (cap > ls->now || ls->now - cap > CAMRTC_SEC(60))
        return;                                  /* another machine's clock: not comparable */
    if (!m->lat_us && !(m->lat_us = malloc(LAT_MAX * sizeof *m->lat_us)))
        return;
    if (m->nlat < LAT_MAX)
        m->lat_us[m->nlat++] = (uint32_t)(ls->now - cap);
    else
        m->lat_dropped++;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* p-th percentile (nearest rank) of the latency samples in ms; sorts them in place. */
static double lat_pct(peer_media *m, double p)
{
    qsort(m->lat_us, m->nlat, sizeof *m->lat_us, cmp_u32);
    size_t k = (size_t)(p / 100.0 * (double)m->nlat + 0.999999);
    k = k == 0 ? 0 : k - 1;
    return m->lat_us[k < m->nlat ? k : m->nlat - 1] / 1000.0;
}

void peer_stats_frame_latency(peer_media *m, const uint8_t *au, size_t len, camrtc_time_us now)
{
    lat_scan ls = {.m = m, .now = now};
    camrtc_h264_split(au, len, lat_nal, &ls);
}

/* ---- status line ------------------------------------------------------------------------------ */

void peer_stats_status_line(uv_timer_t *t)
{
    peer_media *m = t->data;
    uint64_t bytes = 0;
    double rtt_ms = 0, loss = 0;
    unsigned connected = 0;
    uint64_t frames = 0, decodable = 0, lost = 0;
    for (session *s = m->live; s; s = s->next) {
        camrtc_pc_stats st;
        camrtc_pcuv_get_stats(s->pc, &st);
        uint64_t b = m->o.viewer ? st.bytes_received : st.bytes_sent;
        bytes += b - s->bytes_prev;
        s->bytes_prev = b;
        frames += st.frames_received;
        decodable += st.frames_decodable;
        lost += st.packets_lost;
        if (s->state == CAMRTC_PC_CONNECTED) {
            connected++;
            rtt_ms += (double)st.round_trip_time / 1000.0;
            loss += st.fraction_lost * 100.0 / 256.0;
        }
    }
    double kbps = (double)bytes * 8.0 / 1000.0 * 1000.0 / STATUS_MS;
    if (m->o.viewer) {
        fprintf(stderr, "viewer: %s | frames %llu (decodable %llu) | %.0f kbps | lost %llu\n",
                connected ? "connected" : "not connected", (unsigned long long)frames,
                (unsigned long long)decodable, kbps, (unsigned long long)lost);
        return;
    }
    camrtc_pipeline_stats ps;
    camrtc_pipeline_get_stats(m->pipe, &ps);
    uint64_t fps = ps.frames_encoded - m->frames_prev;
    m->frames_prev = ps.frames_encoded;
    fprintf(stderr, "master: viewers %u/%u | %llu fps | %.0f kbps | rtt %.1f ms | loss %.1f %%\n", connected,
            m->nlive, (unsigned long long)fps, kbps, connected ? rtt_ms / connected : 0.0,
            connected ? loss / connected : 0.0);
}

/* ---- stats file (W3C webrtc-stats names) ------------------------------------------------------- */

static void add_u64(cJSON *o, const char *name, uint64_t v)
{
    cJSON_AddNumberToObject(o, name, (double)v);
}

static cJSON *session_json(const peer_media *m, const session *s)
{
    camrtc_pc_stats st;
    if (s->pc)
        camrtc_pcuv_get_stats(s->pc, &st);
    else
        st = s->last;
    cJSON *o = cJSON_CreateObject();
    if (s->client_id[0])
        cJSON_AddStringToObject(o, "clientId", s->client_id);
    cJSON_AddStringToObject(o, "state", camrtc_pc_state_name(s->pc ? s->state : CAMRTC_PC_CLOSED));
    if (m->o.viewer) {
        cJSON *in = cJSON_AddObjectToObject(o, "inbound-rtp");
        add_u64(in, "packetsReceived", st.packets_received);
        add_u64(in, "bytesReceived", st.bytes_received);
        add_u64(in, "packetsLost", st.packets_lost);
        add_u64(in, "framesReceived", st.frames_received);
        add_u64(in, "framesDecodable", st.frames_decodable);
        add_u64(in, "keyFramesReceived", st.key_frames_received);
        add_u64(in, "nackCount", st.nack_sent);
        add_u64(in, "pliCount", st.pli_sent);
    } else {
        cJSON *out = cJSON_AddObjectToObject(o, "outbound-rtp");
        add_u64(out, "packetsSent", st.packets_sent);
        add_u64(out, "bytesSent", st.bytes_sent);
        add_u64(out, "headerBytesSent", st.header_bytes_sent);
        add_u64(out, "retransmittedPacketsSent", st.retransmitted_packets_sent);
        add_u64(out, "retransmittedBytesSent", st.retransmitted_bytes_sent);
        add_u64(out, "framesSent", st.frames_sent);
        add_u64(out, "framesEncoded", st.frames_sent);
        add_u64(out, "keyFramesEncoded", st.key_frames_sent);
        add_u64(out, "nackCount", st.nack_count);
        /* Not W3C names: the NACKed packets the history no longer held (nackMisses), and
         * those not resent because one was on its way or the NACK asked too many. */
        add_u64(out, "nackMisses", st.nack_misses);
        add_u64(out, "nackRepeats", st.nack_repeats);
        add_u64(out, "nackOverLimit", st.nack_over_limit);
        add_u64(out, "pliCount", st.pli_count);
        add_u64(out, "firCount", st.fir_count);
        /* Not W3C names: PLIs that crossed the IDR on its way to that viewer, and repeated
         * FIRs; counted above, not passed to the encoder. */
        add_u64(out, "pliIgnored", st.pli_ignored);
        add_u64(out, "firIgnored", st.fir_ignored);
        cJSON *ri = cJSON_AddObjectToObject(o, "remote-inbound-rtp");
        cJSON_AddNumberToObject(ri, "roundTripTime", (double)st.round_trip_time / 1e6);
        cJSON_AddNumberToObject(ri, "packetsLost", st.remote_packets_lost);
        cJSON_AddNumberToObject(ri, "fractionLost", st.fraction_lost / 256.0);
        /* Time to first frame, sender half: the offer came in (session made) -> the first
         * RTP packet of the IDR went out. Not a W3C name: camrtc's own. */
        if (s->first_rtp_at)
            cJSON_AddNumberToObject(o, "offerToFirstRtpMs", (double)(s->first_rtp_at - s->created_at) / 1000.0);
        else
            cJSON_AddNullToObject(o, "offerToFirstRtpMs");
    }
    cJSON *cp = cJSON_AddObjectToObject(o, "candidate-pair");
    cJSON_AddStringToObject(cp, "state", s->connected_at ? "succeeded" : "failed");
    cJSON_AddStringToObject(cp, "localCandidate", s->local_cand);
    cJSON_AddStringToObject(cp, "remoteCandidate", s->remote_cand);
    cJSON *tr = cJSON_AddObjectToObject(o, "transport");
    cJSON_AddStringToObject(tr, "dtlsState", st.connected_at ? (s->pc ? "connected" : "closed") : "new");
    add_u64(tr, "packetsSent", s->net.udp_sent);
    add_u64(tr, "packetsReceived", s->net.udp_received);
    add_u64(tr, "srtpErrors", st.srtp_errors);
    /* Not a W3C name: TURN allocations moved to a fresh socket off a 5-tuple the server
     * still held (437, RFC 8656 §7.4). */
    camrtc_pc *pc = s->pc ? camrtc_pcuv_pc(s->pc) : NULL;
    add_u64(tr, "turnMoves", pc ? camrtc_ice_get_stats(camrtc_pc_ice(pc))->turn_moves : s->turn_moves);
    return o;
}

static void add_sessions(const peer_media *m, cJSON *arr, const session *list)
{
    for (const session *s = list; s; s = s->next)
        cJSON_AddItemToArray(arr, session_json(m, s));
}

/* The viewer's summary: its one session's counters at the top level, as the tests read them. */
static void viewer_summary(peer_media *m, cJSON *o)
{
    const session *s = m->live ? m->live : m->ended;
    camrtc_pc_stats st = {0};
    if (s && s->pc)
        camrtc_pcuv_get_stats(s->pc, &st);
    else if (s)
        st = s->last;
    add_u64(o, "framesReceived", st.frames_received);
    add_u64(o, "framesDecodable", st.frames_decodable);
    add_u64(o, "packetsReceived", st.packets_received);
    add_u64(o, "packetsLost", st.packets_lost);
    add_u64(o, "nackSent", st.nack_sent);
    add_u64(o, "pliSent", st.pli_sent);
    add_u64(o, "bytesReceived", st.bytes_received);
    if (s && s->first_frame_at)
        cJSON_AddNumberToObject(o, "timeToFirstFrameMs", (double)(s->first_frame_at - s->created_at) / 1000.0);
    else
        cJSON_AddNullToObject(o, "timeToFirstFrameMs");
    /* Capture at the master → frame complete here, from the encoder's SEI stamps; only
     * when both run on this machine (the stamps are its monotonic clock). */
    add_u64(o, "latencySamples", m->nlat);
    if (m->nlat) {
        cJSON_AddNumberToObject(o, "latencyP50Ms", lat_pct(m, 50));
        cJSON_AddNumberToObject(o, "latencyP99Ms", lat_pct(m, 99));
    } else {
        cJSON_AddNullToObject(o, "latencyP50Ms");
        cJSON_AddNullToObject(o, "latencyP99Ms");
    }
}

void peer_stats_write(peer_media *m)
{
    if (!m->o.stats_json)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "role", m->o.viewer ? "viewer" : "master");
    cJSON_AddNumberToObject(o, "durationMs", (double)(camrtc_now_us() - m->started_at) / 1000.0);
    if (m->o.viewer) {
        cJSON_AddBoolToObject(o, "refused", m->refused_by_master);   /* by the master's answer */
        viewer_summary(m, o);
    } else {
        add_u64(o, "viewersRefused", m->refused);
        add_u64(o, "framesEncoded", m->pipe_stats.frames_encoded);
        add_u64(o, "framesCaptured", m->pipe_stats.frames_captured);
        add_u64(o, "idrRequests", m->pipe_stats.idr_requests);   /* PLI/FIR, new viewers, drops */
        /* The profile viewers are answered with now, and how often it switched. */
        cJSON_AddStringToObject(o, "h264Profile", camrtc_sdp_h264_profile_name(m->profile));
        add_u64(o, "profileChanges", m->pipe_stats.profile_changes);
    }
    cJSON *arr = cJSON_AddArrayToObject(o, m->o.viewer ? "sessions" : "viewers");
    add_sessions(m, arr, m->live);
    add_sessions(m, arr, m->ended);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    FILE *f = text ? fopen(m->o.stats_json, "w") : NULL;
    if (!f || fputs(text, f) < 0 || fputc('\n', f) < 0)
        CAMRTC_LOGW(m->log, MOD, "cannot write %s", m->o.stats_json);
    if (f)
        fclose(f);
    free(text);
}
