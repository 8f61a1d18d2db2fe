/* The bare ICE agent as the driver's owner: the public camrtc_iceuv API (camrtc/iceuv.h).
 *
 * The driver (iceuv.c) gives the agent sockets, streams, a timer and DNS; this file only
 * passes the agent's io calls through and wraps its calls in enter/leave.
 */
#include "camrtc/iceuv.h"
#include "iceuv_int.h"

#include "camrtc/error.h"
#include "camrtc/time.h"

#define MOD "iceuv"

static void io_event(void *user, const camrtc_ice_event *ev)
{
    camrtc_iceuv *u = user;
    if (u->cb.on_event)
        u->cb.on_event(u, u->ud, ev);
}

static const camrtc_ice_io ice_io = {
    .send_udp = iceuv_io_send_udp,
    .open_stream = iceuv_io_open_stream,
    .send_stream = iceuv_io_send_stream,
    .close_stream = iceuv_io_close_stream,
    .event = io_event,
    .open_udp = iceuv_io_open_udp,
};

/* ---- the bare ICE agent as the owner ---------------------------------------------------- */

static int ice_add_host(void *o, camrtc_time_us now, int sock, const camrtc_addr *local)
{
    return camrtc_ice_add_host(o, now, sock, local);
}

static int ice_add_server(void *o, camrtc_time_us now, const camrtc_ice_server *srv)
{
    return camrtc_ice_add_server(o, now, srv);
}

static int ice_gather(void *o, camrtc_time_us now)
{
    return camrtc_ice_gather(o, now);
}

static int ice_udp_input(void *o, camrtc_time_us now, int sock, const camrtc_addr *from, const uint8_t *data,
                         size_t len)
{
    return camrtc_ice_udp_input(o, now, sock, from, data, len);
}

static int ice_stream_connected(void *o, camrtc_time_us now, int stream)
{
    return camrtc_ice_stream_connected(o, now, stream);
}

static int ice_stream_input(void *o, camrtc_time_us now, int stream, const uint8_t *data, size_t len)
{
    return camrtc_ice_stream_input(o, now, stream, data, len);
}

static int ice_stream_closed(void *o, camrtc_time_us now, int stream, int err)
{
    return camrtc_ice_stream_closed(o, now, stream, err);
}

static int ice_handle_timeout(void *o, camrtc_time_us now)
{
    return camrtc_ice_handle_timeout(o, now);
}

static camrtc_time_us ice_next_timeout(const void *o)
{
    return camrtc_ice_next_timeout(o);
}

static int ice_close(void *o, camrtc_time_us now)
{
    return camrtc_ice_close(o, now);
}

static void ice_free_owner(void *o)
{
    camrtc_ice_free(o);
}

static const camrtc_iceuv_ops ice_ops = {
    .add_host = ice_add_host,
    .add_server = ice_add_server,
    .gather = ice_gather,
    .udp_input = ice_udp_input,
    .stream_connected = ice_stream_connected,
    .stream_input = ice_stream_input,
    .stream_closed = ice_stream_closed,
    .handle_timeout = ice_handle_timeout,
    .next_timeout = ice_next_timeout,
    .close = ice_close,
    .free_owner = ice_free_owner,
};

/* ---- the public calls ------------------------------------------------------------------ */

int camrtc_iceuv_new(uv_loop_t *loop, const camrtc_iceuv_config *cfg, const camrtc_iceuv_callbacks *cb,
                     void *ud, camrtc_iceuv **out)
{
    camrtc_iceuv *u;
    int rc = iceuv_drv_new(loop, cfg, cb, ud, &u);
    if (rc < 0)
        return rc;
    u->agent = camrtc_ice_new(&cfg->ice, &ice_io, u, &u->rng, u->log);
    if (!u->agent) {
        iceuv_drv_abort(u);
        return CAMRTC_ENOMEM;
    }
    iceuv_drv_set_owner(u, &ice_ops, u->agent);
    *out = u;
    return CAMRTC_OK;
}

int camrtc_iceuv_set_remote_credentials(camrtc_iceuv *u, const char *ufrag, const char *pwd)
{
    if (!u || !ufrag || !pwd)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    iceuv_drv_enter(u);
    int rc = camrtc_ice_set_remote_credentials(u->agent, camrtc_now_us(), ufrag, pwd);
    iceuv_drv_leave(u);
    return rc;
}

int camrtc_iceuv_add_remote_candidate(camrtc_iceuv *u, const char *line)
{
    if (!u || !line)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    camrtc_ice_candidate c;
    int rc = camrtc_ice_candidate_parse(&c, line);
    if (rc < 0)
        return rc;
    iceuv_drv_enter(u);
    rc = camrtc_ice_add_remote_candidate(u->agent, camrtc_now_us(), &c);
    iceuv_drv_leave(u);
    return rc;
}

int camrtc_iceuv_remote_end_of_candidates(camrtc_iceuv *u)
{
    if (!u)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    iceuv_drv_enter(u);
    int rc = camrtc_ice_remote_end_of_candidates(u->agent, camrtc_now_us());
    iceuv_drv_leave(u);
    return rc;
}

int camrtc_iceuv_send(camrtc_iceuv *u, const uint8_t *data, size_t len)
{
    if (!u || (!data && len))
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    iceuv_drv_enter(u);
    int rc = camrtc_ice_send(u->agent, camrtc_now_us(), data, len);
    iceuv_drv_leave(u);
    return rc;
}

int camrtc_iceuv_restart(camrtc_iceuv *u)
{
    if (!u)
        return CAMRTC_EINVAL;
    if (u->agent_closed || u->close_asked)
        return CAMRTC_ECLOSED;
    iceuv_drv_enter(u);
    int rc = camrtc_ice_restart(u->agent, camrtc_now_us());
    iceuv_drv_leave(u);
    return rc;
}

camrtc_ice_agent *camrtc_iceuv_agent(camrtc_iceuv *u)
{
    return u ? u->agent : NULL;
}
