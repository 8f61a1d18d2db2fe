/* Big-endian (network order) reads and writes of 16/24/32/64-bit fields, for the wire
 * codecs (STUN, TURN, RTP/RTCP, DTLS glue). The caller checks the bounds first. */
#ifndef CAMRTC_BYTES_H
#define CAMRTC_BYTES_H

#include <stdint.h>

static inline uint16_t camrtc_rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t camrtc_rd24(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static inline uint32_t camrtc_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t camrtc_rd64(const uint8_t *p)
{
    return (uint64_t)camrtc_rd32(p) << 32 | camrtc_rd32(p + 4);
}

static inline void camrtc_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void camrtc_wr24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static inline void camrtc_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void camrtc_wr64(uint8_t *p, uint64_t v)
{
    camrtc_wr32(p, (uint32_t)(v >> 32));
    camrtc_wr32(p + 4, (uint32_t)v);
}

#endif
