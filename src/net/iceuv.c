/* The libuv glue for the sans-I/O ICE agent: sockets, streams, DNS and one timer.
 *
 * The machinery drives an "owner" through a table of calls (iceuv_int.h): the bare ICE
 * agent here (ice_ops, the public camrtc_iceuv API), or a whole peer connection
 * (pcuv.c). "The agent" below means whichever owner it is.
 *
 * Every call into the agent goes through enter()/leave(): the agent may call us back
 * (send, open a stream, report an event) while it runs, and the user's event callback may
 * ask to close. leave() is where the deferred work happens once the outermost call
 * returns: a close asked for, streams that failed to start, and re-arming the timer at
 * camrtc_ice_next_timeout. Nothing here decides anything about ICE.
 */
#include "camrtc/iceuv.h"
#include "iceuv_int.h"
#include "udp_batch.h"

#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/net.h"
#include "camrtc/time.h"

#define MOD "iceuv"

/* Room for the sockets the agent opens to move a UDP TURN allocation off a taken 5-tuple
 * (camrtc_ice_io.open_udp), beyond one per interface address. */
#define ICEUV_TURN_SOCKETS 4

typedef struct iceuv_sock {
    uv_udp_t udp;
    camrtc_iceuv *u;
    int id;                      /* the agent's sock id: the index in u->socks */
    bool live;                   /* bound and reading (a failed bind leaves its slot dead) */
    camrtc_addr local;
} iceuv_sock;

typedef struct iceuv_server {
    camrtc_iceuv *u;
    camrtc_ice_url url;
    char *username, *password;
    uv_getaddrinfo_t gai;        /* in use while resolving */
    camrtc_addr addr;            /* set once resolved */
} iceuv_server;

typedef struct iceuv_stream {
    struct iceuv_stream *next;
    camrtc_iceuv *u;
    camrtc_conn *conn;           /* NULL when camrtc_conn_connect refused at once */
    int id;                      /* the agent's stream id */
    int start_err;               /* connect refused: reported from leave() */
    bool agent_closed;           /* the agent closed it: report nothing more */
} iceuv_stream;

struct camrtc_iceuv {
    uv_loop_t *loop;
    camrtc_iceuv_callbacks cb;
    void *ud;
    const camrtc_log *log;
    camrtc_rng rng;
    const camrtc_iceuv_ops *ops;  /* the sans-I/O owner driven here (iceuv_int.h) */
    void *owner;                  /* NULL once torn down */
    camrtc_ice_agent *agent;      /* the bare agent when this is a camrtc_iceuv; else NULL */
    camrtc_ice_config ice_cfg;    /* for camrtc_ice_interface_allowed; only .interfaces kept */
    char *interfaces;

    const camrtc_tls_config *tls; /* borrowed, or own_tls */
    camrtc_tls_config *own_tls;
    char *ca_file;
    bool tls_insecure;

    iceuv_sock socks[CAMRTC_ICEUV_MAX_SOCKETS + ICEUV_TURN_SOCKETS];
    unsigned nsocks, nlive;
    iceuv_server servers[CAMRTC_ICEUV_MAX_SERVERS];
    unsigned nservers;
    unsigned dns_pending;
    iceuv_stream *streams;
    uv_timer_t timer;
    uv_check_t flush;             /* sends the queue right after the I/O callbacks */
    uv_idle_t flush_idle;         /* ... or before the loop waits, whatever queued it */
    udp_batch out;                /* datagrams not sent yet (udp_batch.h) */

    unsigned depth;               /* nesting of calls into the agent */
    unsigned refs;                /* handles, requests and streams that still call back */
    bool gather_asked, gather_started;
    bool close_asked, agent_closed, tearing_down;
    bool stream_start_failed;     /* some stream has start_err to report */
    camrtc_time_us close_deadline;
    camrtc_iceuv_stats stats;
    uint8_t rbuf[CAMRTC_ICEUV_RECV_SIZE];  /* every socket reads here: one datagram at a time */
};

static void leave(camrtc_iceuv *u);

static void enter(camrtc_iceuv *u)
{
    u->depth++;
}

/* ---- teardown -------------------------------------------------------------------- */

static void maybe_finish(camrtc_iceuv *u)
{
    if (!u->tearing_down || u->refs)
        return;
    if (u->cb.on_close)
        u->cb.on_close(u, u->ud);
    for (unsigned i = 0; i < u->nservers; i++) {
        free(u->servers[i].username);
        free(u->servers[i].password);
    }
    camrtc_tls_config_free(u->own_tls);
    free(u->ca_file);
    free(u->interfaces);
    udp_batch_free(&u->out);
    camrtc_rng_free(&u->rng);
    free(u);
}

static void on_timer_closed(uv_handle_t *h)
{
    camrtc_iceuv *u = h->data;
    u->refs--;
    maybe_finish(u);
}

static void flush_out(camrtc_iceuv *u);

static void on_flush_closed(uv_handle_t *h)
{
    camrtc_iceuv *u = h->data;
    u->refs--;
    maybe_finish(u);
}

static void on_sock_closed(uv_handle_t *h)
{
    iceuv_sock *s = h->data;
    s->u->refs--;
    maybe_finish(s->u);
}

/* Close every handle, cancel name lookups, drop streams; on_close comes once all of
 * them have called back. The agent goes first so that nothing calls into it again. */
static void teardown(camrtc_iceuv *u)
{
    u->tearing_down = true;
    if (u->owner)
        u->ops->free_owner(u->owner);
    u->owner = NULL;
    u->agent = NULL;
    flush_out(u);   /* the goodbyes (close_notify, BYE, TURN Refresh 0) still leave */
    uv_close((uv_handle_t *)&u->flush, on_flush_closed);
    uv_close((uv_handle_t *)&u->flush_idle, on_flush_closed);
    uv_timer_stop(&u->timer);
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
    for (unsigned i = 0; i < u->nsocks; i++) {
        if (!u->socks[i].live)
            continue;
        uv_udp_recv_stop(&u->socks[i].udp);
        uv_close((uv_handle_t *)&u->socks[i].udp, on_sock_closed);
    }
    for (unsigned i = 0; i < u->nservers; i++)
        if (u->servers[i].gai.loop)   /* still resolving: the callback still comes */
            uv_cancel((uv_req_t *)&u->servers[i].gai);
    for (iceuv_stream *s = u->streams; s; s = s->next)
        if (s->conn)
            camrtc_conn_abort(s->conn);
}

/* ---- the timer ----------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    camrtc_iceuv *u = t->data;
    if (!u->owner)
        return;
    enter(u);
    u->ops->handle_timeout(u->owner, camrtc_now_us());
    leave(u);
}

static void rearm(camrtc_iceuv *u, camrtc_time_us now)
{
    camrtc_time_us next = u->ops->next_timeout(u->owner);
    if (u->agent_closed && u->close_deadline < next)
        next = u->close_deadline;
    if (next == CAMRTC_TIME_NEVER) {
        uv_timer_stop(&u->timer);
        return;
    }
    /* Round up: a timer that fires early only finds nothing due and re-arms. */
    uint64_t ms = next > now ? (next - now + 999) / 1000 : 0;
    uv_update_time(u->loop);
    uv_timer_start(&u->timer, on_timer, ms, 0);
}

/* Streams whose connect was refused at once: the agent hears of it here, outside its
 * own callback. */
static void report_start_failures(camrtc_iceuv *u, camrtc_time_us now)
{
    u->stream_start_failed = false;
    for (iceuv_stream **pp = &u->streams; *pp;) {
        iceuv_stream *s = *pp;
        if (s->conn || !s->start_err) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        int err = s->start_err;
        int id = s->id;
        bool report = !s->agent_closed;
        free(s);
        u->refs--;
        if (report) {
            u->depth++;
            u->ops->stream_closed(u->owner, now, id, err);
            u->depth--;
        }
    }
}

/* After the outermost call into the agent: deferred work, then the timer. */
static void leave(camrtc_iceuv *u)
{
    if (--u->depth || u->tearing_down)
        return;
    camrtc_time_us now = camrtc_now_us();
    /* Bounded: each report removes a stream; a new failure would only come from a new
     * open_stream, which the agent asks for at most once per server. */
    for (int i = 0; i < 4 && u->stream_start_failed; i++)
        report_start_failures(u, now);
    if (u->close_asked && !u->agent_closed) {
        u->agent_closed = true;
        u->close_deadline = now + CAMRTC_MS(CAMRTC_ICEUV_CLOSE_WAIT_MS);
        u->depth++;
        u->ops->close(u->owner, now);
        u->depth--;
    }
    /* Deallocation is done when the agent wants no more timer (no request left to
     * retransmit) and its TCP/TLS streams have closed in order (the Refresh flushed, the
     * server's FIN seen); past the deadline whatever is left is cut. */
    bool dealloc_done = u->ops->next_timeout(u->owner) == CAMRTC_TIME_NEVER && !u->streams;
    if (u->agent_closed && (dealloc_done || now >= u->close_deadline)) {
        teardown(u);
        return;
    }
    rearm(u, now);
}

/* ---- UDP ----------------------------------------------------------------------------- */

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
    enter(u);
    u->ops->udp_input(u->owner, camrtc_now_us(), s->id, &addr, (const uint8_t *)buf->base, (size_t)nread);
    leave(u);
}

/* Sending: datagrams wait in u->out (udp_batch.h) until the loop iteration's I/O
 * callbacks are done (a uv_check runs right after them). One queued elsewhere (a timer, or
 * outside uv_run) leaves from an idle handle, which also keeps the loop from waiting for
 * I/O meanwhile: the queue is always empty when the loop sleeps. */

static void flush_out(camrtc_iceuv *u)
{
    udp_batch_flush(&u->out);
    uv_check_stop(&u->flush);
    uv_idle_stop(&u->flush_idle);
}

static void on_flush(uv_check_t *h)
{
    flush_out(h->data);
}

static void on_flush_idle(uv_idle_t *h)
{
    flush_out(h->data);
}

void iceuv_io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    camrtc_iceuv *u = user;
    if (sock < 0 || (unsigned)sock >= u->nsocks || !u->socks[sock].live)
        return;
    struct sockaddr_storage ss;
    if (!camrtc_addr_to_sockaddr(to, (struct sockaddr *)&ss))
        return;
    if (udp_batch_add(&u->out, &u->socks[sock].udp, &ss, data, len) && u->out.n == 1) {
        uv_check_start(&u->flush, on_flush);
        uv_idle_start(&u->flush_idle, on_flush_idle);
    }
}

/* Bind one socket on addr (port chosen by the kernel) and start reading; its id, or an error. */
static int open_socket(camrtc_iceuv *u, const struct sockaddr *sa)
{
    if (u->nsocks >= sizeof u->socks / sizeof u->socks[0])
        return CAMRTC_ELIMIT;
    iceuv_sock *s = &u->socks[u->nsocks];
    int rc = uv_udp_init(u->loop, &s->udp);
    if (rc < 0)
        return camrtc_err_from_uv(rc);
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
    enter(u);
    int rc = u->ops->add_host(u->owner, now, id, &u->socks[id].local);
    leave(u);
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
        if (u->socks[i].live && camrtc_addr_ip_equal(&u->socks[i].local, a))
            return true;
    return false;
}

/* One socket per allowed interface address (RFC 8445 §5.1.1.1: every address is a host
 * candidate, IPv4 and IPv6). */
static int bind_all(camrtc_iceuv *u, camrtc_time_us now)
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

/* ---- servers ------------------------------------------------------------------------- */

static void register_server(camrtc_iceuv *u, iceuv_server *s)
{
    camrtc_ice_server srv = {
        .turn = s->url.turn, .transport = s->url.transport, .addr = s->addr,
        .username = s->username, .password = s->password,
    };
    enter(u);
    int rc = u->ops->add_server(u->owner, camrtc_now_us(), &srv);
    if (rc < 0)
        CAMRTC_LOGW(u->log, MOD, "server %s not taken: %s", s->url.host, camrtc_strerror(rc));
    leave(u);
}

static void start_gather(camrtc_iceuv *u)
{
    u->gather_started = true;
    enter(u);
    u->ops->gather(u->owner, camrtc_now_us());
    leave(u);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    iceuv_server *s = req->data;
    camrtc_iceuv *u = s->u;
    req->loop = NULL;    /* marks "not resolving" for teardown */
    u->refs--;
    u->dns_pending--;
    if (u->tearing_down) {
        if (res)
            uv_freeaddrinfo(res);
        maybe_finish(u);
        return;
    }
    /* IPv4 first: a name such as "localhost" often lists ::1 first while TURN servers
     * commonly listen on IPv4 only; IPv6 when the name has no IPv4 address. */
    bool found = false;
    for (int pass = 0; pass < 2 && !found; pass++)
        for (struct addrinfo *ai = status == 0 ? res : NULL; ai && !found; ai = ai->ai_next)
            if (pass == 1 || ai->ai_family == AF_INET)
                found = camrtc_addr_from_sockaddr(&s->addr, ai->ai_addr) == CAMRTC_OK;
    if (res)
        uv_freeaddrinfo(res);
    if (found && !u->close_asked) {
        s->addr.port = s->url.port;
        register_server(u, s);
    } else if (!found) {
        u->stats.dns_failed++;
        CAMRTC_LOGW(u->log, MOD, "cannot resolve %s: %s", s->url.host, status ? uv_strerror(status) : "no address");
    }
    if (u->gather_asked && !u->gather_started && u->dns_pending == 0 && !u->close_asked)
        start_gather(u);
}

int camrtc_iceuv_add_server(camrtc_iceuv *u, const char *url, const char *username, const char *password)
{
    if (!u || !url)
        return CAMRTC_EINVAL;
    if (u->gather_asked || u->close_asked)
        return CAMRTC_ESTATE;
    if (u->nservers >= CAMRTC_ICEUV_MAX_SERVERS)
        return CAMRTC_ELIMIT;
    iceuv_server *s = &u->servers[u->nservers];
    memset(s, 0, sizeof *s);
    int rc = camrtc_ice_url_parse(&s->url, url);
    if (rc < 0)
        return rc;
    s->u = u;
    s->username = username ? strdup(username) : NULL;
    s->password = password ? strdup(password) : NULL;
    if ((username && !s->username) || (password && !s->password)) {
        free(s->username);
        free(s->password);
        return CAMRTC_ENOMEM;
    }
    u->nservers++;
    if (camrtc_addr_parse(&s->addr, s->url.host, s->url.port) == CAMRTC_OK) {
        register_server(u, s);
        return CAMRTC_OK;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC };
    hints.ai_socktype = s->url.transport == CAMRTC_ICE_UDP ? SOCK_DGRAM : SOCK_STREAM;
    s->gai.data = s;
    rc = uv_getaddrinfo(u->loop, &s->gai, on_resolved, s->url.host, NULL, &hints);
    if (rc < 0) {
        s->gai.loop = NULL;
        u->stats.dns_failed++;
        CAMRTC_LOGW(u->log, MOD, "cannot resolve %s: %s", s->url.host, uv_strerror(rc));
        return CAMRTC_OK;   /* skipped, as a failed lookup would be */
    }
    u->refs++;
    u->dns_pending++;
    return CAMRTC_OK;
}

/* A GetIceServerConfig answer (KVS developer guide, API_signaling_GetIceServerConfig): each
 * IceServerList entry is one TURN server reachable by several URIs (RFC 7065), all sharing
 * the entry's time-limited credentials. Every URI becomes one server for the agent, so that
 * ICE gathers a relay per transport and keeps whichever pair works (RFC 8445 §5.1.1.2). */
static int add_kvs_uri(camrtc_iceuv *u, const char *uri, const camrtc_kvs_ice_server *srv)
{
    camrtc_ice_url url;
    int rc = camrtc_ice_url_parse(&url, uri);
    if (rc == CAMRTC_OK) {
        /* STUN servers take no credentials (RFC 8489 §9: a Binding needs none); an empty
         * Username is a TURN server without authentication. */
        const char *user = url.turn && srv->username[0] ? srv->username : NULL;
        const char *pass = url.turn && srv->password[0] ? srv->password : NULL;
        rc = camrtc_iceuv_add_server(u, uri, user, pass);
    }
    if (rc == CAMRTC_ENOMEM)
        return rc;
    if (rc < 0) {
        u->stats.servers_skipped++;
        CAMRTC_LOGI(u->log, MOD, "ICE server URI %s skipped: %s", uri, camrtc_strerror(rc));
        return 0;
    }
    return 1;
}

int camrtc_iceuv_add_kvs_servers(camrtc_iceuv *u, const camrtc_kvs_ice_config *cfg)
{
    if (!u || !cfg)
        return CAMRTC_EINVAL;
    if (u->gather_asked || u->close_asked)
        return CAMRTC_ESTATE;
    int taken = 0;
    /* Bounded by the parser's own bounds, whatever the counts say. */
    size_t ns = cfg->n_servers < CAMRTC_KVS_MAX_ICE_SERVERS ? cfg->n_servers : CAMRTC_KVS_MAX_ICE_SERVERS;
    for (size_t i = 0; i < ns; i++) {
        const camrtc_kvs_ice_server *srv = &cfg->servers[i];
        size_t nu = srv->n_uris < CAMRTC_KVS_MAX_ICE_URIS ? srv->n_uris : CAMRTC_KVS_MAX_ICE_URIS;
        for (size_t k = 0; k < nu; k++) {
            int rc = add_kvs_uri(u, srv->uris[k], srv);
            if (rc < 0)
                return rc;
            taken += rc;
        }
    }
    CAMRTC_LOGI(u->log, MOD, "GetIceServerConfig: %d ICE server URI(s) taken from %zu server(s)", taken, ns);
    return taken;
}

/* ---- TCP/TLS streams to TURN servers ----------------------------------------------- */

static iceuv_stream *find_stream(camrtc_iceuv *u, int id)
{
    for (iceuv_stream *s = u->streams; s; s = s->next)
        if (s->id == id && !s->agent_closed)
            return s;
    return NULL;
}

static void on_stream_open(camrtc_conn *c, void *ud)
{
    iceuv_stream *s = ud;
    camrtc_iceuv *u = s->u;
    if (!u->owner || s->agent_closed)
        return;
    enter(u);
    u->ops->stream_connected(u->owner, camrtc_now_us(), s->id);
    leave(u);
}

static void on_stream_data(camrtc_conn *c, void *ud, const uint8_t *data, size_t len)
{
    iceuv_stream *s = ud;
    camrtc_iceuv *u = s->u;
    if (!u->owner || s->agent_closed)
        return;
    u->stats.stream_bytes_in += len;
    enter(u);
    u->ops->stream_input(u->owner, camrtc_now_us(), s->id, data, len);
    leave(u);
}

static void on_stream_close(camrtc_conn *c, void *ud, int err)
{
    iceuv_stream *s = ud;
    camrtc_iceuv *u = s->u;
    for (iceuv_stream **pp = &u->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    bool report = !s->agent_closed;
    int id = s->id;
    free(s);
    u->refs--;
    if (err)
        u->stats.streams_failed++;
    if (u->owner && !u->tearing_down) {
        if (err && report)
            CAMRTC_LOGW(u->log, MOD, "TURN stream %d closed: %s", id, camrtc_conn_error_string(c));
        enter(u);
        if (report)
            u->ops->stream_closed(u->owner, camrtc_now_us(), id, err ? err : CAMRTC_ECLOSED);
        leave(u);   /* also: a close may have been waiting for this stream */
    }
    maybe_finish(u);
}

static const camrtc_conn_callbacks stream_cb = {
    .on_open = on_stream_open, .on_data = on_stream_data, .on_close = on_stream_close,
};

static const camrtc_tls_config *client_tls(camrtc_iceuv *u)
{
    if (u->tls)
        return u->tls;
    char err[160];
    u->own_tls = camrtc_tls_config_new_client(u->ca_file, !u->tls_insecure, &u->rng, err, sizeof err);
    if (!u->own_tls)
        CAMRTC_LOGW(u->log, MOD, "TLS config: %s", err);
    u->tls = u->own_tls;
    return u->tls;
}

/* The URL host of the server at to, so that TLS checks the name the user gave
 * (RFC 8656 §3.1, RFC 6125); the numeric address when no server matches. */
static const char *stream_host(const camrtc_iceuv *u, const camrtc_addr *to, bool tls, char *ip, size_t ipsz)
{
    camrtc_ice_transport t = tls ? CAMRTC_ICE_TLS : CAMRTC_ICE_TCP;
    for (unsigned i = 0; i < u->nservers; i++)
        if (u->servers[i].url.transport == t && camrtc_addr_equal(&u->servers[i].addr, to))
            return u->servers[i].url.host;
    return camrtc_addr_ip_str(to, ip, ipsz);
}

void iceuv_io_open_stream(void *user, int stream, const camrtc_addr *to, bool tls)
{
    camrtc_iceuv *u = user;
    iceuv_stream *s = calloc(1, sizeof *s);
    if (!s)
        return;   /* the agent's gather timeout gives up on this server */
    s->u = u;
    s->id = stream;
    s->next = u->streams;
    u->streams = s;
    u->refs++;
    char ip[CAMRTC_ADDR_STRLEN];
    const char *host = stream_host(u, to, tls, ip, sizeof ip);
    const camrtc_tls_config *cfg = tls ? client_tls(u) : NULL;
    int rc = tls && !cfg ? CAMRTC_ETLS : camrtc_conn_connect(u->loop, host, to->port, cfg, &stream_cb, s, &s->conn);
    u->stats.streams_opened++;
    if (rc < 0) {
        u->stats.streams_failed++;
        s->conn = NULL;
        s->start_err = rc;
        u->stream_start_failed = true;
        return;
    }
    camrtc_conn_set_log(s->conn, u->log);
}

void iceuv_io_send_stream(void *user, int stream, const uint8_t *data, size_t len)
{
    camrtc_iceuv *u = user;
    iceuv_stream *s = find_stream(u, stream);
    if (!s || !s->conn)
        return;
    /* A failure here is reported again through on_close, which tells the agent. */
    if (camrtc_conn_write(s->conn, data, len) == CAMRTC_OK)
        u->stats.stream_bytes_out += len;
}

void iceuv_io_close_stream(void *user, int stream)
{
    camrtc_iceuv *u = user;
    iceuv_stream *s = find_stream(u, stream);
    if (!s)
        return;
    s->agent_closed = true;
    if (s->conn)
        camrtc_conn_close(s->conn);   /* flushes what the agent wrote last */
}

static void io_event(void *user, const camrtc_ice_event *ev)
{
    camrtc_iceuv *u = user;
    if (u->cb.on_event)
        u->cb.on_event(u, u->ud, ev);
}

static const camrtc_ice_io ice_io = {
    .send_udp = iceuv_io_send_udp,
    .open_stream = iceuv_io_open_stream,
    .send_stream = iceuv_io_send_stream,
    .close_stream = iceuv_io_close_stream,
    .event = io_event,
    .open_udp = iceuv_io_open_udp,
};

/* ---- the driver's internal calls (iceuv_int.h) ---------------------------------------- */

int iceuv_drv_new(uv_loop_t *loop, const camrtc_iceuv_config *cfg, const camrtc_iceuv_callbacks *cb, void *ud,
                  camrtc_iceuv **out)
{
    if (!loop || !cfg || !out)
        return CAMRTC_EINVAL;
    *out = NULL;
    camrtc_iceuv *u = calloc(1, sizeof *u);
    if (!u)
        return CAMRTC_ENOMEM;
    u->loop = loop;
    udp_batch_init(&u->out, &u->stats.udp_sent, &u->stats.udp_send_failed);
    if (cb)
        u->cb = *cb;
    u->ud = ud;
    u->log = cfg->log;
    u->tls = cfg->tls;
    u->tls_insecure = cfg->tls_insecure;
    if (camrtc_rng_init(&u->rng) != CAMRTC_OK) {
        free(u);
        return CAMRTC_ECRYPTO;
    }
    u->ice_cfg = cfg->ice;
    u->ice_cfg.ufrag = u->ice_cfg.pwd = u->ice_cfg.software = NULL;
    u->ice_cfg.interfaces = NULL;
    bool oom = false;
    if (cfg->ice.interfaces)
        oom |= !(u->interfaces = strdup(cfg->ice.interfaces));
    if (cfg->ca_file)
        oom |= !(u->ca_file = strdup(cfg->ca_file));
    u->ice_cfg.interfaces = u->interfaces;
    if (oom) {
        iceuv_drv_abort(u);
        return CAMRTC_ENOMEM;
    }
    *out = u;
    return CAMRTC_OK;
}

/* The timer and the flush handles are the first handles: from here on the driver ends
 * through teardown. */
void iceuv_drv_set_owner(camrtc_iceuv *u, const camrtc_iceuv_ops *ops, void *owner)
{
    u->ops = ops;
    u->owner = owner;
    uv_timer_init(u->loop, &u->timer);
    u->timer.data = u;
    uv_check_init(u->loop, &u->flush);
    uv_idle_init(u->loop, &u->flush_idle);
    u->flush.data = u->flush_idle.data = u;
    u->refs = 3;   /* the timer and the two flush handles */
}

/* No handle is open yet (no owner): free at once. */
void iceuv_drv_abort(camrtc_iceuv *u)
{
    if (!u)
        return;
    free(u->interfaces);
    free(u->ca_file);
    camrtc_rng_free(&u->rng);
    free(u);
}

camrtc_rng *iceuv_drv_rng(camrtc_iceuv *u)
{
    return &u->rng;
}

void iceuv_drv_enter(camrtc_iceuv *u)
{
    enter(u);
}

void iceuv_drv_leave(camrtc_iceuv *u)
{
    leave(u);
}

bool iceuv_drv_closing(const camrtc_iceuv *u)
{
    return u->close_asked || u->agent_closed || u->tearing_down;
}

uint64_t iceuv_drv_send_calls(const camrtc_iceuv *u)
{
    return u->out.calls;
}

/* ---- the bare ICE agent as the owner ---------------------------------------------------- */

static int ice_add_host(void *o, camrtc_time_us now, int sock, const camrtc_addr *local)
{
    return camrtc_ice_add_host(o, now, sock, local);
}

static int ice_add_server(void *o, camrtc_time_us now, const camrtc_ice_server *srv)
{
    return camrtc_ice_add_server(o, now, srv);
}

static int ice_gather(void *o, camrtc_time_us now)
{
    return camrtc_ice_gather(o, now);
}

static int ice_udp_input(void *o, camrtc_time_us now, int sock, const camrtc_addr *from, const uint8_t *data,
                         size_t len)
{
    return camrtc_ice_udp_input(o, now, sock, from, data, len);
}

static int ice_stream_connected(void *o, camrtc_time_us now, int stream)
{
    return camrtc_ice_stream_connected(o, now, stream);
}

static int ice_stream_input(void *o, camrtc_time_us now, int stream, const uint8_t *data, size_t len)
{
    return camrtc_ice_stream_input(o, now, stream, data, len);
}

static int ice_stream_closed(void *o, camrtc_time_us now, int stream, int err)
{
    return camrtc_ice_stream_closed(o, now, stream, err);
}

static int ice_handle_timeout(void *o, camrtc_time_us now)
{
    return camrtc_ice_handle_timeout(o, now);
}

static camrtc_time_us ice_next_timeout(const void *o)
{
    return camrtc_ice_next_timeout(o);
}

static int ice_close(void *o, camrtc_time_us now)
{
    return camrtc_ice_close(o, now);
}

static void ice_free_owner(void *o)
{
    camrtc_ice_free(o);
}

static const camrtc_iceuv_ops ice_ops = {
    .add_host = ice_add_host,
    .add_server = ice_add_server,
    .gather = ice_gather,
    .udp_input = ice_udp_input,
    .stream_connected = ice_stream_connected,
    .stream_input = ice_stream_input,
    .stream_closed = ice_stream_closed,
    .handle_timeout = ice_handle_timeout,
    .next_timeout = ice_next_timeout,
    .close = ice_close,
    .free_owner = ice_free_owner,
};

/* ---- the public calls ------------------------------------------------------------------ */

int camrtc_iceuv_new(uv_loop_t *loop, const camrtc_iceuv_config *cfg, const camrtc_iceuv_callbacks *cb,
                     void *ud, camrtc_iceuv **out)
{
    camrtc_iceuv *u;
    int rc = iceuv_drv_new(loop, cfg, cb, ud, &u);
    if (rc < 0)
        return rc;
    u->agent = camrtc_ice_new(&cfg->ice, &ice_io, u, &u->rng, u->log);
    if (!u->agent) {
        iceuv_drv_abort(u);
        return CAMRTC_ENOMEM;
    }
    iceuv_drv_set_owner(u, &ice_ops, u->agent);
    *out = u;
    return CAMRTC_OK;
}

int camrtc_iceuv_gather(camrtc_iceuv *u)
{
    if (!u)
        return CAMRTC_EINVAL;
    if (u->gather_asked || u->close_asked)
        return CAMRTC_ESTATE;
    u->gather_asked = true;
    int rc = bind_all(u, camrtc_now_us());
    if (rc < 0)
        return rc;
    if (u->dns_pending == 0)
        start_gather(u);
    return CAMRTC_OK;
}

int camrtc_iceuv_set_remote_credentials(camrtc_iceuv *u, const char *ufrag, const char *pwd)
{
    if (!u || !ufrag || !pwd)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    enter(u);
    int rc = camrtc_ice_set_remote_credentials(u->agent, camrtc_now_us(), ufrag, pwd);
    leave(u);
    return rc;
}

int camrtc_iceuv_add_remote_candidate(camrtc_iceuv *u, const char *line)
{
    if (!u || !line)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    camrtc_ice_candidate c;
    int rc = camrtc_ice_candidate_parse(&c, line);
    if (rc < 0)
        return rc;
    enter(u);
    rc = camrtc_ice_add_remote_candidate(u->agent, camrtc_now_us(), &c);
    leave(u);
    return rc;
}

int camrtc_iceuv_remote_end_of_candidates(camrtc_iceuv *u)
{
    if (!u)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    enter(u);
    int rc = camrtc_ice_remote_end_of_candidates(u->agent, camrtc_now_us());
    leave(u);
    return rc;
}

int camrtc_iceuv_send(camrtc_iceuv *u, const uint8_t *data, size_t len)
{
    if (!u || (!data && len))
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    enter(u);
    int rc = camrtc_ice_send(u->agent, camrtc_now_us(), data, len);
    leave(u);
    return rc;
}

int camrtc_iceuv_restart(camrtc_iceuv *u)
{
    if (!u)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    enter(u);
    int rc = camrtc_ice_restart(u->agent, camrtc_now_us());
    leave(u);
    return rc;
}

void camrtc_iceuv_close(camrtc_iceuv *u)
{
    if (!u || u->close_asked)
        return;
    u->close_asked = true;
    /* Through enter/leave so that a close asked from inside an event waits for the agent
     * to return first, and the teardown (if due at once) happens in one place. */
    enter(u);
    leave(u);
}

camrtc_ice_agent *camrtc_iceuv_agent(camrtc_iceuv *u)
{
    return u ? u->agent : NULL;
}

const camrtc_iceuv_stats *camrtc_iceuv_get_stats(const camrtc_iceuv *u)
{
    return &u->stats;
}

unsigned camrtc_iceuv_server_count(const camrtc_iceuv *u)
{
    return u ? u->nservers : 0;
}

int camrtc_iceuv_get_server(const camrtc_iceuv *u, unsigned i, camrtc_iceuv_server_info *out)
{
    if (!u || !out)
        return CAMRTC_EINVAL;
    if (i >= u->nservers)
        return CAMRTC_ENOTFOUND;
    const iceuv_server *s = &u->servers[i];
    *out = (camrtc_iceuv_server_info){ .url = &s->url, .username = s->username, .password = s->password };
    return CAMRTC_OK;
}

unsigned camrtc_iceuv_socket_count(const camrtc_iceuv *u)
{
    return u->nlive;
}
