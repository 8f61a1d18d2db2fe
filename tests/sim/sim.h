/* The simulated network: a deterministic discrete-event network for tests and benches.
 *
 * Everything happens in one process on a virtual clock (microseconds, starting at 1 s).
 * Nothing here touches a socket or the real clock, so a run is faster than real time and
 * identical on every run for a given seed: the event queue is a binary heap ordered by
 * (time, insertion order) and all randomness comes from the sim's own PRNG (xoshiro256**
 * seeded with splitmix64), never from camrtc_rng.
 *
 * The pieces:
 *   hosts   a node with one or more IP addresses, on the "internet" or behind a NAT;
 *   sockets UDP endpoints bound to host address:port, with a receive callback;
 *   links   impairments (delay, jitter, loss, reordering, duplication, rate limit with a
 *           bounded queue) on each host's uplink (both directions), each NAT's uplink, and
 *           optionally per (sender host, receiver host) pair;
 *   NATs    RFC 4787 mapping and filtering behaviour (sim_nat.c), mapping timeouts,
 *           optional hairpinning;
 *   timers  for the code under test (sim_timer_set / sim_timer_cancel).
 *
 * A packet's path: sender host uplink (up) → its realm's router; inside a NAT's LAN it goes
 * straight to the receiver's downlink, else through the NAT (translation, NAT uplink) to the
 * internet; on the internet to a public host's downlink, or a NAT's downlink → translation →
 * the private host's downlink. A pair link, if set, is crossed just before the receiver's
 * downlink. Each crossing is its own event, so NAT state is looked at when the packet
 * really arrives there (hole punching with simultaneous sends works as on a real NAT).
 */
#ifndef CAMRTC_SIM_H
#define CAMRTC_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "camrtc/addr.h"
#include "camrtc/time.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sim sim;
typedef struct sim_host sim_host;
typedef struct sim_sock sim_sock;
typedef struct sim_nat sim_nat;

/* Where the virtual clock starts. */
#define SIM_T0 CAMRTC_SEC(1)
/* Bounds (each has a counter when hit). */
#define SIM_MAX_ADDRS 4              /* addresses per host */
#define SIM_MAX_PACKET 65536         /* longest datagram */
#define SIM_MAX_INFLIGHT 200000      /* packets on links at once */
#define SIM_DEFAULT_MAX_EVENTS 50000000ull /* per sim_run_* call: stops a runaway loop */

/* ---- the simulation --------------------------------------------------------------- */

typedef struct sim_stats {
    uint64_t events;            /* events processed in total */
    uint64_t sent;              /* datagrams given to sim_udp_send */
    uint64_t delivered;         /* datagrams handed to a receive callback */
    uint64_t no_route;          /* destination IP unknown in the realm */
    uint64_t no_socket;         /* reached the host but no socket on that address:port */
    uint64_t too_big;           /* longer than SIM_MAX_PACKET */
    uint64_t inflight_drops;    /* SIM_MAX_INFLIGHT reached */
    uint64_t event_limit_hits;  /* a run stopped at max_events */
} sim_stats;

/* A new empty network; seed fixes every random choice. NULL on allocation failure. */
sim *sim_new(uint64_t seed);

/* Free everything: hosts, sockets, NATs, pending events and timers (their callbacks are
 * not called; user pointers are not freed). */
void sim_free(sim *s);

/* The virtual time. */
camrtc_time_us sim_now(const sim *s);

const sim_stats *sim_get_stats(const sim *s);

/* The sim's PRNG, for tests and glue that need reproducible randomness. */
uint64_t sim_rand_u64(sim *s);
/* Uniform in [0, 1). */
double sim_rand_double(sim *s);

/* A running 64-bit hash of everything that happened to packets (deliveries and drops with
 * their time, addresses, length and bytes). Same seed and same inputs → same value. */
uint64_t sim_trace_hash(const sim *s);

/* Fold caller data into the trace hash (glue events, so they count in determinism checks). */
void sim_trace_mix(sim *s, const void *data, size_t len);

/* Optional observer of every delivery and drop (what = "deliver", "loss", "queue", "nat",
 * "no-route", "no-socket", ...). */
typedef void (*sim_trace_cb)(void *user, camrtc_time_us now, const char *what,
                             const camrtc_addr *from, const camrtc_addr *to,
                             const uint8_t *data, size_t len);
void sim_set_trace(sim *s, sim_trace_cb cb, void *user);

/* Limit the events one sim_run_* call may process (default SIM_DEFAULT_MAX_EVENTS). */
void sim_set_max_events(sim *s, uint64_t max_events);

/* ---- running ---------------------------------------------------------------------- */

/* Process every event due at or before t, then set the clock to t (t >= now). Returns the
 * number of events processed, or CAMRTC_ELIMIT when the event limit stopped it. */
int64_t sim_run_until(sim *s, camrtc_time_us t);

/* Run for d microseconds of virtual time. */
int64_t sim_run_for(sim *s, camrtc_time_us d);

/* Process events while pred(user) is true and the next event is due by max_time.
 * Returns true as soon as pred is false (the clock stays at that event's time), false when
 * max_time was reached (the clock is then max_time) or the event limit was hit. */
bool sim_run_while(sim *s, bool (*pred)(void *user), void *user, camrtc_time_us max_time);

/* ---- timers ----------------------------------------------------------------------- */

typedef void (*sim_timer_cb)(sim *s, void *user);

/* Call cb(s, user) at virtual time at (at < now means now). Timers due at the same time run
 * in the order they were set. Returns an id > 0 for sim_timer_cancel, 0 on allocation failure. */
uint64_t sim_timer_set(sim *s, camrtc_time_us at, sim_timer_cb cb, void *user);

/* Cancel a pending timer. False when it already ran or was cancelled (harmless). */
bool sim_timer_cancel(sim *s, uint64_t id);

/* Keep one timer at deadline `at` (CAMRTC_TIME_NEVER: none): *id and *id_at are the timer
 * set last and its time (*id 0: none). Nothing changes when it is already there; else the
 * old one is cancelled and a new one set. The callback must set *id to 0 when it fires. */
void sim_timer_keep(sim *s, uint64_t *id, camrtc_time_us *id_at, camrtc_time_us at, sim_timer_cb cb,
                    void *user);

/* ---- links ------------------------------------------------------------------------ */

typedef struct sim_link_config {
    camrtc_time_us delay;        /* fixed one-way delay */
    camrtc_time_us jitter;       /* plus uniform [0, jitter] (may reorder, as netem does) */
    double loss;                 /* probability a packet is lost (1.0 cuts the link) */
    double reorder;              /* probability a packet is held back by reorder_delay */
    camrtc_time_us reorder_delay;
    double dup;                  /* probability a packet is delivered twice */
    uint64_t rate;               /* bytes per second; 0 = unlimited */
    uint32_t queue_bytes;        /* bound of the rate limiter's queue; 0 = 64 KiB */
} sim_link_config;

typedef struct sim_link_stats {
    uint64_t packets, bytes;     /* offered to the link */
    uint64_t passed;             /* left it (duplicates included) */
    uint64_t lost, reordered, duplicated, queue_drops;
    uint32_t queue_max;          /* largest queue seen, bytes */
} sim_link_stats;

typedef enum sim_dir {
    SIM_UP = 1,                  /* from the node toward the internet */
    SIM_DOWN = 2,                /* from the internet toward the node */
    SIM_BOTH = 3,
} sim_dir;

/* ---- hosts and sockets ------------------------------------------------------------ */

/* A host on the internet (behind = NULL) or in the LAN of a NAT. name is copied. */
sim_host *sim_host_new(sim *s, const char *name, sim_nat *behind);

/* Give h an IP address (numeric literal). CAMRTC_EEXIST when the realm already has that IP,
 * CAMRTC_ELIMIT past SIM_MAX_ADDRS, CAMRTC_EINVAL for a bad literal. */
int sim_host_add_addr(sim_host *h, const char *ip);

/* The i-th address of h (port 0), NULL when none. */
const camrtc_addr *sim_host_addr(const sim_host *h, int i);
int sim_host_n_addrs(const sim_host *h);
const char *sim_host_name(const sim_host *h);

/* Impair h's uplink in one or both directions (the config is copied). */
void sim_host_set_link(sim_host *h, sim_dir dir, const sim_link_config *cfg);
/* Stats of one direction (SIM_UP or SIM_DOWN). */
const sim_link_stats *sim_host_link_stats(const sim_host *h, sim_dir dir);

/* Impair the path from host a to host b (one direction), crossed before b's downlink.
 * CAMRTC_ENOMEM on allocation failure. */
int sim_pair_set_link(sim *s, const sim_host *a, const sim_host *b, const sim_link_config *cfg);
/* Stats of that pair link, NULL when none was set. */
const sim_link_stats *sim_pair_link_stats(const sim *s, const sim_host *a, const sim_host *b);

typedef void (*sim_recv_cb)(void *user, sim_sock *sock, const camrtc_addr *from,
                            const uint8_t *data, size_t len);

/* Bind a UDP socket on h at local (an address of h; port 0 picks an ephemeral port from
 * 49152 up). NULL when the address is not h's or the port is taken, or on allocation failure. */
sim_sock *sim_udp_bind(sim_host *h, const camrtc_addr *local, sim_recv_cb cb, void *user);

/* Close: no more callbacks; packets in flight to it are dropped as no_socket. */
void sim_udp_close(sim_sock *sock);

/* One more socket on local's IP (an ephemeral port) into socks[*n], for a TURN allocation
 * the ICE agent moves off a 5-tuple the server still holds (camrtc_ice_io.open_udp and
 * camrtc_pc_io.open_udp): returns its index and counts it in *n, CAMRTC_ELIMIT when all
 * max slots are used, CAMRTC_EIO when the bind fails. */
int sim_udp_bind_extra(sim_host *h, const camrtc_addr *local, sim_sock **socks, int *n, int max,
                       sim_recv_cb cb, void *user);

/* Send a datagram. CAMRTC_ETOOBIG past SIM_MAX_PACKET, CAMRTC_EINVAL for an unset or
 * other-family destination. Loss on the way is silent (counted), as with UDP. */
int sim_udp_send(sim_sock *sock, const camrtc_addr *to, const uint8_t *data, size_t len);

/* A host-wide receiver for datagrams no socket takes (any port on any of h's addresses),
 * and a send from any address:port of h: for servers that own many ports, such as the
 * TURN relay (sim_turn). */
typedef void (*sim_raw_cb)(void *user, sim_host *h, const camrtc_addr *from, const camrtc_addr *to,
                           const uint8_t *data, size_t len);
void sim_host_set_raw(sim_host *h, sim_raw_cb cb, void *user);
/* As sim_udp_send from `from` (an address of h, any port). CAMRTC_EINVAL when it is not h's. */
int sim_host_send_from(sim_host *h, const camrtc_addr *from, const camrtc_addr *to,
                       const uint8_t *data, size_t len);

const camrtc_addr *sim_sock_addr(const sim_sock *sock);
sim_host *sim_sock_host(const sim_sock *sock);
sim *sim_sock_sim(const sim_sock *sock);
uint64_t sim_sock_received(const sim_sock *sock);

/* ---- NATs (RFC 4787) ---------------------------------------------------------------- */

typedef enum sim_nat_mapping {      /* RFC 4787 §4.1 */
    SIM_MAP_ENDPOINT_INDEPENDENT = 0,
    SIM_MAP_ADDRESS_DEPENDENT,
    SIM_MAP_ADDRESS_PORT_DEPENDENT,
} sim_nat_mapping;

typedef enum sim_nat_filtering {    /* RFC 4787 §5 */
    SIM_FILTER_ENDPOINT_INDEPENDENT = 0,
    SIM_FILTER_ADDRESS_DEPENDENT,
    SIM_FILTER_ADDRESS_PORT_DEPENDENT,
} sim_nat_filtering;

/* The classic names (RFC 3489 §5), as presets of the two behaviours above. */
typedef enum sim_nat_type {
    SIM_NAT_FULL_CONE = 0,          /* EIM + EIF */
    SIM_NAT_RESTRICTED,             /* EIM + ADF */
    SIM_NAT_PORT_RESTRICTED,        /* EIM + APDF */
    SIM_NAT_SYMMETRIC,              /* APDM + APDF */
} sim_nat_type;

#define SIM_NAT_MAX_MAPPINGS 256
#define SIM_NAT_MAX_PERMS 1024

typedef struct sim_nat_config {
    sim_nat_mapping mapping;
    sim_nat_filtering filtering;
    camrtc_time_us timeout;         /* 0 = 120 s (RFC 4787 REQ-5: at least 2 min) */
    bool inbound_refresh;           /* inbound packets also refresh (REQ-6 makes it optional) */
    bool hairpin;                   /* REQ-9: LAN hosts may reach each other via public addresses */
    uint16_t port_base;             /* first public port handed out; 0 = 40000 */
} sim_nat_config;

/* A config for one of the classic types (timeout 0, no hairpin). */
sim_nat_config sim_nat_preset(sim_nat_type type);
const char *sim_nat_type_name(sim_nat_type type);

typedef struct sim_nat_stats {
    uint64_t mappings_created, mappings_expired;
    uint64_t translated_out, translated_in;
    uint64_t no_mapping;            /* inbound to a public port with no live mapping */
    uint64_t filtered;              /* inbound refused by the filtering behaviour */
    uint64_t hairpinned, hairpin_refused;
    uint64_t table_full;            /* mapping or permission table at its bound */
} sim_nat_stats;

/* A NAT box whose public side is public_ip on the internet. NULL on error. */
sim_nat *sim_nat_new(sim *s, const char *name, const char *public_ip, const sim_nat_config *cfg);
const camrtc_addr *sim_nat_public(const sim_nat *n);
/* Impair the NAT's uplink to the internet (shared by all hosts behind it). */
void sim_nat_set_link(sim_nat *n, sim_dir dir, const sim_link_config *cfg);
const sim_link_stats *sim_nat_link_stats(const sim_nat *n, sim_dir dir);
const sim_nat_stats *sim_nat_get_stats(const sim_nat *n);
/* Live mappings now. */
unsigned sim_nat_mappings(const sim_nat *n);

/* The NAT's translation state alone (sim_nat.c), without routing; sim.c drives one per NAT
 * box. Exposed so the RFC 4787 behaviours can be tested directly. */
typedef struct sim_nat_table sim_nat_table;
sim_nat_table *sim_nat_table_new(const camrtc_addr *public_ip, const sim_nat_config *cfg);
void sim_nat_table_free(sim_nat_table *t);
/* Outbound: a LAN packet from priv to dst leaves with source *pub. CAMRTC_ELIMIT when the
 * table is full. */
int sim_nat_table_out(sim_nat_table *t, camrtc_time_us now, const camrtc_addr *priv,
                      const camrtc_addr *dst, camrtc_addr *pub);
/* Inbound: a packet from remote to the public address pub goes to *priv.
 * CAMRTC_ENOTFOUND without a live mapping, CAMRTC_EAUTH when filtered. */
int sim_nat_table_in(sim_nat_table *t, camrtc_time_us now, const camrtc_addr *remote,
                     const camrtc_addr *pub, camrtc_addr *priv);
/* A LAN packet (already translated out) is addressed to the public IP: may it turn
 * around (RFC 4787 REQ-9)? Counts hairpinned / hairpin_refused. */
bool sim_nat_table_hairpin(sim_nat_table *t);
const sim_nat_stats *sim_nat_table_stats(const sim_nat_table *t);
const sim_nat_config *sim_nat_table_config(const sim_nat_table *t);
unsigned sim_nat_table_live(const sim_nat_table *t, camrtc_time_us now);

/* ---- STUN and TURN servers on simulated hosts (sim_turn.c) ------------------------ */

/* A STUN server (RFC 8489 §6.3.1 Binding only): answers each Binding request on h's first
 * address:port with XOR-MAPPED-ADDRESS (and FINGERPRINT when the request had one). NULL on
 * error. Freed with the sim. */
sim_sock *sim_stun_new(sim *s, sim_host *h, uint16_t port);


typedef struct sim_turn sim_turn;
struct turn_server;

/* Run a TURN server on h at h's first address:port (UDP), relaying from ports 49152.. of
 * the same address, with one user. Like real TURN servers it also answers Binding
 * requests on its listen port, so it serves as the STUN server too. Its nonces come from
 * the sim's PRNG. It takes h's raw receiver (sim_host_set_raw). NULL on error. */
sim_turn *sim_turn_new(sim *s, sim_host *h, uint16_t port, const char *username, const char *password);
void sim_turn_free(sim_turn *t);
/* The listen address, for camrtc_ice_server.addr. */
const camrtc_addr *sim_turn_addr(const sim_turn *t);
/* The model itself, for its stats and knobs (turn_server.h). */
struct turn_server *sim_turn_server(sim_turn *t);

#ifdef __cplusplus
}
#endif
#endif
