/* DTLS 1.2 (RFC 6347) with the DTLS-SRTP extension (RFC 5764), sans-I/O, on mbedtls.
 *
 * One camrtc_dtls is one DTLS association of a WebRTC transport. It never
 * touches a socket or a clock: the caller gives it every DTLS datagram
 * (camrtc_dtls_handle_input, after RFC 7983 demultiplexing, see demux.h) and
 * the current time, calls camrtc_dtls_handle_timeout when camrtc_dtls_next_timeout
 * has come (handshake flight retransmission, RFC 6347 section 4.2.4, doubling
 * from hs_timeout_min up to hs_timeout_max, then failure), and gets datagrams
 * to send and events through a callback table. Internally mbedtls runs over
 * memory: its bio callbacks read the one datagram being handed in and pass
 * written records straight to the send callback; its timer callbacks read the
 * `now` of the current call.
 *
 * WebRTC rules applied here (RFC 8827 section 6.5, RFC 5763):
 *  - roles come from a=setup: active = DTLS client, passive = DTLS server;
 *  - both sides present a self-signed certificate (the server requests the
 *    client's); no CA is involved: the peer certificate is accepted only if its
 *    SHA-256 fingerprint equals the a=fingerprint of the remote SDP (RFC 8122
 *    section 5). A mismatch, or no certificate, fails the handshake and no keys
 *    are ever given out;
 *  - use_srtp (RFC 5764 section 4.1.1) with AES128_CM_HMAC_SHA1_80 and _32; the
 *    keying material is the TLS exporter (RFC 5705) with the label
 *    "EXTRACTOR-dtls_srtp" (RFC 5764 section 4.2), split into client/server
 *    key and salt;
 *  - no HelloVerifyRequest cookie exchange: ICE connectivity checks (with
 *    MESSAGE-INTEGRITY) have already proved the peer answers at its address,
 *    which is what the cookie would prove (RFC 6347 section 4.2.1);
 *  - records are fragmented to fit an MTU of 1200 bytes by default;
 *  - ECDHE only, over X25519 first (RFC 8422 section 5.1.1), then P-256, P-384,
 *    P-521: the server takes the first group of its own list that the client
 *    offers, and mbedtls' default list would put P-521 first (twice the CPU per
 *    key exchange, on the path to the first frame).
 *
 * Known limitation: AEAD_AES_128_GCM (0x0007, RFC 7714) cannot be negotiated
 * with mbedtls 2.28: mbedtls_ssl_conf_dtls_srtp_protection_profiles refuses any
 * profile outside {0x0001, 0x0002, 0x0005, 0x0006}, and when parsing a peer's
 * use_srtp list mbedtls skips every other value (its
 * mbedtls_ssl_check_srtp_profile_value whitelist), so a GCM-only peer gets no
 * common profile. camrtc_dtls_new returns CAMRTC_EUNSUPPORTED for GCM.
 * (camrtc_srtp itself can run GCM keys from another source.)
 *
 * Callbacks are called from inside camrtc_dtls_start/handle_input/
 * handle_timeout/send/close; they must not free the endpoint. Not thread-safe:
 * use one endpoint from one thread (the loop).
 */
#ifndef CAMRTC_DTLS_H
#define CAMRTC_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/cert.h"
#include "camrtc/rand.h"
#include "camrtc/srtp.h"
#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Default path MTU for handshake fragmentation, in bytes of DTLS datagram. */
#define CAMRTC_DTLS_DEFAULT_MTU 1200
/* Largest datagram handle_input accepts; longer ones are dropped and counted. */
#define CAMRTC_DTLS_MAX_DATAGRAM 16384
/* Largest application-data record payload delivered or sent. */
#define CAMRTC_DTLS_MAX_APP_DATA 16384
/* Most SRTP profiles one endpoint may offer. */
#define CAMRTC_DTLS_MAX_PROFILES 4
/* Size of the keying material block: 2 * (16 + 14), RFC 5764 section 4.2. */
#define CAMRTC_DTLS_SRTP_KEYING_LEN 60

typedef enum camrtc_dtls_role {
    CAMRTC_DTLS_CLIENT = 0,   /* a=setup:active, sends the ClientHello */
    CAMRTC_DTLS_SERVER,       /* a=setup:passive */
} camrtc_dtls_role;

typedef enum camrtc_dtls_state {
    CAMRTC_DTLS_NEW = 0,
    CAMRTC_DTLS_CONNECTING,
    CAMRTC_DTLS_CONNECTED,
    CAMRTC_DTLS_CLOSED,       /* close_notify sent or received */
    CAMRTC_DTLS_FAILED,
} camrtc_dtls_state;

typedef enum camrtc_dtls_event_type {
    CAMRTC_DTLS_EV_CONNECTED, /* handshake done, fingerprint verified: keys (NULL when no use_srtp was agreed) */
    CAMRTC_DTLS_EV_DATA,      /* application data (data channels): data, len */
    CAMRTC_DTLS_EV_CLOSED,    /* the peer sent close_notify */
    CAMRTC_DTLS_EV_FAILED,    /* error (camrtc code) and reason; the endpoint is dead */
} camrtc_dtls_event_type;

typedef struct camrtc_dtls_event {
    camrtc_dtls_event_type type;
    const camrtc_srtp_keying *keys; /* CONNECTED; valid during the callback */
    const uint8_t *data;            /* DATA */
    size_t len;
    int error;                      /* FAILED: CAMRTC_ECERT, CAMRTC_ETIMEDOUT, CAMRTC_ETLS, ... */
    const char *reason;             /* FAILED: static English text */
} camrtc_dtls_event;

typedef struct camrtc_dtls_callbacks {
    /* Send one datagram to the peer (over the ICE selected pair). */
    void (*send)(void *user, const uint8_t *data, size_t len);
    /* Something happened; see camrtc_dtls_event_type. */
    void (*event)(void *user, const camrtc_dtls_event *ev);
    void *user;
} camrtc_dtls_callbacks;

typedef struct camrtc_dtls_config {
    camrtc_dtls_role role;
    const camrtc_cert *cert;          /* our certificate and key (DER); copied into mbedtls at new */
    const char *remote_fingerprint;   /* "sha-256 AB:CD:..." from the remote SDP; NULL = set later */
    /* SRTP profiles we offer (client) or accept (server), most preferred first.
     * NULL/0 = {AES128_CM_SHA1_80, AES128_CM_SHA1_32}. */
    const camrtc_srtp_profile *profiles;
    size_t n_profiles;
    unsigned mtu;                     /* 0 = CAMRTC_DTLS_DEFAULT_MTU */
    uint32_t hs_timeout_min_ms;       /* 0 = 1000 (RFC 6347 4.2.4.1 initial timer) */
    uint32_t hs_timeout_max_ms;       /* 0 = 8000: gives up 15 s after the last progress */
    camrtc_rng *rng;                  /* borrowed; must outlive the endpoint */
} camrtc_dtls_config;

typedef struct camrtc_dtls_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t bytes_in, bytes_out;
    uint64_t dropped_input;   /* too long, or arrived when closed/failed */
    uint64_t retransmits;     /* handshake timer expiries that resent a flight */
    uint64_t app_records_in, app_records_out;
    uint64_t reassembled_hellos; /* fragmented ClientHellos put back together for mbedtls */
} camrtc_dtls_stats;

typedef struct camrtc_dtls camrtc_dtls;

/* Create an endpoint. cfg->cert and cfg->rng are required. Nothing is sent
 * until camrtc_dtls_start. Returns CAMRTC_OK, CAMRTC_EINVAL (bad argument,
 * malformed fingerprint, key/certificate that do not parse), CAMRTC_EUNSUPPORTED
 * (an SRTP profile mbedtls cannot negotiate, such as GCM; a fingerprint hash
 * other than sha-256), CAMRTC_ENOMEM or CAMRTC_ECRYPTO. */
int camrtc_dtls_new(camrtc_dtls **out, const camrtc_dtls_config *cfg, const camrtc_dtls_callbacks *cb);

/* Set or replace the expected remote fingerprint ("sha-256 AB:CD:..."); it must
 * be known before the peer's Certificate message arrives. Returns CAMRTC_OK,
 * CAMRTC_EINVAL, CAMRTC_EUNSUPPORTED (hash other than sha-256) or CAMRTC_ESTATE
 * (already connected). */
int camrtc_dtls_set_remote_fingerprint(camrtc_dtls *d, const char *fingerprint);

/* Begin the handshake: the client sends its ClientHello now; the server waits
 * for one. Returns CAMRTC_OK, CAMRTC_ESTATE (already started) or a failure
 * (also reported as a FAILED event). */
int camrtc_dtls_start(camrtc_dtls *d, camrtc_time_us now);

/* One DTLS datagram from the peer. Bad records are dropped silently as RFC 6347
 * section 4.1.2.7 asks; a fatal alert or a failed check fails the endpoint.
 * A server that has not yet answered a ClientHello treats anything that fails
 * as junk: it resets, sends no alert (the alert would reach the genuine client
 * on the same 5-tuple) and keeps waiting; such input is counted in dropped_input.
 * Input before start is accepted by a server (it starts itself) and dropped by
 * a client. Returns CAMRTC_OK, or the error also reported as FAILED; input
 * after CLOSED/FAILED is counted and returns CAMRTC_ECLOSED. */
int camrtc_dtls_handle_input(camrtc_dtls *d, camrtc_time_us now, const uint8_t *data, size_t len);

/* Let the retransmission timer run at now (resends the last flight when due,
 * fails with CAMRTC_ETIMEDOUT after hs_timeout_max). Harmless when nothing is due. */
int camrtc_dtls_handle_timeout(camrtc_dtls *d, camrtc_time_us now);

/* When camrtc_dtls_handle_timeout wants to be called next; CAMRTC_TIME_NEVER when no timer runs. */
camrtc_time_us camrtc_dtls_next_timeout(const camrtc_dtls *d);

/* Send application data as one record once connected. The record must fit the
 * MTU (DTLS does not fragment application data): at most about mtu - 40 bytes
 * depending on the cipher suite, and never more than CAMRTC_DTLS_MAX_APP_DATA.
 * Returns CAMRTC_OK, CAMRTC_ESTATE, CAMRTC_ETOOBIG or CAMRTC_ETLS. */
int camrtc_dtls_send(camrtc_dtls *d, camrtc_time_us now, const uint8_t *data, size_t len);

/* Send close_notify (RFC 5246 section 7.2.1) when connected and move to CLOSED.
 * No event is reported for a close we started. Returns CAMRTC_OK (also when
 * there was nothing to close). */
int camrtc_dtls_close(camrtc_dtls *d, camrtc_time_us now);

/* Current state. */
camrtc_dtls_state camrtc_dtls_get_state(const camrtc_dtls *d);

/* Our role. */
camrtc_dtls_role camrtc_dtls_get_role(const camrtc_dtls *d);

/* A copy of the counters. */
void camrtc_dtls_get_stats(const camrtc_dtls *d, camrtc_dtls_stats *out);

/* Release everything (key material is wiped). NULL is fine. Sends nothing:
 * call camrtc_dtls_close first for a polite goodbye. */
void camrtc_dtls_free(camrtc_dtls *d);

/* Parse an SDP fingerprint value: "sha-256 AB:CD:..." (hash name case-insensitive,
 * RFC 8122 section 5) or the bare hex "AB:CD:..." form, into 32 bytes.
 * Returns CAMRTC_OK, CAMRTC_EINVAL (malformed) or CAMRTC_EUNSUPPORTED (another hash). */
int camrtc_dtls_parse_fingerprint(const char *s, uint8_t out[32]);

/* Split RFC 5764 section 4.2 keying material (client key, server key, client
 * salt, server salt, each key_len/salt_len long) for profile into *out.
 * Returns CAMRTC_OK, CAMRTC_EINVAL or CAMRTC_EUNSUPPORTED. */
int camrtc_dtls_split_keying(camrtc_srtp_profile profile, const uint8_t *material, size_t len,
                             camrtc_srtp_keying *out);

#ifdef __cplusplus
}
#endif
#endif
