/* Fuzzes the receive path: a sequence of packets goes through the jitter buffer into the
 * H.264 depacketizer. Input records: length (2 bytes, big-endian), a control byte, then
 * the payload. Control: bit 7 marker, bit 6 new timestamp, bits 0-3 sequence step - 2
 * (so -2..13: duplicates, reordering, gaps), bit 4 advance the clock 50 ms, bit 5 ask
 * for NACKs. The depacketizer's buffer is small so overflow paths run too; every frame
 * must stay inside it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/h264_rtp.h"
#include "camrtc/jitter.h"

#define MAX_FRAME 65536
#define HDR 5   /* our own per-packet prefix in the jitter buffer: ts (4), marker (1) */

typedef struct ctx {
    size_t frames;
    uint32_t sum;
} ctx;

static void on_frame(void *user, const camrtc_h264_frame *f)
{
    ctx *c = user;
    if (f->len > MAX_FRAME || (f->decodable && !f->complete))
        abort();
    for (size_t i = 0; i < f->len; i += 64)
        c->sum += f->data[i];
    c->frames++;
}

static void drain(camrtc_jitter *j, camrtc_h264_depack *d, camrtc_time_us now)
{
    camrtc_jitter_out o;
    for (int guard = 0; guard < 100000 && camrtc_jitter_poll(j, now, &o) == 1; guard++) {
        if (o.kind != CAMRTC_JITTER_PACKET)
            continue;
        if (o.len < HDR)
            abort();
        uint32_t ts = (uint32_t)o.data[0] << 24 | (uint32_t)o.data[1] << 16 | (uint32_t)o.data[2] << 8 | o.data[3];
        camrtc_h264_depack_push(d, o.seq, ts, o.data[4], o.data + HDR, o.len - HDR);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ctx c = {0};
    camrtc_jitter_config jc = {.slots = 64, .max_packet = 1500};
    camrtc_jitter *j = camrtc_jitter_new(&jc);
    camrtc_h264_depack *d = camrtc_h264_depack_new(MAX_FRAME, on_frame, &c);
    camrtc_h264_depack *direct = camrtc_h264_depack_new(MAX_FRAME, on_frame, &c);
    if (!j || !d || !direct)
        abort();
    camrtc_time_us now = 1000000;
    uint16_t seq = 65520;
    uint32_t ts = 0;
    uint8_t pkt[1500];
    size_t pos = 0;
    while (size - pos >= 3) {
        size_t len = (size_t)data[pos] << 8 | data[pos + 1];
        uint8_t ctl = data[pos + 2];
        pos += 3;
        if (len > size - pos)
            len = size - pos;
        if (len > sizeof pkt - HDR)
            len = sizeof pkt - HDR;
        if (ctl & 0x40)
            ts += 3000;
        if (ctl & 0x10)
            now += 50000;
        seq = (uint16_t)(seq + (ctl & 0x0f) - 2);
        pkt[0] = (uint8_t)(ts >> 24);
        pkt[1] = (uint8_t)(ts >> 16);
        pkt[2] = (uint8_t)(ts >> 8);
        pkt[3] = (uint8_t)ts;
        pkt[4] = ctl >> 7;
        memcpy(pkt + HDR, data + pos, len);
        pos += len;
        camrtc_jitter_insert(j, now, seq, pkt, HDR + len);
        /* The same packet straight into a second depacketizer: it must cope with any
         * order on its own. */
        camrtc_h264_depack_push(direct, seq, ts, ctl >> 7, data + pos - len, len);
        if (ctl & 0x20) {
            uint16_t nacks[32];
            if (camrtc_jitter_nack(j, now, nacks, 32) > 32)
                abort();
        }
        drain(j, d, now);
    }
    now += 10000000;
    drain(j, d, now);
    camrtc_h264_depack_flush(d);
    camrtc_h264_depack_flush(direct);
    camrtc_h264_depack_free(d);
    camrtc_h264_depack_free(direct);
    camrtc_jitter_free(j);
    return 0;
}
