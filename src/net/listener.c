/* TCP/TLS listeners on libuv. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "net/net_int.h"

#define MOD "net"
#define NET_BACKLOG 511

struct camrtc_listener {
    uv_tcp_t tcp;
    void (*on_accept)(camrtc_listener *l, camrtc_conn *c, void *ud);
    void *ud;
    const camrtc_tls_config *tls;
    const camrtc_log *log;
    net_shared *shared;
    uint64_t hs_timeout_ms;
    uint16_t port;
};

void net_shared_unref(net_shared *sh)
{
    if (--sh->refs == 0)
        free(sh);
}

void net_listener_deliver(net_shared *sh, camrtc_conn *c)
{
    camrtc_listener *l = sh->listener;
    if (!l) {
        camrtc_conn_abort(c);
        return;
    }
    l->on_accept(l, c, l->ud);
}

static void on_connection(uv_stream_t *server, int status)
{
    camrtc_listener *l = server->data;
    if (status < 0) {
        CAMRTC_LOGW(l->log, MOD, "listener on port %u: %s", (unsigned)l->port, uv_strerror(status));
        return;
    }
    net_conn_accept(server, l->shared, l->tls, l->log, l->hs_timeout_ms);
}

static void listener_closed(uv_handle_t *h)
{
    camrtc_listener *l = h->data;
    net_shared_unref(l->shared);
    free(l);
}

/* Literal addresses only: resolving a name here would block the loop. */
static int parse_host(const char *host, uint16_t port, struct sockaddr_storage *ss)
{
    if (!host || !*host)
        host = "0.0.0.0";
    else if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
        return CAMRTC_OK;
    if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
        return CAMRTC_OK;
    return CAMRTC_EINVAL;
}

int camrtc_listener_start(uv_loop_t *loop, const char *host, uint16_t port, const camrtc_tls_config *tls,
                          void (*on_accept)(camrtc_listener *l, camrtc_conn *c, void *ud), void *ud,
                          camrtc_listener **out)
{
    if (!loop || !on_accept || !out || (tls && !camrtc_tls_config_is_server(tls)))
        return CAMRTC_EINVAL;
    *out = NULL;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (parse_host(host, port, &ss) < 0)
        return CAMRTC_EINVAL;
    camrtc_listener *l = calloc(1, sizeof *l);
    net_shared *sh = l ? malloc(sizeof *sh) : NULL;
    if (!sh) {
        free(l);
        return CAMRTC_ENOMEM;
    }
    sh->refs = 1;
    sh->busy = false;
    sh->listener = l;
    l->shared = sh;
    l->on_accept = on_accept;
    l->ud = ud;
    l->tls = tls;
    l->hs_timeout_ms = CAMRTC_NET_DEFAULT_OPEN_TIMEOUT_MS;
    int r = uv_tcp_init(loop, &l->tcp);
    if (r < 0) {
        free(sh);
        free(l);
        return camrtc_err_from_uv(r);
    }
    l->tcp.data = l;
    r = uv_tcp_bind(&l->tcp, (const struct sockaddr *)&ss, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&l->tcp, NET_BACKLOG, on_connection);
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    if (r == 0)
        r = uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&bound, &blen);
    if (r < 0) {
        /* The handle is freed by the loop, like any closed listener. */
        sh->listener = NULL;
        uv_close((uv_handle_t *)&l->tcp, listener_closed);
        return camrtc_err_from_uv(r);
    }
    l->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *out = l;
    return CAMRTC_OK;
}

uint16_t camrtc_listener_port(const camrtc_listener *l)
{
    return l ? l->port : 0;
}

void camrtc_listener_set_log(camrtc_listener *l, const camrtc_log *log)
{
    if (l)
        l->log = log;
}

void camrtc_listener_set_handshake_timeout(camrtc_listener *l, uint64_t ms)
{
    if (l)
        l->hs_timeout_ms = ms;
}

void camrtc_listener_close(camrtc_listener *l)
{
    if (!l)
        return;
    l->shared->listener = NULL;
    uv_close((uv_handle_t *)&l->tcp, listener_closed);
}
