/* Candidate gathering (RFC 8445 §5.1): host candidates from the registered sockets,
 * server-reflexive ones from a Binding request to each STUN server from each socket of the
 * same family, relay ones from one TURN allocation per TURN server (RFC 8656). Gathering is
 * done when every server answered, failed, or stayed silent for gather_timeout; one failing
 * server is reported (EV_SERVER_ERROR) and does not fail ICE.
 *
 * UDP TURN shares a host socket: what arrives on that socket from the server's address goes
 * to the TURN client. When the server holds that 5-tuple for another allocation (437 even
 * after the client cleared it, RFC 8656 §7.4), the allocation moves to a fresh socket of
 * its own that the glue opens (io.open_udp), at most CAMRTC_ICE_TURN_MOVES times.
 *
 * TCP/TLS TURN uses a stream the glue opens for us; its bytes are cut into whole frames
 * (camrtc_turn_frame_len) before they reach the client.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "ice/agent_int.h"

/* ---- interface filter -------------------------------------------------------------------- */

static bool ice_name_in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && last[-1] == ' ')
            last--;
        if ((size_t)(last - p) == n && n > 0 && memcmp(p, name, n) == 0)
            return true;
        p = end;
    }
    return false;
}

bool camrtc_ice_interface_allowed(const camrtc_ice_config *cfg, const char *ifname, const camrtc_addr *addr)
{
    if (!cfg || !addr || (addr->family != 4 && addr->family != 6))
        return false;
    if (addr->family == 6 && camrtc_addr_is_link_local(addr))
        return false; /* needs a scope id, and browsers do not pair with it */
    if (camrtc_addr_is_loopback(addr) && !cfg->include_loopback)
        return false;
    if (cfg->interfaces && cfg->interfaces[0])
        return ifname && ice_name_in_list(cfg->interfaces, ifname);
    return true;
}

/* ---- local candidates -------------------------------------------------------------------- */

/* Foundation (§5.1.1.3): equal for candidates of the same type, base IP and server (and
 * transport to it). FNV-1a over those, written in decimal. */
static void ice_foundation(char out[CAMRTC_ICE_FOUNDATION_MAX + 1], camrtc_ice_cand_type type,
                           const camrtc_addr *base, const camrtc_ice_server *srv)
{
    uint32_t h = 2166136261u;
    uint8_t bytes[2 + 16 + 1 + 2 + 16];
    size_t n = 0;
    bytes[n++] = (uint8_t)type;
    bytes[n++] = base->family;
    memcpy(bytes + n, base->ip, 16);
    n += 16;
    if (srv) {
        bytes[n++] = (uint8_t)srv->transport;
        bytes[n++] = srv->addr.family;
        bytes[n++] = (uint8_t)(srv->addr.port >> 8);
        memcpy(bytes + n, srv->addr.ip, 16);
        n += 16;
    }
    for (size_t i = 0; i < n; i++) {
        h ^= bytes[i];
        h *= 16777619u;
    }
    snprintf(out, CAMRTC_ICE_FOUNDATION_MAX + 1, "%u", (unsigned)h);
}

/* Send EV_CANDIDATE once per generation for a candidate the remote side may use. */
static void ice_signal_local(camrtc_ice_agent *a, int li)
{
    ice_local *l = &a->locals[li];
    if (!a->gathering || l->signalled || l->c.type == CAMRTC_ICE_PRFLX)
        return;
    if (a->cfg.policy == CAMRTC_ICE_POLICY_RELAY && l->c.type != CAMRTC_ICE_RELAY)
        return;
    char line[CAMRTC_ICE_CANDIDATE_STRLEN];
    if (camrtc_ice_candidate_format(&l->c, line, sizeof line) < 0)
        return;
    l->signalled = true;
    camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_CANDIDATE, .cand = &l->c, .line = line};
    ice_emit(a, &ev);
}

/* Add a local candidate; -1 when redundant (§5.1.3: same address and base as another) or
 * out of room. */
static int ice_add_local(camrtc_ice_agent *a, camrtc_ice_cand_type type, const camrtc_addr *addr,
                         const camrtc_addr *related, int host, int relay, int base, uint16_t local_pref,
                         const camrtc_ice_server *srv)
{
    for (unsigned i = 0; i < a->nlocals; i++) {
        const ice_local *o = &a->locals[i];
        if (camrtc_addr_equal(&o->c.addr, addr) && (o->base == base || base < 0))
            return -1;
    }
    if (a->nlocals >= ICE_MAX_LOCALS)
        return -1;
    int li = (int)a->nlocals++;
    ice_local *l = &a->locals[li];
    memset(l, 0, sizeof *l);
    l->c.component = 1;
    l->c.type = type;
    l->c.addr = *addr;
    if (related)
        l->c.related = *related;
    l->c.priority = camrtc_ice_priority(type, local_pref, 1);
    l->host = host;
    l->relay = relay;
    l->base = base < 0 ? li : base;
    l->local_pref = local_pref;
    ice_foundation(l->c.foundation, type, base < 0 ? addr : &a->locals[base].c.addr, srv);
    return li;
}

/* Local preference: earlier sockets first; relays by transport (UDP > TCP > TLS, RFC 8445
 * §5.1.2.1 leaves the split to us), all within the type preference. */
static uint16_t ice_host_pref(int host)
{
    return (uint16_t)(65535 - 256 * host);
}

static uint16_t ice_relay_pref(camrtc_ice_transport t, int relay)
{
    uint16_t top = t == CAMRTC_ICE_UDP ? 3 : t == CAMRTC_ICE_TCP ? 2 : 1;
    return (uint16_t)((top << 14) - 1 - relay);
}

/* ---- gathering done ---------------------------------------------------------------------- */

static void ice_check_gather_done(camrtc_ice_agent *a)
{
    if (!a->gathering || a->gathering_done)
        return;
    for (unsigned i = 0; i < a->nsrflx; i++)
        if (!a->srflx[i].done)
            return;
    for (unsigned i = 0; i < a->nrelays; i++)
        if (!a->relays[i].done)
            return;
    a->gathering_done = true;
    camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_GATHERING_DONE};
    ice_emit(a, &ev);
}

void ice_announce_locals(camrtc_ice_agent *a)
{
    for (unsigned i = 0; i < a->nlocals; i++)
        a->locals[i].signalled = false;
    for (unsigned i = 0; i < a->nlocals; i++)
        ice_signal_local(a, (int)i);
    if (a->gathering_done) {
        camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_GATHERING_DONE};
        ice_emit(a, &ev);
    }
}

static void ice_server_error(camrtc_ice_agent *a, int server, int err, int code)
{
    if (a->servers[server].error_reported)
        return; /* one report per server, even with several sockets asking it */
    a->servers[server].error_reported = true;
    char s[CAMRTC_ADDR_STRLEN];
    CAMRTC_LOGI(a->log, ICE_MOD, "server %s failed: %s (%d)",
                camrtc_addr_format(&a->servers[server].s.addr, s, sizeof s), camrtc_strerror(err), code);
    camrtc_ice_event ev = {.type = CAMRTC_ICE_EV_SERVER_ERROR, .server = &a->servers[server].s, .err = err, .code = code};
    ice_emit(a, &ev);
}

/* ---- server-reflexive candidates (STUN Binding, RFC 8489) ------------------------------- */

static void ice_srflx_transmit(camrtc_ice_agent *a, const ice_srflx_tx *t)
{
    uint8_t buf[ICE_STUN_BUF];
    camrtc_stun_builder b;
    camrtc_stun_build_init(&b, buf, sizeof buf, camrtc_stun_type(CAMRTC_STUN_BINDING, CAMRTC_STUN_REQUEST), t->tx.id);
    if (a->cfg.software)
        camrtc_stun_add_string(&b, CAMRTC_STUN_A_SOFTWARE, a->cfg.software);
    camrtc_stun_add_fingerprint(&b);
    int n = camrtc_stun_build_finish(&b);
    if (n > 0 && a->io.send_udp)
        a->io.send_udp(a->user, a->hosts[t->host].sock, &a->servers[t->server].s.addr, buf, (size_t)n);
}

static void ice_srflx_start(camrtc_ice_agent *a, camrtc_time_us now, int server, int host)
{
    if (a->nsrflx >= ICE_MAX_SRFLX_TX)
        return;
    ice_srflx_tx *t = &a->srflx[a->nsrflx++];
    memset(t, 0, sizeof *t);
    t->server = server;
    t->host = host;
    t->deadline = now + a->cfg.gather_timeout;
    ice_tx_start(a, &t->tx, now, a->cfg.rto);
    ice_srflx_transmit(a, t);
}

/* A mapped address from a server: a srflx candidate unless it equals the base (no NAT). */
static void ice_add_srflx(camrtc_ice_agent *a, int host, int server, const camrtc_addr *mapped)
{
    if (a->cfg.policy == CAMRTC_ICE_POLICY_RELAY || host < 0 || a->hosts[host].local < 0)
        return;
    int base = a->hosts[host].local;
    if (camrtc_addr_equal(mapped, &a->locals[base].c.addr) || mapped->family != a->locals[base].c.addr.family)
        return;
    int li = ice_add_local(a, CAMRTC_ICE_SRFLX, mapped, &a->locals[base].c.addr, host, -1, base,
                           a->locals[base].local_pref, &a->servers[server].s);
    if (li >= 0)
        ice_signal_local(a, li);
}

static bool ice_srflx_input(camrtc_ice_agent *a, int host, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    if (!camrtc_stun_is_message(data, len))
        return false;
    camrtc_stun_msg m;
    if (camrtc_stun_parse(&m, data, len) != 0)
        return false;
    for (unsigned i = 0; i < a->nsrflx; i++) {
        ice_srflx_tx *t = &a->srflx[i];
        if (t->done || t->host != host || memcmp(t->tx.id, m.txid, 12) != 0 ||
            !camrtc_addr_equal(from, &a->servers[t->server].s.addr))
            continue;
        t->done = true;
        t->tx.active = false;
        camrtc_addr mapped;
        if (camrtc_stun_class(m.type) == CAMRTC_STUN_SUCCESS &&
            (camrtc_stun_get_xor_addr(&m, CAMRTC_STUN_A_XOR_MAPPED_ADDRESS, &mapped) == CAMRTC_OK ||
             camrtc_stun_get_addr(&m, CAMRTC_STUN_A_MAPPED_ADDRESS, &mapped) == CAMRTC_OK)) {
            ice_add_srflx(a, host, t->server, &mapped);
        } else {
            int code = 0;
            const char *reason;
            size_t rlen;
            camrtc_stun_get_error(&m, &code, &reason, &rlen);
            ice_server_error(a, t->server, CAMRTC_EPROTO, code);
        }
        ice_check_gather_done(a);
        return true;
    }
    return false;
}

static void ice_srflx_timeout(camrtc_ice_agent *a, camrtc_time_us now)
{
    for (unsigned i = 0; i < a->nsrflx; i++) {
        ice_srflx_tx *t = &a->srflx[i];
        if (t->done)
            continue;
        if (now >= t->deadline) {
            t->done = true;
            t->tx.active = false;
            ice_server_error(a, t->server, CAMRTC_ETIMEDOUT, 0);
            continue;
        }
        if (now >= t->tx.next_retx) {
            t->tx.rto = t->tx.rto * 2 > ICE_RTO_MAX ? ICE_RTO_MAX : t->tx.rto * 2;
            t->tx.next_retx = now + t->tx.rto;
            ice_srflx_transmit(a, t);
        }
    }
    ice_check_gather_done(a);
}

/* ---- relay candidates (TURN) --------------------------------------------------------------- */

static void ice_relay_send(void *user, const uint8_t *data, size_t len)
{
    ice_relay *r = user;
    camrtc_ice_agent *a = r->agent;
    if (r->stream >= 0) {
        if (r->stream_open && a->io.send_stream)
            a->io.send_stream(a->user, r->stream, data, len);
    } else if (a->io.send_udp) {
        int sock = r->own_sock >= 0 ? r->own_sock : a->hosts[r->host].sock;
        a->io.send_udp(a->user, sock, &a->servers[r->server].s.addr, data, len);
    }
}

static void ice_relay_allocated(camrtc_ice_agent *a, ice_relay *r, const camrtc_turn_event *ev)
{
    int ri = (int)(r - a->relays);
    const ice_server *srv = &a->servers[r->server];
    if (!r->done)
        r->done = true;
    else if (r->local >= 0)
        return;
    /* The mapped address is a srflx candidate of the host socket; a socket of the relay's
     * own is no host candidate, so what it maps to is no candidate either. */
    if (srv->s.transport == CAMRTC_ICE_UDP && ev->mapped.family && r->own_sock < 0)
        ice_add_srflx(a, r->host, r->server, &ev->mapped);
    int li = ice_add_local(a, CAMRTC_ICE_RELAY, &ev->relayed, &ev->mapped, -1, ri, -1,
                           ice_relay_pref(srv->s.transport, ri), &srv->s);
    if (li >= 0) {
        r->local = li;
        ice_pair_local(a, a->now, li);
        ice_signal_local(a, li);
    }
    ice_check_gather_done(a);
}

static void ice_relay_close_stream(camrtc_ice_agent *a, ice_relay *r);

static void ice_relay_failed(camrtc_ice_agent *a, ice_relay *r, int err, int code)
{
    if (r->failed)
        return;
    r->failed = true;
    ice_relay_close_stream(a, r);
    if (!r->done || r->local >= 0)
        ice_server_error(a, r->server, err ? err : CAMRTC_EIO, code);
    r->done = true;
    for (unsigned i = 0; i < a->npairs; i++) {
        ice_pair *p = &a->pairs[i];
        if (r->local >= 0 && p->local == r->local && p->state != ICE_PAIR_FAILED) {
            p->tx.active = false;
            p->state = ICE_PAIR_FAILED;
            p->valid = false;
            if (a->nominating == (int)i)
                a->nominating = -1;
        }
    }
    ice_check_gather_done(a);
}

/* A 437 that clearing did not resolve: the server holds our 5-tuple for another allocation
 * (coturn keeps a deallocated one for about a second, and the kernel may hand a new process
 * the port of a recent one). RFC 8656 §7.4: try again from another client transport address. */
static bool ice_relay_may_move(const camrtc_ice_agent *a, const ice_relay *r, const camrtc_turn_event *ev)
{
    return ev->code == 437 && !a->closed && !r->done && !r->failed && r->stream < 0 && r->host >= 0 &&
           a->io.open_udp && r->moves < CAMRTC_ICE_TURN_MOVES;
}

static void ice_relay_event(void *user, const camrtc_turn_event *ev)
{
    ice_relay *r = user;
    camrtc_ice_agent *a = r->agent;
    switch (ev->type) {
    case CAMRTC_TURN_EV_ALLOCATED:
        if (!r->failed)
            ice_relay_allocated(a, r, ev);
        break;
    case CAMRTC_TURN_EV_FAILED:
        /* The client that reports this is still running: it is replaced once it returns. */
        if (ice_relay_may_move(a, r, ev))
            r->move_pending = true;
        else
            ice_relay_failed(a, r, ev->err, ev->code);
        break;
    case CAMRTC_TURN_EV_DATA:
        /* Checks and data from a peer through the relay: same path as a datagram. */
        if (r->local >= 0 && !r->failed && !a->closed)
            ice_input_from_base(a, a->now, r->local, &ev->peer, ev->data, ev->len);
        break;
    case CAMRTC_TURN_EV_PERMISSION:
        if (ev->err) {
            char s[CAMRTC_ADDR_STRLEN];
            CAMRTC_LOGD(a->log, ICE_MOD, "TURN permission for %s refused: %s",
                        camrtc_addr_format(&ev->peer, s, sizeof s), camrtc_strerror(ev->err));
        }
        break;
    case CAMRTC_TURN_EV_CLOSED:
        if (r->closing) { /* deallocation answered (or given up): now the stream can go */
            r->closing = false;
            ice_relay_close_stream(a, r);
        }
        break;
    }
}

static int ice_relay_host(const camrtc_ice_agent *a, const camrtc_addr *server)
{
    for (unsigned i = 0; i < a->nhosts; i++)
        if (a->hosts[i].addr.family == server->family)
            return (int)i;
    return -1;
}

static camrtc_turn *ice_relay_new_client(camrtc_ice_agent *a, ice_relay *r)
{
    const ice_server *srv = &a->servers[r->server];
    camrtc_turn_config tc = {
        .server = srv->s.addr,
        .stream = srv->s.transport != CAMRTC_ICE_UDP,
        .username = srv->s.username,
        .password = srv->s.password,
        .lifetime_s = a->cfg.turn_lifetime_s,
        .software = a->cfg.software,
    };
    static const camrtc_turn_io tio = {.send = ice_relay_send, .event = ice_relay_event};
    return camrtc_turn_new(&tc, &tio, r, a->rng, a->log);
}

static void ice_relay_start(camrtc_ice_agent *a, camrtc_time_us now, int server)
{
    const ice_server *srv = &a->servers[server];
    if (a->nrelays >= ICE_MAX_SERVERS)
        return;
    int ri = (int)a->nrelays++;
    ice_relay *r = &a->relays[ri];
    memset(r, 0, sizeof *r);
    r->agent = a;
    r->server = server;
    r->local = -1;
    r->stream = -1;
    r->host = -1;
    r->own_sock = -1;
    r->deadline = now + a->cfg.gather_timeout;
    bool stream = srv->s.transport != CAMRTC_ICE_UDP;
    if (stream) {
        r->stream = ri + 1; /* our ids: one stream per TURN server */
        r->sbuf = malloc(ICE_STREAM_BUF);
    } else {
        r->host = ice_relay_host(a, &srv->s.addr);
    }
    if ((stream && !r->sbuf) || (!stream && r->host < 0) || !(r->turn = ice_relay_new_client(a, r))) {
        ice_relay_failed(a, r, r->host < 0 && !stream ? CAMRTC_ENOTFOUND : CAMRTC_ENOMEM, 0);
        return;
    }
    if (stream) {
        if (a->io.open_stream)
            a->io.open_stream(a->user, r->stream, &srv->s.addr, srv->s.transport == CAMRTC_ICE_TLS);
    } else {
        camrtc_turn_start(r->turn, now);
    }
}

/* The move itself, with a new TURN client on a socket of its own; the gather deadline of
 * the first attempt still bounds the whole. */
static void ice_relay_move(camrtc_ice_agent *a, ice_relay *r, camrtc_time_us now)
{
    r->move_pending = false;
    r->moves++;
    camrtc_turn_free(r->turn);
    r->turn = NULL;
    int sock = a->io.open_udp(a->user, &a->hosts[r->host].addr);
    if (sock < 0) {
        CAMRTC_LOGI(a->log, ICE_MOD, "no fresh socket for TURN: %s", camrtc_strerror(sock));
        ice_relay_failed(a, r, CAMRTC_ESTATE, 437);
        return;
    }
    r->own_sock = sock;
    a->stats.turn_moves++;
    CAMRTC_LOGD(a->log, ICE_MOD, "TURN 5-tuple taken (437): allocating again from socket %d", sock);
    if (!(r->turn = ice_relay_new_client(a, r))) {
        ice_relay_failed(a, r, CAMRTC_ENOMEM, 0);
        return;
    }
    camrtc_turn_start(r->turn, now);
}

/* Give a UDP relay's client a datagram (then carry out a move it asked for). */
static void ice_relay_udp_input(camrtc_ice_agent *a, ice_relay *r, camrtc_time_us now, const uint8_t *data,
                                size_t len)
{
    camrtc_turn_input(r->turn, now, data, len);
    if (r->move_pending)
        ice_relay_move(a, r, now);
}

bool ice_relay_sock_input(camrtc_ice_agent *a, camrtc_time_us now, int sock, const camrtc_addr *from,
                          const uint8_t *data, size_t len)
{
    a->now = now;
    for (unsigned i = 0; i < a->nrelays; i++) {
        ice_relay *r = &a->relays[i];
        if (r->own_sock < 0 || r->own_sock != sock)
            continue;   /* not moved, or moved elsewhere */
        if (r->turn && camrtc_addr_equal(from, &a->servers[r->server].s.addr))
            ice_relay_udp_input(a, r, now, data, len);
        return true;   /* a socket of its own: nothing else arrives there for us */
    }
    return false;
}

int ice_relay_by_stream(const camrtc_ice_agent *a, int stream)
{
    for (unsigned i = 0; i < a->nrelays; i++)
        if (a->relays[i].stream >= 0 && a->relays[i].stream == stream &&
            (!a->relays[i].failed || a->relays[i].closing))
            return (int)i;
    return -1;
}

void ice_relay_stream_connected(camrtc_ice_agent *a, camrtc_time_us now, int ri)
{
    ice_relay *r = &a->relays[ri];
    a->now = now;
    if (r->stream_open || !r->turn)
        return;
    r->stream_open = true;
    camrtc_turn_start(r->turn, now);
}

static void ice_relay_close_stream(camrtc_ice_agent *a, ice_relay *r)
{
    if (r->stream >= 0 && a->io.close_stream)
        a->io.close_stream(a->user, r->stream);
    r->stream_open = false;
    r->stream = -1;
}

int ice_relay_stream_input(camrtc_ice_agent *a, camrtc_time_us now, int ri, const uint8_t *data, size_t len)
{
    ice_relay *r = &a->relays[ri];
    a->now = now;
    while (len > 0 && r->turn && (!r->failed || r->closing)) {
        size_t n = ICE_STREAM_BUF - r->slen < len ? ICE_STREAM_BUF - r->slen : len;
        memcpy(r->sbuf + r->slen, data, n);
        r->slen += n;
        data += n;
        len -= n;
        for (;;) {
            int fl = camrtc_turn_frame_len(r->sbuf, r->slen);
            if (fl < 0 || (fl == 0 && r->slen == ICE_STREAM_BUF)) {
                ice_relay_close_stream(a, r);
                ice_relay_failed(a, r, CAMRTC_EPROTO, 0);
                return CAMRTC_EPROTO;
            }
            if (fl == 0)
                break;
            camrtc_turn_input(r->turn, now, r->sbuf, (size_t)fl);
            memmove(r->sbuf, r->sbuf + fl, r->slen - (size_t)fl);
            r->slen -= (size_t)fl;
        }
    }
    return CAMRTC_OK;
}

void ice_relay_stream_closed(camrtc_ice_agent *a, camrtc_time_us now, int ri, int err)
{
    ice_relay *r = &a->relays[ri];
    a->now = now;
    r->stream = -1; /* the glue closed it: no close_stream call */
    r->stream_open = false;
    if (r->closing) { /* closed while waiting for the deallocation answer: nothing left to wait for */
        r->closing = false;
        camrtc_turn_free(r->turn);
        r->turn = NULL;
        return;
    }
    ice_relay_failed(a, r, err ? err : CAMRTC_ECLOSED, 0);
}

/* ---- entry points from agent.c ------------------------------------------------------------- */

void ice_gather_host(camrtc_ice_agent *a, camrtc_time_us now, int host)
{
    if (a->cfg.policy == CAMRTC_ICE_POLICY_RELAY)
        return; /* the socket still serves UDP TURN */
    int li = ice_add_local(a, CAMRTC_ICE_HOST, &a->hosts[host].addr, NULL, host, -1, -1, ice_host_pref(host), NULL);
    if (li < 0)
        return;
    a->hosts[host].local = li;
    ice_pair_local(a, now, li);
    if (!a->gathering)
        return;
    ice_signal_local(a, li);
    for (unsigned s = 0; s < a->nservers; s++)
        if (a->servers[s].started && !a->servers[s].s.turn && a->servers[s].s.addr.family == a->hosts[host].addr.family)
            ice_srflx_start(a, now, (int)s, host);
}

void ice_gather_server(camrtc_ice_agent *a, camrtc_time_us now, int server)
{
    ice_server *s = &a->servers[server];
    if (s->started)
        return;
    s->started = true;
    a->now = now;
    if (s->s.turn) {
        ice_relay_start(a, now, server);
        return;
    }
    if (a->cfg.policy == CAMRTC_ICE_POLICY_RELAY)
        return;
    for (unsigned h = 0; h < a->nhosts; h++)
        if (a->hosts[h].local >= 0 && a->hosts[h].addr.family == s->s.addr.family)
            ice_srflx_start(a, now, server, (int)h);
}

int ice_gather_start(camrtc_ice_agent *a, camrtc_time_us now)
{
    a->gathering = true;
    a->now = now;
    if (!a->last_progress)
        a->last_progress = now;
    for (unsigned i = 0; i < a->nlocals; i++)
        ice_signal_local(a, (int)i);
    for (unsigned s = 0; s < a->nservers; s++)
        ice_gather_server(a, now, (int)s);
    ice_check_gather_done(a);
    return CAMRTC_OK;
}

bool ice_gather_udp_input(camrtc_ice_agent *a, camrtc_time_us now, int host, const camrtc_addr *from,
                          const uint8_t *data, size_t len)
{
    a->now = now;
    /* One server often does both STUN and TURN on the same port: our Binding answers are
     * told apart by their transaction id first, the rest from that address is TURN's. */
    if (ice_srflx_input(a, host, from, data, len))
        return true;
    for (unsigned i = 0; i < a->nrelays; i++) {
        ice_relay *r = &a->relays[i];
        if (r->host == host && r->own_sock < 0 && r->stream < 0 && r->turn &&
            camrtc_addr_equal(from, &a->servers[r->server].s.addr)) {
            ice_relay_udp_input(a, r, now, data, len);
            return true;
        }
    }
    return false;
}

void ice_gather_timeout(camrtc_ice_agent *a, camrtc_time_us now)
{
    a->now = now;
    if (!a->closed)
        ice_srflx_timeout(a, now);
    for (unsigned i = 0; i < a->nrelays; i++) {
        ice_relay *r = &a->relays[i];
        if (!r->turn)
            continue;
        if (camrtc_turn_next_timeout(r->turn) <= now)
            camrtc_turn_handle_timeout(r->turn, now);
        if (r->move_pending)
            ice_relay_move(a, r, now);
        if (!r->turn)
            continue;
        if (!r->done && now >= r->deadline && !a->closed) {
            ice_relay_failed(a, r, CAMRTC_ETIMEDOUT, 0);
        }
    }
}

camrtc_time_us ice_gather_next_timeout(const camrtc_ice_agent *a)
{
    camrtc_time_us t = CAMRTC_TIME_NEVER;
    if (!a->closed) {
        for (unsigned i = 0; i < a->nsrflx; i++)
            if (!a->srflx[i].done)
                t = ice_min_time(t, ice_min_time(a->srflx[i].tx.next_retx, a->srflx[i].deadline));
    }
    for (unsigned i = 0; i < a->nrelays; i++) {
        const ice_relay *r = &a->relays[i];
        if (!r->turn)
            continue;
        if (!r->failed || camrtc_turn_get_state(r->turn) == CAMRTC_TURN_CLOSING)
            t = ice_min_time(t, camrtc_turn_next_timeout(r->turn));
        if (!r->done && !a->closed)
            t = ice_min_time(t, r->deadline);
    }
    return t;
}

void ice_relays_close(camrtc_ice_agent *a, camrtc_time_us now)
{
    a->now = now;
    for (unsigned i = 0; i < a->nrelays; i++) {
        ice_relay *r = &a->relays[i];
        bool dealloc = r->turn && !r->failed && camrtc_turn_get_state(r->turn) == CAMRTC_TURN_ALLOCATED;
        if (r->turn && !r->failed)
            camrtc_turn_close(r->turn, now);
        r->failed = true; /* no more data or checks through it */
        /* Over TCP/TLS the answer to the deallocation comes on the stream: keep it open until
         * the client reports CLOSED (answered, or its own bounded timeout). */
        if (dealloc && r->stream >= 0 && r->stream_open &&
            camrtc_turn_get_state(r->turn) == CAMRTC_TURN_CLOSING)
            r->closing = true;
        else
            ice_relay_close_stream(a, r);
    }
}

void ice_relays_free(camrtc_ice_agent *a)
{
    for (unsigned i = 0; i < a->nrelays; i++) {
        camrtc_turn_free(a->relays[i].turn);
        a->relays[i].turn = NULL;
        free(a->relays[i].sbuf);
        a->relays[i].sbuf = NULL;
    }
}
