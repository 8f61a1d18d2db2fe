/* Fuzzes the RTP header parser. Whatever parses must write back and parse again to the
 * same fields (the writer may choose the other extension form, never other content). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/rtp.h"

static void same_ext(const camrtc_rtp_header *a, const camrtc_rtp_header *b)
{
    if (a->ext_count != b->ext_count)
        abort();
    for (int i = 0; i < a->ext_count; i++)
        if (a->ext[i].id != b->ext[i].id || a->ext[i].len != b->ext[i].len ||
            memcmp(a->ext[i].data, b->ext[i].data, a->ext[i].len) != 0)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    camrtc_rtp_header h;
    if (camrtc_rtp_parse(data, size, &h) != 0)
        return 0;
    if (h.header_len + h.payload_len + h.padding_len != size)
        abort();
    const uint8_t *d;
    size_t n;
    for (int i = 0; i < h.ext_count; i++)
        if (camrtc_rtp_find_ext(&h, h.ext[i].id, &d, &n) != 0)
            abort();
    uint8_t out[2048];
    int len = camrtc_rtp_write_header(&h, out, sizeof out);
    if (len < 0 || len != camrtc_rtp_header_size(&h))
        abort();
    camrtc_rtp_header back;
    if (camrtc_rtp_parse(out, (size_t)len, &back) != 0)
        abort();
    if (back.seq != h.seq || back.ts != h.ts || back.ssrc != h.ssrc || back.pt != h.pt || back.marker != h.marker ||
        back.csrc_count != h.csrc_count || memcmp(back.csrc, h.csrc, 4u * h.csrc_count) != 0 || back.payload_len != 0)
        abort();
    same_ext(&h, &back);
    return 0;
}
