/* The libuv glue for a peer connection: the pc is the owner that iceuv.c drives.
 *
 * This file only adapts calls: the driver (iceuv_int.h) owns sockets, streams, timer and
 * name lookups and calls back through pc_ops; the pc's own io passes datagrams and stream
 * writes straight to the driver, and its events to the user. Every public call that
 * feeds the pc runs between iceuv_drv_enter and iceuv_drv_leave, so that the timer is
 * re-armed at camrtc_pc_next_timeout and a close asked from an event waits for the pc to
 * return.
 */
#include "camrtc/pcuv.h"

#include <stdlib.h>
#include <string.h>

#include "camrtc/error.h"
#include "camrtc/time.h"
#include "iceuv_int.h"

struct camrtc_pcuv {
    camrtc_iceuv *drv;
    camrtc_pc *pc;              /* NULL once torn down */
    camrtc_pcuv_callbacks cb;
    void *ud;
    bool ready;                 /* on_ready was called: descriptions may be made */
    camrtc_pc_stats last;       /* the counters as the pc was freed */
};

/* ---- the pc as the driver's owner ---------------------------------------------------- */

static int pc_add_host(void *o, camrtc_time_us now, int sock, const camrtc_addr *local)
{
    camrtc_pcuv *p = o;
    return camrtc_pc_add_host(p->pc, now, sock, local);
}

static int pc_add_server(void *o, camrtc_time_us now, const camrtc_ice_server *srv)
{
    camrtc_pcuv *p = o;
    return camrtc_pc_add_server(p->pc, now, srv);
}

/* The pc gathers when a description is made; here the user learns it may make one. */
static int pc_gather(void *o, camrtc_time_us now)
{
    camrtc_pcuv *p = o;
    (void)now;
    p->ready = true;
    if (p->cb.on_ready)
        p->cb.on_ready(p, p->ud);
    return CAMRTC_OK;
}

static int pc_udp_input(void *o, camrtc_time_us now, int sock, const camrtc_addr *from, const uint8_t *data,
                        size_t len)
{
    camrtc_pcuv *p = o;
    return camrtc_pc_udp_input(p->pc, now, sock, from, data, len);
}

static int pc_stream_connected(void *o, camrtc_time_us now, int stream)
{
    camrtc_pcuv *p = o;
    return camrtc_ice_stream_connected(camrtc_pc_ice(p->pc), now, stream);
}

static int pc_stream_input(void *o, camrtc_time_us now, int stream, const uint8_t *data, size_t len)
{
    camrtc_pcuv *p = o;
    return camrtc_ice_stream_input(camrtc_pc_ice(p->pc), now, stream, data, len);
}

static int pc_stream_closed(void *o, camrtc_time_us now, int stream, int err)
{
    camrtc_pcuv *p = o;
    return camrtc_ice_stream_closed(camrtc_pc_ice(p->pc), now, stream, err);
}

static int pc_handle_timeout(void *o, camrtc_time_us now)
{
    camrtc_pcuv *p = o;
    return camrtc_pc_handle_timeout(p->pc, now);
}

static camrtc_time_us pc_next_timeout(const void *o)
{
    const camrtc_pcuv *p = o;
    return camrtc_pc_next_timeout(p->pc);
}

static int pc_close(void *o, camrtc_time_us now)
{
    camrtc_pcuv *p = o;
    int rc = camrtc_pc_close(p->pc, now);
    /* Workaround: when the remote's close_notify already made the pc CLOSED,
     * camrtc_pc_close returns at once and leaves its ICE agent running (consent checks,
     * TURN allocations). Closing the agent here is idempotent and lets the driver see
     * the deallocation finish instead of waiting for CAMRTC_ICEUV_CLOSE_WAIT_MS. */
    camrtc_ice_close(camrtc_pc_ice(p->pc), now);
    return rc;
}

static void pc_free_owner(void *o)
{
    camrtc_pcuv *p = o;
    camrtc_pc_get_stats(p->pc, &p->last);
    camrtc_pc_free(p->pc);
    p->pc = NULL;
}

static const camrtc_iceuv_ops pc_ops = {
    .add_host = pc_add_host,
    .add_server = pc_add_server,
    .gather = pc_gather,
    .udp_input = pc_udp_input,
    .stream_connected = pc_stream_connected,
    .stream_input = pc_stream_input,
    .stream_closed = pc_stream_closed,
    .handle_timeout = pc_handle_timeout,
    .next_timeout = pc_next_timeout,
    .close = pc_close,
    .free_owner = pc_free_owner,
};

/* ---- the pc's io: sockets to the driver, events to the user ---------------------------- */

static void io_event(void *user, const camrtc_pc_event *ev)
{
    camrtc_pcuv *p = user;
    if (p->cb.on_event)
        p->cb.on_event(p, p->ud, ev);
}

/* The pc gives one user pointer to all its io calls; the stream and UDP calls want the
 * driver, so they go through these small adapters. */
static void io_send_udp(void *user, int sock, const camrtc_addr *to, const uint8_t *data, size_t len)
{
    camrtc_pcuv *p = user;
    iceuv_io_send_udp(p->drv, sock, to, data, len);
}

static void io_open_stream(void *user, int stream, const camrtc_addr *to, bool tls)
{
    camrtc_pcuv *p = user;
    iceuv_io_open_stream(p->drv, stream, to, tls);
}

static void io_send_stream(void *user, int stream, const uint8_t *data, size_t len)
{
    camrtc_pcuv *p = user;
    iceuv_io_send_stream(p->drv, stream, data, len);
}

static void io_close_stream(void *user, int stream)
{
    camrtc_pcuv *p = user;
    iceuv_io_close_stream(p->drv, stream);
}

static int io_open_udp(void *user, const camrtc_addr *local)
{
    camrtc_pcuv *p = user;
    return iceuv_io_open_udp(p->drv, local);
}

static const camrtc_pc_io pc_io = {
    .send_udp = io_send_udp,
    .open_stream = io_open_stream,
    .send_stream = io_send_stream,
    .close_stream = io_close_stream,
    .event = io_event,
    .open_udp = io_open_udp,
};

static void drv_closed(camrtc_iceuv *u, void *ud)
{
    camrtc_pcuv *p = ud;
    (void)u;
    if (p->cb.on_close)
        p->cb.on_close(p, p->ud);
    free(p);
}

/* ---- public calls ------------------------------------------------------------------------ */

int camrtc_pcuv_new(uv_loop_t *loop, const camrtc_pc_config *pc, const camrtc_iceuv_config *net,
                    const camrtc_pcuv_callbacks *cb, void *ud, camrtc_pcuv **out)
{
    if (!loop || !pc || !pc->cert || !out)
        return CAMRTC_EINVAL;
    *out = NULL;
    camrtc_pcuv *p = calloc(1, sizeof *p);
    if (!p)
        return CAMRTC_ENOMEM;
    if (cb)
        p->cb = *cb;
    p->ud = ud;
    camrtc_iceuv_config dc;
    if (net)
        dc = *net;
    else
        memset(&dc, 0, sizeof dc);
    dc.ice = pc->ice;   /* the interface filter */
    if (!dc.log)
        dc.log = pc->log;
    const camrtc_iceuv_callbacks dcb = {.on_close = drv_closed};
    int rc = iceuv_drv_new(loop, &dc, &dcb, p, &p->drv);
    if (rc < 0) {
        free(p);
        return rc;
    }
    camrtc_pc_config c = *pc;
    if (!c.rng)
        c.rng = iceuv_drv_rng(p->drv);
    if (!c.log)
        c.log = dc.log;
    rc = camrtc_pc_new(&p->pc, &c, &pc_io, p);
    if (rc < 0) {
        iceuv_drv_abort(p->drv);
        free(p);
        return rc;
    }
    iceuv_drv_set_owner(p->drv, &pc_ops, p);
    *out = p;
    return CAMRTC_OK;
}

int camrtc_pcuv_add_server(camrtc_pcuv *p, const char *url, const char *username, const char *password)
{
    return p ? camrtc_iceuv_add_server(p->drv, url, username, password) : CAMRTC_EINVAL;
}

int camrtc_pcuv_add_kvs_servers(camrtc_pcuv *p, const camrtc_kvs_ice_config *cfg)
{
    return p ? camrtc_iceuv_add_kvs_servers(p->drv, cfg) : CAMRTC_EINVAL;
}

int camrtc_pcuv_start(camrtc_pcuv *p)
{
    return p ? camrtc_iceuv_gather(p->drv) : CAMRTC_EINVAL;
}

/* Common guard of the calls that feed the pc. */
static int usable(const camrtc_pcuv *p)
{
    if (!p)
        return CAMRTC_EINVAL;
    if (!p->pc || iceuv_drv_closing(p->drv))
        return CAMRTC_ECLOSED;
    return CAMRTC_OK;
}

int camrtc_pcuv_create_offer(camrtc_pcuv *p, camrtc_buf *out)
{
    int rc = usable(p);
    if (rc < 0)
        return rc;
    if (!p->ready)
        return CAMRTC_ESTATE;
    iceuv_drv_enter(p->drv);
    rc = camrtc_pc_create_offer(p->pc, camrtc_now_us(), out);
    iceuv_drv_leave(p->drv);
    return rc;
}

int camrtc_pcuv_set_answer(camrtc_pcuv *p, const char *sdp, size_t len, char *reason, size_t reasonsz)
{
    int rc = usable(p);
    if (rc < 0)
        return rc;
    iceuv_drv_enter(p->drv);
    rc = camrtc_pc_set_answer(p->pc, camrtc_now_us(), sdp, len, reason, reasonsz);
    iceuv_drv_leave(p->drv);
    return rc;
}

int camrtc_pcuv_answer_offer(camrtc_pcuv *p, const char *sdp, size_t len, camrtc_buf *out, char *reason,
                             size_t reasonsz)
{
    int rc = usable(p);
    if (rc < 0)
        return rc;
    if (!p->ready)
        return CAMRTC_ESTATE;
    iceuv_drv_enter(p->drv);
    rc = camrtc_pc_answer_offer(p->pc, camrtc_now_us(), sdp, len, out, reason, reasonsz);
    iceuv_drv_leave(p->drv);
    return rc;
}

int camrtc_pcuv_add_remote_candidate(camrtc_pcuv *p, const char *line)
{
    int rc = usable(p);
    if (rc < 0)
        return rc;
    iceuv_drv_enter(p->drv);
    rc = camrtc_pc_add_remote_candidate(p->pc, camrtc_now_us(), line);
    iceuv_drv_leave(p->drv);
    return rc;
}

int camrtc_pcuv_send_packets(camrtc_pcuv *p, const camrtc_pc_packets *l)
{
    int rc = usable(p);
    if (rc < 0)
        return rc;
    iceuv_drv_enter(p->drv);
    rc = camrtc_pc_send_packets(p->pc, camrtc_now_us(), l);
    iceuv_drv_leave(p->drv);
    return rc;
}

int camrtc_pcuv_send_nal(camrtc_pcuv *p, const camrtc_nal *nal)
{
    int rc = usable(p);
    if (rc < 0)
        return rc;
    iceuv_drv_enter(p->drv);
    rc = camrtc_pc_send_nal(p->pc, camrtc_now_us(), nal);
    iceuv_drv_leave(p->drv);
    return rc;
}

int camrtc_pcuv_request_keyframe(camrtc_pcuv *p)
{
    int rc = usable(p);
    if (rc < 0)
        return rc;
    iceuv_drv_enter(p->drv);
    rc = camrtc_pc_request_keyframe(p->pc, camrtc_now_us());
    iceuv_drv_leave(p->drv);
    return rc;
}

void camrtc_pcuv_close(camrtc_pcuv *p)
{
    if (p)
        camrtc_iceuv_close(p->drv);
}

camrtc_pc_state camrtc_pcuv_state(const camrtc_pcuv *p)
{
    return p && p->pc ? camrtc_pc_get_state(p->pc) : CAMRTC_PC_CLOSED;
}

void camrtc_pcuv_get_stats(const camrtc_pcuv *p, camrtc_pc_stats *out)
{
    if (p->pc)
        camrtc_pc_get_stats(p->pc, out);
    else
        *out = p->last;
}

camrtc_pc *camrtc_pcuv_pc(camrtc_pcuv *p)
{
    return p ? p->pc : NULL;
}

const camrtc_iceuv_stats *camrtc_pcuv_net_stats(const camrtc_pcuv *p)
{
    return camrtc_iceuv_get_stats(p->drv);
}

uint64_t camrtc_pcuv_udp_send_calls(const camrtc_pcuv *p)
{
    return iceuv_drv_send_calls(p->drv);
}
