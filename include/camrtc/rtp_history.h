/* Send history for NACK retransmission (RFC 4585 §6.2.1), sans-I/O.
 *
 * A sender keeps copies of the RTP packets it sent (before SRTP) for a while, so that a
 * generic NACK can be answered with the very same packet (or its RTX wrapping). The
 * history is bounded three ways: by age (a packet older than max_age is useless: the
 * receiver's jitter buffer gave up on it), by bytes (sized from the bitrate: 2.5 Mbit/s
 * for 1 s is about 312 KB) and by packet count. The byte ring for the packets is
 * allocated at creation; the ring of entries in sending order starts small and grows
 * (doubling) up to max_packets as more packets are held at once. Lookup by
 * sequence number is a binary search over the entries (sequence numbers wrap at 65536,
 * compared with serial arithmetic). Time is passed in by the caller.
 */
#ifndef CAMRTC_RTP_HISTORY_H
#define CAMRTC_RTP_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_RTP_HISTORY_DEFAULT_AGE CAMRTC_SEC(1)

typedef struct camrtc_rtp_history_config {
    camrtc_time_us max_age;   /* 0 = 1 s */
    size_t max_bytes;         /* packet bytes kept; 0 = camrtc_rtp_history_bytes_for(2.5 Mbit/s, max_age) */
    size_t max_packets;       /* entries kept; 0 = max_bytes / 200, at least 64, at most 32768 */
} camrtc_rtp_history_config;

typedef struct camrtc_rtp_history_stats {
    uint64_t stored;
    uint64_t evicted_age;     /* dropped for being older than max_age */
    uint64_t evicted_space;   /* dropped to make room (bytes or entries) */
    uint64_t lookups;
    uint64_t hits;
    uint64_t miss_unknown;    /* never stored, or evicted for space */
    uint64_t miss_too_old;    /* still there but older than max_age */
    uint64_t rejected;        /* inserts refused: not newer than the last, or too large */
} camrtc_rtp_history_stats;

typedef struct camrtc_rtp_history camrtc_rtp_history;

/* Bytes needed to hold bitrate_bps of packets for age, plus a quarter for headers and
 * bursts (keyframes are several times the average frame). */
size_t camrtc_rtp_history_bytes_for(uint64_t bitrate_bps, camrtc_time_us age);

/* Create a history (cfg NULL = defaults). NULL when out of memory. */
camrtc_rtp_history *camrtc_rtp_history_new(const camrtc_rtp_history_config *cfg);
void camrtc_rtp_history_free(camrtc_rtp_history *h);

/* Store a copy of the RTP packet pkt (len bytes) with sequence number seq, sent at now.
 * Sequence numbers must increase (wrap-aware) from one insert to the next; the first
 * insert, or one more than 16384 ahead of the last, starts over. Evicts packets older
 * than max_age and as many of the oldest as needed for room. Returns CAMRTC_OK,
 * CAMRTC_EINVAL for a seq not newer than the last one, CAMRTC_ETOOBIG for a packet
 * larger than max_bytes (both counted as rejected). */
int camrtc_rtp_history_put(camrtc_rtp_history *h, camrtc_time_us now, uint16_t seq, const uint8_t *pkt,
                           size_t len);

/* Find packet seq for a retransmission at now: CAMRTC_OK with *pkt and *len pointing
 * into the history (valid until the next put), CAMRTC_ENOTFOUND when it is not there
 * or older than max_age (counted as a miss). */
int camrtc_rtp_history_get(camrtc_rtp_history *h, camrtc_time_us now, uint16_t seq, const uint8_t **pkt,
                           size_t *len);

/* Look at packet seq without counting a lookup and whatever its age: CAMRTC_OK with *pkt,
 * *len (valid until the next put) and *at (when it was stored), each optional; else
 * CAMRTC_ENOTFOUND. For a sender that replays what it holds (a viewer joining a fan-out
 * starts from the newest keyframe) and decides on the age itself. */
int camrtc_rtp_history_peek(const camrtc_rtp_history *h, uint16_t seq, const uint8_t **pkt, size_t *len,
                            camrtc_time_us *at);

/* Most packets the history holds (its max_packets after defaults). */
size_t camrtc_rtp_history_capacity(const camrtc_rtp_history *h);

/* The sequence number of the last packet stored: true and *seq, or false before the first. */
bool camrtc_rtp_history_last_seq(const camrtc_rtp_history *h, uint16_t *seq);

/* Packets and bytes held now. */
size_t camrtc_rtp_history_count(const camrtc_rtp_history *h);
size_t camrtc_rtp_history_bytes(const camrtc_rtp_history *h);

/* Counters so far. */
const camrtc_rtp_history_stats *camrtc_rtp_history_get_stats(const camrtc_rtp_history *h);

#ifdef __cplusplus
}
#endif
#endif
