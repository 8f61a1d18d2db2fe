/* A camrtc peer connection on a simulated host, with a delayed signaling channel (sim_pc.h). */
#include "sim_pc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "pc/pc_int.h"

typedef enum { MSG_OFFER, MSG_ANSWER, MSG_CANDIDATE, MSG_END } msg_type;

struct sim_pc_msg {
    msg_type type;
    camrtc_time_us at;
    uint64_t seq;
    char *text;
    size_t len;
    sim_pc_msg *next;
};

static void pc_timer(sim *s, void *user);
static void signal_timer(sim *s, void *user);

/* ---- timers ---------------------------------------------------------------------------- */

void sim_pc_reschedule(sim_pc *p)
{
    camrtc_time_us at = camrtc_pc_next_timeout(p->pc);
    sim_timer_keep(p->s, &p->timer, &p->timer_at, at, pc_timer, p);
}

static void pc_timer(sim *s, void *user)
{
    sim_pc *p = user;
    p->timer = 0;
    camrtc_pc_handle_timeout(p->pc, sim_now(s));
    sim_pc_reschedule(p);
}

/* ---- signaling --------------------------------------------------------------------------- */

static void signal_reschedule(sim_pc *p)
{
    camrtc_time_us at = p->inbox ? p->inbox->at : CAMRTC_TIME_NEVER;
    sim_timer_keep(p->s, &p->sig_timer, &p->sig_timer_at, at, signal_timer, p);
}

static void msg_free(sim_pc_msg *m)
{
    if (m) {
        free(m->text);
        free(m);
    }
}

/* Send a message with a copy of text to the linked peer, signal_delay from now. */
static void post(sim_pc *p, msg_type type, const char *text, size_t len)
{
    sim_pc *o = p->other;
    if (!o)
        return;
    sim_pc_msg *m = calloc(1, sizeof *m);
    if (!m)
        return;
    m->type = type;
    m->text = malloc(len + 1);
    if (!m->text) {
        free(m);
        return;
    }
    memcpy(m->text, text, len);
    m->text[len] = '\0';
    m->len = len;
    m->at = sim_now(p->s) + p->signal_delay;
    m->seq = o->sig_seq++;
    sim_pc_msg **pp = &o->inbox;
    while (*pp && ((*pp)->at < m->at || ((*pp)->at == m->at && (*pp)->seq < m->seq)))
        pp = &(*pp)->next;
    m->next = *pp;
    *pp = m;
    signal_reschedule(o);
}

/* Flip the first hex digit of the a=fingerprint value: a certificate that will not match. */
static void tamper(char *sdp)
{
    char *f = strstr(sdp, "a=fingerprint:sha-256 ");
    if (!f)
        return;
    char *c = f + strlen("a=fingerprint:sha-256 ");
    *c = *c == 'A' ? 'B' : 'A';
}

static void post_description(sim_pc *p, msg_type type, camrtc_buf *b)
{
    char *text = camrtc_buf_cstr(b);
    if (!text)
        return;
    if (p->tamper_fingerprint)
        tamper(text);
    post(p, type, text, b->len);
}

static void apply(sim_pc *p, sim_pc_msg *m)
{
    camrtc_time_us now = sim_now(p->s);
    int rc = CAMRTC_OK;
    if (m->type == MSG_OFFER) {
        camrtc_buf b;
        if (camrtc_buf_init(&b, 0, 4096) != CAMRTC_OK)
            return;
        rc = camrtc_pc_answer_offer(p->pc, now, m->text, m->len, &b, p->sdp_reason, sizeof p->sdp_reason);
        if (rc == CAMRTC_OK)
            post_description(p, MSG_ANSWER, &b);
        camrtc_buf_free(&b);
    } else if (m->type == MSG_ANSWER) {
        rc = camrtc_pc_set_answer(p->pc, now, m->text, m->len, p->sdp_reason, sizeof p->sdp_reason);
    } else if (m->type == MSG_CANDIDATE) {
        camrtc_pc_add_remote_candidate(p->pc, now, m->text);
    } else {
        camrtc_pc_add_remote_candidate(p->pc, now, NULL);
    }
    if (rc != CAMRTC_OK)
        p->sdp_errors++;
}

static void signal_timer(sim *s, void *user)
{
    sim_pc *p = user;
    p->sig_timer = 0;
    p->sig_timer_at = CAMRTC_TIME_NEVER;
    while (p->inbox && p->inbox->at <= sim_now(s)) {
        sim_pc_msg *m = p->inbox;
        p->inbox = m->next;
        apply(p, m);
        msg_free(m);
    }
    sim_pc_reschedule(p);
    signal_reschedule(p);
}

void sim_pc_link(sim_pc *a, sim_pc *b)
{
    a->other = b;
    b->other = a;
}

int sim_pc_offer(sim_pc *p)
{
    camrtc_buf b;
    int rc = camrtc_buf_init(&b, 0, 4096);
    if (rc != CAMRTC_OK)
        return rc;
    rc = camrtc_pc_create_offer(p->pc, sim_now(p->s), &b);
    if (rc == CAMRTC_OK)
        post_description(p, MSG_OFFER, &b);
    camrtc_buf_free(&b);
    sim_pc_reschedule(p);
    return rc;
}

/* ---- the pc's io -------------------------------------------------------------------------- */

static void io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    sim_pc *p = user;
    if (sock >= 0 && sock < p->n_socks)
        sim_udp_send(p->socks[sock], to, data, len);
}

static void io_event(void *user, const camrtc_pc_event *ev)
{
    sim_pc *p = user;
    camrtc_time_us now = sim_now(p->s);
    switch (ev->type) {
    case CAMRTC_PC_EV_STATE:
        p->state = ev->state;
        if (!p->state_at[ev->state])
            p->state_at[ev->state] = now;
        if (ev->state == CAMRTC_PC_FAILED)
            p->fail_error = ev->error;
        if (camrtc_log_enabled(&p->log, CAMRTC_LOG_DEBUG))
            fprintf(stderr, "  [%8.3f s] %s: %s\n", (double)(now - SIM_T0) / 1e6, p->name,
                    camrtc_pc_state_name(ev->state));
        break;
    case CAMRTC_PC_EV_CANDIDATE:
        post(p, MSG_CANDIDATE, ev->line, strlen(ev->line));
        break;
    case CAMRTC_PC_EV_GATHERING_DONE:
        p->gathering_done++;
        post(p, MSG_END, "", 0);
        break;
    case CAMRTC_PC_EV_KEYFRAME_WANTED:
        p->keyframe_wanted++;
        break;
    case CAMRTC_PC_EV_FRAME:
        if (!p->first_frame_at)
            p->first_frame_at = now;
        p->frames++;
        if (p->on_frame)
            p->on_frame(p->frame_user, p, ev->frame);
        break;
    }
    sim_trace_mix(p->s, &ev->type, sizeof ev->type);
}

static void sock_recv(void *user, sim_sock *sock, const camrtc_addr *from, const uint8_t *data, size_t len);

/* One more socket on local's IP, for a TURN allocation the agent moves off a taken 5-tuple
 * (as sim_ice does for the bare agent); at most SIM_PC_MAX_SOCKS in all. */
static int io_open_udp(void *user, const camrtc_addr *local)
{
    sim_pc *p = user;
    int i = sim_udp_bind_extra(p->h, local, p->socks, &p->n_socks, SIM_PC_MAX_SOCKS, sock_recv, p);
    if (i >= 0)
        p->turn_socks++;
    return i;
}

static const camrtc_pc_io sim_pc_io = {.send_udp = io_send_udp, .event = io_event, .open_udp = io_open_udp};

static void sock_recv(void *user, sim_sock *sock, const camrtc_addr *from, const uint8_t *data, size_t len)
{
    sim_pc *p = user;
    int i = 0;
    while (i < p->n_socks && p->socks[i] != sock)
        i++;
    if (i == p->n_socks)
        return;
    camrtc_pc_udp_input(p->pc, sim_now(p->s), i, from, data, len);
    sim_pc_reschedule(p);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

sim_pc *sim_pc_new(sim *s, sim_host *h, const char *name, camrtc_pc_role role, const camrtc_pc_config *cfg)
{
    return sim_pc_new_opts(s, h, name, role, cfg, NULL);
}

sim_pc *sim_pc_new_opts(sim *s, sim_host *h, const char *name, camrtc_pc_role role, const camrtc_pc_config *cfg,
                        const sim_pc_opts *o)
{
    sim_pc_opts none = {0};
    if (!o)
        o = &none;
    sim_pc *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->s = s;
    p->h = h;
    snprintf(p->name, sizeof p->name, "%s", name);
    camrtc_log_init_env(&p->log, stderr);
    if (!getenv("CAMRTC_LOG"))
        p->log.level = CAMRTC_LOG_ERROR;
    if (camrtc_rng_init_seed(&p->rng, sim_rand_u64(s)) < 0) {
        free(p);
        return NULL;
    }
    camrtc_pc_config c;
    if (cfg)
        c = *cfg;
    else
        memset(&c, 0, sizeof c);
    c.role = role;
    c.cert = &p->cert;
    c.rng = &p->rng;
    c.log = &p->log;
    c.ice.include_loopback = true;
    camrtc_pc_io io = sim_pc_io;
    if (o->no_open_udp)
        io.open_udp = NULL;
    if (camrtc_cert_self_signed(name, 30, &p->rng, &p->cert) != CAMRTC_OK ||
        camrtc_pc_new(&p->pc, &c, &io, p) != CAMRTC_OK) {
        sim_pc_free(p);
        return NULL;
    }
    for (int i = 0; i < sim_host_n_addrs(h) && i < SIM_MAX_ADDRS; i++) {
        camrtc_addr local = *sim_host_addr(h, i);
        local.port = o->port;
        sim_sock *k = sim_udp_bind(h, &local, sock_recv, p);
        if (!k) {
            sim_pc_free(p);
            return NULL;
        }
        p->socks[p->n_socks++] = k;
        camrtc_pc_add_host(p->pc, sim_now(s), i, sim_sock_addr(k));
    }
    sim_pc_reschedule(p);
    return p;
}

void sim_pc_free(sim_pc *p)
{
    if (!p)
        return;
    if (p->other && p->other->other == p)
        p->other->other = NULL;
    if (p->timer)
        sim_timer_cancel(p->s, p->timer);
    if (p->sig_timer)
        sim_timer_cancel(p->s, p->sig_timer);
    camrtc_pc_free(p->pc);
    for (int i = 0; i < p->n_socks; i++)
        sim_udp_close(p->socks[i]);
    while (p->inbox) {
        sim_pc_msg *m = p->inbox;
        p->inbox = m->next;
        msg_free(m);
    }
    camrtc_cert_free(&p->cert);
    camrtc_rng_free(&p->rng);
    free(p);
}

int sim_pc_add_server(sim_pc *p, const camrtc_ice_server *srv)
{
    int rc = camrtc_pc_add_server(p->pc, sim_now(p->s), srv);
    sim_pc_reschedule(p);
    return rc;
}

void sim_pc_inject(sim_pc *p, const uint8_t *data, size_t len)
{
    pc_handle_data(p->pc, sim_now(p->s), data, len);
    sim_pc_reschedule(p);
}

bool sim_pc_connecting(void *pair)
{
    sim_pc **pp = pair;
    return pp[0]->state != CAMRTC_PC_CONNECTED || pp[1]->state != CAMRTC_PC_CONNECTED;
}
