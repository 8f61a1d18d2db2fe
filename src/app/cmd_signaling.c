/* `camrtc signaling`: run the local KVS-compatible signaling service. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "app/app.h"
#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/log.h"
#include "camrtc/server.h"

static const char usage[] =
"usage: camrtc signaling [options]\n"
"\n"
"Runs a local service that speaks the Amazon Kinesis Video Streams WebRTC signaling\n"
"protocol: the SigV4-signed control plane (Create/Describe/Delete/List signaling channels,\n"
"GetSignalingChannelEndpoint, GetIceServerConfig) and the presigned WebSocket data plane,\n"
"with the quotas of the real service (1 master, 10 viewers per channel).\n"
"\n"
"options:\n"
"  --listen HOST:PORT     address to listen on (default 127.0.0.1:8443; port 0 = any free port)\n"
"  --public-host HOST     host name put in the endpoint URLs it hands out (default: the listen host)\n"
"  --public-url URL       base URL to hand out instead (e.g. a proxy in front of it: http://127.0.0.1:9000)\n"
"  --state-dir DIR        where channels (channels.json) and TLS files live\n"
"                         (default $XDG_STATE_HOME/camrtc/signaling or ~/.local/state/camrtc/signaling)\n"
"  --memory               keep channels in memory only (no state directory; not with --tls)\n"
"  --tls                  serve https/wss with a local CA created once in the state directory;\n"
"                         its path is printed so browsers and SDKs can trust it\n"
"  --region R             region accepted in signatures and put in ARNs (default us-west-2)\n"
"  --account ID           12-digit account id put in ARNs (default 111122223333)\n"
"  --access-key AK        accepted access key id     (default: $AWS_ACCESS_KEY_ID, else the local pair)\n"
"  --secret-key SK        accepted secret access key (default: $AWS_SECRET_ACCESS_KEY)\n"
"  --session-token T      required session token     (default: $AWS_SESSION_TOKEN when the key comes from env)\n"
"  --stun URL             a stun: URL for clients (repeatable)\n"
"  --turn-url URL         a turn:/turns: URL returned by GetIceServerConfig (repeatable)\n"
"  --turn-secret S        coturn --static-auth-secret: hand out time-limited TURN credentials\n"
"  --turn-user U --turn-password P   static TURN credentials instead\n"
"  --ice-ttl SECONDS      Ttl of ICE server credentials (default 300)\n"
"  --max-viewers N        viewers per channel (default 10)\n"
"  --idle-timeout SECONDS close WebSocket clients silent this long (default 600)\n"
"  --max-duration SECONDS longest WebSocket connection, GO_AWAY sent before (default 3600)\n"
"  --no-rate-limits       disable the connect and message rate limits (benchmarks)\n"
"  --kvs-js PATH          dist/kvs-webrtc.js of the npm package amazon-kinesis-video-streams-webrtc,\n"
"                         served at /kvs-webrtc.js for the viewer page at / (default: $CAMRTC_KVS_JS;\n"
"                         without it the page explains how to set it; nothing is fetched from a CDN)\n"
"  -h, --help             this text\n"
"\n"
"The local key pair, used when no credentials are given:\n"
"  AWS_ACCESS_KEY_ID=" CAMRTC_LOCAL_ACCESS_KEY "\n"
"  AWS_SECRET_ACCESS_KEY=" CAMRTC_LOCAL_SECRET_KEY "\n"
"environment: CAMRTC_LOG=error|warn|info|debug|trace (default info), AWS_ACCESS_KEY_ID,\n"
"  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, XDG_STATE_HOME, HOME, CAMRTC_KVS_JS.\n"
"Open the listen URL in a browser on this machine for the viewer page (video and live plots).\n"
"Loopback clients may POST /admin/announce {\"ChannelName\":..., \"MessageType\":\"GO_AWAY\"}\n"
"and GET /admin/stats.\n";

typedef struct run_ctx {
    camrtc_signaling *srv;
    uv_signal_t sigint, sigterm;
} run_ctx;

static void on_signal(uv_signal_t *h, int signum)
{
    run_ctx *r = h->data;
    if (r->srv) {
        fprintf(stderr, "camrtc signaling: %s, stopping\n", signum == SIGINT ? "SIGINT" : "SIGTERM");
        camrtc_signaling_stop(r->srv);
        r->srv = NULL;
    }
    uv_close((uv_handle_t *)&r->sigint, NULL);
    uv_close((uv_handle_t *)&r->sigterm, NULL);
}

static int parse_seconds(const char *v, camrtc_time_us *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n <= 0 || n > 7 * 86400)
        return -1;
    *out = CAMRTC_SEC(n);
    return 0;
}

static int default_state_dir(char *out, size_t outsz)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    camrtc_buf path = {0};
    if (xdg && *xdg)
        camrtc_buf_append_str(&path, xdg);
    else if (home && *home)
        camrtc_buf_appendf(&path, "%s/.local/state", home);
    else
        return -1;
    camrtc_buf_append_str(&path, "/camrtc/signaling");
    char *p = camrtc_buf_cstr(&path);
    int rc = p && strlen(p) < outsz ? 0 : -1;
    if (rc == 0) {
        /* Create the parents; the service creates the last level itself. */
        for (char *q = p + 1; *q; q++) {
            if (*q == '/') {
                *q = '\0';
                mkdir(p, 0700);
                *q = '/';
            }
        }
        memcpy(out, p, strlen(p) + 1);
    }
    camrtc_buf_free(&path);
    return rc;
}

int camrtc_cmd_signaling(int argc, char **argv)
{
    enum { O_LISTEN = 256, O_PUBLIC, O_PUBLIC_URL, O_STATE, O_MEMORY, O_TLS, O_REGION, O_ACCOUNT, O_AK, O_SK, O_TOKEN, O_STUN,
           O_TURN, O_TURN_SECRET, O_TURN_USER, O_TURN_PASS, O_ICE_TTL, O_MAX_VIEWERS, O_IDLE, O_MAXDUR, O_NORATE,
           O_KVS_JS };
    static const struct option opts[] = {
        {"listen", required_argument, 0, O_LISTEN}, {"public-host", required_argument, 0, O_PUBLIC},
        {"public-url", required_argument, 0, O_PUBLIC_URL},
        {"state-dir", required_argument, 0, O_STATE}, {"memory", no_argument, 0, O_MEMORY},
        {"tls", no_argument, 0, O_TLS}, {"region", required_argument, 0, O_REGION},
        {"account", required_argument, 0, O_ACCOUNT}, {"access-key", required_argument, 0, O_AK},
        {"secret-key", required_argument, 0, O_SK}, {"session-token", required_argument, 0, O_TOKEN},
        {"stun", required_argument, 0, O_STUN}, {"turn-url", required_argument, 0, O_TURN},
        {"turn-secret", required_argument, 0, O_TURN_SECRET}, {"turn-user", required_argument, 0, O_TURN_USER},
        {"turn-password", required_argument, 0, O_TURN_PASS}, {"ice-ttl", required_argument, 0, O_ICE_TTL},
        {"max-viewers", required_argument, 0, O_MAX_VIEWERS}, {"idle-timeout", required_argument, 0, O_IDLE},
        {"max-duration", required_argument, 0, O_MAXDUR}, {"no-rate-limits", no_argument, 0, O_NORATE},
        {"kvs-js", required_argument, 0, O_KVS_JS}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    camrtc_signaling_config cfg;
    camrtc_signaling_config_default(&cfg);
    const char *ak = NULL, *sk = NULL, *token = NULL, *state_dir = NULL;
    bool memory = false;
    char host[256] = "127.0.0.1";
    long port = 8443;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(usage, stdout); return 0;
        case O_LISTEN: {
            const char *colon = strrchr(optarg, ':');
            char *end;
            if (!colon || colon == optarg || (size_t)(colon - optarg) >= sizeof host)
                return app_fail("signaling", "--listen wants HOST:PORT, got '%s'", optarg);
            port = strtol(colon + 1, &end, 10);
            if (*end || port < 0 || port > 65535)
                return app_fail("signaling", "--listen: bad port in '%s'", optarg);
            const char *h = optarg;
            size_t hl = (size_t)(colon - optarg);
            if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
                h++;
                hl -= 2;
            }
            memcpy(host, h, hl);
            host[hl] = '\0';
            break;
        }
        case O_PUBLIC: cfg.public_host = optarg; break;
        case O_PUBLIC_URL:
            if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
                return app_fail("signaling", "--public-url wants http://HOST:PORT or https://HOST:PORT");
            cfg.public_url = optarg;
            break;
        case O_STATE: state_dir = optarg; break;
        case O_MEMORY: memory = true; break;
        case O_TLS: cfg.tls = true; break;
        case O_REGION: cfg.region = optarg; break;
        case O_ACCOUNT:
            if (strlen(optarg) != 12 || strspn(optarg, "0123456789") != 12)
                return app_fail("signaling", "--account must be 12 digits");
            cfg.account = optarg;
            break;
        case O_AK: ak = optarg; break;
        case O_SK: sk = optarg; break;
        case O_TOKEN: token = optarg; break;
        case O_STUN:
            if (cfg.n_stun == CAMRTC_SIGNALING_MAX_ICE_URLS)
                return app_fail("signaling", "too many --stun URLs (max %d)", CAMRTC_SIGNALING_MAX_ICE_URLS);
            if (strncmp(optarg, "stun:", 5) && strncmp(optarg, "stuns:", 6))
                return app_fail("signaling", "--stun wants a stun: URL, got '%s'", optarg);
            cfg.stun_urls[cfg.n_stun++] = optarg;
            break;
        case O_TURN:
            if (cfg.n_turn == 4)
                return app_fail("signaling", "too many --turn-url (KVS returns at most 4 URIs per server)");
            if (strncmp(optarg, "turn:", 5) && strncmp(optarg, "turns:", 6))
                return app_fail("signaling", "--turn-url wants a turn: or turns: URL, got '%s'", optarg);
            cfg.turn_urls[cfg.n_turn++] = optarg;
            break;
        case O_TURN_SECRET: cfg.turn_secret = optarg; break;
        case O_TURN_USER: cfg.turn_user = optarg; break;
        case O_TURN_PASS: cfg.turn_password = optarg; break;
        case O_ICE_TTL: {
            camrtc_time_us t;
            if (parse_seconds(optarg, &t) < 0)
                return app_fail("signaling", "--ice-ttl wants seconds, got '%s'", optarg);
            cfg.ice_ttl_s = (int)(t / 1000000u);
            break;
        }
        case O_MAX_VIEWERS: {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 1000)
                return app_fail("signaling", "--max-viewers wants 1..1000, got '%s'", optarg);
            cfg.max_viewers = (int)n;
            break;
        }
        case O_IDLE:
            if (parse_seconds(optarg, &cfg.idle_timeout) < 0)
                return app_fail("signaling", "--idle-timeout wants seconds, got '%s'", optarg);
            break;
        case O_MAXDUR:
            if (parse_seconds(optarg, &cfg.max_duration) < 0)
                return app_fail("signaling", "--max-duration wants seconds, got '%s'", optarg);
            break;
        case O_NORATE: cfg.rate_limits = false; break;
        case O_KVS_JS: cfg.kvs_js_path = optarg; break;
        default: return app_fail("signaling", "unknown option (see camrtc signaling --help)");
        }
    }
    if (optind < argc)
        return app_fail("signaling", "unexpected argument '%s'", argv[optind]);
    if (cfg.n_turn && !cfg.turn_secret && !(cfg.turn_user && cfg.turn_password))
        return app_fail("signaling", "--turn-url needs --turn-secret or --turn-user and --turn-password");
    if (memory && cfg.tls)
        return app_fail("signaling", "--tls needs a state directory for its CA; drop --memory");
    if ((ak == NULL) != (sk == NULL))
        return app_fail("signaling", "--access-key and --secret-key go together");
    bool local_pair = false;
    if (ak) {
        cfg.creds.access_key_id = ak;
        cfg.creds.secret_access_key = sk;
        cfg.creds.session_token = token;
    } else if (getenv("AWS_ACCESS_KEY_ID") && getenv("AWS_SECRET_ACCESS_KEY")) {
        cfg.creds.access_key_id = getenv("AWS_ACCESS_KEY_ID");
        cfg.creds.secret_access_key = getenv("AWS_SECRET_ACCESS_KEY");
        cfg.creds.session_token = token ? token : getenv("AWS_SESSION_TOKEN");
    } else {
        local_pair = true;
        cfg.creds.session_token = token;
    }
    if (!cfg.kvs_js_path && getenv("CAMRTC_KVS_JS") && *getenv("CAMRTC_KVS_JS"))
        cfg.kvs_js_path = getenv("CAMRTC_KVS_JS");
    /* Fail at start rather than on the first page load. */
    if (cfg.kvs_js_path && access(cfg.kvs_js_path, R_OK) != 0)
        return app_fail("signaling", "--kvs-js / CAMRTC_KVS_JS: cannot read '%s'", cfg.kvs_js_path);
    cfg.listen_host = host;
    cfg.listen_port = (uint16_t)port;
    char dir[PATH_MAX];
    if (!memory) {
        if (!state_dir) {
            if (default_state_dir(dir, sizeof dir) < 0)
                return app_fail("signaling", "no --state-dir and neither XDG_STATE_HOME nor HOME is set");
            state_dir = dir;
        }
        cfg.state_dir = state_dir;
    }

    camrtc_log log;
    camrtc_log_init_env(&log, stderr);
    uv_loop_t loop;
    uv_loop_init(&loop);
    char err[512] = "";
    run_ctx r = {0};
    r.srv = camrtc_signaling_start(&loop, &cfg, &log, err, sizeof err);
    if (!r.srv) {
        uv_loop_close(&loop);
        return app_fail("signaling", "%s", err);
    }
    printf("camrtc signaling listening on %s\n", camrtc_signaling_listen_url(r.srv));
    if (strcmp(camrtc_signaling_listen_url(r.srv), camrtc_signaling_url(r.srv)))
        printf("endpoints handed out: %s\n", camrtc_signaling_url(r.srv));
    printf("region: %s\n", cfg.region);
    printf("access key: %s\n", cfg.creds.access_key_id);
    if (local_pair)
        printf("secret key: %s (the documented local pair)\n", cfg.creds.secret_access_key);
    if (cfg.state_dir)
        printf("state directory: %s\n", cfg.state_dir);
    printf("viewer page: %s/ (KVS JS SDK: %s)\n", camrtc_signaling_listen_url(r.srv),
           cfg.kvs_js_path ? cfg.kvs_js_path : "not configured, see --kvs-js");
    if (camrtc_signaling_ca_path(r.srv))
        printf("CA certificate: %s\n", camrtc_signaling_ca_path(r.srv));
    fflush(stdout);

    uv_signal_init(&loop, &r.sigint);
    uv_signal_init(&loop, &r.sigterm);
    r.sigint.data = r.sigterm.data = &r;
    uv_signal_start(&r.sigint, on_signal, SIGINT);
    uv_signal_start(&r.sigterm, on_signal, SIGTERM);
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop);
    if (rc != 0)
        fprintf(stderr, "camrtc signaling: loop closed with handles open (%s)\n", uv_strerror(rc));
    return 0;
}
