/* Internals shared by the service glue (service.c) and its small request
 * handlers (admin.c, page.c). Not part of the public API. */
#ifndef CAMRTC_SERVER_SERVICE_INTERNAL_H
#define CAMRTC_SERVER_SERVICE_INTERNAL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "camrtc/buf.h"
#include "camrtc/http.h"
#include "camrtc/net.h"
#include "camrtc/rand.h"
#include "camrtc/server.h"
#include "camrtc/tls.h"
#include "camrtc/ws.h"
#include "server/control.h"
#include "server/hub.h"
#include "server/idmap.h"
#include "server/store.h"

typedef struct sconn sconn;

/* One accepted TCP connection: HTTP until it upgrades to a WebSocket. */
struct sconn {
    camrtc_signaling *srv;
    camrtc_conn *conn;
    int mode;                    /* M_HTTP, M_WS, M_CLOSING in service.c */
    camrtc_http_parser *http;    /* HTTP mode only; freed on upgrade */
    camrtc_ws *ws;               /* WebSocket mode */
    uint64_t hub_id;             /* 0 until registered with the hub */
    camrtc_time_us deadline;     /* HTTP mode: the next request must be complete by then */
    bool loopback;               /* peer address is a loopback address */
    bool dirty;                  /* has output waiting for the end of this loop iteration */
    sconn *dirty_next;
    sconn *prev, *next;
};

/* Counters of the glue (the hub and net keep their own). */
typedef struct sig_service_stats {
    uint64_t rest_calls, ws_upgrades, auth_failures, http_errors, http_bad_requests, http_timeouts,
        ws_protocol_errors, slow_clients;
} sig_service_stats;

struct camrtc_signaling {
    uv_loop_t *loop;
    camrtc_log *log;
    camrtc_signaling_config cfg;  /* strings point into owned[] */
    char *owned[32];
    size_t n_owned;
    camrtc_rng rng;
    camrtc_listener *listener;
    camrtc_tls_config *tls;
    sig_store *store;
    sig_hub *hub;
    sig_control_config ctl;
    uv_timer_t hub_timer, sweep_timer;
    uv_check_t flush_check;       /* writes gathered output once per loop iteration */
    bool flush_armed;
    sconn *dirty;                 /* connections with gathered output */
    camrtc_time_us timer_at;
    bool timer_armed;
    int open_timers;
    bool stopping, timers_closing;
    char url[300], wss_url[300], listen_url[300], ca_path[PATH_MAX];
    sconn *conns;
    size_t n_conns;
    sig_idmap by_hub_id;
    sconn *connecting;            /* set during sig_hub_connect */
    camrtc_buf scratch;           /* output staging, shared by every connection */
    sig_service_stats stats;
};

/* Send an HTTP response with the service's standard headers (Date, x-amzn-RequestId, and x-amzn-ErrorType when
 * error_type is set). keep_alive false closes the connection after it. */
void sig_service_respond(sconn *sc, int status, const char *error_type, const char *content_type,
                         const void *body, size_t len, bool keep_alive);
/* Send a control-plane reply and free its body. */
void sig_service_reply(sconn *sc, sig_reply *r, bool keep_alive);
/* /admin/... requests (loopback peers only). */
void sig_admin_handle(sconn *sc, const camrtc_http_msg *m);
/* GET / : the service's page. */
void sig_page_handle(sconn *sc, const camrtc_http_msg *m);

#endif
