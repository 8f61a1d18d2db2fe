/* The driver's TCP and TLS streams to TURN servers (RFC 8656 §3.1), opened when the
 * agent asks for them, on the project's connection layer (camrtc/net.h); TLS checks the
 * server against the URL host. A connect refused at once is reported from leave()
 * (iceuv.c), outside the agent's own call.
 */
#include "iceuv_int.h"

#include <stdlib.h>

#include "camrtc/error.h"
#include "camrtc/net.h"
#include "camrtc/time.h"

#define MOD "iceuv"

static iceuv_stream *find_stream(camrtc_iceuv *u, int id)
{
    for (iceuv_stream *s = u->streams; s; s = s->next)
        if (s->id == id && !s->agent_closed)
            return s;
    return NULL;
}

static void on_stream_open(camrtc_conn *c, void *ud)
{
    iceuv_stream *s = ud;
    camrtc_iceuv *u = s->u;
    if (!u->owner || s->agent_closed)
        return;
    iceuv_drv_enter(u);
    u->ops->stream_connected(u->owner, camrtc_now_us(), s->id);
    iceuv_drv_leave(u);
}

static void on_stream_data(camrtc_conn *c, void *ud, const uint8_t *data, size_t len)
{
    iceuv_stream *s = ud;
    camrtc_iceuv *u = s->u;
    if (!u->owner || s->agent_closed)
        return;
    u->stats.stream_bytes_in += len;
    iceuv_drv_enter(u);
    u->ops->stream_input(u->owner, camrtc_now_us(), s->id, data, len);
    iceuv_drv_leave(u);
}

static void on_stream_close(camrtc_conn *c, void *ud, int err)
{
    iceuv_stream *s = ud;
    camrtc_iceuv *u = s->u;
    for (iceuv_stream **pp = &u->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    bool report = !s->agent_closed;
    int id = s->id;
    free(s);
    u->refs--;
    if (err)
        u->stats.streams_failed++;
    if (u->owner && !u->tearing_down) {
        if (err && report)
            CAMRTC_LOGW(u->log, MOD, "TURN stream %d closed: %s", id, camrtc_conn_error_string(c));
        iceuv_drv_enter(u);
        if (report)
            u->ops->stream_closed(u->owner, camrtc_now_us(), id, err ? err : CAMRTC_ECLOSED);
        iceuv_drv_leave(u);   /* also: a close may have been waiting for this stream */
    }
    iceuv_maybe_finish(u);
}

static const camrtc_conn_callbacks stream_cb = {
    .on_open = on_stream_open, .on_data = on_stream_data, .on_close = on_stream_close,
};

static const camrtc_tls_config *client_tls(camrtc_iceuv *u)
{
    if (u->tls)
        return u->tls;
    char err[160];
    u->own_tls = camrtc_tls_config_new_client(u->ca_file, !u->tls_insecure, &u->rng, err, sizeof err);
    if (!u->own_tls)
        CAMRTC_LOGW(u->log, MOD, "TLS config: %s", err);
    u->tls = u->own_tls;
    return u->tls;
}

/* The URL host of the server at to, so that TLS checks the name the user gave
 * (RFC 8656 §3.1, RFC 6125); the numeric address when no server matches. */
static const char *stream_host(const camrtc_iceuv *u, const camrtc_addr *to, bool tls, char *ip, size_t ipsz)
{
    camrtc_ice_transport t = tls ? CAMRTC_ICE_TLS : CAMRTC_ICE_TCP;
    for (unsigned i = 0; i < u->nservers; i++)
        if (u->servers[i]->url.transport == t && camrtc_addr_equal(&u->servers[i]->addr, to))
            return u->servers[i]->url.host;
    return camrtc_addr_ip_str(to, ip, ipsz);
}

void iceuv_io_open_stream(void *user, int stream, const camrtc_addr *to, bool tls)
{
    camrtc_iceuv *u = user;
    iceuv_stream *s = calloc(1, sizeof *s);
    if (!s)
        return;   /* the agent's gather timeout gives up on this server */
    s->u = u;
    s->id = stream;
    s->next = u->streams;
    u->streams = s;
    u->refs++;
    char ip[CAMRTC_ADDR_STRLEN];
    const char *host = stream_host(u, to, tls, ip, sizeof ip);
    const camrtc_tls_config *cfg = tls ? client_tls(u) : NULL;
    int rc = tls && !cfg ? CAMRTC_ETLS : camrtc_conn_connect(u->loop, host, to->port, cfg, &stream_cb, s, &s->conn);
    u->stats.streams_opened++;
    if (rc < 0) {
        u->stats.streams_failed++;
        s->conn = NULL;
        s->start_err = rc;
        u->stream_start_failed = true;
        return;
    }
    camrtc_conn_set_log(s->conn, u->log);
}

void iceuv_io_send_stream(void *user, int stream, const uint8_t *data, size_t len)
{
    camrtc_iceuv *u = user;
    iceuv_stream *s = find_stream(u, stream);
    if (!s || !s->conn)
        return;
    /* A failure here is reported again through on_close, which tells the agent. */
    if (camrtc_conn_write(s->conn, data, len) == CAMRTC_OK)
        u->stats.stream_bytes_out += len;
}

void iceuv_io_close_stream(void *user, int stream)
{
    camrtc_iceuv *u = user;
    iceuv_stream *s = find_stream(u, stream);
    if (!s)
        return;
    s->agent_closed = true;
    if (s->conn)
        camrtc_conn_close(s->conn);   /* flushes what the agent wrote last */
}

