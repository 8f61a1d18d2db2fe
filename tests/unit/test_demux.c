/* RFC 7983 first-byte demultiplexing and the RFC 5761 RTP/RTCP split. */
#include "camrtc/demux.h"
#include "check.h"

TEST(first_byte_ranges)
{
    /* Every byte value, against the table of RFC 7983 section 7. */
    for (int b = 0; b < 256; b++) {
        camrtc_demux_class want = CAMRTC_DEMUX_OTHER;
        if (b <= 3)
            want = CAMRTC_DEMUX_STUN;
        else if (b >= 20 && b <= 63)
            want = CAMRTC_DEMUX_DTLS;
        else if (b >= 64 && b <= 79)
            want = CAMRTC_DEMUX_TURN_CHANNEL;
        else if (b >= 128 && b <= 191)
            want = CAMRTC_DEMUX_RTP;
        CHECK_EQ_INT(camrtc_demux_classify((uint8_t)b), want);
    }
    CHECK_EQ_INT(camrtc_demux_classify(16), CAMRTC_DEMUX_OTHER); /* ZRTP */
    CHECK_EQ_INT(camrtc_demux_classify(22), CAMRTC_DEMUX_DTLS);  /* handshake record */
    CHECK_EQ_INT(camrtc_demux_classify(0x40), CAMRTC_DEMUX_TURN_CHANNEL);
}

TEST(rtp_versus_rtcp)
{
    uint8_t p[12] = {0x80, 96};
    CHECK_EQ_INT(camrtc_demux_classify_packet(p, 12), CAMRTC_DEMUX_RTP);
    p[1] = 96 | 0x80; /* marker bit set: still RTP */
    CHECK_EQ_INT(camrtc_demux_classify_packet(p, 12), CAMRTC_DEMUX_RTP);
    CHECK_EQ_INT(camrtc_demux_classify_packet(p, 11), CAMRTC_DEMUX_OTHER); /* short RTP */
    static const uint8_t rtcp_types[] = {192, 200, 201, 202, 203, 204, 205, 206, 207, 223};
    for (size_t i = 0; i < sizeof rtcp_types; i++) {
        p[1] = rtcp_types[i];
        CHECK_EQ_INT(camrtc_demux_classify_packet(p, 8), CAMRTC_DEMUX_RTCP);
    }
    p[1] = 200;
    CHECK_EQ_INT(camrtc_demux_classify_packet(p, 7), CAMRTC_DEMUX_OTHER);
    p[1] = 224; /* marker + PT 96 */
    CHECK_EQ_INT(camrtc_demux_classify_packet(p, 12), CAMRTC_DEMUX_RTP);
    p[1] = 191; /* marker + PT 63 */
    CHECK_EQ_INT(camrtc_demux_classify_packet(p, 12), CAMRTC_DEMUX_RTP);
}

TEST(other_protocols_and_edges)
{
    uint8_t stun[20] = {0x00, 0x01};
    CHECK_EQ_INT(camrtc_demux_classify_packet(stun, 20), CAMRTC_DEMUX_STUN);
    uint8_t dtls[13] = {22, 0xfe, 0xfd};
    CHECK_EQ_INT(camrtc_demux_classify_packet(dtls, 13), CAMRTC_DEMUX_DTLS);
    uint8_t chan[4] = {0x40, 0x00, 0x00, 0x00};
    CHECK_EQ_INT(camrtc_demux_classify_packet(chan, 4), CAMRTC_DEMUX_TURN_CHANNEL);
    uint8_t junk[1] = {200};
    CHECK_EQ_INT(camrtc_demux_classify_packet(junk, 1), CAMRTC_DEMUX_OTHER);
    CHECK_EQ_INT(camrtc_demux_classify_packet(NULL, 0), CAMRTC_DEMUX_OTHER);
    CHECK_EQ_INT(camrtc_demux_classify_packet(stun, 0), CAMRTC_DEMUX_OTHER);
    uint8_t rtp1[1] = {0x80}; /* first byte says RTP, nothing else there */
    CHECK_EQ_INT(camrtc_demux_classify_packet(rtp1, 1), CAMRTC_DEMUX_OTHER);
    CHECK_EQ_STR(camrtc_demux_class_name(CAMRTC_DEMUX_DTLS), "dtls");
    CHECK_EQ_STR(camrtc_demux_class_name(CAMRTC_DEMUX_RTCP), "rtcp");
    CHECK_EQ_STR(camrtc_demux_class_name((camrtc_demux_class)99), "other");
}

int main(void)
{
    return RUN_TESTS(first_byte_ranges, rtp_versus_rtcp, other_protocols_and_edges);
}
