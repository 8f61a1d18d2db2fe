/* TCP and TLS connections and listeners on libuv: the only socket code.
 *
 * A camrtc_conn is a byte stream (RFC 9293 TCP), optionally wrapped in TLS 1.2
 * by the sans-I/O engine in camrtc/tls.h. Name resolution goes through
 * uv_getaddrinfo on the libuv thread pool, so nothing here blocks the loop.
 * Everything runs on the loop thread; callbacks come from uv_run. libuv
 * writes with write(2), so the process must ignore SIGPIPE.
 *
 * Lifecycle: a connection belongs to the loop from connect/accept until its
 * on_close, which is always the last callback and is never called from inside
 * a camrtc_conn_* call (only from the loop); the connection is freed right
 * after it returns. camrtc_conn_close/_abort may be called from any callback.
 *
 * Memory: connections accepted by one listener share a single read buffer
 * (CAMRTC_NET_READ_SIZE) owned by the listener; client connections use a
 * buffer allocated for each read and freed right after it. An idle plain
 * connection holds only its small struct (about 400 bytes of heap, measured
 * by test_net); a TLS connection adds its session (about 37 KB, camrtc/tls.h).
 * Write requests are allocated per write, and only for bytes the kernel did
 * not take at once.
 */
#ifndef CAMRTC_NET_H
#define CAMRTC_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/log.h"
#include "camrtc/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size of one read from a socket. */
#define CAMRTC_NET_READ_SIZE (64u * 1024u)
/* Default bound on bytes queued for writing (camrtc_conn_set_max_pending). */
#define CAMRTC_NET_DEFAULT_MAX_PENDING (4u * 1024u * 1024u)
/* Default bound on DNS + connect + TLS handshake (clients) and on the TLS
 * handshake of accepted connections, in milliseconds. */
#define CAMRTC_NET_DEFAULT_OPEN_TIMEOUT_MS 10000u
/* Bound on an orderly close: flushing queued data and waiting for the peer's
 * FIN, in milliseconds. Past it the connection is closed anyway. */
#define CAMRTC_NET_CLOSE_TIMEOUT_MS 10000u

typedef struct camrtc_conn camrtc_conn;

typedef struct camrtc_conn_callbacks {
    /* Connected (and TLS established). Client connections only. May be NULL. */
    void (*on_open)(camrtc_conn *c, void *ud);
    /* Plaintext received; data is valid only during the call. May be NULL. */
    void (*on_data)(camrtc_conn *c, void *ud, const uint8_t *data, size_t len);
    /* Last call: err 0 = orderly close (ours, or the peer's FIN/close_notify),
     * else why (CAMRTC_ECONNREFUSED, CAMRTC_EDNS, CAMRTC_ETIMEDOUT, CAMRTC_ETLS,
     * CAMRTC_ECERT, ...). c is freed after it returns. May be NULL. */
    void (*on_close)(camrtc_conn *c, void *ud, int err);
} camrtc_conn_callbacks;

/* Connect to host:port. host is a DNS name or an IPv4/IPv6 literal (IPv6 may be
 * in brackets); every address it resolves to is tried in turn. tls NULL = plain
 * TCP, else a client config (borrowed; must outlive the connection) and TLS
 * with server_name = host. cb is copied; ud is passed to every callback.
 * Returns CAMRTC_OK and *out (owned by the loop until on_close), or
 * CAMRTC_EINVAL / CAMRTC_ENOMEM (then no callback follows); every failure after
 * return comes through on_close. */
int camrtc_conn_connect(uv_loop_t *loop, const char *host, uint16_t port, const camrtc_tls_config *tls,
                        const camrtc_conn_callbacks *cb, void *ud, camrtc_conn **out);

/* Queue len bytes (copied) for sending; only once open (CAMRTC_ESTATE before,
 * CAMRTC_ECLOSED after close/abort or a failure). CAMRTC_ELIMIT when bytes are
 * already queued and len more would pass the bound (camrtc_conn_set_max_pending;
 * a write into an empty queue is always taken): the caller then closes the
 * slow peer. A socket error found here is returned and also reported through
 * on_close. */
int camrtc_conn_write(camrtc_conn *c, const void *data, size_t len);

/* Orderly close: stop delivering data, flush queued writes (after a TLS
 * close_notify), send FIN, wait for the peer's FIN (bounded by
 * CAMRTC_NET_CLOSE_TIMEOUT_MS), then close; on_close(0) follows unless an error
 * came first. Before the connection is open it acts like abort. Idempotent. */
void camrtc_conn_close(camrtc_conn *c);

/* Immediate close: queued data is dropped and the peer gets a RST. on_close
 * follows (with 0 unless an error came first). Idempotent, also during close. */
void camrtc_conn_abort(camrtc_conn *c);

/* Replace the callbacks (copied) and their user data. Accepted connections
 * must get theirs in on_accept. */
void camrtc_conn_set_callbacks(camrtc_conn *c, const camrtc_conn_callbacks *cb, void *ud);

/* Logger for this connection's failures (borrowed; NULL = none). Set it right
 * after camrtc_conn_connect; accepted connections inherit the listener's. */
void camrtc_conn_set_log(camrtc_conn *c, const camrtc_log *log);

/* Bound on DNS + connect + TLS handshake for a client connection (default
 * CAMRTC_NET_DEFAULT_OPEN_TIMEOUT_MS, counted from connect; a new value restarts
 * the count). Past it on_close(CAMRTC_ETIMEDOUT). No effect once open. */
void camrtc_conn_set_open_timeout(camrtc_conn *c, uint64_t ms);

/* Bytes queued for writing that the kernel has not taken yet. */
size_t camrtc_conn_pending(const camrtc_conn *c);

/* Set the write bound in bytes (default CAMRTC_NET_DEFAULT_MAX_PENDING). */
void camrtc_conn_set_max_pending(camrtc_conn *c, size_t bytes);

/* Peer address as text ("127.0.0.1", "::1"; ipsz >= 46 fits any), its port and
 * whether it is a loopback address (127/8, ::1, ::ffff:127/104). Any output may
 * be NULL. CAMRTC_OK, CAMRTC_ESTATE when not connected, CAMRTC_ETOOBIG when ip
 * is too small, CAMRTC_EIO. */
int camrtc_conn_peer(const camrtc_conn *c, char *ip, size_t ipsz, uint16_t *port, bool *is_loopback);

/* Stop reading from the socket (back-pressure); data already received in the
 * current read is still delivered. */
void camrtc_conn_read_stop(camrtc_conn *c);

/* Resume reading after camrtc_conn_read_stop. */
void camrtc_conn_read_start(camrtc_conn *c);

/* True for TLS connections. */
bool camrtc_conn_is_tls(const camrtc_conn *c);

/* Why the connection failed: the TLS engine's reason when TLS failed (e.g.
 * "certificate verification failed: name mismatch"), else camrtc_strerror of
 * the error; "" while there is none. Valid until on_close returns. */
const char *camrtc_conn_error_string(const camrtc_conn *c);

typedef struct camrtc_listener camrtc_listener;

/* Listen on host:port. host is an IPv4/IPv6 literal, "localhost" (127.0.0.1),
 * or NULL/"" for all IPv4 addresses; port 0 = ephemeral. tls NULL = plain TCP,
 * else a server config (borrowed; must outlive the listener and its
 * connections). Accepted connections arrive already open (TLS handshake done,
 * bounded by camrtc_listener_set_handshake_timeout) through on_accept, which
 * must call camrtc_conn_set_callbacks (or close/abort the connection).
 * Connections whose TLS handshake fails are logged and freed without any
 * callback. Returns CAMRTC_OK and *out, or CAMRTC_EINVAL, CAMRTC_EEXIST (address
 * in use), CAMRTC_ENOMEM, CAMRTC_EIO. */
int camrtc_listener_start(uv_loop_t *loop, const char *host, uint16_t port, const camrtc_tls_config *tls,
                          void (*on_accept)(camrtc_listener *l, camrtc_conn *c, void *ud), void *ud,
                          camrtc_listener **out);

/* The bound port (useful after port 0). */
uint16_t camrtc_listener_port(const camrtc_listener *l);

/* Logger (borrowed; NULL = none) for the listener and its connections. */
void camrtc_listener_set_log(camrtc_listener *l, const camrtc_log *log);

/* Bound on the TLS handshake of accepted connections (default
 * CAMRTC_NET_DEFAULT_OPEN_TIMEOUT_MS); applies to connections accepted later. */
void camrtc_listener_set_handshake_timeout(camrtc_listener *l, uint64_t ms);

/* Stop accepting; existing connections stay (those still in their TLS
 * handshake are dropped). The listener is freed once libuv has closed its
 * handle; l must not be used after this call. */
void camrtc_listener_close(camrtc_listener *l);

#ifdef __cplusplus
}
#endif
#endif
