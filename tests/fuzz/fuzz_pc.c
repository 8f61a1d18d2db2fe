/* Fuzzes what the remote side can put into a peer connection once it is connected-ish:
 * a master and a viewer negotiated with each other (real SDP offer/answer), SRTP keyed
 * with fixed keys as DTLS would (pc_install_keys), the master marked connected with a few
 * packets in its NACK history. The input is a sequence of records [op][len hi][len lo]
 * [len bytes]:
 *   0  a raw datagram into the viewer (demux, DTLS, SRTP authentication)
 *   1  a raw datagram into the master
 *   2  the bytes as an RTP packet (version forced to 2; payload type forced to the
 *      negotiated one unless bit 6 of byte 1 is set), SRTP-protected with the master's
 *      keys, into the viewer: RTP parsing, jitter buffer, depacketizer, NACK/PLI
 *   3  the bytes as RTCP (version forced), SRTCP-protected with the viewer's keys, into
 *      the master: SR/RR, NACK from the history, PLI/FIR, REMB, TWCC
 *   4  time passes (first byte, milliseconds), then both pcs' timers run
 * The master's SSRC is 0x11223344 and its history holds sequence numbers 1000..1003.
 * Whatever the input, nothing may crash, leak or loop. Invariants (abort when broken): a
 * frame handed up is decodable only when complete and holding NALs (an incomplete one may
 * be empty: its only NAL was lost); a pc never counts more
 * decodable frames than frames; after its timers ran, a pc never asks to be woken at or
 * before now again (that would spin the glue's loop). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "pc/pc_int.h"

typedef struct fz {
    camrtc_rng rng;
    camrtc_cert cert;
    camrtc_pc *m, *v;
    camrtc_srtp *to_viewer, *to_master;
    camrtc_time_us now;
} fz;

static void on_event(void *user, const camrtc_pc_event *ev)
{
    (void)user;
    if (ev->type == CAMRTC_PC_EV_FRAME &&
        (!ev->frame || (ev->frame->len && !ev->frame->data) ||
         (ev->frame->decodable && (!ev->frame->complete || ev->frame->len == 0 || !ev->frame->nals))))
        abort();
}

static void fz_check(const camrtc_pc *pc, camrtc_time_us now, bool timers_ran)
{
    camrtc_pc_stats st;
    camrtc_pc_get_stats(pc, &st);
    if (st.frames_decodable > st.frames_received)
        abort();
    if (timers_ran && camrtc_pc_next_timeout(pc) <= now)
        abort();
}

static const camrtc_pc_io fz_io = {.event = on_event};

static camrtc_srtp_keying fz_keys(void)
{
    camrtc_srtp_keying k = {.profile = CAMRTC_SRTP_AES128_CM_SHA1_80, .key_len = 16, .salt_len = 14};
    for (int i = 0; i < 16; i++) {
        k.client_key[i] = (uint8_t)(i + 1);
        k.server_key[i] = (uint8_t)(0x80 + i);
    }
    for (int i = 0; i < 14; i++) {
        k.client_salt[i] = (uint8_t)(0x40 + i);
        k.server_salt[i] = (uint8_t)(0xc0 + i);
    }
    return k;
}

static int negotiate(fz *f)
{
    camrtc_buf offer, answer;
    camrtc_buf_init(&offer, 0, 4096);
    camrtc_buf_init(&answer, 0, 4096);
    int rc = camrtc_pc_create_offer(f->v, f->now, &offer);
    if (rc == CAMRTC_OK)
        rc = camrtc_pc_answer_offer(f->m, f->now, (const char *)camrtc_buf_data(&offer), offer.len, &answer, NULL, 0);
    if (rc == CAMRTC_OK)
        rc = camrtc_pc_set_answer(f->v, f->now, (const char *)camrtc_buf_data(&answer), answer.len, NULL, 0);
    camrtc_buf_free(&offer);
    camrtc_buf_free(&answer);
    return rc;
}

static int fz_setup(fz *f)
{
    f->now = CAMRTC_SEC(1);
    if (camrtc_rng_init_seed(&f->rng, 42) < 0)
        return -1;
    if (camrtc_cert_self_signed("fuzz", 30, &f->rng, &f->cert) != CAMRTC_OK)
        return -1;
    /* Fixed SSRCs so that corpus files can address the master's stream. */
    camrtc_pc_config cm = {.role = CAMRTC_PC_SENDER, .cert = &f->cert, .rng = &f->rng, .ssrc = 0x11223344};
    camrtc_pc_config cv = {.role = CAMRTC_PC_RECEIVER, .cert = &f->cert, .rng = &f->rng, .ssrc = 0x55667788};
    if (camrtc_pc_new(&f->m, &cm, &fz_io, f) != CAMRTC_OK || camrtc_pc_new(&f->v, &cv, &fz_io, f) != CAMRTC_OK)
        return -1;
    if (negotiate(f) != CAMRTC_OK)
        return -1;
    camrtc_srtp_keying k = fz_keys();
    if (pc_install_keys(f->m, &k, true) != CAMRTC_OK || pc_install_keys(f->v, &k, false) != CAMRTC_OK)
        return -1;
    if (camrtc_srtp_new(&f->to_viewer, &k, true, CAMRTC_SRTP_SEND, NULL) != CAMRTC_OK ||
        camrtc_srtp_new(&f->to_master, &k, false, CAMRTC_SRTP_SEND, NULL) != CAMRTC_OK)
        return -1;
    /* Some history for NACKs to hit, sequence numbers 1000.. (ICE has no pair, so
     * nothing leaves). */
    f->m->state = CAMRTC_PC_CONNECTED;
    f->m->seq = 1000;
    static const uint8_t sps[] = {0x67, 0x42, 0xe0, 0x1f};
    static const uint8_t pps[] = {0x68, 0xce, 0x3c, 0x80};
    uint8_t idr[2500];
    memset(idr, 0x5a, sizeof idr);
    idr[0] = 0x65;
    camrtc_nal n = {.data = sps, .len = sizeof sps, .type = 7, .keyframe = true};
    camrtc_pc_send_nal(f->m, f->now, &n);
    n = (camrtc_nal){.data = pps, .len = sizeof pps, .type = 8, .keyframe = true};
    camrtc_pc_send_nal(f->m, f->now, &n);
    n = (camrtc_nal){.data = idr, .len = sizeof idr, .type = 5, .keyframe = true, .last_of_frame = true};
    camrtc_pc_send_nal(f->m, f->now, &n);
    return 0;
}

static void fz_free(fz *f)
{
    camrtc_pc_free(f->m);
    camrtc_pc_free(f->v);
    camrtc_srtp_free(f->to_viewer);
    camrtc_srtp_free(f->to_master);
    camrtc_cert_free(&f->cert);
    camrtc_rng_free(&f->rng);
}

static void fz_record(fz *f, uint8_t op, const uint8_t *d, size_t len)
{
    uint8_t pkt[PC_PKT_MAX + CAMRTC_SRTP_MAX_OVERHEAD];
    switch (op % 5) {
    case 0:
        pc_handle_data(f->v, f->now, d, len);
        break;
    case 1:
        pc_handle_data(f->m, f->now, d, len);
        break;
    case 2: {
        if (len < 12 || len > PC_PKT_MAX)
            break;
        memcpy(pkt, d, len);
        pkt[0] = (uint8_t)(0x80 | (pkt[0] & 0x3f));
        if (!(pkt[1] & 0x40))
            pkt[1] = (uint8_t)((pkt[1] & 0x80) | camrtc_pc_payload_type(f->v));
        int n = camrtc_srtp_protect(f->to_viewer, pkt, len, sizeof pkt);
        if (n > 0)
            pc_handle_data(f->v, f->now, pkt, (size_t)n);
        break;
    }
    case 3: {
        if (len < 8 || len > PC_RTCP_MAX)
            break;
        memcpy(pkt, d, len);
        pkt[0] = (uint8_t)(0x80 | (pkt[0] & 0x3f));
        int n = camrtc_srtp_protect_rtcp(f->to_master, pkt, len, sizeof pkt);
        if (n > 0)
            pc_handle_data(f->m, f->now, pkt, (size_t)n);
        break;
    }
    default:
        f->now += CAMRTC_MS(len ? d[0] : 1);
        camrtc_pc_handle_timeout(f->m, f->now);
        camrtc_pc_handle_timeout(f->v, f->now);
        fz_check(f->m, f->now, true);
        fz_check(f->v, f->now, true);
        return;
    }
    fz_check(f->m, f->now, false);
    fz_check(f->v, f->now, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz f;
    memset(&f, 0, sizeof f);
    if (fz_setup(&f) == 0) {
        size_t off = 0;
        /* Each record consumes at least three bytes: the loop ends by itself. */
        while (off + 3 <= size) {
            uint8_t op = data[off];
            size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
            off += 3;
            if (len > size - off)
                len = size - off;
            fz_record(&f, op, data + off, len);
            off += len;
        }
    }
    fz_free(&f);
    return 0;
}
