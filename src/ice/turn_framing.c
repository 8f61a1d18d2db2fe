/* TURN framing: ChannelData messages (RFC 8656 §12.4, §12.5) and cutting a TCP/TLS
 * byte stream into whole STUN / ChannelData messages. */
#include <string.h>

#include "camrtc/bytes.h"
#include "camrtc/error.h"
#include "camrtc/stun.h"
#include "camrtc/turn.h"
#include "ice/turn_int.h"

bool camrtc_turn_is_channel_data(const uint8_t *data, size_t len)
{
    /* RFC 7983 §7: a first byte of 64..79 is TURN ChannelData; the header keeps the
     * wider 64..127 so reserved channel numbers still reach the client and get counted. */
    return len >= TURN_CHANNEL_HEADER && data[0] >= 0x40 && data[0] <= 0x7F;
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

int camrtc_turn_frame_len(const uint8_t *data, size_t avail)
{
    if (avail == 0)
        return 0;
    if (data[0] <= 3) {
        /* STUN (first byte 0..3, RFC 7983 §7): a 20-byte header whose length field counts the attributes (RFC 8489 §5).
         * Check what can be checked as soon as the bytes are there, so a garbage stream
         * is refused early rather than waited on. */
        if (avail >= 4 && (camrtc_rd16(data + 2) & 3) != 0)
            return CAMRTC_EPROTO;
        if (avail >= 8) {
            uint32_t cookie = ((uint32_t)data[4] << 24) | ((uint32_t)data[5] << 16) |
                              ((uint32_t)data[6] << 8) | data[7];
            if (cookie != CAMRTC_STUN_MAGIC)
                return CAMRTC_EPROTO;
        }
        if (avail < CAMRTC_STUN_HEADER)
            return 0;
        size_t total = CAMRTC_STUN_HEADER + (size_t)camrtc_rd16(data + 2);
        return avail >= total ? (int)total : 0;
    }
    if (data[0] >= 0x40 && data[0] <= 0x7F) {
        /* ChannelData: over a stream it is padded to a multiple of 4 (§12.5). */
        if (avail < TURN_CHANNEL_HEADER)
            return 0;
        size_t total = TURN_CHANNEL_HEADER + pad4(camrtc_rd16(data + 2));
        return avail >= total ? (int)total : 0;
    }
    return CAMRTC_EPROTO;
}

int turn_write_channel_data(uint8_t *out, size_t cap, uint16_t channel, const uint8_t *data,
                            size_t len, bool stream)
{
    size_t total = TURN_CHANNEL_HEADER + (stream ? pad4(len) : len);
    if (len > 0xFFFF || total > cap)
        return CAMRTC_ETOOBIG;
    out[0] = (uint8_t)(channel >> 8);
    out[1] = (uint8_t)channel;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    if (len)
        memcpy(out + TURN_CHANNEL_HEADER, data, len);
    memset(out + TURN_CHANNEL_HEADER + len, 0, total - TURN_CHANNEL_HEADER - len);
    return (int)total;
}

int turn_read_channel_data(const uint8_t *msg, size_t len, uint16_t *channel, const uint8_t **data,
                           size_t *data_len)
{
    if (len < TURN_CHANNEL_HEADER)
        return CAMRTC_EPROTO;
    size_t n = camrtc_rd16(msg + 2);
    if (n > len - TURN_CHANNEL_HEADER)
        return CAMRTC_EPROTO;
    *channel = camrtc_rd16(msg);
    *data = msg + TURN_CHANNEL_HEADER;
    *data_len = n;
    return CAMRTC_OK;
}
