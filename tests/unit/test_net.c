/* net/: real sockets on 127.0.0.1 through a libuv loop. Every loop run is
 * bounded by a guard timer, and every test checks that the loop closes clean
 * (no handle left behind). No timing assertions. */
#include "check.h"

#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/net.h"
#include "camrtc/rand.h"
#include "camrtc/tls.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define GUARD_MS 20000

static const char *data_path(const char *name)
{
    static char path[4][512];
    static int next;
    const char *dir = getenv("CAMRTC_TEST_DATA");
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/tls/%s", dir ? dir : "tests/unit/data", name);
    return p;
}

typedef struct side {
    camrtc_conn *c;
    int opened, closed, err;
    char why[200];
    camrtc_buf rx;
    size_t count;     /* bytes seen when not kept in rx */
    bool pattern_ok;
} side;

typedef struct env {
    uv_loop_t loop;
    uv_timer_t guard;
    bool timed_out;
    camrtc_rng rng;
    camrtc_log log;
    FILE *logf;
    camrtc_tls_config *scfg, *ccfg;
    camrtc_listener *l;
    int accepted;
    side srv, cli;
    char peer_ip[64];
    bool peer_lo;
    /* knobs */
    size_t payload;
    bool close_listener_on_accept;
    int last_write_rc;
    size_t pending_seen;
    int writes;
} env;

static void guard_cb(uv_timer_t *t)
{
    env *e = t->data;
    e->timed_out = true;
    uv_stop(&e->loop);
}

static void env_init(env *e)
{
    memset(e, 0, sizeof *e);
    uv_loop_init(&e->loop);
    uv_timer_init(&e->loop, &e->guard);
    e->guard.data = e;
    uv_timer_start(&e->guard, guard_cb, GUARD_MS, 0);
    uv_unref((uv_handle_t *)&e->guard); /* the loop ends when the test's handles do */
    camrtc_rng_init_seed(&e->rng, 99);
    e->logf = tmpfile();
    e->log.level = CAMRTC_LOG_DEBUG;
    e->log.out = e->logf;
    e->srv.pattern_ok = e->cli.pattern_ok = true;
}

static bool env_tls(env *e, const char *cert, const char *key, const char *ca)
{
    char err[200];
    e->scfg = camrtc_tls_config_new_server(data_path(cert), data_path(key), &e->rng, err, sizeof err);
    e->ccfg = camrtc_tls_config_new_client(data_path(ca), true, &e->rng, err, sizeof err);
    return e->scfg && e->ccfg;
}

static void env_run(env *e)
{
    uv_run(&e->loop, UV_RUN_DEFAULT);
}

/* Close the guard and the loop; false when a handle was left open. */
static bool env_done(env *e)
{
    uv_close((uv_handle_t *)&e->guard, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    bool clean = uv_loop_close(&e->loop) == 0;
    camrtc_tls_config_free(e->scfg);
    camrtc_tls_config_free(e->ccfg);
    camrtc_rng_free(&e->rng);
    camrtc_buf_free(&e->srv.rx);
    camrtc_buf_free(&e->cli.rx);
    if (e->logf)
        fclose(e->logf);
    return clean;
}

static bool log_has(env *e, const char *needle)
{
    static char text[16384];
    fflush(e->logf);
    rewind(e->logf);
    size_t n = fread(text, 1, sizeof text - 1, e->logf);
    text[n] = '\0';
    fseek(e->logf, 0, SEEK_END);
    return strstr(text, needle) != NULL;
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 131 + (i >> 9));
}

static void check_pattern(side *s, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] != pattern(s->count + i))
            s->pattern_ok = false;
    s->count += n;
}

static void record_close(side *s, camrtc_conn *c, int err)
{
    s->closed++;
    s->err = err;
    snprintf(s->why, sizeof s->why, "%s", camrtc_conn_error_string(c));
    s->c = NULL;
}

static void close_listener(env *e)
{
    camrtc_listener_close(e->l);
    e->l = NULL;
}

/* Write n pattern bytes in 64 KiB pieces; stops at the first error. */
static int write_pattern(camrtc_conn *c, size_t n, int *writes)
{
    uint8_t chunk[64 * 1024];
    for (size_t off = 0; off < n;) {
        size_t k = n - off < sizeof chunk ? n - off : sizeof chunk;
        for (size_t i = 0; i < k; i++)
            chunk[i] = pattern(off + i);
        int rc = camrtc_conn_write(c, chunk, k);
        if (writes)
            (*writes)++;
        if (rc < 0)
            return rc;
        off += k;
    }
    return CAMRTC_OK;
}

/* ---------- echo ---------- */

static void echo_srv_data(camrtc_conn *c, void *ud, const uint8_t *d, size_t n)
{
    env *e = ud;
    if (camrtc_conn_write(c, d, n) < 0)
        e->srv.pattern_ok = false;
}

static void srv_close(camrtc_conn *c, void *ud, int err)
{
    env *e = ud;
    record_close(&e->srv, c, err);
    close_listener(e);
}

static const camrtc_conn_callbacks echo_srv_cb = {NULL, echo_srv_data, srv_close};

static void echo_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->accepted++;
    e->srv.c = c;
    camrtc_conn_peer(c, e->peer_ip, sizeof e->peer_ip, NULL, &e->peer_lo);
    camrtc_conn_set_callbacks(c, &echo_srv_cb, e);
    if (e->close_listener_on_accept)
        close_listener(e);
}

static void echo_cli_open(camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->cli.opened++;
    e->last_write_rc = write_pattern(c, e->payload, NULL);
}

static void echo_cli_data(camrtc_conn *c, void *ud, const uint8_t *d, size_t n)
{
    env *e = ud;
    check_pattern(&e->cli, d, n);
    if (e->cli.count >= e->payload)
        camrtc_conn_close(c);
}

static void cli_close(camrtc_conn *c, void *ud, int err)
{
    env *e = ud;
    record_close(&e->cli, c, err);
}

static const camrtc_conn_callbacks echo_cli_cb = {echo_cli_open, echo_cli_data, cli_close};

static void run_echo(env *e, bool tls, const char *listen_host, const char *host)
{
    e->payload = 300000;
    int rc = camrtc_listener_start(&e->loop, listen_host, 0, tls ? e->scfg : NULL, echo_accept, e, &e->l);
    if (rc != 0) {
        fprintf(stderr, "listener: %s\n", camrtc_strerror(rc));
        e->srv.err = rc;
        return;
    }
    camrtc_listener_set_log(e->l, &e->log);
    rc = camrtc_conn_connect(&e->loop, host, camrtc_listener_port(e->l), tls ? e->ccfg : NULL, &echo_cli_cb, e,
                             &e->cli.c);
    if (rc != 0) {
        e->cli.err = rc;
        close_listener(e);
    } else {
        camrtc_conn_set_log(e->cli.c, &e->log);
    }
    env_run(e);
}

#define CHECK_ECHO(e) do { \
    CHECK(!(e).timed_out); \
    CHECK_EQ_INT((e).accepted, 1); \
    CHECK_EQ_INT((e).cli.opened, 1); \
    CHECK_EQ_INT((e).last_write_rc, CAMRTC_OK); \
    CHECK_EQ_INT((e).cli.count, (e).payload); \
    CHECK((e).cli.pattern_ok); \
    CHECK((e).srv.pattern_ok); \
    CHECK_EQ_INT((e).cli.closed, 1); \
    CHECK_EQ_INT((e).cli.err, 0); \
    CHECK_EQ_INT((e).srv.closed, 1); \
    CHECK_EQ_INT((e).srv.err, 0); \
    CHECK((e).peer_lo); \
} while (0)

TEST(echo_plain_tcp)
{
    env e;
    env_init(&e);
    run_echo(&e, false, "127.0.0.1", "127.0.0.1");
    bool clean = env_done(&e);
    CHECK_ECHO(e);
    CHECK_EQ_STR(e.peer_ip, "127.0.0.1");
    CHECK(clean);
}

TEST(echo_plain_dns_localhost)
{
    /* "localhost" goes through uv_getaddrinfo; if it yields ::1 first, that
       address is refused and the next one is tried. */
    env e;
    env_init(&e);
    run_echo(&e, false, "127.0.0.1", "localhost");
    bool clean = env_done(&e);
    CHECK_ECHO(e);
    CHECK(clean);
}

TEST(echo_tls_by_name)
{
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "ca.pem"));
    run_echo(&e, true, "127.0.0.1", "localhost");
    bool clean = env_done(&e);
    CHECK_ECHO(e);
    CHECK_EQ_STR(e.cli.why, "");
    CHECK(clean);
}

TEST(echo_tls_by_ip_listener_closed_early)
{
    /* IP SAN check over a real socket; the listener goes away while its
       connection lives on (the shared read buffer must outlive it). */
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "ca.pem"));
    e.close_listener_on_accept = true;
    run_echo(&e, true, "127.0.0.1", "127.0.0.1");
    bool clean = env_done(&e);
    CHECK_ECHO(e);
    CHECK(clean);
}

TEST(echo_ipv6_loopback)
{
    env e;
    env_init(&e);
    camrtc_listener *probe = NULL;
    if (camrtc_listener_start(&e.loop, "::1", 0, NULL, echo_accept, &e, &probe) != 0) {
        env_done(&e);
        printf("skip: no IPv6 loopback\n");
        return;
    }
    camrtc_listener_close(probe);
    run_echo(&e, false, "::1", "[::1]");
    bool clean = env_done(&e);
    CHECK_ECHO(e);
    CHECK_EQ_STR(e.peer_ip, "::1");
    CHECK(clean);
}

/* ---------- failures ---------- */

TEST(connect_refused)
{
    env e;
    env_init(&e);
    /* A port that was just free: listen, note it, close. */
    CHECK_EQ_INT(camrtc_listener_start(&e.loop, "127.0.0.1", 0, NULL, echo_accept, &e, &e.l), 0);
    uint16_t port = camrtc_listener_port(e.l);
    close_listener(&e);
    env_run(&e);
    CHECK_EQ_INT(camrtc_conn_connect(&e.loop, "127.0.0.1", port, NULL, &echo_cli_cb, &e, &e.cli.c), 0);
    int early = camrtc_conn_write(e.cli.c, "x", 1);
    env_run(&e);
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(early, CAMRTC_ESTATE);
    CHECK_EQ_INT(e.cli.opened, 0);
    CHECK_EQ_INT(e.cli.closed, 1);
    CHECK_EQ_INT(e.cli.err, CAMRTC_ECONNREFUSED);
    CHECK(clean);
}

TEST(bad_arguments)
{
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "ca.pem"));
    camrtc_conn *c = NULL;
    camrtc_listener *l = NULL;
    int a = camrtc_conn_connect(&e.loop, "127.0.0.1", 1, e.scfg, &echo_cli_cb, &e, &c);
    int b = camrtc_listener_start(&e.loop, "127.0.0.1", 0, e.ccfg, echo_accept, &e, &l);
    int d = camrtc_listener_start(&e.loop, "example.com", 0, NULL, echo_accept, &e, &l);
    int f = camrtc_conn_connect(&e.loop, "[::1", 80, NULL, &echo_cli_cb, &e, &c);
    int g = camrtc_conn_connect(&e.loop, "127.0.0.1", 0, NULL, &echo_cli_cb, &e, &c);
    /* Address in use. */
    int h = camrtc_listener_start(&e.loop, "127.0.0.1", 0, NULL, echo_accept, &e, &e.l);
    int i = h == 0 ? camrtc_listener_start(&e.loop, "127.0.0.1", camrtc_listener_port(e.l), NULL, echo_accept, &e, &l)
                   : -100;
    close_listener(&e);
    bool clean = env_done(&e);
    CHECK_EQ_INT(a, CAMRTC_EINVAL);
    CHECK_EQ_INT(b, CAMRTC_EINVAL);
    CHECK_EQ_INT(d, CAMRTC_EINVAL);
    CHECK_EQ_INT(f, CAMRTC_EINVAL);
    CHECK_EQ_INT(g, CAMRTC_EINVAL);
    CHECK_EQ_INT(h, 0);
    CHECK_EQ_INT(i, CAMRTC_EEXIST);
    CHECK(c == NULL);
    CHECK(clean);
}

static void count_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->accepted++;
    camrtc_conn_set_callbacks(c, &echo_srv_cb, e);
}

static void fail_cli_close(camrtc_conn *c, void *ud, int err)
{
    env *e = ud;
    record_close(&e->cli, c, err);
    close_listener(e);
}

static const camrtc_conn_callbacks fail_cli_cb = {echo_cli_open, NULL, fail_cli_close};

static void run_tls_failure(env *e, const char *host)
{
    CHECK_EQ_INT(camrtc_listener_start(&e->loop, "127.0.0.1", 0, e->scfg, count_accept, e, &e->l), 0);
    camrtc_listener_set_log(e->l, &e->log);
    CHECK_EQ_INT(camrtc_conn_connect(&e->loop, host, camrtc_listener_port(e->l), e->ccfg, &fail_cli_cb, e,
                                     &e->cli.c), 0);
    camrtc_conn_set_log(e->cli.c, &e->log);
    env_run(e);
}

TEST(tls_name_mismatch_against_listener)
{
    /* The client trusts the listener's self-signed cert, which names only
       wrong.invalid, and asks for 127.0.0.1. */
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "wrong.pem", "wrong.key", "wrong.pem"));
    run_tls_failure(&e, "127.0.0.1");
    bool logged = log_has(&e, "certificate verification failed: name mismatch");
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.cli.opened, 0);
    CHECK_EQ_INT(e.cli.closed, 1);
    CHECK_EQ_INT(e.cli.err, CAMRTC_ECERT);
    CHECK_EQ_STR(e.cli.why, "certificate verification failed: name mismatch");
    CHECK(logged);
    CHECK_EQ_INT(e.accepted, 0);
    CHECK(clean);
}

TEST(tls_untrusted_against_listener)
{
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "wrong.pem"));
    run_tls_failure(&e, "localhost");
    bool logged = log_has(&e, "not trusted");
    bool server_logged = log_has(&e, "TLS with 127.0.0.1:");
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.cli.err, CAMRTC_ECERT);
    CHECK_EQ_STR(e.cli.why, "certificate verification failed: not trusted");
    CHECK(logged);
    CHECK(server_logged); /* the server side failed on the client's alert */
    CHECK_EQ_INT(e.accepted, 0);
    CHECK(clean);
}

static void plain_cli_open(camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->cli.opened++;
}

static const camrtc_conn_callbacks silent_cli_cb = {plain_cli_open, NULL, fail_cli_close};

TEST(server_tls_handshake_timeout)
{
    /* A peer that connects to a TLS listener and never says a word. */
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "ca.pem"));
    CHECK_EQ_INT(camrtc_listener_start(&e.loop, "127.0.0.1", 0, e.scfg, count_accept, &e, &e.l), 0);
    camrtc_listener_set_log(e.l, &e.log);
    camrtc_listener_set_handshake_timeout(e.l, 50);
    CHECK_EQ_INT(camrtc_conn_connect(&e.loop, "127.0.0.1", camrtc_listener_port(e.l), NULL, &silent_cli_cb, &e,
                                     &e.cli.c), 0);
    env_run(&e);
    bool logged = log_has(&e, "TLS handshake with 127.0.0.1:");
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.cli.opened, 1);
    CHECK_EQ_INT(e.cli.closed, 1);
    CHECK_EQ_INT(e.cli.err, 0); /* the server closed on it */
    CHECK_EQ_INT(e.accepted, 0);
    CHECK(logged);
    CHECK(clean);
}

static void hold_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->accepted++;
    e->srv.c = c;
    camrtc_conn_set_callbacks(c, &(camrtc_conn_callbacks){NULL, NULL, srv_close}, e);
}

static void abort_srv_cli_close(camrtc_conn *c, void *ud, int err)
{
    env *e = ud;
    record_close(&e->cli, c, err);
    if (e->srv.c)
        camrtc_conn_abort(e->srv.c);
    else
        close_listener(e);
}

static void hold_accept_then_time_out(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    env *e = ud;
    hold_accept(l, c, ud);
    /* Restart the client's count only now, so a loaded machine cannot make it
       expire before the server has even accepted. */
    camrtc_conn_set_open_timeout(e->cli.c, 50);
}

TEST(client_tls_open_timeout)
{
    /* A plain TCP server that never answers the ClientHello. */
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "ca.pem"));
    CHECK_EQ_INT(camrtc_listener_start(&e.loop, "127.0.0.1", 0, NULL, hold_accept_then_time_out, &e, &e.l), 0);
    static const camrtc_conn_callbacks cb = {plain_cli_open, NULL, abort_srv_cli_close};
    CHECK_EQ_INT(camrtc_conn_connect(&e.loop, "localhost", camrtc_listener_port(e.l), e.ccfg, &cb, &e, &e.cli.c),
                 0);
    camrtc_conn_set_log(e.cli.c, &e.log);
    env_run(&e);
    bool logged = log_has(&e, "with localhost:") && log_has(&e, "timed out");
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.cli.opened, 0);
    CHECK_EQ_INT(e.cli.closed, 1);
    CHECK_EQ_INT(e.cli.err, CAMRTC_ETIMEDOUT);
    CHECK(logged);
    CHECK_EQ_INT(e.accepted, 1);
    CHECK_EQ_INT(e.srv.closed, 1);
    CHECK(clean);
}

/* ---------- write bound, close, abort ---------- */

static void paused_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    hold_accept(l, c, ud);
    camrtc_conn_read_stop(c); /* a peer that stops reading */
}

static void flood_open(camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->cli.opened++;
    camrtc_conn_set_max_pending(c, 256 * 1024);
    static uint8_t chunk[64 * 1024];
    int rc = 0;
    for (e->writes = 0; e->writes < 2000 && rc == 0; e->writes++)
        rc = camrtc_conn_write(c, chunk, sizeof chunk);
    e->last_write_rc = rc;
    e->pending_seen = camrtc_conn_pending(c);
    camrtc_conn_abort(c);
    int after = camrtc_conn_write(c, chunk, 1);
    if (after != CAMRTC_ECLOSED)
        e->last_write_rc = 1000 + after;
}

TEST(write_bound_is_elimit)
{
    env e;
    env_init(&e);
    CHECK_EQ_INT(camrtc_listener_start(&e.loop, "127.0.0.1", 0, NULL, paused_accept, &e, &e.l), 0);
    static const camrtc_conn_callbacks cb = {flood_open, NULL, abort_srv_cli_close};
    CHECK_EQ_INT(camrtc_conn_connect(&e.loop, "127.0.0.1", camrtc_listener_port(e.l), NULL, &cb, &e, &e.cli.c), 0);
    env_run(&e);
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.last_write_rc, CAMRTC_ELIMIT);
    CHECK(e.writes < 2000);
    CHECK(e.pending_seen > 0);
    CHECK(e.pending_seen <= 256 * 1024);
    CHECK_EQ_INT(e.cli.closed, 1);
    CHECK_EQ_INT(e.cli.err, 0);
    CHECK_EQ_INT(e.srv.closed, 1);
    CHECK(clean);
}

static void sink_data(camrtc_conn *c, void *ud, const uint8_t *d, size_t n)
{
    env *e = ud;
    check_pattern(&e->srv, d, n);
}

static void sink_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->accepted++;
    e->srv.c = c;
    camrtc_conn_set_callbacks(c, &(camrtc_conn_callbacks){NULL, sink_data, srv_close}, e);
}

static void write_then_close_open(camrtc_conn *c, void *ud)
{
    env *e = ud;
    e->cli.opened++;
    /* More than loopback socket buffers absorb, so that some stays queued. */
    camrtc_conn_set_max_pending(c, 2 * e->payload);
    e->last_write_rc = write_pattern(c, e->payload, NULL);
    e->pending_seen = camrtc_conn_pending(c);
    camrtc_conn_close(c);
    camrtc_conn_close(c); /* idempotent */
    if (camrtc_conn_write(c, "x", 1) != CAMRTC_ECLOSED)
        e->last_write_rc = 1;
}

static void run_close_flush(env *e, bool tls)
{
    e->payload = 24 * 1024 * 1024;
    CHECK_EQ_INT(camrtc_listener_start(&e->loop, "127.0.0.1", 0, tls ? e->scfg : NULL, sink_accept, e, &e->l), 0);
    static const camrtc_conn_callbacks cb = {write_then_close_open, NULL, cli_close};
    CHECK_EQ_INT(camrtc_conn_connect(&e->loop, "127.0.0.1", camrtc_listener_port(e->l), tls ? e->ccfg : NULL, &cb, e,
                                     &e->cli.c), 0);
    env_run(e);
}

#define CHECK_FLUSHED(e) do { \
    CHECK(!(e).timed_out); \
    CHECK_EQ_INT((e).last_write_rc, CAMRTC_OK); \
    CHECK((e).pending_seen > 0); /* the close really had queued data to flush */ \
    CHECK_EQ_INT((e).srv.count, (e).payload); \
    CHECK((e).srv.pattern_ok); \
    CHECK_EQ_INT((e).srv.closed, 1); \
    CHECK_EQ_INT((e).srv.err, 0); \
    CHECK_EQ_INT((e).cli.closed, 1); \
    CHECK_EQ_INT((e).cli.err, 0); \
} while (0)

TEST(close_flushes_pending_plain)
{
    env e;
    env_init(&e);
    run_close_flush(&e, false);
    bool clean = env_done(&e);
    CHECK_FLUSHED(e);
    CHECK(clean);
}

TEST(close_flushes_pending_tls)
{
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "ca.pem"));
    run_close_flush(&e, true);
    bool clean = env_done(&e);
    CHECK_FLUSHED(e);
    CHECK(clean);
}

static void poke_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    hold_accept(l, c, ud);
    camrtc_conn_write(c, "x", 1);
}

static void abort_on_data(camrtc_conn *c, void *ud, const uint8_t *d, size_t n)
{
    camrtc_conn_abort(c);
    camrtc_conn_abort(c);
    camrtc_conn_close(c);
}

static void abort_cli_close(camrtc_conn *c, void *ud, int err)
{
    env *e = ud;
    record_close(&e->cli, c, err);
}

TEST(abort_resets_peer)
{
    env e;
    env_init(&e);
    CHECK_EQ_INT(camrtc_listener_start(&e.loop, "127.0.0.1", 0, NULL, poke_accept, &e, &e.l), 0);
    static const camrtc_conn_callbacks cb = {plain_cli_open, abort_on_data, abort_cli_close};
    CHECK_EQ_INT(camrtc_conn_connect(&e.loop, "127.0.0.1", camrtc_listener_port(e.l), NULL, &cb, &e, &e.cli.c), 0);
    env_run(&e);
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.cli.closed, 1);
    CHECK_EQ_INT(e.cli.err, 0);
    CHECK_EQ_INT(e.srv.closed, 1);
    CHECK_EQ_INT(e.srv.err, CAMRTC_ECONNREFUSED); /* reset by peer */
    CHECK(clean);
}

static void resume_cb(uv_timer_t *t)
{
    env *e = t->data;
    if (e->srv.c)
        camrtc_conn_read_start(e->srv.c);
    uv_close((uv_handle_t *)t, NULL);
}

static void pause_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    env *e = ud;
    sink_accept(l, c, ud);
    camrtc_conn_read_stop(c);
    static uv_timer_t resume;
    uv_timer_init(&e->loop, &resume);
    resume.data = e;
    uv_timer_start(&resume, resume_cb, 30, 0);
}

TEST(read_stop_and_resume)
{
    env e;
    env_init(&e);
    e.payload = 200000;
    CHECK_EQ_INT(camrtc_listener_start(&e.loop, "127.0.0.1", 0, NULL, pause_accept, &e, &e.l), 0);
    static const camrtc_conn_callbacks cb = {write_then_close_open, NULL, cli_close};
    CHECK_EQ_INT(camrtc_conn_connect(&e.loop, "127.0.0.1", camrtc_listener_port(e.l), NULL, &cb, &e, &e.cli.c), 0);
    env_run(&e);
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.last_write_rc, CAMRTC_OK);
    CHECK_EQ_INT(e.srv.count, e.payload);
    CHECK(e.srv.pattern_ok);
    CHECK_EQ_INT(e.srv.err, 0);
    CHECK_EQ_INT(e.cli.err, 0);
    CHECK(clean);
}

static void garbage_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    hold_accept(l, c, ud);
    static const char junk[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    camrtc_conn_write(c, junk, sizeof junk - 1);
}

TEST(tls_garbage_from_server_is_etls)
{
    env e;
    env_init(&e);
    CHECK(env_tls(&e, "server.pem", "server.key", "ca.pem"));
    CHECK_EQ_INT(camrtc_listener_start(&e.loop, "127.0.0.1", 0, NULL, garbage_accept, &e, &e.l), 0);
    static const camrtc_conn_callbacks cb = {plain_cli_open, NULL, abort_srv_cli_close};
    CHECK_EQ_INT(camrtc_conn_connect(&e.loop, "127.0.0.1", camrtc_listener_port(e.l), e.ccfg, &cb, &e, &e.cli.c),
                 0);
    camrtc_conn_set_log(e.cli.c, &e.log);
    env_run(&e);
    bool logged = log_has(&e, "TLS with 127.0.0.1:");
    bool clean = env_done(&e);
    CHECK(!e.timed_out);
    CHECK_EQ_INT(e.cli.opened, 0);
    CHECK_EQ_INT(e.cli.err, CAMRTC_ETLS);
    CHECK(strncmp(e.cli.why, "TLS handshake failed: ", 22) == 0);
    CHECK(logged);
    CHECK(clean);
}

/* ---------- memory of idle connections ---------- */

typedef struct mem_env {
    env e;
    int n, want;
    size_t base;
    size_t per_conn;
    camrtc_conn **conns;
} mem_env;

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks;
}

static void mem_srv_close(camrtc_conn *c, void *ud, int err)
{
    mem_env *m = ud;
    m->n--;
    if (m->n == 0)
        close_listener(&m->e);
}

static void mem_accept(camrtc_listener *l, camrtc_conn *c, void *ud)
{
    mem_env *m = ud;
    camrtc_conn_set_callbacks(c, &(camrtc_conn_callbacks){NULL, NULL, mem_srv_close}, m);
    m->conns[m->n++] = c;
    if (m->n < m->want)
        return;
    /* All idle and open: measure, then hang up on every one. */
    m->per_conn = (heap_in_use() - m->base) / (size_t)m->want;
    for (int i = 0; i < m->want; i++)
        camrtc_conn_close(m->conns[i]);
}

static void child_close(camrtc_conn *c, void *ud, int err)
{
    int *n = ud;
    if (err == 0)
        (*n)++;
}

/* The client side lives in a child process so that only the server's
 * connections count in the parent's heap. */
static int run_clients(uint16_t port, int n, bool tls)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    camrtc_rng rng;
    camrtc_rng_init_seed(&rng, 5);
    char err[200];
    camrtc_tls_config *cfg = tls ? camrtc_tls_config_new_client(data_path("ca.pem"), true, &rng, err, sizeof err)
                                 : NULL;
    int ok = 0;
    static const camrtc_conn_callbacks cb = {NULL, NULL, child_close};
    for (int i = 0; i < n; i++) {
        camrtc_conn *c;
        if (camrtc_conn_connect(&loop, "127.0.0.1", port, cfg, &cb, &ok, &c) != 0)
            return 2;
        camrtc_conn_set_open_timeout(c, 60000);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    return ok == n ? 0 : 1;
}

static void measure_idle(bool tls, int n, size_t *per_conn, int *child_status, bool *timed_out)
{
    mem_env m;
    memset(&m, 0, sizeof m);
    env_init(&m.e);
    if (tls)
        env_tls(&m.e, "server.pem", "server.key", "ca.pem");
    m.want = n;
    m.conns = calloc((size_t)n, sizeof *m.conns);
    camrtc_listener_start(&m.e.loop, "127.0.0.1", 0, tls ? m.e.scfg : NULL, mem_accept, &m, &m.e.l);
    camrtc_listener_set_handshake_timeout(m.e.l, 60000);
    uint16_t port = camrtc_listener_port(m.e.l);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        _exit(run_clients(port, n, tls));
    m.base = heap_in_use();
    env_run(&m.e);
    *timed_out = m.e.timed_out;
    if (m.e.timed_out)
        kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    *child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 100;
    *per_conn = m.per_conn;
    free(m.conns);
    env_done(&m.e);
}

TEST(idle_connection_memory)
{
    /* TLS handshakes cost CPU (P-256 in portable C): fewer of them. */
    int n_plain = UNDER_ASAN ? 200 : 500, n_tls = UNDER_ASAN ? 30 : 100;
    size_t plain = 0, tls = 0;
    int st1 = -1, st2 = -1;
    bool to1 = false, to2 = false;
    measure_idle(false, n_plain, &plain, &st1, &to1);
    measure_idle(true, n_tls, &tls, &st2, &to2);
    printf("idle server-side heap per connection: plain TCP %zu bytes (%d conns), TLS %zu bytes (%d conns)%s\n",
           plain, n_plain, tls, n_tls, UNDER_ASAN ? " (ASan: not meaningful)" : "");
    CHECK(!to1);
    CHECK(!to2);
    CHECK_EQ_INT(st1, 0);
    CHECK_EQ_INT(st2, 0);
    if (!UNDER_ASAN) {
        CHECK(plain > 0);
        CHECK(plain < 1024);
        CHECK(tls > 16384);
        CHECK(tls < 48 * 1024);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    return RUN_TESTS(echo_plain_tcp, echo_plain_dns_localhost, echo_tls_by_name, echo_tls_by_ip_listener_closed_early,
                     echo_ipv6_loopback, connect_refused, bad_arguments, tls_name_mismatch_against_listener,
                     tls_untrusted_against_listener, server_tls_handshake_timeout, client_tls_open_timeout,
                     write_bound_is_elimit, close_flushes_pending_plain, close_flushes_pending_tls,
                     abort_resets_peer, read_stop_and_resume, tls_garbage_from_server_is_etls,
                     idle_connection_memory);
}
