/* One encoder for every viewer (camrtc_sdp_h264_*): the labels a stream may carry, the
 * levels an offer accepts per profile, and every branch of the decision (keep, switch
 * when alone, refuse when others watch another profile, refuse a level too low, refuse
 * no usable profile); then the plan fed to camrtc_sdp_answer gives an answer whose
 * profile and level are what the encoder makes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/sdp.h"
#include "check.h"

#define CB CAMRTC_SDP_H264_CONSTRAINED_BASELINE
#define BL CAMRTC_SDP_H264_BASELINE
#define MAIN CAMRTC_SDP_H264_MAIN
#define CHIGH CAMRTC_SDP_H264_CONSTRAINED_HIGH
#define HIGH CAMRTC_SDP_H264_HIGH
#define OTHER CAMRTC_SDP_H264_OTHER
#define BIT(p) (1u << (p))

static const uint8_t FP[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                               17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* An offer with one video section (after a disabled one when asked); each entry of fmts
 * is "pt encoding packetization-mode profile-level-id". */
static camrtc_sdp *offer_with(const char *const *fmts, size_t n, bool disabled_first)
{
    char text[8192];
    size_t len = (size_t)snprintf(text, sizeof text,
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 1\r\n");
    if (disabled_first)   /* a video section the offerer turned off (port 0): not looked at */
        len += (size_t)snprintf(text + len, sizeof text - len,
            "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=rtpmap:96 H264/90000\r\n"
            "a=fmtp:96 packetization-mode=1;profile-level-id=640034\r\n");
    char pts[256] = "";
    size_t pl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned pt = (unsigned)atoi(fmts[i]);
        pl += (size_t)snprintf(pts + pl, sizeof pts - pl, " %u", pt);
    }
    len += (size_t)snprintf(text + len, sizeof text - len,
        "m=video 9 UDP/TLS/RTP/SAVPF%s\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
        "a=rtcp-mux\r\na=recvonly\r\n", pts,
        "AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB");
    for (size_t i = 0; i < n; i++) {
        unsigned pt, mode;
        char plid[16], name[16];
        if (sscanf(fmts[i], "%u %15s %u %15s", &pt, name, &mode, plid) != 4)
            return NULL;
        len += (size_t)snprintf(text + len, sizeof text - len,
            "a=rtpmap:%u %s/90000\r\na=fmtp:%u level-asymmetry-allowed=1;packetization-mode=%u;"
            "profile-level-id=%s\r\n", pt, name, pt, mode, plid);
    }
    camrtc_sdp *sdp = NULL;
    char reason[128] = "";
    if (camrtc_sdp_parse(text, len, &sdp, reason, sizeof reason) != CAMRTC_OK)
        fprintf(stderr, "parse: %s\n", reason);
    return sdp;
}

static void levels_of(const char *const *fmts, size_t n, int levels[CAMRTC_SDP_H264_NPROFILES])
{
    camrtc_sdp *o = offer_with(fmts, n, false);
    camrtc_sdp_h264_offer_levels(o, true, levels);
    camrtc_sdp_free(o);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

TEST(labels_say_what_a_stream_of_each_profile_may_be_called)
{
    CHECK_EQ_INT(camrtc_sdp_h264_labels(CB), BIT(CB) | BIT(BL));
    CHECK_EQ_INT(camrtc_sdp_h264_labels(MAIN), BIT(MAIN));
    CHECK_EQ_INT(camrtc_sdp_h264_labels(HIGH), BIT(HIGH) | BIT(CHIGH));
    CHECK_EQ_INT(camrtc_sdp_h264_labels(BL), 0);        /* not something we encode */
    CHECK_EQ_INT(camrtc_sdp_h264_labels(OTHER), 0);
}

TEST(offer_levels_keep_the_highest_per_profile_of_usable_payload_types)
{
    static const char *const f[] = {
        "96 H264 1 42e01e",      /* CB 3.0 */
        "97 H264 1 42e01f",      /* CB 3.1: the higher one stays */
        "98 H264 0 42e034",      /* CB 5.2 but mode 0: we packetize with mode 1 only */
        "99 H264 1 42001f",      /* Baseline 3.1 */
        "100 H264 2 4d0034",     /* Main, mode 2 (interleaved): never */
        "101 H264 1 640c28",     /* Constrained High 4.0 */
        "102 VP8 1 000000",      /* not H.264 */
        "103 H264 1 f4001f",     /* High 4:4:4: OTHER */
        "104 H264 1 42f00b",     /* CB level 1b (11 + constraint_set3) */
        "105 H264 1 zz0000",     /* malformed: skipped */
    };
    camrtc_sdp *o = offer_with(f, N(f), true);
    CHECK(o != NULL);
    int lv[CAMRTC_SDP_H264_NPROFILES];
    camrtc_sdp_h264_offer_levels(o, true, lv);
    CHECK_EQ_INT(lv[CB], 31);
    CHECK_EQ_INT(lv[BL], 31);
    CHECK_EQ_INT(lv[MAIN], 0);
    CHECK_EQ_INT(lv[CHIGH], 40);
    CHECK_EQ_INT(lv[HIGH], 0);                          /* the disabled section's 640034 */
    CHECK_EQ_INT(lv[OTHER], 31);
    camrtc_sdp_h264_offer_levels(o, false, lv);         /* mode 0 allowed */
    CHECK_EQ_INT(lv[CB], 52);
    camrtc_sdp_free(o);
    camrtc_sdp_h264_offer_levels(NULL, true, lv);
    CHECK_EQ_INT(lv[CB], 0);

    static const char *const only_1b[] = {"96 H264 1 42f00b"};
    levels_of(only_1b, 1, lv);
    CHECK_EQ_INT(lv[CB], CAMRTC_SDP_H264_LEVEL_1B);
}

TEST(compatible_offer_keeps_the_current_profile)
{
    static const char *const f[] = {"96 H264 1 42e01f", "97 H264 1 640c1f"};
    int lv[CAMRTC_SDP_H264_NPROFILES];
    levels_of(f, N(f), lv);
    camrtc_sdp_h264_plan p;
    /* Alone or not, nothing changes when the offer takes what the encoder makes. */
    camrtc_sdp_h264_decide(lv, CB, 31, true, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_KEEP);
    CHECK_EQ_INT(p.encode, CB);
    CHECK_EQ_INT(p.labels, BIT(CB));
    camrtc_sdp_h264_decide(lv, HIGH, 31, false, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_KEEP);
    CHECK_EQ_INT(p.encode, HIGH);
    CHECK_EQ_INT(p.labels, BIT(CHIGH));
    /* A constrained baseline stream may go out labelled as the offer's Baseline. */
    static const char *const b[] = {"96 H264 1 42001f"};
    levels_of(b, N(b), lv);
    camrtc_sdp_h264_decide(lv, CB, 31, false, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_KEEP);
    CHECK_EQ_INT(p.labels, BIT(BL));
}

TEST(an_offer_of_another_profile_switches_the_encoder_when_alone)
{
    static const char *const hi[] = {"96 H264 1 640c1f"};
    int lv[CAMRTC_SDP_H264_NPROFILES];
    levels_of(hi, N(hi), lv);
    camrtc_sdp_h264_plan p;
    camrtc_sdp_h264_decide(lv, CB, 31, true, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_SWITCH);
    CHECK_EQ_INT(p.encode, HIGH);
    CHECK_EQ_INT(p.labels, BIT(CHIGH));
    /* Several would do: the most widely decodable first (main before high). */
    static const char *const mh[] = {"96 H264 1 640c1f", "97 H264 1 4d001f"};
    levels_of(mh, N(mh), lv);
    camrtc_sdp_h264_decide(lv, CB, 31, true, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_SWITCH);
    CHECK_EQ_INT(p.encode, MAIN);
    CHECK_EQ_INT(p.labels, BIT(MAIN));
    /* The current profile offered only below the level we need: switch to one that fits. */
    static const char *const low_cb[] = {"96 H264 1 42e01e", "97 H264 1 640032"};
    levels_of(low_cb, N(low_cb), lv);
    camrtc_sdp_h264_decide(lv, CB, 31, true, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_SWITCH);
    CHECK_EQ_INT(p.encode, HIGH);
    CHECK_EQ_INT(p.labels, BIT(HIGH));
}

TEST(an_offer_of_another_profile_is_refused_while_others_watch)
{
    static const char *const cb[] = {"96 H264 1 42e01f"};
    int lv[CAMRTC_SDP_H264_NPROFILES];
    levels_of(cb, N(cb), lv);
    camrtc_sdp_h264_plan p;
    camrtc_sdp_h264_decide(lv, HIGH, 31, false, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_REFUSE_BUSY);
    CHECK_EQ_INT(p.encode, CB);                         /* what it would have taken */
    CHECK_EQ_INT(p.labels, 0);
}

TEST(an_offer_whose_levels_are_all_too_low_is_refused)
{
    static const char *const f[] = {"96 H264 1 42e01e", "97 H264 1 640c16", "98 H264 1 f40034"};
    int lv[CAMRTC_SDP_H264_NPROFILES];
    levels_of(f, N(f), lv);
    camrtc_sdp_h264_plan p;
    for (int alone = 0; alone < 2; alone++) {
        camrtc_sdp_h264_decide(lv, CB, 31, alone, &p);
        CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_REFUSE_LEVEL);
        CHECK_EQ_INT(p.offer_level, 30);                /* High 4:4:4 at 5.2 is not ours */
        CHECK_EQ_INT(p.labels, 0);
    }
    camrtc_sdp_h264_decide(lv, CB, 30, false, &p);      /* a smaller picture fits */
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_KEEP);
    /* 1b ranks between 1.0 and 1.1. */
    static const char *const b1[] = {"96 H264 1 42f00b"};
    levels_of(b1, N(b1), lv);
    camrtc_sdp_h264_decide(lv, CB, 11, true, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_REFUSE_LEVEL);
    CHECK_EQ_INT(p.offer_level, CAMRTC_SDP_H264_LEVEL_1B);
    camrtc_sdp_h264_decide(lv, CB, 10, true, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_KEEP);
}

TEST(an_offer_without_a_profile_we_make_is_refused)
{
    static const char *const f[] = {"96 H264 1 f4001f", "97 VP8 1 000000", "98 H264 0 42e01f"};
    int lv[CAMRTC_SDP_H264_NPROFILES];
    levels_of(f, N(f), lv);
    camrtc_sdp_h264_plan p;
    camrtc_sdp_h264_decide(lv, CB, 31, true, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_REFUSE_PROFILE);
    CHECK_EQ_INT(p.offer_level, 0);
    camrtc_sdp_h264_offer_levels(NULL, true, lv);
    camrtc_sdp_h264_decide(lv, HIGH, 31, false, &p);
    CHECK_EQ_INT(p.verdict, CAMRTC_SDP_H264_REFUSE_PROFILE);
}

/* The plan's labels and level, given to camrtc_sdp_answer as the master does: the answer
 * carries the profile the encoder makes, at the level it encodes, even when the offer
 * also has a lower-level payload type of a profile higher in the answer's own order. */
static void answer_with_plan(const char *const *f, size_t n, camrtc_sdp_h264_profile current, int need,
                             camrtc_sdp_h264_profile want_encode, camrtc_sdp_h264_profile want_label,
                             uint8_t want_pt)
{
    camrtc_sdp *o = offer_with(f, n, false);
    CHECK(o != NULL);
    int lv[CAMRTC_SDP_H264_NPROFILES];
    camrtc_sdp_h264_offer_levels(o, true, lv);
    camrtc_sdp_h264_plan p;
    camrtc_sdp_h264_decide(lv, current, need, true, &p);
    CHECK(p.verdict == CAMRTC_SDP_H264_KEEP || p.verdict == CAMRTC_SDP_H264_SWITCH);
    camrtc_sdp_answer_config cfg = {
        .local = {.ice_ufrag = "mAsT", .ice_pwd = "masterpasswordmasterpw", .fingerprint = FP,
                  .video_ssrc = 1111, .no_rtx = true, .h264_no_mode0 = true,
                  .h264_profiles = p.labels, .h264_max_level = need},
        .video_send = true,
    };
    camrtc_sdp *ans = NULL;
    camrtc_sdp_negotiated neg;
    char reason[256] = "";
    int rc = camrtc_sdp_answer(o, &cfg, &ans, &neg, reason, sizeof reason);
    if (rc != CAMRTC_OK)
        fprintf(stderr, "answer: %s\n", reason);
    CHECK_EQ_INT(rc, CAMRTC_OK);
    CHECK_EQ_INT(neg.encode_profile, want_encode);
    CHECK_EQ_INT(neg.profile, want_label);
    CHECK_EQ_INT(neg.video_pt, want_pt);
    CHECK_EQ_INT(neg.send_level, need);
    camrtc_sdp_free(ans);
    camrtc_sdp_free(o);
}

TEST(the_answer_follows_the_plan)
{
    /* CB offered at 3.0 and 3.1 (Baseline label): the 3.1 one, as Baseline. */
    static const char *const a[] = {"96 H264 1 42e01e", "97 H264 1 42001f"};
    answer_with_plan(a, N(a), CB, 31, CB, BL, 97);
    /* Alone and the offer wants High: High, answered on its payload type. */
    static const char *const b[] = {"96 H264 1 640c1f"};
    answer_with_plan(b, N(b), CB, 31, HIGH, CHIGH, 96);
    /* Main offered next to a too-low CB: main. */
    static const char *const c[] = {"96 H264 1 42e00d", "97 H264 1 4d0028"};
    answer_with_plan(c, N(c), HIGH, 31, MAIN, MAIN, 97);
}

int main(void)
{
    return RUN_TESTS(labels_say_what_a_stream_of_each_profile_may_be_called,
                     offer_levels_keep_the_highest_per_profile_of_usable_payload_types,
                     compatible_offer_keeps_the_current_profile,
                     an_offer_of_another_profile_switches_the_encoder_when_alone,
                     an_offer_of_another_profile_is_refused_while_others_watch,
                     an_offer_whose_levels_are_all_too_low_is_refused,
                     an_offer_without_a_profile_we_make_is_refused,
                     the_answer_follows_the_plan);
}
