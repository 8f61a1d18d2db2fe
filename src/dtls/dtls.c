/* DTLS-SRTP endpoint on mbedtls over memory. See include/camrtc/dtls.h.
 *
 * How mbedtls is made sans-I/O:
 *  - bio: our recv callback hands mbedtls the one datagram being processed in
 *    camrtc_dtls_handle_input (and WANT_READ otherwise); our send callback
 *    passes each datagram mbedtls writes to the user's send callback.
 *  - timer: mbedtls asks to arm/cancel a timer and later asks whether it
 *    expired; we answer from the `now` given to the current call, so flights
 *    are retransmitted when the loop (or a test's virtual clock) says so.
 *  - keys: mbedtls hands us the master secret and the two randoms when it
 *    derives its own keys; once the handshake is over and the peer's
 *    fingerprint has matched we run the RFC 5705 exporter on them.
 */
#include "camrtc/dtls.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/platform_util.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/x509_crt.h>

#include "camrtc/bytes.h"
#include "camrtc/crypto.h"
#include "camrtc/error.h"

/* Longest loop over the records of one datagram: a record is >= 13 bytes. */
#define DTLS_MAX_RECORDS_PER_CALL (CAMRTC_DTLS_MAX_DATAGRAM / 13 + 2)

/* DTLS 1.2 record and handshake headers (RFC 6347 §4.1, §4.2.2), and the largest
 * ClientHello body we put back together from fragments. */
#define DTLS_REC_HDR 13
#define DTLS_HS_HDR 12
#define DTLS_CH_MAX 2048

struct camrtc_dtls {
    camrtc_dtls_callbacks cb;
    camrtc_dtls_role role;
    camrtc_dtls_state state;
    camrtc_time_us now;            /* time of the call in progress */
    int error;                     /* why we FAILED */
    uint16_t mtu;
    /* A server has answered a ClientHello once it sent a handshake record;
     * before that, junk must not kill it (see server_reset). */
    bool answered;

    /* mbedtls timer (mbedtls_ssl_set_timer_cb); fin_ms 0 = cancelled */
    camrtc_time_us timer_start;
    uint32_t timer_int_ms, timer_fin_ms;

    /* the datagram being handed to mbedtls, NULL once read */
    const uint8_t *in;
    size_t in_len;

    /* Server: a ClientHello that came in fragments, put back together (see ch_reassemble). */
    uint8_t ch[DTLS_REC_HDR + DTLS_HS_HDR + DTLS_CH_MAX];
    uint8_t ch_have[DTLS_CH_MAX / 8];  /* which body bytes arrived */
    size_t ch_total;                   /* body length; 0 = nothing collected */

    bool have_fp, fp_ok, fp_mismatch;
    uint8_t remote_fp[CAMRTC_SHA256_LEN];

    /* what the exporter needs, wiped once used */
    bool have_secrets;
    uint8_t master[48];
    uint8_t randoms[64];           /* client_random || server_random (RFC 5705 section 4) */
    mbedtls_tls_prf_types prf;

    mbedtls_ssl_srtp_profile profiles[CAMRTC_DTLS_MAX_PROFILES + 1];
    camrtc_dtls_stats stats;

    mbedtls_ssl_config conf;
    mbedtls_ssl_context ssl;
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    /* Where application records are read to: made at the first record that comes after
     * the handshake, since a connection that carries only SRTP (no data channel) never
     * gets one, and 16 KB a viewer is worth not holding. */
    uint8_t *app;
};

/* ECDHE only (forward secrecy); ECDSA first since WebRTC certificates are P-256,
 * RSA kept for peers that still use RSA certificates. */
static const int dtls_ciphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    0,
};

/* ECDHE groups, most preferred first. mbedtls 2.28's default list starts with secp521r1,
 * and a DTLS server takes the first group of its own list that the client offers, so two
 * camrtc peers used to agree on P-521: about twice the CPU of P-256 or X25519 for each
 * of the ECDH operations, on the path to the first frame. X25519 (RFC 8422 section 5.1.1,
 * RFC 7748) is what Chromium and OpenSSL prefer too; P-256 stays for peers without it, and
 * P-384/P-521 for the rare one that only has those. The list also bounds the curves of
 * ECDSA certificates we accept (WebRTC certificates are P-256). */
static const mbedtls_ecp_group_id dtls_groups[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_SECP521R1,
    MBEDTLS_ECP_DP_NONE,
};

/* ---- mbedtls callbacks ------------------------------------------------------------ */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    camrtc_dtls *d = ctx;
    if (d->role == CAMRTC_DTLS_SERVER && !d->answered) {
        /* Record content type 22 = handshake (RFC 5246 section 6.2.1). An
         * alert about junk that arrived before any real ClientHello would
         * reach the genuine client on the same 5-tuple and kill its handshake:
         * swallow it (server_reset then forgets the junk). */
        if (len == 0 || buf[0] != 22)
            return (int)len;
        d->answered = true;
    }
    d->stats.datagrams_out++;
    d->stats.bytes_out += len;
    if (d->cb.send)
        d->cb.send(d->cb.user, buf, len);
    return (int)len;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    camrtc_dtls *d = ctx;
    if (!d->in)
        return MBEDTLS_ERR_SSL_WANT_READ;
    const uint8_t *p = d->in;
    size_t n = d->in_len;
    d->in = NULL;
    if (n > len) {
        /* A datagram is read whole or not at all (RFC 6347 section 4.1.1). */
        d->stats.dropped_input++;
        return MBEDTLS_ERR_SSL_WANT_READ;
    }
    memcpy(buf, p, n);
    return (int)n;
}

static void timer_set(void *ctx, uint32_t int_ms, uint32_t fin_ms)
{
    camrtc_dtls *d = ctx;
    d->timer_start = d->now;
    d->timer_int_ms = int_ms;
    d->timer_fin_ms = fin_ms;
}

/* -1 cancelled, 0 running, 1 intermediate delay passed, 2 final delay passed
 * (the contract of mbedtls_ssl_get_timer_t). */
static int timer_get(void *ctx)
{
    camrtc_dtls *d = ctx;
    if (d->timer_fin_ms == 0)
        return -1;
    camrtc_time_us elapsed = d->now > d->timer_start ? d->now - d->timer_start : 0;
    if (elapsed >= CAMRTC_MS(d->timer_fin_ms))
        return 2;
    if (elapsed >= CAMRTC_MS(d->timer_int_ms))
        return 1;
    return 0;
}

static bool digest_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= (uint8_t)(a[i] ^ b[i]);
    return diff == 0;
}

/* Called by mbedtls for each certificate of the peer's chain. There is no CA:
 * the leaf (depth 0) is trusted exactly when its SHA-256 matches the SDP
 * fingerprint (RFC 8122 section 5; RFC 8827 section 6.5). Returning an error
 * other than CERT_VERIFY_FAILED makes mbedtls abort even in OPTIONAL mode. */
static int verify_cert(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    camrtc_dtls *d = ctx;
    if (depth != 0) {
        *flags = 0; /* intermediates do not matter: only the leaf is pinned */
        return 0;
    }
    uint8_t h[CAMRTC_SHA256_LEN];
    if (!d->have_fp || camrtc_sha256(crt->raw.p, crt->raw.len, h) < 0 ||
        !digest_equal(h, d->remote_fp, sizeof h)) {
        d->fp_ok = false;
        d->fp_mismatch = true;
        return MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED;
    }
    d->fp_ok = true;
    *flags = 0; /* self-signed and dates are fine: the pin is the trust */
    return 0;
}

static int export_keys(void *ctx, const unsigned char *ms, const unsigned char *kb, size_t maclen,
                       size_t keylen, size_t ivlen, const unsigned char client_random[32],
                       const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
    camrtc_dtls *d = ctx;
    memcpy(d->master, ms, sizeof d->master);
    memcpy(d->randoms, client_random, 32);
    memcpy(d->randoms + 32, server_random, 32);
    d->prf = prf;
    d->have_secrets = true;
    return 0;
}

/* ---- state changes --------------------------------------------------------------- */

static void wipe_secrets(camrtc_dtls *d)
{
    mbedtls_platform_zeroize(d->master, sizeof d->master);
    mbedtls_platform_zeroize(d->randoms, sizeof d->randoms);
    d->have_secrets = false;
}

static void emit(camrtc_dtls *d, const camrtc_dtls_event *ev)
{
    if (d->cb.event)
        d->cb.event(d->cb.user, ev);
}

static void fail(camrtc_dtls *d, int err, const char *reason)
{
    if (d->state == CAMRTC_DTLS_FAILED || d->state == CAMRTC_DTLS_CLOSED)
        return;
    d->state = CAMRTC_DTLS_FAILED;
    d->error = err;
    d->timer_fin_ms = 0;
    wipe_secrets(d);
    camrtc_dtls_event ev = {.type = CAMRTC_DTLS_EV_FAILED, .error = err, .reason = reason};
    emit(d, &ev);
}

static void peer_closed(camrtc_dtls *d)
{
    d->state = CAMRTC_DTLS_CLOSED;
    d->timer_fin_ms = 0;
    wipe_secrets(d);
    camrtc_dtls_event ev = {.type = CAMRTC_DTLS_EV_CLOSED};
    emit(d, &ev);
}

static void fail_mbedtls(camrtc_dtls *d, int ret)
{
    if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        peer_closed(d);
    } else if (d->fp_mismatch) {
        fail(d, CAMRTC_ECERT, "peer certificate does not match the SDP fingerprint");
    } else if (ret == MBEDTLS_ERR_SSL_TIMEOUT) {
        fail(d, CAMRTC_ETIMEDOUT, "DTLS handshake timed out");
    } else if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED) {
        fail(d, CAMRTC_ENOMEM, "out of memory in DTLS");
    } else if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
        fail(d, CAMRTC_ETLS, "peer sent a fatal alert");
    } else if (ret == MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN) {
        fail(d, CAMRTC_ETLS, "no common cipher suite");
    } else {
        fail(d, CAMRTC_ETLS, "DTLS handshake failed");
    }
}

/* RFC 5764 section 4.2: keying material = PRF(master_secret,
 * "EXTRACTOR-dtls_srtp", client_random + server_random)[2 * (key + salt)],
 * the RFC 5705 exporter without context. */
static int derive_keys(camrtc_dtls *d, camrtc_srtp_profile profile, camrtc_srtp_keying *out)
{
    static const char label[] = "EXTRACTOR-dtls_srtp";
    size_t kl, sl;
    if (!d->have_secrets || camrtc_srtp_profile_lengths(profile, &kl, &sl) < 0)
        return CAMRTC_EINTERNAL;
    uint8_t material[2 * (CAMRTC_SRTP_MAX_KEY_LEN + CAMRTC_SRTP_MAX_SALT_LEN)];
    size_t len = 2 * (kl + sl);
    int rc = CAMRTC_OK;
    if (mbedtls_ssl_tls_prf(d->prf, d->master, sizeof d->master, label, d->randoms, sizeof d->randoms, material,
                            len) != 0)
        rc = CAMRTC_ECRYPTO;
    if (rc == CAMRTC_OK)
        rc = camrtc_dtls_split_keying(profile, material, len, out);
    mbedtls_platform_zeroize(material, sizeof material);
    return rc;
}

static void handshake_done(camrtc_dtls *d)
{
    /* A peer that sent no certificate never reached verify_cert. */
    if (!d->fp_ok) {
        mbedtls_ssl_send_alert_message(&d->ssl, MBEDTLS_SSL_ALERT_LEVEL_FATAL, MBEDTLS_SSL_ALERT_MSG_BAD_CERT);
        fail(d, CAMRTC_ECERT, "peer presented no certificate");
        return;
    }
    mbedtls_dtls_srtp_info info;
    mbedtls_ssl_get_dtls_srtp_negotiation_result(&d->ssl, &info);
    camrtc_srtp_keying keys;
    const camrtc_srtp_keying *kp = NULL;
    if (info.chosen_dtls_srtp_profile != MBEDTLS_TLS_SRTP_UNSET) {
        int rc = derive_keys(d, (camrtc_srtp_profile)info.chosen_dtls_srtp_profile, &keys);
        if (rc < 0) {
            fail(d, rc, "DTLS-SRTP key export failed");
            return;
        }
        kp = &keys;
    }
    wipe_secrets(d);
    d->state = CAMRTC_DTLS_CONNECTED;
    camrtc_dtls_event ev = {.type = CAMRTC_DTLS_EV_CONNECTED, .keys = kp};
    emit(d, &ev);
    mbedtls_platform_zeroize(&keys, sizeof keys);
}

/* Read every application record left in the current datagram. mbedtls also
 * answers a retransmitted last flight of the peer in here (our Finished was
 * lost) by resending ours. */
static void read_records(camrtc_dtls *d)
{
    /* Nothing left to read (the datagram that ended the handshake, or a timer): mbedtls
     * would only say WANT_READ, so do not make the buffer for that. */
    if (!d->in && !mbedtls_ssl_check_pending(&d->ssl))
        return;
    if (!d->app && !(d->app = malloc(CAMRTC_DTLS_MAX_APP_DATA))) {
        d->stats.dropped_input++;   /* out of memory: the datagram is lost, as on the wire */
        return;
    }
    for (int i = 0; i < DTLS_MAX_RECORDS_PER_CALL && d->state == CAMRTC_DTLS_CONNECTED; i++) {
        int r = mbedtls_ssl_read(&d->ssl, d->app, CAMRTC_DTLS_MAX_APP_DATA);
        if (r > 0) {
            d->stats.app_records_in++;
            camrtc_dtls_event ev = {.type = CAMRTC_DTLS_EV_DATA, .data = d->app, .len = (size_t)r};
            emit(d, &ev);
            continue;
        }
        if (r == 0 || r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE ||
            r == MBEDTLS_ERR_SSL_CLIENT_RECONNECT)
            return;
        fail_mbedtls(d, r);
        return;
    }
}

/* A server that fails before it ever answered was fed something that is not
 * a usable ClientHello: start over and keep waiting for the real one. */
static bool server_reset(camrtc_dtls *d)
{
    if (d->role != CAMRTC_DTLS_SERVER || d->answered || mbedtls_ssl_session_reset(&d->ssl) != 0)
        return false;
    mbedtls_ssl_set_mtu(&d->ssl, d->mtu);
    d->fp_ok = d->fp_mismatch = false;
    d->timer_fin_ms = 0;
    wipe_secrets(d);
    d->stats.dropped_input++;
    return true;
}

static void drive(camrtc_dtls *d)
{
    if (d->state == CAMRTC_DTLS_CONNECTING) {
        int r = mbedtls_ssl_handshake(&d->ssl);
        if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
            return;
        if (r != 0) {
            if (!server_reset(d))
                fail_mbedtls(d, r);
            return;
        }
        handshake_done(d);
    }
    if (d->state == CAMRTC_DTLS_CONNECTED)
        read_records(d);
}

/* ---- setup ------------------------------------------------------------------------ */

static int set_profiles(camrtc_dtls *d, const camrtc_srtp_profile *p, size_t n)
{
    static const camrtc_srtp_profile defaults[] = {CAMRTC_SRTP_AES128_CM_SHA1_80, CAMRTC_SRTP_AES128_CM_SHA1_32};
    if (!p || n == 0) {
        p = defaults;
        n = sizeof defaults / sizeof defaults[0];
    }
    if (n > CAMRTC_DTLS_MAX_PROFILES)
        return CAMRTC_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == CAMRTC_SRTP_AEAD_AES_128_GCM)
            return CAMRTC_EUNSUPPORTED; /* see the limitation in dtls.h */
        if (p[i] != CAMRTC_SRTP_AES128_CM_SHA1_80 && p[i] != CAMRTC_SRTP_AES128_CM_SHA1_32)
            return CAMRTC_EINVAL;
        d->profiles[i] = (mbedtls_ssl_srtp_profile)p[i];
    }
    d->profiles[n] = MBEDTLS_TLS_SRTP_UNSET;
    return mbedtls_ssl_conf_dtls_srtp_protection_profiles(&d->conf, d->profiles) == 0 ? CAMRTC_OK
                                                                                        : CAMRTC_EUNSUPPORTED;
}

static int setup_conf(camrtc_dtls *d, const camrtc_dtls_config *cfg)
{
    int endpoint = cfg->role == CAMRTC_DTLS_CLIENT ? MBEDTLS_SSL_IS_CLIENT : MBEDTLS_SSL_IS_SERVER;
    if (mbedtls_ssl_config_defaults(&d->conf, endpoint, MBEDTLS_SSL_TRANSPORT_DATAGRAM, MBEDTLS_SSL_PRESET_DEFAULT))
        return CAMRTC_ECRYPTO;
    /* DTLS 1.2 only (RFC 8827 section 6.5 requires at least 1.2). */
    mbedtls_ssl_conf_min_version(&d->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&d->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&d->conf, dtls_ciphersuites);
    mbedtls_ssl_conf_curves(&d->conf, dtls_groups);
    mbedtls_ssl_conf_rng(&d->conf, camrtc_rng_mbedtls, cfg->rng);
    /* OPTIONAL: no CA to chain to; verify_cert pins the leaf instead. On the
     * server this also sends CertificateRequest, as WebRTC needs both certificates. */
    mbedtls_ssl_conf_authmode(&d->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
    mbedtls_ssl_conf_verify(&d->conf, verify_cert, d);
    mbedtls_ssl_conf_export_keys_ext_cb(&d->conf, export_keys, d);
    uint32_t tmin = cfg->hs_timeout_min_ms ? cfg->hs_timeout_min_ms : 1000;
    uint32_t tmax = cfg->hs_timeout_max_ms ? cfg->hs_timeout_max_ms : 8000;
    if (tmax < tmin)
        return CAMRTC_EINVAL;
    mbedtls_ssl_conf_handshake_timeout(&d->conf, tmin, tmax);
    if (endpoint == MBEDTLS_SSL_IS_SERVER)
        mbedtls_ssl_conf_dtls_cookies(&d->conf, NULL, NULL, NULL); /* ICE did the return-routability check */
    if (mbedtls_ssl_conf_own_cert(&d->conf, &d->cert, &d->key) != 0)
        return CAMRTC_ECRYPTO;
    return set_profiles(d, cfg->profiles, cfg->n_profiles);
}

int camrtc_dtls_new(camrtc_dtls **out, const camrtc_dtls_config *cfg, const camrtc_dtls_callbacks *cb)
{
    if (!out)
        return CAMRTC_EINVAL;
    *out = NULL;
    if (!cfg || !cb || !cfg->cert || !cfg->cert->cert_der || !cfg->cert->key_der || !cfg->rng ||
        (cfg->role != CAMRTC_DTLS_CLIENT && cfg->role != CAMRTC_DTLS_SERVER))
        return CAMRTC_EINVAL;
    unsigned mtu = cfg->mtu ? cfg->mtu : CAMRTC_DTLS_DEFAULT_MTU;
    if (mtu < 256 || mtu > 65535)
        return CAMRTC_EINVAL;
    camrtc_dtls *d = calloc(1, sizeof *d);
    if (!d)
        return CAMRTC_ENOMEM;
    d->cb = *cb;
    d->role = cfg->role;
    mbedtls_ssl_config_init(&d->conf);
    mbedtls_ssl_init(&d->ssl);
    mbedtls_x509_crt_init(&d->cert);
    mbedtls_pk_init(&d->key);

    int rc = CAMRTC_OK;
    if (cfg->remote_fingerprint)
        rc = camrtc_dtls_set_remote_fingerprint(d, cfg->remote_fingerprint);
    if (rc == CAMRTC_OK && (mbedtls_x509_crt_parse_der(&d->cert, cfg->cert->cert_der, cfg->cert->cert_len) != 0 ||
                            mbedtls_pk_parse_key(&d->key, cfg->cert->key_der, cfg->cert->key_len, NULL, 0) != 0))
        rc = CAMRTC_EINVAL;
    if (rc == CAMRTC_OK)
        rc = setup_conf(d, cfg);
    if (rc == CAMRTC_OK) {
        int r = mbedtls_ssl_setup(&d->ssl, &d->conf);
        if (r != 0)
            rc = r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? CAMRTC_ENOMEM : CAMRTC_ECRYPTO;
    }
    if (rc < 0) {
        camrtc_dtls_free(d);
        return rc;
    }
    mbedtls_ssl_set_bio(&d->ssl, d, bio_send, bio_recv, NULL);
    mbedtls_ssl_set_timer_cb(&d->ssl, d, timer_set, timer_get);
    d->mtu = (uint16_t)mtu;
    mbedtls_ssl_set_mtu(&d->ssl, d->mtu);
    *out = d;
    return CAMRTC_OK;
}

int camrtc_dtls_set_remote_fingerprint(camrtc_dtls *d, const char *fingerprint)
{
    if (!d || !fingerprint)
        return CAMRTC_EINVAL;
    if (d->state == CAMRTC_DTLS_CONNECTED)
        return CAMRTC_ESTATE;
    uint8_t fp[CAMRTC_SHA256_LEN];
    int rc = camrtc_dtls_parse_fingerprint(fingerprint, fp);
    if (rc < 0)
        return rc;
    /* A certificate already accepted under another fingerprint no longer counts. */
    if (d->have_fp && !digest_equal(fp, d->remote_fp, sizeof fp))
        d->fp_ok = false;
    memcpy(d->remote_fp, fp, sizeof fp);
    d->have_fp = true;
    return CAMRTC_OK;
}

/* ---- driving ----------------------------------------------------------------------- */

int camrtc_dtls_start(camrtc_dtls *d, camrtc_time_us now)
{
    if (!d)
        return CAMRTC_EINVAL;
    if (d->state != CAMRTC_DTLS_NEW)
        return CAMRTC_ESTATE;
    d->now = now;
    d->state = CAMRTC_DTLS_CONNECTING;
    drive(d);
    return d->state == CAMRTC_DTLS_FAILED ? d->error : CAMRTC_OK;
}

/* mbedtls 2.28 refuses a ClientHello split into fragments ("bad client hello message"),
 * and OpenSSL-based peers (aiortc) send one that way with a small MTU: two handshake
 * fragments in one datagram, or across datagrams. Before we have answered, a server
 * collects the fragments of ClientHello (epoch 0, msg_type 1) and, once every byte is
 * there, hands mbedtls one record holding the whole message. Returns the length of the
 * rebuilt datagram in d->ch, 0 when the datagram is not a fragmented ClientHello (hand it
 * on as it is), or -1 when it was one and more fragments are needed (or it is unusable). */
static int ch_reassemble(camrtc_dtls *d, const uint8_t *data, size_t len)
{
    bool fragment = false;
    for (size_t o = 0; o + DTLS_REC_HDR <= len;) {
        const uint8_t *r = data + o;
        size_t rl = (size_t)r[11] << 8 | r[12];
        if (o + DTLS_REC_HDR + rl > len)
            break;
        const uint8_t *h = r + DTLS_REC_HDR;
        if (r[0] == 22 && r[3] == 0 && r[4] == 0 && rl >= DTLS_HS_HDR && h[0] == 1) {
            uint32_t total = camrtc_rd24(h + 1), off = camrtc_rd24(h + 6), fl = camrtc_rd24(h + 9);
            if (fl + DTLS_HS_HDR > rl || off + fl > total)
                return 0;                        /* malformed: let mbedtls say so */
            if (fl != total) {
                fragment = true;
                if (total > DTLS_CH_MAX || (d->ch_total && d->ch_total != total))
                    return -1;                   /* too big for us, or a different hello */
                if (!d->ch_total) {
                    d->ch_total = total;
                    memset(d->ch_have, 0, sizeof d->ch_have);
                    memcpy(d->ch, r, DTLS_REC_HDR);   /* type, version, epoch, sequence */
                    memcpy(d->ch + DTLS_REC_HDR, h, DTLS_HS_HDR);
                }
                memcpy(d->ch + DTLS_REC_HDR + DTLS_HS_HDR + off, h + DTLS_HS_HDR, fl);
                for (uint32_t i = off; i < off + fl; i++)
                    d->ch_have[i / 8] |= (uint8_t)(1u << (i % 8));
            }
        }
        o += DTLS_REC_HDR + rl;
    }
    if (!fragment)
        return 0;
    for (size_t i = 0; i < d->ch_total; i++)
        if (!(d->ch_have[i / 8] & (1u << (i % 8))))
            return -1;
    size_t body = d->ch_total, rl = DTLS_HS_HDR + body;
    uint8_t *h = d->ch + DTLS_REC_HDR;
    d->ch[11] = (uint8_t)(rl >> 8);
    d->ch[12] = (uint8_t)rl;
    h[6] = h[7] = h[8] = 0;                      /* fragment_offset 0 */
    h[9] = (uint8_t)(body >> 16);                /* fragment_length = length */
    h[10] = (uint8_t)(body >> 8);
    h[11] = (uint8_t)body;
    d->ch_total = 0;
    d->stats.reassembled_hellos++;
    return (int)(DTLS_REC_HDR + rl);
}

int camrtc_dtls_handle_input(camrtc_dtls *d, camrtc_time_us now, const uint8_t *data, size_t len)
{
    if (!d || (!data && len))
        return CAMRTC_EINVAL;
    d->now = now;
    if (d->state == CAMRTC_DTLS_FAILED || d->state == CAMRTC_DTLS_CLOSED) {
        d->stats.dropped_input++;
        return CAMRTC_ECLOSED;
    }
    if (len == 0 || len > CAMRTC_DTLS_MAX_DATAGRAM ||
        (d->state == CAMRTC_DTLS_NEW && d->role == CAMRTC_DTLS_CLIENT)) {
        d->stats.dropped_input++;
        return CAMRTC_OK;
    }
    if (d->state == CAMRTC_DTLS_NEW)
        d->state = CAMRTC_DTLS_CONNECTING; /* a server starts on the first ClientHello */
    d->stats.datagrams_in++;
    d->stats.bytes_in += len;
    if (d->role == CAMRTC_DTLS_SERVER && !d->answered) {
        int n = ch_reassemble(d, data, len);
        if (n < 0)
            return CAMRTC_OK;                    /* a ClientHello fragment: wait for the rest */
        if (n > 0) {
            data = d->ch;
            len = (size_t)n;
        }
    }
    d->in = data;
    d->in_len = len;
    drive(d);
    d->in = NULL; /* never keep a pointer to the caller's buffer */
    return d->state == CAMRTC_DTLS_FAILED ? d->error : CAMRTC_OK;
}

int camrtc_dtls_handle_timeout(camrtc_dtls *d, camrtc_time_us now)
{
    if (!d)
        return CAMRTC_EINVAL;
    d->now = now;
    if (d->state != CAMRTC_DTLS_CONNECTING || timer_get(d) != 2)
        return CAMRTC_OK;
    drive(d); /* mbedtls sees the expired timer, doubles it and resends the flight */
    if (d->state == CAMRTC_DTLS_CONNECTING)
        d->stats.retransmits++;
    return d->state == CAMRTC_DTLS_FAILED ? d->error : CAMRTC_OK;
}

camrtc_time_us camrtc_dtls_next_timeout(const camrtc_dtls *d)
{
    if (!d || d->state != CAMRTC_DTLS_CONNECTING || d->timer_fin_ms == 0)
        return CAMRTC_TIME_NEVER;
    return d->timer_start + CAMRTC_MS(d->timer_fin_ms);
}

int camrtc_dtls_send(camrtc_dtls *d, camrtc_time_us now, const uint8_t *data, size_t len)
{
    if (!d || (!data && len))
        return CAMRTC_EINVAL;
    if (d->state != CAMRTC_DTLS_CONNECTED)
        return CAMRTC_ESTATE;
    if (len > CAMRTC_DTLS_MAX_APP_DATA)
        return CAMRTC_ETOOBIG;
    d->now = now;
    int r = mbedtls_ssl_write(&d->ssl, data, len);
    if (r == MBEDTLS_ERR_SSL_BAD_INPUT_DATA)
        return CAMRTC_ETOOBIG; /* larger than one record within the MTU */
    if (r < 0 || (size_t)r != len)
        return CAMRTC_ETLS;
    d->stats.app_records_out++;
    return CAMRTC_OK;
}

int camrtc_dtls_close(camrtc_dtls *d, camrtc_time_us now)
{
    if (!d)
        return CAMRTC_EINVAL;
    d->now = now;
    if (d->state == CAMRTC_DTLS_CONNECTED)
        mbedtls_ssl_close_notify(&d->ssl); /* best effort: one datagram, never retransmitted */
    if (d->state != CAMRTC_DTLS_FAILED)
        d->state = CAMRTC_DTLS_CLOSED;
    d->timer_fin_ms = 0;
    wipe_secrets(d);
    return CAMRTC_OK;
}

camrtc_dtls_state camrtc_dtls_get_state(const camrtc_dtls *d)
{
    return d ? d->state : CAMRTC_DTLS_FAILED;
}

camrtc_dtls_role camrtc_dtls_get_role(const camrtc_dtls *d)
{
    return d ? d->role : CAMRTC_DTLS_CLIENT;
}

void camrtc_dtls_get_stats(const camrtc_dtls *d, camrtc_dtls_stats *out)
{
    if (d && out)
        *out = d->stats;
}

void camrtc_dtls_free(camrtc_dtls *d)
{
    if (!d)
        return;
    mbedtls_ssl_free(&d->ssl);
    mbedtls_ssl_config_free(&d->conf);
    mbedtls_x509_crt_free(&d->cert);
    mbedtls_pk_free(&d->key);
    if (d->app)
        mbedtls_platform_zeroize(d->app, CAMRTC_DTLS_MAX_APP_DATA);
    free(d->app);
    mbedtls_platform_zeroize(d, sizeof *d);
    free(d);
}
