/* Sans-I/O HTTP/1.1 message codec.
 *
 * The parser takes bytes from a stream and gives back one parsed request or
 * response at a time; the serializers write a message into a camrtc_buf. No
 * socket, clock or thread is touched. The local signaling server (one parser
 * per connection) and the KVS client (REST over keep-alive, WebSocket upgrade)
 * sit on top.
 *
 * Implements RFC 9112 section 2 (message format; a line may end in CRLF or in a
 * bare LF, a CR anywhere else is refused; empty lines before a request or
 * status line are skipped, section 2.2), 3 (request line, origin-, absolute-
 * and asterisk-form targets), 4 (status line), 5 (field syntax; obs-fold is
 * refused, section 5.2), 6 (message body length, including the request
 * smuggling rules of 6.1 and 6.3), 7.1 (chunked coding; extensions ignored,
 * trailers validated and discarded) and 9.3 (persistence); RFC 9110 sections
 * 5.6.1 (lists), 7.6.1 (Connection), 7.8 (Upgrade), 8.6 (Content-Length) and 15
 * (status codes and reason phrases).
 */
#ifndef CAMRTC_HTTP_H
#define CAMRTC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/str.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAMRTC_HTTP_MAX_HEADER_BYTES 16384 /* request/status line + all headers */
#define CAMRTC_HTTP_MAX_HEADERS 64

typedef enum camrtc_http_kind { CAMRTC_HTTP_REQUEST, CAMRTC_HTTP_RESPONSE } camrtc_http_kind;

/* One parsed message. Every string points into the parser's buffers and is
 * NUL-terminated; fields that do not apply to the message kind are "". */
typedef struct camrtc_http_msg {
    /* requests */
    const char *method;          /* "GET" */
    const char *target;          /* request-target as sent: "/path?query" */
    const char *path;            /* target up to '?' (NUL-terminated copy); for an
                                    absolute-form target the path component ("/" when
                                    empty), for "*" just "*" */
    const char *query;           /* after '?' or "" */
    /* responses */
    int status;
    const char *reason;
    int version_minor;           /* HTTP/1.<n>: 0 or 1 */
    camrtc_kv headers[CAMRTC_HTTP_MAX_HEADERS];   /* values trimmed of OWS */
    size_t n_headers;
    const uint8_t *body;         /* de-chunked body, NUL-terminated for convenience (not counted) */
    size_t body_len;
    bool keep_alive;             /* per version and Connection header (false when the
                                    body of a response is delimited by the close) */
    bool upgrade;                /* Connection has the "upgrade" token and an Upgrade header
                                    is present (HTTP/1.1 requests; 101 responses) */
} camrtc_http_msg;

/* A parser for one connection. The caller owns the struct; its fields are
 * private. The parser owns its two buffers and releases them in
 * camrtc_http_parser_free. */
typedef struct camrtc_http_parser {
    camrtc_http_msg msg;
    camrtc_buf head;             /* start line and header block, then the path copy */
    camrtc_buf body;             /* body bytes, de-chunked */
    size_t max_body;
    uint64_t remaining;          /* Content-Length or chunk bytes still to read; chunk size */
    size_t line_start;           /* offset of the current header line in head */
    size_t skipped;              /* empty-line bytes skipped before the start line */
    size_t aux_len;              /* bytes of the current chunk-size line, or of the trailers */
    unsigned n_lines;            /* header lines seen so far */
    unsigned n_digits;           /* hex digits of the current chunk size */
    int kind;                    /* camrtc_http_kind */
    int state;
    int sub;                     /* sub-state of chunk-size, chunk end and trailer parsing */
    int err;                     /* sticky error code once state is the error state */
    int err_status;              /* HTTP status matching err */
    bool no_body;                /* set by camrtc_http_parser_expect_no_body */
} camrtc_http_parser;

/* Initialise p for messages of the given kind whose bodies may be at most
 * max_body bytes. Allocates nothing (buffers are allocated on first use), so
 * it cannot fail. */
void camrtc_http_parser_init(camrtc_http_parser *p, camrtc_http_kind kind, size_t max_body);

/* Feed len bytes of the stream (data may be NULL when len is 0). Returns
 * CAMRTC_EAGAIN when all len bytes were consumed and the message is not
 * complete yet; CAMRTC_OK when one message completed (*consumed, if consumed is
 * not NULL, says how many of these bytes it used: the rest belongs to the next
 * message, or to the WebSocket stream after an upgrade); a negative error
 * otherwise (CAMRTC_EPROTO, CAMRTC_ETOOBIG, CAMRTC_EUNSUPPORTED, CAMRTC_ENOMEM),
 * after which camrtc_http_parser_error_status() gives the HTTP status a server
 * should answer (400, 413 body too large, 431 headers too large, 501 unknown
 * transfer-coding, 505 version, 500 out of memory). Errors are sticky: feeding
 * again returns the same error until camrtc_http_parser_reset. The message
 * stays valid until the next feed or reset; feeding after a completed message
 * starts the next one as if camrtc_http_parser_reset had been called.
 * A request with an Upgrade completes after its headers and must not declare a
 * body (400). A 1xx response completes after its headers: a client then resets
 * and feeds on to read the final response. */
int camrtc_http_parser_feed(camrtc_http_parser *p, const uint8_t *data, size_t len, size_t *consumed);

/* The peer closed: completes a response whose body is delimited by the close.
 * Returns CAMRTC_OK if that completed a message, CAMRTC_EPROTO if a message was
 * cut short (status 400), CAMRTC_EAGAIN if nothing was pending, or the sticky
 * error of a parser already in error. */
int camrtc_http_parser_feed_eof(camrtc_http_parser *p);

/* The message being parsed; complete and valid after feed or feed_eof returned
 * CAMRTC_OK, until the next feed or reset. Owned by p. */
const camrtc_http_msg *camrtc_http_parser_msg(const camrtc_http_parser *p);

/* The HTTP status code matching the parser's error, or 0 when not in error. */
int camrtc_http_parser_error_status(const camrtc_http_parser *p);

/* Responses to HEAD, and 1xx/204/304 responses, have no body: tell the parser
 * before feeding a response to HEAD. Applies to the next message only (reset
 * clears it). */
void camrtc_http_parser_expect_no_body(camrtc_http_parser *p);

/* Ready for the next message on the same connection. Keeps small allocations
 * and releases large ones, so an idle connection holds little memory. */
void camrtc_http_parser_reset(camrtc_http_parser *p);

/* Release internal buffers (safe on an initialised parser at any time, and
 * twice; after this, init again to reuse). */
void camrtc_http_parser_free(camrtc_http_parser *p);

/* Case-insensitive header lookup (first match) on a parsed message; NULL if
 * absent. The value is owned by the message. */
const char *camrtc_http_header(const camrtc_http_msg *m, const char *name);

/* True when the comma-separated header `name` contains token
 * (case-insensitive), e.g. Connection: keep-alive, Upgrade. Every field line
 * with that name is searched, as lists may be split over several lines. */
bool camrtc_http_header_has_token(const camrtc_http_msg *m, const char *name, const char *token);

/* Serialize a request "METHOD target HTTP/1.1" with the given headers (borrowed;
 * n may be 0 with headers NULL) and body (borrowed; may be NULL when body_len is
 * 0), appending to out. Adds Content-Length when the caller gave neither
 * Content-Length nor Transfer-Encoding and body_len > 0 or the method is POST or
 * PUT. The method must be a token, the target printable ASCII without spaces,
 * header names tokens and values free of CR/LF/NUL and other controls (HTAB is
 * allowed): otherwise CAMRTC_EINVAL, so nothing can be injected. Returns
 * CAMRTC_OK, CAMRTC_EINVAL, or a camrtc_buf error (CAMRTC_ETOOBIG,
 * CAMRTC_ENOMEM); on error out is left as it was. */
int camrtc_http_write_request(camrtc_buf *out, const char *method, const char *target,
                              const camrtc_kv *headers, size_t n, const void *body, size_t body_len);

/* Serialize a response "HTTP/1.1 status reason" (reason NULL = the standard
 * phrase from camrtc_http_reason) the same way. Content-Length is added unless
 * the caller gave Content-Length or Transfer-Encoding, or status is 1xx, 204 or
 * 304 (those must have body_len 0: CAMRTC_EINVAL otherwise). status must be in
 * 100..599. Returns as camrtc_http_write_request. */
int camrtc_http_write_response(camrtc_buf *out, int status, const char *reason,
                               const camrtc_kv *headers, size_t n, const void *body, size_t body_len);

/* The standard reason phrase for status ("Not Found"); a generic phrase for
 * its class when unknown ("Client Error"). The string is static. */
const char *camrtc_http_reason(int status);

#ifdef __cplusplus
}
#endif
#endif
