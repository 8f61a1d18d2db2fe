/* Receive-side reorder (jitter) buffer with loss recovery requests, sans-I/O.
 *
 * Packets go in by sequence number in any order; they come out in order through
 * camrtc_jitter_poll as soon as nothing is missing before them. A hole is waited for at
 * most max_delay (counted from the arrival of the first packet behind it); then it is
 * given up, reported as a gap, and a PLI is asked for (RFC 4585 §6.3.1: the receiver
 * cannot complete the picture; rate-limited to one per pli_interval). While waiting, the
 * missing sequence numbers are offered for generic NACK (RFC 4585 §6.2.1), each at most
 * nack_max_tries times and no sooner than one RTT (at least nack_min_interval, at most
 * a quarter of max_delay) after the previous ask: on a short path the retransmission
 * cannot be back sooner, and a retry before that would be wasted, while the wait must
 * leave room for several tries even before the RTT is known. A hole of
 * more than nack_max_hole packets at once (an outage) is not NACKed: resending it would
 * come as a burst of stale media that can overflow the socket; it is given up at the
 * next poll and a PLI asked for instead.
 *
 * Sequence numbers are extended to 32 bits (RFC 3550 §A.1) so wrap at 65535 is seamless.
 * Memory: slots × max_packet bytes, allocated at creation; nothing per packet. Time is
 * given by the caller; camrtc_jitter_next_timeout says when to poll again.
 */
#ifndef CAMRTC_JITTER_H
#define CAMRTC_JITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_jitter_config {
    size_t slots;                 /* packets held at most, power of two; 0 = 512 */
    size_t max_packet;            /* bytes per packet; 0 = 1500 */
    camrtc_time_us max_delay;     /* how long a hole is waited for; 0 = 200 ms */
    unsigned nack_max_tries;      /* NACKs per missing packet; 0 = 10 */
    camrtc_time_us initial_rtt;   /* NACK spacing before camrtc_jitter_set_rtt; 0 = 100 ms */
    camrtc_time_us nack_min_interval; /* NACK spacing at least; 0 = 20 ms */
    size_t nack_max_hole;         /* larger holes are given up at once, not NACKed; 0 = 64 */
    camrtc_time_us pli_interval;  /* at least this long between PLIs; 0 = 500 ms */
} camrtc_jitter_config;

typedef enum camrtc_jitter_kind {
    CAMRTC_JITTER_NONE = 0,
    CAMRTC_JITTER_PACKET,         /* data/len: the next packet in order */
    CAMRTC_JITTER_GAP,            /* gap_first..+gap_count-1 were given up */
    CAMRTC_JITTER_PLI,            /* send a PLI (a frame could not be completed in time) */
} camrtc_jitter_kind;

typedef struct camrtc_jitter_out {
    camrtc_jitter_kind kind;
    const uint8_t *data;          /* PACKET: valid until the next insert */
    size_t len;
    uint32_t ext_seq;             /* PACKET: extended sequence number */
    uint16_t seq;
    camrtc_time_us arrival;       /* PACKET: when it was inserted */
    uint32_t gap_first;           /* GAP: extended sequence numbers */
    uint32_t gap_count;
} camrtc_jitter_out;

typedef struct camrtc_jitter_stats {
    uint64_t received;
    uint64_t released;
    uint64_t duplicates;
    uint64_t late;                /* arrived after their place was released or given up */
    uint64_t lost;                /* sequence numbers given up */
    uint64_t too_big;             /* packets over max_packet (dropped) */
    uint64_t overflow;            /* holes given up early because the window was full */
    uint64_t big_holes;           /* holes over nack_max_hole, given up at once */
    uint64_t nacks;               /* sequence numbers handed out for NACK */
    uint64_t plis;
    uint32_t ext_highest;         /* highest extended sequence number seen */
} camrtc_jitter_stats;

typedef struct camrtc_jitter camrtc_jitter;

/* Create a buffer (cfg NULL = defaults). NULL when out of memory or slots is not a
 * power of two (at least 16, at most 32768). */
camrtc_jitter *camrtc_jitter_new(const camrtc_jitter_config *cfg);
void camrtc_jitter_free(camrtc_jitter *j);

/* Insert RTP packet pkt with sequence number seq, arrived at now. Returns CAMRTC_OK,
 * or for a dropped packet: CAMRTC_EEXIST (duplicate), CAMRTC_ETIMEDOUT (late: already
 * released or given up), CAMRTC_ETOOBIG (longer than max_packet), CAMRTC_ELIMIT (so far
 * ahead that the window cannot hold it: the holes blocking the window are then given up
 * at the next poll without waiting, counted as overflow, and the dropped packet becomes
 * a hole that NACK can recover). When the buffer is empty, a jump of more than the
 * window restarts it there (the skipped numbers are reported as one gap). */
int camrtc_jitter_insert(camrtc_jitter *j, camrtc_time_us now, uint16_t seq, const uint8_t *pkt, size_t len);

/* Next output at now: returns 1 with *out filled, 0 when there is nothing (out->kind
 * NONE). Call until it returns 0 after each insert and at each timeout. */
int camrtc_jitter_poll(camrtc_jitter *j, camrtc_time_us now, camrtc_jitter_out *out);

/* Missing sequence numbers to NACK at now, in increasing order: each at most
 * nack_max_tries times, max(RTT, nack_min_interval) apart (at most max_delay / 4). Writes at most max into seqs (those not written
 * stay due) and returns how many. Feed them to camrtc_rtcp_write_nack. */
size_t camrtc_jitter_nack(camrtc_jitter *j, camrtc_time_us now, uint16_t *seqs, size_t max);

/* The round-trip time used to space NACKs (from RTCP, RFC 3550 §6.4.1 LSR/DLSR). */
void camrtc_jitter_set_rtt(camrtc_jitter *j, camrtc_time_us rtt);

/* When poll or nack have something next (CAMRTC_TIME_NEVER when nothing is pending). */
camrtc_time_us camrtc_jitter_next_timeout(const camrtc_jitter *j);

/* Counters so far. */
const camrtc_jitter_stats *camrtc_jitter_get_stats(const camrtc_jitter *j);

#ifdef __cplusplus
}
#endif
#endif
