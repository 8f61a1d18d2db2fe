/* One encoder for every viewer: which H.264 profile an offer is answered with, whether
 * the encoder must switch first, or why the offer is refused (camrtc/sdp.h). Pure
 * functions: the caller owns the encoder and the list of viewers. */
#include <strings.h>

#include "camrtc/error.h"
#include "sdp/sdp_int.h"

/* The encoder profiles in the order a switch picks them: the most widely decodable first,
 * as camrtc_sdp_answer orders the payload types it may choose. */
static const camrtc_sdp_h264_profile encode_order[] = {
    CAMRTC_SDP_H264_CONSTRAINED_BASELINE, CAMRTC_SDP_H264_MAIN, CAMRTC_SDP_H264_HIGH,
};

#define BIT(p) (1u << (p))

unsigned camrtc_sdp_h264_labels(camrtc_sdp_h264_profile encode)
{
    switch (encode) {
    case CAMRTC_SDP_H264_CONSTRAINED_BASELINE:
        return BIT(CAMRTC_SDP_H264_CONSTRAINED_BASELINE) | BIT(CAMRTC_SDP_H264_BASELINE);
    case CAMRTC_SDP_H264_MAIN:
        return BIT(CAMRTC_SDP_H264_MAIN);
    case CAMRTC_SDP_H264_HIGH:
        return BIT(CAMRTC_SDP_H264_HIGH) | BIT(CAMRTC_SDP_H264_CONSTRAINED_HIGH);
    default:
        return 0;
    }
}

/* The section camrtc_sdp_answer would look at first for video. */
static const camrtc_sdp_media *first_video(const camrtc_sdp *offer)
{
    for (size_t i = 0; i < offer->n_media; i++) {
        const camrtc_sdp_media *m = &offer->media[i];
        if (m->type == CAMRTC_SDP_VIDEO && m->rtp && (m->port != 0 || m->bundle_only))
            return m;
    }
    return NULL;
}

void camrtc_sdp_h264_offer_levels(const camrtc_sdp *offer, bool no_mode0, int levels[CAMRTC_SDP_H264_NPROFILES])
{
    for (int p = 0; p < CAMRTC_SDP_H264_NPROFILES; p++)
        levels[p] = 0;
    const camrtc_sdp_media *m = offer ? first_video(offer) : NULL;
    for (size_t i = 0; m && i < m->n_codecs; i++) {
        const camrtc_sdp_codec *c = &m->codecs[i];
        camrtc_sdp_h264_fmtp f;
        if (!c->name || strcasecmp(c->name, "H264") != 0 || c->clock != 90000 ||
            camrtc_sdp_h264_fmtp_parse(&f, c->fmtp) != CAMRTC_OK)
            continue;
        /* RFC 6184 §6.2: mode 2 (interleaved) we never send; mode 0 only when allowed. */
        if (f.packetization_mode == 2 || (f.packetization_mode == 0 && no_mode0))
            continue;
        if (levels[f.profile] == 0 || sdp_h264_level_rank(f.level) > sdp_h264_level_rank(levels[f.profile]))
            levels[f.profile] = f.level;
    }
}

/* The labels of encode that the offer has at need_level or above. */
static unsigned labels_at_level(const int levels[], camrtc_sdp_h264_profile encode, int need_level)
{
    unsigned labels = camrtc_sdp_h264_labels(encode), ok = 0;
    for (int p = 0; p < CAMRTC_SDP_H264_NPROFILES; p++)
        if ((labels & BIT(p)) && levels[p] != 0 &&
            sdp_h264_level_rank(levels[p]) >= sdp_h264_level_rank(need_level))
            ok |= BIT(p);
    return ok;
}

/* The highest level offered for any label of a profile we make (0 = none). */
static int best_level(const int levels[])
{
    int best = 0;
    for (size_t k = 0; k < sizeof encode_order / sizeof encode_order[0]; k++) {
        unsigned labels = camrtc_sdp_h264_labels(encode_order[k]);
        for (int p = 0; p < CAMRTC_SDP_H264_NPROFILES; p++)
            if ((labels & BIT(p)) && levels[p] != 0 &&
                (best == 0 || sdp_h264_level_rank(levels[p]) > sdp_h264_level_rank(best)))
                best = levels[p];
    }
    return best;
}

void camrtc_sdp_h264_decide(const int levels[CAMRTC_SDP_H264_NPROFILES], camrtc_sdp_h264_profile current,
                            int need_level, bool can_switch, camrtc_sdp_h264_plan *out)
{
    *out = (camrtc_sdp_h264_plan){.verdict = CAMRTC_SDP_H264_KEEP, .encode = current,
                                  .offer_level = best_level(levels)};
    out->labels = labels_at_level(levels, current, need_level);
    if (out->labels)
        return;
    for (size_t k = 0; k < sizeof encode_order / sizeof encode_order[0]; k++) {
        unsigned labels = labels_at_level(levels, encode_order[k], need_level);
        if (!labels)
            continue;
        out->encode = encode_order[k];
        if (can_switch) {
            out->verdict = CAMRTC_SDP_H264_SWITCH;
            out->labels = labels;
        } else {
            out->verdict = CAMRTC_SDP_H264_REFUSE_BUSY;
        }
        return;
    }
    out->verdict = out->offer_level ? CAMRTC_SDP_H264_REFUSE_LEVEL : CAMRTC_SDP_H264_REFUSE_PROFILE;
}
