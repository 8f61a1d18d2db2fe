/* Batched UDP sending (see udp_batch.h). */
#include "udp_batch.h"

#include <stdlib.h>
#include <string.h>

void udp_batch_init(udp_batch *b, uint64_t *sent, uint64_t *failed)
{
    memset(b, 0, sizeof(*b));
    b->sent = sent;
    b->failed = failed;
}

void udp_batch_free(udp_batch *b)
{
    free(b->mem);
    b->mem = NULL;
    b->n = b->used = 0;
}

static void count(udp_batch *b, bool ok, unsigned n)
{
    *(ok ? b->sent : b->failed) += n;
}

/* One datagram at once, without the queue. */
static void send_now(udp_batch *b, uv_udp_t *sock, const struct sockaddr *to, const uint8_t *data, size_t len)
{
    uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
    b->calls++;
    count(b, uv_udp_try_send(sock, &buf, 1, to) >= 0, 1);
}

#ifdef __linux__
/* item[from..to) share one socket: sendmmsg them, skipping a datagram the kernel refuses
 * so that one bad destination does not take the others with it. Bounded: every call
 * either sends at least one datagram or skips one. */
static void send_run(udp_batch *b, unsigned from, unsigned to)
{
    uv_os_fd_t fd;
    unsigned n = to - from;
    if (uv_fileno((const uv_handle_t *)b->item[from].sock, &fd) < 0) {
        count(b, false, n);
        return;
    }
    struct mmsghdr msg[UDP_BATCH_MAX];
    struct iovec iov[UDP_BATCH_MAX];
    memset(msg, 0, n * sizeof msg[0]);
    for (unsigned i = 0; i < n; i++) {
        const udp_batch_item *o = &b->item[from + i];
        iov[i] = (struct iovec){.iov_base = b->mem + o->off, .iov_len = o->len};
        msg[i].msg_hdr.msg_name = (void *)&o->to;
        msg[i].msg_hdr.msg_namelen = o->to.sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                     : sizeof(struct sockaddr_in);
        msg[i].msg_hdr.msg_iov = &iov[i];
        msg[i].msg_hdr.msg_iovlen = 1;
    }
    for (unsigned i = 0; i < n;) {
        b->calls++;
        int r = sendmmsg(fd, msg + i, n - i, 0);
        if (r <= 0) {
            count(b, false, 1);   /* msg[i] refused (EAGAIN: buffer full, or a route error) */
            i++;
            continue;
        }
        count(b, true, (unsigned)r);
        i += (unsigned)r;
    }
}
#else
static void send_run(udp_batch *b, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to; i++) {
        const udp_batch_item *o = &b->item[i];
        send_now(b, o->sock, &o->to.sa, b->mem + o->off, o->len);
    }
}
#endif

void udp_batch_flush(udp_batch *b)
{
    for (unsigned i = 0, j; i < b->n; i = j) {
        for (j = i + 1; j < b->n && b->item[j].sock == b->item[i].sock; j++) {
        }
        send_run(b, i, j);
    }
    b->n = 0;
    b->used = 0;
}

bool udp_batch_add(udp_batch *b, uv_udp_t *sock, const struct sockaddr_storage *to, const uint8_t *data,
                   size_t len)
{
    if (!b->mem && len <= UDP_BATCH_BYTES)
        b->mem = malloc(UDP_BATCH_BYTES);
    if (b->n == UDP_BATCH_MAX || b->used + len > UDP_BATCH_BYTES || !b->mem)
        udp_batch_flush(b);   /* full: keep the order, send what waits first */
    if (!b->mem || len > UDP_BATCH_BYTES || (to->ss_family != AF_INET && to->ss_family != AF_INET6)) {
        send_now(b, sock, (const struct sockaddr *)to, data, len);
        return false;
    }
    udp_batch_item *o = &b->item[b->n++];
    o->sock = sock;
    o->off = b->used;
    o->len = (unsigned)len;
    memcpy(&o->to, to, to->ss_family == AF_INET6 ? sizeof o->to.in6 : sizeof o->to.in4);
    memcpy(b->mem + o->off, data, len);
    b->used += (unsigned)len;
    return true;
}
