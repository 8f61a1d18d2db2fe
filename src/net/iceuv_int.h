/* The libuv driver behind camrtc_iceuv, for other sans-I/O owners of an ICE agent.
 *
 * The driver (iceuv.c and the iceuv_*.c beside it) owns the sockets, the timer, the TURN
 * TCP/TLS streams and the name lookups; what it drives is an "owner" reached through a
 * small table of calls. The bare ICE
 * agent (camrtc_iceuv's public API) is one owner, a whole peer connection (pcuv.c) is
 * another. Every call into the owner made from outside the driver's own callbacks must
 * sit between iceuv_drv_enter and iceuv_drv_leave, so that the deferred work (close,
 * stream start failures, re-arming the timer) happens once the owner has returned.
 */
#ifndef CAMRTC_NET_ICEUV_INT_H
#define CAMRTC_NET_ICEUV_INT_H

#include "camrtc/iceuv.h"
#include "camrtc/time.h"

/* The owner's side, all called on the loop thread with the owner given to
 * iceuv_drv_new. The names follow camrtc_ice_*: same meanings, same return values. */
typedef struct camrtc_iceuv_ops {
    int (*add_host)(void *owner, camrtc_time_us now, int sock, const camrtc_addr *local);
    int (*add_server)(void *owner, camrtc_time_us now, const camrtc_ice_server *srv);
    /* Every socket and server is registered (the owner may start gathering). */
    int (*gather)(void *owner, camrtc_time_us now);
    int (*udp_input)(void *owner, camrtc_time_us now, int sock, const camrtc_addr *from, const uint8_t *data,
                     size_t len);
    int (*stream_connected)(void *owner, camrtc_time_us now, int stream);
    int (*stream_input)(void *owner, camrtc_time_us now, int stream, const uint8_t *data, size_t len);
    int (*stream_closed)(void *owner, camrtc_time_us now, int stream, int err);
    int (*handle_timeout)(void *owner, camrtc_time_us now);
    camrtc_time_us (*next_timeout)(const void *owner);
    /* Say goodbye (TURN deallocation, DTLS close_notify): the driver then waits until
     * next_timeout is NEVER and every stream has closed, at most CAMRTC_ICEUV_CLOSE_WAIT_MS. */
    int (*close)(void *owner, camrtc_time_us now);
    /* Free the owner's protocol state: nothing calls into it afterwards. */
    void (*free_owner)(void *owner);
} camrtc_iceuv_ops;

/* A driver with no owner yet: cfg as camrtc_iceuv_new (cfg->ice.interfaces and the
 * loopback/IPv6 choices filter the interfaces; the rest of cfg->ice is not used here).
 * cb->on_event is not called by the driver; cb->on_close is its last call. */
int iceuv_drv_new(uv_loop_t *loop, const camrtc_iceuv_config *cfg, const camrtc_iceuv_callbacks *cb, void *ud,
                  camrtc_iceuv **out);

/* Attach the owner (once, right after iceuv_drv_new); the driver's timer starts to exist
 * here, so from now on it ends only through camrtc_iceuv_close. */
void iceuv_drv_set_owner(camrtc_iceuv *u, const camrtc_iceuv_ops *ops, void *owner);

/* Free at once a driver whose owner never came (before iceuv_drv_set_owner). */
void iceuv_drv_abort(camrtc_iceuv *u);

/* The driver's random source (for owners that need one living as long as the driver). */
camrtc_rng *iceuv_drv_rng(camrtc_iceuv *u);

void iceuv_drv_enter(camrtc_iceuv *u);
void iceuv_drv_leave(camrtc_iceuv *u);

/* True once a close was asked for (calls that feed the owner should stop). */
bool iceuv_drv_closing(const camrtc_iceuv *u);

/* System calls that sent datagrams so far: fewer than stats.udp_sent when datagrams
 * left in batches (one sendmmsg per socket per loop iteration). */
uint64_t iceuv_drv_send_calls(const camrtc_iceuv *u);

/* The agent's io calls, for an owner to pass through (user = the driver). send_udp
 * queues the datagram (a copy): it leaves before the loop next waits for I/O. */
void iceuv_io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len);
void iceuv_io_open_stream(void *user, int stream, const camrtc_addr *to, bool tls);
void iceuv_io_send_stream(void *user, int stream, const uint8_t *data, size_t len);
void iceuv_io_close_stream(void *user, int stream);
int iceuv_io_open_udp(void *user, const camrtc_addr *local);

/* ---- inside the driver: shared by iceuv.c, iceuv_udp.c, iceuv_servers.c, iceuv_streams.c
 * and iceuv_agent.c only; an owner such as pcuv.c uses the calls above. ---------------- */

#include <uv.h>

#include "camrtc/net.h"
#include "camrtc/rand.h"
#include "udp_batch.h"

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

    /* Made one by one as they are opened or added (most connections have a few sockets and
     * 0-2 servers), freed with the driver; a socket's and a server's address must not move
     * while libuv holds its handle or request. */
    iceuv_sock *socks[CAMRTC_ICEUV_MAX_SOCKETS + ICEUV_TURN_SOCKETS];
    unsigned nsocks, nlive;
    iceuv_server *servers[CAMRTC_ICEUV_MAX_SERVERS];
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
    /* Every socket reads here, one datagram at a time. The drivers of one loop could share
     * one, but a loop has no place of ours to keep it in short of global state. */
    uint8_t rbuf[CAMRTC_ICEUV_RECV_SIZE];
};

/* iceuv.c: free the driver once it is tearing down and nothing calls back any more. */
void iceuv_maybe_finish(camrtc_iceuv *u);

/* iceuv_udp.c: the sockets. close_sockets closes every handle (each calls back once);
 * free_sockets frees them once they all have. */
int iceuv_bind_all(camrtc_iceuv *u, camrtc_time_us now);
void iceuv_flush_out(camrtc_iceuv *u);
void iceuv_close_sockets(camrtc_iceuv *u);
void iceuv_free_sockets(camrtc_iceuv *u);

/* iceuv_servers.c: start_gather once every socket and server is registered (the owner
 * may gather); cancel_lookups stops the name lookups (each still calls back once);
 * free_servers frees the servers once no lookup is left. */
void iceuv_start_gather(camrtc_iceuv *u);
void iceuv_cancel_lookups(camrtc_iceuv *u);
void iceuv_free_servers(camrtc_iceuv *u);

#endif
