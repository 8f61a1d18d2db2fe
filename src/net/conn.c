/* TCP/TLS connections on libuv: connect (with DNS), accept, read, write, close. */
#include <arpa/inet.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/str.h"
#include "net/net_int.h"

#define MOD "net"

/* Keepalive probes find peers that vanished without a FIN or RST. */
#define NET_KEEPALIVE_S 60
/* A single write bigger than this is refused (libuv counts bytes in int and unsigned). */
#define NET_MAX_WRITE ((size_t)INT_MAX)
/* Bound on TLS records decrypted from one read: far above what 64 KiB can hold. */
#define NET_MAX_RECORDS 100000

enum conn_state { CS_RESOLVING, CS_CONNECTING, CS_HANDSHAKE, CS_OPEN, CS_CLOSING, CS_CLOSED };

/* What only a client connection needs, and only until it is open. */
typedef struct net_client {
    uv_loop_t *loop;
    uv_getaddrinfo_t gai;
    uv_connect_t creq;
    struct addrinfo *ai;   /* getaddrinfo result */
    struct addrinfo *next; /* next address to try */
    struct sockaddr_storage literal;
    bool gai_busy;
    uint16_t port;
    char host[256];        /* without IPv6 brackets */
} net_client;

struct camrtc_conn {
    uv_tcp_t tcp;
    camrtc_conn_callbacks cb;
    void *ud;
    const camrtc_log *log;
    net_shared *shared;              /* accepted connections: the listener's read buffer */
    camrtc_tls *tls;
    const camrtc_tls_config *tls_cfg;
    net_client *cl;                  /* client connections until open */
    uv_timer_t *timer;               /* open or close deadline, allocated while armed */
    size_t pending;                  /* bytes in write requests not yet completed */
    size_t max_pending;
    uint64_t open_timeout_ms;
    int err;                         /* first error, reported by on_close */
    uint8_t state;
    uint8_t refs;                    /* handles and requests that still call back here */
    bool tcp_live;                   /* tcp handle initialised and not closing */
    bool reading;
    bool user_paused;
    bool eof;
    bool shutdown_done;
    bool rst;
};

/* A write the kernel did not take at once. */
typedef struct net_wreq {
    uv_write_t req;
    size_t len;
    uint8_t *owned;  /* the bytes, when they were handed over rather than copied inline */
    uint8_t data[];
} net_wreq;

static void conn_finish(camrtc_conn *c, int err);
static void begin_close(camrtc_conn *c);
static void start_next_address(camrtc_conn *c);

static uv_stream_t *stream(camrtc_conn *c)
{
    return (uv_stream_t *)&c->tcp;
}

/* The client's loop is known before its tcp handle is initialised. */
static uv_loop_t *conn_loop(const camrtc_conn *c)
{
    return c->cl ? c->cl->loop : c->tcp.loop;
}

/* "host:port" for clients, the peer address for accepted connections. */
static void describe(const camrtc_conn *c, char *out, size_t n)
{
    if (c->cl) {
        snprintf(out, n, "%s:%u", c->cl->host, (unsigned)c->cl->port);
        return;
    }
    char ip[64] = "?";
    uint16_t port = 0;
    camrtc_conn_peer(c, ip, sizeof ip, &port, NULL);
    snprintf(out, n, "%s:%u", ip, (unsigned)port);
}

static void maybe_free(camrtc_conn *c)
{
    if (c->refs > 0 || c->state != CS_CLOSED)
        return;
    if (c->cb.on_close)
        c->cb.on_close(c, c->ud, c->err);
    camrtc_tls_free(c->tls);
    if (c->cl)
        uv_freeaddrinfo(c->cl->ai);
    free(c->cl);
    if (c->shared)
        net_shared_unref(c->shared);
    free(c);
}

static void tcp_closed(uv_handle_t *h)
{
    camrtc_conn *c = h->data;
    c->refs--;
    maybe_free(c);
}

static void timer_closed(uv_handle_t *h)
{
    camrtc_conn *c = h->data;
    free(h);
    c->refs--;
    maybe_free(c);
}

static void timer_stop(camrtc_conn *c)
{
    if (!c->timer)
        return;
    uv_close((uv_handle_t *)c->timer, timer_closed);
    c->timer = NULL;
}

static int timer_arm(camrtc_conn *c, uint64_t ms, uv_timer_cb fn)
{
    if (!c->timer) {
        uv_timer_t *t = malloc(sizeof *t);
        if (!t)
            return CAMRTC_ENOMEM;
        uv_timer_init(conn_loop(c), t);
        t->data = c;
        c->timer = t;
        c->refs++;
    }
    uv_timer_start(c->timer, fn, ms, 0);
    return CAMRTC_OK;
}

/* Tear down: every path ends here. on_close comes from the last close callback. */
static void conn_finish(camrtc_conn *c, int err)
{
    if (c->state == CS_CLOSED)
        return;
    if (c->err == 0)
        c->err = err;
    c->state = CS_CLOSED;
    timer_stop(c);
    if (c->cl && c->cl->gai_busy)
        uv_cancel((uv_req_t *)&c->cl->gai);
    if (c->tcp_live) {
        c->tcp_live = false;
        /* close_reset refuses while a shutdown is in flight; a plain close then. */
        if (!c->rst || uv_tcp_close_reset(&c->tcp, tcp_closed) != 0)
            uv_close((uv_handle_t *)&c->tcp, tcp_closed);
    }
}

static void conn_fail(camrtc_conn *c, int err)
{
    if (c->state == CS_CLOSED)
        return;
    if (camrtc_log_enabled(c->log, CAMRTC_LOG_DEBUG)) {
        char who[300];
        describe(c, who, sizeof who);
        CAMRTC_LOGD(c->log, MOD, "connection %s: %s", who, camrtc_strerror(err));
    }
    conn_finish(c, err);
}

static void tls_failed(camrtc_conn *c, int err);

/* ---------- writing ---------- */

static void write_done(uv_write_t *req, int status)
{
    net_wreq *w = (net_wreq *)req;
    camrtc_conn *c = req->handle->data;
    c->pending -= w->len;
    free(w->owned);
    free(w);
    if (status < 0 && status != UV_ECANCELED)
        conn_fail(c, camrtc_err_from_uv(status));
}

/* Send n bytes at p. owned, when not NULL, is the heap block holding them and is
 * taken over (freed here or when the write completes); otherwise p is copied. */
static int send_bytes(camrtc_conn *c, const uint8_t *p, size_t n, uint8_t *owned)
{
    int rc;
    if (!c->tcp_live) {
        free(owned);
        return CAMRTC_ECLOSED;
    }
    if (c->pending == 0) {
        /* Most writes fit in the socket buffer: no request, no copy. */
        uv_buf_t b = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);
        int r = uv_try_write(stream(c), &b, 1);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r != UV_EAGAIN && r != UV_ENOSYS) {
            rc = camrtc_err_from_uv(r);
            goto fail;
        }
    }
    if (n == 0) {
        free(owned);
        return CAMRTC_OK;
    }
    net_wreq *w = malloc(sizeof *w + (owned ? 0 : n));
    if (!w) {
        rc = CAMRTC_ENOMEM;
        goto fail;
    }
    w->len = n;
    w->owned = owned;
    if (!owned) {
        memcpy(w->data, p, n);
        p = w->data;
    }
    uv_buf_t b = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);
    int r = uv_write(&w->req, stream(c), &b, 1, write_done);
    if (r < 0) {
        free(w);
        rc = camrtc_err_from_uv(r);
        goto fail;
    }
    c->pending += n;
    return CAMRTC_OK;
fail:
    free(owned);
    conn_fail(c, rc);
    return rc;
}

/* Send whatever ciphertext the TLS session has queued. */
static int flush_tls(camrtc_conn *c)
{
    if (!c->tls || camrtc_tls_pending(c->tls) == 0 || !c->tcp_live)
        return CAMRTC_OK;
    camrtc_buf b = {0};
    int rc = camrtc_tls_drain(c->tls, &b);
    if (rc < 0) {
        camrtc_buf_free(&b);
        conn_fail(c, rc);
        return rc;
    }
    return send_bytes(c, camrtc_buf_data(&b), b.len, b.mem);
}

/* ---------- reading ---------- */

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    camrtc_conn *c = h->data;
    if (c->shared && !c->shared->busy) {
        c->shared->busy = true;
        *buf = uv_buf_init((char *)c->shared->data, CAMRTC_NET_READ_SIZE);
        return;
    }
    char *m = malloc(CAMRTC_NET_READ_SIZE);
    *buf = uv_buf_init(m, m ? CAMRTC_NET_READ_SIZE : 0);
}

static void release_buf(camrtc_conn *c, const uv_buf_t *buf)
{
    if (c->shared && buf->base == (char *)c->shared->data)
        c->shared->busy = false;
    else
        free(buf->base);
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static int start_reading(camrtc_conn *c)
{
    if (c->reading || !c->tcp_live || c->eof)
        return CAMRTC_OK;
    int r = uv_read_start(stream(c), alloc_cb, read_cb);
    if (r < 0) {
        int err = camrtc_err_from_uv(r);
        conn_fail(c, err);
        return err;
    }
    c->reading = true;
    return CAMRTC_OK;
}

static void stop_reading(camrtc_conn *c)
{
    if (c->reading && c->tcp_live)
        uv_read_stop(stream(c));
    c->reading = false;
}

static void conn_opened(camrtc_conn *c)
{
    timer_stop(c);
    c->state = CS_OPEN;
    if (c->user_paused)
        stop_reading(c);
    if (c->cl) {
        uv_freeaddrinfo(c->cl->ai);
        free(c->cl);
        c->cl = NULL;
        if (c->cb.on_open)
            c->cb.on_open(c, c->ud);
    } else {
        net_listener_deliver(c->shared, c);
    }
}

static void tls_failed(camrtc_conn *c, int err)
{
    char who[300];
    describe(c, who, sizeof who);
    const char *why = err == CAMRTC_ECLOSED ? "connection closed during the handshake"
                                            : camrtc_tls_error_string(c->tls);
    CAMRTC_LOGW(c->log, MOD, "TLS with %s failed: %s", who, *why ? why : camrtc_strerror(err));
    if (err == CAMRTC_ECLOSED)
        err = CAMRTC_ETLS;
    if (c->err == 0)
        c->err = err; /* a failing alert flush must not hide the TLS reason */
    flush_tls(c);     /* the alert telling the peer why */
    conn_finish(c, err);
}

/* Data from the socket; buf (cap bytes, ours) is reused for the plaintext. */
static void conn_input(camrtc_conn *c, uint8_t *buf, size_t n, size_t cap)
{
    if (c->state != CS_OPEN && c->state != CS_HANDSHAKE)
        return; /* closing: the peer's late bytes are dropped */
    if (!c->tls) {
        if (c->cb.on_data)
            c->cb.on_data(c, c->ud, buf, n);
        return;
    }
    int rc = camrtc_tls_feed(c->tls, buf, n);
    if (rc < 0) {
        tls_failed(c, rc == CAMRTC_ETOOBIG ? CAMRTC_ETLS : rc);
        return;
    }
    if (c->state == CS_HANDSHAKE) {
        rc = camrtc_tls_handshake(c->tls);
        if (rc < 0 && rc != CAMRTC_EAGAIN) {
            tls_failed(c, rc);
            return;
        }
        if (flush_tls(c) < 0 || rc == CAMRTC_EAGAIN)
            return;
        conn_opened(c);
    }
    for (int i = 0; i < NET_MAX_RECORDS && c->state == CS_OPEN; i++) {
        rc = camrtc_tls_read(c->tls, buf, cap);
        if (rc > 0) {
            if (c->cb.on_data)
                c->cb.on_data(c, c->ud, buf, (size_t)rc);
            continue;
        }
        if (rc == CAMRTC_EAGAIN)
            break;
        if (rc == CAMRTC_ECLOSED) {
            begin_close(c); /* the peer's close_notify */
            return;
        }
        tls_failed(c, rc);
        return;
    }
    if (c->state == CS_OPEN)
        flush_tls(c);
}

static void read_end(camrtc_conn *c, ssize_t nread)
{
    stop_reading(c);
    c->eof = true;
    if (c->state == CS_CLOSING && c->shutdown_done) {
        conn_finish(c, 0); /* everything was flushed: a reset now loses nothing */
    } else if (nread != UV_EOF) {
        conn_fail(c, camrtc_err_from_uv((int)nread));
    } else if (c->state == CS_HANDSHAKE) {
        tls_failed(c, CAMRTC_ECLOSED);
    } else if (c->state == CS_OPEN) {
        begin_close(c);
    }
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    camrtc_conn *c = s->data;
    if (nread > 0 && buf->base)
        conn_input(c, (uint8_t *)buf->base, (size_t)nread, buf->len);
    else if (nread < 0 && c->state != CS_CLOSED)
        read_end(c, nread);
    if (buf->base)
        release_buf(c, buf);
}

/* ---------- closing ---------- */

static void close_timeout(uv_timer_t *t)
{
    camrtc_conn *c = t->data;
    if (c->shutdown_done) {
        conn_finish(c, 0); /* flushed; the peer just never sent its FIN */
        return;
    }
    CAMRTC_LOGD(c->log, MOD, "close: %zu bytes still queued after %u ms; resetting", c->pending,
                CAMRTC_NET_CLOSE_TIMEOUT_MS);
    c->rst = true;
    conn_finish(c, CAMRTC_ETIMEDOUT);
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    camrtc_conn *c = req->handle->data;
    free(req);
    if (c->state == CS_CLOSED)
        return;
    if (status < 0) {
        conn_fail(c, camrtc_err_from_uv(status));
        return;
    }
    c->shutdown_done = true;
    if (c->eof)
        conn_finish(c, 0);
}

static void begin_close(camrtc_conn *c)
{
    if (c->state != CS_OPEN) {
        if (c->state < CS_OPEN)
            conn_finish(c, 0);
        return;
    }
    c->state = CS_CLOSING;
    if (c->tls && (camrtc_tls_close(c->tls) < 0 || flush_tls(c) < 0)) {
        conn_finish(c, 0);
        return;
    }
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req || timer_arm(c, CAMRTC_NET_CLOSE_TIMEOUT_MS, close_timeout) < 0) {
        free(req);
        conn_finish(c, CAMRTC_ENOMEM);
        return;
    }
    /* FIN goes out once the queued writes are done. */
    int r = uv_shutdown(req, stream(c), shutdown_cb);
    if (r < 0) {
        free(req);
        conn_finish(c, r == UV_ENOTCONN ? 0 : camrtc_err_from_uv(r));
        return;
    }
    /* Keep reading (and dropping) until the peer's FIN so that unread bytes do
       not turn our close into a RST that could destroy what we just sent. */
    start_reading(c);
}

/* ---------- opening ---------- */

static void open_timeout(uv_timer_t *t)
{
    camrtc_conn *c = t->data;
    char who[300];
    describe(c, who, sizeof who);
    CAMRTC_LOGW(c->log, MOD, "%s with %s timed out", c->state == CS_HANDSHAKE ? "TLS handshake" : "connect", who);
    conn_finish(c, CAMRTC_ETIMEDOUT);
}

/* TCP is up: go straight to open, or start the TLS handshake. */
static void tcp_ready(camrtc_conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, NET_KEEPALIVE_S);
    if (start_reading(c) < 0)
        return;
    if (!c->tls_cfg) {
        conn_opened(c);
        return;
    }
    c->tls = camrtc_tls_new(c->tls_cfg, c->cl ? c->cl->host : NULL);
    if (!c->tls) {
        CAMRTC_LOGW(c->log, MOD, "cannot start a TLS session");
        conn_finish(c, CAMRTC_ENOMEM);
        return;
    }
    c->state = CS_HANDSHAKE;
    int rc = camrtc_tls_handshake(c->tls); /* a client's ClientHello */
    if (rc < 0 && rc != CAMRTC_EAGAIN) {
        tls_failed(c, rc);
        return;
    }
    flush_tls(c);
}

static void retry_closed(uv_handle_t *h)
{
    camrtc_conn *c = h->data;
    c->refs--;
    if (c->state == CS_CLOSED)
        maybe_free(c);
    else
        start_next_address(c);
}

static void connect_cb(uv_connect_t *req, int status)
{
    camrtc_conn *c = req->data;
    if (c->state == CS_CLOSED)
        return;
    if (status == 0) {
        tcp_ready(c);
        return;
    }
    int err = camrtc_err_from_uv(status);
    CAMRTC_LOGD(c->log, MOD, "connect to %s:%u: %s", c->cl->host, (unsigned)c->cl->port, uv_strerror(status));
    if (!c->cl->next) {
        conn_fail(c, err);
        return;
    }
    /* A socket that failed to connect cannot be reused: close it, then retry. */
    c->tcp_live = false;
    c->state = CS_RESOLVING;
    uv_close((uv_handle_t *)&c->tcp, retry_closed);
}

static void connect_to(camrtc_conn *c, const struct sockaddr *addr)
{
    int r = uv_tcp_init(c->cl->loop, &c->tcp);
    if (r < 0) {
        conn_fail(c, camrtc_err_from_uv(r));
        return;
    }
    c->tcp.data = c;
    c->tcp_live = true;
    c->refs++;
    c->state = CS_CONNECTING;
    c->cl->creq.data = c;
    r = uv_tcp_connect(&c->cl->creq, &c->tcp, addr, connect_cb);
    if (r < 0) {
        CAMRTC_LOGD(c->log, MOD, "connect to %s:%u: %s", c->cl->host, (unsigned)c->cl->port, uv_strerror(r));
        if (!c->cl->next) {
            conn_fail(c, camrtc_err_from_uv(r));
            return;
        }
        c->tcp_live = false;
        c->state = CS_RESOLVING;
        uv_close((uv_handle_t *)&c->tcp, retry_closed);
    }
}

static void start_next_address(camrtc_conn *c)
{
    net_client *cl = c->cl;
    while (cl->next) {
        struct addrinfo *ai = cl->next;
        cl->next = ai->ai_next;
        if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) {
            connect_to(c, ai->ai_addr);
            return;
        }
    }
    conn_fail(c, CAMRTC_EDNS);
}

static void gai_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    camrtc_conn *c = req->data;
    c->cl->gai_busy = false;
    c->refs--;
    if (c->state == CS_CLOSED) {
        uv_freeaddrinfo(res);
        maybe_free(c);
        return;
    }
    if (status < 0) {
        CAMRTC_LOGW(c->log, MOD, "cannot resolve %s: %s", c->cl->host, uv_strerror(status));
        conn_finish(c, CAMRTC_EDNS);
        return;
    }
    c->cl->ai = res;
    c->cl->next = res;
    start_next_address(c);
}

static camrtc_conn *conn_alloc(const camrtc_tls_config *tls, const camrtc_log *log)
{
    camrtc_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->tls_cfg = tls;
    c->log = log;
    c->max_pending = CAMRTC_NET_DEFAULT_MAX_PENDING;
    c->open_timeout_ms = CAMRTC_NET_DEFAULT_OPEN_TIMEOUT_MS;
    c->state = CS_CONNECTING;
    return c;
}

int camrtc_conn_connect(uv_loop_t *loop, const char *host, uint16_t port, const camrtc_tls_config *tls,
                        const camrtc_conn_callbacks *cb, void *ud, camrtc_conn **out)
{
    if (!loop || !host || !*host || port == 0 || !out || (tls && camrtc_tls_config_is_server(tls)))
        return CAMRTC_EINVAL;
    *out = NULL;
    size_t hl = strlen(host);
    if (host[0] == '[') {
        if (hl < 3 || host[hl - 1] != ']')
            return CAMRTC_EINVAL;
        host++;
        hl -= 2;
    }
    if (hl >= sizeof ((net_client *)0)->host)
        return CAMRTC_EINVAL;
    camrtc_conn *c = conn_alloc(tls, NULL);
    net_client *cl = c ? calloc(1, sizeof *cl) : NULL;
    if (!cl) {
        free(c);
        return CAMRTC_ENOMEM;
    }
    memcpy(cl->host, host, hl);
    cl->port = port;
    cl->loop = loop;
    c->cl = cl;
    if (cb)
        c->cb = *cb;
    c->ud = ud;
    c->state = CS_RESOLVING;
    if (timer_arm(c, c->open_timeout_ms, open_timeout) < 0) {
        free(cl);
        free(c);
        return CAMRTC_ENOMEM;
    }
    *out = c;
    struct sockaddr *sa = (struct sockaddr *)&cl->literal;
    if (uv_ip4_addr(cl->host, port, (struct sockaddr_in *)sa) == 0 ||
        uv_ip6_addr(cl->host, port, (struct sockaddr_in6 *)sa) == 0) {
        connect_to(c, sa);
        return CAMRTC_OK;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    cl->gai.data = c;
    int r = uv_getaddrinfo(loop, &cl->gai, gai_cb, cl->host, service, &hints);
    if (r < 0) {
        conn_finish(c, CAMRTC_EDNS);
        return CAMRTC_OK;
    }
    cl->gai_busy = true;
    c->refs++;
    return CAMRTC_OK;
}

void net_conn_accept(uv_stream_t *server, net_shared *sh, const camrtc_tls_config *tls,
                     const camrtc_log *log, uint64_t hs_timeout_ms)
{
    camrtc_conn *c = conn_alloc(tls, log);
    if (!c) {
        /* Without memory the socket stays in the backlog; the next accept retries. */
        CAMRTC_LOGE(log, MOD, "accept: out of memory");
        return;
    }
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    c->tcp_live = true;
    c->refs = 1;
    c->shared = sh;
    sh->refs++;
    int r = uv_accept(server, stream(c));
    if (r < 0) {
        CAMRTC_LOGW(log, MOD, "accept: %s", uv_strerror(r));
        conn_finish(c, camrtc_err_from_uv(r));
        return;
    }
    if (tls && timer_arm(c, hs_timeout_ms, open_timeout) < 0) {
        conn_finish(c, CAMRTC_ENOMEM);
        return;
    }
    tcp_ready(c);
}

/* ---------- public calls ---------- */

int camrtc_conn_write(camrtc_conn *c, const void *data, size_t len)
{
    if (!c || (!data && len > 0))
        return CAMRTC_EINVAL;
    if (c->state == CS_CLOSING || c->state == CS_CLOSED)
        return CAMRTC_ECLOSED;
    if (c->state != CS_OPEN)
        return CAMRTC_ESTATE;
    if (len == 0)
        return CAMRTC_OK;
    if (len > NET_MAX_WRITE)
        return CAMRTC_ETOOBIG;
    size_t queued = camrtc_conn_pending(c);
    if (queued > 0 && (queued >= c->max_pending || len > c->max_pending - queued))
        return CAMRTC_ELIMIT;
    if (!c->tls)
        return send_bytes(c, data, len, NULL);
    int rc = camrtc_tls_write(c->tls, data, len);
    if (rc < 0) {
        tls_failed(c, rc);
        return rc;
    }
    return flush_tls(c);
}

void camrtc_conn_close(camrtc_conn *c)
{
    if (c)
        begin_close(c);
}

void camrtc_conn_abort(camrtc_conn *c)
{
    if (!c || c->state == CS_CLOSED)
        return;
    c->rst = true;
    conn_finish(c, 0);
}

void camrtc_conn_set_callbacks(camrtc_conn *c, const camrtc_conn_callbacks *cb, void *ud)
{
    if (!c)
        return;
    if (cb)
        c->cb = *cb;
    else
        memset(&c->cb, 0, sizeof c->cb);
    c->ud = ud;
}

void camrtc_conn_set_log(camrtc_conn *c, const camrtc_log *log)
{
    if (c)
        c->log = log;
}

void camrtc_conn_set_open_timeout(camrtc_conn *c, uint64_t ms)
{
    if (!c)
        return;
    c->open_timeout_ms = ms;
    if (c->state < CS_OPEN && c->timer)
        uv_timer_start(c->timer, open_timeout, ms, 0);
}

size_t camrtc_conn_pending(const camrtc_conn *c)
{
    return c->pending + (c->tls ? camrtc_tls_pending(c->tls) : 0);
}

void camrtc_conn_set_max_pending(camrtc_conn *c, size_t bytes)
{
    if (c)
        c->max_pending = bytes;
}

int camrtc_conn_peer(const camrtc_conn *c, char *ip, size_t ipsz, uint16_t *port, bool *is_loopback)
{
    if (!c->tcp_live || c->state < CS_HANDSHAKE)
        return CAMRTC_ESTATE;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return CAMRTC_EIO;
    char text[64];
    uint16_t p;
    bool lo;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
        uv_ip4_name(sin, text, sizeof text);
        p = ntohs(sin->sin_port);
        lo = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
        uv_ip6_name(sin6, text, sizeof text);
        p = ntohs(sin6->sin6_port);
        lo = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr) ||
             (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr) && sin6->sin6_addr.s6_addr[12] == 127);
    } else {
        return CAMRTC_EIO;
    }
    if (port)
        *port = p;
    if (is_loopback)
        *is_loopback = lo;
    if (ip && camrtc_strlcpy(ip, text, ipsz) < 0)
        return CAMRTC_ETOOBIG;
    return CAMRTC_OK;
}

void camrtc_conn_read_stop(camrtc_conn *c)
{
    if (!c)
        return;
    c->user_paused = true;
    if (c->state == CS_OPEN)
        stop_reading(c);
}

void camrtc_conn_read_start(camrtc_conn *c)
{
    if (!c)
        return;
    c->user_paused = false;
    if (c->state == CS_OPEN)
        start_reading(c);
}

bool camrtc_conn_is_tls(const camrtc_conn *c)
{
    return c && c->tls_cfg;
}

const char *camrtc_conn_error_string(const camrtc_conn *c)
{
    if (c->tls && *camrtc_tls_error_string(c->tls))
        return camrtc_tls_error_string(c->tls);
    return c->err ? camrtc_strerror(c->err) : "";
}
