/* Reorder/jitter buffer: a ring of slots indexed by extended sequence number. The window
 * runs from `next` (the first not yet released) to `highest` (the newest seen); holes in
 * it are waited for, NACKed, and finally given up. */
#include "camrtc/jitter.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"

enum { SLOT_EMPTY = 0, SLOT_PRESENT, SLOT_MISSING };

typedef struct jslot {
    uint32_t ext;
    uint8_t state;
    uint8_t tries;            /* NACKs sent for a missing slot */
    camrtc_time_us asked_at;
    camrtc_time_us arrival;
    size_t len;
} jslot;

struct camrtc_jitter {
    camrtc_jitter_config cfg;
    camrtc_time_us rtt;
    size_t mask;
    jslot *slot;
    uint8_t *data;            /* slots × max_packet */
    bool started;
    uint32_t next, highest;   /* window [next, highest]; empty when next > highest */
    uint32_t overflow_until;  /* holes before this are given up without waiting */
    uint32_t skip_until;      /* likewise, for a hole too big to NACK */
    bool gap_pending;         /* a restart gap to report */
    uint32_t gap_first, gap_count;
    bool pli_pending, pli_sent;
    camrtc_time_us last_pli;
    camrtc_jitter_stats stats;
};

camrtc_jitter *camrtc_jitter_new(const camrtc_jitter_config *cfg)
{
    camrtc_jitter_config c = {0};
    if (cfg)
        c = *cfg;
    if (!c.slots)
        c.slots = 512;
    if (!c.max_packet)
        c.max_packet = 1500;
    if (!c.max_delay)
        c.max_delay = CAMRTC_MS(200);
    if (!c.nack_max_tries)
        c.nack_max_tries = 10;
    if (!c.nack_min_interval)
        c.nack_min_interval = CAMRTC_MS(20);
    if (!c.nack_max_hole)
        c.nack_max_hole = 64;
    if (c.nack_max_tries > 255)
        c.nack_max_tries = 255;
    if (!c.initial_rtt)
        c.initial_rtt = CAMRTC_MS(100);
    if (!c.pli_interval)
        c.pli_interval = CAMRTC_MS(500);
    if (c.slots < 16 || c.slots > 32768 || (c.slots & (c.slots - 1)) || c.max_packet > 65535)
        return NULL;
    camrtc_jitter *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->slot = calloc(c.slots, sizeof *j->slot);
    j->data = malloc(c.slots * c.max_packet);
    if (!j->slot || !j->data) {
        camrtc_jitter_free(j);
        return NULL;
    }
    j->cfg = c;
    j->rtt = c.initial_rtt;
    j->mask = c.slots - 1;
    return j;
}

void camrtc_jitter_free(camrtc_jitter *j)
{
    if (!j)
        return;
    free(j->slot);
    free(j->data);
    free(j);
}

void camrtc_jitter_set_rtt(camrtc_jitter *j, camrtc_time_us rtt)
{
    if (j && rtt)
        j->rtt = rtt;
}

const camrtc_jitter_stats *camrtc_jitter_get_stats(const camrtc_jitter *j)
{
    return &j->stats;
}

static jslot *slot_of(const camrtc_jitter *j, uint32_t ext)
{
    return &j->slot[ext & j->mask];
}

/* RFC 3550 §A.1: pick the 32-bit value closest to the highest seen. */
static uint32_t unwrap(uint32_t highest, uint16_t seq)
{
    uint32_t ext = (highest & 0xffff0000u) | seq;
    if (ext + 0x8000u < highest)
        ext += 0x10000u;
    else if (ext > highest + 0x8000u && ext >= 0x10000u)
        ext -= 0x10000u;
    return ext;
}

static void store(camrtc_jitter *j, camrtc_time_us now, uint32_t ext, const uint8_t *pkt, size_t len)
{
    jslot *s = slot_of(j, ext);
    s->ext = ext;
    s->state = SLOT_PRESENT;
    s->arrival = now;
    s->len = len;
    if (len)
        memcpy(j->data + (ext & j->mask) * j->cfg.max_packet, pkt, len);
}

/* A packet beyond highest: the numbers between become holes. */
static int advance(camrtc_jitter *j, camrtc_time_us now, uint32_t ext)
{
    bool empty = j->next > j->highest;
    if (ext - j->next >= j->cfg.slots) {
        if (!empty) {
            j->overflow_until = ext - (uint32_t)j->cfg.slots + 1;
            j->stats.overflow++;
            return CAMRTC_ELIMIT;
        }
        /* Nothing held: restart the window at ext and report what was skipped. */
        j->gap_pending = true;
        j->gap_first = j->next;
        j->gap_count = ext - j->next;
        j->stats.lost += j->gap_count;
        j->pli_pending = true;
        j->next = ext;
    }
    uint32_t from = j->highest + 1 > j->next ? j->highest + 1 : j->next;
    /* An outage, not a loss: what it took is older than NACK can usefully bring back in
     * time, and asking for all of it at once would bring a flood. Give it up (the slots
     * are marked as asked for the last time, so never NACKed) and let a PLI repair it. */
    bool big = ext - from > j->cfg.nack_max_hole;
    if (big) {
        j->skip_until = ext;
        j->stats.big_holes++;
    }
    uint8_t tries = big ? (uint8_t)j->cfg.nack_max_tries : 0;
    for (uint32_t e = from; e < ext; e++) {
        jslot *s = slot_of(j, e);
        *s = (jslot){.ext = e, .state = SLOT_MISSING, .tries = tries};
    }
    j->highest = ext;
    j->stats.ext_highest = ext;
    return CAMRTC_OK;
}

int camrtc_jitter_insert(camrtc_jitter *j, camrtc_time_us now, uint16_t seq, const uint8_t *pkt, size_t len)
{
    if (!j || (!pkt && len))
        return CAMRTC_EINVAL;
    if (len > j->cfg.max_packet) {
        j->stats.too_big++;
        return CAMRTC_ETOOBIG;
    }
    if (!j->started) {
        /* Start in cycle 1 so that slightly older packets still have a place below. */
        j->started = true;
        j->next = j->highest = 0x10000u + seq;
        j->stats.ext_highest = j->highest;
        j->stats.received++;
        store(j, now, j->next, pkt, len);
        return CAMRTC_OK;
    }
    uint32_t ext = unwrap(j->highest, seq);
    if (ext < j->next) {
        j->stats.late++;
        return CAMRTC_ETIMEDOUT;
    }
    if (ext > j->highest) {
        int rc = advance(j, now, ext);
        if (rc < 0)
            return rc;
    } else if (slot_of(j, ext)->state == SLOT_PRESENT) {
        j->stats.duplicates++;
        return CAMRTC_EEXIST;
    }
    j->stats.received++;
    store(j, now, ext, pkt, len);
    return CAMRTC_OK;
}

/* The first packet held after the hole at next (there is one: highest is always held
 * while the window is not empty). */
static const jslot *first_after_hole(const camrtc_jitter *j)
{
    for (uint32_t e = j->next + 1; e <= j->highest; e++)
        if (slot_of(j, e)->state == SLOT_PRESENT)
            return slot_of(j, e);
    return NULL;
}

static bool pli_due(const camrtc_jitter *j, camrtc_time_us now)
{
    return j->pli_pending && (!j->pli_sent || now >= j->last_pli + j->cfg.pli_interval);
}

static int give_up(camrtc_jitter *j, const jslot *f, camrtc_jitter_out *out)
{
    out->kind = CAMRTC_JITTER_GAP;
    out->gap_first = j->next;
    out->gap_count = f->ext - j->next;
    for (uint32_t e = j->next; e < f->ext; e++)
        slot_of(j, e)->state = SLOT_EMPTY;
    j->stats.lost += out->gap_count;
    j->next = f->ext;
    j->pli_pending = true;   /* the frame around the hole can no longer be completed */
    return 1;
}

int camrtc_jitter_poll(camrtc_jitter *j, camrtc_time_us now, camrtc_jitter_out *out)
{
    if (!j || !out)
        return CAMRTC_EINVAL;
    memset(out, 0, sizeof *out);
    if (j->gap_pending) {
        j->gap_pending = false;
        out->kind = CAMRTC_JITTER_GAP;
        out->gap_first = j->gap_first;
        out->gap_count = j->gap_count;
        return 1;
    }
    if (pli_due(j, now)) {
        j->pli_pending = false;
        j->pli_sent = true;
        j->last_pli = now;
        j->stats.plis++;
        out->kind = CAMRTC_JITTER_PLI;
        return 1;
    }
    if (!j->started || j->next > j->highest)
        return 0;
    jslot *s = slot_of(j, j->next);
    if (s->state == SLOT_PRESENT && s->ext == j->next) {
        out->kind = CAMRTC_JITTER_PACKET;
        out->data = j->data + (j->next & j->mask) * j->cfg.max_packet;
        out->len = s->len;
        out->ext_seq = j->next;
        out->seq = (uint16_t)j->next;
        out->arrival = s->arrival;
        s->state = SLOT_EMPTY;
        j->next++;
        j->stats.released++;
        return 1;
    }
    const jslot *f = first_after_hole(j);
    if (!f)
        return 0;
    if (j->next < j->overflow_until) {
        j->stats.overflow++;
        return give_up(j, f, out);
    }
    if (j->next < j->skip_until)
        return give_up(j, f, out);
    if (now >= f->arrival + j->cfg.max_delay)
        return give_up(j, f, out);
    return 0;
}

/* How long after a NACK to ask again: one RTT, the soonest the answer can be back, but
 * not less than the floor: the RTT measured on a local path (ICE, tens of microseconds)
 * says nothing of how soon a busy sender answers. And not more than a quarter of the
 * wait: with an RTT not measured yet (initial_rtt) or close to the wait, a retry that
 * may cross the answer is worth more than none (the sender answers a seq once per RTT). */
static camrtc_time_us nack_spacing(const camrtc_jitter *j)
{
    camrtc_time_us s = j->rtt > j->cfg.nack_min_interval ? j->rtt : j->cfg.nack_min_interval;
    return s < j->cfg.max_delay / 4 ? s : j->cfg.max_delay / 4;
}

static bool nack_due(const camrtc_jitter *j, const jslot *s, camrtc_time_us now)
{
    return s->state == SLOT_MISSING && s->tries < j->cfg.nack_max_tries &&
           (s->tries == 0 || now >= s->asked_at + nack_spacing(j));
}

size_t camrtc_jitter_nack(camrtc_jitter *j, camrtc_time_us now, uint16_t *seqs, size_t max)
{
    size_t n = 0;
    if (!j || !j->started || !seqs)
        return 0;
    for (uint32_t e = j->next; e <= j->highest && n < max; e++) {
        jslot *s = slot_of(j, e);
        if (!nack_due(j, s, now))
            continue;
        s->tries++;
        s->asked_at = now;
        seqs[n++] = (uint16_t)e;
        j->stats.nacks++;
    }
    return n;
}

static camrtc_time_us earliest(camrtc_time_us a, camrtc_time_us b)
{
    return a < b ? a : b;
}

camrtc_time_us camrtc_jitter_next_timeout(const camrtc_jitter *j)
{
    camrtc_time_us t = CAMRTC_TIME_NEVER;
    if (!j || !j->started)
        return t;
    if (j->gap_pending)
        return 0;
    if (j->pli_pending)
        t = j->pli_sent ? j->last_pli + j->cfg.pli_interval : 0;
    if (j->next > j->highest)
        return t;
    const jslot *s = slot_of(j, j->next);
    if (s->state == SLOT_PRESENT || j->next < j->overflow_until || j->next < j->skip_until)
        return 0;
    const jslot *f = first_after_hole(j);
    if (f)
        t = earliest(t, f->arrival + j->cfg.max_delay);
    for (uint32_t e = j->next; e <= j->highest; e++) {
        const jslot *m = slot_of(j, e);
        if (m->state == SLOT_MISSING && m->tries < j->cfg.nack_max_tries)
            t = earliest(t, m->tries == 0 ? 0 : m->asked_at + nack_spacing(j));
    }
    return t;
}
