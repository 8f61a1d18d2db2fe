/* A WebSocket client connection on a libuv loop: TCP (or TLS) connect, the HTTP/1.1
 * upgrade (RFC 6455 section 4.1), then a WebSocket session.
 *
 * Composes net (sockets), http (response parsing) and ws (framing). Used by the
 * KVS signaling client and by the benchmarks. Everything runs on the loop thread.
 */
#ifndef CAMRTC_WSCLIENT_H
#define CAMRTC_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/rand.h"
#include "camrtc/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_wsclient camrtc_wsclient;

typedef struct camrtc_wsclient_callbacks {
    /* The upgrade succeeded; messages may be sent. */
    void (*on_open)(camrtc_wsclient *c, void *ud);
    /* One whole text message. */
    void (*on_text)(camrtc_wsclient *c, void *ud, const uint8_t *data, size_t len);
    /* A pong arrived (may be NULL). */
    void (*on_pong)(camrtc_wsclient *c, void *ud);
    /* Last call: err is 0 after a clean close, else why it failed; http_status is the
     * refused upgrade's status (0 if none); ws_code the peer's close code (0 if none).
     * c is freed after this returns. */
    void (*on_close)(camrtc_wsclient *c, void *ud, int err, int http_status, uint16_t ws_code);
} camrtc_wsclient_callbacks;

/* Largest message accepted from the server. */
#define CAMRTC_WSCLIENT_MAX_MESSAGE (256 * 1024)

/* Connect to url ("ws://host:port/path?query" or "wss://..."; the query is sent as is, so a
 * presigned URL works). tls is required for wss:// (borrowed; must outlive the client), rng is
 * borrowed (frame masks). Returns CAMRTC_OK and *out, or an error at once; later failures arrive
 * through on_close. */
int camrtc_wsclient_connect(uv_loop_t *loop, const char *url, const camrtc_tls_config *tls, camrtc_rng *rng,
                            const camrtc_wsclient_callbacks *cb, void *ud, camrtc_wsclient **out);

/* Send a text message (CAMRTC_ESTATE before on_open or after close started). */
int camrtc_wsclient_send_text(camrtc_wsclient *c, const void *data, size_t len);

/* Send a ping. */
int camrtc_wsclient_send_ping(camrtc_wsclient *c);

/* Start the closing handshake (close frame, then TCP close); on_close follows. Idempotent. */
void camrtc_wsclient_close(camrtc_wsclient *c, uint16_t code, const char *reason);

/* Drop the connection at once, without a close frame (on_close follows). */
void camrtc_wsclient_abort(camrtc_wsclient *c);

#ifdef __cplusplus
}
#endif
#endif
