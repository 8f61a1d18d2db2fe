/* Internals shared by the connection and listener halves of src/net/. */
#ifndef CAMRTC_NET_INT_H
#define CAMRTC_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/net.h"

/* The read buffer of one listener, shared by every connection it accepted.
 * Reads on one loop never overlap (alloc_cb is followed by its read_cb before
 * the next alloc_cb), so one buffer serves them all; busy catches the
 * impossible case and falls back to a private allocation. Reference-counted:
 * the listener holds one reference and each of its connections one, so it
 * outlives a listener closed before its connections. */
typedef struct net_shared {
    size_t refs;
    bool busy;
    camrtc_listener *listener; /* NULL once the listener is closing */
    uint8_t data[CAMRTC_NET_READ_SIZE];
} net_shared;

/* Drop one reference; frees sh at zero. */
void net_shared_unref(net_shared *sh);

/* Accept a pending connection from server into a new camrtc_conn holding a
 * reference on sh. Plain connections are handed to the listener's on_accept
 * at once; TLS ones after their handshake (bounded by hs_timeout_ms). Failures
 * are logged and the connection dropped without callbacks. */
void net_conn_accept(uv_stream_t *server, net_shared *sh, const camrtc_tls_config *tls,
                     const camrtc_log *log, uint64_t hs_timeout_ms);

/* Hand a freshly opened accepted connection to the listener's on_accept, or
 * abort it when the listener has been closed meanwhile. */
void net_listener_deliver(net_shared *sh, camrtc_conn *c);

#endif
