/* DTLS-SRTP endpoints: two of them in memory on a virtual clock, the datagrams of
 * each flight handed across by a tiny "wire" that can lose whole flights.
 * Checks the handshake both ways round, identical keying material, fingerprint
 * pinning, retransmission by timeout, close_notify, garbage input, app data,
 * and the mbedtls GCM limitation. Prints virtual time, flights and CPU time.
 *
 * With CAMRTC_DTLS_CORPUS_OUT=dir set, the first run also writes fuzz seeds
 * (a real ClientHello and a client's second flight) for tests/fuzz/fuzz_dtls.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <unistd.h>

#include "camrtc/cert.h"
#include "camrtc/dtls.h"
#include "camrtc/error.h"
#include "camrtc/srtp.h"
#include "check.h"

#define QMAX 32
#define DGMAX 1500
#define LOGMAX 8

typedef struct pkt {
    uint8_t b[DGMAX];
    size_t len;
} pkt;

typedef struct peer {
    camrtc_dtls *d;
    pkt out[QMAX];
    size_t n_out;
    unsigned overflow;
    unsigned drop_flights;   /* bit k: lose this peer's k-th flight */
    int flights;             /* flights handed to the wire (lost ones included) */
    int n_connected, n_closed, n_failed, n_data;
    int error;
    bool have_keys;
    camrtc_srtp_keying keys;
    uint8_t data[256];
    size_t data_len;
    pkt log[LOGMAX];         /* first datagrams sent, for the fuzz corpus */
    size_t n_log;
} peer;

typedef struct pair {
    peer a, b;               /* a is the DTLS client unless swapped */
    camrtc_time_us now;
    camrtc_rng rng;
} pair;

/* Two certificates shared by every test (key generation is the slow part). */
typedef struct certs {
    bool ready;
    camrtc_cert c[3];
    char fp[3][8 + CAMRTC_CERT_FINGERPRINT_SIZE];
} certs;
static certs g_certs;

static bool certs_init(void)
{
    if (g_certs.ready)
        return true;
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 4242) < 0)
        return false;
    for (int i = 0; i < 3; i++) {
        char hex[CAMRTC_CERT_FINGERPRINT_SIZE];
        if (camrtc_cert_self_signed("camrtc", 30, &rng, &g_certs.c[i]) < 0 ||
            camrtc_cert_fingerprint_sha256(g_certs.c[i].cert_der, g_certs.c[i].cert_len, hex, sizeof hex) < 0)
            return false;
        snprintf(g_certs.fp[i], sizeof g_certs.fp[i], "sha-256 %s", hex);
    }
    camrtc_rng_free(&rng);
    g_certs.ready = true;
    return true;
}

static void on_send(void *u, const uint8_t *p, size_t n)
{
    peer *pe = u;
    if (pe->n_log < LOGMAX && n <= DGMAX) {
        memcpy(pe->log[pe->n_log].b, p, n);
        pe->log[pe->n_log++].len = n;
    }
    if (pe->n_out == QMAX || n > DGMAX) {
        pe->overflow++;
        return;
    }
    memcpy(pe->out[pe->n_out].b, p, n);
    pe->out[pe->n_out++].len = n;
}

static void on_event(void *u, const camrtc_dtls_event *ev)
{
    peer *pe = u;
    switch (ev->type) {
    case CAMRTC_DTLS_EV_CONNECTED:
        pe->n_connected++;
        if (ev->keys) {
            pe->keys = *ev->keys;
            pe->have_keys = true;
        }
        break;
    case CAMRTC_DTLS_EV_DATA:
        pe->n_data++;
        pe->data_len = ev->len < sizeof pe->data ? ev->len : sizeof pe->data;
        memcpy(pe->data, ev->data, pe->data_len);
        break;
    case CAMRTC_DTLS_EV_CLOSED:
        pe->n_closed++;
        break;
    case CAMRTC_DTLS_EV_FAILED:
        pe->n_failed++;
        pe->error = ev->error;
        break;
    }
}

/* a_fp/b_fp: index of the certificate each side expects from the other. */
static int pair_init_ex(pair *p, int a_cert, int a_expects, int b_cert, int b_expects, const camrtc_srtp_profile *prof,
                        size_t n_prof)
{
    memset(p, 0, sizeof *p);
    if (!certs_init() || camrtc_rng_init_seed(&p->rng, 7) < 0)
        return CAMRTC_EINTERNAL;
    camrtc_dtls_callbacks ca = {on_send, on_event, &p->a}, cb = {on_send, on_event, &p->b};
    camrtc_dtls_config c = {.role = CAMRTC_DTLS_CLIENT, .cert = &g_certs.c[a_cert],
                            .remote_fingerprint = g_certs.fp[a_expects], .profiles = prof, .n_profiles = n_prof,
                            .rng = &p->rng};
    int rc = camrtc_dtls_new(&p->a.d, &c, &ca);
    if (rc < 0)
        return rc;
    c.role = CAMRTC_DTLS_SERVER;
    c.cert = &g_certs.c[b_cert];
    c.remote_fingerprint = g_certs.fp[b_expects];
    return camrtc_dtls_new(&p->b.d, &c, &cb);
}

static int pair_init(pair *p)
{
    return pair_init_ex(p, 0, 1, 1, 0, NULL, 0);
}

static void pair_free(pair *p)
{
    camrtc_dtls_free(p->a.d);
    camrtc_dtls_free(p->b.d);
    camrtc_rng_free(&p->rng);
}

/* Hand one peer's queued flight to the other (or lose it). */
static void deliver(pair *p, peer *from, peer *to)
{
    static pkt batch[QMAX];
    size_t n = from->n_out;
    memcpy(batch, from->out, n * sizeof batch[0]);
    from->n_out = 0;
    int f = from->flights++;
    if (f < 32 && (from->drop_flights >> f) & 1)
        return;
    for (size_t i = 0; i < n; i++)
        camrtc_dtls_handle_input(to->d, p->now, batch[i].b, batch[i].len);
}

static camrtc_time_us min_t(camrtc_time_us x, camrtc_time_us y)
{
    return x < y ? x : y;
}

/* Exchange flights, advancing the virtual clock to the next timer when the wire
 * is idle, until nothing is queued and no timer runs. Returns the rounds used
 * or -1 when max_rounds did not suffice. */
static int run(pair *p, int max_rounds)
{
    for (int i = 0; i < max_rounds; i++) {
        if (p->a.n_out || p->b.n_out) {
            if (p->a.n_out)
                deliver(p, &p->a, &p->b);
            if (p->b.n_out)
                deliver(p, &p->b, &p->a);
            continue;
        }
        camrtc_time_us t = min_t(camrtc_dtls_next_timeout(p->a.d), camrtc_dtls_next_timeout(p->b.d));
        if (t == CAMRTC_TIME_NEVER)
            return i;
        if (t > p->now)
            p->now = t;
        camrtc_dtls_handle_timeout(p->a.d, p->now);
        camrtc_dtls_handle_timeout(p->b.d, p->now);
    }
    return -1;
}

static void write_file(const char *dir, const char *name, const uint8_t *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fwrite(data, 1, len, f);
    fclose(f);
}

/* Fuzz seed format (see fuzz_dtls.c): mode byte, then [u16 length][datagram]... */
static void record_corpus(const pair *p)
{
    const char *dir = getenv("CAMRTC_DTLS_CORPUS_OUT");
    if (!dir)
        return;
    static uint8_t buf[LOGMAX * (DGMAX + 2) + 1];
    /* 1: the ClientHello alone (mode 0: fed to a fresh server). */
    size_t k = 0;
    buf[k++] = 0;
    buf[k++] = (uint8_t)(p->a.log[0].len >> 8);
    buf[k++] = (uint8_t)p->a.log[0].len;
    memcpy(buf + k, p->a.log[0].b, p->a.log[0].len);
    k += p->a.log[0].len;
    write_file(dir, "clienthello", buf, k);
    /* 2: the client's second flight after a generated ClientHello (mode 1). */
    k = 0;
    buf[k++] = 1;
    for (size_t i = 1; i < p->a.n_log; i++) {
        buf[k++] = (uint8_t)(p->a.log[i].len >> 8);
        buf[k++] = (uint8_t)p->a.log[i].len;
        memcpy(buf + k, p->a.log[i].b, p->a.log[i].len);
        k += p->a.log[i].len;
    }
    write_file(dir, "client_flight3", buf, k);
}

TEST(handshake_completes_with_same_keys)
{
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_get_state(p.a.d), CAMRTC_DTLS_NEW);
    CHECK_EQ_INT(camrtc_dtls_get_role(p.b.d), CAMRTC_DTLS_SERVER);
    CHECK_EQ_INT(camrtc_dtls_next_timeout(p.b.d), CAMRTC_TIME_NEVER);
    CHECK_EQ_INT(camrtc_dtls_start(p.b.d, 0), CAMRTC_OK); /* server: waits, sends nothing */
    CHECK_EQ_INT(p.b.n_out, 0);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_ESTATE);
    CHECK_EQ_INT(p.a.n_out, 1); /* one ClientHello */
    CHECK_EQ_INT(camrtc_dtls_next_timeout(p.a.d), CAMRTC_MS(1000));
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(camrtc_dtls_get_state(p.a.d), CAMRTC_DTLS_CONNECTED);
    CHECK_EQ_INT(camrtc_dtls_get_state(p.b.d), CAMRTC_DTLS_CONNECTED);
    CHECK_EQ_INT(p.a.n_connected, 1);
    CHECK_EQ_INT(p.b.n_connected, 1);
    CHECK(p.a.have_keys && p.b.have_keys);
    CHECK_EQ_INT(p.a.keys.profile, CAMRTC_SRTP_AES128_CM_SHA1_80);
    CHECK_EQ_INT(p.a.keys.key_len, 16);
    CHECK_EQ_INT(p.a.keys.salt_len, 14);
    CHECK_EQ_MEM(&p.a.keys, &p.b.keys, sizeof p.a.keys);
    static const uint8_t zero[16];
    CHECK(memcmp(p.a.keys.client_key, zero, 16) != 0);
    CHECK(memcmp(p.a.keys.client_key, p.a.keys.server_key, 16) != 0);
    /* Four flights (RFC 6347 section 4.2.4, no HelloVerifyRequest), no time passed. */
    CHECK_EQ_INT(p.a.flights + p.b.flights, 4);
    CHECK_EQ_INT(p.now, 0);
    CHECK_EQ_INT(p.a.overflow + p.b.overflow, 0);
    camrtc_dtls_stats st;
    camrtc_dtls_get_stats(p.a.d, &st);
    CHECK_EQ_INT(st.retransmits, 0);
    CHECK(st.datagrams_out >= 2);
    for (size_t i = 0; i < p.a.n_log; i++)
        CHECK(p.a.log[i].len <= CAMRTC_DTLS_DEFAULT_MTU);
    for (size_t i = 0; i < p.b.n_log; i++)
        CHECK(p.b.log[i].len <= CAMRTC_DTLS_DEFAULT_MTU);
    printf("  handshake: %d flights, %llu us virtual, client %llu + server %llu datagrams\n", p.a.flights + p.b.flights,
           (unsigned long long)p.now, (unsigned long long)st.datagrams_out,
           (unsigned long long)(p.b.n_log));
    record_corpus(&p);
    pair_free(&p);
}

TEST(roles_swapped_and_profile_32)
{
    /* The "server" struct member plays the client this time: start it instead. */
    static const camrtc_srtp_profile only32[] = {CAMRTC_SRTP_AES128_CM_SHA1_32};
    pair p;
    CHECK_EQ_INT(pair_init_ex(&p, 0, 1, 1, 0, only32, 1), CAMRTC_OK);
    /* Rebuild b as a client and a as a server. */
    camrtc_dtls_free(p.a.d);
    camrtc_dtls_free(p.b.d);
    camrtc_dtls_callbacks ca = {on_send, on_event, &p.a}, cb = {on_send, on_event, &p.b};
    camrtc_dtls_config c = {.role = CAMRTC_DTLS_SERVER, .cert = &g_certs.c[0], .remote_fingerprint = g_certs.fp[1],
                            .rng = &p.rng}; /* server accepts both profiles */
    CHECK_EQ_INT(camrtc_dtls_new(&p.a.d, &c, &ca), CAMRTC_OK);
    c.role = CAMRTC_DTLS_CLIENT;
    c.cert = &g_certs.c[1];
    c.remote_fingerprint = g_certs.fp[0];
    c.profiles = only32;
    c.n_profiles = 1;
    CHECK_EQ_INT(camrtc_dtls_new(&p.b.d, &c, &cb), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.b.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(camrtc_dtls_get_state(p.a.d), CAMRTC_DTLS_CONNECTED);
    CHECK_EQ_INT(camrtc_dtls_get_state(p.b.d), CAMRTC_DTLS_CONNECTED);
    CHECK(p.a.have_keys && p.b.have_keys);
    CHECK_EQ_INT(p.b.keys.profile, CAMRTC_SRTP_AES128_CM_SHA1_32);
    CHECK_EQ_MEM(&p.a.keys, &p.b.keys, sizeof p.a.keys);
    pair_free(&p);
}

TEST(no_common_profile_connects_without_keys)
{
    static const camrtc_srtp_profile p80[] = {CAMRTC_SRTP_AES128_CM_SHA1_80};
    static const camrtc_srtp_profile p32[] = {CAMRTC_SRTP_AES128_CM_SHA1_32};
    pair p;
    CHECK_EQ_INT(pair_init_ex(&p, 0, 1, 1, 0, p80, 1), CAMRTC_OK);
    camrtc_dtls_free(p.b.d);
    camrtc_dtls_callbacks cb = {on_send, on_event, &p.b};
    camrtc_dtls_config c = {.role = CAMRTC_DTLS_SERVER, .cert = &g_certs.c[1], .remote_fingerprint = g_certs.fp[0],
                            .profiles = p32, .n_profiles = 1, .rng = &p.rng};
    CHECK_EQ_INT(camrtc_dtls_new(&p.b.d, &c, &cb), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    /* DTLS itself is fine (data channels could run); no SRTP keys are given. */
    CHECK_EQ_INT(p.a.n_connected, 1);
    CHECK_EQ_INT(p.b.n_connected, 1);
    CHECK(!p.a.have_keys && !p.b.have_keys);
    pair_free(&p);
}

TEST(fingerprint_mismatch_fails_without_keys)
{
    /* The client expects certificate 2 but the server shows 1. */
    pair p;
    CHECK_EQ_INT(pair_init_ex(&p, 0, 2, 1, 0, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(p.a.n_failed, 1);
    CHECK_EQ_INT(p.a.error, CAMRTC_ECERT);
    CHECK_EQ_INT(camrtc_dtls_get_state(p.a.d), CAMRTC_DTLS_FAILED);
    CHECK(!p.a.have_keys && !p.b.have_keys);
    CHECK_EQ_INT(p.a.n_connected + p.b.n_connected, 0);
    CHECK(camrtc_dtls_get_state(p.b.d) != CAMRTC_DTLS_CONNECTED);
    CHECK_EQ_INT(camrtc_dtls_send(p.a.d, p.now, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    pair_free(&p);

    /* The server expects certificate 2 but the client shows 0. */
    CHECK_EQ_INT(pair_init_ex(&p, 0, 1, 1, 2, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(p.b.n_failed, 1);
    CHECK_EQ_INT(p.b.error, CAMRTC_ECERT);
    CHECK(!p.a.have_keys && !p.b.have_keys);
    CHECK_EQ_INT(p.a.n_connected + p.b.n_connected, 0);
    pair_free(&p);
}

TEST(fingerprint_set_late_and_missing)
{
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    /* A server without any expected fingerprint can never accept a client. */
    camrtc_dtls_free(p.b.d);
    camrtc_dtls_callbacks cb = {on_send, on_event, &p.b};
    camrtc_dtls_config c = {.role = CAMRTC_DTLS_SERVER, .cert = &g_certs.c[1], .rng = &p.rng};
    CHECK_EQ_INT(camrtc_dtls_new(&p.b.d, &c, &cb), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(p.b.error, CAMRTC_ECERT);
    CHECK(!p.a.have_keys && !p.b.have_keys);
    pair_free(&p);

    /* Set after creation (the SDP answer came after the endpoint was made). */
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    camrtc_dtls_free(p.b.d);
    CHECK_EQ_INT(camrtc_dtls_new(&p.b.d, &c, &cb), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_set_remote_fingerprint(p.b.d, "sha-1 00:11"), CAMRTC_EUNSUPPORTED);
    CHECK_EQ_INT(camrtc_dtls_set_remote_fingerprint(p.b.d, g_certs.fp[0]), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK(p.a.have_keys && p.b.have_keys);
    CHECK_EQ_INT(camrtc_dtls_set_remote_fingerprint(p.b.d, g_certs.fp[0]), CAMRTC_ESTATE);
    pair_free(&p);
}

TEST(fingerprint_changed_mid_handshake)
{
    /* The client accepted the server's certificate, then the SDP says otherwise. */
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    deliver(&p, &p.a, &p.b); /* ClientHello */
    deliver(&p, &p.b, &p.a); /* ServerHello .. ServerHelloDone: certificate checked */
    CHECK_EQ_INT(camrtc_dtls_set_remote_fingerprint(p.a.d, g_certs.fp[1]), CAMRTC_OK); /* same: still fine */
    CHECK_EQ_INT(camrtc_dtls_set_remote_fingerprint(p.a.d, g_certs.fp[2]), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(p.a.n_failed, 1);
    CHECK_EQ_INT(p.a.error, CAMRTC_ECERT);
    CHECK(!p.a.have_keys);
    pair_free(&p);
}

TEST(lost_client_hello_is_retransmitted)
{
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    p.a.drop_flights = 1u << 0;
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(p.a.n_connected, 1);
    CHECK_EQ_INT(p.b.n_connected, 1);
    CHECK_EQ_MEM(&p.a.keys, &p.b.keys, sizeof p.a.keys);
    CHECK_EQ_INT(p.now, CAMRTC_MS(1000)); /* the initial 1 s timer */
    CHECK_EQ_INT(p.a.flights + p.b.flights, 5);
    camrtc_dtls_stats st;
    camrtc_dtls_get_stats(p.a.d, &st);
    CHECK_EQ_INT(st.retransmits, 1);
    printf("  lost ClientHello: %d flights, %llu ms virtual\n", p.a.flights + p.b.flights,
           (unsigned long long)(p.now / 1000));
    pair_free(&p);
}

/* Write the ClientHello in hello[0..n) as two handshake fragments (body split at k) into
 * out1 (first fragment) and out2 (second), each a record of its own (RFC 6347 §4.2.3). */
static void split_hello(const uint8_t *hello, size_t n, size_t k, pkt *out1, pkt *out2)
{
    const uint8_t *h = hello + 13, *body = h + 12;
    size_t total = n - 25;
    size_t off[2] = {0, k}, len[2] = {k, total - k};
    pkt *out[2] = {out1, out2};
    for (int i = 0; i < 2; i++) {
        uint8_t *r = out[i]->b;
        memcpy(r, hello, 13);
        r[10] = (uint8_t)(r[10] + i);                    /* next record sequence number */
        size_t rl = 12 + len[i];
        r[11] = (uint8_t)(rl >> 8);
        r[12] = (uint8_t)rl;
        memcpy(r + 13, h, 6);                            /* type, length, message_seq */
        r[19] = (uint8_t)(off[i] >> 16), r[20] = (uint8_t)(off[i] >> 8), r[21] = (uint8_t)off[i];
        r[22] = (uint8_t)(len[i] >> 16), r[23] = (uint8_t)(len[i] >> 8), r[24] = (uint8_t)len[i];
        memcpy(r + 25, body + off[i], len[i]);
        out[i]->len = 13 + rl;
    }
}

/* OpenSSL-based peers (aiortc) fragment their ClientHello; mbedtls 2.28 cannot take that,
 * so the server puts it back together: two fragments in one datagram, and two datagrams
 * arriving in the wrong order. */
TEST(fragmented_client_hello_is_reassembled)
{
    for (int across = 0; across < 2; across++) {
        pair p;
        CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
        CHECK_EQ_INT(p.a.n_out, 1);
        pkt hello = p.a.out[0], f1, f2;
        p.a.n_out = 0;
        p.a.flights++;
        CHECK(hello.len > 25 + 40 && hello.b[0] == 22 && hello.b[13] == 1);
        split_hello(hello.b, hello.len, 40, &f1, &f2);
        if (!across) {
            pkt both;
            memcpy(both.b, f1.b, f1.len);
            memcpy(both.b + f1.len, f2.b, f2.len);
            both.len = f1.len + f2.len;
            CHECK_EQ_INT(camrtc_dtls_handle_input(p.b.d, p.now, both.b, both.len), CAMRTC_OK);
        } else {
            CHECK_EQ_INT(camrtc_dtls_handle_input(p.b.d, p.now, f2.b, f2.len), CAMRTC_OK);
            CHECK_EQ_INT(p.b.n_out, 0);                  /* half a hello: nothing to answer yet */
            CHECK_EQ_INT(camrtc_dtls_handle_input(p.b.d, p.now, f1.b, f1.len), CAMRTC_OK);
        }
        CHECK(p.b.n_out > 0);                            /* the server answered */
        CHECK(run(&p, 100) >= 0);
        CHECK_EQ_INT(p.a.n_connected, 1);
        CHECK_EQ_INT(p.b.n_connected, 1);
        CHECK_EQ_MEM(&p.a.keys, &p.b.keys, sizeof p.a.keys);
        camrtc_dtls_stats st;
        camrtc_dtls_get_stats(p.b.d, &st);
        CHECK_EQ_INT(st.reassembled_hellos, 1);
        pair_free(&p);
    }
}

/* The named group of the ECDHE ServerKeyExchange (RFC 8422 section 5.4: curve_type 3,
 * then the group) in the datagrams a peer logged; -1 when there is none. */
static int ske_group(const peer *pe)
{
    for (size_t i = 0; i < pe->n_log; i++) {
        const uint8_t *d = pe->log[i].b;
        size_t len = pe->log[i].len;
        for (size_t o = 0; o + 13 <= len;) {
            size_t rl = (size_t)d[o + 11] << 8 | d[o + 12];
            const uint8_t *h = d + o + 13;
            if (o + 13 + rl > len)
                break;
            /* handshake record, server_key_exchange (12), fragment offset 0, 3 body bytes */
            if (d[o] == 22 && rl >= 12 + 3 && h[0] == 12 && !h[6] && !h[7] && !h[8] && h[12] == 3)
                return h[13] << 8 | h[14];
            o += 13 + rl;
        }
    }
    return -1;
}

/* Rewrite every group of a ClientHello's supported_groups extension (RFC 8422 section
 * 5.1.1) to group: as a client that supports only that one. false when not found. */
static bool hello_only_group(uint8_t *d, size_t len, uint16_t group)
{
    size_t o = 13 + 12 + 2 + 32;                        /* record, handshake headers, version, random */
    if (o + 1 > len)
        return false;
    o += 1 + d[o];                                      /* session id */
    if (o + 1 > len)
        return false;
    o += 1 + d[o];                                      /* cookie (DTLS) */
    if (o + 2 > len)
        return false;
    o += 2 + ((size_t)d[o] << 8 | d[o + 1]);            /* cipher suites */
    if (o + 1 > len)
        return false;
    o += 1 + d[o];                                      /* compression methods */
    o += 2;                                             /* extensions length */
    while (o + 4 <= len) {
        size_t type = (size_t)d[o] << 8 | d[o + 1], el = (size_t)d[o + 2] << 8 | d[o + 3];
        if (o + 4 + el > len)
            return false;
        if (type == 10 && el >= 4) {                    /* supported_groups */
            for (size_t g = o + 6; g + 2 <= o + 4 + el; g += 2) {
                d[g] = (uint8_t)(group >> 8);
                d[g + 1] = (uint8_t)group;
            }
            return true;
        }
        o += 4 + el;
    }
    return false;
}

TEST(key_exchange_prefers_x25519_and_falls_back_to_p256)
{
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK(p.a.have_keys && p.b.have_keys);
    CHECK_EQ_INT(ske_group(&p.b), 29);                  /* x25519 (RFC 8422 section 5.1.1) */
    pair_free(&p);

    /* A client without X25519 (here: a ClientHello that lists secp256r1 only) gets P-256. */
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK_EQ_INT(p.a.n_out, 1);
    pkt hello = p.a.out[0];
    p.a.n_out = 0;
    CHECK(hello_only_group(hello.b, hello.len, 23));
    CHECK_EQ_INT(camrtc_dtls_handle_input(p.b.d, p.now, hello.b, hello.len), CAMRTC_OK);
    CHECK(p.b.n_out > 0);
    CHECK_EQ_INT(ske_group(&p.b), 23);                  /* secp256r1 */
    pair_free(&p);
}

TEST(lost_flights_back_off_and_complete)
{
    /* Lose the server's first flight twice and its final flight once. */
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    p.b.drop_flights = (1u << 0) | (1u << 1) | (1u << 3);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 200) >= 0);
    CHECK_EQ_INT(p.a.n_connected, 1);
    CHECK_EQ_INT(p.b.n_connected, 1);
    CHECK_EQ_MEM(&p.a.keys, &p.b.keys, sizeof p.a.keys);
    /* Each loss costs one timer; timers double (RFC 6347 section 4.2.4.1). */
    CHECK(p.now >= CAMRTC_MS(1000 + 2000));
    CHECK(p.now <= CAMRTC_MS(1000 + 2000 + 4000 + 8000));
    printf("  3 lost flights: %d flights, %llu ms virtual\n", p.a.flights + p.b.flights,
           (unsigned long long)(p.now / 1000));
    pair_free(&p);
}

TEST(silent_peer_times_out)
{
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    p.a.drop_flights = ~0u;
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(p.a.n_failed, 1);
    CHECK_EQ_INT(p.a.error, CAMRTC_ETIMEDOUT);
    /* 1 + 2 + 4 + 8 s with the default 1 s .. 8 s timers. */
    CHECK_EQ_INT(p.now, CAMRTC_MS(15000));
    CHECK_EQ_INT(camrtc_dtls_next_timeout(p.a.d), CAMRTC_TIME_NEVER);
    CHECK_EQ_INT(camrtc_dtls_handle_input(p.a.d, p.now, (const uint8_t *)"\x16", 1), CAMRTC_ECLOSED);
    pair_free(&p);
}

TEST(app_data_and_close_notify)
{
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_send(p.a.d, 0, (const uint8_t *)"early", 5), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    CHECK(run(&p, 100) >= 0);
    CHECK_EQ_INT(camrtc_dtls_send(p.a.d, p.now, (const uint8_t *)"hello", 5), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_send(p.b.d, p.now, (const uint8_t *)"world!", 6), CAMRTC_OK);
    CHECK(run(&p, 10) >= 0);
    CHECK_EQ_INT(p.b.n_data, 1);
    CHECK_EQ_INT(p.b.data_len, 5);
    CHECK_EQ_MEM(p.b.data, "hello", 5);
    CHECK_EQ_INT(p.a.n_data, 1);
    CHECK_EQ_MEM(p.a.data, "world!", 6);
    static uint8_t big[CAMRTC_DTLS_MAX_APP_DATA + 1];
    CHECK_EQ_INT(camrtc_dtls_send(p.a.d, p.now, big, sizeof big), CAMRTC_ETOOBIG);
    CHECK_EQ_INT(camrtc_dtls_send(p.a.d, p.now, big, 1400), CAMRTC_ETOOBIG); /* over the 1200 MTU */

    CHECK_EQ_INT(camrtc_dtls_close(p.a.d, p.now), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_get_state(p.a.d), CAMRTC_DTLS_CLOSED);
    CHECK_EQ_INT(p.a.n_out, 1); /* the close_notify alert */
    CHECK(run(&p, 10) >= 0);
    CHECK_EQ_INT(p.b.n_closed, 1);
    CHECK_EQ_INT(p.a.n_closed, 0); /* our own close reports nothing */
    CHECK_EQ_INT(camrtc_dtls_get_state(p.b.d), CAMRTC_DTLS_CLOSED);
    CHECK_EQ_INT(camrtc_dtls_send(p.b.d, p.now, (const uint8_t *)"x", 1), CAMRTC_ESTATE);
    CHECK_EQ_INT(camrtc_dtls_close(p.b.d, p.now), CAMRTC_OK);
    CHECK_EQ_INT(p.b.n_out, 0);
    pair_free(&p);
}

/* xorshift: reproducible garbage. */
static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

TEST(garbage_input_does_not_break_the_handshake)
{
    pair p;
    CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
    uint32_t seed = 12345;
    static uint8_t junk[CAMRTC_DTLS_MAX_DATAGRAM + 1];
    /* Before start: a client drops, a server would start. */
    CHECK_EQ_INT(camrtc_dtls_handle_input(p.a.d, 0, (const uint8_t *)"\x16\xfe\xfd", 3), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_handle_input(p.b.d, 0, NULL, 0), CAMRTC_OK);
    CHECK_EQ_INT(camrtc_dtls_handle_input(p.b.d, 0, junk, sizeof junk), CAMRTC_OK); /* too long: dropped */
    CHECK_EQ_INT(camrtc_dtls_handle_input(NULL, 0, junk, 1), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + next_rand(&seed) % 300;
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)next_rand(&seed);
        if (round % 3 == 0) {
            /* Looks like a DTLS 1.2 handshake record with a random length. */
            junk[0] = 22;
            junk[1] = 0xfe;
            junk[2] = 0xfd;
        }
        if (round % 5 == 0 && n > 25)
            junk[13] = 1; /* ClientHello type */
        camrtc_dtls_handle_input(p.b.d, 0, junk, n);
        camrtc_dtls_handle_input(p.a.d, 0, junk, n);
    }
    CHECK(run(&p, 200) >= 0);
    CHECK_EQ_INT(p.a.n_connected, 1);
    CHECK_EQ_INT(p.b.n_connected, 1);
    CHECK_EQ_MEM(&p.a.keys, &p.b.keys, sizeof p.a.keys);
    /* And once connected. */
    for (int round = 0; round < 100; round++) {
        size_t n = 1 + next_rand(&seed) % 200;
        for (size_t i = 0; i < n; i++)
            junk[i] = (uint8_t)next_rand(&seed);
        junk[0] = (uint8_t)(20 + round % 4);
        junk[1] = 0xfe;
        junk[2] = 0xfd;
        camrtc_dtls_handle_input(p.a.d, p.now, junk, n);
    }
    CHECK_EQ_INT(camrtc_dtls_get_state(p.a.d), CAMRTC_DTLS_CONNECTED);
    CHECK_EQ_INT(camrtc_dtls_send(p.b.d, p.now, (const uint8_t *)"still", 5), CAMRTC_OK);
    CHECK(run(&p, 10) >= 0);
    CHECK_EQ_INT(p.a.n_data, 1);
    pair_free(&p);
}

TEST(gcm_profile_is_a_known_mbedtls_limitation)
{
    /* mbedtls 2.28 refuses SRTP profile 0x0007 (AEAD_AES_128_GCM) outright; if a
     * newer mbedtls accepts it, this test fails and GCM can be enabled. */
    mbedtls_ssl_config conf;
    mbedtls_ssl_config_init(&conf);
    static const mbedtls_ssl_srtp_profile gcm[] = {0x0007, MBEDTLS_TLS_SRTP_UNSET};
    int r = mbedtls_ssl_conf_dtls_srtp_protection_profiles(&conf, gcm);
    mbedtls_ssl_config_free(&conf);
    CHECK(r != 0);

    CHECK(certs_init());
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 1), CAMRTC_OK);
    static const camrtc_srtp_profile want[] = {CAMRTC_SRTP_AEAD_AES_128_GCM, CAMRTC_SRTP_AES128_CM_SHA1_80};
    camrtc_dtls_callbacks cb = {on_send, on_event, NULL};
    camrtc_dtls_config c = {.role = CAMRTC_DTLS_CLIENT, .cert = &g_certs.c[0], .profiles = want, .n_profiles = 2,
                            .rng = &rng};
    camrtc_dtls *d = (camrtc_dtls *)&c; /* must be reset to NULL on failure */
    CHECK_EQ_INT(camrtc_dtls_new(&d, &c, &cb), CAMRTC_EUNSUPPORTED);
    CHECK(d == NULL);
    camrtc_rng_free(&rng);
}

TEST(config_errors)
{
    CHECK(certs_init());
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 1), CAMRTC_OK);
    camrtc_dtls_callbacks cb = {on_send, on_event, NULL};
    camrtc_dtls *d = NULL;
    camrtc_dtls_config c = {.role = CAMRTC_DTLS_CLIENT, .cert = &g_certs.c[0], .rng = &rng};
    c.remote_fingerprint = "sha-256 zz";
    CHECK_EQ_INT(camrtc_dtls_new(&d, &c, &cb), CAMRTC_EINVAL);
    c.remote_fingerprint = NULL;
    c.mtu = 100;
    CHECK_EQ_INT(camrtc_dtls_new(&d, &c, &cb), CAMRTC_EINVAL);
    c.mtu = 0;
    c.rng = NULL;
    CHECK_EQ_INT(camrtc_dtls_new(&d, &c, &cb), CAMRTC_EINVAL);
    c.rng = &rng;
    camrtc_cert bad = g_certs.c[0];
    bad.key_len = 5;
    c.cert = &bad;
    CHECK_EQ_INT(camrtc_dtls_new(&d, &c, &cb), CAMRTC_EINVAL);
    c.cert = &g_certs.c[0];
    static const camrtc_srtp_profile nul[] = {(camrtc_srtp_profile)0x0005};
    c.profiles = nul;
    c.n_profiles = 1;
    CHECK_EQ_INT(camrtc_dtls_new(&d, &c, &cb), CAMRTC_EINVAL);
    c.n_profiles = 0;
    CHECK_EQ_INT(camrtc_dtls_new(&d, &c, &cb), CAMRTC_OK);
    camrtc_dtls_free(d);
    camrtc_dtls_free(NULL);
    camrtc_rng_free(&rng);
}

TEST(fingerprint_parse)
{
    uint8_t fp[32];
    char s[120] = "sha-256 ";
    for (int i = 0; i < 32; i++)
        snprintf(s + strlen(s), sizeof s - strlen(s), "%s%02X", i ? ":" : "", i * 7);
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint(s, fp), CAMRTC_OK);
    CHECK_EQ_INT(fp[0], 0);
    CHECK_EQ_INT(fp[31], 31 * 7);
    s[0] = 'S';
    s[1] = 'H';
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint(s, fp), CAMRTC_OK); /* hash name is case-insensitive */
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint(s + 8, fp), CAMRTC_OK); /* bare hex */
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint("sha-1 00:11:22", fp), CAMRTC_EUNSUPPORTED);
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint("sha-256 00:11", fp), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint("foo 00", fp), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint("", fp), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint(NULL, fp), CAMRTC_EINVAL);
    size_t n = strlen(s);
    s[n] = ':';
    s[n + 1] = '\0';
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint(s, fp), CAMRTC_EINVAL); /* 33rd group started */
    s[n] = '\0';
    s[n - 1] = 'G';
    CHECK_EQ_INT(camrtc_dtls_parse_fingerprint(s, fp), CAMRTC_EINVAL);
}

TEST(keying_split_layout)
{
    uint8_t m[60];
    for (int i = 0; i < 60; i++)
        m[i] = (uint8_t)i;
    camrtc_srtp_keying k;
    CHECK_EQ_INT(camrtc_dtls_split_keying(CAMRTC_SRTP_AES128_CM_SHA1_80, m, 60, &k), CAMRTC_OK);
    CHECK_EQ_INT(k.client_key[0], 0);
    CHECK_EQ_INT(k.server_key[0], 16);
    CHECK_EQ_INT(k.client_salt[0], 32);
    CHECK_EQ_INT(k.server_salt[0], 46);
    CHECK_EQ_INT(k.server_salt[13], 59);
    CHECK_EQ_INT(camrtc_dtls_split_keying(CAMRTC_SRTP_AEAD_AES_128_GCM, m, 56, &k), CAMRTC_OK);
    CHECK_EQ_INT(k.server_salt[11], 55);
    CHECK_EQ_INT(camrtc_dtls_split_keying(CAMRTC_SRTP_AES128_CM_SHA1_80, m, 59, &k), CAMRTC_EINVAL);
    CHECK_EQ_INT(camrtc_dtls_split_keying((camrtc_srtp_profile)9, m, 60, &k), CAMRTC_EUNSUPPORTED);
}

/* PEM text of certificate i and of key k. */
static bool to_pem(int i, int k, char *crt, size_t crtsz, char *key, size_t keysz)
{
    size_t olen;
    if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                 g_certs.c[i].cert_der, g_certs.c[i].cert_len, (unsigned char *)crt, crtsz,
                                 &olen) != 0)
        return false;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    bool ok = mbedtls_pk_parse_key(&pk, g_certs.c[k].key_der, g_certs.c[k].key_len, NULL, 0) == 0 &&
              mbedtls_pk_write_key_pem(&pk, (unsigned char *)key, keysz) == 0;
    mbedtls_pk_free(&pk);
    return ok;
}

static bool write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

TEST(certificate_from_pem)
{
    CHECK(certs_init());
    static char crt[4096], key[4096];
    CHECK(to_pem(0, 0, crt, sizeof crt, key, sizeof key));
    camrtc_cert c;
    CHECK_EQ_INT(camrtc_cert_from_pem(crt, key, &c), CAMRTC_OK);
    CHECK_EQ_INT(c.cert_len, g_certs.c[0].cert_len);
    CHECK_EQ_MEM(c.cert_der, g_certs.c[0].cert_der, c.cert_len);
    CHECK(c.key_len > 0);
    camrtc_cert_free(&c);

    char dir[] = "/tmp/camrtc_dtls_XXXXXX", cpath[64], kpath[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(cpath, sizeof cpath, "%s/cert.pem", dir);
    snprintf(kpath, sizeof kpath, "%s/key.pem", dir);
    CHECK(write_text(cpath, crt) && write_text(kpath, key));
    CHECK_EQ_INT(camrtc_cert_load_pem_files(cpath, kpath, &c), CAMRTC_OK);
    CHECK_EQ_MEM(c.cert_der, g_certs.c[0].cert_der, c.cert_len);
    camrtc_cert_free(&c);

    /* A key that belongs to another certificate, garbage, a missing file. */
    CHECK(to_pem(0, 1, crt, sizeof crt, key, sizeof key));
    CHECK(write_text(kpath, key));
    CHECK_EQ_INT(camrtc_cert_load_pem_files(cpath, kpath, &c), CAMRTC_EINVAL);
    CHECK(c.cert_der == NULL && c.key_der == NULL);
    CHECK_EQ_INT(camrtc_cert_from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", key, &c),
                 CAMRTC_EINVAL);
    unlink(cpath);
    CHECK_EQ_INT(camrtc_cert_load_pem_files(cpath, kpath, &c), CAMRTC_EIO);
    unlink(kpath);
    rmdir(dir);
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

TEST(handshake_cpu_time_report)
{
    /* Not an assertion on time: prints the CPU cost of one complete in-memory
     * handshake (both sides, certificates already made) for the bench notes. */
    enum { N = 5 };
    double t0 = cpu_ms();
    for (int i = 0; i < N; i++) {
        pair p;
        CHECK_EQ_INT(pair_init(&p), CAMRTC_OK);
        CHECK_EQ_INT(camrtc_dtls_start(p.a.d, 0), CAMRTC_OK);
        CHECK(run(&p, 100) >= 0);
        CHECK(p.a.have_keys && p.b.have_keys);
        pair_free(&p);
    }
    double t1 = cpu_ms();
    camrtc_rng rng;
    CHECK_EQ_INT(camrtc_rng_init_seed(&rng, 3), CAMRTC_OK);
    camrtc_cert c;
    CHECK_EQ_INT(camrtc_cert_self_signed("camrtc", 30, &rng, &c), CAMRTC_OK);
    double t2 = cpu_ms();
    camrtc_cert_free(&c);
    camrtc_rng_free(&rng);
    printf("  full handshake, both sides: %.2f ms CPU (mean of %d); certificate generation %.2f ms\n",
           (t1 - t0) / N, N, t2 - t1);
}

int main(void)
{
    int rc = RUN_TESTS(handshake_completes_with_same_keys, roles_swapped_and_profile_32,
                       no_common_profile_connects_without_keys, fingerprint_mismatch_fails_without_keys,
                       fingerprint_set_late_and_missing, fingerprint_changed_mid_handshake,
                       lost_client_hello_is_retransmitted, fragmented_client_hello_is_reassembled,
                       lost_flights_back_off_and_complete, silent_peer_times_out, app_data_and_close_notify,
                       garbage_input_does_not_break_the_handshake, gcm_profile_is_a_known_mbedtls_limitation,
                       config_errors, fingerprint_parse, keying_split_layout, certificate_from_pem,
                       key_exchange_prefers_x25519_and_falls_back_to_p256, handshake_cpu_time_report);
    for (int i = 0; i < 3; i++)
        camrtc_cert_free(&g_certs.c[i]);
    return rc;
}
