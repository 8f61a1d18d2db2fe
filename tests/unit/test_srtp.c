/* SRTP/SRTCP sessions: RFC 3711 appendix B vectors, round trips with keys from
 * a real in-memory DTLS handshake, tampering, replay, NACK retransmission,
 * RTCP, malformed input. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/aes.h>

#include "camrtc/cert.h"
#include "camrtc/crypto.h"
#include "camrtc/dtls.h"
#include "camrtc/error.h"
#include "camrtc/srtp.h"
#include "check.h"

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2) {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

/* ---- an independent SRTP AES-CM/HMAC-SHA1-80 reference (RFC 3711 4.1.1, 4.2) ---- */

/* IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16); block counter in the low 16 bits. */
static void ref_keystream(const uint8_t key[16], const uint8_t salt[14], uint32_t ssrc, uint64_t index,
                          uint8_t *out, size_t len)
{
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    mbedtls_aes_setkey_enc(&aes, key, 128);
    uint8_t iv[16] = {0};
    memcpy(iv, salt, 14);
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; i++)
        iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
    for (size_t off = 0, blk = 0; off < len; off += 16, blk++) {
        uint8_t ctr[16], ks[16];
        memcpy(ctr, iv, 16);
        ctr[14] = (uint8_t)(blk >> 8);
        ctr[15] = (uint8_t)blk;
        mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, ctr, ks);
        for (size_t k = 0; k < 16 && off + k < len; k++)
            out[off + k] = ks[k];
    }
    mbedtls_aes_free(&aes);
}

TEST(rfc3711_b2_keystream_reference)
{
    /* RFC 3711 appendix B.2: the AES-CM keystream the reference above must produce. */
    uint8_t key[16], salt[14], want[32], ks[32];
    unhex("2B7E151628AED2A6ABF7158809CF4F3C", key);
    unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", salt);
    unhex("E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB", want);
    ref_keystream(key, salt, 0, 0, ks, sizeof ks);
    CHECK_EQ_MEM(ks, want, 32);
}

static camrtc_srtp_keying keying_from(const char *key_hex, const char *salt_hex)
{
    camrtc_srtp_keying k;
    memset(&k, 0, sizeof k);
    k.profile = CAMRTC_SRTP_AES128_CM_SHA1_80;
    k.key_len = unhex(key_hex, k.client_key);
    k.salt_len = unhex(salt_hex, k.client_salt);
    memcpy(k.server_key, k.client_key, 16);
    k.server_key[0] ^= 0xff; /* a different server half, never used below */
    memcpy(k.server_salt, k.client_salt, 14);
    return k;
}

static size_t make_rtp(uint8_t *p, uint16_t seq, uint32_t ts, uint32_t ssrc, size_t payload)
{
    p[0] = 0x80;
    p[1] = 96;
    p[2] = (uint8_t)(seq >> 8);
    p[3] = (uint8_t)seq;
    for (int i = 0; i < 4; i++) {
        p[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        p[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    for (size_t i = 0; i < payload; i++)
        p[12 + i] = (uint8_t)(0xab ^ i ^ seq);
    return 12 + payload;
}

TEST(rfc3711_b3_keys_drive_libsrtp)
{
    /* Master key/salt of RFC 3711 appendix B.3 go through camrtc_srtp (libsrtp);
     * the result must equal what the session keys B.3 lists give with the
     * reference cipher and HMAC-SHA1-80 computed here. */
    CHECK_EQ_INT(camrtc_srtp_library_init(), CAMRTC_OK);
    camrtc_srtp_keying k = keying_from("E1F97A0D3E018BE0D64FA32C06DE4139", "0EC675AD498AFEEBB6960B3AABE6");
    uint8_t ks_key[16], ks_salt[14], auth_key[20];
    unhex("C61E7A93744F39EE10734AFE3FF7A087", ks_key);
    unhex("30CBBC08863D8C85D49DB34A9AE1", ks_salt);
    unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", auth_key);

    camrtc_srtp *tx = NULL;
    CHECK_EQ_INT(camrtc_srtp_new(&tx, &k, true, CAMRTC_SRTP_SEND, NULL), CAMRTC_OK);
    uint8_t pkt[128], want[128];
    size_t len = make_rtp(pkt, 0x1234, 0xdecafbad, 0xcafebabe, 40);
    memcpy(want, pkt, len);
    int n = camrtc_srtp_protect(tx, pkt, len, sizeof pkt);
    CHECK_EQ_INT(n, (int)len + 10);

    uint8_t ks[40];
    ref_keystream(ks_key, ks_salt, 0xcafebabe, 0x1234, ks, sizeof ks); /* ROC 0: index = seq */
    for (size_t i = 0; i < 40; i++)
        want[12 + i] ^= ks[i];
    uint8_t mac_in[128], mac[CAMRTC_SHA1_LEN];
    memcpy(mac_in, want, len);
    memset(mac_in + len, 0, 4); /* ROC (RFC 3711 section 4.2) */
    CHECK_EQ_INT(camrtc_hmac_sha1(auth_key, 20, mac_in, len + 4, mac), CAMRTC_OK);
    memcpy(want + len, mac, 10);
    CHECK_EQ_MEM(pkt, want, len + 10);
    camrtc_srtp_free(tx);
}

/* ---- libsrtp2 on our mbedtls AES-ICM and HMAC-SHA1 --------------------------------- */

/* An RTP and an RTCP packet protected by Debian's libsrtp2 with its own (NSS) crypto,
 * before camrtc replaced it: master key = 30 bytes 0xe1 + 7 i, SSRC deadbeef, seq 0x1234,
 * payload bytes 12..61; RTCP: an empty RR, SRTCP index 1. */
static const uint8_t stock_rtp[72] = {
    0x80, 0x60, 0x12, 0x34, 0x00, 0x00, 0x30, 0x39, 0xde, 0xad, 0xbe, 0xef,
    0x7e, 0x87, 0xc6, 0xe6, 0x33, 0xaf, 0x69, 0x5e, 0xf6, 0xb6, 0xa0, 0x4f,
    0xde, 0xe0, 0xac, 0x60, 0x96, 0xa6, 0x77, 0x6f, 0xb8, 0xe1, 0x25, 0xc3,
    0x68, 0xf2, 0x49, 0x69, 0xd8, 0x73, 0xea, 0xf5, 0xee, 0x1a, 0x69, 0xda,
    0xf2, 0xd9, 0xa0, 0xe2, 0x60, 0x89, 0x00, 0xc3, 0xa3, 0x82, 0x81, 0xe9,
    0xeb, 0xbf, 0x55, 0x1e, 0x26, 0xc1, 0x31, 0x9d, 0xf6, 0x4c, 0x6f, 0xf4,
};
static const uint8_t stock_rtcp[22] = {
    0x80, 0xc9, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x80, 0x00, 0x00, 0x01,
    0xcf, 0x29, 0x5a, 0xa3, 0x8b, 0xac, 0xb1, 0x07, 0x0a, 0xf3,
};

TEST(mbedtls_crypto_in_libsrtp_matches_stock_libsrtp)
{
    CHECK(camrtc_srtp_crypto_is_mbedtls());
    camrtc_srtp_keying k;
    memset(&k, 0, sizeof k);
    k.profile = CAMRTC_SRTP_AES128_CM_SHA1_80;
    k.key_len = 16;
    k.salt_len = 14;
    for (int i = 0; i < 30; i++) {
        uint8_t b = (uint8_t)(0xe1 + i * 7);
        if (i < 16)
            k.client_key[i] = b;
        else
            k.client_salt[i - 16] = b;
    }
    camrtc_srtp *tx = NULL, *rx = NULL;
    CHECK_EQ_INT(camrtc_srtp_new(&tx, &k, true, CAMRTC_SRTP_SEND, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_srtp_new(&rx, &k, false, CAMRTC_SRTP_RECV, NULL), CAMRTC_OK);
    uint8_t p[128] = {0x80, 0x60, 0x12, 0x34, 0x00, 0x00, 0x30, 0x39, 0xde, 0xad, 0xbe, 0xef};
    for (int i = 12; i < 62; i++)
        p[i] = (uint8_t)i;
    CHECK_EQ_INT(camrtc_srtp_protect(tx, p, 62, sizeof p), 72);
    CHECK_EQ_MEM(p, stock_rtp, 72);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, p, 72), 62);   /* and back */
    CHECK_EQ_INT(p[61], 61);
    uint8_t r[64] = {0x80, 201, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef};
    CHECK_EQ_INT(camrtc_srtp_protect_rtcp(tx, r, 8, sizeof r), 22);
    CHECK_EQ_MEM(r, stock_rtcp, 22);
    CHECK_EQ_INT(camrtc_srtp_unprotect_rtcp(rx, r, 22), 8);
    camrtc_srtp_free(tx);
    camrtc_srtp_free(rx);
}

/* ---- keys from a real DTLS handshake --------------------------------------------- */

typedef struct side {
    uint8_t q[16][1500];
    size_t qlen[16], n;
    camrtc_srtp_keying keys;
    bool have_keys;
} side;

static void s_send(void *u, const uint8_t *p, size_t n)
{
    side *s = u;
    if (s->n < 16 && n <= 1500) {
        memcpy(s->q[s->n], p, n);
        s->qlen[s->n++] = n;
    }
}

static void s_event(void *u, const camrtc_dtls_event *ev)
{
    side *s = u;
    if (ev->type == CAMRTC_DTLS_EV_CONNECTED && ev->keys) {
        s->keys = *ev->keys;
        s->have_keys = true;
    }
}

static side g_cli, g_srv;

static void flush(side *from, camrtc_dtls *to)
{
    static uint8_t buf[1500];
    size_t n = from->n;
    from->n = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf, from->q[i], from->qlen[i]);
        camrtc_dtls_handle_input(to, 0, buf, from->qlen[i]);
    }
}

static bool dtls_keys(void)
{
    if (g_cli.have_keys)
        return true;
    camrtc_rng rng;
    camrtc_cert c1, c2;
    char f1[CAMRTC_CERT_FINGERPRINT_SIZE + 8] = "sha-256 ", f2[CAMRTC_CERT_FINGERPRINT_SIZE + 8] = "sha-256 ";
    camrtc_rng_init_seed(&rng, 9);
    if (camrtc_cert_self_signed("a", 1, &rng, &c1) < 0 || camrtc_cert_self_signed("b", 1, &rng, &c2) < 0)
        return false;
    camrtc_cert_fingerprint_sha256(c1.cert_der, c1.cert_len, f1 + 8, CAMRTC_CERT_FINGERPRINT_SIZE);
    camrtc_cert_fingerprint_sha256(c2.cert_der, c2.cert_len, f2 + 8, CAMRTC_CERT_FINGERPRINT_SIZE);
    camrtc_dtls *cli = NULL, *srv = NULL;
    camrtc_dtls_callbacks cbc = {s_send, s_event, &g_cli}, cbs = {s_send, s_event, &g_srv};
    camrtc_dtls_config cc = {.role = CAMRTC_DTLS_CLIENT, .cert = &c1, .remote_fingerprint = f2, .rng = &rng};
    camrtc_dtls_config cs = {.role = CAMRTC_DTLS_SERVER, .cert = &c2, .remote_fingerprint = f1, .rng = &rng};
    if (camrtc_dtls_new(&cli, &cc, &cbc) == 0 && camrtc_dtls_new(&srv, &cs, &cbs) == 0 &&
        camrtc_dtls_start(cli, 0) == 0) {
        for (int i = 0; i < 10 && (g_cli.n || g_srv.n); i++) {
            flush(&g_cli, srv);
            flush(&g_srv, cli);
        }
    }
    camrtc_dtls_free(cli);
    camrtc_dtls_free(srv);
    camrtc_cert_free(&c1);
    camrtc_cert_free(&c2);
    camrtc_rng_free(&rng);
    return g_cli.have_keys && g_srv.have_keys && memcmp(&g_cli.keys, &g_srv.keys, sizeof g_cli.keys) == 0;
}

TEST(round_trip_with_dtls_keys_both_directions)
{
    CHECK(dtls_keys());
    camrtc_srtp *c_tx, *c_rx, *s_tx, *s_rx;
    CHECK_EQ_INT(camrtc_srtp_new(&c_tx, &g_cli.keys, true, CAMRTC_SRTP_SEND, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_srtp_new(&c_rx, &g_cli.keys, true, CAMRTC_SRTP_RECV, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_srtp_new(&s_tx, &g_srv.keys, false, CAMRTC_SRTP_SEND, NULL), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_srtp_new(&s_rx, &g_srv.keys, false, CAMRTC_SRTP_RECV, NULL), CAMRTC_OK);
    uint8_t pkt[1300], orig[1300];
    for (uint16_t seq = 100; seq < 110; seq++) {
        size_t len = make_rtp(orig, seq, seq * 3000u, 0x11223344, 1100);
        memcpy(pkt, orig, len);
        int n = camrtc_srtp_protect(c_tx, pkt, len, sizeof pkt);
        CHECK_EQ_INT(n, (int)len + 10);
        CHECK(memcmp(pkt + 12, orig + 12, len - 12) != 0); /* payload encrypted */
        CHECK_EQ_INT(camrtc_srtp_unprotect(s_rx, pkt, (size_t)n), (int)len);
        CHECK_EQ_MEM(pkt, orig, len);
        /* And the other way (another SSRC: replay state is per SSRC). */
        len = make_rtp(orig, seq, seq * 3000u, 0x55667788, 1100);
        memcpy(pkt, orig, len);
        n = camrtc_srtp_protect(s_tx, pkt, len, sizeof pkt);
        CHECK(n > 0);
        uint8_t copy[1300];
        memcpy(copy, pkt, (size_t)n);
        /* Receiving with the sender's role keys (the wrong half) fails. */
        CHECK_EQ_INT(camrtc_srtp_unprotect(s_rx, copy, (size_t)n), CAMRTC_EAUTH);
        CHECK_EQ_INT(camrtc_srtp_unprotect(c_rx, pkt, (size_t)n), (int)len);
        CHECK_EQ_MEM(pkt, orig, len);
    }
    camrtc_srtp_stats st;
    camrtc_srtp_get_stats(s_rx, &st);
    CHECK_EQ_INT(st.unprotected_rtp, 10);
    CHECK_EQ_INT(st.auth_fail, 10);
    camrtc_srtp_free(c_tx);
    camrtc_srtp_free(c_rx);
    camrtc_srtp_free(s_tx);
    camrtc_srtp_free(s_rx);
}

static bool make_pair(camrtc_srtp **tx, camrtc_srtp **rx, camrtc_srtp_profile prof, unsigned window)
{
    camrtc_srtp_keying k = keying_from("000102030405060708090a0b0c0d0e0f", "a0a1a2a3a4a5a6a7a8a9aaabacad");
    k.profile = prof;
    if (prof == CAMRTC_SRTP_AEAD_AES_128_GCM)
        k.salt_len = 12;
    camrtc_srtp_config cfg = {.window = window};
    if (camrtc_srtp_new(tx, &k, false, CAMRTC_SRTP_SEND, &cfg) < 0)
        return false;
    if (camrtc_srtp_new(rx, &k, true, CAMRTC_SRTP_RECV, &cfg) < 0) {
        camrtc_srtp_free(*tx);
        return false;
    }
    return true;
}

TEST(tampered_packets_are_rejected)
{
    camrtc_srtp *tx, *rx;
    CHECK(make_pair(&tx, &rx, CAMRTC_SRTP_AES128_CM_SHA1_80, 0));
    uint8_t pkt[200], bad[200];
    size_t len = make_rtp(pkt, 1, 0, 5, 100);
    int n = camrtc_srtp_protect(tx, pkt, len, sizeof pkt);
    CHECK(n > 0);
    static const size_t flip_at[] = {1, 3, 11, 20, 111, 115}; /* header, payload, tag */
    for (size_t i = 0; i < sizeof flip_at / sizeof flip_at[0]; i++) {
        memcpy(bad, pkt, (size_t)n);
        bad[flip_at[i]] ^= 0x01;
        CHECK_EQ_INT(camrtc_srtp_unprotect(rx, bad, (size_t)n), CAMRTC_EAUTH);
    }
    memcpy(bad, pkt, (size_t)n);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, bad, (size_t)n - 1), CAMRTC_EAUTH); /* truncated tag */
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, (size_t)n), (int)len);         /* the original is fine */
    camrtc_srtp_stats st;
    camrtc_srtp_get_stats(rx, &st);
    CHECK_EQ_INT(st.auth_fail, 7);
    CHECK_EQ_INT(st.unprotected_rtp, 1);
    camrtc_srtp_free(tx);
    camrtc_srtp_free(rx);
}

TEST(replays_are_rejected_and_nack_resend_accepted)
{
    camrtc_srtp *tx, *rx;
    CHECK(make_pair(&tx, &rx, CAMRTC_SRTP_AES128_CM_SHA1_80, 1024));
    uint8_t pkt[200], keep[200], lost_plain[200];
    size_t lost_len = 0;
    int keep_n = 0;
    for (uint16_t seq = 1; seq <= 1100; seq++) {
        size_t len = make_rtp(pkt, seq, seq, 7, 50);
        if (seq == 600) {
            memcpy(lost_plain, pkt, len); /* the send history keeps the plaintext */
            lost_len = len;
        }
        int n = camrtc_srtp_protect(tx, pkt, len, sizeof pkt);
        CHECK(n > 0);
        if (seq == 1) {
            memcpy(keep, pkt, (size_t)n);
            keep_n = n;
        }
        if (seq == 600)
            continue; /* lost on the way */
        CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, (size_t)n), (int)len);
        if (seq == 2) {
            /* The very same packet again: a replay. */
            size_t l2 = make_rtp(pkt, 2, 2, 7, 50);
            int m = camrtc_srtp_protect(tx, pkt, l2, sizeof pkt);
            CHECK(m > 0); /* allowed on the sender (allow_repeat_tx) */
            CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, (size_t)m), CAMRTC_EEXIST);
        }
    }
    /* seq 1 is now 1099 packets behind: older than the 1024 window. */
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, keep, (size_t)keep_n), CAMRTC_EEXPIRED);
    /* NACK for 600: resend with the same sequence number, protected again from plaintext. */
    memcpy(pkt, lost_plain, lost_len);
    int n = camrtc_srtp_protect(tx, pkt, lost_len, sizeof pkt);
    CHECK(n > 0);
    uint8_t dup[200];
    memcpy(dup, pkt, (size_t)n);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, (size_t)n), (int)lost_len);
    CHECK_EQ_MEM(pkt, lost_plain, lost_len);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, dup, (size_t)n), CAMRTC_EEXIST); /* a second copy */
    camrtc_srtp_stats st;
    camrtc_srtp_get_stats(rx, &st);
    CHECK_EQ_INT(st.replay, 3);
    CHECK_EQ_INT(st.unprotected_rtp, 1100);
    camrtc_srtp_free(tx);
    camrtc_srtp_free(rx);
}

TEST(rtcp_round_trip_tamper_replay)
{
    camrtc_srtp *tx, *rx;
    CHECK(make_pair(&tx, &rx, CAMRTC_SRTP_AES128_CM_SHA1_32, 0));
    CHECK_EQ_INT(camrtc_srtp_overhead(tx, false), 4);
    CHECK_EQ_INT(camrtc_srtp_overhead(tx, true), 14); /* SRTCP keeps the 80-bit tag */
    /* A receiver report with one report block (RFC 3550 6.4.2): 32 bytes. */
    uint8_t rr[64] = {0x81, 201, 0, 7, 0, 0, 0, 9, 0, 0, 0, 5};
    uint8_t orig[64], copy[64];
    memcpy(orig, rr, 32);
    int n = camrtc_srtp_protect_rtcp(tx, rr, 32, sizeof rr);
    CHECK_EQ_INT(n, 32 + 14);
    CHECK(rr[32] & 0x80); /* E flag: encrypted */
    memcpy(copy, rr, (size_t)n);
    copy[20] ^= 4;
    CHECK_EQ_INT(camrtc_srtp_unprotect_rtcp(rx, copy, (size_t)n), CAMRTC_EAUTH);
    memcpy(copy, rr, (size_t)n);
    CHECK_EQ_INT(camrtc_srtp_unprotect_rtcp(rx, rr, (size_t)n), 32);
    CHECK_EQ_MEM(rr, orig, 32);
    CHECK_EQ_INT(camrtc_srtp_unprotect_rtcp(rx, copy, (size_t)n), CAMRTC_EEXIST);
    /* RTP with the _32 profile: 4-byte tag. */
    uint8_t pkt[100];
    size_t len = make_rtp(pkt, 9, 9, 9, 20);
    CHECK_EQ_INT(camrtc_srtp_protect(tx, pkt, len, sizeof pkt), (int)len + 4);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, len + 4), (int)len);
    camrtc_srtp_stats st;
    camrtc_srtp_get_stats(rx, &st);
    CHECK_EQ_INT(st.unprotected_rtcp, 1);
    CHECK_EQ_INT(st.auth_fail, 1);
    CHECK_EQ_INT(st.replay, 1);
    camrtc_srtp_free(tx);
    camrtc_srtp_free(rx);
}

TEST(gcm_round_trip_when_libsrtp_has_it)
{
    camrtc_srtp *tx, *rx;
    if (!make_pair(&tx, &rx, CAMRTC_SRTP_AEAD_AES_128_GCM, 0)) {
        printf("  libsrtp without AES-GCM: skipped\n");
        return;
    }
    uint8_t pkt[200], orig[200];
    size_t len = make_rtp(orig, 77, 1, 2, 120);
    memcpy(pkt, orig, len);
    int n = camrtc_srtp_protect(tx, pkt, len, sizeof pkt);
    CHECK_EQ_INT(n, (int)len + 16);
    uint8_t bad[200];
    memcpy(bad, pkt, (size_t)n);
    bad[40] ^= 1;
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, bad, (size_t)n), CAMRTC_EAUTH);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, (size_t)n), (int)len);
    CHECK_EQ_MEM(pkt, orig, len);
    uint8_t rr[64] = {0x80, 201, 0, 1, 0, 0, 0, 9};
    n = camrtc_srtp_protect_rtcp(tx, rr, 8, sizeof rr);
    CHECK_EQ_INT(n, 8 + 20);
    CHECK_EQ_INT(camrtc_srtp_unprotect_rtcp(rx, rr, (size_t)n), 8);
    camrtc_srtp_free(tx);
    camrtc_srtp_free(rx);
}

TEST(malformed_and_misuse)
{
    camrtc_srtp *tx, *rx;
    CHECK(make_pair(&tx, &rx, CAMRTC_SRTP_AES128_CM_SHA1_80, 0));
    uint8_t pkt[100] = {0x80, 96};
    CHECK_EQ_INT(camrtc_srtp_protect(tx, pkt, 11, sizeof pkt), CAMRTC_EPROTO);   /* short header */
    CHECK_EQ_INT(camrtc_srtp_protect(tx, pkt, 20, 25), CAMRTC_EINVAL);            /* no room for the tag */
    CHECK_EQ_INT(camrtc_srtp_protect(rx, pkt, 20, sizeof pkt), CAMRTC_EINVAL);    /* receive session */
    CHECK_EQ_INT(camrtc_srtp_unprotect(tx, pkt, 40), CAMRTC_EINVAL);              /* send session */
    pkt[0] = 0x40;
    CHECK_EQ_INT(camrtc_srtp_protect(tx, pkt, 20, sizeof pkt), CAMRTC_EPROTO);    /* version 1 */
    pkt[0] = 0x8f;                                                                /* 15 CSRCs > 40 bytes */
    CHECK_EQ_INT(camrtc_srtp_protect(tx, pkt, 40, sizeof pkt), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, 50), CAMRTC_EPROTO);
    pkt[0] = 0x90;                                                                /* extension past the end */
    pkt[12] = 0xbe;
    pkt[13] = 0xde;
    pkt[14] = 0;
    pkt[15] = 50;
    CHECK_EQ_INT(camrtc_srtp_protect(tx, pkt, 40, sizeof pkt), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_srtp_unprotect(rx, pkt, 21), CAMRTC_EPROTO);              /* header + tag - 1 */
    CHECK_EQ_INT(camrtc_srtp_unprotect_rtcp(rx, pkt, 21), CAMRTC_EPROTO);
    CHECK_EQ_INT(camrtc_srtp_protect_rtcp(tx, pkt, 4, sizeof pkt), CAMRTC_EPROTO);
    camrtc_srtp_stats st;
    camrtc_srtp_get_stats(rx, &st);
    CHECK_EQ_INT(st.malformed, 3);
    camrtc_srtp_free(tx);
    camrtc_srtp_free(rx);
    camrtc_srtp_free(NULL);

    camrtc_srtp *s = NULL;
    camrtc_srtp_keying k = keying_from("000102030405060708090a0b0c0d0e0f", "a0a1a2a3a4a5a6a7a8a9aaabacad");
    camrtc_srtp_config cfg = {.window = 10};
    CHECK_EQ_INT(camrtc_srtp_new(&s, &k, true, CAMRTC_SRTP_SEND, &cfg), CAMRTC_EINVAL);
    k.salt_len = 12;
    CHECK_EQ_INT(camrtc_srtp_new(&s, &k, true, CAMRTC_SRTP_SEND, NULL), CAMRTC_EINVAL);
    k.profile = (camrtc_srtp_profile)5;
    CHECK_EQ_INT(camrtc_srtp_new(&s, &k, true, CAMRTC_SRTP_SEND, NULL), CAMRTC_EUNSUPPORTED);
    CHECK(s == NULL);
    CHECK_EQ_STR(camrtc_srtp_profile_name(CAMRTC_SRTP_AES128_CM_SHA1_80), "SRTP_AES128_CM_HMAC_SHA1_80");
    CHECK_EQ_STR(camrtc_srtp_profile_name((camrtc_srtp_profile)5), "unknown");
}

int main(void)
{
    if (camrtc_srtp_library_init() != CAMRTC_OK || camrtc_srtp_library_init() != CAMRTC_OK) {
        fprintf(stderr, "srtp library init failed\n");
        return 1;
    }
    return RUN_TESTS(rfc3711_b2_keystream_reference, rfc3711_b3_keys_drive_libsrtp,
                     mbedtls_crypto_in_libsrtp_matches_stock_libsrtp,
                     round_trip_with_dtls_keys_both_directions, tampered_packets_are_rejected,
                     replays_are_rejected_and_nack_resend_accepted, rtcp_round_trip_tamper_replay,
                     gcm_round_trip_when_libsrtp_has_it, malformed_and_misuse);
}
