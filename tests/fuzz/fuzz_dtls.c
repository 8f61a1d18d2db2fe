/* Feeds fuzz bytes as DTLS datagrams to a server endpoint, optionally after a
 * real ClientHello so the bytes land mid-handshake (server waiting for the
 * client's second flight).
 *
 * Input: a mode byte (bit 0: first hand the server a ClientHello made by a
 * fresh client endpoint), then datagrams framed as [u16 big-endian length][bytes];
 * whatever does not frame is one last datagram. The virtual clock moves 400 ms
 * per datagram so retransmission and timeout paths run too.
 * Seeds (tests/fuzz/corpus/dtls) were recorded from test_dtls with
 * CAMRTC_DTLS_CORPUS_OUT set. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/cert.h"
#include "camrtc/dtls.h"

/* Certificates are made once per process: key generation would dominate. */
static camrtc_cert g_cert[2];
static bool g_ready;

typedef struct hello {
    uint8_t b[1500];
    size_t len;
} hello;

static void keep_first(void *u, const uint8_t *p, size_t n)
{
    hello *h = u;
    if (h->len == 0 && n <= sizeof h->b) {
        memcpy(h->b, p, n);
        h->len = n;
    }
}

static void drop(void *u, const uint8_t *p, size_t n)
{
    (void)u;
    (void)p;
    (void)n;
}

static void on_event(void *u, const camrtc_dtls_event *ev)
{
    (void)u;
    if (ev->type == CAMRTC_DTLS_EV_CONNECTED && ev->keys)
        abort(); /* the fingerprint below matches no certificate: keys would be a bug */
}

static bool setup(void)
{
    if (g_ready)
        return true;
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 1) < 0)
        return false;
    bool ok = camrtc_cert_self_signed("fuzz-a", 1, &rng, &g_cert[0]) == 0 &&
              camrtc_cert_self_signed("fuzz-b", 1, &rng, &g_cert[1]) == 0;
    camrtc_rng_free(&rng);
    g_ready = ok;
    return ok;
}

static const char no_match_fp[] = "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || !setup())
        return 0;
    camrtc_rng rng;
    if (camrtc_rng_init_seed(&rng, 2) < 0)
        return 0;
    camrtc_dtls *srv = NULL;
    camrtc_dtls_callbacks scb = {drop, on_event, NULL};
    camrtc_dtls_config sc = {.role = CAMRTC_DTLS_SERVER, .cert = &g_cert[1], .remote_fingerprint = no_match_fp,
                             .rng = &rng};
    if (camrtc_dtls_new(&srv, &sc, &scb) != 0) {
        camrtc_rng_free(&rng);
        return 0;
    }
    camrtc_time_us now = 0;
    if (data[0] & 1) {
        hello h = {.len = 0};
        camrtc_dtls *cli = NULL;
        camrtc_dtls_callbacks ccb = {keep_first, on_event, &h};
        camrtc_dtls_config cc = {.role = CAMRTC_DTLS_CLIENT, .cert = &g_cert[0], .remote_fingerprint = no_match_fp,
                                 .rng = &rng};
        if (camrtc_dtls_new(&cli, &cc, &ccb) == 0 && camrtc_dtls_start(cli, now) == 0 && h.len)
            camrtc_dtls_handle_input(srv, now, h.b, h.len);
        camrtc_dtls_free(cli);
    }
    size_t off = 1;
    while (off < size) {
        size_t n = size - off;
        const uint8_t *p = data + off;
        if (n >= 2 && ((size_t)data[off] << 8 | data[off + 1]) <= n - 2) {
            n = (size_t)data[off] << 8 | data[off + 1];
            p += 2;
            off += 2;
        }
        /* Copy so a read past the datagram is caught by ASan. */
        uint8_t *dg = malloc(n ? n : 1);
        if (!dg)
            break;
        memcpy(dg, p, n);
        camrtc_dtls_handle_input(srv, now, dg, n);
        free(dg);
        off += n;
        now += 400000;
        camrtc_dtls_handle_timeout(srv, now);
        (void)camrtc_dtls_next_timeout(srv);
    }
    camrtc_dtls_send(srv, now, (const uint8_t *)"x", 1);
    camrtc_dtls_close(srv, now);
    camrtc_dtls_free(srv);
    camrtc_rng_free(&rng);
    return 0;
}
