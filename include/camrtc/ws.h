/* WebSocket (RFC 6455) for client and server, sans-I/O, on wslay.
 *
 * A camrtc_ws is one WebSocket session after the HTTP upgrade: the caller feeds
 * the bytes it read from the transport (camrtc_ws_feed), gets whole messages
 * back through callbacks, and moves the bytes to write out with camrtc_ws_drain.
 * The session never touches a socket, a clock or a thread; close timeouts and
 * keepalive timing belong to the caller. Between messages, with its output
 * drained, a session holds nothing beyond its own few hundred bytes, so a
 * server can keep many idle clients.
 *
 * Implemented: framing and masking (RFC 6455 section 5.2, 5.3), fragmentation
 * and reassembly (5.4), control frames ping/pong/close (5.5), UTF-8 checks on
 * text (8.1), the close handshake and status codes (7.1.2-7.1.5, 7.4), the
 * failure codes 1002/1003/1007/1009 (7.1.7), and the opening handshake: client
 * request and response checks (4.1, 4.2.2), server request checks and the 101
 * response (4.2.1, 4.2.2), version negotiation with 426 (4.4). No extensions and
 * no subprotocol negotiation: the reserved bits must be zero.
 */
#ifndef CAMRTC_WS_H
#define CAMRTC_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/rand.h"
#include "camrtc/str.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bound on a reassembled received message when the config gives 0. KVS signaling
 * messages stay under 20 KB. */
#define CAMRTC_WS_DEFAULT_MAX_MESSAGE (64u * 1024u)

/* Size of a Sec-WebSocket-Accept value with its NUL (camrtc_ws_accept_key). */
#define CAMRTC_WS_ACCEPT_SIZE 29

/* Size of a Sec-WebSocket-Key value with its NUL (camrtc_ws_write_client_request). */
#define CAMRTC_WS_KEY_SIZE 25

typedef struct camrtc_ws camrtc_ws;

/* Event callbacks. Each runs from inside camrtc_ws_feed; the data pointers are
 * valid only during the call. A callback may call camrtc_ws_send_* (the frames
 * are written when the callback returns, control frames first; a close sent
 * from a callback replaces what that callback sent before it) but must not
 * feed or free the session. */
typedef struct camrtc_ws_callbacks {
    /* One whole (reassembled) text message, valid UTF-8. May be NULL (dropped). */
    void (*on_text)(void *ud, const uint8_t *data, size_t len);
    /* One whole binary message. May be NULL: a binary message then fails the
     * session with close code 1003 and feed returns CAMRTC_EUNSUPPORTED. */
    void (*on_binary)(void *ud, const uint8_t *data, size_t len);
    /* A pong arrived (its application data). May be NULL. */
    void (*on_pong)(void *ud, const uint8_t *data, size_t len);
    /* The peer's close frame arrived. code is 1005 when the frame had no status
     * code. The session has already queued its answering close frame (echoing
     * code) unless it had sent one before. May be NULL. */
    void (*on_close)(void *ud, uint16_t code, const uint8_t *reason, size_t reason_len);
} camrtc_ws_callbacks;

typedef struct camrtc_ws_config {
    bool server;        /* server side: expects masked frames, sends unmasked */
    size_t max_message; /* bound on a reassembled message (0: CAMRTC_WS_DEFAULT_MAX_MESSAGE);
                           larger → close 1009 */
    camrtc_rng *rng;    /* required for clients (frame masks); borrowed, must outlive the session */
} camrtc_ws_config;

/* Create a session (after the HTTP upgrade). cfg and cb are copied; ud is passed
 * to every callback. Returns NULL on allocation failure or an invalid config
 * (NULL cfg or cb, a client without rng). Free with camrtc_ws_free. */
camrtc_ws *camrtc_ws_new(const camrtc_ws_config *cfg, const camrtc_ws_callbacks *cb, void *ud);

/* Feed len received bytes (borrowed, not kept); callbacks run from inside.
 * Any split of the byte stream is fine, down to one byte per call. Pings are
 * answered and close frames echoed automatically. Returns CAMRTC_OK, or after a
 * failure (the session then refuses more input; drain the output, which ends
 * with a close frame, then drop the connection):
 *   CAMRTC_EPROTO       protocol violation (close 1002) or invalid UTF-8 (1007);
 *   CAMRTC_ETOOBIG      a message over max_message (1009);
 *   CAMRTC_EUNSUPPORTED a binary message without on_binary (1003);
 *   CAMRTC_ENOMEM / CAMRTC_ECRYPTO (mask generation) as fatal errors.
 * Every later call returns the same error. Bytes fed after the peer's close
 * frame are ignored (CAMRTC_OK). CAMRTC_ESTATE when called from a callback. */
int camrtc_ws_feed(camrtc_ws *ws, const uint8_t *data, size_t len);

/* Queue a text message (copied). data must be valid UTF-8 (CAMRTC_EINVAL
 * otherwise). CAMRTC_ECLOSED once a close frame was queued or after a failure;
 * CAMRTC_ENOMEM on allocation failure. */
int camrtc_ws_send_text(camrtc_ws *ws, const void *data, size_t len);

/* Queue a ping with len <= 125 bytes of application data (CAMRTC_EINVAL
 * otherwise). The answer arrives through on_pong. Errors as camrtc_ws_send_text. */
int camrtc_ws_send_ping(camrtc_ws *ws, const void *data, size_t len);

/* Queue a close frame (once). code is a status code an endpoint may send
 * (1000-1003, 1007-1014, 3000-4999) or 0 for a close frame without a body (reason
 * must then be empty); reason (may be NULL) is UTF-8 of at most 123 bytes.
 * CAMRTC_EINVAL for a bad code or reason; CAMRTC_ECLOSED when a close frame was
 * already queued (by this call, by the automatic echo, or after a failure). */
int camrtc_ws_send_close(camrtc_ws *ws, uint16_t code, const char *reason);

/* Move all bytes waiting to be sent into out (appends). Returns CAMRTC_OK or an
 * error from out (the bytes then stay queued). The session's own output buffer
 * is released once it is emptied, so an idle session holds no buffer. */
int camrtc_ws_drain(camrtc_ws *ws, camrtc_buf *out);

/* Bytes waiting to be sent (before drain). */
size_t camrtc_ws_pending(const camrtc_ws *ws);

/* True once a close frame was both sent and received, or after a failure: the
 * transport can be closed (after draining). */
bool camrtc_ws_is_closed(const camrtc_ws *ws);

/* True once this side has queued a close frame (its own, the automatic echo of
 * the peer's, or the one sent after a failure). */
bool camrtc_ws_close_sent(const camrtc_ws *ws);

/* Free the session and everything it holds. NULL is fine. */
void camrtc_ws_free(camrtc_ws *ws);

/* Handshake (RFC 6455 section 4). */

/* Sec-WebSocket-Accept for a client key: base64(SHA-1(key + GUID)) written
 * NUL-terminated to out (outsz >= CAMRTC_WS_ACCEPT_SIZE). Returns CAMRTC_OK,
 * CAMRTC_ETOOBIG when out is too small, CAMRTC_EINVAL for NULL arguments,
 * CAMRTC_ECRYPTO when SHA-1 fails. */
int camrtc_ws_accept_key(const char *client_key, char *out, size_t outsz);

/* Server side: check an upgrade request given its method, HTTP/1.x minor version
 * and headers (borrowed). Requires GET, HTTP/1.1 or later, a Host header, the
 * token "websocket" in Upgrade and "upgrade" in Connection (comma-separated
 * lists, case-insensitive), Sec-WebSocket-Version 13, and exactly one
 * Sec-WebSocket-Key that base64-decodes to 16 bytes. On success returns
 * CAMRTC_OK, sets *key (may be NULL) to the Sec-WebSocket-Key value inside
 * headers and *http_status (may be NULL) to 101. On failure returns CAMRTC_EPROTO
 * and *http_status is 400 (bad request) or 426 (missing or unsupported
 * Sec-WebSocket-Version; the response must then carry Sec-WebSocket-Version: 13). */
int camrtc_ws_check_upgrade(const char *method, int version_minor, const camrtc_kv *headers, size_t n,
                            const char **key, int *http_status);

/* Server side: append the "HTTP/1.1 101 Switching Protocols" response for
 * client_key with Upgrade, Connection and Sec-WebSocket-Accept, then the extra
 * headers (may be NULL when n_extra is 0), then the blank line. Returns CAMRTC_OK,
 * CAMRTC_EINVAL for a header name that is not a token or a value with control
 * characters (out is then unchanged), or an error from out. */
int camrtc_ws_write_accept(camrtc_buf *out, const char *client_key, const camrtc_kv *extra, size_t n_extra);

/* Client side: append a GET upgrade request for target (origin-form, starting
 * with '/', e.g. "/?X-Amz-ChannelARN=...") on host (Host header value as given,
 * may carry ":port"), with a fresh random 16-byte key (written base64 to key_out,
 * key_outsz >= CAMRTC_WS_KEY_SIZE) and extra headers (may be NULL when n_extra is
 * 0). Returns CAMRTC_OK, CAMRTC_EINVAL for a malformed host, target or header
 * (out is then unchanged), CAMRTC_ETOOBIG when key_out is too small,
 * CAMRTC_ECRYPTO when the rng fails, or an error from out. */
int camrtc_ws_write_client_request(camrtc_buf *out, const char *host, const char *target, camrtc_rng *rng,
                                   const camrtc_kv *extra, size_t n_extra, char *key_out, size_t key_outsz);

/* Client side: check the server's response status and headers (borrowed) for our
 * key: 101, Upgrade: websocket, Connection: upgrade, exactly one matching
 * Sec-WebSocket-Accept, and no Sec-WebSocket-Extensions (none were offered).
 * Returns CAMRTC_OK, CAMRTC_EAUTH for status 401 or 403, CAMRTC_EPROTO otherwise,
 * CAMRTC_EINVAL for a NULL key. */
int camrtc_ws_check_accept(int status, const camrtc_kv *headers, size_t n, const char *key);

#ifdef __cplusplus
}
#endif
#endif
