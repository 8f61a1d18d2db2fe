/* Fuzzes the signaling hub with a script of glue events read from the input:
 * connects, messages (built ones that reach routing and holding, or raw bytes),
 * activity, disconnects, timers, announcements and channel deletions, with
 * small limits so that every bound is reached. Checks, besides the sanitizers:
 * the hub never sends to or closes a connection it has already let go, every
 * frame it sends is a message a client parses, its connection count matches
 * the connections it has handed out, and timers due are always run. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/buf.h"
#include "camrtc/sigmsg.h"
#include "server/hub.h"

#define MAX_LIVE 64

typedef struct script {
    const uint8_t *p;
    size_t n;
} script;

static unsigned take(script *s)
{
    if (!s->n)
        return 0;
    s->n--;
    return *s->p++;
}

typedef struct glue {
    uint64_t live[MAX_LIVE];
    size_t nlive;
    uint64_t max_id;     /* highest id handed out by the hub so far */
    bool connecting;     /* inside sig_hub_connect: held messages go to the next id */
} glue;

static bool is_live(const glue *g, uint64_t id)
{
    for (size_t i = 0; i < g->nlive; i++)
        if (g->live[i] == id)
            return true;
    return false;
}

static void forget(glue *g, uint64_t id)
{
    for (size_t i = 0; i < g->nlive; i++) {
        if (g->live[i] == id) {
            g->live[i] = g->live[--g->nlive];
            return;
        }
    }
}

static void on_send(void *ud, uint64_t id, const char *text, size_t len)
{
    glue *g = ud;
    if (!is_live(g, id) && !(g->connecting && id > g->max_id))
        abort();
    camrtc_sigmsg m;
    if (camrtc_sigmsg_parse_from_service(text, len, &m, NULL, 0) != 0)
        abort();
    camrtc_sigmsg_clear(&m);
}

static void on_close(void *ud, uint64_t id, uint16_t code, const char *reason)
{
    glue *g = ud;
    if (!is_live(g, id) || !reason)
        abort();
    forget(g, id);
}

static const char *const arns[] = {
    "arn:aws:kinesisvideo:us-west-2:123456789012:channel/a/1700000000000",
    "arn:aws:kinesisvideo:us-west-2:123456789012:channel/b/1700000000001",
};

/* A client id from one byte: a few valid ones, and some the hub refuses. */
static const char *client_id(unsigned b)
{
    static const char *const ids[] = {"v0", "v1", "v2", "v3", "viewer-4", "AWS_x", "bad id", ""};
    return ids[b % 8];
}

static void build_message(script *s, camrtc_buf *out)
{
    static const camrtc_sigmsg_type types[] = {CAMRTC_SIGMSG_SDP_OFFER, CAMRTC_SIGMSG_SDP_ANSWER,
                                               CAMRTC_SIGMSG_ICE_CANDIDATE};
    unsigned flags = take(s);
    camrtc_sigmsg m;
    memset(&m, 0, sizeof m);
    m.type = types[flags % 3];
    if (flags & 4)
        snprintf(m.peer_id, sizeof m.peer_id, "%s", client_id(take(s) % 5));
    if (flags & 8)
        snprintf(m.correlation_id, sizeof m.correlation_id, "c%u", take(s));
    char inner[64];
    size_t n = take(s) % sizeof inner;
    for (size_t i = 0; i < n; i++)
        inner[i] = (char)('a' + take(s) % 26);
    camrtc_sigmsg_set_payload_json(&m, inner, n);
    if (flags & 16) {
        m.ice_server_list = malloc(32);
        if (m.ice_server_list)
            strcpy(m.ice_server_list, "[{\"Uris\":[\"turn:x\"]}]");
    }
    if (camrtc_sigmsg_write_to_service(out, &m) == 0 && (flags & 32) && out->len > 2) {
        /* Break one byte so that the refusal paths run too. */
        camrtc_buf_data(out)[take(s) % out->len] = (uint8_t)take(s);
    }
    camrtc_sigmsg_clear(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    script s = {data, size};
    sig_hub_config cfg;
    sig_hub_config_default(&cfg);
    unsigned knobs = take(&s);
    cfg.max_viewers = 3;
    cfg.connects_per_s = knobs & 1 ? 0 : 3;
    cfg.sdp_per_s = knobs & 2 ? 0 : 2;
    cfg.candidates_per_s = knobs & 2 ? 0 : 4;
    cfg.idle_timeout = CAMRTC_SEC(30);
    cfg.max_duration = knobs & 4 ? 0 : CAMRTC_SEC(120);
    cfg.go_away_lead = CAMRTC_SEC(10);
    cfg.max_held_messages = 4;
    cfg.max_held_bytes = 2000;
    cfg.max_connections = 12;
    glue g = {{0}, 0, 0, false};
    static const sig_hub_io io = {on_send, on_close};
    sig_hub *h = sig_hub_new(&cfg, &io, &g, NULL);
    if (!h)
        abort();
    camrtc_time_us now = CAMRTC_SEC(1000);
    camrtc_buf msg = {0};
    for (int steps = 0; s.n && steps < 2000; steps++) {
        unsigned op = take(&s);
        uint64_t id = g.nlive ? g.live[take(&s) % g.nlive] : 1;
        switch (op % 10) {
        case 0:
        case 1: {
            const char *arn = arns[take(&s) % 2];
            const char *cid = op % 10 == 0 ? NULL : client_id(take(&s));
            uint64_t got = 0;
            const char *why = NULL;
            g.connecting = true;
            int rc = sig_hub_connect(h, arn, 5 + (int)(take(&s) % 10), cid, now, &got, &why);
            g.connecting = false;
            if (rc == 0) {
                if (got <= g.max_id || g.nlive == MAX_LIVE)
                    abort();
                g.max_id = got;
                g.live[g.nlive++] = got;
            } else if (!why) {
                abort();
            }
            break;
        }
        case 2:
        case 3:
        case 4:
            camrtc_buf_reset(&msg);
            build_message(&s, &msg);
            sig_hub_message(h, id, (const char *)camrtc_buf_data(&msg), msg.len, now);
            break;
        case 5: {
            size_t n = take(&s);
            n = n < s.n ? n : s.n;
            sig_hub_message(h, id, (const char *)s.p, n, now);
            s.p += n;
            s.n -= n;
            break;
        }
        case 6:
            sig_hub_activity(h, id, now);
            break;
        case 7:
            sig_hub_disconnect(h, id);
            forget(&g, id);
            break;
        case 8:
            now += (camrtc_time_us)take(&s) * CAMRTC_MS(250);
            sig_hub_handle_timeout(h, now);
            if (sig_hub_next_timeout(h) <= now)
                abort();
            break;
        default: {
            unsigned what = take(&s);
            const char *arn = arns[what & 1];
            if (what & 2)
                sig_hub_channel_deleted(h, arn);
            else
                sig_hub_announce(h, arn, what & 4 ? CAMRTC_SIGMSG_GO_AWAY : CAMRTC_SIGMSG_RECONNECT_ICE_SERVER,
                                 now);
            break;
        }
        }
        if (sig_hub_connection_count(h) != g.nlive)
            abort();
    }
    camrtc_buf_free(&msg);
    sig_hub_free(h);
    return 0;
}
