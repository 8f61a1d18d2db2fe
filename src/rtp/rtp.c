/* RTP header parse and write (RFC 3550 §5.1) with header extensions in the one-byte and
 * two-byte forms of RFC 8285. Parsing never copies and checks every length against what
 * is left of the packet before using it. */
#include "camrtc/rtp.h"

#include <string.h>

#include "camrtc/bytes.h"
#include "camrtc/error.h"

bool camrtc_rtp_is_v2(const uint8_t *pkt, size_t len)
{
    return pkt && len >= 4 && (pkt[0] >> 6) == 2;
}

/* RFC 8285 §4.2: each element is one byte ID(4)|L(4) then L+1 bytes. ID 0 is a padding
 * byte; ID 15 stops the walk. */
static int parse_one_byte(const uint8_t *p, size_t n, camrtc_rtp_header *h)
{
    size_t i = 0;
    while (i < n) {
        uint8_t id = p[i] >> 4, len = (uint8_t)((p[i] & 0x0f) + 1);
        if (id == 0) {
            i++;
            continue;
        }
        if (id == 15)
            break;
        if (len > n - i - 1)
            return CAMRTC_EPROTO;
        if (h->ext_count == CAMRTC_RTP_MAX_EXT)
            return CAMRTC_ETOOBIG;
        h->ext[h->ext_count++] = (camrtc_rtp_ext){id, len, p + i + 1};
        i += 1u + len;
    }
    return CAMRTC_OK;
}

/* RFC 8285 §4.3: ID(8) L(8) then L bytes; a zero byte is padding. */
static int parse_two_byte(const uint8_t *p, size_t n, camrtc_rtp_header *h)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] == 0) {
            i++;
            continue;
        }
        if (n - i < 2 || p[i + 1] > n - i - 2)
            return CAMRTC_EPROTO;
        if (h->ext_count == CAMRTC_RTP_MAX_EXT)
            return CAMRTC_ETOOBIG;
        h->ext[h->ext_count++] = (camrtc_rtp_ext){p[i], p[i + 1], p + i + 2};
        i += 2u + p[i + 1];
    }
    return CAMRTC_OK;
}

static int parse_ext(const uint8_t *pkt, size_t len, size_t *pos, camrtc_rtp_header *h)
{
    if (len - *pos < 4)
        return CAMRTC_EPROTO;
    h->has_ext = true;
    h->ext_profile = camrtc_rd16(pkt + *pos);
    size_t words = camrtc_rd16(pkt + *pos + 2);
    *pos += 4;
    if (words * 4 > len - *pos)
        return CAMRTC_EPROTO;
    const uint8_t *p = pkt + *pos;
    size_t n = words * 4;
    *pos += n;
    if (h->ext_profile == CAMRTC_RTP_EXT_ONE_BYTE)
        return parse_one_byte(p, n, h);
    if ((h->ext_profile & 0xfff0u) == CAMRTC_RTP_EXT_TWO_BYTE)
        return parse_two_byte(p, n, h);
    return CAMRTC_OK;   /* some other profile's extension: skipped, not decoded */
}

int camrtc_rtp_parse(const uint8_t *pkt, size_t len, camrtc_rtp_header *h)
{
    if (!pkt || !h)
        return CAMRTC_EINVAL;
    memset(h, 0, sizeof *h);
    if (len < CAMRTC_RTP_HEADER_MIN || (pkt[0] >> 6) != 2)
        return CAMRTC_EPROTO;
    bool padding = pkt[0] & 0x20, ext = pkt[0] & 0x10;
    h->csrc_count = pkt[0] & 0x0f;
    h->marker = pkt[1] & 0x80;
    h->pt = pkt[1] & 0x7f;
    h->seq = camrtc_rd16(pkt + 2);
    h->ts = camrtc_rd32(pkt + 4);
    h->ssrc = camrtc_rd32(pkt + 8);
    size_t pos = CAMRTC_RTP_HEADER_MIN;
    if ((size_t)h->csrc_count * 4 > len - pos)
        return CAMRTC_EPROTO;
    for (int i = 0; i < h->csrc_count; i++, pos += 4)
        h->csrc[i] = camrtc_rd32(pkt + pos);
    if (ext) {
        int rc = parse_ext(pkt, len, &pos, h);
        if (rc < 0)
            return rc;
    }
    size_t end = len;
    if (padding) {
        /* RFC 3550 §5.1: the last byte counts the padding, itself included. */
        uint8_t pad = pkt[len - 1];
        if (pad == 0 || pad > len - pos)
            return CAMRTC_EPROTO;
        h->padding_len = pad;
        end -= pad;
    }
    h->header_len = pos;
    h->payload = pkt + pos;
    h->payload_len = end - pos;
    return CAMRTC_OK;
}

static bool fits_one_byte(const camrtc_rtp_header *h)
{
    for (int i = 0; i < h->ext_count; i++)
        if (h->ext[i].id > 14 || h->ext[i].len < 1 || h->ext[i].len > 16)
            return false;
    return true;
}

/* Bytes of extension elements before padding to 32 bits. */
static size_t ext_body_len(const camrtc_rtp_header *h, bool one_byte)
{
    size_t n = 0;
    for (int i = 0; i < h->ext_count; i++)
        n += (one_byte ? 1u : 2u) + h->ext[i].len;
    return n;
}

int camrtc_rtp_header_size(const camrtc_rtp_header *h)
{
    if (!h || h->csrc_count > CAMRTC_RTP_MAX_CSRC || h->pt > 127 || h->ext_count > CAMRTC_RTP_MAX_EXT)
        return CAMRTC_EINVAL;
    size_t n = CAMRTC_RTP_HEADER_MIN + 4u * h->csrc_count;
    if (h->ext_count == 0)
        return (int)n;
    for (int i = 0; i < h->ext_count; i++)
        if (h->ext[i].id == 0 || (h->ext[i].len && !h->ext[i].data))
            return CAMRTC_EINVAL;
    size_t body = ext_body_len(h, fits_one_byte(h));
    return (int)(n + 4 + (body + 3) / 4 * 4);
}

static size_t write_ext(const camrtc_rtp_header *h, uint8_t *out)
{
    bool one = fits_one_byte(h);
    size_t body = ext_body_len(h, one), words = (body + 3) / 4;
    camrtc_wr16(out, one ? CAMRTC_RTP_EXT_ONE_BYTE : CAMRTC_RTP_EXT_TWO_BYTE);
    camrtc_wr16(out + 2, (uint16_t)words);
    uint8_t *p = out + 4;
    for (int i = 0; i < h->ext_count; i++) {
        const camrtc_rtp_ext *e = &h->ext[i];
        if (one) {
            *p++ = (uint8_t)(e->id << 4 | (e->len - 1));
        } else {
            *p++ = e->id;
            *p++ = e->len;
        }
        if (e->len)
            memcpy(p, e->data, e->len);
        p += e->len;
    }
    memset(p, 0, words * 4 - body);   /* padding bytes are zero (RFC 8285 §4.1) */
    return 4 + words * 4;
}

int camrtc_rtp_write_header(const camrtc_rtp_header *h, uint8_t *out, size_t cap)
{
    int size = camrtc_rtp_header_size(h);
    if (size < 0)
        return size;
    if (!out || (size_t)size > cap)
        return CAMRTC_ETOOBIG;
    out[0] = (uint8_t)(0x80 | (h->ext_count ? 0x10 : 0) | h->csrc_count);
    out[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
    camrtc_wr16(out + 2, h->seq);
    camrtc_wr32(out + 4, h->ts);
    camrtc_wr32(out + 8, h->ssrc);
    size_t pos = CAMRTC_RTP_HEADER_MIN;
    for (int i = 0; i < h->csrc_count; i++, pos += 4)
        camrtc_wr32(out + pos, h->csrc[i]);
    if (h->ext_count)
        pos += write_ext(h, out + pos);
    return (int)pos;
}

int camrtc_rtp_find_ext(const camrtc_rtp_header *h, uint8_t id, const uint8_t **data, size_t *len)
{
    for (int i = 0; h && i < h->ext_count; i++) {
        if (h->ext[i].id == id) {
            if (data)
                *data = h->ext[i].data;
            if (len)
                *len = h->ext[i].len;
            return CAMRTC_OK;
        }
    }
    return CAMRTC_ENOTFOUND;
}

void camrtc_rtp_set_seq(uint8_t *pkt, uint16_t seq)
{
    camrtc_wr16(pkt + 2, seq);
}

void camrtc_rtp_set_ts(uint8_t *pkt, uint32_t ts)
{
    camrtc_wr32(pkt + 4, ts);
}

void camrtc_rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc)
{
    camrtc_wr32(pkt + 8, ssrc);
}
