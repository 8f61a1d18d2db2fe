/* The libuv glue for a whole peer connection (camrtc/pc.h).
 *
 * A camrtc_pcuv owns one camrtc_pc and drives it with the same machinery as camrtc_iceuv
 * (one UDP socket per allowed interface address, one timer armed at
 * camrtc_pc_next_timeout, TURN TCP/TLS streams, server names resolved on the thread pool):
 * iceuv.c is the only place that touches those handles, the pc is plugged in as its owner.
 *
 * Order of calls:
 *   camrtc_pcuv_new → camrtc_pcuv_add_server / _add_kvs_servers (optional) →
 *   camrtc_pcuv_start → on_ready (sockets bound, servers known) → camrtc_pcuv_create_offer
 *   (RECEIVER) or camrtc_pcuv_answer_offer (SENDER) → trickled candidates both ways →
 *   media (camrtc_pcuv_send_packets; frames arrive as CAMRTC_PC_EV_FRAME events) →
 *   camrtc_pcuv_close → on_close.
 *
 * Closing sends DTLS close_notify and an RTCP BYE at once (camrtc_pc_close), then waits for
 * TURN deallocation at most CAMRTC_ICEUV_CLOSE_WAIT_MS before closing every handle; on_close
 * is the last callback and the pcuv is freed after it returns. The pc's counters stay
 * readable (camrtc_pcuv_get_stats) until then, on_close included.
 *
 * Everything runs on the loop thread.
 */
#ifndef CAMRTC_PCUV_H
#define CAMRTC_PCUV_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "camrtc/buf.h"
#include "camrtc/iceuv.h"
#include "camrtc/pc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct camrtc_pcuv camrtc_pcuv;

typedef struct camrtc_pcuv_callbacks {
    /* Sockets are bound and every server is registered: make the offer or the answer now.
     * May come from inside camrtc_pcuv_start (no server name to resolve). */
    void (*on_ready)(camrtc_pcuv *p, void *ud);
    /* A pc event (camrtc/pc.h). May call any camrtc_pcuv function but must not expect a
     * close to happen before it returns. */
    void (*on_event)(camrtc_pcuv *p, void *ud, const camrtc_pc_event *ev);
    /* Last call after camrtc_pcuv_close; p is freed after it returns. May be NULL. */
    void (*on_close)(camrtc_pcuv *p, void *ud);
} camrtc_pcuv_callbacks;

/* Create a pcuv on loop. pc is the peer connection's configuration (pc->cert required and
 * borrowed; pc->rng may be NULL: the pcuv's own is used; pc->ice also chooses the
 * interfaces). net gives TLS for turns: servers, and the log (net->ice is not used).
 * cb is copied. CAMRTC_OK and *out, or CAMRTC_EINVAL, CAMRTC_ENOMEM, CAMRTC_ECRYPTO. */
int camrtc_pcuv_new(uv_loop_t *loop, const camrtc_pc_config *pc, const camrtc_iceuv_config *net,
                    const camrtc_pcuv_callbacks *cb, void *ud, camrtc_pcuv **out);

/* Servers, before camrtc_pcuv_start: as camrtc_iceuv_add_server / _add_kvs_servers. */
int camrtc_pcuv_add_server(camrtc_pcuv *p, const char *url, const char *username, const char *password);
int camrtc_pcuv_add_kvs_servers(camrtc_pcuv *p, const camrtc_kvs_ice_config *cfg);

/* Bind the sockets and resolve the server names; on_ready follows. CAMRTC_OK,
 * CAMRTC_ENOTFOUND (no usable interface), CAMRTC_ESTATE (twice, or closing). */
int camrtc_pcuv_start(camrtc_pcuv *p);

/* The description calls of camrtc/pc.h, after on_ready. CAMRTC_ESTATE before on_ready,
 * CAMRTC_ECLOSED once closing; else the pc's answer. */
int camrtc_pcuv_create_offer(camrtc_pcuv *p, camrtc_buf *out);
int camrtc_pcuv_set_answer(camrtc_pcuv *p, const char *sdp, size_t len, char *reason, size_t reasonsz);
int camrtc_pcuv_answer_offer(camrtc_pcuv *p, const char *sdp, size_t len, camrtc_buf *out, char *reason,
                             size_t reasonsz);

/* A trickled remote candidate; NULL or "" = end-of-candidates (camrtc_pc_add_remote_candidate). */
int camrtc_pcuv_add_remote_candidate(camrtc_pcuv *p, const char *line);

/* Media (camrtc_pc_send_packets, camrtc_pc_send_nal, camrtc_pc_request_keyframe);
 * CAMRTC_ECLOSED once closing. */
int camrtc_pcuv_send_packets(camrtc_pcuv *p, const camrtc_pc_packets *l);
int camrtc_pcuv_send_nal(camrtc_pcuv *p, const camrtc_nal *nal);
int camrtc_pcuv_request_keyframe(camrtc_pcuv *p);

/* Close politely (see above). Idempotent. */
void camrtc_pcuv_close(camrtc_pcuv *p);

/* The pc's state (CLOSED once torn down) and a copy of its counters (the last ones once
 * torn down). */
camrtc_pc_state camrtc_pcuv_state(const camrtc_pcuv *p);
void camrtc_pcuv_get_stats(const camrtc_pcuv *p, camrtc_pc_stats *out);

/* The pc, for its other getters (payload type, selected pair through camrtc_pc_ice);
 * NULL once torn down. Do not feed it input nor free it. */
camrtc_pc *camrtc_pcuv_pc(camrtc_pcuv *p);

/* The socket/stream counters of the driver. */
const camrtc_iceuv_stats *camrtc_pcuv_net_stats(const camrtc_pcuv *p);

/* System calls that sent UDP datagrams so far. Datagrams wait until the loop iteration's
 * callbacks are done and then leave together (one sendmmsg per socket), so this is
 * usually far below camrtc_pcuv_net_stats()->udp_sent while media flows. */
uint64_t camrtc_pcuv_udp_send_calls(const camrtc_pcuv *p);

#ifdef __cplusplus
}
#endif
#endif
