/* `camrtc master` and `camrtc viewer`: join a signaling channel and stay connected.
 *
 * With video (the default; with --stdio only when --source or --out asks for it) the
 * master answers every viewer's offer and streams its source to all of them, and the
 * viewer offers, receives and writes the frames to a file (app/peer_media.h). Every
 * state change and message is logged; --stdio speaks JSON lines for scripts and tests.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <cjson/cJSON.h>

#include "app/app.h"
#include "app/peer_media.h"
#include "camrtc/awsconfig.h"
#include "camrtc/buf.h"
#include "camrtc/error.h"
#include "camrtc/log.h"
#include "camrtc/sigclient.h"
#include "camrtc/str.h"

typedef struct peer {
    const char *cmd;
    bool viewer, stdio;
    camrtc_log log;
    uv_loop_t loop;
    camrtc_sigclient *client;
    uv_signal_t sigint, sigterm;
    uv_timer_t duration;
    uv_pipe_t in;
    bool in_open;
    camrtc_buf line;
    int exit_code;
    peer_media *media;           /* NULL = signaling only */
} peer;

static const char usage_fmt[] =
"usage: camrtc %s --channel NAME [options]\n"
"\n"
"Joins a Kinesis Video Streams signaling channel as its %s and stays connected: Describe (and\n"
"Create with --create), GetSignalingChannelEndpoint, GetIceServerConfig, then a SigV4-presigned\n"
"WebSocket, reconnecting through service restarts, GO_AWAY, dead connections and expired\n"
"credentials. Each state change is logged.\n"
"Video (the default): the master answers every viewer's offer and streams --source to all of them\n"
"(a status line each second on stderr); the viewer offers, receives and writes --out. With --stdio\n"
"and neither --source nor --out, signaling only.\n"
"\n"
"options:\n"
"  --channel NAME         the signaling channel (or --channel-arn ARN)\n"
"  --channel-arn ARN      the channel by ARN\n"
"%s"
"  --create               create the channel when it does not exist\n"
"  --region R             AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's region)\n"
"  --endpoint URL         control-plane endpoint, e.g. http://127.0.0.1:8443 for `camrtc signaling`\n"
"                         (default: $AWS_ENDPOINT_URL_KINESIS_VIDEO, $AWS_ENDPOINT_URL, the profile's\n"
"                         endpoint_url, else AWS itself)\n"
"  --profile NAME         profile in ~/.aws/credentials and ~/.aws/config (default: $AWS_PROFILE or default)\n"
"  --ca-file FILE         CA bundle to trust for https/wss (default: the system bundle)\n"
"  --cache-dir DIR        endpoint cache (default $XDG_CACHE_HOME/camrtc or ~/.cache/camrtc)\n"
"  --no-cache             do not read or write the endpoint cache\n"
"  --iot-endpoint HOST    AWS IoT credentials provider endpoint (with the four options below, credentials\n"
"  --iot-role-alias A     come from it over mutual TLS and are refreshed before they expire)\n"
"  --iot-thing-name T\n"
"  --iot-cert FILE --iot-key FILE [--iot-ca FILE]\n"
"  --duration SECONDS     stop after this long (default: run until SIGINT/SIGTERM)\n"
"%s"
"  --relay-only           use TURN relays only (no host or server-reflexive candidates)\n"
"  --stats-json FILE      write W3C-named statistics as JSON at exit\n"
"  --stdio                machine interface: events as JSON lines on stdout, commands as JSON lines on stdin\n"
"                         ({\"send\":\"SDP_OFFER|SDP_ANSWER|ICE_CANDIDATE\",\"to\":ID,\"payload\":{...}},\n"
"                         {\"stop\":true})\n"
"  --ping-interval-ms N   WebSocket ping after N ms of silence (default 10000)\n"
"  --pong-timeout-ms N    the connection is dead after N ms without an answer (default 5000)\n"
"  --max-connection-s N   reconnect gracefully after N s (default 3300, before the service's 1 h limit)\n"
"  --clock-offset-s N     pretend the local clock is N seconds off (tests skew correction)\n"
"  -h, --help             this text\n"
"\n"
"environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE, AWS_REGION,\n"
"  AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_KINESIS_VIDEO, AWS_ENDPOINT_URL, AWS_SHARED_CREDENTIALS_FILE,\n"
"  AWS_CONFIG_FILE, XDG_CACHE_HOME, HOME, CAMRTC_LOG=error|warn|info|debug|trace.\n"
"Credentials never appear in logs.\n"
"%s";

static const char master_media_usage[] =
"  --source SPEC          video source: testsrc (default), y4m:FILE, v4l2:/dev/videoN, h264:FILE, h264dir:DIR\n"
"  --size WxH             picture size (default 1280x720)\n"
"  --fps N                frame rate (default 30)\n"
"  --bitrate K            encoder bitrate in kbit/s (default 2500)\n"
"  --max-viewers N        concurrent viewers; one more is refused (default 10)\n"
"  --h264-profile P       constrained-baseline (default), main or high: the profile the encoder starts\n"
"                         with. One encoder feeds every viewer: a viewer whose offer lacks the current\n"
"                         profile switches the encoder (x264 reopened, next picture an IDR) when it is\n"
"                         the only one, and is refused while others watch. An offer whose levels are\n"
"                         all below what --size/--fps need is refused (docs/media.md)\n";
static const char viewer_media_usage[] =
"  --out FILE.h264        write the received frames as Annex-B H.264\n"
"  --h264-profile P       offer only this H.264 profile: constrained-baseline, main or high\n"
"                         (default: all of them)\n";
static const char viewer_exit_usage[] =
"exit status: 0 after --duration or a signal; 2 for unusable options or configuration; 3 when the\n"
"  master refused this viewer (its SDP answer rejected every m= line: --max-viewers reached, or no\n"
"  H.264 profile and level it can send): the viewer stops at once, and --stats-json says \"refused\": true.\n";

static void print_usage(const char *cmd, bool viewer)
{
    printf(usage_fmt, cmd, viewer ? "viewer" : "master",
           viewer ? "  --client-id ID         viewer id, [A-Za-z0-9_.-]{1,256}, not AWS_... (default: random)\n" : "",
           viewer ? viewer_media_usage : master_media_usage, viewer ? viewer_exit_usage : "");
}

static void emit(peer *p, cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        free(s);
    }
    cJSON_Delete(o);
}

static void on_state(void *ud, const char *state, const char *why)
{
    peer *p = ud;
    CAMRTC_LOGI(&p->log, p->cmd, "state %s%s%s", state, why && *why ? ": " : "", why ? why : "");
    if (p->media)
        peer_media_on_state(p->media, state);
    if (p->stdio) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "event", "state");
        cJSON_AddStringToObject(o, "state", state);
        cJSON_AddStringToObject(o, "why", why ? why : "");
        emit(p, o);
    }
}

static void on_message(void *ud, const camrtc_sigmsg *m)
{
    peer *p = ud;
    CAMRTC_LOGI(&p->log, p->cmd, "received %s%s%s (%zu bytes of payload)", camrtc_sigmsg_type_name(m->type),
                m->peer_id[0] ? " from " : "", m->peer_id, m->payload_len);
    if (p->media)
        peer_media_on_message(p->media, m);
    if (!p->stdio)
        return;
    camrtc_buf b = {0};
    cJSON *payload = NULL;
    if (camrtc_sigmsg_get_payload_json(m, &b) == 0)
        payload = cJSON_ParseWithLength((const char *)camrtc_buf_data(&b), b.len);
    camrtc_buf_free(&b);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "message");
    cJSON_AddStringToObject(o, "type", camrtc_sigmsg_type_name(m->type));
    cJSON_AddStringToObject(o, "from", m->peer_id);
    cJSON_AddItemToObject(o, "payload", payload ? payload : cJSON_CreateNull());
    emit(p, o);
}

static void on_status(void *ud, const camrtc_sigmsg *m)
{
    peer *p = ud;
    CAMRTC_LOGW(&p->log, p->cmd, "status for message %s: %d %s %s", m->correlation_id, m->status_code,
                m->error_type, m->description);
    if (!p->stdio)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "status");
    cJSON_AddStringToObject(o, "correlationId", m->correlation_id);
    cJSON_AddStringToObject(o, "errorType", m->error_type);
    cJSON_AddNumberToObject(o, "statusCode", m->status_code);
    cJSON_AddStringToObject(o, "description", m->description);
    emit(p, o);
}

static void on_ice(void *ud, const camrtc_kvs_ice_config *c)
{
    peer *p = ud;
    CAMRTC_LOGI(&p->log, p->cmd, "ICE configuration: %zu TURN server(s)%s", c->n_servers,
                c->n_servers ? "" : " (host and STUN only)");
    if (p->media)
        peer_media_on_ice_config(p->media, c);
    if (!p->stdio)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "ice");
    cJSON *arr = cJSON_AddArrayToObject(o, "servers");
    for (size_t i = 0; i < c->n_servers; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON *uris = cJSON_AddArrayToObject(s, "uris");
        for (size_t k = 0; k < c->servers[i].n_uris; k++)
            cJSON_AddItemToArray(uris, cJSON_CreateString(c->servers[i].uris[k]));
        /* The username carries the expiry; the password is a credential and stays out. */
        cJSON_AddStringToObject(s, "username", c->servers[i].username);
        cJSON_AddNumberToObject(s, "ttl", c->servers[i].ttl_s);
        cJSON_AddItemToArray(arr, s);
    }
    emit(p, o);
}

static void close_all(peer *p)
{
    if (!uv_is_closing((uv_handle_t *)&p->sigint)) {
        uv_close((uv_handle_t *)&p->sigint, NULL);
        uv_close((uv_handle_t *)&p->sigterm, NULL);
        uv_close((uv_handle_t *)&p->duration, NULL);
    }
    if (p->in_open) {
        p->in_open = false;
        uv_close((uv_handle_t *)&p->in, NULL);
    }
}

static void on_stopped(void *ud)
{
    peer *p = ud;
    camrtc_sigclient_stats st;
    camrtc_sigclient_get_stats(p->client, &st);
    CAMRTC_LOGI(&p->log, p->cmd, "stopped: %llu messages in, %llu out, %llu reconnects, %llu dropped",
                (unsigned long long)st.messages_in, (unsigned long long)st.messages_out,
                (unsigned long long)st.reconnects,
                (unsigned long long)(st.dropped_malformed + st.dropped_too_large));
    if (p->stdio) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "event", "stopped");
        cJSON_AddNumberToObject(o, "messagesIn", (double)st.messages_in);
        cJSON_AddNumberToObject(o, "messagesOut", (double)st.messages_out);
        cJSON_AddNumberToObject(o, "reconnects", (double)st.reconnects);
        cJSON_AddNumberToObject(o, "httpCalls", (double)st.http_calls);
        cJSON_AddNumberToObject(o, "wsConnects", (double)st.ws_connects);
        cJSON_AddNumberToObject(o, "deadConnections", (double)st.dead_connections);
        cJSON_AddNumberToObject(o, "clockCorrections", (double)st.clock_corrections);
        cJSON_AddNumberToObject(o, "goAways", (double)st.go_aways);
        cJSON_AddNumberToObject(o, "iceRefreshes", (double)st.ice_refreshes);
        cJSON_AddNumberToObject(o, "droppedMalformed", (double)st.dropped_malformed);
        cJSON_AddNumberToObject(o, "droppedTooLarge", (double)st.dropped_too_large);
        emit(p, o);
    }
    p->client = NULL;
    close_all(p);
}

/* The peer connections are closed (close_notify sent, TURN deallocated): now the
 * WebSocket. */
static void media_stopped(void *ud)
{
    peer *p = ud;
    if (p->client)
        camrtc_sigclient_stop(p->client);
    else
        close_all(p);
}

static void stop(peer *p)
{
    if (p->media)
        peer_media_stop(p->media, media_stopped, p);   /* idempotent; media_stopped follows */
    else
        media_stopped(p);
}

static void on_signal(uv_signal_t *h, int signum)
{
    stop(h->data);
}

static void on_duration(uv_timer_t *t)
{
    stop(t->data);
}

/* The master refused this viewer: stop now, on the next loop turn (this comes from
 * inside the signaling client's message callback), and exit with APP_EXIT_REFUSED. */
static void on_refused(void *ud)
{
    peer *p = ud;
    p->exit_code = APP_EXIT_REFUSED;
    uv_timer_start(&p->duration, on_duration, 0, 0);
}

/* One command line from stdin. */
static void command(peer *p, const char *line, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    const cJSON *send = cJSON_GetObjectItemCaseSensitive(o, "send");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(o, "to");
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(o, "payload");
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "event", "sent");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "stop"))) {
        cJSON_Delete(ev);
        cJSON_Delete(o);
        stop(p);
        return;
    }
    int rc = CAMRTC_EINVAL;
    char corr[300] = "";
    camrtc_sigmsg_type t = cJSON_IsString(send) ? camrtc_sigmsg_type_parse(send->valuestring) : CAMRTC_SIGMSG_UNKNOWN;
    if (p->client && payload && (t == CAMRTC_SIGMSG_SDP_OFFER || t == CAMRTC_SIGMSG_SDP_ANSWER ||
                                 t == CAMRTC_SIGMSG_ICE_CANDIDATE)) {
        char *pj = cJSON_PrintUnformatted(payload);
        if (pj) {
            rc = camrtc_sigclient_send(p->client, t, cJSON_IsString(to) ? to->valuestring : NULL, pj, strlen(pj),
                                       corr, sizeof corr);
            free(pj);
        }
    }
    cJSON_AddStringToObject(ev, "correlationId", corr);
    cJSON_AddStringToObject(ev, "result", rc < 0 ? camrtc_errname(rc) : "ok");
    emit(p, ev);
    cJSON_Delete(o);
}

static void alloc_in(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char mem[65536];   /* app layer: one stdin reader per process */
    *buf = uv_buf_init(mem, sizeof mem);
}

static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    peer *p = s->data;
    if (n < 0) {
        /* stdin closed: the controlling script is gone */
        stop(p);
        return;
    }
    if (camrtc_buf_append(&p->line, buf->base, (size_t)n) < 0) {
        camrtc_buf_reset(&p->line);
        return;
    }
    for (;;) {
        uint8_t *d = camrtc_buf_data(&p->line);
        uint8_t *nl = d ? memchr(d, '\n', p->line.len) : NULL;
        if (!nl)
            break;
        size_t len = (size_t)(nl - d);
        command(p, (const char *)d, len);
        camrtc_buf_consume(&p->line, len + 1);
    }
}

static int default_cache_dir(char *out, size_t outsz)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, outsz, "%s/camrtc", xdg);
    else if (home && *home)
        n = snprintf(out, outsz, "%s/.cache/camrtc", home);
    else
        return -1;
    return n > 0 && (size_t)n < outsz ? 0 : -1;
}

static int parse_uint(const char *v, uint32_t max, uint32_t *out)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || (unsigned long)n > max)
        return -1;
    *out = (uint32_t)n;
    return 0;
}

/* "WxH", even sizes 16..4096 (the source checks the rest). */
static int parse_size(const char *v, int *w, int *h)
{
    char *end;
    long a = strtol(v, &end, 10);
    if (*end != 'x' && *end != 'X')
        return -1;
    long b = strtol(end + 1, &end, 10);
    if (*end || a < 16 || b < 16 || a > 4096 || b > 4096)
        return -1;
    *w = (int)a;
    *h = (int)b;
    return 0;
}

/* The profiles an encoder of ours makes, by their SDP names. */
static int parse_h264_profile(const char *v, camrtc_sdp_h264_profile *out)
{
    static const camrtc_sdp_h264_profile ours[] = {CAMRTC_SDP_H264_CONSTRAINED_BASELINE, CAMRTC_SDP_H264_MAIN,
                                                   CAMRTC_SDP_H264_HIGH};
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
        if (strcmp(v, camrtc_sdp_h264_profile_name(ours[i])) == 0) {
            *out = ours[i];
            return 0;
        }
    return -1;
}

int camrtc_cmd_peer(int argc, char **argv, bool viewer)
{
    const char *cmd = viewer ? "viewer" : "master";
    enum { O_CHANNEL = 256, O_ARN, O_CLIENT, O_CREATE, O_REGION, O_ENDPOINT, O_PROFILE, O_CA, O_CACHE, O_NOCACHE,
           O_IOT_EP, O_IOT_ALIAS, O_IOT_THING, O_IOT_CERT, O_IOT_KEY, O_IOT_CA, O_DURATION, O_STDIO, O_PING, O_PONG,
           O_MAXCONN, O_SKEW, O_SOURCE, O_SIZE, O_FPS, O_BITRATE, O_MAXVIEW, O_RELAY, O_STATS, O_OUT,
           O_H264_PROFILE };
    static const struct option opts[] = {
        {"channel", required_argument, 0, O_CHANNEL}, {"channel-arn", required_argument, 0, O_ARN},
        {"client-id", required_argument, 0, O_CLIENT}, {"create", no_argument, 0, O_CREATE},
        {"region", required_argument, 0, O_REGION}, {"endpoint", required_argument, 0, O_ENDPOINT},
        {"profile", required_argument, 0, O_PROFILE}, {"ca-file", required_argument, 0, O_CA},
        {"cache-dir", required_argument, 0, O_CACHE}, {"no-cache", no_argument, 0, O_NOCACHE},
        {"iot-endpoint", required_argument, 0, O_IOT_EP}, {"iot-role-alias", required_argument, 0, O_IOT_ALIAS},
        {"iot-thing-name", required_argument, 0, O_IOT_THING}, {"iot-cert", required_argument, 0, O_IOT_CERT},
        {"iot-key", required_argument, 0, O_IOT_KEY}, {"iot-ca", required_argument, 0, O_IOT_CA},
        {"duration", required_argument, 0, O_DURATION}, {"stdio", no_argument, 0, O_STDIO},
        {"ping-interval-ms", required_argument, 0, O_PING}, {"pong-timeout-ms", required_argument, 0, O_PONG},
        {"max-connection-s", required_argument, 0, O_MAXCONN}, {"clock-offset-s", required_argument, 0, O_SKEW},
        {"source", required_argument, 0, O_SOURCE}, {"size", required_argument, 0, O_SIZE},
        {"fps", required_argument, 0, O_FPS}, {"bitrate", required_argument, 0, O_BITRATE},
        {"max-viewers", required_argument, 0, O_MAXVIEW}, {"relay-only", no_argument, 0, O_RELAY},
        {"stats-json", required_argument, 0, O_STATS}, {"out", required_argument, 0, O_OUT},
        {"h264-profile", required_argument, 0, O_H264_PROFILE},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    camrtc_sigclient_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.viewer = viewer;
    camrtc_aws_config_input in;
    memset(&in, 0, sizeof in);
    camrtc_sigclient_iot iot;
    memset(&iot, 0, sizeof iot);
    bool no_cache = false, use_iot = false;
    const char *cache_dir = NULL;
    uint32_t duration_s = 0;
    peer_media_opts mo;
    memset(&mo, 0, sizeof mo);
    mo.viewer = viewer;
    uint32_t u32 = 0;
    static peer p;   /* app layer: one peer per process */
    memset(&p, 0, sizeof p);
    p.cmd = cmd;
    p.viewer = viewer;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h': print_usage(cmd, viewer); return 0;
        case O_CHANNEL: cfg.channel_name = optarg; break;
        case O_ARN: cfg.channel_arn = optarg; break;
        case O_CLIENT:
            if (!viewer)
                return app_fail(cmd, "--client-id is for viewers (the master has none)");
            cfg.client_id = optarg;
            break;
        case O_CREATE: cfg.create_if_missing = true; break;
        case O_REGION: in.region = optarg; break;
        case O_ENDPOINT: in.endpoint = optarg; break;
        case O_PROFILE: in.profile = optarg; break;
        case O_CA: cfg.ca_file = optarg; break;
        case O_CACHE: cache_dir = optarg; break;
        case O_NOCACHE: no_cache = true; break;
        case O_IOT_EP: iot.endpoint = optarg; use_iot = true; break;
        case O_IOT_ALIAS: iot.role_alias = optarg; use_iot = true; break;
        case O_IOT_THING: iot.thing_name = optarg; use_iot = true; break;
        case O_IOT_CERT: iot.cert_file = optarg; use_iot = true; break;
        case O_IOT_KEY: iot.key_file = optarg; use_iot = true; break;
        case O_IOT_CA: iot.ca_file = optarg; break;
        case O_DURATION:
            if (parse_uint(optarg, 7 * 86400, &duration_s) < 0)
                return app_fail(cmd, "--duration wants seconds, got '%s'", optarg);
            break;
        case O_STDIO: p.stdio = true; break;
        case O_PING:
            if (parse_uint(optarg, 3600000, &cfg.ping_interval_ms) < 0)
                return app_fail(cmd, "--ping-interval-ms wants a positive number, got '%s'", optarg);
            break;
        case O_PONG:
            if (parse_uint(optarg, 3600000, &cfg.pong_timeout_ms) < 0)
                return app_fail(cmd, "--pong-timeout-ms wants a positive number, got '%s'", optarg);
            break;
        case O_MAXCONN:
            if (parse_uint(optarg, 86400, &cfg.max_connection_s) < 0)
                return app_fail(cmd, "--max-connection-s wants seconds, got '%s'", optarg);
            break;
        case O_SKEW: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < -86400 || v > 86400)
                return app_fail(cmd, "--clock-offset-s wants seconds within a day, got '%s'", optarg);
            cfg.clock_offset_s = v;
            break;
        }
        case O_SOURCE: case O_SIZE: case O_FPS: case O_BITRATE: case O_MAXVIEW:
            if (viewer)
                return app_fail(cmd, "--source, --size, --fps, --bitrate and --max-viewers are for the master");
            if (c == O_SOURCE)
                mo.source = optarg;
            else if (c == O_SIZE && parse_size(optarg, &mo.width, &mo.height) < 0)
                return app_fail(cmd, "--size wants WxH (16..4096), got '%s'", optarg);
            else if (c != O_SOURCE && c != O_SIZE && parse_uint(optarg, 100000, &u32) < 0)
                return app_fail(cmd, "a positive number, got '%s'", optarg);
            if (c == O_FPS)
                mo.fps = (int)u32;
            else if (c == O_BITRATE)
                mo.bitrate_kbps = (int)u32;
            else if (c == O_MAXVIEW)
                mo.max_viewers = u32;
            break;
        case O_OUT:
            if (!viewer)
                return app_fail(cmd, "--out is for viewers");
            mo.out = optarg;
            break;
        case O_H264_PROFILE:
            if (parse_h264_profile(optarg, &mo.h264_profile) < 0)
                return app_fail(cmd, "--h264-profile wants constrained-baseline, main or high, got '%s'", optarg);
            mo.h264_profile_set = true;
            break;
        case O_RELAY: mo.relay_only = true; break;
        case O_STATS: mo.stats_json = optarg; break;
        default: return app_fail(cmd, "unknown option (see camrtc %s --help)", cmd);
        }
    }
    if (optind < argc)
        return app_fail(cmd, "unexpected argument '%s'", argv[optind]);
    if (!cfg.channel_name == !cfg.channel_arn)
        return app_fail(cmd, "give exactly one of --channel NAME and --channel-arn ARN");
    if (cfg.channel_name && !camrtc_str_is_name(cfg.channel_name, strlen(cfg.channel_name), 256))
        return app_fail(cmd, "channel names are 1-256 of [A-Za-z0-9_.-], got '%s'", cfg.channel_name);
    if (cfg.client_id && (!camrtc_str_is_name(cfg.client_id, strlen(cfg.client_id), 256) ||
                          strncmp(cfg.client_id, "AWS_", 4) == 0))
        return app_fail(cmd, "--client-id must match [A-Za-z0-9_.-]{1,256} and not start with AWS_");

    camrtc_aws_config aws;
    char err[512] = "";
    int rc = camrtc_aws_config_resolve(&in, &aws, err, sizeof err);
    if (rc < 0 && !(use_iot && rc == CAMRTC_ENOTFOUND && aws.region[0]))
        return app_fail(cmd, "%s", err);
    cfg.region = aws.region;
    cfg.endpoint = aws.endpoint[0] ? aws.endpoint : NULL;
    cfg.creds.access_key_id = aws.access_key_id;
    cfg.creds.secret_access_key = aws.secret_access_key;
    cfg.creds.session_token = aws.session_token[0] ? aws.session_token : NULL;
    if (use_iot)
        cfg.iot = &iot;
    char cache[PATH_MAX];
    if (!no_cache) {
        if (cache_dir)
            cfg.cache_dir = cache_dir;
        else if (default_cache_dir(cache, sizeof cache) == 0)
            cfg.cache_dir = cache;
    }

    camrtc_log_init_env(&p.log, stderr);
    CAMRTC_LOGI(&p.log, cmd, "channel %s, region %s, endpoint %s, credentials from %s%s%s",
                cfg.channel_name ? cfg.channel_name : cfg.channel_arn, cfg.region,
                cfg.endpoint ? cfg.endpoint : "AWS", use_iot ? "the AWS IoT credentials provider" : aws.source,
                use_iot ? "" : " with key ", use_iot ? "" : aws.access_key_id);
    uv_loop_init(&p.loop);
    uv_signal_init(&p.loop, &p.sigint);
    uv_signal_init(&p.loop, &p.sigterm);
    uv_timer_init(&p.loop, &p.duration);
    p.sigint.data = p.sigterm.data = p.duration.data = &p;
    uv_signal_start(&p.sigint, on_signal, SIGINT);
    uv_signal_start(&p.sigterm, on_signal, SIGTERM);
    if (duration_s)
        uv_timer_start(&p.duration, on_duration, (uint64_t)duration_s * 1000, 0);
    /* Video by default; --stdio (scripts driving the signaling by hand) only when asked. */
    if (!p.stdio || mo.source || mo.out) {
        mo.ca_file = cfg.ca_file;
        mo.on_refused = on_refused;
        mo.ud = &p;
        p.media = peer_media_new(&p.loop, &p.log, &mo, err, sizeof err);
        if (!p.media) {
            close_all(&p);
            uv_run(&p.loop, UV_RUN_DEFAULT);
            uv_loop_close(&p.loop);
            return app_fail(cmd, "%s", err);
        }
    }
    if (p.stdio && uv_pipe_init(&p.loop, &p.in, 0) == 0) {
        if (uv_pipe_open(&p.in, 0) == 0) {
            p.in.data = &p;
            p.in_open = true;
            p.line.max_cap = 1 << 20;
            uv_read_start((uv_stream_t *)&p.in, alloc_in, on_stdin);
        } else {
            uv_close((uv_handle_t *)&p.in, NULL);
        }
    }
    static const camrtc_sigclient_callbacks cb = {
        .on_state = on_state, .on_message = on_message, .on_status = on_status, .on_ice_config = on_ice,
        .on_stopped = on_stopped,
    };
    p.client = camrtc_sigclient_start(&p.loop, &cfg, &cb, &p, &p.log, err, sizeof err);
    if (p.media)
        peer_media_set_client(p.media, p.client);
    if (!p.client) {
        stop(&p);
        uv_run(&p.loop, UV_RUN_DEFAULT);
        uv_loop_close(&p.loop);
        peer_media_free(p.media);
        uv_run(&p.loop, UV_RUN_DEFAULT);
        uv_loop_close(&p.loop);
        return app_fail(cmd, "%s", err);
    }
    if (viewer)
        CAMRTC_LOGI(&p.log, cmd, "client id %s", camrtc_sigclient_client_id(p.client));
    uv_run(&p.loop, UV_RUN_DEFAULT);
    uv_loop_close(&p.loop);
    peer_media_free(p.media);
    camrtc_buf_free(&p.line);
    return p.exit_code;
}
