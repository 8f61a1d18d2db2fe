/* Connect time of the signaling client: start → WebSocket open, repeated.
 *
 *   bench_sigclient --endpoint http://127.0.0.1:PORT --channel NAME [--runs 50] [--viewer]
 *
 * cold:   no endpoint cache: Describe, GetSignalingChannelEndpoint, GetIceServerConfig, WSS.
 * cached: the endpoint cache of the previous run: GetIceServerConfig, WSS.
 * Each run starts a new client in the same process and loop and stops it once
 * connected. Prints one JSON object per mode.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "camrtc/error.h"
#include "camrtc/server.h"
#include "camrtc/sigclient.h"
#include "camrtc/time.h"

typedef struct run_state {
    uv_loop_t loop;
    camrtc_sigclient *client;
    camrtc_time_us t0;
    double *samples;
    int n, runs;
    bool cached, failed;
    camrtc_sigclient_config cfg;
    char cache_dir[256];
    uint64_t http_calls;
} run_state;

static void start_run(run_state *r);

static void on_state(void *ud, const char *state, const char *why)
{
    run_state *r = ud;
    if (!strcmp(state, "connected") && r->client) {
        r->samples[r->n++] = (double)(camrtc_now_us() - r->t0) / 1000.0;
        camrtc_sigclient_stats st;
        camrtc_sigclient_get_stats(r->client, &st);
        r->http_calls += st.http_calls;
        camrtc_sigclient_stop(r->client);
    } else if (!strcmp(state, "backoff")) {
        fprintf(stderr, "bench_sigclient: backoff: %s\n", why);
    }
}

static void on_message(void *ud, const camrtc_sigmsg *m)
{
}

static void on_stopped(void *ud)
{
    run_state *r = ud;
    r->client = NULL;
    if (r->n < r->runs && !r->failed)
        start_run(r);
}

static const camrtc_sigclient_callbacks cbs = {.on_state = on_state, .on_message = on_message,
                                               .on_stopped = on_stopped};

static void start_run(run_state *r)
{
    if (!r->cached) {
        /* A fresh, empty cache directory: the cold path. */
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", r->cache_dir);
        if (system(cmd) != 0)
            r->failed = true;
    }
    char err[256];
    r->t0 = camrtc_now_us();
    r->client = camrtc_sigclient_start(&r->loop, &r->cfg, &cbs, r, NULL, err, sizeof err);
    if (!r->client) {
        fprintf(stderr, "bench_sigclient: %s\n", err);
        r->failed = true;
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int measure(run_state *r, bool cached, const char *label)
{
    r->cached = cached;
    r->n = 0;
    r->http_calls = 0;
    r->failed = false;
    start_run(r);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (r->failed || r->n < r->runs)
        return 1;
    qsort(r->samples, (size_t)r->n, sizeof *r->samples, cmp);
    size_t p99 = (size_t)(r->n * 99) / 100;
    if (p99 >= (size_t)r->n)
        p99 = (size_t)r->n - 1;
    printf("{\"bench\":\"signaling_connect\",\"impl\":\"camrtc\",\"mode\":\"%s\",\"role\":\"%s\",\"runs\":%d,"
           "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"http_calls_per_connect\":%.1f}\n",
           label, r->cfg.viewer ? "viewer" : "master", r->n, r->samples[r->n / 2], r->samples[p99],
           (double)r->http_calls / r->n);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"endpoint", required_argument, 0, 'e'}, {"channel", required_argument, 0, 'c'},
        {"runs", required_argument, 0, 'n'}, {"viewer", no_argument, 0, 'v'}, {0, 0, 0, 0},
    };
    static run_state r;
    r.runs = 50;
    r.cfg.region = CAMRTC_LOCAL_REGION;
    r.cfg.creds.access_key_id = CAMRTC_LOCAL_ACCESS_KEY;
    r.cfg.creds.secret_access_key = CAMRTC_LOCAL_SECRET_KEY;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e': r.cfg.endpoint = optarg; break;
        case 'c': r.cfg.channel_name = optarg; break;
        case 'n': r.runs = atoi(optarg); break;
        case 'v': r.cfg.viewer = true; r.cfg.client_id = "bench-viewer"; break;
        default: return 2;
        }
    }
    if (!r.cfg.endpoint || !r.cfg.channel_name || r.runs < 1 || r.runs > 10000) {
        fprintf(stderr, "usage: bench_sigclient --endpoint URL --channel NAME [--runs N] [--viewer]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(r.cache_dir, sizeof r.cache_dir, "/tmp/camrtc-bench-cache-%d", (int)getpid());
    r.cfg.cache_dir = r.cache_dir;
    r.cfg.create_if_missing = true;
    r.samples = calloc((size_t)r.runs, sizeof *r.samples);
    uv_loop_init(&r.loop);
    int rc = measure(&r, false, "cold");
    if (rc == 0)
        rc = measure(&r, true, "cached");
    uv_loop_close(&r.loop);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", r.cache_dir);
    if (system(cmd) != 0)
        rc = 1;
    free(r.samples);
    return rc;
}
