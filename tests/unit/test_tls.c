/* The TLS engine: client and server sessions wired back to back in memory. */
#include "check.h"

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/rand.h"
#include "camrtc/tls.h"

static const char *data_path(const char *name)
{
    static char path[4][512];
    static int next;
    const char *dir = getenv("CAMRTC_TEST_DATA");
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/tls/%s", dir ? dir : "tests/unit/data", name);
    return p;
}

typedef struct pair {
    camrtc_rng rng;
    camrtc_tls_config *scfg, *ccfg;
    camrtc_tls *s, *c;
    int src, crc;
} pair;

/* Move everything one side has queued to the other. Returns bytes moved. */
static size_t shuttle(camrtc_tls *from, camrtc_tls *to)
{
    camrtc_buf b = {0};
    int n = camrtc_tls_drain(from, &b);
    if (n > 0 && camrtc_tls_feed(to, camrtc_buf_data(&b), b.len) < 0)
        n = -1;
    camrtc_buf_free(&b);
    return n > 0 ? (size_t)n : 0;
}

/* Run both handshakes until no bytes move any more (bounded). */
static void pump_handshake(pair *p)
{
    p->crc = p->src = CAMRTC_EAGAIN;
    for (int i = 0; i < 50; i++) {
        if (p->crc == CAMRTC_EAGAIN)
            p->crc = camrtc_tls_handshake(p->c);
        size_t moved = shuttle(p->c, p->s);
        if (p->src == CAMRTC_EAGAIN)
            p->src = camrtc_tls_handshake(p->s);
        moved += shuttle(p->s, p->c);
        if (moved == 0)
            break;
    }
}

/* Build a pair: server with cert/key, client trusting ca (NULL = verify off). */
static int pair_open(pair *p, const char *cert, const char *key, const char *ca, const char *name)
{
    memset(p, 0, sizeof *p);
    char err[200] = "";
    if (camrtc_rng_init_seed(&p->rng, 42) != 0)
        return -1;
    p->scfg = camrtc_tls_config_new_server(data_path(cert), data_path(key), &p->rng, err, sizeof err);
    if (!p->scfg) {
        fprintf(stderr, "server config: %s\n", err);
        return -1;
    }
    p->ccfg = camrtc_tls_config_new_client(ca ? data_path(ca) : NULL, ca != NULL, &p->rng, err, sizeof err);
    if (!p->ccfg) {
        fprintf(stderr, "client config: %s\n", err);
        return -1;
    }
    p->s = camrtc_tls_new(p->scfg, NULL);
    p->c = camrtc_tls_new(p->ccfg, name);
    if (!p->s || !p->c)
        return -1;
    pump_handshake(p);
    return 0;
}

static void pair_close(pair *p)
{
    camrtc_tls_free(p->c);
    camrtc_tls_free(p->s);
    camrtc_tls_config_free(p->ccfg);
    camrtc_tls_config_free(p->scfg);
    camrtc_rng_free(&p->rng);
}

/* Read all plaintext available on t into out (bounded by cap). */
static int read_all(camrtc_tls *t, uint8_t *out, size_t cap, size_t *got)
{
    *got = 0;
    for (int i = 0; i < 10000; i++) {
        if (*got == cap)
            return CAMRTC_OK;
        int n = camrtc_tls_read(t, out + *got, cap - *got);
        if (n < 0)
            return n;
        *got += (size_t)n;
    }
    return CAMRTC_EINTERNAL;
}

/* Failed CHECKs below may leak the pair; that only adds noise to a failure. */
TEST(handshake_and_data_both_ways)
{
    pair p;
    CHECK_EQ_INT(pair_open(&p, "server.pem", "server.key", "ca.pem", "localhost"), 0);
    CHECK_EQ_STR(camrtc_tls_error_string(p.c), "");
    CHECK_EQ_STR(camrtc_tls_error_string(p.s), "");
    CHECK_EQ_INT(p.crc, CAMRTC_OK);
    CHECK_EQ_INT(p.src, CAMRTC_OK);
    CHECK_EQ_INT(camrtc_tls_handshake(p.c), CAMRTC_OK);

    /* 100 KB each way: several 16 KiB records per write. */
    enum { N = 100000 };
    uint8_t *tx = malloc(N), *rx = malloc(N + 16);
    for (size_t i = 0; i < N; i++)
        tx[i] = (uint8_t)(i * 7 + 3);
    int rc_cw = camrtc_tls_write(p.c, tx, N);
    size_t moved = shuttle(p.c, p.s);
    size_t got_s = 0;
    int rc_sr = read_all(p.s, rx, N + 16, &got_s);
    int same_s = got_s == N && memcmp(rx, tx, N) == 0;
    int rc_sw = camrtc_tls_write(p.s, tx + 1, N - 1);
    shuttle(p.s, p.c);
    size_t got_c = 0;
    int rc_cr = read_all(p.c, rx, N + 16, &got_c);
    int same_c = got_c == N - 1 && memcmp(rx, tx + 1, N - 1) == 0;
    free(tx);
    free(rx);
    pair_close(&p);
    CHECK_EQ_INT(rc_cw, CAMRTC_OK);
    CHECK(moved > N); /* ciphertext carries record overhead */
    CHECK_EQ_INT(rc_sr, CAMRTC_EAGAIN);
    CHECK(same_s);
    CHECK_EQ_INT(rc_sw, CAMRTC_OK);
    CHECK_EQ_INT(rc_cr, CAMRTC_EAGAIN);
    CHECK(same_c);
}

TEST(byte_at_a_time_delivery)
{
    /* Every handshake message and record split into 1-byte feeds. */
    pair p;
    memset(&p, 0, sizeof p);
    char err[200];
    CHECK_EQ_INT(camrtc_rng_init_seed(&p.rng, 7), 0);
    p.scfg = camrtc_tls_config_new_server(data_path("server.pem"), data_path("server.key"), &p.rng, err, sizeof err);
    p.ccfg = camrtc_tls_config_new_client(data_path("ca.pem"), true, &p.rng, err, sizeof err);
    p.s = camrtc_tls_new(p.scfg, NULL);
    p.c = camrtc_tls_new(p.ccfg, "localhost");
    int crc = CAMRTC_EAGAIN, src = CAMRTC_EAGAIN;
    for (int round = 0; round < 20 && (crc == CAMRTC_EAGAIN || src == CAMRTC_EAGAIN); round++) {
        camrtc_tls *from[2] = {p.c, p.s}, *to[2] = {p.s, p.c};
        int *rc[2] = {&src, &crc};
        crc = camrtc_tls_handshake(p.c);
        for (int d = 0; d < 2; d++) {
            camrtc_buf b = {0};
            camrtc_tls_drain(from[d], &b);
            for (size_t i = 0; i < b.len; i++) {
                camrtc_tls_feed(to[d], camrtc_buf_data(&b) + i, 1);
                *rc[d] = camrtc_tls_handshake(to[d]);
            }
            camrtc_buf_free(&b);
        }
    }
    int w = camrtc_tls_write(p.c, "ping", 4);
    camrtc_buf b = {0};
    camrtc_tls_drain(p.c, &b);
    uint8_t out[8];
    int last = 0;
    for (size_t i = 0; i < b.len; i++) {
        camrtc_tls_feed(p.s, camrtc_buf_data(&b) + i, 1);
        last = camrtc_tls_read(p.s, out, sizeof out);
        if (i + 1 < b.len && last != CAMRTC_EAGAIN)
            break;
    }
    camrtc_buf_free(&b);
    pair_close(&p);
    CHECK_EQ_INT(crc, CAMRTC_OK);
    CHECK_EQ_INT(src, CAMRTC_OK);
    CHECK_EQ_INT(w, CAMRTC_OK);
    CHECK_EQ_INT(last, 4);
    CHECK_EQ_MEM(out, "ping", 4);
}

TEST(close_notify)
{
    pair p;
    CHECK_EQ_INT(pair_open(&p, "server.pem", "server.key", "ca.pem", "localhost"), 0);
    int hs = p.crc == 0 && p.src == 0;
    int w = camrtc_tls_write(p.c, "last words", 10);
    int cl = camrtc_tls_close(p.c);
    int cl2 = camrtc_tls_close(p.c);
    int w_after = camrtc_tls_write(p.c, "x", 1);
    shuttle(p.c, p.s);
    uint8_t out[32];
    int r1 = camrtc_tls_read(p.s, out, sizeof out);
    int r2 = camrtc_tls_read(p.s, out + 10, sizeof out - 10);
    int r3 = camrtc_tls_read(p.s, out + 10, sizeof out - 10);
    pair_close(&p);
    CHECK(hs);
    CHECK_EQ_INT(w, CAMRTC_OK);
    CHECK_EQ_INT(cl, CAMRTC_OK);
    CHECK_EQ_INT(cl2, CAMRTC_OK);
    CHECK_EQ_INT(w_after, CAMRTC_ESTATE);
    CHECK_EQ_INT(r1, 10);
    CHECK_EQ_MEM(out, "last words", 10);
    CHECK_EQ_INT(r2, CAMRTC_ECLOSED);
    CHECK_EQ_INT(r3, CAMRTC_ECLOSED);
}

static void expect_cert_failure(const char *cert, const char *key, const char *ca, const char *name,
                                const char *reason, int *crc, int *src, char *why, size_t whysz)
{
    pair p;
    *crc = *src = 1;
    if (pair_open(&p, cert, key, ca, name) == 0) {
        *crc = p.crc;
        *src = p.src;
        snprintf(why, whysz, "%s", camrtc_tls_error_string(p.c));
        /* A dead session stays dead. */
        if (camrtc_tls_handshake(p.c) != p.crc || camrtc_tls_write(p.c, "x", 1) != p.crc)
            *crc = 2;
    }
    pair_close(&p);
    (void)reason;
}

TEST(name_mismatch_is_ecert)
{
    int crc, src;
    char why[200];
    expect_cert_failure("server.pem", "server.key", "ca.pem", "example.com", "name mismatch", &crc, &src, why,
                        sizeof why);
    CHECK_EQ_INT(crc, CAMRTC_ECERT);
    CHECK_EQ_STR(why, "certificate verification failed: name mismatch");
    CHECK_EQ_INT(src, CAMRTC_ETLS); /* the client's alert ends the server side too */
}

TEST(untrusted_ca_is_ecert)
{
    int crc, src;
    char why[200];
    expect_cert_failure("wrong.pem", "wrong.key", "ca.pem", "wrong.invalid", "not trusted", &crc, &src, why,
                        sizeof why);
    CHECK_EQ_INT(crc, CAMRTC_ECERT);
    CHECK_EQ_STR(why, "certificate verification failed: not trusted");
}

TEST(self_signed_leaf_trusted_explicitly)
{
    pair p;
    int ok = pair_open(&p, "wrong.pem", "wrong.key", "wrong.pem", "wrong.invalid");
    int crc = p.crc, src = p.src;
    pair_close(&p);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(crc, CAMRTC_OK);
    CHECK_EQ_INT(src, CAMRTC_OK);
}

TEST(ip_san_accepted_and_checked)
{
    static const struct { const char *name; int want; } cases[] = {
        {"127.0.0.1", CAMRTC_OK},
        {"::1", CAMRTC_OK},
        {"localhost", CAMRTC_OK},
        {"LocalHost", CAMRTC_OK},
        {"127.0.0.2", CAMRTC_ECERT},
        {"::2", CAMRTC_ECERT},
        {"10.0.0.1", CAMRTC_ECERT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pair p;
        int ok = pair_open(&p, "server.pem", "server.key", "ca.pem", cases[i].name);
        int crc = p.crc;
        char why[200];
        snprintf(why, sizeof why, "%s", p.c ? camrtc_tls_error_string(p.c) : "?");
        pair_close(&p);
        if (crc != cases[i].want)
            fprintf(stderr, "case %s: %s\n", cases[i].name, why);
        CHECK_EQ_INT(ok, 0);
        CHECK_EQ_INT(crc, cases[i].want);
        if (cases[i].want == CAMRTC_ECERT)
            CHECK_EQ_STR(why, "certificate verification failed: name mismatch");
    }
}

TEST(ip_literal_not_matched_by_dns_san)
{
    /* wrong.pem has only DNS:wrong.invalid; an address never matches a name. */
    pair p;
    int ok = pair_open(&p, "wrong.pem", "wrong.key", "wrong.pem", "127.0.0.1");
    int crc = p.crc;
    pair_close(&p);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(crc, CAMRTC_ECERT);
}

TEST(verify_off_accepts_anything)
{
    pair p;
    int ok = pair_open(&p, "wrong.pem", "wrong.key", NULL, "whatever.example");
    int crc = p.crc, src = p.src;
    pair_close(&p);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(crc, CAMRTC_OK);
    CHECK_EQ_INT(src, CAMRTC_OK);
}

TEST(garbage_ciphertext_is_etls)
{
    static const uint8_t junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    camrtc_rng rng;
    char err[200];
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 1), 0);
    camrtc_tls_config *scfg = camrtc_tls_config_new_server(data_path("server.pem"), data_path("server.key"), &rng,
                                                           err, sizeof err);
    camrtc_tls *s = scfg ? camrtc_tls_new(scfg, NULL) : NULL;
    int fed = s ? camrtc_tls_feed(s, junk, sizeof junk - 1) : -100;
    int hs = s ? camrtc_tls_handshake(s) : -100;
    char why[200];
    snprintf(why, sizeof why, "%s", s ? camrtc_tls_error_string(s) : "");
    int again = s ? camrtc_tls_feed(s, junk, 4) : -100;
    camrtc_tls_free(s);
    camrtc_tls_config_free(scfg);
    camrtc_rng_free(&rng);
    CHECK_EQ_INT(fed, CAMRTC_OK);
    CHECK_EQ_INT(hs, CAMRTC_ETLS);
    CHECK(strncmp(why, "TLS handshake failed: ", 22) == 0);
    CHECK_EQ_INT(again, CAMRTC_ETLS);
}

TEST(garbage_record_after_handshake_is_etls)
{
    pair p;
    CHECK_EQ_INT(pair_open(&p, "server.pem", "server.key", "ca.pem", "localhost"), 0);
    int hs = p.crc == 0 && p.src == 0;
    /* A well-framed application-data record whose contents fail authentication. */
    uint8_t rec[5 + 40] = {23, 3, 3, 0, 40};
    for (size_t i = 5; i < sizeof rec; i++)
        rec[i] = (uint8_t)i;
    camrtc_tls_feed(p.s, rec, sizeof rec);
    uint8_t out[64];
    int r = camrtc_tls_read(p.s, out, sizeof out);
    int r2 = camrtc_tls_read(p.s, out, sizeof out);
    size_t alert = camrtc_tls_pending(p.s);
    /* A record claiming to be far larger than TLS allows. */
    uint8_t big[5] = {23, 3, 3, 0xff, 0xff};
    camrtc_tls_feed(p.c, big, sizeof big);
    int r3 = camrtc_tls_read(p.c, out, sizeof out);
    pair_close(&p);
    CHECK(hs);
    CHECK_EQ_INT(r, CAMRTC_ETLS);
    CHECK_EQ_INT(r2, CAMRTC_ETLS);
    CHECK(alert > 0); /* bad_record_mac alert for the peer */
    CHECK_EQ_INT(r3, CAMRTC_ETLS);
}

TEST(feed_is_bounded)
{
    camrtc_rng rng;
    char err[200];
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 3), 0);
    camrtc_tls_config *scfg = camrtc_tls_config_new_server(data_path("server.pem"), data_path("server.key"), &rng,
                                                           err, sizeof err);
    camrtc_tls *s = scfg ? camrtc_tls_new(scfg, NULL) : NULL;
    static uint8_t chunk[64 * 1024];
    int rc = 0, i;
    for (i = 0; s && i < 100 && rc == 0; i++)
        rc = camrtc_tls_feed(s, chunk, sizeof chunk);
    camrtc_tls_free(s);
    camrtc_tls_config_free(scfg);
    camrtc_rng_free(&rng);
    CHECK_EQ_INT(rc, CAMRTC_ETOOBIG);
    CHECK_EQ_INT(i, CAMRTC_TLS_MAX_FEED / sizeof chunk + 1);
}

TEST(config_errors_have_reasons)
{
    camrtc_rng rng;
    char err[200] = "";
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 5), 0);
    camrtc_tls_config *a = camrtc_tls_config_new_server(data_path("missing.pem"), data_path("server.key"), &rng,
                                                        err, sizeof err);
    int has_a = strstr(err, "cannot load certificate") != NULL && strstr(err, "missing.pem") != NULL;
    err[0] = '\0';
    camrtc_tls_config *b = camrtc_tls_config_new_server(data_path("server.pem"), data_path("wrong.key"), &rng,
                                                        err, sizeof err);
    int has_b = strstr(err, "key does not match certificate") != NULL;
    err[0] = '\0';
    camrtc_tls_config *c = camrtc_tls_config_new_client(data_path("nope.pem"), true, &rng, err, sizeof err);
    int has_c = strstr(err, "cannot load CA file") != NULL;
    camrtc_tls_config *d = camrtc_tls_config_new_client(data_path("ca.pem"), true, &rng, err, sizeof err);
    camrtc_tls *no_name = d ? camrtc_tls_new(d, NULL) : (camrtc_tls *)1;
    camrtc_tls_config_free(d);
    camrtc_rng_free(&rng);
    CHECK(a == NULL && has_a);
    CHECK(b == NULL && has_b);
    CHECK(c == NULL && has_c);
    CHECK(d != NULL);
    CHECK(no_name == NULL);
}

TEST(system_bundle_loads)
{
    camrtc_rng rng;
    char err[200] = "";
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 6), 0);
    FILE *f = fopen(CAMRTC_TLS_SYSTEM_CA_FILE, "r");
    if (!f) {
        camrtc_rng_free(&rng);
        printf("skip: no %s\n", CAMRTC_TLS_SYSTEM_CA_FILE);
        return;
    }
    fclose(f);
    camrtc_tls_config *cfg = camrtc_tls_config_new_client(NULL, true, &rng, err, sizeof err);
    camrtc_tls *t = cfg ? camrtc_tls_new(cfg, "kinesisvideo.us-west-2.amazonaws.com") : NULL;
    int hs = t ? camrtc_tls_handshake(t) : -100;
    size_t hello = t ? camrtc_tls_pending(t) : 0;
    camrtc_tls_free(t);
    camrtc_tls_config_free(cfg);
    camrtc_rng_free(&rng);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(hs, CAMRTC_EAGAIN);
    CHECK(hello > 0); /* the ClientHello */
}

/* A server requiring certificates from ca.pem; the client presents ccert/ckey
 * (NULL = none). The handshake results land in p->crc / p->src. */
static int mtls_open(pair *p, const char *ccert, const char *ckey)
{
    memset(p, 0, sizeof *p);
    char err[200] = "";
    if (camrtc_rng_init_seed(&p->rng, 11) != 0)
        return -1;
    p->scfg = camrtc_tls_config_new_server(data_path("server.pem"), data_path("server.key"), &p->rng, err, sizeof err);
    if (!p->scfg || camrtc_tls_config_require_client_cert(p->scfg, data_path("ca.pem"), err, sizeof err) != 0) {
        fprintf(stderr, "server config: %s\n", err);
        return -1;
    }
    if (ccert)
        p->ccfg = camrtc_tls_config_new_client_cert(data_path("ca.pem"), data_path(ccert), data_path(ckey), &p->rng,
                                                    err, sizeof err);
    else
        p->ccfg = camrtc_tls_config_new_client(data_path("ca.pem"), true, &p->rng, err, sizeof err);
    if (!p->ccfg) {
        fprintf(stderr, "client config: %s\n", err);
        return -1;
    }
    p->s = camrtc_tls_new(p->scfg, NULL);
    p->c = camrtc_tls_new(p->ccfg, "localhost");
    if (!p->s || !p->c)
        return -1;
    pump_handshake(p);
    return 0;
}

TEST(mutual_tls_with_trusted_client_cert)
{
    pair p;
    int ok = mtls_open(&p, "client.pem", "client.key");
    int crc = p.crc, src = p.src;
    int w = ok == 0 ? camrtc_tls_write(p.c, "thing", 5) : -100;
    if (ok == 0)
        shuttle(p.c, p.s);
    uint8_t out[8];
    int r = ok == 0 ? camrtc_tls_read(p.s, out, sizeof out) : -100;
    pair_close(&p);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(crc, CAMRTC_OK);
    CHECK_EQ_INT(src, CAMRTC_OK);
    CHECK_EQ_INT(w, CAMRTC_OK);
    CHECK_EQ_INT(r, 5);
    CHECK_EQ_MEM(out, "thing", 5);
}

TEST(mutual_tls_refuses_client_without_cert)
{
    pair p;
    int ok = mtls_open(&p, NULL, NULL);
    int crc = p.crc, src = p.src;
    char why[200];
    snprintf(why, sizeof why, "%s", p.s ? camrtc_tls_error_string(p.s) : "");
    pair_close(&p);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(src, CAMRTC_ETLS);
    CHECK(strncmp(why, "TLS handshake failed: ", 22) == 0);
    /* mbedtls sends no alert here: the client waits for a Finished that never comes. */
    CHECK(crc != CAMRTC_OK);
}

TEST(mutual_tls_refuses_untrusted_client_cert)
{
    pair p;
    int ok = mtls_open(&p, "wrong.pem", "wrong.key");
    int crc = p.crc, src = p.src;
    char why[200];
    snprintf(why, sizeof why, "%s", p.s ? camrtc_tls_error_string(p.s) : "");
    pair_close(&p);
    CHECK_EQ_INT(ok, 0);
    CHECK_EQ_INT(src, CAMRTC_ECERT);
    CHECK(strstr(why, "not trusted") != NULL);
    CHECK_EQ_INT(crc, CAMRTC_ETLS);
}

TEST(mutual_tls_config_errors)
{
    camrtc_rng rng;
    char err[200] = "";
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 12), 0);
    camrtc_tls_config *cli = camrtc_tls_config_new_client(data_path("ca.pem"), true, &rng, err, sizeof err);
    int on_client = camrtc_tls_config_require_client_cert(cli, data_path("ca.pem"), err, sizeof err);
    camrtc_tls_config *srv = camrtc_tls_config_new_server(data_path("server.pem"), data_path("server.key"), &rng,
                                                          err, sizeof err);
    int missing = camrtc_tls_config_require_client_cert(srv, data_path("nope.pem"), err, sizeof err);
    int has_missing = strstr(err, "cannot load CA file") != NULL;
    int not_pem = camrtc_tls_config_require_client_cert(srv, data_path("gen.sh"), err, sizeof err);
    int first = camrtc_tls_config_require_client_cert(srv, data_path("ca.pem"), err, sizeof err);
    int twice = camrtc_tls_config_require_client_cert(srv, data_path("ca.pem"), err, sizeof err);
    err[0] = '\0';
    camrtc_tls_config *mismatch = camrtc_tls_config_new_client_cert(data_path("ca.pem"), data_path("client.pem"),
                                                                    data_path("server.key"), &rng, err, sizeof err);
    int has_mismatch = strstr(err, "key does not match certificate") != NULL;
    err[0] = '\0';
    camrtc_tls_config *nokey = camrtc_tls_config_new_client_cert(data_path("ca.pem"), data_path("client.pem"),
                                                                 data_path("absent.key"), &rng, err, sizeof err);
    int has_nokey = strstr(err, "cannot load key") != NULL;
    camrtc_tls_config *noargs = camrtc_tls_config_new_client_cert(NULL, NULL, NULL, &rng, err, sizeof err);
    camrtc_tls_config_free(cli);
    camrtc_tls_config_free(srv);
    camrtc_rng_free(&rng);
    CHECK_EQ_INT(on_client, CAMRTC_EINVAL);
    CHECK_EQ_INT(missing, CAMRTC_EIO);
    CHECK(has_missing);
    CHECK_EQ_INT(not_pem, CAMRTC_ECERT);
    CHECK_EQ_INT(first, CAMRTC_OK);
    CHECK_EQ_INT(twice, CAMRTC_ESTATE);
    CHECK(mismatch == NULL && has_mismatch);
    CHECK(nokey == NULL && has_nokey);
    CHECK(noargs == NULL);
}

int main(void)
{
    return RUN_TESTS(handshake_and_data_both_ways, byte_at_a_time_delivery, close_notify, name_mismatch_is_ecert,
                     untrusted_ca_is_ecert, self_signed_leaf_trusted_explicitly, ip_san_accepted_and_checked,
                     ip_literal_not_matched_by_dns_san, verify_off_accepts_anything, garbage_ciphertext_is_etls,
                     garbage_record_after_handshake_is_etls, feed_is_bounded, config_errors_have_reasons,
                     system_bundle_loads, mutual_tls_with_trusted_client_cert, mutual_tls_refuses_client_without_cert,
                     mutual_tls_refuses_untrusted_client_cert, mutual_tls_config_errors);
}
