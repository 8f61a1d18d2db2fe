/* The libuv glue for the sans-I/O ICE agent (camrtc/ice.h).
 *
 * A camrtc_iceuv owns one camrtc_ice_agent and gives it real sockets, a clock and timers:
 * - one UDP socket per allowed interface address (uv_interface_addresses filtered with
 *   camrtc_ice_interface_allowed), IPv4 and IPv6, read into one fixed buffer (no per-packet
 *   allocation). Datagrams to send wait in a small queue (16 datagrams, 20 KB, made once)
 *   until the loop iteration's callbacks are done, then leave with one sendmmsg per socket
 *   (uv_udp_try_send each off Linux); an idle handle empties the queue before the loop
 *   sleeps. A full socket buffer drops the datagram, as the network could;
 * - one uv_timer armed at camrtc_ice_next_timeout after every call into the agent;
 * - STUN/TURN server URLs (RFC 7064/7065) resolved with uv_getaddrinfo; gathering starts
 *   once every name is resolved, so the agent knows all its servers when it begins; a KVS
 *   GetIceServerConfig answer (camrtc/kvs.h) plugs in as it is (camrtc_iceuv_add_kvs_servers);
 * - TCP and TLS streams to TURN servers (RFC 8656 §3.1) when the agent asks for them, on the
 *   project's connection layer (camrtc/net.h). TLS verifies the server against the URL host.
 *
 * The same machinery drives a whole peer connection (camrtc/pcuv.h): iceuv.c talks to its
 * owner through a table of calls (src/net/iceuv_int.h), so sockets, streams, timer and
 * DNS live in one place.
 *
 * Everything runs on the loop thread; callbacks come from uv_run. Closing first lets the
 * agent deallocate its TURN allocations (bounded by CAMRTC_ICEUV_CLOSE_WAIT_MS), then closes
 * every handle; on_close is the last callback.
 */
#ifndef CAMRTC_ICEUV_H
#define CAMRTC_ICEUV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "camrtc/ice.h"
#include "camrtc/kvs.h"
#include "camrtc/log.h"
#include "camrtc/tls.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bound on UDP sockets (interface addresses) one adapter binds; more are skipped. */
#define CAMRTC_ICEUV_MAX_SOCKETS 8
/* Bound on STUN/TURN servers one adapter takes. */
#define CAMRTC_ICEUV_MAX_SERVERS 8
/* Size of the receive buffer; a longer datagram is dropped and counted. */
#define CAMRTC_ICEUV_RECV_SIZE 4096
/* How long camrtc_iceuv_close waits for TURN deallocation before closing the sockets. */
#define CAMRTC_ICEUV_CLOSE_WAIT_MS 1000

typedef struct camrtc_iceuv camrtc_iceuv;

typedef struct camrtc_iceuv_config {
    camrtc_ice_config ice;       /* the agent's configuration (strings copied by the agent) */
    /* TLS for turns: servers. tls is borrowed and must outlive the adapter; when NULL the
     * adapter makes its own client config on first use, trusting ca_file (NULL = the system
     * CAs), or trusting anything when tls_insecure (tests only). */
    const camrtc_tls_config *tls;
    const char *ca_file;
    bool tls_insecure;
    const camrtc_log *log;       /* borrowed; NULL = no logging */
} camrtc_iceuv_config;

typedef struct camrtc_iceuv_callbacks {
    /* An agent event (camrtc/ice.h). It may call camrtc_iceuv_send, the getters and
     * camrtc_iceuv_close (acted on once the agent returns). */
    void (*on_event)(camrtc_iceuv *u, void *ud, const camrtc_ice_event *ev);
    /* Last call, after camrtc_iceuv_close: every handle is closed; u is freed after it
     * returns. May be NULL. */
    void (*on_close)(camrtc_iceuv *u, void *ud);
} camrtc_iceuv_callbacks;

typedef struct camrtc_iceuv_stats {
    uint64_t udp_received, udp_sent;
    uint64_t udp_dropped_truncated;  /* datagram longer than CAMRTC_ICEUV_RECV_SIZE */
    uint64_t udp_send_failed;        /* the kernel refused it (socket buffer full, ...) */
    uint64_t streams_opened;         /* TCP/TLS connections to TURN servers started */
    uint64_t streams_failed;         /* ... that ended with an error */
    uint64_t stream_bytes_in, stream_bytes_out;
    uint64_t dns_failed;
    uint64_t servers_skipped;        /* URIs camrtc_iceuv_add_kvs_servers did not take */
} camrtc_iceuv_stats;

/* A server as the adapter took it (camrtc_iceuv_get_server). */
typedef struct camrtc_iceuv_server_info {
    const camrtc_ice_url *url;       /* parsed: turn or stun, transport, host, port */
    const char *username, *password; /* NULL when none was given */
} camrtc_iceuv_server_info;

/* Create an adapter on loop with its agent (not gathering yet). cfg and cb are copied;
 * cfg->log and cfg->tls are borrowed. CAMRTC_OK and *out, or CAMRTC_EINVAL, CAMRTC_ENOMEM,
 * CAMRTC_ECRYPTO (no entropy). */
int camrtc_iceuv_new(uv_loop_t *loop, const camrtc_iceuv_config *cfg, const camrtc_iceuv_callbacks *cb,
                     void *ud, camrtc_iceuv **out);

/* Add a STUN or TURN server by URL ("stun:host:port", "turn:host?transport=tcp",
 * "turns:host", camrtc_ice_url_parse); username/password (copied) for TURN. A name is
 * resolved on the thread pool; call before camrtc_iceuv_gather. CAMRTC_OK, or
 * CAMRTC_EPROTO / CAMRTC_EUNSUPPORTED (URL), CAMRTC_ELIMIT (too many servers),
 * CAMRTC_ESTATE (gathering already asked for, or closing), CAMRTC_ENOMEM. A name that does
 * not resolve is logged, counted (dns_failed) and skipped. */
int camrtc_iceuv_add_server(camrtc_iceuv *u, const char *url, const char *username, const char *password);

/* Add every URI of every server of a parsed GetIceServerConfig answer
 * (camrtc_kvs_parse_ice_config), each TURN URI with its server's Username and Password
 * (TURN REST credentials, the same for all URIs of one entry; "" means none), stun: URIs
 * without credentials. cfg is read only during the call.
 * AWS lists, per server, "turn:H:443?transport=udp", "turns:H:443?transport=udp" and
 * "turns:H:443?transport=tcp". A URI this adapter cannot use (turns: over UDP would be DTLS
 * and stuns: is not spoken, camrtc_ice_url_parse gives CAMRTC_EUNSUPPORTED; a malformed one;
 * one past CAMRTC_ICEUV_MAX_SERVERS) is skipped with a log line and counted
 * (stats.servers_skipped): the others still give the agent a relay.
 * Returns how many URIs were taken (0 or more), or CAMRTC_EINVAL (NULL argument),
 * CAMRTC_ESTATE (gathering already asked for, or closing), CAMRTC_ENOMEM (the URIs taken
 * before stay taken). Call before camrtc_iceuv_gather. */
int camrtc_iceuv_add_kvs_servers(camrtc_iceuv *u, const camrtc_kvs_ice_config *cfg);

/* Bind the UDP sockets, register them, and start gathering (at once, or when the last
 * server name is resolved). CAMRTC_OK, CAMRTC_ENOTFOUND when no interface address is
 * allowed or none could be bound, CAMRTC_ESTATE when called twice or while closing. */
int camrtc_iceuv_gather(camrtc_iceuv *u);

/* The remote side's credentials (camrtc_ice_set_remote_credentials). */
int camrtc_iceuv_set_remote_credentials(camrtc_iceuv *u, const char *ufrag, const char *pwd);

/* A remote candidate as an SDP line ("candidate:..." or "a=candidate:..."). CAMRTC_EPROTO
 * when malformed, CAMRTC_EUNSUPPORTED for mDNS names, else the agent's answer. */
int camrtc_iceuv_add_remote_candidate(camrtc_iceuv *u, const char *line);

/* The remote side has no more candidates. */
int camrtc_iceuv_remote_end_of_candidates(camrtc_iceuv *u);

/* Send application data on the selected pair (CAMRTC_ESTATE when none). */
int camrtc_iceuv_send(camrtc_iceuv *u, const uint8_t *data, size_t len);

/* ICE restart (camrtc_ice_restart). */
int camrtc_iceuv_restart(camrtc_iceuv *u);

/* Close: the agent deallocates TURN (waiting at most CAMRTC_ICEUV_CLOSE_WAIT_MS for the
 * answers), then every socket, stream, timer and pending name lookup is closed and
 * on_close follows from the loop. Idempotent. */
void camrtc_iceuv_close(camrtc_iceuv *u);

/* The agent, for its getters (credentials, state, selected pair, stats). Do not free it,
 * nor feed it input: the adapter does. */
camrtc_ice_agent *camrtc_iceuv_agent(camrtc_iceuv *u);

/* The adapter's own counters. */
const camrtc_iceuv_stats *camrtc_iceuv_get_stats(const camrtc_iceuv *u);

/* Number of servers taken (camrtc_iceuv_add_server and camrtc_iceuv_add_kvs_servers, a
 * name that later fails to resolve included), and the i-th of them in the order added:
 * CAMRTC_OK and *out (pointers valid until on_close returns), or CAMRTC_ENOTFOUND when
 * i >= the count, CAMRTC_EINVAL for NULL arguments. For checks and logs. */
unsigned camrtc_iceuv_server_count(const camrtc_iceuv *u);
int camrtc_iceuv_get_server(const camrtc_iceuv *u, unsigned i, camrtc_iceuv_server_info *out);

/* Number of UDP sockets bound by camrtc_iceuv_gather. */
unsigned camrtc_iceuv_socket_count(const camrtc_iceuv *u);

#ifdef __cplusplus
}
#endif
#endif
