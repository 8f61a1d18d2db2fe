/* ice_peer: one camrtc ICE agent (through camrtc_iceuv) driven by JSON lines, for the
 * interop tests (aioice, coturn) and the ICE bench.
 *
 * stdout, one JSON object per line:
 *   {"type":"credentials","ufrag":..,"pwd":..}        first, before gathering
 *   {"type":"servers","taken":N,"skipped":N,"servers":[{"url":..,"transport":"udp|tcp|tls","auth":true},..]}
 *                                                     the STUN/TURN servers the adapter took
 *   {"type":"candidate","candidate":"candidate:...","ctype":"host"}
 *   {"type":"gathering_done"}
 *   {"type":"state","state":"connected"}
 *   {"type":"selected","local":..,"remote":..,"local_type":..,"remote_type":..,
 *    "connect_ms":..}   connect_ms: from the last remote candidate added to this selection
 *   {"type":"data","data":".."}
 *   {"type":"role","controlling":true} / {"type":"server_error",..} / {"type":"error",..}
 *   {"type":"stats","stats":{..}}                     when closing starts
 *   {"type":"closed","close_ms":..}                   last line
 * stdin, one JSON object per line:
 *   {"type":"credentials","ufrag":..,"pwd":..}  {"type":"candidate","candidate":..}
 *   {"type":"end_of_candidates"}  {"type":"send","data":..}  {"type":"close"}
 * End of stdin, or --timeout seconds, also closes.
 *
 * --kvs-ice-config FILE: FILE holds a KVS GetIceServerConfig response body, as the service
 * sends it ({"IceServerList":[{"Uris":[..],"Username":..,"Password":..,"Ttl":..}]}); every
 * URI is added with its entry's credentials (camrtc_iceuv_add_kvs_servers), after any
 * --stun/--turn. (The "ice" event of `camrtc master --stdio` leaves the password out, so
 * it cannot be used here.)
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "camrtc/error.h"
#include "camrtc/iceuv.h"
#include "camrtc/kvs.h"
#include "camrtc/log.h"
#include "camrtc/time.h"

#define LINE_MAX_LEN 8192
#define MAX_SERVERS CAMRTC_ICEUV_MAX_SERVERS
#define KVS_BODY_MAX (64 * 1024)     /* camrtc_kvs_parse_ice_config's own bound */

typedef struct server_arg {
    const char *url, *user, *pass;
} server_arg;

typedef struct peer {
    uv_loop_t loop;
    camrtc_log log;
    camrtc_iceuv *ice;
    uv_pipe_t in;
    bool in_open;
    uv_timer_t deadline;
    char line[LINE_MAX_LEN];
    size_t line_len;
    bool line_overflow;
    camrtc_time_us last_remote_cand;  /* when the last remote candidate was added */
    camrtc_time_us started;
    camrtc_time_us close_started;
    bool closing;
    unsigned remote_cands;
    int exit_code;
} peer;

static const char *type_name(camrtc_ice_cand_type t)
{
    switch (t) {
    case CAMRTC_ICE_HOST: return "host";
    case CAMRTC_ICE_SRFLX: return "srflx";
    case CAMRTC_ICE_PRFLX: return "prflx";
    case CAMRTC_ICE_RELAY: return "relay";
    }
    return "?";
}

/* Print o as one line and free it. */
static void emit(cJSON *o)
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

static cJSON *msg(const char *type)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", type);
    return o;
}

static void emit_error(const char *what, int err)
{
    cJSON *o = msg("error");
    cJSON_AddStringToObject(o, "what", what);
    cJSON_AddStringToObject(o, "err", camrtc_errname(err));
    emit(o);
}

static void on_selected(peer *p, const camrtc_ice_event *ev)
{
    char l[CAMRTC_ICE_CANDIDATE_STRLEN], r[CAMRTC_ICE_CANDIDATE_STRLEN];
    camrtc_time_us now = camrtc_now_us();
    cJSON *o = msg("selected");
    if (camrtc_ice_candidate_format(ev->local, l, sizeof l) >= 0)
        cJSON_AddStringToObject(o, "local", l);
    if (camrtc_ice_candidate_format(ev->remote, r, sizeof r) >= 0)
        cJSON_AddStringToObject(o, "remote", r);
    cJSON_AddStringToObject(o, "local_type", type_name(ev->local->type));
    cJSON_AddStringToObject(o, "remote_type", type_name(ev->remote->type));
    if (p->last_remote_cand)
        cJSON_AddNumberToObject(o, "connect_ms", (double)(now - p->last_remote_cand) / 1000.0);
    else
        cJSON_AddNullToObject(o, "connect_ms");
    cJSON_AddNumberToObject(o, "since_start_ms", (double)(now - p->started) / 1000.0);
    /* Monotonic clock readings (CLOCK_MONOTONIC is shared by the processes of one machine):
     * the bench compares two peers with them. */
    cJSON_AddNumberToObject(o, "selected_at_us", (double)now);
    cJSON_AddNumberToObject(o, "last_remote_cand_us", (double)p->last_remote_cand);
    emit(o);
}

static void on_data(const camrtc_ice_event *ev)
{
    cJSON *o = msg("data");
    char *s = malloc(ev->len + 1);
    if (!s) {
        cJSON_Delete(o);
        return;
    }
    memcpy(s, ev->data, ev->len);
    s[ev->len] = '\0';
    cJSON_AddStringToObject(o, "data", s);
    free(s);
    emit(o);
}

static void on_event(camrtc_iceuv *u, void *ud, const camrtc_ice_event *ev)
{
    peer *p = ud;
    cJSON *o;
    switch (ev->type) {
    case CAMRTC_ICE_EV_CANDIDATE:
        o = msg("candidate");
        cJSON_AddStringToObject(o, "candidate", ev->line);
        cJSON_AddStringToObject(o, "ctype", type_name(ev->cand->type));
        emit(o);
        break;
    case CAMRTC_ICE_EV_GATHERING_DONE:
        emit(msg("gathering_done"));
        break;
    case CAMRTC_ICE_EV_STATE:
        o = msg("state");
        cJSON_AddStringToObject(o, "state", camrtc_ice_state_name(ev->state));
        emit(o);
        break;
    case CAMRTC_ICE_EV_SELECTED:
        on_selected(p, ev);
        break;
    case CAMRTC_ICE_EV_DATA:
        on_data(ev);
        break;
    case CAMRTC_ICE_EV_ROLE:
        o = msg("role");
        cJSON_AddBoolToObject(o, "controlling", ev->controlling);
        emit(o);
        break;
    case CAMRTC_ICE_EV_SERVER_ERROR:
        o = msg("server_error");
        cJSON_AddStringToObject(o, "err", camrtc_errname(ev->err));
        cJSON_AddNumberToObject(o, "code", ev->code);
        emit(o);
        break;
    }
}

static void add_stats(cJSON *o, const camrtc_ice_stats *s, const camrtc_iceuv_stats *us)
{
    cJSON *st = cJSON_AddObjectToObject(o, "stats");
    cJSON_AddNumberToObject(st, "checks_sent", (double)s->checks_sent);
    cJSON_AddNumberToObject(st, "checks_retransmitted", (double)s->checks_retransmitted);
    cJSON_AddNumberToObject(st, "checks_received", (double)s->checks_received);
    cJSON_AddNumberToObject(st, "triggered_checks", (double)s->triggered_checks);
    cJSON_AddNumberToObject(st, "prflx_candidates", (double)s->prflx_candidates);
    cJSON_AddNumberToObject(st, "checks_succeeded", (double)s->checks_succeeded);
    cJSON_AddNumberToObject(st, "data_sent", (double)s->data_sent);
    cJSON_AddNumberToObject(st, "data_received", (double)s->data_received);
    cJSON_AddNumberToObject(st, "udp_received", (double)us->udp_received);
    cJSON_AddNumberToObject(st, "udp_sent", (double)us->udp_sent);
    cJSON_AddNumberToObject(st, "stream_bytes_in", (double)us->stream_bytes_in);
    cJSON_AddNumberToObject(st, "stream_bytes_out", (double)us->stream_bytes_out);
}

static void on_close(camrtc_iceuv *u, void *ud)
{
    peer *p = ud;
    p->ice = NULL;
    /* How long the close took: TURN deallocation, then every handle. */
    cJSON *o = msg("closed");
    cJSON_AddNumberToObject(o, "close_ms", (double)(camrtc_now_us() - p->close_started) / 1000.0);
    emit(o);
    uv_close((uv_handle_t *)&p->deadline, NULL);
    if (p->in_open) {
        p->in_open = false;
        uv_close((uv_handle_t *)&p->in, NULL);
    }
}

static void close_peer(peer *p)
{
    if (!p->ice || p->closing)   /* once: stdin's end may follow a close asked for */
        return;
    p->closing = true;
    /* The last figures, before the agent is freed. */
    cJSON *o = msg("stats");
    camrtc_ice_agent *a = camrtc_iceuv_agent(p->ice);
    if (a)
        add_stats(o, camrtc_ice_get_stats(a), camrtc_iceuv_get_stats(p->ice));
    emit(o);
    p->close_started = camrtc_now_us();
    camrtc_iceuv_close(p->ice);
}

/* ---- commands on stdin ------------------------------------------------------------- */

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void command(peer *p, const char *line, size_t len)
{
    cJSON *o = cJSON_ParseWithLength(line, len);
    const char *type = o ? str_field(o, "type") : NULL;
    int rc = CAMRTC_OK;
    if (!type) {
        emit_error("bad command", CAMRTC_EPROTO);
    } else if (!p->ice) {
        /* closing: ignore */
    } else if (!strcmp(type, "credentials")) {
        const char *ufrag = str_field(o, "ufrag"), *pwd = str_field(o, "pwd");
        rc = ufrag && pwd ? camrtc_iceuv_set_remote_credentials(p->ice, ufrag, pwd) : CAMRTC_EPROTO;
    } else if (!strcmp(type, "candidate")) {
        const char *c = str_field(o, "candidate");
        rc = c ? camrtc_iceuv_add_remote_candidate(p->ice, c) : CAMRTC_EPROTO;
        if (rc >= 0) {
            p->remote_cands++;
            p->last_remote_cand = camrtc_now_us();
        }
    } else if (!strcmp(type, "end_of_candidates")) {
        rc = camrtc_iceuv_remote_end_of_candidates(p->ice);
    } else if (!strcmp(type, "send")) {
        const char *d = str_field(o, "data");
        rc = d ? camrtc_iceuv_send(p->ice, (const uint8_t *)d, strlen(d)) : CAMRTC_EPROTO;
    } else if (!strcmp(type, "close")) {
        close_peer(p);
    } else {
        rc = CAMRTC_EINVAL;
    }
    if (rc < 0 && type)
        emit_error(type, rc);
    cJSON_Delete(o);
}

static void on_alloc_in(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    peer *p = h->data;
    buf->base = p->line + p->line_len;
    buf->len = sizeof p->line - p->line_len;
}

/* Lines are cut in place; a line longer than the buffer is dropped whole. */
static void on_stdin(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    peer *p = s->data;
    if (n < 0) {
        if (p->in_open) {
            p->in_open = false;
            uv_close((uv_handle_t *)&p->in, NULL);
        }
        close_peer(p);
        return;
    }
    p->line_len += (size_t)n;
    char *start = p->line;
    char *nl;
    while ((nl = memchr(start, '\n', p->line_len - (size_t)(start - p->line))) != NULL) {
        if (!p->line_overflow)
            command(p, start, (size_t)(nl - start));
        p->line_overflow = false;
        start = nl + 1;
    }
    size_t rest = p->line_len - (size_t)(start - p->line);
    if (rest == sizeof p->line) {   /* no newline in a full buffer */
        p->line_overflow = true;
        rest = 0;
    }
    memmove(p->line, start, rest);
    p->line_len = rest;
}

static void on_deadline(uv_timer_t *t)
{
    peer *p = t->data;
    emit_error("timeout", CAMRTC_ETIMEDOUT);
    p->exit_code = 2;
    close_peer(p);
}

/* ---- servers ------------------------------------------------------------------------- */

static const char *transport_name(camrtc_ice_transport t)
{
    switch (t) {
    case CAMRTC_ICE_UDP: return "udp";
    case CAMRTC_ICE_TCP: return "tcp";
    case CAMRTC_ICE_TLS: return "tls";
    }
    return "?";
}

/* Read and parse a GetIceServerConfig body; CAMRTC_OK and *out or an error (printed). */
static int read_kvs_ice_config(const char *path, camrtc_kvs_ice_config *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "ice_peer: cannot open %s\n", path);
        return CAMRTC_ENOTFOUND;
    }
    char *body = malloc(KVS_BODY_MAX + 1);
    size_t n = body ? fread(body, 1, KVS_BODY_MAX + 1, f) : 0;
    fclose(f);
    if (!body)
        return CAMRTC_ENOMEM;
    /* One byte past the bound read means the file is too big: the parser says so. */
    int rc = camrtc_kvs_parse_ice_config((const uint8_t *)body, n, out);
    free(body);
    if (rc < 0)
        fprintf(stderr, "ice_peer: %s: not a GetIceServerConfig body: %s\n", path, camrtc_strerror(rc));
    return rc;
}

/* The "servers" line: what the adapter took, so that a test can check it. */
static void emit_servers(camrtc_iceuv *u, int taken)
{
    cJSON *o = msg("servers");
    cJSON_AddNumberToObject(o, "taken", taken);
    cJSON_AddNumberToObject(o, "skipped", (double)camrtc_iceuv_get_stats(u)->servers_skipped);
    cJSON *arr = cJSON_AddArrayToObject(o, "servers");
    camrtc_iceuv_server_info si;
    for (unsigned i = 0; camrtc_iceuv_get_server(u, i, &si) == CAMRTC_OK; i++) {
        /* Rebuilt from the parsed form (RFC 7064/7065 syntax): what the adapter understood. */
        const camrtc_ice_url *url = si.url;
        bool v6 = strchr(url->host, ':') != NULL;
        char text[300];
        snprintf(text, sizeof text, "%s:%s%s%s:%u%s%s", !url->turn ? "stun" : url->transport == CAMRTC_ICE_TLS ? "turns" : "turn",
                 v6 ? "[" : "", url->host, v6 ? "]" : "", (unsigned)url->port, url->turn ? "?transport=" : "",
                 !url->turn ? "" : url->transport == CAMRTC_ICE_UDP ? "udp" : "tcp");
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "url", text);
        cJSON_AddStringToObject(e, "transport", transport_name(url->transport));
        cJSON_AddBoolToObject(e, "auth", si.username != NULL);
        cJSON_AddItemToArray(arr, e);
    }
    emit(o);
}

/* --stun/--turn, then the GetIceServerConfig file; < 0 on the first error. */
static int add_servers(camrtc_iceuv *u, const server_arg *servers, unsigned nservers, const char *kvs_file)
{
    int rc = CAMRTC_OK, taken = 0;
    for (unsigned i = 0; i < nservers; i++) {
        if ((rc = camrtc_iceuv_add_server(u, servers[i].url, servers[i].user, servers[i].pass)) < 0) {
            fprintf(stderr, "ice_peer: %s: %s\n", servers[i].url, camrtc_strerror(rc));
            return rc;
        }
        taken++;
    }
    if (kvs_file) {
        camrtc_kvs_ice_config *cfg = malloc(sizeof *cfg);   /* about 6 KB: not on the stack */
        rc = cfg ? read_kvs_ice_config(kvs_file, cfg) : CAMRTC_ENOMEM;
        if (rc >= 0)
            rc = camrtc_iceuv_add_kvs_servers(u, cfg);
        free(cfg);
        if (rc < 0) {
            emit_error("kvs-ice-config", rc);
            return rc;
        }
        taken += rc;
    }
    emit_servers(u, taken);
    return CAMRTC_OK;
}

/* ---- main ---------------------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: ice_peer [--controlling] [--loopback] [--interfaces LIST] [--relay-only]\n"
          "                [--stun URL] [--turn URL --user U --pass P]... [--ca FILE | --insecure]\n"
          "                [--kvs-ice-config FILE] [--timeout SEC]\n"
          "  FILE: a GetIceServerConfig response body ({\"IceServerList\":[...]})\n", stderr);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"controlling", no_argument, NULL, 'c'}, {"loopback", no_argument, NULL, 'l'},
        {"interfaces", required_argument, NULL, 'i'}, {"relay-only", no_argument, NULL, 'r'},
        {"stun", required_argument, NULL, 's'}, {"turn", required_argument, NULL, 't'},
        {"user", required_argument, NULL, 'u'}, {"pass", required_argument, NULL, 'p'},
        {"ca", required_argument, NULL, 'a'}, {"insecure", no_argument, NULL, 'k'},
        {"timeout", required_argument, NULL, 'T'}, {"kvs-ice-config", required_argument, NULL, 'K'},
        {NULL, 0, NULL, 0},
    };
    camrtc_iceuv_config cfg = {0};
    server_arg servers[MAX_SERVERS] = {{0}};
    unsigned nservers = 0;
    const char *kvs_file = NULL;
    long timeout_s = 60;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': cfg.ice.controlling = true; break;
        case 'l': cfg.ice.include_loopback = true; break;
        case 'i': cfg.ice.interfaces = optarg; break;
        case 'r': cfg.ice.policy = CAMRTC_ICE_POLICY_RELAY; break;
        case 's': case 't':
            if (nservers == MAX_SERVERS) {
                fputs("ice_peer: too many servers\n", stderr);
                return 1;
            }
            servers[nservers++].url = optarg;
            break;
        /* --user/--pass belong to the --turn before them. */
        case 'u': if (nservers) servers[nservers - 1].user = optarg; break;
        case 'p': if (nservers) servers[nservers - 1].pass = optarg; break;
        case 'a': cfg.ca_file = optarg; break;
        case 'k': cfg.tls_insecure = true; break;
        case 'T': timeout_s = strtol(optarg, NULL, 10); break;
        case 'K': kvs_file = optarg; break;
        default: usage(); return 1;
        }
    }
    if (optind != argc || timeout_s <= 0) {
        usage();
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);

    peer p = {0};
    camrtc_log_init_env(&p.log, stderr);
    cfg.log = &p.log;
    p.started = camrtc_now_us();
    uv_loop_init(&p.loop);
    static const camrtc_iceuv_callbacks cb = { .on_event = on_event, .on_close = on_close };
    int rc = camrtc_iceuv_new(&p.loop, &cfg, &cb, &p, &p.ice);
    if (rc < 0) {
        fprintf(stderr, "ice_peer: %s\n", camrtc_strerror(rc));
        return 1;
    }
    camrtc_ice_agent *a = camrtc_iceuv_agent(p.ice);
    cJSON *o = msg("credentials");
    cJSON_AddStringToObject(o, "ufrag", camrtc_ice_local_ufrag(a));
    cJSON_AddStringToObject(o, "pwd", camrtc_ice_local_pwd(a));
    emit(o);
    rc = add_servers(p.ice, servers, nservers, kvs_file);

    uv_timer_init(&p.loop, &p.deadline);
    p.deadline.data = &p;
    uv_timer_start(&p.deadline, on_deadline, (uint64_t)timeout_s * 1000u, 0);
    if (uv_pipe_init(&p.loop, &p.in, 0) == 0) {
        p.in.data = &p;
        p.in_open = true;
        if (uv_pipe_open(&p.in, 0) == 0)
            uv_read_start((uv_stream_t *)&p.in, on_alloc_in, on_stdin);
    }
    if (rc >= 0 && (rc = camrtc_iceuv_gather(p.ice)) < 0)
        emit_error("gather", rc);
    if (rc < 0) {
        p.exit_code = 1;
        close_peer(&p);
    }
    uv_run(&p.loop, UV_RUN_DEFAULT);
    uv_loop_close(&p.loop);
    return p.exit_code;
}
