/* A camrtc ICE agent on a simulated host, with a delayed signaling channel (sim_ice.h). */
#include "sim_ice.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"

typedef enum { MSG_DESCRIPTION, MSG_CANDIDATE, MSG_END } msg_type;

struct sim_ice_msg {
    msg_type type;
    camrtc_time_us at;
    uint64_t seq;
    char ufrag[257], pwd[257];                 /* DESCRIPTION */
    char line[CAMRTC_ICE_CANDIDATE_STRLEN];    /* CANDIDATE, as an SDP line */
    sim_ice_msg *next;
};

static void agent_timer(sim *s, void *user);
static void signal_timer(sim *s, void *user);

/* ---- timers ---------------------------------------------------------------------- */

/* Keep one sim timer at the agent's next deadline; called after every call into it. */
static void reschedule(sim_ice_peer *p)
{
    camrtc_time_us at = camrtc_ice_next_timeout(p->agent);
    sim_timer_keep(p->s, &p->timer, &p->timer_at, at, agent_timer, p);
}

static void agent_timer(sim *s, void *user)
{
    sim_ice_peer *p = user;
    p->timer = 0;
    camrtc_ice_handle_timeout(p->agent, sim_now(s));
    reschedule(p);
}

/* ---- signaling ------------------------------------------------------------------------ */

static void signal_reschedule(sim_ice_peer *p)
{
    camrtc_time_us at = p->inbox ? p->inbox->at : CAMRTC_TIME_NEVER;
    sim_timer_keep(p->s, &p->sig_timer, &p->sig_timer_at, at, signal_timer, p);
}

/* Queue m at p's inbox in delivery order (ties: sending order). Takes m. */
static void inbox_put(sim_ice_peer *p, sim_ice_msg *m)
{
    if (p->n_inbox >= SIM_ICE_MAX_SIGNALS) {
        p->signals_dropped++;
        free(m);
        return;
    }
    sim_ice_msg **pp = &p->inbox;
    while (*pp && ((*pp)->at < m->at || ((*pp)->at == m->at && (*pp)->seq < m->seq)))
        pp = &(*pp)->next;
    m->next = *pp;
    *pp = m;
    p->n_inbox++;
    signal_reschedule(p);
}

/* Send m from p to its linked peer, delay from now. Takes m. */
static void post(sim_ice_peer *p, sim_ice_msg *m, camrtc_time_us delay)
{
    if (!p->other) {
        free(m);
        return;
    }
    m->at = sim_now(p->s) + delay;
    m->seq = p->other->sig_seq++;
    inbox_put(p->other, m);
}

static sim_ice_msg *msg_new(msg_type type)
{
    sim_ice_msg *m = calloc(1, sizeof *m);
    if (m)
        m->type = type;
    return m;
}

/* A candidate or end-of-candidates: held, or sent after signal_delay. */
static void trickle(sim_ice_peer *p, sim_ice_msg *m)
{
    if (!m)
        return;
    if (!p->o.hold_candidates) {
        post(p, m, p->o.signal_delay);
        return;
    }
    sim_ice_msg **pp = &p->held;
    while (*pp)
        pp = &(*pp)->next;
    *pp = m;
}

void sim_ice_release_candidates(sim_ice_peer *p)
{
    p->o.hold_candidates = false;
    while (p->held) {
        sim_ice_msg *m = p->held;
        p->held = m->next;
        m->next = NULL;
        post(p, m, p->o.signal_delay);
    }
}

int sim_ice_send_description(sim_ice_peer *p)
{
    sim_ice_msg *m = msg_new(MSG_DESCRIPTION);
    if (!m)
        return CAMRTC_ENOMEM;
    snprintf(m->ufrag, sizeof m->ufrag, "%s", camrtc_ice_local_ufrag(p->agent));
    snprintf(m->pwd, sizeof m->pwd, "%s", camrtc_ice_local_pwd(p->agent));
    snprintf(p->sent_ufrag, sizeof p->sent_ufrag, "%s", m->ufrag);
    post(p, m, p->o.description_delay);
    return CAMRTC_OK;
}

static void apply(sim_ice_peer *p, const sim_ice_msg *m)
{
    camrtc_time_us now = sim_now(p->s);
    if (m->type == MSG_DESCRIPTION) {
        camrtc_ice_set_remote_credentials(p->agent, now, m->ufrag, m->pwd);
        /* New remote credentials changed ours (a remote restart): answer with them. */
        if (p->sent_ufrag[0] && strcmp(p->sent_ufrag, camrtc_ice_local_ufrag(p->agent)) != 0)
            sim_ice_send_description(p);
    } else if (m->type == MSG_CANDIDATE) {
        camrtc_ice_candidate c;
        if (camrtc_ice_candidate_parse(&c, m->line) == CAMRTC_OK)
            camrtc_ice_add_remote_candidate(p->agent, now, &c);
        else
            p->bad_candidates++;
    } else {
        camrtc_ice_remote_end_of_candidates(p->agent, now);
    }
}

static void signal_timer(sim *s, void *user)
{
    sim_ice_peer *p = user;
    p->sig_timer = 0;
    p->sig_timer_at = CAMRTC_TIME_NEVER;
    while (p->inbox && p->inbox->at <= sim_now(s)) {
        sim_ice_msg *m = p->inbox;
        p->inbox = m->next;
        p->n_inbox--;
        apply(p, m);
        free(m);
    }
    reschedule(p);
    signal_reschedule(p);
}

void sim_ice_link(sim_ice_peer *a, sim_ice_peer *b)
{
    a->other = b;
    b->other = a;
}

/* ---- the agent's io ------------------------------------------------------------------- */

static void sock_recv(void *user, sim_sock *sock, const camrtc_addr *from, const uint8_t *data, size_t len);

static void io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    sim_ice_peer *p = user;
    if (sock >= 0 && sock < p->n_socks)
        sim_udp_send(p->socks[sock], to, data, len);
}

/* TCP/TLS TURN is not simulated: the stream never opens (counted), and the agent's own
 * gather timeout gives up on that server. */
static void io_open_stream(void *user, int stream, const camrtc_addr *to, bool tls)
{
    ((sim_ice_peer *)user)->stream_requests++;
}

static void io_send_stream(void *user, int stream, const uint8_t *data, size_t len) {}

/* One more socket on local's IP, for a TURN allocation the agent moves off a taken 5-tuple. */
static int io_open_udp(void *user, const camrtc_addr *local)
{
    sim_ice_peer *p = user;
    int i = sim_udp_bind_extra(p->h, local, p->socks, &p->n_socks, SIM_ICE_MAX_SOCKS, sock_recv, p);
    if (i >= 0)
        p->turn_socks++;
    return i;
}
static void io_close_stream(void *user, int stream) {}

static void record(sim_ice_peer *p, camrtc_ice_event_type type, int value)
{
    sim_ice_record r = {sim_now(p->s), type, value};
    sim_trace_mix(p->s, p->name, strlen(p->name));
    sim_trace_mix(p->s, &r, sizeof r);
    if (p->n_records < SIM_ICE_MAX_RECORDS)
        p->records[p->n_records++] = r;
    else
        p->records_dropped++;
}

static void on_state(sim_ice_peer *p, camrtc_ice_state st)
{
    camrtc_time_us now = sim_now(p->s);
    p->state = st;
    if ((unsigned)st <= CAMRTC_ICE_CLOSED) {
        if (!p->state_first[st])
            p->state_first[st] = now;
        p->state_last[st] = now;
    }
    if (camrtc_log_enabled(&p->log, CAMRTC_LOG_DEBUG))
        fprintf(stderr, "  [%8.3f s] %s: %s\n", (double)(now - SIM_T0) / 1e6, p->name,
                camrtc_ice_state_name(st));
}

static void io_event(void *user, const camrtc_ice_event *ev)
{
    sim_ice_peer *p = user;
    int value = 0;
    switch (ev->type) {
    case CAMRTC_ICE_EV_CANDIDATE: {
        value = ev->cand->type;
        if ((unsigned)value <= CAMRTC_ICE_RELAY)
            p->cands_signalled[value]++;
        sim_ice_msg *m = msg_new(MSG_CANDIDATE);
        if (m && ev->line)
            snprintf(m->line, sizeof m->line, "%s", ev->line);
        else if (m)
            camrtc_ice_candidate_format(ev->cand, m->line, sizeof m->line);
        trickle(p, m);
        break;
    }
    case CAMRTC_ICE_EV_GATHERING_DONE:
        p->gathering_done++;
        if (!p->o.no_end_of_candidates)
            trickle(p, msg_new(MSG_END));
        break;
    case CAMRTC_ICE_EV_STATE:
        value = ev->state;
        on_state(p, ev->state);
        break;
    case CAMRTC_ICE_EV_SELECTED:
        p->selected_changes++;
        p->sel_local = *ev->local;
        p->sel_remote = *ev->remote;
        value = (int)ev->local->type * 4 + (int)ev->remote->type;
        break;
    case CAMRTC_ICE_EV_DATA:
        p->data_rx++;
        p->data_rx_bytes += ev->len;
        p->last_data_len = ev->len < sizeof p->last_data ? ev->len : sizeof p->last_data;
        memcpy(p->last_data, ev->data, p->last_data_len);
        value = (int)ev->len;
        break;
    case CAMRTC_ICE_EV_ROLE:
        p->role_changes++;
        value = ev->controlling;
        break;
    case CAMRTC_ICE_EV_SERVER_ERROR:
        p->server_errors++;
        value = ev->code;
        break;
    }
    record(p, ev->type, value);
}

static const camrtc_ice_io sim_ice_io = {
    .send_udp = io_send_udp,
    .open_stream = io_open_stream,
    .send_stream = io_send_stream,
    .close_stream = io_close_stream,
    .event = io_event,
    .open_udp = io_open_udp,
};

static void sock_recv(void *user, sim_sock *sock, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    sim_ice_peer *p = user;
    int idx = 0;
    while (idx < p->n_socks && p->socks[idx] != sock)
        idx++;
    if (idx == p->n_socks)
        return;
    camrtc_ice_udp_input(p->agent, sim_now(p->s), idx, from, data, len);
    reschedule(p);
}

/* ---- lifecycle --------------------------------------------------------------------- */

sim_ice_peer *sim_ice_new(sim *s, sim_host *h, const char *name, const sim_ice_opts *o)
{
    sim_ice_peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->s = s;
    p->h = h;
    p->o = *o;
    snprintf(p->name, sizeof p->name, "%s", name);
    camrtc_log_init_env(&p->log, stderr);
    if (!getenv("CAMRTC_LOG"))
        p->log.level = CAMRTC_LOG_WARN;
    if (camrtc_rng_init_seed(&p->rng, sim_rand_u64(s)) < 0) {
        free(p);
        return NULL;
    }
    camrtc_ice_io io = sim_ice_io;
    if (o->no_open_udp)
        io.open_udp = NULL;
    p->agent = camrtc_ice_new(&p->o.ice, &io, p, &p->rng, &p->log);
    if (!p->agent) {
        sim_ice_free(p);
        return NULL;
    }
    for (int i = 0; i < sim_host_n_addrs(h) && i < SIM_MAX_ADDRS; i++) {
        camrtc_addr local = *sim_host_addr(h, i);
        local.port = o->port;
        sim_sock *k = sim_udp_bind(h, &local, sock_recv, p);
        if (!k) {
            sim_ice_free(p);
            return NULL;
        }
        p->socks[p->n_socks++] = k;
        camrtc_ice_add_host(p->agent, sim_now(s), i, sim_sock_addr(k));
    }
    reschedule(p);
    return p;
}

static void free_list(sim_ice_msg *m)
{
    while (m) {
        sim_ice_msg *next = m->next;
        free(m);
        m = next;
    }
}

void sim_ice_free(sim_ice_peer *p)
{
    if (!p)
        return;
    if (p->other && p->other->other == p)
        p->other->other = NULL;
    if (p->timer)
        sim_timer_cancel(p->s, p->timer);
    if (p->sig_timer)
        sim_timer_cancel(p->s, p->sig_timer);
    camrtc_ice_free(p->agent);
    for (int i = 0; i < p->n_socks; i++)
        sim_udp_close(p->socks[i]);
    free_list(p->inbox);
    free_list(p->held);
    camrtc_rng_free(&p->rng);
    free(p);
}

int sim_ice_add_server(sim_ice_peer *p, const camrtc_ice_server *srv)
{
    int rc = camrtc_ice_add_server(p->agent, sim_now(p->s), srv);
    reschedule(p);
    return rc;
}

int sim_ice_start(sim_ice_peer *p)
{
    p->started_at = sim_now(p->s);
    int rc = camrtc_ice_gather(p->agent, sim_now(p->s));
    reschedule(p);
    if (rc >= 0 && !p->o.manual_description)
        rc = sim_ice_send_description(p);
    return rc;
}

int sim_ice_send(sim_ice_peer *p, const void *data, size_t len)
{
    int rc = camrtc_ice_send(p->agent, sim_now(p->s), data, len);
    reschedule(p);
    return rc;
}

int sim_ice_restart(sim_ice_peer *p)
{
    int rc = camrtc_ice_restart(p->agent, sim_now(p->s));
    reschedule(p);
    if (rc >= 0)
        rc = sim_ice_send_description(p);
    return rc;
}

int sim_ice_close(sim_ice_peer *p)
{
    int rc = camrtc_ice_close(p->agent, sim_now(p->s));
    reschedule(p);
    return rc;
}

bool sim_ice_reached(const sim_ice_peer *p, camrtc_ice_state state)
{
    return (unsigned)state <= CAMRTC_ICE_CLOSED && p->state_first[state] != 0;
}

static bool connected_now(const sim_ice_peer *p)
{
    return p->state == CAMRTC_ICE_CONNECTED || p->state == CAMRTC_ICE_COMPLETED;
}

bool sim_ice_connecting(void *pair_of_peers)
{
    sim_ice_peer **pp = pair_of_peers;
    return !connected_now(pp[0]) || !connected_now(pp[1]);
}
