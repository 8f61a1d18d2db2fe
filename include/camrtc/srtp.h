/* SRTP and SRTCP (RFC 3711) on libsrtp2, keyed from DTLS-SRTP (RFC 5764).
 *
 * One camrtc_srtp is one direction of one transport: a sender protects every
 * outgoing RTP/RTCP packet with the local keys, a receiver unprotects incoming
 * ones with the remote keys. Which half of the DTLS keying material is "local"
 * depends on the DTLS role (RFC 5764 section 4.2: the client writes with
 * client_write_SRTP_master_key, the server with server_write_...); the
 * camrtc_srtp_keying struct carries both halves and camrtc_srtp_new picks the
 * right one from the role and direction it is given.
 * A session matches any SSRC (libsrtp "ssrc_any_outbound/inbound"), so new
 * streams on the same transport need no setup.
 *
 * Replay protection (RFC 3711 section 3.3.2) is on, with a window of
 * CAMRTC_SRTP_DEFAULT_WINDOW packets by default. Retransmissions:
 *  - RTX (RFC 4588) resends on another SSRC with new sequence numbers: nothing
 *    special for SRTP.
 *  - Plain NACK retransmission (RFC 4585) resends the same packet with the same
 *    sequence number. libsrtp's sender refuses to protect an index twice unless
 *    allow_repeat_tx is set, so senders set it (libsrtp requires the payload to
 *    be identical; protect again from the plaintext kept in the send history,
 *    never from an already protected buffer). The receiver accepts the resent
 *    packet because the original was lost and never entered its window, as
 *    long as it is not older than window packets behind the newest one: 1024
 *    covers about 4 s of 2.5 Mbit/s video. A duplicate (original and resend both
 *    arrive) is rejected as a replay and counted.
 *
 * libsrtp keeps process-wide state (its crypto kernel): the application calls
 * camrtc_srtp_library_init() once before creating sessions; it is idempotent
 * and thread-safe. Every other function here touches only its own session.
 */
#ifndef CAMRTC_SRTP_H
#define CAMRTC_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* DTLS-SRTP protection profiles, values from the IANA registry (RFC 5764 4.1.2, RFC 7714 14.2). */
typedef enum camrtc_srtp_profile {
    CAMRTC_SRTP_NONE = 0,
    CAMRTC_SRTP_AES128_CM_SHA1_80 = 0x0001,
    CAMRTC_SRTP_AES128_CM_SHA1_32 = 0x0002,
    CAMRTC_SRTP_AEAD_AES_128_GCM = 0x0007,
} camrtc_srtp_profile;

#define CAMRTC_SRTP_MAX_KEY_LEN 16
#define CAMRTC_SRTP_MAX_SALT_LEN 14
/* Most bytes protect adds to a packet: SRTCP E-flag+index (4) + a 16-byte GCM tag. */
#define CAMRTC_SRTP_MAX_OVERHEAD 20
#define CAMRTC_SRTP_DEFAULT_WINDOW 1024
/* libsrtp's largest replay window. */
#define CAMRTC_SRTP_MAX_WINDOW 32767

/* The keying material a DTLS-SRTP handshake exports (RFC 5764 section 4.2),
 * already split: client and server master key and salt. */
typedef struct camrtc_srtp_keying {
    camrtc_srtp_profile profile;
    size_t key_len;       /* 16 for the three profiles above */
    size_t salt_len;      /* 14 for AES-CM, 12 for GCM (RFC 7714 section 12) */
    uint8_t client_key[CAMRTC_SRTP_MAX_KEY_LEN];
    uint8_t server_key[CAMRTC_SRTP_MAX_KEY_LEN];
    uint8_t client_salt[CAMRTC_SRTP_MAX_SALT_LEN];
    uint8_t server_salt[CAMRTC_SRTP_MAX_SALT_LEN];
} camrtc_srtp_keying;

/* Master key and salt lengths of a profile into *key_len and *salt_len.
 * Returns CAMRTC_OK or CAMRTC_EUNSUPPORTED for an unknown profile. */
int camrtc_srtp_profile_lengths(camrtc_srtp_profile p, size_t *key_len, size_t *salt_len);

/* The SDP/IANA name ("SRTP_AES128_CM_HMAC_SHA1_80", ...), "unknown" otherwise. */
const char *camrtc_srtp_profile_name(camrtc_srtp_profile p);

/* Initialise libsrtp once per process (pthread_once; later calls return the
 * first call's result). Returns CAMRTC_OK or CAMRTC_ECRYPTO. camrtc owns libsrtp's
 * process-wide state: code in the same process must not call srtp_init itself (a second
 * srtp_init fails in libsrtp 2.5, and camrtc replaces its crypto types). */
int camrtc_srtp_library_init(void);

/* Whether libsrtp2 runs on camrtc's AES-ICM-128 and HMAC-SHA1 over mbedtls (installed at
 * library init through libsrtp's srtp_replace_cipher_type/srtp_replace_auth_type, after
 * they pass libsrtp's known-answer tests) rather than on the crypto it was built with
 * (NSS in Debian, which sets up a PKCS#11 context per packet). Initialises the library. */
bool camrtc_srtp_crypto_is_mbedtls(void);

typedef enum camrtc_srtp_direction {
    CAMRTC_SRTP_SEND = 0,
    CAMRTC_SRTP_RECV,
} camrtc_srtp_direction;

typedef struct camrtc_srtp_config {
    unsigned window;      /* replay window in packets, 64..CAMRTC_SRTP_MAX_WINDOW; 0 = default */
} camrtc_srtp_config;

typedef struct camrtc_srtp_stats {
    uint64_t protected_rtp, protected_rtcp;
    uint64_t unprotected_rtp, unprotected_rtcp;
    uint64_t auth_fail;    /* tag did not verify: tampered or wrong key */
    uint64_t replay;       /* duplicate or older than the window */
    uint64_t malformed;    /* too short or not RTP/RTCP */
    uint64_t other_fail;   /* any other libsrtp error */
} camrtc_srtp_stats;

typedef struct camrtc_srtp camrtc_srtp;

/* A session for one direction. local_is_client is our DTLS role (true when we
 * were the DTLS client, a=setup:active): a sender uses the keys of its own
 * role, a receiver those of the other role. cfg may be NULL. The keying is
 * copied. camrtc_srtp_library_init must have succeeded.
 * Returns CAMRTC_OK, CAMRTC_EINVAL, CAMRTC_EUNSUPPORTED (profile libsrtp lacks),
 * CAMRTC_ESTATE (library not initialised), CAMRTC_ENOMEM or CAMRTC_ECRYPTO. */
int camrtc_srtp_new(camrtc_srtp **out, const camrtc_srtp_keying *k, bool local_is_client,
                    camrtc_srtp_direction dir, const camrtc_srtp_config *cfg);

/* Bytes protect adds to an RTP (rtcp false) or RTCP packet with this session's profile. */
size_t camrtc_srtp_overhead(const camrtc_srtp *s, bool rtcp);

/* Protect the RTP packet pkt[0..len) in place (send session). cap is the size of
 * the buffer; it needs len + camrtc_srtp_overhead(s, false) bytes.
 * Returns the new length, CAMRTC_EINVAL (wrong direction, no room), CAMRTC_EPROTO
 * (not an RTP packet) or CAMRTC_ECRYPTO. */
int camrtc_srtp_protect(camrtc_srtp *s, uint8_t *pkt, size_t len, size_t cap);

/* Same for an RTCP compound packet (SRTCP, RFC 3711 section 3.4). */
int camrtc_srtp_protect_rtcp(camrtc_srtp *s, uint8_t *pkt, size_t len, size_t cap);

/* Verify and decrypt an SRTP packet in place (receive session). Returns the
 * plaintext length, or CAMRTC_EAUTH (tag mismatch), CAMRTC_EEXIST (replayed
 * index), CAMRTC_EEXPIRED (older than the replay window), CAMRTC_EPROTO
 * (malformed), CAMRTC_EINVAL (wrong direction) or CAMRTC_ECRYPTO; each failure
 * is counted in the stats. */
int camrtc_srtp_unprotect(camrtc_srtp *s, uint8_t *pkt, size_t len);

/* Same for an SRTCP packet. */
int camrtc_srtp_unprotect_rtcp(camrtc_srtp *s, uint8_t *pkt, size_t len);

/* A copy of the counters. */
void camrtc_srtp_get_stats(const camrtc_srtp *s, camrtc_srtp_stats *out);

/* Release the session (NULL is fine). */
void camrtc_srtp_free(camrtc_srtp *s);

#ifdef __cplusplus
}
#endif
#endif
