/* Batched UDP sending for the libuv drivers (iceuv, pcuv): datagrams wait in a small
 * queue and leave together, one sendmmsg per run of datagrams on the same socket.
 *
 * A master fanning slices out to ten viewers then makes one system call per viewer per
 * loop iteration instead of one per packet, and on loopback wakes each viewer once per
 * batch. The owner decides when to flush (iceuv: a uv_check right after the I/O
 * callbacks, and a uv_idle so the queue is empty whenever the loop sleeps). A datagram
 * the kernel refuses is dropped and counted: ICE, DTLS and RTP all survive a lost one.
 * Off Linux each datagram goes through uv_udp_try_send. Not thread-safe (loop thread).
 */
#ifndef CAMRTC_NET_UDP_BATCH_H
#define CAMRTC_NET_UDP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <uv.h>

/* The queue's bounds: a 720p frame at 2.5 Mbit/s is about ten datagrams, which reach the
 * loop in a few wake-ups (x264 hands out each slice as it is done); a burst past them (a
 * keyframe) simply leaves in more batches. */
#define UDP_BATCH_MAX 16
#define UDP_BATCH_BYTES (UDP_BATCH_MAX * 1280u)

/* A destination: IPv4 or IPv6, no bigger (a sockaddr_storage would be 128 bytes of the
 * item's 144, in every one of the UDP_BATCH_MAX items of every connection). */
typedef union udp_batch_addr {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
} udp_batch_addr;

typedef struct udp_batch_item {
    uv_udp_t *sock;
    unsigned off, len;             /* bytes at mem + off */
    udp_batch_addr to;
} udp_batch_item;

typedef struct udp_batch {
    udp_batch_item item[UDP_BATCH_MAX];
    unsigned n, used;
    uint8_t *mem;                  /* UDP_BATCH_BYTES, made with the first queued datagram */
    uint64_t calls;                /* system calls that sent datagrams */
    uint64_t *sent, *failed;       /* the owner's counters, one per datagram */
} udp_batch;

/* An empty queue counting into *sent and *failed (both owned by the caller). */
void udp_batch_init(udp_batch *b, uint64_t *sent, uint64_t *failed);

/* Queue a copy of one datagram to `to` (AF_INET or AF_INET6) on sock, after sending what
 * waits when it would not fit. Returns true when it waits in the queue (the caller must
 * flush it later), false when it was sent at once (longer than the queue, no memory for
 * it, or another address family, which the send then refuses and counts). */
bool udp_batch_add(udp_batch *b, uv_udp_t *sock, const struct sockaddr_storage *to, const uint8_t *data,
                   size_t len);

/* Send everything queued, in order, and empty the queue. */
void udp_batch_flush(udp_batch *b);

/* Free the queue's memory (what waits is dropped: flush first). */
void udp_batch_free(udp_batch *b);

#endif
