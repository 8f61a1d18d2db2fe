/* URL helpers for the HTTP and WebSocket clients and the signaling server.
 *
 * Parses the absolute http/https/ws/wss URLs that KVS hands out (endpoints,
 * presigned WebSocket URLs) into fixed-size fields, builds the Host header, and
 * percent-decodes and -encodes query components. Implements the parts of
 * RFC 3986 these URLs use: section 3 (scheme, authority without userinfo,
 * path, query; the fragment is dropped), 3.2.2 (IP-literal hosts in brackets),
 * 2.1 (percent-encoding) and 2.3 (unreserved characters); default ports from
 * RFC 9110 section 4.2 and RFC 6455 section 3.
 */
#ifndef CAMRTC_URL_H
#define CAMRTC_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_url {
    char scheme[8];          /* "http", "https", "ws", "wss" (lowercased) */
    char host[256];          /* without brackets for IPv6 */
    uint16_t port;           /* explicit or the scheme default (80/443) */
    bool port_explicit;
    char path[1024];         /* "/" when empty, still percent-encoded */
    char query[4096];        /* without '?', "" when none */
} camrtc_url;

/* Parse the NUL-terminated absolute URL s into *out (caller-owned). The scheme
 * must be http, https, ws or wss; userinfo ("user@") is refused; the port must
 * be 1..65535 (an empty port after ':' means the default); path, query and
 * fragment must be printable ASCII. Returns CAMRTC_OK, CAMRTC_EPROTO when
 * malformed or unsupported, CAMRTC_ETOOBIG when a part does not fit its field,
 * CAMRTC_EINVAL on NULL arguments. *out is zeroed on error. */
int camrtc_url_parse(const char *s, camrtc_url *out);

/* The Host header value: host, or host:port when explicit and not the default;
 * IPv6 bracketed. Written NUL-terminated into out (truncated to outsz). */
void camrtc_url_host_header(const camrtc_url *u, char *out, size_t outsz);

/* Find parameter name in a raw query string (parameters split on '&', name and
 * value on the first '='; exact, case-sensitive name match after
 * percent-decoding names) and percent-decode its value into out ('+' stays '+'),
 * NUL-terminated. A parameter without '=' has an empty value. Returns the value's
 * length, CAMRTC_ENOTFOUND, CAMRTC_ETOOBIG (out too small), CAMRTC_EPROTO (bad
 * %xx in a name scanned or in the value, or %00 in the value). */
int camrtc_url_query_get(const char *query, const char *name, char *out, size_t outsz);

/* Percent-decode len bytes of in into out (NUL-terminated; '+' stays '+'; %00
 * is decoded, so use the returned length for binary data). Returns the decoded
 * length, CAMRTC_EPROTO on a bad %xx, CAMRTC_ETOOBIG when out is too small. */
int camrtc_url_decode(const char *in, size_t len, char *out, size_t outsz);

/* Percent-encode len bytes of in into out (NUL-terminated), keeping only
 * A-Za-z0-9-_.~ and writing every other byte as %XX with uppercase hex
 * (the SigV4 URI-encoding). Returns the encoded length or CAMRTC_ETOOBIG. */
int camrtc_url_encode(const char *in, size_t len, char *out, size_t outsz);

#ifdef __cplusplus
}
#endif
#endif
