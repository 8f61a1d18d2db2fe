/* Cost of receiving one ICE connectivity check: parse + MESSAGE-INTEGRITY (HMAC-SHA1,
 * short-term key) + FINGERPRINT of a typical Binding request (USERNAME, PRIORITY,
 * ICE-CONTROLLING, USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT), beside the raw cost of
 * mbedtls HMAC-SHA1 over the same bytes in the same run. No sockets.
 *
 *   bench_stun [--iters N] [--rounds R]
 *
 * The two loops alternate for R rounds of N operations; the best round of each counts.
 * "raw" is mbedtls_md_hmac_starts/update/finish on a context set up once (no allocation
 * per operation); "raw_oneshot" is mbedtls_md_hmac, which sets a context up each call.
 * Prints one JSON object per line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/md.h>

#include "camrtc/error.h"
#include "camrtc/stun.h"

static const char PWD[] = "VOkJxbRl1RmTxUk/WvJxBt"; /* 22 characters, like an ICE pwd */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int build_request(uint8_t *buf, size_t cap)
{
    static const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, cap, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), txid);
    camrtc_stun_add_string(&b, CAMRTC_STUN_A_USERNAME, "Xy7Q:aB3d");
    camrtc_stun_add_u32(&b, CAMRTC_STUN_A_PRIORITY, 1853824767u);
    camrtc_stun_add_u64(&b, CAMRTC_STUN_A_ICE_CONTROLLING, 0x0123456789abcdefull);
    camrtc_stun_add(&b, CAMRTC_STUN_A_USE_CANDIDATE, NULL, 0);
    camrtc_stun_add_integrity(&b, (const uint8_t *)PWD, strlen(PWD));
    camrtc_stun_add_fingerprint(&b);
    return camrtc_stun_build_finish(&b);
}

/* One round of parse + verify; returns the seconds taken, or -1 on a failed check. */
static double round_parse_verify(const uint8_t *msg, size_t len, long iters)
{
    double t0 = now_s();
    for (long i = 0; i < iters; i++) {
        camrtc_stun_msg m;
        if (camrtc_stun_parse(&m, msg, len) != CAMRTC_OK ||
            camrtc_stun_check_integrity(&m, (const uint8_t *)PWD, strlen(PWD)) != CAMRTC_OK ||
            camrtc_stun_check_fingerprint(&m) != CAMRTC_OK)
            return -1;
    }
    return now_s() - t0;
}

static double round_raw(mbedtls_md_context_t *ctx, const uint8_t *msg, size_t covered, long iters)
{
    uint8_t mac[20];
    volatile uint8_t sink = 0; /* keeps the MACs observable so no loop is optimised away */
    double t0 = now_s();
    for (long i = 0; i < iters; i++) {
        if (mbedtls_md_hmac_starts(ctx, (const uint8_t *)PWD, strlen(PWD)) != 0 ||
            mbedtls_md_hmac_update(ctx, msg, covered) != 0 || mbedtls_md_hmac_finish(ctx, mac) != 0)
            return -1;
        sink ^= mac[0];
    }
    (void)sink;
    return now_s() - t0;
}

static double round_raw_oneshot(const uint8_t *msg, size_t covered, long iters)
{
    const mbedtls_md_info_t *sha1 = mbedtls_md_info_from_type(MBEDTLS_MD_SHA1);
    uint8_t mac[20];
    volatile uint8_t sink = 0; /* keeps the MACs observable so no loop is optimised away */
    double t0 = now_s();
    for (long i = 0; i < iters; i++) {
        if (mbedtls_md_hmac(sha1, (const uint8_t *)PWD, strlen(PWD), msg, covered, mac) != 0)
            return -1;
        sink ^= mac[0];
    }
    (void)sink;
    return now_s() - t0;
}

static double best(double cur, double t)
{
    return cur < 0 || t < cur ? t : cur;
}

int main(int argc, char **argv)
{
    long iters = 200000, rounds = 5;
    static const struct option opts[] = {{"iters", required_argument, 0, 'n'}, {"rounds", required_argument, 0, 'r'}, {0}};
    int o;
    while ((o = getopt_long(argc, argv, "n:r:", opts, NULL)) != -1) {
        if (o == 'n')
            iters = atol(optarg);
        else if (o == 'r')
            rounds = atol(optarg);
        else
            return 2;
    }
    if (iters <= 0 || rounds <= 0)
        return 2;

    uint8_t msg[256];
    int len = build_request(msg, sizeof msg);
    camrtc_stun_msg m;
    if (len < 0 || camrtc_stun_parse(&m, msg, (size_t)len) != CAMRTC_OK || m.integrity < 0) {
        fprintf(stderr, "cannot build the request\n");
        return 1;
    }
    /* The bytes MESSAGE-INTEGRITY covers: everything before its attribute header. */
    size_t covered = (size_t)m.attrs[m.integrity].off - 4;

    mbedtls_md_context_t ctx;
    mbedtls_md_init(&ctx);
    if (mbedtls_md_setup(&ctx, mbedtls_md_info_from_type(MBEDTLS_MD_SHA1), 1) != 0)
        return 1;
    double t_ours = -1, t_raw = -1, t_oneshot = -1;
    for (long r = 0; r < rounds; r++) {
        double a = round_parse_verify(msg, (size_t)len, iters);
        double b = round_raw(&ctx, msg, covered, iters);
        double c = round_raw_oneshot(msg, covered, iters);
        if (a < 0 || b < 0 || c < 0) {
            fprintf(stderr, "a check failed\n");
            return 1;
        }
        t_ours = best(t_ours, a);
        t_raw = best(t_raw, b);
        t_oneshot = best(t_oneshot, c);
    }
    mbedtls_md_free(&ctx);

    double ops = (double)iters / t_ours, raw = (double)iters / t_raw, oneshot = (double)iters / t_oneshot;
    printf("{\"bench\":\"stun_parse_verify\",\"message_bytes\":%d,\"hmac_bytes\":%zu,\"iters\":%ld,\"rounds\":%ld,"
           "\"ops_per_s\":%.0f,\"raw_hmac_ops_per_s\":%.0f,\"raw_hmac_oneshot_ops_per_s\":%.0f,\"ratio\":%.3f}\n",
           len, covered, iters, rounds, ops, raw, oneshot, ops / raw);
    return 0;
}
