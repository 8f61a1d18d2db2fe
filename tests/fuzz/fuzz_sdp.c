/* Fuzzes the SDP parser, the writer, and the answer/accept negotiation. Whatever the
 * parser accepts, the writer must write, and parsing that text must give a description
 * that writes the same text again (the writer's output is what the other end parses).
 * Every answer we make must parse back, the refusal of any offer too (and read as a
 * refusal when the offer has video). Malformed input is an error, never a crash. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/sdp.h"

static const uint8_t FP[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                               17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char *const CANDS[] = {"candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host"};

/* Write sdp, parse the text, write again: the two texts must match. The first text is
 * left in *text for the caller (freed by it). */
static void round_trip(const camrtc_sdp *sdp, camrtc_buf *text)
{
    if (camrtc_sdp_write(sdp, text) != 0)
        abort();
    camrtc_sdp *back = NULL;
    if (camrtc_sdp_parse((const char *)camrtc_buf_data(text), text->len, &back, NULL, 0) != 0)
        abort();
    camrtc_buf again = {0};
    if (camrtc_sdp_write(back, &again) != 0 || again.len != text->len ||
        memcmp(camrtc_buf_data(&again), camrtc_buf_data(text), text->len) != 0)
        abort();
    camrtc_buf_free(&again);
    camrtc_sdp_free(back);
}

static void negotiate(const camrtc_sdp *offer)
{
    camrtc_sdp_answer_config cfg = {
        .local = {.ice_ufrag = "fUzZ", .ice_pwd = "fuzzpasswordfuzzpasswd", .fingerprint = FP, .trickle = true,
                  .candidates = CANDS, .n_candidates = 1, .end_of_candidates = true, .video_ssrc = 1,
                  .rtx_ssrc = 2},
        .video_send = true,
        .accept_audio = offer->n_media & 1,
    };
    camrtc_sdp *answer = NULL;
    camrtc_sdp_negotiated neg;
    char reason[256];
    if (camrtc_sdp_answer(offer, &cfg, &answer, &neg, reason, sizeof reason) == 0) {
        if (!neg.video || !neg.remote_ufrag || !neg.transport)
            abort();
        camrtc_buf text = {0};
        round_trip(answer, &text);
        camrtc_buf_free(&text);
        /* Read our own answer as if the input were our offer. */
        camrtc_sdp_negotiated back;
        camrtc_sdp_accept_answer(offer, answer, &back, reason, sizeof reason);
        camrtc_sdp_free(answer);
    } else if (answer) {
        abort();
    }
}

/* The refusal of the input as an offer, bare and with our transport attributes: every
 * section rejected, in order, and a viewer must see it as refused when there is video.
 * The input read as an answer exercises the viewer's check on anything. */
static void refuse(const camrtc_sdp *offer)
{
    static const camrtc_sdp_local local = {.ice_ufrag = "fUzZ", .ice_pwd = "fuzzpasswordfuzzpasswd", .fingerprint = FP};
    bool has_video = false, all;
    for (size_t i = 0; i < offer->n_media; i++)
        has_video |= offer->media[i].type == CAMRTC_SDP_VIDEO;
    for (int with_local = 0; with_local < 2; with_local++) {
        camrtc_sdp *answer = NULL;
        if (camrtc_sdp_reject_offer(offer, with_local ? &local : NULL, &answer) != 0)
            abort();
        if (answer->n_media != offer->n_media || answer->n_bundle != 0)
            abort();
        for (size_t i = 0; i < answer->n_media; i++)
            if (answer->media[i].port != 0 || answer->media[i].type != offer->media[i].type)
                abort();
        camrtc_buf text = {0};
        round_trip(answer, &text);
        camrtc_sdp *back = NULL;
        if (camrtc_sdp_parse((const char *)camrtc_buf_data(&text), text.len, &back, NULL, 0) != 0 ||
            camrtc_sdp_answer_rejects_video(back, &all) != has_video || all != (back->n_media > 0))
            abort();
        camrtc_sdp_free(back);
        camrtc_buf_free(&text);
        camrtc_sdp_free(answer);
    }
    camrtc_sdp_answer_rejects_video(offer, &all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    camrtc_sdp *sdp = NULL;
    char reason[256];
    if (camrtc_sdp_parse((const char *)data, size, &sdp, reason, sizeof reason) == 0) {
        camrtc_buf text = {0};
        round_trip(sdp, &text);
        camrtc_buf_free(&text);
        negotiate(sdp);
        refuse(sdp);
        camrtc_sdp_free(sdp);
    } else if (sdp) {
        abort();
    }
    /* The value parsers on the raw input as a string. */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    camrtc_sdp_h264_fmtp f;
    camrtc_sdp_h264_fmtp_parse(&f, s);
    camrtc_sdp_fingerprint fp;
    camrtc_sdp_fingerprint_parse(&fp, s);
    free(s);
    return 0;
}
