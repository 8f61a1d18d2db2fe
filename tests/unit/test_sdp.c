/* SDP: parsing the offers real peers make (recorded from aiortc and Chromium, written by
 * hand after Firefox's and Safari's formats; see data/sdp/README.md), answering them as
 * the master, H.264 profile/level/packetization-mode choice, the viewer's offer and the
 * answer to it, serialize -> parse round trips, and malformed input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/ice.h"
#include "camrtc/sdp.h"
#include "check.h"

static const uint8_t FP[32] = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                               13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28};
static const char *const LOCAL_CANDS[] = {"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"};

static char *read_data(const char *name, size_t *len)
{
    const char *dir = getenv("CAMRTC_TEST_DATA");
    char path[512];
    snprintf(path, sizeof path, "%s/sdp/%s", dir ? dir : "tests/unit/data", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(CAMRTC_SDP_MAX_LEN + 1);
    size_t n = buf ? fread(buf, 1, CAMRTC_SDP_MAX_LEN, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static camrtc_sdp *parse_file(const char *name)
{
    size_t len;
    char *text = read_data(name, &len);
    if (!text)
        return NULL;
    camrtc_sdp *sdp = NULL;
    char reason[128];
    if (camrtc_sdp_parse(text, len, &sdp, reason, sizeof reason) != CAMRTC_OK)
        fprintf(stderr, "%s: %s\n", name, reason);
    free(text);
    return sdp;
}

static camrtc_sdp *parse_str(const char *text)
{
    camrtc_sdp *sdp = NULL;
    char reason[128];
    if (camrtc_sdp_parse(text, strlen(text), &sdp, reason, sizeof reason) != CAMRTC_OK)
        fprintf(stderr, "parse: %s\n", reason);
    return sdp;
}

static camrtc_sdp_answer_config master_config(void)
{
    camrtc_sdp_answer_config c = {
        .local = {.ice_ufrag = "mAsT", .ice_pwd = "masterpasswordmasterpw", .fingerprint = FP, .trickle = true,
                  .candidates = LOCAL_CANDS, .n_candidates = 1, .end_of_candidates = true, .sess_id = 42,
                  .video_ssrc = 1111, .rtx_ssrc = 2222, .cname = "cam"},
        .video_send = true,
    };
    return c;
}

static camrtc_sdp *write_and_parse(const camrtc_sdp *sdp)
{
    camrtc_buf b = {0};
    camrtc_sdp *back = NULL;
    if (camrtc_sdp_write(sdp, &b) == CAMRTC_OK)
        back = parse_str(camrtc_buf_cstr(&b));
    camrtc_buf_free(&b);
    return back;
}

/* ---- parsing real offers ---------------------------------------------------------------------- */

TEST(parse_chromium_kvs_viewer)
{
    camrtc_sdp *s = parse_file("chromium_kvs_viewer.sdp");
    CHECK(s);
    CHECK_EQ_INT(s->n_media, 3);
    CHECK_EQ_INT(s->n_bundle, 3);
    CHECK_EQ_STR(s->bundle[0], "0");
    CHECK_EQ_STR(s->msid_semantic, "WMS");
    CHECK(s->ice_trickle);
    const camrtc_sdp_media *v = &s->media[0];
    CHECK_EQ_INT(v->type, CAMRTC_SDP_VIDEO);
    CHECK_EQ_STR(v->proto, "UDP/TLS/RTP/SAVPF");
    CHECK_EQ_INT(v->port, 9);
    CHECK_EQ_STR(v->mid, "0");
    CHECK_EQ_INT(v->direction, CAMRTC_SDP_RECVONLY);
    CHECK(v->rtcp_mux && v->rtcp_rsize);
    CHECK_EQ_STR(camrtc_sdp_ice_ufrag(s, v), "qFs0");
    CHECK_EQ_STR(camrtc_sdp_ice_pwd(s, v), "qKhxqj4Uc3AH+skKUTvgZTEP");
    const camrtc_sdp_fingerprint *fp = camrtc_sdp_get_fingerprint(s, v);
    CHECK_EQ_STR(fp->alg, "sha-256");
    CHECK_EQ_INT(fp->len, 32);
    CHECK_EQ_INT(fp->hash[0], 0x9c);
    CHECK_EQ_INT(fp->hash[31], 0xfd);
    CHECK_EQ_INT(camrtc_sdp_get_setup(s, v), CAMRTC_SDP_SETUP_ACTPASS);
    CHECK_EQ_INT(v->n_codecs, 34);
    CHECK_EQ_INT(v->n_extmap, 11);
    const camrtc_sdp_codec *c = camrtc_sdp_find_codec(v, 108);
    CHECK(c);
    CHECK_EQ_STR(c->name, "H264");
    CHECK_EQ_INT(c->clock, 90000);
    CHECK_EQ_STR(c->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    CHECK_EQ_INT(s->media[1].type, CAMRTC_SDP_AUDIO);
    CHECK_EQ_INT(camrtc_sdp_find_codec(&s->media[1], 111)->channels, 2);
    const camrtc_sdp_media *d = &s->media[2];
    CHECK_EQ_INT(d->type, CAMRTC_SDP_APPLICATION);
    CHECK(!d->rtp);
    CHECK_EQ_STR(d->fmt, "webrtc-datachannel");
    CHECK_EQ_INT(d->sctp_port, 5000);
    CHECK_EQ_INT(d->max_message_size, 262144);
    CHECK_EQ_INT(s->dropped, 0);
    camrtc_sdp_free(s);
}

TEST(parse_aiortc_candidates_and_ssrc)
{
    camrtc_sdp *s = parse_file("aiortc_sendrecv_dc.sdp");
    CHECK(s);
    const camrtc_sdp_media *v = &s->media[0];
    CHECK_EQ_INT(v->direction, CAMRTC_SDP_SENDRECV);
    CHECK_EQ_INT(v->n_candidates, 1);
    CHECK(v->end_of_candidates);
    camrtc_ice_candidate cand;
    CHECK_EQ_INT(camrtc_ice_candidate_parse(&cand, v->candidates[0]), CAMRTC_OK);
    CHECK_EQ_INT(cand.type, CAMRTC_ICE_HOST);
    CHECK_EQ_INT(v->n_ssrc_groups, 1);
    CHECK_EQ_STR(v->ssrc_groups[0].semantics, "FID");
    CHECK_EQ_INT(v->ssrc_groups[0].ssrcs[0], 83095013u);
    CHECK_EQ_INT(v->n_ssrcs, 2);
    CHECK_EQ_STR(v->msid, "ffe1bc09-3c1a-43e7-9283-45620cbf5406 c5ab0afe-d6f4-432d-a299-c60128aa112c");
    CHECK_EQ_INT(v->n_attrs, 1);      /* a=rtcp:9 IN IP4 0.0.0.0, kept */
    CHECK_EQ_STR(v->attrs[0].name, "rtcp");
    const camrtc_sdp_media *d = &s->media[1];
    CHECK_EQ_STR(d->proto, "DTLS/SCTP");
    CHECK_EQ_INT(d->sctp_port, 5000);  /* from the old a=sctpmap */
    CHECK_EQ_STR(camrtc_sdp_ice_ufrag(s, d), "AOZf");
    camrtc_sdp_free(s);
}

TEST(parse_firefox_session_level)
{
    camrtc_sdp *s = parse_file("firefox_recvonly_dc.sdp");
    CHECK(s);
    CHECK_EQ_STR(s->origin_user, "mozilla...THIS_IS_SDPARTA-128.0");
    CHECK_EQ_INT(s->sess_id, 6198335541812549207ull);
    CHECK(s->ice_trickle);
    const camrtc_sdp_media *v = &s->media[0];
    CHECK_EQ_INT(v->fingerprint.len, 0);
    CHECK_EQ_INT(camrtc_sdp_get_fingerprint(s, v)->len, 32);
    CHECK_EQ_INT(camrtc_sdp_get_fingerprint(s, v)->hash[0], 0x5b);
    CHECK_EQ_STR(camrtc_sdp_find_codec(v, 97)->fmtp, "profile-level-id=42e01f;level-asymmetry-allowed=1");
    CHECK_EQ_STR(v->extmap[3].direction, "recvonly");
    CHECK_EQ_STR(v->extmap[3].uri, "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay");
    CHECK_EQ_INT(s->media[1].max_message_size, 1073741823u);
    camrtc_sdp_free(s);
}

/* ---- answering real offers -------------------------------------------------------------------- */

static const char *fb_answer_pt(const camrtc_sdp_media *m, int pt, size_t i)
{
    size_t k = 0;
    for (size_t n = 0; n < m->n_rtcp_fb; n++)
        if (m->rtcp_fb[n].pt == pt && k++ == i)
            return m->rtcp_fb[n].value;
    return NULL;
}

TEST(answer_chromium_kvs_viewer)
{
    camrtc_sdp *offer = parse_file("chromium_kvs_viewer.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    char reason[256];
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, reason, sizeof reason), CAMRTC_OK);
    CHECK(neg.video);
    CHECK_EQ_INT(neg.video_pt, 108);                 /* 42e01f, packetization-mode 1 */
    CHECK_EQ_INT(neg.rtx_pt, 109);
    CHECK_EQ_INT(neg.profile, CAMRTC_SDP_H264_CONSTRAINED_BASELINE);
    CHECK_EQ_INT(neg.encode_profile, CAMRTC_SDP_H264_CONSTRAINED_BASELINE);
    CHECK_EQ_INT(neg.send_level, 31);
    CHECK_EQ_INT(neg.packetization_mode, 1);
    CHECK_EQ_INT(neg.feedback, CAMRTC_SDP_FB_ALL);
    CHECK_EQ_INT(neg.ext_abs_send_time, 2);
    CHECK_EQ_INT(neg.ext_twcc, 4);
    CHECK_EQ_INT(neg.ext_mid, 9);
    CHECK_EQ_INT(neg.video_direction, CAMRTC_SDP_SENDONLY);
    CHECK(neg.dtls_client);                          /* actpass -> we answer active */
    CHECK_EQ_STR(neg.remote_ufrag, "qFs0");
    CHECK_EQ_INT(neg.remote_fingerprint.hash[0], 0x9c);
    CHECK_EQ_INT(neg.rejected, 2);
    CHECK(!neg.audio);

    /* What goes on the wire, read back. */
    camrtc_sdp *a = write_and_parse(ans);
    CHECK(a);
    CHECK_EQ_INT(a->n_media, 3);
    CHECK_EQ_INT(a->n_bundle, 1);
    CHECK_EQ_STR(a->bundle[0], "0");
    const camrtc_sdp_media *v = &a->media[0];
    CHECK_EQ_INT(v->port, 9);
    CHECK_EQ_INT(v->direction, CAMRTC_SDP_SENDONLY);
    CHECK_EQ_INT(v->setup, CAMRTC_SDP_SETUP_ACTIVE);
    CHECK_EQ_INT(v->n_codecs, 2);
    CHECK_EQ_INT(v->codecs[0].pt, 108);
    CHECK_EQ_STR(v->codecs[0].fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    CHECK_EQ_STR(v->codecs[1].name, "rtx");
    CHECK_EQ_STR(v->codecs[1].fmtp, "apt=108");
    CHECK_EQ_STR(fb_answer_pt(v, 108, 0), "nack");
    CHECK_EQ_STR(fb_answer_pt(v, 108, 1), "nack pli");
    CHECK_EQ_INT(v->n_rtcp_fb, 5);
    CHECK_EQ_INT(v->n_extmap, 3);
    CHECK(v->rtcp_mux && v->rtcp_rsize);
    CHECK_EQ_STR(v->mid, "0");
    CHECK_EQ_STR(v->msid, "camrtc video0");
    CHECK_EQ_INT(v->n_ssrc_groups, 1);
    CHECK_EQ_INT(v->ssrc_groups[0].ssrcs[1], 2222);
    CHECK_EQ_INT(v->ssrcs[0].ssrc, 1111);
    CHECK_EQ_STR(v->ssrcs[0].attr, "cname:cam");
    CHECK_EQ_INT(v->n_candidates, 1);
    CHECK(v->end_of_candidates);
    CHECK_EQ_INT(v->fingerprint.hash[0], 0xde);
    CHECK(a->ice_trickle);
    /* audio and the data channel: rejected, same proto, mid kept. */
    CHECK_EQ_INT(a->media[1].port, 0);
    CHECK_EQ_STR(a->media[1].mid, "1");
    CHECK_EQ_INT(a->media[2].port, 0);
    CHECK_EQ_STR(a->media[2].proto, "UDP/DTLS/SCTP");
    CHECK_EQ_STR(a->media[2].fmt, "webrtc-datachannel");
    CHECK_EQ_STR(a->media[2].mid, "2");
    camrtc_sdp_free(a);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(answer_chromium_accepts_audio_when_asked)
{
    camrtc_sdp *offer = parse_file("chromium_kvs_viewer.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    cfg.accept_audio = true;
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0), CAMRTC_OK);
    CHECK(neg.audio);
    CHECK_EQ_INT(neg.audio_pt, 111);
    CHECK_EQ_INT(ans->media[1].port, 9);
    CHECK_EQ_INT(ans->media[1].direction, CAMRTC_SDP_INACTIVE);   /* nothing to send, not receiving */
    CHECK_EQ_INT(ans->n_bundle, 2);
    CHECK_EQ_INT(neg.rejected, 1);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(answer_chromium_recvonly_dc)
{
    camrtc_sdp *offer = parse_file("chromium_recvonly_dc.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.profile, CAMRTC_SDP_H264_CONSTRAINED_BASELINE);
    CHECK_EQ_INT(neg.packetization_mode, 1);
    CHECK_EQ_INT(neg.rejected, 1);
    CHECK_EQ_INT(ans->media[1].port, 0);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(answer_aiortc_recvonly)
{
    camrtc_sdp *offer = parse_file("aiortc_recvonly.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.video_pt, 101);                 /* 42e01f over 42001f */
    CHECK_EQ_INT(neg.rtx_pt, 102);
    CHECK_EQ_INT(neg.feedback, CAMRTC_SDP_FB_NACK | CAMRTC_SDP_FB_PLI | CAMRTC_SDP_FB_REMB);
    CHECK_EQ_INT(neg.ext_mid, 1);
    CHECK_EQ_INT(neg.ext_abs_send_time, 2);
    CHECK_EQ_INT(neg.ext_twcc, 0);
    CHECK_EQ_STR(neg.remote_ufrag, "5BQV");
    CHECK(neg.transport);
    CHECK_EQ_INT(neg.transport->n_candidates, 1);
    CHECK(!neg.remote_trickle);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(answer_aiortc_sendrecv_with_data_channel)
{
    camrtc_sdp *offer = parse_file("aiortc_sendrecv_dc.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.video_direction, CAMRTC_SDP_SENDONLY);  /* the master does not receive */
    CHECK_EQ_STR(neg.remote_ufrag, "Lqxw");           /* the BUNDLE tag's, not the data channel's */
    camrtc_sdp *a = write_and_parse(ans);
    CHECK(a);
    CHECK_EQ_INT(a->media[1].port, 0);
    CHECK_EQ_STR(a->media[1].proto, "DTLS/SCTP");
    CHECK_EQ_STR(a->media[1].fmt, "5000");
    CHECK_EQ_INT(a->n_bundle, 1);
    camrtc_sdp_free(a);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(answer_firefox)
{
    camrtc_sdp *offer = parse_file("firefox_recvonly_dc.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.video_pt, 126);                 /* mode 1 over the mode-0 97 */
    CHECK_EQ_INT(neg.rtx_pt, 127);
    CHECK_EQ_INT(neg.ext_mid, 3);
    CHECK_EQ_INT(neg.ext_twcc, 7);
    CHECK_EQ_INT(neg.remote_fingerprint.hash[0], 0x5b);  /* session-level */
    CHECK_EQ_STR(neg.remote_ufrag, "9a3e51c7");
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(answer_safari_audio_first)
{
    camrtc_sdp *offer = parse_file("safari_audio_first.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.video_pt, 98);                  /* constrained baseline over constrained high */
    CHECK_EQ_STR(neg.video_mid, "1");
    CHECK_EQ_INT(ans->media[0].port, 0);
    CHECK_EQ_INT(ans->n_bundle, 1);
    CHECK_EQ_STR(ans->bundle[0], "1");               /* the tag moves to the section we accept */
    CHECK_EQ_INT(ans->media[1].n_candidates, 1);
    CHECK_EQ_STR(neg.transport->mid, "1");
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

/* ---- H.264 choice ------------------------------------------------------------------------------ */

/* An offer with one video section holding H.264 payload types 96, 97, ... with these
 * fmtp lines (NULL = no fmtp line). */
static camrtc_sdp *h264_offer(size_t n, const char *const *fmtps)
{
    char text[4096];
    size_t used = (size_t)snprintf(text, sizeof text,
                                   "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE v\r\n"
                                   "m=video 9 UDP/TLS/RTP/SAVPF");
    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, " %zu", 96 + i);
    used += (size_t)snprintf(text + used, sizeof text - used,
                             "\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=recvonly\r\na=rtcp-mux\r\n"
                             "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\na=setup:actpass\r\n"
                             "a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
                             "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n");
    for (size_t i = 0; i < n; i++) {
        used += (size_t)snprintf(text + used, sizeof text - used, "a=rtpmap:%zu H264/90000\r\n", 96 + i);
        if (fmtps[i])
            used += (size_t)snprintf(text + used, sizeof text - used, "a=fmtp:%zu %s\r\n", 96 + i, fmtps[i]);
    }
    return parse_str(text);
}

/* Answer an offer of these fmtps; returns the result code and fills neg and the answer's fmtp. */
static int h264_answer(size_t n, const char *const *fmtps, const camrtc_sdp_answer_config *cfg,
                       camrtc_sdp_negotiated *neg, char *fmtp, size_t fmtpsz, char *reason, size_t reasonsz)
{
    camrtc_sdp *offer = h264_offer(n, fmtps);
    if (!offer)
        return CAMRTC_EINTERNAL;
    camrtc_sdp *ans = NULL;
    int rc = camrtc_sdp_answer(offer, cfg, &ans, neg, reason, reasonsz);
    if (rc == CAMRTC_OK)
        snprintf(fmtp, fmtpsz, "%s", ans->media[0].codecs[0].fmtp);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
    return rc;
}

TEST(h264_only_main)
{
    const char *f[] = {"packetization-mode=1;profile-level-id=4d001f"};
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp_negotiated neg;
    char fmtp[128], reason[256];
    CHECK_EQ_INT(h264_answer(1, f, &cfg, &neg, fmtp, sizeof fmtp, reason, sizeof reason), CAMRTC_OK);
    CHECK_EQ_INT(neg.profile, CAMRTC_SDP_H264_MAIN);
    CHECK_EQ_INT(neg.encode_profile, CAMRTC_SDP_H264_MAIN);
    CHECK_EQ_INT(neg.send_level, 31);
    CHECK_EQ_STR(fmtp, "packetization-mode=1;profile-level-id=4d001f");
}

TEST(h264_only_high_level_min)
{
    /* High 5.0 offered, no level asymmetry: both sides use min(ours, theirs). */
    const char *f[] = {"profile-level-id=640032;packetization-mode=1"};
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp_negotiated neg;
    char fmtp[128];
    CHECK_EQ_INT(h264_answer(1, f, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.profile, CAMRTC_SDP_H264_HIGH);
    CHECK_EQ_INT(neg.encode_profile, CAMRTC_SDP_H264_HIGH);
    CHECK_EQ_INT(neg.send_level, 31);
    CHECK_EQ_STR(fmtp, "packetization-mode=1;profile-level-id=64001f");
    cfg.local.h264_max_level = 51;
    CHECK_EQ_INT(h264_answer(1, f, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.send_level, 50);
    CHECK_EQ_STR(fmtp, "packetization-mode=1;profile-level-id=640032");
}

TEST(h264_level_asymmetry)
{
    /* The remote decodes only level 1.1 but allows asymmetry: we send at 1.1 and state our own level. */
    const char *f[] = {"level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e00b"};
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp_negotiated neg;
    char fmtp[128];
    CHECK_EQ_INT(h264_answer(1, f, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.send_level, 11);
    CHECK_EQ_STR(fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
    const char *g[] = {"packetization-mode=1;profile-level-id=42e00b"};
    CHECK_EQ_INT(h264_answer(1, g, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.send_level, 11);
    CHECK_EQ_STR(fmtp, "packetization-mode=1;profile-level-id=42e00b");
}

TEST(h264_level_1b)
{
    /* Baseline level 1b is level_idc 11 with constraint_set3 (0x10) set. */
    camrtc_sdp_h264_fmtp f;
    CHECK_EQ_INT(camrtc_sdp_h264_fmtp_parse(&f, "profile-level-id=42f00b"), CAMRTC_OK);
    CHECK_EQ_INT(f.level, CAMRTC_SDP_H264_LEVEL_1B);
    CHECK_EQ_INT(f.profile, CAMRTC_SDP_H264_CONSTRAINED_BASELINE);
    CHECK_EQ_INT(camrtc_sdp_h264_fmtp_parse(&f, "profile-level-id=640009"), CAMRTC_OK);
    CHECK_EQ_INT(f.level, CAMRTC_SDP_H264_LEVEL_1B);
    const char *o[] = {"packetization-mode=1;profile-level-id=42f00b"};
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp_negotiated neg;
    char fmtp[128];
    CHECK_EQ_INT(h264_answer(1, o, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.send_level, CAMRTC_SDP_H264_LEVEL_1B);
    CHECK_EQ_STR(fmtp, "packetization-mode=1;profile-level-id=42f00b");
    /* A stream that needs 3.1 does not fit in 1b. */
    cfg.local.h264_min_level = 31;
    CHECK_EQ_INT(h264_answer(1, o, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_EUNSUPPORTED);
}

TEST(h264_mode0)
{
    /* Mode 0 only: accepted (the packetizer then sends single NAL units and the encoder
     * keeps slices under the MTU), unless the config refuses it. */
    const char *f[] = {"profile-level-id=42e01f;level-asymmetry-allowed=1"};
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp_negotiated neg;
    char fmtp[128], reason[256];
    CHECK_EQ_INT(h264_answer(1, f, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.packetization_mode, 0);
    CHECK_EQ_STR(fmtp, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f");
    cfg.local.h264_no_mode0 = true;
    CHECK_EQ_INT(h264_answer(1, f, &cfg, &neg, fmtp, sizeof fmtp, reason, sizeof reason), CAMRTC_EUNSUPPORTED);
    CHECK(strstr(reason, "packetization-mode 0"));
    CHECK(!neg.video);
}

TEST(h264_preference_order)
{
    const char *f[] = {"packetization-mode=1;profile-level-id=640c1f", "packetization-mode=0;profile-level-id=42e01f",
                       "packetization-mode=1;profile-level-id=42001f", "packetization-mode=1;profile-level-id=42e01f",
                       "packetization-mode=2;profile-level-id=42e01f"};
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp_negotiated neg;
    char fmtp[128];
    CHECK_EQ_INT(h264_answer(5, f, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.video_pt, 99);                  /* constrained baseline, mode 1 */
    /* Without constrained baseline among what we send, baseline comes next. */
    cfg.local.h264_profiles = (1u << CAMRTC_SDP_H264_BASELINE) | (1u << CAMRTC_SDP_H264_CONSTRAINED_HIGH);
    CHECK_EQ_INT(h264_answer(5, f, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.video_pt, 98);
    CHECK_EQ_INT(neg.encode_profile, CAMRTC_SDP_H264_CONSTRAINED_BASELINE);
    cfg.local.h264_profiles = 1u << CAMRTC_SDP_H264_CONSTRAINED_HIGH;
    CHECK_EQ_INT(h264_answer(5, f, &cfg, &neg, fmtp, sizeof fmtp, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.video_pt, 96);
    CHECK_EQ_INT(neg.encode_profile, CAMRTC_SDP_H264_HIGH);
}

TEST(h264_unacceptable_gives_reason)
{
    const char *f[] = {"packetization-mode=1;profile-level-id=f4001f", "packetization-mode=1;profile-level-id=6e001f",
                       "profile-level-id=zz001f"};
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp_negotiated neg;
    char fmtp[128], reason[256];
    CHECK_EQ_INT(h264_answer(3, f, &cfg, &neg, fmtp, sizeof fmtp, reason, sizeof reason), CAMRTC_EUNSUPPORTED);
    CHECK(strstr(reason, "96: profile not sendable"));
    CHECK(strstr(reason, "98: malformed fmtp"));
    /* No profile-level-id at all: Baseline level 1.0 (RFC 6184 §8.1). */
    const char *g[] = {NULL};
    CHECK_EQ_INT(h264_answer(1, g, &cfg, &neg, fmtp, sizeof fmtp, reason, sizeof reason), CAMRTC_OK);
    CHECK_EQ_INT(neg.profile, CAMRTC_SDP_H264_BASELINE);
    CHECK_EQ_INT(neg.send_level, 10);
    CHECK_EQ_INT(neg.packetization_mode, 0);
}

TEST(h264_no_h264_at_all)
{
    const char *text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                       "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"
                       "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n";
    camrtc_sdp *offer = parse_str(text);
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    char reason[256];
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, reason, sizeof reason), CAMRTC_EUNSUPPORTED);
    CHECK(!ans);
    CHECK(strstr(reason, "no H.264"));
    camrtc_sdp_free(offer);
}

TEST(h264_profile_table)
{
    static const struct {
        uint8_t idc, iop;
        camrtc_sdp_h264_profile want;
    } cases[] = {
        {0x42, 0xe0, CAMRTC_SDP_H264_CONSTRAINED_BASELINE}, {0x42, 0x40, CAMRTC_SDP_H264_CONSTRAINED_BASELINE},
        {0x42, 0x00, CAMRTC_SDP_H264_BASELINE},             {0x42, 0x80, CAMRTC_SDP_H264_BASELINE},
        {0x4d, 0x00, CAMRTC_SDP_H264_MAIN},                 {0x4d, 0x80, CAMRTC_SDP_H264_CONSTRAINED_BASELINE},
        {0x58, 0xc0, CAMRTC_SDP_H264_CONSTRAINED_BASELINE}, {0x58, 0x80, CAMRTC_SDP_H264_BASELINE},
        {0x58, 0x00, CAMRTC_SDP_H264_OTHER},                {0x64, 0x00, CAMRTC_SDP_H264_HIGH},
        {0x64, 0x0c, CAMRTC_SDP_H264_CONSTRAINED_HIGH},     {0x6e, 0x00, CAMRTC_SDP_H264_OTHER},
        {0xf4, 0x00, CAMRTC_SDP_H264_OTHER},                {0x42, 0x41, CAMRTC_SDP_H264_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CHECK_EQ_INT(camrtc_sdp_h264_profile_of(cases[i].idc, cases[i].iop), cases[i].want);
    camrtc_sdp_h264_fmtp f;
    CHECK_EQ_INT(camrtc_sdp_h264_fmtp_parse(&f, " profile-level-id=4D001F ; packetization-mode=1"), CAMRTC_OK);
    CHECK_EQ_INT(f.profile, CAMRTC_SDP_H264_MAIN);
    CHECK_EQ_INT(f.packetization_mode, 1);
    CHECK_EQ_INT(camrtc_sdp_h264_fmtp_parse(&f, "profile-level-id=42e0ff"), CAMRTC_EPROTO);  /* no such level */
    CHECK_EQ_INT(camrtc_sdp_h264_fmtp_parse(&f, "packetization-mode=3"), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_sdp_h264_fmtp_parse(&f, "profile-level-id=42e01"), CAMRTC_EPROTO);
}

TEST(feedback_and_rtx_follow_config)
{
    camrtc_sdp *offer = parse_file("chromium_kvs_viewer.sdp");
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    cfg.local.feedback = CAMRTC_SDP_FB_NACK | CAMRTC_SDP_FB_PLI;
    cfg.local.extensions = CAMRTC_SDP_NONE;
    cfg.local.rtx_ssrc = 0;                           /* no SSRC for rtx: no rtx */
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(neg.feedback, CAMRTC_SDP_FB_NACK | CAMRTC_SDP_FB_PLI);
    CHECK_EQ_INT(neg.rtx_pt, -1);
    CHECK_EQ_INT(neg.ext_twcc, 0);
    CHECK_EQ_INT(ans->media[0].n_codecs, 1);
    CHECK_EQ_INT(ans->media[0].n_rtcp_fb, 2);
    CHECK_EQ_INT(ans->media[0].n_extmap, 0);
    CHECK_EQ_INT(ans->media[0].n_ssrc_groups, 0);
    CHECK_EQ_INT(ans->media[0].n_ssrcs, 2);          /* cname + msid of the one SSRC */
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(answer_without_bundle_and_wildcard_feedback)
{
    /* No BUNDLE group: one transport, the first section we accept; the rest is rejected.
     * Session-level ICE and fingerprint; "a=rtcp-fb:* nack" covers every payload type. */
    const char *text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\n"
                       "a=ice-pwd:abcdefghijklmnopqrstuv\r\na=setup:active\r\n"
                       "a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
                       "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n"
                       "m=video 5000 RTP/SAVPF 96\r\na=rtcp-mux\r\na=rtcp-fb:* nack\r\n"
                       "a=rtpmap:96 h264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"
                       "m=video 5002 RTP/SAVPF 96\r\na=rtcp-mux\r\na=rtpmap:96 H264/90000\r\n";
    camrtc_sdp *offer = parse_str(text);
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    int rc = camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0);
    camrtc_sdp_free(offer);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(neg.feedback, CAMRTC_SDP_FB_NACK);
    CHECK(!neg.dtls_client);                          /* the offerer is active */
    CHECK_EQ_INT(ans->n_bundle, 0);
    CHECK_EQ_INT(ans->media[0].port, 9);
    CHECK_EQ_INT(ans->media[0].setup, CAMRTC_SDP_SETUP_PASSIVE);
    CHECK_EQ_INT(ans->media[1].port, 0);
    CHECK_EQ_INT(neg.rejected, 1);
    camrtc_sdp_free(ans);
}

TEST(offer_missing_webrtc_parts_is_refused)
{
    static const char *const bad[] = {
        /* no fingerprint */
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"
        "a=rtcp-mux\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n",
        /* no rtcp-mux */
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"
        "a=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1;profile-level-id=42e01f\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n",
        /* holdconn */
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=setup:holdconn\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"
        "a=mid:0\r\na=rtcp-mux\r\na=rtpmap:96 H264/90000\r\n",
        /* video disabled by the offerer (port 0) */
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n"
        "a=rtcp-mux\r\na=rtpmap:96 H264/90000\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        camrtc_sdp *offer = parse_str(bad[i]);
        CHECK(offer);
        camrtc_sdp_answer_config cfg = master_config();
        camrtc_sdp *ans = NULL;
        camrtc_sdp_negotiated neg;
        char reason[256] = "";
        int rc = camrtc_sdp_answer(offer, &cfg, &ans, &neg, reason, sizeof reason);
        camrtc_sdp_free(offer);
        CHECK_EQ_INT(rc, CAMRTC_EUNSUPPORTED);
        CHECK(ans == NULL && reason[0] != '\0');
    }
}

TEST(answer_config_is_checked)
{
    camrtc_sdp *offer = parse_file("aiortc_recvonly.sdp");
    CHECK(offer);
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    camrtc_sdp_answer_config cfg = master_config();
    cfg.local.ice_pwd = "short";
    int rc1 = camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0);
    cfg = master_config();
    cfg.local.h264_max_level = 33;
    int rc2 = camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0);
    cfg = master_config();
    cfg.local.video_ssrc = 0;
    int rc3 = camrtc_sdp_answer(offer, &cfg, &ans, &neg, NULL, 0);
    camrtc_sdp_free(offer);
    CHECK_EQ_INT(rc1, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc2, CAMRTC_EINVAL);
    CHECK_EQ_INT(rc3, CAMRTC_EINVAL);
    CHECK(ans == NULL);
}

/* ---- the viewer's offer and the answer to it ------------------------------------------------ */

TEST(viewer_offer_master_answer_viewer_accepts)
{
    camrtc_sdp_offer_config oc = {
        .local = {.ice_ufrag = "vIew", .ice_pwd = "viewerpasswordviewerpw", .fingerprint = FP, .trickle = true},
        .video_direction = CAMRTC_SDP_RECVONLY,
    };
    camrtc_sdp *mine = NULL;
    CHECK_EQ_INT(camrtc_sdp_create_offer(&oc, &mine), CAMRTC_OK);
    CHECK_EQ_INT(mine->media[0].n_codecs, 10);       /* five H.264 + five rtx */
    CHECK_EQ_INT(mine->media[0].setup, CAMRTC_SDP_SETUP_ACTPASS);
    camrtc_sdp *offer = write_and_parse(mine);        /* as the master sees it */
    CHECK(offer);
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated mneg, vneg;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &ans, &mneg, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(mneg.video_pt, 102);
    CHECK_EQ_INT(mneg.rtx_pt, 103);
    CHECK_EQ_INT(mneg.ext_twcc, 3);
    camrtc_sdp *answer = write_and_parse(ans);        /* as the viewer sees it */
    CHECK(answer);
    char reason[256];
    CHECK_EQ_INT(camrtc_sdp_accept_answer(mine, answer, &vneg, reason, sizeof reason), CAMRTC_OK);
    CHECK_EQ_INT(vneg.video_pt, 102);
    CHECK_EQ_INT(vneg.rtx_pt, 103);
    CHECK_EQ_INT(vneg.profile, CAMRTC_SDP_H264_CONSTRAINED_BASELINE);
    CHECK_EQ_INT(vneg.packetization_mode, 1);
    CHECK_EQ_INT(vneg.feedback, CAMRTC_SDP_FB_ALL);
    CHECK_EQ_INT(vneg.ext_mid, 1);
    CHECK_EQ_INT(vneg.ext_twcc, 3);
    CHECK(!vneg.dtls_client);                         /* the master is active */
    CHECK_EQ_INT(vneg.video_direction, CAMRTC_SDP_RECVONLY);
    CHECK_EQ_STR(vneg.remote_ufrag, "mAsT");
    CHECK_EQ_INT(vneg.remote_fingerprint.hash[0], 0xde);
    CHECK_EQ_INT(vneg.transport->n_candidates, 1);
    camrtc_sdp_free(answer);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
    camrtc_sdp_free(mine);
}

TEST(viewer_rejects_answer_with_other_profile)
{
    camrtc_sdp_offer_config oc = {
        .local = {.ice_ufrag = "vIew", .ice_pwd = "viewerpasswordviewerpw", .fingerprint = FP,
                  .h264_profiles = 1u << CAMRTC_SDP_H264_CONSTRAINED_BASELINE, .h264_no_mode0 = true},
        .video_direction = CAMRTC_SDP_RECVONLY,
    };
    camrtc_sdp *mine = NULL;
    CHECK_EQ_INT(camrtc_sdp_create_offer(&oc, &mine), CAMRTC_OK);
    CHECK_EQ_INT(mine->media[0].n_codecs, 2);
    const char *text = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\n"
                       "a=mid:0\r\na=rtcp-mux\r\na=setup:active\r\na=ice-ufrag:abcd\r\n"
                       "a=ice-pwd:abcdefghijklmnopqrstuv\r\na=rtpmap:102 H264/90000\r\n"
                       "a=fmtp:102 packetization-mode=1;profile-level-id=4d001f\r\n"
                       "a=fingerprint:sha-256 00:01:02:03:04:05:06:07:08:09:0A:0B:0C:0D:0E:0F:"
                       "10:11:12:13:14:15:16:17:18:19:1A:1B:1C:1D:1E:1F\r\n";
    camrtc_sdp *answer = parse_str(text);
    CHECK(answer);
    camrtc_sdp_negotiated neg;
    char reason[256];
    int rc = camrtc_sdp_accept_answer(mine, answer, &neg, reason, sizeof reason);
    camrtc_sdp_free(answer);
    camrtc_sdp_free(mine);
    CHECK_EQ_INT(rc, CAMRTC_EUNSUPPORTED);
}

/* ---- round trips and malformed input ----------------------------------------------------------- */

TEST(round_trip_every_file)
{
    static const char *const files[] = {"aiortc_recvonly.sdp",     "aiortc_sendrecv_dc.sdp",
                                        "chromium_recvonly_dc.sdp", "chromium_kvs_viewer.sdp",
                                        "firefox_recvonly_dc.sdp",  "safari_audio_first.sdp"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        camrtc_sdp *a = parse_file(files[i]);
        CHECK(a);
        camrtc_buf t1 = {0}, t2 = {0};
        CHECK_EQ_INT(camrtc_sdp_write(a, &t1), CAMRTC_OK);
        camrtc_sdp *b = parse_str(camrtc_buf_cstr(&t1));
        int ok = b && camrtc_sdp_write(b, &t2) == CAMRTC_OK && t1.len == t2.len &&
                 memcmp(camrtc_buf_data(&t1), camrtc_buf_data(&t2), t1.len) == 0;
        int same_media = b && b->n_media == a->n_media && b->media[0].n_codecs == a->media[0].n_codecs &&
                         b->media[0].n_rtcp_fb == a->media[0].n_rtcp_fb && b->n_bundle == a->n_bundle &&
                         memcmp(&b->media[0].fingerprint, &a->media[0].fingerprint,
                                sizeof a->media[0].fingerprint) == 0;
        camrtc_buf_free(&t1);
        camrtc_buf_free(&t2);
        camrtc_sdp_free(b);
        camrtc_sdp_free(a);
        CHECK(ok);
        CHECK(same_media);
    }
}

TEST(malformed_lines_are_errors)
{
    static const struct {
        const char *text;
        int want;
    } cases[] = {
        {"", CAMRTC_EPROTO},
        {"v=1\r\n", CAMRTC_EPROTO},
        {"v=0\r\ns=-\r\nt=0 0\r\n", CAMRTC_EPROTO},                                           /* no o= */
        {"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n", CAMRTC_EPROTO},                         /* five fields */
        {"v=0\r\no=- x 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 70000 RTP/AVP 96\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 128\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96 96\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
         "a=rtpmap:96 H264/90000\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=rtpmap:96 H264\r\n",
         CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=fingerprint:sha-256 00:11\r\n",
         CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=setup:sometimes\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:ab\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-pwd:short\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n", CAMRTC_EPROTO},  /* unknown mid */
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=mid:0\r\n"
         "m=video 9 RTP/AVP 96\r\na=mid:0\r\n", CAMRTC_EPROTO},                                  /* mid twice */
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=extmap:0 urn:x\r\n",
         CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\na=ssrc:99999999999 cname:x\r\n",
         CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=application 9 UDP/DTLS/SCTP x\r\na=sctp-port:0\r\n",
         CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x\x01y\r\n", CAMRTC_EPROTO},    /* control character */
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nhello\r\n", CAMRTC_EPROTO},
        {"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 RTP/AVP 96\r\nt=0 0\r\n", CAMRTC_EPROTO},
        {"v=0\r\nm=video 9 RTP/AVP 96\r\n", CAMRTC_EPROTO},                                    /* m= too early */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        camrtc_sdp *s = (camrtc_sdp *)1;
        char reason[128] = "";
        int rc = camrtc_sdp_parse(cases[i].text, strlen(cases[i].text), &s, reason, sizeof reason);
        if (rc != cases[i].want)
            fprintf(stderr, "case %zu: got %s\n", i, camrtc_errname(rc));
        CHECK_EQ_INT(rc, cases[i].want);
        CHECK(s == NULL);
        CHECK(reason[0] != '\0');
    }
}

TEST(bounds_are_enforced)
{
    /* Too many m= sections, a line too long, a description too long. */
    camrtc_buf b = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"), CAMRTC_OK);
    for (int i = 0; i <= CAMRTC_SDP_MAX_MEDIA; i++)
        CHECK_EQ_INT(camrtc_buf_appendf(&b, "m=video 9 RTP/AVP 96\r\na=mid:%d\r\n", i), CAMRTC_OK);
    camrtc_sdp *s = NULL;
    int rc = camrtc_sdp_parse((const char *)camrtc_buf_data(&b), b.len, &s, NULL, 0);
    camrtc_buf_reset(&b);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_buf_append_str(&b, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x:"), CAMRTC_OK);
    for (int i = 0; i < CAMRTC_SDP_MAX_LINE; i++)
        CHECK_EQ_INT(camrtc_buf_append_str(&b, "y"), CAMRTC_OK);
    rc = camrtc_sdp_parse((const char *)camrtc_buf_data(&b), b.len, &s, NULL, 0);
    camrtc_buf_free(&b);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    char *big = calloc(1, CAMRTC_SDP_MAX_LEN + 2);
    CHECK(big);
    memset(big, 'a', CAMRTC_SDP_MAX_LEN + 1);
    rc = camrtc_sdp_parse(big, CAMRTC_SDP_MAX_LEN + 1, &s, NULL, 0);
    free(big);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    /* Unknown attributes past the bound are dropped and counted, not an error. */
    camrtc_buf c = {0};
    CHECK_EQ_INT(camrtc_buf_append_str(&c, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"), CAMRTC_OK);
    for (int i = 0; i < CAMRTC_SDP_MAX_ATTRS + 5; i++)
        CHECK_EQ_INT(camrtc_buf_appendf(&c, "a=x-unknown-%d:v\r\n", i), CAMRTC_OK);
    rc = camrtc_sdp_parse((const char *)camrtc_buf_data(&c), c.len, &s, NULL, 0);
    camrtc_buf_free(&c);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(s->n_attrs, CAMRTC_SDP_MAX_ATTRS);
    CHECK_EQ_INT(s->dropped, 5);
    camrtc_sdp_free(s);
}

TEST(every_prefix_of_a_real_offer_is_safe)
{
    /* Truncated input ends in an error or a shorter description, never a crash (ASan). */
    size_t len;
    char *text = read_data("chromium_kvs_viewer.sdp", &len);
    CHECK(text);
    size_t ok = 0;
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        if (!copy)
            break;
        memcpy(copy, text, n);
        camrtc_sdp *s = NULL;
        if (camrtc_sdp_parse(copy, n, &s, NULL, 0) == CAMRTC_OK)
            ok++;
        camrtc_sdp_free(s);
        free(copy);
    }
    free(text);
    CHECK(ok > 0);
}

/* ---- refusing a whole offer, and the viewer seeing it ----------------------------------------- */

static const camrtc_sdp_local REFUSER = {.ice_ufrag = "nOpe", .ice_pwd = "refusedrefusedrefusedr", .fingerprint = FP};

/* Every section of the refusal mirrors the offer's: port 0, same media, proto and mid, in
 * order, the offer's first format; no BUNDLE group and no candidate. */
static void check_refusal_mirrors(const camrtc_sdp *offer, const camrtc_sdp *ans)
{
    CHECK_EQ_INT(ans->n_media, offer->n_media);
    CHECK_EQ_INT(ans->n_bundle, 0);
    for (size_t i = 0; i < offer->n_media && i < ans->n_media; i++) {
        const camrtc_sdp_media *o = &offer->media[i], *a = &ans->media[i];
        CHECK_EQ_INT(a->port, 0);
        CHECK(!a->bundle_only);
        CHECK_EQ_INT(a->type, o->type);
        CHECK_EQ_STR(a->media, o->media);
        CHECK_EQ_STR(a->proto, o->proto);
        CHECK_EQ_STR(a->mid, o->mid);
        CHECK_EQ_INT(a->n_candidates, 0);
        CHECK(!a->end_of_candidates);
        CHECK(a->msid == NULL && a->n_ssrcs == 0);
        if (o->rtp) {
            CHECK_EQ_INT(a->n_codecs, 1);
            CHECK_EQ_INT(a->codecs[0].pt, o->codecs[0].pt);
            CHECK_EQ_INT(a->direction, CAMRTC_SDP_INACTIVE);
        } else {
            CHECK_EQ_STR(a->fmt, o->fmt);
        }
    }
}

TEST(refusal_of_chromium_offer_rejects_video_audio_and_data_channel)
{
    camrtc_sdp *offer = parse_file("chromium_kvs_viewer.sdp");   /* video, audio, data channel */
    CHECK(offer);
    camrtc_sdp *ans = NULL;
    CHECK_EQ_INT(camrtc_sdp_reject_offer(offer, &REFUSER, &ans), CAMRTC_OK);
    camrtc_sdp *a = write_and_parse(ans);                         /* what goes on the wire */
    CHECK(a);
    check_refusal_mirrors(offer, a);
    CHECK_EQ_STR(a->media[0].media, "video");
    CHECK_EQ_STR(a->media[1].media, "audio");
    CHECK_EQ_STR(a->media[2].fmt, "webrtc-datachannel");
    /* With local: what aiortc checks on every section. */
    for (size_t i = 0; i < a->n_media; i++) {
        CHECK_EQ_STR(camrtc_sdp_ice_ufrag(a, &a->media[i]), "nOpe");
        CHECK_EQ_STR(camrtc_sdp_ice_pwd(a, &a->media[i]), "refusedrefusedrefusedr");
        CHECK_EQ_INT(camrtc_sdp_get_fingerprint(a, &a->media[i])->hash[0], 0xde);
        CHECK_EQ_INT(camrtc_sdp_get_setup(a, &a->media[i]), CAMRTC_SDP_SETUP_ACTIVE);   /* to actpass */
    }
    CHECK(a->media[0].rtcp_mux && a->media[1].rtcp_mux && !a->media[2].rtcp_mux);
    CHECK_EQ_INT(a->media[0].codecs[0].pt, 96);                   /* the offer's first: VP8 */
    CHECK_EQ_STR(a->media[0].codecs[0].name, "VP8");
    CHECK_EQ_STR(a->media[1].codecs[0].name, "opus");
    CHECK_EQ_INT(a->media[1].codecs[0].channels, 2);
    CHECK(!a->ice_trickle);
    bool all = false;
    CHECK(camrtc_sdp_answer_rejects_video(a, &all));
    CHECK(all);
    camrtc_sdp_free(a);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(offer);
}

TEST(refusal_without_local_is_the_bare_rfc_form)
{
    /* safari: audio first, then video, then a data channel; aiortc: video and an old-style
     * (DTLS/SCTP 5000) data channel. */
    static const char *const files[] = {"safari_audio_first.sdp", "aiortc_sendrecv_dc.sdp", "firefox_recvonly_dc.sdp"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        camrtc_sdp *offer = parse_file(files[f]);
        CHECK(offer);
        camrtc_sdp *ans = NULL;
        CHECK_EQ_INT(camrtc_sdp_reject_offer(offer, NULL, &ans), CAMRTC_OK);
        camrtc_sdp *a = write_and_parse(ans);
        CHECK(a);
        check_refusal_mirrors(offer, a);
        for (size_t i = 0; i < a->n_media; i++) {
            CHECK(camrtc_sdp_ice_ufrag(a, &a->media[i]) == NULL);
            CHECK_EQ_INT(camrtc_sdp_get_fingerprint(a, &a->media[i])->len, 0);
            CHECK_EQ_INT(camrtc_sdp_get_setup(a, &a->media[i]), CAMRTC_SDP_SETUP_NONE);
            CHECK(!a->media[i].rtcp_mux);
            CHECK(!a->media[i].rtp || a->media[i].codecs[0].name == NULL);   /* no rtpmap */
        }
        bool all = false;
        CHECK(camrtc_sdp_answer_rejects_video(a, &all));
        CHECK(all);
        camrtc_sdp_free(a);
        camrtc_sdp_free(ans);
        camrtc_sdp_free(offer);
    }
}

TEST(refusal_setup_and_config)
{
    /* An active offerer gets passive; holdconn (which camrtc_sdp_answer refuses) gets active. */
    static const char *const tmpl =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE v\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:v\r\na=setup:%s\r\na=rtcp-mux\r\na=rtpmap:102 H264/90000\r\n"
        "a=fmtp:102 packetization-mode=1;profile-level-id=42e00d\r\n";
    static const struct {
        const char *offered;
        camrtc_sdp_setup want;
    } cases[] = {{"active", CAMRTC_SDP_SETUP_PASSIVE}, {"passive", CAMRTC_SDP_SETUP_ACTIVE},
                 {"holdconn", CAMRTC_SDP_SETUP_ACTIVE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, tmpl, cases[i].offered);
        camrtc_sdp *offer = parse_str(text);
        CHECK(offer);
        camrtc_sdp *ans = NULL;
        CHECK_EQ_INT(camrtc_sdp_reject_offer(offer, &REFUSER, &ans), CAMRTC_OK);
        camrtc_sdp *a = write_and_parse(ans);
        CHECK(a);
        CHECK_EQ_INT(a->media[0].setup, cases[i].want);
        /* The echoed H.264 format keeps its fmtp: aiortc matches it before looking at the port. */
        CHECK_EQ_STR(a->media[0].codecs[0].fmtp, "packetization-mode=1;profile-level-id=42e00d");
        CHECK_EQ_STR(a->media[0].mid, "v");
        camrtc_sdp_free(a);
        camrtc_sdp_free(ans);
        camrtc_sdp_free(offer);
    }
    camrtc_sdp *offer = parse_file("aiortc_recvonly.sdp");
    CHECK(offer);
    camrtc_sdp_local bad = REFUSER;
    bad.ice_pwd = "short";
    camrtc_sdp *ans = (camrtc_sdp *)1;
    CHECK_EQ_INT(camrtc_sdp_reject_offer(offer, &bad, &ans), CAMRTC_EINVAL);
    CHECK(ans == NULL);
    CHECK_EQ_INT(camrtc_sdp_reject_offer(NULL, NULL, &ans), CAMRTC_EINVAL);
    camrtc_sdp_free(offer);
}

/* The viewer's side: its own offer, refused by the master, read back as refused; an
 * ordinary answer, a partly rejected one and a bundle-only section are not refusals. */
TEST(viewer_detects_a_refusal)
{
    camrtc_sdp_offer_config oc = {
        .local = {.ice_ufrag = "vIew", .ice_pwd = "viewerpasswordviewerpw", .fingerprint = FP, .trickle = true},
        .video_direction = CAMRTC_SDP_RECVONLY,
    };
    camrtc_sdp *mine = NULL;
    CHECK_EQ_INT(camrtc_sdp_create_offer(&oc, &mine), CAMRTC_OK);
    camrtc_sdp *offer = write_and_parse(mine);
    CHECK(offer);
    camrtc_sdp *refusal = NULL;
    CHECK_EQ_INT(camrtc_sdp_reject_offer(offer, &REFUSER, &refusal), CAMRTC_OK);
    camrtc_sdp *seen = write_and_parse(refusal);
    CHECK(seen);
    bool all = false;
    CHECK(camrtc_sdp_answer_rejects_video(seen, &all));
    CHECK(all);
    CHECK_EQ_INT(seen->media[0].codecs[0].pt, 102);
    CHECK_EQ_STR(seen->media[0].codecs[0].name, "H264");
    /* camrtc_sdp_accept_answer would refuse it too, but without saying it was a refusal. */
    camrtc_sdp_negotiated neg;
    CHECK_EQ_INT(camrtc_sdp_accept_answer(mine, seen, &neg, NULL, 0), CAMRTC_EUNSUPPORTED);

    /* An answer the master serves: not a refusal. */
    camrtc_sdp_answer_config cfg = master_config();
    camrtc_sdp *served = NULL;
    CHECK_EQ_INT(camrtc_sdp_answer(offer, &cfg, &served, &neg, NULL, 0), CAMRTC_OK);
    all = true;
    CHECK(!camrtc_sdp_answer_rejects_video(served, &all));
    CHECK(!all);

    /* Video rejected, audio accepted: the video is refused, not all media. */
    camrtc_sdp *partly = parse_str(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "m=video 0 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\na=inactive\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\n");
    CHECK(partly);
    CHECK(camrtc_sdp_answer_rejects_video(partly, &all));
    CHECK(!all);
    /* Port 0 with a=bundle-only rides on the BUNDLE transport (RFC 8843 §6): not rejected. */
    camrtc_sdp *bundled = parse_str(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 1 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\na=rtpmap:111 opus/48000/2\r\n"
        "m=video 0 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\na=bundle-only\r\n");
    CHECK(bundled);
    CHECK(!camrtc_sdp_answer_rejects_video(bundled, &all));
    /* No video section at all is a malformed answer, not a refusal; nor is nothing. */
    camrtc_sdp *no_video = parse_str("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                                     "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n");
    CHECK(no_video);
    CHECK(!camrtc_sdp_answer_rejects_video(no_video, &all));
    CHECK(all);
    CHECK(!camrtc_sdp_answer_rejects_video(NULL, &all));
    CHECK(!all);
    camrtc_sdp_free(no_video);
    camrtc_sdp_free(bundled);
    camrtc_sdp_free(partly);
    camrtc_sdp_free(served);
    camrtc_sdp_free(seen);
    camrtc_sdp_free(refusal);
    camrtc_sdp_free(offer);
    camrtc_sdp_free(mine);
}

TEST(fingerprint_values)
{
    camrtc_sdp_fingerprint fp;
    CHECK_EQ_INT(camrtc_sdp_fingerprint_parse(&fp, "SHA-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"),
                 CAMRTC_OK);
    CHECK_EQ_STR(fp.alg, "sha-1");
    CHECK_EQ_INT(fp.len, 20);
    CHECK_EQ_INT(fp.hash[10], 0xaa);
    CHECK_EQ_INT(camrtc_sdp_fingerprint_parse(&fp, "md5 00:11:22"), CAMRTC_EUNSUPPORTED);
    CHECK_EQ_INT(camrtc_sdp_fingerprint_parse(&fp, "sha-1 00:11:22"), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_sdp_fingerprint_parse(&fp, "sha-1"), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_sdp_fingerprint_parse(
                     &fp, "sha-1 00-11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"),
                 CAMRTC_EPROTO);
}

int main(void)
{
    return RUN_TESTS(parse_chromium_kvs_viewer, parse_aiortc_candidates_and_ssrc, parse_firefox_session_level,
                     answer_chromium_kvs_viewer, answer_chromium_accepts_audio_when_asked, answer_chromium_recvonly_dc,
                     answer_aiortc_recvonly, answer_aiortc_sendrecv_with_data_channel, answer_firefox,
                     answer_safari_audio_first, h264_only_main, h264_only_high_level_min, h264_level_asymmetry,
                     h264_level_1b, h264_mode0, h264_preference_order, h264_unacceptable_gives_reason,
                     h264_no_h264_at_all, h264_profile_table, feedback_and_rtx_follow_config,
                     answer_without_bundle_and_wildcard_feedback,
                     offer_missing_webrtc_parts_is_refused, answer_config_is_checked,
                     viewer_offer_master_answer_viewer_accepts, viewer_rejects_answer_with_other_profile,
                     round_trip_every_file, malformed_lines_are_errors, bounds_are_enforced,
                     every_prefix_of_a_real_offer_is_safe, fingerprint_values,
                     refusal_of_chromium_offer_rejects_video_audio_and_data_channel,
                     refusal_without_local_is_the_bare_rfc_form, refusal_setup_and_config, viewer_detects_a_refusal);
}
