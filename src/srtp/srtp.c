/* SRTP/SRTCP sessions on libsrtp2. See include/camrtc/srtp.h for the model. */
#include "camrtc/srtp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

#include "camrtc/error.h"
#include "srtp_mbedtls.h"

struct camrtc_srtp {
    srtp_t session;
    camrtc_srtp_direction dir;
    camrtc_srtp_profile profile;
    camrtc_srtp_stats stats;
};

/* libsrtp's crypto kernel is process-wide; these three are the only mutable
 * statics in camrtc, written once under pthread_once. */
static pthread_once_t srtp_once = PTHREAD_ONCE_INIT;
static int srtp_init_result = CAMRTC_ESTATE;
static bool srtp_on_mbedtls;

static void srtp_init_once(void)
{
    srtp_init_result = srtp_init() == srtp_err_status_ok ? CAMRTC_OK : CAMRTC_ECRYPTO;
    /* Our AES-ICM and HMAC-SHA1 for libsrtp's (srtp_mbedtls.c); should libsrtp refuse
     * them, its own stay and everything still works, slower. */
    if (srtp_init_result == CAMRTC_OK)
        srtp_on_mbedtls = camrtc_srtp_install_mbedtls() == 0;
}

bool camrtc_srtp_crypto_is_mbedtls(void)
{
    return camrtc_srtp_library_init() == CAMRTC_OK && srtp_on_mbedtls;
}

int camrtc_srtp_library_init(void)
{
    if (pthread_once(&srtp_once, srtp_init_once) != 0)
        return CAMRTC_ECRYPTO;
    return srtp_init_result;
}

int camrtc_srtp_profile_lengths(camrtc_srtp_profile p, size_t *key_len, size_t *salt_len)
{
    switch (p) {
    case CAMRTC_SRTP_AES128_CM_SHA1_80:
    case CAMRTC_SRTP_AES128_CM_SHA1_32:
        *key_len = 16;
        *salt_len = 14;
        return CAMRTC_OK;
    case CAMRTC_SRTP_AEAD_AES_128_GCM:
        *key_len = 16;
        *salt_len = 12; /* RFC 7714 section 12 */
        return CAMRTC_OK;
    default:
        return CAMRTC_EUNSUPPORTED;
    }
}

const char *camrtc_srtp_profile_name(camrtc_srtp_profile p)
{
    switch (p) {
    case CAMRTC_SRTP_AES128_CM_SHA1_80:
        return "SRTP_AES128_CM_HMAC_SHA1_80";
    case CAMRTC_SRTP_AES128_CM_SHA1_32:
        return "SRTP_AES128_CM_HMAC_SHA1_32";
    case CAMRTC_SRTP_AEAD_AES_128_GCM:
        return "SRTP_AEAD_AES_128_GCM";
    default:
        return "unknown";
    }
}

/* RTP and RTCP crypto policies of a profile. For _32 only RTP gets the short
 * tag: SRTCP keeps the 80-bit tag (RFC 5764 section 4.1.2). */
static int set_policies(camrtc_srtp_profile p, srtp_policy_t *pol)
{
    switch (p) {
    case CAMRTC_SRTP_AES128_CM_SHA1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
        return CAMRTC_OK;
    case CAMRTC_SRTP_AES128_CM_SHA1_32:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&pol->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
        return CAMRTC_OK;
    case CAMRTC_SRTP_AEAD_AES_128_GCM:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol->rtcp);
        return CAMRTC_OK;
    default:
        return CAMRTC_EUNSUPPORTED;
    }
}

int camrtc_srtp_new(camrtc_srtp **out, const camrtc_srtp_keying *k, bool local_is_client,
                    camrtc_srtp_direction dir, const camrtc_srtp_config *cfg)
{
    if (!out)
        return CAMRTC_EINVAL;
    *out = NULL;
    size_t key_len, salt_len;
    if (!k || (dir != CAMRTC_SRTP_SEND && dir != CAMRTC_SRTP_RECV))
        return CAMRTC_EINVAL;
    if (camrtc_srtp_profile_lengths(k->profile, &key_len, &salt_len) < 0)
        return CAMRTC_EUNSUPPORTED;
    if (k->key_len != key_len || k->salt_len != salt_len)
        return CAMRTC_EINVAL;
    unsigned window = cfg && cfg->window ? cfg->window : CAMRTC_SRTP_DEFAULT_WINDOW;
    if (window < 64 || window > CAMRTC_SRTP_MAX_WINDOW)
        return CAMRTC_EINVAL;
    if (camrtc_srtp_library_init() < 0)
        return CAMRTC_ESTATE;

    /* Send with our role's keys, receive with the peer's (RFC 5764 section 4.2). */
    bool use_client = (dir == CAMRTC_SRTP_SEND) == local_is_client;
    uint8_t master[CAMRTC_SRTP_MAX_KEY_LEN + CAMRTC_SRTP_MAX_SALT_LEN];
    memcpy(master, use_client ? k->client_key : k->server_key, key_len);
    memcpy(master + key_len, use_client ? k->client_salt : k->server_salt, salt_len);

    srtp_policy_t pol;
    memset(&pol, 0, sizeof pol);
    set_policies(k->profile, &pol);
    pol.ssrc.type = dir == CAMRTC_SRTP_SEND ? ssrc_any_outbound : ssrc_any_inbound;
    pol.key = master;
    pol.window_size = window;
    /* NACK retransmissions reuse the sequence number (see srtp.h). */
    pol.allow_repeat_tx = dir == CAMRTC_SRTP_SEND;
    pol.next = NULL;

    camrtc_srtp *s = calloc(1, sizeof *s);
    if (!s) {
        memset(master, 0, sizeof master);
        return CAMRTC_ENOMEM;
    }
    srtp_err_status_t st = srtp_create(&s->session, &pol);
    memset(master, 0, sizeof master);
    if (st != srtp_err_status_ok) {
        free(s);
        if (st == srtp_err_status_alloc_fail)
            return CAMRTC_ENOMEM;
        return st == srtp_err_status_bad_param || st == srtp_err_status_cipher_fail ? CAMRTC_EUNSUPPORTED
                                                                                      : CAMRTC_ECRYPTO;
    }
    s->dir = dir;
    s->profile = k->profile;
    *out = s;
    return CAMRTC_OK;
}

size_t camrtc_srtp_overhead(const camrtc_srtp *s, bool rtcp)
{
    size_t tag;
    if (s->profile == CAMRTC_SRTP_AEAD_AES_128_GCM)
        tag = 16;
    else if (s->profile == CAMRTC_SRTP_AES128_CM_SHA1_32 && !rtcp)
        tag = 4;
    else
        tag = 10;
    /* SRTCP adds the E flag and the 31-bit index (RFC 3711 section 3.4). */
    return tag + (rtcp ? 4 : 0);
}

/* The parts of an RTP header libsrtp walks (RFC 3550 section 5.1): fixed header,
 * CSRC list and extension must lie within len. */
static bool rtp_header_ok(const uint8_t *p, size_t len)
{
    if (len < 12 || (p[0] >> 6) != 2)
        return false;
    size_t hdr = 12 + 4u * (p[0] & 0x0f);
    if (hdr > len)
        return false;
    if (p[0] & 0x10) {
        if (hdr + 4 > len)
            return false;
        hdr += 4 + 4u * (((size_t)p[hdr + 2] << 8) | p[hdr + 3]);
        if (hdr > len)
            return false;
    }
    return true;
}

/* RTCP: version 2 and at least the 8-byte header of the first packet (RFC 3550 6.4). */
static bool rtcp_header_ok(const uint8_t *p, size_t len)
{
    return len >= 8 && (p[0] >> 6) == 2;
}

static int map_unprotect_error(camrtc_srtp *s, srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_auth_fail:
        s->stats.auth_fail++;
        return CAMRTC_EAUTH;
    case srtp_err_status_replay_fail:
        s->stats.replay++;
        return CAMRTC_EEXIST;
    case srtp_err_status_replay_old:
        s->stats.replay++;
        return CAMRTC_EEXPIRED;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
        s->stats.malformed++;
        return CAMRTC_EPROTO;
    default:
        s->stats.other_fail++;
        return CAMRTC_ECRYPTO;
    }
}

static int protect(camrtc_srtp *s, uint8_t *pkt, size_t len, size_t cap, bool rtcp)
{
    if (!s || !pkt || s->dir != CAMRTC_SRTP_SEND || len > (size_t)INT32_MAX / 2 ||
        cap < len + camrtc_srtp_overhead(s, rtcp))
        return CAMRTC_EINVAL;
    if (rtcp ? !rtcp_header_ok(pkt, len) : !rtp_header_ok(pkt, len)) {
        s->stats.malformed++;
        return CAMRTC_EPROTO;
    }
    int n = (int)len;
    srtp_err_status_t st = rtcp ? srtp_protect_rtcp(s->session, pkt, &n) : srtp_protect(s->session, pkt, &n);
    if (st != srtp_err_status_ok) {
        s->stats.other_fail++;
        return CAMRTC_ECRYPTO;
    }
    if (rtcp)
        s->stats.protected_rtcp++;
    else
        s->stats.protected_rtp++;
    return n;
}

static int unprotect(camrtc_srtp *s, uint8_t *pkt, size_t len, bool rtcp)
{
    if (!s || !pkt || s->dir != CAMRTC_SRTP_RECV)
        return CAMRTC_EINVAL;
    /* Shorter than header + tag (+ SRTCP index) cannot be valid. */
    size_t min = (rtcp ? 8 : 12) + camrtc_srtp_overhead(s, rtcp);
    if (len < min || len > (size_t)INT32_MAX / 2 ||
        (rtcp ? !rtcp_header_ok(pkt, len) : !rtp_header_ok(pkt, len - camrtc_srtp_overhead(s, false)))) {
        s->stats.malformed++;
        return CAMRTC_EPROTO;
    }
    int n = (int)len;
    srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(s->session, pkt, &n) : srtp_unprotect(s->session, pkt, &n);
    if (st != srtp_err_status_ok)
        return map_unprotect_error(s, st);
    if (rtcp)
        s->stats.unprotected_rtcp++;
    else
        s->stats.unprotected_rtp++;
    return n;
}

int camrtc_srtp_protect(camrtc_srtp *s, uint8_t *pkt, size_t len, size_t cap)
{
    return protect(s, pkt, len, cap, false);
}

int camrtc_srtp_protect_rtcp(camrtc_srtp *s, uint8_t *pkt, size_t len, size_t cap)
{
    return protect(s, pkt, len, cap, true);
}

int camrtc_srtp_unprotect(camrtc_srtp *s, uint8_t *pkt, size_t len)
{
    return unprotect(s, pkt, len, false);
}

int camrtc_srtp_unprotect_rtcp(camrtc_srtp *s, uint8_t *pkt, size_t len)
{
    return unprotect(s, pkt, len, true);
}

void camrtc_srtp_get_stats(const camrtc_srtp *s, camrtc_srtp_stats *out)
{
    if (s && out)
        *out = s->stats;
}

void camrtc_srtp_free(camrtc_srtp *s)
{
    if (!s)
        return;
    srtp_dealloc(s->session);
    free(s);
}
