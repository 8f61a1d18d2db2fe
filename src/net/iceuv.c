/* The libuv driver of a sans-I/O ICE owner: its lifecycle, the enter/leave discipline
 * and the one timer.
 *
 * The machinery drives an "owner" through a table of calls (iceuv_int.h): the bare ICE
 * agent (iceuv_agent.c, the public camrtc_iceuv API), or a whole peer connection
 * (pcuv.c). "The agent" below means whichever owner it is. The rest of the driver lives
 * beside this file: UDP sockets and batched sending (iceuv_udp.c), STUN/TURN server
 * resolution (iceuv_servers.c), TCP/TLS streams to TURN servers (iceuv_streams.c).
 *
 * Every call into the agent goes through enter()/leave(): the agent may call us back
 * (send, open a stream, report an event) while it runs, and the user's event callback may
 * ask to close. leave() is where the deferred work happens once the outermost call
 * returns: a close asked for, streams that failed to start, and re-arming the timer at
 * camrtc_ice_next_timeout. Nothing here decides anything about ICE.
 */
#include "camrtc/iceuv.h"
#include "iceuv_int.h"
#include "udp_batch.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/net.h"
#include "camrtc/time.h"

#define MOD "iceuv"

static void leave(camrtc_iceuv *u);

static void enter(camrtc_iceuv *u)
{
    u->depth++;
}

/* ---- teardown -------------------------------------------------------------------- */

/* The driver's memory, once no handle of it is open (or none ever was). */
static void drv_free(camrtc_iceuv *u)
{
    iceuv_free_servers(u);
    iceuv_free_sockets(u);
    camrtc_tls_config_free(u->own_tls);
    free(u->ca_file);
    free(u->interfaces);
    udp_batch_free(&u->out);
    camrtc_rng_free(&u->rng);
    free(u);
}

void iceuv_maybe_finish(camrtc_iceuv *u)
{
    if (!u->tearing_down || u->refs)
        return;
    if (u->cb.on_close)
        u->cb.on_close(u, u->ud);
    drv_free(u);
}

static void on_timer_closed(uv_handle_t *h)
{
    camrtc_iceuv *u = h->data;
    u->refs--;
    iceuv_maybe_finish(u);
}

static void on_flush_closed(uv_handle_t *h)
{
    camrtc_iceuv *u = h->data;
    u->refs--;
    iceuv_maybe_finish(u);
}

/* Close every handle, cancel name lookups, drop streams; on_close comes once all of
 * them have called back. The agent goes first so that nothing calls into it again. */
static void teardown(camrtc_iceuv *u)
{
    u->tearing_down = true;
    if (u->owner)
        u->ops->free_owner(u->owner);
    u->owner = NULL;
    u->agent = NULL;
    iceuv_flush_out(u);   /* the goodbyes (close_notify, BYE, TURN Refresh 0) still leave */
    uv_close((uv_handle_t *)&u->flush, on_flush_closed);
    uv_close((uv_handle_t *)&u->flush_idle, on_flush_closed);
    uv_timer_stop(&u->timer);
    uv_close((uv_handle_t *)&u->timer, on_timer_closed);
    iceuv_close_sockets(u);
    iceuv_cancel_lookups(u);
    for (iceuv_stream *s = u->streams; s; s = s->next)
        if (s->conn)
            camrtc_conn_abort(s->conn);
}

/* ---- the timer ----------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
    camrtc_iceuv *u = t->data;
    if (!u->owner)
        return;
    enter(u);
    u->ops->handle_timeout(u->owner, camrtc_now_us());
    leave(u);
}

static void rearm(camrtc_iceuv *u, camrtc_time_us now)
{
    camrtc_time_us next = u->ops->next_timeout(u->owner);
    if (u->agent_closed && u->close_deadline < next)
        next = u->close_deadline;
    if (next == CAMRTC_TIME_NEVER) {
        uv_timer_stop(&u->timer);
        return;
    }
    /* Round up: a timer that fires early only finds nothing due and re-arms. */
    uint64_t ms = next > now ? (next - now + 999) / 1000 : 0;
    uv_update_time(u->loop);
    uv_timer_start(&u->timer, on_timer, ms, 0);
}

/* Streams whose connect was refused at once: the agent hears of it here, outside its
 * own callback. */
static void report_start_failures(camrtc_iceuv *u, camrtc_time_us now)
{
    u->stream_start_failed = false;
    for (iceuv_stream **pp = &u->streams; *pp;) {
        iceuv_stream *s = *pp;
        if (s->conn || !s->start_err) {
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        int err = s->start_err;
        int id = s->id;
        bool report = !s->agent_closed;
        free(s);
        u->refs--;
        if (report) {
            u->depth++;
            u->ops->stream_closed(u->owner, now, id, err);
            u->depth--;
        }
    }
}

/* After the outermost call into the agent: deferred work, then the timer. */
static void leave(camrtc_iceuv *u)
{
    if (--u->depth || u->tearing_down)
        return;
    camrtc_time_us now = camrtc_now_us();
    /* Bounded: each report removes a stream; a new failure would only come from a new
     * open_stream, which the agent asks for at most once per server. */
    for (int i = 0; i < 4 && u->stream_start_failed; i++)
        report_start_failures(u, now);
    if (u->close_asked && !u->agent_closed) {
        u->agent_closed = true;
        u->close_deadline = now + CAMRTC_MS(CAMRTC_ICEUV_CLOSE_WAIT_MS);
        u->depth++;
        u->ops->close(u->owner, now);
        u->depth--;
    }
    /* Deallocation is done when the agent wants no more timer (no request left to
     * retransmit) and its TCP/TLS streams have closed in order (the Refresh flushed, the
     * server's FIN seen); past the deadline whatever is left is cut. */
    bool dealloc_done = u->ops->next_timeout(u->owner) == CAMRTC_TIME_NEVER && !u->streams;
    if (u->agent_closed && (dealloc_done || now >= u->close_deadline)) {
        teardown(u);
        return;
    }
    rearm(u, now);
}

/* ---- the driver's internal calls (iceuv_int.h) ---------------------------------------- */

int iceuv_drv_new(uv_loop_t *loop, const camrtc_iceuv_config *cfg, const camrtc_iceuv_callbacks *cb, void *ud,
                  camrtc_iceuv **out)
{
    if (!loop || !cfg || !out)
        return CAMRTC_EINVAL;
    *out = NULL;
    camrtc_iceuv *u = calloc(1, sizeof *u);
    if (!u)
        return CAMRTC_ENOMEM;
    u->loop = loop;
    udp_batch_init(&u->out, &u->stats.udp_sent, &u->stats.udp_send_failed);
    if (cb)
        u->cb = *cb;
    u->ud = ud;
    u->log = cfg->log;
    u->tls = cfg->tls;
    u->tls_insecure = cfg->tls_insecure;
    if (camrtc_rng_init(&u->rng) != CAMRTC_OK) {
        free(u);
        return CAMRTC_ECRYPTO;
    }
    u->ice_cfg = cfg->ice;
    u->ice_cfg.ufrag = u->ice_cfg.pwd = u->ice_cfg.software = NULL;
    u->ice_cfg.interfaces = NULL;
    bool oom = false;
    if (cfg->ice.interfaces)
        oom |= !(u->interfaces = strdup(cfg->ice.interfaces));
    if (cfg->ca_file)
        oom |= !(u->ca_file = strdup(cfg->ca_file));
    u->ice_cfg.interfaces = u->interfaces;
    if (oom) {
        iceuv_drv_abort(u);
        return CAMRTC_ENOMEM;
    }
    *out = u;
    return CAMRTC_OK;
}

/* The timer and the flush handles are the first handles: from here on the driver ends
 * through teardown. */
void iceuv_drv_set_owner(camrtc_iceuv *u, const camrtc_iceuv_ops *ops, void *owner)
{
    u->ops = ops;
    u->owner = owner;
    uv_timer_init(u->loop, &u->timer);
    u->timer.data = u;
    uv_check_init(u->loop, &u->flush);
    uv_idle_init(u->loop, &u->flush_idle);
    u->flush.data = u->flush_idle.data = u;
    u->refs = 3;   /* the timer and the two flush handles */
}

/* No handle is open yet (no owner): free at once. */
void iceuv_drv_abort(camrtc_iceuv *u)
{
    if (u)
        drv_free(u);
}

camrtc_rng *iceuv_drv_rng(camrtc_iceuv *u)
{
    return &u->rng;
}

void iceuv_drv_enter(camrtc_iceuv *u)
{
    enter(u);
}

void iceuv_drv_leave(camrtc_iceuv *u)
{
    leave(u);
}

bool iceuv_drv_closing(const camrtc_iceuv *u)
{
    return u->close_asked || u->agent_closed || u->tearing_down;
}

uint64_t iceuv_drv_send_calls(const camrtc_iceuv *u)
{
    return u->out.calls;
}

/* ---- the public calls that any owner shares -------------------------------------------- */

int camrtc_iceuv_gather(camrtc_iceuv *u)
{
    if (!u)
        return CAMRTC_EINVAL;
    if (u->gather_asked || u->close_asked)
        return CAMRTC_ESTATE;
    u->gather_asked = true;
    int rc = iceuv_bind_all(u, camrtc_now_us());
    if (rc < 0)
        return rc;
    if (u->dns_pending == 0)
        iceuv_start_gather(u);
    return CAMRTC_OK;
}

void camrtc_iceuv_close(camrtc_iceuv *u)
{
    if (!u || u->close_asked)
        return;
    u->close_asked = true;
    /* Through enter/leave so that a close asked from inside an event waits for the agent
     * to return first, and the teardown (if due at once) happens in one place. */
    enter(u);
    leave(u);
}

const camrtc_iceuv_stats *camrtc_iceuv_get_stats(const camrtc_iceuv *u)
{
    return &u->stats;
}
