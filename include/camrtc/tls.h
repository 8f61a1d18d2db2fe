/* TLS over memory buffers (sans-I/O), on mbedtls 2.28.
 *
 * A camrtc_tls session never touches a socket: ciphertext from the peer goes in
 * with camrtc_tls_feed, ciphertext to send comes out of camrtc_tls_drain, and
 * plaintext crosses with camrtc_tls_read / camrtc_tls_write. src/net/ wires it
 * to libuv streams. Only TLS 1.2 (RFC 5246) is negotiated. Clients may present
 * a certificate and servers may require one (mutual TLS, RFC 5246 sections
 * 7.4.4 and 7.4.6), as the AWS IoT credentials provider does.
 *
 * Server identity is checked as RFC 6125 says: a DNS name against the dNSName
 * subjectAltNames (mbedtls, with the CN fallback only when there is no SAN), an
 * IP literal against the iPAddress subjectAltNames only (RFC 6125 section 6.2.1;
 * mbedtls 2.28 cannot do this, so it is done here). No SNI is sent for an IP
 * literal (RFC 6066 section 3).
 *
 * Memory: an idle established server session costs about 37 KB (measured by
 * test_net), almost all of it the two 16 KiB record buffers mbedtls 2.28
 * allocates at setup (Debian's build has no MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH,
 * so they cannot shrink); clients also keep the peer certificate. The
 * handshake state is released once the handshake is done, and ciphertext
 * buffers of our own are freed whenever they run empty. Session tickets,
 * resumption and renegotiation are off.
 */
#ifndef CAMRTC_TLS_H
#define CAMRTC_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/rand.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The system CA bundle used when a client config is given no CA file. */
#define CAMRTC_TLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

/* Bound on ciphertext fed but not yet consumed by the session (camrtc_tls_feed
 * returns CAMRTC_ETOOBIG past it); a caller that reads after every feed holds
 * at most one partial record. */
#define CAMRTC_TLS_MAX_FEED (256u * 1024u)

typedef struct camrtc_tls_config camrtc_tls_config;

/* Server config from PEM files: cert_pem_path holds the leaf first, then any
 * intermediates; key_pem_path its private key (unencrypted). rng is borrowed
 * and must outlive the config. The config is shared by many sessions and must
 * outlive them. On failure returns NULL and writes a one-line reason into err
 * (errsz bytes, may be 0). */
camrtc_tls_config *camrtc_tls_config_new_server(const char *cert_pem_path, const char *key_pem_path,
                                                camrtc_rng *rng, char *err, size_t errsz);

/* Client config trusting the PEM CAs in ca_file (NULL = CAMRTC_TLS_SYSTEM_CA_FILE).
 * verify=false disables certificate and name verification (tests only; ca_file
 * is then not read). rng is borrowed and must outlive the config. On failure
 * returns NULL with a one-line reason in err. */
camrtc_tls_config *camrtc_tls_config_new_client(const char *ca_file, bool verify, camrtc_rng *rng,
                                                char *err, size_t errsz);

/* Client config for mutual TLS (RFC 5246 section 7.4.6): like
 * camrtc_tls_config_new_client with verification on, and it also presents the
 * certificate chain in cert_pem_path (leaf first) signed with the unencrypted
 * private key in key_pem_path when the server asks for one. This is how AWS IoT
 * devices authenticate to the IoT credentials provider. rng is borrowed and must
 * outlive the config. On failure returns NULL with a one-line reason in err. */
camrtc_tls_config *camrtc_tls_config_new_client_cert(const char *ca_file, const char *cert_pem_path,
                                                     const char *key_pem_path, camrtc_rng *rng, char *err,
                                                     size_t errsz);

/* Make a server config ask every client for a certificate (RFC 5246 section
 * 7.4.4) and refuse the handshake unless one is sent that chains to a CA in the
 * PEM file ca_file (no name is checked). Call once, before any session is made
 * on cfg. Returns CAMRTC_OK; CAMRTC_EINVAL (cfg is not a server config, or no
 * ca_file), CAMRTC_ESTATE (already called), CAMRTC_EIO (cannot read ca_file) or
 * CAMRTC_ECERT (no certificate in it), with a one-line reason in err. A refused
 * client then fails the handshake with CAMRTC_ETLS (no certificate) or
 * CAMRTC_ECERT (not trusted) on the server side. */
int camrtc_tls_config_require_client_cert(camrtc_tls_config *cfg, const char *ca_file, char *err, size_t errsz);

/* True when cfg makes server sessions. */
bool camrtc_tls_config_is_server(const camrtc_tls_config *cfg);

/* Free a config (NULL is fine). Every session using it must be freed first. */
void camrtc_tls_config_free(camrtc_tls_config *cfg);

typedef struct camrtc_tls camrtc_tls;

/* One session on cfg (borrowed; must outlive the session). server_name (copied)
 * is, for clients, the SNI and the identity verified: a DNS name or an IPv4/IPv6
 * literal; NULL for servers (and for clients with verification off). Returns
 * NULL on allocation failure or when a verifying client has no server_name. */
camrtc_tls *camrtc_tls_new(const camrtc_tls_config *cfg, const char *server_name);

/* Hand over ciphertext received from the peer (copied). CAMRTC_OK, or
 * CAMRTC_ETOOBIG when more than CAMRTC_TLS_MAX_FEED bytes would wait unread,
 * CAMRTC_ENOMEM. Nothing is processed until camrtc_tls_handshake / _read. */
int camrtc_tls_feed(camrtc_tls *t, const uint8_t *data, size_t len);

/* Drive the handshake with the bytes fed so far. CAMRTC_OK once established
 * (and on every later call), CAMRTC_EAGAIN while in progress (drain and send
 * the output, feed more input), CAMRTC_ECERT when the peer certificate failed
 * verification, CAMRTC_ETLS for any other failure. After a failure the session
 * is dead: every call returns the same error, camrtc_tls_error_string tells why
 * (e.g. "certificate verification failed: name mismatch"), and an alert may
 * wait to be drained. */
int camrtc_tls_handshake(camrtc_tls *t);

/* Decrypt plaintext from the bytes fed so far into out (cap bytes). Returns the
 * byte count (> 0), CAMRTC_EAGAIN when a whole record is not there yet,
 * CAMRTC_ECLOSED once the peer sent close_notify, CAMRTC_ESTATE before the
 * handshake is done, CAMRTC_ETLS on a bad record (the session is then dead).
 * Call it until it stops returning data: one fed chunk may hold many records. */
int camrtc_tls_read(camrtc_tls *t, uint8_t *out, size_t cap);

/* Encrypt len bytes of plaintext and queue the records for camrtc_tls_drain.
 * The whole of len is taken: CAMRTC_OK, or CAMRTC_ESTATE (handshake not done,
 * or after camrtc_tls_close), CAMRTC_ETLS (session dead), CAMRTC_ENOMEM. */
int camrtc_tls_write(camrtc_tls *t, const void *data, size_t len);

/* Queue a close_notify alert; later writes fail with CAMRTC_ESTATE. Idempotent.
 * CAMRTC_OK, or CAMRTC_ETLS when the session is dead. */
int camrtc_tls_close(camrtc_tls *t);

/* Move the ciphertext waiting to be sent to the end of out (the session's
 * buffer is handed over without a copy when out is empty). Returns the number
 * of bytes moved (0 when nothing waits) or CAMRTC_ENOMEM / CAMRTC_ETOOBIG from
 * growing out (nothing is lost then: the bytes stay queued). */
int camrtc_tls_drain(camrtc_tls *t, camrtc_buf *out);

/* Bytes of ciphertext waiting for camrtc_tls_drain. */
size_t camrtc_tls_pending(const camrtc_tls *t);

/* Why the session failed, or "" when it has not. The string lives as long as t. */
const char *camrtc_tls_error_string(const camrtc_tls *t);

/* Free a session (NULL is fine). No close_notify is sent: call camrtc_tls_close
 * and drain first for an orderly close. */
void camrtc_tls_free(camrtc_tls *t);

#ifdef __cplusplus
}
#endif
#endif
