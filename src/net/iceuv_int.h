/* The libuv driver behind camrtc_iceuv, for other sans-I/O owners of an ICE agent.
 *
 * iceuv.c owns the sockets, the timer, the TURN TCP/TLS streams and the name lookups;
 * what it drives is an "owner" reached through a small table of calls. The bare ICE
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

#endif
