/* RFC 7983 first-byte demultiplexing and the RFC 5761 RTP/RTCP split. */
#include "camrtc/demux.h"

camrtc_demux_class camrtc_demux_classify(uint8_t b)
{
    if (b <= 3)
        return CAMRTC_DEMUX_STUN;
    if (b >= 20 && b <= 63)
        return CAMRTC_DEMUX_DTLS;
    if (b >= 64 && b <= 79)
        return CAMRTC_DEMUX_TURN_CHANNEL;
    if (b >= 128 && b <= 191)
        return CAMRTC_DEMUX_RTP;
    return CAMRTC_DEMUX_OTHER;
}

camrtc_demux_class camrtc_demux_classify_packet(const uint8_t *data, size_t len)
{
    if (!data || len == 0)
        return CAMRTC_DEMUX_OTHER;
    camrtc_demux_class c = camrtc_demux_classify(data[0]);
    if (c != CAMRTC_DEMUX_RTP)
        return c;
    if (len >= 2 && data[1] >= 192 && data[1] <= 223)
        return len >= 8 ? CAMRTC_DEMUX_RTCP : CAMRTC_DEMUX_OTHER;
    return len >= 12 ? CAMRTC_DEMUX_RTP : CAMRTC_DEMUX_OTHER;
}

const char *camrtc_demux_class_name(camrtc_demux_class c)
{
    switch (c) {
    case CAMRTC_DEMUX_STUN:
        return "stun";
    case CAMRTC_DEMUX_DTLS:
        return "dtls";
    case CAMRTC_DEMUX_TURN_CHANNEL:
        return "turn-channel";
    case CAMRTC_DEMUX_RTP:
        return "rtp";
    case CAMRTC_DEMUX_RTCP:
        return "rtcp";
    default:
        return "other";
    }
}
