/* Fuzzes the RTCP compound walk and every per-type decoder (NACK expansion, transport-cc
 * chunks and deltas). SR and RR that parse are written back and must parse the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/rtp.h"

static void same_rb(const camrtc_rtcp_rb *a, const camrtc_rtcp_rb *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].ssrc != b[i].ssrc || a[i].fraction_lost != b[i].fraction_lost ||
            a[i].cumulative_lost != b[i].cumulative_lost || a[i].ext_highest_seq != b[i].ext_highest_seq ||
            a[i].jitter != b[i].jitter || a[i].lsr != b[i].lsr || a[i].dlsr != b[i].dlsr)
            abort();
}

static void rewrite_reports(const camrtc_rtcp_packet *p)
{
    uint8_t buf[1024];
    camrtc_rtcp_packet back;
    camrtc_rtcp_iter it;
    int n;
    if (p->kind == CAMRTC_RTCP_K_SR)
        n = camrtc_rtcp_write_sr(buf, sizeof buf, p->ssrc, &p->u.sr.info, p->u.sr.rb, p->u.sr.n_rb);
    else
        n = camrtc_rtcp_write_rr(buf, sizeof buf, p->ssrc, p->u.rr.rb, p->u.rr.n_rb);
    if (n < 0)
        abort();
    camrtc_rtcp_iter_init(&it, buf, (size_t)n);
    if (camrtc_rtcp_iter_next(&it, &back) != 1 || back.kind != p->kind || back.ssrc != p->ssrc)
        abort();
    if (p->kind == CAMRTC_RTCP_K_SR)
        same_rb(p->u.sr.rb, back.u.sr.rb, p->u.sr.n_rb);
    else
        same_rb(p->u.rr.rb, back.u.rr.rb, p->u.rr.n_rb);
}

static void decode_more(const camrtc_rtcp_packet *p)
{
    if (p->body_len > 65536 * 4)
        abort();
    if (p->kind == CAMRTC_RTCP_K_NACK) {
        uint16_t seqs[64];
        size_t total = camrtc_rtcp_nack_seqs(p, seqs, 64);
        if (total < p->u.nack.n_items || total > 17 * p->u.nack.n_items)
            abort();
    } else if (p->kind == CAMRTC_RTCP_K_TWCC) {
        camrtc_twcc_status st[128];
        size_t n = 0;
        if (camrtc_rtcp_twcc_decode(p, st, 128, &n) != 0)
            abort();   /* iter_next already validated the chunks and deltas */
        if (n > 128 || n > p->u.twcc.status_count)
            abort();
    } else if (p->kind == CAMRTC_RTCP_K_SR || p->kind == CAMRTC_RTCP_K_RR) {
        rewrite_reports(p);
    } else if (p->kind == CAMRTC_RTCP_K_SDES) {
        for (int i = 0; i < p->u.sdes.n_chunks; i++)
            if (p->u.sdes.chunk[i].cname && (const uint8_t *)p->u.sdes.chunk[i].cname + p->u.sdes.chunk[i].cname_len >
                                                p->body + p->body_len)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    camrtc_rtcp_iter it;
    camrtc_rtcp_packet p;
    camrtc_rtcp_iter_init(&it, data, size);
    int rc, count = 0;
    while ((rc = camrtc_rtcp_iter_next(&it, &p)) == 1) {
        if (p.body < data || p.body + p.body_len > data + size)
            abort();
        decode_more(&p);
        if (++count > (int)size / 4 + 1)
            abort();   /* each packet is at least 4 bytes */
    }
    int v = camrtc_rtcp_validate(data, size);
    if (size && (v == 0) != (rc == 0))
        abort();
    return 0;
}
