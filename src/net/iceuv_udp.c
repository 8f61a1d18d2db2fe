/* The driver's UDP sockets (iceuv.c): one per allowed interface address, plus the ones
 * the agent opens for a TURN allocation; every socket reads into the driver's one buffer,
 * and datagrams to send wait in a batch (udp_batch.h) until the loop iteration's I/O
 * callbacks are done.
 */
#include "iceuv_int.h"
#include "udp_batch.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/net.h"
#include "camrtc/time.h"

#define MOD "iceuv"

static void on_sock_closed(uv_handle_t *h)
{
    iceuv_sock *s = h->data;
    s->u->refs--;
    iceuv_maybe_finish(s->u);
}

/* A failed bind has closed its handle already (open_socket). */
void iceuv_close_sockets(camrtc_iceuv *u)
{
    for (unsigned i = 0; i < u->nsocks; i++) {
        if (!u->socks[i]->live)
            continue;
        uv_udp_recv_stop(&u->socks[i]->udp);
        uv_close((uv_handle_t *)&u->socks[i]->udp, on_sock_closed);
    }
}

void iceuv_free_sockets(camrtc_iceuv *u)
{
    for (unsigned i = 0; i < u->nsocks; i++)
        free(u->socks[i]);
    u->nsocks = u->nlive = 0;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    iceuv_sock *s = h->data;
    buf->base = (char *)s->u->rbuf;
    buf->len = sizeof s->u->rbuf;
}

static void on_udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                        unsigned flags)
{
    iceuv_sock *s = h->data;
    camrtc_iceuv *u = s->u;
    if (nread <= 0 || !from || !u->owner)
        return;   /* 0 with no address: nothing more to read now; < 0: a socket error */
    if (flags & UV_UDP_PARTIAL) {
        u->stats.udp_dropped_truncated++;
        return;
    }
    camrtc_addr addr;
    if (camrtc_addr_from_sockaddr(&addr, from) != CAMRTC_OK)
        return;
    u->stats.udp_received++;
    iceuv_drv_enter(u);
    u->ops->udp_input(u->owner, camrtc_now_us(), s->id, &addr, (const uint8_t *)buf->base, (size_t)nread);
    iceuv_drv_leave(u);
}

/* Sending: datagrams wait in u->out (udp_batch.h) until the loop iteration's I/O
 * callbacks are done (a uv_check runs right after them). One queued elsewhere (a timer, or
 * outside uv_run) leaves from an idle handle, which also keeps the loop from waiting for
 * I/O meanwhile: the queue is always empty when the loop sleeps. */

void iceuv_flush_out(camrtc_iceuv *u)
{
    udp_batch_flush(&u->out);
    uv_check_stop(&u->flush);
    uv_idle_stop(&u->flush_idle);
}

static void on_flush(uv_check_t *h)
{
    iceuv_flush_out(h->data);
}

static void on_flush_idle(uv_idle_t *h)
{
    iceuv_flush_out(h->data);
}

void iceuv_io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    camrtc_iceuv *u = user;
    if (sock < 0 || (unsigned)sock >= u->nsocks || !u->socks[sock]->live)
        return;
    struct sockaddr_storage ss;
    if (!camrtc_addr_to_sockaddr(to, (struct sockaddr *)&ss))
        return;
    if (udp_batch_add(&u->out, &u->socks[sock]->udp, &ss, data, len) && u->out.n == 1) {
        uv_check_start(&u->flush, on_flush);
        uv_idle_start(&u->flush_idle, on_flush_idle);
    }
}

/* Bind one socket on addr (port chosen by the kernel) and start reading; its id, or an error. */
static int open_socket(camrtc_iceuv *u, const struct sockaddr *sa)
{
    if (u->nsocks >= sizeof u->socks / sizeof u->socks[0])
        return CAMRTC_ELIMIT;
    iceuv_sock *s = calloc(1, sizeof *s);
    if (!s)
        return CAMRTC_ENOMEM;
    int rc = uv_udp_init(u->loop, &s->udp);
    if (rc < 0) {
        free(s);
        return camrtc_err_from_uv(rc);
    }
    u->socks[u->nsocks] = s;
    s->udp.data = s;
    s->u = u;
    s->id = (int)u->nsocks;
    u->nsocks++;
    u->refs++;   /* from here the handle must be closed, even when bind fails */
    struct sockaddr_storage ss;
    int sslen = (int)sizeof ss;
    rc = uv_udp_bind(&s->udp, sa, sa->sa_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
    if (rc >= 0)
        rc = uv_udp_getsockname(&s->udp, (struct sockaddr *)&ss, &sslen);
    if (rc >= 0 && camrtc_addr_from_sockaddr(&s->local, (struct sockaddr *)&ss) != CAMRTC_OK)
        rc = UV_EINVAL;
    if (rc >= 0)
        rc = uv_udp_recv_start(&s->udp, on_alloc, on_udp_recv);
    if (rc < 0) {
        char ip[CAMRTC_ADDR_STRLEN];
        camrtc_addr a;
        camrtc_addr_from_sockaddr(&a, sa);
        CAMRTC_LOGW(u->log, MOD, "cannot bind UDP on %s: %s", camrtc_addr_ip_str(&a, ip, sizeof ip), uv_strerror(rc));
        uv_close((uv_handle_t *)&s->udp, on_sock_closed);
        return camrtc_err_from_uv(rc);
    }
    s->live = true;
    u->nlive++;
    return s->id;
}

/* A socket for each interface address, registered with the agent as a host candidate. */
static int bind_socket(camrtc_iceuv *u, const struct sockaddr *sa, camrtc_time_us now)
{
    int id = open_socket(u, sa);
    if (id < 0)
        return id;
    iceuv_drv_enter(u);
    int rc = u->ops->add_host(u->owner, now, id, &u->socks[id]->local);
    iceuv_drv_leave(u);
    return rc;
}

/* The agent's open_udp: one more socket on local's IP, only for a TURN allocation. */
int iceuv_io_open_udp(void *user, const camrtc_addr *local)
{
    camrtc_iceuv *u = user;
    camrtc_addr a = *local;
    a.port = 0;
    struct sockaddr_storage ss;
    if (u->tearing_down || !camrtc_addr_to_sockaddr(&a, (struct sockaddr *)&ss))
        return CAMRTC_EINVAL;
    return open_socket(u, (struct sockaddr *)&ss);
}

static bool already_bound(const camrtc_iceuv *u, const camrtc_addr *a)
{
    for (unsigned i = 0; i < u->nsocks; i++)
        if (u->socks[i]->live && camrtc_addr_ip_equal(&u->socks[i]->local, a))
            return true;
    return false;
}

/* One socket per allowed interface address (RFC 8445 §5.1.1.1: every address is a host
 * candidate, IPv4 and IPv6). */
int iceuv_bind_all(camrtc_iceuv *u, camrtc_time_us now)
{
    uv_interface_address_t *ifs;
    int n;
    int rc = uv_interface_addresses(&ifs, &n);
    if (rc < 0)
        return camrtc_err_from_uv(rc);
    for (int i = 0; i < n && u->nsocks < CAMRTC_ICEUV_MAX_SOCKETS && !u->tearing_down; i++) {
        camrtc_addr a;
        struct sockaddr_storage ss;
        memcpy(&ss, &ifs[i].address, sizeof ifs[i].address);
        if (camrtc_addr_from_sockaddr(&a, (struct sockaddr *)&ss) != CAMRTC_OK)
            continue;
        if (!camrtc_ice_interface_allowed(&u->ice_cfg, ifs[i].name, &a) || already_bound(u, &a))
            continue;
        a.port = 0;
        size_t len = camrtc_addr_to_sockaddr(&a, (struct sockaddr *)&ss);
        if (len)
            bind_socket(u, (struct sockaddr *)&ss, now);
    }
    uv_free_interface_addresses(ifs, n);
    return u->nlive ? CAMRTC_OK : CAMRTC_ENOTFOUND;
}

unsigned camrtc_iceuv_socket_count(const camrtc_iceuv *u)
{
    return u->nlive;
}
