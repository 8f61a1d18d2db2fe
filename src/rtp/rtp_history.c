/* Send history for NACK retransmission: a byte ring holding packet copies plus a ring of
 * entries in sending order (so in sequence order), looked up by binary search. */
#include "camrtc/rtp_history.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"

#define RESTART_JUMP 16384u   /* a jump this large forward starts the history over */
#define MAX_SPAN 0x8000u      /* kept sequence numbers span less than half the space */
#define FIRST_ENTRIES 64      /* the entry ring starts this long and doubles up to max_packets */

typedef struct hist_entry {
    uint16_t seq;
    size_t off, len;
    camrtc_time_us at;
} hist_entry;

struct camrtc_rtp_history {
    camrtc_time_us max_age;
    uint8_t *arena;
    size_t cap;
    size_t tail;              /* where the byte after the newest packet is */
    size_t bytes;             /* packet bytes held */
    hist_entry *e;
    size_t e_cap, e_head, e_n;
    size_t e_max;             /* max_packets: e_cap grows up to it */
    bool have_last;
    uint16_t last_seq;
    camrtc_rtp_history_stats stats;
};

size_t camrtc_rtp_history_bytes_for(uint64_t bitrate_bps, camrtc_time_us age)
{
    uint64_t bytes = bitrate_bps / 8 * age / 1000000u;
    return (size_t)(bytes + bytes / 4);
}

camrtc_rtp_history *camrtc_rtp_history_new(const camrtc_rtp_history_config *cfg)
{
    camrtc_rtp_history_config c = {0};
    if (cfg)
        c = *cfg;
    if (c.max_age == 0)
        c.max_age = CAMRTC_RTP_HISTORY_DEFAULT_AGE;
    if (c.max_bytes == 0)
        c.max_bytes = camrtc_rtp_history_bytes_for(2500000u, c.max_age);
    if (c.max_bytes < 1500)
        c.max_bytes = 1500;
    if (c.max_packets == 0) {
        c.max_packets = c.max_bytes / 200;
        if (c.max_packets < 64)
            c.max_packets = 64;
    }
    if (c.max_packets > 32768)
        c.max_packets = 32768;
    camrtc_rtp_history *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    /* The byte ring is used in full once it has wrapped; the entries are not: max_packets
     * assumes 200-byte packets, video packets are ~1200 bytes. So the entry ring grows
     * with what is held (grow_entries) instead of being allocated for the worst case. */
    h->e_cap = c.max_packets < FIRST_ENTRIES ? c.max_packets : FIRST_ENTRIES;
    h->arena = malloc(c.max_bytes);
    h->e = malloc(h->e_cap * sizeof *h->e);
    if (!h->arena || !h->e) {
        camrtc_rtp_history_free(h);
        return NULL;
    }
    h->max_age = c.max_age;
    h->cap = c.max_bytes;
    h->e_max = c.max_packets;
    return h;
}

void camrtc_rtp_history_free(camrtc_rtp_history *h)
{
    if (!h)
        return;
    free(h->arena);
    free(h->e);
    free(h);
}

static hist_entry *entry_at(const camrtc_rtp_history *h, size_t i)
{
    return &h->e[(h->e_head + i) % h->e_cap];
}

/* Double the entry ring (up to e_max), oldest entry first in the new one. False when it
 * is at e_max already or out of memory: the caller evicts instead. */
static bool grow_entries(camrtc_rtp_history *h)
{
    if (h->e_cap >= h->e_max)
        return false;
    size_t n = h->e_cap * 2 < h->e_max ? h->e_cap * 2 : h->e_max;
    hist_entry *e = malloc(n * sizeof *e);
    if (!e)
        return false;
    for (size_t i = 0; i < h->e_n; i++)
        e[i] = *entry_at(h, i);
    free(h->e);
    h->e = e;
    h->e_cap = n;
    h->e_head = 0;
    return true;
}

static void evict_oldest(camrtc_rtp_history *h)
{
    h->bytes -= h->e[h->e_head].len;
    h->e_head = (h->e_head + 1) % h->e_cap;
    if (--h->e_n == 0) {
        h->e_head = 0;
        h->tail = 0;
    }
}

static bool too_old(const camrtc_rtp_history *h, const hist_entry *e, camrtc_time_us now)
{
    return now > e->at && now - e->at > h->max_age;
}

/* Free bytes form one circular run from tail to the oldest packet's start. Place len
 * bytes at tail when they fit before the end of the arena or the oldest packet, else at
 * offset 0 (wasting the end) when they fit before the oldest packet; otherwise evict the
 * oldest and try again. Returns the offset. */
static size_t make_room(camrtc_rtp_history *h, size_t len)
{
    for (;;) {
        if (h->e_n == 0)
            return 0;
        size_t head = h->e[h->e_head].off;
        if (h->tail > head) {
            if (len <= h->cap - h->tail)
                return h->tail;
            if (len <= head)
                return 0;
        } else if (h->tail < head && len <= head - h->tail) {
            return h->tail;
        }
        evict_oldest(h);
        h->stats.evicted_space++;
    }
}

int camrtc_rtp_history_put(camrtc_rtp_history *h, camrtc_time_us now, uint16_t seq, const uint8_t *pkt, size_t len)
{
    if (!h || !pkt || len == 0)
        return CAMRTC_EINVAL;
    if (len > h->cap) {
        h->stats.rejected++;
        return CAMRTC_ETOOBIG;
    }
    if (h->have_last) {
        uint16_t ahead = (uint16_t)(seq - h->last_seq);
        if (ahead == 0 || ahead >= MAX_SPAN) {
            h->stats.rejected++;
            return CAMRTC_EINVAL;
        }
        while (ahead > RESTART_JUMP && h->e_n)
            evict_oldest(h);   /* a new run of sequence numbers: start over */
    }
    while (h->e_n && too_old(h, &h->e[h->e_head], now)) {
        evict_oldest(h);
        h->stats.evicted_age++;
    }
    /* Keep the span under half the number space so the binary search stays ordered, and
     * make room for one more entry. */
    while (h->e_n && ((uint16_t)(seq - h->e[h->e_head].seq) >= MAX_SPAN ||
                      (h->e_n == h->e_cap && !grow_entries(h)))) {
        evict_oldest(h);
        h->stats.evicted_space++;
    }
    size_t off = make_room(h, len);
    memcpy(h->arena + off, pkt, len);
    hist_entry *e = &h->e[(h->e_head + h->e_n) % h->e_cap];
    *e = (hist_entry){.seq = seq, .off = off, .len = len, .at = now};
    h->e_n++;
    h->tail = off + len;
    h->bytes += len;
    h->have_last = true;
    h->last_seq = seq;
    h->stats.stored++;
    return CAMRTC_OK;
}

/* Index of seq among the entries, or -1. Keys are distances from the oldest seq, which
 * increase along the ring because the span stays under MAX_SPAN. */
static long find(const camrtc_rtp_history *h, uint16_t seq)
{
    if (h->e_n == 0)
        return -1;
    uint16_t base = h->e[h->e_head].seq, want = (uint16_t)(seq - base);
    size_t lo = 0, hi = h->e_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint16_t key = (uint16_t)(entry_at(h, mid)->seq - base);
        if (key == want)
            return (long)mid;
        if (key < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int camrtc_rtp_history_get(camrtc_rtp_history *h, camrtc_time_us now, uint16_t seq, const uint8_t **pkt, size_t *len)
{
    if (!h)
        return CAMRTC_EINVAL;
    h->stats.lookups++;
    long i = find(h, seq);
    if (i < 0) {
        h->stats.miss_unknown++;
        return CAMRTC_ENOTFOUND;
    }
    const hist_entry *e = entry_at(h, (size_t)i);
    if (too_old(h, e, now)) {
        h->stats.miss_too_old++;
        return CAMRTC_ENOTFOUND;
    }
    if (pkt)
        *pkt = h->arena + e->off;
    if (len)
        *len = e->len;
    h->stats.hits++;
    return CAMRTC_OK;
}

int camrtc_rtp_history_peek(const camrtc_rtp_history *h, uint16_t seq, const uint8_t **pkt, size_t *len,
                            camrtc_time_us *at)
{
    long i = h ? find(h, seq) : -1;
    if (i < 0)
        return CAMRTC_ENOTFOUND;
    const hist_entry *e = entry_at(h, (size_t)i);
    if (pkt)
        *pkt = h->arena + e->off;
    if (len)
        *len = e->len;
    if (at)
        *at = e->at;
    return CAMRTC_OK;
}

size_t camrtc_rtp_history_capacity(const camrtc_rtp_history *h)
{
    return h->e_max;
}

bool camrtc_rtp_history_last_seq(const camrtc_rtp_history *h, uint16_t *seq)
{
    if (h->have_last && seq)
        *seq = h->last_seq;
    return h->have_last;
}

size_t camrtc_rtp_history_count(const camrtc_rtp_history *h)
{
    return h->e_n;
}

size_t camrtc_rtp_history_bytes(const camrtc_rtp_history *h)
{
    return h->bytes;
}

const camrtc_rtp_history_stats *camrtc_rtp_history_get_stats(const camrtc_rtp_history *h)
{
    return &h->stats;
}
